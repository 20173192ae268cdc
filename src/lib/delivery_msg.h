/* delivery_msg.h: the messages between sealmaild's MX process (the SMTP
 * sessions) and the one Maildir writer, the main process. Socket-free:
 * encode into and decode from caller memory; the channel is a stream
 * (SOCK_STREAM), since a message can be as large as max-message-size.
 *
 * A request, all integers big-endian:
 *   type u8 = DLV_DELIVER | id u32 | recipients u32 | their length u32 |
 *   data length u32 | recipients | data
 * where each recipient is "length u16 | local@domain", and the data is the
 * message as stored (the trace headers, then the message).
 * A reply:
 *   type u8 = DLV_RESULT | id u32 | result u8 (enum smtp_deliver_result:
 *   OK, TEMPFAIL or NOSPACE)
 *
 * Decoding is strict: the type must be known, the counts and lengths must
 * be within the receiver's limits and add up exactly, a recipient is 3 to
 * DLV_ADDRESS_MAX bytes with no NUL and one '@'. The receiver still checks
 * every address as its own (a domain it serves, a user it has). A message
 * that fails is a bug or an attack in the peer: the MX process treats a bad
 * reply as fatal to itself, and the main process ends the channel and
 * the MX process that sent a bad request (sealmaild(8)). */
#ifndef SEALMAIL_DELIVERY_MSG_H
#define SEALMAIL_DELIVERY_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "wkd.h"

enum dlv_type {
	DLV_DELIVER = 1,
	DLV_RESULT = 0x81,
};

#define DLV_HEADER_LEN 17
#define DLV_REPLY_LEN 6
#define DLV_ADDRESS_MAX (WKD_LOCAL_MAX + 1 + WKD_DOMAIN_MAX)

/* What the receiver of requests accepts. */
struct dlv_limits {
	uint32_t max_rcpts;
	uint32_t max_data;
};

struct dlv_header {
	uint32_t id;         /* echoed in the reply */
	uint32_t nrcpts;     /* at least one */
	uint32_t rcpts_len;  /* bytes of the recipients that follow the header */
	uint32_t data_len;   /* bytes of the message that follow them */
};

/* Appends a request's header and recipients to out (the caller appends
 * the data_len bytes of data). SM_EINVAL for no recipient or one that
 * would not decode, SM_ETOOBIG if out has no room. */
int dlv_request_encode(uint32_t id, const char *const *rcpts, size_t nrcpts, size_t data_len,
		       struct buf *out) SM_WUR;

/* Decodes the first DLV_HEADER_LEN bytes of a request. SM_EPARSE if the
 * type is not DLV_DELIVER, there is no recipient or more than
 * lim->max_rcpts, their length cannot hold them, or data_len is over
 * lim->max_data. *ret is untouched on failure. */
int dlv_header_decode(const uint8_t *p, const struct dlv_limits *lim,
		      struct dlv_header *ret) SM_WUR;

/* Calls fn with each of the h->nrcpts recipients in p[0..h->rcpts_len),
 * NUL-terminated, in order. SM_EPARSE (before any call) unless they are
 * exactly that many well-formed recipients filling exactly that length;
 * otherwise the first nonzero value fn returns, or 0. */
int dlv_rcpts_walk(const struct dlv_header *h, const uint8_t *p,
		   int (*fn)(void *arg, const char *address), void *arg) SM_WUR;

void dlv_reply_encode(uint32_t id, uint8_t result, uint8_t out[DLV_REPLY_LEN]);
/* SM_EPARSE unless p holds a DLV_RESULT with a result the MX may be
 * given (OK, TEMPFAIL, NOSPACE); outputs untouched on failure. */
int dlv_reply_decode(const uint8_t p[DLV_REPLY_LEN], uint32_t *ret_id, uint8_t *ret_result) SM_WUR;

#endif
