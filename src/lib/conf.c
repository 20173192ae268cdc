/* conf.c: the sealmaild.conf parser.
 *
 * Input is split into lines (bounded), each line into at most
 * CONF_WORDS_MAX words, and each directive is looked up in one table that
 * says where it may appear, whether it is required, which function parses
 * its value and where in struct conf or struct conf_domain the value goes.
 * Nothing is partially accepted: the first error ends the parse and frees
 * everything. */
#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wkd.h"

#define CONF_WORDS_MAX 8
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct parser;

enum scope { SCOPE_GLOBAL, SCOPE_DOMAIN };

struct directive {
	const char *name;  /* one word, or two ("listen https") */
	enum scope scope;
	size_t offset;     /* of the value in struct conf or struct conf_domain */
	bool required;
	int (*parse)(struct parser *p, const struct directive *d, const char *arg, void *field);
	uint64_t min, max; /* numbers: bounds once the unit is applied */
};

/* Each parses arg for d and stores it in field, the value's place in the
 * struct conf or struct conf_domain being filled. */
#define PARSER(name) \
	static int name(struct parser *p, const struct directive *d, const char *arg, void *field)
PARSER(parse_path);
PARSER(parse_name);
PARSER(parse_listen);
PARSER(parse_size);
PARSER(parse_count);
PARSER(parse_duration);
PARSER(parse_bool);
PARSER(parse_user);

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)
#define DAY 86400
#define MANY 100000 /* upper bound of the counts: far above any sane setting */
#define GLOBAL_AT(field) SCOPE_GLOBAL, offsetof(struct conf, field)
#define DOMAIN_AT(field) SCOPE_DOMAIN, offsetof(struct conf_domain, field)

/* name, where the value goes, required, parser, bounds */
static const struct directive directives[] = {
	{"state-dir", GLOBAL_AT(state_dir), true, parse_path, 0, 0},
	{"user", GLOBAL_AT(user), false, parse_user, 0, 0},
	{"hostname", GLOBAL_AT(hostname), false, parse_name, 0, 0},
	{"tls-certificate", GLOBAL_AT(tls_certificate), true, parse_path, 0, 0},
	{"tls-key", GLOBAL_AT(tls_key), true, parse_path, 0, 0},
	{"policy-file", GLOBAL_AT(policy_file), false, parse_path, 0, 0},
	{"listen https", GLOBAL_AT(listen_https), false, parse_listen, 0, 0},
	{"listen smtp", GLOBAL_AT(listen_smtp), false, parse_listen, 0, 0},
	{"max-message-size", GLOBAL_AT(max_message_size), false, parse_size, KIB, GIB},
	{"max-http-request", GLOBAL_AT(max_http_request), false, parse_size, KIB, MIB},
	{"max-recipients", GLOBAL_AT(max_recipients), false, parse_count, 1, MANY},
	{"max-sessions", GLOBAL_AT(max_sessions), false, parse_count, 1, MANY},
	{"max-sessions-per-address", GLOBAL_AT(max_sessions_per_address), false, parse_count, 1, MANY},
	{"max-https-connections", GLOBAL_AT(max_https_connections), false, parse_count, 1, MANY},
	{"max-https-connections-per-address", GLOBAL_AT(max_https_connections_per_address), false,
	 parse_count, 1, MANY},
	{"smtp-command-timeout", GLOBAL_AT(smtp_command_timeout), false, parse_duration, 1, DAY},
	{"smtp-data-timeout", GLOBAL_AT(smtp_data_timeout), false, parse_duration, 1, DAY},
	{"smtp-session-timeout", GLOBAL_AT(smtp_session_timeout), false, parse_duration, 1, DAY},
	{"http-request-timeout", GLOBAL_AT(http_request_timeout), false, parse_duration, 1, DAY},
	{"epoch-interval", GLOBAL_AT(epoch_interval), false, parse_duration, 1, DAY},
	{"lookup-rate", GLOBAL_AT(lookup_rate), false, parse_count, 1, 1000000000},
	{"wks-confirm-timeout", GLOBAL_AT(wks_confirm_timeout), false, parse_duration, 1, 30 * DAY},
	{"witnesses-file", GLOBAL_AT(witnesses_file), false, parse_path, 0, 0},
	{"maildir-root", DOMAIN_AT(maildir_root), true, parse_path, 0, 0},
	{"wkd", DOMAIN_AT(wkd), false, parse_bool, 0, 0},
	{"mx", DOMAIN_AT(mx), false, parse_bool, 0, 0},
	{"web-key-service", DOMAIN_AT(wks), false, parse_bool, 0, 0},
	{"wks-auth-submit", DOMAIN_AT(wks_auth_submit), false, parse_bool, 0, 0},
};

