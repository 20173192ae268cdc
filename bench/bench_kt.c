/* bench_kt: key transparency for a domain of 10^4, 10^5 and 10^6 entries,
 * end to end through the library, with real keys: a VRF key, a log signer
 * and three cosignature/v1 witnesses.
 *
 * For each n:
 *   build    a map of n leaves (counter 1, epoch 0): n - 1000 random ones
 *            and 1000 real addresses "user<i>@jedi.test" (VRF index, a
 *            commitment to a random 398-byte key); ptree_memory / n.
 *   epoch    one epoch of 100,000 changes, the steps of sealmaild's
 *            epoch_make without the store (no SQLite writes): sort by
 *            index, then per change a fresh opening, kt_key_digest of a
 *            400-byte key, kt_commitment, kt_delta_add, ptree_set; then
 *            ptree_root, the delta's hash, the epoch entry, its tlog_append
 *            into an in-memory hash store, tlog_root, kt_checkpoint_body and
 *            the log's note_sign. Half the changes replace random present
 *            leaves (at most all of them), the rest are new. VRF proving is
 *            not in it: vrf_prove is timed on its own (per new address, over
 *            1000 addresses), and what it would add to the epoch is shown.
 *   replay   what a witness does with the delta: kt_delta_apply on a copy
 *            of the pre-epoch map (ptree_load of a ptree_snapshot), then
 *            ptree_root, which must equal the daemon's.
 *   proofs   1000 lookup proofs of real addresses as the daemon makes them
 *            (ptree_prove, kt_proof_format) against epoch 0's checkpoint,
 *            signed by the log and cosigned by the three witnesses: bytes,
 *            bytes without the key line, path length. Proofs and
 *            verification come before the epoch, so that the map holds
 *            exactly n entries. Such a proof is what a sender gets; asked
 *            with the version's authorization (to monitor, to publish, to
 *            explain a changed pin) it grows by one line, measured on
 *            user0's: its version 2 is an owner's change, signed by a key
 *            from pgp_keygen, and that proof is verified, the
 *            authorization's signature included. Then 200 proofs of
 *            absence (addresses without a key: the neighbour leaf instead
 *            of opening and key), each verified.
 *   verify   what the client does: kt_proof_parse + kt_proof_verify (the
 *            three witnesses trusted, quorum 3, first contact), 4000 times,
 *            each followed by its costly steps on their own: the parse,
 *            vrf_verify, note_verify of the four signatures, ptree_verify.
 *            Median and mean per call (the median resists a noisy machine).
 * Every proof and every replay must verify, or the program exits non-zero.
 * Times are wall clock; it prints figures and checks no timing threshold.
 *
 * usage: bench_kt [N...]   (default 10000 100000 1000000; N >= 1000) */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <sodium.h>

#define BENCH_NAME "bench_kt"
#include "bench_util.h"
#include "b64.h"
#include "kt.h"
#include "kt_delta.h"
#include "kt_proof.h"
#include "kt_update.h"
#include "mem_tlog.h"
#include "note.h"
#include "pgp.h"
#include "pgp_lifecycle.h"
#include "ptree.h"
#include "tlog.h"
#include "vrf.h"

#define DOMAIN "jedi.test"
#define UPDATES 100000
#define REAL 1000         /* real addresses in every map, and lookups */
#define ABSENT 200        /* addresses without a key, proven absent */
#define VERIFIES 4000
#define NWIT 3
#define KEY_LEN 398       /* the key in lookup proofs: an ed25519 + cv25519 cert */
#define CHANGE_KEY_LEN 400
#define TS 1700000000u
#define CHECKPOINT_MAX (64 * 1024)

/* ---- the domain: keys, shared by every n ---- */

struct domain {
	uint8_t vrf_pk[VRF_PK_LEN], vrf_sk[VRF_SK_LEN];
	struct note_signer *log, *wit[NWIT];
	struct note_verifier log_v, wit_v[NWIT];
	struct kt_trust trust;
	pgp_ctx *pgp;             /* user0's OpenPGP key, for its authorization */
	struct pgp_fpr owner;
};

static int signer_new(const char *name, uint8_t type, struct note_signer **ret,
		      struct note_verifier *ret_v)
{
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	int r = note_signer_new(name, type, sk, ret);
	sodium_memzero(sk, sizeof(sk));
	if (r == 0)
		r = note_signer_verifier(*ret, ret_v);
	return r;
}

