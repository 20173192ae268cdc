/* kt_witness.c: the witness and map auditor of one log (kt_witness.h).
 *
 * The log is kept as its right frontier only: for each set bit L of the
 * size, the stored hash (L, (size >> L) - 1), which is all tlog_append
 * reads and all tlog_root needs. The map is a full struct ptree.
 *
 * kt_witness_add runs every check that needs no change to the map first
 * (framing, origin, log signature, size, entry, delta hash and framing,
 * map line, VRF key, the log root after the append), then produces the
 * cosignature, and only then replays the delta: kt_delta_apply leaves the
 * map untouched when it refuses, so the one check left after it (the
 * replayed root) is the only one that has to undo a change.
 *
 * State file, integers big-endian:
 *   "sealmail-kt-witness/v1\n"
 *   be16 n, origin[n]   be16 n, log vkey[n]   be64 size   log root[32]
 *   frontier hashes, one per set bit of size, highest level first
 *   u8 has_vrf   vrf_pk[32] (zero without one)   be64 last entry time
 *   map root of the last entry[32]   be64 n, ptree snapshot[n]
 *   SHA-256 of everything before it[32]
 * The trailing hash catches damage to the fields nothing else checks (the
 * time, the VRF key); the rest is recomputed on load. */
#include "kt_witness.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kt.h"
#include "kt_delta.h"
#include "num.h"
#include "ptree.h"
#include "sha256.h"
#include "tlog.h"

#define STATE_MAGIC "sealmail-kt-witness/v1\n"
#define STATE_MAGIC_LEN (sizeof(STATE_MAGIC) - 1)
#define STATE_SUM_LEN 32
#define LEVELS 64
#define DELTA_MAX ((size_t)KT_DELTA_HEADER_LEN + (size_t)KT_DELTA_MAX_RECORDS * KT_DELTA_RECORD_LEN)
#define REASON_MAX 256

/* A log of size leaves, as its right frontier. */
struct frontier {
	uint64_t size;
	uint8_t h[LEVELS][TLOG_HASH_LEN];
};

struct kt_witness {
	char origin[KT_WITNESS_ORIGIN_MAX + 1];
	size_t origin_len;
	struct note_verifier log_key;
	struct frontier log;
	uint8_t log_root[TLOG_HASH_LEN];
	int has_vrf;
	uint8_t vrf_pk[VRF_PK_LEN];
	uint64_t last_time;
	uint8_t map_root[PTREE_HASH_LEN]; /* the last entry's; the empty root at size 0 */
	struct ptree *map;
	int broken; /* an undo ran out of memory: the map is not the state's */
};

/* The fields of an add-epoch request; pointers into the request body. */
struct request {
	uint64_t old;
	const uint8_t *entry, *delta, *cp;
	size_t entry_len, delta_len, cp_len;
};

/* One request on its way to being adopted. */
struct add {
	struct request rq;
	size_t body_len; /* the signed checkpoint body at rq.cp */
	struct note_checkpoint cp;
	struct kt_entry entry;
	struct kt_map_line map;
	struct frontier log;
	uint8_t log_root[TLOG_HASH_LEN];
	const char *why; /* the refusal, for the response body */
};

/* ---- the frontier as a tlog store ---- */

static int frontier_has(const struct frontier *f, unsigned level, uint64_t index)
{
	return level < LEVELS && ((f->size >> level) & 1) && index == (f->size >> level) - 1;
}

static int frontier_read(void *ctx, unsigned level, uint64_t index, uint8_t ret[TLOG_HASH_LEN])
{
	const struct frontier *f = ctx;
	if (!frontier_has(f, level, index))
		return SM_ENOTFOUND;
	memcpy(ret, f->h[level], TLOG_HASH_LEN);
	return 0;
}

static int frontier_no_write(void *ctx, unsigned level, uint64_t index, const uint8_t h[TLOG_HASH_LEN])
{
	(void)ctx;
	(void)level;
	(void)index;
	(void)h;
	return SM_EINVAL;
}

/* During an append: reads come from the old frontier (the left siblings),
 * writes that land on the new frontier are kept, the rest dropped. */
struct step {
	const struct frontier *old;
	struct frontier *next;
};

