/* fuzz_tlog: tlog_verify_inclusion() and tlog_verify_consistency() on an
 * untrusted proof, as a client gets it from a log.
 *
 * Input layout (integers little-endian):
 *   byte 0        bit 0 clear: inclusion, set: consistency
 *   bytes 1-8     a: the leaf index, or the old tree size
 *   bytes 9-16    b: the tree size, or the new tree size
 *   bytes 17-48   A: the leaf hash, or the old root
 *   bytes 49-80   B: the root, or the new root
 *   the rest      the proof, as whole 32-byte hashes (a trailing partial
 *                 hash is ignored), any number of them, also over 64
 * Shorter inputs are ignored.
 *
 * Checked besides memory safety, against a fixed tree of FUZZ_TREE leaves
 * (leaf i is the two bytes i, i >> 8, as in test_tlog.c):
 *   - the verifiers return only 0, SM_EINVAL or SM_ECRYPTO;
 *   - soundness: if a proof is accepted for the fixed tree's real root of
 *     size b, then A is the real leaf a (or the real root of size a);
 *   - completeness: for sizes inside the fixed tree, the proof tlog makes
 *     for (a, b) verifies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "tlog.h"

#define FUZZ_TREE 300
#define FUZZ_LEVELS 9 /* 2^9 > FUZZ_TREE */
#define FUZZ_HEAD 81

/* Fixed for the whole process once LLVMFuzzerInitialize has run. */
static uint8_t fuzz_hashes[FUZZ_LEVELS][FUZZ_TREE][TLOG_HASH_LEN];
static uint64_t fuzz_count[FUZZ_LEVELS];
static uint8_t fuzz_roots[FUZZ_TREE + 1][TLOG_HASH_LEN];

static int fuzz_read(void *ctx, unsigned level, uint64_t index, uint8_t ret[TLOG_HASH_LEN])
{
	(void)ctx;
	if (level >= FUZZ_LEVELS || index >= fuzz_count[level])
		return SM_ENOTFOUND;
	memcpy(ret, fuzz_hashes[level][index], TLOG_HASH_LEN);
	return 0;
}

static int fuzz_write(void *ctx, unsigned level, uint64_t index, const uint8_t h[TLOG_HASH_LEN])
{
	(void)ctx;
	if (level >= FUZZ_LEVELS || index != fuzz_count[level])
		return SM_EINVAL;
	memcpy(fuzz_hashes[level][index], h, TLOG_HASH_LEN);
	fuzz_count[level]++;
	return 0;
}

static const struct tlog_store fuzz_store = {fuzz_read, fuzz_write, NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t h[TLOG_HASH_LEN];
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	for (unsigned i = 0; i < FUZZ_TREE; i++) {
		uint8_t d[2] = {(uint8_t)i, (uint8_t)(i >> 8)};
		tlog_leaf_hash(d, sizeof(d), h);
		fuzz_check(tlog_append(&fuzz_store, i, h) == 0, "building the fixed tree");
	}
	for (unsigned n = 0; n <= FUZZ_TREE; n++)
		fuzz_check(tlog_root(&fuzz_store, n, fuzz_roots[n]) == 0, "a root of the fixed tree");
	return 0;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void fuzz_inclusion(uint64_t a, uint64_t b, const uint8_t *ha, const uint8_t *hb,
			   const uint8_t (*proof)[TLOG_HASH_LEN], size_t len)
{
	uint8_t p[TLOG_PROOF_MAX][TLOG_HASH_LEN];
	size_t plen;
	int r = tlog_verify_inclusion(a, b, ha, proof, len, hb);
	fuzz_check(r == 0 || r == SM_EINVAL || r == SM_ECRYPTO, "inclusion: unexpected error code");
	if (b > FUZZ_TREE || a >= b)
		return;
	if (r == 0 && memcmp(hb, fuzz_roots[b], TLOG_HASH_LEN) == 0)
		fuzz_check(memcmp(ha, fuzz_hashes[0][a], TLOG_HASH_LEN) == 0,
			   "inclusion: a wrong leaf accepted under a real root");
	fuzz_check(tlog_prove_inclusion(&fuzz_store, a, b, p, &plen) == 0, "inclusion: cannot prove");
	fuzz_check(tlog_verify_inclusion(a, b, fuzz_hashes[0][a], (const uint8_t (*)[TLOG_HASH_LEN])p, plen,
					 fuzz_roots[b]) == 0, "inclusion: a real proof rejected");
}

static void fuzz_consistency(uint64_t a, uint64_t b, const uint8_t *ha, const uint8_t *hb,
			     const uint8_t (*proof)[TLOG_HASH_LEN], size_t len)
{
	uint8_t p[TLOG_PROOF_MAX][TLOG_HASH_LEN];
	size_t plen;
	int r = tlog_verify_consistency(a, b, proof, len, ha, hb);
	fuzz_check(r == 0 || r == SM_EINVAL || r == SM_ECRYPTO, "consistency: unexpected error code");
	fuzz_check(r != 0 || (a > 0 && a <= b), "consistency: accepted impossible sizes");
	if (b > FUZZ_TREE || a == 0 || a > b)
		return;
	if (r == 0 && memcmp(hb, fuzz_roots[b], TLOG_HASH_LEN) == 0)
		fuzz_check(memcmp(ha, fuzz_roots[a], TLOG_HASH_LEN) == 0,
			   "consistency: a forged old root accepted under a real new root");
	fuzz_check(tlog_prove_consistency(&fuzz_store, a, b, p, &plen) == 0, "consistency: cannot prove");
	fuzz_check(tlog_verify_consistency(a, b, (const uint8_t (*)[TLOG_HASH_LEN])p, plen, fuzz_roots[a],
					   fuzz_roots[b]) == 0, "consistency: a real proof rejected");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < FUZZ_HEAD)
		return 0;
	uint64_t a = get_u64(data + 1), b = get_u64(data + 9);
	const uint8_t (*proof)[TLOG_HASH_LEN] = (const uint8_t (*)[TLOG_HASH_LEN])(data + FUZZ_HEAD);
	size_t len = (size - FUZZ_HEAD) / TLOG_HASH_LEN;
	if (data[0] & 1)
		fuzz_consistency(a, b, data + 17, data + 49, proof, len);
	else
		fuzz_inclusion(a, b, data + 17, data + 49, proof, len);
	return 0;
}
