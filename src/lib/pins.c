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

/* The canonical key of an address: as wkd_address_format writes it, with
 * the local part lowercased too, since WKD treats it case-insensitively. */
static int canonical(const char *address, char ret[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2])
{
	struct wkd_address a;
	if (wkd_address_parse(address, &a) < 0)
		return SM_EINVAL;
	for (char *c = a.local; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return wkd_address_format(&a, ret, WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2);
}

static int pin_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pin *)a)->address, ((const struct pin *)b)->address);
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
static int line_parse(const char *line, size_t len, struct pin *ret)
{
	char addr[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2], canon[sizeof(addr)];
	const char *sp = memchr(line, ' ', len);
	if (sp == NULL || (size_t)(sp - line) >= sizeof(addr))
		return SM_EPARSE;
	size_t alen = (size_t)(sp - line);
	memcpy(addr, line, alen);
	addr[alen] = 0;
	if (canonical(addr, canon) < 0 || strcmp(addr, canon) != 0)
		return SM_EPARSE;
	if (fpr_parse(sp + 1, len - alen - 1, &ret->fpr) < 0)
		return SM_EPARSE;
	ret->address = strdup(addr);
	return ret->address ? 0 : SM_ENOMEM;
}

static int lines_parse(const char *s, size_t len, struct pins *p)
{
	size_t off = 0;
	while (off < len) {
		const char *nl = memchr(s + off, '\n', len - off);
		if (nl == NULL)
			return SM_EPARSE; /* every line ends with a newline */
		if (p->n == PINS_MAX)
			return SM_ETOOBIG;
		int r = line_parse(s + off, (size_t)(nl - s - off), &p->items[p->n]);
		if (r < 0)
			return r;
		p->n++;
		off = (size_t)(nl - s) + 1;
	}
	return 0;
}

int pins_parse(const uint8_t *data, size_t len, struct pins *ret)
{
	struct pins p = {NULL, 0};
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += data[i] == '\n';
	if (lines > PINS_MAX)
		return SM_ETOOBIG;
	if (lines > 0 && (p.items = calloc(lines, sizeof(*p.items))) == NULL)
		return SM_ENOMEM;
	int r = lines_parse((const char *)data, len, &p);
	if (r == 0 && p.n > 0)
		qsort(p.items, p.n, sizeof(*p.items), pin_cmp);
	for (size_t i = 1; r == 0 && i < p.n; i++)
		if (strcmp(p.items[i - 1].address, p.items[i].address) == 0)
			r = SM_EPARSE;
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

const struct pgp_fpr *pins_get(const struct pins *p, const char *address)
{
	char canon[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2];
	if (canonical(address, canon) < 0)
		return NULL;
	struct pin *hit = find(p, canon);
	return hit ? &hit->fpr : NULL;
}

int pins_set(struct pins *p, const char *address, const struct pgp_fpr *fpr)
{
	char canon[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2];
	struct pgp_fpr checked;
	if (canonical(address, canon) < 0 || fpr_parse(fpr->hex, strlen(fpr->hex), &checked) < 0)
		return SM_EINVAL;
	struct pin *hit = find(p, canon);
	if (hit != NULL) {
		hit->fpr = checked;
		return 0;
	}
	if (p->n == PINS_MAX)
		return SM_ETOOBIG;
	struct pin *items = realloc(p->items, (p->n + 1) * sizeof(*items));
	if (items == NULL)
		return SM_ENOMEM;
	p->items = items;
	if ((items[p->n].address = strdup(canon)) == NULL)
		return SM_ENOMEM;
	items[p->n++].fpr = checked;
	qsort(p->items, p->n, sizeof(*p->items), pin_cmp);
	return 0;
}

int pins_format(const struct pins *p, struct buf *out)
{
	for (size_t i = 0; i < p->n; i++) {
		int r = buf_appendf(out, "%s %s\n", p->items[i].address, p->items[i].fpr.hex);
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
