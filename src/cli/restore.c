/* sealmail restore FILE [--passphrase-file FILE]: brings back a key store
 * saved with sealmail backup, into $SEALMAIL_HOME, which must hold no keys
 * yet (a key store is never overwritten or merged silently). Each file is
 * written atomically, secret ones with mode 0600; the restored key store
 * is then loaded to show that it works. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic_file.h"
#include "backup.h"
#include "cli.h"

static int restore_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail restore FILE [--passphrase-file FILE]\n");
	return EX_USAGE;
}

struct restore {
	const char *home;
	size_t n;
};

static int restore_file(void *arg, const char *name, const uint8_t *data, size_t len)
{
	struct restore *rs = arg;
	char dir[CLI_PATH_MAX + 300];
	const char *slash = strchr(name, '/');
	if (slash != NULL) {
		snprintf(dir, sizeof(dir), "%s/%.*s", rs->home, (int)(slash - name), name);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return SM_EIO;
	} else {
		snprintf(dir, sizeof(dir), "%s", rs->home);
	}
	mode_t mode = strcmp(name, "pubring.pgp") == 0 ? 0644 : 0600;
	if (atomic_file_write(dir, slash ? slash + 1 : name, data, len, mode) < 0)
		return SM_EIO;
	rs->n++;
	return 0;
}

/* The key store must be empty: restore never replaces keys. */
static int home_is_empty(const char *home)
{
	char path[CLI_PATH_MAX + 32];
	static const char *const rings[] = {"secring.pgp", "pubring.pgp"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", home, rings[i]);
		if (access(path, F_OK) == 0) {
			cli_error("%s already holds a key store; restore into an empty one (set "
				  "SEALMAIL_HOME to a new folder) and move it into place yourself",
				  home);
			return EX_CANTCREAT;
		}
	}
	if (mkdir(home, 0700) < 0 && errno != EEXIST) {
		cli_error("cannot create %s: %s", home, strerror(errno));
		return EX_CANTCREAT;
	}
	return 0;
}

/* Loads what was restored and says what it holds. */
static int show_restored(const struct restore *rs)
{
	struct cli c;
	struct buf secret;
	int st = cli_open(&c);
	buf_init(&secret, BACKUP_MAX);
	if (st == 0 && pgp_export_all_secret(c.ctx, &secret) < 0)
		st = EX_SOFTWARE;
	if (st == 0)
		printf("restored %zu file(s) into %s; the key store loads\n", rs->n, rs->home);
	if (secret.data != NULL)
		sodium_memzero(secret.data, secret.len);
	buf_free(&secret);
	cli_close(&c);
	return st;
}

static int restore(const char *path, const char *pfile)
{
	char home[CLI_PATH_MAX], pass[CLI_PASSPHRASE_MAX];
	struct buf file, archive;
	struct restore rs = {home, 0};
	buf_init(&file, BACKUP_MAX);
	buf_init(&archive, BACKUP_MAX);
	int st = cli_home(home, sizeof(home));
	if (st == 0)
		st = cli_read_input(path, &file);
	if (st == 0)
		st = home_is_empty(home);
	if (st == 0)
		st = cli_passphrase(pfile, false, pass);
	int r = st == 0 ? backup_open(file.data, file.len, pass, &archive) : 0;
	if (r == SM_ECRYPTO) {
		cli_error("%s: wrong passphrase, or the backup is damaged; nothing was restored", path);
		st = EX_DATAERR;
	} else if (r < 0) {
		cli_error("%s is not a sealmail backup (%s); nothing was restored", path, sm_strerror(r));
		st = EX_DATAERR;
	}
	if (st == 0 && (r = backup_archive_walk(archive.data, archive.len, restore_file, &rs)) < 0) {
		cli_error("restoring into %s failed after %zu file(s): %s", home, rs.n, sm_strerror(r));
		st = r == SM_EPARSE ? EX_DATAERR : EX_CANTCREAT;
	}
	if (st == 0)
		st = show_restored(&rs);
	sodium_memzero(pass, sizeof(pass));
	if (archive.data != NULL)
		sodium_memzero(archive.data, archive.len);
	buf_free(&archive);
	buf_free(&file);
	return st;
}

int cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {{"passphrase-file", required_argument, NULL, 'p'},
					     {0, 0, 0, 0}};
	const char *pfile = NULL;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'p')
			return restore_usage();
		pfile = optarg;
	}
	if (optind != argc - 1)
		return restore_usage();
	return restore(argv[optind], pfile);
}
