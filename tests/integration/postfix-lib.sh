# postfix-lib.sh: a private Postfix instance (sourced, bash), for
# postfix.sh and bench/smtp.sh. See ../shared/TESTING.md section 4.
#
# pf_init DIR MYHOSTNAME writes a complete instance under DIR: DIR/etc
# (main.cf, master.cf), DIR/queue, DIR/data, DIR/log/maillog. Nothing
# outside DIR is touched; every daemon runs unchrooted, as in a test
# nothing needs protecting from it. Callers add services to master.cf with
# pf_service and settings with pf_set, then pf_start / pf_stop.
#
# Postfix drops privileges to the postfix user, so it needs real root:
# under a user namespace (unshare --map-root-user) setuid() to postfix
# fails. pf_usable says whether Postfix can run here. Its daemons reach
# their files as the postfix user: the directories above DIR must be
# searchable by others (mktemp -d makes 0700: chmod 755 it).

PF_BIN=/usr/sbin/postfix

# pf_usable: succeeds when Postfix is installed and we are root outside any
# user namespace (uid 0 mapped to uid 0).
pf_usable() {
	[ -x "$PF_BIN" ] && id postfix >/dev/null 2>&1 && getent group postdrop >/dev/null &&
		[ "$(id -u)" -eq 0 ] && awk '$1 == 0 && $2 == 0 { ok = 1 } END { exit !ok }' /proc/self/uid_map
}

# pf_init DIR MYHOSTNAME
pf_init() {
	local d=$1 host=$2
	mkdir -p "$d/etc" "$d/queue" "$d/data" "$d/log"
	chown postfix:postfix "$d/data"
	cat >"$d/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $d/log/maillog
maillog_file_prefixes = $d/log
myhostname = $host
mydomain = ${host#*.}
myorigin = \$mydomain
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
local_transport = error:5.1.1 no local delivery here
relay_domains =
biff = no
smtpd_peername_lookup = no
CF
	cat >"$d/etc/master.cf" <<'CF'
# service type  private unpriv  chroot  wakeup  maxproc command
postlog   unix-dgram n  -       n       -       1       postlogd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
CF
}

# pf_set DIR NAME=VALUE...: main.cf settings.
pf_set() {
	local d=$1; shift
	postconf -c "$d/etc" -e "$@"
}

# pf_service DIR LINE: one master.cf line (e.g. an smtpd on ADDR:PORT).
pf_service() {
	echo "$2" >>"$1/etc/master.cf"
}

# pf_start DIR HOST PORT: starts the instance and waits until HOST:PORT
# accepts connections. Without syslog, `postfix start` fails without a word
# unless it has a terminal: hence script(1). Its output goes to DIR/log/start.
pf_start() {
	local d=$1 host=$2 port=$3
	timeout 60 postfix -c "$d/etc" check >"$d/log/check" 2>&1 || { cat "$d/log/check" >&2; return 1; }
	timeout 60 script -qec "$PF_BIN -c '$d/etc' start" /dev/null >"$d/log/start" 2>&1 ||
		{ cat "$d/log/start" "$d/log/maillog" >&2 2>/dev/null; return 1; }
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "postfix: nothing listens on $host:$port" >&2
	cat "$d/log/start" "$d/log/maillog" >&2 2>/dev/null
	return 1
}

# pf_stop DIR
pf_stop() {
	timeout 30 script -qec "$PF_BIN -c '$1/etc' stop" /dev/null >>"$1/log/start" 2>&1 || true
}
