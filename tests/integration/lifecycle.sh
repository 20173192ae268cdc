#!/bin/bash
# A key's life after its first publication, end to end inside private
# namespaces, each step followed by Lea writing to Luke: rotation (signed by
# the key served before), renewal, revocation with a replacement, revocation
# alone, the administrator's reset for a user who lost every key, and
# expiry. Lea's lookup says what changed and who authorized it; her letters
# go to the right key and never to a revoked or expired one; gpg sees the
# revocation through WKD; Luke's monitor tells his own changes from a reset.
# The daemon's checks of a publish request are also driven with requests
# signed by gpg: an independent signer, a stranger's key, a replay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"

netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test mail.jedi.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test mail.jedi.test
sealmaild_conf
D() { "$SEALMAILD" "$@" -f "$T/sealmaild.conf"; }
LUKE=$T/luke LEA=$T/lea MALLORY=$T/mallory LUKE2=$T/luke-new-laptop
sm "$LUKE" keygen luke@jedi.test >/dev/null
sm "$LEA" keygen lea@rebels.test >/dev/null
sm "$MALLORY" keygen luke@jedi.test >/dev/null
sm "$LEA" export lea@rebels.test >"$T/lea.asc"
sm "$LUKE" import "$T/lea.asc" >/dev/null
sealmaild_start
BASE=https://openpgpkey.jedi.test/.well-known/sealmail/v1/jedi.test
WKD=https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/hu/pc53ux1dyd1rjnpyonebrx3aemurd8pf?l=luke

letter() { printf 'From: Lea <lea@rebels.test>\nTo: luke@jedi.test\nSubject: %s\n\nHelp me, Luke (%s).\n' "$1" "$1"; }
# fpr HOME: the fingerprint sealmail export gives for Luke's current key.
fpr() { sm "$1" export luke@jedi.test | gpg --with-colons --import-options show-only --import 2>/dev/null |
	awk -F: '/^fpr/ { print $10; exit }'; }
# enc_sub HOME: the key ID of the encryption subkey of Luke's current key.
enc_sub() { sm "$1" export luke@jedi.test | gpg --with-colons --import-options show-only --import 2>/dev/null |
	awk -F: '/^sub/ { print $5; exit }'; }
# recipients FILE: the key IDs a sealed letter is encrypted to.
recipients() { armor_of "$1" | gpg --list-packets 2>&1 | awk '/:pubkey enc packet:/ { print $NF }'; }
# lea_writes N: Lea looks Luke up (output in $T/lookup-N.out) and seals letter N.
lea_writes() {
	SEALMAIL_HOME=$LEA "$SEALMAIL" lookup luke@jedi.test >"$T/lookup-$1.out" 2>&1 || return 1
	letter "$1" | sm "$LEA" seal >"$T/letter-$1.eml"
}
reads() { sm "$1" read "$2" >"$T/read.out" 2>&1; local st=$?; grep -q "Help me, Luke ($3)" "$T/read.out" && return 0; echo "read status $st:"; cat "$T/read.out"; return 1; }
export -f letter recipients lea_writes sm armor_of new_gpg_home reads
export LEA LUKE T SEALMAIL PHONE

TOKEN=$(D user add luke@jedi.test | awk '/^publish token/ { print $NF }')
ok "Luke publishes: version 1, signed by his key" bash -c \
	"sm '$LUKE' publish luke@jedi.test --token $TOKEN >'$T/pub.out' 2>&1 && grep -q '^published: version 1 of luke@jedi.test' '$T/pub.out'"
OLD=$(fpr "$LUKE")
OLD_SUB=$(enc_sub "$LUKE")
LUKE_PROOF="$BASE/lookup/pc53ux1dyd1rjnpyonebrx3aemurd8pf?l=luke"
ok "the lookup proof asked with authorization=1 carries the authorization" bash -c \
	"curl -sf '$LUKE_PROOF&authorization=1' | grep -q '^authorization '"
ok "a sender's lookup proof (not asked) does not" bash -c \
	"curl -sf '$LUKE_PROOF' >'$T/plain.proof' && grep -q '^key ' '$T/plain.proof' && ! grep -q '^authorization ' '$T/plain.proof'"
