#!/bin/bash
# sealmail send end to end, inside private namespaces: a DNS server
# (dnsmasq) with MX records, sealmaild as jedi.test's key directory and MX,
# and a small SMTP server (Python, embedded below) for the failure cases and
# as an authenticating relay. Lea sends; Luke and Yoda read.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"
command -v dnsmasq >/dev/null || { echo "1..0 # SKIP dnsmasq (package dnsmasq-base) is not installed"; exit 0; }

# jedi.test and tatooine.test: sealmaild on 127.0.0.1 (tatooine.test has no
# MX: its A record is its mail host). The others: fakesmtp.py on 127.0.0.x.
netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test mail.jedi.test tatooine.test" \
	"127.0.0.3 mx.tempfail.test" "127.0.0.4 mx.reject.test" "127.0.0.5 relay.test" \
	"127.0.0.6 mx.sink.test" "127.0.0.7 mx.notls.test" "127.0.0.8 mx.silent.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test mail.jedi.test tatooine.test
netns_cert fake mx.tempfail.test mx.reject.test relay.test mx.sink.test mx.notls.test mx.silent.test

# DNS: MX records; dnsmasq answers A from /etc/hosts and NXDOMAIN for other .test names.
MX=()
for d in tempfail reject sink notls silent; do MX+=("--mx-host=$d.test,mx.$d.test,10"); done
dnsmasq --keep-in-foreground --conf-file=/dev/null --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --local=/test/ --user=root --pid-file="$T/dnsmasq.pid" \
	--mx-host=jedi.test,mail.jedi.test,10 "${MX[@]}" --dns-rr=nullmx.test,15,000000 \
	--host-record=nullmx.test,127.0.0.9 2>"$T/dnsmasq.log" &

sealmaild_conf "max-message-size 1M" "max-recipients 5" "smtp-command-timeout 5s"
sealmaild_domain tatooine.test "$T/mail-tatooine"
mkdir -p "$T/mail-tatooine"
D() { "$SEALMAILD" "$@" -f "$T/sealmaild.conf"; }
for u in luke@jedi.test yoda@jedi.test owen@tatooine.test; do D user add "$u" >"$T/add-${u%@*}.out"; done
TOKEN=$(awk '/^publish token/ { print $NF }' "$T/add-luke.out")
sealmaild_start

cat >"$T/fakesmtp.py" <<'PY'
#!/usr/bin/env python3
"""fakesmtp.py: a small SMTP server for send.sh's failure cases and relay.

Python 3.11's smtpd has no STARTTLS and is gone in 3.12, so this speaks
the few commands sealmail send uses, on one connection at a time:
STARTTLS (with --cert/--key), AUTH PLAIN (with --auth USER:PASS, only
inside TLS, required before MAIL), fixed replies to RCPT or to the final
dot (--rcpt-reply, --data-reply), a server that never greets (--silent).
Each accepted message is written to --out DIR as N.eml, with its
envelope in N.env; with --forward HOST:PORT it is then relayed there over
verified STARTTLS (--cafile), as a smarthost would.
"""
import argparse
import base64
import os
import smtplib
import socket
import ssl
import time


def args():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth")
    p.add_argument("--rcpt-reply")
    p.add_argument("--data-reply")
    p.add_argument("--silent", action="store_true")
    p.add_argument("--out")
    p.add_argument("--forward")
    p.add_argument("--cafile")
    return p.parse_args()


