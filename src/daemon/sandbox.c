/* sandbox.c: confining sealmaild's processes on Linux (sandbox.h). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/landlock.h>
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

/* A ruleset that handles every filesystem right and grants none. */
static int landlock_deny_all(int abi)
{
	struct landlock_ruleset_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = landlock_fs_rights(abi);
	int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (fd < 0)
		return -1;
	int r = (int)syscall(SYS_landlock_restrict_self, fd, 0);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
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

static int seccomp_allow_only(const int *calls, size_t n)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r = ctx == NULL ? -ENOMEM : 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
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
	if (seccomp_allow_only(keyholder_syscalls,
			       sizeof(keyholder_syscalls) / sizeof(keyholder_syscalls[0])) < 0)
		return -1;
	*ret = rep;
	return 0;
}
