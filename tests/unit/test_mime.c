#include <sys/resource.h>
#include <time.h>

#include <sodium.h>

#include "check.h"
#include "mime.h"

#define BIG (16u << 20)


/* restore puts MIME-Version in front of a payload that lacks it. */
#define MIME_VERSION "MIME-Version: 1.0\r\n"

static int shown_is(const struct buf *shown, const void *payload, size_t len)
{
	size_t mv = strlen(MIME_VERSION);
	return shown->len == mv + len && memcmp(shown->data, MIME_VERSION, mv) == 0 &&
	       memcmp(shown->data + mv, payload, len) == 0;
}

static const char *simple_msg =
	"From: Alice <alice@Example.ORG>\r\n"
	"To: Bob <bob@example.net>, carol@example.com\r\n"
	"Cc: Dave <dave@example.com>, BOB@EXAMPLE.NET\r\n"
	"Bcc: eve@example.org, carol@EXAMPLE.com\r\n"
	"Subject: Secret plans\r\n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
	"Message-ID: <1@example.org>\r\n"
	"Keywords: hush\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=us-ascii\r\n"
	"\r\n"
	"Meet at noon.\r\n";

static int contains(const struct buf *b, const char *s)
{
	size_t k = strlen(s);
	for (size_t i = 0; b->data != NULL && k <= b->len && i <= b->len - k; i++)
		if (memcmp(b->data + i, s, k) == 0)
			return 1;
	return 0;
}

static int has_bare_lf(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return 1;
	return 0;
}

/* The payload's body: everything after the first empty line. */
static const uint8_t *payload_body(const struct buf *b, size_t *ret_len)
{
	for (size_t i = 0; i + 3 < b->len; i++)
		if (memcmp(b->data + i, "\r\n\r\n", 4) == 0) {
			*ret_len = b->len - i - 4;
			return b->data + i + 4;
		}
	*ret_len = 0;
	return NULL;
}

static int parse_str(const char *m, struct mime_letter *l)
{
	return mime_letter_parse((const uint8_t *)m, strlen(m), BIG, l);
}

static void letter_simple(void)
{
	struct mime_letter l;
	CHECK_INT(parse_str(simple_msg, &l), 0);
	CHECK_STR(l.from, "alice@example.org");
	/* BOB@EXAMPLE.NET keeps its own local part: only domains fold, and
	 * carol@EXAMPLE.com in Bcc is the To's carol */
	CHECK_INT(l.to_cc.n, 4);
	if (l.to_cc.n == 4) {
		CHECK_STR(l.to_cc.addrs[0], "bob@example.net");
		CHECK_STR(l.to_cc.addrs[1], "carol@example.com");
		CHECK_STR(l.to_cc.addrs[2], "dave@example.com");
		CHECK_STR(l.to_cc.addrs[3], "BOB@example.net");
	}
	CHECK_INT(l.bcc.n, 1);
	if (l.bcc.n == 1)
		CHECK_STR(l.bcc.addrs[0], "eve@example.org");
	const struct buf *p = &l.payload, *o = &l.outer_headers;
	CHECK(contains(p, "Content-Type: text/plain; charset=us-ascii; hp=\"cipher\"\r\n"));
	CHECK(contains(p, "\r\nSubject: Secret plans\r\n"));
	CHECK(contains(p, "Keywords: hush\r\n"));
	CHECK(contains(p, "HP-Outer: From: Alice <alice@Example.ORG>\r\n"));
	CHECK(contains(p, "HP-Outer: To: Bob <bob@example.net>, carol@example.com\r\n"));
	CHECK(contains(p, "HP-Outer: Cc: Dave <dave@example.com>, BOB@EXAMPLE.NET\r\n"));
	CHECK(contains(p, "HP-Outer: Subject: [...]\r\n"));
	CHECK(contains(p, "HP-Outer: Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"));
	CHECK(contains(p, "HP-Outer: Message-ID: <1@example.org>\r\n"));
	CHECK(!contains(p, "HP-Outer: Keywords"));
	CHECK(!contains(p, "Bcc") && !contains(p, "eve@") && !contains(p, "MIME-Version"));
	CHECK(contains(p, "\r\n\r\nMeet at noon.\r\n"));
	CHECK(!has_bare_lf(p->data, p->len));
	CHECK(o->len > 0 && memcmp(o->data, "From: Alice <alice@Example.ORG>\r\n", 33) == 0);
	CHECK(contains(o, "Subject: [...]\r\n"));
	CHECK(contains(o, "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"));
	CHECK(contains(o, "Message-ID: <1@example.org>\r\n"));
	CHECK(contains(o, "Cc: Dave <dave@example.com>"));
	CHECK(!contains(o, "Secret") && !contains(o, "Bcc") && !contains(o, "eve@"));
	CHECK(!contains(o, "Keywords") && !contains(o, "Content-") && !contains(o, "MIME-Version"));
	CHECK(!has_bare_lf(o->data, o->len));
	CHECK(o->data[o->len - 2] == '\r' && o->data[o->len - 1] == '\n');
	mime_letter_free(&l);
	mime_letter_free(NULL);
}

