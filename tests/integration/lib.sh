# lib.sh: shared helpers for the integration tests (sourced, bash).
#
# Each test script prints TAP: `ok N - name` / `not ok N - name`, then `1..N`.
# SEALMAIL is the binary under test (meson passes it in the environment).
# Every script works in its own temporary folder, removed on exit.

set -u
: "${SEALMAIL:?SEALMAIL must point at the sealmail binary}"
TAP_N=0
TAP_FAILED=0
TESTS_DIR=$(cd "$(dirname "$0")" && pwd) # this folder: helpers such as smtp.py
T=$(mktemp -d /tmp/sm-it.XXXXXX)
trap 'rm -rf "$T"' EXIT

# ok NAME COMMAND...: one TAP point, passing when COMMAND succeeds.
# With TAP_TODO set, the point is a known failure (TAP "# TODO <reason>"):
# reported, but not counted as a failure; only for defects outside our code.
ok() {
	local name=$1; shift
	local todo=${TAP_TODO:+ # TODO $TAP_TODO}
	TAP_N=$((TAP_N + 1))
	if "$@" >"$T/.out" 2>&1; then
		echo "ok $TAP_N - $name$todo"
	else
		[ -n "$todo" ] || TAP_FAILED=$((TAP_FAILED + 1))
		echo "not ok $TAP_N - $name$todo"
		sed 's/^/# /' "$T/.out" | tail -n 20
	fi
}

# status_is WANT COMMAND...: succeeds when COMMAND exits with WANT.
status_is() {
	local want=$1; shift
	local got=0
	"$@" || got=$?
	if [ "$got" != "$want" ]; then
		echo "exit status $got, wanted $want: $*" >&2
		return 1
	fi
}

# sm HOME ARGS...: run sealmail with the given key store.
sm() {
	local home=$1; shift
	SEALMAIL_HOME="$home" "$SEALMAIL" "$@"
}

# count DIR: how many files are below DIR.
count() { find "$1" -type f 2>/dev/null | wc -l; }

# send HOME STDIN-FILE ARGS...: sealmail send as HOME's owner, its stderr
# kept in $T/send.err and shown (so a failing test point says why).
send() {
	local home=$1 in=$2; shift 2
	local st=0
	SEALMAIL_HOME="$home" timeout 60 "$SEALMAIL" send "$@" <"$in" 2>"$T/send.err" || st=$?
	cat "$T/send.err" >&2
	return $st
}

# with_rss FILE COMMAND...: runs COMMAND (its status is returned) and writes
# its peak resident set size in KiB to FILE.
with_rss() {
	local file=$1; shift
	local st=0
	/usr/bin/time -f '%M' -o "$file.time" "$@" || st=$?
	tail -n 1 "$file.time" >"$file"
	return $st
}

done_testing() {
	echo "1..$TAP_N"
	if [ "$TAP_FAILED" -ne 0 ]; then
		for log in "$T"/*.log; do # the daemons' own words, for the failures above
			[ -s "$log" ] && { echo "--- $log (last lines)"; tail -n 30 "$log"; } >&2
		done
	fi
	[ "$TAP_FAILED" -eq 0 ]
}

# armor_of FILE: prints the armored OpenPGP message inside a PGP/MIME message.
armor_of() {
	sed -n '/^-----BEGIN PGP MESSAGE-----/,/^-----END PGP MESSAGE-----/p' "$1" | tr -d '\r'
}

# pgpmime_wrap FROM TO SUBJECT ARMORFILE: prints an RFC 3156 message holding
# the armored OpenPGP message in ARMORFILE, as a peer's mail client sends it.
pgpmime_wrap() {
	printf 'From: %s\r\nTo: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n' "$1" "$2" "$3"
	printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b1"\r\n\r\n'
	printf -- '--b1\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n'
	printf -- '--b1\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n'
	sed 's/$/\r/' "$4"
	printf -- '\r\n--b1--\r\n'
}

# new_gpg_home: prints a fresh, short GnuPG home (sockets fail past ~100 chars).
new_gpg_home() {
	local h
	h=$(mktemp -d /tmp/g.XXXXXX)
	echo "$h" >>"$T/.gpg-homes"
	echo "$h"
}

# Called on exit: stop the agents of every GnuPG home we made.
kill_gpg_homes() {
	[ -f "$T/.gpg-homes" ] || return 0
	while read -r h; do
		gpgconf --homedir "$h" --kill all 2>/dev/null
		rm -rf "$h"
	done <"$T/.gpg-homes"
}
trap 'kill_gpg_homes; rm -rf "$T"' EXIT