static int step_read(void *ctx, unsigned level, uint64_t index, uint8_t ret[TLOG_HASH_LEN])
{
	const struct step *s = ctx;
	return frontier_read((void *)(uintptr_t)s->old, level, index, ret);
}

static int step_write(void *ctx, unsigned level, uint64_t index, const uint8_t h[TLOG_HASH_LEN])
{
	struct step *s = ctx;
	if (frontier_has(s->next, level, index))
		memcpy(s->next->h[level], h, TLOG_HASH_LEN);
	return 0;
}

static int frontier_root(const struct frontier *f, uint8_t ret[TLOG_HASH_LEN])
{
	struct tlog_store st = {frontier_read, frontier_no_write, (void *)(uintptr_t)f};
	return tlog_root(&st, f->size, ret);
}

/* The frontier after appending leaf, and the new root. Levels set in both
 * sizes hold the same subtree and are carried over; the one new level is
 * the last hash the append writes. */
static int frontier_append(const struct frontier *old, const uint8_t leaf[TLOG_HASH_LEN],
			   struct frontier *ret, uint8_t ret_root[TLOG_HASH_LEN])
{
	struct frontier next = *old;
	struct step s = {old, &next};
	struct tlog_store st = {step_read, step_write, &s};
	if (old->size == UINT64_MAX)
		return SM_ETOOBIG;
	next.size = old->size + 1;
	int r = tlog_append(&st, old->size, leaf);
	if (r == 0)
		r = frontier_root(&next, ret_root);
	if (r == 0)
		*ret = next;
	sodium_memzero(&next, sizeof(next));
	return r;
}

/* ---- a bounded cursor ---- */

/* A bounds-checked cursor that must end exactly at the end of its input. */
struct cur {
	const uint8_t *p;
	size_t len, off;
};

static const uint8_t *cur_take(struct cur *c, size_t n)
{
	if (n > c->len - c->off)
		return NULL;
	c->off += n;
	return c->p + c->off - n;
}

/* "<word> <decimal>\n": no sign, no leading zero, below 2^64. */
static int cur_number_line(struct cur *c, const char *word, uint64_t *ret)
{
	size_t wl = strlen(word);
	const uint8_t *w = cur_take(c, wl + 1);
	if (w == NULL || memcmp(w, word, wl) != 0 || w[wl] != ' ')
		return SM_EPARSE;
	const uint8_t *num = c->p + c->off, *nl = memchr(num, '\n', c->len - c->off);
	if (nl == NULL || num_parse_dec(num, (size_t)(nl - num), ret) < 0)
		return SM_EPARSE;
	c->off += (size_t)(nl - num) + 1;
	return 0;
}

/* "<word> <n>\n" then n bytes, n at most max. */
static int cur_field(struct cur *c, const char *word, size_t max, const uint8_t **ret, size_t *ret_len)
{
	uint64_t n;
	const uint8_t *p;
	if (cur_number_line(c, word, &n) < 0 || n > max || (p = cur_take(c, (size_t)n)) == NULL)
		return SM_EPARSE;
	*ret = p;
	*ret_len = (size_t)n;
	return 0;
}

static int request_parse(const uint8_t *req, size_t len, struct request *ret)
{
	struct cur c = {req, len, 0};
	struct request rq;
	if (req == NULL || len > KT_WITNESS_REQUEST_MAX)
		return SM_EPARSE;
	if (cur_number_line(&c, "old", &rq.old) < 0 ||
	    cur_field(&c, "entry", KT_ENTRY_MAX, &rq.entry, &rq.entry_len) < 0 ||
	    cur_field(&c, "delta", DELTA_MAX, &rq.delta, &rq.delta_len) < 0 ||
	    cur_field(&c, "checkpoint", NOTE_MAX_SIZE, &rq.cp, &rq.cp_len) < 0 || c.off != c.len)
		return SM_EPARSE;
	*ret = rq;
	return 0;
}

/* The first line of a note, the checkpoint's origin. */
static int first_line(const uint8_t *p, size_t len, const char **ret, size_t *ret_len)
{
	const uint8_t *nl = memchr(p, '\n', len < KT_WITNESS_ORIGIN_MAX + 1 ? len : KT_WITNESS_ORIGIN_MAX + 1);
	if (nl == NULL || nl == p)
		return SM_EPARSE;
	*ret = (const char *)p;
	*ret_len = (size_t)(nl - p);
	return 0;
}

