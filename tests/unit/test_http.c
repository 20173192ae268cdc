/* test_http: the request head parser (every rule of http.h, each answer
 * and its precedence, every prefix of valid heads), the query parameters
 * of the form encoding, the reason phrases and the exact bytes of response
 * heads. */
#include <stdint.h>

#include "buf.h"
#include "check.h"
#include "http.h"

#define HEAD_MAX 8192
#define BODY_MAX 65536
#define TWO_53 UINT64_C(9007199254740992)

/* A string literal as a pointer and its length (it may hold NULs). */
#define S(lit) (lit), (sizeof(lit) - 1)

/* The input of the last parse, an exactly-sized heap copy so that a
 * sanitizer sees any read past its end; the request's pointers point into
 * it until the next parse. */
static uint8_t *in;

static int parse_lim(const char *s, size_t n, size_t max_head, uint64_t max_body,
		     struct http_request *r)
{
	free(in);
	in = malloc(n ? n : 1);
	if (in == NULL)
		abort();
	if (n > 0)
		memcpy(in, s, n);
	memset(r, 0x5a, sizeof(*r));
	return http_request_parse(in, n, max_head, max_body, r);
}

static int parse(const char *s, size_t n, struct http_request *r)
{
	return parse_lim(s, n, HEAD_MAX, BODY_MAX, r);
}

/* 1 for a head, 0 for more, the status for an error (-1 if the error
 * text is not one line ending in "\n"). */
static int verdict_lim(const char *s, size_t n, size_t max_head, uint64_t max_body)
{
	struct http_request r;
	int rc = parse_lim(s, n, max_head, max_body, &r);
	if (rc == HTTP_PARSE_HEAD)
		return r.status == 0 && r.error == NULL ? 1 : -1;
	if (rc == HTTP_PARSE_MORE)
		return 0;
	size_t len = r.error ? strlen(r.error) : 0;
	if (rc != HTTP_PARSE_ERROR || len < 2 || r.error[len - 1] != '\n' ||
	    memchr(r.error, '\n', len) != r.error + len - 1)
		return -1;
	return r.status;
}

#define V(lit) verdict_lim(S(lit), HEAD_MAX, BODY_MAX)
#define V_LIM(lit, mh, mb) verdict_lim(S(lit), (mh), (mb))

/* 1 if the n bytes at p (not NULL) are want. */
static int is(const char *p, size_t n, const char *want)
{
	return p != NULL && n == strlen(want) && memcmp(p, want, n) == 0;
}

/* ---- the request head ---- */

static void simple_get(void)
{
	struct http_request r;
	static const char req[] = "GET /.well-known/openpgpkey/hu/x?l=luke HTTP/1.1\r\n"
				  "Host: openpgpkey.jedi.test\r\nUser-Agent: gpg\r\n\r\n";
	CHECK_INT(parse(S(req), &r), HTTP_PARSE_HEAD);
	CHECK(is(r.method, r.method_len, "GET"));
	CHECK(is(r.target, r.target_len, "/.well-known/openpgpkey/hu/x?l=luke"));
	CHECK(is(r.path, r.path_len, "/.well-known/openpgpkey/hu/x"));
	CHECK(is(r.query, r.query_len, "l=luke"));
	CHECK(is(r.host, r.host_len, "openpgpkey.jedi.test"));
	CHECK(r.authorization == NULL);
	CHECK_INT(r.authorization_len, 0);
	CHECK_INT(r.minor, 1);
	CHECK_INT(r.keep_alive, 1);
	CHECK_INT(r.expect_continue, 0);
	CHECK_INT(r.content_length, 0);
	CHECK_INT(r.head_len, sizeof(req) - 1);
	CHECK_INT(r.status, 0);
	CHECK(r.error == NULL);
	/* the pointers are into the input */
	CHECK(r.method == (const char *)in && r.target == (const char *)in + 4);
}

/* Compares two heads parsed from different copies of the same bytes. */
static int same_head(const struct http_request *a, const uint8_t *abase,
		     const struct http_request *b, const uint8_t *bbase)
{
#define OFF(r, f, base) ((r)->f ? (long)((const uint8_t *)(r)->f - (base)) : -1L)
#define SAME(f) (OFF(a, f, abase) == OFF(b, f, bbase) && a->f##_len == b->f##_len)
	return SAME(method) && SAME(target) && SAME(path) && SAME(query) && SAME(host) &&
	       SAME(authorization) && a->minor == b->minor && a->keep_alive == b->keep_alive &&
	       a->expect_continue == b->expect_continue &&
	       a->content_length == b->content_length && a->head_len == b->head_len &&
	       a->status == b->status && a->error == b->error;
#undef SAME
#undef OFF
}

/* Every strict prefix of the head is MORE, leaving ret untouched; every
 * longer one gives the same head. */
static int prefixes_ok(const char *s, size_t n)
{
	struct http_request full, r, sentinel;
	uint8_t *base;
	int ok = 1;
	if (parse(s, n, &full) != HTTP_PARSE_HEAD)
		return 0;
	base = in;
	in = NULL; /* keep the full copy for same_head */
	memset(&sentinel, 0x5a, sizeof(sentinel));
	for (size_t k = 0; k < n; k++) {
		int rc = parse(s, k, &r);
		if (k < full.head_len)
			ok &= rc == HTTP_PARSE_MORE && memcmp(&r, &sentinel, sizeof(r)) == 0;
		else
			ok &= rc == HTTP_PARSE_HEAD && same_head(&full, base, &r, in);
	}
	free(base);
	return ok;
}

