/* fuzz_kt_update: a publish request as sealmaild's publication endpoint
 * reads it (kt_request_split, then kt_authorization_parse of its head), and
 * the whole input as an authorization, as a lookup proof carries it.
 * Checked besides memory safety:
 *   - each function returns 0 or its documented errors;
 *   - a split borrows both parts from the input, in order, with the empty
 *     line between them and a bundle that is not empty;
 *   - whatever parses is the one spelling: the statement formats back to
 *     exactly its bytes, and statement plus signature to exactly the input;
 *   - a parsed statement is consistent (version 1 exactly when there is no
 *     previous version, owners never make version 1). */
#include <string.h>

#include "fuzz.h"
#include "kt_update.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void fuzz_authorization(const uint8_t *data, size_t size)
{
	struct kt_authorization a;
	struct buf st, back;
	int r = kt_authorization_parse(data, size, &a);
	fuzz_check(r == 0 || r == SM_EPARSE || r == SM_ETOOBIG, "authorization: error code");
	if (r != 0)
		return;
	fuzz_check(a.statement == data && a.statement_len < size, "authorization: statement borrowed");
	fuzz_check(a.sig_len > 0 && a.sig_len <= KT_SIG_MAX, "authorization: signature length");
	fuzz_check(a.update.version > 0 && (a.update.version == 1) == !a.update.has_previous,
		   "authorization: version and previous");
	fuzz_check(a.update.authority == KT_BY_TOKEN ||
			   (a.update.authority == KT_BY_OWNER && a.update.version > 1),
		   "authorization: authority");
	buf_init(&st, KT_AUTH_MAX);
	buf_init(&back, KT_AUTH_MAX);
	fuzz_check(kt_update_format(&a.update, &st) == 0, "authorization: statement formats");
	fuzz_check(st.len == a.statement_len && memcmp(st.data, data, st.len) == 0,
		   "authorization: statement spelled one way");
	fuzz_check(kt_authorization_format(st.data, st.len, a.sig, a.sig_len, &back) == 0 &&
			   back.len == size && memcmp(back.data, data, size) == 0,
		   "authorization: spelled one way");
	buf_free(&st);
	buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *auth = NULL, *bundle = NULL;
	size_t auth_len = 0, bundle_len = 0;
	fuzz_authorization(data, size);
	int r = kt_request_split(data, size, &auth, &auth_len, &bundle, &bundle_len);
	fuzz_check(r == 0 || r == SM_EPARSE, "request: error code");
	if (r != 0)
		return 0;
	fuzz_check(auth == data && auth_len >= 1 && auth_len <= KT_AUTH_MAX, "request: head");
	fuzz_check(data[auth_len] == '\n' && data[auth_len - 1] == '\n', "request: empty line");
	fuzz_check(bundle == data + auth_len + 1 && bundle_len > 0 && auth_len + 1 + bundle_len == size,
		   "request: bundle borrowed");
	fuzz_authorization(auth, auth_len);
	return 0;
}
