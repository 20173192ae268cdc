/* supervisor.h: the process that starts and restarts every process that
 * talks to the network (workers.h), and the main process's side of it.
 *
 * The main process forks the supervisor once, before it starts any
 * thread; the supervisor then forks the HTTPS workers, the MX process and
 * the Web Key Service's process, and another whenever one ends. So no
 * process is ever forked from one with threads (the main process's
 * delivery and epoch threads may hold a lock of the allocator, stdio,
 * SQLite or OpenSSL at any moment, and a child forked then would wait on
 * it forever), and the main process holds neither the listening sockets,
 * the TLS key nor the Web Key Service's keys: it talks to no client.
 *
 * For each process with mail to deliver (the MX and the Web Key Service's)
 * the supervisor makes the channel to the Maildir writer and passes the
 * writer's end to the main process over their own channel, one
 * length-checked message (which process, its pid) with the descriptor
 * attached; a malformed one is fatal to the main process, and anything
 * the main process sends is fatal to the supervisor. A process that ends
 * within a second of its start is restarted a second later, so one that
 * cannot start does not make the supervisor spin. Before its first fork
 * the supervisor adds its own seccomp allow-list (sandbox.h,
 * SANDBOX_SUPERVISOR), which every process it starts inherits and narrows.
 *
 * The supervisor ends with the main process (SIGTERM, or its channel
 * closing) after stopping every process it started; they end with it too.
 * When the supervisor or the key holder ends otherwise, the main process
 * stops the daemon (exit 70): it cannot go on without them, and a service
 * manager starts it again. */
#ifndef SEALMAILD_SUPERVISOR_H
#define SEALMAILD_SUPERVISOR_H

struct daemon;

/* Forks the supervisor, which starts nworkers HTTPS workers on https_fd,
 * the MX on smtp_fd and, if a domain runs it, the Web Key Service. The
 * main process then closes both sockets, its key holder channels but its
 * own two, and forgets the TLS context and the submission keys. Call
 * before any thread exists. -1 after logging why. */
int supervisor_start(struct daemon *d, int https_fd, int smtp_fd, unsigned nworkers);

/* In the main process, once d->base exists: serves the channels the
 * supervisor passes, and watches the main process's children (the key
 * holder and the supervisor). */
int supervisor_watch(struct daemon *d);

/* Stops the supervisor (and so every network process) and waits for it;
 * the writer's channels close (freed once the delivery threads answer
 * what they still wait for). */
void supervisor_stop(struct daemon *d);

#endif
