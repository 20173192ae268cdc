#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <sodium.h>

#include "check.h"
#include "mem_tlog.h"
#include "tlog.h"

#ifndef TLOG_VECTORS_DIR
#error "TLOG_VECTORS_DIR must name tests/unit/vectors/merkle"
#endif

/* ---- the in-memory store (mem_tlog.h) ---- */

/* Leaf i of the test trees is the 2-byte string (i, i >> 8). */
static void mem_build(struct mem_tlog *m, struct tlog_store *st, uint64_t size)
{
	memset(m, 0, sizeof(*m));
	*st = mem_tlog_store(m);
	for (uint64_t i = 0; i < size; i++) {
		uint8_t d[2] = {(uint8_t)i, (uint8_t)(i >> 8)}, h[TLOG_HASH_LEN];
		tlog_leaf_hash(d, sizeof(d), h);
		CHECK_INT(tlog_append(st, i, h), 0);
	}
}

/* ---- the RFC 9162 definitions, recursive and straight from the text ---- */

static uint64_t ref_k(uint64_t n)
{
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

static void ref_mth(const uint8_t (*leaves)[TLOG_HASH_LEN], uint64_t n, uint8_t ret[TLOG_HASH_LEN])
{
	uint8_t l[TLOG_HASH_LEN], r[TLOG_HASH_LEN];
	if (n == 1) {
		memcpy(ret, leaves[0], TLOG_HASH_LEN);
		return;
	}
	uint64_t k = ref_k(n);
	ref_mth(leaves, k, l);
	ref_mth(leaves + k, n - k, r);
	tlog_node_hash(l, r, ret);
}

static void ref_path(const uint8_t (*d)[TLOG_HASH_LEN], uint64_t m, uint64_t n,
		     uint8_t (*out)[TLOG_HASH_LEN], size_t *len)
{
	if (n == 1)
		return;
	uint64_t k = ref_k(n);
	if (m < k) {
		ref_path(d, m, k, out, len);
		ref_mth(d + k, n - k, out[(*len)++]);
	} else {
		ref_path(d + k, m - k, n - k, out, len);
		ref_mth(d, k, out[(*len)++]);
	}
}

static void ref_subproof(const uint8_t (*d)[TLOG_HASH_LEN], uint64_t m, uint64_t n, int b,
			 uint8_t (*out)[TLOG_HASH_LEN], size_t *len)
{
	if (m == n) {
		if (!b)
			ref_mth(d, n, out[(*len)++]);
		return;
	}
	uint64_t k = ref_k(n);
	if (m <= k) {
		ref_subproof(d, m, k, b, out, len);
		ref_mth(d + k, n - k, out[(*len)++]);
	} else {
		ref_subproof(d + k, m - k, n - k, 0, out, len);
		ref_mth(d, k, out[(*len)++]);
	}
}

/* ---- the transparency-dev/merkle vectors ---- */

#define VEC_FILE_MAX 16384
#define VEC_PROOF_MAX 80
#define VEC_RAW_MAX 64

/* A value as the vectors give it: base64 that may decode to any length. */
struct raw {
	uint8_t b[VEC_RAW_MAX];
	size_t len;
};

struct vec {
	uint64_t leaf_idx, tree_size, size1, size2;
	struct raw root, leaf_hash, root1, root2;
	struct raw proof[VEC_PROOF_MAX];
	size_t nproof;
	int want_err;
	int is_consistency;
	char desc[200];
};

struct cur {
	const char *p, *end;
	int bad;
};

static void skip_ws(struct cur *c)
{
	while (c->p < c->end && strchr(" \t\r\n", *c->p) != NULL && *c->p != 0)
		c->p++;
}

static int eat(struct cur *c, char ch)
{
	skip_ws(c);
	if (c->p < c->end && *c->p == ch) {
		c->p++;
		return 1;
	}
	return 0;
}

static int eat_word(struct cur *c, const char *w)
{
	size_t n = strlen(w);
	skip_ws(c);
	if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
		c->p += n;
		return 1;
	}
	return 0;
}

