/* test_sandbox: sealmaild's confinements (src/lib/sandbox.c), the same
 * functions sealmaild runs. Each case forks a child that confines itself
 * and then tries one thing.
 *   key holder: what it does must work, anything else must kill it with
 *               SIGSYS;
 *   network processes: changes inside their directories work, outside
 *               them fail (Landlock), reading works, and running a
 *               program, tracing, new namespaces or a new identity kill
 *               them;
 *   network children (HTTPS workers, MX): on top of that, serving works
 *               (memory, randomness, the store's files), and a new socket,
 *               a connection, a process, a signal to another process, a
 *               rename or a program kill them;
 *   the main process: threads, Maildirs, links and connections work; a
 *               program, a new identity or a forked process kill it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h> /* CLONE_* */
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

/* The test's own pid, taken before any child is confined: getppid is not
 * on every list, and a test must die of the call it tries, not of that. */
static pid_t test_pid;

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
		_exit(kill(test_pid, 0) == 0 ? 10 : 11);
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

/* ---- the network processes ---- */

static char inside[64], outside[64];

/* Runs fn in a child confined by sandbox_network({inside}), and then by
 * sandbox_allow(kind) if child_filter; returns its wait status. */
static int run_confined(int (*fn)(void), int child_filter, enum sandbox_allow_kind kind)
{
	int status = 0;
	pid_t pid = fork();
	if (pid == 0) {
		const char *dirs[] = {inside};
		struct sandbox_report rep;
		if (sandbox_network(dirs, 1, &rep) < 0 || (child_filter && sandbox_allow(kind, 0, &rep) < 0))
			_exit(100);
		_exit(fn());
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static int run_network(int (*fn)(void))
{
	return run_confined(fn, 0, SANDBOX_SERVER);
}

static int exited_zero(int status)
{
	if (!WIFEXITED(status))
		printf("# killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	else if (WEXITSTATUS(status) != 0)
		printf("# exit status %d\n", WEXITSTATUS(status));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int landlock_available(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, 1UL /* VERSION */) > 0;
}

/* Delivery's moves: a file made, written, renamed and removed inside. */
static int work_inside(void)
{
	char a[128], b[128], sub[128];
	snprintf(a, sizeof(a), "%s/a", inside);
	snprintf(b, sizeof(b), "%s/b", inside);
	snprintf(sub, sizeof(sub), "%s/sub", inside);
	int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) < 0)
		return 1;
	if (rename(a, b) < 0 || unlink(b) < 0 || mkdir(sub, 0700) < 0 || rmdir(sub) < 0)
		return 2;
	return 0;
}

/* Reading anywhere, and the devices the libraries write to. */
static int read_and_devices(void)
{
	char c;
	int fd = open("/etc/passwd", O_RDONLY);
	if (fd < 0 || read(fd, &c, 1) != 1 || close(fd) < 0)
		return 1;
	if ((fd = open("/dev/null", O_WRONLY)) < 0 || write(fd, "x", 1) != 1 || close(fd) < 0)
		return 2;
	if ((fd = open("/dev/urandom", O_RDWR)) < 0 || read(fd, &c, 1) != 1 || close(fd) < 0)
		return 3;
	return 0;
}

/* Each change outside must fail with EACCES. */
static int change_outside(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/a", outside);
	if (open(path, O_WRONLY | O_CREAT, 0600) >= 0 || errno != EACCES)
		return 1;
	snprintf(path, sizeof(path), "%s/kept", outside);
	if (open(path, O_WRONLY) >= 0 || errno != EACCES)
		return 2;
	if (unlink(path) == 0 || errno != EACCES)
		return 3;
	snprintf(path, sizeof(path), "%s/sub", outside);
	if (mkdir(path, 0700) == 0 || errno != EACCES)
		return 4;
	return 0;
}

static int net_exec(void)
{
	char *const argv[] = {"true", NULL};
	execv("/bin/true", argv);
	return 11;
}

static int net_ptrace(void)
{
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 10 : 11;
}

static int net_unshare(void)
{
	return syscall(SYS_unshare, 0x40000000 /* CLONE_NEWNET */) == 0 ? 10 : 11;
}

static int net_setuid(void)
{
	return setuid(getuid()) == 0 ? 10 : 11;
}

static int net_fork_and_threads_allowed(void)
{
	pid_t pid = fork();
	int status = 0;
	if (pid == 0)
		_exit(0);
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? 0 : 1;
}

static void network_changes_inside_work(void)
{
	CHECK(exited_zero(run_network(work_inside)));
}

static void network_reads_and_devices_work(void)
{
	CHECK(exited_zero(run_network(read_and_devices)));
}

static void network_changes_outside_fail(void)
{
	if (!landlock_available()) {
		printf("# SKIP: no Landlock in this kernel\n");
		return;
	}
	CHECK(exited_zero(run_network(change_outside)));
	char path[128];
	snprintf(path, sizeof(path), "%s/kept", outside);
	CHECK(access(path, F_OK) == 0);
}

/* A worker's narrowing: confined to {inside, outside}, then narrowed to
 * inside, it can no longer change anything in outside. */
static int narrowed(void)
{
	const char *dirs[] = {inside};
	char path[128];
	int fd;
	if (sandbox_narrow_writes(dirs, 1) < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/n", inside);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0600)) < 0 || close(fd) < 0 || unlink(path) < 0)
		return 2;
	snprintf(path, sizeof(path), "%s/n", outside);
	if (open(path, O_WRONLY | O_CREAT, 0600) >= 0 || errno != EACCES)
		return 3;
	return 0;
}

static void a_worker_narrows_its_writes(void)
{
	int status = 0;
	if (!landlock_available()) {
		printf("# SKIP: no Landlock in this kernel\n");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		const char *dirs[] = {inside, outside};
		struct sandbox_report rep;
		_exit(sandbox_network(dirs, 2, &rep) < 0 ? 100 : narrowed());
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	CHECK(exited_zero(status));
}

static void network_forbidden_calls_kill(void)
{
	CHECK(killed_by_sigsys(run_network(net_exec)));
	if (SANDBOX_SANITIZED_PTRACE)
		printf("# ptrace is left to LeakSanitizer in this build\n");
	else
		CHECK(killed_by_sigsys(run_network(net_ptrace)));
	CHECK(killed_by_sigsys(run_network(net_unshare)));
	CHECK(killed_by_sigsys(run_network(net_setuid)));
	CHECK(exited_zero(run_network(net_fork_and_threads_allowed)));
}

/* ---- a network child's allow-list (sandbox_allow) ---- */

static int run_child(int (*fn)(void))
{
	return run_confined(fn, 1, SANDBOX_SERVER);
}

/* What an HTTPS worker or the MX does all day: read and write on its
 * sockets, its store's file (open, read, write, sync), memory,
 * randomness, the clock. */
static int serve_one(void)
{
	int fd;
	char c, path[128];
	void *page = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || munmap(page, 1 << 20) < 0)
		return 1;
	uint8_t *secret = sodium_malloc(32);
	if (secret == NULL)
		return 2;
	randombytes_buf(secret, 32);
	sodium_free(secret);
	if (send(sv[1], "ping", 4, 0) != 4 || recv(sv[0], &c, 1, 0) != 1)
		return 3;
	snprintf(path, sizeof(path), "%s/store", inside);
	if ((fd = open(path, O_RDWR | O_CREAT, 0600)) < 0 || pwrite(fd, "x", 1, 0) != 1 ||
	    pread(fd, &c, 1, 0) != 1 || fdatasync(fd) < 0 || close(fd) < 0 || unlink(path) < 0)
		return 4;
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 5;
	return 0;
}

static int child_socket(void)
{
	return socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 10 : 11;
}

static int child_connect(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "/run/sealmail-no-such-socket");
	return connect(sv[1], (struct sockaddr *)&a, sizeof(a)) == 0 ? 10 : 11;
}

static int child_fork(void)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	return 10;
}

