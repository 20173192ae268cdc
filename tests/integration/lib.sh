# lib.sh: shared helpers for the integration tests (sourced, bash).
#
# Each test script prints TAP: `ok N - name` / `not ok N - name`, then `1..N`.
# SEALMAIL is the binary under test (meson passes it in the environment).
# Every script works in its own temporary folder, removed on exit.

set -u
: "${SEALMAIL:?SEALMAIL must point at the sealmail binary}"
TAP_N=0
TAP_FAILED=0
T=$(mktemp -d /tmp/sm-it.XXXXXX)
trap 'rm -rf "$T"' EXIT

# ok NAME COMMAND...: one TAP point, passing when COMMAND succeeds.
ok() {
	local name=$1; shift
	TAP_N=$((TAP_N + 1))
	if "$@" >"$T/.out" 2>&1; then
		echo "ok $TAP_N - $name"
	else
		TAP_FAILED=$((TAP_FAILED + 1))
		echo "not ok $TAP_N - $name"
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
	[ "$TAP_FAILED" -eq 0 ]
}