/* A JSON string without escapes (the vectors have none), into out. */
static void get_string(struct cur *c, char *out, size_t cap)
{
	size_t n = 0;
	if (!eat(c, '"')) {
		c->bad = 1;
		return;
	}
	while (c->p < c->end && *c->p != '"' && *c->p != '\\') {
		if (n + 1 < cap)
			out[n++] = *c->p;
		c->p++;
	}
	out[n] = 0;
	if (c->p >= c->end || *c->p != '"')
		c->bad = 1;
	else
		c->p++;
}

static uint64_t get_u64(struct cur *c)
{
	uint64_t v = 0;
	skip_ws(c);
	if (c->p >= c->end || *c->p < '0' || *c->p > '9')
		c->bad = 1;
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned dgt = (unsigned)(*c->p++ - '0');
		if (v > (UINT64_MAX - dgt) / 10)
			c->bad = 1;
		v = v * 10 + dgt;
	}
	return v;
}

static void get_b64(struct cur *c, struct raw *r)
{
	char s[200];
	get_string(c, s, sizeof(s));
	if (c->bad)
		return;
	if (sodium_base642bin(r->b, sizeof(r->b), s, strlen(s), NULL, &r->len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		c->bad = 1;
}

static void get_proof(struct cur *c, struct vec *v)
{
	if (eat_word(c, "null"))
		return;
	if (!eat(c, '[')) {
		c->bad = 1;
		return;
	}
	if (eat(c, ']'))
		return;
	do {
		if (v->nproof == VEC_PROOF_MAX) {
			c->bad = 1;
			return;
		}
		get_b64(c, &v->proof[v->nproof++]);
	} while (!c->bad && eat(c, ','));
	if (!eat(c, ']'))
		c->bad = 1;
}

static void get_field(struct cur *c, struct vec *v, const char *key)
{
	static const struct {
		const char *key;
		size_t off;
	} nums[] = {
		{"leafIdx", offsetof(struct vec, leaf_idx)}, {"treeSize", offsetof(struct vec, tree_size)},
		{"size1", offsetof(struct vec, size1)},      {"size2", offsetof(struct vec, size2)},
	}, raws[] = {
		{"root", offsetof(struct vec, root)},   {"leafHash", offsetof(struct vec, leaf_hash)},
		{"root1", offsetof(struct vec, root1)}, {"root2", offsetof(struct vec, root2)},
	};
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(key, nums[i].key) == 0) {
			*(uint64_t *)(void *)((char *)v + nums[i].off) = get_u64(c);
			return;
		}
		if (strcmp(key, raws[i].key) == 0) {
			get_b64(c, (struct raw *)(void *)((char *)v + raws[i].off));
			return;
		}
	}
	if (strcmp(key, "proof") == 0)
		get_proof(c, v);
	else if (strcmp(key, "desc") == 0)
		get_string(c, v->desc, sizeof(v->desc));
	else if (strcmp(key, "wantErr") == 0 && eat_word(c, "true"))
		v->want_err = 1;
	else if (strcmp(key, "wantErr") != 0 || !eat_word(c, "false"))
		c->bad = 1;
}

/* Parses one vector file: a flat object of known keys, nothing after it. */
static int parse_vec(const char *text, size_t len, struct vec *v)
{
	struct cur c = {text, text + len, 0};
	char key[32];
	memset(v, 0, sizeof(*v));
	if (!eat(&c, '{'))
		return -1;
	do {
		get_string(&c, key, sizeof(key));
		if (c.bad || !eat(&c, ':'))
			return -1;
		if (strncmp(key, "size", 4) == 0)
			v->is_consistency = 1;
		get_field(&c, v, key);
	} while (!c.bad && eat(&c, ','));
	if (c.bad || !eat(&c, '}'))
		return -1;
	skip_ws(&c);
	return c.p == c.end ? 0 : -1;
}

