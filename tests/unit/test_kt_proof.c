/* test_kt_proof: lookup proofs end to end. A domain is built for real (a
 * VRF key, a log key, three witnesses, a map of a few hundred entries
 * changed over several epochs through kt_delta, an epoch log in tlog,
 * checkpoints signed and cosigned through note), proofs are made from it
 * as the daemon would, and each check of kt_proof_verify is shown to catch
 * the forgery it is for.
 *
 * With KT_PROOF_CORPUS=DIR set, the proofs are also written to DIR as the
 * seed corpus of fuzz_kt_proof (its keys are the deterministic ones here). */
#include <inttypes.h>
#include <stdlib.h>

#include <sodium.h>

#include "check.h"
#include "kt.h"
#include "kt_delta.h"
#include "kt_proof.h"
#include "tlog.h"

#define DOMAIN "example.org"
#define NWIT 3
#define EPOCHS_MAX 8
#define CERT_LEN 398 /* a real gpg ed25519 + cv25519 certificate, one user ID */
#define TS 1700000000u

/* ---- an in-memory hash store (as in test_tlog) ---- */

struct mem {
	uint8_t (*lv[64])[TLOG_HASH_LEN];
	uint64_t n[64], cap[64];
};

static int mem_read(void *ctx, unsigned level, uint64_t index, uint8_t ret[TLOG_HASH_LEN])
{
	struct mem *m = ctx;
	if (level >= 64 || index >= m->n[level])
		return SM_ENOTFOUND;
	memcpy(ret, m->lv[level][index], TLOG_HASH_LEN);
	return 0;
}

static int mem_write(void *ctx, unsigned level, uint64_t index, const uint8_t h[TLOG_HASH_LEN])
{
	struct mem *m = ctx;
	if (level >= 64 || index > m->n[level])
		return SM_EINVAL;
	if (index == m->cap[level]) {
		uint64_t cap = m->cap[level] ? 2 * m->cap[level] : 16;
		void *p = realloc(m->lv[level], cap * TLOG_HASH_LEN);
		if (p == NULL)
			return SM_ENOMEM;
		m->lv[level] = p;
		m->cap[level] = cap;
	}
	memcpy(m->lv[level][index], h, TLOG_HASH_LEN);
	if (index == m->n[level])
		m->n[level]++;
	return 0;
}

/* ---- the domain ---- */

struct rec {
	char addr[64];
	uint8_t idx[PTREE_IDX_LEN];
	uint8_t opening[KT_OPENING_LEN];
	uint8_t cert[CERT_LEN];
};

struct fx {
	uint8_t vrf_pk[VRF_PK_LEN], vrf_sk[VRF_SK_LEN];
	struct note_signer *log, *wit[NWIT];
	struct note_verifier log_v, wit_v[NWIT];
	struct ptree *map;
	struct mem mem;
	struct tlog_store st;
	uint64_t size;
	struct rec *recs;
	size_t nrec;
	struct buf notes[EPOCHS_MAX]; /* the signed checkpoint of size i + 1 */
	uint8_t map_roots[EPOCHS_MAX][PTREE_HASH_LEN];
};

/* Deterministic keys (seed: the byte tag repeated), shared with fuzz_kt_proof. */
static struct note_signer *signer(const char *name, uint8_t type, uint8_t tag, int random)
{
	uint8_t seed[32], pk[32], sk[64];
	struct note_signer *s = NULL;
	memset(seed, tag, sizeof(seed));
	if (random)
		crypto_sign_keypair(pk, sk);
	else
		crypto_sign_ed25519_seed_keypair(pk, sk, seed);
	CHECK_INT(note_signer_new(name, type, sk, &s), 0);
	sodium_memzero(sk, sizeof(sk));
	return s;
}

static void vrf_key(struct fx *f, int random)
{
	uint8_t wide[64];
	if (random) {
		CHECK_INT(vrf_keypair(f->vrf_pk, f->vrf_sk), 0);
		return;
	}
	memset(wide, 0x30, sizeof(wide));
	crypto_core_ristretto255_scalar_reduce(f->vrf_sk, wide);
	CHECK_INT(vrf_public_key(f->vrf_sk, f->vrf_pk), 0);
}

