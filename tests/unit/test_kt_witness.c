/* test_kt_witness: the witness against a simulated log (a map, an epoch
 * log in memory and a log signing key), honest for several epochs, then
 * each way a log can misbehave: every refusal must leave the witness as it
 * was, and the witness must go on cosigning the honest log afterwards. */
#include <inttypes.h>
#include <stdbool.h>

#include <sodium.h>

#include "check.h"
#include "kt.h"
#include "kt_delta.h"
#include "kt_witness.h"
#include "mem_tlog.h"
#include "note.h"
#include "ptree.h"
#include "tlog.h"

#define DOMAIN "jedi.test"
#define ORIGIN DOMAIN KT_ORIGIN_SUFFIX
#define T0 1700000000u
#define NOW 1800000000u
#define MAXB (64u << 20)

/* ---- the simulated log ---- */

struct sim {
	const char *domain;
	struct note_signer *log;
	struct ptree *map;
	struct mem_tlog tl;
	struct tlog_store st;
	uint64_t size;
	uint8_t vrf_pk[VRF_PK_LEN];
};

/* What a dishonest log does to one epoch. */
struct tamper {
	bool set_old;
	uint64_t old;
	bool set_time;
	uint64_t time;
	bool entry_root;       /* the entry (and map line) name a made-up map root */
	bool line_root;        /* only the map line names a made-up root */
	bool line_epoch;       /* the map line names the previous epoch */
	bool vrf;              /* the map line names another VRF key */
	bool fork;             /* the log appends another leaf than the entry */
	bool delta_flip;       /* a byte of the delta changes after hashing */
	bool pretend_new;      /* the first updated entry is recorded as new */
	bool drop_leaf;        /* the log's map loses a leaf nobody recorded */
	bool resign;           /* the note's signature is damaged */
	struct note_signer *signer; /* another key signs */
};

static struct note_signer *signer(const char *name, uint8_t type, uint8_t tag)
{
	uint8_t seed[32], pk[32], sk[64];
	struct note_signer *s = NULL;
	memset(seed, tag, sizeof(seed));
	crypto_sign_ed25519_seed_keypair(pk, sk, seed);
	CHECK_INT(note_signer_new(name, type, sk, &s), 0);
	sodium_memzero(sk, sizeof(sk));
	return s;
}

static void sim_init(struct sim *s, const char *domain)
{
	memset(s, 0, sizeof(*s));
	s->domain = domain;
	s->log = signer(ORIGIN, NOTE_KEY_ED25519, 0x11);
	s->st = mem_tlog_store(&s->tl);
	CHECK_INT(ptree_new(&s->map), 0);
	memset(s->vrf_pk, 0x42, sizeof(s->vrf_pk));
}

static void sim_free(struct sim *s)
{
	mem_tlog_free(&s->tl);
	ptree_free(s->map);
	note_signer_free(s->log);
}

static void key_idx(uint64_t k, uint8_t idx[PTREE_IDX_LEN])
{
	uint8_t in[11] = {'i', 'd', 'x'};
	for (int i = 0; i < 8; i++)
		in[3 + i] = (uint8_t)(k >> (56 - 8 * i));
	crypto_hash_sha256(idx, in, sizeof(in));
}

static int idx_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PTREE_IDX_LEN);
}

/* The honest changes of epoch e: three new entries and, from epoch 1, an
 * update of key e - 1; every fourth epoch changes nothing. */
static size_t epoch_changes(uint64_t e, uint8_t idx[4][PTREE_IDX_LEN])
{
	size_t n = 0;
	if (e % 4 == 3)
		return 0;
	for (uint64_t k = 3 * e; k < 3 * e + 3; k++)
		key_idx(k, idx[n++]);
	if (e >= 1)
		key_idx(e - 1, idx[n++]);
	qsort(idx, n, PTREE_IDX_LEN, idx_cmp);
	return n;
}

static int copy_but(void *arg, const struct ptree_leaf *leaf)
{
	struct ptree **t = arg;
	uint8_t drop[PTREE_IDX_LEN];
	key_idx(0, drop);
	if (memcmp(leaf->idx, drop, PTREE_IDX_LEN) == 0)
		return 0;
	return ptree_set(*t, leaf);
}