static void every_prefix(void)
{
	CHECK(prefixes_ok(S("GET / HTTP/1.1\r\nHost: jedi.test\r\n\r\n")));
	CHECK(prefixes_ok(S("GET /x?a=1&b=%41 HTTP/1.0\n\n")));
	CHECK(prefixes_ok(S("\r\n\n\r\nHEAD /p? HTTP/1.1\nhost:\t h \t\r\nConnection: Keep-Alive, foo, close\n"
			    "Expect: 100-Continue\nAuthorization: Bearer t0k3n\r\n\r\n")));
	CHECK(prefixes_ok(S("POST /publish?address=luke%40jedi.test HTTP/1.1\r\nHost: h\r\n"
			    "Content-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n")));
	CHECK(prefixes_ok(S("GET / HTTP/1.0\r\nX-Obs: caf\xc3\xa9\t\r\nConnection: keep-alive\r\n\r\n")));
}

/* Once a prefix has an answer other than MORE, every longer one has the
 * same: the answer does not depend on how the stream was cut into reads. */
static int answer_stable(const char *s, size_t n, size_t max_head, int want)
{
	int first = 0;
	for (size_t k = 0; k <= n; k++) {
		int v = verdict_lim(s, k, max_head, BODY_MAX);
		if (first == 0)
			first = v;
		else if (v != first)
			return 0;
	}
	return first == want;
}

