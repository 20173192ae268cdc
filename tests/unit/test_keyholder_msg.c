/* test_keyholder_msg: the key holder's messages, their exact bytes, and
 * every way a message can fail to decode (or to encode), each leaving the
 * decoded struct as it was. Every decode reads from an exactly-sized heap
 * copy, so a sanitizer sees any read past the end of a message. */
#include <stdint.h>

#include "check.h"
#include "keyholder_msg.h"
#include "vrf.h"

#define DOMAIN "example.org"
#define ADDRESS "alice@example.org"
#define BODY "example.org/sealmail-kt\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
#define SENTINEL 0xa5

/* Bytes of every size a test needs, none of them a valid anything. */
static uint8_t filler[KH_MSG_MAX + 16];

static void filler_init(void)
{
	for (size_t i = 0; i < sizeof(filler); i++)
		filler[i] = (uint8_t)(i * 7 + 1);
}

static struct kh_request request(uint8_t type, uint32_t id, const char *domain,
				 const void *data, size_t len)
{
	struct kh_request rq;
	memset(&rq, 0, sizeof(rq));
	rq.type = type;
	rq.id = id;
	snprintf(rq.domain, sizeof(rq.domain), "%s", domain);
	rq.data = data;
	rq.len = len;
	return rq;
}

static struct kh_reply reply(uint8_t type, uint32_t id, uint8_t status, const void *data,
			     size_t len)
{
	struct kh_reply rp;
	memset(&rp, 0, sizeof(rp));
	rp.type = type;
	rp.id = id;
	rp.status = status;
	rp.data = data;
	rp.len = len;
	return rp;
}

/* Decodes an exactly-sized copy of msg[0..len) as a request (try_request)
 * or a reply (try_reply) and returns the result; on failure the struct
 * must still hold the sentinel. The copy is freed, so only the result is
 * used: the round trips below look at the decoded fields. */
static int try_request(const uint8_t *msg, size_t len)
{
	struct kh_request rq, before;
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		abort();
	if (len > 0)
		memcpy(copy, msg, len);
	memset(&rq, SENTINEL, sizeof(rq));
	before = rq;
	int r = kh_request_decode(copy, len, &rq);
	if (r != 0)
		CHECK(memcmp(&rq, &before, sizeof(rq)) == 0);
	free(copy);
	return r;
}

static int try_reply(const uint8_t *msg, size_t len)
{
	struct kh_reply rp, before;
	uint8_t *copy = malloc(len ? len : 1);
	if (copy == NULL)
		abort();
	if (len > 0)
		memcpy(copy, msg, len);
	memset(&rp, SENTINEL, sizeof(rp));
	before = rp;
	int r = kh_reply_decode(copy, len, &rp);
	if (r != 0)
		CHECK(memcmp(&rp, &before, sizeof(rp)) == 0);
	free(copy);
	return r;
}

/* A request built by hand, so that any field may be wrong: type, then the
 * domain length byte and dlen domain bytes, the declared data length, and
 * len data bytes (from filler). Returns the message's length. */
static size_t raw_request(uint8_t *out, uint8_t type, const char *dom, size_t dlen,
			  uint16_t declared, size_t len)
{
	out[0] = type;
	memcpy(out + 1, "\x00\x00\x00\x2a", 4);
	out[5] = (uint8_t)dlen;
	memcpy(out + 6, dom, dlen);
	out[6 + dlen] = (uint8_t)(declared >> 8);
	out[7 + dlen] = (uint8_t)declared;
	memcpy(out + 8 + dlen, filler, len);
	return 8 + dlen + len;
}

/* A request with a correct length field and len data bytes. */
static size_t data_request(uint8_t *out, uint8_t type, size_t len)
{
	return raw_request(out, type, DOMAIN, strlen(DOMAIN), (uint16_t)len, len);
}

static size_t raw_reply(uint8_t *out, uint8_t type, uint8_t status, uint16_t declared, size_t len)
{
	out[0] = type;
	memcpy(out + 1, "\x00\x00\x00\x2a", 4);
	out[5] = status;
	out[6] = (uint8_t)(declared >> 8);
	out[7] = (uint8_t)declared;
	memcpy(out + 8, filler, len);
	return 8 + len;
}

static size_t data_reply(uint8_t *out, uint8_t type, uint8_t status, size_t len)
{
	return raw_reply(out, type | KH_REPLY_FLAG, status, (uint16_t)len, len);
}

