#!/bin/bash
# sealmaild's process separation, inside private namespaces:
#   - the main process talks to no peer and holds no listening socket: the
#     supervisor, its child, starts the HTTPS workers (the key directory)
#     and the MX process (the SMTP sessions) and restarts them when they
#     die; only the main process writes Maildirs, for the MX, which cannot
#     forge a delivery (to someone who is no user, or with bytes that do
#     not decode); the supervisor's end stops the daemon;
#   - the key holder, the one process that holds the domains' log signing
#     and VRF keys, is confined (seccomp, no new privileges, no
#     capabilities, no network, no files);
#   - started as root with 'user nobody', the processes that talk to the
#     network run as nobody, without capabilities, and cannot read the key
#     files; neither key is in their memory;
#   - the key holder's end (a malformed message, SIGKILL) stops the daemon
#     cleanly, with a clear log line and no acknowledged mail lost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"
: "${SEALMAILD_DISHONEST:?SEALMAILD_DISHONEST must point at the test build}"

netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test mail.jedi.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test mail.jedi.test
# As the machine's root the daemon becomes nobody (netns.sh); a user
# namespace maps one uid only, so there it stays that namespace's root.
sealmaild_conf
D() { "$SEALMAILD" "$@" -f "$T/sealmaild.conf"; }
LUKE=$T/luke LEA=$T/lea
sm "$LUKE" keygen luke@jedi.test >/dev/null
sm "$LEA" keygen lea@rebels.test >/dev/null
TOKEN=$(D user add luke@jedi.test | awk '/^publish token/ { print $NF }')
sealmaild_start

# children PID: the processes whose parent is PID.
children() { awk -v p="$1" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null; }
KH=$(sed -n 's/.*key holder (pid \([0-9]*\)).*/\1/p' "$T/sealmaild.log" | head -n 1)
mx_pid() { sed -n 's/.*the MX process (pid \([0-9]*\)) serves.*/\1/p' "$T/sealmaild.log" | tail -n 1; }
MX=$(mx_pid)
sup_pid() { sed -n 's/.*supervisor (pid \([0-9]*\)).*/\1/p' "$T/sealmaild.log" | tail -n 1; }
SUP=$(sup_pid)
WORKERS=$(children "$SUP" | grep -vx "$MX")
ok "the supervisor is the daemon's child, beside the key holder, and nothing else is" bash -c \
	"$(declare -f children); [ -n '$SUP' ] && grep -q '^Name:[[:space:]]*sealmaild-super$' /proc/$SUP/status && [ \"\$(children $DPID | sort | tr '\n' ' ')\" = \"\$(printf '%s\n' $KH $SUP | sort | tr '\n' ' ')\" ]"
ok "the MX process is the supervisor's child" bash -c "[ -n '$MX' ] && grep -q '^PPid:[[:space:]]*$SUP$' /proc/$MX/status"
ok "so are the HTTPS workers, one per core" test "$(echo $WORKERS | wc -w)" = "$(nproc)"
# listening SOCKET_INODE: the inode of the socket listening on port 25 or 443
listening() { awk -v p="$(printf ':%04X' "$1")" '$2 ~ p"$" && $4 == "0A" { print $10 }' /proc/net/tcp; }
holds() { ls -l /proc/"$1"/fd 2>/dev/null | grep -q "socket:\[$2\]"; }
SMTP_INO=$(listening 25) HTTPS_INO=$(listening 443)
ok "the MX process holds the SMTP port and not the HTTPS one" bash -c \
	"$(declare -f holds); holds $MX $SMTP_INO && ! holds $MX $HTTPS_INO"
for w in $WORKERS; do
	ok "HTTPS worker $w holds the HTTPS port and not the SMTP one" bash -c \
		"$(declare -f holds); holds $w $HTTPS_INO && ! holds $w $SMTP_INO"
done
ok "the main process accepts no connection: it holds no TCP socket, not even a listening one" bash -c \
	"for f in /proc/$DPID/fd/*; do l=\$(readlink \$f); case \$l in socket:*) i=\${l#socket:[}; i=\${i%]}; if awk -v i=\$i '\$10 == i' /proc/net/tcp /proc/net/tcp6 | grep -q .; then exit 1; fi;; esac; done"