static void address_index(const struct fx *f, const char *addr, uint8_t idx[PTREE_IDX_LEN],
			  uint8_t proof[VRF_PROOF_LEN])
{
	uint8_t pr[VRF_PROOF_LEN], beta[VRF_OUTPUT_LEN];
	CHECK_INT(vrf_prove(f->vrf_sk, (const uint8_t *)addr, strlen(addr), pr), 0);
	CHECK_INT(vrf_proof_to_hash(pr, beta), 0);
	kt_index(beta, idx);
	if (proof != NULL)
		memcpy(proof, pr, sizeof(pr));
}

/* A signed note of body: the log's signature if mask & 1, then witness i's
 * cosignature if mask & (2 << i). */
static void sign_body(const struct fx *f, const uint8_t *body, size_t len, unsigned mask,
		      struct buf *out)
{
	if (mask & 1) {
		CHECK_INT(note_sign(f->log, body, len, 0, out), 0);
	} else {
		CHECK_INT(buf_append(out, body, len), 0);
		CHECK_INT(buf_append(out, "\n", 1), 0);
	}
	for (size_t i = 0; i < NWIT; i++)
		if (mask & (2u << i))
			CHECK_INT(note_sign_line(f->wit[i], body, len, TS + i, out), 0);
}

static const struct rec *sort_base;

static int by_idx(const void *a, const void *b)
{
	return memcmp(sort_base[*(const size_t *)a].idx, sort_base[*(const size_t *)b].idx,
		      PTREE_IDX_LEN);
}

static void commitment_of(const struct rec *r, uint8_t ret[PTREE_HASH_LEN])
{
	uint8_t d[KT_DIGEST_LEN];
	kt_key_digest(r->cert, CERT_LEN, d);
	CHECK_INT(kt_commitment(r->opening, r->addr, d, ret), 0);
}

/* One epoch: records which[0..k) get a new version (new opening and key),
 * through a delta applied with kt_delta_apply as a witness would. */
static void fx_epoch(struct fx *f, size_t *which, size_t k)
{
	struct buf delta, body;
	struct kt_entry e;
	struct kt_map_line m;
	uint8_t leaf[TLOG_HASH_LEN], log_root[TLOG_HASH_LEN], c[PTREE_HASH_LEN];
	uint64_t epoch = f->size;
	int why = -1;
	buf_init(&delta, 1u << 24);
	buf_init(&body, 4096);
	sort_base = f->recs;
	qsort(which, k, sizeof(*which), by_idx);
	CHECK_INT(kt_delta_begin(&delta, epoch), 0);
	for (size_t i = 0; i < k; i++) {
		struct rec *r = &f->recs[which[i]];
		struct ptree_leaf old;
		int have = ptree_get(f->map, r->idx, &old) == 0;
		randombytes_buf(r->opening, sizeof(r->opening));
		randombytes_buf(r->cert, sizeof(r->cert));
		commitment_of(r, c);
		CHECK_INT(kt_delta_add(&delta, r->idx, have ? &old : NULL, c), 0);
	}
	CHECK_INT(kt_delta_apply(f->map, delta.data, delta.len, epoch, &why), 0);
	CHECK_INT(why, 0);
	e.epoch = epoch;
	e.time = TS + epoch;
	ptree_root(f->map, e.map_root);
	memcpy(f->map_roots[epoch], e.map_root, PTREE_HASH_LEN);
	crypto_hash_sha256(e.delta_hash, delta.data, delta.len);
	CHECK_INT(kt_entry_leaf_hash(&e, leaf), 0);
	CHECK_INT(tlog_append(&f->st, f->size, leaf), 0);
	f->size++;
	CHECK_INT(tlog_root(&f->st, f->size, log_root), 0);
	m.epoch = epoch;
	memcpy(m.map_root, e.map_root, PTREE_HASH_LEN);
	memcpy(m.vrf_pk, f->vrf_pk, VRF_PK_LEN);
	CHECK_INT(kt_checkpoint_body(DOMAIN, f->size, log_root, &m, &body), 0);
	buf_init(&f->notes[epoch], 1u << 16);
	sign_body(f, body.data, body.len, 0xf, &f->notes[epoch]);
	buf_free(&delta);
	buf_free(&body);
}

/* n entries "user<i>@example.org": half in epoch 0, the rest in epoch 1,
 * three changed in epoch 2, one again in epoch 3, nothing in epoch 4. */
