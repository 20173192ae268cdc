/* test_wkd_http: the key directory's routing decisions, one request at a
 * time, against a fixture storage that records and checks every call. */
#include "check.h"
#include "wkd_http.h"

#define LUKE "pc53ux1dyd1rjnpyonebrx3aemurd8pf" /* wkd_hash_local_part("luke") */
#define NOBODY "ybndrfg8ejkmcpqxot1uwisza345h769" /* valid z-base-32, no key */
#define WK "/.well-known/openpgpkey"

static const uint8_t luke_key[] = {0x98, 0x33, 0x04, 0x00, 0x0a, 0x00, 0x00, 0xff, 0x0d, 0x0a};
static const uint8_t buecher_key[] = {0x98, 0x01, 0x02};
static const char jedi_policy[] = "protocol-version: 5\nauth-submit\n";
static const char bad_policy[] = "protocol-version: 5"; /* no final newline */

/* The fixture's storage, and what the router asked of it. */
struct fixture {
	int lookups;    /* lookup_key calls */
	int violations; /* calls with arguments the router promised never to pass */
	char last_domain[WKD_DOMAIN_MAX + 1];
	char last_hash[WKD_HASH_LEN + 1];
	int fail_lookup; /* lookup_key answers this code instead, if nonzero */
};

static const char *const served[] = {"jedi.test", "rebels.test", "xn--bcher-kva.test",
				     "bad.test"};

static int is_served(const char *domain)
{
	for (size_t i = 0; i < sizeof(served) / sizeof(served[0]); i++)
		if (strcmp(domain, served[i]) == 0)
			return 1;
	return 0;
}

static int fx_served(void *ctx, const char *domain)
{
	struct fixture *fx = ctx;
	size_t n = strlen(domain);
	if (n == 0 || n > WKD_DOMAIN_MAX || strspn(domain, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n)
		fx->violations++;
	return is_served(domain);
}

static int fx_lookup(void *ctx, const char *domain, const char *hash, const uint8_t **ret_data,
		     size_t *ret_len)
{
	struct fixture *fx = ctx;
	fx->lookups++;
	if (!is_served(domain) || strlen(hash) != WKD_HASH_LEN ||
	    strspn(hash, "ybndrfg8ejkmcpqxot1uwisza345h769") != WKD_HASH_LEN)
		fx->violations++;
	snprintf(fx->last_domain, sizeof(fx->last_domain), "%s", domain);
	snprintf(fx->last_hash, sizeof(fx->last_hash), "%s", hash);
	if (fx->fail_lookup)
		return fx->fail_lookup;
	if (strcmp(hash, LUKE) == 0 && strcmp(domain, "jedi.test") == 0) {
		*ret_data = luke_key;
		*ret_len = sizeof(luke_key);
		return 0;
	}
	if (strcmp(hash, LUKE) == 0 && strcmp(domain, "xn--bcher-kva.test") == 0) {
		*ret_data = buecher_key;
		*ret_len = sizeof(buecher_key);
		return 0;
	}
	return SM_ENOTFOUND;
}

static int fx_policy(void *ctx, const char *domain, const uint8_t **ret_data, size_t *ret_len)
{
	struct fixture *fx = ctx;
	if (!is_served(domain))
		fx->violations++;
	if (strcmp(domain, "jedi.test") == 0) {
		*ret_data = (const uint8_t *)jedi_policy;
		*ret_len = strlen(jedi_policy);
	} else if (strcmp(domain, "bad.test") == 0) {
		*ret_data = (const uint8_t *)bad_policy;
		*ret_len = strlen(bad_policy);
	}
	return 0; /* others: left as they are, an empty policy */
}

static struct fixture fx;
static int fx_submission(void *ctx, const char *domain, const uint8_t **ret_data, size_t *ret_len)
{
	(void)ctx;
	if (strcmp(domain, "jedi.test") != 0)
		return SM_ENOTFOUND;
	*ret_data = (const uint8_t *)"key-submission@jedi.test\n";
	*ret_len = 25;
	return 0;
}

static const struct wkd_http_ops ops = {fx_served, fx_lookup, fx_policy, &fx, fx_submission};

/* Routes a request given as C strings (host NULL: no Host header). */
static struct http_response route_n(const char *method, const char *target, size_t target_len,
					const char *host)
{
	struct wkd_http_request req = {method, strlen(method), target, target_len, host,
				       host ? strlen(host) : 0};
	struct http_response r;
	memset(&r, 0x5a, sizeof(r));
	wkd_http_route(&req, &ops, &r);
	return r;
}

static struct http_response route(const char *method, const char *target, const char *host)
{
	return route_n(method, target, strlen(target), host);
}

static int body_is(const struct http_response *r, const void *want, size_t len)
{
	return r->body_len == len && r->content_length == len && memcmp(r->body, want, len) == 0;
}

static void advanced_method(void)
{
	memset(&fx, 0, sizeof(fx));
	struct http_response r = route("GET", WK "/jedi.test/hu/" LUKE "?l=luke", "openpgpkey.jedi.test");
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, "application/octet-stream");
	CHECK(body_is(&r, luke_key, sizeof(luke_key)));
	CHECK_STR(r.cache_control, "public, max-age=3600");
	CHECK(r.allow == NULL);
	CHECK_INT(fx.lookups, 1);
	CHECK_STR(fx.last_domain, "jedi.test");
	CHECK_STR(fx.last_hash, LUKE);
	/* any Host: the domain comes from the path */
	r = route("GET", WK "/jedi.test/hu/" LUKE, "localhost:8443");
	CHECK_INT(r.status, 200);
	r = route("GET", WK "/jedi.test/hu/" LUKE, NULL);
	CHECK_INT(r.status, 200);
	r = route("GET", WK "/jedi.test/hu/" LUKE, "[::1]:443");
	CHECK_INT(r.status, 200);
	/* the path's domain is case-insensitive */
	r = route("GET", WK "/JEDI.Test/hu/" LUKE, "openpgpkey.jedi.test");
	CHECK_INT(r.status, 200);
	CHECK_STR(fx.last_domain, "jedi.test");
	CHECK_INT(fx.violations, 0);
}

