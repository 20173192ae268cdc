#include "wkd_http.h"

#include <string.h>

/* More segments than any WKD path has; a longer path is simply not found. */
#define WKD_HTTP_SEG_MAX 6

struct span {
	const char *p;
	size_t n;
};

/* What a WKD path names. domain is empty for the direct method. */
struct wkd_res {
	int direct;
	int policy;
	int submission; /* the submission-address file */
	struct span domain;
	struct span hash;
};

static const char zb32_alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
static const uint8_t empty_body[1] = {0};

static const char ct_key[] = "application/octet-stream";
static const char ct_text[] = "text/plain; charset=utf-8";

/* Keys and policies may be cached for an hour: a new or revoked key reaches
 * caches that soon (gpg itself does not cache). A 404 only for a minute, so
 * a user who has just published is found. Errors are not cached. */
struct status_info {
	int status;
	const char *body;
	const char *cache;
};

static const struct status_info statuses[] = {
	{200, "", "public, max-age=3600"},
	{400, "bad request\n", "no-store"},
	{404, "not found\n", "public, max-age=60"},
	{405, "method not allowed\n", "no-store"},
	{414, "request target too long\n", "no-store"},
	{500, "internal error\n", "no-store"},
};

static const struct status_info *status_find(int status)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].status == status)
			return &statuses[i];
	return NULL;
}

static void set_status(struct http_response *r, int status)
{
	const struct status_info *si = status_find(status);
	r->status = status;
	r->content_type = ct_text;
	r->cache_control = si->cache;
	r->allow = status == 405 ? "GET, HEAD" : NULL;
	r->retry_after = 0;
	r->body = (const uint8_t *)si->body;
	r->body_len = strlen(si->body);
}

static void set_found(struct http_response *r, const char *type, const uint8_t *data,
		      size_t len)
{
	set_status(r, 200);
	r->content_type = type;
	r->body = len > 0 ? data : empty_body;
	r->body_len = len;
}

