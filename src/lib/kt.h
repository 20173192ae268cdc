/* kt.h: the records of key transparency that are not a tree or a log:
 * how an address becomes a map index, what a map leaf commits to, the
 * epoch entry appended to the log, and the map line a checkpoint carries.
 *
 *   address   canonical form "local@domain": the local part lowercased in
 *             ASCII (as WKD hashes it) and the domain lowercased; the VRF
 *             input (alpha) is exactly these bytes.
 *   index     the first 32 bytes of the VRF output (vrf.h) for the address.
 *   key digest SHA-256 of the binary certificate served for the address.
 *   commitment SHA-256("sealmail-kt/v1 commitment\n" || opening[32] ||
 *             be16(len(address)) || address || key digest); the opening is
 *             32 random bytes per version, given only with lookup proofs,
 *             so the map reveals nothing about addresses or keys.
 *   epoch entry (the data of log leaf e, text):
 *             "sealmail-epoch/v1\n" "epoch <e>\n" "time <unix>\n"
 *             "map <base64 root>\n" "delta <base64 SHA-256 of the delta>\n"
 *   origin    "<domain>/sealmail-kt" (c2sp.org/tlog-checkpoint origin line).
 *   map line  the one extension line of every checkpoint:
 *             "sealmail-map <e> <base64 map root> <base64 VRF public key>\n"
 *             where e = size - 1 is the epoch of the last log entry. It lets
 *             a lookup proof skip the log inclusion proof of the latest
 *             epoch and commits every reader and witness to one VRF key.
 *
 * Base64 is RFC 4648 standard with padding, decoded strictly (b64.h).
 * Everything here is pure computation on caller memory. */
#ifndef SEALMAIL_KT_H
#define SEALMAIL_KT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "note.h"
#include "ptree.h"
#include "vrf.h"
#include "wkd.h"

#define KT_OPENING_LEN 32
#define KT_DIGEST_LEN 32
/* A canonical address, NUL included. */
#define KT_ADDRESS_MAX (WKD_LOCAL_MAX + 1 + WKD_DOMAIN_MAX + 1)
#define KT_ORIGIN_SUFFIX "/sealmail-kt"
#define KT_ENTRY_MAX 512

struct kt_entry {
	uint64_t epoch;
	uint64_t time;
	uint8_t map_root[PTREE_HASH_LEN];
	uint8_t delta_hash[KT_DIGEST_LEN];
};

/* What a checkpoint's map line says. */
struct kt_map_line {
	uint64_t epoch;
	uint8_t map_root[PTREE_HASH_LEN];
	uint8_t vrf_pk[VRF_PK_LEN];
};

/* The canonical form of address. SM_EINVAL if it is not an address. */
int kt_canonical_address(const char *address, char ret[KT_ADDRESS_MAX]) SM_WUR;
/* The map index for a VRF output. */
void kt_index(const uint8_t beta[VRF_OUTPUT_LEN], uint8_t ret[PTREE_IDX_LEN]);
/* SHA-256 of cert. */
void kt_key_digest(const uint8_t *cert, size_t len, uint8_t ret[KT_DIGEST_LEN]);
/* The commitment of a canonical address (SM_EINVAL if address is not
 * canonical) to a key digest under opening. */
int kt_commitment(const uint8_t opening[KT_OPENING_LEN], const char *address,
		  const uint8_t key_digest[KT_DIGEST_LEN], uint8_t ret[PTREE_HASH_LEN]) SM_WUR;

/* "<domain>/sealmail-kt" appended to out; SM_EINVAL for a bad domain. */
int kt_origin(const char *domain, struct buf *out) SM_WUR;

/* Appends the entry's text; parses it back (SM_EPARSE unless it is exactly
 * the form above, SM_ETOOBIG over KT_ENTRY_MAX). */
int kt_entry_format(const struct kt_entry *e, struct buf *out) SM_WUR;
int kt_entry_parse(const uint8_t *text, size_t len, struct kt_entry *ret) SM_WUR;
/* The log leaf hash of an entry (tlog_leaf_hash of its text). */
int kt_entry_leaf_hash(const struct kt_entry *e, uint8_t ret[32]) SM_WUR;

/* Appends the map line. */
int kt_map_line_format(const struct kt_map_line *m, struct buf *out) SM_WUR;
/* The map line of a parsed checkpoint: its extension must be exactly one
 * map line, and its epoch must be size - 1. SM_EPARSE otherwise. */
int kt_map_line_parse(const struct note_checkpoint *cp, struct kt_map_line *ret) SM_WUR;

/* Appends a whole checkpoint body for (origin of domain, size, log root,
 * map line). */
int kt_checkpoint_body(const char *domain, uint64_t size, const uint8_t log_root[32],
		       const struct kt_map_line *m, struct buf *out) SM_WUR;

#endif
