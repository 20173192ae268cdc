#include <fcntl.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "conf.h"

#ifndef CONF_EXAMPLE
#error "build with -DCONF_EXAMPLE=\"<source dir>/contrib/sealmaild.conf.example\""
#endif

/* The three required globals, lines 1-3, and a minimal domain block. */
#define REQ "state-dir /var/lib/sealmaild\ntls-certificate /etc/c.pem\ntls-key /etc/k.pem\n"
#define DOM "domain jedi.test {\nmaildir-root /var/mail/jedi\n}\n"

static int parse(const char *text, struct conf **ret, char *err, size_t err_size)
{
	return conf_parse(text, strlen(text), ret, err, err_size);
}

static void full_file(void)
{
	static const char text[] =
		"# every directive\n"
		"state-dir /var/lib/sealmaild\n"
		"user _sealmail-d.1\n"
		"hostname MX.Jedi.Test\n"
		"tls-certificate \"/etc/ssl/my certs/full chain.pem\"   # quoted: blanks\n"
		"tls-key\t/etc/ssl/private/key.pem\n"
		"policy-file /etc/sealmaild/policy\n"
		"listen https [2001:DB8::0:1]:8443\n"
		"listen smtp 192.0.2.1:2525\n"
		"max-message-size 50M\n"
		"max-http-request 16K\n"
		"max-recipients 250\n"
		"max-sessions 1000\n"
		"max-sessions-per-address 1000\n"
		"max-https-connections 3000\n"
		"max-https-connections-per-address 300\n"
		"smtp-command-timeout 2m\n"
		"smtp-data-timeout 1h\n"
		"smtp-session-timeout 45m\n"
		"http-request-timeout 30\n"
		"\n"
		"domain Jedi.Test {\n"
		"  maildir-root /var/mail/jedi\n"
		"  wkd no\n"
		"  mx yes\n"
		"}\n"
		"domain rebels.test {\n"
		"  maildir-root \"/var/mail/a # b\"\n"
		"  mx no\n"
		"}";
	struct conf *c = NULL;
	char err[CONF_ERR_SIZE] = "x";
	CHECK_INT(parse(text, &c, err, sizeof(err)), 0);
	CHECK_STR(err, "");
	if (c == NULL)
		return;
	CHECK_STR(c->state_dir, "/var/lib/sealmaild");
	CHECK_STR(c->user, "_sealmail-d.1");
	CHECK_STR(c->hostname, "mx.jedi.test");
	CHECK_STR(c->tls_certificate, "/etc/ssl/my certs/full chain.pem");
	CHECK_STR(c->tls_key, "/etc/ssl/private/key.pem");
	CHECK_STR(c->policy_file, "/etc/sealmaild/policy");
	CHECK_INT(c->listen_https.family, CONF_INET6);
	CHECK_STR(c->listen_https.address, "2001:db8::1");
	CHECK_INT(c->listen_https.port, 8443);
	CHECK_INT(c->listen_smtp.family, CONF_INET);
	CHECK_STR(c->listen_smtp.address, "192.0.2.1");
	CHECK_INT(c->listen_smtp.port, 2525);
	CHECK_INT(c->max_message_size, 50ull << 20);
	CHECK_INT(c->max_http_request, 16 << 10);
	CHECK_INT(c->max_recipients, 250);
	CHECK_INT(c->max_sessions, 1000);
	CHECK_INT(c->max_sessions_per_address, 1000);
	CHECK_INT(c->max_https_connections, 3000);
	CHECK_INT(c->max_https_connections_per_address, 300);
	CHECK_INT(c->smtp_command_timeout, 120);
	CHECK_INT(c->smtp_data_timeout, 3600);
	CHECK_INT(c->smtp_session_timeout, 2700);
	CHECK_INT(c->http_request_timeout, 30);
	CHECK_INT(c->ndomains, 2);
	CHECK_STR(c->domains[0].name, "jedi.test");
	CHECK_STR(c->domains[0].maildir_root, "/var/mail/jedi");
	CHECK(!c->domains[0].wkd && c->domains[0].mx);
	CHECK_STR(c->domains[1].name, "rebels.test");
	CHECK_STR(c->domains[1].maildir_root, "/var/mail/a # b");
	CHECK(c->domains[1].wkd && !c->domains[1].mx);
	conf_free(c);
}

