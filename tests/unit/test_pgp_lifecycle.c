/* test_pgp_lifecycle: revocation, renewal, key state, address bundles and
 * detached signatures (pgp_lifecycle.c) against real librnp. */
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "pgp.h"
#include "pgp_lifecycle.h"

#define MiB ((size_t)1 << 20)
#define DAY 86400u

static const uint8_t statement[] = "sealmail-update/v1\naddress luke@jedi.test\n";

static pgp_ctx *ctx_with_key(const char *address, struct pgp_fpr *fpr)
{
	pgp_ctx *c = NULL;
	if (pgp_ctx_new(&c) != 0 || pgp_keygen(c, address, fpr) != 0)
		abort();
	return c;
}

static void public_of(pgp_ctx *c, const struct pgp_fpr *fpr, struct buf *out)
{
	if (pgp_export_public(c, fpr, false, out) != 0)
		abort();
}

static pgp_ctx *ctx_with_public(const struct buf *b)
{
	pgp_ctx *c = NULL;
	if (pgp_ctx_new(&c) != 0 || pgp_import(c, b->data, b->len, PGP_IMPORT_PUBLIC, NULL) != 0)
		abort();
	return c;
}

static void revocation_reasons(void)
{
	enum pgp_revocation w;
	CHECK_INT(pgp_revocation_parse("compromised", &w), 0);
	CHECK_INT(w, PGP_REVOKE_COMPROMISED);
	CHECK_INT(pgp_revocation_parse("superseded", &w), 0);
	CHECK_INT(w, PGP_REVOKE_SUPERSEDED);
	CHECK_INT(pgp_revocation_parse("retired", &w), 0);
	CHECK_INT(pgp_revocation_parse("none", &w), 0);
	CHECK_INT(w, PGP_REVOKE_NONE);
	CHECK_INT(pgp_revocation_parse("no", &w), SM_EINVAL);
	CHECK_INT(pgp_revocation_parse("Compromised", &w), SM_EINVAL);
	CHECK_INT(pgp_revocation_parse(NULL, &w), SM_EINVAL);
}

static void revoke_and_state(void)
{
	struct pgp_fpr fpr, found;
	struct pgp_key_state ks;
	pgp_ctx *c = ctx_with_key("luke@jedi.test", &fpr);
	CHECK_INT(pgp_key_state(c, &fpr, &ks), 0);
	CHECK(!ks.revoked && !ks.expired && ks.secret);
	CHECK(ks.expires > ks.created + 729 * (uint64_t)DAY && ks.expires <= ks.created + 731 * (uint64_t)DAY);
	CHECK_INT(pgp_revoke(c, &fpr, PGP_REVOKE_COMPROMISED, "laptop stolen"), 0);
	CHECK_INT(pgp_key_state(c, &fpr, &ks), 0);
	CHECK(ks.revoked);
	CHECK_STR(ks.reason, "laptop stolen");
	CHECK_INT(pgp_find_by_address(c, "luke@jedi.test", false, &found), SM_ENOTFOUND);
	CHECK_INT(pgp_key_usable_for(c, &fpr, "luke@jedi.test"), 0);
	/* the revocation travels with the public certificate */
	struct buf pub;
	buf_init(&pub, MiB);
	public_of(c, &fpr, &pub);
	pgp_ctx *other = ctx_with_public(&pub);
	CHECK_INT(pgp_key_state(other, &fpr, &ks), 0);
	CHECK(ks.revoked && !ks.secret);
	pgp_ctx_free(other);
	buf_free(&pub);
	pgp_ctx_free(c);
}

static void revoke_rejects(void)
{
	struct pgp_fpr fpr, none;
	char long_text[PGP_REASON_MAX + 1];
	pgp_ctx *c = ctx_with_key("luke@jedi.test", &fpr);
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = 0;
	CHECK_INT(pgp_revoke(c, &fpr, PGP_REVOKE_NONE, long_text), SM_EINVAL);
	CHECK_INT(pgp_revoke(c, &fpr, (enum pgp_revocation)9, NULL), SM_EINVAL);
	memset(none.hex, 'A', PGP_FPR_HEX);
	none.hex[PGP_FPR_HEX] = 0;
	CHECK_INT(pgp_revoke(c, &none, PGP_REVOKE_NONE, NULL), SM_ENOTFOUND);
	/* a public certificate alone cannot be revoked */
	struct buf pub;
	buf_init(&pub, MiB);
	public_of(c, &fpr, &pub);
	pgp_ctx *other = ctx_with_public(&pub);
	CHECK_INT(pgp_revoke(other, &fpr, PGP_REVOKE_NONE, NULL), SM_ENOTFOUND);
	pgp_ctx_free(other);
	buf_free(&pub);
	pgp_ctx_free(c);
}

