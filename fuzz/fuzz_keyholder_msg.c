/* fuzz_keyholder_msg: kh_request_decode() and kh_reply_decode() on one
 * datagram from a peer of the key holder (a hostile client, or a key holder
 * that is not what it claims). The input is decoded both ways. Checked
 * besides memory safety:
 *   - each decoder returns 0 or SM_EPARSE, and leaves its output untouched
 *     on failure;
 *   - no input is both a request and a reply (the reply flag tells them
 *     apart);
 *   - whatever decodes obeys the documented limits (type, domain, each
 *     type's data lengths), borrows its data from the input, and encodes
 *     (into KH_MSG_MAX bytes) back to exactly the input; encoding into one
 *     byte less is SM_ETOOBIG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "keyholder_msg.h"
#include "vrf.h"

#define SENTINEL 0xa5

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int fuzz_request(const uint8_t *data, size_t size)
{
	struct kh_request rq, before;
	uint8_t out[KH_MSG_MAX];
	size_t n = 0;
	memset(&rq, SENTINEL, sizeof(rq));
	before = rq;
	int r = kh_request_decode(data, size, &rq);
	if (r != 0) {
		fuzz_check(r == SM_EPARSE, "request: error code");
		fuzz_check(memcmp(&rq, &before, sizeof(rq)) == 0, "request: output touched on failure");
		return r;
	}
	size_t dlen = strnlen(rq.domain, sizeof(rq.domain));
	fuzz_check(rq.type >= KH_PUBLIC && rq.type <= KH_SIGN_CHECKPOINT, "request: type");
	fuzz_check(dlen >= 1 && dlen <= KH_DOMAIN_MAX && dlen == data[5], "request: domain");
	fuzz_check(rq.data == data + 8 + dlen && 8 + dlen + rq.len == size, "request: data borrowed");
	fuzz_check(rq.type != KH_PUBLIC || rq.len == 0, "request: KH_PUBLIC data");
	fuzz_check(rq.type != KH_VRF_PROVE || (rq.len >= 3 && rq.len <= KH_ADDRESS_MAX),
		   "request: KH_VRF_PROVE data");
	fuzz_check(rq.type != KH_SIGN_CHECKPOINT || (rq.len >= 1 && rq.len <= KH_BODY_MAX),
		   "request: KH_SIGN_CHECKPOINT data");
	fuzz_check(kh_request_encode(&rq, out, sizeof(out), &n) == 0, "request: re-encode");
	fuzz_check(n == size && memcmp(out, data, size) == 0, "request: round trip");
	fuzz_check(kh_request_encode(&rq, out, size - 1, &n) == SM_ETOOBIG, "request: room");
	return 0;
}

static int fuzz_reply(const uint8_t *data, size_t size)
{
	struct kh_reply rp, before;
	uint8_t out[KH_MSG_MAX];
	size_t n = 0;
	memset(&rp, SENTINEL, sizeof(rp));
	before = rp;
	int r = kh_reply_decode(data, size, &rp);
	if (r != 0) {
		fuzz_check(r == SM_EPARSE, "reply: error code");
		fuzz_check(memcmp(&rp, &before, sizeof(rp)) == 0, "reply: output touched on failure");
		return r;
	}
	fuzz_check(rp.type >= KH_PUBLIC && rp.type <= KH_SIGN_CHECKPOINT, "reply: type");
	fuzz_check(rp.status == KH_OK || (rp.status == KH_REFUSED && rp.len == 0), "reply: status");
	fuzz_check(rp.status == KH_REFUSED || rp.type != KH_PUBLIC || rp.len > VRF_PK_LEN,
		   "reply: KH_PUBLIC data");
	fuzz_check(rp.status == KH_REFUSED || rp.type != KH_VRF_PROVE || rp.len == VRF_PROOF_LEN,
		   "reply: KH_VRF_PROVE data");
	fuzz_check(rp.status == KH_REFUSED || rp.len > 0, "reply: an OK reply carries data");
	fuzz_check(rp.len <= KH_DATA_MAX && 8 + rp.len == size, "reply: data length");
	fuzz_check(rp.len == 0 ? rp.data == NULL : rp.data == data + 8, "reply: data borrowed");
	fuzz_check(kh_reply_encode(&rp, out, sizeof(out), &n) == 0, "reply: re-encode");
	fuzz_check(n == size && memcmp(out, data, size) == 0, "reply: round trip");
	fuzz_check(kh_reply_encode(&rp, out, size - 1, &n) == SM_ETOOBIG, "reply: room");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rq = fuzz_request(data, size);
	int rp = fuzz_reply(data, size);
	fuzz_check(rq != 0 || rp != 0, "both a request and a reply");
	return 0;
}
