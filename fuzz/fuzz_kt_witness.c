/* fuzz_kt_witness: kt_witness_add() on a hostile add-epoch request body.
 *
 * The witness follows a small simulated log (origin jedi.test/sealmail-kt,
 * log key from the seed 0x11 repeated, made here at start-up) and has
 * cosigned its first FUZZ_EPOCHS epochs; every input is a request body
 * sent to a fresh copy of that witness. The log's next FUZZ_NEXT honest
 * epochs are known too, so a mutation of one can get far. Checked besides
 * memory safety:
 *   - the status is 200, 400, 403, 409 or 422, and the body one line;
 *   - any status but 200 leaves the witness as it was: the same state
 *     file, or (if a replayed delta was undone, which may lay the map out
 *     anew) the same fields and a map snapshot with the same root;
 *   - after a 200 the witness is one epoch further, the body is a
 *     cosignature line that verifies over the checkpoint, and the same
 *     request again is cosigned again and moves nothing.
 * An input that starts with '!' is not a request but a mode byte and the
 * records of the next epoch's delta (whole 112-byte records, at most 64,
 * taken loosely): the harness plays a log that changes its map as the
 * records say, without checking a rule (and, if the mode's low bit is set,
 * also changes an entry no record names), and signs the epoch. Such a request is always cosigned
 * or refused with 422, and a refusal after the replay must be undone.
 *
 * Built with -DFUZZ_KT_WITNESS_SEEDS and without replay.c, this file is a
 * program that writes the seed corpus into the directory it is given:
 *   cc -DFUZZ_KT_WITNESS_SEEDS -Isrc/lib fuzz/fuzz_kt_witness.c LIBRARY_SOURCES \
 *      -lsodium -o seeds
 *   ./seeds fuzz/corpus/kt_witness */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "kt.h"
#include "kt_delta.h"
#include "kt_witness.h"
#include "note.h"
#include "ptree.h"
#include "tlog.h"

#define FUZZ_DOMAIN "jedi.test"
#define FUZZ_EPOCHS 3 /* cosigned before any input */
#define FUZZ_NEXT 3   /* honest requests kept for the seeds */
#define FUZZ_T0 1700000000u
#define FUZZ_NOW 1800000000u
#define FUZZ_MAX (8u << 20)

/* ---- the simulated log: a map, the epoch log's hashes, a signing key ---- */

#define SIM_LEAVES 64

/* The stored hashes (level, index) of a log of at most SIM_LEAVES leaves. */
struct hashes {
	uint8_t h[8][SIM_LEAVES][TLOG_HASH_LEN];
};

static struct {
	struct note_signer *log;
	struct ptree *map;
	struct hashes log_hashes;
	uint64_t size;
} sim;

static int sim_read(void *ctx, unsigned level, uint64_t index, uint8_t ret[TLOG_HASH_LEN])
{
	const struct hashes *hs = ctx;
	if (level >= 8 || index >= SIM_LEAVES)
		return SM_ENOTFOUND;
	memcpy(ret, hs->h[level][index], TLOG_HASH_LEN);
	return 0;
}

static int sim_write(void *ctx, unsigned level, uint64_t index, const uint8_t h[TLOG_HASH_LEN])
{
	struct hashes *hs = ctx;
	if (level >= 8 || index >= SIM_LEAVES)
		return SM_EINVAL;
	memcpy(hs->h[level][index], h, TLOG_HASH_LEN);
	return 0;
}

static void sim_idx(uint64_t k, uint8_t idx[PTREE_IDX_LEN])
{
	uint8_t in[9] = {'k'};
	for (int i = 0; i < 8; i++)
		in[1 + i] = (uint8_t)(k >> (56 - 8 * i));
	crypto_hash_sha256(idx, in, sizeof(in));
}

static int idx_cmp(const void *a, const void *b)
{
	return memcmp(a, b, PTREE_IDX_LEN);
}

