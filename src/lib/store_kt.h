/* store_kt.h: sealmaild's durable key transparency state, in the same
 * SQLite database as store.h (schema in store.c, version 2).
 *
 * Per domain: each user's current map leaf and every committed version of
 * their key (the opening and certificate lookup proofs reveal), each
 * epoch's log entry, delta and checkpoint, the epoch log's stored hashes,
 * and how far each witness has seen the log. A user's publication
 * (store_publish) is pending until an epoch commits it; WKD
 * (store_key_by_hash) serves only committed versions.
 *
 * An epoch is written in one transaction (store_kt_begin ..
 * store_kt_commit), so a crash leaves either the whole epoch or none of
 * it. Errors as in store.h. Domains are lowercase, as in the conf. */
#ifndef SEALMAIL_STORE_KT_H
#define SEALMAIL_STORE_KT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ptree.h"
#include "store.h"
#include "tlog.h"
#include "vrf.h"
#include "wkd.h"

/* A publication waiting for its epoch. Pointers are borrowed for the
 * callback only. */
struct store_kt_change {
	int64_t user_id;
	const char *address;     /* local@domain as the user was added */
	const uint8_t *cert;
	size_t cert_len;
	const uint8_t *auth;     /* its authorization (kt_update.h); NULL if none */
	size_t auth_len;
	int64_t cert_version;
	int has_leaf;            /* the user has a committed version */
	struct ptree_leaf leaf;  /* ... and this is its leaf */
	int has_index;           /* the VRF index was computed at publication */
	uint8_t idx[PTREE_IDX_LEN];
	uint8_t vrf_proof[VRF_PROOF_LEN];
};

/* A user's committed state, for lookup proofs. */
struct store_kt_user {
	int64_t user_id;
	char address[WKD_LOCAL_MAX + 1 + WKD_DOMAIN_MAX + 1];
	uint8_t idx[PTREE_IDX_LEN];
	uint8_t vrf_proof[VRF_PROOF_LEN];
	uint64_t counter;
};

/* Calls fn for each pending change of domain. fn must not call back into
 * the store; a nonzero return stops the walk and is returned. */
int store_kt_changes(store *s, const char *domain,
		     int (*fn)(void *arg, const struct store_kt_change *c), void *arg) SM_WUR;
/* Calls fn for each committed leaf of domain (rebuilding the map). */
int store_kt_leaves(store *s, const char *domain,
		    int (*fn)(void *arg, const struct ptree_leaf *leaf), void *arg) SM_WUR;

/* The epoch transaction. */
int store_kt_begin(store *s) SM_WUR;
int store_kt_commit(store *s) SM_WUR;
void store_kt_rollback(store *s);

/* Inside the transaction: commits a user's new version (leaf->counter is
 * the version's number) and makes it their current leaf. vrf_proof is
 * stored with a user's first leaf only (an index never changes). */
int store_kt_put_version(store *s, int64_t user_id, const char *domain,
			 const uint8_t vrf_proof[VRF_PROOF_LEN], const struct ptree_leaf *leaf,
			 const uint8_t opening[32], const uint8_t *cert, size_t cert_len,
			 const uint8_t *auth, size_t auth_len, int64_t cert_version) SM_WUR;
/* Inside the transaction: records epoch (entry, delta, signed checkpoint). */
int store_kt_put_epoch(store *s, const char *domain, uint64_t epoch, const struct buf *entry,
		       const struct buf *delta, const struct buf *checkpoint) SM_WUR;
/* Replaces an epoch's checkpoint by the same with cosignatures added. */
int store_kt_set_checkpoint(store *s, const char *domain, uint64_t epoch,
			    const struct buf *checkpoint) SM_WUR;

/* The newest epoch of domain: *ret_epoch, and its checkpoint appended to
 * ret_checkpoint (may be NULL). SM_ENOTFOUND before the first epoch. */
int store_kt_latest(store *s, const char *domain, uint64_t *ret_epoch,
		    struct buf *ret_checkpoint) SM_WUR;
/* One epoch's entry and delta (and checkpoint), each appended when the buf
 * is not NULL. SM_ENOTFOUND if there is no such epoch. */
int store_kt_epoch(store *s, const char *domain, uint64_t epoch, struct buf *ret_entry,
		   struct buf *ret_delta, struct buf *ret_checkpoint) SM_WUR;

/* The epoch log's hashes of domain as a tlog store: ctx is a struct
 * store_kt_log the caller keeps alive while st is used. Writes belong
 * inside the epoch transaction. */
struct store_kt_log {
	store *s;
	char domain[WKD_DOMAIN_MAX + 1];
};
void store_kt_log_init(struct store_kt_log *log, store *s, const char *domain,
		       struct tlog_store *ret_st);

/* The committed state of the user with this WKD hash in domain;
 * SM_ENOTFOUND if there is no such user or nothing committed yet. */
int store_kt_user(store *s, const char *domain, const char *wkd_hash,
		  struct store_kt_user *ret) SM_WUR;
/* Version counter of a user: its opening, certificate and authorization
 * (appended; ret_auth may be NULL, and gets nothing for a version that has
 * none). */
int store_kt_version(store *s, int64_t user_id, uint64_t counter, uint8_t ret_opening[32],
		     struct buf *ret_cert, struct buf *ret_auth) SM_WUR;

/* Records the VRF index and proof of address (a user), computed when
 * they publish, so that the epoch need not; a later call changes nothing
 * (an index never changes). The caller computed them with the domain's
 * VRF key. */
int store_kt_put_index(store *s, const char *address, const uint8_t idx[PTREE_IDX_LEN],
		       const uint8_t vrf_proof[VRF_PROOF_LEN]) SM_WUR;

/* How far witness name has seen domain's log (0 if never). */
int store_kt_witness_size(store *s, const char *domain, const char *name, uint64_t *ret) SM_WUR;
int store_kt_set_witness_size(store *s, const char *domain, const char *name, uint64_t size) SM_WUR;

#endif