ok "authorization=yes is a bad request (400)" bash -c \
	"[ \"\$(curl -s -o /dev/null -w '%{http_code}' '$LUKE_PROOF&authorization=yes')\" = 400 ]"
ok "Lea writes to Luke (pinned on first use)" lea_writes 1
ok "Luke reads letter 1" reads "$LUKE" "$T/letter-1.eml" 1
ok "Luke's monitor: version 1 is his" bash -c "SEALMAIL_HOME=$LUKE '$SEALMAIL' monitor luke@jedi.test | grep -q '^ok luke@jedi.test: version 1 (epoch [0-9]*) is yours;'"

# ---- rotation ----
ok "Luke rotates: version 2, signed by his old key" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' rotate luke@jedi.test >'$T/rotate.out' 2>&1; cat '$T/rotate.out'; grep -q '^rotated: version 2 of luke@jedi.test' '$T/rotate.out'"
NEW=$(fpr "$LUKE")
NEW_SUB=$(enc_sub "$LUKE")
ok "the new key is another key" test -n "$NEW" -a "$NEW" != "$OLD"
ok "Lea writes again: the lookup takes the new key without a warning" lea_writes 2
ok "and says the change is signed by the key she had pinned" grep -q "changed by its owner: the change (version 2) is signed by the key you had pinned, $OLD" "$T/lookup-2.out"
ok "letter 2 is encrypted to the new key, not the old one" bash -c \
	"recipients '$T/letter-2.eml' | grep -q '$NEW_SUB' && ! recipients '$T/letter-2.eml' | grep -q '$OLD_SUB'"
ok "Luke reads letter 2 with the new key" reads "$LUKE" "$T/letter-2.eml" 2
ok "and still reads letter 1 with the old one" reads "$LUKE" "$T/letter-1.eml" 1
ok "gpg's WKD lookup gets the new key" bash -c \
	"G=\$(new_gpg_home); timeout 30 gpg --homedir \$G --batch --auto-key-locate clear,wkd --locate-external-keys luke@jedi.test 2>/dev/null | grep -q '$NEW'"
ok "Luke's monitor: version 2 is his (the version he published)" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' monitor luke@jedi.test | grep -q '^ok luke@jedi.test: version 2 (epoch [0-9]*) is yours;'"
ok "Mallory, with a key for Luke's address, cannot rotate his entry: exit 77" bash -c \
	"st=0; SEALMAIL_HOME=$MALLORY '$SEALMAIL' rotate luke@jedi.test >'$T/m.out' 2>&1 || st=\$?; cat '$T/m.out'; [ \$st = 77 ] && grep -q 'not authorized by any of your keys' '$T/m.out'"

# ---- the daemon's checks, with requests signed by gpg ----
G=$(new_gpg_home) MG=$(new_gpg_home)
gpg --homedir "$G" --batch --import "$LUKE/secring.pgp" 2>/dev/null
gpg --homedir "$MG" --batch --import "$MALLORY/secring.pgp" 2>/dev/null
curl -sf "$WKD" -o "$T/served.bin"
b64sha() { openssl dgst -sha256 -binary "$1" | base64 -w0; }
# request FILE GPGHOME SIGNER VERSION: a publish request re-serving what is served now
request() {
	printf 'sealmail-update/v1\naddress luke@jedi.test\nauthority owner\nversion %s\nprevious %s\nkey %s\n' \
		"$4" "$(b64sha "$T/served.bin")" "$(b64sha "$T/served.bin")" >"$1.stmt"
	gpg --homedir "$2" --batch --yes -u "$3" --detach-sign -o "$1.sig" "$1.stmt" 2>/dev/null
	{ cat "$1.stmt"; printf 'signature %s\n\n' "$(base64 -w0 "$1.sig")"; cat "$T/served.bin"; } >"$1"
}
post() { curl -s -o "$T/post.out" -w '%{http_code}' --data-binary "@$1" \
	"https://openpgpkey.jedi.test/sealmail/v1/publish?address=luke@jedi.test"; }
export -f b64sha post
request "$T/req-gpg" "$G" "$NEW" 3
ok "a change signed by gpg with Luke's key is accepted (HTTP 200)" bash -c \
	"[ \$(post '$T/req-gpg') = 200 ] && grep -q 'accepted version 3' '$T/post.out'"
