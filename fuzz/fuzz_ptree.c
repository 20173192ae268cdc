/* fuzz_ptree: a hostile map snapshot (ptree_view_*, ptree_load) and a
 * hostile map proof (ptree_verify).
 *
 * Input: be16 L || snapshot (L bytes, fewer if the input ends) || idx (32)
 * || proof, where the proof is found (1) || has_leaf (1) || leaf idx (32)
 * || be64 counter || be64 epoch || commitment (32) || be16 len || len x
 * (bit (1) || sibling (32)); whatever is missing is zero, and len is kept
 * as given even past 256 or past the entries present. The snapshot is
 * copied into a block of exactly L bytes, so a read past it is caught.
 * Checked besides memory safety and termination:
 *   - every result is one of the documented codes;
 *   - view_prove over a snapshot view_check rejects fails, and a proof it
 *     makes never has a bad shape (verify gives 0 or SM_ECRYPTO);
 *   - when ptree_load accepts the snapshot: the tree's root and count are
 *     the recorded ones, view_prove succeeds and equals ptree_prove, its
 *     proof verifies, ptree_walk gives every leaf in rising index order,
 *     and the tree's own snapshot gives back the input;
 *   - a hostile proof that verifies against a loaded tree's root tells the
 *     truth about idx (the tree has it, with that leaf, or has it not), and
 *     one for an empty map is against the empty root;
 *   - after ptree_set of the proof's leaf into the loaded tree, that leaf
 *     is found and proved. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ptree.h"

#define SNAP_MAX (1u << 16)

struct cursor {
	const uint8_t *p;
	size_t left;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Copies n bytes (zeros past the end of the input). */
static void take(struct cursor *c, void *out, size_t n)
{
	size_t k = n < c->left ? n : c->left;
	memset(out, 0, n);
	if (k > 0)
		memcpy(out, c->p, k);
	c->p += k;
	c->left -= k;
}

