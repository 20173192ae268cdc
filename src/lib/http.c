/* http.c: reading HTTP/1.1 request heads and writing response heads. See
 * http.h.
 *
 * http_request_parse() is on the path of every request, so it reads the
 * head once, line by line, allocating nothing. Errors are only answered
 * once the head is complete (or over max_head, or over the line limit):
 * until then the answer is HTTP_PARSE_MORE whatever the lines seen so far
 * hold. That makes the verdict a function of the byte stream alone, not of
 * how the network cut it into reads: once an answer other than MORE has
 * been given for some prefix, every longer prefix gives the same one. */
#include "http.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define HTTP_CONTENT_LENGTH_MAX (UINT64_C(1) << 53)

/* The static answers of a refused request; each is one line. */
static const char e_long[] = "request head too large\n";
static const char e_lines[] = "too many header lines\n";
static const char e_request_line[] = "malformed request line\n";
static const char e_header[] = "malformed header line\n";
static const char e_fold[] = "folded header line\n";
static const char e_no_host[] = "missing Host header\n";
static const char e_two_hosts[] = "more than one Host header\n";
static const char e_length[] = "malformed Content-Length\n";
static const char e_two_lengths[] = "more than one Content-Length header\n";
static const char e_two_auths[] = "more than one Authorization header\n";
static const char e_version[] = "HTTP version not supported\n";
static const char e_chunked[] = "Transfer-Encoding is not supported; send a Content-Length\n";
static const char e_body[] = "request body too large\n";
static const char e_expect[] = "only Expect: 100-continue is supported\n";

