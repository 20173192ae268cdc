#include "keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "buf.h"

#define PUBRING "pubring.pgp"
#define SECRING "secring.pgp"

/* Loads one ring; a missing file is an empty ring. The secret ring must not
 * be readable by anyone else: a wider mode means someone changed it, and we
 * would rather stop than keep using a key that may have leaked. */
static int load_ring(pgp_ctx *ctx, const char *dir, const char *name, int secret)
{
	char path[4096];
	struct stat st;
	struct buf b;
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return SM_EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : SM_EIO;
	if (fstat(fd, &st) < 0 || (secret && (st.st_mode & 077))) {
		int bad_mode = secret && (st.st_mode & 077);
		close(fd);
		return bad_mode ? SM_EINVAL : SM_EIO;
	}
	buf_init(&b, KEYSTORE_MAX_FILE);
	int r = buf_read_fd(&b, fd);
	close(fd);
	if (r == 0 && b.len > 0)
		r = pgp_import(ctx, b.data, b.len, PGP_IMPORT_ANY, NULL);
	buf_free(&b);
	return r;
}

int keystore_load(pgp_ctx *ctx, const char *dir)
{
	int r = load_ring(ctx, dir, PUBRING, 0);
	return r < 0 ? r : load_ring(ctx, dir, SECRING, 1);
}

static int ensure_dir(const char *dir)
{
	struct stat st;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return SM_EIO;
	if (stat(dir, &st) < 0)
		return SM_EIO;
	return S_ISDIR(st.st_mode) ? 0 : SM_EINVAL;
}

int keystore_save(pgp_ctx *ctx, const char *dir)
{
	struct buf pub, sec;
	buf_init(&pub, KEYSTORE_MAX_FILE);
	buf_init(&sec, KEYSTORE_MAX_FILE);
	int r = ensure_dir(dir);
	if (r == 0)
		r = pgp_export_all_public(ctx, &pub);
	if (r == 0)
		r = pgp_export_all_secret(ctx, &sec);
	/* secret ring first: a crash in between leaves a public ring that
	 * lacks the new key, never a secret key nobody can find. */
	if (r == 0)
		r = atomic_file_write(dir, SECRING, sec.data, sec.len, 0600);
	if (r == 0)
		r = atomic_file_write(dir, PUBRING, pub.data, pub.len, 0644);
	buf_free(&pub);
	buf_free(&sec);
	return r;
}