struct parser {
	struct conf *conf;     /* being filled; owned until handed to the caller */
	size_t domains_cap;
	unsigned line;         /* current line, from 1 */
	unsigned block_line;   /* line of the open domain block; 0 outside one */
	unsigned ndirectives;  /* non-empty lines seen */
	unsigned seen[ARRAY_LEN(directives)]; /* line of each directive in its scope; 0: unset */
	char *err;
	size_t err_size;
};

struct words {
	char *w[CONF_WORDS_MAX]; /* point into the line copy */
	bool quoted[CONF_WORDS_MAX];
	size_t n;
};

/* A size or duration suffix. */
struct unit {
	char suffix;
	uint64_t mult;
};

struct units {
	const struct unit *u;
	size_t n;
	const char *hint; /* shown after a bad unit */
	const char *base; /* the unit of the bounds */
};

static const struct unit size_unit[] = {{'K', KIB}, {'M', MIB}, {'G', GIB}};
static const struct unit time_unit[] = {{'s', 1}, {'m', 60}, {'h', 3600}};
static const struct units size_units = {size_unit, ARRAY_LEN(size_unit), " (use K, M or G)",
					" bytes"};
static const struct units time_units = {time_unit, ARRAY_LEN(time_unit), " (use s, m or h)",
					" seconds"};
static const struct units no_units = {NULL, 0, " (a plain number)", ""};

/* Formats "line N: message" (or the bare message when line is 0) into the
 * caller's buffer. Every word quoted in a message has passed the control
 * character check, which lets tabs through (they may sit in a quoted
 * word): those become spaces, so the message is printable. */
__attribute__((format(printf, 3, 4)))
static int fail_at(struct parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = 0;
	if (p->err_size == 0)
		return SM_EPARSE;
	if (line > 0)
		n = snprintf(p->err, p->err_size, "line %u: ", line);
	if (n < 0 || (size_t)n >= p->err_size)
		return SM_EPARSE;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
	va_end(ap);
	for (char *s = p->err; *s != 0; s++)
		if (*s == '\t')
			*s = ' ';
	return SM_EPARSE;
}

static int fail_nomem(struct parser *p)
{
	fail_at(p, 0, "out of memory");
	return SM_ENOMEM;
}

static int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool ascii_caseeq(const char *a, const char *b)
{
	for (; *a != 0 && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b); a++, b++)
		;
	return *a == 0 && *b == 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* wkd's rules for a domain (LDH labels, length limits), lowercased into out. */
static bool canon_domain(const char *s, char out[WKD_DOMAIN_MAX + 1])
{
	char addr[2 + WKD_DOMAIN_MAX + 1];
	struct wkd_address a;
	int n = snprintf(addr, sizeof(addr), "x@%s", s);
	if (n < 0 || (size_t)n >= sizeof(addr) || strchr(s, '@') != NULL)
		return false;
	if (wkd_address_parse(addr, &a) < 0)
		return false;
	memcpy(out, a.domain, strlen(a.domain) + 1);
	return true;
}

/* ---- values ---- */

