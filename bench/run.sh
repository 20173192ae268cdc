#!/bin/sh
# run.sh [BUILD_DIR]: letters per second, sealmail against gpg.
#
# Runs bench_letter (sealmail in process: letter_seal / letter_read at
# 1 KB and 50 KB bodies), then makes gpg do the same jobs with a fresh
# process per message, as a mail client calling gpg would:
#   seal: gpg --batch --homedir H --trust-model always -e -s -a (to Luke and, like sealmail, to Lea herself)
#             -r luke@jedi.test -u lea@rebels.test  < letter
#   read: gpg --batch --homedir H2 -d               < message sealed by gpg
# and, for reference, the sealmail CLI the same way (fresh process, key
# store loaded each time). The gpg homes hold the very keys of two sealmail
# key stores (secring.pgp / pubring.pgp imported as they are). Everything is
# measured in the same run; nothing is compared against a threshold.
#
# BUILD_DIR is an existing meson build directory; without it the tree is
# built in a new /tmp/sm-bench.XXXXXX. BENCH_RUNS (default 50) sets the
# number of processes per gpg and CLI measurement; BENCH_SECONDS (default 2)
# the duration of each in-process measurement.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_RUNS:-50}
secs=${BENCH_SECONDS:-2}
case $runs$secs in *[!0-9]*) echo "$0: BENCH_RUNS and BENCH_SECONDS are numbers" >&2; exit 2 ;; esac
if [ "$runs" -eq 0 ] || [ "$secs" -eq 0 ]; then
	echo "$0: BENCH_RUNS and BENCH_SECONDS must be > 0" >&2
	exit 2
fi

if [ $# -ge 1 ]; then
	build=$(cd "$1" && pwd)
else
	build=$(mktemp -d /tmp/sm-bench.XXXXXX)
	meson setup "$build" "$src" >/dev/null
fi
ninja -C "$build" bench/bench_letter src/cli/sealmail >/dev/null
bench=$build/bench/bench_letter
sm=$build/src/cli/sealmail

# Short paths: gpg-agent's socket lives in the home and sun_path is small.
W=$(mktemp -d /tmp/smb.XXXXXX)
GL=$(mktemp -d /tmp/g.XXXXXX)
GK=$(mktemp -d /tmp/g.XXXXXX)
cleanup() {
	gpgconf --homedir "$GL" --kill all 2>/dev/null || true
	gpgconf --homedir "$GK" --kill all 2>/dev/null || true
	rm -rf "$W" "$GL" "$GK"
}
trap cleanup EXIT INT TERM

now_ns() { date +%s%N; }

# rate RUNS START_NS END_NS: messages per second, one decimal.
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / ((b - a) / 1e9) }'; }

# time_runs RUNS IN CMD...: runs CMD RUNS times with stdin IN and stdout
# discarded, after one untimed run (which starts gpg-agent); prints msgs/s.
time_runs() {
	n=$1 in=$2
	shift 2
	"$@" <"$in" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; return 1; }
	t0=$(now_ns)
	i=0
	while [ "$i" -lt "$n" ]; do
		"$@" <"$in" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; return 1; }
		i=$((i + 1))
	done
	rate "$n" "$t0" "$(now_ns)"
}

smh() { # HOME ARGS...: sealmail with key store HOME
	h=$1
	shift
	SEALMAIL_HOME="$W/$h" "$sm" "$@"
}

# Two key stores made by sealmail, each holding the other's certificate.
setup_keys() {
	smh lea keygen lea@rebels.test >/dev/null
	smh luke keygen luke@jedi.test >/dev/null
	smh lea export --binary lea@rebels.test >"$W/lea.pgp"
	smh luke export --binary luke@jedi.test >"$W/luke.pgp"
	smh luke import "$W/lea.pgp" >/dev/null
	smh lea import "$W/luke.pgp" >/dev/null
	gpg --batch --quiet --homedir "$GL" --import "$W/lea/secring.pgp" "$W/lea/pubring.pgp" 2>/dev/null
	gpg --batch --quiet --homedir "$GK" --import "$W/luke/secring.pgp" "$W/luke/pubring.pgp" 2>/dev/null
}

gpg_seal() { gpg --batch --homedir "$GL" --trust-model always -e -s -a -r luke@jedi.test -r lea@rebels.test -u lea@rebels.test; }
gpg_read() { gpg --batch --homedir "$GK" -d; }
cli_seal() { SEALMAIL_HOME="$W/lea" "$sm" seal; }
cli_read() { SEALMAIL_HOME="$W/luke" "$sm" read; }

# One of each by hand first, checked, so that the timed runs time working
# jobs: gpg must read back the letter with a good signature, sealmail must
# call its own letter verified.
check_size() { # SIZE
	l=$W/letter-$1.eml
	gpg_seal <"$l" >"$W/gpg-$1.asc" 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
	gpg_read <"$W/gpg-$1.asc" >"$W/gpg-$1.out" 2>"$W/gpg-$1.err" ||
		{ cat "$W/gpg-$1.err" >&2; exit 1; }
	cmp -s "$l" "$W/gpg-$1.out" || { echo "gpg did not restore the $1 B letter" >&2; exit 1; }
	grep -q 'Good signature' "$W/gpg-$1.err" || { echo "gpg: no good signature" >&2; exit 1; }
	cli_seal <"$l" >"$W/sm-$1.eml"
	cli_read <"$W/sm-$1.eml" >/dev/null 2>&1 || { echo "sealmail read: not verified" >&2; exit 1; }
}

inproc() { # OP SIZE_KB: bench_letter's msgs/s
	awk -v op="$1" -v sz="$2KB" '$1 == op && $2 == sz { print $5 }' "$W/bench.txt"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }

# one_row OP KB: times gpg and the CLI, prints the row.
one_row() {
	size=$(($2 * 1024))
	if [ "$1" = seal ]; then
		g=$(time_runs "$runs" "$W/letter-$size.eml" gpg_seal)
		c=$(time_runs "$runs" "$W/letter-$size.eml" cli_seal)
	else
		g=$(time_runs "$runs" "$W/gpg-$size.asc" gpg_read)
		c=$(time_runs "$runs" "$W/sm-$size.eml" cli_read)
	fi
	s=$(inproc "$1" "$2")
	printf '%-9s %13s %10s %8s %14s %10s\n' "$1 $2KB" "$s" "$g" "$(ratio "$s" "$g")" "$c" \
		"$(ratio "$c" "$g")"
}

setup_keys
for kb in 1 50; do
	"$bench" --dump-letter $((kb * 1024)) >"$W/letter-$((kb * 1024)).eml"
	check_size $((kb * 1024))
done
echo "# $(gpg --version | head -n 1), librnp $(pkg-config --modversion librnp 2>/dev/null || echo '?')," \
	"$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
echo "# sealmail in process: bench_letter --seconds $secs"
"$bench" --seconds "$secs" | tee "$W/bench.txt"
echo "# gpg and the sealmail CLI: a fresh process per message, $runs messages each"
echo
printf '%-9s %13s %10s %8s %14s %10s\n' job "sealmail/s" "gpg/s" ratio "sealmail-CLI/s" "CLI ratio"
for op in seal read; do
	for kb in 1 50; do
		one_row "$op" "$kb"
	done
done
echo
echo "# msgs per second; ratio = sealmail in process / gpg; CLI ratio = sealmail CLI / gpg"
echo "# (gpg-agent stays up between gpg runs, as it does for a mail client)"