static int domain_new(struct domain *d)
{
	char name[32];
	memset(d, 0, sizeof(*d));
	int r = vrf_keypair(d->vrf_pk, d->vrf_sk);
	if (r == 0)
		r = signer_new(DOMAIN KT_ORIGIN_SUFFIX, NOTE_KEY_ED25519, &d->log, &d->log_v);
	for (size_t i = 0; r == 0 && i < NWIT; i++) {
		snprintf(name, sizeof(name), "witness%zu.test", i + 1);
		r = signer_new(name, NOTE_KEY_COSIG_V1, &d->wit[i], &d->wit_v[i]);
		d->trust.witness[i] = d->wit_v[i];
	}
	d->trust.nwitness = NWIT;
	d->trust.quorum = NWIT;
	if (r == 0)
		r = pgp_ctx_new(&d->pgp);
	if (r == 0)
		r = pgp_keygen(d->pgp, "user0@" DOMAIN, &d->owner);
	return r < 0 ? fail("domain keys", r) : 0;
}

static void domain_free(struct domain *d)
{
	note_signer_free(d->log);
	pgp_ctx_free(d->pgp);
	for (size_t i = 0; i < NWIT; i++)
		note_signer_free(d->wit[i]);
	sodium_memzero(d->vrf_sk, sizeof(d->vrf_sk));
}

/* ---- one run ---- */

struct real {
	char addr[32];
	uint8_t vrf_proof[VRF_PROOF_LEN];
	struct ptree_leaf leaf;
	uint8_t opening[KT_OPENING_LEN];
	uint8_t key[KEY_LEN];
};

/* A pending change, as epoch.c collects it from the store. */
struct change {
	char address[KT_ADDRESS_MAX];
	const uint8_t *cert;
	size_t cert_len;
	int has_leaf;
	struct ptree_leaf old;
	uint8_t idx[PTREE_IDX_LEN];
};

/* The client's work: the whole (parse + verify), then its costly steps. */
enum { T_ALL, T_PARSE, T_VRF, T_NOTE, T_PTREE, T_COUNT };

struct row {
	unsigned long n;
	double build_s, mem_per_entry;
	size_t replaced, inserted;
	double sort_s, changes_s, root_s, log_s, epoch_s, epoch_cpu_s;
	double vrf_prove_us, vrf_hash_us;
	size_t snap_bytes;
	double load_s, apply_s, replay_root_s;
	double proof_bytes, proof_nokey_bytes, path_len, make_us;
	size_t auth_line; /* what asking for the authorization adds */
	size_t auth_proof_bytes; /* user0's proof with it */
	size_t entries;   /* in the map the proofs are made from */
	double absent_bytes, absent_path_len;
	double verify[T_COUNT][2]; /* us: mean, median */
	double rss_mb;
};

struct run {
	const struct domain *d;
	struct ptree *map;
	struct mem_tlog mem;
	struct tlog_store st;
	uint8_t (*rand_idx)[PTREE_IDX_LEN]; /* the random leaves of the build */
	size_t nrand;
	struct real *reals;
	struct change *cs;
	size_t ncs;
	uint8_t *certs; /* the changes' keys */
	struct buf snap, delta, entry, note;
	uint8_t map_root[PTREE_HASH_LEN];
	struct buf texts[REAL];
	struct ptree_proof *pp; /* the map proofs of the lookups */
	size_t *which;          /* the real record of each lookup */
};

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The real addresses: vrf_prove timed apart from vrf_proof_to_hash. */
static int reals_make(struct run *u, struct row *row)
{
	uint8_t beta[VRF_OUTPUT_LEN], digest[KT_DIGEST_LEN];
	int r = 0;
	for (size_t i = 0; i < REAL; i++)
		snprintf(u->reals[i].addr, sizeof(u->reals[i].addr), "user%zu@" DOMAIN, i);
	double t0 = now();
	for (size_t i = 0; r == 0 && i < REAL; i++)
		r = vrf_prove(u->d->vrf_sk, (const uint8_t *)u->reals[i].addr,
			      strlen(u->reals[i].addr), u->reals[i].vrf_proof);
	double t1 = now();
	for (size_t i = 0; r == 0 && i < REAL; i++) {
		struct real *x = &u->reals[i];
		r = vrf_proof_to_hash(x->vrf_proof, beta);
		kt_index(beta, x->leaf.idx);
	}
	row->vrf_prove_us = (t1 - t0) * 1e6 / REAL;
	row->vrf_hash_us = (now() - t1) * 1e6 / REAL;
	for (size_t i = 0; r == 0 && i < REAL; i++) {
		struct real *x = &u->reals[i];
		rnd_bytes(x->key, KEY_LEN);
		randombytes_buf(x->opening, KT_OPENING_LEN);
		kt_key_digest(x->key, KEY_LEN, digest);
		x->leaf.counter = i == 0 ? 2 : 1; /* user0: an owner's change, authorized */
		x->leaf.epoch = 0;
		r = kt_commitment(x->opening, x->addr, digest, x->leaf.commitment);
	}
	return r < 0 ? fail("real addresses", r) : 0;
}

