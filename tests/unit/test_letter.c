#include <stdlib.h>

#include "check.h"
#include "letter.h"

/* Lea, Luke and Han each have their own context: keys are what each one holds. */
static pgp_ctx *lea, *luke, *han;
static struct pgp_fpr lea_fpr, luke_fpr, han_fpr;

static const char letter_text[] = "From: Lea <lea@rebels.test>\n"
				  "To: Luke <luke@jedi.test>\n"
				  "Subject: The plans\n"
				  "\n"
				  "Help me.\n";

static void give_cert(pgp_ctx *from, const struct pgp_fpr *f, pgp_ctx *to)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	CHECK_INT(pgp_export_public(from, f, false, &b), 0);
	CHECK_INT(pgp_import(to, b.data, b.len, PGP_IMPORT_PUBLIC, NULL), 0);
	buf_free(&b);
}

static int seal(pgp_ctx *ctx, const char *msg, struct buf *out, struct buf *missing)
{
	return letter_seal(ctx, NULL, (const uint8_t *)msg, strlen(msg), out, missing);
}

static void seal_and_read(void)
{
	struct buf sealed, shown, missing;
	struct letter_result res;
	buf_init(&sealed, LETTER_MAX);
	buf_init(&shown, LETTER_MAX);
	buf_init(&missing, 4096);
	CHECK_INT(seal(lea, letter_text, &sealed, &missing), 0);
	CHECK_INT((int)missing.len, 0);
	CHECK(strstr((char *)sealed.data, "Subject: [...]") != NULL);
	CHECK(strstr((char *)sealed.data, "The plans") == NULL);
	CHECK_INT(letter_read(luke, sealed.data, sealed.len, &res, &shown), 0);
	CHECK_INT(res.verdict, LETTER_VERIFIED);
	CHECK_STR(res.signer.hex, lea_fpr.hex);
	CHECK_STR(res.from, "lea@rebels.test");
	CHECK(shown.data && strstr((char *)shown.data, "Subject: The plans\r\n") != NULL);
	CHECK(shown.data && strstr((char *)shown.data, "\r\n\r\nHelp me.\r\n") != NULL);
	buf_reset(&shown);
	CHECK_INT(letter_read(han, sealed.data, sealed.len, &res, &shown), 0);
	CHECK_INT(res.verdict, LETTER_NOT_FOR_US);
	CHECK_INT((int)shown.len, 0);
	buf_free(&sealed);
	buf_free(&shown);
	buf_free(&missing);
}

static void seal_names_missing(void)
{
	struct buf sealed, missing;
	buf_init(&sealed, LETTER_MAX);
	buf_init(&missing, 4096);
	const char *m = "From: lea@rebels.test\nTo: luke@jedi.test, obi@jedi.test\n"
			"Bcc: yoda@dagobah.test\n\nx\n";
	CHECK_INT(seal(lea, m, &sealed, &missing), SM_ENOTFOUND);
	CHECK_STR((char *)missing.data, "obi@jedi.test\nyoda@dagobah.test\n");
	CHECK_INT((int)sealed.len, 0);
	buf_reset(&missing);
	CHECK_INT(seal(luke, letter_text, &sealed, &missing), SM_ENOSECRET);
	CHECK_STR((char *)missing.data, "lea@rebels.test\n");
	CHECK_INT((int)sealed.len, 0);
	buf_free(&sealed);
	buf_free(&missing);
}

/* Han signs a letter whose protected From says Lea: the signature is good,
 * but Han's key is not bound to Lea's address. */
static void forge(struct buf *sealed)
{
	static const char forged[] = "From: lea@rebels.test\nTo: luke@jedi.test\n\nTrust me.\n";
	struct mime_letter l;
	struct buf armored;
	struct pgp_recipient r = {.fpr = luke_fpr, .hidden = false};
	buf_init(&armored, LETTER_MAX);
	CHECK_INT(mime_letter_parse((const uint8_t *)forged, strlen(forged), LETTER_MAX, &l), 0);
	CHECK_INT(pgp_encrypt_sign(han, &han_fpr, &r, 1, l.payload.data, l.payload.len, &armored), 0);
	CHECK_INT(mime_encrypted_build(&l, armored.data, armored.len, sealed), 0);
	mime_letter_free(&l);
	buf_free(&armored);
}

static void wrong_signer_hides_text(void)
{
	struct buf sealed, shown;
	struct letter_result res;
	pgp_ctx *naive = NULL;
	buf_init(&sealed, LETTER_MAX);
	buf_init(&shown, LETTER_MAX);
	forge(&sealed);
	CHECK_INT(letter_read(luke, sealed.data, sealed.len, &res, &shown), 0);
	CHECK_INT(res.verdict, LETTER_WRONG_SIGNER);
	CHECK_STR(res.signer.hex, han_fpr.hex);
	CHECK_INT((int)shown.len, 0);
	/* a reader without Han's certificate: unknown signer, nothing shown */
	struct buf sec;
	buf_init(&sec, 1 << 20);
	CHECK_INT(pgp_ctx_new(&naive), 0);
	CHECK_INT(pgp_export_secret(luke, &luke_fpr, false, &sec), 0);
	CHECK_INT(pgp_import(naive, sec.data, sec.len, PGP_IMPORT_ANY, NULL), 0);
	CHECK_INT(letter_read(naive, sealed.data, sealed.len, &res, &shown), 0);
	CHECK_INT(res.verdict, LETTER_UNKNOWN_SIGNER);
	CHECK_INT((int)shown.len, 0);
	pgp_ctx_free(naive);
	buf_free(&sec);
	buf_free(&sealed);
	buf_free(&shown);
}

static void not_encrypted(void)
{
	struct buf shown;
	struct letter_result res;
	buf_init(&shown, LETTER_MAX);
	CHECK_INT(letter_read(luke, (const uint8_t *)letter_text, strlen(letter_text), &res, &shown), 0);
	CHECK_INT(res.verdict, LETTER_NOT_ENCRYPTED);
	CHECK_INT(letter_read(luke, (const uint8_t *)"", 0, &res, &shown), 0);
	CHECK_INT(res.verdict, LETTER_NOT_ENCRYPTED);
	CHECK_INT((int)shown.len, 0);
	buf_free(&shown);
}

static void verdict_strings(void)
{
	CHECK_STR(letter_verdict_str(LETTER_VERIFIED), "verified");
	CHECK_STR(letter_verdict_str(LETTER_NO_INTEGRITY), "no integrity protection");
	CHECK_STR(letter_verdict_str((enum letter_verdict)99), "unknown verdict");
}

int main(void)
{
	mime_global_init();
	if (pgp_ctx_new(&lea) || pgp_ctx_new(&luke) || pgp_ctx_new(&han) ||
	    pgp_keygen(lea, "lea@rebels.test", &lea_fpr) ||
	    pgp_keygen(luke, "luke@jedi.test", &luke_fpr) ||
	    pgp_keygen(han, "han@smugglers.test", &han_fpr))
		return 2;
	give_cert(luke, &luke_fpr, lea);
	give_cert(lea, &lea_fpr, luke);
	give_cert(luke, &luke_fpr, han);
	give_cert(han, &han_fpr, luke);
	RUN(seal_and_read);
	RUN(seal_names_missing);
	RUN(wrong_signer_hides_text);
	RUN(not_encrypted);
	RUN(verdict_strings);
	pgp_ctx_free(lea);
	pgp_ctx_free(luke);
	pgp_ctx_free(han);
	return check_done();
}