static void defaults(void)
{
	struct conf *c = NULL;
	char err[CONF_ERR_SIZE];
	CHECK_INT(parse(REQ DOM, &c, err, sizeof(err)), 0);
	if (c == NULL)
		return;
	CHECK(c->hostname == NULL);
	CHECK(c->policy_file == NULL);
	CHECK_INT(c->listen_https.family, CONF_ANY);
	CHECK_STR(c->listen_https.address, "*");
	CHECK_INT(c->listen_https.port, 443);
	CHECK_INT(c->listen_smtp.family, CONF_ANY);
	CHECK_STR(c->listen_smtp.address, "*");
	CHECK_INT(c->listen_smtp.port, 25);
	CHECK_INT(c->max_message_size, 25ull << 20);
	CHECK_INT(c->max_http_request, 8192);
	CHECK_INT(c->max_recipients, 100);
	CHECK_INT(c->max_sessions, 500);
	CHECK_INT(c->max_sessions_per_address, 20);
	CHECK_INT(c->smtp_command_timeout, 300);
	CHECK_INT(c->smtp_data_timeout, 600);
	CHECK_INT(c->smtp_session_timeout, 1800);
	CHECK_INT(c->max_https_connections, 1000);
	CHECK_INT(c->max_https_connections_per_address, 50);
	CHECK(c->user == NULL);
	CHECK_INT(c->http_request_timeout, 10);
	CHECK_INT(c->ndomains, 1);
	CHECK(c->domains[0].wkd && c->domains[0].mx);
	CHECK(!c->domains[0].wks && !c->domains[0].wks_auth_submit);
	CHECK_INT(c->wks_confirm_timeout, 3 * 86400);
	conf_free(c);
}

