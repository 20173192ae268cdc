/* test_ptree: the transparency map against a recursive reference, its
 * proofs (honest and tampered), snapshots (honest and corrupted) and walk.
 *
 * The reference builds the tree of a sorted leaf set straight from the
 * definition in ptree.h (split at the first bit where the first and last
 * leaf differ) and hashes with its own byte layout, so it shares no code
 * with ptree.c. The snapshot layout constants below repeat ptree.c's: the
 * corruption tests edit records in place. */
#include <stdint.h>

#include <sodium.h>

#include "check.h"
#include "ptree.h"

#define HL PTREE_HASH_LEN
#define IL PTREE_IDX_LEN
#define MAGIC_LEN 18
#define HDR_LEN (MAGIC_LEN + 12 + HL)
#define INNER_LEN 41
#define LEAF_LEN 112
#define MAX_MODEL 4096

/* ---- deterministic randomness (splitmix64) ---- */

static uint64_t rng_state = 0x5ea1a11c0ffee;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* ---- a model: the leaves the tree should hold ---- */

struct model {
	struct ptree_leaf l[MAX_MODEL];
	size_t n;
};

static int model_find(const struct model *m, const uint8_t idx[IL])
{
	for (size_t i = 0; i < m->n; i++)
		if (memcmp(m->l[i].idx, idx, IL) == 0)
			return (int)i;
	return -1;
}

static void flip_bit(uint8_t idx[IL], unsigned b)
{
	idx[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
}

/* A fresh index: random, or (half the time) one sharing a prefix of random
 * length with a present one, so splits happen at every depth. */
static void new_idx(const struct model *m, uint8_t idx[IL])
{
	do {
		if (m->n == 0 || rnd_below(2)) {
			rnd_bytes(idx, IL);
		} else {
			unsigned b = rnd_below(PTREE_BITS);
			memcpy(idx, m->l[rnd_below((unsigned)m->n)].idx, IL);
			flip_bit(idx, b);
			for (unsigned k = b + 1; k < PTREE_BITS && rnd_below(2); k++)
				if (rnd_below(2))
					flip_bit(idx, k);
		}
	} while (model_find(m, idx) >= 0);
}

static void rnd_leaf(struct ptree_leaf *l, const uint8_t idx[IL])
{
	memcpy(l->idx, idx, IL);
	l->counter = rnd() % 1000 + 1;
	l->epoch = rnd();
	rnd_bytes(l->commitment, HL);
}

/* Inserts a new random leaf into m and t. */
static void add_new(struct model *m, struct ptree *t)
{
	uint8_t idx[IL];
	new_idx(m, idx);
	rnd_leaf(&m->l[m->n], idx);
	CHECK_INT(ptree_set(t, &m->l[m->n]), 0);
	m->n++;
}

/* Replaces a random present leaf of m and t. */
static void replace_one(struct model *m, struct ptree *t)
{
	struct ptree_leaf *l = &m->l[rnd_below((unsigned)m->n)];
	l->counter++;
	l->epoch = rnd();
	rnd_bytes(l->commitment, HL);
	CHECK_INT(ptree_set(t, l), 0);
}

static struct ptree *build(struct model *m, size_t n)
{
	struct ptree *t = NULL;
	m->n = 0;
	if (ptree_new(&t) < 0) {
		printf("Bail out! ptree_new\n");
		exit(1);
	}
	while (m->n < n)
		add_new(m, t);
	return t;
}

/* ---- the reference ---- */

static void ref_leaf_hash(const struct ptree_leaf *l, uint8_t ret[HL])
{
	uint8_t pre = 0x00, be[16];
	crypto_hash_sha256_state s;
	for (int i = 0; i < 8; i++) {
		be[i] = (uint8_t)(l->counter >> (56 - 8 * i));
		be[8 + i] = (uint8_t)(l->epoch >> (56 - 8 * i));
	}
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, &pre, 1);
	crypto_hash_sha256_update(&s, l->idx, IL);
	crypto_hash_sha256_update(&s, be, 16);
	crypto_hash_sha256_update(&s, l->commitment, HL);
	crypto_hash_sha256_final(&s, ret);
}

static void ref_inner_hash(unsigned bit, const uint8_t *l, const uint8_t *r, uint8_t ret[HL])
{
	uint8_t pre[2] = {0x01, (uint8_t)bit};
	crypto_hash_sha256_state s;
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, pre, 2);
	crypto_hash_sha256_update(&s, l, HL);
	crypto_hash_sha256_update(&s, r, HL);
	crypto_hash_sha256_final(&s, ret);
}

static int ref_bit(const uint8_t *idx, unsigned b)
{
	return (idx[b / 8] >> (7 - b % 8)) & 1;
}

static unsigned ref_diff(const uint8_t *a, const uint8_t *b)
{
	unsigned k = 0;
	while (k < PTREE_BITS && ref_bit(a, k) == ref_bit(b, k))
		k++;
	return k;
}

