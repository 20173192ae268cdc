/* b64.c: strict RFC 4648 base64. See b64.h. */
#include "b64.h"

#include <sodium.h>

/* Encoding in chunks of 3 * 256 bytes gives the same text as encoding the
 * whole at once (3 bytes are exactly 4 characters), with a bounded stack. */
#define CHUNK (3 * 256)

/* libsodium 1.0.18's sodium_base642bin() decodes some bytes >= 0x80 as
 * base64 digits (found by fuzz_note: "\xcb\xb5" read as "//"), which would
 * let one root hash or signature have many spellings; only the RFC 4648
 * alphabet and padding get through to it. */
static int b64_alphabet(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || c == '='))
			return 0;
	}
	return 1;
}

/* libsodium's original variant rejects missing padding, non-zero trailing
 * bits and, with no end pointer, trailing bytes. The length bound keeps
 * B64_ENCODED_LEN(max) from overflowing and rejects hopeless inputs early. */
int b64_decode(const uint8_t *s, size_t len, uint8_t *out, size_t max, size_t *ret_len)
{
	size_t n = 0;
	if (len == 0 || max > SIZE_MAX / 2 || len > B64_ENCODED_LEN(max) || !b64_alphabet(s, len))
		return SM_EPARSE;
	if (sodium_base642bin(out, max, (const char *)s, len, NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return SM_EPARSE;
	*ret_len = n;
	return 0;
}

int b64_append(struct buf *out, const uint8_t *bin, size_t len)
{
	char s[sodium_base64_ENCODED_LEN(CHUNK, sodium_base64_VARIANT_ORIGINAL)];
	int r = 0;
	if (len > SIZE_MAX / 2 || B64_ENCODED_LEN(len) > out->max - out->len)
		return SM_ETOOBIG;
	for (size_t off = 0; off < len && r == 0; off += CHUNK) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		sodium_bin2base64(s, sizeof(s), bin + off, n, sodium_base64_VARIANT_ORIGINAL);
		r = buf_append_str(out, s);
	}
	sodium_memzero(s, sizeof(s));
	return r;
}
