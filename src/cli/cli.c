#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "keystore.h"
#include "letter.h"
#include "pins.h"

/* Where our own messages go: stderr, or a copy of it once the library's
 * stderr is silenced. */
static FILE *err_out;

void cli_error(const char *fmt, ...)
{
	FILE *f = err_out ? err_out : stderr;
	va_list ap;
	fputs("sealmail: ", f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
}

FILE *cli_stderr(void)
{
	return err_out ? err_out : stderr;
}

void cli_silence_library(void)
{
	if (getenv("SEALMAIL_DEBUG") != NULL)
		return;
	int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	FILE *f = saved >= 0 ? fdopen(saved, "w") : NULL;
	if (f == NULL || null < 0 || dup2(null, STDERR_FILENO) < 0) {
		if (f != NULL)
			fclose(f);
		else if (saved >= 0)
			close(saved);
		if (null >= 0)
			close(null);
		return;
	}
	close(null);
	err_out = f;
}

static int resolve_home(char *out, size_t size)
{
	const char *env = getenv("SEALMAIL_HOME");
	const char *home = getenv("HOME");
	int n;
	if (env != NULL && env[0] != 0)
		n = snprintf(out, size, "%s", env);
	else if (home != NULL && home[0] != 0)
		n = snprintf(out, size, "%s/.sealmail", home);
	else
		return -1;
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int cli_open(struct cli *c)
{
	c->ctx = NULL;
	int st = cli_home(c->home, sizeof(c->home));
	if (st != 0)
		return st;
	if (pgp_ctx_new(&c->ctx) < 0) {
		cli_error("cannot initialise OpenPGP");
		return EX_SOFTWARE;
	}
	int r = keystore_load(c->ctx, c->home);
	if (r == SM_EINVAL) {
		cli_error("%s/secring.pgp is readable by others; fix with: chmod 600 %s/secring.pgp",
			  c->home, c->home);
		return EX_CONFIG;
	}
	if (r < 0) {
		cli_error("cannot load the key store in %s: %s%s%s", c->home, sm_strerror(r),
			  r == SM_EIO ? ": " : "", r == SM_EIO ? strerror(errno) : "");
		return r == SM_EIO ? EX_IOERR : EX_DATAERR;
	}
	return 0;
}

int cli_save(struct cli *c)
{
	int r = keystore_save(c->ctx, c->home);
	if (r < 0) {
		cli_error("cannot save the key store in %s: %s%s%s", c->home, sm_strerror(r),
			  r == SM_EIO ? ": " : "", r == SM_EIO ? strerror(errno) : "");
		return EX_CANTCREAT;
	}
	return 0;
}

void cli_close(struct cli *c)
{
	pgp_ctx_free(c->ctx);
	c->ctx = NULL;
}

int cli_read_input(const char *path, struct buf *b)
{
	int use_stdin = path == NULL || strcmp(path, "-") == 0;
	int fd = use_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cli_error("cannot open %s: %s", path, strerror(errno));
		return EX_NOINPUT;
	}
	int r = buf_read_fd(b, fd);
	if (!use_stdin)
		close(fd);
	if (r == SM_ETOOBIG) {
		cli_error("%s is larger than the limit of %zu bytes", use_stdin ? "the input" : path,
			  b->max);
		return EX_DATAERR;
	}
	if (r < 0) {
		cli_error("cannot read %s: %s", use_stdin ? "standard input" : path, strerror(errno));
		return EX_IOERR;
	}
	return 0;
}

int cli_write_stdout(const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cli_error("cannot write to standard output: %s", strerror(errno));
			return EX_IOERR;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

long cli_wait_option(int argc, char **argv, long dflt)
{
	static const struct option opts[] = {{"wait", required_argument, NULL, 'w'}, {0, 0, 0, 0}};
	long wait = dflt;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (o != 'w' || (wait = cli_parse_wait(optarg)) < 0)
			return -1;
	return wait;
}

long cli_parse_wait(const char *arg)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);
	if (*arg == 0 || *end != 0 || v > 86400)
		return -1;
	return (long)v;
}

int cli_letter_seal(struct cli *c, const struct buf *in, struct buf *out, struct buf *missing)
{
	struct pins pins;
	if (pins_load(c->home, &pins) < 0) {
		cli_error("cannot read %s/%s", c->home, PINS_FILE);
		return SM_EIO;
	}
	int r = letter_seal(c->ctx, &pins, in->data, in->len, out, missing);
	pins_free(&pins);
	return r;
}

int cli_home(char *out, size_t size)
{
	if (resolve_home(out, size) < 0) {
		cli_error("cannot tell where the key store is: set SEALMAIL_HOME or HOME");
		return EX_CONFIG;
	}
	return 0;
}

/* One line from f without its newline; -1 at end of input or if too long. */
static int read_line(FILE *f, char out[CLI_PASSPHRASE_MAX])
{
	if (fgets(out, CLI_PASSPHRASE_MAX, f) == NULL)
		return -1;
	size_t n = strcspn(out, "\n");
	if (out[n] != '\n' && !feof(f))
		return -1;
	out[n] = 0;
	return 0;
}

/* Asks on the terminal, without echo. */
static int ask(FILE *tty, const char *prompt, char out[CLI_PASSPHRASE_MAX])
{
	struct termios old, quiet;
	int fd = fileno(tty);
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fd, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0)
		return -1;
	int r = read_line(tty, out);
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	fputs("\n", tty);
	return r;
}

int cli_passphrase(const char *file, bool confirm, char out[CLI_PASSPHRASE_MAX])
{
	char again[CLI_PASSPHRASE_MAX];
	FILE *f = fopen(file != NULL ? file : "/dev/tty", file != NULL ? "re" : "r+e");
	int st = 0;
	if (f == NULL) {
		cli_error(file != NULL ? "cannot read the passphrase file %s: %s"
				       : "no terminal to ask for the passphrase (%s: %s); use "
					 "--passphrase-file FILE",
			  file != NULL ? file : "/dev/tty", strerror(errno));
		return file != NULL ? EX_NOINPUT : EX_USAGE;
	}
	if (file != NULL && read_line(f, out) < 0) {
		cli_error("the passphrase file %s is empty or its first line is too long", file);
		st = EX_DATAERR;
	} else if (file == NULL && ask(f, "passphrase: ", out) < 0) {
		cli_error("no passphrase was typed");
		st = EX_DATAERR;
	} else if (file == NULL && confirm &&
		   (ask(f, "the same passphrase again: ", again) < 0 || strcmp(again, out) != 0)) {
		cli_error("the two passphrases differ");
		st = EX_DATAERR;
	}
	sodium_memzero(again, sizeof(again));
	fclose(f);
	if (st != 0)
		sodium_memzero(out, CLI_PASSPHRASE_MAX);
	return st;
}
