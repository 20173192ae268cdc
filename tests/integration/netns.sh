# netns.sh: run an integration test inside private namespaces (sourced,
# bash, after lib.sh). See ../shared/TESTING.md section 1.
#
# netns_enter "$@" at the top of a test re-executes the script inside new
# network, mount and PID namespaces (plus a user namespace when not root):
# only loopback exists, nothing can reach another host, and every process
# the test starts dies with it. Inside, netns_hosts writes the test's own
# /etc/hosts and resolv.conf, and netns_ca makes a test CA that the system
# trust store (as bind-mounted here) accepts.

netns_enter() {
	[ -n "${SM_IN_NETNS:-}" ] && return 0
	local user=()
	[ "$(id -u)" -eq 0 ] || user=(--user --map-root-user)
	rm -rf "$T" # exec skips lib.sh's exit trap; the re-run makes its own
	SM_IN_NETNS=1 exec unshare "${user[@]}" --net --mount --propagation private \
		--pid --fork --mount-proc bash "$0" "$@"
}

# netns_hosts "IP NAME..." ...: one argument per /etc/hosts line.
netns_hosts() {
	ip link set lo up
	ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
	{
		echo "127.0.0.1 localhost"
		printf '%s\n' "$@"
	} >"$T/hosts"
	echo "nameserver 127.0.0.1" >"$T/resolv.conf"
	mount --bind "$T/hosts" /etc/hosts
	mount --bind "$T/resolv.conf" /etc/resolv.conf
}

# netns_ca: a test CA in $T/ca.{key,crt}, trusted through the system bundle.
netns_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=sealmail test CA" -keyout "$T/ca.key" -out "$T/ca.crt" 2>/dev/null
	cat /etc/ssl/certs/ca-certificates.crt "$T/ca.crt" >"$T/ca-bundle.crt"
	mount --bind "$T/ca-bundle.crt" /etc/ssl/certs/ca-certificates.crt
}

# netns_cert NAME DNS...: a server certificate $T/NAME.{key,crt} signed by
# the test CA, for the given DNS names.
netns_cert() {
	local name=$1; shift
	local san
	san=$(printf 'DNS:%s,' "$@")
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
		-keyout "$T/$name.key" -out "$T/$name.csr" 2>/dev/null
	openssl x509 -req -in "$T/$name.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
		-days 2 -extfile <(printf 'subjectAltName=%s\n' "${san%,}") -out "$T/$name.crt" 2>/dev/null
}

# REAL_ROOT: 1 when the test runs as the machine's root (no user namespace
# maps it), else empty. sealmaild started so needs a 'user' to become.
REAL_ROOT=$(awk '$1 == 0 && $2 == 0 { print 1 }' /proc/self/uid_map)

# sealmaild_conf [DIRECTIVE...]: writes $T/sealmaild.conf for one sealmaild
# on 127.0.0.1 (HTTPS 443, SMTP 25) as mail.jedi.test, with the certificate
# $T/jedi.{crt,key} (netns_cert jedi ...), state in $T/state and the domain
# jedi.test delivering into $T/mail; each argument is one more global line.
# Epochs are 1 s apart unless an argument sets epoch-interval. As the
# machine's root, the daemon becomes nobody unless an argument sets user
# (then nobody must reach $T: mode 0711).
sealmaild_conf() {
	mkdir -p "$T/state" "$T/mail"
	{
		printf 'state-dir %s\nhostname mail.jedi.test\n' "$T/state"
		printf 'tls-certificate %s\ntls-key %s\n' "$T/jedi.crt" "$T/jedi.key"
		printf 'listen https 127.0.0.1:443\nlisten smtp 127.0.0.1:25\n'
		printf '%s\n' "$@"
		case " $* " in *" epoch-interval "*) ;; *) printf 'epoch-interval 1s\n' ;; esac
		case " $* " in *" user "*) ;; *) [ -z "$REAL_ROOT" ] || printf 'user nobody\n' ;; esac
	} >"$T/sealmaild.conf"
	[ -z "$REAL_ROOT" ] || chmod 0711 "$T"
	sealmaild_domain jedi.test "$T/mail"
}

# sealmaild_domain NAME MAILDIR-ROOT: one more domain for $T/sealmaild.conf.
sealmaild_domain() {
	printf 'domain %s {\n\tmaildir-root %s\n}\n' "$1" "$2" >>"$T/sealmaild.conf"
}

# swaks_deliver FILE: swaks hands FILE, from lea@rebels.test to
# luke@jedi.test, to the MX on 127.0.0.1:25 over STARTTLS verified against
# the test CA (mail.jedi.test); its status is swaks's.
swaks_deliver() {
	swaks --silent 2 --server 127.0.0.1:25 --tls --tls-verify --tls-ca-path "$T/ca.crt" \
		--tls-sni mail.jedi.test --ehlo rebels.test --from lea@rebels.test --to luke@jedi.test \
		--data "@$1"
}

# sealmaild_start [PORT]: runs sealmaild with $T/sealmaild.conf in the
# background (its pid in DPID, its log in $T/sealmaild.log) and waits until
# it accepts connections on 127.0.0.1:PORT (default 25).
sealmaild_start() {
	# SEALMAIL_DEBUG keeps the daemon's real stderr, so that a sanitizer's
	# report lands in the log instead of librnp's /dev/null.
	SEALMAIL_DEBUG=1 "$SEALMAILD" serve -f "$T/sealmaild.conf" 2>"$T/sealmaild.log" &
	DPID=$!
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/${1:-25}") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "sealmaild did not start:" >&2
	cat "$T/sealmaild.log" >&2
	return 1
}

# kt_size DOMAIN: the size of DOMAIN's latest checkpoint, served by sealmaild.
kt_size() {
	curl -sf "https://openpgpkey.$1/.well-known/sealmail/v1/$1/checkpoint" | sed -n 2p
}

# kt_wait_above DOMAIN SIZE: waits (up to 60 s) until DOMAIN's checkpoint is
# larger than SIZE: the next epoch is made, witnessed and served.
kt_wait_above() {
	local n
	for _ in $(seq 600); do
		n=$(kt_size "$1")
		[ -n "$n" ] && [ "$n" -gt "$2" ] && return 0
		sleep 0.1
	done
	echo "no epoch after size $2 for $1" >&2
	return 1
}
