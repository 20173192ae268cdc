/* test_fdio: whole transfers over a pipe, larger than its buffer (so the
 * writes and reads come short), an end of file before the length, and a
 * write to a pipe nobody reads. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fdio.h"

#define BIG (1u << 20) /* well over a pipe's 64 KiB */

static void round_trip_over_short_transfers(void)
{
	static uint8_t out[BIG], in[BIG];
	int p[2];
	for (size_t i = 0; i < BIG; i++)
		out[i] = (uint8_t)(i * 31 + 7);
	CHECK(pipe(p) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(fd_write_all(p[1], out, BIG) == 0 ? 0 : 1);
	}
	close(p[1]);
	CHECK_INT(fd_read_exact(p[0], in, BIG), 0);
	CHECK(memcmp(in, out, BIG) == 0);
	int status = 0;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p[0]);
}

static void end_of_file_before_the_length(void)
{
	uint8_t in[8];
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK_INT(fd_write_all(p[1], "abc", 3), 0);
	close(p[1]);
	errno = 0;
	CHECK_INT(fd_read_exact(p[0], in, sizeof(in)), SM_EIO);
	CHECK_INT(errno, EIO);
	close(p[0]);
}

static void writing_to_nobody(void)
{
	int p[2];
	signal(SIGPIPE, SIG_IGN);
	CHECK(pipe(p) == 0);
	close(p[0]);
	errno = 0;
	CHECK_INT(fd_write_all(p[1], "abc", 3), SM_EIO);
	CHECK_INT(errno, EPIPE);
	close(p[1]);
	CHECK_INT(fd_write_all(-1, "abc", 3), SM_EIO);
	CHECK_INT(errno, EBADF);
}

int main(void)
{
	RUN(round_trip_over_short_transfers);
	RUN(end_of_file_before_the_length);
	RUN(writing_to_nobody);
	return check_done();
}