/* The log's map without key 0's entry. */
static void sim_drop_leaf(struct sim *s)
{
	struct ptree *t = NULL;
	CHECK_INT(ptree_new(&t), 0);
	CHECK_INT(ptree_walk(s->map, copy_but, &t), 0);
	ptree_free(s->map);
	s->map = t;
}

/* Changes the map as epoch e does and appends the delta. */
static void sim_delta(struct sim *s, uint64_t e, const struct tamper *tp, struct buf *delta)
{
	uint8_t idx[4][PTREE_IDX_LEN];
	size_t n = epoch_changes(e, idx);
	bool pretended = false;
	CHECK_INT(kt_delta_begin(delta, e), 0);
	for (size_t i = 0; i < n; i++) {
		struct ptree_leaf old, leaf;
		int have = ptree_get(s->map, idx[i], &old) == 0;
		if (have && tp->pretend_new && !pretended) {
			have = 0;
			pretended = true;
		}
		memcpy(leaf.idx, idx[i], PTREE_IDX_LEN);
		leaf.counter = have ? old.counter + 1 : 1;
		leaf.epoch = e;
		crypto_hash_sha256(leaf.commitment, leaf.idx, PTREE_IDX_LEN + 0);
		leaf.commitment[0] ^= (uint8_t)e;
		CHECK_INT(kt_delta_add(delta, idx[i], have ? &old : NULL, leaf.commitment), 0);
		CHECK_INT(ptree_set(s->map, &leaf), 0);
	}
	if (tp->drop_leaf)
		sim_drop_leaf(s);
}

/* The checkpoint body for the map line m (with any epoch). */
static void sim_body(const struct sim *s, const uint8_t root[32], const struct kt_map_line *m,
		     struct buf *body)
{
	struct buf origin, ext;
	struct note_checkpoint cp;
	buf_init(&origin, 512);
	buf_init(&ext, 512);
	CHECK_INT(kt_origin(s->domain, &origin), 0);
	CHECK_INT(kt_map_line_format(m, &ext), 0);
	cp.origin = (const char *)origin.data;
	cp.origin_len = origin.len;
	cp.size = s->size;
	memcpy(cp.root, root, 32);
	cp.ext = (const char *)ext.data;
	cp.ext_len = ext.len;
	CHECK_INT(note_checkpoint_format(&cp, body), 0);
	buf_free(&origin);
	buf_free(&ext);
}

/* Appends the log leaf of the entry (or, forking, of another one). */
static void sim_append(struct sim *s, const struct kt_entry *en, bool fork, uint8_t root[32])
{
	uint8_t leaf[32];
	struct kt_entry other = *en;
	other.time += fork ? 1 : 0;
	CHECK_INT(kt_entry_leaf_hash(&other, leaf), 0);
	CHECK_INT(tlog_append(&s->st, s->size, leaf), 0);
	s->size++;
	CHECK_INT(tlog_root(&s->st, s->size, root), 0);
}

/* The log runs epoch s->size (as tp says) and appends its request to req. */
static void sim_epoch_note(struct sim *s, const struct tamper *tp, struct buf *req, struct buf *ret_note)
{
	struct buf delta, entry, body, note;
	struct kt_entry en;
	struct kt_map_line m;
	uint8_t root[32];
	uint64_t old = s->size;
	buf_init(&delta, MAXB);
	buf_init(&entry, KT_ENTRY_MAX);
	buf_init(&body, 4096);
	buf_init(&note, 8192);
	sim_delta(s, old, tp, &delta);
	en.epoch = old;
	en.time = tp->set_time ? tp->time : T0 + 10 * old;
	ptree_root(s->map, en.map_root);
	if (tp->entry_root)
		memset(en.map_root, 0x77, sizeof(en.map_root));
	crypto_hash_sha256(en.delta_hash, delta.data, delta.len);
	if (tp->delta_flip)
		delta.data[delta.len - 1] ^= 1;
	CHECK_INT(kt_entry_format(&en, &entry), 0);
	sim_append(s, &en, tp->fork, root);
	m.epoch = tp->line_epoch ? old - 1 : old;
	memcpy(m.map_root, en.map_root, sizeof(m.map_root));
	if (tp->line_root)
		m.map_root[0] ^= 1;
	memcpy(m.vrf_pk, s->vrf_pk, sizeof(m.vrf_pk));
	if (tp->vrf)
		m.vrf_pk[5] ^= 1;
	sim_body(s, root, &m, &body);
	CHECK_INT(note_sign(tp->signer ? tp->signer : s->log, body.data, body.len, 0, &note), 0);
	if (tp->resign)
		note.data[note.len - 10] = note.data[note.len - 10] == 'A' ? 'B' : 'A';
	CHECK_INT(kt_witness_request(tp->set_old ? tp->old : old, entry.data, entry.len, delta.data,
				     delta.len, note.data, note.len, req),
		  0);
	if (ret_note != NULL)
		CHECK_INT(buf_append(ret_note, note.data, note.len), 0);
	buf_free(&delta);
	buf_free(&entry);
	buf_free(&body);
	buf_free(&note);
}