static int origin_valid(const char *o, size_t len)
{
	if (len == 0 || len > KT_WITNESS_ORIGIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)o[i] < 0x21 || (unsigned char)o[i] > 0x7e)
			return 0;
	return 1;
}

/* ---- lifetime ---- */

static int witness_alloc(const char *origin, size_t origin_len, const struct note_verifier *log_key,
			 struct kt_witness **ret)
{
	struct kt_witness *w;
	if (!origin_valid(origin, origin_len) || log_key->type != NOTE_KEY_ED25519)
		return SM_EINVAL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return SM_ENOMEM;
	memcpy(w->origin, origin, origin_len);
	w->origin_len = origin_len;
	w->log_key = *log_key;
	*ret = w;
	return 0;
}

int kt_witness_new(const char *origin, const struct note_verifier *log_key, struct kt_witness **ret)
{
	struct kt_witness *w = NULL;
	int r;
	if (origin == NULL || log_key == NULL)
		return SM_EINVAL;
	if ((r = witness_alloc(origin, strnlen(origin, KT_WITNESS_ORIGIN_MAX + 1), log_key, &w)) < 0)
		return r;
	if ((r = ptree_new(&w->map)) < 0) {
		kt_witness_free(w);
		return r;
	}
	ptree_empty_hash(w->map_root);
	if ((r = frontier_root(&w->log, w->log_root)) < 0) {
		kt_witness_free(w);
		return r;
	}
	*ret = w;
	return 0;
}

void kt_witness_free(struct kt_witness *w)
{
	if (w == NULL)
		return;
	ptree_free(w->map);
	sodium_memzero(w, sizeof(*w));
	free(w);
}

uint64_t kt_witness_size(const struct kt_witness *w)
{
	return w->log.size;
}

const char *kt_witness_origin(const struct kt_witness *w)
{
	return w->origin;
}

/* ---- the request, both sides ---- */

int kt_witness_request(uint64_t old_size, const uint8_t *entry, size_t entry_len, const uint8_t *delta,
		       size_t delta_len, const uint8_t *checkpoint, size_t checkpoint_len, struct buf *out)
{
	int r = buf_appendf(out, "old %" PRIu64 "\nentry %zu\n", old_size, entry_len);
	if (r == 0)
		r = buf_append(out, entry, entry_len);
	if (r == 0)
		r = buf_appendf(out, "delta %zu\n", delta_len);
	if (r == 0)
		r = buf_append(out, delta, delta_len);
	if (r == 0)
		r = buf_appendf(out, "checkpoint %zu\n", checkpoint_len);
	if (r == 0)
		r = buf_append(out, checkpoint, checkpoint_len);
	return r;
}

int kt_witness_request_origin(const uint8_t *req, size_t len, const char **ret_origin, size_t *ret_len)
{
	struct request rq;
	const char *o;
	size_t n;
	if (request_parse(req, len, &rq) < 0 || first_line(rq.cp, rq.cp_len, &o, &n) < 0)
		return SM_EPARSE;
	*ret_origin = o;
	*ret_len = n;
	return 0;
}

/* ---- the checks, cheapest and least trusting first ---- */

/* The checkpoint: this log's origin, signed by its key, a valid body. */
static int check_checkpoint_note(const struct kt_witness *w, struct add *a)
{
	struct note_sig_status st;
	const char *o;
	size_t n;
	if (first_line(a->rq.cp, a->rq.cp_len, &o, &n) < 0) {
		a->why = "the checkpoint has no origin line";
		return 400;
	}
	if (n != w->origin_len || memcmp(o, w->origin, n) != 0) {
		a->why = "unknown origin: this witness does not follow that log";
		return 403;
	}
	int r = note_verify(a->rq.cp, a->rq.cp_len, &w->log_key, 1, &st, &a->body_len);
	if (r == SM_ENOTFOUND || r == SM_ECRYPTO) {
		a->why = "the checkpoint is not signed by the log's key";
		return 403;
	}
	if (r < 0 || note_checkpoint_parse(a->rq.cp, a->body_len, &a->cp) < 0) {
		a->why = "the checkpoint is not a well-formed signed checkpoint";
		return 400;
	}
	return 0;
}