static void renew(void)
{
	struct pgp_fpr fpr;
	struct pgp_key_state ks;
	pgp_ctx *c = ctx_with_key("luke@jedi.test", &fpr);
	uint64_t now = (uint64_t)time(NULL);
	CHECK_INT(pgp_renew(c, &fpr, 10 * DAY), 0);
	CHECK_INT(pgp_key_state(c, &fpr, &ks), 0);
	CHECK(ks.expires >= now + 10 * DAY && ks.expires <= now + 10 * DAY + 60);
	CHECK_INT(pgp_key_usable_for(c, &fpr, "luke@jedi.test"), 1);
	CHECK_INT(pgp_renew(c, &fpr, 0), SM_EINVAL);
	/* renewed certificates carry the new expiry to others */
	struct buf pub;
	buf_init(&pub, MiB);
	public_of(c, &fpr, &pub);
	pgp_ctx *other = ctx_with_public(&pub);
	CHECK_INT(pgp_key_state(other, &fpr, &ks), 0);
	CHECK(ks.expires >= now + 10 * DAY && ks.expires <= now + 10 * DAY + 60);
	CHECK_INT(pgp_renew(other, &fpr, DAY), SM_ENOTFOUND); /* no secret key */
	pgp_ctx_free(other);
	buf_free(&pub);
	pgp_ctx_free(c);
}

static void keys_for_address(void)
{
	struct pgp_fpr a, b, other, got[4];
	size_t n = 0;
	pgp_ctx *c = ctx_with_key("luke@jedi.test", &a);
	sleep(1); /* creation times are in seconds: make b strictly newer */
	CHECK_INT(pgp_keygen(c, "Luke@jedi.test", &b), 0);
	CHECK_INT(pgp_keygen(c, "leia@jedi.test", &other), 0);
	CHECK_INT(pgp_revoke(c, &a, PGP_REVOKE_SUPERSEDED, NULL), 0);
	CHECK_INT(pgp_keys_for_address(c, "luke@jedi.test", got, 4, &n), 0);
	CHECK_INT(n, 2); /* revoked keys are listed too, newest first */
	CHECK_STR(got[0].hex, b.hex);
	CHECK_STR(got[1].hex, a.hex);
	CHECK_INT(pgp_keys_for_address(c, "luke@jedi.test", got, 1, &n), 0);
	CHECK_INT(n, 2);
	CHECK_STR(got[0].hex, b.hex);
	CHECK_INT(pgp_keys_for_address(c, "han@jedi.test", got, 4, &n), 0);
	CHECK_INT(n, 0);
	CHECK_INT(pgp_keys_for_address(c, "not an address", got, 4, &n), SM_EINVAL);
	CHECK_INT(pgp_remove(c, &b), 0);
	CHECK_INT(pgp_keys_for_address(c, "luke@jedi.test", got, 4, &n), 0);
	CHECK_INT(n, 1);
	CHECK_INT(pgp_remove(c, &b), SM_ENOTFOUND);
	/* a public certificate alone is removed too */
	struct buf pub;
	buf_init(&pub, MiB);
	public_of(c, &a, &pub);
	pgp_ctx *pub_only = ctx_with_public(&pub);
	CHECK_INT(pgp_remove(pub_only, &a), 0);
	CHECK_INT(pgp_keys_for_address(pub_only, "luke@jedi.test", got, 4, &n), 0);
	CHECK_INT(n, 0);
	pgp_ctx_free(pub_only);
	buf_free(&pub);
	pgp_ctx_free(c);
}