static uint64_t take_be(struct cursor *c, size_t n)
{
	uint8_t b[8];
	uint64_t v = 0;
	take(c, b, n);
	for (size_t i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static void read_proof(struct cursor *c, struct ptree_proof *p)
{
	memset(p, 0, sizeof(*p));
	p->found = (int)take_be(c, 1);
	p->has_leaf = (int)take_be(c, 1);
	take(c, p->leaf.idx, PTREE_IDX_LEN);
	p->leaf.counter = take_be(c, 8);
	p->leaf.epoch = take_be(c, 8);
	take(c, p->leaf.commitment, PTREE_HASH_LEN);
	p->path.len = (size_t)take_be(c, 2);
	for (size_t i = 0; i < p->path.len && i < PTREE_BITS && c->left > 0; i++) {
		take(c, &p->path.bit[i], 1);
		take(c, p->path.sibling[i], PTREE_HASH_LEN);
	}
}

static int leaf_eq(const struct ptree_leaf *a, const struct ptree_leaf *b)
{
	return memcmp(a->idx, b->idx, PTREE_IDX_LEN) == 0 && a->counter == b->counter &&
	       a->epoch == b->epoch && memcmp(a->commitment, b->commitment, PTREE_HASH_LEN) == 0;
}

static int proof_eq(const struct ptree_proof *a, const struct ptree_proof *b)
{
	if (a->found != b->found || a->has_leaf != b->has_leaf || a->path.len != b->path.len ||
	    (a->has_leaf && !leaf_eq(&a->leaf, &b->leaf)))
		return 0;
	for (size_t i = 0; i < a->path.len; i++)
		if (a->path.bit[i] != b->path.bit[i] ||
		    memcmp(a->path.sibling[i], b->path.sibling[i], PTREE_HASH_LEN) != 0)
			return 0;
	return 1;
}

struct walk {
	size_t n;
	uint8_t last[PTREE_IDX_LEN];
};

static int walk_step(void *arg, const struct ptree_leaf *l)
{
	struct walk *w = arg;
	fuzz_check(w->n == 0 || memcmp(w->last, l->idx, PTREE_IDX_LEN) < 0, "walk out of order");
	memcpy(w->last, l->idx, PTREE_IDX_LEN);
	w->n++;
	return 0;
}

/* The contracts that hold for a snapshot ptree_load accepted. */
static void check_loaded(struct ptree *t, const struct ptree_view *v, const uint8_t idx[PTREE_IDX_LEN],
			 int vr, const struct ptree_proof *vp)
{
	static struct ptree_proof tp;
	uint8_t root[PTREE_HASH_LEN], vroot[PTREE_HASH_LEN];
	struct ptree_leaf got;
	struct buf b;

	fuzz_check(ptree_view_root(v, vroot) == 0, "view_root of a loaded snapshot");
	ptree_root(t, root);
	fuzz_check(memcmp(root, vroot, PTREE_HASH_LEN) == 0, "loaded root differs from recorded");
	fuzz_check(ptree_count(t) == ptree_view_count(v), "loaded count differs");
	fuzz_check(vr == 0, "view_prove failed on a loadable snapshot");
	fuzz_check(ptree_verify(root, idx, vp) == 0, "view_prove proof of a loaded snapshot fails");
	fuzz_check(ptree_prove(t, idx, &tp) == 0 && proof_eq(&tp, vp), "view_prove != ptree_prove");
	int g = ptree_get(t, idx, &got);
	fuzz_check(vp->found ? g == 0 && leaf_eq(&got, &vp->leaf) : g == SM_ENOTFOUND,
		   "get disagrees with the proof");
	struct walk w = {0, {0}};
	fuzz_check(ptree_walk(t, walk_step, &w) == 0 && w.n == ptree_count(t), "walk count");
	buf_init(&b, SNAP_MAX + 1024);
	fuzz_check(ptree_snapshot(t, &b) == 0, "snapshot of a loaded tree");
	fuzz_check(b.len == v->len && memcmp(b.data, v->data, b.len) == 0,
		   "snapshot of a loaded tree differs from its source");
	buf_free(&b);
}

/* A hostile proof against a loaded tree's root must tell the truth. */
static void check_hostile(struct ptree *t, const uint8_t idx[PTREE_IDX_LEN],
			  const struct ptree_proof *hp)
{
	static struct ptree_proof p;
	uint8_t root[PTREE_HASH_LEN], empty[PTREE_HASH_LEN];
	struct ptree_leaf got;

	ptree_root(t, root);
	int r = ptree_verify(root, idx, hp);
	fuzz_check(r == 0 || r == SM_EPARSE || r == SM_ECRYPTO, "verify result code");
	if (r == 0) {
		int g = ptree_get(t, idx, &got);
		fuzz_check(hp->found ? g == 0 && leaf_eq(&got, &hp->leaf) : g == SM_ENOTFOUND,
			   "a forged proof verified");
	}
	if (hp->has_leaf != 1 || ptree_set(t, &hp->leaf) != 0)
		return;
	ptree_root(t, root);
	fuzz_check(ptree_get(t, hp->leaf.idx, &got) == 0 && leaf_eq(&got, &hp->leaf), "set then get");
	fuzz_check(ptree_prove(t, hp->leaf.idx, &p) == 0 && p.found &&
			   ptree_verify(root, hp->leaf.idx, &p) == 0,
		   "set then prove");
	ptree_empty_hash(empty);
	fuzz_check(memcmp(root, empty, PTREE_HASH_LEN) != 0, "non-empty tree with the empty root");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ptree_proof vp, hp;
	uint8_t idx[PTREE_IDX_LEN], vroot[PTREE_HASH_LEN], empty[PTREE_HASH_LEN];
	struct cursor c = {data, size};
	struct ptree *t = NULL;

	size_t len = (size_t)take_be(&c, 2);
	if (len > c.left)
		len = c.left;
	uint8_t *snap = malloc(len ? len : 1);
	if (snap == NULL)
		return 0;
	take(&c, snap, len);
	take(&c, idx, sizeof(idx));
	read_proof(&c, &hp);

	struct ptree_view v = {snap, len};
	int cr = ptree_view_check(&v);
	fuzz_check(cr == 0 || cr == SM_EPARSE, "view_check result code");
	int vr = ptree_view_prove(&v, idx, &vp);
	fuzz_check(vr == 0 || vr == SM_EPARSE, "view_prove result code");
	fuzz_check(cr == 0 || vr == SM_EPARSE, "view_prove on a snapshot view_check rejects");
	if (vr == 0) {
		fuzz_check(ptree_view_root(&v, vroot) == 0, "view_root after view_prove");
		int r = ptree_verify(vroot, idx, &vp);
		fuzz_check(r == 0 || r == SM_ECRYPTO, "view_prove made a malformed proof");
	}
	int lr = ptree_load(&v, &t);
	fuzz_check(lr == 0 || lr == SM_EPARSE || lr == SM_ENOMEM, "load result code");
	fuzz_check((lr == 0) == (t != NULL), "load output");
	if (t != NULL) {
		check_loaded(t, &v, idx, vr, &vp);
		check_hostile(t, idx, &hp);
	} else {
		ptree_empty_hash(empty);
		int r = ptree_verify(empty, idx, &hp);
		fuzz_check(r == 0 || r == SM_EPARSE || r == SM_ECRYPTO, "verify result code");
		fuzz_check(r != 0 || (!hp.found && !hp.has_leaf), "a leaf proved in the empty map");
	}
	ptree_free(t);
	free(snap);
	return 0;
}
