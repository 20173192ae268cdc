/* kt_update.h: an owner's authorization of a change to what their domain
 * serves for them, and the publish request that carries it.
 *
 * The statement, signed by the owner (text, lines end in "\n"):
 *
 *   sealmail-update/v1
 *   address <canonical address>
 *   authority owner|token           owner: a change signed by a key served
 *                                   now; token: published with a one-time
 *                                   token (first publication, or after an
 *                                   administrator's reset)
 *   version <n>                     the map counter this change will have
 *   previous <base64 SHA-256>       of the bundle at version n - 1;
 *                                   "previous none" exactly when n = 1
 *   key <base64 SHA-256>            of the new bundle (kt_key_digest)
 *
 * The authorization is the statement followed by
 *
 *   signature <base64 binary OpenPGP detached signature over the statement>
 *
 * A publish request is an authorization, an empty line, and the bundle
 * (binary OpenPGP certificates) to the end. The daemon stores the
 * authorization with the version it commits and serves it in lookup
 * proofs, so that anyone can check who authorized each version:
 *   - an owner's change (authority owner) is signed by a key of the bundle
 *     at version n - 1, which the daemon checks;
 *   - a token publication is signed by a key of the new bundle: version 1
 *     is the first publication, a later one the administrator's reset of a
 *     user who lost their keys.
 * A signature binds address, authority, version and both digests, so it
 * authorizes exactly one version and cannot be replayed for another.
 *
 * Parsing is strict (one spelling); everything here is pure computation,
 * the signatures themselves are made and checked with pgp_lifecycle.h. */
#ifndef SEALMAIL_KT_UPDATE_H
#define SEALMAIL_KT_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "kt.h"

#define KT_SIG_MAX 1024  /* a detached signature, binary */
#define KT_AUTH_MAX 2048 /* a whole authorization, text */

enum kt_authority { KT_BY_OWNER = 1, KT_BY_TOKEN = 2 };

struct kt_update {
	char address[KT_ADDRESS_MAX];
	enum kt_authority authority;
	uint64_t version;
	int has_previous; /* 0 exactly when version is 1 */
	uint8_t previous[KT_DIGEST_LEN];
	uint8_t key[KT_DIGEST_LEN];
};

/* A parsed authorization. statement borrows the parsed text. */
struct kt_authorization {
	struct kt_update update;
	const uint8_t *statement;
	size_t statement_len;
	uint8_t sig[KT_SIG_MAX];
	size_t sig_len;
};

/* Appends the statement text. SM_EINVAL if u is inconsistent (address not
 * canonical, unknown authority, version 0, previous present exactly when
 * version is 1, an owner's change of version 1). */
int kt_update_format(const struct kt_update *u, struct buf *out) SM_WUR;

/* Appends the authorization: statement (as kt_update_format wrote it) and
 * signature line. */
int kt_authorization_format(const uint8_t *statement, size_t statement_len, const uint8_t *sig,
			    size_t sig_len, struct buf *out) SM_WUR;
/* Parses an authorization (untrusted): exactly the text above, at most
 * KT_AUTH_MAX bytes. SM_EPARSE, SM_ETOOBIG. */
int kt_authorization_parse(const uint8_t *text, size_t len, struct kt_authorization *ret) SM_WUR;

/* Splits a publish request into its authorization and its bundle (both
 * borrowed); neither is parsed further here. SM_EPARSE if there is no
 * authorization-sized head ending in "\n\n" or no bundle after it. */
int kt_request_split(const uint8_t *text, size_t len, const uint8_t **ret_auth,
		     size_t *ret_auth_len, const uint8_t **ret_bundle, size_t *ret_bundle_len) SM_WUR;

/* 0 if the authorization is for exactly this version of address's entry
 * (canonical address, counter) serving the bundle key (binary); SM_ECRYPTO
 * otherwise. */
int kt_authorization_matches(const struct kt_authorization *a, const char *address,
			     uint64_t counter, const uint8_t *key, size_t key_len) SM_WUR;

#endif