static struct fx *fx_new(size_t n, int random)
{
	struct fx *f = calloc(1, sizeof(*f));
	size_t *which = calloc(n + 1, sizeof(*which));
	vrf_key(f, random);
	f->log = signer(DOMAIN "/sealmail-kt", NOTE_KEY_ED25519, 0x10, random);
	CHECK_INT(note_signer_verifier(f->log, &f->log_v), 0);
	for (size_t i = 0; i < NWIT; i++) {
		char name[32];
		snprintf(name, sizeof(name), "witness%zu.test", i + 1);
		f->wit[i] = signer(name, NOTE_KEY_COSIG_V1, (uint8_t)(0x21 + i), random);
		CHECK_INT(note_signer_verifier(f->wit[i], &f->wit_v[i]), 0);
	}
	CHECK_INT(ptree_new(&f->map), 0);
	f->st = (struct tlog_store){mem_read, mem_write, &f->mem};
	f->recs = calloc(n + 1, sizeof(*f->recs));
	f->nrec = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(f->recs[i].addr, sizeof(f->recs[i].addr), "user%zu@" DOMAIN, i);
		address_index(f, f->recs[i].addr, f->recs[i].idx, NULL);
	}
	for (size_t i = 0; i < n / 2; i++)
		which[i] = i;
	fx_epoch(f, which, n / 2);
	for (size_t i = n / 2; i < n; i++)
		which[i - n / 2] = i;
	fx_epoch(f, which, n - n / 2);
	for (size_t i = 0; i < 3 && i < n; i++)
		which[i] = i;
	fx_epoch(f, which, n < 3 ? n : 3);
	which[0] = 0;
	fx_epoch(f, which, n > 0);
	fx_epoch(f, which, 0);
	free(which);
	return f;
}

static void fx_free(struct fx *f)
{
	note_signer_free(f->log);
	for (size_t i = 0; i < NWIT; i++)
		note_signer_free(f->wit[i]);
	ptree_free(f->map);
	for (size_t i = 0; i < 64; i++)
		free(f->mem.lv[i]);
	for (size_t i = 0; i < f->size; i++)
		buf_free(&f->notes[i]);
	free(f->recs);
	sodium_memzero(f->vrf_sk, sizeof(f->vrf_sk));
	free(f);
}

static const struct rec *fx_find(const struct fx *f, const uint8_t idx[PTREE_IDX_LEN])
{
	for (size_t i = 0; i < f->nrec; i++)
		if (memcmp(f->recs[i].idx, idx, PTREE_IDX_LEN) == 0)
			return &f->recs[i];
	return NULL;
}

/* What the daemon does: the proof for addr in the latest map, with a
 * consistency proof from old_size if it is not 0. */
static struct kt_proof *fx_proof(struct fx *f, const char *addr, uint64_t old_size)
{
	struct kt_proof *p = calloc(1, sizeof(*p));
	struct ptree_proof pp;
	uint8_t idx[PTREE_IDX_LEN];
	CHECK_INT(kt_canonical_address(addr, p->address), 0);
	p->log_key = f->log_v;
	address_index(f, p->address, idx, p->vrf_proof);
	CHECK_INT(ptree_prove(f->map, idx, &pp), 0);
	p->path = pp.path;
	if (pp.found) {
		const struct rec *r = fx_find(f, idx);
		CHECK(r != NULL);
		p->found = KT_PRESENT;
		p->counter = pp.leaf.counter;
		p->epoch = pp.leaf.epoch;
		memcpy(p->opening, r->opening, KT_OPENING_LEN);
		p->key = r->cert;
		p->key_len = CERT_LEN;
	} else if (pp.has_leaf) {
		p->found = KT_ABSENT;
		p->neighbour = pp.leaf;
	} else {
		p->found = KT_EMPTY;
	}
	if (old_size != 0) {
		p->has_consistency = 1;
		p->old_size = old_size;
		CHECK_INT(tlog_prove_consistency(&f->st, old_size, f->size, p->consistency,
						 &p->consistency_len), 0);
	}
	p->checkpoint = f->notes[f->size - 1].data;
	p->checkpoint_len = f->notes[f->size - 1].len;
	return p;
}

