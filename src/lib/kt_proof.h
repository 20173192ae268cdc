/* kt_proof.h: the lookup proof, what a client gets for "the key of this
 * address" and checks before it uses the key, and the per-domain state the
 * client keeps between lookups.
 *
 * Text, C2SP style (lines end in "\n"; base64 is standard with padding,
 * decoded strictly):
 *
 *   sealmail-lookup/v1
 *   address <canonical address>
 *   log-key <vkey of the domain's log, note.h>
 *   vrf <base64 VRF proof, 80 bytes>
 *   present <counter> <epoch>              | absent | empty
 *   opening <base64 32 bytes>              (present only)
 *   key <base64 binary certificate>        (present only)
 *   authorization <base64 kt_update.h authorization>
 *                                          (present only; optional: served
 *                                          only to a client that asks, and
 *                                          versions published before it
 *                                          existed have none)
 *   neighbour <base64 idx> <counter> <epoch> <base64 commitment>
 *                                          (absent only: the leaf the search ends at)
 *   path <base64 of (bit, sibling[32]) pairs, bottom up>   (omitted when empty)
 *   consistency <old size> <base64 of the hashes, concatenated>   (optional)
 *   <empty line>
 *   <the checkpoint: a signed note, cosignatures included, to the end>
 *
 * Verification, in order, each failure its own reason (enum kt_why):
 *   the address is the one asked for; the log key is the one pinned for the
 *   domain (if one is); the checkpoint is signed by the log key and by at
 *   least quorum of the trusted witnesses; its origin is the domain's; its
 *   map line parses; the VRF proof verifies for the address under the map
 *   line's VRF key; the path leads from the leaf (present: its commitment
 *   recomputed from opening, address and the key's digest) or from the
 *   neighbour (absent) to the map root; an authorization, if any, is for
 *   exactly this address, version and key (its signature is the caller's to
 *   check, with pgp_lifecycle.h); and against the client's last
 *   checkpoint for the domain: not smaller (rollback), equal size means
 *   equal root (split view), larger needs a consistency proof that holds.
 *
 * Ownership: a struct kt_proof from kt_proof_parse borrows the checkpoint
 * from the parsed text, which must outlive it; the key, base64 in the text,
 * is decoded into the proof's own key_buf (so the struct is about 60 KB:
 * heap-allocate it, and do not copy a parsed one, whose key points into
 * itself). For kt_proof_format the key may point anywhere. */
#ifndef SEALMAIL_KT_PROOF_H
#define SEALMAIL_KT_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "kt.h"
#include "kt_update.h"
#include "note.h"
#include "ptree.h"
#include "tlog.h"
#include "vrf.h"

#define KT_PROOF_MAX (64 * 1024 + 16 * 1024) /* a whole proof, key included */
#define KT_PROOF_KEY_MAX (48 * 1024)         /* binary certificate in a proof */
#define KT_WITNESS_MAX 16                    /* trusted witnesses per client */

enum kt_found { KT_PRESENT = 1, KT_ABSENT = 2, KT_EMPTY = 3 };

struct kt_proof {
	char address[KT_ADDRESS_MAX];
	struct note_verifier log_key;
	uint8_t vrf_proof[VRF_PROOF_LEN];
	enum kt_found found;
	uint64_t counter, epoch;          /* present */
	uint8_t opening[KT_OPENING_LEN];  /* present */
	const uint8_t *key;               /* present; binary certificate (parse: key_buf) */
	size_t key_len;
	struct ptree_leaf neighbour;      /* absent */
	struct ptree_path path;
	int has_consistency;
	uint64_t old_size;
	size_t consistency_len;
	uint8_t consistency[TLOG_PROOF_MAX][TLOG_HASH_LEN];
	const uint8_t *checkpoint;        /* borrowed signed note */
	size_t checkpoint_len;
	size_t auth_len;                  /* present: 0 if no authorization */
	uint8_t auth[KT_AUTH_MAX];
	uint8_t key_buf[KT_PROOF_KEY_MAX]; /* kt_proof_parse's decoded key */
};

/* What the client remembers of a domain (kt_state_format/parse). */
struct kt_state {
	struct note_verifier log_key;
	uint64_t size;                    /* 0: no checkpoint seen yet */
	uint8_t root[TLOG_HASH_LEN];
};

/* What the client trusts. */
struct kt_trust {
	struct note_verifier witness[KT_WITNESS_MAX];
	size_t nwitness;
	size_t quorum; /* cosignatures required; 0 accepts a log signature alone */
};

/* The outcome of a verified proof. */
struct kt_result {
	enum kt_found found;
	uint64_t counter, epoch;   /* present: of the entry */
	const uint8_t *key;        /* present: borrowed from the proof */
	size_t key_len;
	int has_auth;              /* present: the version carries an authorization */
	struct kt_authorization auth; /* ... parsed; it matches address, counter and key */
	uint64_t size;             /* the checkpoint's */
	uint8_t root[TLOG_HASH_LEN];
	struct kt_map_line map;
	size_t cosigned;           /* trusted witnesses that cosigned */
	struct kt_state new_state; /* what to remember now */
};

enum kt_why {
	KT_OK = 0,
	KT_WHY_MALFORMED,     /* the proof does not parse */
	KT_WHY_ADDRESS,       /* a proof for another address */
	KT_WHY_LOG_KEY,       /* the log key differs from the pinned one */
	KT_WHY_SIGNATURE,     /* checkpoint not signed by the log key */
	KT_WHY_QUORUM,        /* too few trusted witnesses cosigned */
	KT_WHY_ORIGIN,        /* checkpoint of another domain's log */
	KT_WHY_MAP_LINE,      /* no valid map line */
	KT_WHY_VRF,           /* VRF proof fails: index not the address's */
	KT_WHY_MAP_PATH,      /* the leaf is not in the committed map */
	KT_WHY_ROLLBACK,      /* checkpoint older than one already seen */
	KT_WHY_SPLIT_VIEW,    /* same size, different tree: the log forked */
	KT_WHY_CONSISTENCY,   /* no or failing consistency proof */
	KT_WHY_AUTHORIZATION, /* the authorization is for another version or key */
};

/* One sentence saying what failed, for users; static. */
const char *kt_why_text(enum kt_why why);

/* Parses a proof (untrusted, at most KT_PROOF_MAX bytes). SM_EPARSE,
 * SM_ETOOBIG. */
int kt_proof_parse(const uint8_t *text, size_t len, struct kt_proof *ret) SM_WUR;

/* Appends the text of p (the daemon's side). The checkpoint is copied. On
 * failure out is as it was. */
int kt_proof_format(const struct kt_proof *p, struct buf *out) SM_WUR;

/* Verifies p for address (as the user typed it; canonicalised here)
 * against trust and the last state for the domain (NULL or size 0: first
 * contact; the log key is then taken on first use). 0 and *ret filled if
 * every check holds; otherwise SM_ECRYPTO (or SM_EPARSE/SM_EINVAL) and
 * *ret_why says which check failed. ret is only valid while p's text is. */
int kt_proof_verify(const struct kt_proof *p, const char *address, const struct kt_trust *trust,
		    const struct kt_state *last, struct kt_result *ret, enum kt_why *ret_why) SM_WUR;

/* The client's per-domain state file:
 *   "sealmail-kt-state/v1\n" "log-key <vkey>\n" "size <n>\n" "root <base64>\n" */
int kt_state_format(const struct kt_state *s, struct buf *out) SM_WUR;
int kt_state_parse(const uint8_t *text, size_t len, struct kt_state *ret) SM_WUR;

#endif
