#!/bin/bash
# Faults against a running sealmaild, inside private namespaces: each gets a
# correct answer, the daemon stays up, and nothing acknowledged is lost.
#   - the Maildirs' disk fills up while a message arrives (452, nothing
#     partial left; the retry is delivered once the space is back);
#   - the database is locked by another process (a publication is refused
#     with "try again", mail still flows) or corrupted (the daemon does not
#     start, says why, and leaves the file as it was);
#   - TLS handshakes of garbage, on HTTPS and after STARTTLS;
#   - slowloris clients (a byte a second) on SMTP and HTTPS are cut off
#     after their time-outs while everyone else is served, and one that
#     trickles its message is cut off when its session's time is up;
#   - HTTPS connections over the per-address cap get 503, however the
#     kernel spreads them over the workers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"

netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test mail.jedi.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test mail.jedi.test
sealmaild_conf "smtp-command-timeout 3s" "http-request-timeout 3s" "smtp-session-timeout 8s" \
	"max-https-connections-per-address 5"
D() { "$SEALMAILD" "$@" -f "$T/sealmaild.conf"; }
D user add luke@jedi.test >/dev/null
TOKEN=$(D user add leia@jedi.test | awk '/^publish token/ { print $NF }')
LEA=$T/lea LEIA=$T/leia LUKE=$T/luke
sm "$LEA" keygen lea@rebels.test >/dev/null
sm "$LEIA" keygen leia@jedi.test >/dev/null
sm "$LUKE" keygen luke@jedi.test >/dev/null
sm "$LUKE" export luke@jedi.test >"$T/luke.asc"
sm "$LEA" import "$T/luke.asc" >/dev/null
printf 'From: Lea <lea@rebels.test>\nTo: Luke <luke@jedi.test>\nSubject: Fault\n\nStill here.\n' |
	sm "$LEA" seal >"$T/letter.eml"
