#!/bin/bash
# The Web Key Service end to end with GnuPG's own client, inside private
# namespaces: gpg-wks-client finds jedi.test's submission address and key
# by WKD, submits Obi's key by mail (swaks hands each mail to sealmaild's
# MX), the confirmation request arrives in Obi's Maildir, gpg-wks-client
# answers it, and the key is published through the transparency log, where
# gpg-wks-client --check, gpg and sealmail find it. Then what must be
# refused: a replayed confirmation, a wrong nonce, a response signed by
# another key, one sent in the clear, one after the submission expired,
# a submission from someone who is not a user, and a flood of submissions.
# The service runs in its own process, which talks to no peer and is
# replaced when it dies; a mail it was handling then is dropped. Last, a
# domain that sets auth-submit publishes a submission without confirmation.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"
WKSC=/usr/lib/gnupg/gpg-wks-client

netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test mail.jedi.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test mail.jedi.test
wks_conf() { # wks_conf CONFIRM-TIMEOUT [DOMAIN-LINE]: the service on for jedi.test
	sealmaild_conf "wks-confirm-timeout $1"
	sed -i "s|^\tmaildir-root .*|&\n\tweb-key-service yes${2:+\\n\\t$2}|" "$T/sealmaild.conf"
}
wks_conf 1h
D() { "$SEALMAILD" "$@" -f "$T/sealmaild.conf"; }
D user add obi@jedi.test >/dev/null
D user add luke@jedi.test >/dev/null
sealmaild_start