/* The C API takes hashes as exactly 32 bytes. A vector value of another
 * length (an empty root, "don't care" strings) becomes a 32-byte value that
 * no real hash equals but that keeps equal values equal, as Go's byte
 * comparison does. */
static void as_hash(const struct raw *r, uint8_t out[TLOG_HASH_LEN])
{
	if (r->len == TLOG_HASH_LEN) {
		memcpy(out, r->b, TLOG_HASH_LEN);
		return;
	}
	crypto_hash_sha256_state s;
	crypto_hash_sha256_init(&s);
	crypto_hash_sha256_update(&s, (const uint8_t *)"not a hash", 10);
	crypto_hash_sha256_update(&s, r->b, r->len);
	crypto_hash_sha256_final(&s, out);
}

/* Returns 1 if the verifier accepts the case. */
static int run_vec(const struct vec *v)
{
	uint8_t proof[VEC_PROOF_MAX][TLOG_HASH_LEN], a[TLOG_HASH_LEN], b[TLOG_HASH_LEN], leaf[TLOG_HASH_LEN];
	for (size_t i = 0; i < v->nproof; i++)
		as_hash(&v->proof[i], proof[i]);
	if (v->is_consistency) {
		as_hash(&v->root1, a);
		as_hash(&v->root2, b);
		return tlog_verify_consistency(v->size1, v->size2, (const uint8_t (*)[TLOG_HASH_LEN])proof,
					       v->nproof, a, b) == 0;
	}
	/* A leaf hash of the wrong length cannot be passed at all: the C type
	 * rejects it where Go's verifier checks the length. */
	if (v->leaf_hash.len != TLOG_HASH_LEN)
		return 0;
	as_hash(&v->root, a);
	memcpy(leaf, v->leaf_hash.b, TLOG_HASH_LEN);
	return tlog_verify_inclusion(v->leaf_idx, v->tree_size, leaf,
				     (const uint8_t (*)[TLOG_HASH_LEN])proof, v->nproof, a) == 0;
}

struct vec_count {
	unsigned files, inclusion, consistency, rejected, failed;
};

static void run_vec_file(const char *path, struct vec_count *vc)
{
	static char text[VEC_FILE_MAX];
	static struct vec v;
	FILE *f = fopen(path, "rb");
	size_t len = 0;
	if (f != NULL) {
		len = fread(text, 1, sizeof(text), f);
		fclose(f);
	}
	vc->files++;
	if (f == NULL || len == sizeof(text) || parse_vec(text, len, &v) < 0) {
		printf("# %s: cannot read or parse\n", path);
		vc->failed++;
		return;
	}
	if (v.is_consistency)
		vc->consistency++;
	else
		vc->inclusion++;
	int accepted = run_vec(&v);
	vc->rejected += !accepted;
	if (accepted == v.want_err) {
		printf("# %s (%s): %s, expected %s\n", path, v.desc, accepted ? "accepted" : "rejected",
		       v.want_err ? "an error" : "success");
		vc->failed++;
	}
}

static void run_vec_dir(const char *dir, struct vec_count *vc)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];
	struct stat st;
	if (d == NULL) {
		printf("# cannot open %s\n", dir);
		vc->failed++;
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		int k = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (k < 0 || (size_t)k >= sizeof(path) || stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			run_vec_dir(path, vc);
		else if (k > 5 && strcmp(path + k - 5, ".json") == 0)
			run_vec_file(path, vc);
	}
	closedir(d);
}

static void merkle_vectors(void)
{
	struct vec_count vc = {0, 0, 0, 0, 0};
	run_vec_dir(TLOG_VECTORS_DIR "/inclusion", &vc);
	run_vec_dir(TLOG_VECTORS_DIR "/consistency", &vc);
	printf("# %u vector files: %u inclusion, %u consistency; %u rejected as expected\n", vc.files,
	       vc.inclusion, vc.consistency, vc.rejected);
	CHECK_INT(vc.failed, 0);
	/* the copy of transparency-dev/merkle testdata holds 98 of each */
	CHECK_INT(vc.inclusion, 98);
	CHECK_INT(vc.consistency, 98);
}

