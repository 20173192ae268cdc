#!/bin/bash
# Key transparency end to end, inside private namespaces: sealmaild commits
# publications in epochs; sealmail lookup verifies lookup proofs (presence
# and absence, consistency with what it saw before); sealmail monitor is
# the owner's check. Then the attacks, each caught, by whom, with a clear
# message:
#   - an impostor server (nginx with the domain's certificate) replays or
#     tampers with real proofs: the client refuses (a proof for another
#     address, a forged key, a rollback, a downgrade to plain WKD);
#   - the operator edits the database to serve a forged key, for one epoch
#     and then reverts: the lookup accepts what the log proves, and Luke's
#     monitor catches it afterwards, naming the extra changes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"

netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test mail.jedi.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test mail.jedi.test
sealmaild_conf
D() { "$SEALMAILD" "$@" -f "$T/sealmaild.conf"; }
token() { D user add "$1" | awk '/^publish token/ { print $NF }'; }
LUKE=$T/luke LEA=$T/lea LEIA=$T/leia MALLORY=$T/mallory
sm "$LUKE" keygen luke@jedi.test >/dev/null
sm "$LEIA" keygen leia@jedi.test >/dev/null
sm "$LEA" keygen lea@rebels.test >/dev/null
sm "$MALLORY" keygen luke@jedi.test >/dev/null # a forged key with Luke's address
fpr_of() { sm "$1" export "$2" | gpg --with-colons --import-options show-only --import 2>/dev/null |
	awk -F: '/^fpr/ { print $10; exit }'; }
LUKE_FPR=$(fpr_of "$LUKE" luke@jedi.test)
MALLORY_FPR=$(fpr_of "$MALLORY" luke@jedi.test)
LUKE_TOKEN=$(token luke@jedi.test)
LEIA_TOKEN=$(token leia@jedi.test)
sealmaild_start
BASE=https://openpgpkey.jedi.test/.well-known/sealmail/v1/jedi.test
HASH_LUKE=pc53ux1dyd1rjnpyonebrx3aemurd8pf
HASH_LEIA=$(/usr/lib/gnupg/gpg-wks-client --print-wkd-hash leia@jedi.test | awk '{print $1}')

# ---- honest operation ----
ok "epoch 0 exists from the start: the checkpoint is served" bash -c \
	"curl -sf '$BASE/checkpoint' >'$T/cp0' && grep -q '^jedi.test/sealmail-kt$' '$T/cp0'"
ok "before anything is published, Luke is proven absent: exit 67" bash -c \
	"st=0; SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test 2>'$T/absent.err' || st=\$?; [ \$st = 67 ]"
ok "the message says the log proves it" grep -q "transparency log proves the address absent" "$T/absent.err"
ok "Luke publishes and publish waits until the log proves it" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' publish luke@jedi.test --token $LUKE_TOKEN >'$T/pub.out' 2>&1 && grep -q '^published: version 1 of luke@jedi.test' '$T/pub.out'"
curl -sf "$BASE/lookup/$HASH_LUKE?l=luke" >"$T/luke-old.proof"
ok "Luke's VRF index was computed when he published, not by the epoch" python3 -c \
	"import sqlite3,sys; sys.exit(0 if sqlite3.connect('$T/state/sealmaild.db').execute('SELECT count(*) FROM kt_indices').fetchone()[0] == 1 else 1)"
ok "Lea's lookup verifies the proof" bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >'$T/l1.out' 2>&1"
ok "it shows Luke's fingerprint" grep -q "fingerprint $LUKE_FPR" "$T/l1.out"
ok "and what the log proved" grep -q "proof       version 1 of the entry" "$T/l1.out"
ok "the source is the lookup-proof URL" grep -q "source      $BASE/lookup/$HASH_LUKE?l=luke" "$T/l1.out"
ok "Lea keeps the domain's checkpoint" grep -q "^size " "$LEA/kt/jedi.test"
ok "sealmaild status shows the log's epoch and entries" bash -c \
	"'$SEALMAILD' status -f '$T/sealmaild.conf' | grep -q '^jedi.test: transparency log at epoch 1 (checkpoint size 2), 1 entry, 0 publication(s) waiting'"
