/* test_kt_update: the owner's update statement, its authorization and the
 * publish request: exact bytes, one spelling, every field checked, and the
 * binding of an authorization to one version of one entry. */
#define _GNU_SOURCE
#include <string.h>

#include "check.h"
#include "kt_update.h"

#define ADDR "luke@jedi.test"
static const uint8_t bundle[] = "not really a certificate, but bytes";
static const uint8_t sig[] = {0x88, 0x75, 0x04, 0x00, 0x16, 0x08, 0x00, 0x1d};

static struct kt_update update(uint64_t version, enum kt_authority who)
{
	struct kt_update u;
	memset(&u, 0, sizeof(u));
	snprintf(u.address, sizeof(u.address), "%s", ADDR);
	u.authority = who;
	u.version = version;
	u.has_previous = version > 1;
	memset(u.previous, 0xaa, sizeof(u.previous));
	kt_key_digest(bundle, sizeof(bundle), u.key);
	return u;
}

/* The authorization text of u with sig. */
static void auth_of(const struct kt_update *u, struct buf *out)
{
	struct buf st;
	buf_init(&st, KT_AUTH_MAX);
	if (kt_update_format(u, &st) != 0 ||
	    kt_authorization_format(st.data, st.len, sig, sizeof(sig), out) != 0)
		abort();
	buf_free(&st);
}

static void statement_bytes(void)
{
	struct kt_update u = update(2, KT_BY_OWNER);
	struct buf b;
	buf_init(&b, KT_AUTH_MAX);
	CHECK_INT(kt_update_format(&u, &b), 0);
	CHECK_INT(buf_append(&b, "", 1), 0);
	CHECK_STR((const char *)b.data,
		  "sealmail-update/v1\naddress luke@jedi.test\nauthority owner\nversion 2\n"
		  "previous qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=\n"
		  "key INl48UojIzixkfI9LLoCGA5UUDrKrILw1qsxGKA66OY=\n");
	buf_free(&b);
}

static void statement_rejects(void)
{
	struct buf b;
	buf_init(&b, KT_AUTH_MAX);
	struct kt_update u = update(1, KT_BY_OWNER); /* an owner's change cannot be the first */
	CHECK_INT(kt_update_format(&u, &b), SM_EINVAL);
	u = update(0, KT_BY_TOKEN);
	CHECK_INT(kt_update_format(&u, &b), SM_EINVAL);
	u = update(2, KT_BY_TOKEN);
	u.has_previous = 0;
	CHECK_INT(kt_update_format(&u, &b), SM_EINVAL);
	u = update(2, KT_BY_TOKEN);
	snprintf(u.address, sizeof(u.address), "%s", "Luke@jedi.test"); /* not canonical */
	CHECK_INT(kt_update_format(&u, &b), SM_EINVAL);
	u = update(2, (enum kt_authority)7);
	CHECK_INT(kt_update_format(&u, &b), SM_EINVAL);
	CHECK_INT(b.len, 0);
	buf_free(&b);
}

static void roundtrip(void)
{
	struct kt_update u = update(7, KT_BY_TOKEN);
	struct kt_authorization a;
	struct buf b;
	buf_init(&b, KT_AUTH_MAX);
	auth_of(&u, &b);
	CHECK_INT(kt_authorization_parse(b.data, b.len, &a), 0);
	CHECK_STR(a.update.address, ADDR);
	CHECK_INT(a.update.authority, KT_BY_TOKEN);
	CHECK_INT(a.update.version, 7);
	CHECK_INT(a.update.has_previous, 1);
	CHECK(memcmp(a.update.previous, u.previous, KT_DIGEST_LEN) == 0);
	CHECK(memcmp(a.update.key, u.key, KT_DIGEST_LEN) == 0);
	CHECK_INT(a.sig_len, sizeof(sig));
	CHECK(memcmp(a.sig, sig, sizeof(sig)) == 0);
	/* the statement is what was signed: everything before the signature line */
	CHECK(a.statement == b.data);
	CHECK(memcmp(b.data + a.statement_len, "signature ", 10) == 0);
	u = update(1, KT_BY_TOKEN);
	buf_reset(&b);
	auth_of(&u, &b);
	CHECK_INT(kt_authorization_parse(b.data, b.len, &a), 0);
	CHECK_INT(a.update.has_previous, 0);
	CHECK(memmem(b.data, b.len, "previous none\n", 14) != NULL);
	buf_free(&b);
}

/* Replaces the first occurrence of from by to in the text of b, then parses. */
static int parse_edited(const struct buf *b, const char *from, const char *to)
{
	char text[KT_AUTH_MAX + 64];
	struct kt_authorization a;
	memcpy(text, b->data, b->len);
	text[b->len] = 0;
	char *at = strstr(text, from);
	if (at == NULL)
		abort();
	size_t fl = strlen(from), tl = strlen(to), tail = strlen(at + fl);
	memmove(at + tl, at + fl, tail + 1);
	memcpy(at, to, tl);
	return kt_authorization_parse((const uint8_t *)text, strlen(text), &a);
}