/* The root of sorted leaves l[0..n). */
static void ref_tree(const struct ptree_leaf *l, size_t n, uint8_t ret[HL])
{
	uint8_t left[HL], right[HL];
	if (n == 0) {
		crypto_hash_sha256(ret, (const uint8_t *)"\x02", 1);
		return;
	}
	if (n == 1) {
		ref_leaf_hash(l, ret);
		return;
	}
	unsigned b = ref_diff(l[0].idx, l[n - 1].idx);
	size_t k = 0;
	while (!ref_bit(l[k].idx, b))
		k++;
	ref_tree(l, k, left);
	ref_tree(l + k, n - k, right);
	ref_inner_hash(b, left, right, ret);
}

static int leaf_cmp(const void *a, const void *b)
{
	return memcmp(((const struct ptree_leaf *)a)->idx, ((const struct ptree_leaf *)b)->idx, IL);
}

static struct model sorted_scratch;

static void ref_root(const struct model *m, uint8_t ret[HL])
{
	sorted_scratch = *m;
	qsort(sorted_scratch.l, m->n, sizeof(struct ptree_leaf), leaf_cmp);
	ref_tree(sorted_scratch.l, m->n, ret);
}

static int root_matches(struct ptree *t, const struct model *m)
{
	uint8_t a[HL], b[HL];
	ptree_root(t, a);
	ref_root(m, b);
	return memcmp(a, b, HL) == 0 && ptree_count(t) == m->n;
}

static int leaf_eq(const struct ptree_leaf *a, const struct ptree_leaf *b)
{
	return memcmp(a->idx, b->idx, IL) == 0 && a->counter == b->counter &&
	       a->epoch == b->epoch && memcmp(a->commitment, b->commitment, HL) == 0;
}

static int proof_eq(const struct ptree_proof *a, const struct ptree_proof *b)
{
	if (a->found != b->found || a->has_leaf != b->has_leaf || a->path.len != b->path.len)
		return 0;
	if (a->has_leaf && !leaf_eq(&a->leaf, &b->leaf))
		return 0;
	for (size_t i = 0; i < a->path.len; i++)
		if (a->path.bit[i] != b->path.bit[i] || memcmp(a->path.sibling[i], b->path.sibling[i], HL))
			return 0;
	return 1;
}

static void unhex(uint8_t *out, size_t len, const char *hex)
{
	size_t got = 0;
	if (sodium_hex2bin(out, len, hex, strlen(hex), NULL, &got, NULL) != 0 || got != len) {
		printf("Bail out! bad hex in the test itself\n");
		exit(1);
	}
}

static struct buf snap_of(struct ptree *t)
{
	struct buf b;
	buf_init(&b, (size_t)1 << 30);
	if (ptree_snapshot(t, &b) < 0) {
		printf("Bail out! ptree_snapshot\n");
		exit(1);
	}
	return b;
}

/* The answer a proof that verifies must give: idx present with this leaf? */
static int proof_truthful(const struct model *m, const uint8_t idx[IL], const struct ptree_proof *p)
{
	int i = model_find(m, idx);
	if (i < 0)
		return !p->found;
	return p->found && leaf_eq(&p->leaf, &m->l[i]);
}

/* ---- tests ---- */

static struct model m1, m2;

static void empty_tree(void)
{
	uint8_t root[HL], want[HL], idx[IL] = {0};
	struct ptree_proof p, vp;
	struct ptree_leaf l;
	struct ptree *t = NULL, *t2 = NULL;

	unhex(want, HL, "dbc1b4c900ffe48d575b5da5c638040125f65db0fe3e24494b76ea986457d986");
	CHECK_INT(ptree_new(&t), 0);
	ptree_root(t, root);
	CHECK(memcmp(root, want, HL) == 0);
	ptree_empty_hash(root);
	CHECK(memcmp(root, want, HL) == 0);
	CHECK_INT(ptree_count(t), 0);
	CHECK_INT(ptree_get(t, idx, &l), SM_ENOTFOUND);
	CHECK_INT(ptree_prove(t, idx, &p), 0);
	CHECK(!p.found && !p.has_leaf && p.path.len == 0);
	CHECK_INT(ptree_verify(want, idx, &p), 0);
	root[0] ^= 1;
	CHECK_INT(ptree_verify(root, idx, &p), SM_ECRYPTO);
	p.found = 1;
	CHECK_INT(ptree_verify(want, idx, &p), SM_EPARSE);
	p.found = 0;
	p.path.len = 1;
	CHECK_INT(ptree_verify(want, idx, &p), SM_EPARSE);

	struct buf b = snap_of(t);
	struct ptree_view v = {b.data, b.len};
	CHECK_INT(b.len, HDR_LEN);
	CHECK_INT(ptree_view_check(&v), 0);
	CHECK_INT(ptree_view_count(&v), 0);
	CHECK_INT(ptree_view_root(&v, root), 0);
	CHECK(memcmp(root, want, HL) == 0);
	CHECK_INT(ptree_view_prove(&v, idx, &vp), 0);
	CHECK_INT(ptree_prove(t, idx, &p), 0);
	CHECK(proof_eq(&vp, &p));
	CHECK_INT(ptree_load(&v, &t2), 0);
	CHECK(t2 != NULL && ptree_count(t2) == 0);
	buf_free(&b);
	ptree_free(t2);
	ptree_free(t);
	ptree_free(NULL);
}

