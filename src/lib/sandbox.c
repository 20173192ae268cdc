/* sandbox.c: confining sealmail's network processes on Linux (sandbox.h). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/sched.h> /* CLONE_THREAD */
#include <seccomp.h>

#include "sandbox.h"

/* Landlock filesystem rights by ABI version. Debian 12's kernel headers
 * stop at ABI 2, so the later bits are spelled out: TRUNCATE (ABI 3) and
 * IOCTL_DEV (ABI 5). */
#define LL_FS_ABI1 ((1ULL << 13) - 1)
#define LL_FS_REFER (1ULL << 13)
#define LL_FS_TRUNCATE (1ULL << 14)
#define LL_FS_IOCTL_DEV (1ULL << 15)

static int landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

static uint64_t landlock_fs_rights(int abi)
{
	uint64_t r = LL_FS_ABI1;
	if (abi >= 2)
		r |= LL_FS_REFER;
	if (abi >= 3)
		r |= LL_FS_TRUNCATE;
	if (abi >= 5)
		r |= LL_FS_IOCTL_DEV;
	return r;
}

/* A new ruleset handling the rights in handled; -1 with errno set. */
static int landlock_ruleset(uint64_t handled)
{
	struct landlock_ruleset_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled;
	return (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
}

/* Grants rights beneath path (a directory, or one file) in ruleset. */
static int landlock_allow(int ruleset, const char *path, int open_flags, uint64_t rights)
{
	struct landlock_path_beneath_attr pb = {
		.allowed_access = rights,
		.parent_fd = open(path, O_RDONLY | O_CLOEXEC | open_flags),
	};
	if (pb.parent_fd < 0)
		return -1;
	int r = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(pb.parent_fd);
	return r;
}

/* Enforces ruleset on this process if r (the rules' outcome) is 0, and
 * closes it; r, or -1 with errno set. */
static int landlock_enforce(int ruleset, int r)
{
	if (r == 0)
		r = (int)syscall(SYS_landlock_restrict_self, ruleset, 0);
	int saved = errno;
	close(ruleset);
	errno = saved;
	return r;
}

/* A ruleset that handles every filesystem right and grants none. */
static int landlock_deny_all(int abi)
{
	int fd = landlock_ruleset(landlock_fs_rights(abi));
	return fd < 0 ? -1 : landlock_enforce(fd, 0);
}

/* Empties the effective, permitted and inheritable sets (the ambient set
 * follows); *ret_dropped says whether there was anything to drop. */
static int caps_drop_all(int *ret_dropped)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &h, data) < 0)
		return -1;
	*ret_dropped = (data[0].permitted | data[1].permitted) != 0;
	memset(data, 0, sizeof(data));
	return (int)syscall(SYS_capset, &h, data);
}

/* No file size limit: the log may be a regular file, written through an
 * inherited descriptor (and the sandbox opens no file anyway). */
static int limits_set(unsigned max_fds)
{
	const struct {
		int resource;
		rlim_t value;
	} limits[] = {
		{RLIMIT_CORE, 0}, {RLIMIT_NPROC, 0}, {RLIMIT_NOFILE, max_fds},
	};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct rlimit rl = {limits[i].value, limits[i].value};
		if (setrlimit(limits[i].resource, &rl) < 0)
			return -1;
	}
	return 0;
}

/* The key holder's system calls: its sockets, its log, its memory
 * (libsodium's guarded allocations lock and protect pages), the clock and
 * randomness libsodium may ask for, and leaving (sigaltstack: the
 * sanitizers' runtime takes down its signal stack on the way out). */
static const int keyholder_syscalls[] = {
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(write),
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
	SCMP_SYS(madvise), SCMP_SYS(mlock), SCMP_SYS(munlock), SCMP_SYS(getrandom),
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack), SCMP_SYS(exit), SCMP_SYS(exit_group),
};

/* The calls sandbox_allow's lists permit only with some arguments (added
 * by seccomp_load_list). The daemon's processes share one user,
 * so a call aimed at another pid could reach a sibling: prlimit64 only on
 * the caller (pid 0), which could otherwise lower another's limits; tgkill
 * only to the caller's own threads (raise, abort), which could otherwise
 * stop another process although kill is refused. Except in the supervisor,
 * whose children inherit its filter with their own pids (their own list
 * narrows it). And clone: threads only (CLONE_THREAD set) for the main
 * process, which keeps glibc's fork out; processes only (unset) for the
 * supervisor, which starts no thread. */