static void fx_trust(const struct fx *f, struct kt_trust *t, size_t quorum)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < NWIT; i++)
		t->witness[i] = f->wit_v[i];
	t->nwitness = NWIT;
	t->quorum = quorum;
}

/* The state a client keeps after seeing the checkpoint of size. */
static struct kt_state fx_state(struct fx *f, uint64_t size)
{
	struct kt_state s;
	s.log_key = f->log_v;
	s.size = size;
	CHECK_INT(tlog_root(&f->st, size, s.root), 0);
	return s;
}

/* Formats p, checks that parse and format give the same bytes back. */
static void proof_text(const struct kt_proof *p, struct buf *out)
{
	struct kt_proof *back = calloc(1, sizeof(*back));
	struct buf again;
	buf_init(&again, KT_PROOF_MAX);
	CHECK_INT(kt_proof_format(p, out), 0);
	CHECK_INT(kt_proof_parse(out->data, out->len, back), 0);
	CHECK_INT(kt_proof_format(back, &again), 0);
	CHECK(again.len == out->len && memcmp(again.data, out->data, out->len) == 0);
	buf_free(&again);
	free(back);
}

/* Parses text and verifies it; the why, or -1 if it does not parse. */
static int verify_text(const uint8_t *text, size_t len, const char *addr, const struct kt_trust *t,
		       const struct kt_state *last, struct kt_result *res)
{
	struct kt_proof *p = calloc(1, sizeof(*p));
	enum kt_why why = KT_OK;
	struct kt_result scratch;
	int r = kt_proof_parse(text, len, p);
	if (r < 0) {
		free(p);
		return -1;
	}
	r = kt_proof_verify(p, addr, t, last, res ? res : &scratch, &why);
	CHECK((r == 0) == (why == KT_OK));
	free(p);
	return (int)why;
}

static int verify_p(const struct kt_proof *p, const char *addr, const struct kt_trust *t,
		    const struct kt_state *last)
{
	struct kt_result res;
	enum kt_why why = KT_OK;
	memset(&res, 0xa5, sizeof(res));
	int r = kt_proof_verify(p, addr, t, last, &res, &why);
	CHECK((r == 0) == (why == KT_OK));
	if (r != 0)
		CHECK(((uint8_t *)&res)[0] == 0xa5 && res.size == 0xa5a5a5a5a5a5a5a5ull);
	return (int)why;
}

static struct fx *main_fx;

/* ---- proofs that hold ---- */

static void proof_present(void)
{
	struct fx *f = main_fx;
	struct kt_trust t;
	struct kt_result res;
	struct buf text;
	fx_trust(f, &t, 2);
	buf_init(&text, KT_PROOF_MAX);
	struct kt_proof *p = fx_proof(f, "User7@Example.ORG", 0);
	proof_text(p, &text);
	memset(&res, 0, sizeof(res));
	CHECK_INT(verify_text(text.data, text.len, "User7@Example.ORG", &t, NULL, &res), KT_OK);
	CHECK_INT(res.found, KT_PRESENT);
	CHECK_INT(res.counter, 1);
	CHECK_INT(res.epoch, 0);
	CHECK_INT(res.key_len, CERT_LEN);
	CHECK_INT(res.size, 5);
	CHECK_INT(res.cosigned, 3);
	CHECK_INT(res.map.epoch, 4);
	CHECK_INT(res.new_state.size, 5);
	/* entries changed later have higher counters and their epoch */
	struct kt_proof *q = fx_proof(f, "user0@example.org", 0);
	CHECK_INT(verify_p(q, "user0@example.org", &t, NULL), KT_OK);
	CHECK_INT(q->counter, 3);
	CHECK_INT(q->epoch, 3);
	CHECK(memcmp(q->key, f->recs[0].cert, CERT_LEN) == 0);
	/* a second lookup from the state the first left is fine */
	CHECK_INT(kt_proof_verify(q, "user0@example.org", &t, &res.new_state, &res,
				  &(enum kt_why){0}), 0);
	/* quorum 0: the log's signature alone */
	fx_trust(f, &t, 0);
	t.nwitness = 0;
	CHECK_INT(verify_p(q, "user0@example.org", &t, NULL), KT_OK);
	free(p);
	free(q);
	buf_free(&text);
}

