/* kt_proof.c: lookup proofs and the client's per-domain state. See
 * kt_proof.h.
 *
 * A proof comes from the domain being checked, so nothing in it is
 * trusted: parsing accepts exactly the text kt_proof_format writes (one
 * spelling per proof, so a proof can be stored and compared as bytes), and
 * verification allocates nothing and answers every failure with the one
 * reason a user is shown. */
#include "kt_proof.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "b64.h"
#include "num.h"
#include "textline.h"

#define PROOF_MAGIC "sealmail-lookup/v1"
#define STATE_MAGIC "sealmail-kt-state/v1"
#define PATH_PAIR_LEN (1 + PTREE_HASH_LEN)

/* A log's vkey, spelled exactly as note_verifier_format writes it. The
 * name and the base64 are taken verbatim (strictly), so the one other
 * spelling note_verifier_parse takes is an upper-case key ID. */
static int parse_log_key(struct tl_line f, struct note_verifier *ret_v)
{
	char s[NOTE_VKEY_MAX + 1], id[9];
	struct note_verifier v;
	if (tl_cstr(f, s, sizeof(s)) < 0 || note_verifier_parse(s, &v) < 0 ||
	    v.type != NOTE_KEY_ED25519)
		return SM_EPARSE;
	size_t nl = strlen(v.name);
	snprintf(id, sizeof(id), "%08" PRIx32, v.key_id);
	if (f.len < nl + 10 || memcmp(s + nl + 1, id, 8) != 0)
		return SM_EPARSE;
	*ret_v = v;
	return 0;
}

/* ---- parsing ---- */

static int parse_address(struct tl_cur *c, struct kt_proof *p)
{
	struct tl_line l;
	char canon[KT_ADDRESS_MAX];
	if (tl_take(c, "address ", &l) < 0 || tl_cstr(l, p->address, sizeof(p->address)) < 0 ||
	    kt_canonical_address(p->address, canon) < 0 || strcmp(canon, p->address) != 0)
		return SM_EPARSE;
	return 0;
}

/* "present <counter> <epoch>" "opening" "key" | "absent" "neighbour" | "empty" */
static int parse_found(struct tl_cur *c, struct kt_proof *p)
{
	struct tl_line l, f;
	if (tl_next(c, &l) < 0)
		return SM_EPARSE;
	if (tl_is(&l, "absent")) {
		p->found = KT_ABSENT;
		if (tl_take(c, "neighbour ", &l) < 0 || tl_field(&l, &f) < 0 ||
		    tl_b64(f, p->neighbour.idx, PTREE_IDX_LEN) < 0 || tl_field(&l, &f) < 0 ||
		    tl_u64(f, &p->neighbour.counter) < 0 || tl_field(&l, &f) < 0 ||
		    tl_u64(f, &p->neighbour.epoch) < 0 ||
		    tl_b64(l, p->neighbour.commitment, PTREE_HASH_LEN) < 0)
			return SM_EPARSE;
		return 0;
	}
	if (tl_is(&l, "empty")) {
		p->found = KT_EMPTY;
		return 0;
	}
	p->found = KT_PRESENT;
	if (tl_strip(&l, "present ") < 0 || tl_field(&l, &f) < 0 || tl_u64(f, &p->counter) < 0 ||
	    tl_u64(l, &p->epoch) < 0)
		return SM_EPARSE;
	if (tl_take(c, "opening ", &l) < 0 || tl_b64(l, p->opening, KT_OPENING_LEN) < 0)
		return SM_EPARSE;
	if (tl_take(c, "key ", &l) < 0 ||
	    tl_b64_units(l, p->key_buf, 1, KT_PROOF_KEY_MAX, &p->key_len) < 0)
		return SM_EPARSE;
	p->key = p->key_buf;
	p->auth_len = 0;
	if (tl_peek(c, "authorization ") &&
	    (tl_take(c, "authorization ", &l) < 0 ||
	     tl_b64_units(l, p->auth, 1, KT_AUTH_MAX, &p->auth_len) < 0 || p->auth_len == 0))
		return SM_EPARSE;
	return 0;
}