static int set_string(struct parser *p, char **dst, const char *s)
{
	char *copy = strdup(s);
	if (copy == NULL)
		return fail_nomem(p);
	free(*dst);
	*dst = copy;
	return 0;
}

static int parse_path(struct parser *p, const struct directive *d, const char *arg, void *field)
{
	if (arg[0] != '/')
		return fail_at(p, p->line, "'%s' needs an absolute path, not '%.64s'", d->name, arg);
	return set_string(p, field, arg);
}

static int parse_name(struct parser *p, const struct directive *d, const char *arg, void *field)
{
	char name[WKD_DOMAIN_MAX + 1];
	if (!canon_domain(arg, name))
		return fail_at(p, p->line, "'%s': invalid name '%.64s'", d->name, arg);
	return set_string(p, field, name);
}

/* A portable user name (POSIX's portable filename characters, not
 * starting with '-'), at most 32 characters. */
static int parse_user(struct parser *p, const struct directive *d, const char *arg, void *field)
{
	size_t n = strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
	if (n == 0 || n > 32 || arg[n] != 0 || arg[0] == '-')
		return fail_at(p, p->line, "'%s': invalid user name '%.64s'", d->name, arg);
	return set_string(p, field, arg);
}

static int parse_bool(struct parser *p, const struct directive *d, const char *arg, void *field)
{
	bool *dst = field;
	if (strcmp(arg, "yes") != 0 && strcmp(arg, "no") != 0)
		return fail_at(p, p->line, "'%s' takes yes or no, not '%.64s'", d->name, arg);
	*dst = strcmp(arg, "yes") == 0;
	return 0;
}

/* The leading decimal digits of s (at least one) into *ret; false on overflow. */
static bool scan_digits(const char *s, uint64_t *ret, const char **ret_end)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return false;
	*ret = v;
	*ret_end = end;
	return true;
}

/* DIGITS[UNIT] within d's bounds, with every overflow caught. */
static int parse_number(struct parser *p, const struct directive *d, const char *arg,
			const struct units *u, uint64_t *ret)
{
	const char *end;
	uint64_t v, mult = 1;
	if (!is_digit(arg[0]))
		return fail_at(p, p->line, "'%s' needs a number, not '%.64s'", d->name, arg);
	if (!scan_digits(arg, &v, &end))
		return fail_at(p, p->line, "'%s': '%.64s' is too large", d->name, arg);
	if (*end != 0) {
		size_t i = 0;
		while (i < u->n && u->u[i].suffix != *end)
			i++;
		if (i == u->n || end[1] != 0)
			return fail_at(p, p->line, "'%s': bad unit in '%.64s'%s", d->name, arg, u->hint);
		mult = u->u[i].mult;
	}
	if (v > UINT64_MAX / mult)
		return fail_at(p, p->line, "'%s': '%.64s' is too large", d->name, arg);
	v *= mult;
	if (v < d->min || v > d->max)
		return fail_at(p, p->line, "'%s' must be between %llu and %llu%s, not '%.64s'", d->name,
			       (unsigned long long)d->min, (unsigned long long)d->max, u->base, arg);
	*ret = v;
	return 0;
}

static int parse_size(struct parser *p, const struct directive *d, const char *arg, void *field)
{
	return parse_number(p, d, arg, &size_units, field);
}

/* Counts and durations are bounded well below UINT_MAX by the table. */
static int parse_unsigned(struct parser *p, const struct directive *d, const char *arg,
			  const struct units *u, unsigned *dst)
{
	uint64_t v;
	int r = parse_number(p, d, arg, u, &v);
	if (r == 0)
		*dst = (unsigned)v;
	return r;
}

static int parse_count(struct parser *p, const struct directive *d, const char *arg, void *field)
{
	return parse_unsigned(p, d, arg, &no_units, field);
}

static int parse_duration(struct parser *p, const struct directive *d, const char *arg, void *field)
{
	return parse_unsigned(p, d, arg, &time_units, field);
}