static void letter_no_invention(void)
{
	struct mime_letter l;
	CHECK_INT(parse_str("From: a@x.example\nTo: b@y.example\nX-Mailer: test\nResent-Bcc: z@q.example\n\nhi\n", &l), 0);
	CHECK(!contains(&l.payload, "z@q") && !contains(&l.outer_headers, "z@q"));
	CHECK(!contains(&l.outer_headers, "Date:") && !contains(&l.outer_headers, "Message-ID:"));
	CHECK(!contains(&l.outer_headers, "Subject:") && !contains(&l.payload, "HP-Outer: Subject"));
	/* hcp_baseline keeps everything it does not name */
	CHECK(contains(&l.outer_headers, "X-Mailer: test\r\n"));
	CHECK(contains(&l.payload, "HP-Outer: X-Mailer: test\r\n"));
	mime_letter_free(&l);
}

static void letter_groups(void)
{
	struct mime_letter l;
	CHECK_INT(parse_str("From: a@x.example\r\nTo: team: b@y.example, c@y.example;\r\n"
			    "Cc: undisclosed-recipients:;\r\nBcc: Hidden: d@z.example;\r\n\r\nx\r\n", &l), 0);
	CHECK_INT(l.to_cc.n, 2);
	CHECK_INT(l.bcc.n, 1);
	mime_letter_free(&l);
	CHECK_INT(parse_str("From: a@x.example\r\nBcc: d@z.example\r\n\r\nx\r\n", &l), 0);
	CHECK_INT(l.to_cc.n, 0);
	CHECK_INT(l.bcc.n, 1);
	/* a Bcc listed before the To that names it again ends in to_cc only */
	mime_letter_free(&l);
	CHECK_INT(parse_str("From: a@x.example\r\nBcc: d@z.example\r\nTo: d@Z.example\r\n\r\nx\r\n", &l), 0);
	CHECK_INT(l.to_cc.n, 1);
	CHECK_INT(l.bcc.n, 0);
	mime_letter_free(&l);
	/* folded address lists and IDN domains (A-labels) */
	CHECK_INT(parse_str("From: a@x.example\r\nTo: b@y.example,\r\n c@b\xc3\xbc" "cher.example\r\n\r\nx\r\n", &l), 0);
	CHECK_INT(l.to_cc.n, 2);
	if (l.to_cc.n == 2)
		CHECK_STR(l.to_cc.addrs[1], "c@xn--bcher-kva.example");
	CHECK(contains(&l.payload, "To: b@y.example,\r\n c@b\xc3\xbc" "cher.example\r\n"));
	mime_letter_free(&l);
}

static void letter_utf8_subject(void)
{
	struct mime_letter l;
	const char *enc = "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n =?UTF-8?B?w6DDqQ==?=\r\n";
	char m[512];
	snprintf(m, sizeof(m), "From: a@x.example\r\nTo: b@y.example\r\n%s\r\nbody\r\n", enc);
	CHECK_INT(parse_str(m, &l), 0);
	CHECK(contains(&l.payload, enc)); /* raw, folded, byte-exact */
	CHECK(!contains(&l.outer_headers, "UTF-8"));
	mime_letter_free(&l);
	CHECK_INT(parse_str("From: a@x.example\nTo: b@y.example\nSubject: Gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93\n\nbody\n", &l), 0);
	CHECK(contains(&l.payload, "Subject: Gr\xc3\xbc\xc3\x9f" "e \xe2\x9c\x93\r\n"));
	CHECK(contains(&l.outer_headers, "Subject: [...]\r\n"));
	mime_letter_free(&l);
}

static void letter_default_content_type(void)
{
	struct mime_letter l;
	CHECK_INT(parse_str("From: a@x.example\nTo: b@y.example\n\nK\xc3\xa4se\n", &l), 0);
	CHECK(contains(&l.payload, "Content-Type: text/plain; charset=utf-8; hp=\"cipher\"\r\n"));
	CHECK(contains(&l.payload, "Content-Transfer-Encoding: 8bit\r\n"));
	CHECK(contains(&l.payload, "\r\n\r\nK\xc3\xa4se\r\n"));
	mime_letter_free(&l);
	CHECK_INT(parse_str("From: a@x.example\nTo: b@y.example\n\nplain\n", &l), 0);
	CHECK(contains(&l.payload, "Content-Type: text/plain; charset=us-ascii; hp=\"cipher\"\r\n"));
	CHECK(!contains(&l.payload, "Content-Transfer-Encoding"));
	mime_letter_free(&l);
	/* the user's own encoding is kept, not doubled */
	CHECK_INT(parse_str("From: a@x.example\nTo: b@y.example\nContent-Transfer-Encoding: 8bit\n\n\xc3\xa4\n", &l), 0);
	CHECK(contains(&l.payload, "Content-Transfer-Encoding: 8bit\r\nHP-Outer"));
	CHECK(!contains(&l.payload, "Content-Transfer-Encoding: 8bit\r\nContent-Transfer-Encoding"));
	mime_letter_free(&l);
	/* a header-only letter has an empty body */
	CHECK_INT(parse_str("From: a@x.example\nTo: b@y.example\n", &l), 0);
	CHECK(l.payload.len >= 4 && memcmp(l.payload.data + l.payload.len - 4, "\r\n\r\n", 4) == 0);
	mime_letter_free(&l);
}

