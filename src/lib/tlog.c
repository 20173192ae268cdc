/* tlog.c: RFC 9162 Merkle log hashing, proofs and c2sp.org/tlog-tiles names.
 *
 * Proof generation follows the recursive definitions of RFC 9162, section
 * 2.1.3 (PATH, SUBPROOF), unrolled into a walk down the tree that records the
 * [lo, hi) leaf range of each proof node; every range is then hashed from at
 * most 64 stored full-subtree hashes. Verification follows the iterative form
 * of RFC 9162, section 2.1.3.2 and 2.1.4.2 (as in transparency-dev/merkle),
 * which needs no tree at all. */
#include "tlog.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

/* A node of an RFC 9162 tree: the leaves [lo, hi). */
struct span {
	uint64_t lo, hi;
};

/* A stored full-subtree hash. */
struct subtree {
	unsigned level;
	uint64_t index;
};

/* Splitting an arbitrary range can yield up to two pieces per level. */
#define SPLIT_MAX 128

static unsigned bit_len(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
}

static unsigned ones(uint64_t x)
{
	return (unsigned)__builtin_popcountll(x);
}

/* The largest power of two strictly below n; n >= 2. */
static uint64_t split_point(uint64_t n)
{
	return (uint64_t)1 << (bit_len(n - 1) - 1);
}

void tlog_leaf_hash(const uint8_t *data, size_t len, uint8_t ret[TLOG_HASH_LEN])
{
	static const uint8_t prefix = 0x00;
	crypto_hash_sha256_state s;
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, &prefix, 1);
	crypto_hash_sha256_update(&s, data, len);
	crypto_hash_sha256_final(&s, ret);
}

/* ret may alias left or right: both are read before ret is written. */
void tlog_node_hash(const uint8_t left[TLOG_HASH_LEN], const uint8_t right[TLOG_HASH_LEN],
		    uint8_t ret[TLOG_HASH_LEN])
{
	static const uint8_t prefix = 0x01;
	crypto_hash_sha256_state s;
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, &prefix, 1);
	crypto_hash_sha256_update(&s, left, TLOG_HASH_LEN);
	crypto_hash_sha256_update(&s, right, TLOG_HASH_LEN);
	crypto_hash_sha256_final(&s, ret);
}

int tlog_append(const struct tlog_store *st, uint64_t size, const uint8_t leaf_hash[TLOG_HASH_LEN])
{
	uint8_t h[TLOG_HASH_LEN], left[TLOG_HASH_LEN];
	uint64_t idx = size;
	unsigned level = 0;
	int r;

	if (size == UINT64_MAX)
		return SM_ETOOBIG;
	memcpy(h, leaf_hash, TLOG_HASH_LEN);
	if ((r = st->write_hash(st->ctx, 0, idx, h)) < 0)
		return r;
	/* Each trailing 1 bit of the index is a left sibling the new leaf completes. */
	for (; idx & 1; idx >>= 1, level++) {
		if ((r = st->read_hash(st->ctx, level, idx - 1, left)) < 0)
			return r;
		tlog_node_hash(left, h, h);
		if ((r = st->write_hash(st->ctx, level + 1, idx >> 1, h)) < 0)
			return r;
	}
	return 0;
}

/* Cuts [lo, hi) into the full subtrees, left to right, whose RFC 9162
 * combination is its hash: each piece as large as lo's alignment allows. */
static size_t split_span(uint64_t lo, uint64_t hi, struct subtree out[SPLIT_MAX])
{
	size_t n = 0;
	while (lo < hi && n < SPLIT_MAX) {
		unsigned l = bit_len(hi - lo) - 1;
		if (lo != 0 && (unsigned)__builtin_ctzll(lo) < l)
			l = (unsigned)__builtin_ctzll(lo);
		out[n].level = l;
		out[n].index = lo >> l;
		n++;
		lo += (uint64_t)1 << l;
	}
	return n;
}

/* The Merkle Tree Hash of leaves [lo, hi), lo < hi, folded right to left
 * because RFC 9162 hangs the smaller right part under the larger left one. */
