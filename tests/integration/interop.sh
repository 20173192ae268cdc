#!/usr/bin/env bash
# interop.sh: sealmail against other OpenPGP implementations, both ways.
#
# Peers: gpg (GnuPG 2.2), sq and sqop (Sequoia), gosop (GopenPGP), rnp.
#
# Direction 1, sealmail -> peer: Lea seals a letter to the peer's address;
# the peer decrypts the armored OpenPGP part of the PGP/MIME message with its
# own secret key, verifies the signature with Lea's exported certificate, and
# the decrypted payload must carry hp="cipher", the protected Subject and
# From, and the original body bytes (CRLF-canonical).
#
# Direction 2, peer -> sealmail: the peer encrypts to Luke's exported
# certificate and signs a MIME entity; we wrap it as an RFC 3156 message;
# Luke imports the peer's certificate and `sealmail read` must say verified,
# name the peer, and print the body bytes unchanged. Also: an unsigned peer
# message (exit 1) and a message whose signer is not the From address (exit 2,
# nothing shown).
#
# Cases: a 1 KB letter, a 1 MB letter, 8-bit text declared ISO-8859-1, UTF-8
# text with a UTF-8 Subject, a multipart/mixed letter with a binary (base64)
# attachment, and a body with CRLF line ends, trailing white space, a
# "From " line and a trailing empty line.
#
# Known peer behaviour handled here (see TESTING.md section 3):
# - gosop's decrypt converts CRLF to LF and replaces each run of bytes that
#   is not valid UTF-8 with one U+FFFD (whoever made the message), so its
#   direction 1 payloads are compared with the expectation transformed the
#   same way (said in a TAP comment); what gosop encrypts keeps its bytes and
#   CRLF and is compared exactly.
# - sq pads by default: its literal data sits in a compressed packet with
#   padding after the deflate stream (for the 1 MB letter, about 32 KB; the
#   test also reads an unpadded copy to tell the two apart). rnp compresses
#   with ZIP; gpg, sqop and gosop do not compress for sealmail's keys.
# - rnp prints spurious errors on success: only its exit status and the
#   "Good signature" / fingerprint lines are used.
#
# Every peer call runs under `timeout 60`. Needs bash, python3 and the peers;
# a missing peer is reported as skipped.

source "$(dirname "$0")/lib.sh"

PEERS=(gpg sq sqop gosop rnp)
CASES=(small big latin1 utf8 attach crlf)