/* Three fixed leaves against a root computed independently (Python hashlib). */
static void known_root(void)
{
	uint8_t root[HL], want[HL], h[HL];
	struct ptree *t = NULL;
	struct ptree_leaf l[3];
	memset(l, 0, sizeof(l));
	l[1].idx[0] = 0x80;
	l[2].idx[0] = 0x40;
	for (int i = 0; i < 3; i++) {
		l[i].counter = (uint64_t)i + 1;
		l[i].epoch = (uint64_t)i + 7;
		memset(l[i].commitment, 0x11 * (i + 1), HL);
	}
	unhex(want, HL, "d538ee7f924e55dd5ad2a554b606dd7b22b04b4af7baffc7fc7bc774acdcb928");
	ptree_leaf_hash(&l[0], h);
	CHECK(memcmp(h, want, HL) == 0);
	unhex(want, HL, "895c4591c3020e02b79116f6b62173eab291f3d2a5294aa6dd360c9664014ba1");
	CHECK_INT(ptree_new(&t), 0);
	for (int i = 0; i < 3; i++)
		CHECK_INT(ptree_set(t, &l[i]), 0);
	ptree_root(t, root);
	CHECK(memcmp(root, want, HL) == 0);
	CHECK_INT(ptree_bit(l[1].idx, 0), 1);
	CHECK_INT(ptree_bit(l[1].idx, 1), 0);
	CHECK_INT(ptree_bit(l[2].idx, 1), 1);
	l[0].idx[31] = 1;
	CHECK_INT(ptree_bit(l[0].idx, 255), 1);
	CHECK_INT(ptree_bit(l[0].idx, 254), 0);
	ptree_free(t);
}

/* Absence may be shown by any leaf whose path does not split at its first
 * difference from idx, not only where the search ends; directions come from
 * the leaf's own idx. Leaves 00..., 01...; idx 10... */
static void absence_any_leaf(void)
{
	uint8_t root[HL], idx[IL] = {0x80};
	struct ptree_leaf l[2];
	struct ptree_proof p;
	struct ptree *t = NULL;
	memset(l, 0, sizeof(l));
	l[1].idx[0] = 0x40;
	CHECK_INT(ptree_new(&t), 0);
	CHECK_INT(ptree_set(t, &l[0]), 0);
	CHECK_INT(ptree_set(t, &l[1]), 0);
	ptree_root(t, root);
	CHECK_INT(ptree_prove(t, idx, &p), 0);
	CHECK(!p.found && leaf_eq(&p.leaf, &l[0]));
	CHECK_INT(ptree_verify(root, idx, &p), 0);
	CHECK_INT(ptree_prove(t, l[1].idx, &p), 0);
	p.found = 0;
	CHECK_INT(ptree_verify(root, idx, &p), 0);
	idx[0] = 0x00;
	idx[31] = 1; /* differs from 01... at bit 1, where that leaf's path splits */
	CHECK_INT(ptree_verify(root, idx, &p), SM_EPARSE);
	ptree_free(t);
}

static void one_leaf(void)
{
	uint8_t root[HL], want[HL], idx[IL];
	struct ptree_proof p;
	struct ptree_leaf got;
	struct ptree *t = build(&m1, 1);
	ptree_root(t, root);
	ref_leaf_hash(&m1.l[0], want);
	CHECK(memcmp(root, want, HL) == 0);
	CHECK_INT(ptree_get(t, m1.l[0].idx, &got), 0);
	CHECK(leaf_eq(&got, &m1.l[0]));
	CHECK_INT(ptree_prove(t, m1.l[0].idx, &p), 0);
	CHECK(p.found && p.has_leaf && p.path.len == 0 && leaf_eq(&p.leaf, &m1.l[0]));
	CHECK_INT(ptree_verify(root, m1.l[0].idx, &p), 0);
	memcpy(idx, m1.l[0].idx, IL);
	flip_bit(idx, 255);
	CHECK_INT(ptree_get(t, idx, &got), SM_ENOTFOUND);
	CHECK_INT(ptree_prove(t, idx, &p), 0);
	CHECK(!p.found && p.has_leaf && p.path.len == 0 && leaf_eq(&p.leaf, &m1.l[0]));
	CHECK_INT(ptree_verify(root, idx, &p), 0);
	CHECK_INT(ptree_verify(root, m1.l[0].idx, &p), SM_EPARSE); /* absent, same idx */
	ptree_free(t);
}