static void direct_method(void)
{
	static const char *hosts[] = {"jedi.test", "JEDI.TEST", "jedi.test:443", "jedi.test:8443",
				      "jedi.test.", "jedi.test.:443", "jedi.test:"};
	memset(&fx, 0, sizeof(fx));
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		struct http_response r = route("GET", WK "/hu/" LUKE "?l=luke", hosts[i]);
		if (r.status != 200)
			printf("# Host: %s\n", hosts[i]);
		CHECK_INT(r.status, 200);
		CHECK(body_is(&r, luke_key, sizeof(luke_key)));
		CHECK_STR(fx.last_domain, "jedi.test");
	}
	/* the direct method needs a Host that is a domain name */
	CHECK_INT(route("GET", WK "/hu/" LUKE, NULL).status, 400);
	CHECK_INT(route("GET", WK "/hu/" LUKE, "").status, 400);
	CHECK_INT(route("GET", WK "/hu/" LUKE, "[::1]:443").status, 400);
	CHECK_INT(route("GET", WK "/hu/" LUKE, "jedi..test").status, 400);
	/* openpgpkey.jedi.test is not jedi.test for the direct method */
	CHECK_INT(route("GET", WK "/hu/" LUKE, "openpgpkey.jedi.test").status, 404);
	CHECK_INT(fx.violations, 0);
}

static void head_requests(void)
{
	struct buf hg, hh;
	buf_init(&hg, 4096);
	buf_init(&hh, 4096);
	struct http_response g = route("GET", WK "/jedi.test/hu/" LUKE, "openpgpkey.jedi.test");
	struct http_response h = route("HEAD", WK "/jedi.test/hu/" LUKE, "openpgpkey.jedi.test");
	CHECK_INT(h.status, 200);
	CHECK_INT(h.body_len, 0);
	CHECK_INT(h.content_length, sizeof(luke_key));
	CHECK_INT(http_response_head(&g, 0, &hg), 0);
	CHECK_INT(http_response_head(&h, 0, &hh), 0);
	CHECK(hg.len == hh.len && memcmp(hg.data, hh.data, hg.len) == 0);
	/* errors too: same head, no body */
	g = route("GET", "/nothing", "jedi.test");
	h = route("HEAD", "/nothing", "jedi.test");
	CHECK_INT(h.status, 404);
	CHECK_INT(h.body_len, 0);
	CHECK_INT(h.content_length, g.content_length);
	CHECK(g.body_len > 0 && g.body_len == g.content_length);
	h = route("HEAD", WK "/policy", "jedi.test");
	CHECK_INT(h.status, 200);
	CHECK_INT(h.body_len, 0);
	CHECK_INT(h.content_length, strlen(jedi_policy));
	buf_free(&hg);
	buf_free(&hh);
}

