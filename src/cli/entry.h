/* entry.h (CLI): the user's own entry in their domain's key directory:
 * the version served now, and submitting the next one as a signed publish
 * request (kt_update.h). Shared by publish, rotate, revoke and renew. */
#ifndef SEALMAIL_CLI_ENTRY_H
#define SEALMAIL_CLI_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "cli.h"
#include "kt_update.h"
#include "pgp.h"

#define ENTRY_WAIT_DEFAULT 300 /* seconds; an epoch is 60 s by default */

/* The version served now, proven by the domain's transparency log. */
struct entry_now {
	uint64_t counter;      /* 0: nothing published yet */
	struct buf bundle;     /* the certificates served now (binary) */
	struct buf auth;       /* its authorization (kt_update.h); empty if none */
	bool ours;             /* we authorized it (signed by one of our keys,
				* or the version we recorded) */
};

/* Looks up the user's own entry for address with a lookup proof. Returns 0
 * or an exit status, having said why. */
int entry_lookup(struct cli *c, const char *address, struct entry_now *ret);
void entry_free(struct entry_now *e);

/* For a change by the owner: looks up the entry (entry_lookup), refuses
 * unless the version served now is one the user authorized, and picks the
 * served key whose secret the user holds (ret_key), which signs the
 * change. 0 or an exit status, having said why. */
int entry_owned(struct cli *c, const char *address, struct entry_now *ret,
		struct pgp_fpr *ret_key);

/* Whether version counter of address, served as key with authorization
 * auth (NULL if none), was authorized by the user: its statement signed
 * by a key whose secret c->ctx holds, or it is the version kt-own recorded
 * and serves one of the user's keys. ret_signer (may be NULL) gets the
 * signer when the signature holds. */
bool entry_is_ours(struct cli *c, const char *address, uint64_t counter, const uint8_t *key,
		   size_t key_len, const struct kt_authorization *auth, struct pgp_fpr *ret_signer);

/* Records, once version counter (serving bundle key) is known to be the
 * user's, the other keys it serves as the user's other devices (kt-own), so
 * that changes they sign later are the user's too. */
int entry_learn_devices(struct cli *c, const char *address, uint64_t counter, const uint8_t *key,
			size_t key_len, size_t *ret_n);

/* Whether key (a bundle) holds a certificate whose secret key ctx holds. */
bool entry_serves_ours(pgp_ctx *ctx, const char *address, const uint8_t *key, size_t len);

/* The certificates to serve next: bundle (what is served now; may be
 * empty) without the key drop (NULL: none), with the certificates in add
 * (NULL: none) merged in (a renewed or revoked copy of a served key
 * replaces its signatures, a new key joins), each reduced to the user ID
 * for address. 0 or an exit status, having said why. */
int entry_bundle_edit(const struct buf *bundle, const struct pgp_fpr *drop, const struct buf *add,
		      const char *address, struct buf *out);

struct entry_change {
	const char *address;
	const char *token;            /* NULL: an owner's change */
	const struct buf *bundle;     /* what to serve (entry_bundle) */
	const struct pgp_fpr *signer; /* the key that signs the statement (c->ctx) */
	unsigned wait;                /* seconds to wait for the epoch; 0: do not */
	const char *what;             /* "published", "rotated", ... for messages */
};

/* Signs the statement for the next version after now (now->counter + 1),
 * uploads it with the bundle and, once the directory accepted it, records
 * the version in kt-own. 0 or an exit status, having said why. */
int entry_submit(struct cli *c, const struct entry_now *now, const struct entry_change *ch);
/* Waits up to ch->wait seconds until the log proves version of the entry
 * serves ch->bundle. 0 or an exit status (EX_TEMPFAIL: not yet). */
int entry_wait(struct cli *c, const struct entry_change *ch, uint64_t version);

#endif