/* Encodes rq, decodes the bytes, and compares every field. */
static void request_round_trip(const struct kh_request *rq)
{
	uint8_t msg[KH_MSG_MAX];
	struct kh_request got;
	size_t n = 0, dlen = strlen(rq->domain);
	CHECK_INT(kh_request_encode(rq, msg, sizeof(msg), &n), 0);
	CHECK_INT(n, 1 + 4 + 1 + dlen + 2 + rq->len);
	memset(&got, SENTINEL, sizeof(got));
	CHECK_INT(kh_request_decode(msg, n, &got), 0);
	CHECK_INT(got.type, rq->type);
	CHECK_INT(got.id, rq->id);
	CHECK_STR(got.domain, rq->domain);
	CHECK_INT(got.len, rq->len);
	CHECK(got.data == msg + 8 + dlen); /* borrowed from the message */
	CHECK(rq->len == 0 || memcmp(got.data, rq->data, rq->len) == 0);
	CHECK_INT(try_reply(msg, n), SM_EPARSE);
}

static void reply_round_trip(const struct kh_reply *rp)
{
	uint8_t msg[KH_MSG_MAX];
	struct kh_reply got;
	size_t n = 0;
	CHECK_INT(kh_reply_encode(rp, msg, sizeof(msg), &n), 0);
	CHECK_INT(n, 8 + rp->len);
	memset(&got, SENTINEL, sizeof(got));
	CHECK_INT(kh_reply_decode(msg, n, &got), 0);
	CHECK_INT(got.type, rp->type);
	CHECK_INT(got.id, rp->id);
	CHECK_INT(got.status, rp->status);
	CHECK_INT(got.len, rp->len);
	if (rp->len == 0)
		CHECK(got.data == NULL);
	else
		CHECK(got.data == msg + 8 && memcmp(got.data, rp->data, rp->len) == 0);
	CHECK_INT(try_request(msg, n), SM_EPARSE);
}

static void requests_round_trip(void)
{
	struct kh_request rq = request(KH_PUBLIC, 0, DOMAIN, NULL, 0);
	request_round_trip(&rq);
	rq = request(KH_PUBLIC, UINT32_MAX, "a", "", 0);
	request_round_trip(&rq);
	rq = request(KH_VRF_PROVE, 0x80000001u, DOMAIN, ADDRESS, strlen(ADDRESS));
	request_round_trip(&rq);
	rq = request(KH_VRF_PROVE, 7, "0-9.a-z", "a@b", 3);
	request_round_trip(&rq);
	rq = request(KH_SIGN_CHECKPOINT, 12345, DOMAIN, BODY, strlen(BODY));
	request_round_trip(&rq);
	rq = request(KH_SIGN_CHECKPOINT, 1, DOMAIN, filler, KH_BODY_MAX);
	request_round_trip(&rq);
}

static void replies_round_trip(void)
{
	uint8_t pub[VRF_PK_LEN + 64];
	memset(pub, 0x5c, VRF_PK_LEN);
	memcpy(pub + VRF_PK_LEN, "example.org/sealmail-kt+01234567+AQID", 37);
	struct kh_reply rp = reply(KH_PUBLIC, 1, KH_OK, pub, VRF_PK_LEN + 37);
	reply_round_trip(&rp);
	rp = reply(KH_PUBLIC, 2, KH_OK, pub, VRF_PK_LEN + 1);
	reply_round_trip(&rp);
	rp = reply(KH_VRF_PROVE, UINT32_MAX, KH_OK, filler, VRF_PROOF_LEN);
	reply_round_trip(&rp);
	rp = reply(KH_SIGN_CHECKPOINT, 0, KH_OK, BODY "\n\xe2\x80\x94 sig\n", strlen(BODY) + 9);
	reply_round_trip(&rp);
	rp = reply(KH_SIGN_CHECKPOINT, 3, KH_OK, filler, KH_DATA_MAX);
	reply_round_trip(&rp);
	for (uint8_t t = KH_PUBLIC; t <= KH_SIGN_CHECKPOINT; t++) {
		rp = reply(t, 0x01020304u * t, KH_REFUSED, NULL, 0);
		reply_round_trip(&rp);
	}
}

/* The documented layout, byte by byte: a request whose id has its top bit
 * set and whose data length needs both bytes, and two replies. */
