#include "buf.h"
#include "check.h"

static void bounded_append(void)
{
	struct buf b;
	buf_init(&b, 8);
	CHECK_INT(buf_append(&b, "12345", 5), 0);
	CHECK_INT(buf_append(&b, "6789", 4), SM_ETOOBIG);
	CHECK_INT((int)b.len, 5); /* a refused append changes nothing */
	CHECK_STR((char *)b.data, "12345");
	CHECK_INT(buf_append(&b, "678", 3), 0);
	CHECK_INT(buf_append(&b, "", 0), 0);
	CHECK_INT(buf_append(&b, "9", 1), SM_ETOOBIG);
	CHECK_STR((char *)b.data, "12345678");
	buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.max == 8);
	buf_free(NULL);
}

static void formatted(void)
{
	struct buf b;
	buf_init(&b, 16);
	CHECK_INT(buf_appendf(&b, "%s-%d", "ab", 42), 0);
	CHECK_STR((char *)b.data, "ab-42");
	CHECK_INT(buf_appendf(&b, "%020d", 1), SM_ETOOBIG);
	CHECK_STR((char *)b.data, "ab-42");
	buf_reset(&b);
	CHECK_INT((int)b.len, 0);
	CHECK_INT(buf_append_str(&b, "x"), 0);
	size_t n;
	uint8_t *p = buf_steal(&b, &n);
	CHECK(p != NULL && n == 1 && p[0] == 'x');
	CHECK(b.data == NULL);
	free(p);
}

static void growth(void)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < 1000; i++)
		CHECK_INT(buf_append(&b, "0123456789", 10), 0);
	CHECK_INT((int)b.len, 10000);
	CHECK(memcmp(b.data + 9990, "0123456789", 10) == 0);
	buf_free(&b);
}

static void truncate(void)
{
	struct buf b;
	buf_init(&b, 64);
	buf_truncate(&b, 0); /* nothing held yet */
	CHECK_INT(buf_append_str(&b, "hello world"), 0);
	buf_truncate(&b, 20); /* longer than the contents: no change */
	CHECK_INT((int)b.len, 11);
	buf_truncate(&b, 5);
	CHECK_INT((int)b.len, 5);
	CHECK_STR((char *)b.data, "hello");
	CHECK(b.data[6] == 0 && b.data[10] == 0); /* the rest is wiped */
	CHECK_INT(buf_append_str(&b, "!"), 0);
	CHECK_STR((char *)b.data, "hello!");
	buf_free(&b);
}

int main(void)
{
	RUN(bounded_append);
	RUN(formatted);
	RUN(growth);
	RUN(truncate);
	return check_done();
}
