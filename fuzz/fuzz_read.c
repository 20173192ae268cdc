/* fuzz_read: letter_read() on untrusted MIME + OpenPGP input.
 *
 * The key store is fixed for the whole process: Luke's secret key (the
 * recipient) and Lea's certificate (a signer), both from the committed
 * fixture in FUZZ_KEYS_DIR, so the sealed seeds in the corpus reach
 * decryption, signature checks and header restoration. Besides what the
 * sanitizers catch, every input is checked against letter_read()'s
 * contract (letter.h): a verdict is always reached, and cleartext is
 * released only for LETTER_VERIFIED and LETTER_UNSIGNED. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "letter.h"

#ifndef FUZZ_KEYS_DIR
#error "build with -DFUZZ_KEYS_DIR=\"<source dir>/fuzz/keys\""
#endif

#define FUZZ_KEY_FILE_MAX (1u << 20)
#define FUZZ_RECIPIENT "luke@jedi.test"
#define FUZZ_SIGNER "lea@rebels.test"

/* The harness's key store; lives until the process exits. */
static pgp_ctx *fuzz_ctx;

static void fuzz_die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_read: %s: %s\n", what, detail);
	abort();
}

static void fuzz_load_key(const char *name, enum pgp_import_mode mode)
{
	char path[4096];
	struct buf b;
	int n = snprintf(path, sizeof(path), "%s/%s", FUZZ_KEYS_DIR, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		fuzz_die("key path too long", name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fuzz_die("cannot open key fixture", path);
	buf_init(&b, FUZZ_KEY_FILE_MAX);
	int r = buf_read_fd(&b, fd);
	close(fd);
	if (r == 0)
		r = pgp_import(fuzz_ctx, b.data, b.len, mode, NULL);
	buf_free(&b);
	if (r < 0)
		fuzz_die(path, sm_strerror(r));
}

/* The fixture must give exactly the roles the corpus was made for. */
static void fuzz_check_keys(void)
{
	struct pgp_fpr fpr;
	if (pgp_find_by_address(fuzz_ctx, FUZZ_RECIPIENT, true, &fpr) < 0)
		fuzz_die("no secret key in the fixture for", FUZZ_RECIPIENT);
	if (pgp_find_by_address(fuzz_ctx, FUZZ_SIGNER, false, &fpr) < 0)
		fuzz_die("no certificate in the fixture for", FUZZ_SIGNER);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	mime_global_init();
	if (pgp_ctx_new(&fuzz_ctx) < 0)
		fuzz_die("pgp_ctx_new", "failed");
	fuzz_load_key("luke-secret.pgp", PGP_IMPORT_ANY);
	/* PUBLIC, not ANY: refuses a fixture that would leak Lea's secret
	 * key into the store and let the fuzzer decrypt the sender copy. */
	fuzz_load_key("lea-public.pgp", PGP_IMPORT_PUBLIC);
	fuzz_check_keys();
	return 0;
}

static int fuzz_is_hex_fpr(const struct pgp_fpr *f)
{
	size_t n = strnlen(f->hex, sizeof(f->hex));
	return n == PGP_FPR_HEX && strspn(f->hex, "0123456789ABCDEF") == n;
}

static void fuzz_check_result(const struct letter_result *res, const struct buf *out)
{
	int releases = res->verdict == LETTER_VERIFIED || res->verdict == LETTER_UNSIGNED;
	if ((unsigned)res->verdict > (unsigned)LETTER_MALFORMED)
		fuzz_die("verdict out of range", letter_verdict_str(res->verdict));
	if (memchr(res->from, 0, sizeof(res->from)) == NULL)
		fuzz_die("contract", "from is not NUL-terminated");
	if (memchr(res->signer.hex, 0, sizeof(res->signer.hex)) == NULL)
		fuzz_die("contract", "signer is not NUL-terminated");
	if (!releases && out->len != 0)
		fuzz_die("cleartext released for verdict", letter_verdict_str(res->verdict));
	if (res->verdict != LETTER_VERIFIED)
		return;
	if (res->from[0] == 0 || !fuzz_is_hex_fpr(&res->signer))
		fuzz_die("contract", "VERIFIED without a From address or signer");
	if (pgp_key_has_address(fuzz_ctx, &res->signer, res->from) != 1)
		fuzz_die("VERIFIED by a key not bound to", res->from);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct letter_result res;
	struct buf out;
	memset(&res, 0, sizeof(res));
	buf_init(&out, LETTER_MAX);
	int r = letter_read(fuzz_ctx, data, size, &res, &out);
	if (r == 0)
		fuzz_check_result(&res, &out);
	else if (r != SM_ENOMEM)
		fuzz_die("letter_read returned no verdict", sm_strerror(r));
	else if (out.len != 0)
		fuzz_die("contract", "output appended on failure");
	buf_free(&out);
	return 0;
}
