/* sandbox.h: confining sealmaild's processes on Linux (issue 5).
 *
 * sandbox_keyholder() is the key holder's confinement, applied once its
 * keys are loaded and before it reads its first request: from then on it
 * can only receive and send on the sockets it already holds, write its
 * log, manage its own memory, and exit. Each step is one call here so
 * that tests/unit/test_sandbox.c proves the same code the daemon runs. */
#ifndef SEALMAIL_DAEMON_SANDBOX_H
#define SEALMAIL_DAEMON_SANDBOX_H

/* What the kernel offers, probed at run time. */
struct sandbox_report {
	int landlock_abi;   /* 0 when Landlock is not available */
	int caps_dropped;   /* 1 if we held capabilities and dropped them */
};

/* In order: no new privileges, not dumpable (no core file, no ptrace by
 * the same user), every capability dropped, resource limits (no core,
 * no new processes, at most max_fds descriptors), no
 * filesystem access at all through Landlock where the kernel has it, and
 * a seccomp allow-list that kills the process on any other system call.
 * -1 with errno set if a step the kernel supports failed; the caller must
 * then exit, never run unconfined. */
int sandbox_keyholder(unsigned max_fds, struct sandbox_report *ret);

#endif
