/* entry.c (CLI): the user's own entry in their domain's key directory
 * (entry.h). */
#include "entry.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "kt.h"
#include "pgp_lifecycle.h"
#include "transparency.h"
#include "wkd.h"

#define ANSWER_MAX 4096
#define REQUEST_MAX (KT_AUTH_MAX + 1 + (1u << 20))
#define PUBLISH_PATH "/sealmail/v1/publish?address="

/* ---- what is served now ---- */

bool entry_serves_ours(pgp_ctx *ctx, const char *address, const uint8_t *key, size_t len)
{
	pgp_ctx *scratch = NULL;
	struct pgp_fpr f[PGP_BUNDLE_MAX];
	size_t n = 0;
	bool ours = false;
	if (pgp_ctx_new(&scratch) < 0)
		return false;
	if (pgp_import(scratch, key, len, PGP_IMPORT_PUBLIC, NULL) == 0 &&
	    pgp_keys_for_address(scratch, address, f, PGP_BUNDLE_MAX, &n) == 0) {
		for (size_t i = 0; i < n && i < PGP_BUNDLE_MAX && !ours; i++) {
			struct pgp_key_state ks;
			ours = pgp_key_state(ctx, &f[i], &ks) == 0 && ks.secret;
		}
	}
	pgp_ctx_free(scratch);
	return ours;
}

bool entry_is_ours(struct cli *c, const char *address, uint64_t counter, const uint8_t *key,
		   size_t key_len, const struct kt_authorization *auth, struct pgp_fpr *ret_signer)
{
	struct pgp_fpr signer;
	struct pgp_key_state ks;
	struct kt_own own;
	if (kt_own_load(c, address, &own) < 0)
		memset(&own, 0, sizeof(own));
	if (auth != NULL &&
	    pgp_verify_detached(c->ctx, auth->statement, auth->statement_len, auth->sig,
				auth->sig_len, &signer) == 0) {
		if (ret_signer != NULL)
			*ret_signer = signer;
		if (pgp_key_state(c->ctx, &signer, &ks) == 0 && ks.secret)
			return true;
		for (size_t i = 0; i < own.ndevices; i++) /* another of the user's devices */
			if (strcmp(own.devices[i].hex, signer.hex) == 0)
				return true;
	}
	/* a signature by a key revoked since, or a version from before
	 * versions were signed: the version we recorded, serving our key */
	return own.version == counter && entry_serves_ours(c->ctx, address, key, key_len);
}

int entry_learn_devices(struct cli *c, const char *address, uint64_t counter, const uint8_t *key,
			size_t key_len, size_t *ret_n)
{
	pgp_ctx *scratch = NULL;
	struct pgp_fpr keys[PINS_KEYS_MAX];
	struct kt_own was, own;
	size_t n = 0;
	int r = kt_own_load(c, address, &was);
	if (r == 0)
		r = pgp_ctx_new(&scratch);
	if (r == 0)
		r = pgp_import(scratch, key, key_len, PGP_IMPORT_PUBLIC, NULL);
	if (r == 0)
		r = pgp_keys_for_address(scratch, address, keys, PINS_KEYS_MAX, &n);
	pgp_ctx_free(scratch);
	if (r < 0)
		return r;
	memset(&own, 0, sizeof(own));
	own.version = counter > was.version ? counter : was.version;
	for (size_t i = 0; i < n && i < PINS_KEYS_MAX; i++) {
		struct pgp_key_state ks;
		if (pgp_key_state(c->ctx, &keys[i], &ks) == 0 && ks.secret)
			continue; /* this device's own */
		own.devices[own.ndevices++] = keys[i];
	}
	if (ret_n != NULL)
		*ret_n = own.ndevices;
	if (own.version == was.version && own.ndevices == was.ndevices &&
	    memcmp(own.devices, was.devices, own.ndevices * sizeof(own.devices[0])) == 0)
		return 0; /* nothing new: no key store or kt-own to rewrite */
	/* their certificates go into the key store, so that their signatures
	 * on later changes can be checked */
	r = pgp_import(c->ctx, key, key_len, PGP_IMPORT_PUBLIC, NULL);
	if (r == 0 && cli_save(c) != 0)
		r = SM_EIO;
	return r < 0 ? r : kt_own_save(c, address, &own);
}