ok "the supervisor holds both ports, for the processes it starts" bash -c \
	"$(declare -f holds); holds $SUP $SMTP_INO && holds $SUP $HTTPS_INO"
ok "the key holder runs beside the daemon, and logs how it is confined" bash -c \
	"[ -n '$KH' ] && grep -q '^PPid:[[:space:]]*$DPID$' /proc/$KH/status && grep -q 'key holder (pid $KH): 1 domain key set(s) loaded; confined by seccomp' '$T/sealmaild.log'"
ok "it has a seccomp filter, no new privileges and no capabilities" bash -c \
	"grep -q '^Seccomp:[[:space:]]*2$' /proc/$KH/status && grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/$KH/status && grep -q '^CapEff:[[:space:]]*0*$' /proc/$KH/status && grep -q '^CapPrm:[[:space:]]*0*$' /proc/$KH/status"
for p in "$DPID" "$SUP" $WORKERS "$MX"; do
	ok "network process $p has a seccomp filter and no new privileges" bash -c \
		"grep -q '^Seccomp:[[:space:]]*2$' /proc/$p/status && grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/$p/status"
done
filters() { awk '/^Seccomp_filters:/ { print $2 }' "/proc/$1/status"; }
if [ -n "$(filters "$DPID")" ]; then
	ok "the main process adds its allow-list to the deny-list: two filters" test "$(filters "$DPID")" = 2
	ok "the supervisor adds its allow-list to the deny-list: two filters" test "$(filters "$SUP")" = 2
	for p in $WORKERS "$MX"; do
		ok "child $p adds its own allow-list to the supervisor's two: three filters" test "$(filters "$p")" = 3
		ok "and may start no process: RLIMIT_NPROC 0" grep -Eq '^Max processes +0 +0 ' "/proc/$p/limits"
	done
fi
for p in "$DPID" "$SUP" $WORKERS "$MX"; do
	ok "process $p holds no capability" \
		grep -q '^CapEff:[[:space:]]*0*$' "/proc/$p/status"
done
ok "the daemon logs how the network processes are confined" grep -q "network processes confined: seccomp, " "$T/sealmaild.log"

uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status"; }
if [ -n "$REAL_ROOT" ]; then
	ok "the main process runs as nobody" test "$(uid_of "$DPID")" = 65534
	ok "with no capability left" grep -q '^CapEff:[[:space:]]*0*$' "/proc/$DPID/status"
	ok "so does the supervisor" test "$(uid_of "$SUP")" = 65534
	for w in $WORKERS; do
		ok "HTTPS worker $w runs as nobody" test "$(uid_of "$w")" = 65534
	done
	ok "the MX process runs as nobody" test "$(uid_of "$MX")" = 65534
	ok "the key holder stays root, confined" test "$(uid_of "$KH")" = 0
	ok "the keys' directory is root's, mode 0700" test "$(stat -c '%u %a' "$T/state/keys")" = "0 700"
	ok "the key files are root's, mode 0600" bash -c \
		"[ \"\$(stat -c '%u %a' '$T/state/keys/jedi.test.log-key' '$T/state/keys/jedi.test.vrf-key' | sort -u)\" = '0 600' ]"
	ok "the daemon's user cannot read them" bash -c \
		"! setpriv --reuid=65534 --regid=65534 --clear-groups cat '$T/state/keys/jedi.test.log-key' '$T/state/keys/jedi.test.vrf-key' 2>/dev/null"
	ok "the database, the bundles' directory and the Maildir root are the daemon's user's" bash -c \
		"[ \"\$(stat -c %u '$T/state' '$T/state/sealmaild.db' '$T/state/kt' '$T/mail' | sort -u)\" = 65534 ]"
else
	echo "# not real root: the drop to nobody is not tested here"
fi

