/* kt.c: addresses, commitments, epoch entries and map lines of key
 * transparency. See kt.h.
 *
 * Entries and map lines are read from the network (a witness gets entries
 * from the log, a client gets map lines in checkpoints), so parsing is
 * strict: exactly the text kt_*_format writes, or SM_EPARSE. */
#include "kt.h"

#include <inttypes.h>
#include <string.h>

#include <sodium.h>

#include "b64.h"
#include "num.h"
#include "sha256.h"
#include "tlog.h"

#define COMMITMENT_LABEL "sealmail-kt/v1 commitment\n"
#define ENTRY_MAGIC "sealmail-epoch/v1\n"
#define MAP_PREFIX "sealmail-map "

/* ---- text fields ---- */

struct cur {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* Takes the literal prefix, then the field up to the next byte end (a
 * space or a newline, which is consumed). */
static int cur_field(struct cur *c, const char *prefix, uint8_t end, const uint8_t **ret_f,
		     size_t *ret_n)
{
	size_t pl = strlen(prefix);
	if (c->len - c->off < pl || memcmp(c->p + c->off, prefix, pl) != 0)
		return SM_EPARSE;
	const uint8_t *f = c->p + c->off + pl;
	const uint8_t *e = memchr(f, end, c->len - c->off - pl);
	if (e == NULL)
		return SM_EPARSE;
	*ret_f = f;
	*ret_n = (size_t)(e - f);
	c->off = (size_t)(e + 1 - c->p);
	return 0;
}

static int cur_u64(struct cur *c, const char *prefix, uint8_t end, uint64_t *ret_v)
{
	const uint8_t *f;
	size_t n;
	int r = cur_field(c, prefix, end, &f, &n);
	return r < 0 ? r : num_parse_dec(f, n, ret_v);
}

/* A base64 field that must decode to exactly len bytes. */
static int cur_b64(struct cur *c, const char *prefix, uint8_t end, uint8_t *out, size_t len)
{
	const uint8_t *f;
	size_t n, got = 0;
	if (cur_field(c, prefix, end, &f, &n) < 0 || n != B64_ENCODED_LEN(len) ||
	    b64_decode(f, n, out, len, &got) < 0 || got != len)
		return SM_EPARSE;
	return 0;
}

/* ---- addresses and commitments ---- */

int kt_canonical_address(const char *address, char ret[KT_ADDRESS_MAX])
{
	struct wkd_address a;
	char out[KT_ADDRESS_MAX];
	if (address == NULL || wkd_address_parse(address, &a) < 0)
		return SM_EINVAL;
	for (char *p = a.local; *p != 0; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (wkd_address_format(&a, out, sizeof(out)) < 0)
		return SM_EINVAL;
	memcpy(ret, out, sizeof(out));
	return 0;
}

void kt_index(const uint8_t beta[VRF_OUTPUT_LEN], uint8_t ret[PTREE_IDX_LEN])
{
	memcpy(ret, beta, PTREE_IDX_LEN);
}

void kt_key_digest(const uint8_t *cert, size_t len, uint8_t ret[KT_DIGEST_LEN])
{
	sha256(cert, len, ret);
}

int kt_commitment(const uint8_t opening[KT_OPENING_LEN], const char *address,
		  const uint8_t key_digest[KT_DIGEST_LEN], uint8_t ret[PTREE_HASH_LEN])
{
	char canon[KT_ADDRESS_MAX];
	crypto_hash_sha256_state st;
	if (kt_canonical_address(address, canon) < 0 || strcmp(canon, address) != 0)
		return SM_EINVAL;
	size_t n = strlen(canon);
	uint8_t be16[2] = {(uint8_t)(n >> 8), (uint8_t)n};
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)COMMITMENT_LABEL, strlen(COMMITMENT_LABEL));
	crypto_hash_sha256_update(&st, opening, KT_OPENING_LEN);
	crypto_hash_sha256_update(&st, be16, sizeof(be16));
	crypto_hash_sha256_update(&st, (const uint8_t *)canon, n);
	crypto_hash_sha256_update(&st, key_digest, KT_DIGEST_LEN);
	crypto_hash_sha256_final(&st, ret);
	return 0;
}

/* The domain is checked (and lowercased) as the domain of an address. */
int kt_origin(const char *domain, struct buf *out)
{
	char addr[2 + WKD_DOMAIN_MAX + 1] = "x@";
	struct wkd_address a;
	size_t n = domain == NULL ? 0 : strnlen(domain, WKD_DOMAIN_MAX + 1);
	if (n == 0 || n > WKD_DOMAIN_MAX)
		return SM_EINVAL;
	memcpy(addr + 2, domain, n + 1);
	if (wkd_address_parse(addr, &a) < 0 || strlen(a.domain) != n)
		return SM_EINVAL;
	int r = buf_append_str(out, a.domain);
	return r < 0 ? r : buf_append_str(out, KT_ORIGIN_SUFFIX);
}