static void layout(void)
{
	static const uint8_t want_rq[] = {
		0x02,                   /* KH_VRF_PROVE */
		0xa1, 0xb2, 0xc3, 0xd4, /* id, big-endian */
		0x04, 'e', 'x', '.', 'o', /* domain */
		0x00, 0x05, 'a', '@', 'e', 'x', '.',
	};
	static const uint8_t want_ok[] = {
		0x83,                   /* KH_SIGN_CHECKPOINT | KH_REPLY_FLAG */
		0x01, 0x02, 0x03, 0x04, /* id */
		0x00,                   /* KH_OK */
		0x00, 0x03, 'x', '\n', 'y',
	};
	static const uint8_t want_refused[] = {0x82, 0xff, 0xff, 0xff, 0xfe, 0x01, 0x00, 0x00};
	uint8_t msg[KH_MSG_MAX];
	size_t n = 0;
	struct kh_request rq = request(KH_VRF_PROVE, 0xa1b2c3d4u, "ex.o", "a@ex.", 5);
	CHECK_INT(kh_request_encode(&rq, msg, sizeof(msg), &n), 0);
	CHECK_INT(n, sizeof(want_rq));
	for (size_t i = 0; i < sizeof(want_rq) && i < n; i++)
		CHECK_INT(msg[i], want_rq[i]);
	struct kh_reply rp = reply(KH_SIGN_CHECKPOINT, 0x01020304u, KH_OK, "x\ny", 3);
	CHECK_INT(kh_reply_encode(&rp, msg, sizeof(msg), &n), 0);
	CHECK_INT(n, sizeof(want_ok));
	for (size_t i = 0; i < sizeof(want_ok) && i < n; i++)
		CHECK_INT(msg[i], want_ok[i]);
	rp = reply(KH_VRF_PROVE, 0xfffffffeu, KH_REFUSED, NULL, 0);
	CHECK_INT(kh_reply_encode(&rp, msg, sizeof(msg), &n), 0);
	CHECK_INT(n, sizeof(want_refused));
	CHECK(n == sizeof(want_refused) && memcmp(msg, want_refused, n) == 0);
	/* a data length over 255: 300 = 0x012c */
	rq = request(KH_SIGN_CHECKPOINT, 0, "a", filler, 300);
	CHECK_INT(kh_request_encode(&rq, msg, sizeof(msg), &n), 0);
	CHECK_INT(n, 9 + 300);
	CHECK(msg[5] == 1 && msg[6] == 'a' && msg[7] == 0x01 && msg[8] == 0x2c);
	rp = reply(KH_SIGN_CHECKPOINT, 0, KH_OK, filler, 300);
	CHECK_INT(kh_reply_encode(&rp, msg, sizeof(msg), &n), 0);
	CHECK(n == 308 && msg[6] == 0x01 && msg[7] == 0x2c);
}

/* Too short, too long, and lengths that do not add up. */
static void request_framing(void)
{
	uint8_t m[KH_MSG_MAX + 16];
	size_t dl = strlen(DOMAIN), n = data_request(m, KH_SIGN_CHECKPOINT, 10);
	CHECK_INT(try_request(m, n), 0);
	CHECK_INT(kh_request_decode(NULL, 0, &(struct kh_request){0}), SM_EPARSE);
	for (size_t k = 0; k < 8; k++)
		CHECK_INT(try_request(m, k), SM_EPARSE);
	/* one byte more or less than the data length says, either way round */
	CHECK_INT(try_request(m, n + 1), SM_EPARSE);
	CHECK_INT(try_request(m, n - 1), SM_EPARSE);
	n = raw_request(m, KH_SIGN_CHECKPOINT, DOMAIN, dl, 11, 10);
	CHECK_INT(try_request(m, n), SM_EPARSE);
	n = raw_request(m, KH_SIGN_CHECKPOINT, DOMAIN, dl, 9, 10);
	CHECK_INT(try_request(m, n), SM_EPARSE);
	n = raw_request(m, KH_SIGN_CHECKPOINT, DOMAIN, dl, 0xffff, 10);
	CHECK_INT(try_request(m, n), SM_EPARSE);
	/* a domain length past the end of the message */
	n = raw_request(m, KH_PUBLIC, "abc", 3, 0, 0);
	m[5] = 4;
	CHECK_INT(try_request(m, n), SM_EPARSE);
	m[5] = 255;
	CHECK_INT(try_request(m, n), SM_EPARSE);
	/* over KH_MSG_MAX, with lengths that add up, and at it */
	char dom[KH_DOMAIN_MAX];
	memset(dom, 'a', sizeof(dom));
	n = raw_request(m, KH_SIGN_CHECKPOINT, dom, KH_DOMAIN_MAX,
			KH_MSG_MAX + 1 - 6 - KH_DOMAIN_MAX - 2, KH_MSG_MAX + 1 - 6 - KH_DOMAIN_MAX - 2);
	CHECK_INT(n, KH_MSG_MAX + 1);
	CHECK_INT(try_request(m, n), SM_EPARSE);
	m[7 + KH_DOMAIN_MAX]--;
	CHECK_INT(try_request(m, n - 1), SM_EPARSE);
}