/* multipart/mixed with a base64 attachment of every byte value */
static void letter_multipart_attachment(void)
{
	uint8_t bin[3000];
	char b64[4100];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7 + 3);
	sodium_bin2base64(b64, sizeof(b64), bin, sizeof(bin), sodium_base64_VARIANT_ORIGINAL);
	struct buf m;
	buf_init(&m, BIG);
	int r = buf_append_str(&m, "From: a@x.example\r\nTo: b@y.example\r\nSubject: file\r\nMIME-Version: 1.0\r\n"
				   "Content-Type: multipart/mixed;\r\n boundary=\"XyZ\"\r\n\r\n");
	size_t body_at = m.len;
	r |= buf_append_str(&m, "preamble\r\n--XyZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
				"H\xc3\xa9llo\r\n--XyZ\r\nContent-Type: application/octet-stream\r\n"
				"Content-Disposition: attachment; filename=\"a.bin\"\r\n"
				"Content-Transfer-Encoding: base64\r\n\r\n");
	for (size_t i = 0; i < strlen(b64); i += 76) {
		size_t n = strlen(b64) - i < 76 ? strlen(b64) - i : 76;
		r |= buf_append(&m, b64 + i, n);
		r |= buf_append_str(&m, "\r\n");
	}
	r |= buf_append_str(&m, "--XyZ--\r\nepilogue\r\n");
	CHECK_INT(r, 0);
	struct mime_letter l;
	CHECK_INT(mime_letter_parse(m.data, m.len, BIG, &l), 0);
	CHECK(contains(&l.payload, "Content-Type: multipart/mixed;\r\n boundary=\"XyZ\"; hp=\"cipher\"\r\n"));
	size_t blen;
	const uint8_t *body = payload_body(&l.payload, &blen);
	CHECK(body != NULL && blen == m.len - body_at && memcmp(body, m.data + body_at, blen) == 0);
	/* the attachment survives the whole round to the reader */
	struct buf out;
	char from[MIME_ADDR_MAX + 1];
	buf_init(&out, BIG);
	CHECK_INT(mime_payload_restore(l.payload.data, l.payload.len, NULL, 0, &out, from), 0);
	char line[77];
	memcpy(line, b64 + 76 * 5, 76);
	line[76] = 0;
	CHECK(contains(&out, line));
	CHECK(shown_is(&out, l.payload.data, l.payload.len));
	buf_free(&out);
	mime_letter_free(&l);
	buf_free(&m);
}

static void letter_line_endings(void)
{
	struct mime_letter l;
	CHECK_INT(parse_str("From: a@x.example\nTo: b@y.example\nSubject: s\n\nline 1\nline 2\n\nend", &l), 0);
	CHECK(!has_bare_lf(l.payload.data, l.payload.len));
	size_t n;
	const uint8_t *b = payload_body(&l.payload, &n);
	CHECK(b != NULL && n == 21 && memcmp(b, "line 1\r\nline 2\r\n\r\nend", 21) == 0);
	mime_letter_free(&l);
	/* CRLF stays CRLF, lone CR is data */
	const char *crlf = "x\r\ny\r\rz\r\n";
	char m[256];
	snprintf(m, sizeof(m), "From: a@x.example\r\nTo: b@y.example\r\n\r\n%s", crlf);
	CHECK_INT(parse_str(m, &l), 0);
	b = payload_body(&l.payload, &n);
	CHECK(b != NULL && n == strlen(crlf) && memcmp(b, crlf, n) == 0);
	mime_letter_free(&l);
}