/* ---- the tree ---- */

static void hex_hash(const char *hex, uint8_t out[TLOG_HASH_LEN])
{
	size_t n = 0;
	CHECK(sodium_hex2bin(out, TLOG_HASH_LEN, hex, strlen(hex), NULL, &n, NULL) == 0);
	CHECK_INT(n, TLOG_HASH_LEN);
}

/* The RFC 6962 / Certificate Transparency test tree of 8 leaves. */
static void known_roots(void)
{
	static const char *const leaves[8] = {
		"", "\x00", "\x10", "\x20\x21", "\x30\x31", "\x40\x41\x42\x43",
		"\x50\x51\x52\x53\x54\x55\x56\x57", "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
	};
	static const size_t lens[8] = {0, 1, 1, 2, 2, 4, 8, 16};
	static const char *const roots[9] = {
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	};
	struct mem_tlog m;
	struct tlog_store st;
	uint8_t h[TLOG_HASH_LEN], want[TLOG_HASH_LEN];
	mem_build(&m, &st, 0);
	for (unsigned n = 0; n <= 8; n++) {
		CHECK_INT(tlog_root(&st, n, h), 0);
		hex_hash(roots[n], want);
		CHECK(memcmp(h, want, TLOG_HASH_LEN) == 0);
		if (n < 8) {
			tlog_leaf_hash((const uint8_t *)leaves[n], lens[n], h);
			CHECK_INT(tlog_append(&st, n, h), 0);
		}
	}
	mem_tlog_free(&m);
}

#define CROSS_MAX 70

/* Flips one bit of each proof hash in turn; each must be rejected. */
static void check_mutations_inclusion(uint64_t i, uint64_t n, const uint8_t leaf[TLOG_HASH_LEN],
				      uint8_t (*p)[TLOG_HASH_LEN], size_t len, const uint8_t root[TLOG_HASH_LEN])
{
	for (size_t j = 0; j < len; j++) {
		p[j][j % TLOG_HASH_LEN] ^= 0x10;
		CHECK_INT(tlog_verify_inclusion(i, n, leaf, (const uint8_t (*)[TLOG_HASH_LEN])p, len, root),
			  SM_ECRYPTO);
		p[j][j % TLOG_HASH_LEN] ^= 0x10;
	}
	if (len > 0)
		CHECK_INT(tlog_verify_inclusion(i, n, leaf, (const uint8_t (*)[TLOG_HASH_LEN])p, len - 1, root),
			  SM_EINVAL);
}

static void inclusion_cross(void)
{
	static uint8_t leaves[CROSS_MAX][TLOG_HASH_LEN], ref[TLOG_PROOF_MAX][TLOG_HASH_LEN];
	static uint8_t p[TLOG_PROOF_MAX][TLOG_HASH_LEN];
	uint8_t root[TLOG_HASH_LEN], want[TLOG_HASH_LEN];
	struct mem_tlog m;
	struct tlog_store st;
	size_t len, rlen;
	mem_build(&m, &st, CROSS_MAX);
	for (uint64_t i = 0; i < CROSS_MAX; i++)
		CHECK_INT(mem_tlog_read(&m, 0, i, leaves[i]), 0);
	for (uint64_t n = 1; n <= CROSS_MAX; n++) {
		CHECK_INT(tlog_root(&st, n, root), 0);
		ref_mth((const uint8_t (*)[TLOG_HASH_LEN])leaves, n, want);
		CHECK(memcmp(root, want, TLOG_HASH_LEN) == 0);
		for (uint64_t i = 0; i < n; i++) {
			CHECK_INT(tlog_prove_inclusion(&st, i, n, p, &len), 0);
			rlen = 0;
			ref_path((const uint8_t (*)[TLOG_HASH_LEN])leaves, i, n, ref, &rlen);
			CHECK(len == rlen && memcmp(p, ref, len * TLOG_HASH_LEN) == 0);
			CHECK_INT(tlog_verify_inclusion(i, n, leaves[i], (const uint8_t (*)[TLOG_HASH_LEN])p, len, root), 0);
			CHECK_INT(tlog_verify_inclusion(i, n, leaves[(i + 1) % n], (const uint8_t (*)[TLOG_HASH_LEN])p,
							len, root) == 0, n == 1);
			check_mutations_inclusion(i, n, leaves[i], p, len, root);
		}
	}
	mem_tlog_free(&m);
}

