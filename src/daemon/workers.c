/* workers.c: what each process that talks to the network does
 * (workers.h). */
#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "delivery_link.h"
#include "keyholder.h"
#include "sandbox.h"
#include "wks_service.h"

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;
	(void)sig;
	(void)what;
	event_base_loopexit(base, NULL);
}

/* The process's name for ps, and its one channel to the key holder
 * (kh_keep), or none (KH_CHANNEL_NONE). */
static void worker_init(struct daemon *d, const char *name, unsigned kh_keep)
{
	prctl(PR_SET_NAME, name);
	keyholder_keep(d, kh_keep, kh_keep == KH_CHANNEL_NONE ? 0 : 1);
	d->kh = kh_keep == KH_CHANNEL_NONE ? NULL : keyholder_channel(d, kh_keep);
}

/* The HTTPS workers and the MX hold no secret key and change files in the
 * state directory only (their store). */
static void worker_narrow(struct daemon *d)
{
	const char *state[] = {d->conf->state_dir};
	wks_forget_secrets(d);
	if (!daemon_unconfined() && sandbox_narrow_writes(state, 1) < 0)
		_exit(70);
}

/* The process's loop, until SIGTERM, under its allow-list (sandbox.h);
 * who names it in the log. */
static void __attribute__((noreturn)) worker_run(struct daemon *d, const char *who)
{
	struct event *term = evsignal_new(d->base, SIGTERM, on_term, d->base);
	if (term == NULL || evsignal_add(term, NULL) < 0)
		_exit(70);
	if (daemon_allow(SANDBOX_SERVER, who) < 0)
		_exit(70);
	event_base_dispatch(d->base);
	_exit(0);
}

void worker_https(struct daemon *d, unsigned slot, int https_fd)
{
	worker_init(d, "sealmaild-https", KH_CHANNEL_WORKER + slot);
	worker_narrow(d);
	if ((d->base = daemon_event_base()) == NULL || daemon_store_open(d) < 0 ||
	    https_start(d, https_fd, slot) < 0)
		_exit(70);
	worker_run(d, "HTTPS worker");
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

void worker_mx(struct daemon *d, int smtp_fd, int link_fd)
{
	worker_init(d, "sealmaild-mx", KH_CHANNEL_NONE);
	worker_narrow(d);
	if ((d->base = daemon_event_base()) == NULL || daemon_store_open(d) < 0 ||
	    delivery_link_client_start(d, link_fd) < 0 || smtp_start(d, smtp_fd) < 0)
		_exit(70);
#ifdef SEALMAIL_DISHONEST
	mx_dishonest(d, link_fd);
#endif
	daemon_log("smtp: the MX process (pid %ld) serves port %u", (long)getpid(),
		   d->conf->listen_smtp.port);
	worker_run(d, "MX process");
}

/* The Web Key Service's process keeps the submission keys, and no
 * listening socket: its mail comes through the submission Maildir. */
void worker_wks(struct daemon *d, int link_fd)
{
	worker_init(d, "sealmaild-wks", KH_CHANNEL_NONE);
	wks_serve(d, link_fd);
}