static void sim_epoch(struct sim *s, const struct tamper *tp, struct buf *req)
{
	sim_epoch_note(s, tp, req, NULL);
}

/* ---- the witness side ---- */

static struct note_signer *wsigner;
static struct note_verifier wkey;

static struct kt_witness *witness_new(const struct sim *s)
{
	struct note_verifier lk;
	struct kt_witness *w = NULL;
	CHECK_INT(note_signer_verifier(s->log, &lk), 0);
	CHECK_INT(kt_witness_new(ORIGIN, &lk, &w), 0);
	return w;
}

/* Sends the log's next honest epoch; the cosignature must verify. */
static void honest(struct sim *s, struct kt_witness *w)
{
	struct tamper tp = {0};
	struct buf req, out, note;
	struct note_sig_status st;
	size_t tl = 0, size = kt_witness_size(w);
	buf_init(&req, MAXB);
	buf_init(&out, 4096);
	buf_init(&note, 16384);
	sim_epoch_note(s, &tp, &req, &note);
	CHECK_INT(kt_witness_add(w, wsigner, NOW + size, req.data, req.len, &out), 200);
	CHECK_INT(kt_witness_size(w), size + 1);
	/* the log's note with the cosignature added verifies for the witness */
	CHECK_INT(buf_append(&note, out.data, out.len), 0);
	CHECK_INT(note_verify(note.data, note.len, &wkey, 1, &st, &tl), 0);
	CHECK_INT(st.verified, 1);
	CHECK_INT(st.timestamp, NOW + size);
	buf_free(&req);
	buf_free(&out);
	buf_free(&note);
}

static void save(struct kt_witness *w, struct buf *b)
{
	buf_init(b, 1u << 30);
	CHECK_INT(kt_witness_save(w, b), 0);
}

/* ---- state comparison ---- */

/* Where the map snapshot lies in a state file (offsets from the format in
 * kt_witness.c). */
static void state_split(const struct buf *b, size_t *ret_head, size_t *ret_snap)
{
	size_t off = 23;
	off += 2 + (size_t)(b->data[off] << 8 | b->data[off + 1]);
	off += 2 + (size_t)(b->data[off] << 8 | b->data[off + 1]);
	uint64_t size = 0;
	for (int i = 0; i < 8; i++)
		size = size << 8 | b->data[off + (size_t)i];
	off += 8 + 32 + 32 * (size_t)__builtin_popcountll(size) + 1 + 32 + 8 + 32;
	uint64_t n = 0;
	for (int i = 0; i < 8; i++)
		n = n << 8 | b->data[off + (size_t)i];
	*ret_head = off + 8;
	*ret_snap = (size_t)n;
}

struct leaves {
	struct buf b;
};

static int collect(void *arg, const struct ptree_leaf *leaf)
{
	struct leaves *l = arg;
	return buf_append(&l->b, leaf, sizeof(*leaf));
}

static void snap_leaves(const uint8_t *p, size_t n, struct leaves *l)
{
	struct ptree_view v = {p, n};
	struct ptree *t = NULL;
	buf_init(&l->b, 1u << 30);
	CHECK_INT(ptree_load(&v, &t), 0);
	if (t != NULL)
		CHECK_INT(ptree_walk(t, collect, l), 0);
	ptree_free(t);
}

/* The witness holds the state saved in before: the same bytes, or (after
 * a map rebuilt by an undo, whose arrays may be laid out anew) the same
 * fields and the same leaves. */