static void letter_errors(void)
{
	static const struct {
		const char *msg;
		int err;
	} cases[] = {
		{"To: b@y.example\r\n\r\nx", SM_EINVAL},
		{"From: a@x.example, c@x.example\r\nTo: b@y.example\r\n\r\nx", SM_EINVAL},
		{"From: a@x.example\r\nFrom: c@x.example\r\nTo: b@y.example\r\n\r\nx", SM_EINVAL},
		{"From: g: a@x.example;\r\nTo: b@y.example\r\n\r\nx", SM_EINVAL},
		{"From: a@x.example\r\n\r\nx", SM_EINVAL},
		{"From: a@x.example\r\nTo: undisclosed-recipients:;\r\n\r\nx", SM_EINVAL},
		{"From: a@x.example\r\nTo: b@y.example, bad@@y.example\r\n\r\nx", SM_EINVAL},
		{"From: a@x.example\r\nTo: b\r\n\r\nx", SM_EINVAL},
		{"From: a@x.example\r\nTo: \"b c\"@y.example\r\n\r\nx", SM_EINVAL},
		{"From: a@x.example\r\nCc: b@y..example\r\n\r\nx", SM_EINVAL},
		{"From: a@x.example\r\nBcc: b@[192.0.2.1]\r\n\r\nx", SM_EINVAL},
		{"From: nobody\r\nTo: b@y.example\r\n\r\nx", SM_EINVAL},
		{"From: a@x.example\r\nTo: b@y.example\r\nContent-Type: text/plain; hp=cipher\r\n\r\nx", SM_EINVAL},
		{"this is not a message at all\r\n", SM_EPARSE},
		{"From: a@x.example\r\nTo: b@y.example\r\nSubject: a\r\nSubject: b\r\n\r\nx", SM_EPARSE},
		{"From: a@x.example\r\nTo: b@y.example\r\nContent-Type: text/plain\r\n"
		 "Content-Type: text/html\r\n\r\nx", SM_EPARSE},
		{"From: a@x.example\r\nno colon here\r\nTo: b@y.example\r\n\r\nx", SM_EPARSE},
		{"", SM_EPARSE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mime_letter l;
		int r = parse_str(cases[i].msg, &l);
		if (r != cases[i].err)
			printf("# case %zu\n", i);
		CHECK_INT(r, cases[i].err);
		CHECK(l.from == NULL && l.to_cc.n == 0 && l.bcc.n == 0 && l.payload.len == 0);
		mime_letter_free(&l);
	}
}

static void letter_too_many(void)
{
	struct buf m;
	buf_init(&m, BIG);
	int r = buf_append_str(&m, "From: a@x.example\r\nTo: r0@y.example");
	for (int i = 1; i < MIME_MAX_RCPTS; i++)
		r |= buf_appendf(&m, ",\r\n r%d@y.example", i);
	r |= buf_append_str(&m, "\r\nBcc: r5@Y.EXAMPLE\r\n\r\nx\r\n");
	CHECK_INT(r, 0);
	struct mime_letter l;
	CHECK_INT(mime_letter_parse(m.data, m.len, BIG, &l), 0); /* exactly the limit */
	CHECK_INT(l.to_cc.n, MIME_MAX_RCPTS);
	CHECK_INT(l.bcc.n, 0);
	mime_letter_free(&l);
	m.len -= strlen("\r\nBcc: r5@Y.EXAMPLE\r\n\r\nx\r\n");
	r = buf_append_str(&m, "\r\nBcc: extra@y.example\r\n\r\nx\r\n");
	CHECK_INT(r, 0);
	CHECK_INT(mime_letter_parse(m.data, m.len, BIG, &l), SM_ETOOBIG);
	mime_letter_free(&l);
	buf_free(&m);
}

static void letter_max(void)
{
	struct mime_letter l;
	CHECK_INT(mime_letter_parse((const uint8_t *)simple_msg, strlen(simple_msg), 100, &l), SM_ETOOBIG);
	CHECK(l.payload.len == 0 && l.from == NULL);
	mime_letter_free(&l);
}

static const char *armor =
	"-----BEGIN PGP MESSAGE-----\r\n"
	"\r\n"
	"hF4DAAAAAAAAAAASAQdAbWFkZSB1cCBmb3IgYSB0ZXN0IG9mIGV4dHJhY3Rpb24w\r\n"
	"=AbCd\r\n"
	"-----END PGP MESSAGE-----\r\n";

static void build_extract_roundtrip(void)
{
	struct mime_letter l;
	struct buf out, out2, pgp, hdrs;
	CHECK_INT(parse_str(simple_msg, &l), 0);
	buf_init(&out, BIG);
	buf_init(&out2, BIG);
	CHECK_INT(mime_encrypted_build(&l, (const uint8_t *)armor, strlen(armor), &out), 0);
	CHECK(out.len > l.outer_headers.len && memcmp(out.data, l.outer_headers.data, l.outer_headers.len) == 0);
	CHECK(contains(&out, "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted;"));
	CHECK(contains(&out, "protocol=\"application/pgp-encrypted\""));
	CHECK(contains(&out, "Content-Type: application/pgp-encrypted\r\n"));
	CHECK(contains(&out, "\r\n\r\nVersion: 1\r\n"));
	CHECK(contains(&out, "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"));
	CHECK(contains(&out, "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n"));
	CHECK(!contains(&out, "Secret") && !contains(&out, "eve@"));
	CHECK(!has_bare_lf(out.data, out.len));
	CHECK_INT(mime_encrypted_build(&l, (const uint8_t *)armor, strlen(armor), &out2), 0);
	CHECK(out.len == out2.len && memcmp(out.data, out2.data, out.len) != 0); /* fresh boundary */
	buf_init(&pgp, BIG);
	buf_init(&hdrs, BIG);
	CHECK_INT(mime_encrypted_extract(out.data, out.len, &pgp, &hdrs), 0);
	CHECK(pgp.len == strlen(armor) && memcmp(pgp.data, armor, pgp.len) == 0);
	CHECK(hdrs.len > l.outer_headers.len && memcmp(hdrs.data, l.outer_headers.data, l.outer_headers.len) == 0);
	CHECK(contains(&hdrs, "multipart/encrypted") && !contains(&hdrs, "\r\n\r\n"));
	/* and back to what the user wrote */
	struct buf shown;
	char from[MIME_ADDR_MAX + 1] = "x";
	buf_init(&shown, BIG);
	CHECK_INT(mime_payload_restore(l.payload.data, l.payload.len, hdrs.data, hdrs.len, &shown, from), 0);
	CHECK(shown_is(&shown, l.payload.data, l.payload.len));
	CHECK_STR(from, "alice@example.org");
	buf_free(&shown);
	buf_free(&pgp);
	buf_free(&hdrs);
	buf_free(&out);
	buf_free(&out2);
	mime_letter_free(&l);
}

static void build_errors(void)
{
	struct mime_letter l;
	struct buf out;
	CHECK_INT(parse_str(simple_msg, &l), 0);
	buf_init(&out, BIG);
	CHECK_INT(mime_encrypted_build(&l, (const uint8_t *)"\xff", 1, &out), SM_EINVAL);
	CHECK_INT(mime_encrypted_build(&l, (const uint8_t *)"", 0, &out), SM_EINVAL);
	CHECK_INT(out.len, 0);
	/* LF armor goes out as CRLF */
	CHECK_INT(mime_encrypted_build(&l, (const uint8_t *)"-----BEGIN PGP MESSAGE-----\nAAAA\n", 33, &out), 0);
	CHECK(!has_bare_lf(out.data, out.len));
	buf_free(&out);
	buf_init(&out, 600);
	CHECK_INT(buf_append_str(&out, "keep"), 0);
	CHECK_INT(mime_encrypted_build(&l, (const uint8_t *)armor, strlen(armor), &out), SM_ETOOBIG);
	CHECK(out.len == 4 && memcmp(out.data, "keep", 5) == 0);
	buf_free(&out);
	mime_letter_free(&l);
}

static int extract_str(const char *m, struct buf *pgp, struct buf *hdrs)
{
	return mime_encrypted_extract((const uint8_t *)m, strlen(m), pgp, hdrs);
}

#define ENC_HDR "From: a@x.example\r\nSubject: [...]\r\nMIME-Version: 1.0\r\n"
#define CTRL "Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
#define DATA "Content-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n"

static void extract_accepts(void)
{
	struct buf pgp, hdrs;
	buf_init(&pgp, BIG);
	buf_init(&hdrs, BIG);
	/* case-insensitive type and protocol, base64 data part, LF endings */
	CHECK_INT(extract_str("From: a@x.example\nContent-Type: Multipart/Encrypted; boundary=b;\n"
			      " protocol=\"Application/PGP-Encrypted\"\n\n--b\n"
			      "Content-Type: application/pgp-encrypted\n\nVersion: 1\n--b\n"
			      "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
			      "LS0tLS1CRUdJTg==\n--b--\n", &pgp, &hdrs), 0);
	CHECK(pgp.len == 10 && memcmp(pgp.data, "-----BEGIN", 10) == 0);
	CHECK(hdrs.len > 0 && !has_bare_lf(hdrs.data, hdrs.len));
	CHECK(contains(&hdrs, "From: a@x.example\r\nContent-Type: Multipart/Encrypted; boundary=b;\r\n protocol"));
	/* outer fields are unprotected: a doubled Subject there is not our concern */
	buf_reset(&pgp);
	buf_reset(&hdrs);
	CHECK_INT(extract_str("Subject: a\r\nSubject: b\r\nContent-Type: multipart/encrypted; boundary=b;"
			      " protocol=\"application/pgp-encrypted\"\r\n\r\n--b\r\n" CTRL "--b\r\n" DATA "--b--\r\n",
			      &pgp, &hdrs), 0);
	CHECK(pgp.len == 27 && contains(&hdrs, "Subject: b\r\n"));
	buf_free(&pgp);
	buf_free(&hdrs);
}

static void extract_rejects(void)
{
	static const char *bad[] = {
		"",
		"garbage without any header\r\n\r\n\x01\x02",
		ENC_HDR "Content-Type: text/plain\r\n\r\nhello\r\n",
		ENC_HDR "Content-Type: multipart/signed; boundary=b; protocol=\"application/pgp-signature\"\r\n\r\n"
			"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\n"
			"Content-Type: application/pgp-signature\r\n\r\nsig\r\n--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; boundary=b; protocol=\"application/pkcs7-mime\"\r\n\r\n"
			"--b\r\n" CTRL "--b\r\n" DATA "--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; boundary=b\r\n\r\n--b\r\n" CTRL "--b\r\n" DATA "--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; boundary=b; protocol=\"application/pgp-encrypted\"\r\n\r\n"
			"--b\r\n" DATA "--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; boundary=b; protocol=\"application/pgp-encrypted\"\r\n\r\n"
			"--b\r\n" CTRL "--b\r\n" DATA "--b\r\n" DATA "--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; boundary=b; protocol=\"application/pgp-encrypted\"\r\n\r\n"
			"--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 2\r\n--b\r\n" DATA "--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; boundary=b; protocol=\"application/pgp-encrypted\"\r\n\r\n"
			"--b\r\n" DATA "--b\r\n" CTRL "--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; boundary=b; protocol=\"application/pgp-encrypted\"\r\n\r\n"
			"--b\r\n" CTRL "--b\r\nContent-Type: text/plain\r\n\r\ndata\r\n--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; boundary=b; protocol=\"application/pgp-encrypted\"\r\n\r\n"
			"--b\r\n" CTRL "--b\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; boundary=b; protocol=\"application/pgp-encrypted\"\r\n"
			"Content-Type: text/plain\r\n\r\n--b\r\n" CTRL "--b\r\n" DATA "--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; boundary=b; protocol=\"application/pgp-encrypted\"\r\n\r\n"
			"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\n" CTRL "--c--\r\n--b\r\n" DATA "--b--\r\n",
		ENC_HDR "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"\r\n\r\n"
			"--b\r\n" CTRL "--b\r\n" DATA "--b--\r\n",
	};
	struct buf pgp, hdrs;
	buf_init(&pgp, BIG);
	buf_init(&hdrs, BIG);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = extract_str(bad[i], &pgp, &hdrs);
		if (r != SM_EPARSE)
			printf("# case %zu\n", i);
		CHECK_INT(r, SM_EPARSE);
	}
	CHECK(pgp.len == 0 && hdrs.len == 0);
	buf_free(&pgp);
	buf_free(&hdrs);
}