/* "path <base64 of (bit, sibling) pairs>", present or absent, omitted when empty. */
static int parse_path(struct tl_cur *c, struct kt_proof *p)
{
	uint8_t raw[PTREE_BITS * PATH_PAIR_LEN];
	struct tl_line l;
	size_t n = 0;
	p->path.len = 0;
	if (p->found == KT_EMPTY || !tl_peek(c, "path "))
		return 0;
	if (tl_take(c, "path ", &l) < 0 || tl_b64_units(l, raw, PATH_PAIR_LEN, PTREE_BITS, &n) < 0)
		return SM_EPARSE;
	for (size_t i = 0; i < n; i++) {
		p->path.bit[i] = raw[i * PATH_PAIR_LEN];
		memcpy(p->path.sibling[i], raw + i * PATH_PAIR_LEN + 1, PTREE_HASH_LEN);
	}
	p->path.len = n;
	return 0;
}

/* "consistency <old size> <base64 hashes>", optional. */
static int parse_consistency(struct tl_cur *c, struct kt_proof *p)
{
	struct tl_line l, f;
	p->has_consistency = 0;
	if (!tl_peek(c, "consistency "))
		return 0;
	if (tl_take(c, "consistency ", &l) < 0 || tl_field(&l, &f) < 0 ||
	    tl_u64(f, &p->old_size) < 0 || p->old_size == 0 ||
	    tl_b64_units(l, &p->consistency[0][0], TLOG_HASH_LEN, TLOG_PROOF_MAX,
			    &p->consistency_len) < 0)
		return SM_EPARSE;
	p->has_consistency = 1;
	return 0;
}

static int proof_lines(struct tl_cur *c, struct kt_proof *p)
{
	struct tl_line l;
	if (tl_next(c, &l) < 0 || !tl_is(&l, PROOF_MAGIC) || parse_address(c, p) < 0)
		return SM_EPARSE;
	if (tl_take(c, "log-key ", &l) < 0 || parse_log_key(l, &p->log_key) < 0)
		return SM_EPARSE;
	if (tl_take(c, "vrf ", &l) < 0 || tl_b64(l, p->vrf_proof, VRF_PROOF_LEN) < 0)
		return SM_EPARSE;
	if (parse_found(c, p) < 0 || parse_path(c, p) < 0 || parse_consistency(c, p) < 0)
		return SM_EPARSE;
	/* The blank line, then the checkpoint note to the end. */
	if (tl_next(c, &l) < 0 || l.len != 0 || c->off == c->len)
		return SM_EPARSE;
	p->checkpoint = c->p + c->off;
	p->checkpoint_len = c->len - c->off;
	return 0;
}

int kt_proof_parse(const uint8_t *text, size_t len, struct kt_proof *ret)
{
	/* Parsed aside so that ret is untouched on failure; the key bytes,
	 * the struct's tail, are copied only as far as they go. */
	struct kt_proof p;
	struct tl_cur c = {text, len, 0};
	if (len > KT_PROOF_MAX)
		return SM_ETOOBIG;
	memset(&p, 0, offsetof(struct kt_proof, key_buf));
	if (text == NULL || proof_lines(&c, &p) < 0)
		return SM_EPARSE;
	memcpy(ret, &p, offsetof(struct kt_proof, key_buf));
	if (p.found == KT_PRESENT) {
		memcpy(ret->key_buf, p.key_buf, p.key_len);
		ret->key = ret->key_buf;
	}
	return 0;
}

/* ---- formatting ---- */

