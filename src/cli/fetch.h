/* fetch.h: HTTPS requests for the sealmail verbs that talk to key
 * directories (lookup, publish), through libcurl.
 *
 * Only https:// URLs; the server certificate is verified against the
 * system trust store; no redirects; strict time-outs; the response body is
 * bounded by the caller's buffer. libcurl must be initialised once per
 * process (fetch_global_init) before any thread uses this. */
#ifndef SEALMAIL_FETCH_H
#define SEALMAIL_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define FETCH_CONNECT_TIMEOUT 10 /* seconds to connect, TLS handshake included */
#define FETCH_TOTAL_TIMEOUT 30   /* seconds for the whole request */

enum fetch_outcome {
	FETCH_OK,           /* an HTTP response arrived; see status */
	FETCH_NO_HOST,      /* the name does not resolve, or nothing listens */
	FETCH_TLS,          /* the TLS handshake or certificate check failed */
	FETCH_TIMEOUT,
	FETCH_TOO_LARGE,    /* the body passed the buffer's maximum */
	FETCH_ERROR,        /* anything else; detail says what */
};

struct fetch_result {
	enum fetch_outcome outcome;
	long status;         /* HTTP status when outcome is FETCH_OK */
	char detail[256];    /* libcurl's message for the other outcomes */
};

void fetch_global_init(void);

/* GET url into body. With post != NULL, POSTs post_len bytes of it as
 * application/octet-stream instead, with "Authorization: Bearer <bearer>"
 * when bearer is not NULL. */
void fetch_https(const char *url, const uint8_t *post, size_t post_len, const char *bearer,
		 struct buf *body, struct fetch_result *ret);

/* A domain's key directory, in the WKD draft's order: advanced (the host
 * openpgpkey.DOMAIN) first, direct (DOMAIN itself) only when that host does
 * not exist or does not answer. Same arguments as fetch_https; returns
 * which URL (0: advanced, 1: direct) gave what is in body and ret. */
int fetch_https_directory(const char *advanced, const char *direct, const uint8_t *post,
			  size_t post_len, const char *bearer, struct buf *body,
			  struct fetch_result *ret);

#endif
