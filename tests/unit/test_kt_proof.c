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
#include "mem_tlog.h"
#include "tlog.h"

#define B64_LEN(n) ((((n) + 2) / 3) * 4)
#define DOMAIN "example.org"
#define NWIT 3
#define EPOCHS_MAX 8
#define CERT_LEN 398 /* a real gpg ed25519 + cv25519 certificate, one user ID */
#define TS 1700000000u

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
	struct mem_tlog mem;
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
	f->st = mem_tlog_store(&f->mem);
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
	mem_tlog_free(&f->mem);
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

/* An authorization (kt_update.h) for the entry of addr at counter, whose
 * key is the proof's (sig: dummy bytes; the proof does not check it). */
static void authorization_for(const struct kt_proof *p, uint64_t counter, struct kt_proof *into)
{
	struct kt_update u;
	struct buf st, auth;
	static const uint8_t sig[] = {1, 2, 3, 4};
	memset(&u, 0, sizeof(u));
	snprintf(u.address, sizeof(u.address), "%s", p->address);
	u.authority = counter > 1 ? KT_BY_OWNER : KT_BY_TOKEN;
	u.version = counter;
	u.has_previous = counter > 1;
	kt_key_digest(p->key, p->key_len, u.key);
	buf_init(&st, KT_AUTH_MAX);
	buf_init(&auth, KT_AUTH_MAX);
	CHECK_INT(kt_update_format(&u, &st), 0);
	CHECK_INT(kt_authorization_format(st.data, st.len, sig, sizeof(sig), &auth), 0);
	memcpy(into->auth, auth.data, auth.len);
	into->auth_len = auth.len;
	buf_free(&st);
	buf_free(&auth);
}

static void proof_authorization(void)
{
	struct fx *f = main_fx;
	struct kt_trust t;
	struct kt_result res;
	struct buf text;
	fx_trust(f, &t, 2);
	buf_init(&text, KT_PROOF_MAX);
	struct kt_proof *p = fx_proof(f, "user0@example.org", 0);
	authorization_for(p, p->counter, p);
	proof_text(p, &text);
	CHECK(strstr((const char *)text.data, "\nauthorization ") != NULL);
	memset(&res, 0, sizeof(res));
	CHECK_INT(verify_text(text.data, text.len, "user0@example.org", &t, NULL, &res), KT_OK);
	CHECK_INT(res.has_auth, 1);
	CHECK_INT(res.auth.update.version, p->counter);
	CHECK_INT(res.auth.update.authority, KT_BY_OWNER);
	/* an authorization for another version: replayed, or for another key */
	authorization_for(p, p->counter - 1, p);
	CHECK_INT(verify_p(p, "user0@example.org", &t, NULL), KT_WHY_AUTHORIZATION);
	authorization_for(p, p->counter, p);
	p->key_len--;
	CHECK_INT(verify_p(p, "user0@example.org", &t, NULL), KT_WHY_MAP_PATH);
	p->key_len++;
	/* unparsable authorization bytes */
	p->auth[3] ^= 0x20;
	CHECK_INT(verify_p(p, "user0@example.org", &t, NULL), KT_WHY_AUTHORIZATION);
	/* none at all: a version from before authorizations */
	p->auth_len = 0;
	CHECK_INT(verify_p(p, "user0@example.org", &t, NULL), KT_OK);
	free(p);
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
	size_t len = p->path.len;
	p->path.len = 0; /* the path line left out */
	CHECK_INT(verify_p(p, "user8@example.org", &t, NULL), KT_WHY_MAP_PATH);
	p->path.len = len;
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
	for (int w = KT_OK; w <= KT_WHY_AUTHORIZATION; w++) {
		const char *s = kt_why_text((enum kt_why)w);
		CHECK(s != NULL && strlen(s) > 10);
		for (int v = KT_OK; v < w; v++)
			CHECK(strcmp(s, kt_why_text((enum kt_why)v)) != 0);
	}
	CHECK_STR(kt_why_text(KT_WHY_ROLLBACK),
		  "the domain's checkpoint is older than one it showed before (rollback)");
	CHECK(kt_why_text((enum kt_why)99) != NULL);
}