static void proof_absent(void)
{
	struct fx *f = main_fx;
	struct kt_trust t;
	struct kt_result res;
	struct buf text;
	fx_trust(f, &t, 3);
	buf_init(&text, KT_PROOF_MAX);
	struct kt_proof *p = fx_proof(f, "nobody@example.org", 0);
	CHECK_INT(p->found, KT_ABSENT);
	proof_text(p, &text);
	CHECK_INT(verify_text(text.data, text.len, "nobody@example.org", &t, NULL, &res), KT_OK);
	CHECK_INT(res.found, KT_ABSENT);
	CHECK(res.key == NULL);
	free(p);
	buf_free(&text);
}

/* An empty map, and a map of one entry (absence with an empty path). */
static void proof_empty_and_single(void)
{
	struct fx *f = fx_new(0, 1), *g = fx_new(1, 1);
	struct kt_trust t;
	struct kt_result res;
	struct buf text;
	buf_init(&text, KT_PROOF_MAX);
	fx_trust(f, &t, 3);
	struct kt_proof *p = fx_proof(f, "alice@example.org", 0);
	CHECK_INT(p->found, KT_EMPTY);
	proof_text(p, &text);
	CHECK(strstr((char *)text.data, "\nempty\n\n") != NULL);
	CHECK_INT(verify_text(text.data, text.len, "alice@example.org", &t, NULL, &res), KT_OK);
	CHECK_INT(res.found, KT_EMPTY);
	/* "empty" against a map that is not */
	fx_trust(g, &t, 3);
	struct kt_proof *q = fx_proof(g, "alice@example.org", 0);
	CHECK_INT(q->found, KT_ABSENT);
	CHECK_INT(q->path.len, 0);
	buf_reset(&text);
	proof_text(q, &text);
	CHECK(strstr((char *)text.data, "path ") == NULL);
	CHECK_INT(verify_text(text.data, text.len, "alice@example.org", &t, NULL, NULL), KT_OK);
	q->found = KT_EMPTY;
	CHECK_INT(verify_p(q, "alice@example.org", &t, NULL), KT_WHY_MAP_PATH);
	struct kt_proof *r = fx_proof(g, "user0@example.org", 0);
	CHECK_INT(r->found, KT_PRESENT);
	CHECK_INT(verify_p(r, "user0@example.org", &t, NULL), KT_OK);
	free(p);
	free(q);
	free(r);
	buf_free(&text);
	fx_free(f);
	fx_free(g);
}

static void proof_consistency(void)
{
	struct fx *f = main_fx;
	struct kt_trust t;
	struct buf text;
	fx_trust(f, &t, 2);
	buf_init(&text, KT_PROOF_MAX);
	for (uint64_t old = 1; old < f->size; old++) {
		struct kt_state last = fx_state(f, old);
		struct kt_proof *p = fx_proof(f, "user5@example.org", old);
		buf_reset(&text);
		proof_text(p, &text);
		CHECK_INT(verify_text(text.data, text.len, "user5@example.org", &t, &last, NULL), KT_OK);
		free(p);
	}
	buf_free(&text);
}

/* ---- every check catches its forgery ---- */

static void why_address_and_log_key(void)
{
	struct fx *f = main_fx;
	struct kt_trust t;
	struct kt_state last = fx_state(f, f->size);
	fx_trust(f, &t, 2);
	struct kt_proof *p = fx_proof(f, "user1@example.org", 0);
	CHECK_INT(verify_p(p, "user2@example.org", &t, NULL), KT_WHY_ADDRESS);
	CHECK_INT(verify_p(p, "not an address", &t, NULL), KT_WHY_ADDRESS);
	CHECK_INT(verify_p(p, "user1@example.org", &t, &last), KT_OK);
	/* a pinned log key that is not the proof's */
	struct note_signer *other = signer(DOMAIN "/sealmail-kt", NOTE_KEY_ED25519, 0x77, 1);
	CHECK_INT(note_signer_verifier(other, &last.log_key), 0);
	CHECK_INT(verify_p(p, "user1@example.org", &t, &last), KT_WHY_LOG_KEY);
	/* pinned before any checkpoint was seen */
	last.size = 0;
	CHECK_INT(verify_p(p, "user1@example.org", &t, &last), KT_WHY_LOG_KEY);
	note_signer_free(other);
	free(p);
}

