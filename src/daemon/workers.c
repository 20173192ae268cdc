/* workers.c: the processes that talk to the network, forked by the main
 * process (which talks to none) and restarted by it when they die:
 *   - HTTPS workers, one per core (one event loop serves about 35,000 key
 *     lookups a second on one core), each holding the listening HTTPS
 *     socket, the TLS context, its own store connection and its own
 *     channel to the key holder, and nothing of the SMTP side;
 *   - the MX process: the SMTP sessions, holding the listening SMTP
 *     socket, the TLS context, its own store connection (to know the
 *     users) and its channel to the Maildir writer (delivery_link.h), and no
 *     channel to the key holder;
 *   - the Web Key Service's process (wks_service.h), when a domain runs
 *     it: no listening socket, the submission keys, its own channel to the
 *     Maildir writer.
 * Each inherits the main process's sandbox and narrows it: the workers
 * and the MX to writing in the state directory only (their store), the
 * Web Key Service to that and its submission Maildirs; never a user's
 * Maildir. The parent watches the key holder here too. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "wks_service.h"
#include "keyholder.h"
#include "delivery_link.h"
#include "sandbox.h"

#define WORKERS_MAX 64

enum { SENDER_MX, SENDER_WKS, SENDERS };

/* A child with mail for the Maildir writer, over its own channel. */
struct sender {
	const char *what;             /* for the log: "MX process" */
	const char *tag;              /* the log lines' prefix: "smtp" */
	void (*main)(struct daemon *d, int link_fd, pid_t parent); /* never returns */
	pid_t pid;                    /* 0 while there is none */
	int fd;                       /* the parent's end until its loop serves it, or -1 */
	struct delivery_link *link;   /* the parent's end, served */
};

struct workers {
	pid_t pids[WORKERS_MAX];
	unsigned n;
	int https_fd;
	int smtp_fd;
	/* the MX process, and the Web Key Service's (if a domain runs it) */
	struct sender senders[SENDERS];
	int stopping;
	struct event *sigchld;
};

static void on_worker_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;
	(void)sig;
	(void)what;
	event_base_loopexit(base, NULL);
}

/* What every child does first: it ends with the parent (it must not
 * outlive it holding a port), leaves stopping to the parent, and forgets
 * the parent's parts and every descriptor it must not hold (keep_fd: the
 * listening socket it serves; kh_keep: its channel to the key holder, or
 * KH_CHANNEL_NONE). */
static void child_init(struct daemon *d, pid_t parent, int keep_fd, unsigned kh_keep)
{
	struct workers *w = d->workers;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(0);
	int parents[2 + 2 * SENDERS] = {w->https_fd, w->smtp_fd};
	for (size_t i = 0; i < SENDERS; i++) {
		parents[2 + 2 * i] = w->senders[i].fd;
		parents[3 + 2 * i] = delivery_link_fd(w->senders[i].link);
	}
	for (size_t i = 0; i < sizeof(parents) / sizeof(parents[0]); i++)
		if (parents[i] >= 0 && parents[i] != keep_fd)
			close(parents[i]);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	d->smtp = NULL;
	d->delivery = NULL;
	d->workers = NULL;
	free(w);
	keyholder_keep_only(d, kh_keep);
	d->kh = kh_keep == KH_CHANNEL_NONE ? NULL : keyholder_channel(d, kh_keep);
}

/* The HTTPS workers and the MX hold no secret key and change files in the
 * state directory only (their store). */
static void child_narrow(struct daemon *d)
{
	const char *state[] = {d->conf->state_dir};
	wks_forget_secrets(d);
	if (!daemon_unconfined() && sandbox_narrow_writes(state, 1) < 0)
		_exit(70);
}

/* The child's loop, until SIGTERM, under its allow-list (sandbox.h). */
static void child_run(struct daemon *d)
{
	struct sandbox_report rep;
	struct event *term = evsignal_new(d->base, SIGTERM, on_worker_signal, d->base);
	if (term == NULL || evsignal_add(term, NULL) < 0)
		_exit(70);
	if (!daemon_unconfined() && sandbox_child(SANDBOX_SERVER, daemon_seccomp_log_only(), &rep) < 0) {
		daemon_log("cannot confine a child process: %s", strerror(errno));
		_exit(70);
	}
	event_base_dispatch(d->base);
	_exit(0);
}