static int child_kill(void)
{
	return kill(test_pid, 0) == 0 ? 10 : 11;
}

static int child_rename(void)
{
	char a[128], b[128];
	snprintf(a, sizeof(a), "%s/a", inside);
	snprintf(b, sizeof(b), "%s/b", inside);
	return rename(a, b) == 0 ? 10 : 11;
}

/* The Web Key Service's moves: a mail to cur/ while it is handled, then
 * removed; the directory walked. */
static int read_mail(void)
{
	char a[128], b[128];
	snprintf(a, sizeof(a), "%s/mail", inside);
	snprintf(b, sizeof(b), "%s/mail-busy", inside);
	int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || close(fd) < 0 || rename(a, b) < 0 || unlink(b) < 0)
		return 1;
	DIR *dh = opendir(inside);
	if (dh == NULL || readdir(dh) == NULL || closedir(dh) < 0)
		return 2;
	return 0;
}

static void a_mail_reader_moves_and_removes_mail(void)
{
	CHECK(exited_zero(run_confined(read_mail, 1, SANDBOX_MAIL_READER)));
	CHECK(killed_by_sigsys(run_confined(child_socket, 1, SANDBOX_MAIL_READER)));
	CHECK(killed_by_sigsys(run_confined(child_fork, 1, SANDBOX_MAIL_READER)));
}