/* Every size up to 300, built in random order, against the reference. */
static void reference_sets(void)
{
	for (size_t n = 0; n <= 300; n++) {
		struct ptree *t = build(&m1, n);
		CHECK(root_matches(t, &m1));
		for (size_t i = 0; i < n; i += 7) {
			struct ptree_leaf got;
			CHECK_INT(ptree_get(t, m1.l[i].idx, &got), 0);
			CHECK(leaf_eq(&got, &m1.l[i]));
		}
		ptree_free(t);
	}
}

/* Batches of inserts and replacements between two roots: only the marked
 * paths are rehashed, and the result must still be the reference's. */
static void reference_updates(void)
{
	for (int round = 0; round < 4; round++) {
		struct ptree *t = build(&m1, rnd_below(200));
		CHECK(root_matches(t, &m1));
		for (int batch = 0; batch < 25; batch++) {
			unsigned k = rnd_below(60) + 1;
			for (unsigned i = 0; i < k; i++) {
				if (m1.n > 0 && rnd_below(2))
					replace_one(&m1, t);
				else
					add_new(&m1, t);
			}
			CHECK(root_matches(t, &m1));
		}
		ptree_free(t);
	}
}

static void inclusion_all(void)
{
	static const size_t sizes[] = {1, 2, 3, 5, 17, 64, 300};
	uint8_t root[HL];
	struct ptree_proof p;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct ptree *t = build(&m1, sizes[s]);
		ptree_root(t, root);
		for (size_t i = 0; i < m1.n; i++) {
			CHECK_INT(ptree_prove(t, m1.l[i].idx, &p), 0);
			CHECK(p.found && p.has_leaf && leaf_eq(&p.leaf, &m1.l[i]));
			CHECK_INT(ptree_verify(root, m1.l[i].idx, &p), 0);
		}
		ptree_free(t);
	}
}

/* Absent indices next to present ones: differing in the last bit, at a
 * random bit, and at the bit just past each split on the path. */
static void absence(void)
{
	uint8_t root[HL], idx[IL];
	struct ptree_proof p;
	struct ptree *t = build(&m1, 300);
	ptree_root(t, root);
	for (size_t i = 0; i < 2000; i++) {
		const struct ptree_leaf *near = &m1.l[rnd_below((unsigned)m1.n)];
		memcpy(idx, near->idx, IL);
		switch (i % 4) {
		case 0: flip_bit(idx, 255); break;
		case 1: flip_bit(idx, rnd_below(PTREE_BITS)); break;
		case 2: flip_bit(idx, 200 + rnd_below(56)); break;
		default: rnd_bytes(idx, IL); break;
		}
		if (model_find(&m1, idx) >= 0)
			continue;
		CHECK_INT(ptree_prove(t, idx, &p), 0);
		CHECK(!p.found && p.has_leaf);
		CHECK_INT(ptree_verify(root, idx, &p), 0);
		CHECK(proof_truthful(&m1, idx, &p));
	}
	ptree_free(t);
}

/* What verify must say when step i's bit becomes v. */
static int bit_change_want(const struct ptree_proof *p, const uint8_t idx[IL], size_t i, unsigned v)
{
	if ((i > 0 && v >= p->path.bit[i - 1]) || (i + 1 < p->path.len && v <= p->path.bit[i + 1]))
		return SM_EPARSE;
	if (!p->found && v == ref_diff(p->leaf.idx, idx))
		return SM_EPARSE;
	return SM_ECRYPTO;
}

static void tamper_one(const uint8_t root[HL], const uint8_t idx[IL], const struct ptree_proof *good)
{
	static struct ptree_proof p;
	for (size_t i = 0; i < good->path.len; i++) {
		for (size_t j = 0; j < HL; j++) {
			p = *good;
			p.path.sibling[i][j] ^= (uint8_t)(1u << rnd_below(8));
			CHECK_INT(ptree_verify(root, idx, &p), SM_ECRYPTO);
		}
		for (unsigned v = 0; v < PTREE_BITS; v++) {
			if (v == good->path.bit[i])
				continue;
			p = *good;
			p.path.bit[i] = (uint8_t)v;
			CHECK_INT(ptree_verify(root, idx, &p), bit_change_want(good, idx, i, v));
		}
		p = *good;
		memmove(&p.path.bit[i], &p.path.bit[i + 1], p.path.len - i - 1);
		memmove(p.path.sibling[i], p.path.sibling[i + 1], (p.path.len - i - 1) * HL);
		p.path.len--;
		CHECK_INT(ptree_verify(root, idx, &p), SM_ECRYPTO);
	}
	p = *good;
	p.leaf.counter++;
	CHECK_INT(ptree_verify(root, idx, &p), SM_ECRYPTO);
	p = *good;
	p.leaf.epoch ^= 1;
	CHECK_INT(ptree_verify(root, idx, &p), SM_ECRYPTO);
	p = *good;
	p.leaf.commitment[rnd_below(HL)] ^= 0x10;
	CHECK_INT(ptree_verify(root, idx, &p), SM_ECRYPTO);
	p = *good;
	p.found = !p.found; /* found with another idx, or absent with the same */
	CHECK_INT(ptree_verify(root, idx, &p), SM_EPARSE);
	p = *good;
	p.found = 2;
	CHECK_INT(ptree_verify(root, idx, &p), SM_EPARSE);
	p = *good;
	p.has_leaf = 0;
	CHECK_INT(ptree_verify(root, idx, &p), p.found || p.path.len ? SM_EPARSE : SM_ECRYPTO);
	p = *good;
	p.path.len = PTREE_BITS + 1;
	CHECK_INT(ptree_verify(root, idx, &p), SM_EPARSE);
	if (good->path.len >= 2) {
		p = *good;
		p.path.bit[1] = p.path.bit[0];
		CHECK_INT(ptree_verify(root, idx, &p), SM_EPARSE);
	}
}

