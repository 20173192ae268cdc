#!/bin/bash
# The sealmail CLI's own behaviour: key store, keygen, export, import, seal
# (recipients, Bcc, header protection) and read, with every refusal path.
. "$(dirname "$0")/lib.sh"

LEA=$T/lea LUKE=$T/luke HAN=$T/han

letter() { # letter TO [BCC]: a small letter from Lea
	printf 'From: Lea <lea@rebels.test>\nTo: %s\n' "$1"
	[ -n "${2:-}" ] && printf 'Bcc: %s\n' "$2"
	printf 'Subject: The plans are in R2\nDate: Sat, 28 Nov 2026 10:00:00 +0000\n'
	printf 'Message-ID: <plans@rebels.test>\n\nHelp me, Luke.\n'
}
export -f letter
GNUPGHOME=$(new_gpg_home)
export GNUPGHOME

# --- keygen and the key store
ok "keygen creates a key and prints its fingerprint" \
	bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' keygen lea@rebels.test | grep -Eq '^fingerprint [0-9A-F]{40}$'"
sm "$LUKE" keygen luke@jedi.test >/dev/null
sm "$HAN" keygen han@smugglers.test >/dev/null
ok "key store folder is 0700" test "$(stat -c %a "$LEA")" = 700
ok "secret ring is 0600" test "$(stat -c %a "$LEA/secring.pgp")" = 600
ok "keygen refuses a second key for the same address" status_is 73 sm "$LEA" keygen lea@rebels.test
ok "keygen refuses a non-address" status_is 64 sm "$LEA" keygen "not an address"
ok "keygen without an address is a usage error" status_is 64 sm "$LEA" keygen
ok "unknown verb is a usage error" status_is 64 sm "$LEA" frobnicate
ok "--help exits 0" sm "$LEA" --help

# --- export
sm "$LUKE" export luke@jedi.test >"$T/luke.asc"
ok "export is armored by default" grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' "$T/luke.asc"
ok "export holds no secret key" bash -c "! gpg --list-packets '$T/luke.asc' 2>/dev/null | grep -q 'secret key packet'"
sm "$LUKE" export --binary luke@jedi.test >"$T/luke.pgp"
ok "export --binary is binary OpenPGP" bash -c "head -c1 '$T/luke.pgp' | od -An -tx1 | grep -Eq '(99|c6)'"
ok "export of an unknown address fails with 67" status_is 67 sm "$LUKE" export nobody@jedi.test
sm "$HAN" export han@smugglers.test >"$T/han.asc"

# --- import
ok "import of a certificate" bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' import '$T/luke.asc' | grep -q '^imported certificate'"
ok "import of a binary certificate from stdin" bash -c "SEALMAIL_HOME=$LUKE '$SEALMAIL' import < '$T/luke.pgp'"
ok "import refuses secret keys" status_is 65 sm "$HAN" import "$LEA/secring.pgp"
ok "import refuses garbage" status_is 65 sm "$HAN" import /etc/hostname
ok "import of a missing file fails with 66" status_is 66 sm "$HAN" import "$T/none"
ok "a refused secret key was not imported" status_is 67 sm "$HAN" export lea@rebels.test
sm "$LUKE" import < <(sm "$LEA" export lea@rebels.test) >/dev/null

# --- seal
letter luke@jedi.test | sm "$LEA" seal >"$T/sealed.eml"
ok "seal writes multipart/encrypted" grep -q '^Content-Type: multipart/encrypted;' "$T/sealed.eml"
ok "with protocol application/pgp-encrypted" grep -q 'protocol="application/pgp-encrypted"' "$T/sealed.eml"
ok "outer Subject is [...]" grep -q '^Subject: \[\.\.\.\]' "$T/sealed.eml"
ok "the real Subject is not outside" bash -c "! grep -q 'plans are in' '$T/sealed.eml'"
ok "the body is not outside" bash -c "! grep -q 'Help me' '$T/sealed.eml'"
ok "seal to a recipient without certificate fails with 67" status_is 67 bash -c \
	"printf 'From: lea@rebels.test\nTo: luke@jedi.test, obi@jedi.test\nCc: leia@rebels.test\n\nx\n' | SEALMAIL_HOME=$LEA '$SEALMAIL' seal >'$T/missing.out' 2>'$T/missing.err'"
ok "the refusal names every missing recipient" bash -c "grep -q obi@jedi.test '$T/missing.err' && grep -q leia@rebels.test '$T/missing.err' && ! grep -q luke@jedi.test '$T/missing.err'"
ok "a refused seal writes nothing" test ! -s "$T/missing.out"
ok "seal without a secret key for From fails with 67" status_is 67 bash -c \
	"printf 'From: han@smugglers.test\nTo: luke@jedi.test\n\nx\n' | SEALMAIL_HOME=$LEA '$SEALMAIL' seal >/dev/null"
ok "seal without recipients fails with 65" status_is 65 bash -c \
	"printf 'From: lea@rebels.test\nSubject: x\n\nx\n' | SEALMAIL_HOME=$LEA '$SEALMAIL' seal >/dev/null"
ok "seal without From fails with 65" status_is 65 bash -c \
	"printf 'To: luke@jedi.test\n\nx\n' | SEALMAIL_HOME=$LEA '$SEALMAIL' seal >/dev/null"