static void methods(void)
{
	static const char *bad[] = {"POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH",
				    "get", "Head", "", "GET ", " GET", "GETX"};
	struct buf b;
	memset(&fx, 0, sizeof(fx));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct http_response r = route(bad[i], WK "/jedi.test/hu/" LUKE, "jedi.test");
		CHECK_INT(r.status, 405);
		CHECK_STR(r.allow, "GET, HEAD");
		CHECK_STR(r.cache_control, "no-store");
	}
	CHECK_INT(fx.lookups, 0);
	struct http_response r = route("POST", WK "/hu/" LUKE, "jedi.test");
	buf_init(&b, 4096);
	CHECK_INT(http_response_head(&r, 0, &b), 0);
	CHECK(strstr((char *)b.data, "HTTP/1.1 405 Method Not Allowed\r\n") == (char *)b.data);
	CHECK(strstr((char *)b.data, "\r\nAllow: GET, HEAD\r\n") != NULL);
	buf_free(&b);
}

static void not_found(void)
{
	static const char *paths[] = {
		"/", "/index.html", "/.well-known/", "/.well-known", WK, WK "/", WK "/hu", WK "/hu/",
		WK "/hu/" NOBODY, WK "/jedi.test/hu/" NOBODY, WK "/empire.test/hu/" LUKE,
		WK "/hu/PC53UX1DYD1RJNPYONEBRX3AEMURD8PF", WK "/hu/pc53ux1dyd1rjnpyonebrx3aemurd8p",
		WK "/hu/" LUKE "f", WK "/hu/pc53ux1dyd1rjnpyonebrx3aemurd8pl", /* 'l' is not z-base-32 */
		WK "/hu/pc53ux1dyd1rjnpyonebrx3aemurd8p2", WK "/hu/" LUKE "/", WK "/hu/" LUKE "/x",
		WK "/jedi.test/hu/" LUKE "/", WK "/jedi.test/hu/" LUKE "/extra", WK "/jedi.test/hu",
		WK "/jedi.test", WK "/jedi.test/", WK "/jedi.test/x/" LUKE, WK "/submission-address/x",
		"/.WELL-KNOWN/openpgpkey/hu/" LUKE, "/.well-known/OPENPGPKEY/hu/" LUKE, WK "/HU/" LUKE,
		WK "/-jedi.test/hu/" LUKE, WK "/jedi.test./hu/" LUKE, WK "/jedi_test/hu/" LUKE,
		WK "/a/b/c/d/e/f/g/h/i", WK "/jedi.test/policy/x", WK "/empire.test/policy",
		"/.well-known/openpgpkey/hu/" LUKE ";l=luke",
	};
	memset(&fx, 0, sizeof(fx));
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct http_response r = route("GET", paths[i], "jedi.test");
		if (r.status != 404)
			printf("# %s -> %d\n", paths[i], r.status);
		CHECK_INT(r.status, 404);
		CHECK_STR(r.cache_control, "public, max-age=60");
		CHECK_STR(r.content_type, "text/plain; charset=utf-8");
	}
	/* only the two NOBODY lookups reach the storage; unknown domains do not */
	CHECK_INT(fx.lookups, 2);
	CHECK_INT(route("GET", WK "/hu/" LUKE, "empire.test").status, 404);
	CHECK_INT(route("GET", WK "/policy", "empire.test:443").status, 404);
	CHECK_INT(fx.lookups, 2);
	CHECK_INT(fx.violations, 0);
}

struct hostile {
	const char *target;
	size_t len; /* the target may hold a NUL */
	int status;
};

#define H(s, st) {s, sizeof(s) - 1, st}

