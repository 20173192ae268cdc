#!/bin/bash
# Hostile SMTP against a running sealmaild: each answered correctly, the
# daemon stays up, and nothing is lost or corrupted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"

netns_hosts "127.0.0.1 mail.jedi.test"
netns_ca
netns_cert jedi mail.jedi.test
sealmaild_conf "max-message-size 1M" "max-recipients 2000" "max-sessions 3000" \
	"max-sessions-per-address 3000" "smtp-command-timeout 8s"
"$SEALMAILD" user add luke@jedi.test -f "$T/sealmaild.conf" >/dev/null
ulimit -n 8192
sealmaild_start

# py SCRIPT: runs a python3 snippet with the SMTP helper of smtp.py.
py() { (cd "$T" && PYTHONPATH="$TESTS_DIR" timeout 60 python3 -c "from smtp import conn
$1"); }

ok "commands before EHLO get 503" py '
c = conn(); c.send(b"MAIL FROM:<lea@rebels.test>\r\n"); assert c.reply()[0] == 503'
ok "a malformed command gets 500" py '
c = conn(); c.send(b"EHLO x\r\n"); c.reply(); c.send(b"FROB\r\n"); assert c.reply()[0] == 500'
ok "an overlong command gets 500 and the session goes on" py '
c = conn(); c.send(b"EHLO x\r\n"); c.reply(); c.send(b"NOOP " + b"a" * 5000 + b"\r\n")
assert c.reply()[0] == 500; c.send(b"NOOP\r\n"); assert c.reply()[0] == 250'
ok "a 10 MB line in DATA is refused and the session goes on" py '
c = conn(); c.send(b"EHLO x\r\nMAIL FROM:<lea@rebels.test>\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\n")
assert [r[0] for r in c.replies(4)] == [250, 250, 250, 354]
chunk = b"y" * 65536
for _ in range(160): c.send(chunk)
c.send(b"\r\n.\r\n"); code = c.reply()[0]; assert code in (552, 554), code
c.send(b"NOOP\r\n"); assert c.reply()[0] == 250'
ok "a message over the size limit gets 552 and is not delivered" py '
c = conn(); c.send(b"EHLO x\r\nMAIL FROM:<lea@rebels.test>\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\n")
c.replies(4); line = b"z" * 900 + b"\r\n"
for _ in range(2000): c.send(line)
c.send(b".\r\n"); assert c.reply()[0] == 552'
ok "bare LF in DATA is refused (no smuggling)" py '
c = conn(); c.send(b"EHLO x\r\nMAIL FROM:<lea@rebels.test>\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\n")
c.replies(4); c.send(b"Subject: a\r\n\r\nx\n.\nMAIL FROM:<evil@x.test>\r\n.\r\n")
assert c.reply()[0] == 554'
ok "1,000 pipelined RCPTs are all answered, then the message is delivered" py '
c = conn(); c.send(b"EHLO x\r\n"); c.reply()
c.send(b"MAIL FROM:<lea@rebels.test>\r\n" + b"RCPT TO:<luke@jedi.test>\r\n" * 1000 + b"DATA\r\n")
r = c.replies(1002); assert r[0][0] == 250 and all(x[0] == 250 for x in r[1:1001]) and r[1001][0] == 354
c.send(b"Subject: pipelined\r\n\r\nhello\r\n.\r\n"); assert c.reply()[0] == 250'
ok "nothing partial or stray is in new/ and tmp/ is empty" bash -c \
	"[ \$(ls '$T/mail/luke/new' | wc -l) -eq 1 ] && [ -z \"\$(ls -A '$T/mail/luke/tmp')\" ]"
ok "2,000 connections at once are all greeted" py '
import socket
socks = [socket.create_connection(("127.0.0.1", 25), timeout=30) for _ in range(2000)]
for s in socks:
    assert s.makefile("rb").readline().startswith(b"220")
for s in socks: s.close()'
ok "sealmaild is still up and serving" py '
c = conn(); c.send(b"EHLO x\r\n"); assert c.reply()[0] == 250'
ok "a session that goes silent is not kept forever (421 after the time-out)" py '
import time
c = conn(); t = time.time()
code = c.reply()[0]; assert code == 421 and time.time() - t >= 6, (code, time.time() - t)'
kill "$DPID"
wait "$DPID"
done_testing