# gpg needs a short home folder (socket paths); everything else lives in $T.
G=$(mktemp -d /tmp/g.XXXXXX)
# INTEROP_KEEP=1 keeps the work folder $T for a look afterwards.
cleanup() {
	timeout 20 gpgconf --homedir "$G" --kill all >/dev/null 2>&1
	rm -rf "$G"
	if [ -n "${INTEROP_KEEP:-}" ]; then echo "# kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT

peer() { timeout 60 "$@"; }
py() { python3 "$T/interop.py" "$@"; }

skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

note() { echo "# $*"; }

# ---------------------------------------------------------------------------
# Python helpers: building the letters, wrapping and unwrapping PGP/MIME, and
# comparing what came out with what went in.
cat >"$T/interop.py" <<'PYEOF'
import base64, email, os, random, re, sys
from email.header import decode_header, make_header

def fail(msg):
    print(msg)
    sys.exit(1)

def rd(p):
    with open(p, 'rb') as f:
        return f.read()

def wr(p, b):
    with open(p, 'wb') as f:
        f.write(b)

# ---- the cases --------------------------------------------------------------
# Each case folder holds: kind (text|attach), body (the entity body exactly as
# it must come out, CRLF), ctype (the Content-* header lines, CRLF-joined),
# subject_raw (the Subject field body as written), subject (decoded, UTF-8),
# input_nl (the line end used for the direction 1 input) and attach.bin.

def gen_cases(top):
    rng = random.Random(1977)
    cases = {}
    # small: about 1 KB of ASCII
    lines, n = [], 0
    while n < 1024:
        l = b"Line %03d: Help me, Obi-Wan Kenobi. You're my only hope.\r\n" % len(lines)
        lines.append(l); n += len(l)
    cases['small'] = dict(kind='text', body=b''.join(lines),
        ctype=[b'Content-Type: text/plain; charset=us-ascii', b'Content-Transfer-Encoding: 7bit'],
        subject_raw=b'A small letter', subject='A small letter', input_nl=b'\n')
    # big: 1 MiB of ASCII text in 72-character lines
    alpha = b'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789.,;:!?'
    lines, n = [], 0
    while n < (1 << 20):
        l = bytes(rng.choice(alpha) for _ in range(72)).strip() + b'\r\n'
        lines.append(l); n += len(l)
    cases['big'] = dict(kind='text', body=b''.join(lines),
        ctype=[b'Content-Type: text/plain; charset=us-ascii', b'Content-Transfer-Encoding: 7bit'],
        subject_raw=b'A letter of one megabyte', subject='A letter of one megabyte', input_nl=b'\n')
    # latin1: 8-bit ISO-8859-1 text, RFC 2047 Subject in ISO-8859-1
    l1 = ('Café crème à la Tatooine, naïve façade, ¿Qué tal? © µ ß þ ÿ «»\r\n'
          'Ça coûte 5 € — non, pas en Latin-1: 5 EUR.\r\n').replace('€', 'EUR').replace('—', '-')
    cases['latin1'] = dict(kind='text', body=(l1 * 8).encode('iso-8859-1'),
        ctype=[b'Content-Type: text/plain; charset=iso-8859-1', b'Content-Transfer-Encoding: 8bit'],
        subject_raw=b'=?iso-8859-1?q?Caf=E9_cr=E8me_=E0_la_Tatooine?=',
        subject='Café crème à la Tatooine', input_nl=b'\n')
    # utf8: 8-bit UTF-8 text and a raw UTF-8 Subject (RFC 6532)
    u = ('Grüße aus Tatooine! Ça va? Ærø, Ελληνικά, Русский, עברית, العربية\r\n'
         '日本語のテキスト, 한국어, 中文 — emoji: 🚀🌌✨, combining: e\u0301, nbsp:[\u00a0]\r\n')
    subj = 'Grüße aus Tatooine — 日本語 🚀'
    cases['utf8'] = dict(kind='text', body=(u * 6).encode('utf-8'),
        ctype=[b'Content-Type: text/plain; charset=utf-8', b'Content-Transfer-Encoding: 8bit'],
        subject_raw=subj.encode('utf-8'), subject=subj, input_nl=b'\n')
    # attach: multipart/mixed with a text part and 3000 random bytes in base64
    blob = bytes(rng.getrandbits(8) for _ in range(3000))
    b64 = base64.b64encode(blob)
    b64l = b'\r\n'.join(b64[i:i + 76] for i in range(0, len(b64), 76))
    bnd = b'sm-interop-mixed-b0undary'
    body = (b'This is a multi-part message in MIME format.\r\n'
            b'--' + bnd + b'\r\n'
            b'Content-Type: text/plain; charset=utf-8\r\n'
            b'Content-Transfer-Encoding: 7bit\r\n\r\n'
            b'Here are the plans.\r\n'
            b'--' + bnd + b'\r\n'
            b'Content-Type: application/octet-stream; name="plans.bin"\r\n'
            b'Content-Transfer-Encoding: base64\r\n'
            b'Content-Disposition: attachment; filename="plans.bin"\r\n\r\n'
            + b64l + b'\r\n'
            b'--' + bnd + b'--\r\n')
    cases['attach'] = dict(kind='attach', body=body, attach=blob,
        ctype=[b'Content-Type: multipart/mixed; boundary="' + bnd + b'"'],
        subject_raw=b'Death Star plans', subject='Death Star plans', input_nl=b'\n')
    # crlf: CRLF input, trailing white space, a "From " line, a lone dot,
    # a signature separator and a trailing empty line
    body = (b'Line one\r\n'
            b'  indented line\r\n'
            b'From the desk of Lea Organa\r\n'
            b'.\r\n'
            b'trailing spaces   \r\n'
            b'\ttab line\t\r\n'
            b'\r\n'
            b'-- \r\n'
            b'Lea\r\n'
            b'\r\n')
    cases['crlf'] = dict(kind='text', body=body,
        ctype=[b'Content-Type: text/plain; charset=us-ascii', b'Content-Transfer-Encoding: 7bit'],
        subject_raw=b'Line ends', subject='Line ends', input_nl=b'\r\n')
    for name, c in cases.items():
        d = os.path.join(top, name)
        os.makedirs(d, exist_ok=True)
        wr(os.path.join(d, 'kind'), c['kind'].encode())
        wr(os.path.join(d, 'body'), c['body'])
        wr(os.path.join(d, 'ctype'), b'\r\n'.join(c['ctype']))
        wr(os.path.join(d, 'subject_raw'), c['subject_raw'])
        wr(os.path.join(d, 'subject'), c['subject'].encode('utf-8'))
        wr(os.path.join(d, 'input_nl'), c['input_nl'])
        if 'attach' in c:
            wr(os.path.join(d, 'attach.bin'), c['attach'])

def load_case(d):
    c = {k: rd(os.path.join(d, k)) for k in ('kind', 'body', 'ctype', 'subject_raw', 'subject', 'input_nl')}
    c['kind'] = c['kind'].decode()
    c['subject'] = c['subject'].decode('utf-8')
    c['ctype'] = c['ctype'].split(b'\r\n')
    p = os.path.join(d, 'attach.bin')
    c['attach'] = rd(p) if os.path.exists(p) else None
    return c

DATE = b'Date: Sat, 28 Nov 2026 12:00:00 +0000'

# d1msg CASEDIR OUT TO TAG: the cleartext letter Lea seals.
def cmd_d1msg(casedir, out, to, tag):
    c = load_case(casedir)
    nl = c['input_nl']
    name = to.split('@')[0].capitalize() + ' Peer'
    hdr = [b'From: Lea Organa <lea@rebels.test>', b'To: ' + name.encode() + b' <' + to.encode() + b'>',
           b'Subject: ' + c['subject_raw'], DATE, b'Message-ID: <' + tag.encode() + b'@rebels.test>',
           b'MIME-Version: 1.0'] + c['ctype']
    wr(out, nl.join(hdr) + nl + nl + c['body'].replace(b'\r\n', nl))

# d2entity CASEDIR OUT legacy|hp FROM TO TAG: the MIME entity a peer encrypts.
# legacy: only the Content-* fields; hp: RFC 9788 protected headers inside.
def cmd_d2entity(casedir, out, mode, frm, to, tag):
    c = load_case(casedir)
    if mode == 'hp':
        ct = c['ctype'][0] + b'; hp="cipher"'
        hdr = [ct, b'From: ' + frm.encode(), b'To: Luke <' + to.encode() + b'>',
               b'Subject: ' + c['subject_raw'], DATE,
               b'Message-ID: <' + tag.encode() + b'@peers.test>'] + c['ctype'][1:]
    else:
        hdr = c['ctype']
    wr(out, b'\r\n'.join(hdr) + b'\r\n\r\n' + c['body'])

# d2wrap ARMOR OUT FROM TO CASEDIR legacy|hp TAG: the RFC 3156 message around it.
def cmd_d2wrap(armor, out, frm, to, casedir, mode, tag):
    c = load_case(casedir)
    a = rd(armor).replace(b'\r\n', b'\n').rstrip(b'\n').split(b'\n')
    if not a[0].startswith(b'-----BEGIN PGP MESSAGE-----'):
        fail('the peer did not write an armored OpenPGP message: %r' % a[0][:60])
    subj = b'[...]' if mode == 'hp' else c['subject_raw']
    bnd = b'sm-interop-encrypted-b0undary'
    lines = [b'From: ' + frm.encode(), b'To: Luke <' + to.encode() + b'>', b'Subject: ' + subj, DATE,
             b'Message-ID: <' + tag.encode() + b'@peers.test>', b'MIME-Version: 1.0',
             b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";',
             b' boundary="' + bnd + b'"', b'',
             b'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)',
             b'--' + bnd,
             b'Content-Type: application/pgp-encrypted',
             b'Content-Description: PGP/MIME version identification', b'',
             b'Version: 1', b'',
             b'--' + bnd,
             b'Content-Type: application/octet-stream; name="encrypted.asc"',
             b'Content-Description: OpenPGP encrypted message',
             b'Content-Disposition: inline; filename="encrypted.asc"', b''] + a + [
             b'', b'--' + bnd + b'--', b'']
    wr(out, b'\r\n'.join(lines))

# ---- checks -----------------------------------------------------------------
def headers(head):
    """[(lowercase name, unfolded raw value bytes)] of a header section."""
    out = []
    for line in re.split(rb'\r?\n', head):
        if not line:
            continue
        if line[:1] in (b' ', b'\t') and out:
            out[-1][1] += line
        elif b':' in line:
            k, v = line.split(b':', 1)
            out.append([k.strip().lower().decode('ascii', 'replace'), v.lstrip(b' \t')])
        else:
            fail('not a header line: %r' % line[:80])
    return out

def get1(hs, name):
    v = [v for k, v in hs if k == name]
    if len(v) != 1:
        fail('%d %s fields in the header section, wanted 1' % (len(v), name))
    return v[0]

def decode_hdr(b):
    try:
        s = b.decode('utf-8')
    except UnicodeDecodeError:
        fail('header field is not UTF-8: %r' % b[:80])
    return str(make_header(decode_header(s)))

def same(what, got, want):
    if got == want:
        return
    i = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), min(len(got), len(want)))
    fail('%s differs: got %d bytes, want %d; first difference at byte %d:\n  got  %r\n  want %r'
         % (what, len(got), len(want), i, got[max(0, i - 20):i + 40], want[max(0, i - 20):i + 40]))