static int format_found(const struct kt_proof *p, struct buf *out)
{
	int r;
	switch (p->found) {
	case KT_PRESENT:
		if (p->key == NULL || p->key_len == 0 || p->key_len > KT_PROOF_KEY_MAX)
			return SM_EINVAL;
		r = buf_appendf(out, "present %" PRIu64 " %" PRIu64 "\nopening ", p->counter, p->epoch);
		if (r == 0)
			r = b64_append(out, p->opening, KT_OPENING_LEN);
		if (r == 0)
			r = buf_append_str(out, "\nkey ");
		if (r == 0)
			r = b64_append(out, p->key, p->key_len);
		if (r == 0 && p->auth_len > 0)
			r = p->auth_len > KT_AUTH_MAX ? SM_EINVAL : buf_append_str(out, "\nauthorization ");
		if (r == 0 && p->auth_len > 0)
			r = b64_append(out, p->auth, p->auth_len);
		return r < 0 ? r : buf_append(out, "\n", 1);
	case KT_ABSENT:
		r = buf_append_str(out, "absent\nneighbour ");
		if (r == 0)
			r = b64_append(out, p->neighbour.idx, PTREE_IDX_LEN);
		if (r == 0)
			r = buf_appendf(out, " %" PRIu64 " %" PRIu64 " ", p->neighbour.counter,
					p->neighbour.epoch);
		if (r == 0)
			r = b64_append(out, p->neighbour.commitment, PTREE_HASH_LEN);
		return r < 0 ? r : buf_append(out, "\n", 1);
	case KT_EMPTY:
		return p->path.len == 0 ? buf_append_str(out, "empty\n") : SM_EINVAL;
	}
	return SM_EINVAL;
}

static int format_path(const struct kt_proof *p, struct buf *out)
{
	uint8_t raw[PTREE_BITS * PATH_PAIR_LEN];
	if (p->path.len == 0)
		return 0;
	if (p->path.len > PTREE_BITS)
		return SM_EINVAL;
	for (size_t i = 0; i < p->path.len; i++) {
		raw[i * PATH_PAIR_LEN] = p->path.bit[i];
		memcpy(raw + i * PATH_PAIR_LEN + 1, p->path.sibling[i], PTREE_HASH_LEN);
	}
	int r = buf_append_str(out, "path ");
	if (r == 0)
		r = b64_append(out, raw, p->path.len * PATH_PAIR_LEN);
	return r < 0 ? r : buf_append(out, "\n", 1);
}

static int format_consistency(const struct kt_proof *p, struct buf *out)
{
	if (!p->has_consistency)
		return 0;
	if (p->old_size == 0 || p->consistency_len == 0 || p->consistency_len > TLOG_PROOF_MAX)
		return SM_EINVAL;
	int r = buf_appendf(out, "consistency %" PRIu64 " ", p->old_size);
	if (r == 0)
		r = b64_append(out, &p->consistency[0][0], p->consistency_len * TLOG_HASH_LEN);
	return r < 0 ? r : buf_append(out, "\n", 1);
}

static int format_all(const struct kt_proof *p, struct buf *out)
{
	int r = buf_appendf(out, PROOF_MAGIC "\naddress %s\nlog-key ", p->address);
	if (r == 0)
		r = note_verifier_format(&p->log_key, out);
	if (r == 0)
		r = buf_append_str(out, "\nvrf ");
	if (r == 0)
		r = b64_append(out, p->vrf_proof, VRF_PROOF_LEN);
	if (r == 0)
		r = buf_append(out, "\n", 1);
	if (r == 0)
		r = format_found(p, out);
	if (r == 0)
		r = format_path(p, out);
	if (r == 0)
		r = format_consistency(p, out);
	if (r == 0)
		r = buf_append(out, "\n", 1);
	return r < 0 ? r : buf_append(out, p->checkpoint, p->checkpoint_len);
}

/* The fields the daemon fills from its own state are checked for what
 * kt_proof_parse() would refuse (an address not canonical, no
 * checkpoint); the text is not parsed back, which cost the server a sixth
 * of each lookup: test_kt_proof's round trips and the kt_proof fuzz target
 * hold format and parse together. */
int kt_proof_format(const struct kt_proof *p, struct buf *out)
{
	char canon[KT_ADDRESS_MAX];
	size_t start = out->len;
	if (p->checkpoint == NULL || p->checkpoint_len == 0 ||
	    memchr(p->address, 0, sizeof(p->address)) == NULL ||
	    kt_canonical_address(p->address, canon) < 0 || strcmp(canon, p->address) != 0)
		return SM_EINVAL;
	int r = format_all(p, out);
	if (r < 0)
		buf_truncate(out, start);
	return r;
}

/* ---- verification ---- */