static int build(struct run *u, struct row *row)
{
	struct ptree_leaf l;
	int r = 0;
	double t0 = now();
	for (size_t i = 0; r == 0 && i < u->nrand; i++) {
		rnd_bytes(l.idx, PTREE_IDX_LEN);
		rnd_bytes(l.commitment, PTREE_HASH_LEN);
		l.counter = 1;
		l.epoch = 0;
		memcpy(u->rand_idx[i], l.idx, PTREE_IDX_LEN);
		r = ptree_set(u->map, &l);
	}
	for (size_t i = 0; r == 0 && i < REAL; i++)
		r = ptree_set(u->map, &u->reals[i].leaf);
	ptree_root(u->map, u->map_root);
	row->build_s = now() - t0;
	row->mem_per_entry = (double)ptree_memory(u->map) / (double)row->n;
	if (r < 0)
		return fail("ptree_set", r);
	return ptree_count(u->map) == row->n ? 0 : fail("an index came twice", 0);
}

/* commit_log's part: the entry of epoch e, its log leaf, the log's
 * signature on the checkpoint (into u->note, replaced). */
static int log_commit(struct run *u, uint64_t e, struct buf *body)
{
	struct kt_entry entry;
	struct kt_map_line m;
	uint8_t leaf[TLOG_HASH_LEN], root[TLOG_HASH_LEN];
	memset(&entry, 0, sizeof(entry));
	entry.epoch = e;
	entry.time = (uint64_t)time(NULL);
	ptree_root(u->map, entry.map_root);
	kt_key_digest(u->delta.data, u->delta.len, entry.delta_hash);
	buf_reset(&u->entry);
	buf_reset(&u->note);
	buf_reset(body);
	int r = kt_entry_format(&entry, &u->entry);
	if (r == 0)
		r = kt_entry_leaf_hash(&entry, leaf);
	if (r == 0)
		r = tlog_append(&u->st, e, leaf);
	if (r == 0)
		r = tlog_root(&u->st, e + 1, root);
	m.epoch = e;
	memcpy(m.map_root, entry.map_root, PTREE_HASH_LEN);
	memcpy(m.vrf_pk, u->d->vrf_pk, VRF_PK_LEN);
	if (r == 0)
		r = kt_checkpoint_body(DOMAIN, e + 1, root, &m, body);
	if (r == 0)
		r = note_sign(u->d->log, body->data, body->len, 0, &u->note);
	return r < 0 ? fail("log commit", r) : 0;
}

/* The epoch's changes: replacements of distinct random leaves (never the
 * real addresses, whose proofs come later), then new entries. */
static int changes_make(struct run *u, struct row *row)
{
	size_t rep = u->nrand < UPDATES / 2 ? u->nrand : UPDATES / 2;
	uint32_t *perm = malloc(u->nrand * sizeof(*perm));
	if (perm == NULL)
		return fail("out of memory", 0);
	for (size_t i = 0; i < u->nrand; i++)
		perm[i] = (uint32_t)i;
	rnd_bytes(u->certs, (size_t)UPDATES * CHANGE_KEY_LEN);
	u->ncs = UPDATES;
	for (size_t i = 0; i < UPDATES; i++) {
		struct change *c = &u->cs[i];
		c->cert = u->certs + i * CHANGE_KEY_LEN;
		c->cert_len = CHANGE_KEY_LEN;
		c->has_leaf = i < rep;
		snprintf(c->address, sizeof(c->address), "%s%zu@" DOMAIN, c->has_leaf ? "old" : "new", i);
		if (!c->has_leaf) {
			rnd_bytes(c->idx, PTREE_IDX_LEN);
			continue;
		}
		size_t j = i + (size_t)(rnd() % (u->nrand - i));
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		memcpy(c->idx, u->rand_idx[perm[i]], PTREE_IDX_LEN);
		if (ptree_get(u->map, c->idx, &c->old) < 0) {
			free(perm);
			return fail("a replaced leaf is missing", 0);
		}
	}
	free(perm);
	row->replaced = rep;
	row->inserted = UPDATES - rep;
	return 0;
}

static int by_idx(const void *a, const void *b)
{
	return memcmp(((const struct change *)a)->idx, ((const struct change *)b)->idx, PTREE_IDX_LEN);
}

