/* fuzz_http: http_request_parse() on the bytes a client sends, and
 * http_query_param() on the query it yields.
 *
 * The whole input is the stream. It is parsed with the daemon's kind of
 * limits (8 KiB of head, 1 MiB of body) and again with small ones taken
 * from its first two octets (max_head = octet 0, so a few GET seeds fit
 * and most do not; max_body = octet 1 % 32). Checked besides memory
 * safety:
 *   - HEAD: every pointer lies inside the head (head_len <= len, <=
 *     max_head, ending in '\n'); the method is a token and the target
 *     visible ASCII, one space apart, followed by " HTTP/1.0" or
 *     " HTTP/1.1" as minor says; path + '?' + query is the target;
 *     content_length <= max_body and <= 2^53; Host is there for 1.1;
 *     Host and Authorization are trimmed field values; flags are 0 or 1
 *     (expect_continue only for 1.1); parsing the head alone gives the
 *     same head;
 *   - ERROR: the status is one of 400, 413, 417, 431, 501, 505, the error
 *     one line ending in "\n", and http_response_head() can answer it;
 *   - MORE: the input is within max_head and ret was not touched;
 *   - smaller limits only turn an answer into 431 or 413 (and a 417 into
 *     413), never anything else;
 *   - for inputs up to FUZZ_PREFIX_MAX octets, every prefix (an exactly
 *     sized copy) answers MORE until some length, and from there on the
 *     same as the whole input: a head is never found early, and the answer
 *     does not depend on how the network cut the stream;
 *   - http_query_param() on the query (and on the raw input): only its
 *     documented results, a NUL-terminated value no longer than the raw
 *     one, an empty string on failure, SM_ENOTFOUND exactly when no pair
 *     has the name and SM_EPARSE when two do, and a small buffer agreeing
 *     with a large one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http.h"

#define FUZZ_HEAD_MAX 8192
#define FUZZ_BODY_MAX (UINT64_C(1) << 20)
#define FUZZ_PREFIX_MAX 300
#define FUZZ_NAME_MAX 32

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* ---- the request head ---- */

static int fuzz_is_tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* p[0..n) lies inside the head at data (NULL is fine with n == 0). */
static int fuzz_inside(const uint8_t *data, size_t head_len, const char *p, size_t n)
{
	const uint8_t *q = (const uint8_t *)p;
	if (p == NULL)
		return n == 0;
	return q >= data && q <= data + head_len && n <= (size_t)(data + head_len - q);
}

