/* wks.h: the Web Key Service's messages (draft-koch-openpgp-webkey-service,
 * as GnuPG's gpg-wks-client 2.2 speaks it), socket-free and OpenPGP-free:
 * the caller decrypts, encrypts and signs (pgp.h, pgp_lifecycle.h).
 *
 *   submission      the user's mail to the submission address; decrypted,
 *                   "Content-Type: application/pgp-keys", an empty line, and
 *                   the key (armored or binary).
 *   request         our confirmation request, encrypted to the submitted key:
 *                   "type: confirmation-request", "sender:", "address:",
 *                   "fingerprint:", "nonce:" lines; sent as GnuPG's server
 *                   does: multipart/signed over multipart/mixed (an
 *                   explanation, and the encrypted request as
 *                   application/vnd.gnupg.wks), signed by the submission key.
 *   response        the user's answer, encrypted to the submission key;
 *                   decrypted, "Content-Type: application/vnd.gnupg.wks",
 *                   optional other header lines, an empty line, then
 *                   "type: confirmation-response", "sender:", "address:",
 *                   "nonce:" lines.
 *
 * Parsers take untrusted bytes: header lines end in LF or CRLF, field lines
 * are "name: value", names compared without case, each known field once,
 * unknown fields ignored (the draft allows them). */
#ifndef SEALMAIL_WKS_H
#define SEALMAIL_WKS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "wkd.h"

#define WKS_LOCAL "key-submission" /* the submission address's local part */
#define WKS_NONCE_MIN 17           /* gpg-wks-client wants more than 16 */
#define WKS_NONCE_MAX 64
#define WKS_ADDR_MAX (WKD_LOCAL_MAX + 1 + WKD_DOMAIN_MAX)
#define WKS_MAX (256u * 1024)      /* a decrypted submission or response */

/* The key in a decrypted submission: *ret_key borrows from text. SM_EPARSE
 * unless the content type is application/pgp-keys and a key follows. */
int wks_submission_parse(const uint8_t *text, size_t len, const uint8_t **ret_key,
			 size_t *ret_len) SM_WUR;

struct wks_response {
	char sender[WKS_ADDR_MAX + 1];
	char address[WKS_ADDR_MAX + 1];
	char nonce[WKS_NONCE_MAX + 1];
};

/* A decrypted confirmation response. SM_EPARSE unless it is one, with
 * each of its fields once, addresses that parse, and a nonce of
 * WKS_NONCE_MIN..WKS_NONCE_MAX letters and digits. */
int wks_response_parse(const uint8_t *text, size_t len, struct wks_response *ret) SM_WUR;

/* The addr-spec of the From field in a mail's header section (headers,
 * as mime_encrypted_extract gives it): "a@b" or "Name <a@b>", folded or
 * not. SM_EPARSE if there is no single From field with one address. */
int wks_header_from(const uint8_t *headers, size_t len, struct wkd_address *ret) SM_WUR;

/* Appends the confirmation request's plaintext. */
int wks_request_text(const char *sender, const char *address, const char *fpr_hex,
		     const char *nonce, struct buf *out) SM_WUR;

/* The mail carrying a confirmation request. wks_request_part appends the
 * first MIME part (multipart/mixed: the explanation and armored, the
 * encrypted request), CRLF line ends: the bytes the detached signature is
 * made over. wks_request_mail appends the whole mail: headers, that part
 * and the armored signature, with boundary-safe framing. date is an
 * RFC 5322 date; message_id "<...>". */
int wks_request_part(const char *address, const uint8_t *armored, size_t len,
		     struct buf *out) SM_WUR;
int wks_request_mail(const char *sender, const char *address, const char *date,
		     const char *message_id, const struct buf *part, const uint8_t *sig_armored,
		     size_t sig_len, struct buf *out) SM_WUR;

#endif
