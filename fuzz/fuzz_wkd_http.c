/* fuzz_wkd_http: wkd_http_route() on an untrusted request.
 *
 * The input is split at its first two '\n' into the method, the request
 * target and the Host value (no second '\n': no Host header). The storage
 * serves four domains with a few keys and policies, one of them malformed,
 * and one hash whose lookup fails. Checked besides memory safety:
 *   - the status is one of 200, 400, 404, 405, 414, 500;
 *   - domain_served() only sees a lowercase LDH name, and lookup_key() and
 *     policy() only a served domain and (lookup_key) a 32-character
 *     z-base-32 hash;
 *   - a path holding '%', '\\', NUL, "//" or a dot-segment is a 400 (once
 *     the length and the method passed), so it can never reach storage;
 *   - GET and HEAD of the same target get the same status and
 *     Content-Length, and HEAD no body;
 *   - a 200 carries exactly what the storage gave, and the serialized head
 *     is well-formed CRLF lines ending in an empty line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wkd_http.h"

#define FUZZ_HASH_ERR "ybndrfg8ejkmcpqxot1uwisza345h769" /* lookup fails with SM_EIO */

static const char *const fuzz_served[] = {"jedi.test", "rebels.test", "xn--bcher-kva.test",
					  "bad.test"};
static const uint8_t fuzz_key[] = {0x98, 0x33, 0x04, 0x00, 0x0d, 0x0a, 0x00};
static const char fuzz_policy[] = "protocol-version: 5\n";
static const char fuzz_bad_policy[] = "no newline";

/* Fixed for the whole process once LLVMFuzzerInitialize has run. */
static char fuzz_luke[WKD_HASH_LEN + 1], fuzz_lea[WKD_HASH_LEN + 1];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_check(wkd_hash_local_part("luke", fuzz_luke) == 0, "hash of luke");
	fuzz_check(wkd_hash_local_part("lea", fuzz_lea) == 0, "hash of lea");
	return 0;
}

static int fuzz_is_served(const char *domain)
{
	for (size_t i = 0; i < sizeof(fuzz_served) / sizeof(fuzz_served[0]); i++)
		if (strcmp(domain, fuzz_served[i]) == 0)
			return 1;
	return 0;
}