static const char *const why_text[] = {
	[KT_OK] = "the key is proven by the domain's transparency log",
	[KT_WHY_MALFORMED] = "the proof from the domain is malformed",
	[KT_WHY_ADDRESS] = "the proof is for another address than the one looked up",
	[KT_WHY_LOG_KEY] = "the domain's log key is not the one pinned for it (the domain changed "
			   "its log key, or someone is impersonating it)",
	[KT_WHY_SIGNATURE] = "the domain's checkpoint is not signed by its log key",
	[KT_WHY_QUORUM] = "too few of the trusted witnesses cosigned the domain's checkpoint",
	[KT_WHY_ORIGIN] = "the checkpoint belongs to another domain's log",
	[KT_WHY_MAP_LINE] = "the checkpoint does not commit to a key map",
	[KT_WHY_VRF] = "the map index in the proof is not the one of this address (bad VRF proof)",
	[KT_WHY_MAP_PATH] = "the key (or its absence) is not what the domain's key map holds",
	[KT_WHY_ROLLBACK] = "the domain's checkpoint is older than one it showed before (rollback)",
	[KT_WHY_SPLIT_VIEW] = "the domain showed two different logs of the same size (split view)",
	[KT_WHY_CONSISTENCY] = "the domain's new checkpoint is not proven to extend the one it "
			       "showed before",
	[KT_WHY_AUTHORIZATION] = "the authorization served with the key is for another version or "
				 "another key",
};

const char *kt_why_text(enum kt_why why)
{
	if ((unsigned)why >= sizeof(why_text) / sizeof(why_text[0]))
		return "the proof failed for an unknown reason";
	return why_text[why];
}

static int verifier_same(const struct note_verifier *a, const struct note_verifier *b)
{
	return a->key_id == b->key_id && a->type == b->type && strcmp(a->name, b->name) == 0 &&
	       memcmp(a->pk, b->pk, NOTE_PK_LEN) == 0;
}

/* What verification has learnt so far, and where it failed. */
struct vstate {
	const struct kt_proof *p;
	char address[KT_ADDRESS_MAX];
	const char *domain; /* in address */
	size_t text_len;    /* of the checkpoint body */
	struct note_checkpoint cp;
	struct kt_result res;
	enum kt_why why;
};

static int fail(struct vstate *v, enum kt_why why, int err)
{
	v->why = why;
	return err;
}

/* keys[0] is the log key, then each trusted cosignature/v1 key once (note
 * matches a signature line by name and key ID, so those make a key). */
static size_t keys_build(const struct kt_proof *p, const struct kt_trust *t,
			 struct note_verifier keys[1 + KT_WITNESS_MAX])
{
	size_t n = 1;
	keys[0] = p->log_key;
	for (size_t i = 0; i < t->nwitness; i++) {
		const struct note_verifier *w = &t->witness[i];
		size_t j = 0;
		while (j < n && !(keys[j].key_id == w->key_id && strcmp(keys[j].name, w->name) == 0))
			j++;
		if (w->type == NOTE_KEY_COSIG_V1 && j == n)
			keys[n++] = *w;
	}
	return n;
}

/* The log's signature and the witnesses' cosignatures, in one note_verify. */
static int check_signatures(struct vstate *v, const struct kt_trust *t)
{
	struct note_verifier keys[1 + KT_WITNESS_MAX];
	struct note_sig_status st[1 + KT_WITNESS_MAX];
	const struct kt_proof *p = v->p;
	size_t n = keys_build(p, t, keys), tl = 0;
	int r = note_verify(p->checkpoint, p->checkpoint_len, keys, n, st, &tl);
	if (r == SM_EPARSE || r == SM_ETOOBIG)
		return fail(v, KT_WHY_MALFORMED, SM_EPARSE);
	if (r == SM_ECRYPTO) {
		/* Some known key's line failed: the log's, or a witness's. */
		r = note_verify(p->checkpoint, p->checkpoint_len, keys, 1, st, &tl);
		return fail(v, r == 0 ? KT_WHY_QUORUM : KT_WHY_SIGNATURE, SM_ECRYPTO);
	}
	if (r < 0 || !st[0].verified)
		return fail(v, KT_WHY_SIGNATURE, SM_ECRYPTO);
	for (size_t i = 1; i < n; i++)
		v->res.cosigned += (size_t)st[i].verified;
	if (v->res.cosigned < t->quorum)
		return fail(v, KT_WHY_QUORUM, SM_ECRYPTO);
	v->text_len = tl;
	return 0;
}

