/* publish.c: the publication endpoint's decisions, apart from HTTP.
 *
 * A publish request (kt_update.h) is an owner's signed statement and the
 * bundle of certificates to serve for their address. Two kinds exist:
 *   - with a one-time token (Authorization: Bearer): a first publication,
 *     or the first after the administrator's reset; the statement must be
 *     signed by a key of the new bundle;
 *   - without one: an owner's change (rotation, revocation, renewal,
 *     devices); the statement must be signed by a key of the version the
 *     domain serves now.
 * Either way the statement must name the next version of the entry, the
 * digest of the version served now and that of the bundle, so a signature
 * authorizes exactly one change and cannot be replayed. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "kt.h"
#include "kt_update.h"
#include "pgp_lifecycle.h"
#include "publish.h"
#include "store_kt.h"
#include "wkd.h"

/* The version served now: its counter (0: none) and bundle. */
static int current_version(struct daemon *d, const struct wkd_address *a, uint64_t *ret_counter,
			   struct buf *ret_cert)
{
	char hash[WKD_HASH_LEN + 1];
	struct store_kt_user u;
	uint8_t opening[KT_OPENING_LEN];
	*ret_counter = 0;
	int r = wkd_hash_local_part(a->local, hash);
	if (r == 0)
		r = store_kt_user(d->store, a->domain, hash, &u);
	if (r == SM_ENOTFOUND)
		return 0;
	if (r == 0)
		r = store_kt_version(d->store, u.user_id, u.counter, opening, ret_cert, NULL);
	if (r == 0)
		*ret_counter = u.counter;
	return r;
}

static int answer(struct publish_answer *ret, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int answer(struct publish_answer *ret, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ret->text, sizeof(ret->text), fmt, ap);
	va_end(ap);
	ret->status = status;
	return status;
}

/* The signer of the statement must hold a key of signers (a bundle). */
static int check_signer(const struct kt_authorization *au, const uint8_t *signers, size_t len,
			struct pgp_fpr *ret_signer)
{
	pgp_ctx *ctx = NULL;
	int r = pgp_ctx_new(&ctx);
	if (r == 0)
		r = pgp_import(ctx, signers, len, PGP_IMPORT_PUBLIC, NULL);
	if (r == 0)
		r = pgp_verify_detached(ctx, au->statement, au->statement_len, au->sig, au->sig_len,
					ret_signer);
	pgp_ctx_free(ctx);
	return r;
}

/* What the statement must say, given the version served now. */
static int check_statement(const struct kt_update *u, const char *canon, const char *token,
			   uint64_t counter,
			   const struct buf *cur, const struct buf *bundle,
			   struct publish_answer *ret)
{
	uint8_t digest[KT_DIGEST_LEN];
	if (strcmp(u->address, canon) != 0)
		return answer(ret, 400, "the statement is for %s, not for %s\n", u->address, canon);
	if ((u->authority == KT_BY_TOKEN) != (token != NULL))
		return answer(ret, 400, "the statement's authority (%s) does not match the request "
					"(%s a token)\n", u->authority == KT_BY_TOKEN ? "token" : "owner",
			      token != NULL ? "with" : "without");
	if (u->version != counter + 1)
		return answer(ret, 409, "the statement is for version %llu, but the next version of "
					"the entry is %llu: look the entry up again\n",
			      (unsigned long long)u->version, (unsigned long long)(counter + 1));
	kt_key_digest(cur->data, cur->len, digest);
	if (counter > 0 && memcmp(u->previous, digest, KT_DIGEST_LEN) != 0)
		return answer(ret, 409, "the statement builds on another version than the one served "
					"now: look the entry up again\n");
	kt_key_digest(bundle->data, bundle->len, digest);
	if (memcmp(u->key, digest, KT_DIGEST_LEN) != 0)
		return answer(ret, 400, "the statement names another bundle than the one sent (send "
					"each certificate reduced to the user ID for the address)\n");
	return 0;
}

