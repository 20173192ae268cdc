/* fuzz_wks: the Web Key Service's parsers on what a stranger mails to the
 * submission address, once decrypted (wks_submission_parse,
 * wks_response_parse), and on a mail's header section (wks_header_from).
 * Checked besides memory safety:
 *   - each returns 0 or SM_EPARSE;
 *   - a submission's key is borrowed from the input, not empty, and ends it;
 *   - a response's addresses parse and its nonce is 17..64 letters and
 *     digits;
 *   - a From address formats back into an address that parses. */
#include <string.h>

#include "fuzz.h"
#include "wks.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void check_response(const struct wks_response *r)
{
	struct wkd_address a;
	size_t n = strlen(r->nonce);
	fuzz_check(wkd_address_parse(r->sender, &a) == 0, "response: sender");
	fuzz_check(wkd_address_parse(r->address, &a) == 0, "response: address");
	fuzz_check(n >= WKS_NONCE_MIN && n <= WKS_NONCE_MAX, "response: nonce length");
	for (size_t i = 0; i < n; i++)
		fuzz_check((r->nonce[i] >= '0' && r->nonce[i] <= '9') ||
				   (r->nonce[i] >= 'a' && r->nonce[i] <= 'z') ||
				   (r->nonce[i] >= 'A' && r->nonce[i] <= 'Z'),
			   "response: nonce alphabet");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *key = NULL;
	size_t len = 0;
	struct wks_response resp;
	struct wkd_address from, back;
	char text[WKS_ADDR_MAX + 1];
	int r = wks_submission_parse(data, size, &key, &len);
	fuzz_check(r == 0 || r == SM_EPARSE, "submission: result");
	if (r == 0)
		fuzz_check(key >= data && len > 0 && key + len == data + size, "submission: key borrowed");
	r = wks_response_parse(data, size, &resp);
	fuzz_check(r == 0 || r == SM_EPARSE, "response: result");
	if (r == 0)
		check_response(&resp);
	r = wks_header_from(data, size, &from);
	fuzz_check(r == 0 || r == SM_EPARSE, "from: result");
	if (r == 0)
		fuzz_check(wkd_address_format(&from, text, sizeof(text)) == 0 &&
				   wkd_address_parse(text, &back) == 0 && wkd_address_equal(&from, &back),
			   "from: an address");
	return 0;
}
