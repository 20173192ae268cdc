#!/bin/bash
# sealmaild end to end on loopback, inside private namespaces: the key
# directory (WKD for gpg, gpg-wks-client and sealmail lookup; publication
# with a one-time token) and the MX (swaks with STARTTLS, unknown users,
# relaying, delivery into Maildir read back by sealmail and gpg).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"

# tatooine.test has no openpgpkey.tatooine.test name: WKD clients must use
# the direct method for it.
netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test mail.jedi.test tatooine.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test mail.jedi.test tatooine.test
sealmaild_conf "max-message-size 1M" "max-recipients 5" "smtp-command-timeout 3s"
sealmaild_domain tatooine.test "$T/mail-tatooine"
D() { "$SEALMAILD" "$@" -f "$T/sealmaild.conf"; }

ok "sealmaild check accepts the configuration" D check
ok "sealmaild check refuses a broken one" bash -c "! '$SEALMAILD' check -f /etc/hostname 2>/dev/null"
D user add luke@jedi.test >"$T/add.out"
TOKEN=$(awk '/^publish token/ { print $NF }' "$T/add.out")
ok "user add prints a one-time token" test "${#TOKEN}" -eq 52
ok "adding the same user again fails" status_is 73 D user add LUKE@jedi.test
ok "a user outside the configured domains is refused" status_is 64 D user add lea@rebels.test

sealmaild_start

LUKE=$T/luke LEA=$T/lea HAN=$T/han
sm "$LUKE" keygen luke@jedi.test >/dev/null
sm "$LEA" keygen lea@rebels.test >/dev/null
sm "$HAN" keygen han@smugglers.test >/dev/null
ok "a wrong token is refused: exit 77" status_is 77 sm "$LUKE" publish luke@jedi.test --token aaaa
ok "Luke publishes his key with the token" bash -c "SEALMAIL_HOME=$LUKE '$SEALMAIL' publish luke@jedi.test --token $TOKEN | grep -q '^published'"
ok "the token cannot be used twice" status_is 77 sm "$LUKE" publish luke@jedi.test --token "$TOKEN"
ok "status lists Luke with a key" bash -c "'$SEALMAILD' status -f '$T/sealmaild.conf' | grep -q 'luke@jedi.test.*key published'"

HASH=pc53ux1dyd1rjnpyonebrx3aemurd8pf
URL=https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/hu/$HASH
ok "WKD advanced URL answers 200 with the binary key" bash -c \
	"curl -sf -o '$T/key.bin' -D '$T/key.hdr' '$URL?l=luke' && grep -qi '^content-type: application/octet-stream' '$T/key.hdr'"
ok "with Access-Control-Allow-Origin: *" grep -qi '^access-control-allow-origin: \*' "$T/key.hdr"
ok "HEAD answers the same length without a body" bash -c \
	"curl -sfI '$URL' | grep -qi \"^content-length: \$(stat -c %s '$T/key.bin')\""
ok "the policy file is served" curl -sf -o /dev/null https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/policy
ok "an unknown address is 404" status_is 22 curl -sf -o /dev/null "https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/hu/ybndrfg8ejkmcpqxot1uwisza345h769"
ok "path traversal is refused" bash -c "code=\$(curl -s -o /dev/null -w '%{http_code}' --path-as-is 'https://openpgpkey.jedi.test/.well-known/openpgpkey/../../etc/passwd'); [ \"\$code\" = 400 ] || [ \"\$code\" = 404 ]"

G=$(new_gpg_home)
ok "gpg --locate-external-keys finds Luke (advanced method)" bash -c \
	"timeout 30 gpg --homedir $G --batch --status-fd 1 --auto-key-locate clear,wkd --locate-external-keys luke@jedi.test 2>/dev/null | grep -q '^\[GNUPG:\] IMPORT_OK'"
BEN_TOKEN=$(D user add ben@tatooine.test | awk '/^publish token/ { print $NF }')
sm "$T/ben" keygen ben@tatooine.test >/dev/null
sm "$T/ben" publish ben@tatooine.test --token "$BEN_TOKEN" >/dev/null
ok "gpg --locate-external-keys finds Ben (direct method)" bash -c \
	"timeout 30 gpg --homedir $G --batch --status-fd 1 --auto-key-locate clear,wkd --locate-external-keys ben@tatooine.test 2>/dev/null | grep -q '^\[GNUPG:\] IMPORT_OK'"
