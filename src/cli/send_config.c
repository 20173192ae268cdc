/* send_config.c: parsing and checking $SEALMAIL_HOME/config. */
#include "send_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>


static int set_bool(bool *b, const char *v)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
		*b = strcmp(v, "yes") == 0;
		return 0;
	}
	return -1;
}

static bool host_ok(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > SEND_HOST_MAX || h[0] == '.' || h[0] == '-')
		return false;
	return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

static int set_str(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);
	if (n >= size)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

/* HOST or HOST:PORT; the port defaults to 587 (submission). */
static int set_relay(struct send_config *cf, const char *v)
{
	const char *colon = strrchr(v, ':');
	size_t hl = colon ? (size_t)(colon - v) : strlen(v);
	const char *port = colon ? colon + 1 : "587";
	size_t pl = strlen(port);
	if (hl > SEND_HOST_MAX || pl == 0 || pl > 5 || strspn(port, "0123456789") != pl)
		return -1;
	long p = strtol(port, NULL, 10);
	memcpy(cf->relay_host, v, hl);
	cf->relay_host[hl] = 0;
	memcpy(cf->relay_port, port, pl + 1);
	return host_ok(cf->relay_host) && p > 0 && p < 65536 ? 0 : -1;
}

static int set_timeout(struct send_config *cf, const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > 4 || strspn(v, "0123456789") != n)
		return -1;
	cf->timeout_s = (int)strtol(v, NULL, 10);
	return cf->timeout_s >= 1 && cf->timeout_s <= 3600 ? 0 : -1;
}

static int set_user(struct send_config *cf, const char *v)
{
	return set_str(cf->relay_user, sizeof(cf->relay_user), v);
}

static int set_pwfile(struct send_config *cf, const char *v)
{
	return v[0] == '/' ? set_str(cf->relay_password_file, sizeof(cf->relay_password_file), v) : -1;
}

static int set_helo(struct send_config *cf, const char *v)
{
	return host_ok(v) ? set_str(cf->helo, sizeof(cf->helo), v) : -1;
}

static int set_plain(struct send_config *cf, const char *v)
{
	return set_bool(&cf->allow_plaintext, v);
}

static int set_tls(struct send_config *cf, const char *v)
{
	return set_bool(&cf->require_tls, v);
}

static const struct conf_key {
	const char *name;
	int (*set)(struct send_config *cf, const char *value);
	const char *expect;
} conf_keys[] = {
	{"relay", set_relay, "HOST or HOST:PORT"},
	{"relay-user", set_user, "a user name of at most 128 octets"},
	{"relay-password-file", set_pwfile, "an absolute path"},
	{"allow-plaintext", set_plain, "yes or no"},
	{"require-tls", set_tls, "yes or no"},
	{"timeout", set_timeout, "seconds, 1 to 3600"},
	{"helo-name", set_helo, "a host name"},
};

/* One "key value" line. */
static int conf_line(struct send_config *cf, const char *path, int lineno, char *line)
{
	char *sp = strchr(line, ' ');
	if (sp == NULL || sp[1] == 0 || sp[1] == ' ' || line[strlen(line) - 1] == ' ') {
		cli_error("%s:%d: expected 'key value'", path, lineno);
		return EX_CONFIG;
	}
	*sp = 0;
	for (size_t i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
		if (strcmp(line, conf_keys[i].name) != 0)
			continue;
		if (cf->seen & (1u << i)) {
			cli_error("%s:%d: '%s' given twice", path, lineno, line);
			return EX_CONFIG;
		}
		cf->seen |= 1u << i;
		if (conf_keys[i].set(cf, sp + 1) == 0)
			return 0;
		cli_error("%s:%d: '%s' wants %s", path, lineno, line, conf_keys[i].expect);
		return EX_CONFIG;
	}
	cli_error("%s:%d: unknown setting '%s'", path, lineno, line);
	return EX_CONFIG;
}

/* Splits the file into lines; blank lines and lines starting with '#' are skipped. */
static int conf_parse(struct send_config *cf, const char *path, const struct buf *b)
{
	char line[SEND_CONFIG_LINE_MAX + 1];
	const char *p = b->len ? (const char *)b->data : "";
	const char *end = p + b->len;
	for (int lineno = 1; p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > SEND_CONFIG_LINE_MAX || memchr(p, 0, n) != NULL || memchr(p, '\r', n) != NULL ||
		    memchr(p, '\t', n) != NULL) {
			cli_error("%s:%d: line too long or with control characters", path, lineno);
			return EX_CONFIG;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + 1;
		if (n == 0 || line[0] == '#')
			continue;
		int st = conf_line(cf, path, lineno, line);
		if (st != 0)
			return st;
	}
	return 0;
}

static int conf_check(const struct send_config *cf, const char *path)
{
	bool user = cf->relay_user[0] != 0, pw = cf->relay_password_file[0] != 0;
	if (user != pw || (user && cf->relay_host[0] == 0)) {
		cli_error("%s: relay-user and relay-password-file go together, with relay", path);
		return EX_CONFIG;
	}
	return 0;
}

static void conf_defaults(struct send_config *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->require_tls = true;
	cf->timeout_s = 300; /* RFC 5321 4.5.3.2: five minutes for most replies */
	if (gethostname(cf->helo, sizeof(cf->helo) - 1) != 0 || !host_ok(cf->helo))
		snprintf(cf->helo, sizeof(cf->helo), "localhost");
}

/* Reads $SEALMAIL_HOME/config; a missing file means the defaults. */
int send_config_load(const char *home, struct send_config *cf)
{
	char path[CLI_PATH_MAX];
	struct buf b;
	conf_defaults(cf);
	if ((size_t)snprintf(path, sizeof(path), "%s/config", home) >= sizeof(path))
		return EX_CONFIG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		cli_error("cannot open %s: %s", path, strerror(errno));
		return EX_CONFIG;
	}
	buf_init(&b, SEND_CONFIG_MAX);
	int st = buf_read_fd(&b, fd) < 0 ? EX_CONFIG : 0;
	close(fd);
	if (st != 0)
		cli_error("cannot read %s (or it is over %u bytes)", path, SEND_CONFIG_MAX);
	if (st == 0)
		st = conf_parse(cf, path, &b);
	if (st == 0)
		st = conf_check(cf, path);
	buf_free(&b);
	return st;
}

/* The relay password: the file's only line, the file mode 0600 or stricter. */
int send_config_password(const char *path, char ret[SEND_CRED_MAX + 1])
{
	struct stat st;
	char tmp[SEND_CRED_MAX + 3] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		cli_error("%s: %s", path, fd < 0 ? strerror(errno) :
			  "must be a regular file of mode 0600 (chmod 600 it)");
		if (fd >= 0)
			close(fd);
		return EX_CONFIG;
	}
	ssize_t n = read(fd, tmp, sizeof(tmp) - 1);
	close(fd);
	size_t len = strcspn(tmp, "\n");
	bool one_line = n > 0 && ((size_t)n == len || ((size_t)n == len + 1 && tmp[len] == '\n'));
	int rc = 0;
	if (!one_line || len == 0 || len > SEND_CRED_MAX) {
		cli_error("%s: expected one line of at most %d octets", path, SEND_CRED_MAX);
		rc = EX_CONFIG;
	} else {
		memcpy(ret, tmp, len);
		ret[len] = 0;
	}
	explicit_bzero(tmp, sizeof(tmp));
	return rc;
}

