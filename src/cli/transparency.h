/* transparency.h (CLI): fetching and checking lookup proofs, and what the
 * client keeps between runs:
 *
 *   $SEALMAIL_HOME/witnesses      the witnesses the user trusts and the
 *                                 quorum (kt_trust.h); none: quorum 0
 *   $SEALMAIL_HOME/kt/<domain>    the last checkpoint seen from the domain
 *                                 and its log key (kt_state, kt_proof.h)
 *   $SEALMAIL_HOME/kt-own/<addr>  for the user's own addresses: the last
 *                                 version of their entry they authorized
 *                                 (the monitor's expectation), and the keys
 *                                 of their other devices, whose changes are
 *                                 theirs too
 *
 * Every state file is replaced atomically, and only after a proof held. */
#ifndef SEALMAIL_CLI_TRANSPARENCY_H
#define SEALMAIL_CLI_TRANSPARENCY_H

#include <stdint.h>

#include "buf.h"
#include "cli.h"
#include "kt_proof.h"

/* kt_lookup's result besides 0 and exit statuses: the domain serves no
 * transparency log and has never served one to us. */
#define KT_NO_LOG (-1)

struct kt_lookup {
	struct kt_proof *proof; /* heap; the key lives in it */
	struct buf text;        /* the proof as served */
	struct kt_result res;
	char source[1024];      /* the URL that answered */
};

/* What kt_lookup asks the domain for: the proof alone (what a sender
 * needs), or with the version's signed authorization (kt_update.h), which
 * says who made the change and adds about 480 bytes, a quarter of a proof
 * without its key. Ask as a sender first: a request with the authorization
 * tells the domain who is asking (the owner, or someone whose pin changed). */
enum kt_ask { KT_ASK_PROOF = 0, KT_ASK_AUTHORIZATION = 1 };

/* Fetches and verifies the lookup proof for address, then saves the
 * domain's new state. 0: verified (res.found says present or absent; an
 * authorization served is in res.auth, checked to be for exactly this
 * version); KT_NO_LOG; or an exit status after saying why (EX_PROTOCOL for
 * a proof that does not hold: the message names the check that failed). */
int kt_lookup(struct cli *c, const char *address, enum kt_ask ask, struct kt_lookup *ret);
void kt_lookup_free(struct kt_lookup *l);

/* What the user keeps about their own entry for an address. */
struct kt_own {
	uint64_t version;                      /* the last they authorized; 0: none */
	struct pgp_fpr devices[PINS_KEYS_MAX]; /* their other devices' keys */
	size_t ndevices;
};

/* Loads (nothing recorded: all zero) and saves kt-own/<address>. */
int kt_own_load(const struct cli *c, const char *address, struct kt_own *ret);
int kt_own_save(const struct cli *c, const char *address, const struct kt_own *own);

#endif
