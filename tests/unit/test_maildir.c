/* test_maildir: delivery content, names, modes, and that a failed delivery
 * leaves nothing in tmp/ or new/. Failures are injected with RLIMIT_FSIZE
 * (portable, no privileges) and, where the test may make a mount namespace
 * (root in CI), with a full tmpfs for a real ENOSPC. */
#define _GNU_SOURCE /* unshare(), sethostname() for the namespace cases */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "maildir.h"

#define SKIP_EXIT 77

static char base[] = "/tmp/test_maildir.XXXXXX";

static void path_of(char *ret, size_t size, const char *dir, const char *name)
{
	int n = snprintf(ret, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		abort();
}

/* Entries of dir other than "." and "..", or -1 if it cannot be read. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int count_sub(const char *md, const char *sub)
{
	char p[4096];
	path_of(p, sizeof(p), md, sub);
	return count_entries(p);
}

static int mode_of(const char *path)
{
	struct stat st;
	return lstat(path, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

/* Reads md/new/name into a malloc'd block of *ret_len bytes. */
static uint8_t *read_delivered(const char *md, const char *name, size_t *ret_len)
{
	char p[4096];
	struct stat st;
	int n = snprintf(p, sizeof(p), "%s/new/%s", md, name);
	int fd = n > 0 && (size_t)n < sizeof(p) ? open(p, O_RDONLY | O_CLOEXEC) : -1;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	uint8_t *data = malloc((size_t)st.st_size + 1);
	ssize_t got = data ? read(fd, data, (size_t)st.st_size + 1) : -1;
	close(fd);
	if (got != st.st_size) {
		free(data);
		return NULL;
	}
	*ret_len = (size_t)got;
	return data;
}

static void ensure_creates(void)
{
	char md[4096], p[4096];
	path_of(md, sizeof(md), base, "ensure");
	mode_t old = umask(022);
	CHECK_INT(maildir_ensure(md), 0);
	CHECK_INT(maildir_ensure(md), 0); /* idempotent */
	umask(old);
	CHECK_INT(mode_of(md), 0700);
	static const char *subs[] = {"tmp", "new", "cur"};
	for (size_t i = 0; i < 3; i++) {
		path_of(p, sizeof(p), md, subs[i]);
		CHECK_INT(mode_of(p), 0700);
		CHECK_INT(count_entries(p), 0);
	}
	CHECK_INT(maildir_ensure(""), SM_EINVAL);
	/* a relative path and trailing slashes */
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL && chdir(base) == 0);
	CHECK_INT(maildir_ensure("rel/"), 0);
	CHECK_INT(count_sub("rel", "new"), 0);
	CHECK(chdir(cwd) == 0);
	/* an existing Maildir keeps its modes */
	CHECK_INT(chmod(md, 0750), 0);
	CHECK_INT(maildir_ensure(md), 0);
	CHECK_INT(mode_of(md), 0750);
}

static void deliver_exact(void)
{
	char md[4096], name[MAILDIR_NAME_SIZE], want[64];
	static uint8_t msg[100000];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 131 + (i >> 8)); /* NULs, CR, LF, 8-bit */
	path_of(md, sizeof(md), base, "exact"); /* missing: deliver creates it */
	CHECK_INT(maildir_deliver(md, msg, sizeof(msg), name, sizeof(name)), 0);
	size_t len = 0;
	uint8_t *got = read_delivered(md, name, &len);
	CHECK(got != NULL && len == sizeof(msg) && memcmp(got, msg, len) == 0);
	free(got);
	CHECK_INT(count_sub(md, "new"), 1);
	CHECK_INT(count_sub(md, "tmp"), 0);
	CHECK_INT(count_sub(md, "cur"), 0);
	CHECK_INT(mode_of(md), 0700);
	char p[4096];
	int n = snprintf(p, sizeof(p), "%s/new/%s", md, name);
	CHECK(n > 0 && mode_of(p) == 0600);
	snprintf(want, sizeof(want), "P%ldR", (long)getpid());
	CHECK(strstr(name, want) != NULL);
	CHECK(strstr(name, ".M") != NULL);
	CHECK(strlen(name) > 9 && strcmp(name + strlen(name) - 9, ",S=100000") == 0);
	CHECK(strchr(name, '/') == NULL && strchr(name, ':') == NULL);
}