before=$(kt_size jedi.test)
kt_wait_above jedi.test "$before"
ok "the same request replayed after its epoch is refused (HTTP 409)" bash -c \
	"[ \$(post '$T/req-gpg') = 409 ] && grep -q 'next version of the entry is 4' '$T/post.out'"
request "$T/req-mallory" "$MG" "$(fpr "$MALLORY")" 4
ok "a change signed by Mallory's key is refused (HTTP 403)" bash -c \
	"[ \$(post '$T/req-mallory') = 403 ] && grep -q 'not signed by a valid key' '$T/post.out'"
request "$T/req-old" "$G" "$OLD" 4
ok "a change signed by Luke's old key, no longer served, is refused (HTTP 403)" bash -c \
	"[ \$(post '$T/req-old') = 403 ]"
ok "a raw certificate, not a signed request, is refused (HTTP 400)" bash -c \
	"[ \$(curl -s -o /dev/null -w '%{http_code}' --data-binary '@$T/served.bin' 'https://openpgpkey.jedi.test/sealmail/v1/publish?address=luke@jedi.test') = 400 ]"
ok "Luke's monitor accepts version 3 (published with gpg, not recorded): signed by his key" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' monitor luke@jedi.test | grep -q '^ok luke@jedi.test: version 3 (epoch [0-9]*) is yours, signed by $NEW'"

# ---- renewal ----
ok "Luke renews his key for 20 days: version 4" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' renew luke@jedi.test --days 20 >'$T/renew.out' 2>&1 && grep -q '^renewed: version 4 of luke@jedi.test' '$T/renew.out'"
ok "Lea's lookup: the same key, still pinned" bash -c "lea_writes 4 && grep -q 'pin         matches the pinned key' '$T/lookup-4.out'"
ok "Lea's copy of Luke's key now expires in 20 days" bash -c \
	"exp=\$(sm '$LEA' export luke@jedi.test | gpg --with-colons --import-options show-only --import 2>/dev/null | awk -F: '/^pub/ { print \$7 }'); d=\$(( (exp - \$(date +%s)) / 86400 )); [ \$d = 19 ] || [ \$d = 20 ]"
ok "Luke's monitor reminds him to renew" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' monitor luke@jedi.test | grep -q '^renew luke@jedi.test: your key $NEW expires in \\(1[89]\\|20\\) day(s)'"
ok "senders never encrypt to an expired key: Lea, 21 days later, cannot seal to Luke" bash -c \
	"st=0; letter late | ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 SEALMAIL_HOME=$LEA faketime -f +21d '$SEALMAIL' seal >/dev/null 2>'$T/expired.err' || st=\$?; cat '$T/expired.err'; [ \$st = 67 ] && grep -q 'luke@jedi.test: its key $NEW has expired' '$T/expired.err'"

# ---- revocation with a replacement ----
ok "Luke revokes his key as compromised, with a replacement: version 5" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' revoke luke@jedi.test --reason compromised --text 'laptop stolen' --replace >'$T/revoke.out' 2>&1 && grep -q '^revoked: version 5 of luke@jedi.test' '$T/revoke.out'"
REPL=$(fpr "$LUKE")
REPL_SUB=$(enc_sub "$LUKE")
ok "Lea's lookup takes the replacement, signed by the key she had" bash -c \
	"lea_writes 5 && grep -q 'changed by its owner: the change (version 5) is signed by the key you had pinned, $NEW' '$T/lookup-5.out'"
ok "and says the old key is revoked, and why" grep -q "the old key is revoked (laptop stolen)" "$T/lookup-5.out"
ok "letter 5 goes to the replacement only" bash -c \
	"recipients '$T/letter-5.eml' | grep -q '$REPL_SUB' && ! recipients '$T/letter-5.eml' | grep -q '$NEW_SUB'"
ok "Luke reads letter 5" reads "$LUKE" "$T/letter-5.eml" 5
ok "gpg's WKD lookup sees the revocation next to the replacement" bash -c \
	"G=\$(new_gpg_home); timeout 30 gpg --homedir \$G --batch --auto-key-locate clear,wkd --locate-external-keys luke@jedi.test >/dev/null 2>&1; gpg --homedir \$G --with-colons --list-keys luke@jedi.test 2>/dev/null >'$T/gpg-keys'; grep -q '^pub:r:.*' '$T/gpg-keys' && grep -q '^pub:[-fmuq]:' '$T/gpg-keys'"