ok "Luke's monitor is content" bash -c "SEALMAIL_HOME=$LUKE '$SEALMAIL' monitor luke@jedi.test | grep -q '^ok luke@jedi.test: version 1'"
ok "Leia publishes (another epoch)" bash -c \
	"SEALMAIL_HOME=$LEIA '$SEALMAIL' publish leia@jedi.test --token $LEIA_TOKEN >/dev/null 2>&1"
SIZE1=$(awk '/^size/ { print $2 }' "$LEA/kt/jedi.test")
ok "Lea's next lookup needs and checks a consistency proof" bash -c \
	"SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >/dev/null 2>&1 && [ \$(awk '/^size/ { print \$2 }' '$LEA/kt/jedi.test') -gt $SIZE1 ]"
ok "the proof asked for carries it" bash -c "curl -sf '$BASE/lookup/$HASH_LUKE?l=luke&since=$SIZE1' | grep -q '^consistency $SIZE1 '"
ok "gpg still finds Luke by WKD" bash -c \
	"G=\$(mktemp -d /tmp/g.XXXXXX); echo \$G >>'$T/.gpg-homes'; timeout 30 gpg --homedir \$G --batch --status-fd 1 --auto-key-locate clear,wkd --locate-external-keys luke@jedi.test 2>/dev/null | grep -q '^\[GNUPG:\] IMPORT_OK'"
ok "lookup proof size, with the key" bash -c "curl -sf '$BASE/lookup/$HASH_LUKE?l=luke' >'$T/luke.proof' && [ \$(stat -c %s '$T/luke.proof') -lt 4096 ]"

# ---- the log as tlog-tiles: the entries hash to the tile, the tile to the checkpoint's root ----
curl -sf "$BASE/checkpoint" >"$T/cp-now"
SIZE=$(sed -n 2p "$T/cp-now")
ok "a partial hash tile and entry bundle are served" bash -c \
	"curl -sf '$BASE/tile/0/000.p/$SIZE' -o '$T/tile' && curl -sf '$BASE/tile/entries/000.p/$SIZE' -o '$T/entries'"
ok "they agree with each other and with the checkpoint (RFC 9162 hashes)" python3 - "$T/tile" "$T/entries" "$T/cp-now" <<'PY'
import base64, hashlib, sys
tile, ent, cp = (open(f, 'rb').read() for f in sys.argv[1:4])
leaves, i = [], 0
while i < len(ent):
    n = int.from_bytes(ent[i:i + 2], 'big'); leaves.append(ent[i + 2:i + 2 + n]); i += 2 + n
hashes = [tile[j:j + 32] for j in range(0, len(tile), 32)]
assert [hashlib.sha256(b'\0' + e).digest() for e in leaves] == hashes, "entries do not hash to the tile"
assert all(e.startswith(b'sealmail-epoch/v1\n') for e in leaves)
def mth(h):
    if len(h) == 1: return h[0]
    k = 1
    while k * 2 < len(h): k *= 2
    return hashlib.sha256(b'\1' + mth(h[:k]) + mth(h[k:])).digest()
lines = cp.split(b'\n')
assert int(lines[1]) == len(hashes)
assert mth(hashes) == base64.b64decode(lines[2]), "the tile does not give the checkpoint's root"
PY
ok "a consistency proof from size 1 is served, the same as the lookup proof carries" python3 - "$BASE" "$HASH_LUKE" <<'PY'
import base64, subprocess, sys
get = lambda u: subprocess.run(["curl", "-sf", u], check=True, capture_output=True).stdout.decode()
c = get(sys.argv[1] + "/consistency/1").splitlines()
old, new = map(int, c[0].split())
assert old == 1 and new > 1
hashes = b"".join(base64.b64decode(l) for l in c[1:])
lk = [l for l in get(sys.argv[1] + "/lookup/" + sys.argv[2] + "?l=luke&since=1").splitlines()
      if l.startswith("consistency ")][0].split()
