/* pgp_lifecycle.c: renewal, revocation, key state, address bundles and
 * detached signatures, through librnp 0.16 (pgp_lifecycle.h). */
#include "pgp_lifecycle.h"

#include <string.h>
#include <time.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "pgp_internal.h"
#include "wkd.h"

/* Scratch room for one bundle while it is read and rewritten. */
#define BUNDLE_SCRATCH_MAX ((size_t)16 << 20)
#define SIG_MAX 4096

static const char *const revocation_code[] = {
	[PGP_REVOKE_NONE] = "no",
	[PGP_REVOKE_SUPERSEDED] = "superseded",
	[PGP_REVOKE_COMPROMISED] = "compromised",
	[PGP_REVOKE_RETIRED] = "retired",
};

int pgp_revocation_parse(const char *name, enum pgp_revocation *ret)
{
	if (name == NULL)
		return SM_EINVAL;
	if (strcmp(name, "none") == 0) {
		*ret = PGP_REVOKE_NONE;
		return 0;
	}
	for (size_t i = PGP_REVOKE_SUPERSEDED; i <= PGP_REVOKE_RETIRED; i++)
		if (strcmp(name, revocation_code[i]) == 0) {
			*ret = (enum pgp_revocation)i;
			return 0;
		}
	return SM_EINVAL;
}

/* The primary key fpr with its secret part. */
static int secret_primary(pgp_ctx *ctx, const struct pgp_fpr *fpr, rnp_key_handle_t *ret)
{
	rnp_key_handle_t key = NULL;
	bool primary = false, secret = false;
	if (ctx == NULL)
		return SM_EINVAL;
	int r = pgpi_key_locate(ctx->ffi, fpr, &key);
	if (r < 0)
		return r;
	if (rnp_key_is_primary(key, &primary) || !primary || rnp_key_have_secret(key, &secret) ||
	    !secret) {
		rnp_key_handle_destroy(key);
		return SM_ENOTFOUND;
	}
	*ret = key;
	return 0;
}

int pgp_revoke(pgp_ctx *ctx, const struct pgp_fpr *fpr, enum pgp_revocation why, const char *text)
{
	rnp_key_handle_t key = NULL;
	if ((unsigned)why > PGP_REVOKE_RETIRED || (text != NULL && strlen(text) >= PGP_REASON_MAX))
		return SM_EINVAL;
	int r = secret_primary(ctx, fpr, &key);
	if (r < 0)
		return r;
	rnp_result_t rr = rnp_key_revoke(key, 0, "SHA256", revocation_code[why], text ? text : "");
	rnp_key_handle_destroy(key);
	return rr ? pgpi_rnp_err(rr) : 0;
}

/* Sets key's expiry (counted from its creation) to now + lifetime. */
static int expire_at(rnp_key_handle_t key, uint64_t now, uint32_t lifetime)
{
	uint32_t created = 0;
	if (rnp_key_get_creation(key, &created))
		return SM_ECRYPTO;
	uint64_t expiry = now + lifetime - created;
	if (created > now || expiry > UINT32_MAX - 1)
		return SM_EINVAL;
	rnp_result_t rr = rnp_key_set_expiration(key, (uint32_t)expiry);
	return rr ? pgpi_rnp_err(rr) : 0;
}

int pgp_renew(pgp_ctx *ctx, const struct pgp_fpr *fpr, uint32_t lifetime)
{
	rnp_key_handle_t key = NULL;
	size_t n = 0;
	uint64_t now = (uint64_t)time(NULL);
	if (lifetime == 0)
		return SM_EINVAL;
	int r = secret_primary(ctx, fpr, &key);
	if (r < 0)
		return r;
	if ((r = expire_at(key, now, lifetime)) == 0 && rnp_key_get_subkey_count(key, &n))
		r = SM_ECRYPTO;
	for (size_t i = 0; r == 0 && i < n; i++) {
		rnp_key_handle_t sub = NULL;
		if (rnp_key_get_subkey_at(key, i, &sub)) {
			r = SM_ECRYPTO;
			break;
		}
		r = expire_at(sub, now, lifetime);
		rnp_key_handle_destroy(sub);
	}
	rnp_key_handle_destroy(key);
	return r;
}

int pgp_remove(pgp_ctx *ctx, const struct pgp_fpr *fpr)
{
	rnp_key_handle_t key = NULL;
	if (ctx == NULL)
		return SM_EINVAL;
	int r = pgpi_key_locate(ctx->ffi, fpr, &key);
	if (r < 0)
		return r;
	bool secret = false;
	uint32_t flags = RNP_KEY_REMOVE_PUBLIC | RNP_KEY_REMOVE_SUBKEYS;
	if (!rnp_key_have_secret(key, &secret) && secret)
		flags |= RNP_KEY_REMOVE_SECRET;
	rnp_result_t rr = rnp_key_remove(key, flags);
	rnp_key_handle_destroy(key);
	return rr ? pgpi_rnp_err(rr) : 0;
}

