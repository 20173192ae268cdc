#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fdio.h"

int atomic_file_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return SM_EIO;
	int r = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return r < 0 ? SM_EIO : 0;
}

/* Writes data to a fresh temporary file in dir, flushed; then place() puts
 * it at dst. */
static int write_then(const char *dir, const char *name, const uint8_t *data, size_t len,
		      mode_t mode, int (*place)(const char *tmp, const char *dst))
{
	char tmp[4096], dst[4096];
	int saved, r = SM_EIO;
	uint32_t rnd = randombytes_random();
	int n1 = snprintf(tmp, sizeof(tmp), "%s/.%s.%08x.tmp", dir, name, (unsigned)rnd);
	int n2 = snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof(tmp) || (size_t)n2 >= sizeof(dst))
		return SM_EINVAL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return SM_EIO;
	/* fchmod: the umask must not widen or narrow what the caller asked for. */
	if (fchmod(fd, mode) < 0 || fd_write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail_open;
	if (close(fd) < 0)
		goto fail_closed;
	if ((r = place(tmp, dst)) < 0)
		goto fail_closed;
	return atomic_file_fsync_dir(dir);
fail_open:
	saved = errno;
	close(fd);
	errno = saved;
fail_closed:
	saved = errno;
	unlink(tmp);
	errno = saved;
	return r;
}

static int place_replace(const char *tmp, const char *dst)
{
	return rename(tmp, dst) == 0 ? 0 : SM_EIO;
}

/* link() never replaces: of two creators, exactly one wins. */
static int place_new(const char *tmp, const char *dst)
{
	if (link(tmp, dst) < 0)
		return errno == EEXIST ? SM_EEXIST : SM_EIO;
	unlink(tmp);
	return 0;
}

int atomic_file_write(const char *dir, const char *name, const uint8_t *data, size_t len,
		      mode_t mode)
{
	return write_then(dir, name, data, len, mode, place_replace);
}

int atomic_file_create(const char *dir, const char *name, const uint8_t *data, size_t len,
		       mode_t mode)
{
	return write_then(dir, name, data, len, mode, place_new);
}