# The Maildirs live on a 2 MiB file system of their own, to fill.
mount -t tmpfs -o size=2m tmpfs "$T/mail"
sealmaild_start
cat_status() { cat "$1"; return "$2"; }
py() { (cd "$T" && PYTHONPATH="$TESTS_DIR" timeout 90 python3 -c "from smtp import conn
$1"); }
deliver() { swaks_deliver "$T/letter.eml"; }
in_new() { find "$T/mail/luke/new" -type f 2>/dev/null | wc -l; }

# ---- the disk fills up ----
ok "a first letter is delivered" deliver
dd if=/dev/zero of="$T/mail/filler" bs=64k 2>/dev/null # until the disk is full
ok "with the disk full, the next one gets 452 4.3.1 at the end of DATA" py '
c = conn(); c.send(b"EHLO rebels.test\r\n"); c.reply()
c.send(b"MAIL FROM:<lea@rebels.test>\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\n"); c.replies(3)
c.send(open("letter.eml", "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b".\r\n")
code, text = c.reply(); assert code == 452 and b"4.3.1" in text, text'
ok "nothing partial is in new/, and tmp/ is empty" bash -c \
	"[ $(in_new) = 1 ] && [ -z \"\$(ls '$T/mail/luke/tmp')\" ]"
rm -f "$T/mail/filler"
ok "once there is space again the retry is delivered" deliver
ok "exactly once" test "$(in_new)" = 2

# ---- the database is locked by another process ----
python3 -c "
import sqlite3, sys, time
db = sqlite3.connect('$T/state/sealmaild.db', isolation_level=None)
db.execute('BEGIN EXCLUSIVE')
open('$T/locked', 'w').close()
time.sleep(12)
db.execute('ROLLBACK')" &
LOCKER=$!
while [ ! -e "$T/locked" ]; do sleep 0.1; done
st=0
SEALMAIL_HOME=$LEIA timeout 60 "$SEALMAIL" publish leia@jedi.test --token "$TOKEN" --wait 0 >"$T/busy.out" 2>&1 || st=$?
ok "a publication while the database is locked is refused, not hung (exit 75)" status_is 75 cat_status "$T/busy.out" "$st"
ok "and says to try again later" grep -q "try again later" "$T/busy.out"
ok "mail is still delivered meanwhile" deliver
wait "$LOCKER"
ok "after the lock, the same token publishes" bash -c \
	"SEALMAIL_HOME=$LEIA timeout 60 '$SEALMAIL' publish leia@jedi.test --token $TOKEN >/dev/null 2>&1"

# ---- TLS handshakes of garbage ----
ok "200 TLS handshakes of garbage on HTTPS and after STARTTLS get nowhere" py '
import os, socket
for i in range(100):
    s = socket.create_connection(("127.0.0.1", 443), timeout=10)
    s.sendall(b"\x16\x03\x01\x02\x00" + os.urandom(512)); s.close()
    c = conn(); c.send(b"EHLO x\r\nSTARTTLS\r\n"); c.replies(2)
    c.send(b"\x16\x03\x01\x00\x10" + os.urandom(300)); c.s.close()'
ok "the key directory still answers" curl -sf -o /dev/null \
	https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/policy
ok "and the MX still delivers" deliver

# ---- slowloris ----
ok "50 SMTP and 50 HTTPS clients sending a byte a second are cut off by their time-outs, others served meanwhile" py '
import socket, subprocess, time
smtp = [conn() for _ in range(50)]
https = [socket.create_connection(("127.0.0.1", 443), timeout=10) for _ in range(50)]
start = time.time(); served = False; closed = set()
while time.time() - start < 20 and len(closed) < 100:
    for i, s in enumerate([c.s for c in smtp] + https):
        if i in closed: continue
        try: s.send(b"E" if i < 50 else b"\x16")
        except OSError: closed.add(i)
    if not served:
        served = subprocess.run(["curl", "-sf", "-o", "/dev/null", "https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/policy"]).returncode == 0
    time.sleep(1)
assert served, "nobody else was served"
assert len(closed) == 100, "%d of 100 slow clients still connected after 20 s" % (100 - len(closed))'
ok "a client trickling its message a byte a second gets 421 when the session's 8 s are up" py '
import select, time
c = conn(); start = time.time()
c.send(b"EHLO x\r\nMAIL FROM:<lea@rebels.test>\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\n"); c.replies(4)
code = 0
while time.time() - start < 30 and code == 0:
    try: c.send(b"x")
    except OSError: pass
    if select.select([c.s], [], [], 1.0)[0]:
        code = c.reply()[0]
elapsed = time.time() - start
assert code == 421 and 7 <= elapsed < 15, (code, elapsed)'
ok "the MX delivers after the slowloris" deliver

# ---- connection caps on HTTPS ----
ok "of 12 kept-alive HTTPS connections from one address, the 5 the cap allows are served, across the workers, and 7 get 503" py '
import http.client, ssl
ctx = ssl.create_default_context(cafile="ca.crt")
conns, codes = [], []
for i in range(12):
    c = http.client.HTTPSConnection("openpgpkey.jedi.test", 443, context=ctx, timeout=10)
    c.request("GET", "/.well-known/openpgpkey/jedi.test/policy")
    r = c.getresponse(); r.read(); codes.append(r.status); conns.append(c)
served, refused = codes.count(200), codes.count(503)
assert (served, refused) == (5, 7), codes'
ok "once they are closed, the next one is served" curl -sf -o /dev/null \
	https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/policy

kill "$DPID"
wait "$DPID"
umount "$T/mail"
# ---- the database is corrupted ----
python3 -c "
f = open('$T/state/sealmaild.db', 'r+b'); f.seek(4096); f.write(b'\xff' * 16)"
md5sum "$T/state/sealmaild.db" >"$T/db.md5"
st=0
timeout 20 "$SEALMAILD" serve -f "$T/sealmaild.conf" 2>"$T/corrupt.log" || st=$?
ok "with a corrupted database the daemon does not start (exit 70)" test "$st" = 70
ok "and says the store is damaged" grep -q "cannot open the store" "$T/corrupt.log"
ok "the database file is left exactly as it was" md5sum -c --quiet "$T/db.md5"

done_testing