ok "a WKD client other than gpg (Sequoia's sq, fetching as Thunderbird does) sees it too" bash -c \
	"curl -sf '$WKD' -o '$T/wkd5.bin' && sq inspect '$T/wkd5.bin' >'$T/sq5.out' 2>&1; cat '$T/sq5.out'; grep -q 'Revoked' '$T/sq5.out' && grep -q 'laptop stolen' '$T/sq5.out'"

# ---- revocation alone ----
ok "Luke revokes the replacement too, without a new key: version 6" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' revoke luke@jedi.test --reason retired >'$T/revoke2.out' 2>&1 && grep -q '^revoked: version 6' '$T/revoke2.out'"
ok "Lea's lookup refuses: Luke's key is revoked and he has no other (exit 67)" bash -c \
	"st=0; SEALMAIL_HOME=$LEA '$SEALMAIL' lookup luke@jedi.test >'$T/lookup-6.out' 2>&1 || st=\$?; cat '$T/lookup-6.out'; [ \$st = 67 ] && grep -q 'is revoked by its owner' '$T/lookup-6.out'"
ok "and her key store knows it: seal refuses Luke offline too (exit 67)" bash -c \
	"st=0; letter 6 | sm '$LEA' seal >/dev/null 2>'$T/seal6.err' || st=\$?; cat '$T/seal6.err'; [ \$st = 67 ] && grep -q 'luke@jedi.test: its key [0-9A-F]* is revoked' '$T/seal6.err'"
ok "no further change can be signed with a revoked key: rotate refuses (exit 77)" status_is 77 sm "$LUKE" rotate luke@jedi.test --wait 0

# ---- the administrator's reset, for a user who lost every key ----
ok "sealmaild user reset prints a new token" bash -c \
	"D() { '$SEALMAILD' \"\$@\" -f '$T/sealmaild.conf'; }; D user reset luke@jedi.test >'$T/reset.out' && grep -q '^publish token' '$T/reset.out'"
ok "a reset of an unknown user fails: exit 67" status_is 67 D user reset nobody@jedi.test
sm "$LUKE2" keygen luke@jedi.test >/dev/null
sm "$LUKE2" import "$T/lea.asc" >/dev/null
ok "Luke, on a new laptop, publishes with it: version 7" bash -c \
	"SEALMAIL_HOME=$LUKE2 '$SEALMAIL' publish luke@jedi.test --token \$(awk '/^publish token/ { print \$NF }' '$T/reset.out') >'$T/pub2.out' 2>&1 && grep -q '^published: version 7' '$T/pub2.out'"
ok "Lea's lookup takes the new key and names the administrator's reset" bash -c \
	"lea_writes 7 && grep -q 'changed by the domain.s administrator (a reset with a one-time token)' '$T/lookup-7.out'"
ok "Luke reads letter 7 on the new laptop" reads "$LUKE2" "$T/letter-7.eml" 7
ok "the new laptop's monitor: version 7 is Luke's" bash -c \
	"SEALMAIL_HOME=$LUKE2 '$SEALMAIL' monitor luke@jedi.test | grep -q '^ok luke@jedi.test: version 7'"
ok "the old laptop's monitor alerts: a reset it did not make (exit 1)" bash -c \
	"st=0; SEALMAIL_HOME=$LUKE '$SEALMAIL' monitor luke@jedi.test >'$T/mon-old.out' 2>&1 || st=\$?; cat '$T/mon-old.out'; [ \$st = 1 ] && grep -q 'a reset' '$T/mon-old.out'"
ok "the old token is spent: publishing with it again is refused (exit 77)" status_is 77 sm "$LUKE2" publish luke@jedi.test --token "$TOKEN" --wait 0

# ---- several devices: Luke's new laptop adds his phone ----
PHONE=$T/luke-phone
sm "$PHONE" keygen luke@jedi.test >/dev/null
sm "$PHONE" import "$T/lea.asc" >/dev/null
sm "$PHONE" export luke@jedi.test >"$T/phone.asc"
LAPTOP_KEY=$(fpr "$LUKE2")
PHONE_KEY=$(fpr "$PHONE")
ok "the laptop adds the phone's key: version 8, signed by the laptop" bash -c \
	"SEALMAIL_HOME=$LUKE2 '$SEALMAIL' device add luke@jedi.test '$T/phone.asc' >'$T/dev.out' 2>&1 && grep -q '^device added: version 8 of luke@jedi.test' '$T/dev.out'"