G=$(new_gpg_home)
gpg --homedir "$G" --batch --passphrase '' --quick-gen-key obi@jedi.test default default 1y 2>/dev/null
gpg --homedir "$G" --batch --passphrase '' --quick-gen-key mallory@jedi.test default default 1y 2>/dev/null
OBI=$(gpg --homedir "$G" --with-colons -k obi@jedi.test | awk -F: '/^fpr/ { print $10; exit }')
wksc() { GNUPGHOME=$G "$WKSC" "$@"; }
# mail_in DIR: waits (10 s) for a mail in DIR/new and prints its path.
mail_in() {
	for _ in $(seq 100); do
		f=$(find "$1/new" -type f 2>/dev/null | head -n 1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}
# to_wks FILE [FROM]: hands FILE to the MX for key-submission@jedi.test.
to_wks() {
	swaks --silent 2 --server 127.0.0.1:25 --tls --tls-verify --tls-ca-path "$T/ca.crt" \
		--tls-sni mail.jedi.test --ehlo jedi.test --from "${2:-obi@jedi.test}" \
		--to key-submission@jedi.test --data "@$1"
}
# handled N: waits (10 s) until the daemon logged N outcomes of the service.
handled() {
	for _ in $(seq 100); do
		[ "$(grep -cE 'wks jedi.test: .*(submitted|confirmed|refused)' "$T/sealmaild.log")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# request_nonce FILE: the nonce in a confirmation request (Obi decrypts it).
request_nonce() { armor_of "$1" | gpg --homedir "$G" --batch --decrypt 2>/dev/null | awk '/^nonce:/ { print $2 }'; }
# response FILE NONCE [SIGNER]: a confirmation response made with gpg, encrypted to
# the submission key (and signed by SIGNER), as PGP/MIME from Obi.
response() {
	printf 'Content-Type: application/vnd.gnupg.wks\n\ntype: confirmation-response\nsender: key-submission@jedi.test\naddress: obi@jedi.test\nnonce: %s\n' "$2" |
		gpg --homedir "$G" --batch --trust-model always --armor -r key-submission@jedi.test \
			${3:+--sign -u "$3"} --encrypt >"$1.asc" 2>/dev/null
	pgpmime_wrap obi@jedi.test key-submission@jedi.test "Key publication confirmation" "$1.asc" >"$1"
}
export -f wksc mail_in to_wks handled request_nonce response armor_of pgpmime_wrap new_gpg_home
export G WKSC T

ok "gpg-wks-client sees the Web Key Service (WKD and WKS, protocol 3)" bash -c \
	"wksc --supported --with-colons jedi.test | grep -q '^jedi.test:1:1:'"
ok "the policy names the submission address" bash -c \
	"curl -sf https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/policy | grep -q '^submission-address: key-submission@jedi.test$'"
ok "gpg-wks-client --create makes the submission (the submission key comes by WKD)" bash -c \
	"wksc -o '$T/sub.eml' --create $OBI obi@jedi.test && grep -q '^Content-Type: multipart/encrypted' '$T/sub.eml'"
ok "the MX takes the submission for key-submission@jedi.test" to_wks "$T/sub.eml"
ok "the confirmation request arrives in Obi's Maildir" bash -c "mail_in '$T/mail/obi' >'$T/req1.path'"
REQ=$(cat "$T/req1.path" 2>/dev/null)
cp "$REQ" "$T/req1.eml" 2>/dev/null
ok "the submission is handled and removed from the submission Maildir" bash -c \
	"handled 1 && [ -z \"\$(find '$T/mail/key-submission/new' -type f)\" ]"
ok "the request is signed by the submission key, and encrypted to Obi only" bash -c \
	"grep -q 'multipart/signed' '$T/req1.eml' && armor_of '$T/req1.eml' | gpg --list-packets 2>&1 | grep -c ':pubkey enc packet:' | grep -qx 1"
ok "gpg-wks-client --receive answers it" bash -c "wksc -o '$T/resp1.eml' --receive <'$T/req1.eml' && test -s '$T/resp1.eml'"
cp "$T/resp1.eml" "$T/resp1-replay.eml"
before=$(kt_size jedi.test)
ok "the MX takes the response" to_wks "$T/resp1.eml"
ok "the daemon confirms Obi's key" bash -c "handled 2 && grep -q 'obi@jedi.test confirmed $OBI' '$T/sealmaild.log'"
kt_wait_above jedi.test "$before"
ok "gpg-wks-client --check finds Obi's key" bash -c "wksc --check obi@jedi.test"
ok "gpg finds it by WKD" bash -c \
	"H=\$(new_gpg_home); timeout 30 gpg --homedir \$H --batch --auto-key-locate clear,wkd --locate-external-keys obi@jedi.test 2>/dev/null | grep -q '$OBI'"
ok "sealmail's lookup proves it in the transparency log (version 1)" bash -c \
	"SEALMAIL_HOME=$T/lea '$SEALMAIL' lookup obi@jedi.test >'$T/l.out' 2>&1; cat '$T/l.out'; grep -q 'fingerprint $OBI' '$T/l.out' && grep -q 'version 1 of the entry' '$T/l.out'"

# ---- refusals ----
ok "the same response replayed: refused as a replay" bash -c \
	"to_wks '$T/resp1-replay.eml' && handled 3 && grep -q 'refused: the nonce was used already' '$T/sealmaild.log'"
response "$T/wrong.eml" 0123456789abcdef0123456789abcdef01234567
ok "a response with a wrong nonce: refused" bash -c \
	"to_wks '$T/wrong.eml' && handled 4 && grep -q 'refused: no submission waits for this nonce' '$T/sealmaild.log'"
wksc -o "$T/sub2.eml" --create "$OBI" obi@jedi.test
rm -f "$T"/mail/obi/new/*
to_wks "$T/sub2.eml"
REQ2=$(mail_in "$T/mail/obi")
NONCE2=$(request_nonce "$REQ2")
handled 5
ok "a second submission gives a fresh nonce" test -n "$NONCE2"
response "$T/signed-other.eml" "$NONCE2" mallory@jedi.test
ok "a response signed by another key than the one submitted: refused" bash -c \
	"to_wks '$T/signed-other.eml' && handled 6 && grep -q 'refused: cannot use it: .*(not the key submitted)' '$T/sealmaild.log'"
printf 'From: obi@jedi.test\r\nTo: key-submission@jedi.test\r\nSubject: c\r\nContent-Type: application/vnd.gnupg.wks\r\n\r\ntype: confirmation-response\r\nsender: key-submission@jedi.test\r\naddress: obi@jedi.test\r\nnonce: %s\r\n' "$NONCE2" >"$T/clear.eml"
ok "a response sent in the clear: refused (its nonce was exposed)" bash -c \
	"to_wks '$T/clear.eml' && handled 7 && grep -q 'refused: not an encrypted PGP/MIME mail' '$T/sealmaild.log'"
response "$T/signed-obi.eml" "$NONCE2" obi@jedi.test
ok "the refusals used nothing up: a response signed by the submitted key itself is taken" bash -c \
	"to_wks '$T/signed-obi.eml' && handled 8 && [ \$(grep -c 'obi@jedi.test confirmed $OBI' '$T/sealmaild.log') = 2 ]"
ok "a submission from someone who is not a user: refused" bash -c \
	"sed 's/^From: obi@jedi.test/From: han@jedi.test/' '$T/sub2.eml' >'$T/han.eml' && to_wks '$T/han.eml' han@jedi.test && handled 9 && grep -q 'mail from han@jedi.test refused: the sender is not a user' '$T/sealmaild.log'"
gpg --homedir "$G" --batch --passphrase '' --quick-gen-key luke@jedi.test default default 1y 2>/dev/null
LUKE=$(gpg --homedir "$G" --with-colons -k luke@jedi.test | awk -F: '/^fpr/ { print $10; exit }')
for i in 1 2 3 4 5 6; do
	wksc -o "$T/flood$i.eml" --create "$LUKE" luke@jedi.test 2>/dev/null
	to_wks "$T/flood$i.eml" luke@jedi.test
done
ok "a flood of submissions in Luke's name mails him five requests at most, then is refused" bash -c \
	"handled 15 && [ \$(find '$T/mail/luke/new' -type f | wc -l) = 5 ] && grep -q 'mail from luke@jedi.test refused: too many submissions wait' '$T/sealmaild.log'"

# ---- its own process ----
wks_pid() { sed -n "s/.*the Web Key Service's process (pid \([0-9]*\)).*/\1/p" "$T/sealmaild.log" | tail -n 1; }
WKS=$(wks_pid)
ok "the service runs in its own process, started by the daemon's supervisor" bash -c \
	"[ -n '$WKS' ] && grep -q '^Name:[[:space:]]*sealmaild-wks$' /proc/$WKS/status && sup=\$(awk '/^PPid:/ { print \$2 }' /proc/$WKS/status) && grep -q '^Name:[[:space:]]*sealmaild-super$' /proc/\$sup/status && grep -q '^PPid:[[:space:]]*$DPID$' /proc/\$sup/status"
tcp_sockets() { # PID: how many of its descriptors are TCP sockets
	local n=0 ino
	for f in /proc/"$1"/fd/*; do
		ino=$(readlink "$f") || continue
		case $ino in socket:*) ino=${ino#socket:[}; ino=${ino%]}
			awk -v i="$ino" '$10 == i { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 && n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}
ok "it holds no TCP socket: it talks to no peer" test "$(tcp_sockets "$WKS")" = 0
if grep -q '^Seccomp_filters:' "/proc/$WKS/status" && ! grep -q "no process is confined" "$T/sealmaild.log"; then
	ok "it runs under its own allow-list on top of the supervisor's two filters: three" \
		grep -q '^Seccomp_filters:[[:space:]]*3$' "/proc/$WKS/status"
	ok "and may start no process: RLIMIT_NPROC 0" grep -Eq '^Max processes +0 +0 ' "/proc/$WKS/limits"
fi
kill -9 "$WKS"
for _ in $(seq 50); do [ "$(wks_pid)" != "$WKS" ] && break; sleep 0.1; done
ok "killed with SIGKILL, it is replaced" bash -c \
	"[ '$(wks_pid)' != '$WKS' ] && grep -q 'wks: the Web Key Service process $WKS ended by signal 9, starting another' '$T/sealmaild.log'"
ok "and the new one handles the next submission" bash -c \
	"wksc -o '$T/sub-after.eml' --create '$OBI' obi@jedi.test && to_wks '$T/sub-after.eml' && handled 16"

# ---- expiry: a daemon whose confirmations last one second ----
kill "$DPID"; wait "$DPID" 2>/dev/null
mv "$T/sealmaild.log" "$T/sealmaild-1.log"
rm -f "$T"/mail/obi/new/*
wks_conf 1s
# a mail left in cur/: one the service was handling when its process ended
printf 'From: x@jedi.test\n\npoison\n' >"$T/mail/key-submission/cur/1.poison"
sealmaild_start
wksc -o "$T/sub3.eml" --create "$OBI" obi@jedi.test
to_wks "$T/sub3.eml"
REQ3=$(mail_in "$T/mail/obi")
handled 1
sleep 2
wksc -o "$T/resp3.eml" --receive <"$REQ3"
ok "a confirmation after its submission expired: refused" bash -c \
	"to_wks '$T/resp3.eml' && handled 2 && grep -q 'refused: the confirmation came after its submission expired' '$T/sealmaild.log'"
ok "a mail the service was handling when its process ended is dropped, not handled again" bash -c \
	"[ ! -e '$T/mail/key-submission/cur/1.poison' ] && grep -q 'dropped .*/cur/1.poison: the service ended while it handled this mail' '$T/sealmaild.log'"
ok "the submission key survived the restart (same key, one file)" bash -c \
	"a=\$(grep -o 'key [0-9A-F]\{40\}' '$T/sealmaild-1.log' | head -n 1); b=\$(grep -o 'key [0-9A-F]\{40\}' '$T/sealmaild.log' | head -n 1); [ -n \"\$a\" ] && [ \"\$a\" = \"\$b\" ] && [ -f '$T/state/keys/jedi.test.wks' ]"

# ---- auth-submit: the domain vouches for its senders ----
kill "$DPID"; wait "$DPID" 2>/dev/null
mv "$T/sealmaild.log" "$T/sealmaild-2.log"
wks_conf 1h "wks-auth-submit yes"
D user add yoda@jedi.test >/dev/null
sealmaild_start
gpg --homedir "$G" --batch --passphrase '' --quick-gen-key yoda@jedi.test default default 1y 2>/dev/null
YODA=$(gpg --homedir "$G" --with-colons -k yoda@jedi.test | awk -F: '/^fpr/ { print $10; exit }')
gpgconf --homedir "$G" --kill dirmngr 2>/dev/null # forget the cached policy
ok "the policy says auth-submit, and gpg-wks-client sees it" bash -c \
	"curl -sf https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/policy | grep -qx auth-submit && wksc --supported --with-colons jedi.test | grep -q '^jedi.test:1:1::[0-9]*:1:'"
wksc -o "$T/sub4.eml" --create "$YODA" yoda@jedi.test
before=$(kt_size jedi.test)
ok "Yoda's submission is published without a confirmation request" bash -c \
	"to_wks '$T/sub4.eml' yoda@jedi.test && handled 1 && grep -q 'yoda@jedi.test submitted $YODA; published from the next epoch without confirmation' '$T/sealmaild.log' && [ -z \"\$(find '$T/mail/yoda/new' -type f 2>/dev/null)\" ]"
kt_wait_above jedi.test "$before"
ok "gpg-wks-client --check finds Yoda's key" bash -c "wksc --check yoda@jedi.test"
ok "sealmaild warned about auth-submit when it started" grep -q "wks-auth-submit: submissions are published without confirmation" "$T/sealmaild.log"

kill "$DPID" 2>/dev/null
wait 2>/dev/null
done_testing