/* The entry: the next epoch, not earlier than the last, and the delta's. */
static int check_entry(const struct kt_witness *w, struct add *a)
{
	uint8_t h[KT_DIGEST_LEN];
	size_t n;
	if (a->cp.size != w->log.size + 1 || w->log.size == UINT64_MAX) {
		a->why = "the checkpoint is not exactly one epoch past the old size";
		return 422;
	}
	if (kt_entry_parse(a->rq.entry, a->rq.entry_len, &a->entry) < 0) {
		a->why = "the epoch entry is malformed";
		return 400;
	}
	if (a->entry.epoch != w->log.size) {
		a->why = "the epoch entry is not for the next epoch";
		return 422;
	}
	if (w->log.size > 0 && a->entry.time < w->last_time) {
		a->why = "time goes back: the epoch entry is older than the last one";
		return 422;
	}
	sha256(a->rq.delta, a->rq.delta_len, h);
	if (sodium_memcmp(h, a->entry.delta_hash, sizeof(h)) != 0) {
		a->why = "the delta's hash is not the one in the epoch entry";
		return 422;
	}
	if (kt_delta_count(a->rq.delta, a->rq.delta_len, a->entry.epoch, &n) < 0) {
		a->why = "the delta is malformed (header, epoch or record framing)";
		return 422;
	}
	return 0;
}

/* The map line and the log root the checkpoint commits to. */
static int check_commitments(const struct kt_witness *w, struct add *a)
{
	uint8_t leaf[TLOG_HASH_LEN];
	if (kt_map_line_parse(&a->cp, &a->map) < 0) {
		a->why = "the checkpoint's map line is missing, malformed or not for its last epoch";
		return 422;
	}
	if (a->map.epoch != a->entry.epoch ||
	    sodium_memcmp(a->map.map_root, a->entry.map_root, PTREE_HASH_LEN) != 0) {
		a->why = "the checkpoint's map line names another epoch or map root than the epoch entry";
		return 422;
	}
	if (w->has_vrf && sodium_memcmp(a->map.vrf_pk, w->vrf_pk, VRF_PK_LEN) != 0) {
		a->why = "the VRF key changed";
		return 422;
	}
	int r = kt_entry_leaf_hash(&a->entry, leaf);
	if (r < 0)
		return r;
	if ((r = frontier_append(&w->log, leaf, &a->log, a->log_root)) < 0)
		return r == SM_ENOMEM ? r : 422;
	if (sodium_memcmp(a->log_root, a->cp.root, TLOG_HASH_LEN) != 0) {
		a->why = "the log root after appending the entry is not the checkpoint's";
		return 422;
	}
	return 0;
}

/* ---- undoing a replayed delta ---- */

/* The delta record for idx, or NULL: records are in strictly ascending
 * index order (kt_delta_apply checked that before applying). */
