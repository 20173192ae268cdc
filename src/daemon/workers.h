/* workers.h: what each process that talks to the network does, once the
 * supervisor (supervisor.h) has forked it:
 *   - an HTTPS worker, one per core (one event loop serves about 35,000
 *     key lookups a second on one core), holds the listening HTTPS
 *     socket, the TLS context, its own store connection and its own
 *     channel to the key holder, and nothing of the SMTP side;
 *   - the MX process holds the listening SMTP socket, the TLS context, its
 *     own store connection (to know the users) and its channel to the
 *     Maildir writer (delivery_link.h), and no channel to the key holder;
 *   - the Web Key Service's process (wks_service.h), when a domain runs
 *     it, holds no listening socket, the submission keys and its own
 *     channel to the Maildir writer.
 * Each inherits the supervisor's sandbox and narrows it: the workers and
 * the MX to writing in the state directory only (their store), the Web Key
 * Service to that and its submission Maildirs; never a user's Maildir.
 *
 * The supervisor has already closed what the process must not hold (the
 * other listening socket, its own channels) and made it end with the
 * supervisor. None of these returns. */
#ifndef SEALMAILD_WORKERS_H
#define SEALMAILD_WORKERS_H

struct daemon;

/* HTTPS worker number slot, serving https_fd. */
void worker_https(struct daemon *d, unsigned slot, int https_fd) __attribute__((noreturn));
/* The MX, serving smtp_fd; link_fd is its channel to the Maildir writer. */
void worker_mx(struct daemon *d, int smtp_fd, int link_fd) __attribute__((noreturn));
/* The Web Key Service; link_fd is its channel to the Maildir writer. */
void worker_wks(struct daemon *d, int link_fd) __attribute__((noreturn));

#endif
