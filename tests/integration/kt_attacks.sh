#!/bin/bash
# Key transparency with witnesses, end to end inside private namespaces:
# sealmaild submits every epoch to two `sealmail witness serve` instances,
# Lea trusts both (quorum 2). Then a dishonest operator:
#   - tampers with the map in its database (an entry deleted, a counter
#     going down, a leaf changed without a delta record) and runs the
#     dishonest test build that serves it anyway: the witnesses refuse to
#     cosign, naming the rule, and Lea refuses the uncosigned checkpoint;
#   - forks its log (a copy of its state makes a different epoch of the
#     same size): the witnesses refuse it (they saw the real one) and Lea
#     refuses it, as a split view when she trusts no witness;
#   - is killed with SIGKILL during epochs: it never shows two different
#     checkpoints of the same size, the witnesses accept every epoch after
#     a restart, and Lea's consistency checks hold throughout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"
: "${SEALMAILD_DISHONEST:?SEALMAILD_DISHONEST must point at the dishonest test build}"

netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test mail.jedi.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test mail.jedi.test
sealmaild_conf "witnesses-file $T/witnesses"
D() { "$SEALMAILD" "$@" -f "$T/sealmaild.conf"; }
token() { D user add "$1" | awk '/^publish token/ { print $NF }'; }
LOG_KEY=$(D log-key jedi.test)
ok "sealmaild log-key prints the log's verifier key" bash -c "echo '$LOG_KEY' | grep -q '^jedi.test/sealmail-kt+[0-9a-f]\{8\}+'"

# ---- two witnesses ----
: >"$T/witnesses"
: >"$T/lea-witnesses"
WPIDS=()
for i in 1 2; do
	vk=$("$SEALMAIL" witness init "$T/w$i" "w$i.test")
	"$SEALMAIL" witness add-log "$T/w$i" jedi.test/sealmail-kt "$LOG_KEY"
	"$SEALMAIL" witness serve "$T/w$i" --listen "127.0.0.1:738$i" 2>>"$T/w$i.log" &
	WPIDS+=($!)
	echo "witness $vk http://127.0.0.1:738$i" >>"$T/witnesses"
	echo "witness $vk" >>"$T/lea-witnesses"
done
for _ in $(seq 50); do
	curl -s -o /dev/null http://127.0.0.1:7381/ && curl -s -o /dev/null http://127.0.0.1:7382/ && break
	sleep 0.1
done

LUKE=$T/luke LEA=$T/lea LEIA=$T/leia
mkdir -p "$LEA"
cp "$T/lea-witnesses" "$LEA/witnesses"
sm "$LUKE" keygen luke@jedi.test >/dev/null
sm "$LEIA" keygen leia@jedi.test >/dev/null
sm "$LEA" keygen lea@rebels.test >/dev/null
sm "$T/han" keygen han@jedi.test >/dev/null
LUKE_TOKEN=$(token luke@jedi.test)
LEIA_TOKEN=$(token leia@jedi.test)
sealmaild_start
BASE=https://openpgpkey.jedi.test/.well-known/sealmail/v1/jedi.test

ok "Luke publishes" bash -c "SEALMAIL_HOME=$LUKE '$SEALMAIL' publish luke@jedi.test --token $LUKE_TOKEN >'$T/pub.out' 2>&1"
ok "the published checkpoint carries both cosignatures" bash -c \
	"grep -q 'cosigned by 2 witness' '$T/pub.out' || (sleep 2; curl -sf '$BASE/checkpoint' | grep -c '^— w[12].test ' | grep -qx 2)"
ok "Leia publishes" bash -c "SEALMAIL_HOME=$LEIA '$SEALMAIL' publish leia@jedi.test --token $LEIA_TOKEN >/dev/null 2>&1"
ok "Lea's lookup holds with quorum 2" bash -c \
	"SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >'$T/l.out' 2>&1 && grep -q 'cosigned by 2 witness' '$T/l.out'"
ok "each witness holds the log's size" bash -c \
	"[ \"\$(curl -sf http://127.0.0.1:7381/sealmail-witness/v1/size/jedi.test/sealmail-kt)\" = \"\$(awk '/^size/ {print \$2}' '$LEA/kt/jedi.test')\" ]"

# ---- a witness that was down catches up ----
kill "${WPIDS[1]}"; wait "${WPIDS[1]}" 2>/dev/null
before=$(kt_size jedi.test)
sm "$T/han" publish han@jedi.test --token "$(token han@jedi.test)" --wait 0 >/dev/null 2>&1
kt_wait_above jedi.test "$before"
"$SEALMAIL" witness serve "$T/w2" --listen 127.0.0.1:7382 2>>"$T/w2.log" &
WPIDS[1]=$!
sleep 0.5
forge() { # forge USER [keep [CERT-FILE]]: an operator's edit: a new certificate version for
	# USER (theirs again, or CERT-FILE's), without an owner's authorization, or with keep
	# replaying the one they signed before
	python3 - "$T/state/sealmaild.db" "$1" "${2:-}" "${3:-}" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
auth = "" if sys.argv[3] == "keep" else ", authorization = NULL"
cert, args = "", (sys.argv[2],)
if sys.argv[4]:
    cert, args = ", cert = ?", (open(sys.argv[4], "rb").read(), sys.argv[2])
db.execute("UPDATE certs SET version = version + 1" + auth + cert + " WHERE user_id ="
           " (SELECT id FROM users WHERE local = ? AND domain = 'jedi.test')", args)
db.commit()
PY
}
before=$(kt_size jedi.test)
forge han
kt_wait_above jedi.test "$before"
ok "the witness that was down got the missed epochs resent and cosigned" bash -c \
	"SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test 2>&1 | grep -q 'cosigned by 2 witness'"

