/* delivery_msg.c: the MX process's delivery requests (delivery_msg.h). */
#include "delivery_msg.h"

#include <string.h>

#include "num.h"
#include "smtp_session.h"

#define RCPT_MIN 3 /* a@b */

/* 0 if address[0..len) may travel as a recipient: no NUL, exactly one '@'
 * with something on each side. */
static int rcpt_ok(const uint8_t *address, size_t len)
{
	const uint8_t *at = len >= RCPT_MIN && len <= DLV_ADDRESS_MAX ? memchr(address, '@', len) : NULL;
	if (at == NULL || at == address || at == address + len - 1 ||
	    memchr(at + 1, '@', len - (size_t)(at + 1 - address)) != NULL ||
	    memchr(address, 0, len) != NULL)
		return -1;
	return 0;
}

int dlv_request_encode(uint32_t id, const char *const *rcpts, size_t nrcpts, size_t data_len,
		       struct buf *out)
{
	uint8_t head[DLV_HEADER_LEN];
	size_t rcpts_len = 0;
	if (nrcpts == 0 || nrcpts > UINT32_MAX || data_len > UINT32_MAX)
		return SM_EINVAL;
	for (size_t i = 0; i < nrcpts; i++) {
		size_t len = strlen(rcpts[i]);
		if (rcpt_ok((const uint8_t *)rcpts[i], len) < 0)
			return SM_EINVAL;
		rcpts_len += 2 + len;
	}
	if (rcpts_len > UINT32_MAX)
		return SM_EINVAL;
	head[0] = DLV_DELIVER;
	num_put_be(head + 1, id, 4);
	num_put_be(head + 5, nrcpts, 4);
	num_put_be(head + 9, rcpts_len, 4);
	num_put_be(head + 13, data_len, 4);
	int r = buf_append(out, head, sizeof(head));
	for (size_t i = 0; r == 0 && i < nrcpts; i++) {
		uint8_t len[2];
		num_put_be(len, strlen(rcpts[i]), 2);
		r = buf_append(out, len, 2);
		if (r == 0)
			r = buf_append_str(out, rcpts[i]);
	}
	return r;
}

int dlv_header_decode(const uint8_t *p, const struct dlv_limits *lim, struct dlv_header *ret)
{
	struct dlv_header h = {
		.id = (uint32_t)num_get_be(p + 1, 4),
		.nrcpts = (uint32_t)num_get_be(p + 5, 4),
		.rcpts_len = (uint32_t)num_get_be(p + 9, 4),
		.data_len = (uint32_t)num_get_be(p + 13, 4),
	};
	if (p[0] != DLV_DELIVER || h.nrcpts == 0 || h.nrcpts > lim->max_rcpts ||
	    h.data_len > lim->max_data ||
	    (uint64_t)h.rcpts_len < (uint64_t)h.nrcpts * (2 + RCPT_MIN) ||
	    (uint64_t)h.rcpts_len > (uint64_t)h.nrcpts * (2 + DLV_ADDRESS_MAX))
		return SM_EPARSE;
	*ret = h;
	return 0;
}

/* The next recipient at p[*off..len) into out; SM_EPARSE if malformed. */
static int rcpt_next(const uint8_t *p, size_t len, size_t *off, char out[DLV_ADDRESS_MAX + 1])
{
	if (len - *off < 2)
		return SM_EPARSE;
	size_t n = (size_t)num_get_be(p + *off, 2);
	if (n > len - *off - 2 || rcpt_ok(p + *off + 2, n) < 0)
		return SM_EPARSE;
	memcpy(out, p + *off + 2, n);
	out[n] = 0;
	*off += 2 + n;
	return 0;
}

int dlv_rcpts_walk(const struct dlv_header *h, const uint8_t *p,
		   int (*fn)(void *arg, const char *address), void *arg)
{
	char address[DLV_ADDRESS_MAX + 1];
	size_t off = 0;
	for (uint32_t i = 0; i < h->nrcpts; i++)
		if (rcpt_next(p, h->rcpts_len, &off, address) < 0)
			return SM_EPARSE;
	if (off != h->rcpts_len)
		return SM_EPARSE;
	off = 0;
	for (uint32_t i = 0; i < h->nrcpts; i++) {
		int r = rcpt_next(p, h->rcpts_len, &off, address);
		if (r == 0)
			r = fn(arg, address);
		if (r != 0)
			return r;
	}
	return 0;
}

void dlv_reply_encode(uint32_t id, uint8_t result, uint8_t out[DLV_REPLY_LEN])
{
	out[0] = DLV_RESULT;
	num_put_be(out + 1, id, 4);
	out[5] = result;
}

int dlv_reply_decode(const uint8_t p[DLV_REPLY_LEN], uint32_t *ret_id, uint8_t *ret_result)
{
	if (p[0] != DLV_RESULT || (p[5] != SMTP_DELIVER_OK && p[5] != SMTP_DELIVER_TEMPFAIL &&
				  p[5] != SMTP_DELIVER_NOSPACE))
		return SM_EPARSE;
	*ret_id = (uint32_t)num_get_be(p + 1, 4);
	*ret_result = p[5];
	return 0;
}
