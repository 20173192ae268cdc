#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (b->data != NULL) {
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	if (b->data != NULL) {
		sodium_memzero(b->data, b->cap);
		b->data[0] = 0;
	}
	b->len = 0;
}

void buf_truncate(struct buf *b, size_t len)
{
	if (b->data == NULL || len >= b->len)
		return;
	sodium_memzero(b->data + len, b->len - len);
	b->len = len;
	b->data[len] = 0;
}

/* Grows to hold len + need + 1 bytes. The old block is wiped, not left
 * behind by realloc, since it may hold plaintext. */
static int buf_reserve(struct buf *b, size_t need)
{
	if (need > b->max - b->len)
		return SM_ETOOBIG;
	size_t want = b->len + need + 1;
	if (want <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	uint8_t *p = malloc(cap);
	if (p == NULL)
		return SM_ENOMEM;
	if (b->data != NULL) {
		memcpy(p, b->data, b->len);
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	int r = buf_reserve(b, len);
	if (r < 0)
		return r;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
	return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return SM_EINVAL;
	int r = buf_reserve(b, (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

uint8_t *buf_steal(struct buf *b, size_t *ret_len)
{
	uint8_t *p = b->data;
	*ret_len = b->len;
	buf_init(b, b->max);
	return p;
}

int buf_read_fd(struct buf *b, int fd)
{
	uint8_t chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return SM_EIO;
		if (n == 0)
			break;
		int r = buf_append(b, chunk, (size_t)n);
		if (r < 0) {
			sodium_memzero(chunk, sizeof(chunk));
			return r;
		}
	}
	sodium_memzero(chunk, sizeof(chunk));
	return 0;
}

int buf_read_file(struct buf *b, const char *path, int open_flags)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | open_flags);
	if (fd < 0)
		return errno == ENOENT ? SM_ENOTFOUND : SM_EIO;
	int r = buf_read_fd(b, fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}