/* commit_changes' part, for epoch e: the leaves and the delta. */
static int changes_commit(struct run *u, uint64_t e)
{
	uint8_t opening[KT_OPENING_LEN], digest[KT_DIGEST_LEN];
	int r = kt_delta_begin(&u->delta, e);
	for (size_t i = 0; r == 0 && i < u->ncs; i++) {
		const struct change *c = &u->cs[i];
		struct ptree_leaf leaf;
		memcpy(leaf.idx, c->idx, PTREE_IDX_LEN);
		leaf.counter = c->has_leaf ? c->old.counter + 1 : 1;
		leaf.epoch = e;
		randombytes_buf(opening, sizeof(opening));
		kt_key_digest(c->cert, c->cert_len, digest);
		r = kt_commitment(opening, c->address, digest, leaf.commitment);
		if (r == 0)
			r = kt_delta_add(&u->delta, c->idx, c->has_leaf ? &c->old : NULL,
					 leaf.commitment);
		if (r == 0)
			r = ptree_set(u->map, &leaf);
	}
	sodium_memzero(opening, sizeof(opening));
	return r < 0 ? fail("epoch changes", r) : 0;
}

/* Adds every witness's cosignature of body to u->note. */
static int cosign(struct run *u, const struct buf *body)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < NWIT; i++)
		r = note_sign_line(u->d->wit[i], body->data, body->len, TS + i, &u->note);
	return r < 0 ? fail("cosignature", r) : 0;
}

/* Epoch 1, timed step by step; u->note ends up cosigned by every witness. */
static int epoch(struct run *u, struct row *row)
{
	struct buf body;
	int r = -1;
	buf_init(&body, CHECKPOINT_MAX);
	buf_reset(&u->delta);
	double c0 = cpu_now(), t0 = now();
	qsort(u->cs, u->ncs, sizeof(*u->cs), by_idx);
	double t1 = now();
	if (changes_commit(u, 1) < 0)
		goto done;
	double t2 = now();
	ptree_root(u->map, u->map_root);
	double t3 = now();
	if (log_commit(u, 1, &body) < 0)
		goto done;
	double t4 = now();
	row->epoch_cpu_s = cpu_now() - c0;
	row->sort_s = t1 - t0;
	row->changes_s = t2 - t1;
	row->root_s = t3 - t2;
	row->log_s = t4 - t3;
	row->epoch_s = t4 - t0;
	r = cosign(u, &body);
done:
	buf_free(&body);
	return r;
}

/* A witness: the delta replayed on a copy of the pre-epoch map. */
static int replay(struct run *u, struct row *row)
{
	struct ptree_view v = {u->snap.data, u->snap.len};
	struct ptree *copy = NULL;
	uint8_t root[PTREE_HASH_LEN];
	int why = 0;
	double t0 = now();
	int r = ptree_load(&v, &copy);
	double t1 = now();
	if (r == 0)
		r = kt_delta_apply(copy, u->delta.data, u->delta.len, 1, &why);
	double t2 = now();
	if (r == 0)
		ptree_root(copy, root);
	row->load_s = t1 - t0;
	row->apply_s = t2 - t1;
	row->replay_root_s = now() - t2;
	ptree_free(copy);
	if (r < 0) {
		fprintf(stderr, "bench_kt: replay: %s\n", kt_delta_why(why));
		return fail("kt_delta_apply", r);
	}
	return memcmp(root, u->map_root, PTREE_HASH_LEN) == 0 ? 0 : fail("replayed root differs", 0);
}

/* The bytes of the "key " line of a proof's text. */
static size_t key_line_len(const struct buf *t)
{
	const char *k = strstr((const char *)t->data, "\nkey ");
	const char *e = k != NULL ? strchr(k + 1, '\n') : NULL;
	return e != NULL ? (size_t)(e - k) : 0;
}

/* What every proof for address carries, as the daemon fills it in: the
 * log key and the epoch's cosigned checkpoint. */
static void proof_begin(const struct run *u, const char *address, struct kt_proof *p)
{
	memset(p, 0, offsetof(struct kt_proof, key_buf));
	memcpy(p->address, address, strlen(address) + 1);
	p->log_key = u->d->log_v;
	p->checkpoint = u->note.data;
	p->checkpoint_len = u->note.len;
}

/* What the client does with a proof for address: kt_proof_parse and
 * kt_proof_verify (first contact, the three witnesses trusted, quorum 3),
 * which must find it as want, cosigned by all three. 0, or -1 after saying
 * which check failed. */
static int proof_check(const struct run *u, const struct buf *text, const char *address,
		       enum kt_found want, struct kt_proof *p, struct kt_result *res)
{
	enum kt_why why = KT_OK;
	int r = kt_proof_parse(text->data, text->len, p);
	if (r == 0)
		r = kt_proof_verify(p, address, &u->d->trust, NULL, res, &why);
	if (r == 0 && res->found == want && res->cosigned == NWIT)
		return 0;
	if (why != KT_OK)
		fprintf(stderr, "bench_kt: %s\n", kt_why_text(why));
	return fail("a lookup proof did not verify", r);
}