static const struct hostile hostile[] = {
	H(WK "/../../etc/passwd", 400),
	H(WK "/hu/../../../etc/passwd", 400),
	H(WK "/jedi.test/hu/../../../../etc/shadow", 400),
	H("/../.well-known/openpgpkey/hu/" LUKE, 400),
	H("/./.well-known/openpgpkey/hu/" LUKE, 400),
	H(WK "/./hu/" LUKE, 400),
	H(WK "/hu/./" LUKE, 400),
	H(WK "/hu/" LUKE "/..", 400),
	H(WK "/hu/" LUKE "/.", 400),
	H(WK "/openpgpkey.jedi.test/../jedi.test/hu/" LUKE, 400),
	H(WK "/%2e%2e/%2e%2e/etc/passwd", 400),
	H(WK "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", 400),
	H(WK "/jedi.test%2fhu%2f" LUKE, 400),
	H(WK "/jedi.test/hu%2F" LUKE, 400),
	H(WK "/%252e%252e/hu/" LUKE, 400),
	H(WK "/..%c0%af..%c0%afetc/passwd", 400),
	H(WK "/\xc0\xae\xc0\xae/hu/" LUKE, 400),
	H(WK "/jedi.test/hu/%70c53ux1dyd1rjnpyonebrx3aemurd8pf", 400),
	H(WK "/hu/" LUKE "%00", 400),
	H(WK "/hu/" LUKE "\0.pgp", 400),
	H(WK "/hu/\0" LUKE, 400),
	H(WK "/hu\\..\\..\\etc\\passwd", 400),
	H(WK "/jedi.test\\hu\\" LUKE, 400),
	H("\\.well-known\\openpgpkey\\hu\\" LUKE, 400),
	H("//.well-known/openpgpkey/hu/" LUKE, 400),
	H("/.well-known//openpgpkey/hu/" LUKE, 400),
	H(WK "//hu/" LUKE, 400),
	H(WK "/hu//" LUKE, 400),
	H(WK "/jedi.test//hu/" LUKE, 400),
	H(WK "/hu/" LUKE "\r\nX-Injected: 1", 400),
	H(WK "/hu/" LUKE " HTTP/1.1", 400),
	H(WK "/hu/" LUKE "\t", 400),
	H(WK "/hu/" LUKE "#frag", 400),
	H(WK "/jedi.test/hu/" LUKE ";/../../etc", 400),
	H(WK "/b\303\274cher.test/hu/" LUKE, 400),
	H(WK "/b%C3%BCcher.test/hu/" LUKE, 400),
	H("https://jedi.test" WK "/hu/" LUKE, 400),
	H("http://evil.test/", 400),
	H("*", 400),
	H("", 400),
	H("?/" WK "/hu/" LUKE, 400),
	H(WK "/..;/hu/" LUKE, 404),
	H(WK "/.../hu/" LUKE, 404),
	H(WK "/hu/...", 404),
	H(WK "/.../policy", 404),
	H("/etc/passwd", 404),
	H("/.well-known/openpgpkey.d/hu/" LUKE, 404),
};

static void traversal(void)
{
	memset(&fx, 0, sizeof(fx));
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct http_response r = route_n("GET", hostile[i].target, hostile[i].len, "jedi.test");
		if (r.status != hostile[i].status)
			printf("# hostile[%zu] -> %d\n", i, r.status);
		CHECK_INT(r.status, hostile[i].status);
		r = route_n("GET", hostile[i].target, hostile[i].len, NULL);
		CHECK(r.status == 400 || r.status == 404);
	}
	CHECK_INT(fx.lookups, 0); /* no hostile path reached the storage */
	CHECK_INT(fx.violations, 0);
}

static void query(void)
{
	static const char *ok[] = {"?l=luke", "?", "?l=Luke", "?l=../../etc/passwd", "?l=a%2Bb&x=%00",
				   "?l=luke?again", "?l=/etc/passwd"};
	static const char *bad[] = {"?l=a b", "?l=x#frag", "?l=\x01", "?l=\xc3\xbc", "?l=\x7f"};
	char t[256];
	memset(&fx, 0, sizeof(fx));
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(t, sizeof(t), "%s%s", WK "/hu/" LUKE, ok[i]);
		struct http_response r = route("GET", t, "jedi.test");
		CHECK_INT(r.status, 200); /* the hash decides, the query is ignored */
		CHECK_STR(fx.last_hash, LUKE);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(t, sizeof(t), "%s%s", WK "/hu/" LUKE, bad[i]);
		CHECK_INT(route("GET", t, "jedi.test").status, 400);
	}
}