static void tamper(void)
{
	uint8_t root[HL], wrong[HL], idx[IL];
	struct ptree_proof p, q;
	struct ptree *t = build(&m1, 100);
	ptree_root(t, root);
	for (size_t i = 0; i < 20; i++) {
		const struct ptree_leaf *l = &m1.l[rnd_below((unsigned)m1.n)];
		CHECK_INT(ptree_prove(t, l->idx, &p), 0);
		tamper_one(root, l->idx, &p);
		memcpy(idx, l->idx, IL);
		flip_bit(idx, 250 + rnd_below(6));
		if (model_find(&m1, idx) < 0) {
			CHECK_INT(ptree_prove(t, idx, &p), 0);
			CHECK_INT(ptree_verify(root, idx, &p), 0);
			tamper_one(root, idx, &p);
		}
		/* Found, claimed for another index (here: absent or present). */
		CHECK_INT(ptree_prove(t, l->idx, &p), 0);
		CHECK_INT(ptree_verify(root, idx, &p), SM_EPARSE);
		memcpy(wrong, root, HL);
		wrong[i] ^= 0x80;
		CHECK_INT(ptree_verify(wrong, l->idx, &p), SM_ECRYPTO);
	}
	/* Absence of a present idx, made from any other leaf's honest path:
	 * that path always holds the node splitting the two. */
	for (size_t i = 0; i < m1.n; i++) {
		const struct ptree_leaf *other = &m1.l[(i + 1 + rnd_below((unsigned)m1.n - 1)) % m1.n];
		CHECK_INT(ptree_prove(t, other->idx, &q), 0);
		q.found = 0;
		CHECK_INT(ptree_verify(root, m1.l[i].idx, &q), SM_EPARSE);
	}
	ptree_free(t);
}

static void snapshot_view(void)
{
	uint8_t root[HL], vroot[HL], idx[IL];
	struct ptree_proof p, vp;
	struct ptree *t = build(&m1, 300);
	struct buf b = snap_of(t);
	struct ptree_view v = {b.data, b.len};
	ptree_root(t, root);
	CHECK_INT(b.len, HDR_LEN + 299 * INNER_LEN + 300 * LEAF_LEN);
	CHECK_INT(ptree_view_check(&v), 0);
	CHECK_INT(ptree_view_count(&v), 300);
	CHECK_INT(ptree_view_root(&v, vroot), 0);
	CHECK(memcmp(root, vroot, HL) == 0);
	for (size_t i = 0; i < 600; i++) {
		if (i < m1.n) {
			memcpy(idx, m1.l[i].idx, IL);
		} else {
			memcpy(idx, m1.l[i % m1.n].idx, IL);
			flip_bit(idx, rnd_below(PTREE_BITS));
		}
		CHECK_INT(ptree_prove(t, idx, &p), 0);
		CHECK_INT(ptree_view_prove(&v, idx, &vp), 0);
		CHECK(proof_eq(&p, &vp));
		CHECK_INT(ptree_verify(vroot, idx, &vp), 0);
	}
	/* Over the buffer's limit: SM_ETOOBIG, and the buffer as it was. */
	struct buf small;
	buf_init(&small, 4096);
	CHECK_INT(buf_append(&small, "x", 1), 0);
	CHECK_INT(ptree_snapshot(t, &small), SM_ETOOBIG);
	CHECK(small.len == 1 && small.data[0] == 'x' && small.data[1] == 0);
	buf_free(&small);
	buf_free(&b);
	ptree_free(t);
}

struct walk_state {
	struct model *m;
	size_t n, stop_at;
};

static int walk_collect(void *arg, const struct ptree_leaf *l)
{
	struct walk_state *w = arg;
	if (w->n == w->stop_at)
		return 42;
	if (w->n < MAX_MODEL)
		w->m->l[w->n] = *l;
	w->n++;
	return 0;
}