/* One lookup proof of real address x, as the daemon makes it. */
static int proof_make(struct run *u, const struct real *x, const struct buf *auth,
		      struct kt_proof *p, struct ptree_proof *pp, struct buf *out)
{
	proof_begin(u, x->addr, p);
	memcpy(p->vrf_proof, x->vrf_proof, VRF_PROOF_LEN);
	int r = ptree_prove(u->map, x->leaf.idx, pp);
	if (r < 0 || !pp->found)
		return fail("ptree_prove", r);
	p->found = KT_PRESENT;
	p->counter = pp->leaf.counter;
	p->epoch = pp->leaf.epoch;
	memcpy(p->opening, x->opening, KT_OPENING_LEN);
	p->key = x->key;
	p->key_len = KEY_LEN;
	p->path = pp->path;
	if (auth != NULL && auth->len <= KT_AUTH_MAX) {
		memcpy(p->auth, auth->data, auth->len);
		p->auth_len = auth->len;
	}
	r = kt_proof_format(p, out);
	return r < 0 ? fail("kt_proof_format", r) : 0;
}

static int proofs(struct run *u, struct row *row)
{
	struct kt_proof *p = malloc(sizeof(*p));
	size_t bytes = 0, keyline = 0, steps = 0;
	int r = 0;
	if (p == NULL)
		return fail("out of memory", 0);
	for (size_t i = 0; i < REAL; i++) {
		size_t j = i + (size_t)(rnd() % (REAL - i));
		size_t t = u->which[i];
		u->which[i] = u->which[j];
		u->which[j] = t;
	}
	double t0 = now();
	for (size_t i = 0; r == 0 && i < REAL; i++)
		r = proof_make(u, &u->reals[u->which[i]], NULL, p, &u->pp[i], &u->texts[i]);
	row->make_us = (now() - t0) * 1e6 / REAL;
	for (size_t i = 0; r == 0 && i < REAL; i++) {
		bytes += u->texts[i].len;
		keyline += key_line_len(&u->texts[i]);
		steps += u->pp[i].path.len;
	}
	row->proof_bytes = (double)bytes / REAL;
	row->proof_nokey_bytes = (double)(bytes - keyline) / REAL;
	row->path_len = (double)steps / REAL;
	free(p);
	return r;
}

/* user0's authorization of its version 2 (an owner's change, so with a
 * previous digest), signed as sealmail signs one. */
static int authorization_make(struct run *u, struct buf *out)
{
	const struct real *x = &u->reals[0];
	struct kt_update up = {.authority = KT_BY_OWNER, .version = 2, .has_previous = 1};
	struct buf statement, sig;
	buf_init(&statement, KT_AUTH_MAX);
	buf_init(&sig, KT_SIG_MAX);
	memcpy(up.address, x->addr, strlen(x->addr) + 1);
	randombytes_buf(up.previous, sizeof(up.previous));
	kt_key_digest(x->key, KEY_LEN, up.key);
	int r = kt_update_format(&up, &statement);
	if (r == 0)
		r = pgp_sign_detached(u->d->pgp, &u->d->owner, statement.data, statement.len, false,
				      &sig);
	if (r == 0)
		r = kt_authorization_format(statement.data, statement.len, sig.data, sig.len, out);
	buf_free(&statement);
	buf_free(&sig);
	return r < 0 ? fail("user0's authorization", r) : 0;
}

/* user0's proof as sealmail monitor asks for it, with the authorization:
 * made, verified (the authorization's signature too), and what it adds. */
static int authorized_proof(struct run *u, struct row *row)
{
	struct kt_proof *p = malloc(sizeof(*p));
	struct ptree_proof pp;
	struct kt_result res;
	struct pgp_fpr signer;
	struct buf auth, plain, with;
	buf_init(&auth, KT_AUTH_MAX);
	buf_init(&plain, KT_PROOF_MAX);
	buf_init(&with, KT_PROOF_MAX);
	int r = p == NULL ? fail("out of memory", 0) : authorization_make(u, &auth);
	if (r == 0)
		r = proof_make(u, &u->reals[0], NULL, p, &pp, &plain);
	if (r == 0)
		r = proof_make(u, &u->reals[0], &auth, p, &pp, &with);
	if (r == 0)
		r = proof_check(u, &with, u->reals[0].addr, KT_PRESENT, p, &res);
	if (r == 0 && (!res.has_auth ||
		       pgp_verify_detached(u->d->pgp, res.auth.statement, res.auth.statement_len,
					   res.auth.sig, res.auth.sig_len, &signer) < 0 ||
		       strcmp(signer.hex, u->d->owner.hex) != 0))
		r = fail("user0's authorization is missing or not signed by user0's key", 0);
	row->auth_line = with.len - plain.len;
	row->auth_proof_bytes = with.len;
	buf_free(&auth);
	buf_free(&plain);
	buf_free(&with);
	free(p);
	return r;
}

/* One proof of absence for address, made as the daemon makes it and
 * verified as the client does; *ret_bytes and *ret_path get its size. */
