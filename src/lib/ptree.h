/* ptree.h: the transparency map, a compressed binary prefix tree (a
 * PATRICIA trie) over 256-bit indices (VRF outputs, kt.h).
 *
 * Every leaf holds (idx, counter, epoch of last change, commitment). Every
 * inner node has exactly two children and the number of the index bit at
 * which they split ("bit", 0 = the most significant bit of idx[0], 255 = the
 * least significant bit of idx[31]); an inner node's bit is greater than its
 * parent's, and every leaf below it agrees on all bits before it. The tree
 * of a set of leaves is unique, so its root commits to the set.
 *
 * Hashes, SHA-256, domain-separated by the first byte:
 *   leaf   H(0x00 || idx[32] || be64(counter) || be64(epoch) || commitment[32])
 *   inner  H(0x01 || bit || left[32] || right[32])   (bit as one byte)
 *   empty  H(0x02)                                   (the root of no leaves)
 * left holds the leaves whose idx has 0 at bit, right those with 1.
 *
 * Storage: two flat arrays (inner nodes and leaves) with 32-bit references,
 * about 160 bytes per entry. The same arrays, written out by
 * ptree_snapshot(), are a read-only tree that other processes search in
 * place (struct ptree_view, e.g. over an mmap'ed file) without trusting
 * them: every walk is bounds-checked and must see bits strictly rise.
 *
 * Updates are batched: ptree_set() changes leaves and marks their paths;
 * ptree_root() rehashes only what was marked, so k updates in a map of n
 * cost about k * (log2(n) - log2(k)) + 2k hashes.
 *
 * Not thread-safe; a struct ptree belongs to one thread at a time. A view
 * holds no state of its own and may be shared read-only. */
#ifndef SEALMAIL_PTREE_H
#define SEALMAIL_PTREE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define PTREE_IDX_LEN 32
#define PTREE_HASH_LEN 32
#define PTREE_BITS 256
/* Most leaves (and so inner nodes) one tree may hold: references are 31-bit. */
#define PTREE_MAX_LEAVES (1u << 30)

struct ptree_leaf {
	uint8_t idx[PTREE_IDX_LEN];
	uint64_t counter; /* 1 for an entry's first version, +1 per change */
	uint64_t epoch;   /* the epoch of the last change */
	uint8_t commitment[PTREE_HASH_LEN];
};

/* A path from a leaf to the root: siblings bottom up, with the bit of the
 * inner node each one hangs from (strictly falling). */
struct ptree_path {
	size_t len;
	uint8_t bit[PTREE_BITS];
	uint8_t sibling[PTREE_BITS][PTREE_HASH_LEN];
};

/* Inclusion or absence of one index. For inclusion (found = 1), leaf is the
 * entry itself. For absence (found = 0), leaf is the entry the search for
 * idx ends at (has_leaf = 1), or there is none because the map is empty
 * (has_leaf = 0, path.len = 0). */
struct ptree_proof {
	int found;
	int has_leaf;
	struct ptree_leaf leaf;
	struct ptree_path path;
};

struct ptree;

/* The read-only form: the bytes of a snapshot, borrowed (they must outlive
 * the view and not change under it). */
struct ptree_view {
	const uint8_t *data;
	size_t len;
};

/* ---- hashing ---- */

void ptree_leaf_hash(const struct ptree_leaf *leaf, uint8_t ret[PTREE_HASH_LEN]);
void ptree_inner_hash(unsigned bit, const uint8_t left[PTREE_HASH_LEN],
		      const uint8_t right[PTREE_HASH_LEN], uint8_t ret[PTREE_HASH_LEN]);
void ptree_empty_hash(uint8_t ret[PTREE_HASH_LEN]);
/* Bit b of idx (0 = most significant of idx[0]). */
int ptree_bit(const uint8_t idx[PTREE_IDX_LEN], unsigned b);

/* ---- the mutable tree ---- */

int ptree_new(struct ptree **ret) SM_WUR;
/* Frees the tree. Accepts NULL. */
void ptree_free(struct ptree *t);
/* A tree holding the leaves of a snapshot (a deep copy; the view may go
 * away). SM_EPARSE if the snapshot is malformed or its stored hashes do not
 * match its leaves. */
int ptree_load(const struct ptree_view *v, struct ptree **ret) SM_WUR;

size_t ptree_count(const struct ptree *t);
/* Bytes of heap the tree holds (its arrays' capacity), for measurement. */
size_t ptree_memory(const struct ptree *t);

/* Inserts leaf, or replaces the leaf with the same idx. No rule about
 * counters is enforced here (kt_delta does that). SM_ETOOBIG past
 * PTREE_MAX_LEAVES; SM_ENOMEM. */
int ptree_set(struct ptree *t, const struct ptree_leaf *leaf) SM_WUR;
/* The leaf with this idx, or SM_ENOTFOUND. */
int ptree_get(const struct ptree *t, const uint8_t idx[PTREE_IDX_LEN], struct ptree_leaf *ret) SM_WUR;
/* Calls fn for every leaf in index order; a nonzero return stops the walk
 * and is returned. fn must not change the tree. */
int ptree_walk(const struct ptree *t, int (*fn)(void *arg, const struct ptree_leaf *leaf),
	       void *arg) SM_WUR;

/* The root hash, rehashing what ptree_set() marked since the last call. */
void ptree_root(struct ptree *t, uint8_t ret[PTREE_HASH_LEN]);
/* The proof for idx (present or absent) in the tree as it is now; rehashes
 * first, like ptree_root(). */
int ptree_prove(struct ptree *t, const uint8_t idx[PTREE_IDX_LEN], struct ptree_proof *ret) SM_WUR;

/* Appends the snapshot (rehashing first): a header ("sealmail-ptree/v1",
 * the counts, the root) and the two arrays. Integers are little-endian. */
int ptree_snapshot(struct ptree *t, struct buf *out) SM_WUR;

/* ---- the read-only view ---- */

/* Checks the header and that the arrays fit in len; O(1). SM_EPARSE if not. */
int ptree_view_check(const struct ptree_view *v) SM_WUR;
/* The root recorded in the snapshot. */
int ptree_view_root(const struct ptree_view *v, uint8_t ret[PTREE_HASH_LEN]) SM_WUR;
size_t ptree_view_count(const struct ptree_view *v);
/* As ptree_prove, from a snapshot. SM_EPARSE if the walk meets a reference
 * out of bounds or bits that do not rise (a corrupt snapshot). */
int ptree_view_prove(const struct ptree_view *v, const uint8_t idx[PTREE_IDX_LEN],
		     struct ptree_proof *ret) SM_WUR;

/* ---- verification (pure, allocates nothing, inputs may be hostile) ---- */

/* 0 if proof shows, for the map with this root, that idx is present
 * (proof->found, with proof->leaf) or absent. Absence is shown by the leaf
 * the search for idx ends at: its path must not branch at the first bit
 * where its idx differs from idx (else idx would lie in the sibling). An
 * empty map is shown by has_leaf = 0, len = 0 and the empty root.
 * SM_EPARSE for a proof that cannot be right whatever the root (bits not
 * strictly falling, found with a different idx, absence with the same idx
 * or with a branch at the differing bit); SM_ECRYPTO when the hashes do not
 * lead to root. */
int ptree_verify(const uint8_t root[PTREE_HASH_LEN], const uint8_t idx[PTREE_IDX_LEN],
		 const struct ptree_proof *proof) SM_WUR;

#endif