# --- read
ok "Luke reads Lea's letter: verified" status_is 0 bash -c "SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$T/sealed.eml' >'$T/read.out' 2>'$T/read.err'"
ok "the verdict names Lea" grep -q 'verified: signed by lea@rebels.test' "$T/read.err"
ok "the protected Subject is restored" grep -q '^Subject: The plans are in R2' "$T/read.out"
ok "the body is shown" grep -q 'Help me, Luke.' "$T/read.out"
ok "read from stdin" status_is 0 bash -c "SEALMAIL_HOME=$LUKE '$SEALMAIL' read < '$T/sealed.eml' >/dev/null 2>&1"
ok "Lea can read her own sent copy" status_is 0 bash -c "SEALMAIL_HOME=$LEA '$SEALMAIL' read '$T/sealed.eml' >/dev/null 2>&1"
ok "Han cannot read it (exit 6) and sees nothing" status_is 6 bash -c "SEALMAIL_HOME=$HAN '$SEALMAIL' read '$T/sealed.eml' >'$T/han.out' 2>/dev/null"
ok "nothing on stdout for Han" test ! -s "$T/han.out"
ok "a plain message is not encrypted (exit 8)" status_is 8 bash -c "letter x | SEALMAIL_HOME=$LUKE '$SEALMAIL' read >/dev/null 2>&1"
chmod 644 "$LUKE/secring.pgp"
ok "a readable secret ring is refused (exit 78)" status_is 78 sm "$LUKE" read "$T/sealed.eml"
chmod 600 "$LUKE/secring.pgp"

# --- Bcc
sm "$LEA" import "$T/han.asc" >/dev/null
sm "$HAN" import < <(sm "$LEA" export lea@rebels.test) >/dev/null
letter luke@jedi.test han@smugglers.test | sm "$LEA" seal >"$T/bcc.eml"
ok "Bcc header is nowhere in the output" bash -c "! grep -qi '^bcc' '$T/bcc.eml'"
ok "the Bcc address is nowhere in the output" bash -c "! grep -q 'han@smugglers' '$T/bcc.eml'"
ok "the Bcc recipient reads it" status_is 0 bash -c "SEALMAIL_HOME=$HAN '$SEALMAIL' read '$T/bcc.eml' >'$T/bcc.out' 2>/dev/null"
ok "the Bcc address is not in the decrypted letter either" bash -c "! grep -qi 'han@smugglers\|^bcc' '$T/bcc.out'"
ok "the To recipient reads it" status_is 0 bash -c "SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$T/bcc.eml' >/dev/null 2>&1"
armor_of "$T/bcc.eml" >"$T/bcc.asc"
ok "the Bcc recipient's key ID is hidden (wildcard)" bash -c "gpg --list-packets '$T/bcc.asc' 2>&1 | grep -q 'keyid 0000000000000000'"
ok "To and sender key IDs are visible" test "$(gpg --list-packets "$T/bcc.asc" 2>&1 | grep -c ':pubkey enc packet:')" = 3

# --- backup and restore
echo "correct horse battery staple" >"$T/pass"
echo "wrong horse battery staple" >"$T/wrong"
echo "short" >"$T/short"
ok "backup writes the key store under a passphrase" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' backup --passphrase-file '$T/pass' -o '$T/luke.bak' 2>'$T/bak.err' && grep -q 'backed up [0-9]* file' '$T/bak.err'"
ok "the backup file is private (0600)" test "$(stat -c %a "$T/luke.bak")" = 600
ok "it says what it is, and shows no key material" bash -c \
	"head -c 19 '$T/luke.bak' | grep -q '^sealmail-backup/v1' && ! gpg --list-packets '$T/luke.bak' >/dev/null 2>&1"
ok "a short passphrase is refused: exit 65" status_is 65 sm "$LUKE" backup --passphrase-file "$T/short" -o "$T/x.bak"
ok "a backup is never written to a terminal (no tty here: needs -o or a redirect)" status_is 64 bash -c \
	"SEALMAIL_HOME=$LUKE script -qec '$SEALMAIL backup --passphrase-file $T/pass' /dev/null >/dev/null"
ok "restore with the wrong passphrase: exit 65, nothing written" bash -c \
	"st=0; SEALMAIL_HOME=$T/luke2 '$SEALMAIL' restore '$T/luke.bak' --passphrase-file '$T/wrong' 2>'$T/r.err' || st=\$?; [ \$st = 65 ] && grep -q 'wrong passphrase' '$T/r.err' && [ ! -e '$T/luke2/secring.pgp' ]"
cp "$T/luke.bak" "$T/damaged.bak"
# flip one bit of byte 200 (writing a fixed byte left it unchanged 1 time in 256)
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(200); b = f.read(1)[0]; f.seek(200); f.write(bytes([b ^ 1]))' "$T/damaged.bak"
ok "a damaged backup is refused: exit 65" status_is 65 sm "$T/luke3" restore "$T/damaged.bak" --passphrase-file "$T/pass"
ok "restore into an empty key store" bash -c \
	"SEALMAIL_HOME=$T/luke2 '$SEALMAIL' restore '$T/luke.bak' --passphrase-file '$T/pass' | grep -q '^restored [0-9]* file(s)'"
ok "the restored secret ring is private (0600)" test "$(stat -c %a "$T/luke2/secring.pgp")" = 600
ok "the restored key store reads old mail" status_is 0 bash -c "SEALMAIL_HOME=$T/luke2 '$SEALMAIL' read '$T/bcc.eml' >/dev/null 2>&1"
ok "and holds the same key" test "$(sm "$T/luke2" export luke@jedi.test)" = "$(sm "$LUKE" export luke@jedi.test)"
ok "restore never overwrites a key store: exit 73" status_is 73 sm "$T/luke2" restore "$T/luke.bak" --passphrase-file "$T/pass"

done_testing