static void check_mutations_consistency(uint64_t a, uint64_t b, uint8_t (*p)[TLOG_HASH_LEN], size_t len,
					const uint8_t ra[TLOG_HASH_LEN], const uint8_t rb[TLOG_HASH_LEN])
{
	for (size_t j = 0; j < len; j++) {
		p[j][j % TLOG_HASH_LEN] ^= 0x01;
		CHECK_INT(tlog_verify_consistency(a, b, (const uint8_t (*)[TLOG_HASH_LEN])p, len, ra, rb),
			  SM_ECRYPTO);
		p[j][j % TLOG_HASH_LEN] ^= 0x01;
	}
	/* roots swapped, or the new root given for the old tree */
	if (a < b) {
		CHECK(tlog_verify_consistency(a, b, (const uint8_t (*)[TLOG_HASH_LEN])p, len, rb, ra) != 0);
		CHECK(tlog_verify_consistency(a, b, (const uint8_t (*)[TLOG_HASH_LEN])p, len, rb, rb) != 0);
	}
}

static void consistency_cross(void)
{
	static uint8_t leaves[CROSS_MAX][TLOG_HASH_LEN], ref[TLOG_PROOF_MAX][TLOG_HASH_LEN];
	static uint8_t p[TLOG_PROOF_MAX][TLOG_HASH_LEN], roots[CROSS_MAX + 1][TLOG_HASH_LEN];
	struct mem_tlog m;
	struct tlog_store st;
	size_t len, rlen;
	mem_build(&m, &st, CROSS_MAX);
	for (uint64_t i = 0; i < CROSS_MAX; i++)
		CHECK_INT(mem_tlog_read(&m, 0, i, leaves[i]), 0);
	for (uint64_t n = 0; n <= CROSS_MAX; n++)
		CHECK_INT(tlog_root(&st, n, roots[n]), 0);
	for (uint64_t b = 1; b <= CROSS_MAX; b++) {
		for (uint64_t a = 1; a <= b; a++) {
			CHECK_INT(tlog_prove_consistency(&st, a, b, p, &len), 0);
			rlen = 0;
			ref_subproof((const uint8_t (*)[TLOG_HASH_LEN])leaves, a, b, 1, ref, &rlen);
			CHECK(len == rlen && memcmp(p, ref, len * TLOG_HASH_LEN) == 0);
			CHECK_INT(tlog_verify_consistency(a, b, (const uint8_t (*)[TLOG_HASH_LEN])p, len, roots[a],
							  roots[b]), 0);
			check_mutations_consistency(a, b, p, len, roots[a], roots[b]);
		}
	}
	mem_tlog_free(&m);
}