ok "gpg-wks-client --check finds Luke" bash -c "GNUPGHOME=$G timeout 30 /usr/lib/gnupg/gpg-wks-client --check luke@jedi.test"
ok "an unknown address is not found by gpg-wks-client" bash -c "! GNUPGHOME=$G timeout 30 /usr/lib/gnupg/gpg-wks-client --check obiwan@jedi.test"
ok "and Luke is still found afterwards by the same dirmngr" bash -c \
	"timeout 30 gpg --homedir $G --batch --status-fd 1 --auto-key-locate clear,wkd --locate-external-keys luke@jedi.test 2>/dev/null | grep -q '^\[GNUPG:\] IMPORT_OK'"
ok "sealmail lookup finds Luke's key in sealmaild" bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test | grep -q fingerprint"

# The MX.
printf 'From: Lea <lea@rebels.test>\nTo: Luke <luke@jedi.test>\nSubject: The plans\n\nThey are in R2.\n' |
	sm "$LEA" seal >"$T/sealed.eml"
ok "swaks delivers Lea's sealed letter with STARTTLS" swaks_deliver "$T/sealed.eml"
ok "it is in Luke's Maildir, new/" bash -c "ls '$T/mail/luke/new/' | grep -q ."
NEW=$(ls "$T/mail/luke/new/" | head -n 1)
ok "sealmaild added Return-Path and its Received line (ESMTPS: it came over TLS)" bash -c \
	"head -n 4 '$T/mail/luke/new/$NEW' | grep -q '^Return-Path: <lea@rebels.test>' && head -n 4 '$T/mail/luke/new/$NEW' | grep -q 'by mail.jedi.test (sealmaild) with ESMTPS'"
ok "nothing is left in tmp/" bash -c "[ -z \"\$(ls -A '$T/mail/luke/tmp/')\" ]"
sm "$LUKE" import < <(sm "$LEA" export lea@rebels.test) >/dev/null
ok "Luke reads it with sealmail: verified" status_is 0 bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$T/mail/luke/new/$NEW' >'$T/read.out' 2>/dev/null"
ok "the letter is intact" grep -q 'They are in R2.' "$T/read.out"
ok "an unknown recipient gets 550 5.1.1" status_is 24 swaks --silent 2 --server 127.0.0.1:25 \
	--from lea@rebels.test --to obiwan@jedi.test
ok "relaying is refused" status_is 24 swaks --silent 2 --server 127.0.0.1:25 \
	--from lea@rebels.test --to someone@elsewhere.test
ok "a message over max-message-size is refused" bash -c "! swaks --silent 2 --server 127.0.0.1:25 \
	--from lea@rebels.test --to luke@jedi.test --attach-type application/octet-stream \
	--attach @<(head -c 2000000 /dev/zero)"

# A session that goes silent is closed after smtp-command-timeout.
ok "a silent session is closed with 421 after the time-out" bash -c \
	"timeout 10 python3 -c '
import socket, time
s = socket.create_connection((\"127.0.0.1\", 25))
f = s.makefile(\"rb\")
f.readline()
t = time.time()
line = f.readline()
assert line.startswith(b\"421\"), line
assert time.time() - t >= 2.5
'"

if ! grep -q "no process is confined" "$T/sealmaild.log"; then # scripts/valgrind's test build
	ok "the daemon's main process holds no capability" bash -c \
		"grep -q '^CapEff:[[:space:]]*0*$' /proc/$DPID/status && grep -q 'capabilities dropped' '$T/sealmaild.log'"
	if [ -n "$REAL_ROOT" ]; then
		ok "started as root, it runs as the configured user (nobody)" \
			grep -q '^Uid:[[:space:]]*65534[[:space:]]' "/proc/$DPID/status"
	else
		ok "started as a user namespace's root without 'user', it stays that, and says so" bash -c \
			"grep -q '^Uid:[[:space:]]*0[[:space:]]' /proc/$DPID/status && grep -q 'running as the root of a user namespace' '$T/sealmaild.log'"
	fi
fi

kill "$DPID"
st=0
timeout 60 tail --pid="$DPID" -f /dev/null || st=timeout # a process that hangs on its way out
[ "$st" = timeout ] || wait "$DPID" || st=$?
ok "sealmaild stops cleanly on SIGTERM: exit 0, and says so" bash -c "[ $st = 0 ] && grep -q stopping '$T/sealmaild.log'"
done_testing