ok "Lea's lookup shows both keys, added by the key she had" bash -c \
	"lea_writes 8 && grep -q 'fingerprint $LAPTOP_KEY' '$T/lookup-8.out' && grep -q 'fingerprint $PHONE_KEY' '$T/lookup-8.out' && grep -q 'changed by its owner: the change (version 8) is signed by the key you had pinned, $LAPTOP_KEY' '$T/lookup-8.out'"
ok "letter 8 is encrypted to both devices (and Lea): three keys" test "$(recipients "$T/letter-8.eml" | wc -l)" = 3
ok "the laptop reads letter 8" reads "$LUKE2" "$T/letter-8.eml" 8
ok "the phone reads letter 8" reads "$PHONE" "$T/letter-8.eml" 8
ok "the phone joins: the laptop's key is another of its own devices" bash -c \
	"SEALMAIL_HOME=$PHONE '$SEALMAIL' device join luke@jedi.test | grep -q '^joined: luke@jedi.test is served with 1 other device key(s) (version 8, added by $LAPTOP_KEY)'"
ok "the phone's monitor takes the laptop's change as Luke's (join recorded version 8)" bash -c \
	"SEALMAIL_HOME=$PHONE '$SEALMAIL' monitor luke@jedi.test | grep -q '^ok luke@jedi.test: version 8 (epoch [0-9]*) is yours;'"
ok "device list names both, and which is this device" bash -c \
	"SEALMAIL_HOME=$LUKE2 '$SEALMAIL' device list luke@jedi.test >'$T/list.out'; cat '$T/list.out'; grep -q '$LAPTOP_KEY  usable, this device' '$T/list.out' && grep -q '$PHONE_KEY  usable, another of your devices' '$T/list.out'"
ok "adding the same key again is refused: exit 65" status_is 65 sm "$LUKE2" device add luke@jedi.test "$T/phone.asc" --wait 0
ok "the phone rotates its own key: version 9 keeps the laptop's key" bash -c \
	"SEALMAIL_HOME=$PHONE '$SEALMAIL' rotate luke@jedi.test >/dev/null 2>&1 && SEALMAIL_HOME=$LUKE2 '$SEALMAIL' device list luke@jedi.test | grep -q '$LAPTOP_KEY'"
PHONE_KEY2=$(fpr "$PHONE")
ok "the laptop's monitor takes the phone's rotation as Luke's, and learns the new key" bash -c \
	"SEALMAIL_HOME=$LUKE2 '$SEALMAIL' monitor luke@jedi.test | grep -q '^ok luke@jedi.test: version 9 (epoch [0-9]*) is yours, signed by $PHONE_KEY'"
ok "a change the phone signs with its new key is Luke's too (renewal: version 10)" bash -c \
	"SEALMAIL_HOME=$PHONE '$SEALMAIL' renew luke@jedi.test >/dev/null 2>&1 && SEALMAIL_HOME=$LUKE2 '$SEALMAIL' monitor luke@jedi.test | grep -q '^ok luke@jedi.test: version 10 (epoch [0-9]*) is yours, signed by $PHONE_KEY2'"
ok "the laptop removes the phone (lost): version 11" bash -c \
	"SEALMAIL_HOME=$LUKE2 '$SEALMAIL' device remove luke@jedi.test $PHONE_KEY2 >'$T/rm.out' 2>&1 && grep -q '^device removed: version 11' '$T/rm.out'"
ok "Lea's next letter goes to the laptop only" bash -c \
	"lea_writes 11 && ! grep -q '$PHONE_KEY2' '$T/lookup-11.out' && [ \$(recipients '$T/letter-11.eml' | wc -l) = 2 ]"
ok "the phone can no longer read what Lea writes" bash -c "! reads '$PHONE' '$T/letter-11.eml' 11"
ok "the last key cannot be removed: revoke it instead (exit 65)" status_is 65 sm "$LUKE2" device remove luke@jedi.test "$LAPTOP_KEY" --wait 0

kill "$DPID" 2>/dev/null
wait 2>/dev/null
done_testing
