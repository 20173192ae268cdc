/* fuzz_payload: mime_payload_restore() on a decrypted payload.
 *
 * Anyone can encrypt a payload to a user, so what comes out of decryption
 * is as untrusted as what came in; fuzz_read rarely gets here because
 * mutations break the integrity check first. The outer header section is
 * fixed, the payload is the input. Checked besides memory safety: a
 * failure leaves the output untouched, a success ends with the payload
 * byte for byte, and the From address fits its bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "mime.h"

#define FUZZ_OUT_MAX (1u << 20)

static const char fuzz_outer[] = "From: Lea <lea@rebels.test>\r\n"
				 "To: luke@jedi.test\r\n"
				 "Subject: [...]\r\n"
				 "MIME-Version: 1.0\r\n"
				 "Content-Type: multipart/encrypted; boundary=b;\r\n"
				 " protocol=\"application/pgp-encrypted\"\r\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mime_global_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out;
	char from[MIME_ADDR_MAX + 1] = "unchanged";
	buf_init(&out, FUZZ_OUT_MAX);
	int r = mime_payload_restore(data, size, (const uint8_t *)fuzz_outer, strlen(fuzz_outer), &out,
				     from);
	if (r < 0) {
		fuzz_check(out.len == 0, "output written on failure");
		fuzz_check(strcmp(from, "unchanged") == 0, "From written on failure");
	} else {
		fuzz_check(out.len >= size, "output shorter than the payload");
		fuzz_check(size == 0 || memcmp(out.data + out.len - size, data, size) == 0,
			   "payload not kept byte for byte");
		fuzz_check(strlen(from) <= MIME_ADDR_MAX, "From over its bound");
	}
	buf_free(&out);
	return 0;
}
