/* test_delivery_msg: the MX process's delivery requests and the writer's
 * replies: their exact bytes, the limits, and every way a header, a
 * recipient list or a reply fails to decode (leaving outputs untouched). */
#include <stdint.h>

#include "check.h"
#include "delivery_msg.h"
#include "smtp_session.h"

static const struct dlv_limits limits = {3, 1000};

/* The recipients seen by dlv_rcpts_walk, joined by ','. */
struct seen {
	char all[4 * (DLV_ADDRESS_MAX + 1)];
	int stop_at; /* return 7 at this call (1-based), 0: never */
	int calls;
};

static int collect(void *arg, const char *address)
{
	struct seen *s = arg;
	size_t n = strlen(s->all);
	snprintf(s->all + n, sizeof(s->all) - n, "%s%s", n ? "," : "", address);
	return ++s->calls == s->stop_at ? 7 : 0;
}

static struct buf encode(const char *const *rcpts, size_t n, size_t data_len)
{
	struct buf b;
	buf_init(&b, 4096);
	CHECK_INT(dlv_request_encode(0x01020304, rcpts, n, data_len, &b), 0);
	return b;
}

static void request_bytes(void)
{
	const char *rcpts[] = {"luke@jedi.test", "key-submission@jedi.test"};
	struct buf b = encode(rcpts, 2, 300);
	static const uint8_t head[DLV_HEADER_LEN] = {
		DLV_DELIVER, 1, 2, 3, 4, 0, 0, 0, 2, 0, 0, 0, 2 + 14 + 2 + 24, 0, 0, 1, 44,
	};
	CHECK_INT(b.len, DLV_HEADER_LEN + 2 + 14 + 2 + 24);
	CHECK(memcmp(b.data, head, sizeof(head)) == 0);
	CHECK(memcmp(b.data + DLV_HEADER_LEN, "\0\016luke@jedi.test\0\030key-submission@", 33) == 0);
	struct dlv_header h;
	CHECK_INT(dlv_header_decode(b.data, &limits, &h), 0);
	CHECK_INT(h.id, 0x01020304);
	CHECK_INT(h.nrcpts, 2);
	CHECK_INT(h.rcpts_len, 42);
	CHECK_INT(h.data_len, 300);
	struct seen s = {"", 0, 0};
	CHECK_INT(dlv_rcpts_walk(&h, b.data + DLV_HEADER_LEN, collect, &s), 0);
	CHECK_STR(s.all, "luke@jedi.test,key-submission@jedi.test");
	buf_free(&b);
}

static void encode_refusals(void)
{
	struct buf b;
	buf_init(&b, 4096);
	const char *bad[] = {"", "nobody", "@jedi.test", "luke@", "a@b@c", NULL};
	for (size_t i = 0; bad[i] != NULL; i++)
		CHECK_INT(dlv_request_encode(1, &bad[i], 1, 0, &b), SM_EINVAL);
	const char *good[] = {"a@b"};
	CHECK_INT(dlv_request_encode(1, good, 0, 0, &b), SM_EINVAL);
	char longest[DLV_ADDRESS_MAX + 2];
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = 0;
	longest[10] = '@';
	const char *over[] = {longest};
	CHECK_INT(dlv_request_encode(1, over, 1, 0, &b), SM_EINVAL);
	longest[DLV_ADDRESS_MAX] = 0;
	CHECK_INT(dlv_request_encode(1, over, 1, 0, &b), 0);
	CHECK_INT(b.len, DLV_HEADER_LEN + 2 + DLV_ADDRESS_MAX);
	buf_free(&b);
	struct buf small;
	buf_init(&small, DLV_HEADER_LEN + 3);
	CHECK_INT(dlv_request_encode(1, good, 1, 0, &small), SM_ETOOBIG);
	buf_free(&small);
}

/* A header with the given fields decodes to ret (0) or fails. */
static int header(uint8_t type, uint32_t n, uint32_t rlen, uint32_t dlen, struct dlv_header *ret)
{
	const char *one[] = {"a@b"};
	struct buf b = encode(one, 1, 0);
	uint8_t *copy = malloc(DLV_HEADER_LEN);
	if (copy == NULL)
		abort();
	memcpy(copy, b.data, DLV_HEADER_LEN);
	copy[0] = type;
	for (int i = 0; i < 4; i++) {
		copy[5 + i] = (uint8_t)(n >> (24 - 8 * i));
		copy[9 + i] = (uint8_t)(rlen >> (24 - 8 * i));
		copy[13 + i] = (uint8_t)(dlen >> (24 - 8 * i));
	}
	int r = dlv_header_decode(copy, &limits, ret);
	free(copy);
	buf_free(&b);
	return r;
}

