/* kt_delta.h: an epoch's delta, the changed map leaves an auditor (the
 * witness, kt_witness.h) replays to check the new map root.
 *
 * Binary, published for auditors, hashed into the epoch entry (kt.h):
 *   "sealmail-delta/v1\n" (18 bytes)  be64 epoch
 *   then records of 112 bytes, idx strictly ascending (so no idx twice):
 *   idx[32] be64 old_counter be64 old_epoch old_commitment[32] new_commitment[32]
 * old_counter 0 means the entry is new (old_epoch and old_commitment are
 * then all zero). The new leaf is (idx, old_counter + 1, epoch,
 * new_commitment): counters rise by exactly one per change, every change
 * carries the epoch that made it, and there is no record kind that
 * deletes. An empty delta (no records) is valid.
 *
 * The delta names no address and no WKD hash: indices are VRF outputs and
 * commitments are hiding. */
#ifndef SEALMAIL_KT_DELTA_H
#define SEALMAIL_KT_DELTA_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ptree.h"

#define KT_DELTA_MAGIC "sealmail-delta/v1\n"
#define KT_DELTA_HEADER_LEN 26
#define KT_DELTA_RECORD_LEN 112
/* Most records in one delta (about 1.1 GB). */
#define KT_DELTA_MAX_RECORDS 10000000u

/* Appends the header of epoch's delta. */
int kt_delta_begin(struct buf *out, uint64_t epoch) SM_WUR;
/* Appends the record for a change from old (NULL for a new entry) to a
 * leaf with new_commitment. The caller appends in ascending idx order;
 * SM_EINVAL if idx is not above the previous record's. */
int kt_delta_add(struct buf *out, const uint8_t idx[PTREE_IDX_LEN], const struct ptree_leaf *old,
		 const uint8_t new_commitment[PTREE_HASH_LEN]) SM_WUR;

/* Number of records, after checking the framing (header, epoch == the
 * expected one, whole records). SM_EPARSE otherwise. */
int kt_delta_count(const uint8_t *delta, size_t len, uint64_t epoch, size_t *ret_n) SM_WUR;

/* Why kt_delta_apply refused, for a clear message; static strings. */
const char *kt_delta_why(int why);

/* Checks the whole delta against map, and only if every record is right
 * applies it (the map is untouched on failure, but for SM_ENOMEM while
 * applying: then the map is part-updated and must be discarded). Right means: framing as in
 * kt_delta_count; idx strictly ascending; each record's old values equal
 * the map's leaf for idx exactly, or the map has no leaf for idx and
 * old_counter is 0; the old counter is below 2^64 - 1. On SM_EPARSE or
 * SM_ECRYPTO, *ret_why (if not NULL) says which rule failed, for
 * kt_delta_why (e.g. "an entry's old value does not match the map",
 * "entries are not in ascending index order"). */
int kt_delta_apply(struct ptree *map, const uint8_t *delta, size_t len, uint64_t epoch,
		   int *ret_why) SM_WUR;

#endif
