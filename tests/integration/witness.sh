#!/bin/bash
# sealmail witness: init and add-log with their refusals, then the HTTP
# server on loopback inside private namespaces: honest epochs of a tiny log
# (empty deltas, built here with Python and signed with openssl) are
# cosigned, every kind of bad request gets its status, and the state
# survives a restart. The end to end run with sealmaild is in its own test.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"
netns_enter "$@"
netns_hosts "127.0.0.1 witness.test"

W=$T/w
PORT=8731
URL=http://127.0.0.1:$PORT/sealmail-witness/v1
ORIGIN=jedi.test/sealmail-kt
OTHER=sith.test/sealmail-kt

# mklog.py vkey KEY NAME | req KEY ORIGIN EPOCH OLD | cosigned VKEYFILE REQ LINE:
# a log whose every epoch has an empty delta and the empty map, epoch e at
# time 1700000000 + 10e; and a check of a witness's cosignature line.
cat >"$T/mklog.py" <<'PY'
import base64, hashlib, struct, subprocess, sys, tempfile

def b64(b):
    return base64.b64encode(b).decode()

def pubkey(pem):
    der = subprocess.run(["openssl", "pkey", "-in", pem, "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return der[-32:]

def key_id(name, pk):
    return hashlib.sha256(name.encode() + b"\n" + b"\x01" + pk).digest()[:4]

def sign(pem, msg):
    # Ed25519 signs in one shot, which needs a file, not a pipe
    with tempfile.NamedTemporaryFile() as f:
        f.write(msg)
        f.flush()
        return subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", pem, "-in", f.name],
                              check=True, capture_output=True).stdout

def mth(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()

def delta(e):
    return b"sealmail-delta/v1\n" + struct.pack(">Q", e)

def entry(e):
    empty = hashlib.sha256(b"\x02").digest()
    return ("sealmail-epoch/v1\nepoch %d\ntime %d\nmap %s\ndelta %s\n" %
            (e, 1700000000 + 10 * e, b64(empty), b64(hashlib.sha256(delta(e)).digest()))).encode()

def request(pem, origin, e, old):
    name = origin
    pk = pubkey(pem)
    leaves = [hashlib.sha256(b"\x00" + entry(i)).digest() for i in range(e + 1)]
    body = ("%s\n%d\n%s\nsealmail-map %d %s %s\n" %
            (origin, e + 1, b64(mth(leaves)), e, b64(hashlib.sha256(b"\x02").digest()),
             b64(b"\x42" * 32))).encode()
    sig = key_id(name, pk) + sign(pem, body)
    note = body + b"\n" + ("\u2014 %s %s\n" % (name, b64(sig))).encode()
    out = b"old %d\n" % old
    for word, field in ((b"entry", entry(e)), (b"delta", delta(e)), (b"checkpoint", note)):
        out += word + b" %d\n" % len(field) + field
    sys.stdout.buffer.write(out)

def cosigned(vkey, req, line):
    """Checks a cosignature/v1 line over the checkpoint in req with openssl."""
    name, kid, key = vkey.split("+", 2)
    key = base64.b64decode(key)
    assert key[0] == 4 and len(key) == 33
    body = req[req.rindex(b"checkpoint "):].split(b"\n", 1)[1]
    body = body[:body.index(b"\n\n") + 1]
    dash, lname, sig = line.decode().rstrip("\n").split(" ")
    assert dash == "\u2014" and lname == name
    sig = base64.b64decode(sig)
    assert sig[:4].hex() == kid and len(sig) == 4 + 8 + 64
    msg = b"cosignature/v1\ntime %d\n" % struct.unpack(">Q", sig[4:12])[0] + body
    der = bytes.fromhex("302a300506032b6570032100") + key[1:]
    with tempfile.NamedTemporaryFile() as k, tempfile.NamedTemporaryFile() as m, \
         tempfile.NamedTemporaryFile() as s:
        for f, data in ((k, der), (m, msg), (s, sig[12:])):
            f.write(data)
            f.flush()
        subprocess.run(["openssl", "pkeyutl", "-verify", "-rawin", "-pubin", "-keyform", "DER",
                        "-inkey", k.name, "-in", m.name, "-sigfile", s.name],
                       check=True, capture_output=True)

if sys.argv[1] == "cosigned":
    cosigned(open(sys.argv[2]).read().strip(), open(sys.argv[3], "rb").read(),
             open(sys.argv[4], "rb").read())
elif sys.argv[1] == "vkey":
    pk = pubkey(sys.argv[2])
    name = sys.argv[3]
    print("%s+%s+%s" % (name, key_id(name, pk).hex(), b64(b"\x01" + pk)))
else:
    request(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
PY
openssl genpkey -algorithm ed25519 -out "$T/log.pem" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$T/evil.pem" 2>/dev/null
VKEY=$(python3 "$T/mklog.py" vkey "$T/log.pem" "$ORIGIN")
req() { python3 "$T/mklog.py" req "$@"; }
req "$T/log.pem" "$ORIGIN" 0 0 >"$T/e0"
req "$T/log.pem" "$ORIGIN" 1 1 >"$T/e1"
req "$T/evil.pem" "$ORIGIN" 1 1 >"$T/e1-evil"
req "$T/log.pem" "$OTHER" 0 0 >"$T/other"
printf 'old 0\nentry 3\nabc' >"$T/garbage"

# ---- init and add-log ----

ok "init prints the witness's cosignature vkey" bash -c \
	"'$SEALMAIL' witness init '$W' witness.example/w1 >'$T/vkey' && grep -Eq '^witness\.example/w1\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$' '$T/vkey'"
ok "the folder is 0700, the key 0600" bash -c \
	"[ \$(stat -c %a '$W') = 700 ] && [ \$(stat -c %a '$W/witness.key') = 600 ] && grep -q '^PRIVATE+KEY+witness.example/w1+' '$W/witness.key'"
ok "init refuses to replace a key" status_is 73 "$SEALMAIL" witness init "$W" other
ok "init refuses a bad name and creates nothing" bash -c \
	"! '$SEALMAIL' witness init '$T/w2' 'bad name' 2>/dev/null && [ ! -e '$T/w2' ]"
ok "add-log refuses a malformed vkey" status_is 65 "$SEALMAIL" witness add-log "$W" "$ORIGIN" nonsense
ok "add-log refuses a cosignature key as a log key" status_is 65 \
	"$SEALMAIL" witness add-log "$W" "$ORIGIN" "$(cat "$T/vkey")"
ok "add-log refuses an origin with a space" status_is 65 "$SEALMAIL" witness add-log "$W" "a b" "$VKEY"
ok "add-log refuses a folder that is no witness" status_is 66 "$SEALMAIL" witness add-log "$T" "$ORIGIN" "$VKEY"
ok "add-log registers the log" "$SEALMAIL" witness add-log "$W" "$ORIGIN" "$VKEY"
STATE=$W/state/$(printf %s "$ORIGIN" | sha256sum | cut -c1-64)
ok "the logs file names it and its state file exists" bash -c \
	"grep -qxF 'log $ORIGIN $VKEY' '$W/logs' && [ -s '$STATE' ] && [ \$(stat -c %a '$STATE') = 600 ]"
ok "add-log refuses a duplicate" status_is 65 "$SEALMAIL" witness add-log "$W" "$ORIGIN" "$VKEY"
ok "serve refuses a bad --listen" status_is 64 "$SEALMAIL" witness serve "$W" --listen nowhere

# ---- serve ----

PID=
start() {
	"$SEALMAIL" witness serve "$W" --listen "127.0.0.1:$PORT" "$@" 2>>"$T/serve.log" &
	PID=$!
	for _ in $(seq 50); do
		curl -s "$URL/size/$ORIGIN" >/dev/null 2>&1 && return 0
		kill -0 "$PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
stop() { # SIGNAL
	[ -n "$PID" ] || return 1
	kill "-$1" "$PID" && wait "$PID"
	local st=$?
	PID=
	return $st
}
post() { # FILE WANT-STATUS [WANT-BODY-PREFIX]
	local got
	got=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary "@$1" "$URL/add-epoch")
	[ "$got" = "$2" ] || { echo "status $got, wanted $2: $(cat "$T/body")" >&2; return 1; }
	[ -z "${3:-}" ] || grep -q "^$3" "$T/body" || { echo "body: $(cat "$T/body")" >&2; return 1; }
}
size_is() { [ "$(curl -s "$URL/size/$ORIGIN")" = "$1" ]; }

start
ok "the server is up" kill -0 "$PID"
ok "it is confined: a seccomp filter, no new privileges, and it says so" bash -c \
	"grep -q '^Seccomp:[[:space:]]*2$' /proc/$PID/status && grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/$PID/status && grep -q 'listening on 127.0.0.1 port $PORT, 1 logs; confined by seccomp' '$T/serve.log'"
ok "a new log has size 0" size_is 0
ok "a malformed request gets 400" post "$T/garbage" 400
ok "an unknown origin gets 403" post "$T/other" 403 "unknown origin"
ok "an epoch signed by another key gets 403" post "$T/e1-evil" 403
ok "an epoch past the witness's size gets 409 and its size" post "$T/e1" 409 "0"
ok "an honest epoch is cosigned" post "$T/e0" 200 "— witness.example/w1 "
ok "the size moved to 1" size_is 1
ok "the cosignature verifies with openssl over the checkpoint" \
	python3 "$T/mklog.py" cosigned "$T/vkey" "$T/e0" "$T/body"
ok "the same epoch again is cosigned again (a log that crashed asks twice)" post "$T/e0" 200 "— witness.example/w1 "
ok "and the size did not move" size_is 1
ok "GET on add-epoch gets 405" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/add-epoch') = 405 ]"
ok "an unknown log's size is 404" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/size/nope') = 404 ]"
ok "SIGTERM stops it cleanly" stop TERM
ok "one log line per request" bash -c "[ \$(grep -c 'sealmail witness: 127.0.0.1:[0-9]* ' '$T/serve.log') -ge 11 ] &&
	grep -q 'POST 200 $ORIGIN size 1: cosigned' '$T/serve.log' && grep -q 'POST 403 unknown origin' '$T/serve.log'"

start
ok "the state survived the restart" size_is 1
ok "the last epoch is still cosigned again after the restart" post "$T/e0" 200 "— witness.example/w1 "
ok "the next epoch is cosigned" post "$T/e1" 200 "— witness.example/w1 "
ok "the size is 2" size_is 2
ok "an older epoch now gets 409 and the size" post "$T/e0" 409 "2"
ok "SIGINT stops it cleanly too" stop INT

start --max-body 100
ok "a body over --max-body is refused" bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' --data-binary @'$T/e1' '$URL/add-epoch') = 413 ]"
ok "and the state did not move" size_is 2
stop TERM

cp "$STATE" "$T/state.good"
printf 'x' | dd of="$STATE" bs=1 seek=40 conv=notrunc 2>/dev/null
ok "serve refuses a corrupted state file" bash -c \
	"! timeout 10 '$SEALMAIL' witness serve '$W' --listen 127.0.0.1:$PORT 2>'$T/corrupt.err' && grep -q 'state' '$T/corrupt.err'"
cp "$T/state.good" "$STATE"
chmod 644 "$W/witness.key"
ok "serve refuses a key others can read" status_is 78 "$SEALMAIL" witness serve "$W" --listen "127.0.0.1:$PORT"
chmod 600 "$W/witness.key"

[ -z "$PID" ] || kill "$PID" 2>/dev/null
done_testing