int entry_lookup(struct cli *c, const char *address, struct entry_now *ret)
{
	struct kt_lookup kl;
	memset(ret, 0, sizeof(*ret));
	buf_init(&ret->bundle, 1u << 20);
	buf_init(&ret->auth, KT_AUTH_MAX);
	int st = kt_lookup(c, address, KT_ASK_AUTHORIZATION, &kl);
	if (st == KT_NO_LOG) {
		cli_error("%s's domain serves no transparency log: its directory is not a sealmaild, "
			  "which sealmail publishes to", address);
		st = EX_UNAVAILABLE;
	}
	if (st == 0 && kl.res.found == KT_PRESENT) {
		const struct kt_authorization *au = kl.res.has_auth ? &kl.res.auth : NULL;
		ret->counter = kl.res.counter;
		ret->ours = entry_is_ours(c, address, kl.res.counter, kl.res.key, kl.res.key_len, au,
					  NULL);
		if (buf_append(&ret->bundle, kl.res.key, kl.res.key_len) < 0 ||
		    buf_append(&ret->auth, kl.proof->auth, kl.proof->auth_len) < 0)
			st = EX_DATAERR;
	}
	kt_lookup_free(&kl);
	return st;
}

void entry_free(struct entry_now *e)
{
	buf_free(&e->bundle);
	buf_free(&e->auth);
}

/* The newest key of the bundle whose secret c->ctx holds and that is not
 * revoked. */
static int served_secret_key(struct cli *c, const char *address, const struct buf *bundle,
			     struct pgp_fpr *ret)
{
	pgp_ctx *scratch = NULL;
	struct pgp_fpr f[PGP_BUNDLE_MAX];
	size_t n = 0;
	int r = pgp_ctx_new(&scratch);
	if (r == 0)
		r = pgp_import(scratch, bundle->data, bundle->len, PGP_IMPORT_PUBLIC, NULL);
	if (r == 0)
		r = pgp_keys_for_address(scratch, address, f, PGP_BUNDLE_MAX, &n);
	pgp_ctx_free(scratch);
	for (size_t i = 0; r == 0 && i < n && i < PGP_BUNDLE_MAX; i++) {
		struct pgp_key_state ks;
		if (pgp_key_state(c->ctx, &f[i], &ks) == 0 && ks.secret && !ks.revoked) {
			*ret = f[i];
			return 0;
		}
	}
	return SM_ENOTFOUND;
}

int entry_owned(struct cli *c, const char *address, struct entry_now *ret,
		struct pgp_fpr *ret_key)
{
	int st = entry_lookup(c, address, ret);
	if (st != 0)
		return st;
	if (ret->counter == 0) {
		cli_error("nothing is published for %s yet: publish first with "
			  "sealmail publish %s --token TOKEN", address, address);
		return EX_NOUSER;
	}
	if (!ret->ours) {
		cli_error("version %llu of %s, served now, was not authorized by any of your keys: "
			  "refusing to build on it. Run: sealmail monitor %s",
			  (unsigned long long)ret->counter, address, address);
		return EX_NOPERM;
	}
	if (served_secret_key(c, address, &ret->bundle, ret_key) < 0) {
		cli_error("none of the keys served for %s is one of yours that is not revoked; "
			  "ask your domain's administrator for a reset (sealmaild user reset)",
			  address);
		return EX_NOPERM;
	}
	return 0;
}

