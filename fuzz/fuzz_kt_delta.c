/* fuzz_kt_delta: kt_delta_apply() on a delta from a hostile log, against
 * a small fixed map (8 leaves: leaf i has idx[0] = 32 * i, idx[31] = i,
 * counter 1, epoch 0, commitment the byte i repeated), at epoch 5.
 * Checked besides memory safety:
 *   - the result is 0, SM_EPARSE or SM_ECRYPTO, with a reason whenever
 *     it is not 0, and kt_delta_count agrees on the framing;
 *   - on failure the map is unchanged (root and size);
 *   - on success every record's leaf is in the map as (idx, old counter
 *     + 1, 5, new commitment), and nothing else was added. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "kt_delta.h"

#define EPOCH 5
#define NLEAF 8

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static struct ptree *map_new(void)
{
	struct ptree *t = NULL;
	fuzz_check(ptree_new(&t) == 0, "ptree_new");
	for (unsigned i = 0; i < NLEAF; i++) {
		struct ptree_leaf l;
		memset(&l, 0, sizeof(l));
		l.idx[0] = (uint8_t)(32 * i);
		l.idx[31] = (uint8_t)i;
		l.counter = 1;
		memset(l.commitment, (int)i, sizeof(l.commitment));
		fuzz_check(ptree_set(t, &l) == 0, "ptree_set");
	}
	return t;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void check_applied(struct ptree *t, const uint8_t *data, size_t n)
{
	size_t nnew = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *rec = data + KT_DELTA_HEADER_LEN + i * KT_DELTA_RECORD_LEN;
		struct ptree_leaf l;
		fuzz_check(ptree_get(t, rec, &l) == 0, "record's leaf present");
		fuzz_check(l.counter == be64(rec + 32) + 1, "counter + 1");
		fuzz_check(l.epoch == EPOCH, "epoch of the change");
		fuzz_check(memcmp(l.commitment, rec + 80, PTREE_HASH_LEN) == 0, "new commitment");
		nnew += be64(rec + 32) == 0;
	}
	fuzz_check(ptree_count(t) == NLEAF + nnew, "only new entries added");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ptree *t = map_new();
	uint8_t before[PTREE_HASH_LEN], after[PTREE_HASH_LEN];
	size_t n = 0;
	int why = -1;
	ptree_root(t, before);
	int framed = kt_delta_count(data, size, EPOCH, &n);
	int r = kt_delta_apply(t, data, size, EPOCH, &why);
	fuzz_check(r == 0 || r == SM_EPARSE || r == SM_ECRYPTO, "result code");
	fuzz_check(framed == 0 || r == SM_EPARSE, "count and apply agree on framing");
	if (r != 0) {
		fuzz_check(why > 0 && kt_delta_why(why) != NULL, "a reason");
		ptree_root(t, after);
		fuzz_check(memcmp(before, after, sizeof(before)) == 0, "map changed on failure");
		fuzz_check(ptree_count(t) == NLEAF, "map grew on failure");
	} else {
		fuzz_check(why == 0 && framed == 0, "success");
		check_applied(t, data, n);
	}
	ptree_free(t);
	return 0;
}
