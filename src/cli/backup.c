/* sealmail backup [--passphrase-file FILE] [-o FILE]: the whole key store
 * (secret and public keys, pins, trusted witnesses, transparency state,
 * settings) as one file protected by a passphrase (backup.h: Argon2id and
 * XChaCha20-Poly1305). To standard output unless -o; never to a terminal. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic_file.h"
#include "backup.h"
#include "cli.h"

/* What a key store holds: these files, and the files in these folders. */
static const char *const top_files[] = {"secring.pgp", "pubring.pgp", "pins", "witnesses",
					"config"};
static const char *const folders[] = {"kt", "kt-own"};

static int backup_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail backup [--passphrase-file FILE] [-o FILE]\n");
	return EX_USAGE;
}

/* Adds home/name to the archive if it is a regular file. */
static int add_file(const char *home, const char *name, struct buf *archive, size_t *n)
{
	char path[CLI_PATH_MAX + 300];
	struct buf b;
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", home, name);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	buf_init(&b, BACKUP_MAX);
	int r = buf_read_file(&b, path, 0);
	if (r == 0)
		r = backup_archive_add(archive, name, b.data, b.len);
	if (r == 0)
		++*n;
	else
		cli_error("cannot put %s in the backup: %s", path, sm_strerror(r));
	if (b.data != NULL)
		sodium_memzero(b.data, b.len);
	buf_free(&b);
	return r == 0 ? 0 : EX_IOERR;
}

static int add_folder(const char *home, const char *folder, struct buf *archive, size_t *n)
{
	char path[CLI_PATH_MAX + 64], name[300];
	snprintf(path, sizeof(path), "%s/%s", home, folder);
	DIR *d = opendir(path);
	if (d == NULL)
		return 0;
	int st = 0;
	for (struct dirent *e; st == 0 && (e = readdir(d)) != NULL;) {
		if (e->d_name[0] == '.')
			continue; /* ".", "..", and atomic_file's temporary files */
		snprintf(name, sizeof(name), "%s/%s", folder, e->d_name);
		st = add_file(home, name, archive, n);
	}
	closedir(d);
	return st;
}

static int archive_home(const char *home, struct buf *archive, size_t *n)
{
	int st = 0;
	for (size_t i = 0; st == 0 && i < sizeof(top_files) / sizeof(top_files[0]); i++)
		st = add_file(home, top_files[i], archive, n);
	for (size_t i = 0; st == 0 && i < sizeof(folders) / sizeof(folders[0]); i++)
		st = add_folder(home, folders[i], archive, n);
	if (st == 0 && *n == 0) {
		cli_error("%s holds no key store to back up", home);
		st = EX_NOINPUT;
	}
	return st;
}

static int write_out(const char *path, const struct buf *file)
{
	if (path == NULL)
		return cli_write_stdout(file->data, file->len);
	char dir[CLI_PATH_MAX];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (atomic_file_write(dir[0] ? dir : "/", slash ? slash + 1 : path, file->data, file->len,
			      0600) < 0) {
		cli_error("cannot write %s", path);
		return EX_CANTCREAT;
	}
	return 0;
}

int cmd_backup(int argc, char **argv)
{
	static const struct option opts[] = {{"passphrase-file", required_argument, NULL, 'p'},
					     {0, 0, 0, 0}};
	const char *pfile = NULL, *out_path = NULL;
	char home[CLI_PATH_MAX], pass[CLI_PASSPHRASE_MAX];
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (o == 'p')
			pfile = optarg;
		else if (o == 'o')
			out_path = optarg;
		else
			return backup_usage();
	}
	if (optind != argc)
		return backup_usage();
	if (out_path == NULL && isatty(STDOUT_FILENO)) {
		cli_error("refusing to write the backup to a terminal; use -o FILE or redirect");
		return EX_USAGE;
	}
	struct buf archive, file;
	size_t n = 0;
	buf_init(&archive, BACKUP_MAX);
	buf_init(&file, BACKUP_MAX);
	int st = cli_home(home, sizeof(home));
	if (st == 0)
		st = archive_home(home, &archive, &n);
	if (st == 0)
		st = cli_passphrase(pfile, true, pass);
	if (st == 0 && strlen(pass) < BACKUP_PASSPHRASE_MIN) {
		cli_error("the passphrase is too short: at least %d characters", BACKUP_PASSPHRASE_MIN);
		st = EX_DATAERR;
	}
	if (st == 0 && backup_seal(archive.data, archive.len, pass, backup_default_cost(), &file) < 0) {
		cli_error("cannot encrypt the backup");
		st = EX_SOFTWARE;
	}
	if (st == 0)
		st = write_out(out_path, &file);
	if (st == 0)
		fprintf(cli_stderr(), "backed up %zu file(s) from %s\n", n, home);
	sodium_memzero(pass, sizeof(pass));
	if (archive.data != NULL)
		sodium_memzero(archive.data, archive.len);
	buf_free(&archive);
	buf_free(&file);
	return st;
}