/* ---- strict parsing ---- */

/* text with the first occurrence of from replaced by to; parse result. */
static int parse_mutated(const struct buf *text, const char *from, const char *to)
{
	struct kt_proof *p = calloc(1, sizeof(*p));
	struct buf b;
	const char *at = strstr((const char *)text->data, from);
	int r = 1;
	buf_init(&b, 2 * KT_PROOF_MAX);
	CHECK(at != NULL);
	if (at != NULL) {
		size_t pre = (size_t)(at - (const char *)text->data);
		CHECK_INT(buf_append(&b, text->data, pre), 0);
		CHECK_INT(buf_append_str(&b, to), 0);
		CHECK_INT(buf_append_str(&b, at + strlen(from)), 0);
		memset(p, 0x5a, offsetof(struct kt_proof, key_buf));
		r = kt_proof_parse(b.data, b.len, p);
		if (r != 0)
			CHECK(p->counter == 0x5a5a5a5a5a5a5a5aull); /* untouched */
	}
	buf_free(&b);
	free(p);
	return r;
}

/* The line of text that starts with word, newline included. */
static void line_of(const struct buf *text, const char *word, char *out, size_t max)
{
	char w[64];
	snprintf(w, sizeof(w), "\n%s", word);
	const char *at = strstr((const char *)text->data, w);
	at = at != NULL ? at + 1 : NULL;
	const char *nl = at ? strchr(at, '\n') : NULL;
	out[0] = 0;
	CHECK(nl != NULL && (size_t)(nl + 1 - at) < max);
	if (nl != NULL && (size_t)(nl + 1 - at) < max) {
		memcpy(out, at, (size_t)(nl + 1 - at));
		out[nl + 1 - at] = 0;
	}
}

