#include "letter.h"

#include <stdlib.h>
#include <string.h>

/* The keys to encrypt to for address: the pinned ones (one per device of
 * its owner) that are still usable, if pins has any (a pinned key that was
 * revoked or expired is never replaced by an older key for the address);
 * else the newest usable one. SM_ENOTFOUND if there is none. */
static int recipient_keys(pgp_ctx *ctx, const struct pins *pins, const char *address,
			  struct pgp_fpr ret[PINS_KEYS_MAX], size_t *ret_n)
{
	const struct pin *pin = pins != NULL ? pins_get(pins, address) : NULL;
	*ret_n = 0;
	if (pin == NULL) {
		int r = pgp_find_by_address(ctx, address, false, &ret[0]);
		*ret_n = r == 0;
		return r;
	}
	for (size_t i = 0; i < pin->n; i++)
		if (pgp_key_usable_for(ctx, &pin->fpr[i], address))
			ret[(*ret_n)++] = pin->fpr[i];
	return *ret_n > 0 ? 0 : SM_ENOTFOUND;
}

/* Looks up the keys of every address in list; appends the addresses
 * without one to missing and the keys found to rcpts. */
static int collect_rcpts(pgp_ctx *ctx, const struct pins *pins, const struct mime_addr_list *list,
			 bool hidden, struct pgp_recipient *rcpts, size_t *n, struct buf *missing)
{
	for (size_t i = 0; i < list->n; i++) {
		struct pgp_fpr fpr[PINS_KEYS_MAX];
		size_t k = 0;
		int r = recipient_keys(ctx, pins, list->addrs[i], fpr, &k);
		if (r == SM_ENOTFOUND) {
			r = buf_appendf(missing, "%s\n", list->addrs[i]);
			if (r < 0)
				return r;
			continue;
		}
		if (r < 0)
			return r;
		for (size_t j = 0; j < k; j++) {
			rcpts[*n].fpr = fpr[j];
			rcpts[*n].hidden = hidden;
			(*n)++;
		}
	}
	return 0;
}

static int encrypt_letter(pgp_ctx *ctx, const struct pins *pins, const struct mime_letter *l,
			  const struct pgp_fpr *signer, struct buf *out, struct buf *missing)
{
	size_t n = 0, cap = (l->to_cc.n + l->bcc.n) * PINS_KEYS_MAX + 1;
	struct pgp_recipient *rcpts = calloc(cap, sizeof(*rcpts));
	struct buf armored;
	buf_init(&armored, LETTER_MAX);
	if (rcpts == NULL)
		return SM_ENOMEM;
	rcpts[n].fpr = *signer; /* the sender's own copy */
	rcpts[n++].hidden = false;
	int r = collect_rcpts(ctx, pins, &l->to_cc, false, rcpts, &n, missing);
	if (r == 0)
		r = collect_rcpts(ctx, pins, &l->bcc, true, rcpts, &n, missing);
	if (r == 0 && missing->len > 0)
		r = SM_ENOTFOUND;
	if (r == 0)
		r = pgp_encrypt_sign(ctx, signer, rcpts, n, l->payload.data, l->payload.len, &armored);
	if (r == 0)
		r = mime_encrypted_build(l, armored.data, armored.len, out);
	free(rcpts);
	buf_free(&armored);
	return r;
}

int letter_seal(pgp_ctx *ctx, const struct pins *pins, const uint8_t *msg, size_t len,
		struct buf *out, struct buf *ret_missing)
{
	struct mime_letter l;
	struct pgp_fpr signer;
	struct buf sealed;
	buf_init(&sealed, out->max > out->len ? out->max - out->len : 0);
	int r = mime_letter_parse(msg, len, LETTER_MAX, &l);
	if (r < 0)
		goto done;
	r = pgp_find_by_address(ctx, l.from, true, &signer);
	if (r == SM_ENOTFOUND) {
		int r2 = buf_appendf(ret_missing, "%s\n", l.from);
		r = r2 < 0 ? r2 : SM_ENOSECRET;
	}
	if (r == 0)
		r = encrypt_letter(ctx, pins, &l, &signer, &sealed, ret_missing);
	if (r == 0)
		r = buf_append(out, sealed.data, sealed.len);
done:
	mime_letter_free(&l);
	buf_free(&sealed);
	return r;
}

