/* letter.h: sealing and reading a whole letter, the user-level operations.
 *
 * letter_seal() turns a cleartext RFC 5322 message into a signed and
 * encrypted PGP/MIME message with protected headers, for every recipient
 * in To, Cc and Bcc and for the sender (so the sent copy stays readable);
 * Bcc recipients get wildcard key IDs. letter_read() does the reverse and
 * reaches one verdict; it releases the cleartext only for VERIFIED and
 * UNSIGNED. Both are in-process: no files, no environment, no output. */
#ifndef SEALMAIL_LETTER_H
#define SEALMAIL_LETTER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "mime.h"
#include "pgp.h"
#include "pins.h"

#define LETTER_MAX (64u << 20) /* largest letter sealed or read, and cap on its plaintext */

/* Seals msg into out. A recipient is encrypted to with their pinned key
 * when pins (may be NULL) has one, and only if it is still usable; else
 * with their newest usable key in ctx. Fails with SM_ENOSECRET when we
 * hold no secret key for the From address (ret_missing gets it), and with
 * SM_ENOTFOUND when some recipient has no usable certificate (ret_missing
 * gets every such address, one per line); out is untouched on any
 * failure. */
int letter_seal(pgp_ctx *ctx, const struct pins *pins, const uint8_t *msg, size_t len,
		struct buf *out, struct buf *ret_missing) SM_WUR;

enum letter_verdict {
	LETTER_VERIFIED,        /* good signature by a key bound to the From address */
	LETTER_UNSIGNED,        /* encrypted with integrity protection, not signed */
	LETTER_WRONG_SIGNER,    /* good signature, but the key is not bound to From */
	LETTER_BAD_SIGNATURE,
	LETTER_UNKNOWN_SIGNER,
	LETTER_NO_INTEGRITY,
	LETTER_NOT_FOR_US,
	LETTER_TOO_LARGE,
	LETTER_NOT_ENCRYPTED,   /* not a PGP/MIME encrypted message */
	LETTER_MALFORMED,       /* corrupt OpenPGP, or a cleartext that is not a sane message */
};

struct letter_result {
	enum letter_verdict verdict;
	struct pgp_fpr signer;         /* set for VERIFIED, WRONG_SIGNER, UNKNOWN_SIGNER */
	char from[MIME_ADDR_MAX + 1];  /* the protected From, when the cleartext was parsed */
};

/* Reads msg. Returns 0 when a verdict was reached, negative on SM_ENOMEM
 * or misuse. Appends the restored cleartext to out only for
 * LETTER_VERIFIED and LETTER_UNSIGNED. */
int letter_read(pgp_ctx *ctx, const uint8_t *msg, size_t len, struct letter_result *ret,
		struct buf *out) SM_WUR;

/* A short English phrase for a verdict ("signed by a key not bound to the sender"). */
const char *letter_verdict_str(enum letter_verdict v);

#endif
