#include "maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic_file.h"
#include "fdio.h"

#define MAILDIR_PATH_MAX 4096
#define MAILDIR_HOST_MAX 128 /* bytes of sanitised host name in a unique name */

/* Makes "dir/sub" or, with name, "dir/sub/name"; SM_EINVAL if it does not fit. */
static int path_make(char ret[MAILDIR_PATH_MAX], const char *dir, const char *sub,
		     const char *name)
{
	int n = snprintf(ret, MAILDIR_PATH_MAX, "%s/%s%s%s", dir, sub, name ? "/" : "",
			 name ? name : "");
	return n < 0 || n >= MAILDIR_PATH_MAX ? SM_EINVAL : 0;
}

/* The directory that holds path, to be fsynced after path was created in it. */
static int path_parent(const char *path, char ret[MAILDIR_PATH_MAX])
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= MAILDIR_PATH_MAX)
		return SM_EINVAL;
	if (n == 0)
		ret[n++] = '.';
	else
		memcpy(ret, path, n);
	ret[n] = 0;
	return 0;
}

static void unlink_keep_errno(const char *path)
{
	int saved = errno;
	(void)unlink(path);
	errno = saved;
}

/* Creates dir (0700) if it is missing; sets *ret_created when it did. */
static int dir_ensure(const char *dir, int *ret_created)
{
	struct stat st;
	if (mkdir(dir, 0700) == 0) {
		*ret_created = 1;
		/* the umask may have narrowed it; the owner needs rwx to deliver */
		return chmod(dir, 0700) < 0 ? SM_EIO : 0;
	}
	if (errno != EEXIST || stat(dir, &st) < 0)
		return SM_EIO;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return SM_EIO;
	}
	return 0;
}

int maildir_ensure(const char *path)
{
	static const char *const subdirs[] = {"tmp", "new", "cur"};
	char parent[MAILDIR_PATH_MAX], sub[MAILDIR_PATH_MAX];
	int created = 0, sub_created = 0;
	if (path[0] == 0 || strlen(path) + sizeof("/tmp") > MAILDIR_PATH_MAX)
		return SM_EINVAL;
	int r = path_parent(path, parent);
	if (r == 0)
		r = dir_ensure(path, &created);
	/* a directory exists durably only once its parent's entry is synced */
	if (r == 0 && created)
		r = atomic_file_fsync_dir(parent);
	for (size_t i = 0; r == 0 && i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		r = path_make(sub, path, subdirs[i], NULL);
		if (r == 0)
			r = dir_ensure(sub, &sub_created);
	}
	if (r == 0 && sub_created)
		r = atomic_file_fsync_dir(path);
	return r;
}

/* Copies host into ret (size > 0) as a Maildir name may hold it. */
static void host_sanitise(char *ret, size_t size, const char *host)
{
	size_t o = 0;
	for (; *host; host++) {
		unsigned char c = (unsigned char)*host;
		int plain = c > 0x20 && c < 0x7f && c != '/' && c != ':' && c != '\\';
		if (o + (plain ? 1 : 4) >= size)
			break;
		if (plain)
			ret[o++] = (char)c;
		else
			o += (size_t)snprintf(ret + o, size - o, "\\%03o", c);
	}
	ret[o] = 0;
}

/* "<sec>.M<usec>P<pid>R<random>.<host>,S=<size>"; see maildir.h for why it is unique. */
static int name_make(char ret[MAILDIR_NAME_SIZE], size_t msg_len)
{
	struct timespec ts;
	unsigned char rnd[8];
	char hex[2 * sizeof(rnd) + 1], host[256], clean[MAILDIR_HOST_MAX + 1];
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return SM_EIO;
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	if (gethostname(host, sizeof(host)) < 0 || host[0] == 0)
		memcpy(host, "localhost", sizeof("localhost"));
	host[sizeof(host) - 1] = 0;
	host_sanitise(clean, sizeof(clean), host);
	int n = snprintf(ret, MAILDIR_NAME_SIZE, "%lld.M%06ldP%ldR%s.%s,S=%zu",
			 (long long)ts.tv_sec, ts.tv_nsec / 1000, (long)getpid(), hex, clean,
			 msg_len);
	return n < 0 || n >= MAILDIR_NAME_SIZE ? SM_ETOOBIG : 0;
}

/* Writes the whole message to tmp_path and makes it durable. On failure
 * the file is gone again and errno says what failed. */
static int tmp_write(const char *tmp_path, const uint8_t *msg, size_t len)
{
	int r, saved;
	int fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return SM_EIO;
	/* fchmod: exactly 0600, whatever the umask */
	if (fchmod(fd, 0600) < 0 || fd_write_all(fd, msg, len) < 0 || fsync(fd) < 0)
		goto fail;
	/* close() reports write-back errors some file systems (NFS) keep until then */
	r = close(fd);
	fd = -1;
	if (r < 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		(void)close(fd);
	(void)unlink(tmp_path);
	errno = saved;
	return SM_EIO;
}

/* Moves the complete, fsynced tmp file into new/ in one atomic step and
 * makes that durable. link() fails with EEXIST rather than replace a
 * message; rename() is the fallback for file systems without hard links. */
static int tmp_publish(const char *tmp_path, const char *new_path, const char *new_dir)
{
	if (link(tmp_path, new_path) == 0) {
		/* A crash before this unlink leaves a stale copy in tmp/, which
		 * Maildir readers delete after 36 hours; new/ has it once. */
		(void)unlink(tmp_path);
	} else if ((errno != EPERM && errno != EOPNOTSUPP) || rename(tmp_path, new_path) < 0) {
		unlink_keep_errno(tmp_path);
		return SM_EIO;
	}
	if (atomic_file_fsync_dir(new_dir) < 0) {
		/* Not durable, so not delivered: withdraw it so that the
		 * sender's retry of a failed delivery makes no duplicate. */
		unlink_keep_errno(new_path);
		return SM_EIO;
	}
	return 0;
}

int maildir_deliver(const char *path, const uint8_t *msg, size_t len, char *ret_name,
		    size_t ret_size)
{
	char name[MAILDIR_NAME_SIZE], tmp_path[MAILDIR_PATH_MAX], new_path[MAILDIR_PATH_MAX],
		new_dir[MAILDIR_PATH_MAX];
	int r = name_make(name, len);
	if (r < 0)
		return r;
	size_t name_len = strlen(name);
	if (name_len >= ret_size)
		return SM_ETOOBIG;
	if ((r = path_make(tmp_path, path, "tmp", name)) < 0 ||
	    (r = path_make(new_path, path, "new", name)) < 0 ||
	    (r = path_make(new_dir, path, "new", NULL)) < 0)
		return r;
	if ((r = maildir_ensure(path)) < 0 || (r = tmp_write(tmp_path, msg, len)) < 0 ||
	    (r = tmp_publish(tmp_path, new_path, new_dir)) < 0)
		return r;
	memcpy(ret_name, name, name_len + 1);
	return 0;
}
