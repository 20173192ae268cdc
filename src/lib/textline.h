/* textline.h: reading the strict line-based text formats of key
 * transparency (lookup proofs, update authorizations): a cursor over
 * untrusted bytes, lines that must end in "\n", fields split at single
 * spaces, decimal numbers (num.h's rule) and strict base64 (b64.h).
 * Every function returns 0 or SM_EPARSE and never reads past the input. */
#ifndef SEALMAIL_TEXTLINE_H
#define SEALMAIL_TEXTLINE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct tl_cur {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* One line, without its newline. */
struct tl_line {
	const uint8_t *p;
	size_t len;
};

/* The next line; it must end in "\n". */
int tl_next(struct tl_cur *c, struct tl_line *ret) SM_WUR;
/* 1 if the next line starts with word (e.g. "path "); the cursor stays. */
int tl_peek(const struct tl_cur *c, const char *word);
/* Removes the leading word (e.g. "present ") from l. */
int tl_strip(struct tl_line *l, const char *word) SM_WUR;
/* Takes the line "<word><rest>" and gives rest. */
int tl_take(struct tl_cur *c, const char *word, struct tl_line *ret_rest) SM_WUR;
/* Splits off the field before the next space of l. */
int tl_field(struct tl_line *l, struct tl_line *ret_f) SM_WUR;
/* 1 if l is exactly s. */
int tl_is(const struct tl_line *l, const char *s);
/* A decimal field. */
int tl_u64(struct tl_line f, uint64_t *ret_v) SM_WUR;
/* Base64 of exactly len bytes. */
int tl_b64(struct tl_line f, uint8_t *out, size_t len) SM_WUR;
/* Base64 of a whole number of units of unit bytes, at most max units. */
int tl_b64_units(struct tl_line f, uint8_t *out, size_t unit, size_t max, size_t *ret_n) SM_WUR;
/* A field copied out as a C string (not empty, no NUL inside), at most
 * max - 1 bytes. */
int tl_cstr(struct tl_line f, char *out, size_t max) SM_WUR;

#endif
