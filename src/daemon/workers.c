/* workers.c: HTTPS worker processes. One event loop serves about 35,000
 * key lookups a second on one core; these let the key directory use the
 * others. Each worker is a fork of the daemon before its event loop
 * exists, holding the listening HTTPS socket, the TLS context, its own
 * store connection and its own channel to the key holder, and nothing of
 * the SMTP side; it inherits the main process's sandbox and narrows it
 * to writing in the state directory only. The parent watches the key
 * holder here too. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "wks_service.h"
#include "keyholder.h"
#include "sandbox.h"

#define WORKERS_MAX 64

struct workers {
	pid_t pids[WORKERS_MAX];
	unsigned n;
	int https_fd;
	int close_fd; /* the SMTP socket: a worker must not hold it */
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

/* The worker's life: its own loop, HTTPS only, until SIGTERM or until
 * the parent is gone (it must not outlive it holding the port). */
static void worker_main(struct daemon *d, unsigned slot, int https_fd, int close_fd, pid_t parent)
{
	struct event *term;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(0);
	if (close_fd >= 0)
		close(close_fd);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN); /* the parent decides when workers stop */
	signal(SIGCHLD, SIG_DFL);
	d->smtp = NULL;
	d->delivery = NULL;
	d->workers = NULL;
	keyholder_keep_only(d, KH_CHANNEL_WORKER + slot);
	d->kh = keyholder_channel(d, KH_CHANNEL_WORKER + slot);
	wks_forget_secrets(d); /* a worker holds no secret key */
	/* the delivery threads of the main process are the Maildirs' one
	 * writer: a worker may change files in the state directory only */
	const char *state[] = {d->conf->state_dir};
	if (sandbox_narrow_writes(state, 1) < 0)
		_exit(70);
	if ((d->base = event_base_new()) == NULL || daemon_store_open(d) < 0 ||
	    https_start(d, https_fd) < 0)
		_exit(70);
	term = evsignal_new(d->base, SIGTERM, on_worker_signal, d->base);
	if (term == NULL || evsignal_add(term, NULL) < 0)
		_exit(70);
	event_base_dispatch(d->base);
	_exit(0);
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
		worker_main(d, i, d->workers->https_fd, d->workers->close_fd, parent);
	d->workers->pids[i] = pid;
	return 0;
}

int workers_start(struct daemon *d, int https_fd, int smtp_fd, unsigned n)
{
	struct workers *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -1;
	w->https_fd = https_fd;
	w->close_fd = smtp_fd;
	d->workers = w;
	for (; w->n < n && w->n < WORKERS_MAX; w->n++)
		if (spawn(d, w->n) < 0)
			return -1;
	return 0;
}

/* A worker died: unless we are stopping, start another in its place. The
 * key holder died: the daemon cannot go on without its keys. */
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
	return w->sigchld != NULL && evsignal_add(w->sigchld, NULL) == 0 ? 0 : -1;
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
	for (unsigned i = 0; i < w->n; i++)
		if (w->pids[i] > 0)
			while (waitpid(w->pids[i], NULL, 0) < 0 && errno == EINTR)
				;
	if (w->sigchld)
		event_free(w->sigchld);
	free(w);
	d->workers = NULL;
}