static void same_state(const struct buf *before, struct kt_witness *w, bool layout_may_change)
{
	struct buf now;
	save(w, &now);
	if (!layout_may_change || (now.len == before->len && memcmp(now.data, before->data, now.len) == 0)) {
		CHECK(now.len == before->len && memcmp(now.data, before->data, now.len) == 0);
		buf_free(&now);
		return;
	}
	size_t h1, h2, n1, n2;
	struct leaves a, b;
	state_split(before, &h1, &n1);
	state_split(&now, &h2, &n2);
	CHECK(h1 == h2 && memcmp(before->data, now.data, h1) == 0);
	snap_leaves(before->data + h1, n1, &a);
	snap_leaves(now.data + h2, n2, &b);
	CHECK(a.b.len == b.b.len && memcmp(a.b.data, b.b.data, a.b.len) == 0);
	buf_free(&a.b);
	buf_free(&b.b);
	buf_free(&now);
}

/* ---- tests ---- */

static void honest_epochs(void)
{
	struct sim s;
	sim_init(&s, DOMAIN);
	struct kt_witness *w = witness_new(&s);
	CHECK_INT(kt_witness_size(w), 0);
	CHECK_STR(kt_witness_origin(w), ORIGIN);
	for (int i = 0; i < 9; i++)
		honest(&s, w);
	CHECK_INT(kt_witness_size(w), 9);
	kt_witness_free(w);
	sim_free(&s);
}

static void bad_new(void)
{
	struct sim s;
	struct note_verifier lk, wk;
	struct kt_witness *w = NULL;
	sim_init(&s, DOMAIN);
	CHECK_INT(note_signer_verifier(s.log, &lk), 0);
	CHECK_INT(note_signer_verifier(wsigner, &wk), 0);
	CHECK_INT(kt_witness_new("", &lk, &w), SM_EINVAL);
	CHECK_INT(kt_witness_new("a b", &lk, &w), SM_EINVAL);
	CHECK_INT(kt_witness_new("a\n", &lk, &w), SM_EINVAL);
	CHECK_INT(kt_witness_new(ORIGIN, &wk, &w), SM_EINVAL);
	CHECK(w == NULL);
	kt_witness_free(NULL);
	sim_free(&s);
}

/* One attack: a witness at n honest epochs gets the tampered epoch n
 * (after pre_epochs honest epochs the witness never saw, for skipping),
 * must answer status with a body starting with want, keep its state, and
 * then still cosign the honest epoch n. */
static void attack_run(const char *what, const struct tamper *tp, const char *domain, unsigned pre,
		       int status, const char *want, bool layout)
{
	const unsigned n = 5;
	struct sim s, h;
	struct buf req, out, before;
	struct tamper none = {0};
	sim_init(&s, domain);
	sim_init(&h, DOMAIN);
	struct kt_witness *w = witness_new(&h);
	for (unsigned i = 0; i < n; i++) {
		honest(&h, w);
		buf_init(&req, MAXB);
		sim_epoch(&s, &none, &req);
		buf_free(&req);
	}
	for (unsigned i = 0; i < pre; i++) {
		buf_init(&req, MAXB);
		sim_epoch(&s, &none, &req);
		buf_free(&req);
	}
	save(w, &before);
	buf_init(&req, MAXB);
	buf_init(&out, 4096);
	sim_epoch(&s, tp, &req);
	int r = kt_witness_add(w, wsigner, NOW, req.data, req.len, &out);
	if (r != status || out.data == NULL || strncmp((const char *)out.data, want, strlen(want)) != 0)
		printf("# %s: got %d \"%.*s\"\n", what, r, (int)out.len, out.data ? (char *)out.data : "");
	CHECK_INT(r, status);
	CHECK(out.data != NULL && strncmp((const char *)out.data, want, strlen(want)) == 0);
	CHECK_INT(kt_witness_size(w), n);
	same_state(&before, w, layout);
	honest(&h, w);
	CHECK_INT(kt_witness_size(w), n + 1);
	kt_witness_free(w);
	buf_free(&req);
	buf_free(&out);
	buf_free(&before);
	sim_free(&s);
	sim_free(&h);
}

