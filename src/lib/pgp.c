/* pgp.c: OpenPGP through librnp 0.16, with the safety rules of DESIGN.md.
 *
 * Every rnp output goes through a callback into a struct buf (a "sink"):
 * buf wipes the old block when it grows, which rnp's own memory output
 * (plain realloc) does not, and a sink tells an overflow of our cap apart
 * from every other write failure without guessing from rnp error codes. */
#include "pgp.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>
#include <sodium.h>

#include "pgp_internal.h"
#include "pgp_packet.h"
#include "wkd.h"

/* Two years (730 days), for the primary key and the subkey alike. */
#define PGP_KEY_LIFETIME (730u * 24u * 3600u)
/* Scratch room for one certificate while it is rewritten. */
#define PGP_CERT_MAX ((size_t)16 << 20)

/* ---- small helpers ---------------------------------------------------- */

int pgpi_rnp_err(rnp_result_t r)
{
	return r == RNP_ERROR_OUT_OF_MEMORY ? SM_ENOMEM : SM_ECRYPTO;
}

size_t pgpi_buf_room(const struct buf *b)
{
	return b->max - b->len;
}

struct sink {
	struct buf b;
	bool over;  /* a write would have passed b.max */
	bool nomem;
};

static bool sink_write(void *app_ctx, const void *data, size_t len)
{
	struct sink *s = app_ctx;
	int r = buf_append(&s->b, data, len);
	if (r == SM_ETOOBIG)
		s->over = true;
	else if (r < 0)
		s->nomem = true;
	return r == 0;
}

static int sink_open(struct sink *s, size_t max, rnp_output_t *ret)
{
	buf_init(&s->b, max);
	s->over = false;
	s->nomem = false;
	return rnp_output_to_callback(ret, sink_write, NULL, s) ? SM_ENOMEM : 0;
}

/* Maps a finished sink to an error code, once rnp reported r. */
static int sink_status(const struct sink *s, rnp_result_t r)
{
	if (s->nomem)
		return SM_ENOMEM;
	if (s->over)
		return SM_ETOOBIG;
	return r ? pgpi_rnp_err(r) : 0;
}

/* Runs op into a sink capped at max and, when all of it succeeded,
 * appends what it wrote to out. The sink is wiped either way. */
int pgpi_sink_run(sink_op op, void *arg, size_t max, struct buf *out)
{
	rnp_output_t o = NULL;
	struct sink s;
	int r = sink_open(&s, max, &o);
	if (r < 0)
		return r;
	rnp_result_t rr = op(arg, o);
	if (!rr)
		rr = rnp_output_finish(o);
	rnp_output_destroy(o);
	if ((r = sink_status(&s, rr)) == 0)
		r = buf_append(out, s.b.data, s.b.len);
	buf_free(&s.b);
	return r;
}

static bool empty_read(void *app_ctx, void *data, size_t len, size_t *read)
{
	(void)app_ctx;
	(void)data;
	(void)len;
	*read = 0;
	return true;
}

/* rnp_input_from_memory refuses zero bytes; an empty message is valid. */
int pgpi_input_new(rnp_input_t *ret, const uint8_t *data, size_t len)
{
	rnp_result_t r = len == 0 ? rnp_input_from_callback(ret, empty_read, NULL, NULL)
				  : rnp_input_from_memory(ret, data, len, false);
	return r ? SM_ENOMEM : 0;
}

/* librnp reports through a FILE on the ffi (stderr by default); point it at
 * /dev/null since the library never prints. rnp fdopen()s the descriptor
 * and closes it with the ffi. */
int pgpi_ffi_new(rnp_ffi_t *ret)
{
	rnp_ffi_t ffi = NULL;
	if (rnp_ffi_create(&ffi, "GPG", "GPG"))
		return SM_ENOMEM;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (rnp_ffi_set_log_fd(ffi, fd)) {
		close(fd);
		goto fail;
	}
	*ret = ffi;
	return 0;
fail:
	rnp_ffi_destroy(ffi);
	return SM_EIO;
}