static int allow_with_args(scmp_filter_ctx ctx, enum sandbox_allow_kind kind)
{
	const uint32_t allow = SCMP_ACT_ALLOW;
	int r = seccomp_rule_add(ctx, allow, SCMP_SYS(prlimit64), 1, SCMP_A0(SCMP_CMP_EQ, 0));
	if (r == 0 && kind == SANDBOX_SUPERVISOR)
		r = seccomp_rule_add(ctx, allow, SCMP_SYS(tgkill), 0);
	else if (r == 0)
		r = seccomp_rule_add(ctx, allow, SCMP_SYS(tgkill), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	if (r == 0 && kind == SANDBOX_WRITER && !SANDBOX_SANITIZED_PTRACE)
		r = seccomp_rule_add(ctx, allow, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
	if (r == 0 && kind == SANDBOX_SUPERVISOR)
		r = seccomp_rule_add(ctx, allow, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	return r;
}

/* Loads a filter: default_action for every call, listed_action for the n
 * calls; kind, if not NULL, adds allow_with_args's rules. -1 with errno
 * set on failure. */
static int seccomp_load_list(uint32_t default_action, uint32_t listed_action, const int *calls,
			     size_t n, const enum sandbox_allow_kind *kind)
{
	scmp_filter_ctx ctx = seccomp_init(default_action);
	int r = ctx == NULL ? -ENOMEM : 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = seccomp_rule_add(ctx, listed_action, calls[i], 0);
	if (r == 0 && kind != NULL)
		r = allow_with_args(ctx, *kind);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* What a process talking to the network may change on disk: files and
 * directories beneath the ones it is given, nothing else; and it may
 * execute nothing. Reading is not restricted here: the key files are
 * closed to it by their owner and mode. */
static uint64_t landlock_write_rights(int abi)
{
	const uint64_t read = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	return landlock_fs_rights(abi) & ~read;
}

/* Devices the libraries open for writing: Botan (librnp's) opens the
 * random device read-write, librnp sends its diagnostics to the null one. */
static const char *const writable_devices[] = {"/dev/null", "/dev/urandom"};

static int landlock_write_only_beneath(int abi, const char *const *dirs, size_t n)
{
	uint64_t rights = landlock_write_rights(abi);
	uint64_t device = LANDLOCK_ACCESS_FS_WRITE_FILE | (abi >= 5 ? LL_FS_IOCTL_DEV : 0);
	int fd = landlock_ruleset(rights);
	if (fd < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = landlock_allow(fd, dirs[i], O_DIRECTORY, rights & ~(uint64_t)LANDLOCK_ACCESS_FS_EXECUTE);
	for (size_t i = 0; r == 0 && i < sizeof(writable_devices) / sizeof(writable_devices[0]); i++)
		if ((r = landlock_allow(fd, writable_devices[i], 0, device)) < 0 && errno == ENOENT)
			r = 0; /* a device this system lacks needs no rule */
	return landlock_enforce(fd, r);
}

/* What no process that talks to the network ever does: run a program,
 * look into or change another process, the kernel, the mounts, the
 * namespaces, the clock or its own identity. */
static const int network_forbidden[] = {
	SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(process_vm_readv),
#if !SANDBOX_SANITIZED_PTRACE
	SCMP_SYS(ptrace),
#endif
	SCMP_SYS(process_vm_writev), SCMP_SYS(kcmp), SCMP_SYS(mount), SCMP_SYS(umount2),
	SCMP_SYS(pivot_root), SCMP_SYS(chroot), SCMP_SYS(setns), SCMP_SYS(unshare),
	SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(kexec_load),
	SCMP_SYS(kexec_file_load), SCMP_SYS(reboot), SCMP_SYS(swapon), SCMP_SYS(swapoff), SCMP_SYS(bpf),
	SCMP_SYS(perf_event_open), SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key),
	SCMP_SYS(userfaultfd), SCMP_SYS(acct), SCMP_SYS(settimeofday), SCMP_SYS(clock_settime),
	SCMP_SYS(adjtimex), SCMP_SYS(clock_adjtime), SCMP_SYS(iopl), SCMP_SYS(ioperm),
	SCMP_SYS(quotactl), SCMP_SYS(syslog), SCMP_SYS(vhangup), SCMP_SYS(open_by_handle_at),
	SCMP_SYS(name_to_handle_at), SCMP_SYS(fanotify_init), SCMP_SYS(personality),
	SCMP_SYS(setuid), SCMP_SYS(setgid), SCMP_SYS(setreuid), SCMP_SYS(setregid),
	SCMP_SYS(setresuid), SCMP_SYS(setresgid), SCMP_SYS(setgroups), SCMP_SYS(setfsuid),
	SCMP_SYS(setfsgid), SCMP_SYS(capset), SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter),
	SCMP_SYS(io_uring_register),
};

/* What a network child does once it serves, whichever it is: its event
 * loop and sockets (libevent, OpenSSL), the store (SQLite: reading, and the
 * shared-memory index and locks of its write-ahead log), its memory
 * (malloc, libsodium's guarded pages), time, randomness, threads' futexes
 * (libraries take locks), signals, its log, and leaving. No process,
 * program, file metadata change outside the store, or new socket. */
static const int child_syscalls[] = {
	/* the loop and the sockets it was given or accepts */
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_ctl), SCMP_SYS(accept),
	SCMP_SYS(accept4), SCMP_SYS(read), SCMP_SYS(readv), SCMP_SYS(write), SCMP_SYS(writev),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(shutdown), SCMP_SYS(close), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(setsockopt), SCMP_SYS(getsockopt), SCMP_SYS(fcntl), SCMP_SYS(ioctl),
	SCMP_SYS(poll), SCMP_SYS(ppoll),
	/* the store's files (and the bundles the HTTPS workers map) */
	SCMP_SYS(openat), SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek),
	SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(statx),
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(ftruncate), SCMP_SYS(fchown), SCMP_SYS(fchmod), SCMP_SYS(getcwd),
	SCMP_SYS(readlink), SCMP_SYS(unlink),
	/* memory */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
	SCMP_SYS(madvise), SCMP_SYS(mlock), SCMP_SYS(munlock),
	/* time, randomness, identity, locks */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep),
	SCMP_SYS(clock_nanosleep), SCMP_SYS(getrandom), SCMP_SYS(getpid), SCMP_SYS(gettid),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(uname),
	/* signals and leaving (restart_syscall: a call a signal interrupted,
	 * resumed; sigaltstack: the sanitizers' runtime) */
	SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall), SCMP_SYS(rt_sigaction),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(sigaltstack), SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* and prlimit64, tgkill: see allow_with_args */
};