/* "*", dotted IPv4 or [IPv6], stored in canonical text form. */
static bool scan_address(const char *s, size_t n, struct conf_listen *l)
{
	unsigned char bin[16];
	char text[CONF_ADDR_MAX];
	bool v6 = n >= 2 && s[0] == '[' && s[n - 1] == ']';
	if (n == 1 && s[0] == '*') {
		l->family = CONF_ANY;
		memcpy(l->address, "*", 2);
		return true;
	}
	if (v6) {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(text))
		return false;
	memcpy(text, s, n);
	text[n] = 0;
	int af = v6 ? AF_INET6 : AF_INET;
	if (inet_pton(af, text, bin) != 1 || inet_ntop(af, bin, l->address, sizeof(l->address)) == NULL)
		return false;
	l->family = v6 ? CONF_INET6 : CONF_INET;
	return true;
}

static int parse_listen(struct parser *p, const struct directive *d, const char *arg, void *field)
{
	struct conf_listen l;
	const char *colon = strrchr(arg, ':'), *end;
	uint64_t port;
	memset(&l, 0, sizeof(l));
	if (colon == NULL || !scan_address(arg, (size_t)(colon - arg), &l))
		return fail_at(p, p->line, "'%s' needs *:PORT, IPV4:PORT or [IPV6]:PORT, not '%.64s'",
			       d->name, arg);
	if (!is_digit(colon[1]) || !scan_digits(colon + 1, &port, &end) || *end != 0 || port < 1 ||
	    port > 65535)
		return fail_at(p, p->line, "'%s': port must be 1 to 65535, not '%.64s'", d->name,
			       colon + 1);
	l.port = (uint16_t)port;
	*(struct conf_listen *)field = l;
	return 0;
}

/* ---- lines and words ---- */

/* Copies the next line, without its newline, into line; rejects over-long
 * lines and control characters (so no message can carry them). */
static int next_line(struct parser *p, const char *data, size_t len, size_t *pos,
		     char line[CONF_LINE_MAX + 1])
{
	const char *start = data + *pos;
	const char *nl = memchr(start, '\n', len - *pos);
	size_t n = nl != NULL ? (size_t)(nl - start) : len - *pos;
	p->line++;
	*pos += n + (nl != NULL);
	if (n > CONF_LINE_MAX)
		return fail_at(p, p->line, "line is longer than %d bytes", CONF_LINE_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)start[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail_at(p, p->line, "control character 0x%02x", c);
	}
	memcpy(line, start, n);
	line[n] = 0;
	return 0;
}

/* A double-quoted word: no escapes, ends on its line, then a blank or the end. */
static int take_quoted(struct parser *p, char **sp, struct words *w)
{
	char *start = *sp + 1;
	char *end = strchr(start, '"');
	if (end == NULL)
		return fail_at(p, p->line, "unterminated quoted string");
	if (end[1] != 0 && !is_blank(end[1]))
		return fail_at(p, p->line, "a blank must follow a closing quote");
	*end = 0;
	w->w[w->n] = start;
	w->quoted[w->n++] = true;
	*sp = end + 1;
	return 0;
}

/* A bare word ends at a blank, the end of the line, or a '#' comment. */
static int take_bare(struct parser *p, char **sp, struct words *w)
{
	char *s = *sp;
	while (*s != 0 && !is_blank(*s) && *s != '#' && *s != '"')
		s++;
	if (*s == '"')
		return fail_at(p, p->line, "a quote may only begin a word");
	w->w[w->n] = *sp;
	w->quoted[w->n++] = false;
	char c = *s;
	*s = 0;
	*sp = (c == 0 || c == '#') ? s : s + 1;
	return 0;
}

/* Splits line in place; the words point into it. */
static int split_words(struct parser *p, char *line, struct words *w)
{
	char *s = line;
	w->n = 0;
	for (;;) {
		while (is_blank(*s))
			s++;
		if (*s == 0 || *s == '#')
			return 0;
		if (w->n == CONF_WORDS_MAX)
			return fail_at(p, p->line, "too many words");
		int r = *s == '"' ? take_quoted(p, &s, w) : take_bare(p, &s, w);
		if (r < 0)
			return r;
	}
}