static void extract_limits(void)
{
	struct mime_letter l;
	struct buf out, pgp, hdrs;
	CHECK_INT(parse_str(simple_msg, &l), 0);
	buf_init(&out, BIG);
	CHECK_INT(mime_encrypted_build(&l, (const uint8_t *)armor, strlen(armor), &out), 0);
	buf_init(&pgp, 20);
	buf_init(&hdrs, BIG);
	CHECK_INT(mime_encrypted_extract(out.data, out.len, &pgp, &hdrs), SM_ETOOBIG);
	CHECK(pgp.len == 0 && hdrs.len == 0);
	buf_free(&pgp);
	buf_init(&pgp, BIG);
	buf_free(&hdrs);
	buf_init(&hdrs, 30);
	CHECK_INT(mime_encrypted_extract(out.data, out.len, &pgp, &hdrs), SM_ETOOBIG);
	CHECK(pgp.len == 0 && hdrs.len == 0);
	/* input far larger than both buffers could ever need */
	buf_free(&pgp);
	buf_free(&hdrs);
	buf_init(&pgp, 10);
	buf_init(&hdrs, 10);
	uint8_t *huge = calloc(1, 200000);
	CHECK(huge != NULL);
	if (huge != NULL)
		CHECK_INT(mime_encrypted_extract(huge, 200000, &pgp, &hdrs), SM_ETOOBIG);
	free(huge);
	buf_free(&pgp);
	buf_free(&hdrs);
	buf_free(&out);
	mime_letter_free(&l);
}