static void proof_rejects(void)
{
	uint8_t p[TLOG_PROOF_MAX][TLOG_HASH_LEN], big[TLOG_PROOF_MAX + 1][TLOG_HASH_LEN], h[TLOG_HASH_LEN];
	size_t len = 77;
	struct mem_tlog m;
	struct tlog_store st;
	memset(p, 0xab, sizeof(p));
	memset(big, 0, sizeof(big));
	memset(h, 0, sizeof(h));
	mem_build(&m, &st, 5);
	CHECK_INT(tlog_prove_inclusion(&st, 5, 5, p, &len), SM_EINVAL);
	CHECK_INT(tlog_prove_consistency(&st, 0, 5, p, &len), SM_EINVAL);
	CHECK_INT(tlog_prove_consistency(&st, 6, 5, p, &len), SM_EINVAL);
	/* a store that lacks hashes: the error is passed on, outputs untouched */
	CHECK_INT(tlog_prove_inclusion(&st, 0, 9, p, &len), SM_ENOTFOUND);
	CHECK_INT(tlog_prove_consistency(&st, 3, 9, p, &len), SM_ENOTFOUND);
	CHECK_INT(tlog_root(&st, 6, h), SM_ENOTFOUND);
	CHECK_INT(len, 77);
	CHECK(p[0][0] == 0xab && h[0] == 0);
	CHECK_INT(tlog_verify_inclusion(0, 0, h, (const uint8_t (*)[TLOG_HASH_LEN])big, 0, h), SM_EINVAL);
	CHECK_INT(tlog_verify_inclusion(UINT64_MAX, UINT64_MAX, h, (const uint8_t (*)[TLOG_HASH_LEN])big, 0, h),
		  SM_EINVAL);
	CHECK_INT(tlog_verify_inclusion(0, UINT64_MAX, h, (const uint8_t (*)[TLOG_HASH_LEN])big,
					TLOG_PROOF_MAX + 1, h), SM_EINVAL);
	CHECK_INT(tlog_verify_consistency(1, UINT64_MAX, (const uint8_t (*)[TLOG_HASH_LEN])big,
					  TLOG_PROOF_MAX + 1, h, h), SM_EINVAL);
	/* from the empty tree: meaningless, whatever the roots */
	CHECK_INT(tlog_verify_consistency(0, 0, (const uint8_t (*)[TLOG_HASH_LEN])big, 0, h, h), SM_EINVAL);
	CHECK_INT(tlog_verify_consistency(3, 3, (const uint8_t (*)[TLOG_HASH_LEN])big, 0, h, h), 0);
	mem_tlog_free(&m);
}

/* A big, sparse tree: the shape arithmetic near 2^64 without 2^64 leaves. */
static void huge_sizes(void)
{
	uint8_t p[TLOG_PROOF_MAX][TLOG_HASH_LEN], leaf[TLOG_HASH_LEN] = {0}, root[TLOG_HASH_LEN];
	uint64_t size = UINT64_MAX - 1;
	size_t len = 0;
	/* the last leaf of a tree of 2^64 - 2 leaves: one left sibling per
	 * 1 bit of its index, 63 hashes */
	memset(p, 0x5a, sizeof(p));
	memcpy(root, leaf, sizeof(root));
	len = (size_t)__builtin_popcountll(size - 1);
	CHECK_INT(len, 63);
	for (size_t i = 0; i < len; i++)
		tlog_node_hash(p[i], root, root);
	CHECK_INT(tlog_verify_inclusion(size - 1, size, leaf, (const uint8_t (*)[TLOG_HASH_LEN])p, len, root), 0);
	/* leaf 0 of 2^64 - 1 leaves, and the 1-leaf tree inside it: 64 right
	 * siblings, the longest proof there is */
	memcpy(root, leaf, sizeof(root));
	for (size_t i = 0; i < TLOG_PROOF_MAX; i++)
		tlog_node_hash(root, p[i], root);
	CHECK_INT(tlog_verify_inclusion(0, UINT64_MAX, leaf, (const uint8_t (*)[TLOG_HASH_LEN])p,
					TLOG_PROOF_MAX, root), 0);
	CHECK_INT(tlog_verify_consistency(1, UINT64_MAX, (const uint8_t (*)[TLOG_HASH_LEN])p, TLOG_PROOF_MAX,
					  leaf, root), 0);
	CHECK_INT(tlog_verify_consistency((1ull << 63) + 1, UINT64_MAX, (const uint8_t (*)[TLOG_HASH_LEN])p,
					  TLOG_PROOF_MAX, leaf, root), SM_EINVAL);
	CHECK_INT(tlog_verify_consistency(UINT64_MAX - 1, UINT64_MAX, (const uint8_t (*)[TLOG_HASH_LEN])p, 2,
					  leaf, root), SM_EINVAL);
	CHECK_INT(tlog_verify_consistency(UINT64_MAX - 1, UINT64_MAX, (const uint8_t (*)[TLOG_HASH_LEN])p,
					  TLOG_PROOF_MAX, leaf, root), SM_ECRYPTO);
}

