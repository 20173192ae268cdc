/* fuzz_backup: backup_archive_walk() on a decrypted backup archive (what
 * sealmail restore writes into the key store, so a name must never lead
 * outside it). Checked besides memory safety:
 *   - the result is 0 or SM_EPARSE, and on SM_EPARSE no entry was handed
 *     out;
 *   - every name handed out is relative, without "." or ".." segments,
 *     at most one folder deep, and unique;
 *   - what walks re-archives (backup_archive_add) to exactly the input. */
#include <string.h>

#include "backup.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

struct rebuild {
	struct buf out;
	size_t n;
};

static int rebuild(void *arg, const char *name, const uint8_t *data, size_t len)
{
	struct rebuild *rb = arg;
	size_t nl = strlen(name);
	fuzz_check(nl > 0 && nl <= BACKUP_NAME_MAX && name[0] != '/', "name relative");
	fuzz_check(strstr(name, "..") == NULL || (strstr(name, "/../") == NULL &&
						    strncmp(name, "../", 3) != 0 &&
						    strcmp(name, "..") != 0),
		   "no .. segment");
	const char *slash = strchr(name, '/');
	fuzz_check(slash == NULL || strchr(slash + 1, '/') == NULL, "one folder deep");
	fuzz_check(backup_archive_add(&rb->out, name, data, len) == 0, "name re-archives");
	rb->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rebuild rb = {.n = 0};
	buf_init(&rb.out, size + 1);
	int r = backup_archive_walk(data, size, rebuild, &rb);
	fuzz_check(r == 0 || r == SM_EPARSE, "result");
	fuzz_check(r == 0 || rb.n == 0, "nothing handed out on failure");
	if (r == 0)
		fuzz_check(rb.out.len == size && (size == 0 || memcmp(rb.out.data, data, size) == 0),
			   "re-archives to the input");
	buf_free(&rb.out);
	return 0;
}