static void request_types(void)
{
	uint8_t m[64];
	static const uint8_t bad[] = {0, 4, 5, 0x7f, 0x80, 0x81, 0x82, 0x83, 0xff};
	for (size_t i = 0; i < sizeof(bad); i++) {
		size_t n = data_request(m, bad[i], 0);
		CHECK_INT(try_request(m, n), SM_EPARSE);
		n = data_request(m, bad[i], 5);
		CHECK_INT(try_request(m, n), SM_EPARSE);
	}
	/* a valid request of each type, then the same with the reply flag */
	size_t n = data_request(m, KH_PUBLIC, 0);
	CHECK_INT(try_request(m, n), 0);
	m[0] |= KH_REPLY_FLAG;
	CHECK_INT(try_request(m, n), SM_EPARSE);
	n = data_request(m, KH_VRF_PROVE, 5);
	CHECK_INT(try_request(m, n), 0);
	m[0] |= KH_REPLY_FLAG;
	CHECK_INT(try_request(m, n), SM_EPARSE);
	n = data_request(m, KH_SIGN_CHECKPOINT, 5);
	CHECK_INT(try_request(m, n), 0);
	m[0] |= KH_REPLY_FLAG;
	CHECK_INT(try_request(m, n), SM_EPARSE);
}

static int domain_decodes(const char *dom, size_t dlen)
{
	uint8_t m[KH_MSG_MAX];
	return try_request(m, raw_request(m, KH_PUBLIC, dom, dlen, 0, 0));
}

static void request_domains(void)
{
	char d[KH_DOMAIN_MAX + 2];
	CHECK_INT(domain_decodes("a", 1), 0);
	CHECK_INT(domain_decodes("xn--bcher-kva.example-1.org", 27), 0);
	CHECK_INT(domain_decodes("", 0), SM_EPARSE);
	CHECK_INT(domain_decodes("Example.org", 11), SM_EPARSE);
	CHECK_INT(domain_decodes("example.orG", 11), SM_EPARSE);
	CHECK_INT(domain_decodes("ex/ample.org", 12), SM_EPARSE);
	CHECK_INT(domain_decodes("../etc", 6), SM_EPARSE);
	CHECK_INT(domain_decodes("ex\0ample.org", 12), SM_EPARSE);
	CHECK_INT(domain_decodes("example.org\0", 12), SM_EPARSE);
	CHECK_INT(domain_decodes("ex_ample.org", 12), SM_EPARSE);
	CHECK_INT(domain_decodes("ex ample.org", 12), SM_EPARSE);
	CHECK_INT(domain_decodes("ex\xc3\xa4mple.org", 13), SM_EPARSE);
	CHECK_INT(domain_decodes("example.org\n", 12), SM_EPARSE);
	memset(d, 'a', sizeof(d));
	CHECK_INT(domain_decodes(d, KH_DOMAIN_MAX), 0);
	CHECK_INT(domain_decodes(d, KH_DOMAIN_MAX + 1), SM_EPARSE);
	CHECK_INT(domain_decodes(d, 255), SM_EPARSE);
}

static int data_decodes(uint8_t type, size_t len)
{
	uint8_t m[KH_MSG_MAX + 16];
	return try_request(m, data_request(m, type, len));
}