static void reason_take(rnp_key_handle_t key, char ret[PGP_REASON_MAX])
{
	char *text = NULL;
	ret[0] = '\0';
	if (rnp_key_get_revocation_reason(key, &text) || text == NULL)
		return;
	size_t n = strnlen(text, PGP_REASON_MAX - 1);
	memcpy(ret, text, n);
	ret[n] = '\0';
	/* the text is the key owner's: keep it printable */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)ret[i] < 0x20 || ret[i] == 0x7f)
			ret[i] = '?';
	rnp_buffer_destroy(text);
}

int pgp_key_state(pgp_ctx *ctx, const struct pgp_fpr *fpr, struct pgp_key_state *ret)
{
	rnp_key_handle_t key = NULL;
	uint32_t created = 0, expiry = 0;
	struct pgp_key_state st;
	if (ctx == NULL || ret == NULL)
		return SM_EINVAL;
	int r = pgpi_key_locate(ctx->ffi, fpr, &key);
	if (r < 0)
		return r;
	memset(&st, 0, sizeof(st));
	r = SM_ECRYPTO;
	if (rnp_key_is_revoked(key, &st.revoked) || rnp_key_is_expired(key, &st.expired) ||
	    rnp_key_have_secret(key, &st.secret) ||
	    rnp_key_get_creation(key, &created) || rnp_key_get_expiration(key, &expiry))
		goto done;
	st.created = created;
	st.expires = expiry ? (uint64_t)created + expiry : 0;
	if (st.revoked)
		reason_take(key, st.reason);
	*ret = st;
	r = 0;
done:
	rnp_key_handle_destroy(key);
	return r;
}

/* Calls fn for each primary key of ffi. */
static int each_primary(rnp_ffi_t ffi, int (*fn)(void *arg, rnp_key_handle_t key), void *arg)
{
	rnp_identifier_iterator_t it = NULL;
	const char *hex = NULL;
	int r = 0;
	if (rnp_identifier_iterator_create(ffi, &it, "fingerprint"))
		return SM_ENOMEM;
	while (r == 0 && !rnp_identifier_iterator_next(it, &hex) && hex != NULL) {
		rnp_key_handle_t key = NULL;
		bool primary = false;
		if (rnp_locate_key(ffi, "fingerprint", hex, &key) || key == NULL)
			continue;
		if (!rnp_key_is_primary(key, &primary) && primary)
			r = fn(arg, key);
		rnp_key_handle_destroy(key);
	}
	rnp_identifier_iterator_destroy(it);
	return r;
}

struct address_keys {
	struct wkd_address want;
	struct pgp_fpr *fpr;
	uint32_t created[PGP_BUNDLE_MAX * 4];
	size_t max, n, found;
};

/* Keeps the newest max keys, newest first (insertion sort). */
static int collect_key(void *arg, rnp_key_handle_t key)
{
	struct address_keys *ak = arg;
	struct pgp_fpr fpr;
	uint32_t created = 0;
	if (!pgpi_key_has_address(key, &ak->want) || rnp_key_get_creation(key, &created) ||
	    pgpi_key_fpr(key, &fpr) < 0)
		return 0;
	ak->found++;
	size_t i = ak->n < ak->max ? ak->n++ : ak->max;
	while (i > 0 && ak->created[i - 1] < created) {
		if (i < ak->max) {
			ak->fpr[i] = ak->fpr[i - 1];
			ak->created[i] = ak->created[i - 1];
		}
		i--;
	}
	if (i < ak->max) {
		ak->fpr[i] = fpr;
		ak->created[i] = created;
	}
	return 0;
}

int pgp_keys_for_address(pgp_ctx *ctx, const char *address, struct pgp_fpr *ret, size_t max,
			 size_t *ret_n)
{
	struct address_keys ak = {.fpr = ret, .max = max};
	if (ctx == NULL || address == NULL || ret_n == NULL ||
	    max > sizeof(ak.created) / sizeof(ak.created[0]) ||
	    pgpi_uid_address(address, &ak.want) < 0)
		return SM_EINVAL;
	int r = each_primary(ctx->ffi, collect_key, &ak);
	if (r < 0)
		return r;
	*ret_n = ak.found;
	return 0;
}

struct bundle {
	struct wkd_address want;
	struct buf *out;
	size_t n;
	struct pgp_fpr bad;
};

static int bundle_add(void *arg, rnp_key_handle_t key)
{
	struct bundle *b = arg;
	if (++b->n > PGP_BUNDLE_MAX)
		return SM_ETOOBIG;
	int r = pgpi_keep_one_uid(key, &b->want);
	if (r == SM_ENOTFOUND)
		(void)pgpi_key_fpr(key, &b->bad);
	if (r < 0)
		return r;
	return pgpi_export_key(key, RNP_KEY_EXPORT_PUBLIC | RNP_KEY_EXPORT_SUBKEYS, b->out);
}