static void attack(const char *what, const struct tamper *tp, int status, const char *want)
{
	attack_run(what, tp, DOMAIN, 0, status, want, false);
}

static void wrong_old_size(void)
{
	struct tamper tp = {.set_old = true, .old = 3};
	attack("old size", &tp, 409, "5\n");
	tp.old = 6;
	attack("old size ahead", &tp, 409, "5\n");
}

static void skipped_epoch(void)
{
	struct tamper tp = {.set_old = true, .old = 5};
	attack_run("skip", &tp, DOMAIN, 1, 422, "the checkpoint is not exactly one epoch", false);
}

static void bad_signature(void)
{
	struct tamper tp = {.resign = true};
	attack("damaged signature", &tp, 403, "the checkpoint is not signed by the log's key");
	struct tamper other = {.signer = signer(ORIGIN, NOTE_KEY_ED25519, 0x99)};
	attack("other key", &other, 403, "the checkpoint is not signed by the log's key");
	note_signer_free(other.signer);
}

static void unknown_origin(void)
{
	struct tamper tp = {0};
	attack_run("origin", &tp, "sith.test", 0, 403, "unknown origin", false);
}

static void wrong_map_root(void)
{
	struct tamper tp = {.entry_root = true};
	attack_run("entry root", &tp, DOMAIN, 0, 422,
		   "the map root after replaying the delta is not the one in the epoch entry", true);
}

static void counter_goes_down(void)
{
	struct tamper tp = {.pretend_new = true};
	attack("counter reset", &tp, 422, "an entry's old value does not match the map");
}

static void entry_deleted(void)
{
	struct tamper tp = {.drop_leaf = true};
	attack_run("deleted", &tp, DOMAIN, 0, 422,
		   "the map root after replaying the delta is not the one in the epoch entry", true);
}

static void wrong_delta_hash(void)
{
	struct tamper tp = {.delta_flip = true};
	attack("delta hash", &tp, 422, "the delta's hash is not the one in the epoch entry");
}

static void map_line_mismatch(void)
{
	struct tamper root = {.line_root = true};
	attack("map line root", &root, 422, "the checkpoint's map line names another");
	struct tamper epoch = {.line_epoch = true};
	attack("map line epoch", &epoch, 422, "the checkpoint's map line is missing, malformed");
}

static void vrf_key_change(void)
{
	struct tamper tp = {.vrf = true};
	attack("vrf", &tp, 422, "the VRF key changed");
}

static void time_goes_back(void)
{
	struct tamper tp = {.set_time = true, .time = T0 + 10 * 4 - 1};
	attack("time", &tp, 422, "time goes back");
	tp.time = T0 + 10 * 4; /* equal to the last: allowed */
	struct sim s;
	sim_init(&s, DOMAIN);
	struct kt_witness *w = witness_new(&s);
	struct buf req, out;
	for (int i = 0; i < 5; i++)
		honest(&s, w);
	buf_init(&req, MAXB);
	buf_init(&out, 4096);
	sim_epoch(&s, &tp, &req);
	CHECK_INT(kt_witness_add(w, wsigner, NOW, req.data, req.len, &out), 200);
	buf_free(&req);
	buf_free(&out);
	kt_witness_free(w);
	sim_free(&s);
}

static void forked_log(void)
{
	struct tamper tp = {.fork = true};
	attack("fork", &tp, 422, "the log root after appending the entry is not the checkpoint's");
}

/* After a successful epoch n, another checkpoint of size n + 1 is refused:
 * the witness is past it. */
static void second_checkpoint(void)
{
	struct sim s, other;
	struct tamper tp = {.set_time = true, .time = T0 + 10 * 5 + 3};
	struct buf req, out, before;
	sim_init(&s, DOMAIN);
	sim_init(&other, DOMAIN);
	struct kt_witness *w = witness_new(&s);
	for (int i = 0; i < 5; i++) {
		honest(&s, w);
		buf_init(&req, MAXB);
		sim_epoch(&other, &(struct tamper){0}, &req);
		buf_free(&req);
	}
	honest(&s, w);
	save(w, &before);
	buf_init(&req, MAXB);
	buf_init(&out, 4096);
	sim_epoch(&other, &tp, &req);
	CHECK_INT(kt_witness_add(w, wsigner, NOW, req.data, req.len, &out), 409);
	CHECK_STR((const char *)out.data, "6\n");
	same_state(&before, w, false);
	buf_free(&req);
	buf_free(&out);
	buf_free(&before);
	kt_witness_free(w);
	sim_free(&s);
	sim_free(&other);
}