# outer SEALED ARMOR_OUT: checks the RFC 3156 structure of what sealmail wrote
# and writes the armored OpenPGP message (LF line ends) to ARMOR_OUT.
def cmd_outer(path, out):
    data = rd(path)
    bare = len(re.findall(rb'(?<!\r)\n', data))
    if bare:
        fail('%d bare LF line ends in the sealed message' % bare)
    i = data.find(b'\r\n\r\n')
    if i < 0:
        fail('no header section')
    hs = headers(data[:i])
    if any(k == 'bcc' for k, _ in hs):
        fail('outer header section has Bcc')
    s = get1(hs, 'subject')
    if s.strip() != b'[...]':
        fail('outer Subject is %r, wanted [...]' % s)
    m = email.message_from_bytes(data)
    if m.get_content_type() != 'multipart/encrypted':
        fail('outer type is %s' % m.get_content_type())
    if (m.get_param('protocol') or '').lower() != 'application/pgp-encrypted':
        fail('protocol parameter is %r' % m.get_param('protocol'))
    parts = m.get_payload()
    if not isinstance(parts, list) or len(parts) != 2:
        fail('multipart/encrypted does not have exactly 2 parts')
    if parts[0].get_content_type() != 'application/pgp-encrypted':
        fail('first part is %s' % parts[0].get_content_type())
    if not re.search(rb'(?m)^Version: 1\r?$', parts[0].get_payload(decode=True)):
        fail('first part has no "Version: 1" line')
    if parts[1].get_content_type() != 'application/octet-stream':
        fail('second part is %s' % parts[1].get_content_type())
    p = parts[1].get_payload(decode=True).replace(b'\r\n', b'\n')
    a = re.search(rb'(?ms)^-----BEGIN PGP MESSAGE-----\n.*?^-----END PGP MESSAGE-----$', p)
    if not a:
        fail('second part holds no armored OpenPGP message')
    wr(out, a.group(0) + b'\n')