/* Each limit on a request's data, at it and just past it. */
static void request_data_limits(void)
{
	CHECK_INT(data_decodes(KH_PUBLIC, 0), 0);
	CHECK_INT(data_decodes(KH_PUBLIC, 1), SM_EPARSE);
	CHECK_INT(data_decodes(KH_PUBLIC, 32), SM_EPARSE);
	CHECK_INT(data_decodes(KH_VRF_PROVE, 0), SM_EPARSE);
	CHECK_INT(data_decodes(KH_VRF_PROVE, 2), SM_EPARSE);
	CHECK_INT(data_decodes(KH_VRF_PROVE, 3), 0);
	CHECK_INT(data_decodes(KH_VRF_PROVE, KH_ADDRESS_MAX), 0);
	CHECK_INT(data_decodes(KH_VRF_PROVE, KH_ADDRESS_MAX + 1), SM_EPARSE);
	CHECK_INT(data_decodes(KH_SIGN_CHECKPOINT, 0), SM_EPARSE);
	CHECK_INT(data_decodes(KH_SIGN_CHECKPOINT, 1), 0);
	CHECK_INT(data_decodes(KH_SIGN_CHECKPOINT, KH_BODY_MAX), 0);
	CHECK_INT(data_decodes(KH_SIGN_CHECKPOINT, KH_BODY_MAX + 1), SM_EPARSE);
	CHECK_INT(data_decodes(KH_SIGN_CHECKPOINT, KH_DATA_MAX), SM_EPARSE);
}

static int reply_decodes(uint8_t type, uint8_t status, size_t len)
{
	uint8_t m[KH_MSG_MAX + 16];
	return try_reply(m, data_reply(m, type, status, len));
}

static void reply_framing(void)
{
	uint8_t m[KH_MSG_MAX + 16];
	size_t n = data_reply(m, KH_SIGN_CHECKPOINT, KH_OK, 10);
	CHECK_INT(try_reply(m, n), 0);
	CHECK_INT(kh_reply_decode(NULL, 0, &(struct kh_reply){0}), SM_EPARSE);
	for (size_t k = 0; k < 8; k++)
		CHECK_INT(try_reply(m, k), SM_EPARSE);
	CHECK_INT(try_reply(m, n + 1), SM_EPARSE);
	CHECK_INT(try_reply(m, n - 1), SM_EPARSE);
	n = raw_reply(m, KH_SIGN_CHECKPOINT | KH_REPLY_FLAG, KH_OK, 11, 10);
	CHECK_INT(try_reply(m, n), SM_EPARSE);
	n = raw_reply(m, KH_SIGN_CHECKPOINT | KH_REPLY_FLAG, KH_OK, 9, 10);
	CHECK_INT(try_reply(m, n), SM_EPARSE);
	n = raw_reply(m, KH_SIGN_CHECKPOINT | KH_REPLY_FLAG, KH_OK, 0xffff, 10);
	CHECK_INT(try_reply(m, n), SM_EPARSE);
	/* over KH_MSG_MAX with lengths that add up, at it, and at KH_DATA_MAX + 1 */
	n = data_reply(m, KH_SIGN_CHECKPOINT, KH_OK, KH_MSG_MAX + 1 - 8);
	CHECK_INT(n, KH_MSG_MAX + 1);
	CHECK_INT(try_reply(m, n), SM_EPARSE);
	CHECK_INT(reply_decodes(KH_SIGN_CHECKPOINT, KH_OK, KH_MSG_MAX - 8), SM_EPARSE);
	CHECK_INT(reply_decodes(KH_SIGN_CHECKPOINT, KH_OK, KH_DATA_MAX), 0);
	CHECK_INT(reply_decodes(KH_SIGN_CHECKPOINT, KH_OK, KH_DATA_MAX + 1), SM_EPARSE);
	CHECK_INT(reply_decodes(KH_PUBLIC, KH_OK, KH_DATA_MAX), 0);
	CHECK_INT(reply_decodes(KH_PUBLIC, KH_OK, KH_DATA_MAX + 1), SM_EPARSE);
}

