#!/bin/bash
# Hostile input to `sealmail read`: each case gets its exit status, a clear
# message, and not one byte of plaintext on standard output. Attack messages
# are made with GnuPG, an independent implementation, so they are what an
# attacker's tools really emit.
. "$(dirname "$0")/lib.sh"

LUKE=$T/luke LEA=$T/lea HAN=$T/han
sm "$LUKE" keygen luke@jedi.test >/dev/null
sm "$LEA" keygen lea@rebels.test >/dev/null
sm "$HAN" keygen han@smugglers.test >/dev/null
sm "$LEA" import < <(sm "$LUKE" export luke@jedi.test) >/dev/null
sm "$LUKE" import < <(sm "$LEA" export lea@rebels.test) >/dev/null
sm "$LUKE" import < <(sm "$HAN" export han@smugglers.test) >/dev/null

# Attackers' GnuPG: Han's secret key, Luke's and Lea's certificates.
GNUPGHOME=$(new_gpg_home)
export GNUPGHOME
gpg --batch -q --import "$HAN/secring.pgp" 2>/dev/null
sm "$LUKE" export luke@jedi.test | gpg --batch -q --import 2>/dev/null
GPG="gpg --batch --yes -q --trust-model always"
SECRET="the secret plans are here"

payload() { printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n' "$SECRET"; }

# refused NAME WANT FILE [WHAT]: read FILE as Luke; wants exit WANT, an
# empty stdout, and a message on stderr matching WHAT.
refused() {
	local name=$1 want=$2 file=$3 what=${4:-refused}
	ok "$name: exit $want" status_is "$want" bash -c \
		"SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$file' >'$file.out' 2>'$file.err'"
	ok "$name: no plaintext on stdout" test ! -s "$file.out"
	ok "$name: says why" grep -qi "$what" "$file.err"
}

wrap() { pgpmime_wrap "$1" luke@jedi.test "x" "$2"; }

# no integrity protection: SED packet without MDC
payload | $GPG --rfc2440 -e -r luke@jedi.test -a -o "$T/nomdc.asc" 2>/dev/null
wrap lea@rebels.test "$T/nomdc.asc" >"$T/nomdc.eml"
refused "no integrity protection" 5 "$T/nomdc.eml" "integrity"

# one flipped ciphertext bit, in the middle of the encrypted data
printf 'From: lea@rebels.test\nTo: luke@jedi.test\nSubject: s\n\n%s\n' "$SECRET" | sm "$LEA" seal >"$T/good.eml"
armor_of "$T/good.eml" | gpg --dearmor >"$T/good.bin"
python3 - "$T/good.bin" "$T/flip.bin" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[len(d) - 40] ^= 0x10
open(sys.argv[2], "wb").write(d)
PY
gpg --enarmor <"$T/flip.bin" | sed 's/ARMORED FILE/MESSAGE/' >"$T/flip.asc"
wrap lea@rebels.test "$T/flip.asc" >"$T/flip.eml"
ok "the unflipped letter reads" status_is 0 bash -c "SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$T/good.eml' >/dev/null 2>&1"
refused "one flipped bit" 9 "$T/flip.eml" "malformed\|corrupt\|integrity"

# signed by Han, claiming to be from Lea
payload | $GPG -e -s -u han@smugglers.test -r luke@jedi.test -a -o "$T/forged.asc"
wrap lea@rebels.test "$T/forged.asc" >"$T/forged.eml"
refused "signature by someone other than From" 2 "$T/forged.eml" "not bound"

# a compressed packet that expands to 512 MiB
head -c 512M /dev/zero | $GPG -e -r luke@jedi.test --compress-algo bzip2 -z 9 -a -o "$T/bomb.asc"
wrap lea@rebels.test "$T/bomb.asc" >"$T/bomb.eml"
ok "compression bomb: exit 7" status_is 7 with_rss "$T/bomb.rss" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$T/bomb.eml' >'$T/bomb.out' 2>'$T/bomb.err'"
ok "compression bomb: nothing on stdout" test ! -s "$T/bomb.out"
ok "compression bomb: says too large" grep -q "too large" "$T/bomb.err"
echo "# compression bomb: peak RSS $(cat "$T/bomb.rss") KiB"
ok "compression bomb: peak RSS under 400 MiB" test "$(cat "$T/bomb.rss")" -lt 409600

# truncated armor
armor_of "$T/good.eml" | head -n 6 >"$T/trunc.asc"
wrap lea@rebels.test "$T/trunc.asc" >"$T/trunc.eml"
refused "truncated armor" 9 "$T/trunc.eml" "malformed"

# deep_mime FILE [open]: a message whose MIME structure is nested 10,000
# deep; with "open", the boundaries are never closed.
deep_mime() {
	python3 - "$1" "${2:-closed}" <<'PY'
import sys
n = 10000
with open(sys.argv[1], "w") as f:
    f.write("From: lea@rebels.test\r\nTo: luke@jedi.test\r\nMIME-Version: 1.0\r\n")
    for i in range(n):
        f.write(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n')
    f.write("Content-Type: text/plain\r\n\r\nx\r\n")
    if sys.argv[2] == "closed":
        for i in reversed(range(n)):
            f.write(f"--b{i}--\r\n")
PY
}

# a MIME structure nested 10,000 deep
deep_mime "$T/deep.eml"
ok "10,000-deep MIME: refused quickly" status_is 7 with_rss "$T/deep.rss" bash -c \
	"timeout 20 env SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$T/deep.eml' >'$T/deep.out' 2>'$T/deep.err'"
ok "10,000-deep MIME: says why" grep -q "too deeply nested" "$T/deep.err"
echo "# 10,000-deep MIME: peak RSS $(cat "$T/deep.rss") KiB"
ok "10,000-deep MIME: peak RSS under 100 MiB" test "$(cat "$T/deep.rss")" -lt 102400

# the same nesting inside a correctly encrypted and signed letter
deep_mime "$T/deep-inner.txt" open
gpg --batch -q --import "$LEA/secring.pgp" 2>/dev/null
$GPG -e -s -u lea@rebels.test -r luke@jedi.test -a -o "$T/deep-inner.asc" "$T/deep-inner.txt"
wrap lea@rebels.test "$T/deep-inner.asc" >"$T/deep-inner.eml"
refused "10,000-deep MIME inside the encryption" 7 "$T/deep-inner.eml" "too deeply nested"

# encrypted to someone else
payload | $GPG -e -s -u han@smugglers.test -r han@smugglers.test -a -o "$T/other.asc"
wrap han@smugglers.test "$T/other.asc" >"$T/other.eml"
refused "encrypted to someone else" 6 "$T/other.eml" "not encrypted to any of your keys"

# not encrypted at all: signed only
payload | $GPG -s -u han@smugglers.test -a -o "$T/signed.asc"
wrap han@smugglers.test "$T/signed.asc" >"$T/signed.eml"
refused "signed but not encrypted" 8 "$T/signed.eml" "not"

# garbage in the OpenPGP part, and an empty input
printf -- '-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n' >"$T/garbage.asc"
wrap lea@rebels.test "$T/garbage.asc" >"$T/garbage.eml"
refused "garbage OpenPGP" 9 "$T/garbage.eml" "malformed"
: >"$T/empty.eml"
refused "empty input" 8 "$T/empty.eml" "not a PGP/MIME"

done_testing