static void deliver_empty(void)
{
	char md[4096], name[MAILDIR_NAME_SIZE];
	path_of(md, sizeof(md), base, "empty");
	CHECK_INT(maildir_deliver(md, NULL, 0, name, sizeof(name)), 0);
	size_t len = 99;
	uint8_t *got = read_delivered(md, name, &len);
	CHECK(got != NULL && len == 0);
	free(got);
	CHECK(strstr(name, ",S=0") != NULL);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define MANY 10000

static void unique_names(void)
{
	char md[4096];
	static char names[MANY][MAILDIR_NAME_SIZE];
	static char *sorted[MANY];
	int failed = 0;
	path_of(md, sizeof(md), base, "many");
	for (int i = 0; i < MANY; i++) {
		if (maildir_deliver(md, (const uint8_t *)"x\r\n", 3, names[i], sizeof(names[i])) < 0)
			failed++;
		sorted[i] = names[i];
	}
	CHECK_INT(failed, 0);
	qsort(sorted, MANY, sizeof(sorted[0]), name_cmp);
	int dups = 0;
	for (int i = 1; i < MANY; i++)
		dups += strcmp(sorted[i - 1], sorted[i]) == 0;
	CHECK_INT(dups, 0);
	CHECK_INT(count_sub(md, "new"), MANY);
	CHECK_INT(count_sub(md, "tmp"), 0);
}

#define PROCS 4
#define PER_PROC 500

/* Several processes delivering at once: every delivery succeeds and none
 * replaces another (the count in new/ is exact). */
static void concurrent_processes(void)
{
	char md[4096];
	pid_t pids[PROCS];
	path_of(md, sizeof(md), base, "concurrent");
	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			char name[MAILDIR_NAME_SIZE];
			for (int i = 0; i < PER_PROC; i++)
				if (maildir_deliver(md, (const uint8_t *)"y", 1, name, sizeof(name)) < 0)
					_exit(1);
			_exit(0);
		}
		CHECK(pids[p] > 0);
	}
	for (int p = 0; p < PROCS; p++) {
		int st = -1;
		CHECK(pids[p] > 0 && waitpid(pids[p], &st, 0) == pids[p]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	CHECK_INT(count_sub(md, "new"), PROCS * PER_PROC);
	CHECK_INT(count_sub(md, "tmp"), 0);
}

static void path_is_file(void)
{
	char f[4096], name[MAILDIR_NAME_SIZE] = "unchanged";
	path_of(f, sizeof(f), base, "a-file");
	int fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	errno = 0;
	CHECK_INT(maildir_deliver(f, (const uint8_t *)"z", 1, name, sizeof(name)), SM_EIO);
	CHECK_INT(errno, ENOTDIR);
	CHECK_STR(name, "unchanged");
	errno = 0;
	CHECK_INT(maildir_ensure(f), SM_EIO);
	CHECK_INT(errno, ENOTDIR);
	/* a missing parent is not created */
	path_of(f, sizeof(f), base, "no/such/parent");
	errno = 0;
	CHECK_INT(maildir_ensure(f), SM_EIO);
	CHECK_INT(errno, ENOENT);
}

static void subdir_is_file(void)
{
	char md[4096], p[4096], name[MAILDIR_NAME_SIZE];
	path_of(md, sizeof(md), base, "broken");
	CHECK_INT(mkdir(md, 0700), 0);
	path_of(p, sizeof(p), md, "new");
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	close(fd);
	errno = 0;
	CHECK_INT(maildir_deliver(md, (const uint8_t *)"z", 1, name, sizeof(name)), SM_EIO);
	CHECK_INT(errno, ENOTDIR);
	CHECK_INT(count_sub(md, "tmp"), 0);
}

static void name_buffer_small(void)
{
	char md[4096], name[16] = "unchanged";
	path_of(md, sizeof(md), base, "small");
	CHECK_INT(maildir_deliver(md, (const uint8_t *)"z", 1, name, sizeof(name)), SM_ETOOBIG);
	CHECK_STR(name, "unchanged");
	CHECK_INT(count_sub(md, "new"), -1); /* checked before anything was made */
	char longpath[5000];
	memset(longpath, 'a', sizeof(longpath));
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = 0;
	char big[MAILDIR_NAME_SIZE];
	CHECK_INT(maildir_deliver(longpath, (const uint8_t *)"z", 1, big, sizeof(big)), SM_EINVAL);
	CHECK_INT(maildir_ensure(longpath), SM_EINVAL);
}

/* Runs fn in a child; returns its exit status, or -1. */
static int in_child(int (*fn)(const char *), const char *md)
{
	int st;
	pid_t pid = fork();
	if (pid == 0)
		_exit(fn(md));
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* A file size limit makes write() fail part way through the message. */
static int deliver_over_fsize(const char *md)
{
	static uint8_t msg[65536];
	char name[MAILDIR_NAME_SIZE];
	struct rlimit rl = {4096, 4096};
	memset(msg, 'm', sizeof(msg));
	if (maildir_ensure(md) < 0 || signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
	    setrlimit(RLIMIT_FSIZE, &rl) < 0)
		return 2;
	errno = 0;
	int r = maildir_deliver(md, msg, sizeof(msg), name, sizeof(name));
	return r == SM_EIO && errno == EFBIG ? 0 : 1;
}

static void failure_mid_write(void)
{
	char md[4096];
	path_of(md, sizeof(md), base, "fsize");
	CHECK_INT(in_child(deliver_over_fsize, md), 0);
	CHECK_INT(count_sub(md, "new"), 0);
	CHECK_INT(count_sub(md, "tmp"), 0);
	/* the same Maildir works again once there is room */
	char name[MAILDIR_NAME_SIZE];
	CHECK_INT(maildir_deliver(md, (const uint8_t *)"ok", 2, name, sizeof(name)), 0);
	CHECK_INT(count_sub(md, "new"), 1);
}

/* In a private mount namespace: a 64 KiB tmpfs, and a 1 MiB message. */
static int deliver_on_full_fs(const char *md)
{
	static uint8_t msg[1 << 20];
	char name[MAILDIR_NAME_SIZE];
	if (unshare(CLONE_NEWNS) < 0)
		return SKIP_EXIT;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", md, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0700") < 0)
		return SKIP_EXIT;
	errno = 0;
	int r = maildir_deliver(md, msg, sizeof(msg), name, sizeof(name));
	if (r != SM_EIO || errno != ENOSPC)
		return 1;
	return count_sub(md, "new") == 0 && count_sub(md, "tmp") == 0 ? 0 : 3;
}