static int span_hash(const struct tlog_store *st, struct span sp, uint8_t ret[TLOG_HASH_LEN])
{
	struct subtree parts[SPLIT_MAX];
	uint8_t h[TLOG_HASH_LEN], left[TLOG_HASH_LEN];
	size_t n = split_span(sp.lo, sp.hi, parts);
	int r;

	if (n == 0)
		return SM_EINVAL;
	if ((r = st->read_hash(st->ctx, parts[n - 1].level, parts[n - 1].index, h)) < 0)
		return r;
	for (size_t i = n - 1; i-- > 0;) {
		if ((r = st->read_hash(st->ctx, parts[i].level, parts[i].index, left)) < 0)
			return r;
		tlog_node_hash(left, h, h);
	}
	memcpy(ret, h, TLOG_HASH_LEN);
	return 0;
}

int tlog_root(const struct tlog_store *st, uint64_t size, uint8_t ret[TLOG_HASH_LEN])
{
	if (size == 0) {
		crypto_hash_sha256(ret, (const uint8_t *)"", 0);
		return 0;
	}
	return span_hash(st, (struct span){0, size}, ret);
}

/* Hashes the proof nodes, recorded top down, into a bottom-up proof. */
static int spans_to_proof(const struct tlog_store *st, const struct span *spans, size_t n,
			  uint8_t ret_proof[TLOG_PROOF_MAX][TLOG_HASH_LEN], size_t *ret_len)
{
	uint8_t proof[TLOG_PROOF_MAX][TLOG_HASH_LEN];
	int r;

	if (n > TLOG_PROOF_MAX)
		return SM_ETOOBIG;
	for (size_t i = 0; i < n; i++)
		if ((r = span_hash(st, spans[n - 1 - i], proof[i])) < 0)
			return r;
	memcpy(ret_proof, proof, n * TLOG_HASH_LEN);
	*ret_len = n;
	return 0;
}

int tlog_prove_inclusion(const struct tlog_store *st, uint64_t index, uint64_t size,
			 uint8_t ret_proof[TLOG_PROOF_MAX][TLOG_HASH_LEN], size_t *ret_len)
{
	struct span spans[TLOG_PROOF_MAX];
	uint64_t lo = 0, hi = size;
	size_t n = 0;

	if (index >= size)
		return SM_EINVAL;
	/* PATH(m, D[lo:hi]): the sibling of the half holding the leaf, then recurse. */
	while (hi - lo > 1 && n < TLOG_PROOF_MAX) {
		uint64_t k = split_point(hi - lo);
		if (index - lo < k) {
			spans[n++] = (struct span){lo + k, hi};
			hi = lo + k;
		} else {
			spans[n++] = (struct span){lo, lo + k};
			lo += k;
		}
	}
	if (hi - lo > 1)
		return SM_ETOOBIG;
	return spans_to_proof(st, spans, n, ret_proof, ret_len);
}

int tlog_prove_consistency(const struct tlog_store *st, uint64_t old_size, uint64_t new_size,
			   uint8_t ret_proof[TLOG_PROOF_MAX][TLOG_HASH_LEN], size_t *ret_len)
{
	struct span spans[TLOG_PROOF_MAX + 1];
	uint64_t lo = 0, hi = new_size;
	int whole = 1; /* SUBPROOF's b: still on the old tree's own root path */
	size_t n = 0;

	if (old_size == 0 || old_size > new_size)
		return SM_EINVAL;
	/* SUBPROOF(m, D[lo:hi], b) until the old tree's edge is a node's edge. */
	while (old_size != hi && n < TLOG_PROOF_MAX) {
		uint64_t k = split_point(hi - lo);
		if (old_size - lo <= k) {
			spans[n++] = (struct span){lo + k, hi};
			hi = lo + k;
		} else {
			spans[n++] = (struct span){lo, lo + k};
			lo += k;
			whole = 0;
		}
	}
	if (old_size != hi)
		return SM_ETOOBIG;
	/* A node the verifier cannot take from the old root comes first. */
	if (!whole && lo < hi)
		spans[n++] = (struct span){lo, hi};
	return spans_to_proof(st, spans, n, ret_proof, ret_len);
}

/* Folds proof hashes into seed along the path of the node at index on the
 * proof's lowest level, the sibling's side given by each bit of index. */