static void header_limits(void)
{
	struct dlv_header h, before;
	memset(&h, 0xa5, sizeof(h));
	before = h;
	CHECK_INT(header(DLV_DELIVER, 1, 5, 1000, &h), 0);
	CHECK_INT(h.data_len, 1000);
	h = before;
	CHECK_INT(header(DLV_DELIVER, 3, 3 * (2 + DLV_ADDRESS_MAX), 0, &h), 0);
	h = before;
	CHECK_INT(header(DLV_RESULT, 1, 5, 0, &h), SM_EPARSE);
	CHECK_INT(header(0, 1, 5, 0, &h), SM_EPARSE);
	CHECK_INT(header(DLV_DELIVER, 0, 0, 0, &h), SM_EPARSE);
	CHECK_INT(header(DLV_DELIVER, 4, 20, 0, &h), SM_EPARSE);       /* over max_rcpts */
	CHECK_INT(header(DLV_DELIVER, 1, 5, 1001, &h), SM_EPARSE);     /* over max_data */
	CHECK_INT(header(DLV_DELIVER, 2, 9, 0, &h), SM_EPARSE);        /* too short for 2 */
	CHECK_INT(header(DLV_DELIVER, 1, 3 + DLV_ADDRESS_MAX, 0, &h), SM_EPARSE); /* too long for 1 */
	CHECK_INT(header(DLV_DELIVER, 0xffffffffu, 0xffffffffu, 0, &h), SM_EPARSE);
	CHECK(memcmp(&h, &before, sizeof(h)) == 0);
}

/* Walks the recipients section p[0..len) declared as n recipients. */
static int walk(const void *p, size_t len, uint32_t n, struct seen *s)
{
	struct dlv_header h = {1, n, (uint32_t)len, 0};
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, p, len);
	int r = dlv_rcpts_walk(&h, copy, collect, s);
	free(copy);
	return r;
}

static void rcpts_strict(void)
{
	struct seen s = {"", 0, 0};
	CHECK_INT(walk("\0\3a@b\0\3c@d", 10, 2, &s), 0);
	CHECK_STR(s.all, "a@b,c@d");
	struct {
		const char *p;
		size_t len;
		uint32_t n;
	} bad[] = {
		{"\0\3a@b\0\3c@d", 10, 1},   /* bytes left over */
		{"\0\3a@b\0\3c@d", 10, 3},   /* fewer than declared */
		{"\0\3a@b\0\3c@", 9, 2},     /* the last one cut short */
		{"\0\4a@b\0", 6, 1},         /* a NUL inside */
		{"\0\3abc", 5, 1},           /* no '@' */
		{"\0\5a@b@c", 7, 1},         /* two */
		{"\0\3@ab", 5, 1},           /* nothing before it */
		{"\0\3ab@", 5, 1},           /* nothing after it */
		{"\0\2a@", 4, 1},            /* too short */
		{"\0", 1, 1},                /* no room for a length */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen none = {"", 0, 0};
		CHECK_INT(walk(bad[i].p, bad[i].len, bad[i].n, &none), SM_EPARSE);
		CHECK_INT(none.calls, 0); /* nothing is seen before the whole list checks out */
	}
}

static void rcpts_callback_stops(void)
{
	struct seen s = {"", 2, 0};
	CHECK_INT(walk("\0\3a@b\0\3c@d\0\3e@f", 15, 3, &s), 7);
	CHECK_STR(s.all, "a@b,c@d");
}

static void replies(void)
{
	uint8_t m[DLV_REPLY_LEN];
	uint32_t id = 9;
	uint8_t result = 9;
	dlv_reply_encode(0xa1b2c3d4, SMTP_DELIVER_NOSPACE, m);
	static const uint8_t want[] = {DLV_RESULT, 0xa1, 0xb2, 0xc3, 0xd4, SMTP_DELIVER_NOSPACE};
	CHECK(memcmp(m, want, sizeof(want)) == 0);
	CHECK_INT(dlv_reply_decode(m, &id, &result), 0);
	CHECK_INT(id, 0xa1b2c3d4);
	CHECK_INT(result, SMTP_DELIVER_NOSPACE);
	const uint8_t ok_results[] = {SMTP_DELIVER_OK, SMTP_DELIVER_TEMPFAIL};
	for (size_t i = 0; i < sizeof(ok_results); i++) {
		dlv_reply_encode(1, ok_results[i], m);
		CHECK_INT(dlv_reply_decode(m, &id, &result), 0);
		CHECK_INT(result, ok_results[i]);
	}
	/* what the MX must never be told: refused for good, still pending */
	const uint8_t never[] = {SMTP_DELIVER_REJECT, SMTP_DELIVER_PENDING, 0xff};
	for (size_t i = 0; i < sizeof(never); i++) {
		dlv_reply_encode(1, never[i], m);
		id = 5;
		result = 5;
		CHECK_INT(dlv_reply_decode(m, &id, &result), SM_EPARSE);
		CHECK(id == 5 && result == 5);
	}
	dlv_reply_encode(1, SMTP_DELIVER_OK, m);
	m[0] = DLV_DELIVER;
	CHECK_INT(dlv_reply_decode(m, &id, &result), SM_EPARSE);
}

int main(void)
{
	RUN(request_bytes);
	RUN(encode_refusals);
	RUN(header_limits);
	RUN(rcpts_strict);
	RUN(rcpts_callback_stops);
	RUN(replies);
	return check_done();
}
