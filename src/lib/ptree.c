/* ptree.c: the transparency map (ptree.h), a PATRICIA trie in flat arrays:
 * leaves (with their hashes), inner node shapes, and inner node hashes.
 *
 * A reference is 32 bits: with the top bit set it names a leaf, without it
 * an inner node. Leaves are only ever appended (entries are never deleted)
 * and an insert appends exactly one inner node, so both arrays are dense
 * and a snapshot is the arrays written out as they are, with the same
 * references.
 *
 * Inner nodes carry a dirty flag. ptree_set() sets it on every inner node
 * above the changed leaf, so a dirty node's ancestors are always dirty too;
 * ptree_root() descends only into dirty nodes. Leaf hashes are computed at
 * ptree_set() time.
 *
 * Snapshot layout (all integers little-endian):
 *   "sealmail-ptree/v1\n"  n_leaves u32  n_inner u32  root ref u32  root hash[32]
 *   n_inner x { bit u8, left u32, right u32, hash[32] }                 41 bytes
 *   n_leaves x { idx[32], counter u64, epoch u64, commitment[32], hash[32] } 112
 * An empty tree has n_leaves = n_inner = 0 and root ref 0xffffffff. */
#include "ptree.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "num.h"
#include "sha256.h"

#define REF_LEAF 0x80000000u
#define REF_NONE 0xffffffffu
#define IS_LEAF(r) (((r) & REF_LEAF) != 0)
#define LEAF_NO(r) ((r) & ~REF_LEAF)

#define SNAP_MAGIC "sealmail-ptree/v1\n"
#define SNAP_MAGIC_LEN (sizeof(SNAP_MAGIC) - 1)
#define SNAP_HEADER_LEN (SNAP_MAGIC_LEN + 12 + PTREE_HASH_LEN)
#define SNAP_INNER_LEN (1 + 4 + 4 + PTREE_HASH_LEN)
#define SNAP_LEAF_LEN (PTREE_IDX_LEN + 8 + 8 + PTREE_HASH_LEN + PTREE_HASH_LEN)
#define SNAP_CHUNK 64 /* records encoded per buf_append */

#define INITIAL_CAP 16

/* An inner node's shape; its hash lives in a parallel array so that a
 * search touches 12 bytes per level, not 44: at 10^6 entries the shapes
 * (12 MB) mostly stay in cache. */
struct pt_inner {
	uint32_t left, right;
	uint8_t bit;
	uint8_t dirty;
};

struct pt_leaf {
	struct ptree_leaf leaf;
	uint8_t hash[PTREE_HASH_LEN];
};

struct ptree {
	struct pt_inner *inner; /* owned; n_inner used of cap_inner */
	uint8_t (*ihash)[PTREE_HASH_LEN]; /* owned; the hash of inner[i], cap_inner */
	struct pt_leaf *leaves; /* owned; n_leaves used of cap_leaves */
	uint32_t n_inner, cap_inner;
	uint32_t n_leaves, cap_leaves;
	uint32_t root; /* REF_NONE when empty */
};

/* The header of a snapshot, decoded by view_header(). */
struct snap {
	uint32_t n_leaves, n_inner, root;
	const uint8_t *root_hash;
	const uint8_t *inner; /* the first inner record */
	const uint8_t *leaves;
};

/* ---- little-endian and hashing ---- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void ptree_leaf_hash(const struct ptree_leaf *leaf, uint8_t ret[PTREE_HASH_LEN])
{
	uint8_t m[1 + PTREE_IDX_LEN + 8 + 8 + PTREE_HASH_LEN];
	m[0] = 0x00;
	memcpy(m + 1, leaf->idx, PTREE_IDX_LEN);
	num_put_be(m + 1 + PTREE_IDX_LEN, leaf->counter, 8);
	num_put_be(m + 1 + PTREE_IDX_LEN + 8, leaf->epoch, 8);
	memcpy(m + 1 + PTREE_IDX_LEN + 16, leaf->commitment, PTREE_HASH_LEN);
	sha256(m, sizeof(m), ret);
}

/* ret may alias left or right: both are copied before ret is written. */
void ptree_inner_hash(unsigned bit, const uint8_t left[PTREE_HASH_LEN],
		      const uint8_t right[PTREE_HASH_LEN], uint8_t ret[PTREE_HASH_LEN])
{
	uint8_t m[2 + 2 * PTREE_HASH_LEN];
	m[0] = 0x01;
	m[1] = (uint8_t)bit;
	memcpy(m + 2, left, PTREE_HASH_LEN);
	memcpy(m + 2 + PTREE_HASH_LEN, right, PTREE_HASH_LEN);
	sha256(m, sizeof(m), ret);
}