static int absent_proof(struct run *u, const char *address, struct kt_proof *p,
			size_t *ret_bytes, size_t *ret_path)
{
	uint8_t beta[VRF_OUTPUT_LEN], idx[PTREE_IDX_LEN];
	struct ptree_proof pp;
	struct kt_result res;
	struct buf text;
	proof_begin(u, address, p);
	int r = vrf_prove(u->d->vrf_sk, (const uint8_t *)address, strlen(address), p->vrf_proof);
	if (r == 0)
		r = vrf_proof_to_hash(p->vrf_proof, beta);
	if (r < 0)
		return fail("vrf_prove", r);
	kt_index(beta, idx);
	r = ptree_prove(u->map, idx, &pp);
	if (r < 0 || pp.found)
		return fail("ptree_prove of an absent address", r);
	p->found = pp.has_leaf ? KT_ABSENT : KT_EMPTY;
	p->neighbour = pp.leaf;
	p->path = pp.path;
	buf_init(&text, KT_PROOF_MAX);
	r = kt_proof_format(p, &text);
	if (r < 0)
		r = fail("kt_proof_format", r);
	if (r == 0)
		r = proof_check(u, &text, address, KT_ABSENT, p, &res);
	*ret_bytes = text.len;
	*ret_path = pp.path.len;
	buf_free(&text);
	return r;
}

static int absent_proofs(struct run *u, struct row *row)
{
	char address[KT_ADDRESS_MAX];
	size_t bytes = 0, steps = 0, b = 0, s = 0;
	struct kt_proof *p = malloc(sizeof(*p));
	int r = p == NULL ? fail("out of memory", 0) : 0;
	for (size_t i = 0; r == 0 && i < ABSENT; i++) {
		snprintf(address, sizeof(address), "nobody%zu@" DOMAIN, i);
		r = absent_proof(u, address, p, &b, &s);
		bytes += b;
		steps += s;
	}
	row->absent_bytes = (double)bytes / ABSENT;
	row->absent_path_len = (double)steps / ABSENT;
	row->entries = ptree_count(u->map);
	free(p);
	return r;
}

/* Per-call times of the client's work, in microseconds, measured in one
 * loop so that noise from other processes falls on all of them alike. */
