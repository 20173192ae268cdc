#!/bin/bash
# Acknowledged mail is never lost: sealmaild is killed with SIGKILL at
# random points while 2,000 messages are sent to it (and restarted each
# time); then, in one daemon that stays, its MX process is killed with
# SIGKILL at random points while 1,500 more are sent (the parent starts
# another each time). Every message that got a 250 must be in new/
# exactly once and complete; nothing partial may ever be in new/.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"

netns_hosts "127.0.0.1 mail.jedi.test"
netns_ca
netns_cert jedi mail.jedi.test
sealmaild_conf
"$SEALMAILD" user add luke@jedi.test -f "$T/sealmaild.conf" >/dev/null

# The killer: restarts sealmaild whenever it is gone, and kills it with
# SIGKILL 20 to 220 ms after each start, until the sender is done.
cat >"$T/killer.sh" <<'KILLER'
#!/bin/bash
conf=$1 done=$2 log=$3
kills=0
while [ ! -e "$done" ]; do
	"$SEALMAILD" serve -f "$conf" 2>>"$log" &
	pid=$!
	sleep "0.$(printf %03d $(( RANDOM % 200 + 20 )))"
	kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
	wait "$pid" 2>/dev/null
done
echo "$kills" >"$done.kills"
KILLER
chmod +x "$T/killer.sh"
SEALMAILD="$SEALMAILD" "$T/killer.sh" "$T/sealmaild.conf" "$T/done" "$T/sealmaild.log" &

# The sender: 2,000 messages, each sent once (never retried, so a message
# delivered but not acknowledged cannot come back as a duplicate); the
# ones acknowledged with 250 are written to acked.txt.
cat >"$T/sender.py" <<'PY'
import hashlib, smtplib, socket, sys, time
n, acked_path = int(sys.argv[1]), sys.argv[2]
start = int(sys.argv[3]) if len(sys.argv) > 3 else 0
body_line = b"x" * 70
acked = open(acked_path, "w")
i = start
while i < start + n:
    try:
        s = smtplib.SMTP("127.0.0.1", 25, timeout=5)
        s.ehlo("rebels.test")
    except (OSError, smtplib.SMTPException):
        time.sleep(0.01)
        continue
    try:
        while i < start + n:
            body = b"\r\n".join([body_line] * (50 + i % 100))
            digest = hashlib.sha256(body).hexdigest()
            msg = (b"From: lea@rebels.test\r\nTo: luke@jedi.test\r\n"
                   b"Message-ID: <m%d@rebels.test>\r\nX-Digest: %s\r\n\r\n" % (i, digest.encode()) +
                   body + b"\r\nEND-OF-MESSAGE\r\n")
            i += 1
            s.sendmail("lea@rebels.test", ["luke@jedi.test"], msg)
            acked.write("m%d %s\n" % (i - 1, digest))
            acked.flush()
    except (OSError, smtplib.SMTPException):
        pass
    try:
        s.close()
    except OSError:
        pass
PY
python3 "$T/sender.py" 2000 "$T/acked.txt"
touch "$T/done"
wait

cat >"$T/check.py" <<'PY'
import hashlib, os, re, sys
new, acked_path = sys.argv[1], sys.argv[2]
acked = dict(l.split() for l in open(acked_path))
seen, bad = {}, []
for name in os.listdir(new):
    data = open(os.path.join(new, name), "rb").read()
    m = re.search(rb"Message-ID: <(m\d+)@rebels.test>\r\nX-Digest: ([0-9a-f]+)\r\n\r\n(.*)\r\nEND-OF-MESSAGE\r\n$", data, re.S)
    if not m or hashlib.sha256(m.group(3)).hexdigest() != m.group(2).decode():
        bad.append(name)
        continue
    seen[m.group(1).decode()] = seen.get(m.group(1).decode(), 0) + 1
missing = [k for k in acked if seen.get(k, 0) == 0]
dups = [k for k in acked if seen.get(k, 0) > 1]
print("acked %d, files %d, partial or corrupt %d, missing %d, duplicated %d"
      % (len(acked), sum(seen.values()), len(bad), len(missing), len(dups)))
sys.exit(1 if bad or missing or dups else 0)
PY
echo "# sealmaild was killed $(cat "$T/done.kills") times"
ok "some messages were acknowledged despite the kills" test "$(wc -l <"$T/acked.txt")" -gt 100
ok "the server was killed at least 10 times" test "$(cat "$T/done.kills")" -ge 10
ok "every acknowledged message is in new/ exactly once, complete; nothing partial" \
	python3 "$T/check.py" "$T/mail/luke/new" "$T/acked.txt"
sed 's/^/# /' "$T/.out"

# ---- the MX process alone, killed while the daemon stays ----
sealmaild_start
mx_pid() { sed -n 's/.*the MX process (pid \([0-9]*\)) serves.*/\1/p' "$T/sealmaild.log" | tail -n 1; }
export -f mx_pid
cat >"$T/mx-killer.sh" <<'KILLER'
#!/bin/bash
done=$1 T=$2
kills=0
while [ ! -e "$done" ]; do
	sleep "0.$(printf %03d $(( RANDOM % 200 + 20 )))"
	pid=$(mx_pid)
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
done
echo "$kills" >"$done.kills"
KILLER
chmod +x "$T/mx-killer.sh"
"$T/mx-killer.sh" "$T/done2" "$T" &
KILLER=$!
python3 "$T/sender.py" 1500 "$T/acked2.txt" 2000
touch "$T/done2"
wait "$KILLER"
echo "# the MX process was killed $(cat "$T/done2.kills") times"
restarts() { grep -c 'the MX process [0-9]* ended by signal 9, starting another' "$T/sealmaild.log"; }
for _ in $(seq 50); do [ "$(restarts)" = "$(cat "$T/done2.kills")" ] && break; sleep 0.1; done
ok "mail was acknowledged despite the MX's deaths" test "$(wc -l <"$T/acked2.txt")" -gt 100
ok "the MX process was killed at least 5 times, and the daemon stayed" bash -c \
	"[ $(cat "$T/done2.kills") -ge 5 ] && kill -0 $DPID"
ok "the parent started another MX each time" test "$(restarts)" = "$(cat "$T/done2.kills")"
ok "every message acknowledged by an MX process is in new/ exactly once, complete; nothing partial" \
	python3 "$T/check.py" "$T/mail/luke/new" "$T/acked2.txt"
sed 's/^/# /' "$T/.out"
kill "$DPID"
wait "$DPID" || true
done_testing
