#!/bin/bash
# The HTTPS front end of sealmaild (src/daemon/https.c over src/lib/http.c)
# spoken to byte by byte over TLS, inside private namespaces: keep-alive,
# pipelining, HEAD, HTTP/1.0, "100 Continue", and each malformed or
# oversized request answered with its status, the connection closed after
# an error, and the worker processes still the same ones at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
: "${SEALMAILD:?SEALMAILD must point at the sealmaild binary}"

netns_hosts "127.0.0.1 openpgpkey.jedi.test jedi.test mail.jedi.test"
netns_ca
netns_cert jedi openpgpkey.jedi.test jedi.test mail.jedi.test
sealmaild_conf "http-request-timeout 3s" "max-http-request 2K"
D() { "$SEALMAILD" "$@" -f "$T/sealmaild.conf"; }
TOKEN=$(D user add luke@jedi.test | awk '/^publish token/ { print $NF }')
sealmaild_start
sm "$T/luke" keygen luke@jedi.test >/dev/null
# wait_served URL: until URL answers 200 (at most 20 s: the workers' first
# TLS handshakes and the next epoch take that long under valgrind).
wait_served() {
	for _ in $(seq 100); do
		curl -sf -o /dev/null "$1" && return 0
		sleep 0.2
	done
	return 1
}
wait_served https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/policy
ok "Luke publishes his key" sm "$T/luke" publish luke@jedi.test --token "$TOKEN"
ok "and it is served from the next epoch" \
	wait_served https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/hu/pc53ux1dyd1rjnpyonebrx3aemurd8pf
workers_before=$(pgrep -x sealmaild-https | sort | tr '\n' ' ')

# A small client over TLS: send raw bytes, read answers one by one (head,
# then exactly Content-Length bytes, none after a HEAD).
cat >"$T/h.py" <<'PY'
import socket, ssl, time
KEY = "/.well-known/openpgpkey/jedi.test/hu/pc53ux1dyd1rjnpyonebrx3aemurd8pf"
POLICY = "/.well-known/openpgpkey/jedi.test/policy"
class C:
    def __init__(self):
        ctx = ssl.create_default_context(cafile="ca.crt")
        raw = socket.create_connection(("127.0.0.1", 443), timeout=10)
        self.s = ctx.wrap_socket(raw, server_hostname="openpgpkey.jedi.test")
        self.buf = b""
    def send(self, b): self.s.sendall(b)
    def fill(self):
        d = self.s.recv(65536)
        if not d: raise EOFError("closed")
        self.buf += d
    def answer(self, head=False):
        while b"\r\n\r\n" not in self.buf: self.fill()
        h, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = h.decode().split("\r\n")
        status = int(lines[0].split(" ")[1])
        hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
        n = 0 if head or status == 100 else int(hdrs.get("content-length", "0"))
        while len(self.buf) < n: self.fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, hdrs, body
    def closed(self):
        try:
            while True: self.fill()
        except socket.timeout: return False
        except (EOFError, OSError): return True