/* ---- tiles ---- */

static void tile_paths(void)
{
	char s[TLOG_PATH_MAX] = "unchanged";
	struct tlog_tile t = {0, 1234067, 256};
	CHECK_INT(tlog_tile_path(&t, s), 0);
	CHECK_STR(s, "tile/0/x001/x234/067");
	t.width = 8;
	CHECK_INT(tlog_tile_path(&t, s), 0);
	CHECK_STR(s, "tile/0/x001/x234/067.p/8");
	t = (struct tlog_tile){1, 0, 17};
	CHECK_INT(tlog_tile_path(&t, s), 0);
	CHECK_STR(s, "tile/1/000.p/17");
	t = (struct tlog_tile){63, 1000, 255};
	CHECK_INT(tlog_tile_path(&t, s), 0);
	CHECK_STR(s, "tile/63/x001/000.p/255");
	t = (struct tlog_tile){2, 999, 256};
	CHECK_INT(tlog_tile_path(&t, s), 0);
	CHECK_STR(s, "tile/2/999");
	CHECK_INT(tlog_entries_path(1234067, 256, s), 0);
	CHECK_STR(s, "tile/entries/x001/x234/067");
	CHECK_INT(tlog_entries_path(273, 112, s), 0);
	CHECK_STR(s, "tile/entries/273.p/112");
	CHECK_INT(tlog_entries_path(UINT64_MAX, 255, s), 0);
	CHECK_STR(s, "tile/entries/x018/x446/x744/x073/x709/x551/615.p/255");
	snprintf(s, sizeof(s), "unchanged");
	t = (struct tlog_tile){64, 0, 256};
	CHECK_INT(tlog_tile_path(&t, s), SM_EINVAL);
	t = (struct tlog_tile){0, 0, 0};
	CHECK_INT(tlog_tile_path(&t, s), SM_EINVAL);
	CHECK_INT(tlog_entries_path(0, 257, s), SM_EINVAL);
	CHECK_STR(s, "unchanged");
}

static void tile_widths(void)
{
	unsigned w = 0;
	/* the spec's example: a tree of 70,000 leaves */
	CHECK_INT(tlog_tile_width(0, 272, 70000, &w), 0);
	CHECK_INT(w, 256);
	CHECK_INT(tlog_tile_width(0, 273, 70000, &w), 0);
	CHECK_INT(w, 112);
	CHECK_INT(tlog_tile_width(0, 274, 70000, &w), SM_ENOTFOUND);
	CHECK_INT(tlog_tile_width(1, 0, 70000, &w), 0);
	CHECK_INT(w, 256);
	CHECK_INT(tlog_tile_width(1, 1, 70000, &w), 0);
	CHECK_INT(w, 17);
	CHECK_INT(tlog_tile_width(2, 0, 70000, &w), 0);
	CHECK_INT(w, 1);
	CHECK_INT(tlog_tile_width(3, 0, 70000, &w), SM_ENOTFOUND);
	/* and of 256: one full level 0 tile, a level 1 tile of width 1 */
	CHECK_INT(tlog_tile_width(0, 0, 256, &w), 0);
	CHECK_INT(w, 256);
	CHECK_INT(tlog_tile_width(0, 1, 256, &w), SM_ENOTFOUND);
	CHECK_INT(tlog_tile_width(1, 0, 256, &w), 0);
	CHECK_INT(w, 1);
	CHECK_INT(tlog_tile_width(7, 0, UINT64_MAX, &w), 0);
	CHECK_INT(w, 255);
	CHECK_INT(tlog_tile_width(8, 0, UINT64_MAX, &w), SM_ENOTFOUND);
	CHECK_INT(tlog_tile_width(63, 0, UINT64_MAX, &w), SM_ENOTFOUND);
	CHECK_INT(tlog_tile_width(64, 0, 1, &w), SM_EINVAL);
}

