/* sandbox.h: confining sealmail's network processes on Linux.
 *
 * sandbox_keyholder() is the key holder's confinement, applied once its
 * keys are loaded and before it reads its first request: from then on it
 * can only receive and send on the sockets it already holds, write its
 * log, manage its own memory, and exit.
 *
 * sandbox_network() confines the processes that talk to the network
 * (sealmaild's main process, whose supervisor and the processes it forks
 * inherit it; `sealmail witness serve`), applied once they run as the
 * configured user and before they serve: they may change files only
 * beneath the directories they are given (the state directory, the
 * Maildir roots), and never execute a program, trace another process, or
 * change the kernel, mounts, namespaces, clock or their identity. This is a
 * deny-list, for the set-up: the libraries they run (libevent, OpenSSL,
 * SQLite, librnp, GMime, libcurl) need much to start. Once set up, each of
 * sealmaild's processes adds an allow-list on top (sandbox_allow()).
 *
 * tests/unit/test_sandbox.c proves the same functions the programs run. */
#ifndef SEALMAIL_DAEMON_SANDBOX_H
#define SEALMAIL_DAEMON_SANDBOX_H

#include <stddef.h>

#include "err.h"

/* In the AddressSanitizer test build, LeakSanitizer stops the world with
 * ptrace when a process exits: there the network processes may trace. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZED_PTRACE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZED_PTRACE 1
#endif
#endif
#ifndef SANDBOX_SANITIZED_PTRACE
#define SANDBOX_SANITIZED_PTRACE 0
#endif

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
int sandbox_keyholder(unsigned max_fds, struct sandbox_report *ret) SM_WUR;

/* No new privileges, no core files (they would hold the TLS key and
 * mail), every capability dropped (a daemon left as root keeps root's
 * files, not root's powers), changes to the filesystem only beneath write_dirs (Landlock,
 * where the kernel has it) and a seccomp filter that kills the process on
 * the system calls listed in sandbox.c. -1 with errno set on failure; the
 * caller must then exit. */
int sandbox_network(const char *const *write_dirs, size_t n, struct sandbox_report *ret) SM_WUR;

/* In a process already confined by sandbox_network, once it is set up
 * and before it serves its first peer or mail: a second seccomp filter,
 * an allow-list (sandbox.c: its event loop and sockets, its store, memory,
 * time, randomness, signals, exit) that kills the process on any other
 * system call. For sealmaild's HTTPS workers and MX process
 * (SANDBOX_SERVER: no new process, program, socket or connection), its
 * Web Key Service (SANDBOX_MAIL_READER), its main process
 * (SANDBOX_WRITER) and its supervisor (SANDBOX_SUPERVISOR). The first two
 * also get a process limit of zero (RLIMIT_NPROC). log_only makes the
 * filter log what it would kill for instead (the kernel's log): the test
 * build's way to learn what the libraries need, never a real daemon's.
 * -1 with errno set on failure; the caller must then exit. */
enum sandbox_allow_kind {
	SANDBOX_SERVER,      /* HTTPS workers, the MX: the list above */
	SANDBOX_MAIL_READER, /* the Web Key Service: also walking, moving and
			      * removing the files of its Maildir */
	SANDBOX_WRITER,      /* sealmaild's main process: also its threads, its
			      * children's ends, making Maildirs and moving
			      * files into them, and connections to the
			      * witnesses (libcurl, the resolver); no program,
			      * and no process but threads */
	SANDBOX_SUPERVISOR,  /* sealmaild's supervisor: its children inherit
			      * its filter, so the MAIL_READER list, what they
			      * do before they confine themselves (their event
			      * loop, Landlock, seccomp), and its own forks,
			      * reaping, signals and channels; no program, no
			      * thread, no connection */
};
int sandbox_allow(enum sandbox_allow_kind kind, int log_only, struct sandbox_report *ret) SM_WUR;

/* In a process already confined by sandbox_network, one more Landlock
 * layer: changes only beneath write_dirs, which must be among the first
 * ones (layers only ever narrow). 0 without doing anything where the
 * kernel has no Landlock; -1 with errno set on failure. */
int sandbox_narrow_writes(const char *const *write_dirs, size_t n) SM_WUR;

#endif
