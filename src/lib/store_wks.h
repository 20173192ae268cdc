/* store_wks.h: the Web Key Service's durable state (in the database of
 * store.h, schema version 4): each submitted key waits, under the SHA-256
 * of its nonce (never the nonce itself), until the user confirms it, the
 * confirmation expires, or it is used. A confirmation is single-use: using
 * it and making the key the user's pending publication (store.h; committed
 * by the next epoch, without an owner's authorization) is one transaction.
 * Errors as in store.h. */
#ifndef SEALMAIL_STORE_WKS_H
#define SEALMAIL_STORE_WKS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "store.h"

/* Records a submission of cert (already reduced to the address's user ID)
 * for the user address, confirmable with nonce until expires (unix time).
 * SM_ENOTFOUND: no such user; SM_EEXIST: the nonce is taken. */
int store_wks_submit(store *s, const char *address, const char *nonce, const uint8_t *cert,
		     size_t cert_len, uint64_t now, uint64_t expires) SM_WUR;

/* How many of address's submissions are open (not used, not expired at
 * now), into ret_n, and their certificates appended to ret_certs (may be
 * NULL): the keys a response may be signed with. */
int store_wks_open(store *s, const char *address, uint64_t now, struct buf *ret_certs,
		   size_t *ret_n) SM_WUR;

/* The certificate submitted under nonce for address (appended to
 * ret_cert), without using it. Errors as store_wks_confirm. */
int store_wks_pending(store *s, const char *address, const char *nonce, uint64_t now,
		      struct buf *ret_cert) SM_WUR;

/* Confirms nonce for address at time now: the pending certificate becomes
 * the user's next publication, and is appended to ret_cert (may be NULL).
 * SM_ENOTFOUND: no submission with this nonce for this address; SM_EEXIST:
 * already used; SM_ESTALE: expired. */
int store_wks_confirm(store *s, const char *address, const char *nonce, uint64_t now,
		      struct buf *ret_cert) SM_WUR;

#endif