static int check_checkpoint(struct vstate *v)
{
	size_t dl = strlen(v->domain), sl = strlen(KT_ORIGIN_SUFFIX);
	if (note_checkpoint_parse(v->p->checkpoint, v->text_len, &v->cp) < 0)
		return fail(v, KT_WHY_MALFORMED, SM_EPARSE);
	if (v->cp.origin_len != dl + sl || memcmp(v->cp.origin, v->domain, dl) != 0 ||
	    memcmp(v->cp.origin + dl, KT_ORIGIN_SUFFIX, sl) != 0)
		return fail(v, KT_WHY_ORIGIN, SM_ECRYPTO);
	if (kt_map_line_parse(&v->cp, &v->res.map) < 0)
		return fail(v, KT_WHY_MAP_LINE, SM_ECRYPTO);
	return 0;
}

/* The VRF gives the index; the path from the leaf it names (or the
 * neighbour, or nothing) must end at the map line's root. */
static int check_map(struct vstate *v)
{
	const struct kt_proof *p = v->p;
	struct ptree_proof pp;
	uint8_t beta[VRF_OUTPUT_LEN], idx[PTREE_IDX_LEN], digest[KT_DIGEST_LEN], empty[PTREE_HASH_LEN];
	if (vrf_verify(v->res.map.vrf_pk, (const uint8_t *)v->address, strlen(v->address),
		       p->vrf_proof, beta) < 0)
		return fail(v, KT_WHY_VRF, SM_ECRYPTO);
	kt_index(beta, idx);
	if (p->found == KT_EMPTY) {
		ptree_empty_hash(empty);
		if (p->path.len != 0 || sodium_memcmp(empty, v->res.map.map_root, PTREE_HASH_LEN) != 0)
			return fail(v, KT_WHY_MAP_PATH, SM_ECRYPTO);
		return 0;
	}
	if (p->path.len > PTREE_BITS)
		return fail(v, KT_WHY_MALFORMED, SM_EPARSE);
	pp.found = p->found == KT_PRESENT;
	pp.has_leaf = 1;
	pp.path = p->path;
	if (p->found == KT_ABSENT) {
		pp.leaf = p->neighbour;
	} else {
		if (p->key == NULL || p->key_len == 0)
			return fail(v, KT_WHY_MALFORMED, SM_EPARSE);
		memcpy(pp.leaf.idx, idx, PTREE_IDX_LEN);
		pp.leaf.counter = p->counter;
		pp.leaf.epoch = p->epoch;
		kt_key_digest(p->key, p->key_len, digest);
		if (kt_commitment(p->opening, v->address, digest, pp.leaf.commitment) < 0)
			return fail(v, KT_WHY_ADDRESS, SM_EINVAL);
	}
	if (ptree_verify(v->res.map.map_root, idx, &pp) < 0)
		return fail(v, KT_WHY_MAP_PATH, SM_ECRYPTO);
	return 0;
}

/* Against the last checkpoint seen: never smaller, never a different tree
 * of the same size, and a larger one only with a proof that it extends it. */
static int check_history(struct vstate *v, const struct kt_state *last)
{
	const struct kt_proof *p = v->p;
	if (last == NULL || last->size == 0)
		return 0;
	if (v->cp.size < last->size)
		return fail(v, KT_WHY_ROLLBACK, SM_ECRYPTO);
	if (v->cp.size == last->size)
		return sodium_memcmp(v->cp.root, last->root, TLOG_HASH_LEN) == 0
			       ? 0
			       : fail(v, KT_WHY_SPLIT_VIEW, SM_ECRYPTO);
	if (!p->has_consistency || p->old_size != last->size || p->consistency_len > TLOG_PROOF_MAX ||
	    tlog_verify_consistency(last->size, v->cp.size, p->consistency, p->consistency_len,
				    last->root, v->cp.root) < 0)
		return fail(v, KT_WHY_CONSISTENCY, SM_ECRYPTO);
	return 0;
}