static void reply_types_and_status(void)
{
	uint8_t m[64];
	static const uint8_t bad[] = {0, 4, 5, 0x7f};
	for (size_t i = 0; i < sizeof(bad); i++) {
		CHECK_INT(reply_decodes(bad[i], KH_OK, 0), SM_EPARSE);
		CHECK_INT(reply_decodes(bad[i], KH_OK, 40), SM_EPARSE);
		CHECK_INT(reply_decodes(bad[i], KH_REFUSED, 0), SM_EPARSE);
	}
	/* without the reply flag: a valid reply of each kind, then its type bare */
	size_t n = data_reply(m, KH_SIGN_CHECKPOINT, KH_OK, 5);
	CHECK_INT(try_reply(m, n), 0);
	m[0] &= (uint8_t)~KH_REPLY_FLAG;
	CHECK_INT(try_reply(m, n), SM_EPARSE);
	for (uint8_t t = KH_PUBLIC; t <= KH_SIGN_CHECKPOINT; t++) {
		n = data_reply(m, t, KH_REFUSED, 0);
		CHECK_INT(try_reply(m, n), 0);
		m[0] = t;
		CHECK_INT(try_reply(m, n), SM_EPARSE);
	}
	/* unknown status, with and without data; refused with data */
	for (uint8_t t = KH_PUBLIC; t <= KH_SIGN_CHECKPOINT; t++) {
		CHECK_INT(reply_decodes(t, 2, 0), SM_EPARSE);
		CHECK_INT(reply_decodes(t, 2, t == KH_VRF_PROVE ? VRF_PROOF_LEN : 40), SM_EPARSE);
		CHECK_INT(reply_decodes(t, 0xff, 0), SM_EPARSE);
		CHECK_INT(reply_decodes(t, KH_REFUSED, 1), SM_EPARSE);
		CHECK_INT(reply_decodes(t, KH_REFUSED, VRF_PROOF_LEN), SM_EPARSE);
	}
}

/* Each limit on an OK reply's data. */
static void reply_data_limits(void)
{
	CHECK_INT(reply_decodes(KH_PUBLIC, KH_OK, 0), SM_EPARSE);
	CHECK_INT(reply_decodes(KH_PUBLIC, KH_OK, VRF_PK_LEN), SM_EPARSE);
	CHECK_INT(reply_decodes(KH_PUBLIC, KH_OK, VRF_PK_LEN + 1), 0);
	CHECK_INT(reply_decodes(KH_VRF_PROVE, KH_OK, 0), SM_EPARSE);
	CHECK_INT(reply_decodes(KH_VRF_PROVE, KH_OK, VRF_PROOF_LEN - 1), SM_EPARSE);
	CHECK_INT(reply_decodes(KH_VRF_PROVE, KH_OK, VRF_PROOF_LEN), 0);
	CHECK_INT(reply_decodes(KH_VRF_PROVE, KH_OK, VRF_PROOF_LEN + 1), SM_EPARSE);
	CHECK_INT(reply_decodes(KH_SIGN_CHECKPOINT, KH_OK, 0), SM_EPARSE);
	CHECK_INT(reply_decodes(KH_SIGN_CHECKPOINT, KH_OK, 1), 0);
}

/* Encodes rq into a buffer of cap bytes (of a larger, sentinel-filled
 * one): the result must be err, with nothing written. */
static void request_refused(const struct kh_request *rq, size_t cap, int err)
{
	uint8_t out[KH_MSG_MAX + 1], before[KH_MSG_MAX + 1];
	size_t n = 12345;
	memset(out, SENTINEL, sizeof(out));
	memcpy(before, out, sizeof(out));
	CHECK_INT(kh_request_encode(rq, out, cap, &n), err);
	CHECK_INT(n, 12345);
	CHECK(memcmp(out, before, sizeof(out)) == 0);
}

static void reply_refused(const struct kh_reply *rp, size_t cap, int err)
{
	uint8_t out[KH_MSG_MAX + 1], before[KH_MSG_MAX + 1];
	size_t n = 12345;
	memset(out, SENTINEL, sizeof(out));
	memcpy(before, out, sizeof(out));
	CHECK_INT(kh_reply_encode(rp, out, cap, &n), err);
	CHECK_INT(n, 12345);
	CHECK(memcmp(out, before, sizeof(out)) == 0);
}

