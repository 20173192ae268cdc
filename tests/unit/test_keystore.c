#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "check.h"
#include "keystore.h"

static char dir[64];

static int mode_of(const char *name)
{
	char p[256];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static int count_entries(const char *d)
{
	DIR *dh = opendir(d);
	int n = 0;
	if (dh == NULL)
		return -1;
	for (struct dirent *e; (e = readdir(dh)) != NULL;)
		n += e->d_name[0] != '.' || strstr(e->d_name, ".tmp") != NULL;
	closedir(dh);
	return n;
}

static void atomic_write_replaces(void)
{
	char p[256];
	CHECK_INT(atomic_file_write(dir, "f", (const uint8_t *)"one", 3, 0640), 0);
	CHECK_INT(atomic_file_write(dir, "f", (const uint8_t *)"two!", 4, 0600), 0);
	CHECK_INT(mode_of("f"), 0600);
	snprintf(p, sizeof(p), "%s/f", dir);
	int fd = open(p, O_RDONLY);
	char got[8] = {0};
	CHECK(fd >= 0 && read(fd, got, sizeof(got)) == 4);
	close(fd);
	CHECK_STR(got, "two!");
	CHECK_INT(count_entries(dir), 1); /* no temporary file left */
	unlink(p);
}

static void atomic_write_fails_cleanly(void)
{
	CHECK_INT(atomic_file_write("/nonexistent-dir", "f", (const uint8_t *)"x", 1, 0600), SM_EIO);
	/* the target is a directory: rename fails, the temporary must go */
	char p[256];
	snprintf(p, sizeof(p), "%s/sub", dir);
	CHECK_INT(mkdir(p, 0700), 0);
	CHECK_INT(atomic_file_write(dir, "sub", (const uint8_t *)"x", 1, 0600), SM_EIO);
	rmdir(p);
	CHECK_INT(count_entries(dir), 0);
}

static void save_load_round_trip(void)
{
	pgp_ctx *a = NULL, *b = NULL;
	struct pgp_fpr f, g;
	char sub[128];
	snprintf(sub, sizeof(sub), "%s/store", dir);
	CHECK_INT(pgp_ctx_new(&a), 0);
	CHECK_INT(pgp_keygen(a, "luke@jedi.test", &f), 0);
	CHECK_INT(keystore_save(a, sub), 0);
	struct stat st;
	CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK_INT(pgp_ctx_new(&b), 0);
	CHECK_INT(keystore_load(b, sub), 0);
	CHECK_INT(pgp_find_by_address(b, "luke@jedi.test", true, &g), 0);
	CHECK_STR(g.hex, f.hex);
	pgp_ctx_free(a);
	pgp_ctx_free(b);
}

static void load_refuses_unsafe_or_corrupt(void)
{
	pgp_ctx *c = NULL;
	char sub[128], ring[160];
	snprintf(sub, sizeof(sub), "%s/store", dir);
	snprintf(ring, sizeof(ring), "%s/secring.pgp", sub);
	CHECK_INT(pgp_ctx_new(&c), 0);
	CHECK_INT(chmod(ring, 0644), 0);
	CHECK_INT(keystore_load(c, sub), SM_EINVAL);
	CHECK_INT(chmod(ring, 0600), 0);
	CHECK_INT(atomic_file_write(sub, "pubring.pgp", (const uint8_t *)"garbage", 7, 0644), 0);
	CHECK(keystore_load(c, sub) < 0);
	pgp_ctx_free(c);
	/* a folder that does not exist is an empty store */
	CHECK_INT(pgp_ctx_new(&c), 0);
	CHECK_INT(keystore_load(c, "/nonexistent-sealmail-home"), 0);
	pgp_ctx_free(c);
}

/* atomic_file_create: the first creator wins, a second gets SM_EEXIST and
 * changes nothing, and no temporary file is left either way. */
static void atomic_create_never_replaces(void)
{
	char p[256], got[8] = {0};
	CHECK_INT(atomic_file_create(dir, "k", (const uint8_t *)"first", 5, 0600), 0);
	CHECK_INT(atomic_file_create(dir, "k", (const uint8_t *)"second", 6, 0600), SM_EEXIST);
	CHECK_INT(mode_of("k"), 0600);
	snprintf(p, sizeof(p), "%s/k", dir);
	int fd = open(p, O_RDONLY);
	CHECK(fd >= 0 && read(fd, got, sizeof(got)) == 5);
	close(fd);
	CHECK_STR(got, "first");
	CHECK_INT(count_entries(dir), 1);
	unlink(p);
	CHECK_INT(atomic_file_create("/nonexistent-dir", "k", (const uint8_t *)"x", 1, 0600), SM_EIO);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sm-ks.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 2;
	RUN(atomic_write_replaces);
	RUN(atomic_write_fails_cleanly);
	RUN(atomic_create_never_replaces);
	RUN(save_load_round_trip);
	RUN(load_refuses_unsafe_or_corrupt);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return check_done();
}
