/* daemon.h: what sealmaild's parts share: the configuration, the store,
 * the TLS context and the event loop, plus logging.
 *
 * Processes (each with one libevent loop):
 *   - the main process binds the ports, starts the key holder and the
 *     supervisor (supervisor.h), and talks to no client: it is the one
 *     Maildir writer (delivery.c, threads answering the MX and the Web
 *     Key Service through delivery_link.c), and runs the transparency
 *     epochs (epoch.c, a thread);
 *   - the supervisor starts and restarts the processes that talk to the
 *     network (workers.h): HTTPS workers serve the key directory
 *     (https.c), the MX process the SMTP sessions (smtp.c), and the Web
 *     Key Service's process the mail sent to it (wks_service.c);
 *   - the key holder holds the domains' secret keys (keyholder.h); the
 *     others ask it for signatures and VRF proofs. */
#ifndef SEALMAIL_DAEMON_H
#define SEALMAIL_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "conf.h"
#include "pgp.h"
#include "sandbox.h"
#include "smtp_session.h"
#include "store.h"

struct https;
struct smtp;
struct wkd_address;
struct delivery_pool;
struct delivery_link;
struct supervisor;
struct kt;
struct peer_limits;
struct keyholder;
struct kh_channel;

struct daemon {
	struct conf *conf;         /* owned */
	store *store;              /* owned */
	pgp_ctx *pgp;              /* owned; checks published certificates */
	SSL_CTX *tls;              /* owned */
	struct event_base *base;   /* owned */
	char hostname[256];
	struct buf policy;         /* the WKD policy file served for every domain */
	struct buf key;            /* the key being served; valid until the next lookup */
	struct https *https;
	struct smtp *smtp;
	struct delivery_pool *delivery; /* main process: the Maildir writer's threads (delivery.h) */
	struct delivery_link *delivery_link; /* MX process: its channel to the Maildir writer */
	struct supervisor *supervisor;  /* main process: the network processes' supervisor */
	struct kt *kt;                  /* key transparency (transparency.h) */
	struct peer_limits *peers;      /* the HTTPS workers' shared limits per address (peer_limits.h) */
	struct keyholder *keyholder;    /* the key holder process and its channels */
	struct wks *wks;                /* the Web Key Service (wks.h); NULL: no domain runs it */
	struct kh_channel *kh;          /* this process's event loop's channel to it */
	int fatal;                      /* the loop stopped because a part of the daemon failed */
};

/* Logs one line to the daemon's log (stderr, or its copy once librnp's
 * stderr is silenced): "sealmaild: <message>". */
void daemon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2), nonnull(1)));
/* How a child ended, from waitpid's status, into buf: "by signal 9",
 * "with exit status 70". Returns buf. */
const char *daemon_exit_text(int status, char *buf, size_t size);
/* The descriptor daemon_log writes to (a process that closes descriptors
 * must keep it). */
int daemon_log_fd(void);

/* 1 only in the test build (sealmaild-dishonest) run with
 * SEALMAIL_TEST_UNCONFINED set: no sandbox at all, for valgrind
 * (scripts/valgrind), whose own system calls no filter lists. Always 0 in
 * sealmaild itself. */
int daemon_unconfined(void);
/* This process's seccomp allow-list of kind (sandbox.h), once it is set
 * up; nothing when daemon_unconfined(). In the test build run with
 * SEALMAIL_TEST_SECCOMP_LOG set, the list logs what it would kill for (the
 * kernel's log) instead, to learn what the libraries need; never in
 * sealmaild. -1 after logging why it failed (who: "supervisor"); the
 * caller must then exit. */
int daemon_allow(enum sandbox_allow_kind kind, const char *who);

/* Every event loop of the daemon: epoll with edge-triggered events, blind
 * to libevent's environment variables; NULL after logging why not. */
struct event_base *daemon_event_base(void);

/* SSL_CTX for our servers: TLS 1.2 and later, the configured certificate
 * chain and key. NULL after logging why. */
SSL_CTX *tls_server_ctx(const char *cert_file, const char *key_file);

/* Binds "*" / an address and port as the conf says; returns a listening,
 * non-blocking socket or -1 after logging why. */
int daemon_listen(const struct conf_listen *l, const char *what);

/* The store connection of an event loop (the main process's, a worker's):
 * it waits at most LOOP_STORE_BUSY_MS for a lock another process holds
 * (an epoch being committed), since every session of the loop waits with
 * it; then the request fails with "try again later". -1 after logging. */
#define LOOP_STORE_BUSY_MS 1000
int daemon_store_open(struct daemon *d);

/* Started as the machine's root without 'user': logs why it must not
 * serve and returns -1 (the root of a user namespace may: it is no root
 * outside). Else 0. */
int privileges_check(const struct daemon *d);
/* Started as root with `user` configured: gives the state the daemon
 * writes to that user and becomes it (privileges.c). Otherwise logs what
 * it runs as. -1 after logging why. */
int privileges_drop(struct daemon *d);

/* Serve on an already listening socket (daemon_listen), from d->base made
 * by daemon_event_base(), as worker slot of d->peers. */
int https_start(struct daemon *d, int fd, unsigned slot);
void https_stop(struct daemon *d);
int smtp_start(struct daemon *d, int fd);
/* The Maildir writer's answer to delivery id (delivery_link.h): the session
 * that asked may now reply to its client. */
void smtp_delivered(struct daemon *d, uint32_t id, enum smtp_deliver_result result);
void smtp_stop(struct daemon *d);

#endif