static void https_main(struct daemon *d, unsigned slot, int https_fd, pid_t parent)
{
	child_init(d, parent, https_fd, KH_CHANNEL_WORKER + slot);
	prctl(PR_SET_NAME, "sealmaild-https");
	child_narrow(d);
	if ((d->base = https_event_base()) == NULL || daemon_store_open(d) < 0 ||
	    https_start(d, https_fd) < 0)
		_exit(70);
	child_run(d);
}

#ifdef SEALMAIL_DISHONEST
/* The tests' compromised MX process, the first one started only: it sends
 * the writer bytes that do not decode, or asks for a delivery to an
 * address it never accepted a RCPT for. */
static void mx_dishonest(struct daemon *d, int link_fd)
{
	const char *forge = getenv("SEALMAIL_TEST_MX_FORGE_RCPT");
	const char *path = getenv("SEALMAIL_TEST_MX_TRY_WRITE");
	struct buf none;
	buf_init(&none, 0);
	if (path != NULL) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		daemon_log("smtp: test: %s %s%s%s", fd < 0 ? "cannot create" : "created", path,
			   fd < 0 ? ": " : "", fd < 0 ? strerror(errno) : "");
		if (fd >= 0)
			close(fd);
	}
	if (getenv("SEALMAIL_TEST_MX_GARBAGE") != NULL &&
	    write(link_fd, "garbage, not a delivery request", 31) != 31)
		_exit(70);
	if (forge != NULL && delivery_link_send(d, 0xdead, &forge, 1, &none, (const uint8_t *)"x\r\n", 3) < 0)
		_exit(70);
}
#endif

static void mx_main(struct daemon *d, int link_fd, pid_t parent)
{
	int smtp_fd = d->workers->smtp_fd;
	child_init(d, parent, smtp_fd, KH_CHANNEL_NONE);
	prctl(PR_SET_NAME, "sealmaild-mx");
	child_narrow(d);
	if ((d->base = event_base_new()) == NULL || daemon_store_open(d) < 0 ||
	    delivery_link_client_start(d, link_fd) < 0 || smtp_start(d, smtp_fd) < 0)
		_exit(70);
#ifdef SEALMAIL_DISHONEST
	mx_dishonest(d, link_fd);
#endif
	daemon_log("smtp: the MX process (pid %ld) serves port %u", (long)getpid(),
		   d->conf->listen_smtp.port);
	child_run(d);
}

/* The Web Key Service's process keeps the submission keys, and no
 * listening socket: its mail comes through the submission Maildir. */
static void wks_main(struct daemon *d, int link_fd, pid_t parent)
{
	child_init(d, parent, -1, KH_CHANNEL_NONE);
	prctl(PR_SET_NAME, "sealmaild-wks");
	wks_serve(d, link_fd);
}

static int spawn(struct daemon *d, unsigned i)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		daemon_log("https: cannot start worker %u: %s", i, strerror(errno));
		return -1;
	}
	if (pid == 0)
		https_main(d, i, d->workers->https_fd, parent);
	d->workers->pids[i] = pid;
	return 0;
}

/* A new sender process and its channel; the parent serves the channel
 * at once if its loop exists, else from workers_watch. */
static int spawn_sender(struct daemon *d, struct sender *snd)
{
	int pair[2];
	pid_t parent = getpid();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		daemon_log("%s: cannot make the %s's channel: %s", snd->tag, snd->what, strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		daemon_log("%s: cannot start the %s: %s", snd->tag, snd->what, strerror(errno));
		close(pair[0]);
		close(pair[1]);
		return -1;
	}
	if (pid == 0) {
		close(pair[0]);
		snd->main(d, pair[1], parent);
	}
	close(pair[1]);
	snd->pid = pid;
#ifdef SEALMAIL_DISHONEST
	unsetenv("SEALMAIL_TEST_MX_GARBAGE");
	unsetenv("SEALMAIL_TEST_MX_FORGE_RCPT");
	unsetenv("SEALMAIL_TEST_MX_TRY_WRITE");
#endif
	if (d->base == NULL) {
		snd->fd = pair[0];
		return 0;
	}
	return delivery_link_serve(d, pair[0], pid, snd->what, &snd->link);
}

