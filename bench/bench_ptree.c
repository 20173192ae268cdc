/* bench_ptree: the transparency map at 10^4, 10^5 and 10^6 entries.
 *
 * For each n: build a map of n random leaves (ptree_set each, then one
 * ptree_root), its heap per entry (ptree_memory / n), one epoch of 100,000
 * updates (half replacements of present leaves, half inserts) followed by
 * ptree_root, the proof of 1,000 present indices (path length, and bytes
 * as leaf (80) + len x (bit + sibling) (33)), ptree_verify averaged over
 * 10,000 calls, then the snapshot: its size, ptree_load time and
 * ptree_view_prove time. Every proof must verify and the loaded root must
 * match, or the program exits non-zero. It prints figures and checks no
 * timing threshold.
 *
 * usage: bench_ptree [N...]   (default 10000 100000 1000000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define BENCH_NAME "bench_ptree"
#include "bench_util.h"
#include "ptree.h"

#define UPDATES 100000
#define LOOKUPS 1000
#define VERIFIES 10000
#define LEAF_BYTES (PTREE_IDX_LEN + 8 + 8 + PTREE_HASH_LEN)

struct row {
	unsigned long n;
	double build_s, mem_per_entry, update_s, update_root_s;
	double path_len, proof_bytes, verify_us;
	size_t snap_bytes;
	double load_s, view_prove_us;
};

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static void random_leaf(struct ptree_leaf *l)
{
	rnd_bytes(l->idx, sizeof(l->idx));
	rnd_bytes(l->commitment, sizeof(l->commitment));
	l->counter = 1;
	l->epoch = 1;
}

/* Builds the map of n random leaves; keeps their indices in idx. */
static int build(struct ptree *t, unsigned long n, uint8_t (*idx)[PTREE_IDX_LEN])
{
	struct ptree_leaf l;
	for (unsigned long i = 0; i < n; i++) {
		random_leaf(&l);
		memcpy(idx[i], l.idx, PTREE_IDX_LEN);
		int r = ptree_set(t, &l);
		if (r < 0)
			return fail("ptree_set", r);
	}
	return 0;
}

/* One epoch: half the updates replace a present leaf, half insert. */
static int update(struct ptree *t, uint8_t (*idx)[PTREE_IDX_LEN], unsigned long *n)
{
	struct ptree_leaf l;
	for (unsigned long i = 0; i < UPDATES; i++) {
		random_leaf(&l);
		if (i % 2 == 0) {
			memcpy(l.idx, idx[rnd_below((uint32_t)*n)], PTREE_IDX_LEN);
			l.counter = 2;
			l.epoch = 2;
		} else {
			memcpy(idx[(*n)++], l.idx, PTREE_IDX_LEN);
		}
		int r = ptree_set(t, &l);
		if (r < 0)
			return fail("ptree_set", r);
	}
	return 0;
}

static int proofs(struct ptree *t, uint8_t (*idx)[PTREE_IDX_LEN], unsigned long n, struct row *row)
{
	static struct ptree_proof p[LOOKUPS];
	static uint8_t which[LOOKUPS][PTREE_IDX_LEN];
	uint8_t root[PTREE_HASH_LEN];
	size_t steps = 0;
	int bad = 0;

	ptree_root(t, root);
	for (size_t i = 0; i < LOOKUPS; i++) {
		memcpy(which[i], idx[rnd_below((uint32_t)n)], PTREE_IDX_LEN);
		if (ptree_prove(t, which[i], &p[i]) < 0 || !p[i].found)
			return fail("ptree_prove", 0);
		steps += p[i].path.len;
	}
	row->path_len = (double)steps / LOOKUPS;
	row->proof_bytes = LEAF_BYTES + row->path_len * (1 + PTREE_HASH_LEN);
	double t0 = now();
	for (size_t i = 0; i < VERIFIES; i++)
		bad |= ptree_verify(root, which[i % LOOKUPS], &p[i % LOOKUPS]);
	row->verify_us = (now() - t0) * 1e6 / VERIFIES;
	return bad ? fail("a proof did not verify", 0) : 0;
}

