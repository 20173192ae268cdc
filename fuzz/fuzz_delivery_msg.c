/* fuzz_delivery_msg: what the main process reads from the MX process (a
 * delivery request's header and recipients) and what the MX reads back (a
 * reply), as a compromised peer would send them. Checked besides memory
 * safety:
 *   - decoders return 0 or SM_EPARSE and leave their output untouched on
 *     failure; the recipient walk calls back only once the whole list
 *     checked out;
 *   - a header that decodes obeys the limits, and its recipients, when
 *     they decode, encode back to exactly the input's header and list;
 *   - a reply that decodes carries OK, TEMPFAIL or NOSPACE and encodes
 *     back to the input. */
#include <string.h>

#include "delivery_msg.h"
#include "fuzz.h"
#include "smtp_session.h"

#define MAX_RCPTS 8

static const struct dlv_limits limits = {MAX_RCPTS, 1u << 20};

struct rcpts {
	char addr[MAX_RCPTS][DLV_ADDRESS_MAX + 1];
	const char *ptr[MAX_RCPTS];
	size_t n;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int keep(void *arg, const char *address)
{
	struct rcpts *r = arg;
	fuzz_check(r->n < MAX_RCPTS, "walk: more recipients than declared");
	size_t len = strlen(address);
	fuzz_check(len >= 3 && len <= DLV_ADDRESS_MAX && strchr(address, '@') != NULL, "walk: address");
	memcpy(r->addr[r->n], address, len + 1);
	r->ptr[r->n] = r->addr[r->n];
	r->n++;
	return 0;
}

static void fuzz_request(const uint8_t *data, size_t size)
{
	struct dlv_header h, before;
	memset(&h, 0xa5, sizeof(h));
	before = h;
	if (size < DLV_HEADER_LEN)
		return;
	int r = dlv_header_decode(data, &limits, &h);
	if (r != 0) {
		fuzz_check(r == SM_EPARSE, "header: error code");
		fuzz_check(memcmp(&h, &before, sizeof(h)) == 0, "header: output touched on failure");
		return;
	}
	fuzz_check(h.nrcpts >= 1 && h.nrcpts <= MAX_RCPTS && h.data_len <= limits.max_data, "header: limits");
	if (size - DLV_HEADER_LEN < h.rcpts_len)
		return;
	static struct rcpts got;
	got.n = 0;
	r = dlv_rcpts_walk(&h, data + DLV_HEADER_LEN, keep, &got);
	fuzz_check(r == 0 || (r == SM_EPARSE && got.n == 0), "walk: result");
	if (r != 0)
		return;
	fuzz_check(got.n == h.nrcpts, "walk: count");
	struct buf b;
	buf_init(&b, DLV_HEADER_LEN + h.rcpts_len);
	fuzz_check(dlv_request_encode(h.id, got.ptr, got.n, h.data_len, &b) == 0, "request: re-encode");
	fuzz_check(b.len == DLV_HEADER_LEN + h.rcpts_len && memcmp(b.data, data, b.len) == 0,
		   "request: round trip");
	buf_free(&b);
}

static void fuzz_reply(const uint8_t *data, size_t size)
{
	uint32_t id = 77;
	uint8_t result = 77, again[DLV_REPLY_LEN];
	if (size < DLV_REPLY_LEN)
		return;
	if (dlv_reply_decode(data, &id, &result) != 0) {
		fuzz_check(id == 77 && result == 77, "reply: output touched on failure");
		return;
	}
	fuzz_check(result == SMTP_DELIVER_OK || result == SMTP_DELIVER_TEMPFAIL ||
			   result == SMTP_DELIVER_NOSPACE, "reply: result");
	dlv_reply_encode(id, result, again);
	fuzz_check(memcmp(again, data, DLV_REPLY_LEN) == 0, "reply: round trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request(data, size);
	fuzz_reply(data, size);
	return 0;
}