# ---- the operator tampers with the map; the dishonest build serves it ----
kill "$DPID"; wait "$DPID" 2>/dev/null
cp -a "$T/state" "$T/state-honest"
tamper() { # tamper SQL [USER]: edit the map behind the log's back, run the dishonest build, change USER (luke)
	rm -rf "$T/state"; cp -a "$T/state-honest" "$T/state"
	python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.executescript(sys.argv[2]); db.commit()" \
		"$T/state/sealmaild.db" "$1" || echo "tamper failed: $1" >&2
	: >"$T/w1.log.mark"; cp "$T/w1.log" "$T/w1.log.before"
	SEALMAILD=$SEALMAILD_DISHONEST sealmaild_start
	before=$(kt_size jedi.test)
	forge "${2:-luke}" # a change, so that an epoch is made
	kt_wait_above jedi.test "$before"
}
untamper() { kill "$DPID"; wait "$DPID" 2>/dev/null; }
caught() { # caught RULE: witness 1 refused the epoch with RULE, and Lea refuses
	local st=0
	diff "$T/w1.log.before" "$T/w1.log" | grep -q "$1" || { echo "witness log:"; diff "$T/w1.log.before" "$T/w1.log"; return 1; }
	SEALMAIL_HOME=$LEA "$SEALMAIL" lookup luke@jedi.test >"$T/c.out" 2>&1 || st=$?
	cat "$T/c.out"
	[ "$st" = 76 ] && grep -q "too few of the trusted witnesses" "$T/c.out"
}
LEIA_ID="(SELECT id FROM users WHERE local = 'leia')"
tamper "DELETE FROM kt_leaves WHERE user_id = $LEIA_ID; DELETE FROM kt_versions WHERE user_id = $LEIA_ID; DELETE FROM certs WHERE user_id = $LEIA_ID;"
ok "an entry deleted from the map: witnesses refuse, Lea refuses" caught "map root after replaying"
ok "the daemon logs the witness's refusal" grep -q "witness w1.test refused epoch" "$T/sealmaild.log"
untamper
HAN_ID="(SELECT id FROM users WHERE local = 'han')"
tamper "UPDATE kt_leaves SET counter = counter - 1 WHERE user_id = $HAN_ID; DELETE FROM kt_versions WHERE user_id = $HAN_ID AND counter = 2;" han
ok "a counter that goes down: witnesses refuse, Lea refuses" caught "old value"
untamper
tamper "UPDATE kt_leaves SET commitment = randomblob(32) WHERE user_id = (SELECT id FROM users WHERE local = 'leia');"
ok "a leaf changed without a delta record: witnesses refuse, Lea refuses" caught "map root after replaying"
untamper
rm -rf "$T/state"; cp -a "$T/state-honest" "$T/state"
python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute(\"UPDATE kt_leaves SET commitment = randomblob(32)\"); db.commit()" "$T/state/sealmaild.db"
ok "the honest daemon refuses to start on a tampered map" bash -c \
	"timeout 20 '$SEALMAILD' serve -f '$T/sealmaild.conf' 2>&1 | grep -q 'does not match the last signed checkpoint'"

# ---- a fork of the log: same keys, a different epoch of the same size ----
rm -rf "$T/state"; cp -a "$T/state-honest" "$T/state"
cp -a "$T/state-honest" "$T/state-fork"
sealmaild_start
before=$(kt_size jedi.test)
forge luke
kt_wait_above jedi.test "$before"
ok "the real epoch is made and cosigned" bash -c \
	"SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test 2>&1 | grep -q 'cosigned by 2 witness'"
cp -a "$LEA" "$T/lea-nowitness"
rm -f "$T/lea-nowitness/witnesses"
kill "$DPID"; wait "$DPID" 2>/dev/null
mv "$T/state" "$T/state-real"; mv "$T/state-fork" "$T/state"
sealmaild_start
before=$(kt_size jedi.test)
forge leia
kt_wait_above jedi.test "$before"
ok "the fork's epoch of the same size is not cosigned: Lea refuses it" bash -c \
	"st=0; SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >'$T/f.out' 2>&1 || st=\$?; cat '$T/f.out'; [ \$st = 76 ] && grep -q 'too few of the trusted witnesses' '$T/f.out'"
ok "the witnesses answered the fork with their size (409)" grep -q "witness w1.test is at size" "$T/sealmaild.log"
ok "without witnesses, Lea's memory of the real checkpoint catches the split view" bash -c \
	"st=0; SEALMAIL_HOME=$T/lea-nowitness '$SEALMAIL' lookup luke@jedi.test >'$T/s.out' 2>&1 || st=\$?; cat '$T/s.out'; [ \$st = 76 ] && grep -q 'split view' '$T/s.out'"
kill "$DPID"; wait "$DPID" 2>/dev/null
rm -rf "$T/state"; mv "$T/state-real" "$T/state"

# ---- SIGKILL during epochs ----
refusals() { cat "$T/w1.log" "$T/w2.log" | grep -c ' 422 '; }
REFUSED_BEFORE=$(refusals)
sealmaild_start
mkdir -p "$T/seen"
watch_checkpoints() { # saves every checkpoint served, by size
	while :; do
		if curl -sf "$BASE/checkpoint" -o "$T/seen/.cp" 2>/dev/null; then
			size=$(sed -n 2p "$T/seen/.cp")
			h=$(sed -n '1,/^$/p' "$T/seen/.cp" | sha256sum | cut -c1-16)
			[ -n "$size" ] && cp "$T/seen/.cp" "$T/seen/$size.$h"
		fi
		sleep 0.05
	done
}
watch_checkpoints &
WATCH=$!
lookups_ok=0
for round in $(seq 12); do
	forge han
	sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
	[ $((round % 2)) = 0 ] && sleep 1
	kill -9 "$DPID"; wait "$DPID" 2>/dev/null
	sealmaild_start || break
	sleep 1.2
	SEALMAIL_HOME=$LEA "$SEALMAIL" lookup luke@jedi.test >>"$T/crash-lookups.out" 2>&1 && lookups_ok=$((lookups_ok + 1))
done
sleep 2
kill "$WATCH"; wait "$WATCH" 2>/dev/null
ok "sealmaild restarted after every SIGKILL (its map matched its last checkpoint)" kill -0 "$DPID"
ok "checkpoints were seen at several sizes" bash -c "[ \$(ls '$T/seen' | cut -d. -f1 | sort -u | wc -l) -ge 4 ]"
ok "never two different checkpoints of the same size" bash -c \
	"[ \$(ls '$T/seen' | cut -d. -f1 | sort | uniq -d | wc -l) = 0 ]"
ok "the witnesses refused nothing during the crashes" test "$(refusals)" = "$REFUSED_BEFORE"
ok "every lookup between crashes held, with consistency and quorum 2 ($lookups_ok/12)" bash -c \
	"[ $lookups_ok = 12 ] || { grep -v '^  ' '$T/crash-lookups.out'; false; }"

# ---- an owner's signed authorization replayed for a version they did not make ----
# A sender's proof comes without the authorization: Lea asks for it only when the key she
# pinned changed, Leia's monitor only when the version is not the one she recorded.
ok "Lea pins Leia's key" bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' lookup leia@jedi.test >/dev/null 2>&1"
LEIA_PIN=$(grep '^leia@jedi.test ' "$LEA/pins")
before=$(kt_size jedi.test)
forge leia keep
kt_wait_above jedi.test "$before"
ok "replayed for version 2, same key: Lea's lookup does not ask for it, and holds" bash -c \
	"SEALMAIL_HOME=$LEA '$SEALMAIL' lookup leia@jedi.test >'$T/r0.out' 2>&1 || { cat '$T/r0.out'; false; }"
ok "Leia's monitor asks for it and raises an alert (exit 1): it is for another version" bash -c \
	"st=0; SEALMAIL_HOME=$LEIA '$SEALMAIL' monitor leia@jedi.test >'$T/rm0.out' 2>&1 || st=\$?; cat '$T/rm0.out'; [ \$st = 1 ] && grep -q 'authorization served with the key is for another version' '$T/rm0.out'"
sm "$T/mallory" keygen leia@jedi.test >/dev/null
sm "$T/mallory" export --binary leia@jedi.test >"$T/forged-leia.bin"
before=$(kt_size jedi.test)
forge leia keep "$T/forged-leia.bin"
kt_wait_above jedi.test "$before"
ok "replayed for version 3, a forged key: Lea asks for it and refuses the proof" bash -c \
	"st=0; SEALMAIL_HOME=$LEA '$SEALMAIL' lookup leia@jedi.test >'$T/r.out' 2>&1 || st=\$?; cat '$T/r.out'; [ \$st = 76 ] && grep -q 'authorization served with the key is for another version' '$T/r.out'"
ok "and keeps Leia's key pinned" bash -c \
	"[ -n '$LEIA_PIN' ] && [ \"\$(grep '^leia@jedi.test ' '$LEA/pins')\" = '$LEIA_PIN' ]"
ok "Leia's monitor raises an alert: exit 1" bash -c \
	"st=0; SEALMAIL_HOME=$LEIA '$SEALMAIL' monitor leia@jedi.test >'$T/rm.out' 2>&1 || st=\$?; cat '$T/rm.out'; [ \$st = 1 ]"

kill "$DPID" "${WPIDS[@]}" 2>/dev/null; wait 2>/dev/null
done_testing
