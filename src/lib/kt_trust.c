/* kt_trust.c: the witnesses file (kt_trust.h). */
#include "kt_trust.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LINE_MAX_LEN 1024

static int fail(char *err, size_t err_size, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_size, unsigned line, const char *fmt, ...)
{
	va_list ap;
	if (err_size == 0)
		return SM_EPARSE;
	int n = snprintf(err, err_size, "line %u: ", line);
	if (n >= 0 && (size_t)n < err_size) {
		va_start(ap, fmt);
		vsnprintf(err + n, err_size - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return SM_EPARSE;
}

static int url_valid(const char *u)
{
	size_t n = strlen(u);
	if (n > KT_URL_MAX || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (u[i] <= ' ' || u[i] > '~')
			return 0;
	return 1;
}

static int add_witness(struct kt_trust_file *f, const char *vkey, const char *url, unsigned line,
		       char *err, size_t err_size)
{
	struct note_verifier v;
	struct kt_trust *t = &f->trust;
	if (t->nwitness == KT_WITNESS_MAX)
		return fail(err, err_size, line, "more than %d witnesses", KT_WITNESS_MAX);
	if (note_verifier_parse(vkey, &v) < 0 || v.type != NOTE_KEY_COSIG_V1)
		return fail(err, err_size, line, "not a witness (cosignature/v1) key: '%.80s'", vkey);
	for (size_t i = 0; i < t->nwitness; i++)
		if (strcmp(t->witness[i].name, v.name) == 0 ||
		    memcmp(t->witness[i].pk, v.pk, sizeof(v.pk)) == 0)
			return fail(err, err_size, line, "witness '%s' is listed twice", v.name);
	if (url != NULL && !url_valid(url))
		return fail(err, err_size, line, "'%.80s' is not an http:// or https:// URL", url);
	t->witness[t->nwitness] = v;
	snprintf(f->url[t->nwitness], sizeof(f->url[0]), "%s", url != NULL ? url : "");
	t->nwitness++;
	return 0;
}

static int parse_quorum(const char *s, size_t *ret)
{
	size_t v = 0;
	if (s[0] == 0 || (s[0] == '0' && s[1] != 0))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > KT_WITNESS_MAX)
			return -1;
		v = v * 10 + (size_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

/* Splits line in place into at most 4 blank-separated words; 5 means
 * more. (strtok would keep state between calls.) */
static size_t words(char *line, char *w[4])
{
	size_t n = 0;
	for (char *s = line + strspn(line, " \t"); *s != 0; s += strspn(s, " \t")) {
		if (n == 4)
			return 5;
		w[n++] = s;
		s += strcspn(s, " \t");
		if (*s != 0)
			*s++ = 0;
	}
	return n;
}

static int parse_line(struct kt_trust_file *f, char *line, unsigned no, unsigned *quorum_line,
		      char *err, size_t err_size)
{
	char *w[4];
	size_t n = words(line, w);
	if (n == 0 || w[0][0] == '#')
		return 0;
	if (strcmp(w[0], "witness") == 0 && (n == 2 || n == 3))
		return add_witness(f, w[1], n == 3 ? w[2] : NULL, no, err, err_size);
	if (strcmp(w[0], "quorum") == 0 && n == 2) {
		if (*quorum_line != 0)
			return fail(err, err_size, no, "'quorum' is already set on line %u", *quorum_line);
		if (parse_quorum(w[1], &f->trust.quorum) < 0)
			return fail(err, err_size, no, "'quorum' needs a number from 0 to %d", KT_WITNESS_MAX);
		*quorum_line = no;
		return 0;
	}
	return fail(err, err_size, no, "expected 'witness VKEY [URL]' or 'quorum N'");
}

int kt_trust_parse(const char *text, size_t len, struct kt_trust_file *ret, char *err, size_t err_size)
{
	struct kt_trust_file f; /* about 13 KB; *ret only changes on success */
	char line[LINE_MAX_LEN + 1];
	unsigned no = 0, quorum_line = 0;
	size_t pos = 0;
	if (err_size > 0)
		err[0] = 0;
	if (len > KT_TRUST_FILE_MAX)
		return fail(err, err_size, 0, "the file is larger than %d bytes", KT_TRUST_FILE_MAX);
	memset(&f, 0, sizeof(f));
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
		no++;
		if (n > LINE_MAX_LEN)
			return fail(err, err_size, no, "line longer than %d bytes", LINE_MAX_LEN);
		memcpy(line, text + pos, n);
		line[n] = 0;
		if (memchr(line, 0, n) != NULL || strchr(line, '\r') != NULL)
			return fail(err, err_size, no, "control characters are not allowed");
		int r = parse_line(&f, line, no, &quorum_line, err, err_size);
		if (r < 0)
			return r;
		pos += n + (nl != NULL);
	}
	if (quorum_line == 0)
		f.trust.quorum = f.trust.nwitness;
	else if (f.trust.quorum > f.trust.nwitness)
		return fail(err, err_size, quorum_line, "quorum %zu is more than the %zu witnesses listed",
			    f.trust.quorum, f.trust.nwitness);
	*ret = f;
	return 0;
}