assert lk[1] == "1" and base64.b64decode(lk[2]) == hashes, "different proofs"
PY
ok "no consistency proof from size 0 or beyond the log" bash -c \
	"[ \$(curl -s -o /dev/null -w '%{http_code}' '$BASE/consistency/0') = 404 ] && [ \$(curl -s -o /dev/null -w '%{http_code}' '$BASE/consistency/999') = 404 ]"
ok "a full tile that does not exist yet is 404" status_is 22 curl -sf -o /dev/null "$BASE/tile/0/000"
ok "a non-canonical tile name is 404" status_is 22 curl -sf -o /dev/null "$BASE/tile/0/0.p/1"
cat "$T/tile" "$T/entries" >>"$T/public.bin"

# ---- privacy: what auditors get names no one ----
for e in 0 1 2; do
	curl -sf "$BASE/delta/$e" >>"$T/public.bin"
	curl -sf "$BASE/entry/$e" >>"$T/public.bin"
done
curl -sf "$BASE/checkpoint" >>"$T/public.bin"
ok "deltas, entries, tiles and checkpoints were served" test -s "$T/public.bin"
for needle in luke leia "$HASH_LUKE" "$HASH_LEIA" "$LUKE_FPR"; do
	ok "they do not contain '$needle'" bash -c "! grep -qaiF '$needle' '$T/public.bin'"
done

# ---- restart: the map is rebuilt and checked against the last checkpoint ----
kill "$DPID"; wait "$DPID" 2>/dev/null
sealmaild_start
ok "after a restart, lookups still verify against Lea's state" bash -c \
	"SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >/dev/null 2>&1"

# ---- an impostor serves real proofs, replayed and tampered ----
curl -sf "$BASE/lookup/$HASH_LUKE?l=luke" >"$T/luke.proof"
curl -sf "$BASE/lookup/$HASH_LEIA?l=leia" >"$T/leia.proof"
cp "$LEA/kt/jedi.test" "$T/lea-state-before"
kill "$DPID"; wait "$DPID" 2>/dev/null
W=$T/www/.well-known/sealmail/v1/jedi.test/lookup
mkdir -p "$W"
cat >"$T/nginx.conf" <<NGINX
user root;
daemon on;
pid $T/nginx.pid;
error_log $T/nginx.err;
events { worker_connections 64; }
http {
	access_log off;
	default_type text/plain;
	server {
		listen 127.0.0.1:443 ssl; server_name openpgpkey.jedi.test jedi.test;
		ssl_certificate $T/jedi.crt; ssl_certificate_key $T/jedi.key;
		root $T/www;
	}
}
NGINX
nginx -c "$T/nginx.conf" -e "$T/nginx.err" || cat "$T/nginx.err"
refused() { # refused WHY-PATTERN: Lea's lookup of Luke fails with EX_PROTOCOL and says why
	local st=0
	SEALMAIL_HOME=$LEA "$SEALMAIL" lookup luke@jedi.test >"$T/refused.out" 2>&1 || st=$?
	cat "$T/refused.out"
	[ "$st" = 76 ] && grep -q "$1" "$T/refused.out"
}
cp "$T/luke.proof" "$W/$HASH_LUKE"
ok "the impostor replaying Luke's real proof is fine" bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >/dev/null 2>&1"
cp "$T/leia.proof" "$W/$HASH_LUKE"
ok "a proof for another address is refused" refused "another address"
MKEY=$(sm "$MALLORY" export --binary luke@jedi.test | base64 -w0)
sed "s|^key .*|key $MKEY|" "$T/luke.proof" >"$W/$HASH_LUKE"
ok "a forged key in Luke's real proof is refused" refused "key map"
ok "the forged key was not imported" bash -c "! SEALMAIL_HOME=$LEA '$SEALMAIL' export luke@jedi.test | gpg --with-colons --import-options show-only --import 2>/dev/null | grep -q $MALLORY_FPR"
sed -n '1,/^$/p' "$T/luke.proof" | head -n -1 >"$W/$HASH_LUKE"
ok "a proof without its checkpoint is refused" refused "malformed"
cp "$T/luke-old.proof" "$W/$HASH_LUKE"
ok "an older, genuine proof (rollback) is refused" refused "rollback"
rm -f "$W/$HASH_LUKE"
ok "a domain that showed a log and now serves plain 404s is a downgrade" refused "downgrade"
nginx -c "$T/nginx.conf" -s stop 2>/dev/null
sleep 0.5
cp "$T/lea-state-before" "$LEA/kt/jedi.test"

