/* keyholder_msg.c: the key holder's messages (keyholder_msg.h). */
#include <string.h>

#include "keyholder_msg.h"
#include "kt.h"
#include "num.h"
#include "vrf.h"

_Static_assert(KH_ADDRESS_MAX == KT_ADDRESS_MAX - 1, "a canonical address fits a request");

#define KH_REQUEST_HEAD (1 + 4 + 1)
#define KH_REPLY_HEAD (1 + 4 + 1 + 2)

/* A DNS name's characters, as sealmaild's configuration allows them. */
static int domain_ok(const char *d, size_t len)
{
	if (len == 0 || len > KH_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = d[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int request_data_ok(uint8_t type, size_t len)
{
	switch (type) {
	case KH_PUBLIC:
		return len == 0;
	case KH_VRF_PROVE:
		return len >= 3 && len <= KH_ADDRESS_MAX;
	case KH_SIGN_CHECKPOINT:
		return len >= 1 && len <= KH_BODY_MAX;
	default:
		return 0;
	}
}

static int reply_data_ok(uint8_t type, uint8_t status, size_t len)
{
	if (status == KH_REFUSED)
		return len == 0 && type >= KH_PUBLIC && type <= KH_SIGN_CHECKPOINT;
	if (status != KH_OK || len > KH_DATA_MAX)
		return 0;
	switch (type) {
	case KH_PUBLIC:
		return len > VRF_PK_LEN;
	case KH_VRF_PROVE:
		return len == VRF_PROOF_LEN;
	case KH_SIGN_CHECKPOINT:
		return len >= 1;
	default:
		return 0;
	}
}

int kh_request_encode(const struct kh_request *rq, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t dlen = strnlen(rq->domain, sizeof(rq->domain));
	if (!domain_ok(rq->domain, dlen) || !request_data_ok(rq->type, rq->len))
		return SM_EINVAL;
	size_t n = KH_REQUEST_HEAD + dlen + 2 + rq->len;
	if (n > cap)
		return SM_ETOOBIG;
	out[0] = rq->type;
	num_put_be(out + 1, rq->id, 4);
	out[5] = (uint8_t)dlen;
	memcpy(out + KH_REQUEST_HEAD, rq->domain, dlen);
	num_put_be(out + KH_REQUEST_HEAD + dlen, rq->len, 2);
	if (rq->len > 0)
		memcpy(out + KH_REQUEST_HEAD + dlen + 2, rq->data, rq->len);
	*ret_len = n;
	return 0;
}

int kh_request_decode(const uint8_t *msg, size_t len, struct kh_request *ret)
{
	if (len < KH_REQUEST_HEAD + 2 || len > KH_MSG_MAX)
		return SM_EPARSE;
	size_t dlen = msg[5];
	if (len < KH_REQUEST_HEAD + dlen + 2 || !domain_ok((const char *)msg + KH_REQUEST_HEAD, dlen))
		return SM_EPARSE;
	size_t datalen = num_get_be(msg + KH_REQUEST_HEAD + dlen, 2);
	if (len != KH_REQUEST_HEAD + dlen + 2 + datalen || !request_data_ok(msg[0], datalen))
		return SM_EPARSE;
	ret->type = msg[0];
	ret->id = (uint32_t)num_get_be(msg + 1, 4);
	memcpy(ret->domain, msg + KH_REQUEST_HEAD, dlen);
	ret->domain[dlen] = 0;
	ret->data = msg + KH_REQUEST_HEAD + dlen + 2;
	ret->len = datalen;
	return 0;
}

int kh_reply_encode(const struct kh_reply *rp, uint8_t *out, size_t cap, size_t *ret_len)
{
	if (!reply_data_ok(rp->type, rp->status, rp->len))
		return SM_EINVAL;
	size_t n = KH_REPLY_HEAD + rp->len;
	if (n > cap)
		return SM_ETOOBIG;
	out[0] = rp->type | KH_REPLY_FLAG;
	num_put_be(out + 1, rp->id, 4);
	out[5] = rp->status;
	num_put_be(out + 6, rp->len, 2);
	if (rp->len > 0)
		memcpy(out + KH_REPLY_HEAD, rp->data, rp->len);
	*ret_len = n;
	return 0;
}

int kh_reply_decode(const uint8_t *msg, size_t len, struct kh_reply *ret)
{
	if (len < KH_REPLY_HEAD || len > KH_MSG_MAX || !(msg[0] & KH_REPLY_FLAG))
		return SM_EPARSE;
	uint8_t type = msg[0] & (uint8_t)~KH_REPLY_FLAG;
	size_t datalen = num_get_be(msg + 6, 2);
	if (len != KH_REPLY_HEAD + datalen || !reply_data_ok(type, msg[5], datalen))
		return SM_EPARSE;
	ret->type = type;
	ret->id = (uint32_t)num_get_be(msg + 1, 4);
	ret->status = msg[5];
	ret->data = datalen > 0 ? msg + KH_REPLY_HEAD : NULL;
	ret->len = datalen;
	return 0;
}
