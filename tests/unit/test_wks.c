/* test_wks: the Web Key Service's messages as gpg-wks-client 2.2 writes and
 * reads them: submissions, responses, the From of a mail, and the framing
 * of our confirmation request. */
#define _GNU_SOURCE
#include <string.h>

#include "check.h"
#include "wks.h"

#define NONCE "0123456789abcdef0123456789abcdef01234567"
#define U8(s) (const uint8_t *)(s), strlen(s)

static const char response_crlf[] =
	"Content-Type: application/vnd.gnupg.wks\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
	"type: confirmation-response\r\nsender: key-submission@jedi.test\r\n"
	"address: obi@jedi.test\r\nnonce: " NONCE "\r\n";

static void submission(void)
{
	const uint8_t *key = NULL;
	size_t len = 0;
	static const char sub[] = "Content-Type: application/pgp-keys\n\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n";
	CHECK_INT(wks_submission_parse(U8(sub), &key, &len), 0);
	CHECK(len > 0 && memcmp(key, "-----BEGIN", 10) == 0);
	CHECK_INT(wks_submission_parse(U8("content-type: Application/PGP-Keys; x=y\r\n\r\n\x99\x01"), &key, &len), 0);
	CHECK_INT(len, 2);
	CHECK_INT(wks_submission_parse(U8("Content-Type: text/plain\n\nkey"), &key, &len), SM_EPARSE);
	CHECK_INT(wks_submission_parse(U8("Content-Type: application/pgp-keys\n\n\n"), &key, &len), SM_EPARSE);
	CHECK_INT(wks_submission_parse(U8("Content-Type: application/pgp-keys\n"), &key, &len), SM_EPARSE);
	CHECK_INT(wks_submission_parse(U8("X: y\n\nkey"), &key, &len), SM_EPARSE); /* no type */
	CHECK_INT(wks_submission_parse(U8("Content-Type: application/pgp-keys\nContent-Type: application/pgp-keys\n\nk"),
				       &key, &len), SM_EPARSE);
	CHECK_INT(wks_submission_parse(U8("Content-Type: application/pgp-keysX\n\nk"), &key, &len), SM_EPARSE);
	CHECK_INT(wks_submission_parse(U8("no colon here\n\nk"), &key, &len), SM_EPARSE);
}

static void response(void)
{
	struct wks_response r;
	CHECK_INT(wks_response_parse(U8(response_crlf), &r), 0);
	CHECK_STR(r.sender, "key-submission@jedi.test");
	CHECK_STR(r.address, "obi@jedi.test");
	CHECK_STR(r.nonce, NONCE);
	/* LF endings, other fields and case in names are fine */
	CHECK_INT(wks_response_parse(U8("Content-Type: application/vnd.gnupg.wks\n\nType: confirmation-response\n"
					"X-Other: 1\nSENDER: key-submission@jedi.test\naddress:  obi@jedi.test \n"
					"nonce: " NONCE "\n"), &r), 0);
	CHECK_STR(r.address, "obi@jedi.test");
}

/* The CRLF response with from replaced by to must not parse. */
static int edited(const char *from, const char *to)
{
	char text[2048];
	struct wks_response r;
	const char *at = strstr(response_crlf, from);
	if (at == NULL)
		abort();
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - response_crlf), response_crlf, to,
		 at + strlen(from));
	return wks_response_parse(U8(text), &r);
}

static void response_rejects(void)
{
	CHECK_INT(edited("confirmation-response", "confirmation-request"), SM_EPARSE);
	CHECK_INT(edited("application/vnd.gnupg.wks", "text/plain"), SM_EPARSE);
	CHECK_INT(edited("nonce: " NONCE, "nonce: short"), SM_EPARSE);
	CHECK_INT(edited("nonce: " NONCE, "nonce: " NONCE "!"), SM_EPARSE);
	CHECK_INT(edited("nonce: " NONCE, "nonce: " NONCE NONCE), SM_EPARSE); /* over 64 */
	CHECK_INT(edited("address: obi@jedi.test", "address: not an address"), SM_EPARSE);
	CHECK_INT(edited("address: obi@jedi.test\r\n", ""), SM_EPARSE);
	CHECK_INT(edited("sender: key", "sender: key@x\r\nsender: key"), SM_EPARSE); /* twice */
	CHECK_INT(edited("type: confirmation-response\r\n", "type: confirmation-response\r\ntype: confirmation-response\r\n"),
		  SM_EPARSE);
	CHECK_INT(edited("\r\n\r\ntype", "\r\ntype"), SM_EPARSE); /* no body */
}

