/* tlog.h: the epoch log, an RFC 9162 Merkle tree (SHA-256, leaf hash
 * H(0x00 || d), node hash H(0x01 || left || right)), and its c2sp.org/tlog-tiles
 * names.
 *
 * Storage-agnostic: the tree is kept as its full-subtree hashes, the hash at
 * (level L, index i) being the Merkle Tree Hash of leaves [i * 2^L, (i+1) * 2^L).
 * A log of n leaves has stored exactly the hashes whose subtree ends at or
 * before n; they never change once written, which is what lets them be served
 * as immutable tiles. Hashes are read and written through callbacks, so the
 * daemon can keep them in files or a database and tests in memory.
 *
 * Verification is pure computation on caller memory: it allocates nothing and
 * needs no stored hashes. Nothing here keeps a pointer past the call. */
#ifndef SEALMAIL_TLOG_H
#define SEALMAIL_TLOG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TLOG_HASH_LEN 32
/* Longest proof accepted or produced; enough for any tree below 2^63 leaves. */
#define TLOG_PROOF_MAX 64
#define TLOG_TILE_HEIGHT 8
#define TLOG_TILE_WIDTH 256 /* hashes in a full tile */
#define TLOG_LEVEL_MAX 63   /* highest tile level c2sp.org/tlog-tiles allows */
/* Longest tile or entries path, NUL included: "tile/entries/" + 7 groups of
 * "x123/" + ".p/255". */
#define TLOG_PATH_MAX 64

/* Storage callbacks. read_hash fills ret with the stored hash at (level,
 * index) and returns 0, or a negative SM_ code (SM_ENOTFOUND if it was never
 * stored), which the caller passes on. write_hash stores one hash. ctx is the
 * caller's and is passed through untouched. */
struct tlog_store {
	int (*read_hash)(void *ctx, unsigned level, uint64_t index, uint8_t ret[TLOG_HASH_LEN]);
	int (*write_hash)(void *ctx, unsigned level, uint64_t index, const uint8_t h[TLOG_HASH_LEN]);
	void *ctx;
};

/* A tile: the stored hashes (8 * level, n * 256 + i) for i < width,
 * concatenated, are its contents. width is 1..255 for a partial tile, 256
 * for a full one. */
struct tlog_tile {
	unsigned level;
	uint64_t n;
	unsigned width;
};

/* H(0x00 || data). */
void tlog_leaf_hash(const uint8_t *data, size_t len, uint8_t ret[TLOG_HASH_LEN]);
/* H(0x01 || left || right). */
void tlog_node_hash(const uint8_t left[TLOG_HASH_LEN], const uint8_t right[TLOG_HASH_LEN],
		    uint8_t ret[TLOG_HASH_LEN]);

/* Appends the leaf with hash leaf_hash at index size (the log's current
 * size): writes the stored hash (0, size) and every full-subtree hash the new
 * leaf completes, reading their left halves back. Not atomic: if it fails the
 * caller must not count the leaf, and a retry rewrites the same values. */
int tlog_append(const struct tlog_store *st, uint64_t size, const uint8_t leaf_hash[TLOG_HASH_LEN]) SM_WUR;

/* The root of the tree of the first size leaves (H("") for size 0), from at
 * most 64 stored hashes. */
int tlog_root(const struct tlog_store *st, uint64_t size, uint8_t ret[TLOG_HASH_LEN]) SM_WUR;

/* The RFC 9162 inclusion proof of leaf index in the tree of size leaves, bottom
 * up, into ret_proof; *ret_len is its number of hashes. SM_EINVAL unless index
 * < size. Both outputs are untouched on failure. */
int tlog_prove_inclusion(const struct tlog_store *st, uint64_t index, uint64_t size,
			 uint8_t ret_proof[TLOG_PROOF_MAX][TLOG_HASH_LEN], size_t *ret_len) SM_WUR;

/* The RFC 9162 consistency proof from the tree of old_size leaves to that of
 * new_size; empty when old_size == new_size. SM_EINVAL unless 0 < old_size <=
 * new_size (a proof from the empty tree means nothing). */
int tlog_prove_consistency(const struct tlog_store *st, uint64_t old_size, uint64_t new_size,
			   uint8_t ret_proof[TLOG_PROOF_MAX][TLOG_HASH_LEN], size_t *ret_len) SM_WUR;

/* 0 if proof (len hashes) shows that leaf_hash is leaf index of the tree of
 * size leaves with the given root. SM_EINVAL for an index out of range or a
 * proof of the wrong length, SM_ECRYPTO if the hashes do not lead to root. */
int tlog_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[TLOG_HASH_LEN],
			  const uint8_t proof[][TLOG_HASH_LEN], size_t len,
			  const uint8_t root[TLOG_HASH_LEN]) SM_WUR;

/* 0 if proof shows the tree of old_size leaves with old_root is a prefix of
 * the tree of new_size leaves with new_root. Requires 0 < old_size <=
 * new_size (SM_EINVAL otherwise, as for a proof of the wrong length); equal
 * sizes need an empty proof and equal roots. SM_ECRYPTO on a mismatch. */
int tlog_verify_consistency(uint64_t old_size, uint64_t new_size, const uint8_t proof[][TLOG_HASH_LEN],
			    size_t len, const uint8_t old_root[TLOG_HASH_LEN],
			    const uint8_t new_root[TLOG_HASH_LEN]) SM_WUR;

/* The tile holding the stored hash (level, index), or, for a level that is not
 * a multiple of 8, the hashes it is computed from: they are tile hashes
 * *ret_offset to *ret_offset + *ret_count - 1. ret_tile->width is the least
 * width that holds them (offset + count). SM_EINVAL if the hash cannot exist
 * in a tree below 2^64 leaves. Outputs untouched on failure. */
int tlog_tile_for_hash(unsigned level, uint64_t index, struct tlog_tile *ret_tile,
		       unsigned *ret_offset, unsigned *ret_count) SM_WUR;

/* The width of tile (level, n) in the tree of size leaves: 256 if full, else
 * floor(size / 256^level) mod 256. SM_ENOTFOUND if that tile is empty (it must
 * not be served) or beyond the tree. */
int tlog_tile_width(unsigned level, uint64_t n, uint64_t size, unsigned *ret_width) SM_WUR;

/* "tile/<L>/<N>[.p/<W>]", N in 3-digit groups all but the last prefixed by
 * 'x' (1234067 -> "x001/x234/067"). SM_EINVAL for a level over 63 or a width
 * outside 1..256. ret is untouched on failure. */
int tlog_tile_path(const struct tlog_tile *t, char ret[TLOG_PATH_MAX]) SM_WUR;
/* "tile/entries/<N>[.p/<W>]": the entry bundle of level-0 tile n. */
int tlog_entries_path(uint64_t n, unsigned width, char ret[TLOG_PATH_MAX]) SM_WUR;

#endif