/* scratch holds the bundle with drop removed and add merged in. */
static int edit_into(pgp_ctx *scratch, const struct buf *bundle, const struct pgp_fpr *drop,
		     const struct buf *add)
{
	int r = bundle->len > 0 ? pgp_import(scratch, bundle->data, bundle->len, PGP_IMPORT_PUBLIC, NULL)
				: 0;
	if (r == 0 && drop != NULL)
		r = pgp_remove(scratch, drop);
	if (r == 0 && add != NULL && add->len > 0)
		r = pgp_import(scratch, add->data, add->len, PGP_IMPORT_PUBLIC, NULL);
	return r;
}

int entry_bundle_edit(const struct buf *bundle, const struct pgp_fpr *drop, const struct buf *add,
		      const char *address, struct buf *out)
{
	pgp_ctx *scratch = NULL;
	struct buf all;
	int st = EX_SOFTWARE;
	buf_init(&all, 8u << 20);
	if (pgp_ctx_new(&scratch) == 0 && edit_into(scratch, bundle, drop, add) == 0 &&
	    pgp_export_all_public(scratch, &all) == 0 &&
	    pgp_bundle_for_address(all.data, all.len, address, out, NULL, NULL) == 0)
		st = 0;
	else
		cli_error("cannot make the certificates to publish for %s", address);
	pgp_ctx_free(scratch);
	buf_free(&all);
	return st;
}

/* ---- the request ---- */

/* statement + signature line, an empty line, the bundle. */
static int request_make(struct cli *c, const struct entry_now *now, const struct entry_change *ch,
			uint64_t version, struct buf *req)
{
	struct kt_update u;
	struct buf statement, sig;
	int st = EX_SOFTWARE;
	memset(&u, 0, sizeof(u));
	buf_init(&statement, KT_AUTH_MAX);
	buf_init(&sig, KT_SIG_MAX);
	if (kt_canonical_address(ch->address, u.address) < 0)
		goto done;
	u.authority = ch->token != NULL ? KT_BY_TOKEN : KT_BY_OWNER;
	u.version = version;
	u.has_previous = now->counter > 0;
	if (u.has_previous)
		kt_key_digest(now->bundle.data, now->bundle.len, u.previous);
	kt_key_digest(ch->bundle->data, ch->bundle->len, u.key);
	if (kt_update_format(&u, &statement) < 0 ||
	    pgp_sign_detached(c->ctx, ch->signer, statement.data, statement.len, false, &sig) < 0 ||
	    kt_authorization_format(statement.data, statement.len, sig.data, sig.len, req) < 0 ||
	    buf_append(req, "\n", 1) < 0 || buf_append(req, ch->bundle->data, ch->bundle->len) < 0) {
		cli_error("cannot sign the change of %s with %s", ch->address, ch->signer->hex);
		goto done;
	}
	st = 0;
done:
	buf_free(&statement);
	buf_free(&sig);
	return st;
}

/* https://HOST/sealmail/v1/publish?address=local%40domain */
static int publish_url(const struct wkd_address *a, const char *host_prefix, struct buf *url)
{
	char addr[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2];
	if (wkd_address_format(a, addr, sizeof(addr)) < 0)
		return -1;
	if (buf_appendf(url, "https://%s%s%s", host_prefix, a->domain, PUBLISH_PATH) < 0)
		return -1;
	for (const char *p = addr; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			    strchr("-._~", ch) != NULL;
		if ((plain ? buf_append(url, p, 1) : buf_appendf(url, "%%%02X", ch)) < 0)
			return -1;
	}
	return 0;
}

/* POSTs to the domain's directory; url gets the URL that answered. */
static int upload(const char *address, const struct buf *req, const char *token,
		  struct buf *answer, struct fetch_result *f, struct buf *url)
{
	struct wkd_address a;
	struct buf direct;
	int st = EX_SOFTWARE;
	buf_init(&direct, url->max);
	if (wkd_address_parse(address, &a) < 0 || publish_url(&a, "openpgpkey.", url) < 0 ||
	    publish_url(&a, "", &direct) < 0)
		goto done;
	if (fetch_https_directory((const char *)url->data, (const char *)direct.data, req->data,
				  req->len, token, answer, f) == 1) {
		buf_reset(url);
		if (buf_append(url, direct.data, direct.len) < 0)
			goto done;
	}
	st = 0;
done:
	buf_free(&direct);
	return st;
}

