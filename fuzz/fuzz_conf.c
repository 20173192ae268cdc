/* fuzz_conf: conf_parse() on untrusted sealmaild.conf text.
 *
 * Besides what the sanitizers catch, every input is checked against
 * conf_parse()'s contract (conf.h): on failure the result is untouched and
 * the message is one printable, NUL-terminated line; on success every value
 * is within its documented bounds and every domain can be found by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fuzz.h"

static void fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_conf: %s: %s\n", what, detail);
	abort();
}

static void check_message(const char *err, size_t size)
{
	size_t n = strnlen(err, size);
	if (n == 0 || n == size)
		fuzz_fail("error message empty or not terminated", err);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			fuzz_fail("control character in error message", err);
}

static void check_path(const char *path, int required)
{
	if (path == NULL ? required : path[0] != '/')
		fuzz_fail("bad path", path ? path : "(missing)");
}

static void check_domains(const struct conf *c)
{
	if (c->ndomains == 0 || c->ndomains > CONF_DOMAINS_MAX)
		fuzz_fail("domain count", "out of range");
	for (size_t i = 0; i < c->ndomains; i++) {
		const struct conf_domain *d = &c->domains[i];
		check_path(d->maildir_root, 1);
		if (conf_find_domain(c, d->name) != d)
			fuzz_fail("domain not found by its own name", d->name);
		for (const char *s = d->name; *s != 0; s++)
			if (*s >= 'A' && *s <= 'Z')
				fuzz_fail("domain name not lowercased", d->name);
	}
}

static void check_conf(const struct conf *c)
{
	check_path(c->state_dir, 1);
	check_path(c->tls_certificate, 1);
	check_path(c->tls_key, 1);
	check_path(c->policy_file, 0);
	if (c->listen_https.port == 0 || c->listen_smtp.port == 0)
		fuzz_fail("listen", "port 0");
	if (c->max_message_size < 1024 || c->max_message_size > (1ull << 30) ||
	    c->max_http_request < 1024 || c->max_http_request > (1ull << 20))
		fuzz_fail("size", "out of bounds");
	if (c->max_sessions_per_address > c->max_sessions || c->max_recipients == 0 ||
	    c->smtp_command_timeout == 0 || c->smtp_data_timeout == 0 || c->http_request_timeout == 0)
		fuzz_fail("limit", "out of bounds");
	check_domains(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf sentinel;
	struct conf *c = &sentinel;
	char err[CONF_ERR_SIZE];
	memset(err, 'x', sizeof(err));
	int r = conf_parse((const char *)data, size, &c, err, sizeof(err));
	if (r < 0) {
		if (c != &sentinel)
			fuzz_fail("result written on failure", err);
		if (r != SM_EPARSE && r != SM_ETOOBIG && r != SM_ENOMEM)
			fuzz_fail("unexpected error code", err);
		check_message(err, sizeof(err));
		return 0;
	}
	if (r != 0 || c == &sentinel || c == NULL || err[0] != 0)
		fuzz_fail("bad success", "result or message");
	check_conf(c);
	conf_free(c);
	return 0;
}