/* Another process's limits, or a signal to another process's thread: the
 * daemon's processes share a user, so either could reach a sibling. */
static int child_prlimit_other(void)
{
	struct rlimit rl;
	return syscall(SYS_prlimit64, test_pid, RLIMIT_NOFILE, NULL, &rl) == 0 ? 10 : 11;
}

static int child_tgkill_other(void)
{
	return syscall(SYS_tgkill, test_pid, test_pid, 0) == 0 ? 10 : 11;
}

/* Its own limits and its own threads it may reach (getrlimit, raise). */
static int own_limits_and_threads(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) < 0)
		return 1;
	return syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0) == 0 ? 0 : 2;
}

static int no_processes(void)
{
	struct rlimit rl;
	return getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == 0 ? 0 : 1;
}

static void a_child_serves(void)
{
	CHECK(exited_zero(run_child(serve_one)));
	CHECK(exited_zero(run_child(no_processes)));
	CHECK(exited_zero(run_confined(no_processes, 1, SANDBOX_MAIL_READER)));
}

static void a_child_is_killed_for_anything_else(void)
{
	CHECK(killed_by_sigsys(run_child(child_socket)));
	CHECK(killed_by_sigsys(run_child(child_connect)));
	CHECK(killed_by_sigsys(run_child(child_fork)));
	CHECK(killed_by_sigsys(run_child(child_kill)));
	CHECK(killed_by_sigsys(run_child(child_rename)));
	CHECK(killed_by_sigsys(run_child(child_prlimit_other)));
	CHECK(killed_by_sigsys(run_child(child_tgkill_other)));
	CHECK(exited_zero(run_child(own_limits_and_threads)));
	CHECK(killed_by_sigsys(run_child(net_exec)));
	CHECK(killed_by_sigsys(run_child(net_setuid)));
}

/* ---- sealmaild's main process (SANDBOX_WRITER) ---- */

static void *thread_work(void *arg)
{
	*(int *)arg = 42;
	return NULL;
}

/* What the main process does: threads, a Maildir made and a file linked
 * into it, a connection attempt (to a witness), a look at its children. */