static int report(const struct entry_change *ch, uint64_t version, const struct buf *url,
		  const struct buf *answer, const struct fetch_result *f)
{
	const char *said = answer->len ? (const char *)answer->data : "";
	if (f->outcome != FETCH_OK) {
		cli_error("%s: %s", (const char *)url->data, f->detail);
		return f->outcome == FETCH_TIMEOUT ? EX_TEMPFAIL : EX_UNAVAILABLE;
	}
	if (f->status == 200) {
		printf("accepted version %llu of %s, signed by %s\n  by %s\n",
		       (unsigned long long)version, ch->address, ch->signer->hex,
		       (const char *)url->data);
		return 0;
	}
	cli_error("the directory refused the change (HTTP %ld): %.*s", f->status,
		  (int)strcspn(said, "\n"), said);
	if (f->status == 403 || f->status == 401)
		return EX_NOPERM;
	/* the entry changed meanwhile (409), or the directory could not take
	 * it now (busy store, rate limit): try later */
	return f->status >= 500 || f->status == 429 || f->status == 409 ? EX_TEMPFAIL : EX_DATAERR;
}

/* ---- waiting for the epoch ---- */

static bool committed(const struct kt_lookup *kl, uint64_t version, const struct buf *bundle)
{
	return kl->res.found == KT_PRESENT && kl->res.counter == version &&
	       kl->res.key_len == bundle->len && memcmp(kl->res.key, bundle->data, bundle->len) == 0;
}

int entry_wait(struct cli *c, const struct entry_change *ch, uint64_t version)
{
	if (ch->wait == 0)
		return 0;
	time_t end = time(NULL) + (time_t)ch->wait;
	for (;;) {
		struct kt_lookup kl;
		int st = kt_lookup(c, ch->address, KT_ASK_PROOF, &kl);
		if (st == 0 && committed(&kl, version, ch->bundle)) {
			printf("%s: version %llu of %s is in %s's transparency log (epoch %llu, "
			       "checkpoint %llu, cosigned by %zu witness(es))\n",
			       ch->what, (unsigned long long)version, ch->address,
			       strchr(ch->address, '@') + 1, (unsigned long long)kl.res.epoch,
			       (unsigned long long)kl.res.size, kl.res.cosigned);
			kt_lookup_free(&kl);
			return 0;
		}
		kt_lookup_free(&kl);
		if (st != 0 && st != EX_TEMPFAIL)
			return st;
		if (time(NULL) >= end) {
			cli_error("the change was accepted but is not in the transparency log yet; "
				  "check later with: sealmail monitor %s", ch->address);
			return EX_TEMPFAIL;
		}
		sleep(1);
	}
}

/* kt-own: the version the user authorized last. */
static int record_version(struct cli *c, const char *address, uint64_t version)
{
	struct kt_own own;
	int r = kt_own_load(c, address, &own);
	if (r == 0) {
		own.version = version;
		r = kt_own_save(c, address, &own);
	}
	return r;
}

int entry_submit(struct cli *c, const struct entry_now *now, const struct entry_change *ch)
{
	struct buf req, answer, url;
	struct fetch_result f;
	uint64_t version = now->counter + 1;
	buf_init(&req, REQUEST_MAX);
	buf_init(&answer, ANSWER_MAX);
	buf_init(&url, 4096);
	int st = request_make(c, now, ch, version, &req);
	if (st == 0)
		st = upload(ch->address, &req, ch->token, &answer, &f, &url);
	if (st == 0)
		st = report(ch, version, &url, &answer, &f);
	if (st == 0 && record_version(c, ch->address, version) < 0) {
		cli_error("cannot record the change in %s/kt-own", c->home);
		st = EX_CANTCREAT;
	}
	buf_free(&req);
	buf_free(&answer);
	buf_free(&url);
	return st;
}