/* Epoch e: two new entries and an update of key e - 1. */
static void sim_delta(uint64_t e, struct buf *delta)
{
	uint8_t idx[3][PTREE_IDX_LEN];
	size_t n = 0;
	sim_idx(2 * e, idx[n++]);
	sim_idx(2 * e + 1, idx[n++]);
	if (e > 0)
		sim_idx(e - 1, idx[n++]);
	qsort(idx, n, PTREE_IDX_LEN, idx_cmp);
	fuzz_check(kt_delta_begin(delta, e) == 0, "delta header");
	for (size_t i = 0; i < n; i++) {
		struct ptree_leaf old, leaf;
		int have = ptree_get(sim.map, idx[i], &old) == 0;
		memcpy(leaf.idx, idx[i], PTREE_IDX_LEN);
		leaf.counter = have ? old.counter + 1 : 1;
		leaf.epoch = e;
		memset(leaf.commitment, (int)(0x30 + e + i), PTREE_HASH_LEN);
		fuzz_check(kt_delta_add(delta, idx[i], have ? &old : NULL, leaf.commitment) == 0, "delta");
		fuzz_check(ptree_set(sim.map, &leaf) == 0, "map");
	}
}

/* Epoch `size` of a log whose map (after the epoch) is map and whose
 * hashes are hs, with this delta, as a signed request body. */
static void sim_sign(struct ptree *map, struct hashes *hs, uint64_t size, const struct buf *delta,
		     struct buf *req)
{
	struct buf entry, body, note;
	struct tlog_store st = {sim_read, sim_write, hs};
	struct kt_entry en;
	struct kt_map_line m;
	uint8_t leaf[32], root[32];
	buf_init(&entry, KT_ENTRY_MAX);
	buf_init(&body, 4096);
	buf_init(&note, 4096);
	en.epoch = size;
	en.time = FUZZ_T0 + 60 * size;
	ptree_root(map, en.map_root);
	crypto_hash_sha256(en.delta_hash, delta->data, delta->len);
	fuzz_check(kt_entry_format(&en, &entry) == 0 && kt_entry_leaf_hash(&en, leaf) == 0, "entry");
	fuzz_check(tlog_append(&st, size, leaf) == 0, "append");
	fuzz_check(tlog_root(&st, size + 1, root) == 0, "log root");
	m.epoch = en.epoch;
	memcpy(m.map_root, en.map_root, PTREE_HASH_LEN);
	memset(m.vrf_pk, 0x42, VRF_PK_LEN);
	fuzz_check(kt_checkpoint_body(FUZZ_DOMAIN, size + 1, root, &m, &body) == 0, "checkpoint");
	fuzz_check(note_sign(sim.log, body.data, body.len, 0, &note) == 0, "sign");
	fuzz_check(kt_witness_request(size, entry.data, entry.len, delta->data, delta->len, note.data,
				      note.len, req) == 0,
		   "request");
	buf_free(&entry);
	buf_free(&body);
	buf_free(&note);
}

/* The log's next honest epoch as a request body. */
static void sim_epoch(struct buf *req)
{
	struct buf delta;
	buf_init(&delta, 4096);
	sim_delta(sim.size, &delta);
	sim_sign(sim.map, &sim.log_hashes, sim.size, &delta, req);
	sim.size++;
	buf_free(&delta);
}

/* ---- the witness ---- */

static struct note_signer *fuzz_witness;
static struct note_verifier fuzz_witness_key;
static struct buf fuzz_state;                /* the witness at FUZZ_EPOCHS */
static struct buf fuzz_next[FUZZ_NEXT];      /* the log's next requests */
static struct buf fuzz_map0;                 /* the log's map at FUZZ_EPOCHS, a snapshot */
static struct hashes fuzz_log0;              /* the log's hashes at FUZZ_EPOCHS */