static int write_mail(void)
{
	pthread_t t;
	int v = 0, fd;
	char dir[128], tmp[160], new[160];
	if (pthread_create(&t, NULL, thread_work, &v) != 0 || pthread_join(t, NULL) != 0 || v != 42)
		return 1;
	snprintf(dir, sizeof(dir), "%s/maildir", inside);
	snprintf(tmp, sizeof(tmp), "%s/tmp-mail", inside);
	snprintf(new, sizeof(new), "%s/maildir/mail", inside);
	if (mkdir(dir, 0700) < 0 || (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    fsync(fd) < 0 || close(fd) < 0 || link(tmp, new) < 0 || unlink(tmp) < 0 ||
	    unlink(new) < 0 || unlinkat(AT_FDCWD, dir, AT_REMOVEDIR) < 0)
		return 2;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 3;
	(void)!connect(s, (struct sockaddr *)&a, sizeof(a)); /* refused or unreachable: it returns */
	close(s);
	if (kill(getppid(), 0) < 0 || waitpid(-1, NULL, WNOHANG) != -1)
		return 4;
	return 0;
}

static int run_writer(int (*fn)(void))
{
	return run_confined(fn, 1, SANDBOX_WRITER);
}

static void the_main_process_writes_mail_with_threads(void)
{
	CHECK(exited_zero(run_writer(write_mail)));
	CHECK(killed_by_sigsys(run_writer(net_exec)));
	CHECK(killed_by_sigsys(run_writer(net_setuid)));
	CHECK(killed_by_sigsys(run_writer(child_prlimit_other)));
	CHECK(killed_by_sigsys(run_writer(child_tgkill_other)));
	CHECK(exited_zero(run_writer(own_limits_and_threads)));
	/* glibc's fork is a clone without CLONE_THREAD; the sanitizers'
	 * build lets every clone through for LeakSanitizer's tracer */
	if (!SANDBOX_SANITIZED_PTRACE)
		CHECK(killed_by_sigsys(run_writer(child_fork)));
}

/* ---- sealmaild's supervisor (SANDBOX_SUPERVISOR) ---- */

/* What the supervisor does: its signals on a signalfd, a channel, a child
 * forked that names itself, narrows its writes, adds its own allow-list
 * and serves, reaped; another stopped with SIGTERM and reaped. */
static int supervise(void)
{
	const char *dirs[] = {inside};
	int pair[2], status;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || signalfd(-1, &set, SFD_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		struct sandbox_report rep;
		if (prctl(PR_SET_NAME, "sm-test-child") < 0 || sandbox_narrow_writes(dirs, 1) < 0 ||
		    sandbox_allow(SANDBOX_SERVER, 0, &rep) < 0)
			_exit(20);
		_exit(serve_one());
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !exited_zero(status))
		return 2;
	if ((pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	if (pid < 0 || kill(pid, SIGTERM) < 0 || waitpid(pid, &status, 0) != pid)
		return 3;
	return 0;
}

static int start_thread(void)
{
	pthread_t t;
	int v = 0;
	return pthread_create(&t, NULL, thread_work, &v) == 0 && pthread_join(t, NULL) == 0 ? 10 : 11;
}

/* A thread made with the raw clone call rather than glibc's clone3. It
 * runs on the caller's stack, so without the filter it would crash, and
 * the test fail all the same. */
static int raw_thread(void)
{
	long r = syscall(SYS_clone, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD, NULL,
			 NULL, NULL, 0);
	return r < 0 ? 11 : 10;
}

static int run_supervisor(int (*fn)(void))
{
	return run_confined(fn, 1, SANDBOX_SUPERVISOR);
}

static void the_supervisor_starts_children_and_nothing_else(void)
{
	CHECK(exited_zero(run_supervisor(supervise)));
	CHECK(killed_by_sigsys(run_supervisor(child_socket)));
	CHECK(killed_by_sigsys(run_supervisor(child_connect)));
	CHECK(killed_by_sigsys(run_supervisor(start_thread)));
	CHECK(killed_by_sigsys(run_supervisor(raw_thread)));
	CHECK(killed_by_sigsys(run_supervisor(child_prlimit_other)));
	CHECK(exited_zero(run_supervisor(own_limits_and_threads)));
	CHECK(killed_by_sigsys(run_supervisor(net_exec)));
	CHECK(killed_by_sigsys(run_supervisor(net_setuid)));
}

int main(void)
{
	snprintf(inside, sizeof(inside), "/tmp/sm-sandbox-in.XXXXXX");
	snprintf(outside, sizeof(outside), "/tmp/sm-sandbox-out.XXXXXX");
	if (mkdtemp(inside) == NULL || mkdtemp(outside) == NULL)
		return 1;
	char kept[128];
	snprintf(kept, sizeof(kept), "%s/kept", outside);
	int fd = open(kept, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || close(fd) < 0)
		return 1;
	if (sodium_init() < 0)
		return 1;
	test_pid = getpid();
	RUN(what_the_key_holder_does_still_works);
	RUN(opening_a_file_kills_it);
	RUN(making_a_socket_kills_it);
	RUN(forking_kills_it);
	RUN(executing_kills_it);
	RUN(signalling_another_process_kills_it);
	RUN(asking_its_identity_kills_it);
	RUN(the_kernel_reports_the_confinement);
	RUN(network_changes_inside_work);
	RUN(network_reads_and_devices_work);
	RUN(network_changes_outside_fail);
	RUN(network_forbidden_calls_kill);
	RUN(a_worker_narrows_its_writes);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 1;
	RUN(a_child_serves);
	RUN(a_child_is_killed_for_anything_else);
	RUN(a_mail_reader_moves_and_removes_mail);
	RUN(the_main_process_writes_mail_with_threads);
	RUN(the_supervisor_starts_children_and_nothing_else);
	unlink(kept);
	rmdir(outside);
	rmdir(inside);
	return check_done();
}