static void make_nested(struct buf *m, int depth, int rfc822, const char *top)
{
	int r = buf_append_str(m, top);
	for (int i = 0; i < depth; i++) {
		if (rfc822)
			r |= buf_append_str(m, "Content-Type: message/rfc822\r\n\r\nSubject: x\r\n");
		else
			r |= buf_appendf(m, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
	}
	r |= buf_append_str(m, "Content-Type: text/plain\r\n\r\nhi\r\n");
	for (int i = depth - 1; !rfc822 && i >= 0; i--)
		r |= buf_appendf(m, "--b%d--\r\n", i);
	if (r != 0)
		printf("# make_nested: %d\n", r);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* 10,000 levels: GMime stops at its own cap, we answer ETOOBIG. Timing
 * and memory are generous for sanitizer builds but catch a blow-up. */
static void extract_deep_nesting(void)
{
	static const int depths[] = {10000, 40};
	for (int rfc = 0; rfc < 2; rfc++) {
		for (size_t d = 0; d < 2; d++) {
			struct buf m, pgp, hdrs;
			buf_init(&m, BIG);
			buf_init(&pgp, BIG);
			buf_init(&hdrs, BIG);
			make_nested(&m, depths[d], rfc, "From: a@x.example\r\nMIME-Version: 1.0\r\n");
			long rss0 = maxrss_kb();
			double t0 = now();
			int r = mime_encrypted_extract(m.data, m.len, &pgp, &hdrs);
			double dt = now() - t0;
			long drss = maxrss_kb() - rss0;
			CHECK(r == SM_ETOOBIG || r == SM_EPARSE);
			CHECK_INT(r, SM_ETOOBIG);
			CHECK(dt < 20.0);
			CHECK(drss < 256 * 1024);
			printf("# depth %d %s: %.3f s, +%ld KiB max RSS\n", depths[d], rfc ? "rfc822" : "multipart",
			       dt, drss);
			buf_free(&m);
			buf_free(&pgp);
			buf_free(&hdrs);
		}
	}
}

static void extract_nesting_at_limit(void)
{
	/* MIME_MAX_DEPTH levels parse (and are then refused for structure) */
	struct buf m, pgp, hdrs;
	buf_init(&m, BIG);
	buf_init(&pgp, BIG);
	buf_init(&hdrs, BIG);
	make_nested(&m, MIME_MAX_DEPTH - 1, 0, "From: a@x.example\r\n");
	CHECK_INT(mime_encrypted_extract(m.data, m.len, &pgp, &hdrs), SM_EPARSE);
	buf_reset(&m);
	make_nested(&m, MIME_MAX_DEPTH, 0, "From: a@x.example\r\n");
	CHECK_INT(mime_encrypted_extract(m.data, m.len, &pgp, &hdrs), SM_ETOOBIG);
	buf_free(&m);
	buf_free(&pgp);
	buf_free(&hdrs);
}

static int restore_str(const char *p, const char *outer, struct buf *out, char from[MIME_ADDR_MAX + 1])
{
	return mime_payload_restore((const uint8_t *)p, strlen(p), (const uint8_t *)outer,
				    outer ? strlen(outer) : 0, out, from);
}

#define OUTER "From: Bob <bob@y.example>\r\nTo: a@x.example\r\nSubject: [...]\r\nDate: Tue, 2 Jan 2024 00:00:00 +0000\r\n" \
	      "MIME-Version: 1.0\r\nContent-Type: multipart/encrypted; boundary=b;\r\n protocol=\"application/pgp-encrypted\"\r\n"

static void restore_hp(void)
{
	struct buf out;
	char from[MIME_ADDR_MAX + 1] = "x";
	const char *p = "From: Mallory-free <Carol@Z.example>\nSubject: real\n"
			"Content-Type: text/plain; charset=utf-8; hp=\"cipher\"\nHP-Outer: Subject: [...]\n\nbody\n";
	buf_init(&out, BIG);
	CHECK_INT(restore_str(p, OUTER, &out, from), 0);
	CHECK(shown_is(&out, p, strlen(p))); /* byte-exact, LF kept */
	CHECK_STR(from, "Carol@z.example");
	buf_reset(&out);
	const char *clear = "Subject: s\r\nContent-Type: text/plain; HP=Clear\r\n\r\nb\r\n";
	CHECK_INT(restore_str(clear, OUTER, &out, from), 0);
	CHECK(shown_is(&out, clear, strlen(clear)));
	CHECK_STR(from, ""); /* the payload rules: no From inside is no From */
	buf_free(&out);
}

static void restore_legacy(void)
{
	struct buf out;
	char from[MIME_ADDR_MAX + 1] = "x";
	const char *p = "Content-Type: text/plain; charset=us-ascii\n\nlegacy body\n";
	buf_init(&out, BIG);
	CHECK_INT(restore_str(p, OUTER, &out, from), 0);
	const char *want = "From: Bob <bob@y.example>\r\nTo: a@x.example\r\nSubject: [...]\r\n"
			   "Date: Tue, 2 Jan 2024 00:00:00 +0000\r\n" MIME_VERSION;
	CHECK(out.len == strlen(want) + strlen(p));
	CHECK(out.len >= strlen(want) && memcmp(out.data, want, strlen(want)) == 0);
	CHECK(out.len == strlen(want) + strlen(p) && memcmp(out.data + strlen(want), p, strlen(p)) == 0);
	CHECK_STR(from, "bob@y.example");
	/* a legacy payload's own fields win over the outer ones */
	buf_reset(&out);
	const char *v1 = "Subject: inner\r\nFrom: c@z.example\r\nContent-Type: text/plain; protected-headers=v1\r\n\r\nx\r\n";
	CHECK_INT(restore_str(v1, OUTER, &out, from), 0);
	CHECK(!contains(&out, "[...]") && !contains(&out, "bob@") && contains(&out, "To: a@x.example\r\n"));
	CHECK_STR(from, "c@z.example");
	/* no outer header at all */
	buf_reset(&out);
	CHECK_INT(restore_str(p, NULL, &out, from), 0);
	CHECK_STR(from, "");
	CHECK(shown_is(&out, p, strlen(p)));
	buf_free(&out);
}

static void restore_errors(void)
{
	struct buf out;
	char from[MIME_ADDR_MAX + 1] = "untouched";
	buf_init(&out, BIG);
	CHECK_INT(buf_append_str(&out, "keep"), 0);
	CHECK_INT(restore_str("From: a@x.example, b@x.example\r\nContent-Type: text/plain; hp=cipher\r\n\r\nx",
			      NULL, &out, from), SM_EPARSE);
	CHECK_INT(restore_str("Content-Type: text/plain\r\n\r\nx", "From: a@x.example\r\nFrom: b@x.example\r\n",
			      &out, from), SM_EPARSE);
	CHECK_INT(restore_str("From: not an address\r\nContent-Type: text/plain; hp=cipher\r\n\r\nx", NULL, &out,
			      from), SM_EPARSE);
	CHECK_INT(restore_str("", NULL, &out, from), SM_EPARSE);
	CHECK_INT(restore_str("Subject: a\r\nSubject: b\r\nContent-Type: text/plain; hp=cipher\r\n\r\nx", NULL,
			      &out, from), SM_EPARSE);
	CHECK_INT(restore_str("junk line\r\n\r\n", NULL, &out, from), SM_EPARSE);
	CHECK(out.len == 4 && memcmp(out.data, "keep", 5) == 0);
	CHECK_STR(from, "untouched");
	buf_free(&out);
	/* the caller's maximum bounds the result */
	buf_init(&out, 40);
	CHECK_INT(restore_str("Content-Type: text/plain\r\n\r\nshort", OUTER, &out, from), SM_ETOOBIG);
	CHECK_INT(out.len, 0);
	CHECK_INT(restore_str("Content-Type: text/plain; hp=cipher\r\n\r\n0123456789", NULL, &out, from), SM_ETOOBIG);
	CHECK_STR(from, "untouched");
	buf_free(&out);
}

static void restore_deep(void)
{
	struct buf m, out;
	char from[MIME_ADDR_MAX + 1] = "untouched";
	buf_init(&m, BIG);
	buf_init(&out, BIG);
	make_nested(&m, 10000, 0, "Content-Type: text/plain\r\n");
	buf_reset(&m);
	make_nested(&m, 10000, 0, "From: a@x.example\r\n");
	double t0 = now();
	CHECK_INT(mime_payload_restore(m.data, m.len, NULL, 0, &out, from), SM_ETOOBIG);
	CHECK(now() - t0 < 20.0);
	buf_reset(&m);
	make_nested(&m, 100, 1, "From: a@x.example\r\n");
	CHECK_INT(mime_payload_restore(m.data, m.len, NULL, 0, &out, from), SM_ETOOBIG);
	CHECK_INT(out.len, 0);
	CHECK_STR(from, "untouched");
	/* a deeply nested letter is refused the same way */
	struct mime_letter l;
	buf_reset(&m);
	make_nested(&m, 100, 0, "From: a@x.example\r\nTo: b@y.example\r\n");
	CHECK_INT(mime_letter_parse(m.data, m.len, BIG, &l), SM_ETOOBIG);
	mime_letter_free(&l);
	buf_free(&m);
	buf_free(&out);
}

int main(void)
{
	mime_global_init();
	mime_global_init(); /* idempotent */
	RUN(letter_simple);
	RUN(letter_no_invention);
	RUN(letter_groups);
	RUN(letter_utf8_subject);
	RUN(letter_default_content_type);
	RUN(letter_multipart_attachment);
	RUN(letter_line_endings);
	RUN(letter_errors);
	RUN(letter_too_many);
	RUN(letter_max);
	RUN(build_extract_roundtrip);
	RUN(build_errors);
	RUN(extract_accepts);
	RUN(extract_rejects);
	RUN(extract_limits);
	RUN(extract_deep_nesting);
	RUN(extract_nesting_at_limit);
	RUN(restore_hp);
	RUN(restore_legacy);
	RUN(restore_errors);
	RUN(restore_deep);
	return check_done();
}