def get(path, host="jedi.test", extra=""):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (path, host, extra)).encode()
PY
py() { (cd "$T" && timeout 60 python3 -c "from h import *
$1"); }

ok "three requests on one kept-alive connection, HEAD with a length and no body" py '
c = C()
c.send(get(POLICY)); s, h, b = c.answer(); assert s == 200 and h["content-type"].startswith("text/plain"), (s, h)
c.send(get(KEY).replace(b"GET", b"HEAD")); s, h, b = c.answer(head=True); assert s == 200 and int(h["content-length"]) > 300 and b == b"", (s, h)
c.send(get(KEY)); s, h, b = c.answer(); assert s == 200 and len(b) == int(h["content-length"]) and b[0] & 0x80, (s, h)
assert h["access-control-allow-origin"] == "*" and "connection" not in h, h
import email.utils; assert abs(email.utils.parsedate_to_datetime(h["date"]).timestamp() - time.time()) < 5, h["date"]'
ok "three pipelined requests in one write get three answers in order" py '
c = C()
c.send(get(POLICY) + get("/nothing") + get(KEY))
assert [c.answer()[0] for _ in range(3)] == [200, 404, 200]'
ok "a request trickled in over a second is answered" py '
c = C()
for b in get(KEY): c.send(bytes([b])); time.sleep(0.01)
assert c.answer()[0] == 200'
ok "bare LF line ends are accepted" py '
c = C(); c.send(get(KEY).replace(b"\r\n", b"\n")); assert c.answer()[0] == 200'
ok "HTTP/1.0 gets Connection: close and the connection is closed" py '
c = C(); c.send(("GET %s HTTP/1.0\r\n\r\n" % KEY).encode())
s, h, b = c.answer(); assert s == 200 and h["connection"] == "close", h
assert c.closed()'
ok "HTTP/1.0 with keep-alive stays open" py '
c = C(); c.send(("GET %s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % KEY).encode())
s, h, b = c.answer(); assert s == 200 and "connection" not in h, h
c.send(get(POLICY)); assert c.answer()[0] == 200'
ok "Connection: close is honoured" py '
c = C(); c.send(get(KEY, extra="Connection: close\r\n"))
s, h, b = c.answer(); assert s == 200 and h["connection"] == "close"; assert c.closed()'
ok "a transparency endpoint refuses HEAD with 405, Allow: GET and no body" py '
c = C(); c.send(b"HEAD /.well-known/sealmail/v1/jedi.test/checkpoint HTTP/1.1\r\nHost: jedi.test\r\n\r\n")
s, h, b = c.answer(head=True); assert s == 405 and h["allow"] == "GET", (s, h)
c.send(get(POLICY)); assert c.answer()[0] == 200, "the connection went on"'

# each malformed request: its status, and the connection closed after it
bad() { ok "$1: $2" py "
c = C(); c.send($3); s, h, b = c.answer()
assert s == $2 and h['connection'] == 'close' and b.endswith(b'\\n'), (s, h, b)
assert c.closed()"; }
bad "a head over max-http-request (2K)" 431 'get(KEY, extra="X-Pad: " + "a" * 3000 + "\r\n")'
bad "an endless header line, never finished" 431 'b"GET / HTTP/1.1\r\nX: " + b"a" * 5000'
bad "a garbage request line" 400 'b"HELLO THERE\r\n\r\n"'
bad "a request line with two spaces" 400 'b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n"'
bad "HTTP/1.1 without Host" 400 'b"GET / HTTP/1.1\r\n\r\n"'
bad "Host given twice" 400 'get(KEY, extra="Host: evil.test\r\n")'
bad "a folded header line" 400 'get(KEY, extra="X-A: 1\r\n  folded\r\n")'
bad "a NUL in a header" 400 'get(KEY, extra="X-A: a\0b\r\n")'
bad "the HTTP/2 preface" 505 'b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"'
bad "chunked request body" 501 'b"POST /sealmail/v1/publish?address=luke@jedi.test HTTP/1.1\r\nHost: jedi.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"'
bad "Content-Length and Transfer-Encoding at once" 501 'b"POST /sealmail/v1/publish HTTP/1.1\r\nHost: jedi.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello"'
bad "Content-Length twice" 400 'b"POST /sealmail/v1/publish HTTP/1.1\r\nHost: jedi.test\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"'
bad "a body over 1M announced" 413 'b"POST /sealmail/v1/publish HTTP/1.1\r\nHost: jedi.test\r\nContent-Length: 1048577\r\n\r\n"'
bad "an expectation we do not meet" 417 'get(KEY, extra="Expect: magic\r\n")'

ok "Expect: 100-continue gets 100, then the answer to the body" py '
c = C()
body = b"not a publish request"
c.send(b"POST /sealmail/v1/publish?address=luke%%40jedi.test HTTP/1.1\r\nHost: jedi.test\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
s, h, b = c.answer(); assert s == 100, s
c.send(body); s, h, b = c.answer(); assert s == 400 and b"not a sealmail publish request" in b, (s, b)'
ok "a body sent in pieces is read whole" py '
c = C()
body = b"x" * 100000
c.send(b"POST /sealmail/v1/publish?address=luke@jedi.test HTTP/1.1\r\nHost: jedi.test\r\nContent-Length: %d\r\n\r\n" % len(body))
for i in range(0, len(body), 7000): c.send(body[i:i + 7000])
s, h, b = c.answer(); assert s == 400 and b"not a sealmail publish request" in b, (s, b)
c.send(get(KEY)); assert c.answer()[0] == 200, "the connection went on"'
ok "a connection that sends half a request is closed after http-request-timeout (3s)" py '
c = C(); c.send(b"GET / HTTP/1.1\r\nHost: jedi"); start = time.time()
assert c.closed(); assert 2 <= time.time() - start < 8, time.time() - start'
ok "an idle kept-alive connection is closed after http-request-timeout too" py '
c = C(); c.send(get(POLICY)); assert c.answer()[0] == 200; start = time.time()
assert c.closed(); assert 2 <= time.time() - start < 8, time.time() - start'
ok "a lookup proof asked with l twice is refused (400)" py '
c = C(); c.send(get("/.well-known/sealmail/v1/jedi.test/lookup/pc53ux1dyd1rjnpyonebrx3aemurd8pf?l=luke&l=leia"))
assert c.answer()[0] == 400'
ok "the workers are still the ones that started" test "$(pgrep -x sealmaild-https | sort | tr '\n' ' ')" = "$workers_before"
ok "curl still finds Luke's key" curl -sf -o /dev/null \
	https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/hu/pc53ux1dyd1rjnpyonebrx3aemurd8pf

kill "$DPID"
st=0
wait "$DPID" || st=$?
ok "sealmaild stops on SIGTERM with its workers (exit 0)" test "$st" = 0
ok "and no worker is left" bash -c '! pgrep -x sealmaild-https'

done_testing