static bool is_keyword(const struct words *w, size_t i, const char *kw)
{
	return i < w->n && !w->quoted[i] && strcmp(w->w[i], kw) == 0;
}

/* ---- directives and blocks ---- */

/* Matches d's one- or two-word name; *ret_used is how many words it took. */
static bool name_matches(const struct directive *d, const struct words *w, size_t *ret_used)
{
	size_t k = strcspn(d->name, " ");
	if (strncmp(w->w[0], d->name, k) != 0 || w->w[0][k] != 0)
		return false;
	if (d->name[k] == 0) {
		*ret_used = 1;
		return true;
	}
	if (w->n < 2 || strcmp(w->w[1], d->name + k + 1) != 0)
		return false;
	*ret_used = 2;
	return true;
}

static int unknown_directive(struct parser *p, const struct words *w)
{
	if (strcmp(w->w[0], "listen") == 0)
		return fail_at(p, p->line, "'listen' must be followed by https or smtp");
	return fail_at(p, p->line, "unknown directive '%.64s'", w->w[0]);
}

static void *field_of(struct parser *p, const struct directive *d)
{
	char *base = (char *)p->conf;
	if (d->scope == SCOPE_DOMAIN)
		base = (char *)&p->conf->domains[p->conf->ndomains - 1];
	return base + d->offset;
}

static int parse_directive(struct parser *p, const struct words *w)
{
	size_t i = 0, used = 0;
	while (i < ARRAY_LEN(directives) && !name_matches(&directives[i], w, &used))
		i++;
	if (i == ARRAY_LEN(directives))
		return unknown_directive(p, w);
	const struct directive *d = &directives[i];
	enum scope here = p->block_line > 0 ? SCOPE_DOMAIN : SCOPE_GLOBAL;
	if (d->scope == SCOPE_DOMAIN && here != SCOPE_DOMAIN)
		return fail_at(p, p->line, "'%s' is only allowed inside a domain block", d->name);
	if (d->scope == SCOPE_GLOBAL && here != SCOPE_GLOBAL)
		return fail_at(p, p->line, "'%s' is not allowed inside a domain block", d->name);
	if (p->seen[i] > 0)
		return fail_at(p, p->line, "'%s' is already set on line %u", d->name, p->seen[i]);
	if (w->n == used)
		return fail_at(p, p->line, "'%s' needs a value", d->name);
	if (w->n > used + 1)
		return fail_at(p, p->line, "'%s' takes one value", d->name);
	int r = d->parse(p, d, w->w[used], field_of(p, d));
	if (r == 0)
		p->seen[i] = p->line;
	return r;
}

static const struct directive *first_missing(const struct parser *p, enum scope scope)
{
	for (size_t i = 0; i < ARRAY_LEN(directives); i++)
		if (directives[i].scope == scope && directives[i].required && p->seen[i] == 0)
			return &directives[i];
	return NULL;
}

static int add_domain(struct parser *p, const char *name)
{
	struct conf *c = p->conf;
	if (c->ndomains == p->domains_cap) {
		size_t cap = p->domains_cap ? 2 * p->domains_cap : 4;
		struct conf_domain *grown = realloc(c->domains, cap * sizeof(*grown));
		if (grown == NULL)
			return fail_nomem(p);
		c->domains = grown;
		p->domains_cap = cap;
	}
	struct conf_domain *dom = &c->domains[c->ndomains];
	memset(dom, 0, sizeof(*dom));
	dom->wkd = dom->mx = true;
	if ((dom->name = strdup(name)) == NULL)
		return fail_nomem(p);
	c->ndomains++;
	return 0;
}