static void bundles(void)
{
	struct pgp_fpr a, b, l, bad;
	struct buf all, out, again;
	size_t n = 0;
	pgp_ctx *c = ctx_with_key("luke@jedi.test", &a);
	CHECK_INT(pgp_keygen(c, "luke@jedi.test", &b), 0);
	CHECK_INT(pgp_keygen(c, "leia@jedi.test", &l), 0);
	CHECK_INT(pgp_revoke(c, &a, PGP_REVOKE_SUPERSEDED, NULL), 0);
	buf_init(&all, 4 * MiB);
	buf_init(&out, 4 * MiB);
	buf_init(&again, 4 * MiB);
	public_of(c, &a, &all);
	public_of(c, &b, &all);
	CHECK_INT(pgp_bundle_for_address(all.data, all.len, "luke@jedi.test", &out, &n, NULL), 0);
	CHECK_INT(n, 2); /* the revoked key stays in the bundle */
	/* the bundle is its own fixed point: a server reduces what a client sent */
	CHECK_INT(pgp_bundle_for_address(out.data, out.len, "luke@jedi.test", &again, &n, NULL), 0);
	CHECK(again.len == out.len && memcmp(again.data, out.data, out.len) == 0);
	pgp_ctx *other = ctx_with_public(&out);
	struct pgp_fpr found;
	CHECK_INT(pgp_find_by_address(other, "luke@jedi.test", false, &found), 0);
	CHECK_STR(found.hex, b.hex);
	pgp_ctx_free(other);
	/* a certificate for someone else spoils the bundle, and is named */
	public_of(c, &l, &all);
	buf_reset(&out);
	CHECK_INT(pgp_bundle_for_address(all.data, all.len, "luke@jedi.test", &out, &n, &bad),
		  SM_ENOTFOUND);
	CHECK_STR(bad.hex, l.hex);
	CHECK_INT(out.len, 0);
	/* secret keys and garbage are refused */
	buf_reset(&all);
	CHECK_INT(pgp_export_secret(c, &b, false, &all), 0);
	CHECK_INT(pgp_bundle_for_address(all.data, all.len, "luke@jedi.test", &out, &n, NULL), SM_EPARSE);
	CHECK_INT(pgp_bundle_for_address((const uint8_t *)"garbage", 7, "luke@jedi.test", &out, &n, NULL),
		  SM_EPARSE);
	/* more than PGP_BUNDLE_MAX certificates */
	buf_reset(&all);
	for (int i = 0; i < PGP_BUNDLE_MAX + 1; i++) {
		struct pgp_fpr f;
		CHECK_INT(pgp_keygen(c, "han@jedi.test", &f), 0);
		public_of(c, &f, &all);
	}
	CHECK_INT(pgp_bundle_for_address(all.data, all.len, "han@jedi.test", &out, &n, NULL), SM_ETOOBIG);
	buf_free(&all);
	buf_free(&out);
	buf_free(&again);
	pgp_ctx_free(c);
}

static void detached_signatures(void)
{
	struct pgp_fpr luke, mallory, signer;
	struct buf sig, pub;
	pgp_ctx *c = ctx_with_key("luke@jedi.test", &luke);
	pgp_ctx *m = ctx_with_key("luke@jedi.test", &mallory);
	buf_init(&sig, 4096);
	buf_init(&pub, MiB);
	CHECK_INT(pgp_sign_detached(c, &luke, statement, sizeof(statement) - 1, false, &sig), 0);
	CHECK(sig.len > 0 && sig.len < 4096);
	/* a verifier with only the public certificate */
	public_of(c, &luke, &pub);
	pgp_ctx *v = ctx_with_public(&pub);
	CHECK_INT(pgp_verify_detached(v, statement, sizeof(statement) - 1, sig.data, sig.len, &signer), 0);
	CHECK_STR(signer.hex, luke.hex);
	/* another text, a flipped signature byte, another key */
	CHECK_INT(pgp_verify_detached(v, statement, sizeof(statement) - 2, sig.data, sig.len, &signer),
		  SM_ECRYPTO);
	sig.data[sig.len - 3] ^= 1;
	CHECK(pgp_verify_detached(v, statement, sizeof(statement) - 1, sig.data, sig.len, &signer) < 0);
	sig.data[sig.len - 3] ^= 1;
	CHECK_INT(pgp_verify_detached(m, statement, sizeof(statement) - 1, sig.data, sig.len, &signer),
		  SM_ENOTFOUND);
	CHECK(pgp_verify_detached(v, statement, sizeof(statement) - 1, (const uint8_t *)"x", 1, &signer) < 0);
	/* no secret key, no signature */
	buf_reset(&sig);
	CHECK_INT(pgp_sign_detached(v, &luke, statement, sizeof(statement) - 1, false, &sig), SM_ENOTFOUND);
	CHECK_INT(sig.len, 0);
	/* a key revoked in the verifier's store no longer authorizes anything */
	CHECK_INT(pgp_sign_detached(c, &luke, statement, sizeof(statement) - 1, false, &sig), 0);
	CHECK_INT(pgp_revoke(c, &luke, PGP_REVOKE_COMPROMISED, NULL), 0);
	buf_reset(&pub);
	public_of(c, &luke, &pub);
	pgp_ctx *vr = ctx_with_public(&pub);
	CHECK(pgp_verify_detached(vr, statement, sizeof(statement) - 1, sig.data, sig.len, &signer) < 0);
	pgp_ctx_free(vr);
	pgp_ctx_free(v);
	pgp_ctx_free(m);
	pgp_ctx_free(c);
	buf_free(&sig);
	buf_free(&pub);
}

int main(void)
{
	if (check_quiet_librnp() < 0)
		return 1;
	RUN(revocation_reasons);
	RUN(revoke_and_state);
	RUN(revoke_rejects);
	RUN(renew);
	RUN(keys_for_address);
	RUN(bundles);
	RUN(detached_signatures);
	return check_done();
}