static void header_from(void)
{
	struct wkd_address a;
	CHECK_INT(wks_header_from(U8("To: key-submission@jedi.test\r\nFrom: obi@jedi.test\r\n"), &a), 0);
	CHECK_STR(a.local, "obi");
	CHECK_INT(wks_header_from(U8("from: Obi-Wan Kenobi <Obi@Jedi.Test>\n"), &a), 0);
	CHECK_STR(a.local, "Obi");
	CHECK_STR(a.domain, "jedi.test");
	CHECK_INT(wks_header_from(U8("From: \"Kenobi, Obi\"\r\n <obi@jedi.test>\r\nTo: x@y.z\r\n"), &a), 0);
	CHECK_STR(a.local, "obi");
	CHECK_INT(wks_header_from(U8("To: obi@jedi.test\r\n"), &a), SM_EPARSE);
	CHECK_INT(wks_header_from(U8("From: a@b.test\r\nFrom: c@d.test\r\n"), &a), SM_EPARSE);
	CHECK_INT(wks_header_from(U8("From: a@b.test, c@d.test\r\n"), &a), SM_EPARSE);
	CHECK_INT(wks_header_from(U8("From: <a@b.test\r\n"), &a), SM_EPARSE);
	CHECK_INT(wks_header_from(U8("From: nobody\r\n"), &a), SM_EPARSE);
	/* the body is not read: a From after the empty line does not count */
	CHECK_INT(wks_header_from(U8("Subject: x\r\n\r\nFrom: a@b.test\r\n"), &a), SM_EPARSE);
}

static void request_framing(void)
{
	struct buf text, part, mail;
	static const char armored[] = "-----BEGIN PGP MESSAGE-----\r\n\r\nhQIM\r\n-----END PGP MESSAGE-----\r\n";
	static const char sig[] = "-----BEGIN PGP SIGNATURE-----\n\niHUE\n-----END PGP SIGNATURE-----\n";
	buf_init(&text, 4096);
	buf_init(&part, 8192);
	buf_init(&mail, 16384);
	CHECK_INT(wks_request_text("key-submission@jedi.test", "obi@jedi.test",
				   "71574E99EA0E0025AD913EB87379E360B4C6C4BC", NONCE, &text), 0);
	CHECK_INT(buf_append(&text, "", 1), 0);
	CHECK_STR((const char *)text.data,
		  "type: confirmation-request\nsender: key-submission@jedi.test\naddress: obi@jedi.test\n"
		  "fingerprint: 71574E99EA0E0025AD913EB87379E360B4C6C4BC\nnonce: " NONCE "\n");
	CHECK_INT(wks_request_text("key-submission@jedi.test", "obi@jedi.test", "71574E", NONCE, &text),
		  SM_EINVAL);
	CHECK_INT(wks_request_part("obi@jedi.test", U8(armored), &part), 0);
	CHECK_INT(wks_request_mail("key-submission@jedi.test", "obi@jedi.test", "Sun, 29 Nov 2026 07:00:00 +0000",
				   "<wks.1@jedi.test>", &part, U8(sig), &mail), 0);
	CHECK_INT(buf_append(&mail, "", 1), 0);
	const char *m = (const char *)mail.data;
	/* every line ends in CRLF; no bare LF or CR */
	for (size_t i = 0; i + 1 < mail.len; i++) {
		if (m[i] == '\n')
			CHECK(i > 0 && m[i - 1] == '\r');
		if (m[i] == '\r')
			CHECK(m[i + 1] == '\n');
	}
	CHECK(strstr(m, "Content-Type: multipart/signed; protocol=\"application/pgp-signature\"") != NULL);
	CHECK(strstr(m, "Wks-Draft-Version: 3\r\n") != NULL);
	CHECK(strstr(m, "Content-Type: application/vnd.gnupg.wks\r\n") != NULL);
	CHECK(strstr(m, "\r\n\r\niHUE\r\n") != NULL);
	/* the signed part is in the mail exactly as given, before the signature */
	const char *at = memmem(m, mail.len, part.data, part.len);
	CHECK(at != NULL && strstr(at + part.len, "application/pgp-signature") != NULL);
	/* a header value cannot carry a line break */
	CHECK_INT(wks_request_mail("key-submission@jedi.test", "obi@jedi.test", "x\r\nBcc: y",
				   "<id>", &part, U8(sig), &mail), SM_EINVAL);
	CHECK_INT(wks_request_part("obi@jedi.test", U8("a\rb\n"), &part), SM_EINVAL);
	buf_free(&text);
	buf_free(&part);
	buf_free(&mail);
}

int main(void)
{
	RUN(submission);
	RUN(response);
	RUN(response_rejects);
	RUN(header_from);
	RUN(request_framing);
	return check_done();
}