static struct note_signer *fuzz_signer(const char *name, uint8_t type, uint8_t tag)
{
	uint8_t seed[32], pk[32], sk[64];
	struct note_signer *s = NULL;
	memset(seed, tag, sizeof(seed));
	fuzz_check(crypto_sign_ed25519_seed_keypair(pk, sk, seed) == 0, "keypair");
	fuzz_check(note_signer_new(name, type, sk, &s) == 0, "signer");
	sodium_memzero(sk, sizeof(sk));
	return s;
}

static void fuzz_setup(void)
{
	struct note_verifier lk;
	struct kt_witness *w = NULL;
	struct buf req, out;
	fuzz_check(sodium_init() >= 0, "sodium_init");
	sim.log = fuzz_signer(FUZZ_DOMAIN KT_ORIGIN_SUFFIX, NOTE_KEY_ED25519, 0x11);
	fuzz_witness = fuzz_signer("witness.example/fuzz", NOTE_KEY_COSIG_V1, 0x22);
	fuzz_check(note_signer_verifier(fuzz_witness, &fuzz_witness_key) == 0, "witness key");
	fuzz_check(ptree_new(&sim.map) == 0, "ptree_new");
	fuzz_check(note_signer_verifier(sim.log, &lk) == 0, "log key");
	fuzz_check(kt_witness_new(FUZZ_DOMAIN KT_ORIGIN_SUFFIX, &lk, &w) == 0, "witness");
	for (int i = 0; i < FUZZ_EPOCHS; i++) {
		buf_init(&req, FUZZ_MAX);
		buf_init(&out, 4096);
		sim_epoch(&req);
		fuzz_check(kt_witness_add(w, fuzz_witness, FUZZ_NOW, req.data, req.len, &out) == 200,
			   "an honest epoch is cosigned");
		buf_free(&req);
		buf_free(&out);
	}
	buf_init(&fuzz_state, FUZZ_MAX);
	fuzz_check(kt_witness_save(w, &fuzz_state) == 0, "save");
	kt_witness_free(w);
	buf_init(&fuzz_map0, FUZZ_MAX);
	fuzz_check(ptree_snapshot(sim.map, &fuzz_map0) == 0, "snapshot");
	fuzz_log0 = sim.log_hashes;
	for (int i = 0; i < FUZZ_NEXT; i++) {
		buf_init(&fuzz_next[i], FUZZ_MAX);
		sim_epoch(&fuzz_next[i]);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return 0;
}

/* Where the map snapshot starts in a state file (kt_witness.c's format):
 * everything before it must survive a refusal byte for byte. */
static size_t state_head(const struct buf *b)
{
	size_t off = 23;
	off += 2 + (size_t)(b->data[off] << 8 | b->data[off + 1]);
	off += 2 + (size_t)(b->data[off] << 8 | b->data[off + 1]);
	uint64_t size = 0;
	for (int i = 0; i < 8; i++)
		size = size << 8 | b->data[off + (size_t)i];
	return off + 8 + 32 + 32 * (size_t)__builtin_popcountll(size) + 1 + 32 + 8 + 32 + 8;
}

static void check_unchanged(struct kt_witness *w)
{
	struct buf now;
	struct kt_witness *again = NULL;
	buf_init(&now, FUZZ_MAX);
	fuzz_check(kt_witness_save(w, &now) == 0, "save after a refusal");
	if (now.len != fuzz_state.len || memcmp(now.data, fuzz_state.data, now.len) != 0) {
		/* an undone delta: same fields, and (checked by load) a map
		 * with the root the fields name */
		size_t head = state_head(&fuzz_state);
		fuzz_check(state_head(&now) == head && memcmp(now.data, fuzz_state.data, head) == 0,
			   "a refusal changed the witness's state");
		fuzz_check(kt_witness_load(now.data, now.len, &again) == 0, "state after an undo loads");
		kt_witness_free(again);
	}
	buf_free(&now);
}

/* Skips "<word> <n>\n" and n bytes of a request kt_witness_add accepted
 * (so every number ends in a newline inside it); returns the field. */
static const uint8_t *skip_field(const uint8_t **p, size_t *ret_n)
{
	const uint8_t *sp = memchr(*p, ' ', 16);
	char *end = NULL;
	fuzz_check(sp != NULL, "framing of an accepted request");
	*ret_n = (size_t)strtoull((const char *)sp + 1, &end, 10);
	const uint8_t *field = (const uint8_t *)end + 1;
	*p = field + *ret_n;
	return field;
}

/* The checkpoint note is the request's last field; with the cosignature
 * appended it must verify for the witness's key. */
static void check_cosignature(const uint8_t *data, const struct buf *out)
{
	struct buf note;
	struct note_sig_status st;
	size_t tl = 0, n = 0;
	const uint8_t *p = (const uint8_t *)memchr(data, '\n', 32) + 1, *cp;
	skip_field(&p, &n); /* entry */
	skip_field(&p, &n); /* delta */
	cp = skip_field(&p, &n);
	buf_init(&note, 2 * NOTE_MAX_SIZE);
	fuzz_check(buf_append(&note, cp, n) == 0 && buf_append(&note, out->data, out->len) == 0, "note copy");
	fuzz_check(note_verify(note.data, note.len, &fuzz_witness_key, 1, &st, &tl) == 0 && st.verified &&
			   st.timestamp == FUZZ_NOW,
		   "the cosignature verifies");
	buf_free(&note);
}

/* An input starting with '!' is the records of a delta (the rest): the
 * log applies them to its map its own way (no rule checked), and signs the
 * epoch, so the witness's replay and its undo are reached. */
static void resigned_request(uint8_t mode, const uint8_t *recs, size_t len, struct buf *req)
{
	struct ptree_view v = {fuzz_map0.data, fuzz_map0.len};
	struct ptree *map = NULL;
	struct hashes *hs = malloc(sizeof(*hs));
	struct buf delta;
	fuzz_check(hs != NULL && ptree_load(&v, &map) == 0, "the log's map");
	*hs = fuzz_log0;
	buf_init(&delta, FUZZ_MAX);
	fuzz_check(kt_delta_begin(&delta, FUZZ_EPOCHS) == 0 && buf_append(&delta, recs, len) == 0, "delta");
	for (size_t i = 0; i + KT_DELTA_RECORD_LEN <= len; i += KT_DELTA_RECORD_LEN) {
		struct ptree_leaf leaf;
		memcpy(leaf.idx, recs + i, PTREE_IDX_LEN);
		leaf.counter = 1;
		for (int k = 0; k < 8; k++)
			leaf.counter += (uint64_t)recs[i + 32 + (size_t)k] << (56 - 8 * k);
		leaf.epoch = FUZZ_EPOCHS;
		memcpy(leaf.commitment, recs + i + 80, PTREE_HASH_LEN);
		fuzz_check(ptree_set(map, &leaf) == 0, "the log's change");
	}
	if (mode & 1) {
		struct ptree_leaf leaf = {.counter = 99, .epoch = FUZZ_EPOCHS};
		sim_idx(0, leaf.idx);
		fuzz_check(ptree_set(map, &leaf) == 0, "the log's unrecorded change");
	}
	sim_sign(map, hs, FUZZ_EPOCHS, &delta, req);
	buf_free(&delta);
	ptree_free(map);
	free(hs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_witness *w = NULL;
	struct buf out, again;
	struct buf signed_req;
	int resigned = size > 0 && data[0] == '!';
	buf_init(&signed_req, FUZZ_MAX);
	if (resigned) {
		if (size < 2 || size - 2 > 64 * KT_DELTA_RECORD_LEN) {
			buf_free(&signed_req);
			return 0;
		}
		resigned_request(data[1], data + 2, size - 2, &signed_req);
		data = signed_req.data;
		size = signed_req.len;
	}
	fuzz_check(kt_witness_load(fuzz_state.data, fuzz_state.len, &w) == 0, "load");
	buf_init(&out, 4096);
	int st = kt_witness_add(w, fuzz_witness, FUZZ_NOW, data, size, &out);
	fuzz_check(st == 200 || st == 400 || st == 403 || st == 409 || st == 422, "status");
	fuzz_check(!resigned || st == 200 || st == 422, "a signed epoch is cosigned or refused by an audit rule");
	fuzz_check(out.len > 0 && out.data[out.len - 1] == '\n' && memchr(out.data, '\n', out.len) ==
								      out.data + out.len - 1,
		   "the body is one line");
	if (st != 200) {
		check_unchanged(w);
	} else {
		fuzz_check(kt_witness_size(w) == FUZZ_EPOCHS + 1, "200 moves one epoch");
		fuzz_check(memcmp(out.data, "\xe2\x80\x94 ", 4) == 0, "a cosignature line");
		check_cosignature(data, &out);
		buf_init(&again, 4096);
		fuzz_check(kt_witness_add(w, fuzz_witness, FUZZ_NOW, data, size, &again) == 200,
			   "the same epoch again is cosigned again");
		fuzz_check(kt_witness_size(w) == FUZZ_EPOCHS + 1, "cosigning again moves nothing");
		buf_free(&again);
	}
	buf_free(&out);
	buf_free(&signed_req);
	kt_witness_free(w);
	return 0;
}

#ifdef FUZZ_KT_WITNESS_SEEDS
/* ---- the seed corpus ---- */

static void seed(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	fuzz_check(f != NULL && fwrite(p, 1, len, f) == len && fclose(f) == 0, path);
}

static void seed_flip(const char *dir, const char *name, const struct buf *b, size_t at, uint8_t x)
{
	struct buf c;
	buf_init(&c, FUZZ_MAX);
	fuzz_check(buf_append(&c, b->data, b->len) == 0, "copy");
	c.data[at] ^= x;
	seed(dir, name, c.data, c.len);
	buf_free(&c);
}

int main(int argc, char **argv)
{
	const struct buf *next = &fuzz_next[0];
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	fuzz_setup();
	seed(argv[1], "honest-next", next->data, next->len);
	seed(argv[1], "honest-skip", fuzz_next[1].data, fuzz_next[1].len);
	seed(argv[1], "empty", (const uint8_t *)"", 0);
	seed_flip(argv[1], "flip-signature", next, next->len - 5, 0x01);
	seed_flip(argv[1], "flip-old", next, 4, 0x01);
	seed_flip(argv[1], "flip-entry", next, 20, 0x01);
	seed_flip(argv[1], "flip-delta-tail", next, next->len / 2, 0x01);
	seed(argv[1], "truncated", next->data, next->len / 2);
	/* the honest records of epoch FUZZ_EPOCHS, from the next request's delta */
	const uint8_t *d = (const uint8_t *)strstr((const char *)next->data, "sealmail-delta/v1\n");
	size_t dl = 0;
	for (size_t i = (size_t)(d - next->data); i + 11 < next->len; i++)
		if (memcmp(next->data + i, "checkpoint ", 11) == 0) {
			dl = i - (size_t)(d - next->data);
			break;
		}
	struct buf r;
	buf_init(&r, FUZZ_MAX);
	fuzz_check(d != NULL && buf_append(&r, "!\0", 2) == 0 &&
			   buf_append(&r, d + KT_DELTA_HEADER_LEN, dl - KT_DELTA_HEADER_LEN) == 0,
		   "records");
	seed(argv[1], "resign-honest", r.data, r.len);
	seed_flip(argv[1], "resign-counter", &r, 2 + 39, 0x01);
	seed_flip(argv[1], "resign-unrecorded", &r, 1, 0x01);
	seed(argv[1], "resign-dropped", r.data, r.len - KT_DELTA_RECORD_LEN);
	seed(argv[1], "resign-empty", r.data, 2);
	buf_free(&r);
	static const char frame[] = "old 3\nentry 0\ndelta 0\ncheckpoint 0\n";
	seed(argv[1], "empty-fields", (const uint8_t *)frame, sizeof(frame) - 1);
	return 0;
}
#endif
