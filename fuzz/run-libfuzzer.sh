#!/bin/sh
# run-libfuzzer.sh [SECONDS] [WORKDIR]: builds one fuzz target with
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer (clang, the
# library sources compiled directly with coverage instrumentation) and runs
# it for SECONDS (default 60). TARGET (default read) names it: the source is
# fuzz/fuzz_TARGET.c, the seed corpus fuzz/corpus/TARGET, and the
# dictionary fuzz/TARGET.dict when there is one.
#
# It runs on a copy of the seed corpus in WORKDIR (default: a new
# /tmp/fuzz-TARGET.XXXXXX); new interesting inputs go to WORKDIR/corpus and
# crashing inputs to WORKDIR/artifacts, never into the committed corpus.
# A crash is a library bug: minimise it, add it to fuzz/corpus/TARGET as
# crash-<what>, and it replays in the test suite from then on.
# CC (default clang), JOBS (default 1, parallel fuzzing processes),
# LEAK_CHECK (fast or full, see below) and FUZZ_FLAGS (more libFuzzer
# flags) may be set.
set -eu

secs=${1:-60}
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS] [WORKDIR]" >&2; exit 2 ;; esac
src=$(cd "$(dirname "$0")/.." && pwd)
target=${TARGET:-read}
[ -f "$src/fuzz/fuzz_$target.c" ] || { echo "$0: no fuzz/fuzz_$target.c" >&2; exit 2; }
work=${2:-$(mktemp -d "/tmp/fuzz-$target.XXXXXX")}
CC=${CC:-clang}
JOBS=${JOBS:-1}
case $JOBS in '' | *[!0-9]*) echo "$0: JOBS must be a number" >&2; exit 2 ;; esac

mkdir -p "$work/obj" "$work/corpus" "$work/artifacts"
deps="librnp gmime-3.0 libsodium sqlite3 libcrypto libseccomp"
# shellcheck disable=SC2086
libs=$(pkg-config --libs $deps)
# shellcheck disable=SC2086 # word splitting of the flag lists is intended
cflags="-std=c11 -g -O1 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
-fno-omit-frame-pointer -fno-sanitize-recover=all $(pkg-config --cflags $deps)"
san=address,undefined

echo "# building into $work" >&2
objs=
for f in "$src"/src/lib/*.c; do
	o="$work/obj/$(basename "$f" .c).o"
	# shellcheck disable=SC2086
	$CC $cflags -fsanitize=fuzzer-no-link,$san -I"$src/src/lib" -c "$f" -o "$o"
	objs="$objs $o"
done
# shellcheck disable=SC2086
$CC $cflags -fsanitize=fuzzer,$san -I"$src/src/lib" \
	-DFUZZ_KEYS_DIR="\"$src/fuzz/keys\"" \
	"$src/fuzz/fuzz_$target.c" $objs $libs -o "$work/fuzz_$target"

cp "$src/fuzz/corpus/$target"/* "$work/corpus/" 2>/dev/null || true
dict=
[ -f "$src/fuzz/$target.dict" ] && dict="-dict=$src/fuzz/$target.dict"
cd "$work"
echo "# fuzzing for $secs s; new inputs: $work/corpus, crashes: $work/artifacts" >&2
# -jobs sends each job's output to fuzz-N.log; a single job stays on the terminal.
par=
[ "$JOBS" -gt 1 ] && par="-jobs=$JOBS -workers=$JOBS"
# Leak checking stays on: the library must free everything on every path.
# GLib is built without frame pointers, so ASan's fast unwinder stops at the
# first GLib frame and a leak inside GMime (lsan.supp names the known one)
# cannot be told from a GMime object we forgot to release. Default: fast
# unwinding, and leaks whose recorded stack ends in a GLib allocator are
# suppressed; sealmail's and librnp's own allocations are still checked.
# LEAK_CHECK=full: slow unwinding and only lsan.supp's narrow suppressions;
# checks GMime objects too, but runs about 25 times slower.
if [ "${LEAK_CHECK:-fast}" = full ]; then
	unwind=0
	cp "$src/fuzz/lsan.supp" "$work/lsan.supp"
else
	unwind=1
	{ cat "$src/fuzz/lsan.supp"; printf 'leak:^g_malloc$\nleak:^g_malloc0$\nleak:^g_realloc$\n'; } \
		>"$work/lsan.supp"
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:fast_unwind_on_malloc=$unwind}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$work/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# -close_fd_mask=2: the Debian librnp writes its debug log to stderr whatever
# we ask; libFuzzer and the sanitizers keep reporting on a dup of it.
# FUZZ_FLAGS adds libFuzzer flags (e.g. -close_fd_mask=0 to see everything).
# shellcheck disable=SC2086
"./fuzz_$target" -max_total_time="$secs" -print_final_stats=1 -close_fd_mask=2 $par \
	$dict -artifact_prefix="$work/artifacts/" \
	${FUZZ_FLAGS:-} "$work/corpus"