static void encode_request_refusals(void)
{
	static const uint8_t bad[] = {0, 4, 0x7f, 0x81, 0x82, 0x83};
	struct kh_request rq;
	for (size_t i = 0; i < sizeof(bad); i++) {
		rq = request(bad[i], 1, DOMAIN, NULL, 0);
		request_refused(&rq, KH_MSG_MAX, SM_EINVAL);
		rq = request(bad[i], 1, DOMAIN, ADDRESS, strlen(ADDRESS));
		request_refused(&rq, KH_MSG_MAX, SM_EINVAL);
	}
	rq = request(KH_PUBLIC, 1, "", NULL, 0);
	request_refused(&rq, KH_MSG_MAX, SM_EINVAL);
	rq = request(KH_PUBLIC, 1, "Example.org", NULL, 0);
	request_refused(&rq, KH_MSG_MAX, SM_EINVAL);
	rq = request(KH_PUBLIC, 1, "ex/ample.org", NULL, 0);
	request_refused(&rq, KH_MSG_MAX, SM_EINVAL);
	/* a domain of KH_DOMAIN_MAX + 1 characters, without its NUL */
	memset(rq.domain, 'a', sizeof(rq.domain));
	request_refused(&rq, KH_MSG_MAX, SM_EINVAL);
	rq.domain[KH_DOMAIN_MAX] = 0;
	size_t n = 0;
	uint8_t out[KH_MSG_MAX];
	CHECK_INT(kh_request_encode(&rq, out, sizeof(out), &n), 0);
	CHECK_INT(n, 8 + KH_DOMAIN_MAX);
	static const struct {
		uint8_t type;
		size_t len;
	} lim[] = {
		{KH_PUBLIC, 1}, {KH_VRF_PROVE, 0}, {KH_VRF_PROVE, 2}, {KH_VRF_PROVE, KH_ADDRESS_MAX + 1},
		{KH_SIGN_CHECKPOINT, 0}, {KH_SIGN_CHECKPOINT, KH_BODY_MAX + 1},
		{KH_SIGN_CHECKPOINT, 0x10000 + 5}, /* would wrap in the u16 length */
	};
	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		rq = request(lim[i].type, 1, DOMAIN, lim[i].len ? filler : NULL, lim[i].len);
		request_refused(&rq, KH_MSG_MAX, SM_EINVAL);
	}
	/* validity comes before room: an invalid request in no room is SM_EINVAL */
	rq = request(KH_PUBLIC, 1, "", NULL, 0);
	request_refused(&rq, 0, SM_EINVAL);
}

static void encode_reply_refusals(void)
{
	static const uint8_t bad[] = {0, 4, 0x7f, 0x81, 0x82, 0x83, 0xff};
	struct kh_reply rp;
	for (size_t i = 0; i < sizeof(bad); i++) {
		rp = reply(bad[i], 1, KH_REFUSED, NULL, 0);
		reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
		rp = reply(bad[i], 1, KH_OK, filler, 40);
		reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
	}
	for (uint8_t t = KH_PUBLIC; t <= KH_SIGN_CHECKPOINT; t++) {
		rp = reply(t, 1, 2, NULL, 0);
		reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
		rp = reply(t, 1, 2, filler, t == KH_VRF_PROVE ? VRF_PROOF_LEN : 40);
		reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
		rp = reply(t, 1, KH_REFUSED, filler, 1);
		reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
		rp = reply(t, 1, KH_OK, filler, KH_DATA_MAX + 1);
		reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
		rp = reply(t, 1, KH_OK, filler, 0x10000 + 40);
		reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
	}
	rp = reply(KH_PUBLIC, 1, KH_OK, filler, VRF_PK_LEN);
	reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
	rp = reply(KH_VRF_PROVE, 1, KH_OK, filler, VRF_PROOF_LEN - 1);
	reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
	rp = reply(KH_VRF_PROVE, 1, KH_OK, filler, VRF_PROOF_LEN + 1);
	reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
	rp = reply(KH_SIGN_CHECKPOINT, 1, KH_OK, NULL, 0);
	reply_refused(&rp, KH_MSG_MAX, SM_EINVAL);
	rp = reply(KH_SIGN_CHECKPOINT, 1, 2, NULL, 0);
	reply_refused(&rp, 0, SM_EINVAL);
}