# entity FILE CASEDIR crlf|gosop FROM hp|any: checks a decrypted payload
# (direction 1) or what sealmail read printed (direction 2) against the case.
# gosop mode expects what gosop's decrypt makes of the bytes: LF line ends and
# every run of bytes that is not UTF-8 replaced by one U+FFFD.
def cmd_entity(path, casedir, mode, frm, hp):
    c = load_case(casedir)
    data = rd(path)
    nl = b'\n' if mode == 'gosop' else b'\r\n'
    want_body = c['body']
    if mode == 'gosop':
        # Go's strings.ToValidUTF8: one U+FFFD for each run of invalid bytes
        u = want_body.replace(b'\r\n', b'\n').decode('utf-8', 'surrogateescape')
        want_body = re.sub('[\udc80-\udcff]+', '\ufffd', u).encode('utf-8')
    i = data.find(nl + nl)
    if i < 0:
        fail('no empty line after the header section (%d bytes)' % len(data))
    head, body = data[:i + len(nl)], data[i + 2 * len(nl):]
    if mode == 'crlf' and re.search(rb'(?<!\r)\n', head):
        fail('bare LF in the header section')
    hs = headers(head)
    subj = decode_hdr(get1(hs, 'subject'))
    if subj != c['subject']:
        fail('Subject is %r, wanted %r' % (subj, c['subject']))
    f = decode_hdr(get1(hs, 'from'))
    if frm.lower() not in f.lower():
        fail('From is %r, wanted %s' % (f, frm))
    m = email.message_from_bytes(data)
    want_type = c['ctype'][0].split(b':', 1)[1].split(b';')[0].strip().decode().lower()
    if m.get_content_type() != want_type:
        fail('Content-Type is %s, wanted %s' % (m.get_content_type(), want_type))
    cs = re.search(rb'charset=([^;\s]+)', c['ctype'][0])
    if cs and (m.get_param('charset') or '').lower() != cs.group(1).decode().lower():
        fail('charset is %r, wanted %s' % (m.get_param('charset'), cs.group(1).decode()))
    if hp == 'hp' and m.get_param('hp') != 'cipher':
        fail('Content-Type %r lacks hp="cipher"' % get1(hs, 'content-type'))
    if c['kind'] == 'attach':
        att = [p for p in m.walk() if p.get_filename() == 'plans.bin']
        if len(att) != 1:
            fail('%d attachments named plans.bin' % len(att))
        same('decoded attachment', att[0].get_payload(decode=True), c['attach'])
        txt = [p for p in m.walk() if p.get_content_type() == 'text/plain']
        if len(txt) != 1 or txt[0].get_payload(decode=True).rstrip(b'\r\n') != b'Here are the plans.':
            fail('text part of the multipart/mixed letter is wrong')
    else:
        same('body', body, want_body)

cmds = {'gen': gen_cases, 'd1msg': cmd_d1msg, 'd2entity': cmd_d2entity, 'd2wrap': cmd_d2wrap,
        'outer': cmd_outer, 'entity': cmd_entity}
cmds[sys.argv[1]](*sys.argv[2:])
PYEOF

# ---------------------------------------------------------------------------
# sealmail users: Lea (sends in direction 1) and Luke (reads in direction 2).
LEA=$T/lea
LUKE=$T/luke
mkdir -m 700 "$LEA" "$LUKE" "$T/cases"
py gen "$T/cases"

fpr_of() { awk '$1 == "fingerprint" { print $2 }' "$1"; }
keygen() { sm "$1" keygen "$2" >"$3"; }
ok "sealmail keygen lea@rebels.test" keygen "$LEA" lea@rebels.test "$T/lea.keygen"
ok "sealmail keygen luke@jedi.test" keygen "$LUKE" luke@jedi.test "$T/luke.keygen"
LEA_FPR=$(fpr_of "$T/lea.keygen")
LUKE_FPR=$(fpr_of "$T/luke.keygen")
export_cert() { sm "$1" export "$2" >"$3" && grep -q 'BEGIN PGP PUBLIC KEY BLOCK' "$3"; }
ok "sealmail export lea@rebels.test" export_cert "$LEA" lea@rebels.test "$T/lea.asc"
ok "sealmail export luke@jedi.test" export_cert "$LUKE" luke@jedi.test "$T/luke.asc"
note "Lea $LEA_FPR, Luke $LUKE_FPR"

# ---------------------------------------------------------------------------
# Peer adapters. For each peer P:
#   P_setup DIR           make P's key for P@peers.test; write DIR/cert.asc
#   P_decrypt IN OUT LOG  decrypt IN to OUT; succeed only when the signature is
#                         good and made by Lea's key (LEA_FPR)
#   P_encrypt IN OUT sign|nosign  encrypt IN to Luke's certificate, armored,
#                         signing with P's key or not
# Each one leaves its evidence (status output, stderr) in files it prints on
# failure.