static void failure_enospc(void)
{
	char md[4096];
	path_of(md, sizeof(md), base, "full");
	CHECK_INT(mkdir(md, 0700), 0);
	int st = in_child(deliver_on_full_fs, md);
	if (st == SKIP_EXIT)
		printf("# skipped: no mount namespace for a full tmpfs\n");
	else
		CHECK_INT(st, 0);
}

/* In a private UTS namespace: a host name with the characters a Maildir
 * name cannot hold as they are. */
static int deliver_odd_hostname(const char *md)
{
	static const char odd[] = "mx/1:a b\\";
	char name[MAILDIR_NAME_SIZE];
	if (unshare(CLONE_NEWUTS) < 0 || sethostname(odd, sizeof(odd) - 1) < 0)
		return SKIP_EXIT;
	if (maildir_deliver(md, (const uint8_t *)"h", 1, name, sizeof(name)) < 0)
		return 1;
	return strstr(name, ".mx\\0571\\072a\\040b\\134,S=1") != NULL ? 0 : 2;
}

static void hostname_sanitised(void)
{
	char md[4096];
	path_of(md, sizeof(md), base, "host");
	int st = in_child(deliver_odd_hostname, md);
	if (st == SKIP_EXIT)
		printf("# skipped: no UTS namespace to set a host name\n");
	else
		CHECK_INT(st, 0);
}

static int rm_tree(const char *dir)
{
	char cmd[4200];
	int n = snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return n > 0 && (size_t)n < sizeof(cmd) ? system(cmd) : -1;
}

int main(void)
{
	if (mkdtemp(base) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	RUN(ensure_creates);
	RUN(deliver_exact);
	RUN(deliver_empty);
	RUN(unique_names);
	RUN(concurrent_processes);
	RUN(path_is_file);
	RUN(subdir_is_file);
	RUN(name_buffer_small);
	RUN(failure_mid_write);
	RUN(failure_enospc);
	RUN(hostname_sanitised);
	if (rm_tree(base) != 0)
		printf("# could not remove %s\n", base);
	return check_done();
}
