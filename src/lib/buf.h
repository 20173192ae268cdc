/* buf.h: the one bounded byte buffer of libsealmail.
 *
 * A buffer has a hard maximum fixed at init; every append checks it before
 * growing and fails with SM_ETOOBIG, leaving the contents as they were.
 * The data is always followed by a NUL byte (not counted in len) so text
 * can be handed to C string functions. buf_free() wipes the memory before
 * releasing it, because buffers carry plaintext and key material. */
#ifndef SEALMAIL_BUF_H
#define SEALMAIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf {
	uint8_t *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;    /* len never exceeds this */
};

void buf_init(struct buf *b, size_t max);
/* Wipes and frees the contents; the buffer can be reused after buf_init. Accepts NULL. */
void buf_free(struct buf *b);
/* Empties the buffer (wiping what it held) but keeps its memory. */
void buf_reset(struct buf *b);
/* Shortens the contents to their first len bytes (no-op if len >= b->len),
 * wiping the rest. */
void buf_truncate(struct buf *b, size_t len);
int buf_append(struct buf *b, const void *data, size_t len) SM_WUR;
int buf_append_str(struct buf *b, const char *s) SM_WUR;
int buf_appendf(struct buf *b, const char *fmt, ...) SM_WUR __attribute__((format(printf, 2, 3)));
/* Hands the contents to the caller (free with free()) and empties the buffer. */
uint8_t *buf_steal(struct buf *b, size_t *ret_len);

/* Reads a whole file descriptor into b, up to b->max; SM_ETOOBIG past it. */
int buf_read_fd(struct buf *b, int fd) SM_WUR;
/* Reads the whole file at path into b, as buf_read_fd; open_flags are
 * added to O_RDONLY | O_CLOEXEC (e.g. O_NOFOLLOW). SM_ENOTFOUND if it does
 * not exist, SM_EIO if it cannot be opened or read (errno kept). */
int buf_read_file(struct buf *b, const char *path, int open_flags) SM_WUR;

#endif