class Session:
    def __init__(self, a, conn, tls_ctx):
        self.a, self.conn, self.ctx = a, conn, tls_ctx
        self.f = conn.makefile("rb")
        self.tls = self.authed = False
        self.sender, self.rcpts = None, []

    def w(self, s):
        self.conn.sendall((s + "\r\n").encode())

    def ehlo(self, _):
        ext = ["SIZE 10000000", "8BITMIME"]
        if self.ctx and not self.tls:
            ext.append("STARTTLS")
        if self.a.auth and self.tls:
            ext.append("AUTH PLAIN")
        lines = [self.a.name] + ext
        for x in lines[:-1]:
            self.w("250-" + x)
        self.w("250 " + lines[-1])

    def starttls(self, _):
        self.w("220 2.0.0 go ahead")
        self.conn = self.ctx.wrap_socket(self.conn, server_side=True)
        self.f = self.conn.makefile("rb")
        self.tls = True

    def auth(self, arg):
        parts = arg.split()
        want = b"\0" + self.a.auth.encode().replace(b":", b"\0", 1)
        ok = len(parts) == 2 and parts[0].upper() == "PLAIN" and self.tls
        ok = ok and base64.b64decode(parts[1]) == want
        self.authed = ok
        self.w("235 2.7.0 ok" if ok else "535 5.7.8 authentication failed")

    def mail(self, arg):
        if self.a.auth and not self.authed:
            return self.w("530 5.7.0 authentication required")
        self.sender, self.rcpts = arg, []
        self.w("250 2.1.0 ok")

    def rcpt(self, arg):
        if self.a.rcpt_reply:
            return self.w(self.a.rcpt_reply)
        self.rcpts.append(arg)
        self.w("250 2.1.5 ok")

    def data(self, _):
        self.w("354 go on")
        body = b""
        while True:
            line = self.f.readline()
            if line in (b".\r\n", b""):
                break
            body += line[1:] if line.startswith(b".") else line
        if self.a.data_reply:
            return self.w(self.a.data_reply)
        self.store(body)
        self.w("250 2.0.0 queued as fake")

    def store(self, body):
        if self.a.out:
            n = len([x for x in os.listdir(self.a.out) if x.endswith(".eml")]) + 1
            with open(os.path.join(self.a.out, "%d.env" % n), "w") as e:
                e.write("MAIL %s\n" % self.sender)
                for r in self.rcpts:
                    e.write("RCPT %s\n" % r)
            with open(os.path.join(self.a.out, "%d.eml" % n), "wb") as m:
                m.write(body)
        if self.a.forward:
            self.relay(body)

    def relay(self, body):
        host, port = self.a.forward.rsplit(":", 1)
        ctx = ssl.create_default_context(cafile=self.a.cafile)
        with smtplib.SMTP(host, int(port), local_hostname=self.a.name) as s:
            s.starttls(context=ctx)
            strip = lambda x: x.split(":", 1)[1].strip().strip("<>").split(">")[0]
            s.sendmail(strip(self.sender), [strip(r) for r in self.rcpts], body)

    def run(self):
        self.w("220 %s ESMTP fake" % self.a.name)
        table = {"EHLO": self.ehlo, "STARTTLS": self.starttls, "AUTH": self.auth,
                 "MAIL": self.mail, "RCPT": self.rcpt, "DATA": self.data}
        while True:
            line = self.f.readline()
            if not line:
                return
            cmd = line.decode().rstrip("\r\n")
            verb, _, arg = cmd.partition(" ")
            verb = verb.upper()
            if verb == "QUIT":
                return self.w("221 2.0.0 bye")
            if verb in table:
                table[verb](arg)
            else:
                self.w("250 2.0.0 ok")


def main():
    a = args()
    ip, port = a.listen.rsplit(":", 1)
    ctx = None
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
    srv = socket.create_server((ip, int(port)))
    while True:
        conn, _ = srv.accept()
        if a.silent:
            time.sleep(3600)
        try:
            Session(a, conn, ctx).run()
        except Exception as e:  # one bad session must not end the server
            print("fakesmtp:", repr(e), flush=True)
        finally:
            conn.close()


main()
PY
fake() { python3 "$T/fakesmtp.py" --cert "$T/fake.crt" --key "$T/fake.key" "$@" >>"$T/fake.log" 2>&1 & }
mkdir -p "$T/sink" "$T/relay"
fake --listen 127.0.0.3:25 --name mx.tempfail.test --rcpt-reply "451 4.3.0 try again later"
fake --listen 127.0.0.4:25 --name mx.reject.test --data-reply "554 5.7.1 we do not want it"
fake --listen 127.0.0.5:587 --name relay.test --auth lea:sw0rdf1sh --out "$T/relay" \
	--forward mail.jedi.test:25 --cafile "$T/ca.crt"