int workers_start(struct daemon *d, int https_fd, int smtp_fd, unsigned n)
{
	struct workers *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -1;
	w->https_fd = https_fd;
	w->smtp_fd = smtp_fd;
	w->senders[SENDER_MX] = (struct sender){"MX process", "smtp", mx_main, 0, -1, NULL};
	w->senders[SENDER_WKS] = (struct sender){"Web Key Service process", "wks", wks_main, 0, -1, NULL};
	d->workers = w;
	for (; w->n < n && w->n < WORKERS_MAX; w->n++)
		if (spawn(d, w->n) < 0)
			return -1;
	if (d->wks != NULL && spawn_sender(d, &w->senders[SENDER_WKS]) < 0)
		return -1;
	return spawn_sender(d, &w->senders[SENDER_MX]);
}

/* 1 if pid was one of the senders (then another is started in its place
 * unless the daemon is stopping), else 0. */
static int sender_ended(struct daemon *d, pid_t pid, int status)
{
	struct workers *w = d->workers;
	for (size_t i = 0; i < SENDERS; i++) {
		struct sender *snd = &w->senders[i];
		if (snd->pid != pid || pid == 0)
			continue;
		daemon_log("%s: the %s %ld ended (status %d)%s", snd->tag, snd->what, (long)pid,
			   status, w->stopping ? "" : ", starting another");
		snd->pid = 0;
		if (!w->stopping)
			spawn_sender(d, snd);
		return 1;
	}
	return 0;
}

/* A worker, the MX or the Web Key Service's process died: unless we are
 * stopping, start another in its place. The key holder died: the daemon cannot go on without its keys. */
static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct workers *w = d->workers;
	pid_t pid;
	int status;
	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (keyholder_ended(d, pid, status)) {
			d->fatal = 1;
			event_base_loopexit(d->base, NULL);
			continue;
		}
		if (sender_ended(d, pid, status))
			continue;
		for (unsigned i = 0; i < w->n; i++) {
			if (w->pids[i] != pid)
				continue;
			daemon_log("https: worker %ld ended (status %d)%s", (long)pid, status,
				   w->stopping ? "" : ", starting another");
			w->pids[i] = 0;
			if (!w->stopping)
				spawn(d, i);
		}
	}
}

int workers_watch(struct daemon *d)
{
	struct workers *w = d->workers;
	if (w == NULL)
		return 0;
	w->sigchld = evsignal_new(d->base, SIGCHLD, on_sigchld, d);
	if (w->sigchld == NULL || evsignal_add(w->sigchld, NULL) < 0)
		return -1;
	for (size_t i = 0; i < SENDERS; i++) {
		struct sender *snd = &w->senders[i];
		int fd = snd->fd;
		snd->fd = -1;
		if (fd >= 0 && delivery_link_serve(d, fd, snd->pid, snd->what, &snd->link) < 0)
			return -1;
	}
	return 0;
}

void workers_stop(struct daemon *d)
{
	struct workers *w = d->workers;
	if (w == NULL)
		return;
	w->stopping = 1;
	for (unsigned i = 0; i < w->n; i++)
		if (w->pids[i] > 0)
			kill(w->pids[i], SIGTERM);
	for (size_t i = 0; i < SENDERS; i++)
		if (w->senders[i].pid > 0)
			kill(w->senders[i].pid, SIGTERM);
	for (unsigned i = 0; i < w->n; i++)
		if (w->pids[i] > 0)
			while (waitpid(w->pids[i], NULL, 0) < 0 && errno == EINTR)
				;
	for (size_t i = 0; i < SENDERS; i++) {
		struct sender *snd = &w->senders[i];
		if (snd->pid > 0)
			while (waitpid(snd->pid, NULL, 0) < 0 && errno == EINTR)
				;
		if (snd->fd >= 0)
			close(snd->fd);
		/* freed once the delivery threads answer what it still waits for */
		delivery_link_close(snd->link);
	}
	if (w->sigchld)
		event_free(w->sigchld);
	free(w);
	d->workers = NULL;
}