/* A proof whose checkpoint is replaced by the note of body with mask's
 * signatures. */
static int verify_with_note(struct fx *f, const char *addr, const uint8_t *body, size_t len,
			    unsigned mask, const struct kt_trust *t, const struct kt_state *last)
{
	struct buf note;
	buf_init(&note, 1u << 16);
	sign_body(f, body, len, mask, &note);
	struct kt_proof *p = fx_proof(f, addr, 0);
	p->checkpoint = note.data;
	p->checkpoint_len = note.len;
	int why = verify_p(p, addr, t, last);
	free(p);
	buf_free(&note);
	return why;
}

/* The latest checkpoint body, rebuilt with changes. */
static void body_of(struct fx *f, const char *domain, uint64_t size, const uint8_t *log_root,
		    struct buf *out)
{
	struct kt_map_line m;
	uint8_t root[TLOG_HASH_LEN];
	m.epoch = size - 1;
	memcpy(m.map_root, f->map_roots[f->size - 1], PTREE_HASH_LEN);
	memcpy(m.vrf_pk, f->vrf_pk, VRF_PK_LEN);
	if (log_root == NULL)
		CHECK_INT(tlog_root(&f->st, size, root), 0);
	else
		memcpy(root, log_root, sizeof(root));
	CHECK_INT(kt_checkpoint_body(domain, size, root, &m, out), 0);
}

static void why_signature_and_quorum(void)
{
	struct fx *f = main_fx;
	struct kt_trust t;
	struct buf body;
	const char *a = "user3@example.org";
	buf_init(&body, 4096);
	body_of(f, DOMAIN, f->size, NULL, &body);
	fx_trust(f, &t, 2);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xf, &t, NULL), KT_OK);
	/* cosigned, but not signed by the log */
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xe, &t, NULL), KT_WHY_SIGNATURE);
	/* signed by nobody known */
	t.nwitness = 0;
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xe, &t, NULL), KT_WHY_SIGNATURE);
	/* quorum 3, two cosignatures */
	fx_trust(f, &t, 3);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0x7, &t, NULL), KT_WHY_QUORUM);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0x1, &t, NULL), KT_WHY_QUORUM);
	/* one witness listed three times is one witness */
	fx_trust(f, &t, 2);
	t.witness[1] = t.witness[0];
	t.witness[2] = t.witness[0];
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xf, &t, NULL), KT_WHY_QUORUM);
	/* an Ed25519 (not cosignature/v1) key is no witness */
	fx_trust(f, &t, 1);
	t.witness[0] = f->log_v;
	t.nwitness = 1;
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0x1, &t, NULL), KT_WHY_QUORUM);
	/* the log's signature, flipped */
	fx_trust(f, &t, 2);
	struct kt_proof *p = fx_proof(f, a, 0);
	uint8_t *copy = malloc(p->checkpoint_len);
	memcpy(copy, p->checkpoint, p->checkpoint_len);
	size_t sig = body.len + 1 + strlen("\xe2\x80\x94 " DOMAIN "/sealmail-kt ") + 10;
	copy[sig] = copy[sig] == 'A' ? 'B' : 'A';
	p->checkpoint = copy;
	CHECK_INT(verify_p(p, a, &t, NULL), KT_WHY_SIGNATURE);
	/* a trusted witness's cosignature, flipped */
	memcpy(copy, f->notes[f->size - 1].data, p->checkpoint_len);
	copy[p->checkpoint_len - 5] = copy[p->checkpoint_len - 5] == 'A' ? 'B' : 'A';
	CHECK_INT(verify_p(p, a, &t, NULL), KT_WHY_QUORUM);
	/* not a note at all */
	p->checkpoint = (const uint8_t *)"garbage";
	p->checkpoint_len = 7;
	CHECK_INT(verify_p(p, a, &t, NULL), KT_WHY_MALFORMED);
	free(copy);
	free(p);
	buf_free(&body);
}