/* Exactly enough room works; one byte less, or none, is SM_ETOOBIG. */
static void encode_capacity(void)
{
	uint8_t out[KH_MSG_MAX];
	size_t n = 0;
	struct kh_request rq = request(KH_SIGN_CHECKPOINT, 1, DOMAIN, BODY, strlen(BODY));
	size_t need = 8 + strlen(DOMAIN) + strlen(BODY);
	CHECK_INT(kh_request_encode(&rq, out, need, &n), 0);
	CHECK_INT(n, need);
	request_refused(&rq, need - 1, SM_ETOOBIG);
	request_refused(&rq, 0, SM_ETOOBIG);
	rq = request(KH_PUBLIC, 1, "a", NULL, 0);
	CHECK_INT(kh_request_encode(&rq, out, 9, &n), 0);
	CHECK_INT(n, 9);
	request_refused(&rq, 8, SM_ETOOBIG);
	struct kh_reply rp = reply(KH_VRF_PROVE, 1, KH_OK, filler, VRF_PROOF_LEN);
	CHECK_INT(kh_reply_encode(&rp, out, 8 + VRF_PROOF_LEN, &n), 0);
	CHECK_INT(n, 8 + VRF_PROOF_LEN);
	reply_refused(&rp, 8 + VRF_PROOF_LEN - 1, SM_ETOOBIG);
	rp = reply(KH_VRF_PROVE, 1, KH_REFUSED, NULL, 0);
	CHECK_INT(kh_reply_encode(&rp, out, 8, &n), 0);
	CHECK_INT(n, 8);
	reply_refused(&rp, 7, SM_ETOOBIG);
	reply_refused(&rp, 0, SM_ETOOBIG);
	/* the largest valid messages fit KH_MSG_MAX */
	memset(rq.domain, 'a', KH_DOMAIN_MAX);
	rq.domain[KH_DOMAIN_MAX] = 0;
	rq.type = KH_SIGN_CHECKPOINT;
	rq.data = filler;
	rq.len = KH_BODY_MAX;
	CHECK_INT(kh_request_encode(&rq, out, sizeof(out), &n), 0);
	rp = reply(KH_PUBLIC, 1, KH_OK, filler, KH_DATA_MAX);
	CHECK_INT(kh_reply_encode(&rp, out, sizeof(out), &n), 0);
}

/* Every proper prefix of a valid message fails, as request and as reply. */
static void truncation_sweep(void)
{
	uint8_t m[KH_MSG_MAX];
	size_t n = 0;
	struct kh_request rqs[] = {
		request(KH_PUBLIC, 0x11223344u, DOMAIN, NULL, 0),
		request(KH_VRF_PROVE, 2, DOMAIN, ADDRESS, strlen(ADDRESS)),
		request(KH_SIGN_CHECKPOINT, 3, "a", BODY, strlen(BODY)),
	};
	struct kh_reply rps[] = {
		reply(KH_PUBLIC, 4, KH_OK, filler, VRF_PK_LEN + 20),
		reply(KH_VRF_PROVE, 5, KH_OK, filler, VRF_PROOF_LEN),
		reply(KH_SIGN_CHECKPOINT, 6, KH_OK, BODY, strlen(BODY)),
		reply(KH_PUBLIC, 7, KH_REFUSED, NULL, 0),
		reply(KH_SIGN_CHECKPOINT, 8, KH_REFUSED, NULL, 0),
	};
	for (size_t i = 0; i < sizeof(rqs) / sizeof(rqs[0]); i++) {
		CHECK_INT(kh_request_encode(&rqs[i], m, sizeof(m), &n), 0);
		CHECK_INT(try_request(m, n), 0);
		for (size_t k = 0; k < n; k++) {
			CHECK_INT(try_request(m, k), SM_EPARSE);
			CHECK_INT(try_reply(m, k), SM_EPARSE);
		}
	}
	for (size_t i = 0; i < sizeof(rps) / sizeof(rps[0]); i++) {
		CHECK_INT(kh_reply_encode(&rps[i], m, sizeof(m), &n), 0);
		CHECK_INT(try_reply(m, n), 0);
		for (size_t k = 0; k < n; k++) {
			CHECK_INT(try_reply(m, k), SM_EPARSE);
			CHECK_INT(try_request(m, k), SM_EPARSE);
		}
	}
}

int main(void)
{
	filler_init();
	RUN(requests_round_trip);
	RUN(replies_round_trip);
	RUN(layout);
	RUN(request_framing);
	RUN(request_types);
	RUN(request_domains);
	RUN(request_data_limits);
	RUN(reply_framing);
	RUN(reply_types_and_status);
	RUN(reply_data_limits);
	RUN(encode_request_refusals);
	RUN(encode_reply_refusals);
	RUN(encode_capacity);
	RUN(truncation_sweep);
	return check_done();
}