static int fuzz_domain_served(void *ctx, const char *domain)
{
	size_t n = strnlen(domain, WKD_DOMAIN_MAX + 1);
	(void)ctx;
	fuzz_check(n > 0 && n <= WKD_DOMAIN_MAX, "domain length");
	fuzz_check(strspn(domain, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n,
		   "domain characters");
	return fuzz_is_served(domain);
}

static int fuzz_lookup(void *ctx, const char *domain, const char *hash,
		       const uint8_t **ret_data, size_t *ret_len)
{
	(void)ctx;
	fuzz_check(fuzz_is_served(domain), "lookup for a domain not served");
	fuzz_check(strnlen(hash, WKD_HASH_LEN + 1) == WKD_HASH_LEN &&
			   strspn(hash, "ybndrfg8ejkmcpqxot1uwisza345h769") == WKD_HASH_LEN,
		   "lookup with a malformed hash");
	if (strcmp(hash, FUZZ_HASH_ERR) == 0)
		return SM_EIO;
	if (strcmp(hash, fuzz_luke) != 0 && strcmp(hash, fuzz_lea) != 0)
		return SM_ENOTFOUND;
	*ret_data = fuzz_key;
	*ret_len = sizeof(fuzz_key);
	return 0;
}

static int fuzz_policy_cb(void *ctx, const char *domain, const uint8_t **ret_data,
			  size_t *ret_len)
{
	(void)ctx;
	fuzz_check(fuzz_is_served(domain), "policy for a domain not served");
	if (strcmp(domain, "jedi.test") == 0) {
		*ret_data = (const uint8_t *)fuzz_policy;
		*ret_len = strlen(fuzz_policy);
	} else if (strcmp(domain, "bad.test") == 0) {
		*ret_data = (const uint8_t *)fuzz_bad_policy;
		*ret_len = strlen(fuzz_bad_policy);
	}
	return 0;
}

static int fuzz_submission(void *ctx, const char *domain, const uint8_t **ret_data,
			   size_t *ret_len)
{
	(void)ctx;
	(void)domain;
	*ret_data = (const uint8_t *)"key-submission@jedi.test\n";
	*ret_len = 25;
	return 0;
}

static const struct wkd_http_ops fuzz_ops = {fuzz_domain_served, fuzz_lookup, fuzz_policy_cb,
					     NULL, fuzz_submission};

/* Splits data into method, target and host at the first two '\n'. */
static void fuzz_split(const uint8_t *data, size_t size, struct wkd_http_request *ret)
{
	const char *p = (const char *)data;
	const char *nl1 = size ? memchr(p, '\n', size) : NULL;
	memset(ret, 0, sizeof(*ret));
	ret->method = p;
	ret->method_len = nl1 ? (size_t)(nl1 - p) : size;
	ret->target = nl1 ? nl1 + 1 : p + size;
	if (nl1 == NULL)
		return;
	size_t rest = size - (size_t)(ret->target - p);
	const char *nl2 = rest ? memchr(ret->target, '\n', rest) : NULL;
	ret->target_len = nl2 ? (size_t)(nl2 - ret->target) : rest;
	if (nl2 == NULL)
		return;
	ret->host = nl2 + 1;
	ret->host_len = size - (size_t)(ret->host - p);
}

/* What the router must refuse whatever else the request holds. */
static int fuzz_path_hostile(const char *t, size_t n)
{
	const char *q = n ? memchr(t, '?', n) : NULL;
	size_t len = q ? (size_t)(q - t) : n;
	for (size_t i = 0; i < len; i++) {
		const char *s = t + i;
		size_t left = len - i;
		if (*s == '%' || *s == '\\' || *s == 0 || (left >= 2 && memcmp(s, "//", 2) == 0))
			return 1;
		if (*s != '/')
			continue;
		/* "/." or "/.." followed by '/' or the end of the path */
		if (left >= 2 && s[1] == '.' && (left == 2 || s[2] == '/'))
			return 1;
		if (left >= 3 && s[1] == '.' && s[2] == '.' && (left == 3 || s[3] == '/'))
			return 1;
	}
	return 0;
}

static int fuzz_method_is(const struct wkd_http_request *req, const char *m)
{
	return req->method_len == strlen(m) && memcmp(req->method, m, req->method_len) == 0;
}

static void fuzz_check_head(const struct http_response *r)
{
	struct buf b;
	char want[64];
	buf_init(&b, 4096);
	fuzz_check(http_response_head(r, 0, &b) == 0, "head serialization failed");
	fuzz_check(b.len >= 4 && memcmp(b.data + b.len - 4, "\r\n\r\n", 4) == 0, "head end");
	for (size_t i = 0; i < b.len; i++) {
		fuzz_check(b.data[i] != 0, "NUL in head");
		fuzz_check(b.data[i] != '\n' || (i > 0 && b.data[i - 1] == '\r'), "bare LF in head");
		fuzz_check(b.data[i] != '\r' || (i + 1 < b.len && b.data[i + 1] == '\n'),
			   "bare CR in head");
	}
	snprintf(want, sizeof(want), "\r\nContent-Length: %llu\r\n", (unsigned long long)r->content_length);
	fuzz_check(strstr((const char *)b.data, want) != NULL, "Content-Length header");
	buf_free(&b);
}

static void fuzz_check_response(const struct wkd_http_request *req,
				const struct http_response *r)
{
	int s = r->status;
	int head = fuzz_method_is(req, "HEAD"), get = fuzz_method_is(req, "GET");
	fuzz_check(s == 200 || s == 400 || s == 404 || s == 405 || s == 414 || s == 500,
		   "status outside the allowed set");
	fuzz_check((s == 414) == (req->target_len > WKD_HTTP_TARGET_MAX), "414 iff too long");
	fuzz_check(s == 414 || (s == 405) == (!head && !get), "405 iff not GET/HEAD");
	fuzz_check((r->allow != NULL) == (s == 405), "Allow only with 405");
	fuzz_check(head ? r->body_len == 0 : r->body_len == r->content_length, "body length");
	fuzz_check(r->body != NULL && r->content_type != NULL && r->cache_control != NULL,
		   "NULL in the response");
	if (s != 414 && s != 405 && fuzz_path_hostile(req->target, req->target_len))
		fuzz_check(s == 400, "hostile path not refused");
	if (s == 200 && strcmp(r->content_type, "application/octet-stream") == 0)
		fuzz_check(r->content_length == sizeof(fuzz_key) &&
				   (head || memcmp(r->body, fuzz_key, sizeof(fuzz_key)) == 0),
			   "key body");
	fuzz_check_head(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wkd_http_request req, other;
	struct http_response r, r2;
	fuzz_split(data, size, &req);
	wkd_http_route(&req, &fuzz_ops, &r);
	fuzz_check_response(&req, &r);
	/* the same request with the other of GET and HEAD */
	other = req;
	other.method = fuzz_method_is(&req, "HEAD") ? "GET" : "HEAD";
	other.method_len = strlen(other.method);
	wkd_http_route(&other, &fuzz_ops, &r2);
	fuzz_check_response(&other, &r2);
	if (fuzz_method_is(&req, "GET") || fuzz_method_is(&req, "HEAD"))
		fuzz_check(r.status == r2.status && r.content_length == r2.content_length,
			   "GET and HEAD differ");
	return 0;
}