static int same_leaves(struct ptree *a, struct ptree *b)
{
	struct walk_state wa = {&m1, 0, SIZE_MAX}, wb = {&m2, 0, SIZE_MAX};
	if (ptree_walk(a, walk_collect, &wa) != 0 || ptree_walk(b, walk_collect, &wb) != 0)
		return 0;
	if (wa.n != wb.n)
		return 0;
	for (size_t i = 0; i < wa.n; i++)
		if (!leaf_eq(&m1.l[i], &m2.l[i]))
			return 0;
	return 1;
}

static void snapshot_load(void)
{
	uint8_t r1[HL], r2[HL];
	struct model *m = &m2;
	for (size_t n = 0; n < 40; n += 13) {
		struct ptree *t = build(m, n * n), *t2 = NULL;
		struct buf b = snap_of(t), b2;
		struct ptree_view v = {b.data, b.len};
		CHECK_INT(ptree_load(&v, &t2), 0);
		if (t2 == NULL) {
			buf_free(&b);
			ptree_free(t);
			continue;
		}
		ptree_root(t, r1);
		ptree_root(t2, r2);
		CHECK(memcmp(r1, r2, HL) == 0);
		CHECK_INT(ptree_count(t2), n * n);
		b2 = snap_of(t2);
		CHECK(b2.len == b.len && memcmp(b.data, b2.data, b.len) == 0);
		/* The loaded tree takes updates like the original. */
		static struct model keep;
		keep = *m;
		for (int i = 0; i < 30; i++) {
			if (keep.n > 0 && rnd_below(2))
				replace_one(&keep, t2);
			else
				add_new(&keep, t2);
		}
		CHECK(root_matches(t2, &keep));
		*m = keep;
		buf_free(&b2);
		buf_free(&b);
		ptree_free(t2);
		ptree_free(t);
	}
	/* Walk equality after load, independent of insertion order. */
	struct ptree *t = build(&m1, 50), *t2 = NULL;
	struct buf b = snap_of(t);
	struct ptree_view v = {b.data, b.len};
	CHECK_INT(ptree_load(&v, &t2), 0);
	if (t2 != NULL)
		CHECK(same_leaves(t, t2));
	buf_free(&b);
	ptree_free(t2);
	ptree_free(t);
}

/* ---- corrupted snapshots ---- */

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t snap_leaves(const uint8_t *s)
{
	return rd32(s + MAGIC_LEN);
}

static uint8_t *inner_rec(uint8_t *s, uint32_t i)
{
	return s + HDR_LEN + (size_t)i * INNER_LEN;
}

static uint8_t *leaf_rec(uint8_t *s, uint32_t i)
{
	return s + HDR_LEN + (size_t)(snap_leaves(s) - 1) * INNER_LEN + (size_t)i * LEAF_LEN;
}

/* Recomputes the stored hashes below ref (trusting the structure, which
 * the caller made acyclic), so a structural fault is all that is left. */
static void rehash_snap(uint8_t *s, uint32_t ref, uint8_t ret[HL])
{
	uint8_t l[HL], r[HL];
	if (ref & 0x80000000u) {
		uint8_t *p = leaf_rec(s, ref & 0x7fffffffu);
		struct ptree_leaf lf;
		memcpy(lf.idx, p, IL);
		lf.counter = lf.epoch = 0;
		for (int i = 7; i >= 0; i--) {
			lf.counter = lf.counter << 8 | p[IL + i];
			lf.epoch = lf.epoch << 8 | p[IL + 8 + i];
		}
		memcpy(lf.commitment, p + IL + 16, HL);
		ref_leaf_hash(&lf, ret);
		memcpy(p + IL + 16 + HL, ret, HL);
		return;
	}
	uint8_t *p = inner_rec(s, ref);
	rehash_snap(s, rd32(p + 1), l);
	rehash_snap(s, rd32(p + 5), r);
	ref_inner_hash(p[0], l, r, ret);
	memcpy(p + 9, ret, HL);
}

static void rehash_all(uint8_t *s)
{
	rehash_snap(s, rd32(s + MAGIC_LEN + 8), s + MAGIC_LEN + 12);
}

/* Whatever a corrupt snapshot holds: load rejects it (when must_reject),
 * and view_prove returns SM_EPARSE or a well-formed proof (verify says 0
 * or SM_ECRYPTO) which, if it verifies against the true root, tells the
 * truth. */
static void corrupt_case(const uint8_t *s, size_t len, const uint8_t true_root[HL],
			 const struct model *m, int must_reject)
{
	struct ptree_view v = {s, len};
	struct ptree *t = NULL;
	struct ptree_proof p;
	uint8_t vroot[HL], idx[IL];
	int r = ptree_load(&v, &t);
	if (must_reject) {
		CHECK_INT(r, SM_EPARSE);
		CHECK(t == NULL);
	}
	ptree_free(t);
	if (ptree_view_root(&v, vroot) < 0)
		memcpy(vroot, true_root, HL);
	for (size_t i = 0; i < m->n + 4; i++) {
		memcpy(idx, m->l[i % m->n].idx, IL);
		if (i >= m->n)
			flip_bit(idx, 255 - (unsigned)i % 8);
		r = ptree_view_prove(&v, idx, &p);
		CHECK(r == 0 || r == SM_EPARSE);
		if (r < 0)
			continue;
		r = ptree_verify(vroot, idx, &p);
		CHECK(r == 0 || r == SM_ECRYPTO); /* never a malformed proof */
		if (ptree_verify(true_root, idx, &p) == 0)
			CHECK(proof_truthful(m, idx, &p));
	}
}

