#!/bin/bash
# smtp.sh [BUILD_DIR]: 10 KB messages per second accepted into Maildir,
# sealmaild against a private Postfix instance delivering to a virtual
# Maildir, with smtp-sink (accepts and discards) as the protocol ceiling.
# All three on loopback inside private namespaces, driven in the same run by
#   smtp-source -s 20 -l 10240 -m N -f lea@rebels.test -t luke@jedi.test HOST:25
# (a new connection per message, plain SMTP).
#
# Durability: sealmaild answers 250 after the message is fsynced in tmp/,
# linked into new/ and new/ is fsynced, so when smtp-source ends all N are
# in the Maildir.
# Postfix answers 250 after fsyncing its queue file (just as durable), and
# moves the message into the Maildir later, asynchronously. Both of its
# rates are shown: accepted (smtp-source finished) and in Maildir (all N
# files in new/). Every count is checked before anything is reported.
#
# Needs root (Postfix switches to its own user, which a user namespace
# cannot map) and the postfix package. BENCH_MESSAGES (default 2000).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
build=$(cd "$build" && pwd)
export SEALMAIL=$build/src/cli/sealmail SEALMAILD=$build/src/daemon/sealmaild
[ -x "$SEALMAILD" ] || { echo "no sealmaild in $build; build first" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "$0: needs root (a private Postfix instance cannot run in a user namespace)" >&2; exit 2; }
for p in /usr/sbin/postfix /usr/sbin/smtp-source /usr/sbin/smtp-sink; do
	[ -x "$p" ] || { echo "$0: $p missing (package postfix)" >&2; exit 2; }
done
if [ -z "${SM_IN_NETNS:-}" ]; then
	SM_IN_NETNS=1 exec unshare --net --mount --propagation private --pid --fork --mount-proc \
		bash "$0" "$build"
fi
N=${BENCH_MESSAGES:-2000}
case $N in '' | *[!0-9]*) echo "$0: BENCH_MESSAGES is a number" >&2; exit 2 ;; esac
T=$(mktemp -d /tmp/sm-bench-smtp.XXXXXX)
trap 'rm -rf "$T"' EXIT
chmod 755 "$T" # Postfix's daemons run as postfix and as the mailbox owner
. "$here/../tests/integration/netns.sh"
. "$here/../tests/integration/postfix-lib.sh"
pf_usable || { echo "$0: Postfix cannot run here" >&2; exit 2; }

netns_hosts "127.0.0.1 mail.jedi.test" "127.0.0.2 postfix.jedi.test" "127.0.0.3 sink.jedi.test"
netns_ca
netns_cert jedi mail.jedi.test

# sealmaild on 127.0.0.1:25.
sealmaild_conf "max-sessions 1000" "max-sessions-per-address 1000"
"$SEALMAILD" user add luke@jedi.test -f "$T/sealmaild.conf" >/dev/null
sealmaild_start

# Postfix on 127.0.0.2:25: every jedi.test address into one virtual Maildir,
# owned by nobody. Otherwise Postfix's defaults (queue file fsynced before
# 250, in_flow_delay, concurrency limits).
PF=$T/pf
PFMAIL=$T/pfmail
pf_init "$PF" postfix.jedi.test
mkdir -p "$PFMAIL/luke/tmp" "$PFMAIL/luke/new" "$PFMAIL/luke/cur"
chown -R nobody:nogroup "$PFMAIL"
pf_set "$PF" "inet_interfaces = 127.0.0.2" \
	"virtual_mailbox_domains = jedi.test" "virtual_mailbox_base = $PFMAIL" \
	"virtual_mailbox_maps = static:luke/" \
	"virtual_uid_maps = static:$(id -u nobody)" "virtual_gid_maps = static:$(getent group nogroup | cut -d: -f3)" \
	"message_size_limit = 10240000" "virtual_mailbox_limit = 10240000" \
	"smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination"
pf_service "$PF" "127.0.0.2:25 inet n - n - - smtpd"
pf_start "$PF" 127.0.0.2 25

# smtp-sink on 127.0.0.3:25: answers 250 to everything, keeps nothing.
smtp-sink -u nobody 127.0.0.3:25 1024 2>"$T/sink.log" &
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.3/25) 2>/dev/null && break; sleep 0.1; done

now() { date +%s.%N; }
count() { find "$1" -maxdepth 1 -type f | wc -l; }
# send_n HOST M: sends M messages to HOST:25, 20 sessions; fails on any error.
send_n() {
	timeout 600 smtp-source -s 20 -l 10240 -m "$2" -f lea@rebels.test -t luke@jedi.test "$1:25" \
		>"$T/source.out" 2>&1 || { cat "$T/source.out" >&2; return 1; }
	! grep -q . "$T/source.out" || { cat "$T/source.out" >&2; return 1; }
}
# wait_count DIR M: until DIR holds M files (at most 300 s); prints the time.
wait_count() {
	local end=$(($(date +%s) + 300))
	while [ "$(count "$1")" -lt "$2" ]; do
		[ "$(date +%s)" -lt "$end" ] || { echo "only $(count "$1") of $2 in $1" >&2; return 1; }
		sleep 0.02
	done
	now
}
# check DIR M: exactly M messages in new/, none left in tmp/.
check() {
	local got
	got=$(count "$1/new")
	[ "$got" -eq "$2" ] || { echo "$1/new holds $got messages, wanted $2" >&2; exit 1; }
	[ "$(count "$1/tmp")" -eq 0 ] || { echo "$1/tmp is not empty" >&2; exit 1; }
}
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

# Warm up each server (processes, caches) with 100 messages, then empty the Maildirs.
send_n 127.0.0.1 100
send_n 127.0.0.2 100
send_n 127.0.0.3 100
wait_count "$PFMAIL/luke/new" 100 >/dev/null
check "$T/mail/luke" 100
find "$T/mail/luke/new" "$PFMAIL/luke/new" -type f -delete

t0=$(now); send_n 127.0.0.1 "$N"; t1=$(now)
check "$T/mail/luke" "$N"
sealmaild=$(rate "$N" "$t0" "$t1")

t0=$(now); send_n 127.0.0.2 "$N"; t1=$(now)
t2=$(wait_count "$PFMAIL/luke/new" "$N")
sleep 0.5
check "$PFMAIL/luke" "$N"
pf_acc=$(rate "$N" "$t0" "$t1")
pf_md=$(rate "$N" "$t0" "$t2")

t0=$(now); send_n 127.0.0.3 "$N"; t1=$(now)
sink=$(rate "$N" "$t0" "$t1")
pf_stop "$PF"

echo "# $N messages of 10 KB, smtp-source -s 20 (a connection per message), loopback, $(nproc) cores"
echo "# $(postconf -d mail_version | sed 's/ = / /'), $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
printf '%-34s %10s %18s\n' server "msgs/s" "sealmaild ratio"
printf '%-34s %10s %18s\n' "sealmaild (250 = in Maildir)" "$sealmaild" -
printf '%-34s %10s %18s\n' "postfix accepted (250 = queued)" "$pf_acc" "$(ratio "$sealmaild" "$pf_acc")"
printf '%-34s %10s %18s\n' "postfix in Maildir" "$pf_md" "$(ratio "$sealmaild" "$pf_md")"
printf '%-34s %10s %18s\n' "smtp-sink (ceiling, keeps nothing)" "$sink" "$(ratio "$sealmaild" "$sink")"
echo "# counts checked: $N in each Maildir's new/, nothing left in tmp/"