static void why_origin_and_map_line(void)
{
	struct fx *f = main_fx;
	struct kt_trust t;
	struct buf body;
	const char *a = "user4@example.org";
	uint8_t root[TLOG_HASH_LEN];
	buf_init(&body, 4096);
	fx_trust(f, &t, 2);
	body_of(f, "example.net", f->size, NULL, &body);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xf, &t, NULL), KT_WHY_ORIGIN);
	/* no map line */
	struct note_checkpoint cp = {DOMAIN "/sealmail-kt", strlen(DOMAIN "/sealmail-kt"), f->size,
				     {0}, NULL, 0};
	CHECK_INT(tlog_root(&f->st, f->size, cp.root), 0);
	buf_reset(&body);
	CHECK_INT(note_checkpoint_format(&cp, &body), 0);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xf, &t, NULL), KT_WHY_MAP_LINE);
	/* a garbled one */
	cp.ext = "sealmail-map 4 garbled\n";
	cp.ext_len = strlen(cp.ext);
	buf_reset(&body);
	CHECK_INT(note_checkpoint_format(&cp, &body), 0);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xf, &t, NULL), KT_WHY_MAP_LINE);
	/* one naming another epoch than size - 1 */
	struct kt_map_line m = {f->size - 2, {0}, {0}};
	struct buf ext;
	buf_init(&ext, 4096);
	memcpy(m.map_root, f->map_roots[f->size - 1], PTREE_HASH_LEN);
	memcpy(m.vrf_pk, f->vrf_pk, VRF_PK_LEN);
	CHECK_INT(kt_map_line_format(&m, &ext), 0);
	cp.ext = (const char *)ext.data;
	cp.ext_len = ext.len;
	buf_reset(&body);
	CHECK_INT(note_checkpoint_format(&cp, &body), 0);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xf, &t, NULL), KT_WHY_MAP_LINE);
	/* and with the right epoch, the same note verifies */
	buf_reset(&ext);
	m.epoch = f->size - 1;
	CHECK_INT(kt_map_line_format(&m, &ext), 0);
	cp.ext = (const char *)ext.data;
	cp.ext_len = ext.len;
	buf_reset(&body);
	CHECK_INT(note_checkpoint_format(&cp, &body), 0);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xf, &t, NULL), KT_OK);
	/* a VRF key in the map line that is not the domain's */
	m.vrf_pk[0] ^= 1;
	buf_reset(&ext);
	CHECK_INT(kt_map_line_format(&m, &ext), 0);
	cp.ext = (const char *)ext.data;
	buf_reset(&body);
	CHECK_INT(note_checkpoint_format(&cp, &body), 0);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xf, &t, NULL), KT_WHY_VRF);
	(void)root;
	buf_free(&ext);
	buf_free(&body);
}

static void why_vrf_and_map_path(void)
{
	struct fx *f = main_fx;
	struct kt_trust t;
	fx_trust(f, &t, 2);
	struct kt_proof *p = fx_proof(f, "user8@example.org", 0);
	struct kt_proof *q = fx_proof(f, "user9@example.org", 0);
	/* user9's VRF proof in user8's proof */
	memcpy(p->vrf_proof, q->vrf_proof, VRF_PROOF_LEN);
	CHECK_INT(verify_p(p, "user8@example.org", &t, NULL), KT_WHY_VRF);
	free(p);
	/* forged key bytes: the commitment does not match */
	p = fx_proof(f, "user8@example.org", 0);
	uint8_t forged[CERT_LEN];
	memcpy(forged, p->key, CERT_LEN);
	forged[100] ^= 1;
	p->key = forged;
	CHECK_INT(verify_p(p, "user8@example.org", &t, NULL), KT_WHY_MAP_PATH);
	/* an opening, a counter or an epoch that is not the map's */
	p->key = f->recs[8].cert;
	CHECK_INT(verify_p(p, "user8@example.org", &t, NULL), KT_OK);
	p->opening[0] ^= 1;
	CHECK_INT(verify_p(p, "user8@example.org", &t, NULL), KT_WHY_MAP_PATH);
	p->opening[0] ^= 1;
	p->counter++;
	CHECK_INT(verify_p(p, "user8@example.org", &t, NULL), KT_WHY_MAP_PATH);
	p->counter--;
	p->path.sibling[0][0] ^= 1;
	CHECK_INT(verify_p(p, "user8@example.org", &t, NULL), KT_WHY_MAP_PATH);
	p->path.sibling[0][0] ^= 1;
	/* "absent" for an address that is present: its own leaf as the
	 * neighbour, or another leaf on its path */
	p->found = KT_ABSENT;
	CHECK_INT(ptree_get(f->map, f->recs[8].idx, &p->neighbour), 0);
	CHECK_INT(verify_p(p, "user8@example.org", &t, NULL), KT_WHY_MAP_PATH);
	CHECK_INT(ptree_get(f->map, f->recs[9].idx, &p->neighbour), 0);
	CHECK_INT(verify_p(p, "user8@example.org", &t, NULL), KT_WHY_MAP_PATH);
	/* "empty" for a map that is not */
	p->found = KT_EMPTY;
	p->path.len = 0;
	CHECK_INT(verify_p(p, "user8@example.org", &t, NULL), KT_WHY_MAP_PATH);
	free(p);
	free(q);
}