static const struct {
	enum pgp_verdict pgp;
	enum letter_verdict letter;
} verdict_map[] = {
	{PGP_VERIFIED, LETTER_VERIFIED},
	{PGP_UNSIGNED, LETTER_UNSIGNED},
	{PGP_BAD_SIGNATURE, LETTER_BAD_SIGNATURE},
	{PGP_UNKNOWN_SIGNER, LETTER_UNKNOWN_SIGNER},
	{PGP_NO_INTEGRITY, LETTER_NO_INTEGRITY},
	{PGP_NOT_FOR_US, LETTER_NOT_FOR_US},
	{PGP_TOO_LARGE, LETTER_TOO_LARGE},
	{PGP_NOT_ENCRYPTED, LETTER_NOT_ENCRYPTED},
	{PGP_MALFORMED, LETTER_MALFORMED},
};

static enum letter_verdict letter_verdict_of(enum pgp_verdict v)
{
	for (size_t i = 0; i < sizeof(verdict_map) / sizeof(verdict_map[0]); i++)
		if (verdict_map[i].pgp == v)
			return verdict_map[i].letter;
	return LETTER_MALFORMED;
}

/* Turns the decrypted payload into the message shown, and binds the
 * signature to the sender: a good signature only counts as VERIFIED when
 * the signing key carries the protected From address. */
static int restore_and_bind(pgp_ctx *ctx, const struct buf *plain, const struct buf *outer,
			    struct letter_result *res, struct buf *shown)
{
	int r = mime_payload_restore(plain->data, plain->len, outer->data, outer->len, shown,
				     res->from);
	if (r == SM_ENOMEM)
		return r;
	if (r < 0) {
		res->verdict = r == SM_ETOOBIG ? LETTER_TOO_LARGE : LETTER_MALFORMED;
		return 0;
	}
	if (res->verdict == LETTER_VERIFIED &&
	    (res->from[0] == 0 || pgp_key_has_address(ctx, &res->signer, res->from) != 1))
		res->verdict = LETTER_WRONG_SIGNER;
	return 0;
}

static int read_encrypted(pgp_ctx *ctx, const struct buf *pgp, const struct buf *outer,
			  struct letter_result *res, struct buf *shown)
{
	struct pgp_result pr;
	struct buf plain;
	buf_init(&plain, LETTER_MAX);
	int r = pgp_decrypt_verify(ctx, pgp->data, pgp->len, LETTER_MAX, &pr, &plain);
	if (r < 0)
		goto done;
	res->verdict = letter_verdict_of(pr.verdict);
	res->signer = pr.signer;
	if (res->verdict == LETTER_VERIFIED || res->verdict == LETTER_UNSIGNED)
		r = restore_and_bind(ctx, &plain, outer, res, shown);
done:
	buf_free(&plain);
	return r;
}

int letter_read(pgp_ctx *ctx, const uint8_t *msg, size_t len, struct letter_result *ret,
		struct buf *out)
{
	struct letter_result res;
	struct buf pgp, outer, shown;
	memset(&res, 0, sizeof(res));
	buf_init(&pgp, LETTER_MAX);
	buf_init(&outer, LETTER_MAX);
	buf_init(&shown, out->max > out->len ? out->max - out->len : 0);
	int r = mime_encrypted_extract(msg, len, &pgp, &outer);
	if (r == SM_ENOMEM)
		goto done;
	if (r < 0) {
		res.verdict = r == SM_ETOOBIG ? LETTER_TOO_LARGE : LETTER_NOT_ENCRYPTED;
		r = 0;
	} else {
		r = read_encrypted(ctx, &pgp, &outer, &res, &shown);
	}
	if (r == 0 && (res.verdict == LETTER_VERIFIED || res.verdict == LETTER_UNSIGNED))
		r = buf_append(out, shown.data, shown.len);
	if (r == 0)
		*ret = res;
done:
	buf_free(&pgp);
	buf_free(&outer);
	buf_free(&shown);
	return r;
}

static const char *const verdict_text[] = {
	[LETTER_VERIFIED] = "verified",
	[LETTER_UNSIGNED] = "not signed: the sender is not authenticated",
	[LETTER_WRONG_SIGNER] = "signed by a key that does not belong to the From address",
	[LETTER_BAD_SIGNATURE] = "bad signature",
	[LETTER_UNKNOWN_SIGNER] = "signed by an unknown key",
	[LETTER_NO_INTEGRITY] = "no integrity protection",
	[LETTER_NOT_FOR_US] = "not encrypted to any of your keys",
	[LETTER_TOO_LARGE] = "too large or too deeply nested",
	[LETTER_NOT_ENCRYPTED] = "not a PGP/MIME encrypted message",
	[LETTER_MALFORMED] = "malformed or corrupt",
};

const char *letter_verdict_str(enum letter_verdict v)
{
	if ((unsigned)v >= sizeof(verdict_text) / sizeof(verdict_text[0]))
		return "unknown verdict";
	return verdict_text[v];
}