static const uint8_t *delta_find(const uint8_t *delta, size_t len, const uint8_t idx[PTREE_IDX_LEN])
{
	size_t lo = 0, hi = (len - KT_DELTA_HEADER_LEN) / KT_DELTA_RECORD_LEN;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const uint8_t *rec = delta + KT_DELTA_HEADER_LEN + mid * KT_DELTA_RECORD_LEN;
		int c = memcmp(rec, idx, PTREE_IDX_LEN);
		if (c == 0)
			return rec;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct rebuild {
	struct ptree *t;
	const uint8_t *delta;
	size_t len;
};

/* Each leaf as it was before the delta; the ones it created are left out. */
static int rebuild_leaf(void *arg, const struct ptree_leaf *leaf)
{
	struct rebuild *rb = arg;
	const uint8_t *rec = delta_find(rb->delta, rb->len, leaf->idx);
	struct ptree_leaf old = *leaf;
	if (rec != NULL) {
		old.counter = num_get_be(rec + 32, 8);
		if (old.counter == 0)
			return 0;
		old.epoch = num_get_be(rec + 40, 8);
		memcpy(old.commitment, rec + 48, PTREE_HASH_LEN);
	}
	return ptree_set(rb->t, &old);
}

/* The prefix tree has no deletion, so the map before the delta is rebuilt
 * from the map after it. Only a log that signed a checkpoint over a wrong
 * map root gets here, so the cost (one pass over the map) is the
 * misbehaving log's. */
static void undo_delta(struct kt_witness *w, const uint8_t *delta, size_t len)
{
	struct rebuild rb = {NULL, delta, len};
	uint8_t root[PTREE_HASH_LEN];
	if (ptree_new(&rb.t) < 0 || ptree_walk(w->map, rebuild_leaf, &rb) != 0)
		goto fail;
	ptree_root(rb.t, root);
	if (sodium_memcmp(root, w->map_root, PTREE_HASH_LEN) != 0)
		goto fail;
	ptree_free(w->map);
	w->map = rb.t;
	return;
fail:
	ptree_free(rb.t);
	w->broken = 1;
}

/* ---- adding an epoch ---- */

static int reply_line(struct buf *out, int status, const char *why)
{
	int r = buf_appendf(out, "%s\n", why);
	return r < 0 ? r : status;
}

/* Drops what was appended to out past len (the cosignature of an epoch
 * that failed its last check). */
static void buf_cut(struct buf *out, size_t len)
{
	if (out->data == NULL || out->len <= len)
		return;
	sodium_memzero(out->data + len, out->len - len);
	out->len = len;
}

static void adopt(struct kt_witness *w, const struct add *a)
{
	w->log = a->log;
	memcpy(w->log_root, a->log_root, TLOG_HASH_LEN);
	memcpy(w->vrf_pk, a->map.vrf_pk, VRF_PK_LEN);
	w->has_vrf = 1;
	w->last_time = a->entry.time;
	memcpy(w->map_root, a->entry.map_root, PTREE_HASH_LEN);
}

/* Whether the request is the very checkpoint the witness last cosigned:
 * same size, same log root, and a map line naming the same map and VRF
 * key. A log that crashed after the witness answered asks again; the same
 * tree may be cosigned again (it is not a second view), anything else of
 * that size may not. */
static int is_latest(const struct kt_witness *w, struct add *a)
{
	if (w->log.size == 0 || a->rq.old + 1 != w->log.size || a->cp.size != w->log.size ||
	    sodium_memcmp(a->cp.root, w->log_root, TLOG_HASH_LEN) != 0 ||
	    kt_map_line_parse(&a->cp, &a->map) < 0)
		return 0;
	return a->map.epoch + 1 == w->log.size &&
	       sodium_memcmp(a->map.map_root, w->map_root, PTREE_HASH_LEN) == 0 && w->has_vrf &&
	       sodium_memcmp(a->map.vrf_pk, w->vrf_pk, VRF_PK_LEN) == 0;
}

static int cosign_again(const struct note_signer *signer, uint64_t now,
			const struct add *a, struct buf *out)
{
	int r = note_sign_line(signer, a->rq.cp, a->body_len, now, out);
	return r < 0 ? r : 200;
}

/* The cosignature goes to out before the replay, the last step that can
 * fail, so nothing can fail once the map has changed and been checked. */
static int replay_and_cosign(struct kt_witness *w, const struct note_signer *signer, uint64_t now,
			     struct add *a, struct buf *out)
{
	uint8_t root[PTREE_HASH_LEN];
	size_t mark = out->len;
	int why = 0;
	int r = note_sign_line(signer, a->rq.cp, a->body_len, now, out);
	if (r < 0)
		return r;
	r = kt_delta_apply(w->map, a->rq.delta, a->rq.delta_len, a->entry.epoch, &why);
	if (r == SM_EPARSE || r == SM_ECRYPTO) {
		buf_cut(out, mark);
		a->why = kt_delta_why(why);
		return 422;
	}
	if (r < 0) {
		buf_cut(out, mark);
		return r;
	}
	ptree_root(w->map, root);
	if (sodium_memcmp(root, a->entry.map_root, PTREE_HASH_LEN) != 0) {
		buf_cut(out, mark);
		undo_delta(w, a->rq.delta, a->rq.delta_len);
		a->why = "the map root after replaying the delta is not the one in the epoch entry";
		return w->broken ? SM_ENOMEM : 422;
	}
	adopt(w, a);
	return 200;
}

int kt_witness_add(struct kt_witness *w, const struct note_signer *signer, uint64_t now,
		   const uint8_t *req, size_t len, struct buf *out)
{
	struct add a;
	int st;
	if (w->broken)
		return SM_ENOMEM;
	memset(&a, 0, sizeof(a));
	if (request_parse(req, len, &a.rq) < 0)
		return reply_line(out, 400, "malformed request: want old, entry, delta and checkpoint fields");
	if ((st = check_checkpoint_note(w, &a)) != 0)
		return reply_line(out, st, a.why);
	if (is_latest(w, &a))
		return cosign_again(signer, now, &a, out);
	if (a.rq.old != w->log.size) {
		int r = buf_appendf(out, "%" PRIu64 "\n", w->log.size);
		return r < 0 ? r : 409;
	}
	if ((st = check_entry(w, &a)) != 0 || (st = check_commitments(w, &a)) != 0)
		return st < 0 ? st : reply_line(out, st, a.why ? a.why : "the epoch cannot be appended");
	st = replay_and_cosign(w, signer, now, &a, out);
	if (st < 0 || st == 200)
		return st;
	return reply_line(out, st, a.why);
}

/* ---- the state file ---- */

static int save_header(const struct kt_witness *w, struct buf *out)
{
	uint8_t n[8];
	struct buf vkey;
	int r;
	buf_init(&vkey, NOTE_VKEY_MAX);
	if ((r = note_verifier_format(&w->log_key, &vkey)) < 0)
		goto done;
	num_put_be(n, w->origin_len, 2);
	if ((r = buf_append(out, STATE_MAGIC, STATE_MAGIC_LEN)) < 0 || (r = buf_append(out, n, 2)) < 0 ||
	    (r = buf_append(out, w->origin, w->origin_len)) < 0)
		goto done;
	num_put_be(n, vkey.len, 2);
	if ((r = buf_append(out, n, 2)) < 0 || (r = buf_append(out, vkey.data, vkey.len)) < 0)
		goto done;
	num_put_be(n, w->log.size, 8);
	if ((r = buf_append(out, n, 8)) < 0 || (r = buf_append(out, w->log_root, TLOG_HASH_LEN)) < 0)
		goto done;
	for (unsigned l = LEVELS; l-- > 0;)
		if (((w->log.size >> l) & 1) && (r = buf_append(out, w->log.h[l], TLOG_HASH_LEN)) < 0)
			goto done;
done:
	buf_free(&vkey);
	return r;
}

static int save_tail(struct kt_witness *w, struct buf *out)
{
	uint8_t n[8], has = (uint8_t)w->has_vrf;
	struct buf snap;
	int r;
	buf_init(&snap, SIZE_MAX);
	if ((r = ptree_snapshot(w->map, &snap)) < 0)
		goto done;
	num_put_be(n, w->last_time, 8);
	if ((r = buf_append(out, &has, 1)) < 0 || (r = buf_append(out, w->vrf_pk, VRF_PK_LEN)) < 0 ||
	    (r = buf_append(out, n, 8)) < 0 || (r = buf_append(out, w->map_root, PTREE_HASH_LEN)) < 0)
		goto done;
	num_put_be(n, snap.len, 8);
	if ((r = buf_append(out, n, 8)) < 0 || (r = buf_append(out, snap.data, snap.len)) < 0)
		goto done;
done:
	buf_free(&snap);
	return r;
}

int kt_witness_save(struct kt_witness *w, struct buf *out)
{
	uint8_t sum[STATE_SUM_LEN];
	size_t start = out->len;
	int r;
	if (w->broken)
		return SM_EINVAL;
	if ((r = save_header(w, out)) < 0 || (r = save_tail(w, out)) < 0)
		return r;
	crypto_hash_sha256(sum, out->data + start, out->len - start);
	return buf_append(out, sum, sizeof(sum));
}

/* Reads the fields up to the map; the caller checks them together. */
static int load_header(struct cur *c, struct kt_witness **ret)
{
	struct note_verifier key;
	char vkey[NOTE_VKEY_MAX + 1];
	const uint8_t *p, *o;
	size_t ol, vl;
	if ((p = cur_take(c, STATE_MAGIC_LEN)) == NULL || memcmp(p, STATE_MAGIC, STATE_MAGIC_LEN) != 0 ||
	    (p = cur_take(c, 2)) == NULL || (o = cur_take(c, ol = (size_t)num_get_be(p, 2))) == NULL ||
	    (p = cur_take(c, 2)) == NULL || (vl = (size_t)num_get_be(p, 2)) > NOTE_VKEY_MAX ||
	    (p = cur_take(c, vl)) == NULL)
		return SM_EPARSE;
	memcpy(vkey, p, vl);
	vkey[vl] = 0;
	if (memchr(vkey, 0, vl) != NULL || note_verifier_parse(vkey, &key) < 0)
		return SM_EPARSE;
	int r = witness_alloc((const char *)o, ol, &key, ret);
	return r == SM_EINVAL ? SM_EPARSE : r;
}

static int load_log(struct cur *c, struct kt_witness *w)
{
	const uint8_t *p;
	uint8_t root[TLOG_HASH_LEN];
	if ((p = cur_take(c, 8)) == NULL)
		return SM_EPARSE;
	w->log.size = num_get_be(p, 8);
	if ((p = cur_take(c, TLOG_HASH_LEN)) == NULL)
		return SM_EPARSE;
	memcpy(w->log_root, p, TLOG_HASH_LEN);
	for (unsigned l = LEVELS; l-- > 0;) {
		if (!((w->log.size >> l) & 1))
			continue;
		if ((p = cur_take(c, TLOG_HASH_LEN)) == NULL)
			return SM_EPARSE;
		memcpy(w->log.h[l], p, TLOG_HASH_LEN);
	}
	if (frontier_root(&w->log, root) < 0 || sodium_memcmp(root, w->log_root, TLOG_HASH_LEN) != 0)
		return SM_EPARSE;
	return 0;
}

static int load_map(struct cur *c, struct kt_witness *w)
{
	static const uint8_t zero[VRF_PK_LEN];
	uint8_t root[PTREE_HASH_LEN];
	const uint8_t *p;
	struct ptree_view v;
	if ((p = cur_take(c, 1 + VRF_PK_LEN + 8 + PTREE_HASH_LEN + 8)) == NULL || p[0] > 1)
		return SM_EPARSE;
	w->has_vrf = p[0];
	memcpy(w->vrf_pk, p + 1, VRF_PK_LEN);
	w->last_time = num_get_be(p + 1 + VRF_PK_LEN, 8);
	memcpy(w->map_root, p + 1 + VRF_PK_LEN + 8, PTREE_HASH_LEN);
	uint64_t n = num_get_be(p + 1 + VRF_PK_LEN + 8 + PTREE_HASH_LEN, 8);
	if (n > c->len - c->off || (v.data = cur_take(c, (size_t)n)) == NULL)
		return SM_EPARSE;
	v.len = (size_t)n;
	/* At size 0 nothing was seen: no VRF key, no time, the empty map. */
	ptree_empty_hash(root);
	if (w->has_vrf != (w->log.size > 0) ||
	    (!w->has_vrf && (memcmp(w->vrf_pk, zero, VRF_PK_LEN) != 0 || w->last_time != 0 ||
			     memcmp(w->map_root, root, PTREE_HASH_LEN) != 0)))
		return SM_EPARSE;
	int r = ptree_load(&v, &w->map);
	if (r < 0)
		return r == SM_ENOMEM ? r : SM_EPARSE;
	ptree_root(w->map, root);
	return sodium_memcmp(root, w->map_root, PTREE_HASH_LEN) == 0 ? 0 : SM_EPARSE;
}

int kt_witness_load(const uint8_t *data, size_t len, struct kt_witness **ret)
{
	struct kt_witness *w = NULL;
	uint8_t sum[STATE_SUM_LEN];
	struct cur c = {data, len, 0};
	int r;
	if (data == NULL || len < STATE_SUM_LEN)
		return SM_EPARSE;
	crypto_hash_sha256(sum, data, len - STATE_SUM_LEN);
	if (sodium_memcmp(sum, data + len - STATE_SUM_LEN, STATE_SUM_LEN) != 0)
		return SM_EPARSE;
	c.len = len - STATE_SUM_LEN;
	if ((r = load_header(&c, &w)) < 0)
		return r;
	if ((r = load_log(&c, w)) < 0 || (r = load_map(&c, w)) < 0 || c.off != c.len) {
		kt_witness_free(w);
		return r < 0 ? r : SM_EPARSE;
	}
	*ret = w;
	return 0;
}