void ptree_empty_hash(uint8_t ret[PTREE_HASH_LEN])
{
	static const uint8_t m = 0x02;
	sha256(&m, 1, ret);
}

int ptree_bit(const uint8_t idx[PTREE_IDX_LEN], unsigned b)
{
	return (idx[(b >> 3) & 31] >> (7 - (b & 7))) & 1;
}

/* The first bit at which a and b differ, or PTREE_BITS if they are equal. */
static unsigned first_diff(const uint8_t a[PTREE_IDX_LEN], const uint8_t b[PTREE_IDX_LEN])
{
	for (unsigned i = 0; i < PTREE_IDX_LEN; i++) {
		unsigned x = a[i] ^ b[i];
		if (x != 0)
			return 8 * i + (unsigned)__builtin_clz(x) - (8 * sizeof(unsigned) - 8);
	}
	return PTREE_BITS;
}

/* ---- the mutable tree ---- */

int ptree_new(struct ptree **ret)
{
	struct ptree *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return SM_ENOMEM;
	t->root = REF_NONE;
	*ret = t;
	return 0;
}

void ptree_free(struct ptree *t)
{
	if (t == NULL)
		return;
	free(t->inner);
	free(t->ihash);
	free(t->leaves);
	free(t);
}

size_t ptree_count(const struct ptree *t)
{
	return t->n_leaves;
}

size_t ptree_memory(const struct ptree *t)
{
	return sizeof(*t) + (size_t)t->cap_inner * (sizeof(struct pt_inner) + PTREE_HASH_LEN) +
	       (size_t)t->cap_leaves * sizeof(struct pt_leaf);
}

/* The capacity to grow to for want elements: a quarter more each time,
 * so that ptree_memory() stays within 1.25 times the live data (large
 * blocks are moved by mremap, not copied). */
static int next_cap(uint32_t cap, uint32_t want, size_t sz, uint32_t *ret)
{
	uint64_t c = cap < INITIAL_CAP ? INITIAL_CAP : (uint64_t)cap + cap / 4;
	if (c < want)
		c = want;
	if (c > PTREE_MAX_LEAVES)
		c = PTREE_MAX_LEAVES;
	if (c < want || c > SIZE_MAX / sz)
		return SM_ENOMEM;
	*ret = (uint32_t)c;
	return 0;
}

static int grow_leaves(struct ptree *t, uint32_t want)
{
	uint32_t c;
	if (want <= t->cap_leaves)
		return 0;
	if (next_cap(t->cap_leaves, want, sizeof(struct pt_leaf), &c) < 0)
		return SM_ENOMEM;
	void *p = realloc(t->leaves, (size_t)c * sizeof(struct pt_leaf));
	if (p == NULL)
		return SM_ENOMEM;
	t->leaves = p;
	t->cap_leaves = c;
	return 0;
}

/* If only the first realloc succeeds, that array is just larger than
 * cap_inner says, which is harmless. */
static int grow_inner(struct ptree *t, uint32_t want)
{
	uint32_t c;
	if (want <= t->cap_inner)
		return 0;
	if (next_cap(t->cap_inner, want, sizeof(struct pt_inner) + PTREE_HASH_LEN, &c) < 0)
		return SM_ENOMEM;
	void *p = realloc(t->inner, (size_t)c * sizeof(struct pt_inner));
	if (p == NULL)
		return SM_ENOMEM;
	t->inner = p;
	if ((p = realloc(t->ihash, (size_t)c * PTREE_HASH_LEN)) == NULL)
		return SM_ENOMEM;
	t->ihash = p;
	t->cap_inner = c;
	return 0;
}

static const uint8_t *ref_hash(const struct ptree *t, uint32_t ref)
{
	return IS_LEAF(ref) ? t->leaves[LEAF_NO(ref)].hash : t->ihash[ref];
}

/* Follows idx down to a leaf, recording the inner nodes passed. The tree
 * is not empty. Returns the leaf's number; *ret_depth nodes are in path. */