static void chain_inner(uint8_t seed[TLOG_HASH_LEN], const uint8_t proof[][TLOG_HASH_LEN], size_t n,
			uint64_t index)
{
	for (size_t i = 0; i < n; i++) {
		if ((index >> i) & 1)
			tlog_node_hash(proof[i], seed, seed);
		else
			tlog_node_hash(seed, proof[i], seed);
	}
}

/* Like chain_inner, but only left siblings: the hash of the same node in the
 * older, smaller tree, where nothing to the right existed yet. */
static void chain_inner_right(uint8_t seed[TLOG_HASH_LEN], const uint8_t proof[][TLOG_HASH_LEN],
			      size_t n, uint64_t index)
{
	for (size_t i = 0; i < n; i++)
		if ((index >> i) & 1)
			tlog_node_hash(proof[i], seed, seed);
}

/* Above the point where a path meets the right border, siblings are all on the left. */
static void chain_border(uint8_t seed[TLOG_HASH_LEN], const uint8_t proof[][TLOG_HASH_LEN], size_t n)
{
	for (size_t i = 0; i < n; i++)
		tlog_node_hash(proof[i], seed, seed);
}

/* Splits the inclusion proof of index in a tree of size leaves: inner hashes
 * below where the paths to index and size-1 meet, border hashes above. */
static void decompose(uint64_t index, uint64_t size, unsigned *inner, unsigned *border)
{
	*inner = bit_len(index ^ (size - 1));
	*border = *inner < 64 ? ones(index >> *inner) : 0;
}

int tlog_verify_inclusion(uint64_t index, uint64_t size, const uint8_t leaf_hash[TLOG_HASH_LEN],
			  const uint8_t proof[][TLOG_HASH_LEN], size_t len,
			  const uint8_t root[TLOG_HASH_LEN])
{
	uint8_t h[TLOG_HASH_LEN];
	unsigned inner, border;

	if (index >= size || len > TLOG_PROOF_MAX)
		return SM_EINVAL;
	decompose(index, size, &inner, &border);
	if (len != (size_t)inner + border)
		return SM_EINVAL;
	memcpy(h, leaf_hash, TLOG_HASH_LEN);
	chain_inner(h, proof, inner, index);
	chain_border(h, proof + inner, border);
	return sodium_memcmp(h, root, TLOG_HASH_LEN) == 0 ? 0 : SM_ECRYPTO;
}

/* The general case of tlog_verify_consistency: 0 < old_size < new_size. */
static int verify_consistency_proper(uint64_t old_size, uint64_t new_size,
				     const uint8_t proof[][TLOG_HASH_LEN], size_t len,
				     const uint8_t old_root[TLOG_HASH_LEN],
				     const uint8_t new_root[TLOG_HASH_LEN])
{
	uint8_t h1[TLOG_HASH_LEN], h2[TLOG_HASH_LEN];
	unsigned inner, border, shift = (unsigned)__builtin_ctzll(old_size);
	size_t start = 1;

	decompose(old_size - 1, new_size, &inner, &border);
	inner -= shift; /* the levels below shift are inside the old tree's last full subtree */
	/* That subtree's hash is the proof's first element, unless it is the whole old tree. */
	if (old_size == (uint64_t)1 << shift)
		start = 0;
	if (len == 0 || len != start + inner + border)
		return SM_EINVAL;
	memcpy(h1, start ? proof[0] : old_root, TLOG_HASH_LEN);
	memcpy(h2, h1, TLOG_HASH_LEN);
	proof += start;
	chain_inner_right(h1, proof, inner, (old_size - 1) >> shift);
	chain_border(h1, proof + inner, border);
	if (sodium_memcmp(h1, old_root, TLOG_HASH_LEN) != 0)
		return SM_ECRYPTO;
	chain_inner(h2, proof, inner, (old_size - 1) >> shift);
	chain_border(h2, proof + inner, border);
	return sodium_memcmp(h2, new_root, TLOG_HASH_LEN) == 0 ? 0 : SM_ECRYPTO;
}

