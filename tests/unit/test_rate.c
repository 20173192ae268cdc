#include "check.h"
#include "rate.h"

static struct rate r;

static void burst_then_refill(void)
{
	unsigned wait = 0;
	rate_init(&r, 60, 5); /* one a second, five at once */
	for (int i = 0; i < 5; i++)
		CHECK_INT(rate_take(&r, "192.0.2.1", 100.0, NULL), 1);
	CHECK_INT(rate_take(&r, "192.0.2.1", 100.0, &wait), 0);
	CHECK_INT(wait, 1);
	CHECK_INT(rate_take(&r, "192.0.2.1", 100.5, NULL), 0);
	CHECK_INT(rate_take(&r, "192.0.2.1", 101.0, NULL), 1);
	CHECK_INT(rate_take(&r, "192.0.2.1", 101.0, NULL), 0);
	/* a long pause refills to the burst, never beyond */
	for (int i = 0; i < 5; i++)
		CHECK_INT(rate_take(&r, "192.0.2.1", 1000.0, NULL), 1);
	CHECK_INT(rate_take(&r, "192.0.2.1", 1000.0, NULL), 0);
}

static void clients_are_separate(void)
{
	rate_init(&r, 60, 1);
	CHECK_INT(rate_take(&r, "192.0.2.1", 0, NULL), 1);
	CHECK_INT(rate_take(&r, "192.0.2.1", 0, NULL), 0);
	CHECK_INT(rate_take(&r, "2001:db8::1", 0, NULL), 1);
	CHECK_INT(rate_take(&r, "192.0.2.2", 0, NULL), 1);
	CHECK_INT(rate_take(&r, "192.0.2.1", 0, NULL), 0);
}

/* 100,000 clients in a fixed table: nothing breaks, a client that keeps
 * asking keeps its (empty) bucket, and the waiting time stays right. */
static void many_clients_fixed_memory(void)
{
	char key[32];
	unsigned wait = 0;
	rate_init(&r, 6, 1); /* one every ten seconds */
	CHECK_INT(rate_take(&r, "203.0.113.9", 0, NULL), 1);
	for (int i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		CHECK(rate_take(&r, key, 1, NULL) == 1);
		if (i % 1000 == 0)
			CHECK_INT(rate_take(&r, "203.0.113.9", 1 + i / 1e6, &wait), 0);
	}
	CHECK(wait >= 1 && wait <= 10);
	CHECK_INT(rate_take(&r, "203.0.113.9", 20, NULL), 1);
}

static void long_keys_are_cut(void)
{
	char a[200], b[200];
	memset(a, 'a', sizeof(a) - 1);
	a[sizeof(a) - 1] = 0;
	memcpy(b, a, sizeof(b));
	b[150] = 'b'; /* differs only past RATE_KEY_MAX: the same client */
	rate_init(&r, 60, 1);
	CHECK_INT(rate_take(&r, a, 0, NULL), 1);
	CHECK_INT(rate_take(&r, b, 0, NULL), 0);
}

int main(void)
{
	RUN(burst_then_refill);
	RUN(clients_are_separate);
	RUN(many_clients_fixed_memory);
	RUN(long_keys_are_cut);
	return check_done();
}
