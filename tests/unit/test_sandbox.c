/* test_sandbox: the key holder's confinement (src/daemon/sandbox.c), the
 * same function sealmaild runs. Each case forks a child that confines
 * itself and then tries one thing: what the key holder does must work,
 * anything else must kill it with SIGSYS. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "sandbox.h"

enum try {
	TRY_ALLOWED,
	TRY_OPEN,
	TRY_SOCKET,
	TRY_FORK,
	TRY_EXEC,
	TRY_KILL,
	TRY_GETUID,
};

static int sv[2];

/* What the key holder does all day: guarded memory, a request in, a
 * reply out. */
static int do_allowed(void)
{
	char msg[16];
	uint8_t *secret = sodium_malloc(32);
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (secret == NULL || page == MAP_FAILED || munmap(page, 4096) < 0)
		return 1;
	randombytes_buf(secret, 32);
	sodium_free(secret);
	if (recv(sv[1], msg, sizeof(msg), 0) != 4 || send(sv[1], "pong", 4, 0) != 4)
		return 2;
	return 0;
}

static void child_try(enum try t)
{
	struct sandbox_report rep;
	char *const argv[] = {"true", NULL};
	if (sandbox_keyholder(16, &rep) < 0)
		_exit(100);
	switch (t) {
	case TRY_ALLOWED:
		_exit(do_allowed());
	case TRY_OPEN:
		_exit(open("/etc/hostname", O_RDONLY) >= 0 ? 10 : 11);
	case TRY_SOCKET:
		_exit(socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 10 : 11);
	case TRY_FORK:
		_exit(fork() >= 0 ? 10 : 11);
	case TRY_EXEC:
		execv("/bin/true", argv);
		_exit(11);
	case TRY_KILL:
		_exit(kill(getppid(), 0) == 0 ? 10 : 11);
	case TRY_GETUID:
		_exit(getuid() == 0 ? 10 : 11);
	}
	_exit(12);
}

/* Runs t in a confined child; returns its wait status. */
static int run(enum try t)
{
	int status = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		child_try(t);
	}
	close(sv[1]);
	if (t == TRY_ALLOWED) {
		char reply[8];
		if (send(sv[0], "ping", 4, 0) != 4 || recv(sv[0], reply, sizeof(reply), 0) != 4 ||
		    memcmp(reply, "pong", 4) != 0)
			printf("# no reply from the confined child\n");
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	close(sv[0]);
	return status;
}

static int killed_by_sigsys(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

static void what_the_key_holder_does_still_works(void)
{
	int st = run(TRY_ALLOWED);
	CHECK(WIFEXITED(st));
	CHECK_INT(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
}

static void opening_a_file_kills_it(void)
{
	CHECK(killed_by_sigsys(run(TRY_OPEN)));
}

static void making_a_socket_kills_it(void)
{
	CHECK(killed_by_sigsys(run(TRY_SOCKET)));
}

static void forking_kills_it(void)
{
	CHECK(killed_by_sigsys(run(TRY_FORK)));
}

static void executing_kills_it(void)
{
	CHECK(killed_by_sigsys(run(TRY_EXEC)));
}

static void signalling_another_process_kills_it(void)
{
	CHECK(killed_by_sigsys(run(TRY_KILL)));
}

static void asking_its_identity_kills_it(void)
{
	CHECK(killed_by_sigsys(run(TRY_GETUID)));
}

/* What /proc says of a confined child: seccomp filter mode, no new
 * privileges, no capabilities, not dumpable. */
static void the_kernel_reports_the_confinement(void)
{
	char path[64], text[4096];
	int sync[2], status = 0;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sync) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct sandbox_report rep;
		char c;
		close(sync[0]);
		if (sandbox_keyholder(16, &rep) < 0)
			_exit(100);
		if (send(sync[1], "x", 1, 0) != 1 || recv(sync[1], &c, 1, 0) != 1)
			_exit(1);
		_exit(0);
	}
	close(sync[1]);
	char c;
	CHECK(recv(sync[0], &c, 1, 0) == 1);
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = 0;
	CHECK(strstr(text, "\nSeccomp:\t2\n") != NULL);
	CHECK(strstr(text, "\nNoNewPrivs:\t1\n") != NULL);
	CHECK(strstr(text, "\nCapEff:\t0000000000000000\n") != NULL);
	CHECK(strstr(text, "\nCapPrm:\t0000000000000000\n") != NULL);
	CHECK(send(sync[0], "x", 1, 0) == 1);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sync[0]);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(what_the_key_holder_does_still_works);
	RUN(opening_a_file_kills_it);
	RUN(making_a_socket_kills_it);
	RUN(forking_kills_it);
	RUN(executing_kills_it);
	RUN(signalling_another_process_kills_it);
	RUN(asking_its_identity_kills_it);
	RUN(the_kernel_reports_the_confinement);
	return check_done();
}
