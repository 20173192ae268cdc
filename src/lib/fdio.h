/* fdio.h: whole transfers on a descriptor, across short reads and writes
 * and EINTR. */
#ifndef SEALMAIL_FDIO_H
#define SEALMAIL_FDIO_H

#include <stddef.h>

#include "err.h"

/* Writes all len bytes of p. SM_EIO on failure (errno kept; EIO for a
 * write that wrote nothing). */
int fd_write_all(int fd, const void *p, size_t len) SM_WUR;
/* Reads exactly len bytes into p. SM_EIO on failure or at end of file
 * before len bytes (then errno is EIO). */
int fd_read_exact(int fd, void *p, size_t len) SM_WUR;

#endif