/* "domain NAME {": nothing before or after, not inside another block. */
static int check_block_line(struct parser *p, const struct words *w)
{
	if (p->block_line > 0)
		return fail_at(p, p->line, "domain blocks cannot be nested (the block on line %u is open)",
			       p->block_line);
	if (w->n < 2 || is_keyword(w, 1, "{"))
		return fail_at(p, p->line, "'domain' needs a name");
	if (!is_keyword(w, 2, "{"))
		return fail_at(p, p->line, "'{' must follow the domain name on the same line");
	if (w->n > 3)
		return fail_at(p, p->line, "unexpected '%.64s' after '{'", w->w[3]);
	return 0;
}

static int open_block(struct parser *p, const struct words *w)
{
	char name[WKD_DOMAIN_MAX + 1];
	int r = check_block_line(p, w);
	if (r < 0)
		return r;
	if (!canon_domain(w->w[1], name))
		return fail_at(p, p->line, "invalid domain name '%.64s'", w->w[1]);
	if (conf_find_domain(p->conf, name) != NULL)
		return fail_at(p, p->line, "domain '%s' is already defined", name);
	if (p->conf->ndomains == CONF_DOMAINS_MAX)
		return fail_at(p, p->line, "more than %d domains", CONF_DOMAINS_MAX);
	if ((r = add_domain(p, name)) < 0)
		return r;
	p->block_line = p->line;
	for (size_t i = 0; i < ARRAY_LEN(directives); i++)
		if (directives[i].scope == SCOPE_DOMAIN)
			p->seen[i] = 0;
	return 0;
}

static int close_block(struct parser *p, const struct words *w)
{
	const struct directive *d;
	if (w->n > 1)
		return fail_at(p, p->line, "'}' must be alone on its line");
	if (p->block_line == 0)
		return fail_at(p, p->line, "'}' without an open domain block");
	const struct conf_domain *dom = &p->conf->domains[p->conf->ndomains - 1];
	if ((d = first_missing(p, SCOPE_DOMAIN)) != NULL)
		return fail_at(p, p->block_line, "domain '%s' lacks the required '%s'", dom->name,
			       d->name);
	if (dom->wks && (!dom->wkd || !dom->mx))
		return fail_at(p, p->block_line, "domain '%s': web-key-service needs wkd and mx",
			       dom->name);
	if (dom->wks_auth_submit && !dom->wks)
		return fail_at(p, p->block_line, "domain '%s': wks-auth-submit needs web-key-service",
			       dom->name);
	p->block_line = 0;
	return 0;
}

static int parse_words(struct parser *p, const struct words *w)
{
	if (w->n == 0)
		return 0;
	p->ndirectives++;
	if (is_keyword(w, 0, "}"))
		return close_block(p, w);
	if (is_keyword(w, 0, "{"))
		return fail_at(p, p->line, "'{' must end a domain line");
	if (strcmp(w->w[0], "domain") == 0)
		return open_block(p, w);
	return parse_directive(p, w);
}

/* ---- the whole file ---- */

static unsigned seen_line(const struct parser *p, const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(directives); i++)
		if (strcmp(directives[i].name, name) == 0)
			return p->seen[i];
	return 0;
}

static unsigned later(unsigned a, unsigned b)
{
	return a > b ? a : b;
}

static bool listen_overlap(const struct conf_listen *a, const struct conf_listen *b)
{
	if (a->port != b->port)
		return false;
	return a->family == CONF_ANY || b->family == CONF_ANY || strcmp(a->address, b->address) == 0;
}