# ---- the operator forges Luke's key for one epoch, then reverts ----
sealmaild_start
forge() { # forge CERT-FILE: what an operator with the database can do
	python3 - "$T/state/sealmaild.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cert = open(sys.argv[2], 'rb').read()
db.execute("UPDATE certs SET cert = ?, version = version + 1, authorization = NULL WHERE user_id ="
           " (SELECT id FROM users WHERE local = 'luke' AND domain = 'jedi.test')", (cert,))
db.commit()
PY
}
sm "$MALLORY" export --binary luke@jedi.test >"$T/forged.bin"
sm "$LUKE" export --binary luke@jedi.test >"$T/genuine.bin"
before=$(kt_size jedi.test)
forge "$T/forged.bin"
kt_wait_above jedi.test "$before"
ok "Lea's lookup accepts the forged key: the log proves it was published" bash -c \
	"SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >'$T/forged.out' 2>&1 && grep -q 'fingerprint $MALLORY_FPR' '$T/forged.out'"
ok "and says the key changed and what guards it" grep -q "changed: the transparency log proves" "$T/forged.out"
before=$(kt_size jedi.test)
forge "$T/genuine.bin"
kt_wait_above jedi.test "$before"
ok "after the revert Lea gets Luke's key again" bash -c \
	"SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test | grep -q 'fingerprint $LUKE_FPR'"
ok "Luke's monitor, run only now, raises an alert: exit 1" bash -c \
	"st=0; SEALMAIL_HOME=$LUKE '$SEALMAIL' monitor luke@jedi.test >'$T/mon.out' 2>&1 || st=\$?; cat '$T/mon.out'; [ \$st = 1 ]"
ok "it names two changes Luke did not make, and that his key is back" bash -c \
	"grep -q 'committed 2 change(s) to your entry that you did not make' '$T/mon.out' && grep -q 'yours again' '$T/mon.out'"
before=$(kt_size jedi.test)
forge "$T/forged.bin"
kt_wait_above jedi.test "$before"
ok "while a forged key is committed, the monitor says it is not Luke's" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' monitor luke@jedi.test 2>&1 | grep -q 'NOT yours'"

kill "$DPID"; wait "$DPID" 2>/dev/null

# ---- enumeration: key lookups are rate-limited per client address ----
sealmaild_conf "lookup-rate 1"
sealmaild_start
# a burst of 10 for the address, however its connections spread over the
# HTTPS workers (one per core), and one more a minute
for _ in $(seq 30); do
	curl -s -o /dev/null -w '%{http_code}\n' "$BASE/lookup/$HASH_LUKE?l=luke"
done >"$T/codes"
ok "a burst of lookups is served" bash -c "[ \$(grep -c '^200' '$T/codes') -ge 10 ]"
ok "but no more than the address's burst, across the workers" bash -c "[ \$(grep -c '^200' '$T/codes') -le 11 ]"
ok "the rest get 429" bash -c "[ \$(grep -c '^429' '$T/codes') -ge 10 ] && [ \$(sort -u '$T/codes' | wc -l) = 2 ]"
ok "with Retry-After, for WKD requests too" bash -c \
	"for _ in 1 2 3 4; do curl -s -D - -o /dev/null https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/hu/$HASH_LUKE; done | tr -d '\r' | grep -q '^Retry-After: [0-9]'"
ok "the checkpoint is not a lookup: still served" curl -sf -o /dev/null "$BASE/checkpoint"
kill "$DPID"; wait "$DPID" 2>/dev/null
done_testing