/* A trimmed field value: no OWS at its ends, no control but HTAB. */
static int fuzz_value_ok(const char *p, size_t n)
{
	const uint8_t *v = (const uint8_t *)p;
	if (p == NULL)
		return 1;
	if (n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
			return 0;
	return 1;
}

static void fuzz_check_line(const uint8_t *data, const struct http_request *r)
{
	const uint8_t *m = (const uint8_t *)r->method, *t = (const uint8_t *)r->target;
	char version[] = " HTTP/1.x";
	fuzz_check(r->method_len > 0 && r->target_len > 0, "empty method or target");
	for (size_t i = 0; i < r->method_len; i++)
		fuzz_check(fuzz_is_tchar(m[i]), "method not a token");
	fuzz_check(m + r->method_len + 1 == t && m[r->method_len] == ' ', "method SP target");
	for (size_t i = 0; i < r->target_len; i++)
		fuzz_check(t[i] >= 0x21 && t[i] <= 0x7e, "target not visible ASCII");
	version[8] = (char)('0' + r->minor);
	fuzz_check(r->minor == 0 || r->minor == 1, "minor");
	fuzz_check(fuzz_inside(data, r->head_len, r->target, r->target_len + 9) &&
			   memcmp(t + r->target_len, version, 9) == 0,
		   "version after the target");
}

static void fuzz_check_target(const struct http_request *r)
{
	const char *q = memchr(r->target, '?', r->target_len);
	fuzz_check(r->path == r->target, "path starts the target");
	if (q == NULL) {
		fuzz_check(r->query == NULL && r->query_len == 0, "query without '?'");
		fuzz_check(r->path_len == r->target_len, "path is the target");
		return;
	}
	fuzz_check(r->path_len == (size_t)(q - r->target), "path ends at the first '?'");
	fuzz_check(r->query == q + 1 && r->path_len + 1 + r->query_len == r->target_len,
		   "path + '?' + query is the target");
}

static void fuzz_check_head(const uint8_t *data, size_t size, size_t max_head, uint64_t max_body,
			    const struct http_request *r)
{
	fuzz_check(r->status == 0 && r->error == NULL, "status or error on a head");
	fuzz_check(r->head_len > 0 && r->head_len <= size && r->head_len <= max_head,
		   "head_len beyond the input or max_head");
	fuzz_check(data[r->head_len - 1] == '\n', "head does not end in LF");
	fuzz_check(fuzz_inside(data, r->head_len, r->method, r->method_len) &&
			   fuzz_inside(data, r->head_len, r->target, r->target_len) &&
			   fuzz_inside(data, r->head_len, r->path, r->path_len) &&
			   fuzz_inside(data, r->head_len, r->query, r->query_len) &&
			   fuzz_inside(data, r->head_len, r->host, r->host_len) &&
			   fuzz_inside(data, r->head_len, r->authorization, r->authorization_len),
		   "a pointer outside the head");
	fuzz_check_line(data, r);
	fuzz_check_target(r);
	fuzz_check(r->content_length <= max_body && r->content_length <= (UINT64_C(1) << 53),
		   "content_length over its limits");
	fuzz_check(r->minor == 0 || r->host != NULL, "HTTP/1.1 without Host");
	fuzz_check(fuzz_value_ok(r->host, r->host_len) &&
			   fuzz_value_ok(r->authorization, r->authorization_len),
		   "Host or Authorization not a trimmed field value");
	fuzz_check(r->keep_alive == 0 || r->keep_alive == 1, "keep_alive");
	fuzz_check(r->expect_continue == 0 || (r->expect_continue == 1 && r->minor == 1),
		   "expect_continue");
}

static void fuzz_check_error(const struct http_request *r)
{
	static const char ct[] = "text/plain; charset=utf-8";
	int s = r->status;
	size_t n = r->error ? strlen(r->error) : 0;
	struct buf b;
	fuzz_check(s == 400 || s == 413 || s == 417 || s == 431 || s == 501 || s == 505,
		   "error status outside the allowed set");
	fuzz_check(n > 1 && r->error[n - 1] == '\n' && strchr(r->error, '\n') == r->error + n - 1,
		   "error text not one line ending in LF");
	struct http_response resp = {.status = s,
				     .content_type = ct,
				     .cache_control = "no-store",
				     .content_length = n,
				     .body = (const uint8_t *)r->error,
				     .body_len = n};
	buf_init(&b, 4096);
	fuzz_check(http_response_head(&resp, 1, &b) == 0, "no answer for an error status");
	fuzz_check(b.len > 4 && memcmp(b.data + b.len - 4, "\r\n\r\n", 4) == 0, "answer's head");
	buf_free(&b);
}

/* Parses data with the limits, checks the result and returns it. */
static int fuzz_parse(const uint8_t *data, size_t size, size_t max_head, uint64_t max_body,
		      struct http_request *r)
{
	struct http_request sentinel;
	memset(r, 0xa5, sizeof(*r));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	int rc = http_request_parse(data, size, max_head, max_body, r);
	if (rc == HTTP_PARSE_HEAD)
		fuzz_check_head(data, size, max_head, max_body, r);
	else if (rc == HTTP_PARSE_ERROR)
		fuzz_check_error(r);
	else
		fuzz_check(rc == HTTP_PARSE_MORE && size <= max_head &&
				   memcmp(r, &sentinel, sizeof(*r)) == 0,
			   "MORE past max_head, or ret touched");
	return rc;
}

/* The same head, from the same bytes at the same address. */
static int fuzz_same_head(const struct http_request *a, const struct http_request *b)
{
	return a->method == b->method && a->method_len == b->method_len && a->target == b->target &&
	       a->target_len == b->target_len && a->path == b->path && a->path_len == b->path_len &&
	       a->query == b->query && a->query_len == b->query_len && a->host == b->host &&
	       a->host_len == b->host_len && a->authorization == b->authorization &&
	       a->authorization_len == b->authorization_len && a->minor == b->minor &&
	       a->keep_alive == b->keep_alive && a->expect_continue == b->expect_continue &&
	       a->content_length == b->content_length && a->head_len == b->head_len;
}

/* 0: MORE, 1: a head, else the error status. */
static int fuzz_verdict(int rc, const struct http_request *r)
{
	return rc == HTTP_PARSE_MORE ? 0 : rc == HTTP_PARSE_HEAD ? 1 : r->status;
}

/* Smaller limits add 431 and 413 answers, and change nothing else. */
static void fuzz_check_limits(int big, const struct http_request *rb, int small,
			      const struct http_request *rs)
{
	if (small == 1)
		fuzz_check(big == 1 && fuzz_same_head(rb, rs), "a head only within the small limits");
	else if (small != 431 && small != 413)
		fuzz_check(small == big, "small limits changed the answer");
	else if (small == 413)
		fuzz_check(big == 413 || big == 417 || big == 1, "413 from nowhere");
}

/* Every prefix, each an exactly sized copy so the sanitizers see a read
 * past its end: MORE up to some length, then the whole input's answer. */
static void fuzz_check_prefixes(const uint8_t *data, size_t size, int whole,
				const struct http_request *rw)
{
	int answered = 0;
	for (size_t k = 0; k < size; k++) {
		struct http_request r;
		uint8_t *copy = malloc(k ? k : 1);
		fuzz_check(copy != NULL, "out of memory");
		memcpy(copy, data, k);
		int v = fuzz_verdict(fuzz_parse(copy, k, FUZZ_HEAD_MAX, FUZZ_BODY_MAX, &r), &r);
		if (v != 0 || answered) {
			answered = 1;
			fuzz_check(v == whole, "a prefix answered differently from the whole");
		}
		if (v == 1)
			fuzz_check(r.head_len == rw->head_len &&
					   r.content_length == rw->content_length &&
					   r.method - (const char *)copy == rw->method - (const char *)data,
				   "a prefix found another head");
		free(copy);
	}
}

/* ---- the query ---- */

/* How many pairs of q are called name (the oracle of http_query_param). */
static int fuzz_pairs_named(const uint8_t *q, size_t len, const char *name)
{
	size_t n = strlen(name);
	int count = 0;
	for (size_t i = 0; i < len; i++) {
		if (i > 0 && q[i - 1] != '&')
			continue;
		if (len - i >= n && memcmp(q + i, name, n) == 0 &&
		    (i + n == len || q[i + n] == '=' || q[i + n] == '&') && (n > 0 || i + n < len))
			count += n > 0 || q[i] == '=';
	}
	return count;
}

static void fuzz_check_param(const uint8_t *q, size_t len, const char *name)
{
	char big[256], small[4];
	int rb = http_query_param((const char *)q, len, name, big, sizeof(big));
	int rs = http_query_param((const char *)q, len, name, small, sizeof(small));
	int named = fuzz_pairs_named(q, len, name);
	fuzz_check(rb == 0 || rb == SM_ENOTFOUND || rb == SM_EPARSE || rb == SM_ETOOBIG,
		   "query result outside the documented set");
	fuzz_check((rb == SM_ENOTFOUND) == (named == 0), "SM_ENOTFOUND iff no such pair");
	fuzz_check(named < 2 || rb == SM_EPARSE, "a duplicate not refused");
	fuzz_check(rb == 0 ? strnlen(big, sizeof(big)) < len + 1 : big[0] == 0,
		   "value longer than the query, or not empty on failure");
	if (rb == 0 && strlen(big) < sizeof(small))
		fuzz_check(rs == 0 && strcmp(big, small) == 0, "small buffer disagrees");
	else if (rb == 0 || rb == SM_ETOOBIG)
		fuzz_check(rs == SM_ETOOBIG && small[0] == 0, "small buffer did not overflow");
	else
		fuzz_check(rs == rb, "small buffer gave another error");
}

/* The query's first name (at most FUZZ_NAME_MAX bytes, no NUL) and a few
 * fixed ones. */
static void fuzz_check_query(const uint8_t *q, size_t len)
{
	static const char *const names[] = {"l", "address", "since", ""};
	char first[FUZZ_NAME_MAX + 1];
	size_t n = 0;
	while (n < len && n < FUZZ_NAME_MAX && q[n] != '=' && q[n] != '&' && q[n] != 0)
		n++;
	memcpy(first, q, n);
	first[n] = 0;
	fuzz_check_param(q, len, first);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fuzz_check_param(q, len, names[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request rb, rs, again;
	size_t small_head = size > 0 ? data[0] : 0;
	uint64_t small_body = size > 1 ? data[1] % 32 : 0;
	int big = fuzz_verdict(fuzz_parse(data, size, FUZZ_HEAD_MAX, FUZZ_BODY_MAX, &rb), &rb);
	int small = fuzz_verdict(fuzz_parse(data, size, small_head, small_body, &rs), &rs);
	fuzz_check_limits(big, &rb, small, &rs);
	if (big == 1) {
		fuzz_check(fuzz_parse(data, rb.head_len, FUZZ_HEAD_MAX, FUZZ_BODY_MAX, &again) ==
					   HTTP_PARSE_HEAD &&
				   fuzz_same_head(&rb, &again),
			   "the head alone parses differently");
		if (rb.query != NULL)
			fuzz_check_query((const uint8_t *)rb.query, rb.query_len);
	}
	if (size <= FUZZ_PREFIX_MAX)
		fuzz_check_prefixes(data, size, big, &rb);
	fuzz_check_query(data, size < 512 ? size : 512);
	return 0;
}
