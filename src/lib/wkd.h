/* wkd.h: OpenPGP Web Key Directory names (draft-koch-openpgp-webkey-service).
 *
 * An address is split at its last '@'. The domain is lowercased (ASCII; IDNs
 * must be given in A-label form); the local part is kept as written for the
 * "l=" parameter and lowercased only for the hash, as the draft says.
 * Everything here is pure computation on caller-provided memory. */
#ifndef SEALMAIL_WKD_H
#define SEALMAIL_WKD_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define WKD_LOCAL_MAX 64
#define WKD_DOMAIN_MAX 253
#define WKD_HASH_LEN 32

struct wkd_address {
	char local[WKD_LOCAL_MAX + 1];   /* as given */
	char domain[WKD_DOMAIN_MAX + 1]; /* lowercased */
};

/* Parses and canonicalises "local@domain". Rejects empty parts, control
 * characters, spaces, over-long parts and domains that are not dot-separated
 * LDH labels. ret is untouched on failure. */
int wkd_address_parse(const char *address, struct wkd_address *ret) SM_WUR;

/* Writes "local@domain" (canonical form) into ret, NUL-terminated. */
int wkd_address_format(const struct wkd_address *a, char *ret, size_t ret_size) SM_WUR;

/* z-base-32(SHA-1(lowercase(local))): 32 characters plus NUL. */
int wkd_hash_local_part(const char *local, char ret[WKD_HASH_LEN + 1]) SM_WUR;

/* https://openpgpkey.<domain>/.well-known/openpgpkey/<domain>/hu/<hash>?l=<local> */
int wkd_url_advanced(const struct wkd_address *a, struct buf *ret) SM_WUR;
/* https://<domain>/.well-known/openpgpkey/hu/<hash>?l=<local> */
int wkd_url_direct(const struct wkd_address *a, struct buf *ret) SM_WUR;

/* 1 if the two addresses are the same mailbox for key lookup purposes
 * (domain case-insensitive, local part case-insensitive as WKD hashes it). */
int wkd_address_equal(const struct wkd_address *a, const struct wkd_address *b);

#endif