static void parse_rejects(void)
{
	struct fx *f = main_fx;
	struct buf text, abs;
	static char l1[1 << 12], l2[1 << 12], both[1 << 13];
	buf_init(&text, KT_PROOF_MAX);
	buf_init(&abs, KT_PROOF_MAX);
	struct kt_proof *p = fx_proof(f, "user3@example.org", 2);
	struct kt_proof *q = fx_proof(f, "nobody@example.org", 0);
	proof_text(p, &text);
	proof_text(q, &abs);
	/* the baseline parses */
	CHECK_INT(parse_mutated(&text, "sealmail-lookup/v1\n", "sealmail-lookup/v1\n"), 0);
	/* swapped, duplicated, unknown and missing lines */
	static const char *const words[] = {"address ", "log-key ", "vrf ", "present ", "opening ",
					    "key ", "path ", "consistency "};
	for (size_t i = 0; i + 1 < sizeof(words) / sizeof(words[0]); i++) {
		line_of(&text, words[i], l1, sizeof(l1));
		line_of(&text, words[i + 1], l2, sizeof(l2));
		snprintf(both, sizeof(both), "%s%s", l2, l1);
		/* path and consistency are optional: without them the proof
		 * parses, and fails verification */
		if (i < 6)
			CHECK_INT(parse_mutated(&text, l1, ""), SM_EPARSE);
		snprintf(both, sizeof(both), "%s%s", l1, l1);
		CHECK_INT(parse_mutated(&text, l1, both), SM_EPARSE);
		snprintf(both, sizeof(both), "%sunknown 1\n", l1);
		CHECK_INT(parse_mutated(&text, l1, both), SM_EPARSE);
		/* swap: replace "l1 l2" by "l2 l1" */
		size_t pl = strlen(l1) + strlen(l2) + 1;
		char *pair = malloc(pl), *swap = malloc(pl);
		snprintf(pair, pl, "%s%s", l1, l2);
		snprintf(swap, pl, "%s%s", l2, l1);
		CHECK_INT(parse_mutated(&text, pair, swap), SM_EPARSE);
		free(pair);
		free(swap);
	}
	static const char *const bad[][2] = {
		{"sealmail-lookup/v1\n", "sealmail-lookup/v2\n"},
		{"sealmail-lookup/v1\n", "sealmail-lookup/v1\r\n"},
		{"address user3@", "address User3@"},
		{"address user3@example.org", "address user3@Example.org"},
		{"address user3@example.org", "address user3@example.org "},
		{"address ", "address  "},
		{"present 1 0\n", "present 01 0\n"},
		{"present 1 0\n", "present 1 00\n"},
		{"present 1 0\n", "present 1 18446744073709551616\n"},
		{"present 1 0\n", "present 1\n"},
		{"present 1 0\n", "present 1 0 \n"},
		{"present 1 0\n", "present +1 0\n"},
		{"present 1 0\n", "absent\n"},
		{"present 1 0\n", "empty\n"},
		{"\nkey ", "\nkey \n"},
		{"consistency 2 ", "consistency 02 "},
		{"consistency 2 ", "consistency 0 "},
		{"consistency 2 ", "consistency  2 "},
		{"\n\n", "\n"},
		{"\n\n", "\n \n"},
		{"vrf ", "vrf A"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(parse_mutated(&text, bad[i][0], bad[i][1]), SM_EPARSE);
	CHECK_INT(parse_mutated(&abs, "absent\n", "absent\nopening AAAA\n"), SM_EPARSE);
	CHECK_INT(parse_mutated(&abs, "absent\n", "empty\n"), SM_EPARSE);
	CHECK_INT(parse_mutated(&abs, "neighbour ", "neighbour  "), SM_EPARSE);
	/* base64 that is not strict, or of the wrong length */
	line_of(&text, "vrf ", l1, sizeof(l1));
	snprintf(l2, sizeof(l2), "%s", l1);
	l2[5] = (char)0xcb; /* a high byte libsodium 1.0.18 would decode */
	CHECK_INT(parse_mutated(&text, l1, l2), SM_EPARSE);
	/* 80 bytes end in one '=': the digit before it has two zero bits */
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	snprintf(l2, sizeof(l2), "%s", l1);
	CHECK(l2[strlen(l2) - 2] == '=' && l2[strlen(l2) - 3] != '=');
	char *last = &l2[strlen(l2) - 3];
	*last = alphabet[(strchr(alphabet, *last) - alphabet) | 1];
	CHECK_INT(parse_mutated(&text, l1, l2), SM_EPARSE);
	snprintf(l2, sizeof(l2), "%s", l1);
	l2[strlen(l2) - 2] = '\n'; /* no padding */
	l2[strlen(l2) - 1] = 0;
	CHECK_INT(parse_mutated(&text, l1, l2), SM_EPARSE);
	line_of(&text, "path ", l1, sizeof(l1));
	snprintf(l2, sizeof(l2), "path AAAA\n"); /* 3 bytes: no whole pair */
	CHECK_INT(parse_mutated(&text, l1, l2), SM_EPARSE);
	line_of(&text, "consistency ", l1, sizeof(l1));
	snprintf(l2, sizeof(l2), "consistency 2 AAAA\n");
	CHECK_INT(parse_mutated(&text, l1, l2), SM_EPARSE);
	/* an upper-case key ID, a witness key as the log key */
	line_of(&text, "log-key ", l1, sizeof(l1));
	snprintf(l2, sizeof(l2), "%s", l1);
	for (char *c = strchr(l2, '+') + 1; *c != '+'; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	if (strcmp(l1, l2) != 0)
		CHECK_INT(parse_mutated(&text, l1, l2), SM_EPARSE);
	struct buf wk;
	buf_init(&wk, 1024);
	CHECK_INT(buf_append_str(&wk, "log-key "), 0);
	CHECK_INT(note_verifier_format(&f->wit_v[0], &wk), 0);
	CHECK_INT(buf_append_str(&wk, "\n"), 0);
	CHECK_INT(parse_mutated(&text, l1, (char *)wk.data), SM_EPARSE);
	buf_free(&wk);
	/* every prefix that ends before the checkpoint */
	const char *blank = strstr((const char *)text.data, "\n\n");
	size_t hdr = (size_t)(blank - (const char *)text.data) + 2;
	for (size_t n = 0; n <= hdr; n++)
		CHECK_INT(kt_proof_parse(text.data, n, p), SM_EPARSE);
	CHECK_INT(kt_proof_parse(text.data, hdr + 1, p), 0);
	/* too big */
	uint8_t *big = calloc(1, KT_PROOF_MAX + 1);
	memcpy(big, text.data, text.len);
	CHECK_INT(kt_proof_parse(big, KT_PROOF_MAX + 1, p), SM_ETOOBIG);
	free(big);
	free(p);
	free(q);
	buf_free(&text);
	buf_free(&abs);
}

/* The largest key fits, one byte more does not. */
static void key_limits(void)
{
	struct fx *f = main_fx;
	struct buf text;
	uint8_t *key = calloc(1, KT_PROOF_KEY_MAX + 1);
	buf_init(&text, KT_PROOF_MAX);
	struct kt_proof *p = fx_proof(f, "user3@example.org", 0);
	p->key = key;
	p->key_len = KT_PROOF_KEY_MAX;
	CHECK_INT(kt_proof_format(p, &text), 0);
	struct kt_proof *back = calloc(1, sizeof(*back));
	CHECK_INT(kt_proof_parse(text.data, text.len, back), 0);
	CHECK_INT(back->key_len, KT_PROOF_KEY_MAX);
	CHECK(back->key == back->key_buf);
	p->key_len = KT_PROOF_KEY_MAX + 1;
	buf_reset(&text);
	CHECK(kt_proof_format(p, &text) < 0);
	CHECK_INT(text.len, 0);
	/* format refuses what parse would */
	p->key_len = 10;
	p->address[0] = 'U';
	CHECK_INT(kt_proof_format(p, &text), SM_EINVAL);
	p->address[0] = 'u';
	p->checkpoint_len = 0;
	CHECK_INT(kt_proof_format(p, &text), SM_EINVAL);
	CHECK_INT(text.len, 0);
	free(back);
	free(key);
	free(p);
	buf_free(&text);
}

/* ---- client state ---- */

static void state_round_trip(void)
{
	struct fx *f = main_fx;
	struct kt_state s = fx_state(f, 3), back;
	struct buf b;
	buf_init(&b, 4096);
	CHECK_INT(kt_state_format(&s, &b), 0);
	CHECK(memcmp(b.data, "sealmail-kt-state/v1\nlog-key example.org/sealmail-kt+", 53) == 0);
	memset(&back, 0, sizeof(back));
	CHECK_INT(kt_state_parse(b.data, b.len, &back), 0);
	CHECK(memcmp(&back, &s, sizeof(s)) == 0);
	char *t = strdup((char *)b.data);
	static const char *const bad[][2] = {
		{"sealmail-kt-state/v1\n", "sealmail-kt-state/v2\n"},
		{"size 3\n", "size 03\n"},
		{"size 3\n", "size 18446744073709551616\n"},
		{"size 3\n", "size 3 \n"},
		{"size 3\n", ""},
		{"size 3\n", "size 3\nsize 3\n"},
		{"root ", "root A"},
		{"log-key ", "log-key  "},
		{"\nroot ", "\nroot\n"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf m;
		char *at = strstr(t, bad[i][0]);
		buf_init(&m, 4096);
		CHECK(at != NULL);
		CHECK_INT(buf_append(&m, t, (size_t)(at - t)), 0);
		CHECK_INT(buf_append_str(&m, bad[i][1]), 0);
		CHECK_INT(buf_append_str(&m, at + strlen(bad[i][0])), 0);
		CHECK_INT(kt_state_parse(m.data, m.len, &back), SM_EPARSE);
		buf_free(&m);
	}
	CHECK_INT(kt_state_parse(b.data, b.len - 1, &back), SM_EPARSE);
	CHECK_INT(buf_append_str(&b, "x\n"), 0);
	CHECK_INT(kt_state_parse(b.data, b.len, &back), SM_EPARSE);
	s.log_key = f->wit_v[0];
	buf_reset(&b);
	CHECK_INT(kt_state_format(&s, &b), SM_EINVAL);
	free(t);
	buf_free(&b);
}

/* ---- size, and the fuzz corpus ---- */

static void proof_size(void)
{
	struct fx *f = fx_new(1000, 1);
	struct kt_trust t;
	struct buf text;
	size_t keyline;
	buf_init(&text, KT_PROOF_MAX);
	fx_trust(f, &t, 3);
	struct kt_proof *p = fx_proof(f, "user500@example.org", 0);
	proof_text(p, &text);
	CHECK_INT(verify_text(text.data, text.len, "user500@example.org", &t, NULL, NULL), KT_OK);
	keyline = strlen("key \n") + B64_LEN(CERT_LEN);
	printf("# lookup proof, map of %zu, path %zu, 3 cosignatures: %zu bytes, %zu without "
	       "the key line (%zu-byte key)\n",
	       f->nrec, p->path.len, text.len, text.len - keyline, (size_t)CERT_LEN);
	CHECK(text.len - keyline <= 2048);
	free(p);
	p = fx_proof(f, "user500@example.org", 3);
	buf_reset(&text);
	proof_text(p, &text);
	printf("# with a consistency proof from size 3: %zu bytes\n", text.len);
	free(p);
	buf_free(&text);
	fx_free(f);
}

static void write_file(const char *dir, const char *name, const struct kt_proof *p)
{
	char path[4096];
	struct buf text;
	buf_init(&text, KT_PROOF_MAX);
	proof_text(p, &text);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "wb");
	CHECK(fp != NULL);
	if (fp != NULL) {
		CHECK(fwrite(text.data, 1, text.len, fp) == text.len);
		CHECK(fclose(fp) == 0);
	}
	buf_free(&text);
}

/* Deterministic keys, which fuzz_kt_proof trusts: its verify path is reached. */
static void write_corpus(const char *dir)
{
	struct fx *f = fx_new(300, 0), *e = fx_new(0, 0), *one = fx_new(1, 0);
	struct kt_proof *p = fx_proof(f, "user3@example.org", 0);
	write_file(dir, "present", p);
	free(p);
	p = fx_proof(f, "user0@example.org", 2);
	write_file(dir, "present-consistency", p);
	free(p);
	p = fx_proof(f, "nobody@example.org", 0);
	write_file(dir, "absent", p);
	free(p);
	p = fx_proof(e, "alice@example.org", 0);
	write_file(dir, "empty", p);
	free(p);
	p = fx_proof(one, "alice@example.org", 0);
	write_file(dir, "absent-no-path", p);
	free(p);
	fx_free(f);
	fx_free(e);
	fx_free(one);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	main_fx = fx_new(300, 1);
	RUN(proof_present);
	RUN(proof_authorization);
	RUN(proof_absent);
	RUN(proof_empty_and_single);
	RUN(proof_consistency);
	RUN(why_address_and_log_key);
	RUN(why_signature_and_quorum);
	RUN(why_origin_and_map_line);
	RUN(why_vrf_and_map_path);
	RUN(why_history);
	RUN(why_texts);
	RUN(parse_rejects);
	RUN(key_limits);
	RUN(state_round_trip);
	RUN(proof_size);
	fx_free(main_fx);
	if (getenv("KT_PROOF_CORPUS") != NULL)
		write_corpus(getenv("KT_PROOF_CORPUS"));
	return check_done();
}