static void stable_answers(void)
{
	CHECK(answer_stable(S("GET  / HTTP/1.1\r\nHost: h\r\n\r\nmore"), HEAD_MAX, 400));
	CHECK(answer_stable(S("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), HEAD_MAX, 505));
	CHECK(answer_stable(S("GET / HTTP/1.1\r\nHost: h\r\nX: \r\n\r\n\r\n"), HEAD_MAX, 1));
	CHECK(answer_stable(S("GET / HTTP/1.1\r\nHost: h\r\nX: \x01\r\n\r\n"), HEAD_MAX, 400));
	CHECK(answer_stable(S("GET / HTTP/1.1\r\nHost: h\r\nX: aaaaaaaaaa\r\n\r\n"), 30, 431));
	CHECK(answer_stable(S("junk junk junk"), 100, 0));
}

static void line_ends(void)
{
	struct http_request r;
	CHECK_INT(parse(S("GET / HTTP/1.1\nHost: h\n\n"), &r), HTTP_PARSE_HEAD);
	CHECK(is(r.host, r.host_len, "h"));
	CHECK_INT(r.head_len, 24);
	/* CRLF and LF mixed */
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\n\r\n"), 1);
	CHECK_INT(V("GET / HTTP/1.1\nHost: h\r\n\n"), 1);
	/* a CR anywhere but before LF */
	CHECK_INT(V("GET / HTTP/1.1\rHost: h\r\n\r\n"), 400);
	CHECK_INT(V("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHo\rst: h\r\n\r\n"), 400);
	/* not the empty line, and an answer waits for the end of the head */
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n"), 0);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n\r\n"), 400);
	CHECK_INT(V("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
	CHECK_INT(V("\r\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
	/* a CR at the end may be followed by LF: not yet an error */
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\n\r"), 0);
	CHECK_INT(V("GET / HTTP/1.1\r"), 0);
}

static void leading_empty_lines(void)
{
	struct http_request r;
	CHECK_INT(parse(S("\r\n\n\r\nGET / HTTP/1.0\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK(is(r.method, r.method_len, "GET"));
	CHECK(r.method == (const char *)in + 5);
	CHECK_INT(r.head_len, 5 + 18);
	CHECK_INT(V("\r\n"), 0);
	CHECK_INT(V("\n\n\n\n"), 0);
	/* they count against max_head (23 bytes in all) */
	CHECK_INT(V_LIM("\r\n\n\r\nGET / HTTP/1.0\r\n\r\n", 23, BODY_MAX), 1);
	CHECK_INT(V_LIM("\r\n\n\r\nGET / HTTP/1.0\r\n\r\n", 22, BODY_MAX), 431);
	CHECK_INT(V_LIM("\r\n\r\n\r\n\r\n\r\n\r\n", 11, BODY_MAX), 431);
	/* but not as header lines, and not after the request line */
	CHECK_INT(V("GET / HTTP/1.0\r\n\r\n\r\n"), 1);
}

static void request_line_errors(void)
{
	static const char *const bad[] = {
		"GET  / HTTP/1.1",    " GET / HTTP/1.1",    "GET / HTTP/1.1 ",  "GET /  HTTP/1.1",
		"GET\t/ HTTP/1.1",    "GET /\tHTTP/1.1",    "GET /",            "GET / ",
		"GET",                "GET HTTP/1.1",       "GET  HTTP/1.1",    "/ HTTP/1.1",
		"GET / x HTTP/1.1",   "GET / http/1.1",     "GET / HTTP/1.10",  "GET / HTTP/11",
		"GET / HTTP/1",       "GET / HTTP/1.",      "GET / HTTP/.1",    "GET / HTTP/a.1",
		"GET / HTTP/1.b",     "GET / HTTP 1.1",     "GET / HTTPS/1.1",  "GE(T / HTTP/1.1",
		"GE:T / HTTP/1.1",    "GET /\x7f HTTP/1.1", "GET /\x80 HTTP/1.1", "GET /\xff HTTP/1.1",
		"G\xc3\x89T / HTTP/1.1",
	};
	char req[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = snprintf(req, sizeof(req), "%s\r\nHost: h\r\n\r\n", bad[i]);
		int v = verdict_lim(req, (size_t)n, HEAD_MAX, BODY_MAX);
		if (v != 400)
			printf("# request line \"%s\": %d\n", bad[i], v);
		CHECK_INT(v, 400);
	}
	CHECK_INT(verdict_lim(S("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"), HEAD_MAX, BODY_MAX), 400);
	CHECK_INT(verdict_lim(S("G\0T / HTTP/1.1\r\nHost: h\r\n\r\n"), HEAD_MAX, BODY_MAX), 400);
	/* valid odd ones: any token method, asterisk-form, absolute-form */
	CHECK_INT(V("M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n"), 1);
	CHECK_INT(V("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), 1);
	CHECK_INT(V("get http://h/x HTTP/1.1\r\nHost: h\r\n\r\n"), 1);
	CHECK_INT(V("!#$%&'*+-.^_`|~09azAZ /~!\"#$&'()*+,;=:@[]\\{}|^` HTTP/1.0\r\n\r\n"), 1);
}

static int is_tchar_ref(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Each byte in a method and in a header name: accepted iff a tchar. */
static void token_chars(void)
{
	char req[64];
	int bad_method = 0, bad_name = 0;
	for (int c = 0; c < 256; c++) {
		int n = snprintf(req, sizeof(req), "A%cB / HTTP/1.0\r\n\r\n", c ? c : '?');
		req[1] = (char)c;
		int v = verdict_lim(req, (size_t)n, HEAD_MAX, BODY_MAX);
		bad_method += v != (is_tchar_ref(c) ? 1 : 400);
		if (c == ':')
			continue; /* "X:Y: v" is the header X */
		n = snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nX%cY: v\r\n\r\n", c ? c : '?');
		req[17] = (char)c;
		v = verdict_lim(req, (size_t)n, HEAD_MAX, BODY_MAX);
		bad_name += v != (is_tchar_ref(c) ? 1 : 400);
	}
	CHECK_INT(bad_method, 0);
	CHECK_INT(bad_name, 0);
}

/* Each byte in a header value: controls but HTAB are refused, obs-text not. */
static void value_chars(void)
{
	char req[64];
	int wrong = 0;
	for (int c = 0; c < 256; c++) {
		if (c == '\n')
			continue;
		int n = snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nX: a%cb\r\n\r\n", c ? c : '?');
		req[20] = (char)c;
		int ok = c == '\t' || (c >= 0x20 && c != 0x7f);
		int v = verdict_lim(req, (size_t)n, HEAD_MAX, BODY_MAX);
		if (v != (ok ? 1 : 400))
			printf("# value byte 0x%02x: %d\n", c, v);
		wrong += v != (ok ? 1 : 400);
	}
	CHECK_INT(wrong, 0);
	/* the same in a value this module reads */
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: a\x01" "b\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer \xe2\x82\xac\r\n\r\n"), 1);
}

static void header_line_errors(void)
{
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\nX-A : v\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\nX-A: v\r\n folded\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\nX-A: v\r\n\tfolded\r\n\r\n"), 400);
	/* whitespace between the request line and the first header */
	CHECK_INT(V("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\n\tHost: h\r\n\r\n"), 400);
	/* a line of blanks is not the empty line */
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\n \r\n\r\n"), 400);
	/* fine: empty values, a colon in the value, no space after the colon */
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\nX-A:\r\nX-B: a:b\r\nX-C:v\r\n\r\n"), 1);
}

static void header_case_and_trim(void)
{
	struct http_request r;
	CHECK_INT(parse(S("GET / HTTP/1.1\r\nhOsT:\t jedi.test \t\r\n"
			  "AUTHORIZATION:  Bearer a b  \r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK(is(r.host, r.host_len, "jedi.test"));
	CHECK(is(r.authorization, r.authorization_len, "Bearer a b"));
	CHECK_INT(parse(S("GET / HTTP/1.1\r\nhost:\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK(r.host != NULL && r.host_len == 0); /* an empty Host is a Host */
	CHECK_INT(parse(S("GET / HTTP/1.1\r\nHost:  \t \r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK(r.host != NULL && r.host_len == 0);
	/* names that only look like the known ones are ignored */
	CHECK_INT(parse(S("GET / HTTP/1.1\r\nHost: h\r\nHosts: x\r\nX-Host: y\r\n"
			  "Content-Lengths: z\r\nTransfer-Encodings: chunked\r\nExpects: 1\r\n\r\n"), &r),
		  HTTP_PARSE_HEAD);
	CHECK(is(r.host, r.host_len, "h"));
	CHECK_INT(r.content_length, 0);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\nCONTENT-length: 3\r\n\r\n"), 1);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\ntransfer-ENCODING: chunked\r\n\r\n"), 501);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\nEXPECT: nope\r\n\r\n"), 417);
}

static void path_and_query(void)
{
	struct http_request r;
	CHECK_INT(parse(S("GET /a/b HTTP/1.1\r\nHost: h\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK(is(r.path, r.path_len, "/a/b"));
	CHECK(r.query == NULL);
	CHECK_INT(r.query_len, 0);
	CHECK_INT(parse(S("GET /a? HTTP/1.1\r\nHost: h\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK(is(r.path, r.path_len, "/a"));
	CHECK(r.query != NULL && r.query_len == 0);
	CHECK(r.query == (const char *)in + 7);
	CHECK_INT(parse(S("GET /a?b=c?d&e HTTP/1.1\r\nHost: h\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK(is(r.path, r.path_len, "/a"));
	CHECK(is(r.query, r.query_len, "b=c?d&e"));
	CHECK(is(r.target, r.target_len, "/a?b=c?d&e"));
	CHECK_INT(parse(S("GET ?x HTTP/1.1\r\nHost: h\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK(r.path != NULL && r.path_len == 0);
	CHECK(is(r.query, r.query_len, "x"));
	CHECK_INT(parse(S("GET ? HTTP/1.1\r\nHost: h\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK(r.path_len == 0 && r.query != NULL && r.query_len == 0);
}

static void pipelined(void)
{
	struct http_request r;
	static const char two[] = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
	CHECK_INT(parse(S(two), &r), HTTP_PARSE_HEAD);
	CHECK_INT(r.head_len, 28);
	CHECK(is(r.target, r.target_len, "/1"));
	CHECK_INT(parse(two + 28, sizeof(two) - 1 - 28, &r), HTTP_PARSE_HEAD);
	CHECK(is(r.target, r.target_len, "/2"));
	/* a body, then the start of the next request, even a malformed one */
	static const char body[] = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello\x01\r\n\r\n";
	CHECK_INT(parse(S(body), &r), HTTP_PARSE_HEAD);
	CHECK_INT(r.head_len, sizeof(body) - 1 - 10);
	CHECK_INT(r.content_length, 5);
	CHECK(memcmp(in + r.head_len, "hello", 5) == 0);
	/* what follows the head is not looked at, even past max_head */
	CHECK_INT(V_LIM("GET / HTTP/1.0\r\n\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 18, BODY_MAX), 1);
}

static void host_rules(void)
{
	CHECK_INT(V("GET / HTTP/1.1\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nX-Host: h\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.0\r\n\r\n"), 1);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nHost:\r\nHost:\r\n\r\n"), 400);
}

static void version_rules(void)
{
	struct http_request r;
	CHECK_INT(parse(S("GET / HTTP/1.0\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK_INT(r.minor, 0);
	CHECK_INT(V("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
	CHECK_INT(V("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), 505);
	CHECK_INT(V("GET / HTTP/0.9\r\n\r\n"), 505);
	CHECK_INT(V("GET / HTTP/9.9\r\n\r\n"), 505);
	CHECK_INT(V("GET / HTTP/2.0\r\n\r\n"), 505); /* Host is only required of 1.1 */
	CHECK_INT(V("GET / HTTP/1.1\r\nHost: h\r\nHost: h\r\n\r\n"), 400);
}

static void content_length_rules(void)
{
	struct http_request r;
	CHECK_INT(parse(S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  42 \r\n\r\n"), &r),
		  HTTP_PARSE_HEAD);
	CHECK_INT(r.content_length, 42);
	CHECK_INT(parse_lim(S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9007199254740992\r\n\r\n"),
			    HEAD_MAX, UINT64_MAX, &r), HTTP_PARSE_HEAD);
	CHECK(r.content_length == TWO_53);
	CHECK_INT(parse_lim(S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0009007199254740992\r\n\r\n"),
			    HEAD_MAX, UINT64_MAX, &r), HTTP_PARSE_HEAD);
	CHECK(r.content_length == TWO_53);
	CHECK_INT(V_LIM("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9007199254740993\r\n\r\n",
			HEAD_MAX, UINT64_MAX), 400);
	CHECK_INT(V_LIM("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 90071992547409920\r\n\r\n",
			HEAD_MAX, UINT64_MAX), 400);
	CHECK_INT(V_LIM("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 184467440737095516160\r\n\r\n",
			HEAD_MAX, UINT64_MAX), 400);
	static const char *const bad[] = {"", " ", "-1", "+1", "1 2", "0x10", "1,1", "1.0", "1a",
					  "a1", "\xd9\xa1"};
	char req[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %s\r\n\r\n",
				 bad[i]);
		CHECK_INT(verdict_lim(req, (size_t)n, HEAD_MAX, BODY_MAX), 400);
	}
	CHECK_INT(V("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"), 400);
	CHECK_INT(V("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\ncontent-length: 0\r\n\r\n"), 400);
	/* max_body */
	CHECK_INT(V_LIM("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n", HEAD_MAX, 100), 1);
	CHECK_INT(V_LIM("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", HEAD_MAX, 100), 413);
	CHECK_INT(V_LIM("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", HEAD_MAX, 0), 1);
	CHECK_INT(V_LIM("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n", HEAD_MAX, 0), 413);
	CHECK_INT(V_LIM("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9007199254740992\r\n\r\n",
			HEAD_MAX, TWO_53 - 1), 413);
}

static void transfer_encoding_rules(void)
{
	CHECK_INT(V("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
	CHECK_INT(V("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n"), 501);
	CHECK_INT(V("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n"), 501);
	CHECK_INT(V("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
	CHECK_INT(V("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n"), 501);
	CHECK_INT(V("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		    "Content-Length: 5\r\n\r\n"), 501);
}

static void expect_rules(void)
{
	struct http_request r;
	CHECK_INT(parse(S("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
			  "Content-Length: 9\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK_INT(r.expect_continue, 1);
	CHECK_INT(parse(S("PUT / HTTP/1.1\r\nHost: h\r\nexpect:\t100-CONTINUE \r\n\r\n"), &r),
		  HTTP_PARSE_HEAD);
	CHECK_INT(r.expect_continue, 1);
	/* an HTTP/1.0 client cannot take a 100 (RFC 9110 10.1.1) */
	CHECK_INT(parse(S("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK_INT(r.expect_continue, 0);
	CHECK_INT(V("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n"), 417);
	CHECK_INT(V("PUT / HTTP/1.1\r\nHost: h\r\nExpect:\r\n\r\n"), 417);
	CHECK_INT(V("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue, x\r\n\r\n"), 417);
	CHECK_INT(V("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continuex\r\n\r\n"), 417);
	CHECK_INT(V("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nExpect: x\r\n\r\n"), 417);
	CHECK_INT(V("PUT / HTTP/1.0\r\nExpect: x\r\n\r\n"), 417);
}

static int keep_alive_of(const char *s, size_t n)
{
	struct http_request r;
	if (parse(s, n, &r) != HTTP_PARSE_HEAD)
		return -1;
	return r.keep_alive;
}

static void keep_alive_rules(void)
{
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.1\r\nHost: h\r\n\r\n")), 1);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.0\r\n\r\n")), 0);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")), 0);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.1\r\nHost: h\r\nConnection: CLOSE\r\n\r\n")), 0);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo,\tclose \r\n\r\n")), 0);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n")), 1);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed, xclose\r\n\r\n")), 1);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.0\r\nConnection: Keep-Alive, foo\r\n\r\n")), 1);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.0\r\nConnection: , ,keep-alive,\r\n\r\n")), 1);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n")), 0);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")), 0);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n")), 0);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.0\r\nConnection: foo\r\nconnection: keep-alive\r\n\r\n")), 1);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.0\r\nConnection: close\r\n\r\n")), 0);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.0\r\nConnection:\r\n\r\n")), 0);
	CHECK_INT(keep_alive_of(S("GET / HTTP/1.0\r\nKeep-Alive: timeout=5\r\n\r\n")), 0);
}

static void authorization_rules(void)
{
	struct http_request r;
	CHECK_INT(parse(S("POST / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer abc.DEF-123\r\n\r\n"),
			&r), HTTP_PARSE_HEAD);
	CHECK(is(r.authorization, r.authorization_len, "Bearer abc.DEF-123"));
	CHECK_INT(parse(S("POST / HTTP/1.1\r\nHost: h\r\nAuthorization:\r\n\r\n"), &r), HTTP_PARSE_HEAD);
	CHECK(r.authorization != NULL && r.authorization_len == 0);
	CHECK_INT(parse(S("POST / HTTP/1.1\r\nHost: h\r\nProxy-Authorization: x\r\n\r\n"), &r),
		  HTTP_PARSE_HEAD);
	CHECK(r.authorization == NULL);
	CHECK_INT(V("POST / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer a\r\n"
		    "authorization: Bearer b\r\n\r\n"), 400);
}

/* The verdict on a head with nlines header lines (Host among them),
 * without its empty line unless complete. */
static int lines_verdict(int nlines, int complete, size_t max_head)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	int rc = buf_append_str(&b, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 1; rc == 0 && i < nlines; i++)
		rc = buf_appendf(&b, "X-%d: v\r\n", i);
	if (rc == 0 && complete)
		rc = buf_append_str(&b, "\r\n");
	int v = rc == 0 ? verdict_lim((const char *)b.data, b.len, max_head, BODY_MAX) : -9;
	buf_free(&b);
	return v;
}

static void header_line_limit(void)
{
	CHECK_INT(lines_verdict(HTTP_HEADER_LINES_MAX, 1, HEAD_MAX), 1);
	CHECK_INT(lines_verdict(HTTP_HEADER_LINES_MAX + 1, 1, HEAD_MAX), 431);
	CHECK_INT(lines_verdict(HTTP_HEADER_LINES_MAX, 0, HEAD_MAX), 0);
	CHECK_INT(lines_verdict(HTTP_HEADER_LINES_MAX + 1, 0, HEAD_MAX), 431);
	CHECK_INT(lines_verdict(1000, 0, 1 << 16), 431);
	/* a malformed line among them: the line count decides first */
	CHECK_INT(V("GET / HTTP/1.1\r\n\r\n"), 400);
	struct buf b;
	buf_init(&b, 1 << 16);
	CHECK_INT(buf_append_str(&b, "GET  / HTTP/1.1\r\n"), 0);
	for (int i = 0; i <= HTTP_HEADER_LINES_MAX; i++)
		CHECK_INT(buf_append_str(&b, "bad line\r\n"), 0);
	CHECK_INT(verdict_lim((const char *)b.data, b.len, HEAD_MAX, BODY_MAX), 431);
	buf_free(&b);
}

static void head_size_limit(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n"; /* 27 bytes */
	CHECK_INT(V_LIM("GET / HTTP/1.1\r\nHost: h\r\n\r\n", 27, BODY_MAX), 1);
	CHECK_INT(V_LIM("GET / HTTP/1.1\r\nHost: h\r\n\r\n", 26, BODY_MAX), 431);
	CHECK_INT(V_LIM("GET / HTTP/1.1\r\nHost: h\r\n\r\n", 0, BODY_MAX), 431);
	/* incomplete: MORE up to max_head bytes, 431 past it */
	CHECK_INT(verdict_lim(req, 26, 26, BODY_MAX), 0);
	CHECK_INT(verdict_lim(req, 26, 25, BODY_MAX), 431);
	CHECK_INT(verdict_lim(req, 26, 27, BODY_MAX), 0);
	CHECK_INT(verdict_lim("", 0, 0, BODY_MAX), 0);
	struct http_request r;
	CHECK_INT(http_request_parse(NULL, 0, 10, BODY_MAX, &r), HTTP_PARSE_MORE);
	/* 431 comes before every other answer */
	CHECK_INT(V_LIM("GET  / HTTP/1.1\r\n\r\n", 18, BODY_MAX), 431);
	CHECK_INT(V_LIM("GET / HTTP/3.0\r\n\r\n", 17, BODY_MAX), 431);
	CHECK_INT(V_LIM("GET garbage without any line end", 10, BODY_MAX), 431);
}

/* The first rule that applies decides: 431, 400, 505, 501, 413, 417. */
static void precedence(void)
{
	CHECK_INT(V_LIM("GET / HTTP/2.0\r\nX: \x01\r\nTransfer-Encoding: chunked\r\n"
			"Content-Length: 9\r\nExpect: x\r\n\r\n", HEAD_MAX, 1), 400);
	CHECK_INT(V_LIM("GET / HTTP/2.0\r\nTransfer-Encoding: chunked\r\n"
			"Content-Length: 9\r\nExpect: x\r\n\r\n", HEAD_MAX, 1), 505);
	CHECK_INT(V_LIM("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
			"Content-Length: 9\r\nExpect: x\r\n\r\n", HEAD_MAX, 1), 501);
	CHECK_INT(V_LIM("GET / HTTP/1.1\r\nHost: h\r\nExpect: x\r\nContent-Length: 9\r\n\r\n",
			HEAD_MAX, 1), 413);
	CHECK_INT(V_LIM("GET / HTTP/1.1\r\nHost: h\r\nExpect: x\r\nContent-Length: 1\r\n\r\n",
			HEAD_MAX, 1), 417);
	/* a malformed line after one this module reads */
	CHECK_INT(V("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: h\r\nbad\r\n\r\n"), 400);
	CHECK_INT(V("GET / HTTP/1.1\r\nContent-Length: x\r\nHost: h\r\n\r\n"), 400);
}

static void error_results(void)
{
	struct http_request r;
	CHECK_INT(parse(S("GET / HTTP/1.1\r\n\r\n"), &r), HTTP_PARSE_ERROR);
	CHECK_INT(r.status, 400);
	CHECK(r.error != NULL && r.error[strlen(r.error) - 1] == '\n');
	CHECK_INT(parse(S("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), &r),
		  HTTP_PARSE_ERROR);
	CHECK_INT(r.status, 501);
	CHECK(r.error != NULL && strchr(r.error, '\n') == r.error + strlen(r.error) - 1);
	static const int statuses[] = {400, 413, 417, 431, 501, 505};
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		CHECK(http_reason(statuses[i]) != NULL);
}

/* ---- query parameters ---- */

static int qp(const char *query, const char *name, char *out, size_t outsz)
{
	return http_query_param(query, query ? strlen(query) : 0, name, out, outsz);
}

static void query_found(void)
{
	char out[64];
	CHECK_INT(qp("a=1&b=two&c=", "b", out, sizeof(out)), 0);
	CHECK_STR(out, "two");
	CHECK_INT(qp("a=1&b=two&c=", "a", out, sizeof(out)), 0);
	CHECK_STR(out, "1");
	CHECK_INT(qp("a=1&b=two&c=", "c", out, sizeof(out)), 0);
	CHECK_STR(out, "");
	CHECK_INT(qp("a=b=c", "a", out, sizeof(out)), 0);
	CHECK_STR(out, "b=c");
	CHECK_INT(qp("&&a=1&", "a", out, sizeof(out)), 0);
	CHECK_STR(out, "1");
	/* without '=': an empty value */
	memcpy(out, "x", 2);
	CHECK_INT(qp("flag&a=1", "flag", out, sizeof(out)), 0);
	CHECK_STR(out, "");
	/* only the first query_len bytes count */
	CHECK_INT(http_query_param("a=12&b=3", 3, "a", out, sizeof(out)), 0);
	CHECK_STR(out, "1");
	CHECK_INT(http_query_param("a=12&b=3", 5, "b", out, sizeof(out)), SM_ENOTFOUND);
}

static void query_absent(void)
{
	char out[64];
	memcpy(out, "x", 2);
	CHECK_INT(qp(NULL, "a", out, sizeof(out)), SM_ENOTFOUND);
	CHECK_STR(out, "");
	CHECK_INT(qp("", "a", out, sizeof(out)), SM_ENOTFOUND);
	CHECK_INT(qp("b=1", "a", out, sizeof(out)), SM_ENOTFOUND);
	/* names are whole, undecoded and case-sensitive */
	CHECK_INT(qp("ll=1", "l", out, sizeof(out)), SM_ENOTFOUND);
	CHECK_INT(qp("l=1", "ll", out, sizeof(out)), SM_ENOTFOUND);
	CHECK_INT(qp("xl=1", "l", out, sizeof(out)), SM_ENOTFOUND);
	CHECK_INT(qp("ll=1&l=2&lll=3", "l", out, sizeof(out)), 0);
	CHECK_STR(out, "2");
	CHECK_INT(qp("L=1", "l", out, sizeof(out)), SM_ENOTFOUND);
	CHECK_INT(qp("%61=1", "a", out, sizeof(out)), SM_ENOTFOUND);
	CHECK_INT(qp("%61=1", "%61", out, sizeof(out)), 0);
	CHECK_STR(out, "1");
	CHECK_INT(qp("a+b=1", "a b", out, sizeof(out)), SM_ENOTFOUND);
}

static void query_decoding(void)
{
	char out[64];
	CHECK_INT(qp("l=luke+sky%20walker", "l", out, sizeof(out)), 0);
	CHECK_STR(out, "luke sky walker");
	CHECK_INT(qp("a=%41%62%2f%2F%7e%7E", "a", out, sizeof(out)), 0);
	CHECK_STR(out, "Ab//~~");
	CHECK_INT(qp("a=%2B+%25", "a", out, sizeof(out)), 0);
	CHECK_STR(out, "+ %");
	CHECK_INT(qp("e=%e2%82%AC", "e", out, sizeof(out)), 0);
	CHECK_STR(out, "\xe2\x82\xac");
	CHECK_INT(qp("address=luke%40jedi.test", "address", out, sizeof(out)), 0);
	CHECK_STR(out, "luke@jedi.test");
	/* bad escapes and NULs */
	static const char *const bad[] = {"a=%", "a=%4", "a=%zz", "a=%4g", "a=%g4", "a=x%",
					  "a=%%41", "a=%00", "a=1%00", "a=% 41", "a=%+41"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(out, "x", 2);
		CHECK_INT(qp(bad[i], "a", out, sizeof(out)), SM_EPARSE);
		CHECK_STR(out, "");
	}
	CHECK_INT(http_query_param("a=1\0" "2", 5, "a", out, sizeof(out)), SM_EPARSE);
	/* an escape elsewhere is not looked at */
	CHECK_INT(qp("b=%zz&a=1", "a", out, sizeof(out)), 0);
	CHECK_STR(out, "1");
}

static void query_duplicates(void)
{
	char out[64];
	CHECK_INT(qp("a=1&a=2", "a", out, sizeof(out)), SM_EPARSE);
	CHECK_STR(out, "");
	CHECK_INT(qp("a=1&a=1", "a", out, sizeof(out)), SM_EPARSE);
	CHECK_INT(qp("a&a=1", "a", out, sizeof(out)), SM_EPARSE);
	CHECK_INT(qp("a=1&b=2&a", "a", out, sizeof(out)), SM_EPARSE);
	CHECK_INT(qp("a=1&b=2&b=3", "a", out, sizeof(out)), 0);
	CHECK_STR(out, "1");
}

static void query_sizes(void)
{
	char out[4];
	CHECK_INT(qp("a=abc", "a", out, sizeof(out)), 0); /* exactly fits */
	CHECK_STR(out, "abc");
	CHECK_INT(qp("a=abcd", "a", out, sizeof(out)), SM_ETOOBIG);
	CHECK_STR(out, "");
	CHECK_INT(qp("a=%41%42%43", "a", out, sizeof(out)), 0);
	CHECK_STR(out, "ABC");
	CHECK_INT(qp("a=%41%42%43+", "a", out, sizeof(out)), SM_ETOOBIG);
	CHECK_STR(out, "");
	/* a bad escape past the limit is still a bad escape */
	CHECK_INT(qp("a=abcdef%zz", "a", out, sizeof(out)), SM_EPARSE);
	CHECK_INT(qp("a=abcdef%00", "a", out, sizeof(out)), SM_EPARSE);
	CHECK_INT(qp("a=", "a", out, 1), 0);
	CHECK_STR(out, "");
	CHECK_INT(qp("a=x", "a", out, 1), SM_ETOOBIG);
	CHECK_STR(out, "");
	CHECK_INT(qp("a=", "a", out, 0), SM_ETOOBIG);
}

/* ---- answers ---- */

static void reasons(void)
{
	static const struct {
		int status;
		const char *reason;
	} known[] = {{100, "Continue"}, {200, "OK"}, {400, "Bad Request"}, {403, "Forbidden"},
		     {404, "Not Found"}, {405, "Method Not Allowed"}, {409, "Conflict"},
		     {413, "Content Too Large"}, {414, "URI Too Long"}, {417, "Expectation Failed"},
		     {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
		     {500, "Internal Server Error"}, {501, "Not Implemented"},
		     {503, "Service Unavailable"}, {505, "HTTP Version Not Supported"}};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		CHECK_STR(http_reason(known[i].status), known[i].reason);
	CHECK(http_reason(0) == NULL);
	CHECK(http_reason(201) == NULL);
	CHECK(http_reason(418) == NULL);
	CHECK(http_reason(-404) == NULL);
}

/* r's head as a C string (buf keeps a NUL after the data). */
static int head_is(const struct http_response *r, int close, const char *want)
{
	struct buf b;
	buf_init(&b, 4096);
	int ok = http_response_head(r, close, &b) == 0 && b.len == strlen(want) &&
		 memcmp(b.data, want, b.len) == 0;
	if (!ok)
		printf("# head: %s\n", b.data ? (const char *)b.data : "(none)");
	buf_free(&b);
	return ok;
}

static void response_heads(void)
{
	struct http_response r = {.status = 200,
				  .content_type = "application/octet-stream",
				  .cache_control = "public, max-age=3600",
				  .content_length = 1234,
				  .body = (const uint8_t *)""};
	CHECK(head_is(&r, 0,
		      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
		      "Content-Length: 1234\r\nCache-Control: public, max-age=3600\r\n"
		      "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n\r\n"));
	CHECK(head_is(&r, 1,
		      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
		      "Content-Length: 1234\r\nCache-Control: public, max-age=3600\r\n"
		      "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n"
		      "Connection: close\r\n\r\n"));
	struct http_response m = {.status = 405,
				  .content_type = "text/plain; charset=utf-8",
				  .cache_control = "no-store",
				  .allow = "GET, HEAD",
				  .content_length = 9,
				  .body = (const uint8_t *)"use GET\n",
				  .body_len = 8};
	CHECK(head_is(&m, 0,
		      "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n"
		      "Content-Length: 9\r\nCache-Control: no-store\r\nAllow: GET, HEAD\r\n"
		      "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n\r\n"));
	struct http_response t = {.status = 429, .retry_after = 37};
	CHECK(head_is(&t, 1,
		      "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nRetry-After: 37\r\n"
		      "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n"
		      "Connection: close\r\n\r\n"));
	struct http_response all = {.status = 503,
				    .content_type = "text/plain",
				    .cache_control = "no-store",
				    .allow = "POST",
				    .retry_after = 4294967295u,
				    .content_length = UINT64_MAX};
	CHECK(head_is(&all, 1,
		      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
		      "Content-Length: 18446744073709551615\r\nCache-Control: no-store\r\n"
		      "Allow: POST\r\nRetry-After: 4294967295\r\n"
		      "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n"
		      "Connection: close\r\n\r\n"));
	/* Date, as RFC 9110 5.6.7 spells its example, and a leap day */
	struct http_response d = {.status = 404, .date = 784111777};
	CHECK(head_is(&d, 0,
		      "HTTP/1.1 404 Not Found\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
		      "Content-Length: 0\r\n"
		      "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n\r\n"));
	d.date = 1835395200; /* 2028-02-29 */
	CHECK(head_is(&d, 0,
		      "HTTP/1.1 404 Not Found\r\nDate: Tue, 29 Feb 2028 00:00:00 GMT\r\n"
		      "Content-Length: 0\r\n"
		      "Access-Control-Allow-Origin: *\r\nX-Content-Type-Options: nosniff\r\n\r\n"));
	/* 1xx: the status line alone (no Content-Length, RFC 9110 8.6) */
	struct http_response c = {.status = 100,
				  .content_type = "text/plain",
				  .cache_control = "no-store",
				  .retry_after = 5,
				  .content_length = 7};
	CHECK(head_is(&c, 1, "HTTP/1.1 100 Continue\r\n\r\n"));
}

static void response_refusals(void)
{
	struct buf b;
	struct http_response r = {.status = 299, .content_type = "text/plain"};
	buf_init(&b, 4096);
	CHECK_INT(http_response_head(&r, 0, &b), SM_EINVAL);
	CHECK_INT(b.len, 0);
	r.status = 0;
	CHECK_INT(http_response_head(&r, 0, &b), SM_EINVAL);
	r.status = 404;
	CHECK_INT(http_response_head(&r, 0, &b), 0);
	size_t n = b.len;
	buf_free(&b);
	/* exactly n bytes fit; one fewer does not */
	buf_init(&b, n);
	CHECK_INT(http_response_head(&r, 0, &b), 0);
	buf_free(&b);
	buf_init(&b, n - 1);
	CHECK_INT(http_response_head(&r, 0, &b), SM_ETOOBIG);
	buf_free(&b);
	/* a head that does not fit leaves the buffer as it was */
	buf_init(&b, 16);
	CHECK_INT(buf_append_str(&b, "x"), 0);
	CHECK_INT(http_response_head(&r, 1, &b), SM_ETOOBIG);
	CHECK_INT(b.len, 1);
	CHECK(memcmp(b.data, "x", 2) == 0);
	buf_free(&b);
	/* appended after what the buffer holds */
	buf_init(&b, 4096);
	CHECK_INT(buf_append_str(&b, "x"), 0);
	CHECK_INT(http_response_head(&r, 0, &b), 0);
	CHECK_INT(b.len, n + 1);
	CHECK(memcmp(b.data, "xHTTP/1.1 404 Not Found\r\n", 25) == 0);
	buf_free(&b);
}

int main(void)
{
	RUN(simple_get);
	RUN(every_prefix);
	RUN(stable_answers);
	RUN(line_ends);
	RUN(leading_empty_lines);
	RUN(request_line_errors);
	RUN(token_chars);
	RUN(value_chars);
	RUN(header_line_errors);
	RUN(header_case_and_trim);
	RUN(path_and_query);
	RUN(pipelined);
	RUN(host_rules);
	RUN(version_rules);
	RUN(content_length_rules);
	RUN(transfer_encoding_rules);
	RUN(expect_rules);
	RUN(keep_alive_rules);
	RUN(authorization_rules);
	RUN(header_line_limit);
	RUN(head_size_limit);
	RUN(precedence);
	RUN(error_results);
	RUN(query_found);
	RUN(query_absent);
	RUN(query_decoding);
	RUN(query_duplicates);
	RUN(query_sizes);
	RUN(reasons);
	RUN(response_heads);
	RUN(response_refusals);
	free(in);
	return check_done();
}
