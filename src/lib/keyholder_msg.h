/* keyholder_msg.h: the messages between sealmaild's key holder (the one
 * process that holds the domains' log signing and VRF keys) and the
 * processes that ask it for work. Socket-free: encode into and decode from
 * caller memory, one message per datagram (SOCK_SEQPACKET).
 *
 * A request, all integers big-endian:
 *   type u8 | id u32 | domain length u8 | domain | data length u16 | data
 * A reply:
 *   type|0x80 u8 | id u32 | status u8 | data length u16 | data
 *
 * Requests and their data:
 *   KH_PUBLIC            none; the reply carries the VRF public key (32
 *                        bytes) then the log's verifier key (text).
 *   KH_VRF_PROVE         a canonical address; the reply carries the VRF
 *                        proof (VRF_PROOF_LEN bytes).
 *   KH_SIGN_CHECKPOINT   a checkpoint body; the reply carries the signed
 *                        note (the body, a blank line, the signature line).
 * A reply's status is KH_OK or KH_REFUSED (then no data): the key holder
 * does not know the domain, or will not sign that body.
 *
 * Decoding is strict: the lengths must add up to exactly the message, the
 * type must be known, the domain must be a DNS name's characters, and each
 * kind of data has its own limits. A message that fails is a bug or an
 * attack in the peer, and the receiver treats it as fatal.
 *
 * Ownership: decoded messages borrow from the caller's message bytes. */
#ifndef SEALMAIL_KEYHOLDER_MSG_H
#define SEALMAIL_KEYHOLDER_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum kh_type {
	KH_PUBLIC = 1,
	KH_VRF_PROVE = 2,
	KH_SIGN_CHECKPOINT = 3,
};

enum kh_status {
	KH_OK = 0,
	KH_REFUSED = 1,
};

#define KH_REPLY_FLAG 0x80
#define KH_DOMAIN_MAX 253
#define KH_ADDRESS_MAX 318    /* a canonical address (KT_ADDRESS_MAX less its NUL) */
#define KH_BODY_MAX 1024      /* a checkpoint body; ours are about 200 bytes */
#define KH_DATA_MAX 2048      /* any message's data */
#define KH_MSG_MAX (1 + 4 + 1 + KH_DOMAIN_MAX + 2 + KH_DATA_MAX)

struct kh_request {
	uint8_t type;          /* enum kh_type */
	uint32_t id;           /* echoed in the reply */
	char domain[KH_DOMAIN_MAX + 1];
	const uint8_t *data;
	size_t len;
};

struct kh_reply {
	uint8_t type;          /* the request's type, without KH_REPLY_FLAG */
	uint32_t id;
	uint8_t status;        /* enum kh_status */
	const uint8_t *data;
	size_t len;
};

/* Writes rq into out (KH_MSG_MAX bytes is always enough); *ret_len is its
 * length. SM_EINVAL if rq would not decode (bad type, domain or data). */
int kh_request_encode(const struct kh_request *rq, uint8_t *out, size_t cap,
		      size_t *ret_len) SM_WUR;
/* SM_EPARSE unless msg[0..len) is exactly one valid request. */
int kh_request_decode(const uint8_t *msg, size_t len, struct kh_request *ret) SM_WUR;

/* As for requests. A reply's data must fit its type: KH_PUBLIC at least
 * 33 bytes, KH_VRF_PROVE exactly VRF_PROOF_LEN, KH_SIGN_CHECKPOINT at least
 * one byte; a KH_REFUSED reply carries none. */
int kh_reply_encode(const struct kh_reply *rp, uint8_t *out, size_t cap, size_t *ret_len) SM_WUR;
int kh_reply_decode(const uint8_t *msg, size_t len, struct kh_reply *ret) SM_WUR;

#endif