int pgp_bundle_for_address(const uint8_t *data, size_t len, const char *address,
			   struct buf *out, size_t *ret_n, struct pgp_fpr *ret_bad)
{
	rnp_ffi_t scratch = NULL;
	size_t n_secret = 0;
	struct bundle b = {.n = 0};
	struct buf staged;
	if (data == NULL || len == 0 || address == NULL || out == NULL ||
	    pgpi_uid_address(address, &b.want) < 0)
		return len == 0 && data != NULL ? SM_EPARSE : SM_EINVAL;
	buf_init(&staged, pgpi_buf_room(out));
	b.out = &staged;
	int r = pgpi_ffi_new(&scratch);
	if (r < 0)
		return r;
	r = pgpi_import_into(scratch, data, len,
			     RNP_LOAD_SAVE_PUBLIC_KEYS | RNP_LOAD_SAVE_SECRET_KEYS);
	if (r == 0 && (rnp_get_secret_key_count(scratch, &n_secret) || n_secret > 0))
		r = SM_EPARSE;
	if (r == 0)
		r = each_primary(scratch, bundle_add, &b);
	if (r == 0 && b.n == 0)
		r = SM_EPARSE;
	if (r == 0)
		r = buf_append(out, staged.data, staged.len);
	if (r == 0 && ret_n != NULL)
		*ret_n = b.n;
	if (r == SM_ENOTFOUND && ret_bad != NULL)
		*ret_bad = b.bad;
	buf_free(&staged);
	rnp_ffi_destroy(scratch);
	return r;
}

struct sign_args {
	rnp_ffi_t ffi;
	rnp_key_handle_t key;
	rnp_input_t in;
	bool armored;
};

static rnp_result_t sign_op(void *arg, rnp_output_t o)
{
	const struct sign_args *a = arg;
	rnp_op_sign_t op = NULL;
	rnp_result_t rr = rnp_op_sign_detached_create(&op, a->ffi, a->in, o);
	if (rr)
		return rr;
	if (!(rr = rnp_op_sign_add_signature(op, a->key, NULL)) &&
	    !(rr = rnp_op_sign_set_hash(op, "SHA256")) && !(rr = rnp_op_sign_set_armor(op, a->armored)))
		rr = rnp_op_sign_execute(op);
	rnp_op_sign_destroy(op);
	return rr;
}

int pgp_sign_detached(pgp_ctx *ctx, const struct pgp_fpr *signer, const uint8_t *data,
		      size_t len, bool armored, struct buf *out)
{
	struct sign_args a = {.ffi = NULL, .armored = armored};
	if (out == NULL || (data == NULL && len > 0))
		return SM_EINVAL;
	int r = secret_primary(ctx, signer, &a.key);
	if (r < 0)
		return r;
	a.ffi = ctx->ffi;
	if ((r = pgpi_input_new(&a.in, data, len)) == 0) {
		r = pgpi_sink_run(sign_op, &a, SIG_MAX, out);
		rnp_input_destroy(a.in);
	}
	rnp_key_handle_destroy(a.key);
	return r;
}

/* The result of the one signature a detached signature must hold. */
static int verify_result(rnp_op_verify_t op, struct pgp_fpr *ret)
{
	size_t n = 0;
	rnp_op_verify_signature_t sig = NULL;
	if (rnp_op_verify_get_signature_count(op, &n) || n != 1 ||
	    rnp_op_verify_get_signature_at(op, 0, &sig))
		return SM_ECRYPTO;
	rnp_result_t st = rnp_op_verify_signature_get_status(sig);
	if (st == RNP_ERROR_KEY_NOT_FOUND)
		return SM_ENOTFOUND;
	if (st != RNP_SUCCESS)
		return SM_ECRYPTO;
	return pgpi_signer_primary(sig, ret);
}

int pgp_verify_detached(pgp_ctx *ctx, const uint8_t *data, size_t len, const uint8_t *sig,
			size_t sig_len, struct pgp_fpr *ret_signer)
{
	rnp_input_t in = NULL, sin = NULL;
	rnp_op_verify_t op = NULL;
	struct pgp_fpr fpr;
	if (ctx == NULL || ret_signer == NULL || sig == NULL || sig_len == 0 ||
	    (data == NULL && len > 0))
		return SM_EINVAL;
	int r = pgpi_input_new(&in, data, len);
	if (r < 0)
		return r;
	if ((r = pgpi_input_new(&sin, sig, sig_len)) < 0)
		goto done;
	r = SM_ECRYPTO;
	if (rnp_op_verify_detached_create(&op, ctx->ffi, in, sin))
		goto done;
	rnp_result_t rr = rnp_op_verify_execute(op);
	if (rr == RNP_ERROR_OUT_OF_MEMORY) {
		r = SM_ENOMEM;
		goto done;
	}
	/* a bad or unknown signature makes execute fail; the status says which */
	r = verify_result(op, &fpr);
	if (r == 0 && rr != RNP_SUCCESS)
		r = SM_ECRYPTO;
	if (r == 0)
		*ret_signer = fpr;
done:
	rnp_op_verify_destroy(op);
	rnp_input_destroy(sin);
	rnp_input_destroy(in);
	return r;
}