int tlog_verify_consistency(uint64_t old_size, uint64_t new_size, const uint8_t proof[][TLOG_HASH_LEN],
			    size_t len, const uint8_t old_root[TLOG_HASH_LEN],
			    const uint8_t new_root[TLOG_HASH_LEN])
{
	/* A proof from the empty tree proves nothing; a client with no
	 * checkpoint yet has nothing to be consistent with. */
	if (old_size == 0 || old_size > new_size || len > TLOG_PROOF_MAX)
		return SM_EINVAL;
	if (old_size == new_size) {
		if (len != 0)
			return SM_EINVAL;
		return sodium_memcmp(old_root, new_root, TLOG_HASH_LEN) == 0 ? 0 : SM_ECRYPTO;
	}
	return verify_consistency_proper(old_size, new_size, proof, len, old_root, new_root);
}

int tlog_tile_for_hash(unsigned level, uint64_t index, struct tlog_tile *ret_tile,
		       unsigned *ret_offset, unsigned *ret_count)
{
	unsigned r = level % TLOG_TILE_HEIGHT;
	uint64_t first;

	if (level > 63 || (level > 0 && index >> (64 - level) != 0))
		return SM_EINVAL;
	/* The hash covers 2^r consecutive hashes of the tile level below it. */
	first = index << r;
	*ret_offset = (unsigned)(first % TLOG_TILE_WIDTH);
	*ret_count = 1u << r;
	ret_tile->level = level / TLOG_TILE_HEIGHT;
	ret_tile->n = first / TLOG_TILE_WIDTH;
	ret_tile->width = *ret_offset + *ret_count;
	return 0;
}

int tlog_tile_width(unsigned level, uint64_t n, uint64_t size, unsigned *ret_width)
{
	uint64_t hashes;

	if (level > TLOG_LEVEL_MAX)
		return SM_EINVAL;
	/* Number of stored hashes at tree level 8 * level. */
	hashes = (uint64_t)level * TLOG_TILE_HEIGHT < 64 ? size >> (level * TLOG_TILE_HEIGHT) : 0;
	if (n < hashes / TLOG_TILE_WIDTH) {
		*ret_width = TLOG_TILE_WIDTH;
		return 0;
	}
	if (n > hashes / TLOG_TILE_WIDTH || hashes % TLOG_TILE_WIDTH == 0)
		return SM_ENOTFOUND;
	*ret_width = (unsigned)(hashes % TLOG_TILE_WIDTH);
	return 0;
}

/* Appends to the path being built in p; SM_ETOOBIG rather than truncate. */
__attribute__((format(printf, 3, 4)))
static int path_add(char p[TLOG_PATH_MAX], size_t *off, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(p + *off, TLOG_PATH_MAX - *off, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= TLOG_PATH_MAX - *off)
		return SM_ETOOBIG;
	*off += (size_t)k;
	return 0;
}

/* "<N>[.p/<W>]": N in groups of three digits, most significant first, every
 * group but the last a directory named x<ddd>, so that no file is also a
 * directory name. */
static int path_add_n(char p[TLOG_PATH_MAX], size_t *off, uint64_t n, unsigned width)
{
	unsigned groups[7];
	size_t g = 0;
	int r = 0;

	do {
		groups[g++] = (unsigned)(n % 1000);
		n /= 1000;
	} while (n != 0);
	while (g > 1 && r == 0)
		r = path_add(p, off, "x%03u/", groups[--g]);
	if (r == 0)
		r = path_add(p, off, "%03u", groups[0]);
	if (r == 0 && width < TLOG_TILE_WIDTH)
		r = path_add(p, off, ".p/%u", width);
	return r;
}

static int make_path(const char *level, uint64_t n, unsigned width, char ret[TLOG_PATH_MAX])
{
	char p[TLOG_PATH_MAX];
	size_t off = 0;
	int r;

	if (width == 0 || width > TLOG_TILE_WIDTH)
		return SM_EINVAL;
	if ((r = path_add(p, &off, "tile/%s/", level)) < 0 || (r = path_add_n(p, &off, n, width)) < 0)
		return r;
	memcpy(ret, p, off + 1);
	return 0;
}

int tlog_tile_path(const struct tlog_tile *t, char ret[TLOG_PATH_MAX])
{
	char level[4];

	if (t->level > TLOG_LEVEL_MAX)
		return SM_EINVAL;
	snprintf(level, sizeof(level), "%u", t->level);
	return make_path(level, t->n, t->width, ret);
}

int tlog_entries_path(uint64_t n, unsigned width, char ret[TLOG_PATH_MAX])
{
	return make_path("entries", n, width, ret);
}