fake --listen 127.0.0.6:25 --name mx.sink.test --out "$T/sink"
python3 "$T/fakesmtp.py" --listen 127.0.0.7:25 --name mx.notls.test --out "$T/sink" >>"$T/fake.log" 2>&1 &
fake --listen 127.0.0.8:25 --name mx.silent.test --silent
for ip in 3:25 4:25 5:587 6:25 7:25 8:25; do
	for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.${ip%:*}/${ip#*:}") 2>/dev/null && break; sleep 0.1; done
done

LUKE=$T/luke LEA=$T/lea YODA=$T/yoda OWEN=$T/owen
sm "$LUKE" keygen luke@jedi.test >/dev/null
sm "$LEA" keygen lea@rebels.test >/dev/null
sm "$YODA" keygen yoda@jedi.test >/dev/null
sm "$OWEN" keygen owen@tatooine.test >/dev/null
sm "$LUKE" publish luke@jedi.test --token "$TOKEN" >/dev/null
# Keys Lea holds already (no WKD for these): Yoda, Owen, and the fake domains' users.
for who in "$YODA:yoda@jedi.test" "$OWEN:owen@tatooine.test"; do
	sm "$LEA" import < <(sm "${who%%:*}" export "${who#*:}") >/dev/null
done
for a in jabba@tempfail.test greedo@reject.test bib@sink.test ig88@notls.test boba@silent.test \
	vader@nullmx.test ghost@nowhere.test; do
	sm "$T/k-$a" keygen "$a" >/dev/null
	sm "$LEA" import < <(sm "$T/k-$a" export "$a") >/dev/null
done
for h in "$LUKE" "$YODA" "$OWEN"; do sm "$h" import < <(sm "$LEA" export lea@rebels.test) >/dev/null; done
LEA_FPR=$(sm "$LEA" export lea@rebels.test | gpg --with-colons --import-options show-only --import 2>/dev/null |
	awk -F: '/^fpr/ { print $10; exit }')

newest() { ls -t "$1"/new/* | head -n 1; }
letter() { printf 'From: Lea <lea@rebels.test>\n%bSubject: %s\n\n%b\n' "$1" "$2" "$3"; }
export -f count send sm
export T SEALMAIL
printf 'timeout 5\n' >"$LEA/config"

# 1. Straight to Luke's MX, his key found by WKD and pinned.
letter 'To: Luke <luke@jedi.test>\n' 'The plans' 'They are in R2.' >"$T/l1"
ok "send to luke@jedi.test exits 0" send "$LEA" "$T/l1" luke@jedi.test
ok "it says where it went" grep -q '^luke@jedi.test: delivered to mail.jedi.test (250 ' "$T/send.err"
ok "Luke's key came from WKD and is pinned" bash -c \
	"grep -q 'key [0-9A-F]* from https://openpgpkey.jedi.test/' '$T/send.err' && grep -q '^luke@jedi.test ' '$LEA/pins'"
ok "it is in Luke's Maildir" test "$(count "$T/mail/luke/new")" -eq 1
M1=$(newest "$T/mail/luke")
ok "as PGP/MIME" grep -qi 'Content-Type: multipart/encrypted' "$M1"
ok "without the subject in the clear" bash -c "! grep -q 'The plans' '$M1'"
ok "sealmail read by Luke: verified, and the letter is intact" bash -c \
	"SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$M1' >'$T/r1' 2>'$T/r1.err' && grep -q 'They are in R2.' '$T/r1'"
G=$(new_gpg_home)
gpg --homedir "$G" --batch --import "$LUKE/secring.pgp" 2>/dev/null
sm "$LEA" export lea@rebels.test | gpg --homedir "$G" --batch --import 2>/dev/null
armor_of "$M1" >"$T/m1.asc"
ok "gpg decrypts it with Luke's secret key and verifies Lea's signature" bash -c \
	"gpg --homedir $G --batch --trust-model always --status-fd 3 --decrypt '$T/m1.asc' 3>'$T/m1.status' >'$T/m1.txt' && grep -q '^\[GNUPG:\] VALIDSIG $LEA_FPR' '$T/m1.status' && grep -q 'They are in R2.' '$T/m1.txt'"

# 2. -t: To, Cc and Bcc; tatooine.test has no MX, so its A record is used.
letter 'To: luke@jedi.test\nCc: owen@tatooine.test\nBcc: yoda@jedi.test\n' 'Council' 'Meet at noon.' >"$T/l2"
ok "send -t to To, Cc and Bcc exits 0" send "$LEA" "$T/l2" -t -i
ok "Luke, Yoda and Owen all got it" bash -c "[ \$(count '$T/mail/luke/new') = 2 ] && [ \$(count '$T/mail/yoda/new') = 1 ] && [ \$(count '$T/mail-tatooine/owen/new') = 1 ]"
ok "no MX for tatooine.test: delivered to its A record" grep -q '^owen@tatooine.test: delivered to tatooine.test (250 ' "$T/send.err"
M2=$(newest "$T/mail/luke")
ok "the Bcc is hidden from Luke" bash -c "! grep -qi yoda '$M2' && SEALMAIL_HOME=$LUKE '$SEALMAIL' read '$M2' >'$T/r2' 2>/dev/null && grep -q 'Meet at noon.' '$T/r2' && ! grep -qi yoda '$T/r2'"
ok "and Yoda can read his copy" bash -c "SEALMAIL_HOME=$YODA '$SEALMAIL' read '$(newest "$T/mail/yoda")' 2>/dev/null | grep -q 'Meet at noon.'"

# 3. A recipient without a key is refused, by name, and nothing is sent.
ok "a recipient without a key: exit 67 (EX_NOUSER)" status_is 67 send "$LEA" "$T/l1" luke@jedi.test obiwan@jedi.test
ok "naming that recipient" grep -q '^  obiwan@jedi.test$' "$T/send.err"
ok "and nothing was delivered" test "$(count "$T/mail/luke/new")" -eq 2
ok "without -t an argument the headers do not name is sealed to as Bcc" bash -c \
	"send '$LEA' '$T/l1' yoda@jedi.test && SEALMAIL_HOME=$YODA '$SEALMAIL' read \"\$(ls -t '$T'/mail/yoda/new/* | head -n 1)\" 2>/dev/null | grep -q 'They are in R2.'"

# 4. What the receiving side says decides the exit status.
letter 'To: vader@nullmx.test\n' 'x' 'x' >"$T/l4"
ok "a null MX (RFC 7505): exit 69 (EX_UNAVAILABLE)" status_is 69 send "$LEA" "$T/l4" vader@nullmx.test
ok "saying so" grep -q 'null MX' "$T/send.err"
ok "a domain that does not exist: exit 69" status_is 69 send "$LEA" "$T/l4" ghost@nowhere.test
letter 'To: jabba@tempfail.test\n' 'x' 'x' >"$T/l5"
ok "a 4xx reply: exit 75 (EX_TEMPFAIL)" status_is 75 send "$LEA" "$T/l5" jabba@tempfail.test
ok "with the server's reply" grep -q '^jabba@tempfail.test: not delivered, try again later: mx.tempfail.test: 451 4.3.0' "$T/send.err"
letter 'To: greedo@reject.test\n' 'x' 'x' >"$T/l6"
ok "a 5xx reply: exit 69 (EX_UNAVAILABLE)" status_is 69 send "$LEA" "$T/l6" greedo@reject.test
ok "with the server's reply" grep -q '^greedo@reject.test: not delivered, refused: mx.reject.test: 554 5.7.1' "$T/send.err"
letter 'To: ig88@notls.test\n' 'x' 'x' >"$T/l7"
ok "an MX without STARTTLS is refused: exit 75" status_is 75 send "$LEA" "$T/l7" ig88@notls.test
ok "saying why" grep -q 'offers no STARTTLS' "$T/send.err"
letter 'To: boba@silent.test\n' 'x' 'x' >"$T/l8"
ok "a silent MX: exit 75 after the configured time-out" bash -c \
	"s=\$(date +%s); SEALMAIL_HOME=$LEA timeout 30 '$SEALMAIL' send boba@silent.test <'$T/l8' 2>'$T/send.err'; st=\$?; [ \$st = 75 ] && [ \$((\$(date +%s) - s)) -lt 15 ] && grep -q 'no answer within 5 seconds' '$T/send.err'"
letter 'To: bib@sink.test\n' 'x' 'Lines with dots:\n.\n..\n.end' >"$T/l9"
ok "-f sets the envelope sender" bash -c "send '$LEA' '$T/l9' -f leia@rebels.test -oi bib@sink.test && grep -qx 'MAIL FROM:<leia@rebels.test>.*' '$T/sink/1.env'"
ok "SIZE is declared" grep -q 'SIZE=[0-9]' "$T/sink/1.env"
ok "the sealed message arrives whole (dot-stuffing undone by the server)" bash -c \
	"SEALMAIL_HOME=$T/k-bib@sink.test '$SEALMAIL' import < <(SEALMAIL_HOME=$LEA '$SEALMAIL' export lea@rebels.test) >/dev/null 2>&1; SEALMAIL_HOME=$T/k-bib@sink.test '$SEALMAIL' read '$T/sink/1.eml' 2>/dev/null | tr -d '\r' | grep -A3 '^Lines with dots:' | tr '\n' '|' | grep -qx 'Lines with dots:|.|..|.end|'"

# 5. Configuration.
cp "$LEA/config" "$T/config.saved"
printf 'timeout 5\nrequire-tls no\n' >"$LEA/config"
ok "require-tls no sends to an MX without STARTTLS" send "$LEA" "$T/l7" ig88@notls.test
printf 'timeout 5\nrelay-host x\n' >"$LEA/config"
ok "an unknown setting: exit 78 (EX_CONFIG)" status_is 78 send "$LEA" "$T/l1" luke@jedi.test
ok "naming it" grep -q "config:2: unknown setting 'relay-host'" "$T/send.err"
printf 'timeout 5\ntimeout 6\n' >"$LEA/config"
ok "a setting given twice: exit 78" status_is 78 send "$LEA" "$T/l1" luke@jedi.test
printf 'allow-plaintext maybe\n' >"$LEA/config"
ok "a bad value: exit 78" status_is 78 send "$LEA" "$T/l1" luke@jedi.test

# 6. Through a relay with STARTTLS and AUTH PLAIN (fakesmtp.py relays on to sealmaild).
printf 'sw0rdf1sh\n' >"$T/relay.pw"
chmod 600 "$T/relay.pw"
printf 'relay relay.test:587\nrelay-user lea\nrelay-password-file %s\ntimeout 5\n' "$T/relay.pw" >"$LEA/config"
ok "via the relay with AUTH PLAIN: exit 0" send "$LEA" "$T/l1" luke@jedi.test
ok "reported as delivered to the relay" grep -q '^luke@jedi.test: delivered to relay.test (250 ' "$T/send.err"
ok "it reached Luke's Maildir, and Luke reads it" bash -c \
	"[ \$(count '$T/mail/luke/new') = 3 ] && SEALMAIL_HOME=$LUKE '$SEALMAIL' read \"\$(ls -t '$T'/mail/luke/new/* | head -n 1)\" 2>/dev/null | grep -q 'They are in R2.'"
chmod 644 "$T/relay.pw"
ok "a password file readable by others: exit 78" status_is 78 send "$LEA" "$T/l1" luke@jedi.test
printf 'wrong\n' >"$T/relay.pw"
chmod 600 "$T/relay.pw"
ok "a wrong password: exit 69, the relay's 535 shown" bash -c \
	"send '$LEA' '$T/l1' luke@jedi.test; [ \$? = 69 ] && grep -q '535 5.7.8' '$T/send.err'"
printf 'relay relay.test:587\ntimeout 5\n' >"$LEA/config"
ok "without AUTH the relay refuses (530): exit 69" status_is 69 send "$LEA" "$T/l1" luke@jedi.test

# 7. allow-plaintext: recipients without a key get the cleartext, without Bcc.
printf 'allow-plaintext yes\ntimeout 5\n' >"$LEA/config"
letter 'To: nokey@sink.test\nBcc: hidden@sink.test\n' 'Plain' 'In the clear.' >"$T/l10"
ok "allow-plaintext yes sends to recipients without a key" send "$LEA" "$T/l10" -t
ok "with a warning naming them" grep -q 'UNENCRYPTED' "$T/send.err"
ok "in the clear, with no Bcc field" bash -c "grep -q 'In the clear.' '$T/sink/3.eml' && ! grep -qi '^bcc:' '$T/sink/3.eml' && grep -q 'hidden@sink.test' '$T/sink/3.env'"
cp "$T/config.saved" "$LEA/config"

# 8. Usage and bad input.
ok "no recipients without -t: exit 64" status_is 64 send "$LEA" "$T/l1"
ok "an unknown option: exit 64" status_is 64 send "$LEA" "$T/l1" -x luke@jedi.test
ok "-o other than -oi: exit 64" status_is 64 send "$LEA" "$T/l1" -oem luke@jedi.test
printf 'no header here\n' >"$T/bad"
ok "a message without From: exit 65 (EX_DATAERR)" status_is 65 send "$LEA" "$T/bad" luke@jedi.test
ok "a bad recipient argument: exit 65" status_is 65 send "$LEA" "$T/l1" 'not an address'

done_testing