/* A log that crashed after the witness answered asks for the same epoch
 * again: the very same checkpoint is cosigned again, the state untouched. */
static void same_checkpoint_again(void)
{
	struct sim s;
	struct buf req, out, before, note;
	struct note_sig_status st;
	size_t tl = 0;
	sim_init(&s, DOMAIN);
	struct kt_witness *w = witness_new(&s);
	for (int i = 0; i < 3; i++)
		honest(&s, w);
	buf_init(&req, MAXB);
	buf_init(&out, 4096);
	buf_init(&note, 16384);
	sim_epoch_note(&s, &(struct tamper){0}, &req, &note);
	CHECK_INT(kt_witness_add(w, wsigner, NOW, req.data, req.len, &out), 200);
	save(w, &before);
	buf_reset(&out);
	CHECK_INT(kt_witness_add(w, wsigner, NOW + 1, req.data, req.len, &out), 200);
	CHECK_INT(kt_witness_size(w), 4);
	same_state(&before, w, true);
	CHECK_INT(buf_append(&note, out.data, out.len), 0);
	CHECK_INT(note_verify(note.data, note.len, &wkey, 1, &st, &tl), 0);
	CHECK_INT(st.timestamp, NOW + 1);
	buf_free(&req);
	buf_free(&out);
	buf_free(&note);
	buf_free(&before);
	kt_witness_free(w);
	sim_free(&s);
}

static void malformed_requests(void)
{
	static const char *const bad[] = {
		"",
		"old 5\n",
		"old 05\nentry 0\ndelta 0\ncheckpoint 0\n",
		"old 5\nentry 0\ndelta 0\ncheckpoint 0\nx",
		"old 5\nentry 1\ndelta 0\ncheckpoint 0\n",
		"old -1\nentry 0\ndelta 0\ncheckpoint 0\n",
		"old 18446744073709551616\nentry 0\ndelta 0\ncheckpoint 0\n",
		"old 5\nentry 0\ndelta 0\ncheckpoint 3\nabc",
		"old 5\r\nentry 0\ndelta 0\ncheckpoint 0\n",
		"old 5\nentry 513\n",
		"old 5\nentry 0\ndelta 0\ncheckpoint 99999999999\n",
	};
	struct sim s;
	struct buf before, out;
	sim_init(&s, DOMAIN);
	struct kt_witness *w = witness_new(&s);
	for (int i = 0; i < 5; i++)
		honest(&s, w);
	save(w, &before);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_init(&out, 4096);
		int r = kt_witness_add(w, wsigner, NOW, (const uint8_t *)bad[i], strlen(bad[i]), &out);
		if (r != 400)
			printf("# request %zu: %d\n", i, r);
		CHECK_INT(r, 400);
		buf_free(&out);
	}
	same_state(&before, w, false);
	const char *o = NULL;
	size_t ol = 0;
	CHECK_INT(kt_witness_request_origin((const uint8_t *)bad[3], strlen(bad[3]), &o, &ol), SM_EPARSE);
	const char *good = "old 5\nentry 0\ndelta 0\ncheckpoint 9\nfoo/bar\n\n";
	CHECK_INT(kt_witness_request_origin((const uint8_t *)good, strlen(good), &o, &ol), 0);
	CHECK(ol == 7 && memcmp(o, "foo/bar", 7) == 0);
	buf_free(&before);
	kt_witness_free(w);
	sim_free(&s);
}

