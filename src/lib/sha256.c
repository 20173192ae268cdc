/* sha256.c: one-shot SHA-256 through libcrypto (sha256.h). */
#include "sha256.h"

#include <pthread.h>

#include <openssl/evp.h>
#include <sodium.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;
static EVP_MD *md; /* fetched once; NULL: use libsodium */

static void ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void setup(void)
{
	if (pthread_key_create(&ctx_key, ctx_free) == 0)
		md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* This thread's context, made on first use; NULL if none can be. */
static EVP_MD_CTX *thread_ctx(void)
{
	pthread_once(&once, setup);
	if (md == NULL)
		return NULL;
	EVP_MD_CTX *c = pthread_getspecific(ctx_key);
	if (c == NULL && (c = EVP_MD_CTX_new()) != NULL && pthread_setspecific(ctx_key, c) != 0) {
		EVP_MD_CTX_free(c);
		c = NULL;
	}
	return c;
}

void sha256(const void *data, size_t len, uint8_t ret[SHA256_LEN])
{
	EVP_MD_CTX *c = thread_ctx();
	unsigned int n = 0;
	if (c != NULL && EVP_DigestInit_ex2(c, md, NULL) == 1 && EVP_DigestUpdate(c, data, len) == 1 &&
	    EVP_DigestFinal_ex(c, ret, &n) == 1 && n == SHA256_LEN)
		return;
	crypto_hash_sha256(ret, data, len);
}