static uint32_t descend(const struct ptree *t, const uint8_t idx[PTREE_IDX_LEN],
			uint32_t path[PTREE_BITS], size_t *ret_depth)
{
	uint32_t ref = t->root;
	size_t depth = 0;
	while (!IS_LEAF(ref)) {
		const struct pt_inner *n = &t->inner[ref];
		path[depth++] = ref;
		ref = ptree_bit(idx, n->bit) ? n->right : n->left;
	}
	*ret_depth = depth;
	return LEAF_NO(ref);
}

/* Appends leaf as the first of the tree, or hangs it beside the subtree
 * at path[pos] (the leaf old when pos == depth) under a new inner node
 * splitting at bit d. Capacity has been reserved. */
static void insert_at(struct ptree *t, const uint32_t *path, size_t pos, size_t depth,
		      uint32_t old, unsigned d, const struct ptree_leaf *leaf)
{
	uint32_t lref = REF_LEAF | t->n_leaves;
	struct pt_leaf *l = &t->leaves[t->n_leaves++];
	l->leaf = *leaf;
	ptree_leaf_hash(leaf, l->hash);
	if (t->root == REF_NONE) {
		t->root = lref;
		return;
	}
	uint32_t below = pos < depth ? path[pos] : (REF_LEAF | old);
	uint32_t nref = t->n_inner++;
	struct pt_inner *n = &t->inner[nref];
	int right = ptree_bit(leaf->idx, d);
	n->bit = (uint8_t)d;
	n->dirty = 1;
	n->left = right ? below : lref;
	n->right = right ? lref : below;
	if (pos == 0) {
		t->root = nref;
		return;
	}
	struct pt_inner *parent = &t->inner[path[pos - 1]];
	if (ptree_bit(leaf->idx, parent->bit))
		parent->right = nref;
	else
		parent->left = nref;
}

static void mark_dirty(struct ptree *t, const uint32_t *path, size_t n)
{
	for (size_t i = 0; i < n; i++)
		t->inner[path[i]].dirty = 1;
}

int ptree_set(struct ptree *t, const struct ptree_leaf *leaf)
{
	uint32_t path[PTREE_BITS];
	size_t depth = 0, pos = 0;
	uint32_t old = 0;
	unsigned d = 0;
	int r;

	if (t->root != REF_NONE) {
		old = descend(t, leaf->idx, path, &depth);
		struct pt_leaf *l = &t->leaves[old];
		d = first_diff(l->leaf.idx, leaf->idx);
		if (d == PTREE_BITS) {
			l->leaf = *leaf;
			ptree_leaf_hash(leaf, l->hash);
			mark_dirty(t, path, depth);
			return 0;
		}
		while (pos < depth && t->inner[path[pos]].bit < d)
			pos++;
	}
	if (t->n_leaves >= PTREE_MAX_LEAVES)
		return SM_ETOOBIG;
	/* Reserve both slots first so that a failure leaves the tree as it was. */
	if ((r = grow_leaves(t, t->n_leaves + 1)) < 0)
		return r;
	if (t->n_leaves > 0 && (r = grow_inner(t, t->n_inner + 1)) < 0)
		return r;
	insert_at(t, path, pos, depth, old, d, leaf);
	mark_dirty(t, path, pos);
	return 0;
}

int ptree_get(const struct ptree *t, const uint8_t idx[PTREE_IDX_LEN], struct ptree_leaf *ret)
{
	uint32_t path[PTREE_BITS];
	size_t depth;
	if (t->root == REF_NONE)
		return SM_ENOTFOUND;
	const struct pt_leaf *l = &t->leaves[descend(t, idx, path, &depth)];
	if (memcmp(l->leaf.idx, idx, PTREE_IDX_LEN) != 0)
		return SM_ENOTFOUND;
	*ret = l->leaf;
	return 0;
}

