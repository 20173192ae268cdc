#include "fetch.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

void fetch_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct sink {
	struct buf *body;
	int over;
};

static size_t sink_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t len = size * nmemb;
	if (buf_append(s->body, data, len) < 0) {
		s->over = 1;
		return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
	}
	return len;
}

static const struct {
	CURLcode code;
	enum fetch_outcome outcome;
} outcome_map[] = {
	{CURLE_COULDNT_RESOLVE_HOST, FETCH_NO_HOST},
	{CURLE_COULDNT_CONNECT, FETCH_NO_HOST},
	{CURLE_OPERATION_TIMEDOUT, FETCH_TIMEOUT},
	{CURLE_SSL_CONNECT_ERROR, FETCH_TLS},
	{CURLE_PEER_FAILED_VERIFICATION, FETCH_TLS},
	{CURLE_SSL_CACERT_BADFILE, FETCH_TLS},
	{CURLE_SSL_CERTPROBLEM, FETCH_TLS},
};

static enum fetch_outcome outcome_of(CURLcode c, const struct sink *s)
{
	if (c == CURLE_OK)
		return FETCH_OK;
	if (s->over)
		return FETCH_TOO_LARGE;
	for (size_t i = 0; i < sizeof(outcome_map) / sizeof(outcome_map[0]); i++)
		if (outcome_map[i].code == c)
			return outcome_map[i].outcome;
	return FETCH_ERROR;
}

/* The options every request gets: https only, verified, bounded in time. */
static void set_common(CURL *h, const char *url, struct sink *s, char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)FETCH_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)FETCH_TOTAL_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "sealmail/" SEALMAIL_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
}

int fetch_https_directory(const char *advanced, const char *direct, const uint8_t *post,
			  size_t post_len, const char *bearer, struct buf *body,
			  struct fetch_result *ret)
{
	fetch_https(advanced, post, post_len, bearer, body, ret);
	if (ret->outcome != FETCH_NO_HOST)
		return 0;
	buf_reset(body);
	fetch_https(direct, post, post_len, bearer, body, ret);
	return 1;
}

void fetch_https(const char *url, const uint8_t *post, size_t post_len, const char *bearer,
		 struct buf *body, struct fetch_result *ret)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	char auth[512];
	struct curl_slist *hdrs = NULL;
	struct sink s = {body, 0};
	CURL *h = curl_easy_init();
	memset(ret, 0, sizeof(*ret));
	ret->outcome = FETCH_ERROR;
	if (h == NULL) {
		snprintf(ret->detail, sizeof(ret->detail), "cannot initialise libcurl");
		return;
	}
	set_common(h, url, &s, errbuf);
	if (post != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
		if (bearer != NULL && snprintf(auth, sizeof(auth), "Authorization: Bearer %s", bearer) <
					      (int)sizeof(auth))
			hdrs = curl_slist_append(hdrs, auth);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)post);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len);
	}
	CURLcode c = curl_easy_perform(h);
	ret->outcome = outcome_of(c, &s);
	if (c == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ret->status);
	else
		snprintf(ret->detail, sizeof(ret->detail), "%s", errbuf[0] ? errbuf : curl_easy_strerror(c));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	sodium_memzero(auth, sizeof(auth)); /* it held the publish token */
}