static int snapshot(struct ptree *t, uint8_t (*idx)[PTREE_IDX_LEN], unsigned long n, struct row *row)
{
	static struct ptree_proof p;
	uint8_t root[PTREE_HASH_LEN], root2[PTREE_HASH_LEN];
	struct ptree *t2 = NULL;
	struct buf b;
	int r = -1, bad = 0;

	buf_init(&b, (size_t)1 << 40);
	if ((r = ptree_snapshot(t, &b)) < 0) {
		fail("ptree_snapshot", r);
		goto done;
	}
	row->snap_bytes = b.len;
	struct ptree_view v = {b.data, b.len};
	double t0 = now();
	if ((r = ptree_load(&v, &t2)) < 0) {
		fail("ptree_load", r);
		goto done;
	}
	row->load_s = now() - t0;
	ptree_root(t, root);
	ptree_root(t2, root2);
	t0 = now();
	for (size_t i = 0; i < VERIFIES; i++)
		bad |= ptree_view_prove(&v, idx[rnd_below((uint32_t)n)], &p) != 0 || !p.found;
	row->view_prove_us = (now() - t0) * 1e6 / VERIFIES;
	r = -1;
	if (memcmp(root, root2, sizeof(root)) != 0 || bad)
		fail("snapshot does not round-trip", 0);
	else
		r = 0;
done:
	buf_free(&b);
	ptree_free(t2);
	return r;
}

static int run(unsigned long n, struct row *row)
{
	uint8_t root[PTREE_HASH_LEN];
	struct ptree *t = NULL;
	int r = -1;
	uint8_t (*idx)[PTREE_IDX_LEN] = malloc((n + UPDATES) * PTREE_IDX_LEN);

	memset(row, 0, sizeof(*row));
	row->n = n;
	if (idx == NULL || ptree_new(&t) < 0) {
		fail("out of memory", 0);
		goto done;
	}
	double t0 = now();
	if (build(t, n, idx) < 0)
		goto done;
	ptree_root(t, root);
	row->build_s = now() - t0;
	row->mem_per_entry = (double)ptree_memory(t) / (double)n;
	unsigned long count = n;
	t0 = now();
	if (update(t, idx, &count) < 0)
		goto done;
	double t1 = now();
	ptree_root(t, root);
	row->update_s = now() - t0;
	row->update_root_s = now() - t1;
	if (ptree_count(t) != count) {
		fail("count after updates", 0);
		goto done;
	}
	if (proofs(t, idx, count, row) < 0 || snapshot(t, idx, count, row) < 0)
		goto done;
	r = 0;
done:
	ptree_free(t);
	free(idx);
	return r;
}

static void print_row(const struct row *r)
{
	printf("%9lu %9.3f %9.1f %10.3f %8.3f %8.1f %8.0f %9.2f %12zu %8.3f %9.2f\n", r->n,
	       r->build_s, r->mem_per_entry, r->update_s, r->update_root_s, r->path_len,
	       r->proof_bytes, r->verify_us,
	       r->snap_bytes, r->load_s, r->view_prove_us);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const unsigned long defaults[] = {10000, 100000, 1000000};
	unsigned long ns[64];
	size_t count = 0;
	struct row row;

	if (sodium_init() < 0) {
		fail("sodium_init", 0);
		return 1;
	}
	randombytes_buf(&rng_state, sizeof(rng_state));
	for (int i = 1; i < argc && count < 64; i++) {
		if (parse_count(argv[i], 1, &ns[count++]) < 0) {
			fprintf(stderr, "usage: bench_ptree [N...] (1 <= N <= %lu)\n", BENCH_N_MAX);
			return 2;
		}
	}
	if (count == 0)
		for (; count < sizeof(defaults) / sizeof(defaults[0]); count++)
			ns[count] = defaults[count];
	printf("# build: n ptree_set + ptree_root; B/entry: ptree_memory / n after the build\n"
	       "# update: %d ptree_set (half replace, half insert) + ptree_root; (root s): that call\n"
	       "# path, proof B: mean over %d lookups, bytes = %d + 33 x len\n"
	       "# verify, vprove: mean of %d ptree_verify / ptree_view_prove calls\n",
	       UPDATES, LOOKUPS, LEAF_BYTES, VERIFIES);
	printf("%9s %9s %9s %10s %8s %8s %8s %9s %12s %8s %9s\n", "n", "build s", "B/entry",
	       "update s", "(root s)", "path", "proof B", "verify us", "snapshot B", "load s",
	       "vprove us");
	for (size_t i = 0; i < count; i++) {
		if (run(ns[i], &row) < 0)
			return 1;
		print_row(&row);
	}
	return 0;
}