# Its descriptors: its log, /dev/null, pipes and Unix sockets, never a file
# of the state directory, a TCP socket or the listening ports.
kh_fds_ok() {
	local ino
	for fd in /proc/"$KH"/fd/*; do
		local to; to=$(readlink "$fd")
		case $to in
		"$T/sealmaild.log" | /dev/null | pipe:*) ;;
		socket:*)
			ino=${to#socket:[}; ino=${ino%]}
			awk -v i="$ino" '$7 == i { f = 1 } END { exit !f }' /proc/net/unix || { echo "# not a unix socket: $fd" >&2; return 1; } ;;
		*) echo "# unexpected descriptor $fd -> $to" >&2; return 1 ;;
		esac
	done
}
ok "it holds only its channels and its log: no file, no network socket" kh_fds_ok

# The secret keys, as the files hold them: the VRF key in hex, the log key's
# Ed25519 seed inside its base64 signer key.
python3 - "$T/state/keys/jedi.test.vrf-key" "$T/state/keys/jedi.test.log-key" >"$T/secrets" <<'PY'
import base64, sys
print(open(sys.argv[1]).read().strip())
print(base64.b64decode(open(sys.argv[2]).read().strip().split('+', 4)[4])[1:33].hex())
PY
# in_memory PID: exits 0 if both secrets are in PID's readable memory, 1 if
# neither is, 2 if one is (regions over 256 MiB, such as a sanitizer's
# shadow, are skipped).
in_memory() {
	python3 - "$1" "$T/secrets" <<'PY'
import sys
pid, secrets = sys.argv[1], [bytes.fromhex(l) for l in open(sys.argv[2]).read().split()]
found = set()
with open(f'/proc/{pid}/maps') as maps, open(f'/proc/{pid}/mem', 'rb', 0) as mem:
    for line in maps:
        addr, perms = line.split()[:2]
        lo, hi = (int(x, 16) for x in addr.split('-'))
        if perms[0] != 'r' or hi - lo > 256 << 20:
            continue
        try:
            mem.seek(lo)
            data = mem.read(hi - lo)
        except OSError:
            continue
        found |= {i for i, s in enumerate(secrets) if s in data}
sys.exit(0 if len(found) == len(secrets) else 2 if found else 1)
PY
}
ok "both secrets were read from the key files" test "$(wc -w <"$T/secrets")" = 2
not_in_memory() { status_is 1 in_memory "$1"; }
ok "the key holder's memory holds the secret keys (the scan works)" in_memory "$KH"
ok "the daemon's main process holds neither key" not_in_memory "$DPID"
ok "the supervisor holds neither key" not_in_memory "$SUP"
for w in $WORKERS; do
	ok "HTTPS worker $w holds neither key" not_in_memory "$w"
done
ok "the MX process holds neither key" not_in_memory "$MX"

# ---- the keys at work, through the key holder ----
ok "Luke publishes: the daemon asks the key holder for his VRF proof, the epoch for its signature" \
	bash -c "SEALMAIL_HOME=$LUKE '$SEALMAIL' publish luke@jedi.test --token $TOKEN >/dev/null 2>&1"
ok "Lea's lookup verifies the proof" sm "$LEA" lookup luke@jedi.test
ok "an absent address is proven absent with a VRF proof made on demand" status_is 67 sm "$LEA" lookup obiwan@jedi.test
for w in $WORKERS; do kill -9 "$w"; done
sleep 1
ok "HTTPS workers killed with SIGKILL are replaced, and lookups go on" bash -c \
	"for i in 1 2 3 4 5 6; do SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >/dev/null 2>&1 || exit 1; st=0; SEALMAIL_HOME=$LEA '$SEALMAIL' lookup ben\$i@jedi.test >/dev/null 2>&1 || st=\$?; [ \$st = 67 ] || exit 1; done"

# ---- the MX process: restarted, and it cannot write a Maildir itself ----
printf 'From: Lea <lea@rebels.test>\nTo: Luke <luke@jedi.test>\nSubject: before\n\nStill here.\n' |
	sm "$LEA" seal >"$T/sealed.eml"
mail_count() { ls "$T/mail/luke/new/" 2>/dev/null | wc -l; }
# deliver_expect N: swaks hands the sealed letter to the MX, and Luke's
# new/ then holds N mails.
deliver_expect() { swaks_deliver "$T/sealed.eml" && [ "$(mail_count)" = "$1" ]; }
n0=$(mail_count)
ok "mail goes through the MX process into Luke's Maildir" deliver_expect $((n0 + 1))
kill -9 "$MX"
for _ in $(seq 50); do [ "$(mx_pid)" != "$MX" ] && break; sleep 0.1; done
NEWMX=$(mx_pid)
ok "the MX process killed with SIGKILL is replaced" bash -c "[ -n '$NEWMX' ] && [ '$NEWMX' != '$MX' ] && kill -0 $NEWMX"
ok "the supervisor says so" grep -q "smtp: the MX process $MX ended by signal 9, starting another" "$T/sealmaild.log"
ok "and still has the main process's pid as its parent" grep -q "^PPid:[[:space:]]*$DPID$" "/proc/$SUP/status"
ok "and mail goes on" deliver_expect $((n0 + 2))

# ---- the key holder's end stops the daemon, losing nothing ----
ok "a letter is accepted before the key holder dies" swaks_deliver "$T/sealed.eml"
kill -9 "$KH"
st=0
timeout 20 tail --pid="$DPID" -f /dev/null || st=$?
wait "$DPID" || st=$?
ok "SIGKILL of the key holder stops the daemon: exit 70" test "$st" = 70
ok "and it says why" grep -q "key holder ended by signal 9" "$T/sealmaild.log"
ok "the accepted letter is in Luke's Maildir" bash -c "ls '$T/mail/luke/new/' | grep -q ."

st=0
SEALMAIL_TEST_KEYHOLDER_GARBAGE=1 timeout 20 "$SEALMAILD_DISHONEST" serve -f "$T/sealmaild.conf" 2>"$T/garbage.log" || st=$?
ok "a malformed message to the key holder is fatal to it: the daemon stops, exit 70" test "$st" = 70
ok "with a clear log line" grep -q "key holder: a malformed request; stopping" "$T/garbage.log"

# A compromised MX process (the test build's first one): it tries to write
# into Luke's Maildir itself and asks the writer for a delivery to someone
# who is no user; in a second run, it sends bytes that do not decode.
SEALMAIL_TEST_MX_TRY_WRITE="$T/mail/luke/new/forged" SEALMAIL_TEST_MX_FORGE_RCPT=vader@jedi.test \
	SEALMAILD=$SEALMAILD_DISHONEST sealmaild_start
for _ in $(seq 50); do grep -q "delivery 57005, which no session waits for" "$T/sealmaild.log" && break; sleep 0.1; done
if grep -q "confined: seccomp, Landlock" "$T/sealmaild.log"; then
	ok "the MX process cannot create a file in a Maildir (Landlock)" bash -c \
		"grep -q 'smtp: test: cannot create $T/mail/luke/new/forged: Permission denied' '$T/sealmaild.log' && [ ! -e '$T/mail/luke/new/forged' ]"
else
	echo "# no Landlock in this kernel: the MX's write test is skipped"
fi
ok "a delivery to someone who is no user is refused by the writer" bash -c \
	"grep -q 'the MX process asked for a delivery to vader@jedi.test, who is no user' '$T/sealmaild.log' && [ ! -e '$T/mail/vader' ]"
kill "$DPID"
wait "$DPID" || true
n0=$(mail_count)
SEALMAIL_TEST_MX_GARBAGE=1 SEALMAILD=$SEALMAILD_DISHONEST sealmaild_start
for _ in $(seq 50); do grep -q "the MX process [0-9]* ended by signal 9, starting another" "$T/sealmaild.log" && break; sleep 0.1; done
ok "a malformed delivery request ends the MX process that sent it, not the daemon" bash -c \
	"grep -q 'a malformed delivery request from the MX process [0-9]*; ending it' '$T/sealmaild.log' && kill -0 $DPID"
ok "the supervisor starts another MX, and mail goes on" deliver_expect $((n0 + 1))
kill "$DPID"
wait "$DPID" || true

# The Maildir writer out of memory (the test build's first job): that one
# message gets "try again later", the MX goes on, and so does mail.
n0=$(mail_count)
SEALMAIL_TEST_WRITER_OOM=1 SEALMAILD=$SEALMAILD_DISHONEST sealmaild_start
MX=$(mx_pid)
ok "a message the writer has no memory for gets 451, and is not delivered" bash -c \
	"$(declare -f swaks_deliver); out=\$(T='$T' swaks_deliver '$T/sealed.eml' 2>&1); echo \"\$out\" | grep -q '^<.* 451 4\.3\.0 ' && [ \$(ls '$T/mail/luke/new/' | wc -l) = $n0 ]"
ok "the MX process that asked is not ended for it" bash -c "kill -0 $MX && ! grep -q 'ended by signal' '$T/sealmaild.log'"
ok "and the next message is delivered" deliver_expect $((n0 + 1))
kill "$DPID"
wait "$DPID" || true

# ---- the supervisor's end stops the daemon, losing nothing ----
sealmaild_start
SUP=$(sup_pid)
STARTED=$(children "$SUP")
n0=$(mail_count)
ok "a letter is accepted before the supervisor dies" swaks_deliver "$T/sealed.eml"
kill -9 "$SUP"
st=0
timeout 20 tail --pid="$DPID" -f /dev/null || st=$?
wait "$DPID" || st=$?
ok "SIGKILL of the supervisor stops the daemon: exit 70" test "$st" = 70
ok "and it says why" grep -q "the supervisor ended by signal 9; stopping" "$T/sealmaild.log"
ok "no process it started outlives it" bash -c \
	"[ -n '$STARTED' ] || exit 1; for _ in \$(seq 50); do alive=0; for p in $(echo $STARTED); do kill -0 \$p 2>/dev/null && alive=1; done; [ \$alive = 0 ] && exit 0; sleep 0.1; done; exit 1"
ok "the accepted letter is in Luke's Maildir" test "$(mail_count)" = "$((n0 + 1))"

VKEY=$(D log-key jedi.test)
mv "$T/state/keys/"* "$T/state/kt/" && rmdir "$T/state/keys"
ok "key files of the older layout (in kt/) move to keys/ and stay the same keys" bash -c \
	"[ \"\$('$SEALMAILD' log-key jedi.test -f '$T/sealmaild.conf')\" = '$VKEY' ] && [ -f '$T/state/keys/jedi.test.log-key' ] && [ -f '$T/state/keys/jedi.test.vrf-key' ] && ! ls '$T/state/kt/' | grep -q -- -key"

if [ -n "$REAL_ROOT" ]; then
	chown nobody "$T/state/keys"
	st=0
	timeout 20 "$SEALMAILD" serve -f "$T/sealmaild.conf" 2>"$T/dir-owner.log" || st=$?
	ok "a keys' directory that is not the key holder's own is refused: the daemon does not start" test "$st" = 70
	ok "and says why" grep -q "key holder: .*/keys: not this user's own or open to others" "$T/dir-owner.log"
	chown root "$T/state/keys"
	chown nobody "$T/state/keys/jedi.test.vrf-key"
	st=0
	timeout 20 "$SEALMAILD" serve -f "$T/sealmaild.conf" 2>"$T/owner.log" || st=$?
	ok "a key file that is not the key holder's own is refused: the daemon does not start" test "$st" = 70
	ok "and says why, without touching the file" bash -c \
		"grep -q 'transparency keys of jedi.test in .*not this user.s own or open to others; it is never overwritten' '$T/owner.log' && [ \"\$(stat -c %u '$T/state/keys/jedi.test.vrf-key')\" = 65534 ]"
	chown root "$T/state/keys/jedi.test.vrf-key"
	grep -v '^user ' "$T/sealmaild.conf" >"$T/no-user.conf"
	st=0
	timeout 20 "$SEALMAILD" serve -f "$T/no-user.conf" 2>"$T/no-user.log" || st=$?
	ok "started as root without 'user', the daemon refuses to serve: exit 78" test "$st" = 78
	ok "and says what to set" grep -q "started as root without 'user': .* set 'user' in the configuration" "$T/no-user.log"
	ok "before it starts any process or binds a port" bash -c "! grep -q 'key holder\|listening\|serving' '$T/no-user.log'"
fi

# A daemon that dropped root cannot signal its root key holder: SIGTERM
# stops it all the same (the key holder leaves when its channels close).
sealmaild_start
KH=$(sed -n 's/.*key holder (pid \([0-9]*\)).*/\1/p' "$T/sealmaild.log" | tail -n 1)
kill -TERM "$DPID"
st=0
timeout 20 tail --pid="$DPID" -f /dev/null || st=$?
wait "$DPID" || st=$?
ok "SIGTERM stops the daemon: exit 0" test "$st" = 0
ok "and its key holder with it" bash -c "sleep 0.5; ! kill -0 $KH 2>/dev/null"

done_testing
