#!/bin/sh
# make-corpus.sh SEALMAIL [--new-keys]: regenerates the seed corpus of
# fuzz_read in fuzz/corpus/read with the sealmail binary SEALMAIL and gpg.
#
# The seeds are sealed for the fixture keys in fuzz/keys (test keys, made
# with `sealmail keygen`; --new-keys makes new ones, which invalidates every
# sealed seed, so the corpus is then rewritten too). Han, a third party, is
# generated afresh on every run. Files named crash-* are kept: they are
# regression inputs, not seeds. At the end every seed is read as Luke and
# its verdict printed, so a seed that no longer reaches the path it was made
# for is easy to spot.
set -eu

[ $# -ge 1 ] || { echo "usage: $0 SEALMAIL [--new-keys]" >&2; exit 2; }
sm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
keys=$here/keys
out=$here/corpus/read
T=$(mktemp -d /tmp/fzc.XXXXXX)

cleanup() {
	for g in "$T"/g?; do
		[ -d "$g" ] && gpgconf --homedir "$g" --kill all 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

sealmail() { # HOME ARGS...
	h=$1
	shift
	SEALMAIL_HOME="$T/$h" "$sm" "$@"
}
gpgh() { # HOME ARGS...
	h=$1
	shift
	gpg --batch --quiet --homedir "$T/$h" --trust-model always "$@"
}

new_keys() {
	mkdir -p "$keys"
	sealmail nl keygen lea@rebels.test >/dev/null
	sealmail nk keygen luke@jedi.test >/dev/null
	cp "$T/nl/secring.pgp" "$keys/lea-secret.pgp"
	cp "$T/nk/secring.pgp" "$keys/luke-secret.pgp"
	sealmail nl export --binary lea@rebels.test >"$keys/lea-public.pgp"
	sealmail nk export --binary luke@jedi.test >"$keys/luke-public.pgp"
}

# Key stores and gpg homes: lea and luke from the fixture, han new.
setup_parties() {
	mkdir -m 700 "$T/lea" "$T/luke" "$T/gl" "$T/gh"
	cp "$keys/lea-secret.pgp" "$T/lea/secring.pgp"
	cp "$keys/luke-public.pgp" "$T/lea/pubring.pgp"
	cp "$keys/luke-secret.pgp" "$T/luke/secring.pgp"
	cp "$keys/lea-public.pgp" "$T/luke/pubring.pgp"
	chmod 600 "$T/lea/secring.pgp" "$T/luke/secring.pgp"
	sealmail han keygen han@tatooine.test >/dev/null
	sealmail han export --binary han@tatooine.test >"$T/han.pgp"
	sealmail lea import "$T/han.pgp" >/dev/null
	gpgh gl --import "$keys/lea-secret.pgp" "$keys/luke-public.pgp" 2>/dev/null
	gpgh gh --import "$T/han/secring.pgp" "$keys/luke-public.pgp" 2>/dev/null
}

# ---- building blocks ------------------------------------------------------

letter() { # TO SUBJECT: a short cleartext letter from Lea, LF line ends
	printf 'From: Lea Organa <lea@rebels.test>\nTo: %s\nSubject: %s\n' "$1" "$2"
	printf 'Date: Tue, 25 May 1977 10:00:00 +0000\nMessage-ID: <%s@rebels.test>\n' "$$"
	printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n'
	printf 'Luke,\n\nThe plans are in R2. Meet us at the Massassi temple.\n\n-- \nLea\n'
}

multipart_letter() { # a letter with an alternative body and an attachment
	printf 'From: Lea <lea@rebels.test>\nTo: Luke <luke@jedi.test>\n'
	printf 'Subject: =?utf-8?q?Pl=C3=A4ne?=\nMIME-Version: 1.0\n'
	printf 'Content-Type: multipart/mixed; boundary="outer"\n\n'
	printf -- '--outer\nContent-Type: multipart/alternative; boundary="alt"\n\n'
	printf -- '--alt\nContent-Type: text/plain; charset=utf-8\n'
	printf 'Content-Transfer-Encoding: quoted-printable\n\nSee the pl=C3=A4ns.\n'
	printf -- '--alt\nContent-Type: text/html; charset=utf-8\n\n<p>See the plans.</p>\n'
	printf -- '--alt--\n\n--outer\nContent-Type: application/octet-stream; name="r2.bin"\n'
	printf 'Content-Disposition: attachment; filename="r2.bin"\n'
	printf 'Content-Transfer-Encoding: base64\n\nREVBVEggU1RBUiBQTEFOUwo=\n--outer--\n'
}

# A payload as sealmail makes it: protected headers, hp="cipher".
hp_payload() { # FROM
	printf 'From: %s\r\nTo: luke@jedi.test\r\nSubject: protected subject\r\n' "$1"
	printf 'Content-Type: text/plain; charset=us-ascii; hp="cipher"\r\n'
	printf 'HP-Outer: From: %s\r\nHP-Outer: To: luke@jedi.test\r\n' "$1"
	printf 'HP-Outer: Subject: [...]\r\n\r\nThe payload body.\r\n'
}

# A payload as older clients make it: MIME headers only, no protection.
legacy_payload() {
	printf 'Content-Type: multipart/mixed; boundary="p"\r\n\r\n--p\r\n'
	printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nLegacy body.\r\n'
	printf -- '--p\r\nContent-Type: message/rfc822\r\n\r\n'
	printf 'From: obi@jedi.test\r\nSubject: old\r\n\r\nUse the force.\r\n--p--\r\n'
}

# RFC 3156 envelope around the OpenPGP data in file PGP.
wrap() { # FROM SUBJECT PGP [ENCODING]
	printf 'From: %s\nTo: luke@jedi.test\nSubject: %s\nMIME-Version: 1.0\n' "$1" "$2"
	printf 'Content-Type: multipart/encrypted;\n protocol="application/pgp-encrypted";\n'
	printf ' boundary="=-b1"\n\nOpenPGP/MIME message\n--=-b1\n'
	printf 'Content-Type: application/pgp-encrypted\n\nVersion: 1\n\n--=-b1\n'
	printf 'Content-Type: application/octet-stream; name="encrypted.asc"\n'
	[ $# -ge 4 ] && printf 'Content-Transfer-Encoding: %s\n' "$4"
	printf '\n'
	cat "$3"
	printf '\n--=-b1--\n'
}

# ASCII armor without a checksum (optional since RFC 9580) around binary IN.
armor() { # IN
	printf -- '-----BEGIN PGP MESSAGE-----\n\n'
	base64 -w 64 "$1"
	printf -- '-----END PGP MESSAGE-----\n'
}

# shellcheck disable=SC2059 # the format is the one octal escape built here
put_byte() { printf "\\$(printf '%03o' "$1")"; } # DECIMAL: writes that byte
# Writes byte VALUE (decimal) at OFFSET of FILE.
poke() { # FILE OFFSET VALUE
	put_byte "$3" | dd of="$1" bs=1 seek="$2" count=1 conv=notrunc status=none
}

peek() { # FILE OFFSET: the byte at OFFSET, decimal
	od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '
}

pgp_part() { # MESSAGE: the armored OpenPGP block of a message, LF line ends
	sed -n '/^-----BEGIN PGP MESSAGE-----/,/^-----END PGP MESSAGE-----/p' "$1" | tr -d '\r'
}

# XORs 0x20 into the first letter at or after OFFSET: a case flip, so the
# armor stays valid base64 while the data under it changes.
flip_case() { # FILE OFFSET
	o=$2
	while :; do
		b=$(peek "$1" "$o")
		if [ "$b" -ge 65 ] && [ "$b" -le 90 ] || [ "$b" -ge 97 ] && [ "$b" -le 122 ]; then
			poke "$1" "$o" $((b ^ 32))
			return
		fi
		o=$((o + 1))
	done
}

# Offset of the packet after the first one (gpg writes the PKESK first).
second_packet() { # FILE
	b0=$(peek "$1" 0)
	case $b0 in
	132 | 193) echo $((2 + $(peek "$1" 1))) ;; # old format 1-octet length, or new format < 192
	*) echo "unexpected first packet byte $b0" >&2; return 1 ;;
	esac
}

# ---- the seeds ---------------------------------------------------------------

seeds_sealed() {
	letter 'Luke Skywalker <luke@jedi.test>' 'The plans' | sealmail lea seal >"$out/sealed-verified.eml"
	multipart_letter | sealmail lea seal >"$out/sealed-multipart.eml"
	letter 'Han <han@tatooine.test>' 'Ship' | sed '2a Bcc: luke@jedi.test' |
		sealmail lea seal >"$out/sealed-bcc.eml"
	letter 'Han <han@tatooine.test>' 'Not for Luke' | sealmail lea seal >"$out/sealed-not-for-us.eml"
	v=$out/sealed-verified.eml
	head -c $(($(wc -c <"$v") / 2)) "$v" >"$out/sealed-truncated.eml"
	cp "$v" "$out/sealed-bitflip-armor.eml"
	at=$(grep -bo -- '-----BEGIN PGP MESSAGE-----' "$v" | cut -d: -f1)
	flip_case "$out/sealed-bitflip-armor.eml" $((at + 300))
	pgp_part "$v" | gpgh gl --dearmor >"$T/sealed.bin"
	cp "$T/sealed.bin" "$T/flip.bin"
	last=$(($(wc -c <"$T/flip.bin") - 10)) # inside the MDC packet
	poke "$T/flip.bin" "$last" $(($(peek "$T/flip.bin" "$last") ^ 1))
	armor "$T/flip.bin" >"$T/flip.asc"
	wrap 'lea@rebels.test' '[...]' "$T/flip.asc" >"$out/sealed-bitflip-data.eml"
	base64 -w 76 "$T/sealed.bin" >"$T/sealed.b64"
	wrap 'lea@rebels.test' '[...]' "$T/sealed.b64" base64 >"$out/sealed-binary-base64.eml"
}

seeds_gpg() {
	hp_payload lea@rebels.test | gpgh gl -e -a -r luke@jedi.test >"$T/unsigned.asc"
	wrap 'lea@rebels.test' '[...]' "$T/unsigned.asc" >"$out/unsigned.eml"
	legacy_payload | gpgh gl -e -s -a --compress-algo zlib -r luke@jedi.test \
		-u lea@rebels.test >"$T/legacy.asc"
	wrap 'Lea <lea@rebels.test>' 'Legacy client' "$T/legacy.asc" >"$out/gpg-legacy-verified.eml"
	hp_payload han@tatooine.test | gpgh gl -e -s -a -r luke@jedi.test -u lea@rebels.test \
		>"$T/wrong.asc"
	wrap 'han@tatooine.test' '[...]' "$T/wrong.asc" >"$out/wrong-signer.eml"
	hp_payload han@tatooine.test | gpgh gh -e -s -a -r luke@jedi.test -u han@tatooine.test \
		>"$T/unknown.asc"
	wrap 'han@tatooine.test' '[...]' "$T/unknown.asc" >"$out/unknown-signer.eml"
	hp_payload lea@rebels.test | gpgh gl -s -a -u lea@rebels.test >"$T/signed-only.asc"
	wrap 'lea@rebels.test' '[...]' "$T/signed-only.asc" >"$out/signed-not-encrypted.eml"
	hp_payload lea@rebels.test | gpgh gl --pinentry-mode loopback --passphrase x -c -a \
		>"$T/symmetric.asc"
	wrap 'lea@rebels.test' '[...]' "$T/symmetric.asc" >"$out/symmetric.eml"
	seed_downgrade
	seed_no_mdc
}

# The integrity-protected packet relabelled as the old unprotected one
# (SEIPD tag 18 -> SED tag 9): must be refused, never decrypted and shown.
seed_downgrade() {
	hp_payload lea@rebels.test | gpgh gl -e -r luke@jedi.test >"$T/down.bin"
	off=$(second_packet "$T/down.bin")
	[ "$(peek "$T/down.bin" "$off")" = 210 ] || { echo "no SEIPD at $off" >&2; return 1; }
	poke "$T/down.bin" "$off" 201
	armor "$T/down.bin" >"$T/down.asc"
	wrap 'lea@rebels.test' '[...]' "$T/down.asc" >"$out/downgrade-relabelled.eml"
}

hex_of() { od -An -v -tx1 | tr -d ' \n'; }

# New-format packet header for TAG and a body of LEN octets (LEN < 8384).
pkt_header() { # TAG LEN
	put_byte $((0xC0 | $1))
	if [ "$2" -lt 192 ]; then
		put_byte "$2"
	else
		put_byte $((($2 - 192) / 256 + 192))
		put_byte $((($2 - 192) % 256))
	fi
}

# A genuine Symmetrically Encrypted Data packet (tag 9, no MDC) that Luke's
# key opens: the PKESK and session key of a gpg message to Luke, and the
# literal data encrypted in OpenPGP CFB mode with its resync, done by hand
# with openssl since no current tool writes this packet any more. letter_read
# must say NO_INTEGRITY and show nothing.
seed_no_mdc() {
	mkdir -m 700 "$T/gk"
	gpgh gk --import "$keys/luke-secret.pgp" 2>/dev/null
	hp_payload lea@rebels.test | gpgh gl -e -r luke@jedi.test >"$T/sed-src.bin"
	sk=$(gpgh gk --show-session-key -d <"$T/sed-src.bin" 2>&1 >/dev/null |
		sed -n "s/.*session key: '9:\([0-9A-Fa-f]*\)'.*/\1/p")
	[ -n "$sk" ] || { echo "no AES-256 session key from gpg" >&2; return 1; }
	head -c "$(second_packet "$T/sed-src.bin")" "$T/sed-src.bin" >"$T/sed.bin"
	hp_payload lea@rebels.test | gpgh gl --store -z 0 >"$T/literal.bin"
	head -c 16 /dev/urandom >"$T/random"
	cat "$T/random" >"$T/prefix"
	tail -c 2 "$T/random" >>"$T/prefix"
	zero=00000000000000000000000000000000
	openssl enc -aes-256-cfb -K "$sk" -iv "$zero" -in "$T/prefix" -out "$T/c1"
	iv=$(tail -c 16 "$T/c1" | hex_of)
	openssl enc -aes-256-cfb -K "$sk" -iv "$iv" -in "$T/literal.bin" -out "$T/c2"
	pkt_header 9 $(($(wc -c <"$T/c1") + $(wc -c <"$T/c2"))) >>"$T/sed.bin"
	cat "$T/c1" "$T/c2" >>"$T/sed.bin"
	armor "$T/sed.bin" >"$T/sed.asc"
	wrap 'lea@rebels.test' '[...]' "$T/sed.asc" >"$out/no-mdc.eml"
}

seed_signed() {
	printf 'Content-Type: text/plain; charset=us-ascii\r\n\r\nSigned, not sealed.\r\n' >"$T/part"
	gpgh gl --detach-sign -a -u lea@rebels.test <"$T/part" | tr -d '\r' >"$T/part.sig"
	{
		printf 'From: lea@rebels.test\nTo: luke@jedi.test\nSubject: signed\n'
		printf 'MIME-Version: 1.0\nContent-Type: multipart/signed; micalg=pgp-sha256;\n'
		printf ' protocol="application/pgp-signature"; boundary="s"\n\n--s\n'
		tr -d '\r' <"$T/part"
		printf -- '--s\nContent-Type: application/pgp-signature; name="signature.asc"\n\n'
		cat "$T/part.sig"
		printf -- '\n--s--\n'
	} >"$out/signed.eml"
}

seeds_plain() {
	letter 'luke@jedi.test' 'Plain' >"$out/plain.eml"
	multipart_letter >"$out/nested-multipart.eml"
	seed_signed
	{
		printf 'From: lea@rebels.test\nTo: luke@jedi.test\nMIME-Version: 1.0\n'
		for i in $(seq 40); do
			printf 'Content-Type: multipart/mixed; boundary="d%s"\n\n--d%s\n' "$i" "$i"
		done
		printf 'Content-Type: text/plain\n\ndeep\n'
		for i in $(seq 40 -1 1); do printf -- '--d%s--\n' "$i"; done
	} >"$out/deep-nesting.eml"
	sed 's/^Version: 1$/Version: 2/' "$out/unsigned.eml" >"$out/encrypted-bad-version.eml"
	awk '/^--=-b1$/ && ++n == 1 { next } n == 1 { next } { print }' "$out/unsigned.eml" \
		>"$out/encrypted-one-part.eml"
	: >"$out/empty.eml"
}

report() {
	echo "# verdicts as Luke (sealmail read):"
	for f in "$out"/*; do
		st=0
		sealmail luke read "$f" >/dev/null 2>"$T/err" || st=$?
		printf '# %-28s %5s B  exit %s: %s\n' "$(basename "$f")" "$(wc -c <"$f")" "$st" \
			"$(tail -n 1 "$T/err" | cut -c1-60)"
	done
}

if [ "${2:-}" = --new-keys ] || [ ! -f "$keys/luke-secret.pgp" ]; then
	new_keys
fi
mkdir -p "$out"
find "$out" -type f ! -name 'crash-*' -delete
setup_parties
seeds_sealed
seeds_gpg
seeds_plain
report