int ptree_walk(const struct ptree *t, int (*fn)(void *arg, const struct ptree_leaf *leaf),
	       void *arg)
{
	/* Depth-first, left first; at most one pending right child per level. */
	uint32_t stack[PTREE_BITS + 1];
	size_t n = 0;
	if (t->root == REF_NONE)
		return 0;
	stack[n++] = t->root;
	while (n > 0) {
		uint32_t ref = stack[--n];
		while (!IS_LEAF(ref)) {
			stack[n++] = t->inner[ref].right;
			ref = t->inner[ref].left;
		}
		int r = fn(arg, &t->leaves[LEAF_NO(ref)].leaf);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Depth is bounded by the 256 strictly rising bits. */
static void rehash(struct ptree *t, uint32_t ref)
{
	if (IS_LEAF(ref))
		return;
	struct pt_inner *n = &t->inner[ref];
	if (!n->dirty)
		return;
	rehash(t, n->left);
	rehash(t, n->right);
	ptree_inner_hash(n->bit, ref_hash(t, n->left), ref_hash(t, n->right), t->ihash[ref]);
	n->dirty = 0;
}

void ptree_root(struct ptree *t, uint8_t ret[PTREE_HASH_LEN])
{
	if (t->root == REF_NONE) {
		ptree_empty_hash(ret);
		return;
	}
	rehash(t, t->root);
	memcpy(ret, ref_hash(t, t->root), PTREE_HASH_LEN);
}

int ptree_prove(struct ptree *t, const uint8_t idx[PTREE_IDX_LEN], struct ptree_proof *ret)
{
	uint32_t path[PTREE_BITS];
	size_t depth;

	memset(ret, 0, sizeof(*ret));
	if (t->root == REF_NONE)
		return 0;
	rehash(t, t->root);
	const struct pt_leaf *l = &t->leaves[descend(t, idx, path, &depth)];
	ret->has_leaf = 1;
	ret->leaf = l->leaf;
	ret->found = memcmp(l->leaf.idx, idx, PTREE_IDX_LEN) == 0;
	ret->path.len = depth;
	for (size_t i = 0; i < depth; i++) {
		const struct pt_inner *n = &t->inner[path[depth - 1 - i]];
		uint32_t sib = ptree_bit(idx, n->bit) ? n->left : n->right;
		ret->path.bit[i] = n->bit;
		memcpy(ret->path.sibling[i], ref_hash(t, sib), PTREE_HASH_LEN);
	}
	return 0;
}

/* ---- snapshots ---- */

static void encode_inner(uint8_t *p, const struct pt_inner *n, const uint8_t hash[PTREE_HASH_LEN])
{
	p[0] = n->bit;
	put32(p + 1, n->left);
	put32(p + 5, n->right);
	memcpy(p + 9, hash, PTREE_HASH_LEN);
}

static void encode_leaf(uint8_t *p, const struct pt_leaf *l)
{
	memcpy(p, l->leaf.idx, PTREE_IDX_LEN);
	put64(p + PTREE_IDX_LEN, l->leaf.counter);
	put64(p + PTREE_IDX_LEN + 8, l->leaf.epoch);
	memcpy(p + PTREE_IDX_LEN + 16, l->leaf.commitment, PTREE_HASH_LEN);
	memcpy(p + PTREE_IDX_LEN + 16 + PTREE_HASH_LEN, l->hash, PTREE_HASH_LEN);
}

int ptree_snapshot(struct ptree *t, struct buf *out)
{
	uint8_t chunk[SNAP_CHUNK * SNAP_LEAF_LEN];
	size_t start = out->len, k = 0;
	int r;

	ptree_root(t, chunk + SNAP_HEADER_LEN - PTREE_HASH_LEN);
	memcpy(chunk, SNAP_MAGIC, SNAP_MAGIC_LEN);
	put32(chunk + SNAP_MAGIC_LEN, t->n_leaves);
	put32(chunk + SNAP_MAGIC_LEN + 4, t->n_inner);
	put32(chunk + SNAP_MAGIC_LEN + 8, t->root);
	if ((r = buf_append(out, chunk, SNAP_HEADER_LEN)) < 0)
		return r;
	for (uint32_t i = 0; i < t->n_inner; i++) {
		encode_inner(chunk + k++ * SNAP_INNER_LEN, &t->inner[i], t->ihash[i]);
		if ((k == SNAP_CHUNK || i + 1 == t->n_inner) &&
		    (r = buf_append(out, chunk, k * SNAP_INNER_LEN)) < 0)
			goto fail;
		k %= SNAP_CHUNK;
	}
	k = 0;
	for (uint32_t i = 0; i < t->n_leaves; i++) {
		encode_leaf(chunk + k++ * SNAP_LEAF_LEN, &t->leaves[i]);
		if ((k == SNAP_CHUNK || i + 1 == t->n_leaves) &&
		    (r = buf_append(out, chunk, k * SNAP_LEAF_LEN)) < 0)
			goto fail;
		k %= SNAP_CHUNK;
	}
	return 0;
fail:
	/* Leave out as it was: drop the part appended. */
	out->len = start;
	if (out->data != NULL)
		out->data[start] = 0;
	return r;
}

/* ---- the read-only view ---- */

static int view_header(const struct ptree_view *v, struct snap *s)
{
	if (v->data == NULL || v->len < SNAP_HEADER_LEN ||
	    memcmp(v->data, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0)
		return SM_EPARSE;
	const uint8_t *p = v->data + SNAP_MAGIC_LEN;
	s->n_leaves = get32(p);
	s->n_inner = get32(p + 4);
	s->root = get32(p + 8);
	s->root_hash = p + 12;
	if (s->n_leaves > PTREE_MAX_LEAVES)
		return SM_EPARSE;
	if (s->n_leaves == 0 ? (s->n_inner != 0 || s->root != REF_NONE)
			     : s->n_inner != s->n_leaves - 1)
		return SM_EPARSE;
	uint64_t want = SNAP_HEADER_LEN + (uint64_t)s->n_inner * SNAP_INNER_LEN +
			(uint64_t)s->n_leaves * SNAP_LEAF_LEN;
	if (want != v->len)
		return SM_EPARSE;
	if (s->n_leaves > 0 && (IS_LEAF(s->root) ? LEAF_NO(s->root) >= s->n_leaves
						 : s->root >= s->n_inner))
		return SM_EPARSE;
	s->inner = v->data + SNAP_HEADER_LEN;
	s->leaves = s->inner + (size_t)s->n_inner * SNAP_INNER_LEN;
	return 0;
}

int ptree_view_check(const struct ptree_view *v)
{
	struct snap s;
	return view_header(v, &s);
}

int ptree_view_root(const struct ptree_view *v, uint8_t ret[PTREE_HASH_LEN])
{
	struct snap s;
	int r = view_header(v, &s);
	if (r < 0)
		return r;
	memcpy(ret, s.root_hash, PTREE_HASH_LEN);
	return 0;
}

size_t ptree_view_count(const struct ptree_view *v)
{
	struct snap s;
	return view_header(v, &s) < 0 ? 0 : s.n_leaves;
}

static int ref_ok(const struct snap *s, uint32_t ref)
{
	return IS_LEAF(ref) ? LEAF_NO(ref) < s->n_leaves : ref < s->n_inner;
}

static const uint8_t *snap_hash(const struct snap *s, uint32_t ref)
{
	if (IS_LEAF(ref))
		return s->leaves + (size_t)LEAF_NO(ref) * SNAP_LEAF_LEN + PTREE_IDX_LEN + 16 +
		       PTREE_HASH_LEN;
	return s->inner + (size_t)ref * SNAP_INNER_LEN + 9;
}

static void decode_leaf(const uint8_t *p, struct ptree_leaf *l)
{
	memcpy(l->idx, p, PTREE_IDX_LEN);
	l->counter = get64(p + PTREE_IDX_LEN);
	l->epoch = get64(p + PTREE_IDX_LEN + 8);
	memcpy(l->commitment, p + PTREE_IDX_LEN + 16, PTREE_HASH_LEN);
}

/* The search for idx through untrusted records: every reference is checked
 * before use, bits must rise (which also ends any cycle within 256 steps)
 * and the leaf reached must agree with every turn taken. Fills p (a scratch
 * copy) with the path top-down. */
static int view_walk(const struct snap *s, const uint8_t idx[PTREE_IDX_LEN], struct ptree_proof *p)
{
	uint32_t ref = s->root;
	int prev = -1;
	size_t depth = 0;
	while (!IS_LEAF(ref)) {
		if (!ref_ok(s, ref) || depth == PTREE_BITS)
			return SM_EPARSE;
		const uint8_t *n = s->inner + (size_t)ref * SNAP_INNER_LEN;
		if ((int)n[0] <= prev)
			return SM_EPARSE;
		prev = n[0];
		int dir = ptree_bit(idx, n[0]);
		uint32_t sib = get32(n + (dir ? 1 : 5));
		if (!ref_ok(s, sib))
			return SM_EPARSE;
		p->path.bit[depth] = n[0];
		memcpy(p->path.sibling[depth], snap_hash(s, sib), PTREE_HASH_LEN);
		depth++;
		ref = get32(n + (dir ? 5 : 1));
	}
	if (!ref_ok(s, ref))
		return SM_EPARSE;
	decode_leaf(s->leaves + (size_t)LEAF_NO(ref) * SNAP_LEAF_LEN, &p->leaf);
	/* The leaf must lie where the search went, or the proof would not
	 * even have the shape of one. */
	for (size_t i = 0; i < depth; i++)
		if (ptree_bit(p->leaf.idx, p->path.bit[i]) != ptree_bit(idx, p->path.bit[i]))
			return SM_EPARSE;
	p->has_leaf = 1;
	p->found = memcmp(p->leaf.idx, idx, PTREE_IDX_LEN) == 0;
	p->path.len = depth;
	return 0;
}

int ptree_view_prove(const struct ptree_view *v, const uint8_t idx[PTREE_IDX_LEN],
		     struct ptree_proof *ret)
{
	struct snap s;
	struct ptree_proof p;
	int r;

	if ((r = view_header(v, &s)) < 0)
		return r;
	memset(&p, 0, sizeof(p));
	if (s.n_leaves > 0 && (r = view_walk(&s, idx, &p)) < 0)
		return r;
	/* The walk is top-down; a proof lists siblings bottom-up. */
	memset(ret, 0, sizeof(*ret));
	ret->found = p.found;
	ret->has_leaf = p.has_leaf;
	ret->leaf = p.leaf;
	ret->path.len = p.path.len;
	for (size_t i = 0; i < p.path.len; i++) {
		ret->path.bit[i] = p.path.bit[p.path.len - 1 - i];
		memcpy(ret->path.sibling[i], p.path.sibling[p.path.len - 1 - i], PTREE_HASH_LEN);
	}
	return 0;
}

/* ---- loading a snapshot ---- */

struct load {
	const struct snap *s;
	struct ptree *t;
	uint8_t *seen_inner, *seen_leaf; /* one byte per record */
	uint32_t inner_seen, leaves_seen;
};

/* Copies leaf ref into the tree, hashes it and checks the stored hash. */
static int load_leaf(struct load *ld, uint32_t no)
{
	const uint8_t *p = ld->s->leaves + (size_t)no * SNAP_LEAF_LEN;
	struct pt_leaf *l = &ld->t->leaves[no];
	if (ld->seen_leaf[no])
		return SM_EPARSE;
	ld->seen_leaf[no] = 1;
	ld->leaves_seen++;
	decode_leaf(p, &l->leaf);
	ptree_leaf_hash(&l->leaf, l->hash);
	if (sodium_memcmp(l->hash, p + PTREE_IDX_LEN + 16 + PTREE_HASH_LEN, PTREE_HASH_LEN) != 0)
		return SM_EPARSE;
	return 0;
}

/* Checks the subtree at ref (below a node splitting at parent_bit, -1 for
 * the root) and copies it into the tree, returning its leftmost and
 * rightmost leaves. An inner node is right iff its bit is above its
 * parent's, its leftmost leaf has 0 and its rightmost 1 at bit, and the two
 * agree on every bit before: by induction every leaf below then agrees on
 * the bits before and goes the way its idx says at every node, which is the
 * one tree of those leaves (and no two leaves share an idx). Recursion
 * depth is bounded by the rising bits. */
static int load_node(struct load *ld, uint32_t ref, int parent_bit, uint32_t *ret_lo,
		     uint32_t *ret_hi)
{
	const struct snap *s = ld->s;
	uint32_t llo, lhi, rlo, rhi;
	int r;

	if (!ref_ok(s, ref))
		return SM_EPARSE;
	if (IS_LEAF(ref)) {
		*ret_lo = *ret_hi = LEAF_NO(ref);
		return load_leaf(ld, LEAF_NO(ref));
	}
	const uint8_t *p = s->inner + (size_t)ref * SNAP_INNER_LEN;
	if ((int)p[0] <= parent_bit || ld->seen_inner[ref])
		return SM_EPARSE;
	ld->seen_inner[ref] = 1;
	ld->inner_seen++;
	struct pt_inner *n = &ld->t->inner[ref];
	n->bit = p[0];
	n->left = get32(p + 1);
	n->right = get32(p + 5);
	n->dirty = 0;
	if ((r = load_node(ld, n->left, n->bit, &llo, &lhi)) < 0 ||
	    (r = load_node(ld, n->right, n->bit, &rlo, &rhi)) < 0)
		return r;
	const uint8_t *lo = ld->t->leaves[llo].leaf.idx, *hi = ld->t->leaves[rhi].leaf.idx;
	if (first_diff(lo, hi) != n->bit || ptree_bit(lo, n->bit) != 0)
		return SM_EPARSE;
	uint8_t *h = ld->t->ihash[ref];
	ptree_inner_hash(n->bit, ref_hash(ld->t, n->left), ref_hash(ld->t, n->right), h);
	if (sodium_memcmp(h, p + 9, PTREE_HASH_LEN) != 0)
		return SM_EPARSE;
	*ret_lo = llo;
	*ret_hi = rhi;
	return 0;
}

static int load_alloc(struct ptree *t, const struct snap *s)
{
	int r;
	if (s->n_leaves == 0)
		return 0;
	if ((r = grow_leaves(t, s->n_leaves)) < 0)
		return r;
	if (s->n_inner > 0 && (r = grow_inner(t, s->n_inner)) < 0)
		return r;
	t->n_leaves = s->n_leaves;
	t->n_inner = s->n_inner;
	t->root = s->root;
	return 0;
}

int ptree_load(const struct ptree_view *v, struct ptree **ret)
{
	struct snap s;
	struct ptree *t = NULL;
	struct load ld = {&s, NULL, NULL, NULL, 0, 0};
	uint8_t root[PTREE_HASH_LEN];
	uint32_t lo, hi;
	int r;

	if ((r = view_header(v, &s)) < 0)
		return r;
	if ((r = ptree_new(&t)) < 0)
		return r;
	ld.t = t;
	if ((r = load_alloc(t, &s)) < 0)
		goto fail;
	r = SM_ENOMEM;
	ld.seen_inner = calloc((size_t)s.n_inner + 1, 1);
	ld.seen_leaf = calloc((size_t)s.n_leaves + 1, 1);
	if (ld.seen_inner == NULL || ld.seen_leaf == NULL)
		goto fail;
	if (s.n_leaves > 0 && (r = load_node(&ld, s.root, -1, &lo, &hi)) < 0)
		goto fail;
	/* A binary tree of n_leaves - 1 inner nodes reached without sharing
	 * holds n_leaves leaves, but say so rather than rely on it. */
	r = SM_EPARSE;
	if (ld.inner_seen != s.n_inner || ld.leaves_seen != s.n_leaves)
		goto fail;
	ptree_root(t, root);
	if (sodium_memcmp(root, s.root_hash, PTREE_HASH_LEN) != 0)
		goto fail;
	free(ld.seen_inner);
	free(ld.seen_leaf);
	*ret = t;
	return 0;
fail:
	free(ld.seen_inner);
	free(ld.seen_leaf);
	ptree_free(t);
	return r;
}

/* ---- verification ---- */

/* The checks that need no root. */
static int verify_shape(const uint8_t idx[PTREE_IDX_LEN], const struct ptree_proof *p)
{
	const struct ptree_path *path = &p->path;
	if ((p->found != 0 && p->found != 1) || (p->has_leaf != 0 && p->has_leaf != 1) ||
	    path->len > PTREE_BITS)
		return SM_EPARSE;
	if (!p->has_leaf)
		return p->found || path->len != 0 ? SM_EPARSE : 0;
	for (size_t i = 1; i < path->len; i++)
		if (path->bit[i] >= path->bit[i - 1])
			return SM_EPARSE;
	unsigned d = first_diff(p->leaf.idx, idx);
	if (p->found)
		return d == PTREE_BITS ? 0 : SM_EPARSE;
	if (d == PTREE_BITS)
		return SM_EPARSE;
	for (size_t i = 0; i < path->len; i++)
		if (path->bit[i] == d)
			return SM_EPARSE;
	return 0;
}

int ptree_verify(const uint8_t root[PTREE_HASH_LEN], const uint8_t idx[PTREE_IDX_LEN],
		 const struct ptree_proof *proof)
{
	uint8_t h[PTREE_HASH_LEN];
	int r = verify_shape(idx, proof);
	if (r < 0)
		return r;
	if (!proof->has_leaf) {
		ptree_empty_hash(h);
	} else {
		ptree_leaf_hash(&proof->leaf, h);
		for (size_t i = 0; i < proof->path.len; i++) {
			unsigned b = proof->path.bit[i];
			const uint8_t *sib = proof->path.sibling[i];
			if (ptree_bit(proof->leaf.idx, b))
				ptree_inner_hash(b, sib, h, h);
			else
				ptree_inner_hash(b, h, sib, h);
		}
	}
	return sodium_memcmp(h, root, PTREE_HASH_LEN) == 0 ? 0 : SM_ECRYPTO;
}
