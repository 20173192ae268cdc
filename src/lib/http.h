/* http.h: HTTP/1.1 messages of the key directory, without sockets
 * (RFC 9110, RFC 9112): reading a request head from untrusted bytes, the
 * parameters of its query, and writing a response head.
 *
 * The daemon (src/daemon/https.c) keeps the bytes a connection has sent in
 * one bounded buffer and calls http_request_parse() on them until the head
 * is complete; the body is then the next content_length bytes. Everything
 * a request names is borrowed from that buffer.
 *
 * What a request may be, and the answer when it is not (the first rule that
 * applies decides; each error answer closes the connection):
 *   431  the head (request line, header lines and the empty line, any empty
 *        lines before the request line included) is longer than max_head,
 *        complete or not, or has more than HTTP_HEADER_LINES_MAX header lines
 *   400  the request line is not "<method> <target> HTTP/<d>.<d>" with single
 *        spaces: a method of RFC 9110 token characters, a target of visible
 *        ASCII (0x21-0x7e); a line ends in CRLF or a bare LF, and a CR
 *        anywhere else is an error; a header line is not "<name>:<value>"
 *        with a token name (no space before the colon), or its value holds a
 *        control other than HTAB (obs-text, 0x80-0xff, is allowed); a line
 *        folded onto the one before (obs-fold); Host missing in an HTTP/1.1
 *        request, or given twice; Authorization given twice; Content-Length
 *        not all digits, above 2^53, or given twice
 *   505  a version other than HTTP/1.0 and HTTP/1.1
 *   501  Transfer-Encoding in any form: request bodies must have a
 *        Content-Length (a request with both is a smuggling attempt)
 *   413  Content-Length above max_body
 *   417  Expect with anything but "100-continue" (case-insensitive)
 *
 * Header names are matched case-insensitively; values lose leading and
 * trailing spaces and tabs. Headers other than Host, Content-Length,
 * Transfer-Encoding, Connection, Expect and Authorization are ignored.
 * Connection is a comma-separated list: "close" ends the connection after
 * the answer, "keep-alive" keeps an HTTP/1.0 one (HTTP/1.1 keeps it by
 * default). */
#ifndef SEALMAIL_HTTP_H
#define SEALMAIL_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define HTTP_HEADER_LINES_MAX 100

enum http_parse {
	HTTP_PARSE_ERROR = -1, /* ret->status and ret->error say what to answer */
	HTTP_PARSE_MORE = 0,   /* the head is not complete yet (and within max_head) */
	HTTP_PARSE_HEAD = 1,   /* ret holds the head */
};

/* A request head. The pointers are into the data given to
 * http_request_parse() and live as long as it; none is NUL-terminated. */
struct http_request {
	const char *method;
	size_t method_len;
	const char *target; /* as on the request line: path and query */
	size_t target_len;
	const char *path; /* the target up to the first '?' (all of it without one) */
	size_t path_len;
	const char *query; /* after the first '?'; NULL when there is no '?' */
	size_t query_len;
	const char *host; /* the Host header's value; NULL without one */
	size_t host_len;
	const char *authorization; /* the Authorization header's value; NULL without one */
	size_t authorization_len;
	int minor;              /* the version: HTTP/1.<minor>, 0 or 1 */
	int keep_alive;         /* 1: the connection carries on after the answer */
	int expect_continue;    /* 1: "Expect: 100-continue" in HTTP/1.1 (RFC 9110
				 * 10.1.1: ignored in HTTP/1.0, never 1 there) */
	uint64_t content_length; /* 0 without Content-Length */
	size_t head_len;        /* bytes of the head, empty line included; the body follows */
	/* HTTP_PARSE_ERROR only: */
	int status;        /* 400, 413, 417, 431, 501 or 505 */
	const char *error; /* static text for the answer's body: one line ending in "\n" */
};

/* Reads the request head at the start of data (len bytes). HTTP_PARSE_HEAD:
 * ret is filled in (status 0, error NULL). HTTP_PARSE_MORE: ret is
 * untouched. HTTP_PARSE_ERROR: only ret->status and ret->error are
 * meaningful. Never reads past data + len. */
int http_request_parse(const uint8_t *data, size_t len, size_t max_head, uint64_t max_body,
		       struct http_request *ret) SM_WUR;

/* The value of the parameter name in query (query_len bytes, as in struct
 * http_request; NULL means no query), in the form encoding: '&'-separated
 * "name=value" pairs, '+' for a space, "%XX" escapes (either case). The
 * value is decoded into out, NUL-terminated, at most outsz - 1 bytes.
 * Returns 0, SM_ENOTFOUND if there is no such parameter, SM_EPARSE if it is
 * there more than once or its value holds a bad escape or a decoded NUL,
 * SM_ETOOBIG if the value does not fit (out is then an empty string). A
 * parameter without '=' has an empty value. Names are compared undecoded
 * and case-sensitively. */
int http_query_param(const char *query, size_t query_len, const char *name, char *out,
		     size_t outsz) SM_WUR;

/* An answer. The strings are static; body is borrowed until the head and
 * body have been copied out. */
struct http_response {
	int status;
	const char *content_type;  /* NULL: no Content-Type */
	const char *cache_control; /* NULL: no Cache-Control */
	const char *allow;         /* NULL: no Allow; else e.g. "GET, HEAD" */
	unsigned retry_after;      /* 0: no Retry-After; else seconds */
	uint64_t content_length;   /* the Content-Length header: GET's body length, for HEAD too */
	const uint8_t *body;
	size_t body_len; /* bytes to send after the head: 0 for HEAD */
	int64_t date;    /* Unix time for the Date header (RFC 9110 6.6.1); 0: none */
};

/* The reason phrase of status ("Not Found"), or NULL for a status this
 * module does not know. Known: 100, 200, 400, 403, 404, 405, 409, 413,
 * 414, 417, 429, 431, 500, 501, 503 and 505. */
const char *http_reason(int status);

/* Appends r's head to ret: "HTTP/1.1 <status> <reason>", then
 * Date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"), Content-Type,
 * Content-Length, Cache-Control, Allow and Retry-After as
 * set, "Access-Control-Allow-Origin: *" (every answer of the directory is
 * public), "X-Content-Type-Options: nosniff", "Connection: close" if
 * close, and the empty line; for a 1xx status only the status line and
 * the empty line (RFC 9110 8.6: no Content-Length there). SM_EINVAL for an
 * unknown status; SM_ETOOBIG at ret's limit (ret is then as it was). */
int http_response_head(const struct http_response *r, int close, struct buf *ret) SM_WUR;

#endif