static void too_long(void)
{
	char t[WKD_HTTP_TARGET_MAX + 2];
	size_t n = strlen(WK "/hu/" LUKE "?l=");
	memcpy(t, WK "/hu/" LUKE "?l=", n);
	memset(t + n, 'a', sizeof(t) - n);
	/* exactly at the limit: served */
	CHECK_INT(route_n("GET", t, WKD_HTTP_TARGET_MAX, "jedi.test").status, 200);
	CHECK_INT(route_n("GET", t, WKD_HTTP_TARGET_MAX + 1, "jedi.test").status, 414);
	CHECK_INT(route_n("HEAD", t, WKD_HTTP_TARGET_MAX + 1, "jedi.test").status, 414);
	CHECK_INT(route_n("HEAD", t, WKD_HTTP_TARGET_MAX + 1, "jedi.test").body_len, 0);
	/* the length is checked first, before the method and the bytes */
	CHECK_INT(route_n("POST", t, WKD_HTTP_TARGET_MAX + 1, "jedi.test").status, 414);
	memset(t, '\\', sizeof(t));
	CHECK_INT(route_n("GET", t, sizeof(t), "jedi.test").status, 414);
	CHECK_STR(route_n("GET", t, sizeof(t), "jedi.test").cache_control, "no-store");
}

static void policy(void)
{
	struct http_response r;
	memset(&fx, 0, sizeof(fx));
	r = route("GET", WK "/jedi.test/policy", "openpgpkey.jedi.test");
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, "text/plain; charset=utf-8");
	CHECK(body_is(&r, jedi_policy, strlen(jedi_policy)));
	r = route("GET", WK "/policy", "jedi.test:443");
	CHECK_INT(r.status, 200);
	CHECK(body_is(&r, jedi_policy, strlen(jedi_policy)));
	/* a served domain without one gets an empty policy, never a 404 */
	r = route("GET", WK "/rebels.test/policy", "openpgpkey.rebels.test");
	CHECK_INT(r.status, 200);
	CHECK(r.body != NULL && r.body_len == 0 && r.content_length == 0);
	r = route("GET", WK "/policy?x=1", "rebels.test");
	CHECK_INT(r.status, 200);
	/* a policy whose last line lacks its newline is not served */
	CHECK_INT(route("GET", WK "/bad.test/policy", NULL).status, 500);
	CHECK_INT(route("GET", WK "/policy", "bad.test").status, 500);
	CHECK_INT(route("GET", WK "/empire.test/policy", NULL).status, 404);
	CHECK_INT(fx.lookups, 0);
	CHECK_INT(fx.violations, 0);
	CHECK_INT(wkd_http_policy_check((const uint8_t *)"", 0), 0);
	CHECK_INT(wkd_http_policy_check(NULL, 0), 0);
	CHECK_INT(wkd_http_policy_check((const uint8_t *)"a\n", 2), 0);
	CHECK_INT(wkd_http_policy_check((const uint8_t *)"a\nb: c\n", 7), 0);
	CHECK_INT(wkd_http_policy_check((const uint8_t *)"a", 1), SM_EPARSE);
	CHECK_INT(wkd_http_policy_check((const uint8_t *)"a\nb", 3), SM_EPARSE);
	CHECK_INT(wkd_http_policy_check((const uint8_t *)"a\0\n", 3), SM_EPARSE);
}

static void submission_address(void)
{
	struct http_response r;
	memset(&fx, 0, sizeof(fx));
	r = route("GET", WK "/jedi.test/submission-address", "openpgpkey.jedi.test");
	CHECK_INT(r.status, 200);
	CHECK_STR(r.content_type, "text/plain; charset=utf-8");
	CHECK(body_is(&r, "key-submission@jedi.test\n", 25));
	CHECK_INT(route("GET", WK "/submission-address", "jedi.test").status, 200);
	/* a served domain without a Web Key Service: 404; a domain not served: 404 */
	CHECK_INT(route("GET", WK "/rebels.test/submission-address", NULL).status, 404);
	CHECK_INT(route("GET", WK "/submission-address", "rebels.test").status, 404);
	CHECK_INT(route("GET", WK "/empire.test/submission-address", NULL).status, 404);
	CHECK_INT(route("GET", WK "/jedi.test/submission-address/x", NULL).status, 404);
	CHECK_INT(route("GET", WK "/jedi.test/hu/submission-address", NULL).status, 404);
	CHECK_INT(fx.lookups, 0);
}