static void corrupt_snapshots(void)
{
	uint8_t root[HL];
	struct ptree *t = build(&m1, 13);
	struct buf b = snap_of(t);
	uint8_t *s = malloc(b.len + 1);
	ptree_root(t, root);
	if (s == NULL) {
		printf("Bail out! malloc\n");
		exit(1);
	}
	/* Truncated (an exactly sized copy each time, for ASan) and extended. */
	for (size_t len = 0; len <= b.len + 1; len++) {
		uint8_t *c = malloc(len ? len : 1);
		memcpy(c, b.data, len <= b.len ? len : b.len);
		if (len > b.len)
			c[b.len] = 0;
		if (len != b.len)
			corrupt_case(c, len, root, &m1, 1);
		free(c);
	}
	/* Every single-bit flip. */
	for (size_t i = 0; i < b.len; i++) {
		for (unsigned k = 0; k < 8; k++) {
			memcpy(s, b.data, b.len);
			s[i] ^= (uint8_t)(1u << k);
			corrupt_case(s, b.len, root, &m1, 1);
		}
	}
	/* Cycles: a child pointing back at the root or at its own node. */
	uint32_t rootref = rd32(b.data + MAGIC_LEN + 8);
	for (uint32_t i = 0; i < snap_leaves(b.data) - 1; i++) {
		for (int side = 0; side < 2; side++) {
			memcpy(s, b.data, b.len);
			wr32(inner_rec(s, i) + 1 + 4 * side, rootref);
			corrupt_case(s, b.len, root, &m1, 1);
			wr32(inner_rec(s, i) + 1 + 4 * side, i);
			corrupt_case(s, b.len, root, &m1, 1);
		}
	}
	/* Bits that do not rise on the way down: the root's left child made the
	 * root, or given the root's bit; every search through it fails. */
	for (int how = 0; how < 2; how++) {
		struct ptree_view v = {s, b.len};
		struct ptree_proof p;
		memcpy(s, b.data, b.len);
		uint8_t *rn = inner_rec(s, rootref);
		uint32_t left = rd32(rn + 1);
		if (how == 0)
			wr32(rn + 1, rootref);
		else if (!(left & 0x80000000u))
			inner_rec(s, left)[0] = rn[0];
		else
			continue;
		for (size_t i = 0; i < m1.n; i++)
			if (!ptree_bit(m1.l[i].idx, rn[0]))
				CHECK_INT(ptree_view_prove(&v, m1.l[i].idx, &p), SM_EPARSE);
		corrupt_case(s, b.len, root, &m1, 1);
	}
	/* Leaves shared or left out: a child aimed at another leaf. */
	for (uint32_t i = 0; i < snap_leaves(b.data) - 1; i++) {
		uint32_t other = 0x80000000u | (i % 13);
		memcpy(s, b.data, b.len);
		if (rd32(inner_rec(s, i) + 5) == other)
			other = 0x80000000u | ((i + 1) % 13);
		wr32(inner_rec(s, i) + 5, other);
		corrupt_case(s, b.len, root, &m1, 1);
	}
	/* Structural faults with every stored hash made consistent again. */
	for (uint32_t i = 0; i < snap_leaves(b.data) - 1; i++) {
		uint8_t *n;
		memcpy(s, b.data, b.len);
		n = inner_rec(s, i); /* children swapped */
		uint8_t tmp[4];
		memcpy(tmp, n + 1, 4);
		memcpy(n + 1, n + 5, 4);
		memcpy(n + 5, tmp, 4);
		rehash_all(s);
		corrupt_case(s, b.len, root, &m1, 1);
		memcpy(s, b.data, b.len);
		inner_rec(s, i)[0] ^= 0x01; /* a split at another bit */
		rehash_all(s);
		corrupt_case(s, b.len, root, &m1, 1);
	}
	for (uint32_t i = 0; i < 13; i++) {
		memcpy(s, b.data, b.len);
		/* A leaf off its path: its idx turned at its parent's bit. */
		for (uint32_t k = 0; k < snap_leaves(s) - 1; k++) {
			const uint8_t *n = inner_rec(s, k);
			if (rd32(n + 1) == (0x80000000u | i) || rd32(n + 5) == (0x80000000u | i))
				flip_bit(leaf_rec(s, i), n[0]);
		}
		rehash_all(s);
		struct ptree_view v = {s, b.len};
		struct ptree *t2 = NULL;
		CHECK_INT(ptree_load(&v, &t2), SM_EPARSE);
		ptree_free(t2);
		/* ... but the same hashes over honest bytes load fine. */
		memcpy(s, b.data, b.len);
		rehash_all(s);
		CHECK(memcmp(s, b.data, b.len) == 0);
	}
	/* Bits that fall, hashes consistent: leaves A = 000..., B = 0001...,
	 * C = 000001... are the tree 3{5{A, C}, B}; written as 5{3{A, B}, C}
	 * every node still splits its extremes where it says. */
	{
		struct ptree_leaf abc[3];
		struct ptree *t3 = NULL;
		memset(abc, 0, sizeof(abc));
		abc[1].idx[0] = 0x10;
		abc[2].idx[0] = 0x04;
		CHECK_INT(ptree_new(&t3), 0);
		for (int i = 0; i < 3; i++)
			CHECK_INT(ptree_set(t3, &abc[i]), 0);
		struct buf b3 = snap_of(t3);
		uint8_t *s3 = b3.data;
		uint32_t ref[3];
		for (uint32_t i = 0; i < 3; i++)
			for (uint32_t k = 0; k < 3; k++)
				if (memcmp(leaf_rec(s3, i), abc[k].idx, IL) == 0)
					ref[k] = 0x80000000u | i;
		wr32(s3 + MAGIC_LEN + 8, 0);
		inner_rec(s3, 0)[0] = 5;
		wr32(inner_rec(s3, 0) + 1, 1);
		wr32(inner_rec(s3, 0) + 5, ref[2]);
		inner_rec(s3, 1)[0] = 3;
		wr32(inner_rec(s3, 1) + 1, ref[0]);
		wr32(inner_rec(s3, 1) + 5, ref[1]);
		rehash_all(s3);
		struct ptree_view v3 = {s3, b3.len};
		struct ptree *t4 = NULL;
		CHECK_INT(ptree_load(&v3, &t4), SM_EPARSE);
		ptree_free(t4);
		buf_free(&b3);
		ptree_free(t3);
	}
	/* Bad headers. */
	memcpy(s, b.data, b.len);
	wr32(s + MAGIC_LEN + 8, 0x80000000u | 13);
	corrupt_case(s, b.len, root, &m1, 1);
	memcpy(s, b.data, b.len);
	wr32(s + MAGIC_LEN + 8, 12);
	corrupt_case(s, b.len, root, &m1, 1);
	free(s);
	buf_free(&b);
	ptree_free(t);
}

