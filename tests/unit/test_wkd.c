#include "check.h"
#include "wkd.h"

static void hash_vectors(void)
{
	char h[WKD_HASH_LEN + 1];
	CHECK_INT(wkd_hash_local_part("luke", h), 0);
	CHECK_STR(h, "pc53ux1dyd1rjnpyonebrx3aemurd8pf");
	CHECK_INT(wkd_hash_local_part("Joe.Doe", h), 0);
	CHECK_STR(h, "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
	/* the hash lowercases; the same mailbox in any case gives the same hash */
	CHECK_INT(wkd_hash_local_part("LUKE", h), 0);
	CHECK_STR(h, "pc53ux1dyd1rjnpyonebrx3aemurd8pf");
}

static void hash_rejects(void)
{
	char h[WKD_HASH_LEN + 1] = "unchanged";
	CHECK_INT(wkd_hash_local_part("", h), SM_EINVAL);
	CHECK_INT(wkd_hash_local_part("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", h),
		  SM_EINVAL);
	CHECK_STR(h, "unchanged");
}

static void parse_canonical(void)
{
	struct wkd_address a;
	char s[400];
	CHECK_INT(wkd_address_parse("Joe.Doe@Example.ORG", &a), 0);
	CHECK_STR(a.local, "Joe.Doe");
	CHECK_STR(a.domain, "example.org");
	CHECK_INT(wkd_address_format(&a, s, sizeof(s)), 0);
	CHECK_STR(s, "Joe.Doe@example.org");
	CHECK_INT(wkd_address_format(&a, s, 5), SM_ETOOBIG);
	/* the last '@' separates, as the draft says */
	CHECK_INT(wkd_address_parse("a@b@jedi.test", &a), SM_EINVAL);
}

static void parse_rejects(void)
{
	static const char *bad[] = {
		"", "luke", "@jedi.test", "luke@", "luke@.jedi.test", "luke@jedi.test.",
		"luke@jedi..test", "lu ke@jedi.test", "luke@jedi test", "luke@-jedi.test",
		"luke@jedi-.test", "luke@jedi.test\n", "lu\x01ke@jedi.test", "<luke@jedi.test>",
		"luke@jedi_test.test", "\"luke\"@jedi.test",
	};
	struct wkd_address a;
	memset(&a, 'x', sizeof(a));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = wkd_address_parse(bad[i], &a);
		if (r != SM_EINVAL)
			printf("# accepted: \"%s\"\n", bad[i]);
		CHECK_INT(r, SM_EINVAL);
	}
	CHECK(a.local[0] == 'x'); /* untouched on failure */
	char longdom[300];
	memset(longdom, 'a', sizeof(longdom));
	memcpy(longdom, "l@", 2);
	longdom[sizeof(longdom) - 1] = 0;
	CHECK_INT(wkd_address_parse(longdom, &a), SM_EINVAL);
}

static void urls(void)
{
	struct wkd_address a;
	struct buf b;
	buf_init(&b, 4096);
	CHECK_INT(wkd_address_parse("luke@jedi.test", &a), 0);
	CHECK_INT(wkd_url_advanced(&a, &b), 0);
	CHECK_STR((char *)b.data, "https://openpgpkey.jedi.test/.well-known/openpgpkey/jedi.test/hu/"
				  "pc53ux1dyd1rjnpyonebrx3aemurd8pf?l=luke");
	buf_reset(&b);
	CHECK_INT(wkd_url_direct(&a, &b), 0);
	CHECK_STR((char *)b.data,
		  "https://jedi.test/.well-known/openpgpkey/hu/pc53ux1dyd1rjnpyonebrx3aemurd8pf?l=luke");
	buf_reset(&b);
	CHECK_INT(wkd_address_parse("a+b&c@jedi.test", &a), 0);
	CHECK_INT(wkd_url_direct(&a, &b), 0);
	CHECK(strstr((char *)b.data, "?l=a%2Bb%26c") != NULL);
	buf_free(&b);
	buf_init(&b, 10);
	CHECK_INT(wkd_url_direct(&a, &b), SM_ETOOBIG);
	buf_free(&b);
}

static void equality(void)
{
	struct wkd_address a, b;
	CHECK_INT(wkd_address_parse("Luke@JEDI.test", &a), 0);
	CHECK_INT(wkd_address_parse("luke@jedi.test", &b), 0);
	CHECK(wkd_address_equal(&a, &b));
	CHECK_INT(wkd_address_parse("luke2@jedi.test", &b), 0);
	CHECK(!wkd_address_equal(&a, &b));
}

int main(void)
{
	RUN(hash_vectors);
	RUN(hash_rejects);
	RUN(parse_canonical);
	RUN(parse_rejects);
	RUN(urls);
	RUN(equality);
	return check_done();
}