static void tile_of_hash(void)
{
	struct tlog_tile t = {99, 99, 99};
	unsigned off = 99, cnt = 99;
	CHECK_INT(tlog_tile_for_hash(0, 1234067 * 256 + 5, &t, &off, &cnt), 0);
	CHECK(t.level == 0 && t.n == 1234067 && t.width == 6 && off == 5 && cnt == 1);
	CHECK_INT(tlog_tile_for_hash(8, 300, &t, &off, &cnt), 0);
	CHECK(t.level == 1 && t.n == 1 && t.width == 45 && off == 44 && cnt == 1);
	/* level 3 is inside a level-0 tile: 8 of its hashes make it */
	CHECK_INT(tlog_tile_for_hash(3, 33, &t, &off, &cnt), 0);
	CHECK(t.level == 0 && t.n == 1 && t.width == 16 && off == 8 && cnt == 8);
	CHECK_INT(tlog_tile_for_hash(15, 1, &t, &off, &cnt), 0);
	CHECK(t.level == 1 && t.n == 0 && t.width == 256 && off == 128 && cnt == 128);
	CHECK_INT(tlog_tile_for_hash(63, 1, &t, &off, &cnt), 0);
	CHECK(t.level == 7 && t.n == 0 && off == 128 && cnt == 128);
	t = (struct tlog_tile){99, 99, 99};
	off = cnt = 99;
	CHECK_INT(tlog_tile_for_hash(63, 2, &t, &off, &cnt), SM_EINVAL);
	CHECK_INT(tlog_tile_for_hash(64, 0, &t, &off, &cnt), SM_EINVAL);
	CHECK_INT(tlog_tile_for_hash(9, UINT64_MAX >> 8, &t, &off, &cnt), SM_EINVAL);
	CHECK(t.level == 99 && off == 99 && cnt == 99);
}

/* A full tile's 256 hashes, hashed as a tree, give the stored hash one tile level up. */
static void tile_hashes(void)
{
	static uint8_t tile[TLOG_TILE_WIDTH][TLOG_HASH_LEN];
	uint8_t h[TLOG_HASH_LEN], want[TLOG_HASH_LEN];
	struct mem_tlog m;
	struct tlog_store st;
	mem_build(&m, &st, 600);
	for (unsigned i = 0; i < TLOG_TILE_WIDTH; i++)
		CHECK_INT(mem_tlog_read(&m, 0, 256 + i, tile[i]), 0);
	ref_mth((const uint8_t (*)[TLOG_HASH_LEN])tile, TLOG_TILE_WIDTH, h);
	CHECK_INT(mem_tlog_read(&m, 8, 1, want), 0);
	CHECK(memcmp(h, want, TLOG_HASH_LEN) == 0);
	CHECK_INT(m.n[8], 2);
	CHECK_INT(m.n[9], 1);
	CHECK_INT(m.n[10], 0);
	mem_tlog_free(&m);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(merkle_vectors);
	RUN(known_roots);
	RUN(inclusion_cross);
	RUN(consistency_cross);
	RUN(proof_rejects);
	RUN(huge_sizes);
	RUN(tile_paths);
	RUN(tile_widths);
	RUN(tile_of_hash);
	RUN(tile_hashes);
	return check_done();
}