static void example_file(void)
{
	struct buf b;
	struct conf *c = NULL;
	char err[CONF_ERR_SIZE] = "";
	int fd = open(CONF_EXAMPLE, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	buf_init(&b, CONF_FILE_MAX);
	CHECK_INT(buf_read_fd(&b, fd), 0);
	close(fd);
	CHECK_INT(conf_parse((const char *)b.data, b.len, &c, err, sizeof(err)), 0);
	if (err[0] != 0)
		printf("# %s\n", err);
	CHECK(c != NULL && conf_find_domain(c, "jedi.test") != NULL);
	CHECK(c != NULL && c->user != NULL && strcmp(c->user, "sealmaild") == 0);
	conf_free(c);
	buf_free(&b);
}

static void find_domain(void)
{
	struct conf *c = NULL;
	char err[CONF_ERR_SIZE];
	CHECK_INT(parse(REQ DOM "domain rebels.test {\nmaildir-root /m\n}\n", &c, err, sizeof(err)), 0);
	CHECK(conf_find_domain(c, "JEDI.test") == &c->domains[0]);
	CHECK(conf_find_domain(c, "rebels.test") == &c->domains[1]);
	CHECK(conf_find_domain(c, "jedi.tes") == NULL);
	CHECK(conf_find_domain(c, "jedi.test.") == NULL);
	CHECK(conf_find_domain(c, "") == NULL);
	CHECK(conf_find_domain(c, NULL) == NULL);
	CHECK(conf_find_domain(NULL, "jedi.test") == NULL);
	conf_free(c);
	conf_free(NULL);
}

static void units_and_bounds(void)
{
	static const struct {
		const char *line;
		int ret;
	} cases[] = {
		{"max-message-size 1K", 0}, {"max-message-size 1023", SM_EPARSE},
		{"max-message-size 1024", 0}, {"max-message-size 1G", 0},
		{"max-message-size 1025M", SM_EPARSE}, {"max-message-size 1073741824", 0},
		{"max-message-size 1k", SM_EPARSE}, {"max-message-size 1KB", SM_EPARSE},
		{"max-message-size -1K", SM_EPARSE}, {"max-message-size +1K", SM_EPARSE},
		{"max-message-size 0x10K", SM_EPARSE}, {"max-message-size 1 K", SM_EPARSE},
		{"max-message-size 18446744073709551615", SM_EPARSE},
		{"max-message-size 17179869184G", SM_EPARSE},
		{"max-http-request 1M", 0}, {"max-http-request 2M", SM_EPARSE},
		{"smtp-data-timeout 24h", 0}, {"smtp-data-timeout 25h", SM_EPARSE},
		{"smtp-data-timeout 86400s", 0}, {"smtp-data-timeout 0s", SM_EPARSE},
		{"smtp-data-timeout 5M", SM_EPARSE}, {"smtp-data-timeout 1d", SM_EPARSE},
		{"http-request-timeout 1", 0}, {"max-recipients 100000", 0},
		{"max-recipients 100001", SM_EPARSE}, {"max-recipients 0", SM_EPARSE},
		{"max-recipients 10K", SM_EPARSE}, {"max-recipients 007", 0},
		{"max-sessions 20", 0}, {"max-sessions 19", SM_EPARSE},
		{"listen smtp 0.0.0.0:1", 0}, {"listen smtp [::]:65535", 0},
		{"listen smtp 127.0.0.1:025", 0}, {"listen smtp 1.2.3:25", SM_EPARSE},
		{"listen smtp 256.0.0.1:25", SM_EPARSE}, {"listen smtp ::1:25", SM_EPARSE},
		{"listen smtp [127.0.0.1]:25", SM_EPARSE}, {"listen smtp [fe80::1%eth0]:25", SM_EPARSE},
		{"listen smtp localhost:25", SM_EPARSE}, {"listen smtp *", SM_EPARSE},
		{"listen smtp *:", SM_EPARSE}, {"listen smtp :25", SM_EPARSE},
		{"listen smtp *:-1", SM_EPARSE}, {"listen smtp *:25x", SM_EPARSE},
		{"listen smtp *:443", SM_EPARSE}, {"listen smtp 192.0.2.1:443", SM_EPARSE},
		{"listen https 192.0.2.1:25", SM_EPARSE}, {"hostname a", 0},
		{"hostname a_b.test", SM_EPARSE}, {"hostname a@b.test", SM_EPARSE},
		{"hostname a.test.", SM_EPARSE}, {"policy-file relative", SM_EPARSE},
	};
	char text[512], err[CONF_ERR_SIZE];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf *c = NULL;
		snprintf(text, sizeof(text), REQ "%s\n" DOM, cases[i].line);
		int r = parse(text, &c, err, sizeof(err));
		if (r != cases[i].ret)
			printf("# \"%s\": %d (%s)\n", cases[i].line, r, err);
		CHECK_INT(r, cases[i].ret);
		CHECK(r != 0 || c != NULL);
		CHECK(r == 0 || strncmp(err, "line 4: ", 8) == 0);
		conf_free(c);
	}
}