static void hosts(void)
{
	static const char *bad[] = {"jedi.test:abc", "jedi.test:443:1", "jedi test", "jedi.test/x",
				    "[::1", "[zz]", "[::1]x", "jedi.test:123456", "b\303\274cher.test",
				    "jedi_test", "jedi.test\r\nX: y", "user@jedi.test", "jedi.test\\",
				    "jedi.test%2f", " jedi.test", "jedi.test "};
	memset(&fx, 0, sizeof(fx));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* refused for both methods: a malformed Host is a bad request */
		CHECK_INT(route("GET", WK "/hu/" LUKE, bad[i]).status, 400);
		CHECK_INT(route("GET", WK "/jedi.test/hu/" LUKE, bad[i]).status, 400);
	}
	CHECK_INT(fx.lookups, 0);
	struct wkd_http_request req = {"GET", 3, WK "/hu/" LUKE, strlen(WK "/hu/" LUKE),
				       "jedi.test\0evil", 14};
	struct http_response r;
	wkd_http_route(&req, &ops, &r);
	CHECK_INT(r.status, 400);
}

static void idn(void)
{
	memset(&fx, 0, sizeof(fx));
	struct http_response r = route("GET", WK "/xn--bcher-kva.test/hu/" LUKE, NULL);
	CHECK_INT(r.status, 200);
	CHECK(body_is(&r, buecher_key, sizeof(buecher_key)));
	r = route("GET", WK "/hu/" LUKE, "XN--BCHER-KVA.test");
	CHECK_INT(r.status, 200);
	CHECK_STR(fx.last_domain, "xn--bcher-kva.test");
	CHECK_INT(fx.violations, 0);
}

static void storage_errors(void)
{
	static const struct wkd_http_ops none = {NULL, NULL, NULL, NULL, NULL};
	static const struct wkd_http_ops served_only = {fx_served, NULL, NULL, &fx, NULL};
	struct wkd_http_request req = {"GET", 3, WK "/hu/" LUKE, strlen(WK "/hu/" LUKE), "jedi.test", 9};
	struct http_response r;
	memset(&fx, 0, sizeof(fx));
	fx.fail_lookup = SM_EIO;
	CHECK_INT(route("GET", WK "/hu/" LUKE, "jedi.test").status, 500);
	fx.fail_lookup = 1; /* not a valid answer either */
	CHECK_INT(route("GET", WK "/hu/" LUKE, "jedi.test").status, 500);
	fx.fail_lookup = 0;
	wkd_http_route(&req, &none, &r);
	CHECK_INT(r.status, 404);
	wkd_http_route(&req, &served_only, &r);
	CHECK_INT(r.status, 404);
	req.target = WK "/policy";
	req.target_len = strlen(req.target);
	wkd_http_route(&req, &served_only, &r);
	CHECK_INT(r.status, 200); /* no policy callback: an empty policy */
	CHECK_INT(r.content_length, 0);
}

static void head_format(void)
{
	struct buf b;
	struct http_response r = route("GET", WK "/jedi.test/hu/" LUKE, NULL);
	buf_init(&b, 4096);
	CHECK_INT(http_response_head(&r, 1, &b), 0);
	CHECK_STR((char *)b.data, "HTTP/1.1 200 OK\r\n"
				  "Content-Type: application/octet-stream\r\n"
				  "Content-Length: 10\r\n"
				  "Cache-Control: public, max-age=3600\r\n"
				  "Access-Control-Allow-Origin: *\r\n"
				  "X-Content-Type-Options: nosniff\r\n"
				  "Connection: close\r\n"
				  "\r\n");
	buf_free(&b);
	r = route("GET", "/x", NULL);
	buf_init(&b, 4096);
	CHECK_INT(http_response_head(&r, 0, &b), 0);
	CHECK(strstr((char *)b.data, "HTTP/1.1 404 Not Found\r\n") == (char *)b.data);
	CHECK(strstr((char *)b.data, "Access-Control-Allow-Origin: *\r\n") != NULL);
	CHECK(strstr((char *)b.data, "Content-Length: 10\r\n") != NULL); /* "not found\n" */
	CHECK(strstr((char *)b.data, "Allow:") == NULL);
	buf_free(&b);
	buf_init(&b, 20);
	CHECK_INT(http_response_head(&r, 0, &b), SM_ETOOBIG);
	CHECK_INT(b.len, 0);
	r.status = 302;
	CHECK_INT(http_response_head(&r, 0, &b), SM_EINVAL);
	buf_free(&b);
}

int main(void)
{
	RUN(advanced_method);
	RUN(direct_method);
	RUN(head_requests);
	RUN(methods);
	RUN(not_found);
	RUN(traversal);
	RUN(query);
	RUN(too_long);
	RUN(policy);
	RUN(submission_address);
	RUN(hosts);
	RUN(idn);
	RUN(storage_errors);
	RUN(head_format);
	return check_done();
}
