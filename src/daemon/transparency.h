/* transparency.h: key transparency inside sealmaild.
 *
 * keys.c   the per-domain log signing key and VRF key, made on first start
 *          in STATE_DIR/keys/ (0600) and loaded by the key holder only
 *          (keyholder.h); the others know the public keys.
 * epoch.c  the epoch thread of the parent process: every epoch-interval it
 *          commits pending publications of each domain (map leaves, delta,
 *          log entry, signed checkpoint: one SQLite transaction), submits
 *          the epoch to the witnesses, adds their cosignatures, and writes
 *          the domain's epoch bundle (STATE_DIR/kt/<domain>.bundle: the
 *          cosigned checkpoint and a snapshot of the map) for the workers.
 * kt_http.c the HTTPS endpoints under /.well-known/sealmail/v1/<domain>/:
 *          lookup proofs, the checkpoint, epoch entries and deltas, answered
 *          from the bundle (mmap'ed) and the store. */
#ifndef SEALMAIL_DAEMON_TRANSPARENCY_H
#define SEALMAIL_DAEMON_TRANSPARENCY_H

#include <stdint.h>

#include "buf.h"
#include "http.h"
#include "note.h"
#include "ptree.h"
#include "vrf.h"

struct daemon;

#define KT_DIR "kt"     /* the bundles, written by the main process */
#define KEYS_DIR "keys" /* the secret keys, the key holder's alone */
#define KT_BUNDLE_MAGIC "sealmail-bundle/v1\n"

/* One domain's public transparency keys and state. The secret keys are
 * the key holder's alone (keyholder.h). */
struct kt_domain {
	const char *name;             /* the conf's */
	uint8_t vrf_pk[VRF_PK_LEN];
	struct note_verifier log_vkey;
	/* epoch thread only */
	struct ptree *map;
	int has_epoch;
	uint64_t last_epoch;
	/* kt_http: the mapped bundle, replaced when the file changes */
	const uint8_t *bundle;
	size_t bundle_len;
	uint64_t bundle_ino;
	int64_t bundle_mtime_ns;
};

struct kt {
	struct kt_domain *domains;
	size_t n;
	char dir[4096];
	struct epoch_thread *thread; /* the parent's */
};

/* keys.c: the key files in STATE_DIR/keys: kt_keys_dir makes the directory
 * (0700; one that exists must be the caller's own and closed to others),
 * moves key files of the older layout (in STATE_DIR/kt) into it, and
 * writes its path into out; kt_keys_read loads a domain's keys
 * or creates them on first use (the VRF key into vrf_sk, VRF_SK_LEN bytes;
 * the log key is the caller's to note_signer_free). */
int kt_keys_dir(const char *state_dir, char *out, size_t cap) SM_WUR;
int kt_keys_read(const char *dir, const char *domain, uint8_t *vrf_sk,
		 struct note_signer **ret_log) SM_WUR;
/* Reads a key file that must be a regular file, the caller's own and
 * closed to everyone else (SM_EINVAL otherwise; SM_ENOTFOUND if missing). */
int keys_file_read(struct buf *b, const char *path) SM_WUR;
/* The table of served domains with their public keys, asked of the key
 * holder through d->kh. -1 after logging. */
int kt_domains_init(struct daemon *d);
void kt_free(struct daemon *d);
struct kt_domain *kt_find(struct daemon *d, const char *domain);

/* epoch.c: in the parent, after the workers are forked. kt_epoch_start
 * rebuilds each map from the store, checks it against the last epoch,
 * makes epoch 0 for a new domain, and starts the thread. */
int kt_epoch_start(struct daemon *d);
void kt_epoch_stop(struct daemon *d);

/* kt_http.c: answers req if path (req's, NUL-terminated) is under
 * /.well-known/sealmail/: returns 1 and fills ret, whose body is kept in
 * body (the caller's buffer, overwritten) until the next call; returns 0 if
 * the path is not ours. query is req's, NUL-terminated, or NULL. */
int kt_http_handle(struct daemon *d, const struct http_request *req, const char *path,
		   const char *query, struct buf *body, struct http_response *ret);

/* Unmaps k's bundle (kt_http.c). */
void kt_http_unmap(struct kt_domain *k);

/* The bundle's parts, after checking its framing (kt_http.c and tests). */
int kt_bundle_parse(const uint8_t *data, size_t len, uint64_t *ret_epoch,
		    const uint8_t **ret_checkpoint, size_t *ret_checkpoint_len,
		    struct ptree_view *ret_map);

#endif
