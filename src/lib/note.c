/* note.c: c2sp.org/signed-note, c2sp.org/tlog-checkpoint and the Ed25519
 * cosignature/v1 of c2sp.org/tlog-cosignature. See note.h.
 *
 * Everything read here is untrusted: a note comes from the network, a vkey
 * from a configuration file. Parsing goes through a cursor that must end
 * exactly at the end of its input, and verification allocates nothing. */
#include "note.h"

#include "b64.h"
#include "num.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#define EM_DASH_SP "\xe2\x80\x94 " /* U+2014 then U+0020 opens a signature line */
#define SKEY_PREFIX "PRIVATE+KEY+"
#define COSIG_HEADER "cosignature/v1\n"
#define COSIG_MSG_MAX (NOTE_COSIG_BODY_MAX + 64) /* body plus the two header lines */
#define ID_LEN 4
#define TS_LEN 8
#define ED_SIG_LEN 64

struct note_signer {
	struct note_verifier v;
	uint8_t sk[NOTE_SK_LEN]; /* libsodium layout: seed || pk */
};

/* ---- text rules ---- */

/* Decodes one UTF-8 sequence at p[*off], rejecting overlong forms,
 * surrogates and code points past U+10FFFF. */
static int utf8_next(const uint8_t *p, size_t len, size_t *off, uint32_t *ret_cp)
{
	static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
	uint8_t b = p[*off];
	size_t n = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : (b & 0xf8) == 0xf0 ? 3 : 4;
	if (n == 4 || n >= len - *off)
		return -1;
	uint32_t c = n == 0 ? b : (uint32_t)(b & (0x3f >> n));
	for (size_t i = 1; i <= n; i++) {
		uint8_t k = p[*off + i];
		if ((k & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (k & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*off += n + 1;
	*ret_cp = c;
	return 0;
}

/* signed-note: "Signed notes MUST be valid UTF-8 and MUST NOT contain any
 * ASCII control characters (those below U+0020) other than newline." */
static int text_valid(const uint8_t *p, size_t len, int newline_ok)
{
	uint32_t c;
	for (size_t off = 0; off < len;) {
		if (utf8_next(p, len, &off, &c) < 0)
			return 0;
		if (c < 0x20 && !(c == '\n' && newline_ok))
			return 0;
	}
	return 1;
}

/* Unicode White_Space, as Go's unicode.IsSpace (the reference
 * implementation's test for key names). */
static int is_space(uint32_t c)
{
	return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/* signed-note: "Key names MUST be non-empty and MUST NOT contain any
 * Unicode spaces or plus (U+002B) characters." */
static int name_valid(const uint8_t *p, size_t len)
{
	uint32_t c;
	if (len == 0 || len > NOTE_NAME_MAX)
		return 0;
	for (size_t off = 0; off < len;) {
		if (utf8_next(p, len, &off, &c) < 0 || c < 0x20 || c == '+' || is_space(c))
			return 0;
	}
	return 1;
}

/* Note text includes its final newline (signed-note "Format"). */
static int note_text_valid(const uint8_t *p, size_t len)
{
	return len > 0 && len <= NOTE_MAX_SIZE && p[len - 1] == '\n' && text_valid(p, len, 1);
}

/* ---- cursor ---- */

struct cur {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* Takes the next line without its newline; a line must end in one. */
static int cur_line(struct cur *c, const uint8_t **ret_line, size_t *ret_len)
{
	const uint8_t *nl = memchr(c->p + c->off, '\n', c->len - c->off);
	if (nl == NULL)
		return SM_EPARSE;
	*ret_line = c->p + c->off;
	*ret_len = (size_t)(nl - (c->p + c->off));
	c->off += *ret_len + 1;
	return 0;
}

static int cur_done(const struct cur *c)
{
	return c->off == c->len;
}

/* ---- keys ---- */

static int type_supported(uint8_t type)
{
	return type == NOTE_KEY_ED25519 || type == NOTE_KEY_COSIG_V1;
}

/* signed-note: key ID = SHA-256(key name || 0x0A || type || public key)[:4],
 * big-endian; tlog-cosignature uses the same with type 0x04. */
static uint32_t key_id(const char *name, size_t nlen, uint8_t type, const uint8_t pk[NOTE_PK_LEN])
{
	crypto_hash_sha256_state st;
	uint8_t h[crypto_hash_sha256_BYTES];
	uint8_t sep[2] = {'\n', type};
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, nlen);
	crypto_hash_sha256_update(&st, sep, sizeof(sep));
	crypto_hash_sha256_update(&st, pk, NOTE_PK_LEN);
	crypto_hash_sha256_final(&st, h);
	return (uint32_t)num_get_be(h, ID_LEN);
}

static int verifier_build(const uint8_t *name, size_t nlen, uint8_t type,
			  const uint8_t pk[NOTE_PK_LEN], struct note_verifier *ret_v)
{
	if (!name_valid(name, nlen) || !type_supported(type))
		return SM_EINVAL;
	memset(ret_v, 0, sizeof(*ret_v));
	memcpy(ret_v->name, name, nlen);
	ret_v->type = type;
	memcpy(ret_v->pk, pk, NOTE_PK_LEN);
	ret_v->key_id = key_id(ret_v->name, nlen, type, pk);
	return 0;
}

int note_verifier_new(const char *name, uint8_t type, const uint8_t pk[NOTE_PK_LEN],
		      struct note_verifier *ret_v)
{
	struct note_verifier v;
	int r = verifier_build((const uint8_t *)name, strlen(name), type, pk, &v);
	if (r < 0)
		return r;
	*ret_v = v;
	return 0;
}

/* The fields shared by vkeys and skeys: name "+" 8 hex digits "+"
 * base64(type || 32 bytes of key). The key bytes may be a seed, so the
 * decoding buffer is wiped. */
struct key_fields {
	const uint8_t *name;
	size_t name_len;
	uint32_t id;
	uint8_t type;
	uint8_t key[NOTE_PK_LEN];
};

/* Only hex digits reach sodium_hex2bin(), as only base64 reaches its decoder. */
static int hex8(const uint8_t *s)
{
	for (size_t i = 0; i < 8; i++) {
		uint8_t c = (uint8_t)(s[i] | 0x20);
		if (!((s[i] >= '0' && s[i] <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

static int key_fields_parse(const uint8_t *s, size_t len, struct key_fields *ret_f)
{
	uint8_t raw[1 + NOTE_PK_LEN], id[ID_LEN];
	size_t n = 0;
	int r = SM_EPARSE;
	const uint8_t *plus = memchr(s, '+', len);
	if (plus == NULL || !name_valid(s, (size_t)(plus - s)))
		goto fail;
	size_t at = (size_t)(plus - s) + 1;
	if (len - at < 10 || s[at + 8] != '+' || !hex8(s + at) ||
	    sodium_hex2bin(id, sizeof(id), (const char *)s + at, 8, NULL, &n, NULL) != 0 || n != ID_LEN)
		goto fail;
	if (b64_decode(s + at + 9, len - at - 9, raw, sizeof(raw), &n) < 0 || n != sizeof(raw) ||
	    !type_supported(raw[0]))
		goto fail;
	ret_f->name = s;
	ret_f->name_len = (size_t)(plus - s);
	ret_f->id = (uint32_t)num_get_be(id, ID_LEN);
	ret_f->type = raw[0];
	memcpy(ret_f->key, raw + 1, NOTE_PK_LEN);
	r = 0;
fail:
	sodium_memzero(raw, sizeof(raw));
	return r;
}

int note_verifier_parse(const char *vkey, struct note_verifier *ret_v)
{
	struct key_fields f;
	struct note_verifier v;
	size_t len = strnlen(vkey, NOTE_VKEY_MAX + 1);
	if (len > NOTE_VKEY_MAX || key_fields_parse((const uint8_t *)vkey, len, &f) < 0)
		return SM_EPARSE;
	if (verifier_build(f.name, f.name_len, f.type, f.key, &v) < 0 || v.key_id != f.id)
		return SM_EPARSE;
	*ret_v = v;
	return 0;
}

static int key_string_append(struct buf *out, const struct note_verifier *v, const uint8_t *key)
{
	uint8_t raw[1 + NOTE_PK_LEN];
	raw[0] = v->type;
	memcpy(raw + 1, key, NOTE_PK_LEN);
	int r = buf_appendf(out, "%s+%08" PRIx32 "+", v->name, v->key_id);
	if (r == 0)
		r = b64_append(out, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return r;
}

int note_verifier_format(const struct note_verifier *v, struct buf *out)
{
	return key_string_append(out, v, v->pk);
}

/* ---- signers ---- */

static int signer_from_seed(const uint8_t *name, size_t nlen, uint8_t type,
			    const uint8_t seed[NOTE_PK_LEN], struct note_signer **ret_s)
{
	uint8_t pk[NOTE_PK_LEN];
	struct note_signer *s;
	if (!name_valid(name, nlen) || !type_supported(type))
		return SM_EINVAL;
	if (sodium_init() < 0)
		return SM_ECRYPTO;
	if ((s = sodium_malloc(sizeof(*s))) == NULL)
		return SM_ENOMEM;
	if (crypto_sign_ed25519_seed_keypair(pk, s->sk, seed) != 0 ||
	    verifier_build(name, nlen, type, pk, &s->v) < 0) {
		note_signer_free(s);
		return SM_ECRYPTO;
	}
	*ret_s = s;
	return 0;
}

int note_signer_new(const char *name, uint8_t type, const uint8_t sk[NOTE_SK_LEN],
		    struct note_signer **ret_s)
{
	struct note_signer *s = NULL;
	int r = signer_from_seed((const uint8_t *)name, strlen(name), type, sk, &s);
	if (r < 0)
		return r;
	/* A secret key whose pk half is not its seed's would sign with a key
	 * nobody can verify against; refuse it here rather than at verify. */
	if (sodium_memcmp(s->v.pk, sk + NOTE_PK_LEN, NOTE_PK_LEN) != 0) {
		note_signer_free(s);
		return SM_EINVAL;
	}
	*ret_s = s;
	return 0;
}

int note_signer_parse(const char *skey, struct note_signer **ret_s)
{
	struct key_fields f;
	struct note_signer *s = NULL;
	int r = SM_EPARSE;
	size_t plen = strlen(SKEY_PREFIX), len = strnlen(skey, NOTE_VKEY_MAX + plen + 1);
	if (len > NOTE_VKEY_MAX + plen || strncmp(skey, SKEY_PREFIX, plen) != 0 ||
	    key_fields_parse((const uint8_t *)skey + plen, len - plen, &f) < 0)
		goto fail;
	r = signer_from_seed(f.name, f.name_len, f.type, f.key, &s);
	if (r == 0 && s->v.key_id != f.id) {
		note_signer_free(s);
		r = SM_EPARSE;
	}
	if (r == 0)
		*ret_s = s;
fail:
	sodium_memzero(&f, sizeof(f));
	return r;
}

int note_signer_format(const struct note_signer *s, struct buf *out)
{
	int r = buf_append_str(out, SKEY_PREFIX);
	return r < 0 ? r : key_string_append(out, &s->v, s->sk);
}

int note_signer_verifier(const struct note_signer *s, struct note_verifier *ret_v)
{
	*ret_v = s->v;
	return 0;
}

void note_signer_free(struct note_signer *s)
{
	if (s != NULL)
		sodium_free(s); /* wipes before unmapping */
}

/* ---- checkpoints ---- */

/* tlog-checkpoint "Note text": origin, size, root hash, then optional
 * extension lines which "MUST be non-empty". */
static int checkpoint_lines(struct cur *c, struct note_checkpoint *cp)
{
	const uint8_t *l;
	size_t n, got;
	if (cur_line(c, &l, &n) < 0 || n == 0)
		return SM_EPARSE;
	cp->origin = (const char *)l;
	cp->origin_len = n;
	if (cur_line(c, &l, &n) < 0 || num_parse_dec(l, n, &cp->size) < 0)
		return SM_EPARSE;
	if (cur_line(c, &l, &n) < 0 || b64_decode(l, n, cp->root, NOTE_HASH_LEN, &got) < 0 ||
	    got != NOTE_HASH_LEN)
		return SM_EPARSE;
	cp->ext = cur_done(c) ? NULL : (const char *)c->p + c->off;
	cp->ext_len = c->len - c->off;
	while (!cur_done(c))
		if (cur_line(c, &l, &n) < 0 || n == 0)
			return SM_EPARSE;
	return 0;
}

int note_checkpoint_parse(const uint8_t *body, size_t len, struct note_checkpoint *ret_cp)
{
	struct cur c = {body, len, 0};
	struct note_checkpoint cp;
	if (!note_text_valid(body, len))
		return SM_EPARSE;
	if (checkpoint_lines(&c, &cp) < 0 || !cur_done(&c))
		return SM_EPARSE;
	*ret_cp = cp;
	return 0;
}

/* Extension lines must read back as they were written: each non-empty and
 * newline-terminated, in valid note text. */
static int ext_valid(const char *ext, size_t len)
{
	struct cur c = {(const uint8_t *)ext, len, 0};
	const uint8_t *l;
	size_t n;
	if (len == 0)
		return 1;
	if (ext == NULL || !note_text_valid(c.p, len))
		return 0;
	while (!cur_done(&c))
		if (cur_line(&c, &l, &n) < 0 || n == 0)
			return 0;
	return 1;
}

int note_checkpoint_format(const struct note_checkpoint *cp, struct buf *out)
{
	if (cp->origin == NULL || cp->origin_len == 0 || cp->origin_len > NOTE_MAX_SIZE ||
	    !text_valid((const uint8_t *)cp->origin, cp->origin_len, 0) ||
	    !ext_valid(cp->ext, cp->ext_len))
		return SM_EINVAL;
	int r = buf_append(out, cp->origin, cp->origin_len);
	if (r == 0)
		r = buf_appendf(out, "\n%" PRIu64 "\n", cp->size);
	if (r == 0)
		r = b64_append(out, cp->root, NOTE_HASH_LEN);
	if (r == 0)
		r = buf_append(out, "\n", 1);
	if (r == 0 && cp->ext_len > 0)
		r = buf_append(out, cp->ext, cp->ext_len);
	return r;
}

/* ---- signing ---- */

/* tlog-cosignature "Ed25519 signed message": the header line, "time",
 * a space and the timestamp in decimal with no leading zeroes, then "the
 * whole note body of the cosigned checkpoint (including the final
 * newline...)". */
int note_cosig_message(const uint8_t *body, size_t len, uint64_t timestamp, struct buf *out)
{
	/* "It MUST NOT exceed 2^63 - 1". */
	if (timestamp > INT64_MAX)
		return SM_EINVAL;
	int r = buf_appendf(out, COSIG_HEADER "time %" PRIu64 "\n", timestamp);
	return r < 0 ? r : buf_append(out, body, len);
}

/* Signs what the key type says is signed, into sig. */
static int sign_message(const struct note_signer *s, const uint8_t *text, size_t len,
			uint64_t timestamp, uint8_t sig[ED_SIG_LEN])
{
	struct buf msg;
	int r = SM_ECRYPTO;
	if (s->v.type == NOTE_KEY_ED25519)
		return crypto_sign_ed25519_detached(sig, NULL, text, len, s->sk) == 0 ? 0 : SM_ECRYPTO;
	buf_init(&msg, COSIG_MSG_MAX);
	if ((r = note_cosig_message(text, len, timestamp, &msg)) < 0)
		goto fail;
	r = crypto_sign_ed25519_detached(sig, NULL, msg.data, msg.len, s->sk) == 0 ? 0 : SM_ECRYPTO;
fail:
	buf_free(&msg);
	return r;
}

int note_sign_line(const struct note_signer *s, const uint8_t *text, size_t len,
		   uint64_t timestamp, struct buf *out)
{
	struct note_checkpoint cp;
	uint8_t payload[ID_LEN + TS_LEN + ED_SIG_LEN];
	size_t plen = ID_LEN;
	if (!note_text_valid(text, len))
		return SM_EINVAL;
	if (s->v.type == NOTE_KEY_COSIG_V1) {
		if (len > NOTE_COSIG_BODY_MAX)
			return SM_ETOOBIG;
		if (timestamp > INT64_MAX || note_checkpoint_parse(text, len, &cp) < 0)
			return SM_EINVAL;
		num_put_be(payload + plen, timestamp, TS_LEN); /* timestamped_signature */
		plen += TS_LEN;
	}
	num_put_be(payload, s->v.key_id, ID_LEN);
	int r = sign_message(s, text, len, timestamp, payload + plen);
	if (r == 0)
		r = buf_appendf(out, EM_DASH_SP "%s ", s->v.name);
	if (r == 0)
		r = b64_append(out, payload, plen + ED_SIG_LEN);
	if (r == 0)
		r = buf_append(out, "\n", 1);
	return r;
}

int note_sign(const struct note_signer *s, const uint8_t *text, size_t len, uint64_t timestamp,
	      struct buf *out)
{
	if (!note_text_valid(text, len))
		return SM_EINVAL;
	int r = buf_append(out, text, len);
	if (r == 0)
		r = buf_append(out, "\n", 1);
	return r < 0 ? r : note_sign_line(s, text, len, timestamp, out);
}

/* ---- verification ---- */

struct vctx {
	const uint8_t *text;
	size_t text_len;
	const struct note_verifier *keys;
	size_t nkeys;
	struct note_sig_status st[NOTE_MAX_KEYS];
	uint8_t payload[NOTE_SIG_PAYLOAD_MAX];
	uint8_t msg[COSIG_MSG_MAX];
};

/* signed-note: "the text is separated from the signatures by the last
 * empty line in the note", and the signature block ends in a newline. */
static int note_split(const uint8_t *p, size_t len, size_t *ret_text_len)
{
	for (size_t i = len; i >= 2; i--) {
		if (p[i - 1] == '\n' && p[i - 2] == '\n') {
			if (i == len)
				return SM_EPARSE; /* no signature lines */
			*ret_text_len = i - 1;
			return 0;
		}
	}
	return SM_EPARSE;
}

/* "The tuple of key name and key ID uniquely identifies the key"; a key
 * matching only one of the two is unknown. */
static long key_find(const struct vctx *vc, const uint8_t *name, size_t nlen, uint32_t id)
{
	for (size_t i = 0; i < vc->nkeys; i++) {
		const struct note_verifier *k = &vc->keys[i];
		if (k->key_id == id && strlen(k->name) == nlen && memcmp(k->name, name, nlen) == 0)
			return (long)i;
	}
	return -1;
}

static int cosig_check(struct vctx *vc, const struct note_verifier *k, const uint8_t *p,
		       size_t plen, uint64_t *ret_ts)
{
	uint64_t ts = num_get_be(p, TS_LEN);
	int n;
	if (plen != TS_LEN + ED_SIG_LEN || ts > INT64_MAX)
		return SM_ECRYPTO;
	if (vc->text_len > NOTE_COSIG_BODY_MAX)
		return SM_ETOOBIG;
	n = snprintf((char *)vc->msg, sizeof(vc->msg), COSIG_HEADER "time %" PRIu64 "\n", ts);
	if (n < 0 || (size_t)n > 64)
		return SM_ECRYPTO;
	memcpy(vc->msg + n, vc->text, vc->text_len);
	if (crypto_sign_ed25519_verify_detached(p + TS_LEN, vc->msg, (size_t)n + vc->text_len, k->pk) != 0)
		return SM_ECRYPTO;
	*ret_ts = ts;
	return 0;
}

/* Checks payload (after the key ID) against known key i. */
static int sig_check(struct vctx *vc, size_t i, const uint8_t *p, size_t plen)
{
	const struct note_verifier *k = &vc->keys[i];
	uint64_t ts = 0;
	int r = 0;
	if (k->type == NOTE_KEY_COSIG_V1)
		r = cosig_check(vc, k, p, plen, &ts);
	else if (plen != ED_SIG_LEN ||
		 crypto_sign_ed25519_verify_detached(p, vc->text, vc->text_len, k->pk) != 0)
		r = SM_ECRYPTO;
	if (r < 0)
		return r;
	/* A key that signs twice counts once; the first line's time stands. */
	if (!vc->st[i].verified) {
		vc->st[i].verified = 1;
		vc->st[i].timestamp = ts;
	}
	return 0;
}

/* One line "— <name> base64(key ID || signature)", newline removed. */
static int sig_line(struct vctx *vc, const uint8_t *l, size_t n)
{
	size_t dl = strlen(EM_DASH_SP), plen = 0;
	if (n < dl || memcmp(l, EM_DASH_SP, dl) != 0)
		return SM_EPARSE;
	const uint8_t *name = l + dl, *sp = memchr(name, ' ', n - dl);
	if (sp == NULL || !name_valid(name, (size_t)(sp - name)))
		return SM_EPARSE;
	size_t b64_len = n - (size_t)(sp + 1 - l);
	if (b64_len > sodium_base64_ENCODED_LEN(NOTE_SIG_PAYLOAD_MAX, sodium_base64_VARIANT_ORIGINAL))
		return SM_ETOOBIG;
	if (b64_decode(sp + 1, b64_len, vc->payload, sizeof(vc->payload), &plen) < 0 || plen <= ID_LEN)
		return SM_EPARSE;
	long i = key_find(vc, name, (size_t)(sp - name), (uint32_t)num_get_be(vc->payload, ID_LEN));
	if (i < 0)
		return 0; /* "Verifiers MUST ignore signatures from unknown keys" */
	/* "If the key name and ID match a known key, verifiers MUST verify the
	 * signature"; a failure rejects the whole note (the spec's SHOULD). */
	return sig_check(vc, (size_t)i, vc->payload + ID_LEN, plen - ID_LEN);
}

static int sig_lines(struct vctx *vc, struct cur *c)
{
	const uint8_t *l;
	size_t n, count = 0;
	while (!cur_done(c)) {
		if (++count > NOTE_MAX_SIGS)
			return SM_ETOOBIG;
		int r = cur_line(c, &l, &n);
		if (r == 0)
			r = sig_line(vc, l, n);
		if (r < 0)
			return r;
	}
	return 0;
}

int note_verify(const uint8_t *note, size_t len, const struct note_verifier *keys, size_t nkeys,
		struct note_sig_status *ret_status, size_t *ret_text_len)
{
	struct vctx vc;
	size_t text_len = 0, found = 0;
	if (len > NOTE_MAX_SIZE || nkeys > NOTE_MAX_KEYS)
		return SM_ETOOBIG;
	if (!text_valid(note, len, 1) || note_split(note, len, &text_len) < 0)
		return SM_EPARSE;
	memset(vc.st, 0, sizeof(vc.st));
	vc.text = note;
	vc.text_len = text_len;
	vc.keys = keys;
	vc.nkeys = nkeys;
	struct cur c = {note, len, text_len + 1};
	int r = sig_lines(&vc, &c);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nkeys; i++)
		found += (size_t)vc.st[i].verified;
	if (found == 0)
		return SM_ENOTFOUND; /* "If no signature from a known key verifies ... MUST reject" */
	memcpy(ret_status, vc.st, nkeys * sizeof(*ret_status));
	*ret_text_len = text_len;
	return 0;
}