static void walk_order(void)
{
	struct ptree *t = build(&m1, 257);
	struct walk_state w = {&m2, 0, SIZE_MAX};
	CHECK_INT(ptree_walk(t, walk_collect, &w), 0);
	CHECK_INT(w.n, 257);
	for (size_t i = 1; i < w.n; i++)
		CHECK(memcmp(m2.l[i - 1].idx, m2.l[i].idx, IL) < 0);
	sorted_scratch = m1;
	qsort(sorted_scratch.l, m1.n, sizeof(struct ptree_leaf), leaf_cmp);
	for (size_t i = 0; i < w.n; i++)
		CHECK(leaf_eq(&m2.l[i], &sorted_scratch.l[i]));
	w.n = 0;
	w.stop_at = 100;
	CHECK_INT(ptree_walk(t, walk_collect, &w), 42);
	CHECK_INT(w.n, 100);
	ptree_free(t);
}

static void get_and_replace(void)
{
	struct ptree_leaf got, l;
	struct ptree *t = build(&m1, 50);
	size_t mem = ptree_memory(t);
	CHECK(mem >= 50 * (sizeof(struct ptree_leaf) + HL));
	l = m1.l[7];
	l.counter += 1;
	CHECK_INT(ptree_set(t, &l), 0);
	CHECK_INT(ptree_count(t), 50);
	CHECK_INT(ptree_get(t, l.idx, &got), 0);
	CHECK(leaf_eq(&got, &l));
	m1.l[7] = l;
	CHECK(root_matches(t, &m1));
	/* An idx equal to a present one but for the last bit is absent. */
	memcpy(l.idx, m1.l[3].idx, IL);
	flip_bit(l.idx, 255);
	if (model_find(&m1, l.idx) < 0)
		CHECK_INT(ptree_get(t, l.idx, &got), SM_ENOTFOUND);
	ptree_free(t);
}

int main(void)
{
	if (sodium_init() < 0) {
		printf("Bail out! sodium_init\n");
		return 1;
	}
	RUN(empty_tree);
	RUN(known_root);
	RUN(one_leaf);
	RUN(absence_any_leaf);
	RUN(reference_sets);
	RUN(reference_updates);
	RUN(inclusion_all);
	RUN(absence);
	RUN(tamper);
	RUN(snapshot_view);
	RUN(snapshot_load);
	RUN(corrupt_snapshots);
	RUN(walk_order);
	RUN(get_and_replace);
	return check_done();
}
