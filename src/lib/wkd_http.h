/* wkd_http.h: the key directory's HTTP routing, without sockets or files.
 *
 * The daemon parses the request (http.h), then asks wkd_http_route() what
 * to answer: a struct http_response whose status is 200, 400, 404, 405
 * ("Allow: GET, HEAD"), 414 or 500, with the body borrowed as
 * wkd_http_ops says and none for HEAD. Routing touches no file system: the
 * storage is the daemon's, reached only through the callbacks in struct
 * wkd_http_ops, which receive nothing but a validated domain and a
 * validated hash. Served paths (draft-koch-openpgp-webkey-service):
 *
 *   advanced  /.well-known/openpgpkey/<domain>/hu/<hash>   (domain from the path)
 *             /.well-known/openpgpkey/<domain>/policy
 *             /.well-known/openpgpkey/<domain>/submission-address   (Web Key Service)
 *   direct    /.well-known/openpgpkey/hu/<hash>            (domain from Host)
 *             /.well-known/openpgpkey/policy
 *             /.well-known/openpgpkey/submission-address
 *
 * A query ("?l=<local-part>") is accepted and ignored: the hash decides.
 *
 * The advanced method takes the domain from the path and accepts any Host:
 * every answer is public data, and a front end or CDN may rewrite Host, so
 * insisting on "openpgpkey.<domain>" would protect nothing. The domain must
 * still be one the daemon serves (ops->domain_served).
 *
 * Strictness, in order (the first rule that applies decides):
 *   414  the request target is longer than WKD_HTTP_TARGET_MAX bytes
 *   405  the method is neither "GET" nor "HEAD" (case-sensitive; "Allow: GET, HEAD")
 *   400  the target is not origin-form ('/' first; absolute-form and '*' are
 *        refused), or its path holds a byte outside RFC 3986 pchar and '/':
 *        this includes every '%' (no percent-decoding at all: the fixed
 *        segments, the z-base-32 hash and A-label domains never need it, so
 *        "%2e%2e", "%2f" and "%68u" can only be smuggling or a
 *        non-canonical spelling), '\\', NUL, controls, spaces and non-ASCII;
 *        or a "." or ".." segment or an empty segment ("//") anywhere but
 *        at the end; or the query holds a control, space, non-ASCII or '#';
 *        or Host is malformed (anything but a host name of letters, digits,
 *        '.', '-', or a bracketed IPv6 literal, with an optional ":port");
 *        or the direct method is asked with no Host or a Host that is not a
 *        domain name
 *   404  anything else that is not one of the four paths above, a hash that
 *        is not 32 z-base-32 characters (lowercase), a path domain that is not
 *        a valid LDH name, a domain the daemon does not serve, no such key
 *   500  a callback failed (storage error), or the policy it returned is
 *        malformed (see wkd_http_policy_check)
 *   200  the key (application/octet-stream) or the policy (text/plain)
 *
 * Domains: ASCII only (IDNs must be in A-label, "xn--", form), lowercased,
 * a trailing dot of the Host dropped, at most WKD_DOMAIN_MAX bytes. */
#ifndef SEALMAIL_WKD_HTTP_H
#define SEALMAIL_WKD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "http.h"
#include "wkd.h"

#define WKD_HTTP_TARGET_MAX 1024

/* The request as received. Nothing here needs to be NUL-terminated and it
 * may hold any bytes; the pointers are borrowed for the call only. host is
 * NULL when the request had no Host header. */
struct wkd_http_request {
	const char *method;
	size_t method_len;
	const char *target; /* path and query, as on the request line */
	size_t target_len;
	const char *host; /* the Host header's value, port included */
	size_t host_len;
};

/* The daemon's storage. domain is lowercase, validated, NUL-terminated;
 * hash is exactly WKD_HASH_LEN z-base-32 characters, NUL-terminated. Both
 * are borrowed for the call. lookup_key and policy are only ever called for
 * a domain domain_served() said yes to. */
struct wkd_http_ops {
	/* 1 if the daemon serves domain, 0 if not. NULL: serves none. */
	int (*domain_served)(void *ctx, const char *domain);
	/* 0 and the binary key (ret_data borrowed: it must stay valid and
	 * unchanged until the response has been sent; ret_len > 0), or
	 * SM_ENOTFOUND (404), or another negative code (500). NULL: no keys. */
	int (*lookup_key)(void *ctx, const char *domain, const char *hash,
			  const uint8_t **ret_data, size_t *ret_len);
	/* 0 and the policy file (borrowed as above; may be empty), or a
	 * negative code (500; SM_ENOTFOUND too, since a served domain always
	 * has a policy). NULL: every served domain has an empty policy. */
	int (*policy)(void *ctx, const char *domain, const uint8_t **ret_data, size_t *ret_len);
	void *ctx;
	/* The Web Key Service's submission-address file (borrowed as above),
	 * or SM_ENOTFOUND (404). NULL: no domain has one. */
	int (*submission_address)(void *ctx, const char *domain, const uint8_t **ret_data,
				  size_t *ret_len);
};

/* Decides the response to req. Every request has an answer, so this cannot
 * fail; ret is always filled in. ops itself is borrowed for the call. */
void wkd_http_route(const struct wkd_http_request *req, const struct wkd_http_ops *ops,
		    struct http_response *ret);

/* 0 if data (len bytes) is a policy file clients read as meant: empty, or
 * lines each ending in "\n", with no NUL; SM_EPARSE otherwise. The router
 * answers 500 rather than serve a malformed policy; the daemon's
 * configuration check should call this so that never happens. */
int wkd_http_policy_check(const uint8_t *data, size_t len) SM_WUR;

#endif