show() { for f in "$@"; do [ -s "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }; done; return 1; }

# gpg: ed25519 primary (sign, certify) + cv25519 subkey, no passphrase.
GPG=(gpg --homedir "$G" --batch --no-tty --pinentry-mode loopback --passphrase ''
	--trust-model always)
gpg_setup() {
	local d=$1
	peer "${GPG[@]}" --status-fd 3 --quick-gen-key gpg@peers.test ed25519 sign,cert never \
		3>"$d/gen.status" 2>"$d/gen.err" || return 1
	local f
	f=$(awk '$2 == "KEY_CREATED" { print $4 }' "$d/gen.status")
	[ -n "$f" ] || show "$d/gen.status" "$d/gen.err" || return 1
	peer "${GPG[@]}" --quick-add-key "$f" cv25519 encr never 2>>"$d/gen.err" || return 1
	peer "${GPG[@]}" --armor --export gpg@peers.test >"$d/cert.asc" 2>>"$d/gen.err" || return 1
	peer "${GPG[@]}" --import "$T/lea.asc" 2>>"$d/gen.err" || return 1
}
gpg_decrypt() {
	local in=$1 out=$2 log=$3
	peer "${GPG[@]}" --yes --status-fd 3 --output "$out" --decrypt "$in" 3>"$log.status" 2>"$log.err" ||
		show "$log.status" "$log.err" || return 1
	# VALIDSIG <sig key fpr> ... <primary fpr>
	awk -v f="$LEA_FPR" '$2 == "VALIDSIG" && $NF == f { v = 1 } $2 == "GOODSIG" { g = 1 }
		$2 == "DECRYPTION_OKAY" { d = 1 } $2 == "BADSIG" || $2 == "ERRSIG" { b = 1 }
		END { exit !(v && g && d && !b) }' "$log.status" || show "$log.status" || return 1
	echo "gpg: $(grep -E 'VALIDSIG' "$log.status")"
}
# What pgp.h promises for sealed messages: SEIPDv1 (MDC), AES-256, binary
# literal data, no compression. gpg checks the first three
# (DECRYPTION_INFO <mdc> <cipher> <aead>, PLAINTEXT <format>), sq the cipher
# and the absence of compression.
gpg_shape() {
	local log=$1
	grep -q '^\[GNUPG:\] DECRYPTION_INFO 2 9 0' "$log.status" &&
		grep -q '^\[GNUPG:\] GOODMDC' "$log.status" &&
		grep -q '^\[GNUPG:\] PLAINTEXT 62 ' "$log.status" || show "$log.status"
}
gpg_encrypt() {
	local in=$1 out=$2 sign=$3 args=(--armor --encrypt --recipient-file "$T/luke.asc")
	[ "$sign" = sign ] && args+=(--sign --local-user gpg@peers.test)
	peer "${GPG[@]}" --yes --output "$out" "${args[@]}" "$in" 2>"$out.err" || show "$out.err"
}

# sq: its default cv25519 key (primary certifies; signing, encryption and
# authentication subkeys).
sq_setup() {
	local d=$1
	peer sq key generate --userid sq@peers.test --export "$d/key.pgp" 2>"$d/gen.err" &&
		peer sq key extract-cert --output "$d/cert.asc" "$d/key.pgp" 2>>"$d/gen.err" ||
		show "$d/gen.err"
}
sq_decrypt() {
	local in=$1 out=$2 log=$3
	# With a --signer-cert the threshold is one good signature by that
	# certificate: exit 0 means Lea signed it.
	peer sq decrypt --recipient-key "$T/sq/key.pgp" --signer-cert "$T/lea.asc" --output "$out" \
		"$in" 2>"$log.err" || show "$log.err" || return 1
	grep -q '^1 good signature' "$log.err" && grep -qi "Good signature from ${LEA_FPR: -16}" "$log.err" ||
		show "$log.err" || return 1
	echo "sq: $(grep 'Good signature from' "$log.err")"
}
sq_shape() {
	local log=$1
	grep -q '^Encrypted using AES-256' "$log.err" && ! grep -q '^Compressed using' "$log.err" ||
		show "$log.err"
}
sq_encrypt() {
	local in=$1 out=$2 sign=$3 args=(--recipient-cert "$T/luke.asc")
	[ "$sign" = sign ] && args+=(--signer-key "$T/sq/key.pgp")
	peer sq encrypt "${args[@]}" --output "$out" "$in" 2>"$out.err" || show "$out.err"
}

# sqop and gosop: stateless, key files only.
sqop_setup() {
	local d=$1
	peer sqop generate-key sqop@peers.test >"$d/key.asc" 2>"$d/gen.err" &&
		peer sqop extract-cert <"$d/key.asc" >"$d/cert.asc" 2>>"$d/gen.err" || show "$d/gen.err"
}
sqop_decrypt() {
	local in=$1 out=$2 log=$3
	peer sqop decrypt --verify-with "$T/lea.asc" --verifications-out "$log.verif" "$T/sqop/key.asc" \
		<"$in" >"$out" 2>"$log.err" || show "$log.err" || return 1
	# DATE SIGNING-KEY-FPR PRIMARY-FPR
	awk -v f="$LEA_FPR" 'toupper($3) == f { v = 1 } END { exit !v }' "$log.verif" ||
		show "$log.verif" "$log.err" || return 1
	echo "sqop: $(cat "$log.verif")"
}
sqop_encrypt() {
	local in=$1 out=$2 sign=$3 args=()
	[ "$sign" = sign ] && args+=(--sign-with "$T/sqop/key.asc")
	peer sqop encrypt "${args[@]}" "$T/luke.asc" <"$in" >"$out" 2>"$out.err" || show "$out.err"
}

gosop_setup() {
	local d=$1
	peer gosop generate-key gosop@peers.test >"$d/key.asc" 2>"$d/gen.err" &&
		peer gosop extract-cert <"$d/key.asc" >"$d/cert.asc" 2>>"$d/gen.err" || show "$d/gen.err"
}
gosop_decrypt() {
	local in=$1 out=$2 log=$3
	# Exit 99 would mean no signature verified.
	peer gosop decrypt --verify-with "$T/lea.asc" --verify-out "$log.verif" "$T/gosop/key.asc" \
		<"$in" >"$out" 2>"$log.err" || show "$log.err" || return 1
	grep -qi " $LEA_FPR\$\| $LEA_FPR " "$log.verif" || show "$log.verif" "$log.err" || return 1
	echo "gosop: $(cat "$log.verif")"
}
gosop_encrypt() {
	local in=$1 out=$2 sign=$3 args=()
	[ "$sign" = sign ] && args+=(--sign-with "$T/gosop/key.asc")
	peer gosop encrypt "${args[@]}" "$T/luke.asc" <"$in" >"$out" 2>"$out.err" || show "$out.err"
}

# rnp: EdDSA + X25519 through the --expert menu (choice 22), empty password
# meaning an unprotected secret key; its own keyring folder.
RNP_HOME=$T/rnp/home
RNP=(rnp --homedir "$RNP_HOME" --notty --password '')
rnp_setup() {
	local d=$1
	mkdir -m 700 "$RNP_HOME"
	echo 22 | peer rnpkeys --homedir "$RNP_HOME" --notty --expert --generate-key \
		--userid rnp@peers.test --password '' >"$d/gen.out" 2>&1 || show "$d/gen.out" || return 1
	peer rnpkeys --homedir "$RNP_HOME" --notty --export-key rnp@peers.test >"$d/cert.asc" \
		2>>"$d/gen.out" || show "$d/gen.out" || return 1
	grep -q 'BEGIN PGP PUBLIC KEY BLOCK' "$d/cert.asc" || show "$d/cert.asc" || return 1
	peer rnpkeys --homedir "$RNP_HOME" --notty --import "$T/lea.asc" >>"$d/gen.out" 2>&1 &&
		peer rnpkeys --homedir "$RNP_HOME" --notty --import "$T/luke.asc" >>"$d/gen.out" 2>&1 ||
		show "$d/gen.out"
}
rnp_decrypt() {
	local in=$1 out=$2 log=$3 lower=${LEA_FPR,,}
	peer "${RNP[@]}" --decrypt --overwrite --output "$out" "$in" >"$log.err" 2>&1 ||
		show "$log.err" || return 1
	# "Good signature made ..." followed by the signer's key listing with its fingerprint.
	grep -q '^Good signature made' "$log.err" && grep -q "^ *$lower\$" "$log.err" &&
		grep -q 'Signature(s) verified successfully' "$log.err" && ! grep -qi 'BAD signature' "$log.err" ||
		show "$log.err" || return 1
	echo "rnp: good signature, key listing shows $lower"
}
rnp_encrypt() {
	local in=$1 out=$2 sign=$3 args=(--encrypt --recipient luke@jedi.test)
	[ "$sign" = sign ] && args+=(--sign --userid rnp@peers.test)
	peer "${RNP[@]}" "${args[@]}" --armor --overwrite --output "$out" "$in" >"$out.err" 2>&1 ||
		show "$out.err"
}

# ---------------------------------------------------------------------------
# Steps shared by the peers.

# seal_and_extract D: Lea seals D/letter; the outer structure is checked and
# the armored OpenPGP message goes to D/msg.asc.
seal_and_extract() {
	local d=$1
	sm "$LEA" seal <"$d/letter" >"$d/sealed" 2>"$d/seal.err" || show "$d/seal.err" || return 1
	py outer "$d/sealed" "$d/msg.asc"
}

# read_is WANT D PATTERN: Luke reads D/mail; exit status WANT and PATTERN
# (fixed string) on stderr.
read_is() {
	local want=$1 d=$2 pat=$3 got=0
	sm "$LUKE" read "$d/mail" >"$d/out" 2>"$d/err" || got=$?
	if [ "$got" != "$want" ]; then
		echo "sealmail read exited $got, wanted $want"
		show "$d/err"
		return 1
	fi
	grep -qF -- "$pat" "$d/err" || { echo "stderr lacks: $pat"; show "$d/err"; }
}
only_own_lines() { ! grep -v '^sealmail: ' "$1"; }
empty() { [ ! -s "$1" ] || { echo "$1 is not empty:"; head -c 300 "$1"; echo; return 1; }; }

# other PEER: the next peer in the list, whose address a forger claims.
other() {
	local i
	for i in "${!PEERS[@]}"; do
		[ "${PEERS[$i]}" = "$1" ] && { echo "${PEERS[$(((i + 1) % ${#PEERS[@]}))]}"; return; }
	done
}

declare -A PEER_FPR

import_to() { sm "$1" import "$2" >"$3"; }

run_peer() {
	local p=$1 addr=$1@peers.test d c mode sfx hp
	mkdir -p "$T/$p"
	if ! ok "$p: key for $addr made by $p" "${p}_setup" "$T/$p"; then
		return
	fi
	ok "sealmail import of $p's certificate (Lea)" sm "$LEA" import "$T/$p/cert.asc"
	ok "sealmail import of $p's certificate (Luke)" import_to "$LUKE" "$T/$p/cert.asc" "$T/$p/import.out"
	PEER_FPR[$p]=$(awk '$1 == "imported" { print $3 }' "$T/$p/import.out")
	note "$p key ${PEER_FPR[$p]}"

	# Direction 1: sealmail -> peer.
	mode=crlf sfx=
	if [ "$p" = gosop ]; then
		mode=gosop sfx=" (as gosop outputs it)"
		note "gosop's decrypt converts CRLF to LF (TESTING.md 3) and replaces bytes that are not" \
			"UTF-8 with U+FFFD (seen here with the Latin-1 letter, whoever encrypted it): its" \
			"direction 1 payloads are compared with the expectation transformed the same way"
	fi
	for c in "${CASES[@]}"; do
		d=$T/d1/$p-$c
		mkdir -p "$d"
		py d1msg "$T/cases/$c" "$d/letter" "$addr" "$c-$p"
		ok "sealmail -> $p: $c: Lea seals to $addr (RFC 3156, outer Subject [...])" seal_and_extract "$d"
		ok "sealmail -> $p: $c: $p decrypts, good signature by Lea $LEA_FPR" \
			"${p}_decrypt" "$d/msg.asc" "$d/payload" "$d/log"
		if declare -F "${p}_shape" >/dev/null; then
			ok "sealmail -> $p: $c: $p sees the promised shape (SEIPDv1 with MDC, AES-256, ...)" \
				"${p}_shape" "$d/log"
		fi
		ok "sealmail -> $p: $c: payload has hp=\"cipher\", protected Subject and From, same body$sfx" \
			py entity "$d/payload" "$T/cases/$c" "$mode" lea@rebels.test hp
	done

	# Direction 2: peer -> sealmail.
	for c in "${CASES[@]}"; do
		d=$T/d2/$p-$c
		mkdir -p "$d"
		hp=legacy
		case $c in utf8 | attach) hp=hp ;; esac
		py d2entity "$T/cases/$c" "$d/entity" "$hp" "$addr" luke@jedi.test "$c-$p"
		ok "$p -> sealmail: $c: $p encrypts to Luke and signs ($hp headers)" \
			"${p}_encrypt" "$d/entity" "$d/enc.asc" sign
		py d2wrap "$d/enc.asc" "$d/mail" "$addr" luke@jedi.test "$T/cases/$c" "$hp" "$c-$p" >"$d/wrap.err" 2>&1
		# librnp 0.16 stops reading a compressed packet at the end of its
		# deflate stream; the padding sq puts after it is never read, so
		# the integrity check never runs and the message is refused.
		if [ "$p" = sq ] && [ "$c" = big ]; then
			TAP_TODO="librnp 0.16 does not read past the deflate stream (sq's padding)"
		fi
		ok "$p -> sealmail: $c: read exits 0, verified: signed by $addr" \
			read_is 0 "$d" "verified: signed by $addr, key ${PEER_FPR[$p]}"
		ok "$p -> sealmail: $c: read prints Subject, From and the same body" \
			py entity "$d/out" "$T/cases/$c" crlf "$addr" any
		TAP_TODO=
		if [ "$c" = small ]; then
			ok "$p -> sealmail: $c: read's stderr holds only its own verdict (librnp silenced)" \
				only_own_lines "$d/err"
		fi
		if [ "$p" = sq ] && [ "$c" = big ]; then
			# sq pads by default (a compressed packet with padding after
			# the deflate stream); without padding, to tell the two apart.
			mkdir -p "$d-nopad"
			ok "$p -> sealmail: $c: sq encrypts with --compression none" \
				peer sq encrypt --compression none --recipient-cert "$T/luke.asc" \
				--signer-key "$T/sq/key.pgp" --output "$d-nopad/enc.asc" "$d/entity"
			py d2wrap "$d-nopad/enc.asc" "$d-nopad/mail" "$addr" luke@jedi.test "$T/cases/$c" "$hp" \
				"$c-$p-nopad" >"$d-nopad/wrap.err" 2>&1
			ok "$p -> sealmail: $c (no padding): read exits 0, verified: signed by $addr" \
				read_is 0 "$d-nopad" "verified: signed by $addr, key ${PEER_FPR[$p]}"
			ok "$p -> sealmail: $c (no padding): read prints Subject, From and the same body" \
				py entity "$d-nopad/out" "$T/cases/$c" crlf "$addr" any
		fi
	done

	# Unsigned: exit 1, cleartext shown, verdict says so.
	d=$T/d2/$p-unsigned
	mkdir -p "$d"
	py d2entity "$T/cases/small" "$d/entity" legacy "$addr" luke@jedi.test "unsigned-$p"
	ok "$p -> sealmail: unsigned: $p encrypts to Luke without signing" \
		"${p}_encrypt" "$d/entity" "$d/enc.asc" nosign
	py d2wrap "$d/enc.asc" "$d/mail" "$addr" luke@jedi.test "$T/cases/small" legacy "unsigned-$p" >"$d/wrap.err" 2>&1
	ok "$p -> sealmail: unsigned: read exits 1 and says not signed" \
		read_is 1 "$d" "warning: not signed"
	ok "$p -> sealmail: unsigned: read still prints the letter" \
		py entity "$d/out" "$T/cases/small" crlf "$addr" any

	# Wrong signer: signed by this peer's key (known to Luke) while From
	# claims another peer: exit 2, nothing on stdout.
	local o
	o=$(other "$p")
	d=$T/d2/$p-forged
	mkdir -p "$d"
	py d2entity "$T/cases/small" "$d/entity" legacy "$o@peers.test" luke@jedi.test "forged-$p"
	ok "$p -> sealmail: forged From $o@peers.test: $p signs with its own key" \
		"${p}_encrypt" "$d/entity" "$d/enc.asc" sign
	py d2wrap "$d/enc.asc" "$d/mail" "$o@peers.test" luke@jedi.test "$T/cases/small" legacy "forged-$p" >"$d/wrap.err" 2>&1
	ok "$p -> sealmail: forged From: read exits 2 naming $p's key" \
		read_is 2 "$d" "signed by key ${PEER_FPR[$p]}, which is not bound to that address"
	ok "$p -> sealmail: forged From: nothing on stdout" empty "$d/out"
}

for p in "${PEERS[@]}"; do
	bin=$p
	[ "$p" = rnp ] && bin=rnpkeys
	if ! command -v "$p" >/dev/null || ! command -v "$bin" >/dev/null; then
		skip "$p: interoperability" "$p is not installed"
		continue
	fi
	echo "# --- $p"
	run_peer "$p"
done

# Header protection binds the protected From, not the outer one (RFC 9788):
# sqop signs a payload whose protected From is gpg@peers.test while the outer
# From says sqop@peers.test: wrong signer. And the other way round (outer From
# forged, protected From is the signer): verified, naming the protected From.
if command -v sqop >/dev/null && [ -n "${PEER_FPR[sqop]:-}" ] && [ -n "${PEER_FPR[gpg]:-}" ]; then
	echo "# --- header protection and the From binding (sqop)"
	d=$T/d2/hp-inner-forged
	mkdir -p "$d"
	py d2entity "$T/cases/utf8" "$d/entity" hp gpg@peers.test luke@jedi.test hp-inner-forged
	sqop_encrypt "$d/entity" "$d/enc.asc" sign >/dev/null
	py d2wrap "$d/enc.asc" "$d/mail" sqop@peers.test luke@jedi.test "$T/cases/utf8" hp hp-inner-forged >"$d/wrap.err" 2>&1
	ok "hp: protected From gpg@peers.test, outer From and signer sqop: read exits 2" \
		read_is 2 "$d" "says it is from gpg@peers.test but is signed by key ${PEER_FPR[sqop]}"
	ok "hp: protected From forged: nothing on stdout" empty "$d/out"

	d=$T/d2/hp-outer-forged
	mkdir -p "$d"
	py d2entity "$T/cases/utf8" "$d/entity" hp sqop@peers.test luke@jedi.test hp-outer-forged
	sqop_encrypt "$d/entity" "$d/enc.asc" sign >/dev/null
	py d2wrap "$d/enc.asc" "$d/mail" gpg@peers.test luke@jedi.test "$T/cases/utf8" hp hp-outer-forged >"$d/wrap.err" 2>&1
	ok "hp: outer From gpg@peers.test, protected From and signer sqop: read exits 0" \
		read_is 0 "$d" "verified: signed by sqop@peers.test, key ${PEER_FPR[sqop]}"
	ok "hp: shown message carries the protected From and Subject" \
		py entity "$d/out" "$T/cases/utf8" crlf sqop@peers.test any
fi

# User ID forms other tools make: the From binding and the recipient lookup
# must accept "<addr>" (what sq's documentation suggests) and
# "Name (Comment) <addr>" (what gpg's prompts make), not only the bare address.
uid_form() {
	local u=$1 a=$2 d=$3
	peer sq key generate --userid "$u" --export "$d/key.pgp" 2>"$d/gen.err" &&
		peer sq key extract-cert --output "$d/cert.asc" "$d/key.pgp" 2>>"$d/gen.err" ||
		show "$d/gen.err" || return 1
	sm "$LUKE" import "$d/cert.asc" && sm "$LEA" import "$d/cert.asc"
}
uid_seal() {
	local a=$1 d=$2
	sm "$LEA" seal <"$d/letter" >"$d/sealed" 2>"$d/seal.err" || show "$d/seal.err" || return 1
	py outer "$d/sealed" "$d/msg.asc" || return 1
	peer sq decrypt --recipient-key "$d/key.pgp" --signer-cert "$T/lea.asc" --output "$d/payload" \
		"$d/msg.asc" 2>"$d/dec.err" || show "$d/dec.err" || return 1
	py entity "$d/payload" "$T/cases/small" crlf lea@rebels.test hp
}
if command -v sq >/dev/null; then
	echo "# --- user ID forms (sq keys)"
	for u in '<sq-angle@peers.test>' 'Sq Peer (work) <sq-named@peers.test>'; do
		a=$(echo "$u" | grep -o '[a-z-]*@peers.test')
		d=$T/uid-$a
		mkdir -p "$d"
		ok "uid '$u': key made by sq, imported by Luke and Lea" uid_form "$u" "$a" "$d"
		py d2entity "$T/cases/small" "$d/entity" legacy "$a" luke@jedi.test "uid-$a"
		peer sq encrypt --recipient-cert "$T/luke.asc" --signer-key "$d/key.pgp" --output "$d/enc.asc" \
			"$d/entity" 2>"$d/enc.err"
		py d2wrap "$d/enc.asc" "$d/mail" "$a" luke@jedi.test "$T/cases/small" legacy "uid-$a" >"$d/wrap.err" 2>&1
		ok "uid '$u': read exits 0, verified: signed by $a" read_is 0 "$d" "verified: signed by $a"
		py d1msg "$T/cases/small" "$d/letter" "$a" "uid-$a"
		ok "uid '$u': Lea seals to $a, sq decrypts and verifies" uid_seal "$a" "$d"
	done
fi

done_testing