static void parse_strict(void)
{
	struct kt_update u = update(3, KT_BY_OWNER);
	struct buf b;
	struct kt_authorization a;
	buf_init(&b, KT_AUTH_MAX);
	auth_of(&u, &b);
	CHECK_INT(parse_edited(&b, "sealmail-update/v1", "sealmail-update/v2"), SM_EPARSE);
	CHECK_INT(parse_edited(&b, "address luke", "address Luke"), SM_EPARSE);
	CHECK_INT(parse_edited(&b, "authority owner", "authority admin"), SM_EPARSE);
	CHECK_INT(parse_edited(&b, "version 3", "version 03"), SM_EPARSE);
	CHECK_INT(parse_edited(&b, "version 3", "version 0"), SM_EPARSE);
	CHECK_INT(parse_edited(&b, "version 3", "version 1"), SM_EPARSE); /* previous must be none */
	CHECK_INT(parse_edited(&b, "previous qqq", "previous  qqq"), SM_EPARSE);
	CHECK_INT(parse_edited(&b, "previous qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo=", "previous none"),
		  SM_EPARSE); /* version 3 needs a previous */
	CHECK_INT(parse_edited(&b, "\nkey ", "\nkey  "), SM_EPARSE);
	CHECK_INT(parse_edited(&b, "signature ", "signature"), SM_EPARSE);
	CHECK_INT(parse_edited(&b, "signature ", "sig "), SM_EPARSE);
	CHECK_INT(parse_edited(&b, "\nversion", "\nextra 1\nversion"), SM_EPARSE);
	/* nothing may follow the signature line; the signature is not empty */
	CHECK_INT(buf_append(&b, "x", 1), 0);
	CHECK_INT(kt_authorization_parse(b.data, b.len, &a), SM_EPARSE);
	CHECK_INT(kt_authorization_parse(b.data, b.len - 2, &a), SM_EPARSE);
	CHECK_INT(kt_authorization_parse((const uint8_t *)"", 0, &a), SM_EPARSE);
	uint8_t big[KT_AUTH_MAX + 1];
	memset(big, 'a', sizeof(big));
	CHECK_INT(kt_authorization_parse(big, sizeof(big), &a), SM_ETOOBIG);
	buf_free(&b);
}

static void matches(void)
{
	struct kt_update u = update(4, KT_BY_OWNER);
	struct kt_authorization a;
	struct buf b;
	buf_init(&b, KT_AUTH_MAX);
	auth_of(&u, &b);
	CHECK_INT(kt_authorization_parse(b.data, b.len, &a), 0);
	CHECK_INT(kt_authorization_matches(&a, ADDR, 4, bundle, sizeof(bundle)), 0);
	CHECK_INT(kt_authorization_matches(&a, ADDR, 5, bundle, sizeof(bundle)), SM_ECRYPTO);
	CHECK_INT(kt_authorization_matches(&a, ADDR, 3, bundle, sizeof(bundle)), SM_ECRYPTO);
	CHECK_INT(kt_authorization_matches(&a, "leia@jedi.test", 4, bundle, sizeof(bundle)),
		  SM_ECRYPTO);
	CHECK_INT(kt_authorization_matches(&a, ADDR, 4, bundle, sizeof(bundle) - 1), SM_ECRYPTO);
	buf_free(&b);
}

static void request_split(void)
{
	struct kt_update u = update(2, KT_BY_OWNER);
	struct buf b;
	const uint8_t *auth = NULL, *cert = NULL;
	size_t auth_len = 0, cert_len = 0;
	struct kt_authorization a;
	buf_init(&b, 2 * KT_AUTH_MAX);
	auth_of(&u, &b);
	size_t head = b.len;
	CHECK_INT(buf_append(&b, "\n", 1), 0);
	/* no bundle yet */
	CHECK_INT(kt_request_split(b.data, b.len, &auth, &auth_len, &cert, &cert_len), SM_EPARSE);
	CHECK_INT(buf_append(&b, bundle, sizeof(bundle)), 0);
	CHECK_INT(kt_request_split(b.data, b.len, &auth, &auth_len, &cert, &cert_len), 0);
	CHECK_INT(auth_len, head);
	CHECK_INT(cert_len, sizeof(bundle));
	CHECK(memcmp(cert, bundle, sizeof(bundle)) == 0);
	CHECK_INT(kt_authorization_parse(auth, auth_len, &a), 0);
	/* a bundle that starts with a newline is still the bundle */
	CHECK_INT(kt_request_split((const uint8_t *)"a\n\n\nb", 5, &auth, &auth_len, &cert, &cert_len), 0);
	CHECK_INT(auth_len, 2);
	CHECK_INT(cert_len, 2);
	/* no empty line within the authorization's room: not a request */
	uint8_t flat[KT_AUTH_MAX + 10];
	memset(flat, 'a', sizeof(flat));
	flat[sizeof(flat) - 3] = '\n';
	flat[sizeof(flat) - 2] = '\n';
	CHECK_INT(kt_request_split(flat, sizeof(flat), &auth, &auth_len, &cert, &cert_len), SM_EPARSE);
	CHECK_INT(kt_request_split(NULL, 0, &auth, &auth_len, &cert, &cert_len), SM_EPARSE);
	buf_free(&b);
}

int main(void)
{
	RUN(statement_bytes);
	RUN(statement_rejects);
	RUN(roundtrip);
	RUN(parse_strict);
	RUN(matches);
	RUN(request_split);
	return check_done();
}