/* A present entry's authorization must be for exactly this version. */
static int check_authorization(struct vstate *v)
{
	const struct kt_proof *p = v->p;
	if (p->found != KT_PRESENT || p->auth_len == 0)
		return 0;
	if (kt_authorization_parse(p->auth, p->auth_len, &v->res.auth) < 0 ||
	    kt_authorization_matches(&v->res.auth, v->address, p->counter, p->key, p->key_len) < 0)
		return fail(v, KT_WHY_AUTHORIZATION, SM_ECRYPTO);
	v->res.has_auth = 1;
	return 0;
}

static int verify_steps(struct vstate *v, const char *address, const struct kt_trust *trust,
			const struct kt_state *last)
{
	const struct kt_proof *p = v->p;
	if (kt_canonical_address(address, v->address) < 0)
		return fail(v, KT_WHY_ADDRESS, SM_EINVAL);
	if (memchr(p->address, 0, sizeof(p->address)) == NULL || strcmp(v->address, p->address) != 0)
		return fail(v, KT_WHY_ADDRESS, SM_ECRYPTO);
	v->domain = strrchr(v->address, '@') + 1;
	if (p->log_key.type != NOTE_KEY_ED25519 || p->checkpoint == NULL ||
	    (p->found != KT_PRESENT && p->found != KT_ABSENT && p->found != KT_EMPTY) ||
	    trust->nwitness > KT_WITNESS_MAX)
		return fail(v, KT_WHY_MALFORMED, SM_EINVAL);
	if (last != NULL && last->log_key.name[0] != 0 && !verifier_same(&last->log_key, &p->log_key))
		return fail(v, KT_WHY_LOG_KEY, SM_ECRYPTO);
	int r = check_signatures(v, trust);
	if (r == 0)
		r = check_checkpoint(v);
	if (r == 0)
		r = check_map(v);
	if (r == 0)
		r = check_authorization(v);
	return r < 0 ? r : check_history(v, last);
}

int kt_proof_verify(const struct kt_proof *p, const char *address, const struct kt_trust *trust,
		    const struct kt_state *last, struct kt_result *ret, enum kt_why *ret_why)
{
	struct vstate v;
	memset(&v, 0, sizeof(v));
	v.p = p;
	v.why = KT_OK;
	int r = verify_steps(&v, address, trust, last);
	*ret_why = v.why;
	if (r < 0)
		return r;
	v.res.found = p->found;
	if (p->found == KT_PRESENT) {
		v.res.counter = p->counter;
		v.res.epoch = p->epoch;
		v.res.key = p->key;
		v.res.key_len = p->key_len;
	}
	v.res.size = v.cp.size;
	memcpy(v.res.root, v.cp.root, TLOG_HASH_LEN);
	v.res.new_state.log_key = p->log_key;
	v.res.new_state.size = v.cp.size;
	memcpy(v.res.new_state.root, v.cp.root, TLOG_HASH_LEN);
	*ret = v.res;
	return 0;
}

/* ---- client state ---- */

int kt_state_format(const struct kt_state *s, struct buf *out)
{
	if (s->log_key.type != NOTE_KEY_ED25519)
		return SM_EINVAL;
	int r = buf_append_str(out, STATE_MAGIC "\nlog-key ");
	if (r == 0)
		r = note_verifier_format(&s->log_key, out);
	if (r == 0)
		r = buf_appendf(out, "\nsize %" PRIu64 "\nroot ", s->size);
	if (r == 0)
		r = b64_append(out, s->root, TLOG_HASH_LEN);
	return r < 0 ? r : buf_append(out, "\n", 1);
}

int kt_state_parse(const uint8_t *text, size_t len, struct kt_state *ret)
{
	struct tl_cur c = {text, len, 0};
	struct kt_state s;
	struct tl_line l;
	if (text == NULL || len > KT_PROOF_MAX)
		return SM_EPARSE;
	if (tl_next(&c, &l) < 0 || !tl_is(&l, STATE_MAGIC) || tl_take(&c, "log-key ", &l) < 0 ||
	    parse_log_key(l, &s.log_key) < 0 || tl_take(&c, "size ", &l) < 0 ||
	    tl_u64(l, &s.size) < 0 || tl_take(&c, "root ", &l) < 0 ||
	    tl_b64(l, s.root, TLOG_HASH_LEN) < 0 || c.off != c.len)
		return SM_EPARSE;
	*ret = s;
	return 0;
}
