#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "pins.h"

static const struct pgp_fpr fa = {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
static const struct pgp_fpr fb = {"0123456789ABCDEF0123456789ABCDEF01234567"};

static int parse_str(const char *s, struct pins *p)
{
	return pins_parse((const uint8_t *)s, strlen(s), p);
}

static void parse_and_get(void)
{
	struct pins p;
	CHECK_INT(parse_str("luke@jedi.test " "0123456789ABCDEF0123456789ABCDEF01234567\n"
			    "lea@rebels.test AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", &p), 0);
	CHECK_INT((int)p.n, 2);
	CHECK(pins_get(&p, "luke@jedi.test") != NULL);
	CHECK_STR(pins_get(&p, "Luke@JEDI.test")->fpr[0].hex, fb.hex); /* same mailbox */
	CHECK_STR(pins_get(&p, "lea@rebels.test")->fpr[0].hex, fa.hex);
	CHECK(pins_get(&p, "han@smugglers.test") == NULL);
	CHECK(pins_get(&p, "not an address") == NULL);
	pins_free(&p);
	CHECK_INT(parse_str("", &p), 0);
	CHECK_INT((int)p.n, 0);
	pins_free(&p);
}

static void parse_rejects(void)
{
	static const char *bad[] = {
		"luke@jedi.test 0123456789ABCDEF0123456789ABCDEF01234567",   /* no newline */
		"luke@jedi.test 0123456789abcdef0123456789abcdef01234567\n", /* lowercase hex */
		"luke@jedi.test 0123\n",
		"Luke@jedi.test 0123456789ABCDEF0123456789ABCDEF01234567\n", /* not canonical */
		"luke 0123456789ABCDEF0123456789ABCDEF01234567\n",
		"\n",
		"luke@jedi.test  0123456789ABCDEF0123456789ABCDEF01234567\n",
		"luke@jedi.test 0123456789ABCDEF0123456789ABCDEF01234567\n"
		"luke@jedi.test 0123456789ABCDEF0123456789ABCDEF01234567\n", /* a line twice */
	};
	struct pins p = {(struct pin *)&p, 42};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse_str(bad[i], &p);
		if (r != SM_EPARSE)
			printf("# accepted case %zu\n", i);
		CHECK_INT(r, SM_EPARSE);
	}
	CHECK_INT((int)p.n, 42); /* untouched on failure */
}

static void set_and_format(void)
{
	struct pins p = {NULL, 0};
	struct buf b;
	buf_init(&b, 4096);
	CHECK_INT(pins_set(&p, "Luke@Jedi.Test", &fb, 1), 0);
	CHECK_INT(pins_set(&p, "lea@rebels.test", &fb, 1), 0);
	CHECK_INT(pins_set(&p, "lea@rebels.test", &fa, 1), 0); /* replaces */
	CHECK_INT((int)p.n, 2);
	CHECK_INT(pins_set(&p, "nonsense", &fa, 1), SM_EINVAL);
	struct pgp_fpr bad = {"XYZ"};
	CHECK_INT(pins_set(&p, "han@smugglers.test", &bad, 1), SM_EINVAL);
	CHECK_INT(pins_format(&p, &b), 0);
	CHECK_STR((char *)b.data, "lea@rebels.test AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
				  "luke@jedi.test 0123456789ABCDEF0123456789ABCDEF01234567\n");
	/* what format writes, parse reads back */
	struct pins q;
	CHECK_INT(pins_parse(b.data, b.len, &q), 0);
	CHECK_INT((int)q.n, 2);
	pins_free(&q);
	pins_free(&p);
	buf_free(&b);
}

/* An address with several keys (its owner's devices). */
static void key_sets(void)
{
	struct pins p = {NULL, 0}, q;
	struct buf b;
	struct pgp_fpr two[2] = {fb, fa}, nine[9], dup[2] = {fa, fa};
	buf_init(&b, 4096);
	CHECK_INT(pins_set(&p, "luke@jedi.test", two, 2), 0);
	const struct pin *pin = pins_get(&p, "luke@jedi.test");
	CHECK(pin != NULL && pin->n == 2);
	CHECK(pins_has(pin, &fa) && pins_has(pin, &fb));
	CHECK_STR(pin->fpr[0].hex, fb.hex); /* sorted */
	CHECK_INT(pins_format(&p, &b), 0);
	CHECK_STR((char *)b.data, "luke@jedi.test 0123456789ABCDEF0123456789ABCDEF01234567\n"
				  "luke@jedi.test AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
	CHECK_INT(pins_parse(b.data, b.len, &q), 0);
	CHECK_INT((int)q.n, 1);
	CHECK_INT((int)pins_get(&q, "luke@jedi.test")->n, 2);
	pins_free(&q);
	/* one key again replaces the set */
	CHECK_INT(pins_set(&p, "luke@jedi.test", &fa, 1), 0);
	CHECK_INT((int)pins_get(&p, "luke@jedi.test")->n, 1);
	CHECK(!pins_has(pins_get(&p, "luke@jedi.test"), &fb));
	CHECK(!pins_has(NULL, &fb));
	for (int i = 0; i < 9; i++)
		snprintf(nine[i].hex, sizeof(nine[i].hex), "%040d", i);
	CHECK_INT(pins_set(&p, "luke@jedi.test", nine, 9), SM_EINVAL);
	CHECK_INT(pins_set(&p, "luke@jedi.test", dup, 2), SM_EINVAL);
	CHECK_INT(pins_set(&p, "luke@jedi.test", nine, 0), SM_EINVAL);
	/* more than PINS_KEYS_MAX lines for one address do not parse */
	buf_reset(&b);
	for (int i = 0; i < 9; i++)
		CHECK_INT(buf_appendf(&b, "luke@jedi.test %s\n", nine[i].hex), 0);
	CHECK_INT(pins_parse(b.data, b.len, &q), SM_EPARSE);
	pins_free(&p);
	buf_free(&b);
}

static void save_and_load(void)
{
	char dir[] = "/tmp/sm-pins.XXXXXX";
	struct pins p = {NULL, 0}, q;
	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT(pins_load(dir, &q), 0); /* no file yet: no pins */
	CHECK_INT((int)q.n, 0);
	CHECK_INT(pins_set(&p, "luke@jedi.test", &fb, 1), 0);
	CHECK_INT(pins_save(dir, &p), 0);
	CHECK_INT(pins_load(dir, &q), 0);
	CHECK_STR(pins_get(&q, "luke@jedi.test")->fpr[0].hex, fb.hex);
	pins_free(&p);
	pins_free(&q);
	char path[64];
	snprintf(path, sizeof(path), "%s/%s", dir, PINS_FILE);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	RUN(parse_and_get);
	RUN(parse_rejects);
	RUN(set_and_format);
	RUN(key_sets);
	RUN(save_and_load);
	return check_done();
}
