/* kt_update.c: the owner's update statement, its authorization and the
 * publish request. See kt_update.h. */
#include "kt_update.h"

#include <inttypes.h>
#include <string.h>

#include "b64.h"
#include "textline.h"

#define UPDATE_MAGIC "sealmail-update/v1"

static int update_valid(const struct kt_update *u)
{
	char canon[KT_ADDRESS_MAX];
	if (u->version == 0 || (u->version == 1) == (u->has_previous != 0))
		return 0;
	if (u->authority != KT_BY_TOKEN && (u->authority != KT_BY_OWNER || u->version == 1))
		return 0;
	return kt_canonical_address(u->address, canon) == 0 && strcmp(canon, u->address) == 0;
}

int kt_update_format(const struct kt_update *u, struct buf *out)
{
	if (u == NULL || out == NULL || !update_valid(u))
		return SM_EINVAL;
	size_t mark = out->len;
	int r = buf_appendf(out, UPDATE_MAGIC "\naddress %s\nauthority %s\nversion %" PRIu64
			    "\nprevious ", u->address, u->authority == KT_BY_OWNER ? "owner" : "token",
			    u->version);
	if (r == 0)
		r = u->has_previous ? b64_append(out, u->previous, KT_DIGEST_LEN)
				    : buf_append(out, "none", 4);
	if (r == 0)
		r = buf_append(out, "\nkey ", 5);
	if (r == 0)
		r = b64_append(out, u->key, KT_DIGEST_LEN);
	if (r == 0)
		r = buf_append(out, "\n", 1);
	if (r < 0)
		out->len = mark;
	return r;
}

int kt_authorization_format(const uint8_t *statement, size_t statement_len, const uint8_t *sig,
			    size_t sig_len, struct buf *out)
{
	if (statement == NULL || sig == NULL || sig_len == 0 || sig_len > KT_SIG_MAX || out == NULL)
		return SM_EINVAL;
	size_t mark = out->len;
	int r = buf_append(out, statement, statement_len);
	if (r == 0)
		r = buf_append(out, "signature ", 10);
	if (r == 0)
		r = b64_append(out, sig, sig_len);
	if (r == 0)
		r = buf_append(out, "\n", 1);
	if (r == 0 && out->len - mark > KT_AUTH_MAX)
		r = SM_ETOOBIG;
	if (r < 0)
		out->len = mark;
	return r;
}

static int parse_statement(struct tl_cur *c, struct kt_update *u)
{
	struct tl_line l;
	char canon[KT_ADDRESS_MAX];
	if (tl_next(c, &l) < 0 || !tl_is(&l, UPDATE_MAGIC))
		return SM_EPARSE;
	if (tl_take(c, "address ", &l) < 0 || tl_cstr(l, u->address, sizeof(u->address)) < 0 ||
	    kt_canonical_address(u->address, canon) < 0 || strcmp(canon, u->address) != 0)
		return SM_EPARSE;
	if (tl_take(c, "authority ", &l) < 0)
		return SM_EPARSE;
	if (tl_is(&l, "owner"))
		u->authority = KT_BY_OWNER;
	else if (tl_is(&l, "token"))
		u->authority = KT_BY_TOKEN;
	else
		return SM_EPARSE;
	if (tl_take(c, "version ", &l) < 0 || tl_u64(l, &u->version) < 0 || u->version == 0)
		return SM_EPARSE;
	if (tl_take(c, "previous ", &l) < 0)
		return SM_EPARSE;
	u->has_previous = !tl_is(&l, "none");
	if (u->has_previous && tl_b64(l, u->previous, KT_DIGEST_LEN) < 0)
		return SM_EPARSE;
	if ((u->version == 1) == (u->has_previous != 0) ||
	    (u->authority == KT_BY_OWNER && u->version == 1))
		return SM_EPARSE;
	if (tl_take(c, "key ", &l) < 0 || tl_b64(l, u->key, KT_DIGEST_LEN) < 0)
		return SM_EPARSE;
	return 0;
}

int kt_authorization_parse(const uint8_t *text, size_t len, struct kt_authorization *ret)
{
	struct kt_authorization a;
	struct tl_cur c = {text, len, 0};
	struct tl_line l;
	if (text == NULL || ret == NULL)
		return SM_EINVAL;
	if (len > KT_AUTH_MAX)
		return SM_ETOOBIG;
	memset(&a, 0, sizeof(a));
	if (parse_statement(&c, &a.update) < 0)
		return SM_EPARSE;
	a.statement = text;
	a.statement_len = c.off;
	if (tl_take(&c, "signature ", &l) < 0 ||
	    tl_b64_units(l, a.sig, 1, KT_SIG_MAX, &a.sig_len) < 0 || a.sig_len == 0 || c.off != len)
		return SM_EPARSE;
	*ret = a;
	return 0;
}

int kt_request_split(const uint8_t *text, size_t len, const uint8_t **ret_auth,
		     size_t *ret_auth_len, const uint8_t **ret_bundle, size_t *ret_bundle_len)
{
	if (text == NULL)
		return SM_EPARSE;
	size_t head = len < KT_AUTH_MAX + 1 ? len : KT_AUTH_MAX + 1;
	for (size_t i = 1; i < head; i++) {
		if (text[i] != '\n' || text[i - 1] != '\n')
			continue;
		if (i + 1 >= len)
			return SM_EPARSE;
		*ret_auth = text;
		*ret_auth_len = i;
		*ret_bundle = text + i + 1;
		*ret_bundle_len = len - i - 1;
		return 0;
	}
	return SM_EPARSE;
}

int kt_authorization_matches(const struct kt_authorization *a, const char *address,
			     uint64_t counter, const uint8_t *key, size_t key_len)
{
	uint8_t digest[KT_DIGEST_LEN];
	if (a == NULL || address == NULL || key == NULL)
		return SM_EINVAL;
	kt_key_digest(key, key_len, digest);
	if (strcmp(a->update.address, address) != 0 || a->update.version != counter ||
	    memcmp(a->update.key, digest, KT_DIGEST_LEN) != 0)
		return SM_ECRYPTO;
	return 0;
}