/* What the Web Key Service's process does besides: it walks its Maildir,
 * moves a mail to cur/ while it handles it and removes it after. */
static const int mail_reader_syscalls[] = {
	SCMP_SYS(getdents64), SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	SCMP_SYS(unlinkat),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Appends the n calls of list to calls (which has room). */
static size_t add_calls(int *calls, size_t at, const int *list, size_t n)
{
	memcpy(calls + at, list, n * sizeof(*list));
	return at + n;
}

/* What sealmaild's main process does besides (it also reads and moves
 * Maildir files, as above): the delivery and epoch threads and libcurl's
 * resolver threads (glibc makes them with clone3), its children's ends
 * (stopping a misbehaving sender, reaping the supervisor), making the
 * Maildirs and linking files into them, and connecting to the witnesses
 * (sockets, the resolver's netlink and UDP queries, libcurl's wake-up
 * pipes). Still no program, and no process but threads: clone only with
 * CLONE_THREAD (glibc's fork is a clone without it), no fork or vfork.
 * clone3, which glibc's pthread_create uses, passes its flags in memory
 * seccomp cannot read; a copy made with it would still run no program. */
static const int writer_syscalls[] = {
	SCMP_SYS(clone3), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(kill), SCMP_SYS(wait4), SCMP_SYS(waitid),
	SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(link), SCMP_SYS(linkat), SCMP_SYS(fstatfs),
	SCMP_SYS(statfs), SCMP_SYS(fallocate), SCMP_SYS(readlinkat), SCMP_SYS(chmod),
	SCMP_SYS(fchmodat),
	SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(socketpair),
	SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(select), SCMP_SYS(pselect6),
	SCMP_SYS(epoll_create1), SCMP_SYS(eventfd2), SCMP_SYS(pipe2), SCMP_SYS(dup), SCMP_SYS(dup3),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(getrusage), SCMP_SYS(sysinfo), SCMP_SYS(getppid),
};

/* What sealmaild's supervisor does besides the Web Key Service's list,
 * which its children inherit (filters stack: each child's own allow-list,
 * loaded later, can only narrow this one): forking them (clone without
 * CLONE_THREAD, in allow_with_args; it starts no thread), reaping them and
 * signalling them, its signalfd and channels; and what a child does
 * between its fork and its own allow-list: naming itself and asking for
 * its parent's death signal (prctl), its event loop (epoll, libevent's
 * signal socketpair and wake-up eventfd; libevent's listener calls listen
 * again on the socket it is given), opening its store (which makes the
 * store's directory if need be), its Landlock layer and its seccomp
 * filter (libseccomp probes with seccomp and prctl). No program, no new
 * socket (accept aside), no connection. */
static const int supervisor_syscalls[] = {
	SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(wait4),
	SCMP_SYS(waitid), SCMP_SYS(kill), SCMP_SYS(getppid), SCMP_SYS(signalfd4),
	SCMP_SYS(socketpair), SCMP_SYS(prctl), SCMP_SYS(epoll_create1), SCMP_SYS(eventfd2),
	SCMP_SYS(pipe2), SCMP_SYS(dup), SCMP_SYS(dup3), SCMP_SYS(mkdir), SCMP_SYS(mkdirat),
	SCMP_SYS(listen), SCMP_SYS(landlock_create_ruleset),
	SCMP_SYS(landlock_add_rule), SCMP_SYS(landlock_restrict_self), SCMP_SYS(seccomp),
};

/* In the AddressSanitizer build, LeakSanitizer's check when the main
 * process exits: a tracer task (a clone that is no thread) that stops the
 * others with ptrace, after it lists them (the runtime reads /proc/self/task
 * with the old open and getdents calls). */
static const int sanitizer_exit_syscalls[] = {
	SCMP_SYS(clone), SCMP_SYS(ptrace), SCMP_SYS(prctl), SCMP_SYS(open),
	SCMP_SYS(getdents),
};

int sandbox_allow(enum sandbox_allow_kind kind, int log_only, struct sandbox_report *ret)
{
	struct sandbox_report rep = {landlock_abi(), 0};
	int calls[COUNT(child_syscalls) + COUNT(mail_reader_syscalls) + COUNT(writer_syscalls) +
		  COUNT(supervisor_syscalls) + COUNT(sanitizer_exit_syscalls)];
	size_t n = add_calls(calls, 0, child_syscalls, COUNT(child_syscalls));
	if (kind != SANDBOX_SERVER)
		n = add_calls(calls, n, mail_reader_syscalls, COUNT(mail_reader_syscalls));
	if (kind == SANDBOX_SUPERVISOR)
		n = add_calls(calls, n, supervisor_syscalls, COUNT(supervisor_syscalls));
	if (kind == SANDBOX_WRITER) {
		n = add_calls(calls, n, writer_syscalls, COUNT(writer_syscalls));
		if (SANDBOX_SANITIZED_PTRACE)
			n = add_calls(calls, n, sanitizer_exit_syscalls, COUNT(sanitizer_exit_syscalls));
	}
	/* the network children start no process: should the filter ever let
	 * a fork or thread through, the kernel would refuse it */
	struct rlimit no_procs = {0, 0};
	if ((kind == SANDBOX_SERVER || kind == SANDBOX_MAIL_READER) &&
	    setrlimit(RLIMIT_NPROC, &no_procs) < 0)
		return -1;
	if (seccomp_load_list(log_only ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS, SCMP_ACT_ALLOW, calls, n,
			      &kind) < 0)
		return -1;
	*ret = rep;
	return 0;
}

int sandbox_network(const char *const *write_dirs, size_t n, struct sandbox_report *ret)
{
	struct sandbox_report rep = {landlock_abi(), 0};
	struct rlimit no_core = {0, 0};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &no_core) < 0 ||
	    caps_drop_all(&rep.caps_dropped) < 0)
		return -1;
	if (rep.landlock_abi > 0 && landlock_write_only_beneath(rep.landlock_abi, write_dirs, n) < 0)
		return -1;
	if (seccomp_load_list(SCMP_ACT_ALLOW, SCMP_ACT_KILL_PROCESS, network_forbidden,
			      COUNT(network_forbidden), NULL) < 0)
		return -1;
	*ret = rep;
	return 0;
}

int sandbox_narrow_writes(const char *const *write_dirs, size_t n)
{
	int abi = landlock_abi();
	return abi > 0 ? landlock_write_only_beneath(abi, write_dirs, n) : 0;
}

int sandbox_keyholder(unsigned max_fds, struct sandbox_report *ret)
{
	struct sandbox_report rep = {landlock_abi(), 0};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -1;
	if (caps_drop_all(&rep.caps_dropped) < 0 || limits_set(max_fds) < 0)
		return -1;
	if (rep.landlock_abi > 0 && landlock_deny_all(rep.landlock_abi) < 0)
		return -1;
	if (seccomp_load_list(SCMP_ACT_KILL_PROCESS, SCMP_ACT_ALLOW, keyholder_syscalls,
			      COUNT(keyholder_syscalls), NULL) < 0)
		return -1;
	*ret = rep;
	return 0;
}