static void why_history(void)
{
	struct fx *f = main_fx;
	struct kt_trust t;
	struct buf body;
	const char *a = "user6@example.org";
	uint8_t fork[TLOG_HASH_LEN];
	fx_trust(f, &t, 2);
	buf_init(&body, 4096);
	/* a valid proof of size 4 seen after size 5: rollback (epoch 4
	 * changed nothing, so the map of size 4 is today's) */
	struct kt_state latest = fx_state(f, f->size);
	struct kt_proof *p = fx_proof(f, a, 0);
	struct kt_proof *old = fx_proof(f, a, 0);
	old->checkpoint = f->notes[f->size - 2].data;
	old->checkpoint_len = f->notes[f->size - 2].len;
	CHECK_INT(verify_p(old, a, &t, NULL), KT_OK);
	CHECK_INT(verify_p(old, a, &t, &latest), KT_WHY_ROLLBACK);
	struct kt_state s4 = fx_state(f, f->size - 1);
	CHECK_INT(verify_p(old, a, &t, &s4), KT_OK);
	/* the same size, another log root: a fork */
	memset(fork, 0x42, sizeof(fork));
	body_of(f, DOMAIN, f->size, fork, &body);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xf, &t, &latest), KT_WHY_SPLIT_VIEW);
	CHECK_INT(verify_with_note(f, a, body.data, body.len, 0xf, &t, NULL), KT_OK);
	/* a larger checkpoint with no consistency proof, or a wrong one */
	struct kt_state s2 = fx_state(f, 2);
	CHECK_INT(verify_p(p, a, &t, &s2), KT_WHY_CONSISTENCY);
	free(p);
	p = fx_proof(f, a, 3);
	CHECK_INT(verify_p(p, a, &t, &s2), KT_WHY_CONSISTENCY);
	free(p);
	p = fx_proof(f, a, 2);
	CHECK_INT(verify_p(p, a, &t, &s2), KT_OK);
	p->consistency[0][0] ^= 1;
	CHECK_INT(verify_p(p, a, &t, &s2), KT_WHY_CONSISTENCY);
	p->consistency[0][0] ^= 1;
	p->consistency_len--;
	CHECK_INT(verify_p(p, a, &t, &s2), KT_WHY_CONSISTENCY);
	p->consistency_len++;
	s2.root[0] ^= 1;
	CHECK_INT(verify_p(p, a, &t, &s2), KT_WHY_CONSISTENCY);
	free(p);
	free(old);
	buf_free(&body);
}

static void why_texts(void)
{
	for (int w = KT_OK; w <= KT_WHY_CONSISTENCY; w++) {
		const char *s = kt_why_text((enum kt_why)w);
		CHECK(s != NULL && strlen(s) > 10);
		for (int v = KT_OK; v < w; v++)
			CHECK(strcmp(s, kt_why_text((enum kt_why)v)) != 0);
	}
	CHECK_STR(kt_why_text(KT_WHY_ROLLBACK),
		  "the domain's checkpoint is older than one it showed before (rollback)");
	CHECK(kt_why_text((enum kt_why)99) != NULL);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	main_fx = fx_new(300, 1);
	RUN(proof_present);
	RUN(proof_absent);
	RUN(proof_empty_and_single);
	RUN(proof_consistency);
	RUN(why_address_and_log_key);
	RUN(why_signature_and_quorum);
	RUN(why_origin_and_map_line);
	RUN(why_vrf_and_map_path);
	RUN(why_history);
	RUN(why_texts);
	fx_free(main_fx);
	return check_done();
}