/* ---- epoch entries ---- */

int kt_entry_format(const struct kt_entry *e, struct buf *out)
{
	int r = buf_appendf(out, ENTRY_MAGIC "epoch %" PRIu64 "\ntime %" PRIu64 "\nmap ", e->epoch,
			    e->time);
	if (r == 0)
		r = b64_append(out, e->map_root, PTREE_HASH_LEN);
	if (r == 0)
		r = buf_append_str(out, "\ndelta ");
	if (r == 0)
		r = b64_append(out, e->delta_hash, KT_DIGEST_LEN);
	return r < 0 ? r : buf_append(out, "\n", 1);
}

int kt_entry_parse(const uint8_t *text, size_t len, struct kt_entry *ret)
{
	struct cur c = {text, len, 0};
	struct kt_entry e;
	const uint8_t *f;
	size_t n;
	if (len > KT_ENTRY_MAX)
		return SM_ETOOBIG;
	if (cur_field(&c, "", '\n', &f, &n) < 0 || n + 1 != strlen(ENTRY_MAGIC) ||
	    memcmp(f, ENTRY_MAGIC, n) != 0 || cur_u64(&c, "epoch ", '\n', &e.epoch) < 0 ||
	    cur_u64(&c, "time ", '\n', &e.time) < 0 ||
	    cur_b64(&c, "map ", '\n', e.map_root, PTREE_HASH_LEN) < 0 ||
	    cur_b64(&c, "delta ", '\n', e.delta_hash, KT_DIGEST_LEN) < 0 || c.off != c.len)
		return SM_EPARSE;
	*ret = e;
	return 0;
}

int kt_entry_leaf_hash(const struct kt_entry *e, uint8_t ret[32])
{
	struct buf b;
	buf_init(&b, KT_ENTRY_MAX);
	int r = kt_entry_format(e, &b);
	if (r == 0)
		tlog_leaf_hash(b.data, b.len, ret);
	buf_free(&b);
	return r;
}

/* ---- map lines and checkpoints ---- */

int kt_map_line_format(const struct kt_map_line *m, struct buf *out)
{
	int r = buf_appendf(out, MAP_PREFIX "%" PRIu64 " ", m->epoch);
	if (r == 0)
		r = b64_append(out, m->map_root, PTREE_HASH_LEN);
	if (r == 0)
		r = buf_append(out, " ", 1);
	if (r == 0)
		r = b64_append(out, m->vrf_pk, VRF_PK_LEN);
	return r < 0 ? r : buf_append(out, "\n", 1);
}

int kt_map_line_parse(const struct note_checkpoint *cp, struct kt_map_line *ret)
{
	struct cur c = {(const uint8_t *)cp->ext, cp->ext_len, 0};
	struct kt_map_line m;
	if (cp->ext == NULL || cp->size == 0 ||
	    cur_u64(&c, MAP_PREFIX, ' ', &m.epoch) < 0 ||
	    cur_b64(&c, "", ' ', m.map_root, PTREE_HASH_LEN) < 0 ||
	    cur_b64(&c, "", '\n', m.vrf_pk, VRF_PK_LEN) < 0 || c.off != c.len ||
	    m.epoch != cp->size - 1)
		return SM_EPARSE;
	*ret = m;
	return 0;
}

int kt_checkpoint_body(const char *domain, uint64_t size, const uint8_t log_root[32],
		       const struct kt_map_line *m, struct buf *out)
{
	struct buf origin, ext;
	struct note_checkpoint cp;
	int r = SM_EINVAL;
	buf_init(&origin, WKD_DOMAIN_MAX + sizeof(KT_ORIGIN_SUFFIX));
	buf_init(&ext, 256);
	if (size == 0 || m->epoch != size - 1)
		goto fail;
	if ((r = kt_origin(domain, &origin)) < 0 || (r = kt_map_line_format(m, &ext)) < 0)
		goto fail;
	cp.origin = (const char *)origin.data;
	cp.origin_len = origin.len;
	cp.size = size;
	memcpy(cp.root, log_root, NOTE_HASH_LEN);
	cp.ext = (const char *)ext.data;
	cp.ext_len = ext.len;
	r = note_checkpoint_format(&cp, out);
fail:
	buf_free(&origin);
	buf_free(&ext);
	return r;
}