static bool fpr_is_valid(const struct pgp_fpr *f)
{
	for (size_t i = 0; i < PGP_FPR_HEX; i++) {
		char c = f->hex[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return f->hex[PGP_FPR_HEX] == '\0';
}

/* Copies an rnp hex string (a fingerprint or a key ID) and frees it. */
static int hex_take(char *hex, struct pgp_fpr *ret)
{
	if (hex == NULL)
		return SM_ECRYPTO;
	size_t n = strlen(hex);
	if (n > PGP_FPR_HEX) {
		rnp_buffer_destroy(hex);
		return SM_ECRYPTO;
	}
	memcpy(ret->hex, hex, n + 1);
	rnp_buffer_destroy(hex);
	return 0;
}

int pgpi_key_fpr(rnp_key_handle_t key, struct pgp_fpr *ret)
{
	char *hex = NULL;
	if (rnp_key_get_fprint(key, &hex))
		return SM_ECRYPTO;
	return hex_take(hex, ret);
}

int pgpi_key_locate(rnp_ffi_t ffi, const struct pgp_fpr *fpr, rnp_key_handle_t *ret)
{
	if (fpr == NULL || !fpr_is_valid(fpr))
		return SM_EINVAL;
	rnp_key_handle_t key = NULL;
	if (rnp_locate_key(ffi, "fingerprint", fpr->hex, &key))
		return SM_ECRYPTO;
	if (key == NULL)
		return SM_ENOTFOUND;
	*ret = key;
	return 0;
}

/* The addr-spec of a user ID: "a@b" as is, or the part inside the
 * trailing <...> of "Name <a@b>". */
int pgpi_uid_address(const char *uid, struct wkd_address *ret)
{
	char spec[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2];
	size_t n = strlen(uid);
	const char *start = uid;
	if (n > 0 && uid[n - 1] == '>') {
		const char *lt = strrchr(uid, '<');
		if (lt == NULL)
			return SM_EINVAL;
		start = lt + 1;
		n = (size_t)(uid + n - 1 - start);
	}
	if (n >= sizeof(spec))
		return SM_EINVAL;
	memcpy(spec, start, n);
	spec[n] = '\0';
	return wkd_address_parse(spec, ret);
}

bool pgpi_key_is_usable(rnp_key_handle_t key)
{
	bool valid = false, revoked = true, expired = true;
	if (rnp_key_is_valid(key, &valid) || rnp_key_is_revoked(key, &revoked) ||
	    rnp_key_is_expired(key, &expired))
		return false;
	return valid && !revoked && !expired;
}

/* Whether user ID idx of key is a valid, unrevoked user ID for want. */
bool pgpi_uid_matches(rnp_key_handle_t key, size_t idx, const struct wkd_address *want)
{
	rnp_uid_handle_t uh = NULL;
	char *text = NULL;
	bool ok = false, valid = false, revoked = true;
	uint32_t type = 0;
	struct wkd_address have;
	if (rnp_key_get_uid_handle_at(key, idx, &uh))
		return false;
	if (rnp_uid_get_type(uh, &type) || type != RNP_USER_ID)
		goto done;
	if (rnp_uid_is_valid(uh, &valid) || !valid || rnp_uid_is_revoked(uh, &revoked) || revoked)
		goto done;
	if (rnp_key_get_uid_at(key, idx, &text))
		goto done;
	ok = pgpi_uid_address(text, &have) == 0 && wkd_address_equal(&have, want);
done:
	rnp_buffer_destroy(text);
	rnp_uid_handle_destroy(uh);
	return ok;
}

bool pgpi_key_has_address(rnp_key_handle_t key, const struct wkd_address *want)
{
	size_t n = 0;
	if (rnp_key_get_uid_count(key, &n))
		return false;
	for (size_t i = 0; i < n; i++)
		if (pgpi_uid_matches(key, i, want))
			return true;
	return false;
}

static bool key_can_encrypt(rnp_key_handle_t primary)
{
	size_t n = 0;
	bool found = false;
	if (rnp_key_get_subkey_count(primary, &n))
		return false;
	for (size_t i = 0; i < n && !found; i++) {
		rnp_key_handle_t sub = NULL;
		bool allows = false;
		if (rnp_key_get_subkey_at(primary, i, &sub))
			continue;
		found = pgpi_key_is_usable(sub) && !rnp_key_allows_usage(sub, "encrypt", &allows) &&
			allows;
		rnp_key_handle_destroy(sub);
	}
	return found;
}

/* ---- context ---------------------------------------------------------- */

int pgp_ctx_new(pgp_ctx **ret_ctx)
{
	if (ret_ctx == NULL)
		return SM_EINVAL;
	pgp_ctx *ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return SM_ENOMEM;
	int r = pgpi_ffi_new(&ctx->ffi);
	if (r < 0) {
		free(ctx);
		return r;
	}
	*ret_ctx = ctx;
	return 0;
}

void pgp_ctx_free(pgp_ctx *ctx)
{
	if (ctx == NULL)
		return;
	rnp_ffi_destroy(ctx->ffi);
	free(ctx);
}

/* ---- key generation --------------------------------------------------- */

static int gen_primary(rnp_ffi_t ffi, const char *uid, rnp_key_handle_t *ret)
{
	rnp_op_generate_t op = NULL;
	rnp_result_t r = rnp_op_generate_create(&op, ffi, "EDDSA");
	if (r)
		return pgpi_rnp_err(r);
	if ((r = rnp_op_generate_set_userid(op, uid)) || (r = rnp_op_generate_add_usage(op, "sign")) ||
	    (r = rnp_op_generate_add_usage(op, "certify")) ||
	    (r = rnp_op_generate_set_expiration(op, PGP_KEY_LIFETIME)) ||
	    (r = rnp_op_generate_set_hash(op, "SHA256")) ||
	    (r = rnp_op_generate_add_pref_cipher(op, "AES256")) ||
	    (r = rnp_op_generate_add_pref_cipher(op, "AES128")) ||
	    (r = rnp_op_generate_add_pref_hash(op, "SHA512")) ||
	    (r = rnp_op_generate_add_pref_hash(op, "SHA256")) ||
	    (r = rnp_op_generate_add_pref_compression(op, "Uncompressed")) ||
	    (r = rnp_op_generate_execute(op)) || (r = rnp_op_generate_get_key(op, ret)))
		goto fail;
	rnp_op_generate_destroy(op);
	return 0;
fail:
	rnp_op_generate_destroy(op);
	return pgpi_rnp_err(r);
}

static int gen_subkey(rnp_ffi_t ffi, rnp_key_handle_t primary)
{
	rnp_op_generate_t op = NULL;
	rnp_key_handle_t sub = NULL;
	rnp_result_t r = rnp_op_generate_subkey_create(&op, ffi, primary, "ECDH");
	if (r)
		return pgpi_rnp_err(r);
	if ((r = rnp_op_generate_set_curve(op, "Curve25519")) ||
	    (r = rnp_op_generate_add_usage(op, "encrypt")) ||
	    (r = rnp_op_generate_set_expiration(op, PGP_KEY_LIFETIME)) ||
	    (r = rnp_op_generate_set_hash(op, "SHA256")) || (r = rnp_op_generate_execute(op)) ||
	    (r = rnp_op_generate_get_key(op, &sub)))
		goto fail;
	rnp_key_handle_destroy(sub);
	rnp_op_generate_destroy(op);
	return 0;
fail:
	rnp_op_generate_destroy(op);
	return pgpi_rnp_err(r);
}

int pgp_keygen(pgp_ctx *ctx, const char *address, struct pgp_fpr *ret_fpr)
{
	struct wkd_address a;
	char uid[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2];
	rnp_key_handle_t primary = NULL;
	struct pgp_fpr fpr;
	if (ctx == NULL || address == NULL || ret_fpr == NULL)
		return SM_EINVAL;
	if (wkd_address_parse(address, &a) < 0 || wkd_address_format(&a, uid, sizeof(uid)) < 0)
		return SM_EINVAL;
	int r = gen_primary(ctx->ffi, uid, &primary);
	if (r < 0)
		return r;
	if ((r = gen_subkey(ctx->ffi, primary)) < 0 || (r = pgpi_key_fpr(primary, &fpr)) < 0)
		goto fail;
	rnp_key_handle_destroy(primary);
	*ret_fpr = fpr;
	return 0;
fail:
	/* Leave no primary without its encryption subkey behind. */
	(void)rnp_key_remove(primary, RNP_KEY_REMOVE_PUBLIC | RNP_KEY_REMOVE_SECRET |
					      RNP_KEY_REMOVE_SUBKEYS);
	rnp_key_handle_destroy(primary);
	return r;
}

/* ---- import ----------------------------------------------------------- */

int pgpi_import_into(rnp_ffi_t ffi, const uint8_t *data, size_t len, uint32_t flags)
{
	rnp_input_t in = NULL;
	if (rnp_input_from_memory(&in, data, len, false))
		return SM_ENOMEM;
	rnp_result_t r = rnp_import_keys(ffi, in, flags, NULL);
	rnp_input_destroy(in);
	if (r == RNP_ERROR_OUT_OF_MEMORY)
		return SM_ENOMEM;
	return r ? SM_EPARSE : 0;
}

/* The key store keeps keys in the order they were read, so the first
 * primary the iterator yields is the first primary of the input. */
static int first_primary(rnp_ffi_t ffi, struct pgp_fpr *ret)
{
	rnp_identifier_iterator_t it = NULL;
	const char *hex = NULL;
	int r = SM_EPARSE;
	if (rnp_identifier_iterator_create(ffi, &it, "fingerprint"))
		return SM_ENOMEM;
	while (r == SM_EPARSE && !rnp_identifier_iterator_next(it, &hex) && hex != NULL) {
		rnp_key_handle_t key = NULL;
		bool primary = false;
		if (rnp_locate_key(ffi, "fingerprint", hex, &key) || key == NULL)
			continue;
		if (!rnp_key_is_primary(key, &primary) && primary)
			r = pgpi_key_fpr(key, ret);
		rnp_key_handle_destroy(key);
	}
	rnp_identifier_iterator_destroy(it);
	return r;
}

/* Reads data into a scratch key store first, so that bad data or refused
 * secret keys leave ctx as it was. */
int pgp_import(pgp_ctx *ctx, const uint8_t *data, size_t len, enum pgp_import_mode mode,
	       struct pgp_fpr *ret_fpr)
{
	rnp_ffi_t scratch = NULL;
	size_t n_secret = 0;
	struct pgp_fpr fpr;
	const uint32_t all = RNP_LOAD_SAVE_PUBLIC_KEYS | RNP_LOAD_SAVE_SECRET_KEYS;
	if (ctx == NULL || (data == NULL && len > 0) ||
	    (mode != PGP_IMPORT_PUBLIC && mode != PGP_IMPORT_ANY))
		return SM_EINVAL;
	if (len == 0)
		return SM_EPARSE;
	int r = pgpi_ffi_new(&scratch);
	if (r < 0)
		return r;
	if ((r = pgpi_import_into(scratch, data, len, all)) < 0 || (r = first_primary(scratch, &fpr)) < 0)
		goto fail;
	r = SM_ECRYPTO;
	if (rnp_get_secret_key_count(scratch, &n_secret))
		goto fail;
	r = SM_ESECRET;
	if (mode == PGP_IMPORT_PUBLIC && n_secret > 0)
		goto fail;
	r = pgpi_import_into(ctx->ffi, data, len, mode == PGP_IMPORT_ANY ? all : RNP_LOAD_SAVE_PUBLIC_KEYS);
	if (r < 0)
		goto fail;
	rnp_ffi_destroy(scratch);
	if (ret_fpr != NULL)
		*ret_fpr = fpr;
	return 0;
fail:
	rnp_ffi_destroy(scratch);
	return r;
}

/* ---- export ----------------------------------------------------------- */

struct export_args {
	rnp_key_handle_t key;
	uint32_t flags;
};

static rnp_result_t export_op(void *arg, rnp_output_t o)
{
	const struct export_args *a = arg;
	return rnp_key_export(a->key, o, a->flags);
}

/* Appends key, exported with flags, to out. */
int pgpi_export_key(rnp_key_handle_t key, uint32_t flags, struct buf *out)
{
	struct export_args a = {key, flags};
	return pgpi_sink_run(export_op, &a, pgpi_buf_room(out), out);
}

static int export_fpr(pgp_ctx *ctx, const struct pgp_fpr *fpr, uint32_t flags, struct buf *out)
{
	rnp_key_handle_t key = NULL;
	bool have = false;
	if (ctx == NULL || out == NULL)
		return SM_EINVAL;
	int r = pgpi_key_locate(ctx->ffi, fpr, &key);
	if (r < 0)
		return r;
	r = SM_ENOTFOUND;
	if ((flags & RNP_KEY_EXPORT_SECRET) && (rnp_key_have_secret(key, &have) || !have))
		goto fail;
	r = pgpi_export_key(key, flags | RNP_KEY_EXPORT_SUBKEYS, out);
fail:
	rnp_key_handle_destroy(key);
	return r;
}

int pgp_export_public(pgp_ctx *ctx, const struct pgp_fpr *fpr, bool armored, struct buf *out)
{
	return export_fpr(ctx, fpr, RNP_KEY_EXPORT_PUBLIC | (armored ? RNP_KEY_EXPORT_ARMORED : 0),
			  out);
}

int pgp_export_secret(pgp_ctx *ctx, const struct pgp_fpr *fpr, bool armored, struct buf *out)
{
	return export_fpr(ctx, fpr, RNP_KEY_EXPORT_SECRET | (armored ? RNP_KEY_EXPORT_ARMORED : 0),
			  out);
}

/* Removes from key every user ID but the first valid one for want. */
int pgpi_keep_one_uid(rnp_key_handle_t key, const struct wkd_address *want)
{
	size_t n = 0, i = 0;
	bool kept = false;
	if (rnp_key_get_uid_count(key, &n))
		return SM_ECRYPTO;
	while (i < n) {
		if (!kept && pgpi_uid_matches(key, i, want)) {
			kept = true;
			i++;
			continue;
		}
		rnp_uid_handle_t uh = NULL;
		if (rnp_key_get_uid_handle_at(key, i, &uh))
			return SM_ECRYPTO;
		rnp_result_t rr = rnp_uid_remove(key, uh);
		rnp_uid_handle_destroy(uh);
		if (rr)
			return pgpi_rnp_err(rr);
		n--;
	}
	return kept ? 0 : SM_ENOTFOUND;
}

/* Copies the certificate into a scratch key store and strips it there. */
int pgp_export_for_address(pgp_ctx *ctx, const struct pgp_fpr *fpr, const char *address,
			   bool armored, struct buf *out)
{
	struct wkd_address want;
	rnp_key_handle_t key = NULL;
	rnp_ffi_t scratch = NULL;
	struct buf cert;
	const uint32_t pub = RNP_KEY_EXPORT_PUBLIC | RNP_KEY_EXPORT_SUBKEYS;
	if (ctx == NULL || address == NULL || out == NULL || pgpi_uid_address(address, &want) < 0)
		return SM_EINVAL;
	int r = pgpi_key_locate(ctx->ffi, fpr, &key);
	if (r < 0)
		return r;
	buf_init(&cert, PGP_CERT_MAX);
	r = pgpi_export_key(key, pub, &cert);
	rnp_key_handle_destroy(key);
	key = NULL;
	if (r < 0)
		goto fail;
	if ((r = pgpi_ffi_new(&scratch)) < 0 ||
	    (r = pgpi_import_into(scratch, cert.data, cert.len, RNP_LOAD_SAVE_PUBLIC_KEYS)) < 0 ||
	    (r = pgpi_key_locate(scratch, fpr, &key)) < 0 || (r = pgpi_keep_one_uid(key, &want)) < 0)
		goto fail;
	r = pgpi_export_key(key, pub | (armored ? RNP_KEY_EXPORT_ARMORED : 0), out);
fail:
	buf_free(&cert);
	rnp_key_handle_destroy(key);
	rnp_ffi_destroy(scratch);
	return r;
}

struct save_args {
	rnp_ffi_t ffi;
	uint32_t flags;
};

static rnp_result_t save_op(void *arg, rnp_output_t o)
{
	const struct save_args *a = arg;
	return rnp_save_keys(a->ffi, "GPG", o, a->flags);
}

static int save_all(pgp_ctx *ctx, uint32_t flags, struct buf *out)
{
	if (ctx == NULL || out == NULL)
		return SM_EINVAL;
	struct save_args a = {ctx->ffi, flags};
	return pgpi_sink_run(save_op, &a, pgpi_buf_room(out), out);
}

int pgp_export_all_public(pgp_ctx *ctx, struct buf *out)
{
	return save_all(ctx, RNP_LOAD_SAVE_PUBLIC_KEYS, out);
}

int pgp_export_all_secret(pgp_ctx *ctx, struct buf *out)
{
	return save_all(ctx, RNP_LOAD_SAVE_SECRET_KEYS, out);
}

/* ---- lookup ----------------------------------------------------------- */

/* Whether hex names a usable primary for want; its creation time if so. */
static bool candidate(rnp_ffi_t ffi, const char *hex, const struct wkd_address *want,
		      bool need_secret, uint32_t *ret_created)
{
	rnp_key_handle_t key = NULL;
	bool primary = false, secret = false, ok = false;
	if (rnp_locate_key(ffi, "fingerprint", hex, &key) || key == NULL)
		return false;
	if (rnp_key_is_primary(key, &primary) || !primary || !pgpi_key_is_usable(key))
		goto done;
	if (need_secret && (rnp_key_have_secret(key, &secret) || !secret))
		goto done;
	ok = pgpi_key_has_address(key, want) && key_can_encrypt(key) &&
	     !rnp_key_get_creation(key, ret_created);
done:
	rnp_key_handle_destroy(key);
	return ok;
}

int pgp_find_by_address(pgp_ctx *ctx, const char *address, bool need_secret,
			struct pgp_fpr *ret_fpr)
{
	struct wkd_address want;
	rnp_identifier_iterator_t it = NULL;
	const char *hex = NULL;
	struct pgp_fpr best;
	uint32_t best_created = 0, created = 0;
	bool found = false;
	if (ctx == NULL || address == NULL || ret_fpr == NULL || pgpi_uid_address(address, &want) < 0)
		return SM_EINVAL;
	if (rnp_identifier_iterator_create(ctx->ffi, &it, "fingerprint"))
		return SM_ENOMEM;
	while (!rnp_identifier_iterator_next(it, &hex) && hex != NULL) {
		if (!candidate(ctx->ffi, hex, &want, need_secret, &created))
			continue;
		if (found && created <= best_created)
			continue;
		if (strlen(hex) != PGP_FPR_HEX)
			continue;
		memcpy(best.hex, hex, PGP_FPR_HEX + 1);
		best_created = created;
		found = true;
	}
	rnp_identifier_iterator_destroy(it);
	if (!found)
		return SM_ENOTFOUND;
	*ret_fpr = best;
	return 0;
}

int pgp_key_usable_for(pgp_ctx *ctx, const struct pgp_fpr *fpr, const char *address)
{
	struct wkd_address want;
	uint32_t created = 0;
	if (ctx == NULL || fpr == NULL || address == NULL || pgpi_uid_address(address, &want) < 0)
		return 0;
	return candidate(ctx->ffi, fpr->hex, &want, false, &created);
}

int pgp_key_has_address(pgp_ctx *ctx, const struct pgp_fpr *fpr, const char *address)
{
	struct wkd_address want;
	rnp_key_handle_t key = NULL;
	if (ctx == NULL || address == NULL || pgpi_uid_address(address, &want) < 0)
		return 0;
	if (pgpi_key_locate(ctx->ffi, fpr, &key) < 0)
		return 0;
	int has = pgpi_key_has_address(key, &want);
	rnp_key_handle_destroy(key);
	return has;
}

/* ---- encryption ------------------------------------------------------- */

/* The 8-byte key IDs of a hidden recipient's keys, primary and subkeys. */
struct hidden_ids {
	uint8_t (*ids)[PGP_KEYID_LEN];
	size_t n;
	size_t *hits; /* per recipient: how many PKESKs were blanked */
	size_t *owner;
};

static int key_id_bin(rnp_key_handle_t key, uint8_t ret[PGP_KEYID_LEN])
{
	char *hex = NULL;
	size_t bin_len = 0;
	if (rnp_key_get_keyid(key, &hex))
		return SM_ECRYPTO;
	int r = sodium_hex2bin(ret, PGP_KEYID_LEN, hex, strlen(hex), NULL, &bin_len, NULL);
	rnp_buffer_destroy(hex);
	return r == 0 && bin_len == PGP_KEYID_LEN ? 0 : SM_ECRYPTO;
}

static int hidden_add(struct hidden_ids *h, rnp_key_handle_t key, size_t owner)
{
	if (key_id_bin(key, h->ids[h->n]) < 0)
		return SM_ECRYPTO;
	h->owner[h->n++] = owner;
	return 0;
}

/* Collects the key IDs of recipient idx; h has room for all of them. */
static int hidden_collect(rnp_ffi_t ffi, const struct pgp_fpr *fpr, size_t idx, size_t max,
			  struct hidden_ids *h)
{
	rnp_key_handle_t key = NULL;
	size_t n_sub = 0;
	int r = pgpi_key_locate(ffi, fpr, &key);
	if (r < 0)
		return r;
	r = SM_ECRYPTO;
	if (rnp_key_get_subkey_count(key, &n_sub) || h->n + 1 + n_sub > max ||
	    hidden_add(h, key, idx) < 0)
		goto fail;
	for (size_t i = 0; i < n_sub; i++) {
		rnp_key_handle_t sub = NULL;
		if (rnp_key_get_subkey_at(key, i, &sub))
			goto fail;
		int rs = hidden_add(h, sub, idx);
		rnp_key_handle_destroy(sub);
		if (rs < 0)
			goto fail;
	}
	r = 0;
fail:
	rnp_key_handle_destroy(key);
	return r;
}

/* Overwrites with zeros the key ID of every v3 PKESK addressed to a key in
 * h, among the packets before the encrypted data; rnp wrote one PKESK per
 * recipient, so there are at most n_rcpts. */
static int pkesk_blank(uint8_t *msg, size_t len, size_t n_rcpts, struct hidden_ids *h)
{
	size_t n = 0, *offs = calloc(n_rcpts, sizeof(*offs));
	if (offs == NULL)
		return SM_ENOMEM;
	int r = pgp_packet_pkesk_keyids(msg, len, offs, n_rcpts, &n) < 0 ? SM_ECRYPTO : 0;
	for (size_t j = 0; j < n; j++) {
		for (size_t i = 0; i < h->n; i++) {
			if (memcmp(msg + offs[j], h->ids[i], PGP_KEYID_LEN) != 0)
				continue;
			memset(msg + offs[j], 0, PGP_KEYID_LEN);
			h->hits[h->owner[i]]++;
			break;
		}
	}
	free(offs);
	return r;
}

static rnp_result_t enarmor_op(void *arg, rnp_output_t o)
{
	return rnp_enarmor(arg, o, "message");
}

static rnp_result_t dearmor_op(void *arg, rnp_output_t o)
{
	return rnp_dearmor(arg, o);
}

/* Appends in[0..len) converted by op (armor or dearmor) to out. */
static int convert_append(sink_op op, const uint8_t *in, size_t len, size_t max, struct buf *out)
{
	rnp_input_t input = NULL;
	if (rnp_input_from_memory(&input, in, len, false))
		return SM_ENOMEM;
	int r = pgpi_sink_run(op, input, max, out);
	rnp_input_destroy(input);
	return r;
}

/* Blanks the hidden recipients' key IDs in the binary message bin, then
 * armors it into out. Each hidden recipient must have been blanked. */
static int hide_and_armor(rnp_ffi_t ffi, const struct pgp_recipient *rcpts, size_t n,
			  struct buf *bin, struct buf *out)
{
	enum { IDS_PER_KEY = 16 };
	struct hidden_ids h = {0};
	size_t max = n * IDS_PER_KEY;
	int r = SM_ENOMEM;
	h.ids = calloc(max, sizeof(*h.ids));
	h.owner = calloc(max, sizeof(*h.owner));
	h.hits = calloc(n, sizeof(*h.hits));
	if (h.ids == NULL || h.owner == NULL || h.hits == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (rcpts[i].hidden && (r = hidden_collect(ffi, &rcpts[i].fpr, i, max, &h)) < 0)
			goto fail;
	if ((r = pkesk_blank(bin->data, bin->len, n, &h)) < 0)
		goto fail;
	r = SM_ECRYPTO;
	for (size_t i = 0; i < n; i++)
		if (rcpts[i].hidden && h.hits[i] == 0)
			goto fail;
	r = convert_append(enarmor_op, bin->data, bin->len, pgpi_buf_room(out), out);
fail:
	free(h.ids);
	free(h.owner);
	free(h.hits);
	return r;
}

static rnp_result_t encrypt_setup(rnp_op_encrypt_t op, bool armored)
{
	rnp_result_t r;
	if ((r = rnp_op_encrypt_set_cipher(op, "AES256")) || (r = rnp_op_encrypt_set_hash(op, "SHA256")) ||
	    (r = rnp_op_encrypt_set_aead(op, "None")) ||
	    (r = rnp_op_encrypt_set_compression(op, "Uncompressed", 0)) ||
	    (r = rnp_op_encrypt_set_armor(op, armored)) || (r = rnp_op_encrypt_set_file_name(op, "")) ||
	    (r = rnp_op_encrypt_set_file_mtime(op, 0)))
		return r;
	return RNP_SUCCESS;
}

static int encrypt_add_keys(rnp_ffi_t ffi, rnp_op_encrypt_t op, const struct pgp_fpr *signer,
			    const struct pgp_recipient *rcpts, size_t n)
{
	rnp_key_handle_t key = NULL;
	bool secret = false;
	int r = pgpi_key_locate(ffi, signer, &key);
	if (r < 0)
		return r;
	if (rnp_key_have_secret(key, &secret) || !secret)
		r = SM_ENOTFOUND;
	else if (rnp_op_encrypt_add_signature(op, key, NULL))
		r = SM_ECRYPTO;
	rnp_key_handle_destroy(key);
	for (size_t i = 0; i < n && r == 0; i++) {
		if ((r = pgpi_key_locate(ffi, &rcpts[i].fpr, &key)) < 0)
			break;
		/* rnp picks the recipient's usable encryption subkey itself */
		if (rnp_op_encrypt_add_recipient(op, key))
			r = SM_ENOTFOUND;
		rnp_key_handle_destroy(key);
	}
	return r;
}

static bool any_hidden(const struct pgp_recipient *rcpts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rcpts[i].hidden)
			return true;
	return false;
}

int pgp_encrypt_sign(pgp_ctx *ctx, const struct pgp_fpr *signer, const struct pgp_recipient *rcpts,
		     size_t n_rcpts, const uint8_t *in, size_t len, struct buf *out)
{
	rnp_input_t input = NULL;
	rnp_output_t output = NULL;
	rnp_op_encrypt_t op = NULL;
	struct sink s;
	if (ctx == NULL || signer == NULL || rcpts == NULL || n_rcpts == 0 || out == NULL ||
	    (in == NULL && len > 0))
		return SM_EINVAL;
	bool hidden = any_hidden(rcpts, n_rcpts);
	int r = sink_open(&s, pgpi_buf_room(out), &output);
	if (r < 0)
		return r;
	r = SM_ENOMEM;
	if (pgpi_input_new(&input, in, len) < 0 || rnp_op_encrypt_create(&op, ctx->ffi, input, output))
		goto fail;
	r = SM_ECRYPTO;
	if (encrypt_setup(op, !hidden))
		goto fail;
	if ((r = encrypt_add_keys(ctx->ffi, op, signer, rcpts, n_rcpts)) < 0)
		goto fail;
	rnp_result_t rr = rnp_op_encrypt_execute(op);
	if (!rr)
		rr = rnp_output_finish(output);
	if ((r = sink_status(&s, rr)) < 0)
		goto fail;
	if (hidden)
		r = hide_and_armor(ctx->ffi, rcpts, n_rcpts, &s.b, out);
	else
		r = buf_append(out, s.b.data, s.b.len);
fail:
	rnp_op_encrypt_destroy(op);
	rnp_input_destroy(input);
	rnp_output_destroy(output);
	buf_free(&s.b);
	return r;
}

/* ---- decryption ------------------------------------------------------- */

/* What rnp_op_verify_execute left behind, read once. */
struct vstate {
	rnp_result_t rc;
	char *mode;     /* protection mode: the packet type, even when not decrypted */
	bool valid;     /* MDC or AEAD checked and good */
	size_t n_enc;   /* PKESK + SKESK packets seen */
	bool decrypted; /* a PKESK or SKESK yielded the session key */
	bool ours;      /* a PKESK names a key whose secret we hold */
};

/* Whether recipient idx names, by key ID, a secret key in ffi. Wildcard
 * key IDs name nobody. */
static bool recipient_is_ours(rnp_ffi_t ffi, rnp_op_verify_t op, size_t idx)
{
	rnp_recipient_handle_t rh = NULL;
	rnp_key_handle_t key = NULL;
	char *id = NULL;
	bool secret = false;
	if (rnp_op_verify_get_recipient_at(op, idx, &rh) || rnp_recipient_get_keyid(rh, &id))
		return false;
	if (strspn(id, "0") != strlen(id) && !rnp_locate_key(ffi, "keyid", id, &key) && key != NULL &&
	    rnp_key_have_secret(key, &secret))
		secret = false;
	rnp_key_handle_destroy(key);
	rnp_buffer_destroy(id);
	return secret;
}

static int vstate_read(rnp_ffi_t ffi, rnp_op_verify_t op, rnp_result_t rc, struct vstate *v)
{
	size_t n_rcpt = 0, n_sym = 0;
	rnp_recipient_handle_t used_r = NULL;
	rnp_symenc_handle_t used_s = NULL;
	v->rc = rc;
	if (rnp_op_verify_get_protection_info(op, &v->mode, NULL, &v->valid) || v->mode == NULL ||
	    rnp_op_verify_get_recipient_count(op, &n_rcpt) ||
	    rnp_op_verify_get_symenc_count(op, &n_sym) ||
	    rnp_op_verify_get_used_recipient(op, &used_r) || rnp_op_verify_get_used_symenc(op, &used_s))
		return SM_ENOMEM;
	v->n_enc = n_rcpt + n_sym;
	v->decrypted = used_r != NULL || used_s != NULL;
	for (size_t i = 0; i < n_rcpt && !v->ours; i++)
		v->ours = recipient_is_ours(ffi, op, i);
	return 0;
}

/* Whether rc says the message was processed through to its end and only a
 * signature (or its absence) is in question. rnp returns
 * SIGNATURE_INVALID when no signature verified, including when there is none. */
static bool rc_processed(rnp_result_t rc)
{
	return rc == RNP_SUCCESS || rc == RNP_ERROR_SIGNATURE_INVALID ||
	       rc == RNP_ERROR_SIGNATURE_EXPIRED || rc == RNP_ERROR_KEY_NOT_FOUND;
}

/* The verdict from protection alone, or PGP_VERIFIED when it is for the
 * signatures to decide. Only the modes with integrity protection pass. */
static enum pgp_verdict protection_verdict(const struct vstate *v)
{
	if (v->n_enc == 0)
		return strcmp(v->mode, "none") == 0 && rc_processed(v->rc) ? PGP_NOT_ENCRYPTED
									   : PGP_MALFORMED;
	if (!v->decrypted) {
		/* a PKESK to a key we hold that still fails is corrupt */
		bool no_key = v->rc == RNP_ERROR_NO_SUITABLE_KEY || v->rc == RNP_ERROR_DECRYPT_FAILED ||
			      v->rc == RNP_ERROR_BAD_PASSWORD;
		return no_key && !v->ours ? PGP_NOT_FOR_US : PGP_MALFORMED;
	}
	if (strcmp(v->mode, "cfb") == 0)
		return PGP_NO_INTEGRITY;
	if (strcmp(v->mode, "cfb-mdc") != 0 && strncmp(v->mode, "aead-", 5) != 0)
		return PGP_MALFORMED;
	if (!v->valid || !rc_processed(v->rc))
		return PGP_MALFORMED;
	return PGP_VERIFIED;
}

/* The primary fingerprint of the key that made a good signature. */
int pgpi_signer_primary(rnp_op_verify_signature_t sig, struct pgp_fpr *ret)
{
	rnp_key_handle_t key = NULL;
	bool primary = false;
	char *hex = NULL;
	if (rnp_op_verify_signature_get_key(sig, &key) || key == NULL)
		return SM_ECRYPTO;
	rnp_result_t rr = rnp_key_is_primary(key, &primary);
	if (!rr)
		rr = primary ? rnp_key_get_fprint(key, &hex) : rnp_key_get_primary_fprint(key, &hex);
	rnp_key_handle_destroy(key);
	if (rr)
		return SM_ECRYPTO;
	int r = hex_take(hex, ret);
	return r == 0 && fpr_is_valid(ret) ? 0 : SM_ECRYPTO;
}

/* The issuer of a signature made by a key we lack: fingerprint if the
 * signature names one, else its key ID. */
static void signer_issuer(rnp_op_verify_signature_t sig, struct pgp_fpr *ret)
{
	rnp_signature_handle_t sh = NULL;
	char *hex = NULL;
	ret->hex[0] = '\0';
	if (rnp_op_verify_signature_get_handle(sig, &sh))
		return;
	if (rnp_signature_get_key_fprint(sh, &hex) || hex == NULL || hex[0] == '\0') {
		rnp_buffer_destroy(hex);
		hex = NULL;
		if (rnp_signature_get_keyid(sh, &hex))
			hex = NULL;
	}
	if (hex == NULL || hex_take(hex, ret) < 0)
		ret->hex[0] = '\0';
	rnp_signature_handle_destroy(sh);
}

/* Every signature must verify: one bad signature spoils the message even
 * if another is good. */
static enum pgp_verdict signature_verdict(rnp_op_verify_t op, struct pgp_fpr *ret_signer)
{
	size_t n = 0;
	enum pgp_verdict v = PGP_VERIFIED;
	struct pgp_fpr good = {{0}}, unknown = {{0}};
	if (rnp_op_verify_get_signature_count(op, &n))
		return PGP_MALFORMED;
	if (n == 0)
		return PGP_UNSIGNED;
	for (size_t i = 0; i < n && v != PGP_BAD_SIGNATURE; i++) {
		rnp_op_verify_signature_t sig = NULL;
		if (rnp_op_verify_get_signature_at(op, i, &sig))
			return PGP_MALFORMED;
		rnp_result_t st = rnp_op_verify_signature_get_status(sig);
		if (st == RNP_ERROR_KEY_NOT_FOUND) {
			if (v == PGP_VERIFIED)
				signer_issuer(sig, &unknown);
			v = PGP_UNKNOWN_SIGNER;
		} else if (st != RNP_SUCCESS) {
			v = PGP_BAD_SIGNATURE;
		} else if (good.hex[0] == '\0' && pgpi_signer_primary(sig, &good) < 0) {
			v = PGP_BAD_SIGNATURE;
		}
	}
	if (v == PGP_VERIFIED)
		*ret_signer = good;
	else if (v == PGP_UNKNOWN_SIGNER)
		*ret_signer = unknown;
	return v;
}

/* One decryption attempt into s (opened here, freed by the caller, which
 * then holds plaintext only if the verdict says so). guess: the key IDs
 * were written by retry_hidden, so our key failing means "not ours". */
static int decrypt_once(rnp_ffi_t ffi, const uint8_t *in, size_t len, size_t cap, bool guess,
			struct pgp_result *res, struct sink *s)
{
	rnp_input_t input = NULL;
	rnp_output_t output = NULL;
	rnp_op_verify_t op = NULL;
	struct vstate v = {0};
	*res = (struct pgp_result){.verdict = PGP_MALFORMED};
	int r = sink_open(s, cap, &output);
	if (r < 0)
		return r;
	r = SM_ENOMEM;
	if (pgpi_input_new(&input, in, len) < 0 || rnp_op_verify_create(&op, ffi, input, output))
		goto fail;
	rnp_result_t rc = rnp_op_verify_execute(op);
	if (s->nomem || (r = vstate_read(ffi, op, rc, &v)) < 0)
		goto fail;
	v.ours = v.ours && !guess;
	res->verdict = s->over ? PGP_TOO_LARGE : protection_verdict(&v);
	if (res->verdict == PGP_VERIFIED)
		res->verdict = signature_verdict(op, &res->signer);
	r = 0;
fail:
	rnp_buffer_destroy(v.mode);
	rnp_op_verify_destroy(op);
	rnp_input_destroy(input);
	rnp_output_destroy(output);
	return r;
}

/* ---- hidden recipients on the reading side ------------------------------ */

/* librnp 0.16 looks secret keys up by the PKESK's key ID only and gives up
 * on a wildcard (all zeros). So a message that was NOT_FOR_US but carries
 * wildcard PKESKs is retried with the key ID of each of our secret
 * encryption keys written into them, at most PGP_HIDDEN_TRIES times. */
#define PGP_HIDDEN_TRIES 16
/* PKESKs looked at on reading: one per recipient, so letter size bounds it. */
#define PGP_HIDDEN_PKESKS 1024

static int to_binary(const uint8_t *in, size_t len, struct buf *bin)
{
	if (in[0] & 0x80)
		return buf_append(bin, in, len);
	return convert_append(dearmor_op, in, len, len, bin);
}

/* Offsets of the key IDs of wildcard v3 PKESKs before the encrypted data. */
static size_t wildcard_pkesks(const struct buf *bin, size_t offs[PGP_HIDDEN_PKESKS])
{
	static const uint8_t zero[PGP_KEYID_LEN];
	size_t all[PGP_HIDDEN_PKESKS], n_all = 0, n = 0;
	if (pgp_packet_pkesk_keyids(bin->data, bin->len, all, PGP_HIDDEN_PKESKS, &n_all) < 0)
		return 0;
	for (size_t i = 0; i < n_all; i++)
		if (memcmp(bin->data + all[i], zero, PGP_KEYID_LEN) == 0)
			offs[n++] = all[i];
	return n;
}

/* Whether the key with this key ID is one of our secret encryption keys. */
static bool our_decryption_key(rnp_ffi_t ffi, const char *keyid)
{
	rnp_key_handle_t key = NULL;
	bool secret = false, allows = false;
	if (rnp_locate_key(ffi, "keyid", keyid, &key) || key == NULL)
		return false;
	bool ok = !rnp_key_have_secret(key, &secret) && secret &&
		  !rnp_key_allows_usage(key, "encrypt", &allows) && allows;
	rnp_key_handle_destroy(key);
	return ok;
}

static int decrypt_hidden(rnp_ffi_t ffi, struct buf *bin, const size_t *offs, size_t n_offs,
			  size_t cap, struct pgp_result *res, struct sink *s)
{
	rnp_identifier_iterator_t it = NULL;
	const char *id = NULL;
	size_t tries = 0;
	int r = 0;
	if (rnp_identifier_iterator_create(ffi, &it, "keyid"))
		return SM_ENOMEM;
	while (r == 0 && res->verdict == PGP_NOT_FOR_US && tries < PGP_HIDDEN_TRIES &&
	       !rnp_identifier_iterator_next(it, &id) && id != NULL) {
		uint8_t kid[PGP_KEYID_LEN];
		size_t kid_len = 0;
		if (!our_decryption_key(ffi, id) ||
		    sodium_hex2bin(kid, sizeof(kid), id, strlen(id), NULL, &kid_len, NULL) ||
		    kid_len != sizeof(kid))
			continue;
		for (size_t i = 0; i < n_offs; i++)
			memcpy(bin->data + offs[i], kid, sizeof(kid));
		buf_free(&s->b);
		tries++;
		r = decrypt_once(ffi, bin->data, bin->len, cap, true, res, s);
	}
	rnp_identifier_iterator_destroy(it);
	return r;
}

/* The retry, when in has wildcard PKESKs; res and s are left as they
 * were when there is nothing to retry. */
static int retry_hidden(rnp_ffi_t ffi, const uint8_t *in, size_t len, size_t cap,
			struct pgp_result *res, struct sink *s)
{
	struct buf bin;
	size_t offs[PGP_HIDDEN_PKESKS];
	buf_init(&bin, len);
	int r = to_binary(in, len, &bin);
	if (r == SM_ENOMEM)
		goto fail;
	r = 0;
	size_t n = bin.len > 0 ? wildcard_pkesks(&bin, offs) : 0;
	if (n > 0)
		r = decrypt_hidden(ffi, &bin, offs, n, cap, res, s);
fail:
	buf_free(&bin);
	return r;
}

int pgp_decrypt_verify(pgp_ctx *ctx, const uint8_t *in, size_t len, size_t max_plaintext,
		       struct pgp_result *ret, struct buf *out)
{
	struct pgp_result res = {.verdict = PGP_MALFORMED};
	struct sink s;
	if (ctx == NULL || ret == NULL || out == NULL || (in == NULL && len > 0))
		return SM_EINVAL;
	if (len == 0) {
		*ret = res;
		return 0;
	}
	/* The plaintext must also fit in out, so that a verdict of success can
	 * always be delivered; the cap rnp writes against is the smaller one. */
	size_t cap = max_plaintext < pgpi_buf_room(out) ? max_plaintext : pgpi_buf_room(out);
	int r = decrypt_once(ctx->ffi, in, len, cap, false, &res, &s);
	if (r == 0 && res.verdict == PGP_NOT_FOR_US)
		r = retry_hidden(ctx->ffi, in, len, cap, &res, &s);
	if (r == 0 && (res.verdict == PGP_VERIFIED || res.verdict == PGP_UNSIGNED))
		r = buf_append(out, s.b.data, s.b.len);
	if (r == 0)
		*ret = res;
	buf_free(&s.b); /* wipes whatever plaintext rnp wrote */
	return r;
}

const char *pgp_verdict_str(enum pgp_verdict v)
{
	static const char *const str[] = {
		[PGP_VERIFIED] = "verified signature",
		[PGP_UNSIGNED] = "not signed",
		[PGP_BAD_SIGNATURE] = "bad signature",
		[PGP_UNKNOWN_SIGNER] = "signed by an unknown key",
		[PGP_NO_INTEGRITY] = "no integrity protection",
		[PGP_NOT_FOR_US] = "not encrypted to any of our keys",
		[PGP_TOO_LARGE] = "plaintext too large",
		[PGP_NOT_ENCRYPTED] = "not encrypted",
		[PGP_MALFORMED] = "malformed message",
	};
	if ((unsigned)v >= sizeof(str) / sizeof(str[0]) || str[v] == NULL)
		return "unknown verdict";
	return str[v];
}
