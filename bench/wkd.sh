#!/bin/bash
# wkd.sh [BUILD_DIR]: key lookups per second, sealmaild against nginx
# serving the same key file, both over HTTPS on loopback inside private
# namespaces, measured with wrk in the same run: with keep-alive, and with
# a new connection (and TLS handshake) per request. Prints a table with the
# ratio sealmaild / nginx. BENCH_SECONDS (default 5) per measurement,
# BENCH_ROUNDS (default 3) turns of each.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
build=$(cd "$build" && pwd)
export SEALMAIL=$build/src/cli/sealmail SEALMAILD=$build/src/daemon/sealmaild
[ -x "$SEALMAILD" ] || { echo "no sealmaild in $build; build first" >&2; exit 2; }
if [ -z "${SM_IN_NETNS:-}" ]; then
	SM_IN_NETNS=1 exec unshare $([ "$(id -u)" -eq 0 ] || echo --user --map-root-user) \
		--net --mount --propagation private --pid --fork --mount-proc bash "$0" "$build"
fi
T=$(mktemp -d /tmp/sm-bench-wkd.XXXXXX)
trap 'rm -rf "$T"' EXIT
. "$here/../tests/integration/netns.sh"
secs=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-3}

netns_hosts "127.0.0.1 openpgpkey.jedi.test" "127.0.0.2 nginx.jedi.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test nginx.jedi.test
mkdir -p "$T/www/.well-known/openpgpkey/jedi.test/hu"
sealmaild_conf "max-sessions 1000" "max-sessions-per-address 1000" "lookup-rate 1000000000" \
	"max-https-connections-per-address 1000"
token=$("$SEALMAILD" user add luke@jedi.test -f "$T/sealmaild.conf" | awk '/^publish token/ { print $NF }')
sealmaild_start 443
SEALMAIL_HOME=$T/luke "$SEALMAIL" keygen luke@jedi.test >/dev/null
SEALMAIL_HOME=$T/luke "$SEALMAIL" publish luke@jedi.test --token "$token" >/dev/null
path=/.well-known/openpgpkey/jedi.test/hu/pc53ux1dyd1rjnpyonebrx3aemurd8pf
curl -sf "https://openpgpkey.jedi.test$path" -o "$T/www$path"

cat >"$T/nginx.conf" <<NGINX
user root;
worker_processes auto;
daemon on;
pid $T/nginx.pid;
error_log $T/nginx.err;
events { worker_connections 1024; }
http {
	access_log off;
	default_type application/octet-stream;
	server {
		listen 127.0.0.2:443 ssl; server_name nginx.jedi.test;
		ssl_certificate $T/jedi.crt; ssl_certificate_key $T/jedi.key;
		# What sealmaild offers. Debian 12's nginx (1.22) defaults to TLS 1.2
		# at most, whose resumed handshakes skip the key exchange that TLS 1.3
		# makes on every connection: that would compare protocols, not servers.
		ssl_protocols TLSv1.2 TLSv1.3;
		root $T/www;
		add_header Access-Control-Allow-Origin *;
	}
}
NGINX
nginx -c "$T/nginx.conf" -e "$T/nginx.err"

# rate URL [wrk options]: requests per second, from wrk's summary.
rate() {
	local url=$1; shift
	wrk -t2 -c50 -d"${secs}s" "$@" "$url" | awk '/^Requests\/sec/ { print $2 }'
}
# median N...: the middle value (the lower of the two middle ones).
median() {
	printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"
}
# compare HEAD-A HEAD-B URL-A URL-B: a table of both rates, keep-alive and
# with a new connection per request, and their ratio A / B. The machine is
# shared and noisy, so A and B take turns for BENCH_ROUNDS rounds and the
# table shows the medians: the rates' and the rounds' ratios.
compare() {
	local a b opt r ra rb ratios
	printf '%-16s %14s %14s %8s  %s\n' mode "$1" "$2" ratio "ratio of each round"
	for mode in keep-alive new-connection; do
		opt=() ra=() rb=() ratios=()
		[ "$mode" = new-connection ] && opt=(-H "Connection: close")
		for ((r = 0; r < rounds; r++)); do
			a=$(rate "$3" "${opt[@]}")
			b=$(rate "$4" "${opt[@]}")
			ra+=("$a") rb+=("$b")
			ratios+=("$(printf '%.2f' "$(echo "$a / $b" | bc -l)")")
		done
		printf '%-16s %14.0f %14.0f %7.2fx  %s\n' "$mode" "$(median "${ra[@]}")" \
			"$(median "${rb[@]}")" "$(median "${ratios[@]}")" "${ratios[*]}"
	done
}
echo "# key lookup: $(stat -c %s "$T/www$path") byte key, wrk -t2 -c50 -d${secs}s x $rounds rounds each, HTTPS (TLS 1.3 on both) on loopback"
compare "sealmaild/s" "nginx/s" "https://openpgpkey.jedi.test$path" "https://nginx.jedi.test$path"

# Lookup with proof (transparency) against the plain WKD answer, both from
# sealmaild, in the same run. Goal: at least 50% of the plain rate.
proof=/.well-known/sealmail/v1/jedi.test/lookup/pc53ux1dyd1rjnpyonebrx3aemurd8pf?l=luke
psize=$(curl -sf "https://openpgpkey.jedi.test$proof" | wc -c)
echo "# lookup proof: $psize bytes (key included), same wrk settings and rounds"
compare "proof/s" "plain WKD/s" "https://openpgpkey.jedi.test$proof" "https://openpgpkey.jedi.test$path"