/* RFC 9110 tchar: the characters of methods and header names. */
static const uint8_t tchar[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 0x20  !"#$%&'()*+,-./ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0x30 0-9:;<=>? */
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 @A-O */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 0x50 P-Z[\]^_ */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 `a-o */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 0x70 p-z{|}~DEL */
};

struct span {
	const uint8_t *p;
	size_t n;
};

/* The parser's state over one call. */
struct hp {
	struct http_request r;
	int started;     /* the request line has been read */
	unsigned lines;  /* header lines so far */
	int major;       /* of "HTTP/<major>.<minor>" */
	int have_length; /* Content-Length seen */
	int chunked;     /* Transfer-Encoding seen */
	int close, keep; /* Connection: close, keep-alive */
	int expect_100, expect_other;
	const char *bad; /* the first malformation (a 400), NULL while none */
};

static int fail(struct http_request *ret, int status, const char *error)
{
	memset(ret, 0, sizeof(*ret));
	ret->status = status;
	ret->error = error;
	return HTTP_PARSE_ERROR;
}

static int ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* 1 if s is lit (lowercase) in any case. */
static int span_ieq(struct span s, const char *lit, size_t n)
{
	if (s.n != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s.p[i]) != (uint8_t)lit[i])
			return 0;
	return 1;
}

static int is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static struct span span_trim(struct span s)
{
	while (s.n > 0 && is_ows(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n > 0 && is_ows(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* ---- the request line ---- */

static size_t token_len(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && tchar[p[i]])
		i++;
	return i;
}

/* The target: visible ASCII up to the next space; its path and query. */
static size_t target_take(struct hp *st, const uint8_t *p, size_t n)
{
	size_t i = 0, q = n;
	for (; i < n && p[i] >= 0x21 && p[i] <= 0x7e; i++)
		if (p[i] == '?' && q == n)
			q = i;
	st->r.target = (const char *)p;
	st->r.target_len = i;
	st->r.path = (const char *)p;
	st->r.path_len = q < i ? q : i;
	st->r.query = q < i ? (const char *)p + q + 1 : NULL;
	st->r.query_len = q < i ? i - q - 1 : 0;
	return i;
}

/* "HTTP/<d>.<d>": any such version is well-formed (the 505 comes later). */
static int version_take(struct hp *st, const uint8_t *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
	    p[7] < '0' || p[7] > '9')
		return -1;
	st->major = p[5] - '0';
	st->r.minor = p[7] - '0';
	return 0;
}

static void request_line(struct hp *st, const uint8_t *p, size_t n)
{
	size_t m = token_len(p, n);
	if (m == 0 || m == n || p[m] != ' ') {
		st->bad = e_request_line;
		return;
	}
	st->r.method = (const char *)p;
	st->r.method_len = m;
	p += m + 1;
	n -= m + 1;
	size_t t = target_take(st, p, n);
	if (t == 0 || t == n || p[t] != ' ' || version_take(st, p + t + 1, n - t - 1) < 0)
		st->bad = e_request_line;
}

/* ---- the header lines this module reads ---- */

/* A header that may come once: its value into *field and *len, or the
 * error twice when it came before. */
static void take_once(struct hp *st, const char **field, size_t *len, struct span v, const char *twice)
{
	if (*field != NULL) {
		st->bad = twice;
		return;
	}
	*field = (const char *)v.p;
	*len = v.n;
}

static void h_host(struct hp *st, struct span v)
{
	take_once(st, &st->r.host, &st->r.host_len, v, e_two_hosts);
}

/* All digits, at most 2^53 (what every JSON number can hold). Leading
 * zeroes change nothing, so they are allowed. */
static void h_content_length(struct hp *st, struct span v)
{
	uint64_t x = 0;
	if (st->have_length) {
		st->bad = e_two_lengths;
		return;
	}
	st->have_length = 1;
	for (size_t i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9' || x > HTTP_CONTENT_LENGTH_MAX) {
			st->bad = e_length;
			return;
		}
		x = x * 10 + (uint64_t)(v.p[i] - '0'); /* x <= 2^53: no overflow */
	}
	if (v.n == 0 || x > HTTP_CONTENT_LENGTH_MAX) {
		st->bad = e_length;
		return;
	}
	st->r.content_length = x;
}

static void h_transfer_encoding(struct hp *st, struct span v)
{
	(void)v;
	st->chunked = 1;
}

/* A comma-separated list; empty elements are allowed (RFC 9110 5.6.1). */
static void h_connection(struct hp *st, struct span v)
{
	while (v.n > 0) {
		const uint8_t *comma = memchr(v.p, ',', v.n);
		struct span e = {v.p, comma ? (size_t)(comma - v.p) : v.n};
		v.n -= comma ? e.n + 1 : e.n;
		v.p += comma ? e.n + 1 : e.n;
		e = span_trim(e);
		if (span_ieq(e, "close", 5))
			st->close = 1;
		else if (span_ieq(e, "keep-alive", 10))
			st->keep = 1;
	}
}

static void h_expect(struct hp *st, struct span v)
{
	if (span_ieq(v, "100-continue", 12))
		st->expect_100 = 1;
	else
		st->expect_other = 1;
}

/* Credentials are not a list: two of them are ambiguous, and a proxy in
 * front may have checked the other one. */
static void h_authorization(struct hp *st, struct span v)
{
	take_once(st, &st->r.authorization, &st->r.authorization_len, v, e_two_auths);
}

static const struct {
	const char *name; /* lowercase */
	size_t len;
	void (*fn)(struct hp *st, struct span value);
} known_headers[] = {
	{"host", 4, h_host},
	{"content-length", 14, h_content_length},
	{"transfer-encoding", 17, h_transfer_encoding},
	{"connection", 10, h_connection},
	{"expect", 6, h_expect},
	{"authorization", 13, h_authorization},
};

/* A field value may hold HTAB, SP, visible ASCII and obs-text: no other
 * control, and so no CR. */
static int value_ok(struct span v)
{
	for (size_t i = 0; i < v.n; i++)
		if ((v.p[i] < 0x20 && v.p[i] != '\t') || v.p[i] == 0x7f)
			return 0;
	return 1;
}

static void header_line(struct hp *st, const uint8_t *p, size_t n)
{
	if (is_ows(p[0])) {
		st->bad = e_fold; /* obs-fold, or space before the first header */
		return;
	}
	size_t m = token_len(p, n);
	if (m == 0 || m == n || p[m] != ':') {
		st->bad = e_header; /* includes a space before the colon */
		return;
	}
	struct span name = {p, m}, value = {p + m + 1, n - m - 1};
	if (!value_ok(value)) {
		st->bad = e_header;
		return;
	}
	for (size_t i = 0; i < sizeof(known_headers) / sizeof(known_headers[0]); i++)
		if (span_ieq(name, known_headers[i].name, known_headers[i].len)) {
			known_headers[i].fn(st, span_trim(value));
			return;
		}
}

/* ---- the head ---- */

/* One line without its line end. 1 if it was the empty line that ends the
 * head. Lines after the first malformation are only counted. */
static int hp_line(struct hp *st, const uint8_t *p, size_t n)
{
	if (!st->started) {
		if (n == 0)
			return 0; /* empty lines before the request line (RFC 9112 2.2) */
		st->started = 1;
		request_line(st, p, n);
		return 0;
	}
	if (n == 0)
		return 1;
	st->lines++;
	if (st->bad == NULL)
		header_line(st, p, n);
	return 0;
}

/* The verdict on a complete head, in the order of http.h's rules. */
static int hp_finish(struct hp *st, uint64_t max_body, struct http_request *ret)
{
	if (st->bad != NULL)
		return fail(ret, 400, st->bad);
	if (st->major == 1 && st->r.minor == 1 && st->r.host == NULL)
		return fail(ret, 400, e_no_host);
	if (st->major != 1 || st->r.minor > 1)
		return fail(ret, 505, e_version);
	if (st->chunked)
		return fail(ret, 501, e_chunked);
	if (st->r.content_length > max_body)
		return fail(ret, 413, e_body);
	if (st->expect_other)
		return fail(ret, 417, e_expect);
	st->r.keep_alive = !st->close && (st->r.minor == 1 || st->keep);
	/* RFC 9110 10.1.1: a server must ignore 100-continue from HTTP/1.0 */
	st->r.expect_continue = st->expect_100 && st->r.minor == 1;
	*ret = st->r;
	return HTTP_PARSE_HEAD;
}

int http_request_parse(const uint8_t *data, size_t len, size_t max_head, uint64_t max_body,
		       struct http_request *ret)
{
	struct hp st;
	/* Past max_head the head is too long whether it ends there or not. */
	size_t scan = len < max_head ? len : max_head, off = 0;
	memset(&st, 0, sizeof(st));
	for (;;) {
		const uint8_t *lf = off < scan ? memchr(data + off, '\n', scan - off) : NULL;
		if (lf == NULL)
			return len > max_head ? fail(ret, 431, e_long) : HTTP_PARSE_MORE;
		size_t end = (size_t)(lf - data), n = end - off;
		if (n > 0 && data[end - 1] == '\r')
			n--; /* any other CR is refused by the character rules */
		if (hp_line(&st, data + off, n)) {
			st.r.head_len = end + 1;
			return hp_finish(&st, max_body, ret);
		}
		if (st.lines > HTTP_HEADER_LINES_MAX)
			return fail(ret, 431, e_lines);
		off = end + 1;
	}
}

/* ---- the query ---- */

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (uint8_t)ascii_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes v into out (outsz > 0). The whole value is checked even once it
 * no longer fits, so a bad escape is SM_EPARSE whatever its position. */
static int form_decode(struct span v, char *out, size_t outsz)
{
	size_t k = 0;
	for (size_t i = 0; i < v.n; i++, k++) {
		int c = v.p[i] == '+' ? ' ' : v.p[i];
		if (v.p[i] == '%') {
			int hi = i + 2 < v.n ? hex_value(v.p[i + 1]) : -1;
			int lo = i + 2 < v.n ? hex_value(v.p[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return SM_EPARSE;
			c = (hi << 4) | lo;
			i += 2;
		}
		if (c == 0)
			return SM_EPARSE;
		if (k < outsz - 1)
			out[k] = (char)c;
	}
	if (k > outsz - 1)
		return SM_ETOOBIG;
	out[k] = 0;
	return 0;
}

/* The value of the only parameter called name; see http_query_param. */
static int query_find(struct span q, const char *name, struct span *ret_value)
{
	size_t nlen = strlen(name);
	int found = 0;
	while (q.n > 0) {
		const uint8_t *amp = memchr(q.p, '&', q.n);
		struct span pair = {q.p, amp ? (size_t)(amp - q.p) : q.n};
		q.p += amp ? pair.n + 1 : pair.n;
		q.n -= amp ? pair.n + 1 : pair.n;
		const uint8_t *eq = pair.n ? memchr(pair.p, '=', pair.n) : NULL;
		size_t klen = eq ? (size_t)(eq - pair.p) : pair.n;
		if (pair.n == 0 || klen != nlen || memcmp(pair.p, name, nlen) != 0)
			continue;
		if (found++)
			return SM_EPARSE;
		ret_value->p = eq ? eq + 1 : pair.p + pair.n;
		ret_value->n = eq ? pair.n - klen - 1 : 0;
	}
	return found ? 0 : SM_ENOTFOUND;
}

int http_query_param(const char *query, size_t query_len, const char *name, char *out,
		     size_t outsz)
{
	struct span v = {NULL, 0};
	int rc;
	if (outsz == 0)
		return SM_ETOOBIG;
	out[0] = 0;
	if (query == NULL)
		return SM_ENOTFOUND;
	rc = query_find((struct span){(const uint8_t *)query, query_len}, name, &v);
	if (rc == 0)
		rc = form_decode(v, out, outsz);
	if (rc < 0)
		out[0] = 0;
	return rc;
}

/* ---- answers ---- */

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{100, "Continue"},
	{200, "OK"},
	{400, "Bad Request"},
	{403, "Forbidden"},
	{404, "Not Found"},
	{405, "Method Not Allowed"},
	{409, "Conflict"},
	{413, "Content Too Large"},
	{414, "URI Too Long"},
	{417, "Expectation Failed"},
	{429, "Too Many Requests"},
	{431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"},
	{501, "Not Implemented"},
	{503, "Service Unavailable"},
	{505, "HTTP Version Not Supported"},
};

const char *http_reason(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return NULL;
}

/* Appends "<name>: <value>\r\n", or nothing when value is NULL. */
static int header_put(struct buf *b, const char *name, const char *value)
{
	int rc = 0;
	if (value == NULL)
		return 0;
	rc = buf_append_str(b, name);
	if (rc == 0)
		rc = buf_append_str(b, ": ");
	if (rc == 0)
		rc = buf_append_str(b, value);
	if (rc == 0)
		rc = buf_append(b, "\r\n", 2);
	return rc;
}

/* t as an IMF-fixdate (RFC 9110 5.6.7), written without the locale. */
static void imf_fixdate(int64_t t, char out[32])
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
		snprintf(out, 32, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int http_response_head(const struct http_response *r, int close, struct buf *ret)
{
	const char *reason = http_reason(r->status);
	char status[32], length[24], retry[16], date[32];
	size_t start = ret->len;
	if (reason == NULL)
		return SM_EINVAL;
	snprintf(status, sizeof(status), "HTTP/1.1 %d ", r->status);
	snprintf(length, sizeof(length), "%" PRIu64, r->content_length);
	snprintf(retry, sizeof(retry), "%u", r->retry_after);
	int rc = buf_append_str(ret, status);
	if (rc == 0)
		rc = buf_append_str(ret, reason);
	if (rc == 0)
		rc = buf_append(ret, "\r\n", 2);
	if (rc == 0 && r->date != 0) {
		imf_fixdate(r->date, date);
		rc = header_put(ret, "Date", date);
	}
	/* RFC 9110 8.6: a 1xx answer has no body, so no Content-Length either. */
	if (rc == 0 && r->status >= 200) {
		rc = header_put(ret, "Content-Type", r->content_type);
		if (rc == 0)
			rc = header_put(ret, "Content-Length", length);
		if (rc == 0)
			rc = header_put(ret, "Cache-Control", r->cache_control);
		if (rc == 0)
			rc = header_put(ret, "Allow", r->allow);
		if (rc == 0)
			rc = header_put(ret, "Retry-After", r->retry_after ? retry : NULL);
		if (rc == 0)
			rc = buf_append_str(ret, "Access-Control-Allow-Origin: *\r\n"
						 "X-Content-Type-Options: nosniff\r\n");
		if (rc == 0 && close)
			rc = buf_append_str(ret, "Connection: close\r\n");
	}
	if (rc == 0)
		rc = buf_append(ret, "\r\n", 2);
	if (rc < 0)
		buf_truncate(ret, start); /* no half head */
	return rc;
}