/* Every error path, with its exact message (and so its line number). */
static void errors(void)
{
	static const struct {
		const char *text;
		int ret;
		const char *err;
	} cases[] = {
		{"", SM_EPARSE, "the file has no directives"},
		{"# only a comment\n\n   \t\n", SM_EPARSE, "the file has no directives"},
		{REQ, SM_EPARSE, "no domain block"},
		{"state-dir /s\ntls-key /k\n" DOM, SM_EPARSE,
		 "missing required directive 'tls-certificate'"},
		{DOM, SM_EPARSE, "missing required directive 'state-dir'"},
		{REQ "domain w.test {\nmaildir-root /m\nweb-key-service yes\nmx no\n}\n", SM_EPARSE,
		 "line 4: domain 'w.test': web-key-service needs wkd and mx"},
		{REQ "domain w.test {\nmaildir-root /m\nwks-auth-submit yes\n}\n", SM_EPARSE,
		 "line 4: domain 'w.test': wks-auth-submit needs web-key-service"},
		{REQ "wks-confirm-timeout 721h\n" DOM, SM_EPARSE,
		 "line 4: 'wks-confirm-timeout' must be between 1 and 2592000 seconds, not '721h'"},
		{REQ "frobnicate yes\n" DOM, SM_EPARSE, "line 4: unknown directive 'frobnicate'"},
		{REQ "State-Dir /x\n" DOM, SM_EPARSE, "line 4: unknown directive 'State-Dir'"},
		{REQ "listen ftp *:21\n" DOM, SM_EPARSE,
		 "line 4: 'listen' must be followed by https or smtp"},
		{REQ "listen\n" DOM, SM_EPARSE, "line 4: 'listen' must be followed by https or smtp"},
		{REQ "listen https\n" DOM, SM_EPARSE, "line 4: 'listen https' needs a value"},
		{REQ DOM "tls-key /k2\n", SM_EPARSE, "line 7: 'tls-key' is already set on line 3"},
		{REQ "listen smtp *:25\nlisten smtp *:2525\n" DOM, SM_EPARSE,
		 "line 5: 'listen smtp' is already set on line 4"},
		{REQ "max-recipients ten\n" DOM, SM_EPARSE, "line 4: 'max-recipients' needs a number, not 'ten'"},
		{REQ "max-recipients\n" DOM, SM_EPARSE, "line 4: 'max-recipients' needs a value"},
		{REQ "max-recipients 1 2\n" DOM, SM_EPARSE, "line 4: 'max-recipients' takes one value"},
		{REQ "max-message-size 99999999999999999999K\n" DOM, SM_EPARSE,
		 "line 4: 'max-message-size': '99999999999999999999K' is too large"},
		{REQ "max-message-size 99999999999G\n" DOM, SM_EPARSE,
		 "line 4: 'max-message-size': '99999999999G' is too large"},
		{REQ "max-message-size 25X\n" DOM, SM_EPARSE,
		 "line 4: 'max-message-size': bad unit in '25X' (use K, M or G)"},
		{REQ "smtp-command-timeout 5mm\n" DOM, SM_EPARSE,
		 "line 4: 'smtp-command-timeout': bad unit in '5mm' (use s, m or h)"},
		{REQ "max-sessions 5s\n" DOM, SM_EPARSE,
		 "line 4: 'max-sessions': bad unit in '5s' (a plain number)"},
		{REQ "max-message-size 2G\n" DOM, SM_EPARSE,
		 "line 4: 'max-message-size' must be between 1024 and 1073741824 bytes, not '2G'"},
		{REQ "listen smtp *:0\n" DOM, SM_EPARSE, "line 4: 'listen smtp': port must be 1 to 65535, not '0'"},
		{REQ "listen smtp *:65536\n" DOM, SM_EPARSE,
		 "line 4: 'listen smtp': port must be 1 to 65535, not '65536'"},
		{REQ "user -root\n" DOM, SM_EPARSE, "line 4: 'user': invalid user name '-root'"},
		{REQ "max-https-connections 10\nmax-https-connections-per-address 11\n" DOM, SM_EPARSE,
		 "line 5: 'max-https-connections-per-address' (11) exceeds 'max-https-connections' (10)"},
		{REQ "user mail/x\n" DOM, SM_EPARSE, "line 4: 'user': invalid user name 'mail/x'"},
		{REQ "user abcdefghijklmnopqrstuvwxyz0123456\n" DOM, SM_EPARSE,
		 "line 4: 'user': invalid user name 'abcdefghijklmnopqrstuvwxyz0123456'"},
		{REQ "listen https example.org:443\n" DOM, SM_EPARSE,
		 "line 4: 'listen https' needs *:PORT, IPV4:PORT or [IPV6]:PORT, not 'example.org:443'"},
		{"state-dir var/lib/sealmaild\n", SM_EPARSE,
		 "line 1: 'state-dir' needs an absolute path, not 'var/lib/sealmaild'"},
		{REQ "domain jedi.test {\nmaildir-root \"\"\n}\n", SM_EPARSE,
		 "line 5: 'maildir-root' needs an absolute path, not ''"},
		{REQ "tls-key \"/etc/my key\n" DOM, SM_EPARSE, "line 4: unterminated quoted string"},
		{REQ "policy-file \"/a\"b\n" DOM, SM_EPARSE, "line 4: a blank must follow a closing quote"},
		{REQ "policy-file /a\"b\"\n" DOM, SM_EPARSE, "line 4: a quote may only begin a word"},
		{REQ "domain jedi.test {\nmaildir-root /m\n", SM_EPARSE,
		 "line 4: domain 'jedi.test' is not closed (no '}')"},
		{REQ DOM "}\n", SM_EPARSE, "line 7: '}' without an open domain block"},
		{REQ "domain jedi.test {\nmaildir-root /m\n} }\n", SM_EPARSE,
		 "line 6: '}' must be alone on its line"},
		{REQ "domain jedi.test {\ndomain rebels.test {\n}\n}\n", SM_EPARSE,
		 "line 5: domain blocks cannot be nested (the block on line 4 is open)"},
		{REQ "domain jedi.test {\nmaildir-root /m\ntls-key /k\n}\n", SM_EPARSE,
		 "line 6: 'tls-key' is not allowed inside a domain block"},
		{REQ "maildir-root /m\n" DOM, SM_EPARSE,
		 "line 4: 'maildir-root' is only allowed inside a domain block"},
		{REQ "wkd no\n" DOM, SM_EPARSE, "line 4: 'wkd' is only allowed inside a domain block"},
		{REQ "domain jedi.test {\nmaildir-root /m\nmx maybe\n}\n", SM_EPARSE,
		 "line 6: 'mx' takes yes or no, not 'maybe'"},
		{REQ "domain jedi.test {\nmaildir-root /m\nwkd no\nwkd yes\n}\n", SM_EPARSE,
		 "line 7: 'wkd' is already set on line 6"},
		{REQ "\ndomain jedi.test {\nwkd no\n}\n", SM_EPARSE,
		 "line 5: domain 'jedi.test' lacks the required 'maildir-root'"},
		{REQ DOM "domain JEDI.test {\nmaildir-root /m\n}\n", SM_EPARSE,
		 "line 7: domain 'jedi.test' is already defined"},
		{REQ "domain jedi_test {\n", SM_EPARSE, "line 4: invalid domain name 'jedi_test'"},
		{REQ "domain -jedi.test {\n", SM_EPARSE, "line 4: invalid domain name '-jedi.test'"},
		{REQ "domain luke@jedi.test {\n", SM_EPARSE, "line 4: invalid domain name 'luke@jedi.test'"},
		{REQ "domain jedi.test{\n", SM_EPARSE, "line 4: '{' must follow the domain name on the same line"},
		{REQ "domain jedi.test\n{\n", SM_EPARSE, "line 4: '{' must follow the domain name on the same line"},
		{REQ "domain jedi.test \"{\"\n", SM_EPARSE, "line 4: '{' must follow the domain name on the same line"},
		{REQ "domain {\n", SM_EPARSE, "line 4: 'domain' needs a name"},
		{REQ "domain\n", SM_EPARSE, "line 4: 'domain' needs a name"},
		{REQ "domain jedi.test { maildir-root /m }\n", SM_EPARSE, "line 4: unexpected 'maildir-root' after '{'"},
		{REQ "{\n", SM_EPARSE, "line 4: '{' must end a domain line"},
		{REQ "a b c d e f g h i\n", SM_EPARSE, "line 4: too many words"},
		{REQ "tls-key /k\r\n", SM_EPARSE, "line 4: control character 0x0d"},
		{REQ "max-sessions 10\n" DOM, SM_EPARSE,
		 "line 4: 'max-sessions-per-address' (20) exceeds 'max-sessions' (10)"},
		{REQ "max-sessions-per-address 30\nmax-sessions 25\n" DOM, SM_EPARSE,
		 "line 5: 'max-sessions-per-address' (30) exceeds 'max-sessions' (25)"},
		{REQ "listen https 192.0.2.1:25\n" DOM, SM_EPARSE,
		 "line 4: 'listen https' and 'listen smtp' overlap on port 25"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static struct conf sentinel;
		struct conf *c = &sentinel; /* must stay untouched */
		char err[CONF_ERR_SIZE] = "";
		int r = parse(cases[i].text, &c, err, sizeof(err));
		if (r != cases[i].ret || strcmp(err, cases[i].err) != 0)
			printf("# case %zu: %d \"%s\"\n", i, r, err);
		CHECK_INT(r, cases[i].ret);
		CHECK_STR(err, cases[i].err);
		CHECK(c == &sentinel);
	}
}

static void bytes_in_lines(void)
{
	static const char nul[] = REQ "tls-key /a\0b\n" DOM;
	struct conf *c = NULL;
	char err[CONF_ERR_SIZE];
	CHECK_INT(conf_parse(nul, sizeof(nul) - 1, &c, err, sizeof(err)), SM_EPARSE);
	CHECK_STR(err, "line 4: control character 0x00");
	/* a tab inside a quoted word is shown as a space */
	CHECK_INT(parse(REQ "policy-file \"a\tb\"\n" DOM, &c, err, sizeof(err)), SM_EPARSE);
	CHECK_STR(err, "line 4: 'policy-file' needs an absolute path, not 'a b'");
	static const char del[] = REQ "tls-key /a\x7f\n" DOM;
	CHECK_INT(parse(del, &c, err, sizeof(err)), SM_EPARSE);
	CHECK_STR(err, "line 4: control character 0x7f");
	/* UTF-8 in a path is fine; in a domain name it is not */
	CHECK_INT(parse(REQ "domain jedi.test {\nmaildir-root /var/mail/j\xc3\xa9\x64i\n}", &c, err,
			sizeof(err)), 0);
	conf_free(c);
	c = NULL;
	CHECK_INT(parse(REQ "domain j\xc3\xa9\x64i.test {\n", &c, err, sizeof(err)), SM_EPARSE);
	CHECK(c == NULL);
}

static void long_lines(void)
{
	struct buf b;
	struct conf *c = NULL;
	char err[CONF_ERR_SIZE];
	buf_init(&b, 1 << 16);
	CHECK_INT(buf_append_str(&b, REQ "policy-file /"), 0);
	for (int i = 0; i < CONF_LINE_MAX - 13; i++)
		CHECK_INT(buf_append(&b, "p", 1), 0);
	CHECK_INT(buf_append_str(&b, "\n" DOM), 0);
	/* exactly CONF_LINE_MAX bytes: accepted */
	CHECK_INT(conf_parse((char *)b.data, b.len, &c, err, sizeof(err)), 0);
	CHECK(c != NULL && strlen(c->policy_file) == CONF_LINE_MAX - 12);
	conf_free(c);
	c = NULL;
	buf_reset(&b);
	CHECK_INT(buf_append_str(&b, REQ "# "), 0);
	for (int i = 0; i < CONF_LINE_MAX - 1; i++)
		CHECK_INT(buf_append(&b, "#", 1), 0);
	CHECK_INT(buf_append_str(&b, "\n" DOM), 0);
	CHECK_INT(conf_parse((char *)b.data, b.len, &c, err, sizeof(err)), SM_EPARSE);
	CHECK_STR(err, "line 4: line is longer than 4096 bytes");
	CHECK(c == NULL);
	buf_free(&b);
}

static void file_limits(void)
{
	struct conf *c = NULL;
	char err[CONF_ERR_SIZE];
	char *big = malloc(CONF_FILE_MAX + 1);
	CHECK(big != NULL);
	if (big == NULL)
		return;
	memset(big, '\n', CONF_FILE_MAX + 1);
	CHECK_INT(conf_parse(big, CONF_FILE_MAX + 1, &c, err, sizeof(err)), SM_ETOOBIG);
	CHECK_STR(err, "the file is larger than 1048576 bytes");
	CHECK_INT(conf_parse(big, CONF_FILE_MAX, &c, err, sizeof(err)), SM_EPARSE);
	CHECK_STR(err, "the file has no directives");
	free(big);
	CHECK_INT(conf_parse(NULL, 0, &c, err, sizeof(err)), SM_EPARSE);
	CHECK(c == NULL);
}

static void many_domains(void)
{
	struct buf b;
	struct conf *c = NULL;
	char err[CONF_ERR_SIZE];
	buf_init(&b, CONF_FILE_MAX);
	CHECK_INT(buf_append_str(&b, REQ), 0);
	for (int i = 0; i < CONF_DOMAINS_MAX; i++)
		CHECK_INT(buf_appendf(&b, "domain d%d.test {\nmaildir-root /m/%d\n}\n", i, i), 0);
	CHECK_INT(conf_parse((char *)b.data, b.len, &c, err, sizeof(err)), 0);
	CHECK(c != NULL && c->ndomains == CONF_DOMAINS_MAX);
	CHECK(c != NULL && conf_find_domain(c, "d999.test") == &c->domains[999]);
	CHECK_STR(c ? c->domains[500].maildir_root : NULL, "/m/500");
	conf_free(c);
	c = NULL;
	CHECK_INT(buf_append_str(&b, "domain one-too-many.test {\n"), 0);
	CHECK_INT(conf_parse((char *)b.data, b.len, &c, err, sizeof(err)), SM_EPARSE);
	CHECK_STR(err, "line 3004: more than 1000 domains");
	buf_free(&b);
}

static void error_buffer(void)
{
	struct conf *c = NULL;
	char small[12];
	memset(small, 'x', sizeof(small));
	CHECK_INT(parse(REQ "frobnicate\n", &c, small, sizeof(small)), SM_EPARSE);
	CHECK_STR(small, "line 4: unk");
	CHECK_INT(parse(REQ "frobnicate\n", &c, NULL, 0), SM_EPARSE);
	char tiny[4] = "abc";
	CHECK_INT(parse(REQ "frobnicate\n", &c, tiny, sizeof(tiny)), SM_EPARSE);
	CHECK_STR(tiny, "lin");
	CHECK(c == NULL);
	/* a long word is cut in the message, which still fits CONF_ERR_SIZE */
	char text[600], err[CONF_ERR_SIZE];
	memset(text, 'z', sizeof(text));
	text[sizeof(text) - 1] = 0;
	CHECK_INT(parse(text, &c, err, sizeof(err)), SM_EPARSE);
	CHECK(strlen(err) < 100);
}

static void layout(void)
{
	struct conf *c = NULL;
	char err[CONF_ERR_SIZE];
	/* blanks anywhere, comments after words, no final newline, '#' in a word */
	static const char text[] =
		"\t state-dir\t\t/s   # the state\n"
		"tls-certificate /c#no blank needed\n"
		"tls-key \"/k\"\n"
		"   domain   jedi.test   {   # open\n"
		"maildir-root /m\n"
		"\t}\t# close";
	CHECK_INT(parse(text, &c, err, sizeof(err)), 0);
	CHECK_STR(c ? c->tls_certificate : NULL, "/c");
	CHECK_STR(c ? c->tls_key : NULL, "/k");
	CHECK_STR(c ? c->domains[0].maildir_root : NULL, "/m");
	conf_free(c);
}

int main(void)
{
	RUN(full_file);
	RUN(defaults);
	RUN(example_file);
	RUN(find_domain);
	RUN(units_and_bounds);
	RUN(errors);
	RUN(bytes_in_lines);
	RUN(long_lines);
	RUN(file_limits);
	RUN(many_domains);
	RUN(error_buffer);
	RUN(layout);
	return check_done();
}
