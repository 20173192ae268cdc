/* pgp_internal.h: what pgp.c shares with the other files of the pgp
 * module (pgp_lifecycle.c); not part of libsealmail's interface. */
#ifndef SEALMAIL_PGP_INTERNAL_H
#define SEALMAIL_PGP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rnp/rnp.h>

#include "buf.h"
#include "pgp.h"
#include "wkd.h"

struct pgp_ctx {
	rnp_ffi_t ffi;
};

/* One rnp operation that writes everything it produces to o. */
typedef rnp_result_t (*sink_op)(void *arg, rnp_output_t o);

int pgpi_rnp_err(rnp_result_t r);
size_t pgpi_buf_room(const struct buf *b);
/* Runs op into a sink capped at max and, when all of it succeeded, appends
 * what it wrote to out. */
int pgpi_sink_run(sink_op op, void *arg, size_t max, struct buf *out);
/* An rnp input over caller memory (zero bytes allowed). */
int pgpi_input_new(rnp_input_t *ret, const uint8_t *data, size_t len);
/* A fresh ffi whose log goes to /dev/null. */
int pgpi_ffi_new(rnp_ffi_t *ret);
int pgpi_key_fpr(rnp_key_handle_t key, struct pgp_fpr *ret);
int pgpi_key_locate(rnp_ffi_t ffi, const struct pgp_fpr *fpr, rnp_key_handle_t *ret);
/* The addr-spec of "a@b" or "Name <a@b>". */
int pgpi_uid_address(const char *uid, struct wkd_address *ret);
/* Whether key carries a valid, unrevoked user ID for want (the key itself
 * may be revoked or expired). */
bool pgpi_key_has_address(rnp_key_handle_t key, const struct wkd_address *want);
/* Valid, not revoked, not expired. */
bool pgpi_key_is_usable(rnp_key_handle_t key);
/* Whether user ID idx of key is a valid, unrevoked user ID for want. */
bool pgpi_uid_matches(rnp_key_handle_t key, size_t idx, const struct wkd_address *want);
int pgpi_import_into(rnp_ffi_t ffi, const uint8_t *data, size_t len, uint32_t flags);
/* The primary fingerprint of the key that made a good signature. */
int pgpi_signer_primary(rnp_op_verify_signature_t sig, struct pgp_fpr *ret);
/* Removes from key every user ID but the first valid one for want
 * (SM_ENOTFOUND if it has none). */
int pgpi_keep_one_uid(rnp_key_handle_t key, const struct wkd_address *want);
/* Appends key, exported with flags (RNP_KEY_EXPORT_*), to out. */
int pgpi_export_key(rnp_key_handle_t key, uint32_t flags, struct buf *out);

#endif
