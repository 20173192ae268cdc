#include "pins.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "wkd.h"

#define PINS_FILE_MAX ((size_t)PINS_MAX * 400)
#define ADDR_MAX (WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2)

/* The canonical key of an address: as wkd_address_format writes it, with
 * the local part lowercased too, since WKD treats it case-insensitively. */
static int canonical(const char *address, char ret[ADDR_MAX])
{
	struct wkd_address a;
	if (wkd_address_parse(address, &a) < 0)
		return SM_EINVAL;
	for (char *c = a.local; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return wkd_address_format(&a, ret, ADDR_MAX);
}

static int pin_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pin *)a)->address, ((const struct pin *)b)->address);
}

static int fpr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pgp_fpr *)a)->hex, ((const struct pgp_fpr *)b)->hex);
}

static int fpr_parse(const char *hex, size_t len, struct pgp_fpr *ret)
{
	if (len != PGP_FPR_HEX)
		return SM_EPARSE;
	for (size_t i = 0; i < len; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'A' && hex[i] <= 'F')))
			return SM_EPARSE;
	memcpy(ret->hex, hex, len);
	ret->hex[len] = 0;
	return 0;
}

/* One "address fingerprint" line, without its newline. */
struct line {
	char address[ADDR_MAX];
	struct pgp_fpr fpr;
};

static int line_parse(const char *text, size_t len, struct line *ret)
{
	char canon[ADDR_MAX];
	const char *sp = memchr(text, ' ', len);
	if (sp == NULL || (size_t)(sp - text) >= sizeof(ret->address))
		return SM_EPARSE;
	size_t alen = (size_t)(sp - text);
	memcpy(ret->address, text, alen);
	ret->address[alen] = 0;
	if (canonical(ret->address, canon) < 0 || strcmp(ret->address, canon) != 0)
		return SM_EPARSE;
	return fpr_parse(sp + 1, len - alen - 1, &ret->fpr);
}

static int line_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	int c = strcmp(x->address, y->address);
	return c != 0 ? c : strcmp(x->fpr.hex, y->fpr.hex);
}

static int lines_read(const char *s, size_t len, struct line *lines, size_t *n)
{
	size_t off = 0;
	while (off < len) {
		const char *nl = memchr(s + off, '\n', len - off);
		if (nl == NULL)
			return SM_EPARSE; /* every line ends with a newline */
		if (line_parse(s + off, (size_t)(nl - s - off), &lines[(*n)++]) < 0)
			return SM_EPARSE;
		off = (size_t)(nl - s) + 1;
	}
	return 0;
}

/* Sorted lines into one pin per address. */
static int lines_group(const struct line *lines, size_t n, struct pins *p)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && line_cmp(&lines[i - 1], &lines[i]) == 0)
			return SM_EPARSE; /* a line twice */
		struct pin *last = p->n > 0 ? &p->items[p->n - 1] : NULL;
		if (last == NULL || strcmp(last->address, lines[i].address) != 0) {
			last = &p->items[p->n++];
			if ((last->address = strdup(lines[i].address)) == NULL)
				return SM_ENOMEM;
		}
		if (last->n == PINS_KEYS_MAX)
			return SM_EPARSE;
		last->fpr[last->n++] = lines[i].fpr;
	}
	return 0;
}

int pins_parse(const uint8_t *data, size_t len, struct pins *ret)
{
	struct pins p = {NULL, 0};
	struct line *lines = NULL;
	size_t nlines = 0, n = 0;
	for (size_t i = 0; i < len; i++)
		nlines += data[i] == '\n';
	if (nlines > PINS_MAX)
		return SM_ETOOBIG;
	if (nlines > 0 && ((lines = calloc(nlines, sizeof(*lines))) == NULL ||
			   (p.items = calloc(nlines, sizeof(*p.items))) == NULL)) {
		free(lines);
		return SM_ENOMEM;
	}
	int r = lines_read((const char *)data, len, lines, &n);
	if (r == 0 && n > 0) {
		qsort(lines, n, sizeof(*lines), line_cmp);
		r = lines_group(lines, n, &p);
	}
	free(lines);
	if (r < 0) {
		pins_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void pins_free(struct pins *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i].address);
	free(p->items);
	p->items = NULL;
	p->n = 0;
}

static struct pin *find(const struct pins *p, const char *canon)
{
	struct pin key = {.address = (char *)canon};
	if (p->n == 0)
		return NULL;
	return bsearch(&key, p->items, p->n, sizeof(*p->items), pin_cmp);
}

const struct pin *pins_get(const struct pins *p, const char *address)
{
	char canon[ADDR_MAX];
	if (canonical(address, canon) < 0)
		return NULL;
	return find(p, canon);
}

int pins_has(const struct pin *pin, const struct pgp_fpr *fpr)
{
	for (size_t i = 0; pin != NULL && i < pin->n; i++)
		if (strcmp(pin->fpr[i].hex, fpr->hex) == 0)
			return 1;
	return 0;
}

int pins_set(struct pins *p, const char *address, const struct pgp_fpr *fprs, size_t n)
{
	char canon[ADDR_MAX];
	struct pin set = {.n = n};
	if (canonical(address, canon) < 0 || n == 0 || n > PINS_KEYS_MAX)
		return SM_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (fpr_parse(fprs[i].hex, strlen(fprs[i].hex), &set.fpr[i]) < 0)
			return SM_EINVAL;
	qsort(set.fpr, n, sizeof(set.fpr[0]), fpr_cmp);
	for (size_t i = 1; i < n; i++)
		if (fpr_cmp(&set.fpr[i - 1], &set.fpr[i]) == 0)
			return SM_EINVAL;
	struct pin *hit = find(p, canon);
	if (hit != NULL) {
		memcpy(hit->fpr, set.fpr, sizeof(set.fpr));
		hit->n = n;
		return 0;
	}
	if (p->n == PINS_MAX)
		return SM_ETOOBIG;
	struct pin *items = realloc(p->items, (p->n + 1) * sizeof(*items));
	if (items == NULL)
		return SM_ENOMEM;
	p->items = items;
	if ((set.address = strdup(canon)) == NULL)
		return SM_ENOMEM;
	items[p->n++] = set;
	qsort(p->items, p->n, sizeof(*p->items), pin_cmp);
	return 0;
}

int pins_format(const struct pins *p, struct buf *out)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t k = 0; k < p->items[i].n; k++) {
			int r = buf_appendf(out, "%s %s\n", p->items[i].address, p->items[i].fpr[k].hex);
			if (r < 0)
				return r;
		}
	return 0;
}

int pins_load(const char *dir, struct pins *ret)
{
	char path[4096];
	struct buf b;
	int n = snprintf(path, sizeof(path), "%s/%s", dir, PINS_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return SM_EINVAL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		ret->items = NULL;
		ret->n = 0;
		return 0;
	}
	if (fd < 0)
		return SM_EIO;
	buf_init(&b, PINS_FILE_MAX);
	int r = buf_read_fd(&b, fd);
	close(fd);
	if (r == 0)
		r = pins_parse(b.data, b.len, ret);
	buf_free(&b);
	return r;
}

int pins_save(const char *dir, const struct pins *p)
{
	struct buf b;
	buf_init(&b, PINS_FILE_MAX);
	int r = pins_format(p, &b);
	if (r == 0)
		r = atomic_file_write(dir, PINS_FILE, b.data, b.len, 0644);
	buf_free(&b);
	return r;
}