static int stored(struct daemon *d, const char *address, const char *token,
		  const struct buf *bundle, const uint8_t *auth, size_t auth_len, uint64_t counter,
		  const struct pgp_fpr *signer, struct publish_answer *ret)
{
	struct store_auth sa = {auth, auth_len, counter};
	int r = token != NULL ? store_publish(d->store, address, token, bundle->data, bundle->len, &sa)
			      : store_update(d->store, address, bundle->data, bundle->len, &sa);
	if (r == 0) {
		daemon_log("https: %s version %llu of %s, signed by %s", token ? "published" : "changed",
			   (unsigned long long)(counter + 1), address, signer->hex);
		return answer(ret, 200, "accepted version %llu, signed by %s; served from the next "
					"epoch\n", (unsigned long long)(counter + 1), signer->hex);
	}
	if (r == SM_ESTALE)
		return answer(ret, 409, "the entry changed meanwhile: look it up again\n");
	/* the three ways a token can fail look alike: the answer reveals
	 * neither which users exist nor which tokens were used */
	if (r == SM_EINVAL || r == SM_ENOTFOUND || r == SM_EEXIST) {
		daemon_log("https: publish for %s refused: bad, used or unknown token", address);
		return answer(ret, 403, "the token is not valid for this address (wrong or already "
					"used)\n");
	}
	daemon_log("https: publish for %s failed: %s", address, sm_strerror(r));
	return answer(ret, 500, "the directory could not store the key; try again later\n");
}

/* Parses, checks against the version served now, verifies the signature
 * and stores. */
static int decide(struct daemon *d, const char *address, const char *canon, const char *token,
		  const uint8_t *body, size_t len, struct buf *bundle, struct buf *cur,
		  struct publish_answer *ret)
{
	const uint8_t *auth = NULL, *raw = NULL;
	size_t auth_len = 0, raw_len = 0, n = 0;
	struct kt_authorization au;
	struct wkd_address a;
	struct pgp_fpr signer, bad;
	uint64_t counter = 0;
	if (kt_request_split(body, len, &auth, &auth_len, &raw, &raw_len) < 0 ||
	    kt_authorization_parse(auth, auth_len, &au) < 0)
		return answer(ret, 400, "the body is not a sealmail publish request (a signed "
					"statement, an empty line, the certificates)\n");
	int r = pgp_bundle_for_address(raw, raw_len, address, bundle, &n, &bad);
	if (r == SM_ENOTFOUND)
		return answer(ret, 400, "the certificate %s has no valid user ID for %s\n", bad.hex,
			      address);
	if (r == SM_ETOOBIG)
		return answer(ret, 400, "more than %d certificates for one address\n", PGP_BUNDLE_MAX);
	if (r < 0)
		return answer(ret, 400, "the certificates are not OpenPGP public keys\n");
	if (wkd_address_parse(address, &a) < 0 || current_version(d, &a, &counter, cur) < 0)
		return answer(ret, 500, "the directory could not read the entry; try again later\n");
	if (check_statement(&au.update, canon, token, counter, cur, bundle, ret) != 0)
		return ret->status;
	if (token == NULL && counter == 0)
		return answer(ret, 403, "nothing is published for %s yet: the first publication "
					"needs the token from the domain's administrator\n", address);
	/* a token publishes a bundle that signs for itself; a change must be
	 * signed by a key served now */
	const struct buf *signers = token != NULL ? bundle : cur;
	if (check_signer(&au, signers->data, signers->len, &signer) < 0)
		return answer(ret, 403, "the statement is not signed by a valid key %s\n",
			      token != NULL ? "of the certificates sent"
					    : "of the version served now (revoked or expired keys "
					      "cannot authorize changes: ask the administrator for "
					      "a reset)");
	return stored(d, address, token, bundle, auth, auth_len, counter, &signer, ret);
}

int publish_request(struct daemon *d, const char *address, const char *token,
		    const uint8_t *body, size_t len, struct publish_answer *ret)
{
	char canon[KT_ADDRESS_MAX];
	struct buf bundle, cur;
	if (kt_canonical_address(address, canon) < 0)
		return answer(ret, 400, "'%s' is not an address\n", address);
	buf_init(&bundle, STORE_CERT_MAX);
	buf_init(&cur, STORE_CERT_MAX);
	int status = decide(d, address, canon, token, body, len, &bundle, &cur, ret);
	buf_free(&bundle);
	buf_free(&cur);
	return status;
}
