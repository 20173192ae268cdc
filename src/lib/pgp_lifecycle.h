/* pgp_lifecycle.h: what happens to a key after it is made: renewal of its
 * expiry, revocation, its state as correspondents see it, the bundle of
 * certificates a domain serves for one address, and detached signatures,
 * with which an owner authorizes a change of what their domain serves
 * (kt_update.h). Same rules and context as pgp.h. */
#ifndef SEALMAIL_PGP_LIFECYCLE_H
#define SEALMAIL_PGP_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "pgp.h"

/* Certificates one address may have in its bundle (devices, and a revoked
 * key kept next to its replacement). */
#define PGP_BUNDLE_MAX 8
#define PGP_REASON_MAX 256

enum pgp_revocation {
	PGP_REVOKE_NONE,        /* "no reason given" */
	PGP_REVOKE_SUPERSEDED,  /* replaced by a newer key */
	PGP_REVOKE_COMPROMISED, /* the secret key may be known to others */
	PGP_REVOKE_RETIRED,     /* no longer used */
};

/* Parses "superseded", "compromised", "retired" or "none". SM_EINVAL else. */
int pgp_revocation_parse(const char *name, enum pgp_revocation *ret) SM_WUR;

/* Revokes the primary key fpr, whose secret key ctx holds, with a reason
 * code and an optional text (at most PGP_REASON_MAX - 1 bytes). */
int pgp_revoke(pgp_ctx *ctx, const struct pgp_fpr *fpr, enum pgp_revocation why,
	       const char *text) SM_WUR;

/* Makes the key fpr (primary and every subkey; secret keys in ctx) expire
 * lifetime seconds from now. SM_EINVAL for a lifetime of 0 or one that
 * would pass 2106. */
int pgp_renew(pgp_ctx *ctx, const struct pgp_fpr *fpr, uint32_t lifetime) SM_WUR;

/* Removes the key fpr (public and secret, with its subkeys) from ctx. */
int pgp_remove(pgp_ctx *ctx, const struct pgp_fpr *fpr) SM_WUR;

struct pgp_key_state {
	bool revoked;
	char reason[PGP_REASON_MAX]; /* revoked: the reason as the key says it */
	bool expired;
	uint64_t expires;            /* unix time; 0: never */
	uint64_t created;
	bool secret;                 /* ctx holds its secret key */
};

/* The state of the primary key fpr. */
int pgp_key_state(pgp_ctx *ctx, const struct pgp_fpr *fpr, struct pgp_key_state *ret) SM_WUR;

/* The primary keys in ctx that carry a valid user ID for address (revoked
 * and expired ones included), newest first. ret_n gets how many were found;
 * at most max are written. */
int pgp_keys_for_address(pgp_ctx *ctx, const char *address, struct pgp_fpr *ret, size_t max,
			 size_t *ret_n) SM_WUR;

/* The bundle a domain serves for address: every certificate in data (public
 * only, armored or binary), each reduced to its user ID for address, binary,
 * appended to out. SM_EPARSE: data holds no certificate or a secret key;
 * SM_ENOTFOUND: a certificate has no valid user ID for address (naming it in
 * ret_bad when not NULL); SM_ETOOBIG: more than PGP_BUNDLE_MAX certificates.
 * ret_n (may be NULL) receives the number of certificates. */
int pgp_bundle_for_address(const uint8_t *data, size_t len, const char *address,
			   struct buf *out, size_t *ret_n, struct pgp_fpr *ret_bad) SM_WUR;

/* A detached signature over data by signer's secret signing key, binary
 * or armored. */
int pgp_sign_detached(pgp_ctx *ctx, const struct pgp_fpr *signer, const uint8_t *data,
		      size_t len, bool armored, struct buf *out) SM_WUR;
/* Verifies a detached signature over data with the keys in ctx: 0 and the
 * signer's primary fingerprint when it holds and the signing key was valid
 * (not revoked, not expired) when it signed; SM_ECRYPTO otherwise
 * (SM_ENOTFOUND: made by a key ctx does not have). */
int pgp_verify_detached(pgp_ctx *ctx, const uint8_t *data, size_t len, const uint8_t *sig,
			size_t sig_len, struct pgp_fpr *ret_signer) SM_WUR;

#endif
