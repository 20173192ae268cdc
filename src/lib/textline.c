/* textline.c: the line cursor of the key transparency text formats. See
 * textline.h. */
#include "textline.h"

#include <string.h>

#include "b64.h"
#include "num.h"

int tl_next(struct tl_cur *c, struct tl_line *ret)
{
	const uint8_t *nl = memchr(c->p + c->off, '\n', c->len - c->off);
	if (nl == NULL)
		return SM_EPARSE;
	ret->p = c->p + c->off;
	ret->len = (size_t)(nl - ret->p);
	c->off += ret->len + 1;
	return 0;
}

int tl_peek(const struct tl_cur *c, const char *word)
{
	size_t n = strlen(word);
	return c->len - c->off >= n && memcmp(c->p + c->off, word, n) == 0;
}

int tl_strip(struct tl_line *l, const char *word)
{
	size_t n = strlen(word);
	if (l->len < n || memcmp(l->p, word, n) != 0)
		return SM_EPARSE;
	l->p += n;
	l->len -= n;
	return 0;
}

int tl_take(struct tl_cur *c, const char *word, struct tl_line *ret_rest)
{
	struct tl_line l;
	if (tl_next(c, &l) < 0 || tl_strip(&l, word) < 0)
		return SM_EPARSE;
	*ret_rest = l;
	return 0;
}

int tl_field(struct tl_line *l, struct tl_line *ret_f)
{
	const uint8_t *sp = memchr(l->p, ' ', l->len);
	if (sp == NULL)
		return SM_EPARSE;
	ret_f->p = l->p;
	ret_f->len = (size_t)(sp - l->p);
	l->len -= ret_f->len + 1;
	l->p = sp + 1;
	return 0;
}

int tl_is(const struct tl_line *l, const char *s)
{
	return l->len == strlen(s) && memcmp(l->p, s, l->len) == 0;
}

int tl_u64(struct tl_line f, uint64_t *ret_v)
{
	return num_parse_dec(f.p, f.len, ret_v);
}

int tl_b64(struct tl_line f, uint8_t *out, size_t len)
{
	size_t got = 0;
	if (f.len != B64_ENCODED_LEN(len) || b64_decode(f.p, f.len, out, len, &got) < 0 || got != len)
		return SM_EPARSE;
	return 0;
}

int tl_b64_units(struct tl_line f, uint8_t *out, size_t unit, size_t max, size_t *ret_n)
{
	size_t got = 0;
	if (b64_decode(f.p, f.len, out, unit * max, &got) < 0 || got % unit != 0)
		return SM_EPARSE;
	*ret_n = got / unit;
	return 0;
}

int tl_cstr(struct tl_line f, char *out, size_t max)
{
	if (f.len == 0 || f.len >= max || memchr(f.p, 0, f.len) != NULL)
		return SM_EPARSE;
	memcpy(out, f.p, f.len);
	out[f.len] = 0;
	return 0;
}
