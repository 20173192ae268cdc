/* fdio.c: whole transfers on a descriptor (fdio.h). */
#include "fdio.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

static int transfer(int fd, uint8_t *p, size_t len, bool writing)
{
	while (len > 0) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			errno = EIO;
		if (n <= 0)
			return SM_EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fd_write_all(int fd, const void *p, size_t len)
{
	return transfer(fd, (uint8_t *)(uintptr_t)p, len, true);
}

int fd_read_exact(int fd, void *p, size_t len)
{
	return transfer(fd, p, len, false);
}