static void save_load_continue(void)
{
	struct sim s;
	struct buf a, b;
	struct kt_witness *w2 = NULL;
	sim_init(&s, DOMAIN);
	struct kt_witness *w = witness_new(&s);
	save(w, &a);
	CHECK_INT(kt_witness_load(a.data, a.len, &w2), 0);
	CHECK(w2 != NULL && kt_witness_size(w2) == 0);
	kt_witness_free(w2);
	w2 = NULL;
	buf_free(&a);
	for (int i = 0; i < 6; i++)
		honest(&s, w);
	save(w, &a);
	CHECK_INT(kt_witness_load(a.data, a.len, &w2), 0);
	kt_witness_free(w);
	if (w2 == NULL)
		goto done;
	CHECK_INT(kt_witness_size(w2), 6);
	CHECK_STR(kt_witness_origin(w2), ORIGIN);
	save(w2, &b);
	CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	buf_free(&b);
	for (int i = 0; i < 3; i++)
		honest(&s, w2);
	CHECK_INT(kt_witness_size(w2), 9);
	kt_witness_free(w2);
done:
	buf_free(&a);
	sim_free(&s);
}

static void corrupt_state(void)
{
	struct sim s;
	struct buf a;
	struct kt_witness *w2 = NULL;
	sim_init(&s, DOMAIN);
	struct kt_witness *w = witness_new(&s);
	for (int i = 0; i < 5; i++)
		honest(&s, w);
	save(w, &a);
	/* every single flipped bit, and every truncation, is refused */
	size_t step = a.len / 400 + 1;
	for (size_t i = 0; i < a.len; i += (i < 300 ? 1 : step)) {
		a.data[i] ^= 0x10;
		int r = kt_witness_load(a.data, a.len, &w2);
		if (r != SM_EPARSE)
			printf("# flip at %zu: %d\n", i, r);
		CHECK_INT(r, SM_EPARSE);
		a.data[i] ^= 0x10;
	}
	for (size_t n = 0; n < a.len; n += (n < 300 ? 1 : step))
		CHECK_INT(kt_witness_load(a.data, n, &w2), SM_EPARSE);
	CHECK(w2 == NULL);
	CHECK_INT(kt_witness_load(NULL, 0, &w2), SM_EPARSE);
	CHECK_INT(kt_witness_load(a.data, a.len, &w2), 0);
	kt_witness_free(w2);
	buf_free(&a);
	kt_witness_free(w);
	sim_free(&s);
}

/* A hand-made state, consistent but with its checksum recomputed over a
 * wrong field, is refused by the checks behind the checksum. */
static void inconsistent_state(void)
{
	struct sim s;
	struct buf a;
	struct kt_witness *w2 = NULL;
	sim_init(&s, DOMAIN);
	struct kt_witness *w = witness_new(&s);
	for (int i = 0; i < 3; i++)
		honest(&s, w);
	save(w, &a);
	size_t head, snap;
	state_split(&a, &head, &snap);
	/* before the snapshot: ... frontier, has_vrf, vrf_pk, time, map root, length */
	const size_t has_vrf = head - 8 - 32 - 8 - 32 - 1;
	const size_t fields[] = {head - 8 - 32, has_vrf, has_vrf - 32, head + 40};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		a.data[fields[i]] ^= 0x01;
		crypto_hash_sha256(a.data + a.len - 32, a.data, a.len - 32);
		CHECK_INT(kt_witness_load(a.data, a.len, &w2), SM_EPARSE);
		a.data[fields[i]] ^= 0x01;
	}
	crypto_hash_sha256(a.data + a.len - 32, a.data, a.len - 32);
	CHECK_INT(kt_witness_load(a.data, a.len, &w2), 0);
	kt_witness_free(w2);
	buf_free(&a);
	kt_witness_free(w);
	sim_free(&s);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	wsigner = signer("witness.example/w1", NOTE_KEY_COSIG_V1, 0x22);
	CHECK_INT(note_signer_verifier(wsigner, &wkey), 0);
	RUN(honest_epochs);
	RUN(bad_new);
	RUN(wrong_old_size);
	RUN(skipped_epoch);
	RUN(bad_signature);
	RUN(unknown_origin);
	RUN(wrong_map_root);
	RUN(counter_goes_down);
	RUN(entry_deleted);
	RUN(wrong_delta_hash);
	RUN(map_line_mismatch);
	RUN(vrf_key_change);
	RUN(time_goes_back);
	RUN(forked_log);
	RUN(second_checkpoint);
	RUN(same_checkpoint_again);
	RUN(malformed_requests);
	RUN(save_load_continue);
	RUN(corrupt_state);
	RUN(inconsistent_state);
	note_signer_free(wsigner);
	return check_done();
}