struct times {
	double us[T_COUNT][VERIFIES];
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Mean and median of v[0..n), sorting v. */
static void stats(double *v, size_t n, double ret[2])
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	qsort(v, n, sizeof(*v), cmp_double);
	ret[0] = sum / (double)n;
	ret[1] = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The client: parse and verify, as sealmail lookup does on first contact. */
static int client(struct run *u, size_t i, struct kt_proof *p, double *us)
{
	const struct buf *t = &u->texts[i % REAL];
	const char *addr = u->reals[u->which[i % REAL]].addr;
	struct kt_result res;
	double t0 = now();
	int r = proof_check(u, t, addr, KT_PRESENT, p, &res);
	*us = (now() - t0) * 1e6;
	return r;
}

/* The costly steps of kt_proof_verify for lookup i, each on its own. */
static int steps(struct run *u, size_t i, struct kt_proof *p, double us[T_COUNT])
{
	const struct real *x = &u->reals[u->which[i % REAL]];
	const struct ptree_proof *pp = &u->pp[i % REAL];
	struct note_verifier keys[1 + NWIT];
	struct note_sig_status st[1 + NWIT];
	uint8_t beta[VRF_OUTPUT_LEN];
	size_t tl = 0;
	keys[0] = u->d->log_v;
	memcpy(keys + 1, u->d->wit_v, sizeof(u->d->wit_v));
	double t0 = now();
	int bad = kt_proof_parse(u->texts[i % REAL].data, u->texts[i % REAL].len, p) < 0;
	double t1 = now();
	bad |= vrf_verify(u->d->vrf_pk, (const uint8_t *)x->addr, strlen(x->addr), x->vrf_proof,
			  beta) < 0;
	double t2 = now();
	bad |= note_verify(u->note.data, u->note.len, keys, 1 + NWIT, st, &tl) < 0 ||
	       !st[0].verified || !st[NWIT].verified;
	double t3 = now();
	bad |= ptree_verify(u->map_root, pp->leaf.idx, pp) < 0;
	double t4 = now();
	us[T_PARSE] = (t1 - t0) * 1e6;
	us[T_VRF] = (t2 - t1) * 1e6;
	us[T_NOTE] = (t3 - t2) * 1e6;
	us[T_PTREE] = (t4 - t3) * 1e6;
	return bad ? fail("a step of verification failed", 0) : 0;
}

static int verify(struct run *u, struct row *row)
{
	struct kt_proof *p = malloc(sizeof(*p));
	struct times *tm = malloc(sizeof(*tm));
	double one[T_COUNT];
	int r = p != NULL && tm != NULL ? 0 : fail("out of memory", 0);
	for (size_t i = 0; r == 0 && i < VERIFIES; i++) {
		r = client(u, i, p, &tm->us[T_ALL][i]);
		if (r == 0)
			r = steps(u, i, p, one);
		for (size_t k = T_PARSE; r == 0 && k < T_COUNT; k++)
			tm->us[k][i] = one[k];
	}
	for (size_t k = 0; r == 0 && k < T_COUNT; k++)
		stats(tm->us[k], VERIFIES, row->verify[k]);
	free(p);
	free(tm);
	return r;
}

static int run_init(struct run *u, const struct domain *d, unsigned long n)
{
	memset(u, 0, sizeof(*u));
	u->d = d;
	u->st = mem_tlog_store(&u->mem);
	u->nrand = n - REAL;
	u->rand_idx = malloc((u->nrand + 1) * PTREE_IDX_LEN);
	u->reals = calloc(REAL, sizeof(*u->reals));
	u->cs = calloc(UPDATES, sizeof(*u->cs));
	u->certs = malloc((size_t)UPDATES * CHANGE_KEY_LEN);
	u->pp = calloc(REAL, sizeof(*u->pp));
	u->which = calloc(REAL, sizeof(*u->which));
	buf_init(&u->snap, (size_t)1 << 40);
	buf_init(&u->delta, KT_DELTA_HEADER_LEN + (size_t)KT_DELTA_RECORD_LEN * KT_DELTA_MAX_RECORDS);
	buf_init(&u->entry, KT_ENTRY_MAX);
	buf_init(&u->note, CHECKPOINT_MAX);
	for (size_t i = 0; i < REAL; i++)
		buf_init(&u->texts[i], KT_PROOF_MAX);
	if (u->rand_idx == NULL || u->reals == NULL || u->cs == NULL || u->certs == NULL ||
	    u->pp == NULL || u->which == NULL || ptree_new(&u->map) < 0)
		return fail("out of memory", 0);
	for (size_t i = 0; i < REAL; i++)
		u->which[i] = i;
	return 0;
}

static void run_free(struct run *u)
{
	ptree_free(u->map);
	mem_tlog_free(&u->mem);
	free(u->rand_idx);
	free(u->reals);
	free(u->cs);
	free(u->certs);
	free(u->pp);
	free(u->which);
	buf_free(&u->snap);
	buf_free(&u->delta);
	buf_free(&u->entry);
	buf_free(&u->note);
	for (size_t i = 0; i < REAL; i++)
		buf_free(&u->texts[i]);
}

/* Epoch 0 (the build) logged and cosigned untimed, the lookups against it
 * (so the map holds exactly n entries), then the pre-epoch snapshot for the
 * witness, the timed epoch 1 and its replay. */
static int run(const struct domain *d, unsigned long n, struct row *row)
{
	struct run u;
	struct buf body;
	struct rusage ru;
	int r = -1;
	memset(row, 0, sizeof(*row));
	row->n = n;
	buf_init(&body, CHECKPOINT_MAX);
	if (run_init(&u, d, n) < 0 || reals_make(&u, row) < 0 || build(&u, row) < 0)
		goto done;
	if (kt_delta_begin(&u.delta, 0) < 0 || log_commit(&u, 0, &body) < 0 || cosign(&u, &body) < 0)
		goto done;
	if (proofs(&u, row) < 0 || authorized_proof(&u, row) < 0 || absent_proofs(&u, row) < 0 ||
	    verify(&u, row) < 0)
		goto done;
	if (ptree_snapshot(u.map, &u.snap) < 0) {
		fail("ptree_snapshot", 0);
		goto done;
	}
	row->snap_bytes = u.snap.len;
	if (changes_make(&u, row) < 0 || epoch(&u, row) < 0 || replay(&u, row) < 0)
		goto done;
	if (ptree_count(u.map) != n + row->inserted) {
		fail("count after the epoch", 0);
		goto done;
	}
	buf_free(&u.snap);
	getrusage(RUSAGE_SELF, &ru);
	row->rss_mb = (double)ru.ru_maxrss / 1024.0;
	r = 0;
done:
	buf_free(&body);
	run_free(&u);
	return r;
}

/* ---- output ---- */

static void print_row(const struct row *w)
{
	static const char *const step[T_COUNT] = {
		"verify", "  parse", "  vrf_verify", "  note_verify", "  ptree_verify"};
	static const char *const what[T_COUNT] = {
		"kt_proof_parse + kt_proof_verify, quorum 3 of 3, first contact",
		"kt_proof_parse", "", "log signature + 3 cosignatures", ""};
	double vrf_epoch = w->epoch_s + (double)w->inserted * (w->vrf_prove_us + w->vrf_hash_us) / 1e6;
	printf("== N = %lu ==\n", w->n);
	printf("build            %9.3f s    %lu ptree_set + ptree_root\n", w->build_s, w->n);
	printf("memory           %9.1f B    per entry (ptree_memory / N after the build)\n",
	       w->mem_per_entry);
	printf("epoch            %9.3f s    %d changes: %zu replaced, %zu new (cpu %.3f s)\n",
	       w->epoch_s, UPDATES, w->replaced, w->inserted, w->epoch_cpu_s);
	printf("  sort           %9.3f s    qsort by index\n", w->sort_s);
	printf("  changes        %9.3f s    opening, key digest, commitment, delta record, ptree_set\n",
	       w->changes_s);
	printf("  map root       %9.3f s    ptree_root\n", w->root_s);
	printf("  log + sign     %9.3f s    delta hash, entry, tlog append + root, checkpoint, "
	       "note_sign\n", w->log_s);
	printf("vrf_prove        %9.1f us   per new address (+ vrf_proof_to_hash %.1f us), mean of %d\n",
	       w->vrf_prove_us, w->vrf_hash_us, REAL);
	printf("  epoch + VRF    %9.3f s    if the epoch also proved its %zu new addresses\n",
	       vrf_epoch, w->inserted);
	printf("witness replay   %9.3f s    kt_delta_apply %.3f s + ptree_root %.3f s\n",
	       w->apply_s + w->replay_root_s, w->apply_s, w->replay_root_s);
	printf("  (not counted)  %9.3f s    ptree_load of the %.1f MB snapshot\n", w->load_s,
	       (double)w->snap_bytes / 1e6);
	printf("lookup proof     %9.0f B    %.0f B without the key line (%d B key), path %.1f\n",
	       w->proof_bytes, w->proof_nokey_bytes, KEY_LEN, w->path_len);
	printf("  + authorization %8.0f B    asked for: %.0f B without the key line (+%zu B; "
	       "user0's, verified: %zu B)\n",
	       w->proof_bytes + (double)w->auth_line,
	       w->proof_nokey_bytes + (double)w->auth_line, w->auth_line, w->auth_proof_bytes);
	printf("  of absence     %9.0f B    path %.1f, mean of %d, each verified\n", w->absent_bytes,
	       w->absent_path_len, ABSENT);
	printf("  map entries    %9zu      when the proofs were made\n", w->entries);
	printf("  made in        %9.1f us   ptree_prove + kt_proof_format, mean of %d\n", w->make_us,
	       REAL);
	printf("%-16s %9s %9s  (us per call, %d calls)\n", "client", "median", "mean", VERIFIES);
	for (size_t k = 0; k < T_COUNT; k++)
		printf("%-16s %9.1f %9.1f  %s\n", step[k], w->verify[k][1], w->verify[k][0], what[k]);
	printf("peak RSS         %9.0f MB\n\n", w->rss_mb);
	fflush(stdout);
}

static void print_summary(const struct row *w)
{
	printf("N=%lu: proof %.0f B (%.0f B without key, absence %.0f B), verify %.0f us (median; mean %.0f), "
	       "epoch(%dk) %.2f s, memory %.0f B/entry, witness replay %.2f s, "
	       "vrf_prove %.0f us/new address\n",
	       w->n, w->proof_bytes, w->proof_nokey_bytes, w->absent_bytes, w->verify[T_ALL][1], w->verify[T_ALL][0],
	       UPDATES / 1000, w->epoch_s, w->mem_per_entry, w->apply_s + w->replay_root_s,
	       w->vrf_prove_us);
}

int main(int argc, char **argv)
{
	static const unsigned long defaults[] = {10000, 100000, 1000000};
	static struct row rows[64];
	unsigned long ns[64];
	size_t count = 0, done = 0;
	struct domain d;

	for (int i = 1; i < argc; i++) {
		if (count == 64 || parse_count(argv[i], REAL, &ns[count++]) < 0) {
			fprintf(stderr, "usage: bench_kt [N...] (%d <= N <= %lu, at most 64)\n", REAL,
				BENCH_N_MAX);
			return 2;
		}
	}
	if (count == 0)
		for (; count < sizeof(defaults) / sizeof(defaults[0]); count++)
			ns[count] = defaults[count];
	if (sodium_init() < 0) {
		fail("sodium_init", 0);
		return 1;
	}
	randombytes_buf(&rng_state, sizeof(rng_state));
	if (domain_new(&d) < 0)
		return 1;
	for (; done < count; done++) {
		if (run(&d, ns[done], &rows[done]) < 0)
			break;
		print_row(&rows[done]);
	}
	for (size_t i = 0; i < done; i++)
		print_summary(&rows[i]);
	domain_free(&d);
	return done == count ? 0 : 1;
}
