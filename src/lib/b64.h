/* b64.h: base64 as every C2SP format and sealmail's own text formats use
 * it, RFC 4648 section 4 (standard alphabet, with padding), decoded
 * strictly: one spelling per byte string. No line breaks, no whitespace,
 * no missing padding, no non-zero trailing bits, nothing after the
 * padding, and only the 65 characters of the alphabet (libsodium 1.0.18's
 * decoder alone would take some bytes >= 0x80 as digits).
 *
 * Pure computation on caller memory; nothing is kept past a call. */
#ifndef SEALMAIL_B64_H
#define SEALMAIL_B64_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Characters of the encoding of n bytes (no NUL). n must be below
 * SIZE_MAX / 4 * 3 - 2, which every bounded input is. */
#define B64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Decodes the len characters at s (not NUL-terminated) into out, which
 * holds max bytes; *ret_len is the number of bytes. SM_EPARSE if s is
 * empty, not strict base64, or decodes to more than max bytes. ret_len is
 * untouched on failure; out may have been written to. */
int b64_decode(const uint8_t *s, size_t len, uint8_t *out, size_t max, size_t *ret_len) SM_WUR;

/* Appends the encoding of bin (len bytes, any length) to out. SM_ETOOBIG
 * (out unchanged) if it does not fit under out's maximum. The stack copy
 * is wiped, since a secret key may pass through here. */
int b64_append(struct buf *out, const uint8_t *bin, size_t len) SM_WUR;

#endif