/* Checks between directives; blamed on the later of the two lines. */
static int cross_check(struct parser *p)
{
	const struct conf *c = p->conf;
	if (c->max_sessions_per_address > c->max_sessions)
		return fail_at(p, later(seen_line(p, "max-sessions"), seen_line(p, "max-sessions-per-address")),
			       "'max-sessions-per-address' (%u) exceeds 'max-sessions' (%u)",
			       c->max_sessions_per_address, c->max_sessions);
	if (c->max_https_connections_per_address > c->max_https_connections)
		return fail_at(p, later(seen_line(p, "max-https-connections"),
					seen_line(p, "max-https-connections-per-address")),
			       "'max-https-connections-per-address' (%u) exceeds 'max-https-connections' (%u)",
			       c->max_https_connections_per_address, c->max_https_connections);
	if (listen_overlap(&c->listen_https, &c->listen_smtp))
		return fail_at(p, later(seen_line(p, "listen https"), seen_line(p, "listen smtp")),
			       "'listen https' and 'listen smtp' overlap on port %u",
			       (unsigned)c->listen_https.port);
	return 0;
}

static int finish(struct parser *p)
{
	const struct directive *d;
	if (p->block_line > 0)
		return fail_at(p, p->block_line, "domain '%s' is not closed (no '}')",
			       p->conf->domains[p->conf->ndomains - 1].name);
	if (p->ndirectives == 0)
		return fail_at(p, 0, "the file has no directives");
	if ((d = first_missing(p, SCOPE_GLOBAL)) != NULL)
		return fail_at(p, 0, "missing required directive '%s'", d->name);
	if (p->conf->ndomains == 0)
		return fail_at(p, 0, "no domain block");
	return cross_check(p);
}

static int parse_text(struct parser *p, const char *data, size_t len)
{
	char line[CONF_LINE_MAX + 1];
	struct words w;
	size_t pos = 0;
	while (pos < len) {
		int r = next_line(p, data, len, &pos, line);
		if (r == 0)
			r = split_words(p, line, &w);
		if (r == 0)
			r = parse_words(p, &w);
		if (r < 0)
			return r;
	}
	return finish(p);
}

static void set_defaults(struct conf *c)
{
	static const struct conf_listen https = {CONF_ANY, "*", 443}, smtp = {CONF_ANY, "*", 25};
	c->listen_https = https;
	c->listen_smtp = smtp;
	c->max_message_size = 25 * MIB;
	c->max_http_request = 8 * KIB;
	c->max_recipients = 100;
	c->max_sessions = 500;
	c->max_sessions_per_address = 20;
	c->max_https_connections = 1000;
	c->max_https_connections_per_address = 50;
	c->smtp_command_timeout = 5 * 60;
	c->smtp_data_timeout = 10 * 60;
	c->smtp_session_timeout = 30 * 60;
	c->http_request_timeout = 10;
	c->epoch_interval = 60;
	c->lookup_rate = 600;
	c->wks_confirm_timeout = 3 * DAY;
}

int conf_parse(const char *data, size_t len, struct conf **ret, char *err, size_t err_size)
{
	struct parser p;
	int r;
	memset(&p, 0, sizeof(p));
	p.err = err;
	p.err_size = err_size;
	if (err_size > 0)
		err[0] = 0;
	if (len > CONF_FILE_MAX) {
		fail_at(&p, 0, "the file is larger than %u bytes", CONF_FILE_MAX);
		return SM_ETOOBIG;
	}
	if ((p.conf = calloc(1, sizeof(*p.conf))) == NULL)
		return fail_nomem(&p);
	set_defaults(p.conf);
	if ((r = parse_text(&p, data, len)) < 0)
		goto fail;
	*ret = p.conf;
	return 0;
fail:
	conf_free(p.conf);
	return r;
}

void conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ndomains; i++) {
		free(c->domains[i].name);
		free(c->domains[i].maildir_root);
	}
	free(c->domains);
	free(c->state_dir);
	free(c->hostname);
	free(c->user);
	free(c->tls_certificate);
	free(c->tls_key);
	free(c->policy_file);
	free(c->witnesses_file);
	free(c);
}

const struct conf_domain *conf_find_domain(const struct conf *c, const char *name)
{
	if (c == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < c->ndomains; i++)
		if (ascii_caseeq(c->domains[i].name, name))
			return &c->domains[i];
	return NULL;
}