/* strchr() that does not match the terminator. */
static int in_set(char c, const char *set)
{
	return c != 0 && strchr(set, c) != NULL;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 3986 pchar without pct-encoded: see wkd_http.h for why no '%'. */
static int is_pchar(char c)
{
	return is_alnum(c) || in_set(c, "-._~!$&'()*+,;=:@");
}

static int span_is(struct span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* The query is ignored, but it must still be plain printable ASCII. */
static int query_ok(const char *q, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (q[i] <= 0x20 || q[i] >= 0x7f || q[i] == '#')
			return 0;
	return 1;
}

static int segment_ok(struct span s, int last)
{
	if (s.n == 0)
		return last; /* "//" is refused, a trailing '/' only finds nothing */
	if (span_is(s, ".") || span_is(s, ".."))
		return 0;
	for (size_t i = 0; i < s.n; i++)
		if (!is_pchar(s.p[i]))
			return 0;
	return 1;
}

/* Splits path (starting with '/') into segments; keeps the first
 * WKD_HTTP_SEG_MAX but counts and checks them all. -1: a 400. */
static int segments_split(const char *path, size_t len, struct span *seg, size_t *ret_n)
{
	size_t n = 0, start = 1;
	while (start <= len) {
		const char *slash = memchr(path + start, '/', len - start);
		size_t end = slash ? (size_t)(slash - path) : len;
		struct span s = {path + start, end - start};
		if (!segment_ok(s, end == len))
			return -1;
		if (n < WKD_HTTP_SEG_MAX)
			seg[n] = s;
		n++;
		start = end + 1;
	}
	*ret_n = n;
	return 0;
}

static int host_name_char(char c)
{
	return is_alnum(c) || c == '-' || c == '.';
}

/* Checks a Host value and returns its name without the port. A bracketed
 * IPv6 literal is valid but names no domain: its name is empty. -1: a 400. */
static int host_parse(const char *h, size_t n, struct span *ret_name)
{
	size_t end = 0;
	struct span name = {h, 0};
	if (n > 0 && h[0] == '[') {
		while (++end < n && h[end] != ']')
			if (!in_set(h[end], "0123456789abcdefABCDEF:."))
				return -1;
		if (end++ >= n)
			return -1;
	} else {
		while (end < n && host_name_char(h[end]))
			end++;
		name.n = end;
	}
	if (end < n && h[end++] != ':')
		return -1;
	if (n - end > 5)
		return -1;
	for (; end < n; end++)
		if (h[end] < '0' || h[end] > '9')
			return -1;
	*ret_name = name;
	return 0;
}

/* Lowercased, validated domain (wkd_address_parse's LDH rules) or -1. */
static int domain_canon(struct span s, char ret[WKD_DOMAIN_MAX + 1])
{
	char addr[2 + WKD_DOMAIN_MAX + 1] = "h@";
	struct wkd_address a;
	if (s.n == 0 || s.n > WKD_DOMAIN_MAX)
		return -1;
	for (size_t i = 0; i < s.n; i++)
		if (!host_name_char(s.p[i]))
			return -1;
	memcpy(addr + 2, s.p, s.n);
	addr[2 + s.n] = 0;
	if (wkd_address_parse(addr, &a) < 0)
		return -1;
	memcpy(ret, a.domain, strlen(a.domain) + 1);
	return 0;
}

static int hash_ok(struct span s)
{
	if (s.n != WKD_HASH_LEN)
		return 0;
	for (size_t i = 0; i < s.n; i++)
		if (!in_set(s.p[i], zb32_alphabet))
			return 0;
	return 1;
}

/* Which of the four WKD resources seg names; -1 if none. */
static int wkd_match(const struct span *seg, size_t n, struct wkd_res *ret)
{
	struct wkd_res res = {0, 0, 0, {"", 0}, {"", 0}};
	if (n < 3 || n > 5 || !span_is(seg[0], ".well-known") || !span_is(seg[1], "openpgpkey"))
		return -1;
	if (n == 4 && span_is(seg[2], "hu")) {
		res.direct = 1;
		res.hash = seg[3];
	} else if (n == 3 && span_is(seg[2], "policy")) {
		res.direct = res.policy = 1;
	} else if (n == 3 && span_is(seg[2], "submission-address")) {
		res.direct = res.submission = 1;
	} else if (n == 5 && span_is(seg[3], "hu")) {
		res.domain = seg[2];
		res.hash = seg[4];
	} else if (n == 4 && span_is(seg[3], "policy")) {
		res.domain = seg[2];
		res.policy = 1;
	} else if (n == 4 && span_is(seg[3], "submission-address")) {
		res.domain = seg[2];
		res.submission = 1;
	} else {
		return -1;
	}
	*ret = res;
	return 0;
}

static void serve_key(const struct wkd_http_ops *ops, const char *domain, struct span hash,
		      struct http_response *r)
{
	char h[WKD_HASH_LEN + 1];
	const uint8_t *data = NULL;
	size_t len = 0;
	if (ops->lookup_key == NULL) {
		set_status(r, 404);
		return;
	}
	memcpy(h, hash.p, WKD_HASH_LEN);
	h[WKD_HASH_LEN] = 0;
	int rc = ops->lookup_key(ops->ctx, domain, h, &data, &len);
	if (rc == SM_ENOTFOUND)
		set_status(r, 404);
	else if (rc != 0 || data == NULL || len == 0)
		set_status(r, 500);
	else
		set_found(r, ct_key, data, len);
}

static void serve_policy(const struct wkd_http_ops *ops, const char *domain,
			 struct http_response *r)
{
	const uint8_t *data = empty_body;
	size_t len = 0;
	int rc = ops->policy ? ops->policy(ops->ctx, domain, &data, &len) : 0;
	if (rc != 0 || (data == NULL && len > 0) || wkd_http_policy_check(data, len) < 0)
		set_status(r, 500);
	else
		set_found(r, ct_text, data, len);
}

static void serve_submission(const struct wkd_http_ops *ops, const char *domain,
			     struct http_response *r)
{
	const uint8_t *data = NULL;
	size_t len = 0;
	int rc = ops->submission_address ? ops->submission_address(ops->ctx, domain, &data, &len)
					 : SM_ENOTFOUND;
	if (rc == SM_ENOTFOUND)
		set_status(r, 404);
	else if (rc != 0 || data == NULL || len == 0)
		set_status(r, 500);
	else
		set_found(r, ct_text, data, len);
}

/* Resolves the domain (from Host for the direct method, from the path for
 * the advanced one) and asks the daemon's storage. */
static void serve(const struct wkd_res *res, struct span host, const struct wkd_http_ops *ops,
		  struct http_response *r)
{
	char domain[WKD_DOMAIN_MAX + 1];
	if (!res->policy && !res->submission && !hash_ok(res->hash)) {
		set_status(r, 404);
		return;
	}
	if (res->direct && host.n > 1 && host.p[host.n - 1] == '.')
		host.n--; /* "jedi.test." is jedi.test */
	if (res->direct && domain_canon(host, domain) < 0) {
		set_status(r, 400);
		return;
	}
	if ((!res->direct && domain_canon(res->domain, domain) < 0) ||
	    ops->domain_served == NULL || ops->domain_served(ops->ctx, domain) != 1) {
		set_status(r, 404);
		return;
	}
	if (res->policy)
		serve_policy(ops, domain, r);
	else if (res->submission)
		serve_submission(ops, domain, r);
	else
		serve_key(ops, domain, res->hash, r);
}

static void route_target(const struct wkd_http_request *req, const struct wkd_http_ops *ops,
			 struct http_response *r)
{
	struct span seg[WKD_HTTP_SEG_MAX], host = {"", 0};
	struct wkd_res res;
	size_t nseg = 0;
	const char *q = req->target_len ? memchr(req->target, '?', req->target_len) : NULL;
	size_t plen = q ? (size_t)(q - req->target) : req->target_len;
	if (req->target_len == 0 || req->target[0] != '/' ||
	    !query_ok(req->target + plen, req->target_len - plen) ||
	    segments_split(req->target, plen, seg, &nseg) < 0 ||
	    (req->host != NULL && host_parse(req->host, req->host_len, &host) < 0)) {
		set_status(r, 400);
		return;
	}
	if (wkd_match(seg, nseg, &res) < 0)
		set_status(r, 404);
	else
		serve(&res, host, ops, r);
}

static int method_is(const struct wkd_http_request *req, const char *m)
{
	size_t n = strlen(m);
	return req->method_len == n && memcmp(req->method, m, n) == 0;
}

void wkd_http_route(const struct wkd_http_request *req, const struct wkd_http_ops *ops,
		    struct http_response *ret)
{
	struct http_response r = {0}; /* no Retry-After, no Date: the daemon sets those */
	int head = method_is(req, "HEAD");
	if (req->target_len > WKD_HTTP_TARGET_MAX)
		set_status(&r, 414);
	else if (!head && !method_is(req, "GET"))
		set_status(&r, 405);
	else
		route_target(req, ops, &r);
	r.content_length = r.body_len;
	if (head) {
		r.body = empty_body;
		r.body_len = 0;
	}
	*ret = r;
}

int wkd_http_policy_check(const uint8_t *data, size_t len)
{
	if (len == 0)
		return 0;
	if (data[len - 1] != '\n' || memchr(data, 0, len) != NULL)
		return SM_EPARSE;
	return 0;
}
