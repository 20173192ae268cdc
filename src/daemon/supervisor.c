/* supervisor.c: the process that starts and restarts the network
 * processes, and the main process's side of it (supervisor.h). */
#include "supervisor.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "delivery_link.h"
#include "keyholder.h"
#include "wks_service.h"
#include "workers.h"

#define WORKERS_MAX 64
/* A process that ends this soon after its start is restarted this much
 * after its start. */
#define QUICK_END_MS 1000u

/* The processes with mail for the Maildir writer: the first slots. */
enum { SENDER_MX, SENDER_WKS, SENDERS };
/* Their names in the log, on both sides of the supervisor's channel. */
static const char *const sender_what[SENDERS] = {"MX process", "Web Key Service process"};
/* The supervisor's one message: which sender (uint32_t), its pid
 * (uint32_t), with the writer's end of its channel attached. */
#define PASS_LEN 8u

/* ---- the supervisor process ---- */

/* One process the supervisor keeps running. */
struct slot {
	const char *tag;     /* the log lines' prefix: "smtp" */
	const char *what;    /* "MX process" */
	bool wanted;
	pid_t pid;           /* 0 while there is none */
	uint64_t started;    /* ms, monotonic */
	uint64_t not_before; /* ms: when another may start */
};

struct spawner {
	struct daemon *d;
	pid_t self;
	int chan;            /* to the main process */
	int sigfd;           /* SIGCHLD and SIGTERM */
	int https_fd, smtp_fd;
	sigset_t mask_before;
	size_t n;
	struct slot slots[SENDERS + WORKERS_MAX]; /* the MX, the WKS, then the HTTPS workers */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* In a new child: it keeps of the supervisor's descriptors only keep_fd,
 * takes the signals back and ends with the supervisor. */
static void child_start(struct spawner *s, int keep_fd)
{
	int mine[] = {s->chan, s->sigfd, s->https_fd, s->smtp_fd};
	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		if (mine[i] >= 0 && mine[i] != keep_fd)
			close(mine[i]);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, &s->mask_before, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != s->self)
		_exit(0);
}

static void __attribute__((noreturn)) child_main(struct spawner *s, size_t i, int link_fd)
{
	switch (i) {
	case SENDER_MX:
		child_start(s, s->smtp_fd);
		worker_mx(s->d, s->smtp_fd, link_fd);
	case SENDER_WKS:
		child_start(s, -1);
		worker_wks(s->d, link_fd);
	default:
		child_start(s, s->https_fd);
		worker_https(s->d, (unsigned)(i - SENDERS), s->https_fd);
	}
}

/* Every process started, stopped: SIGTERM, and wait for each. */
static void __attribute__((noreturn)) stop_all(struct spawner *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->slots[i].pid > 0)
			kill(s->slots[i].pid, SIGTERM);
	for (size_t i = 0; i < s->n; i++)
		if (s->slots[i].pid > 0)
			while (waitpid(s->slots[i].pid, NULL, 0) < 0 && errno == EINTR)
				;
	_exit(0);
}

/* One message of the supervisor's channel as sendmsg and recvmsg see it:
 * PASS_LEN bytes (one word more of room, to see a longer one) and one
 * descriptor. */
struct pass_msg {
	uint32_t m[3];
	_Alignas(struct cmsghdr) char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov;
	struct msghdr mh;
};

static void pass_msg_init(struct pass_msg *p, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->iov = (struct iovec){.iov_base = p->m, .iov_len = len};
	p->mh = (struct msghdr){.msg_iov = &p->iov, .msg_iovlen = 1, .msg_control = p->ctl,
				.msg_controllen = sizeof(p->ctl)};
}

/* Passes the writer's end of sender i's channel to the main process. */
static int pass_channel(struct spawner *s, size_t i, pid_t pid, int fd)
{
	struct pass_msg p;
	pass_msg_init(&p, PASS_LEN);
	p.m[0] = (uint32_t)i;
	p.m[1] = (uint32_t)pid;
	struct cmsghdr *c = CMSG_FIRSTHDR(&p.mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	while ((n = sendmsg(s->chan, &p.mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)PASS_LEN ? 0 : -1;
}

/* Starts the process of slot i; if it cannot, tries again later. */
static void spawn(struct spawner *s, size_t i, uint64_t now)
{
	struct slot *sl = &s->slots[i];
	int pair[2] = {-1, -1};
	sl->not_before = now + QUICK_END_MS;
	if (i < SENDERS && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
		daemon_log("%s: cannot make the %s's channel: %s", sl->tag, sl->what, strerror(errno));
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		if (pair[0] >= 0)
			close(pair[0]);
		child_main(s, i, pair[1]);
	}
	if (pair[1] >= 0)
		close(pair[1]);
	if (pid < 0) {
		daemon_log("%s: cannot start the %s: %s", sl->tag, sl->what, strerror(errno));
		if (pair[0] >= 0)
			close(pair[0]);
		return;
	}
	sl->pid = pid;
	sl->started = now;
#ifdef SEALMAIL_DISHONEST
	if (i == SENDER_MX) { /* the tests' compromised MX is the first one only */
		unsetenv("SEALMAIL_TEST_MX_GARBAGE");
		unsetenv("SEALMAIL_TEST_MX_FORGE_RCPT");
		unsetenv("SEALMAIL_TEST_MX_TRY_WRITE");
	}
#endif
	if (pair[0] < 0)
		return;
	if (pass_channel(s, i, pid, pair[0]) < 0) {
		daemon_log("supervisor: cannot pass the %s's channel to the main process: %s; stopping",
			   sl->what, strerror(errno));
		stop_all(s);
	}
	close(pair[0]);
}

/* Starts every process that should run and may start now; the time in
 * ms until the next may, or -1. */
static int start_due(struct spawner *s)
{
	uint64_t now = now_ms();
	int wait = -1;
	for (size_t i = 0; i < s->n; i++) {
		struct slot *sl = &s->slots[i];
		if (!sl->wanted || sl->pid != 0)
			continue;
		if (now >= sl->not_before)
			spawn(s, i, now);
		if (sl->pid == 0 && (wait < 0 || sl->not_before - now < (uint64_t)wait))
			wait = (int)(sl->not_before - now);
	}
	return wait;
}

static void reap(struct spawner *s)
{
	pid_t pid;
	int status;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < s->n; i++) {
			struct slot *sl = &s->slots[i];
			if (sl->pid != pid)
				continue;
			char how[96];
			uint64_t now = now_ms();
			bool quick = now - sl->started < QUICK_END_MS;
			sl->pid = 0;
			sl->not_before = quick ? sl->started + QUICK_END_MS : now;
			daemon_log("%s: the %s %ld ended %s, starting another%s", sl->tag, sl->what,
				   (long)pid, daemon_exit_text(status, how, sizeof(how)),
				   quick ? " in a second" : "");
		}
	}
}

/* The main process sends nothing: a message is a bug or an attack, and
 * its end (or an error) the end of the daemon. */
static void from_main(struct spawner *s)
{
	uint8_t b[1];
	ssize_t n = recv(s->chan, b, sizeof(b), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		daemon_log("supervisor: a message from the main process, which sends none; stopping");
	stop_all(s);
}

static void __attribute__((noreturn)) supervise(struct spawner *s)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = s->sigfd, .events = POLLIN}, {.fd = s->chan, .events = POLLIN}};
		int timeout = start_due(s);
		if (poll(p, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			daemon_log("supervisor: poll: %s; stopping", strerror(errno));
			stop_all(s);
		}
		if (p[1].revents != 0)
			from_main(s);
		struct signalfd_siginfo si;
		if ((p[0].revents & POLLIN) && read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGTERM)
				stop_all(s);
			reap(s);
		}
	}
}

static void __attribute__((noreturn)) supervisor_main(struct daemon *d, int chan, int https_fd,
						      int smtp_fd, unsigned nworkers, pid_t parent)
{
	struct spawner s = {.d = d, .self = getpid(), .chan = chan, .https_fd = https_fd,
			    .smtp_fd = smtp_fd, .n = SENDERS + nworkers};
	sigset_t set;
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(0);
	prctl(PR_SET_NAME, "sealmaild-super");
	keyholder_keep(d, KH_CHANNEL_WORKER, nworkers);
	d->kh = NULL;
	signal(SIGINT, SIG_IGN); /* a terminal's ^C reaches the main process, which stops us */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, &s.mask_before) < 0 ||
	    (s.sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		daemon_log("supervisor: cannot watch its signals: %s", strerror(errno));
		_exit(70);
	}
	if (daemon_allow(SANDBOX_SUPERVISOR, "supervisor") < 0)
		_exit(70);
	s.slots[SENDER_MX] = (struct slot){.tag = "smtp", .what = sender_what[SENDER_MX],
					   .wanted = true};
	s.slots[SENDER_WKS] = (struct slot){.tag = "wks", .what = sender_what[SENDER_WKS],
					    .wanted = d->wks != NULL};
	for (size_t i = SENDERS; i < s.n; i++)
		s.slots[i] = (struct slot){.tag = "https", .what = "HTTPS worker", .wanted = true};
	daemon_log("supervisor (pid %ld): starts and restarts the %u HTTPS worker(s), the MX process%s",
		   (long)s.self, nworkers, d->wks != NULL ? " and the Web Key Service's process" : "");
	supervise(&s);
}

/* ---- the main process's side ---- */

struct supervisor {
	pid_t pid;             /* 0 once it ended */
	int fd;                /* the channel to it */
	struct event *chan;    /* the channel, readable */
	struct event *sigchld;
	struct delivery_link *links[SENDERS]; /* the senders' channels, served */
	bool stopping;
};

int supervisor_start(struct daemon *d, int https_fd, int smtp_fd, unsigned nworkers)
{
	struct supervisor *sv = calloc(1, sizeof(*sv));
	int pair[2] = {-1, -1};
	pid_t parent = getpid(), pid = -1;
	if (nworkers > WORKERS_MAX)
		nworkers = WORKERS_MAX;
	if (sv != NULL && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0)
		pid = fork();
	if (pid == 0) {
		free(sv);
		close(pair[0]);
		supervisor_main(d, pair[1], https_fd, smtp_fd, nworkers, parent);
	}
	close(https_fd);
	close(smtp_fd);
	if (pair[1] >= 0)
		close(pair[1]);
	if (pid < 0) {
		daemon_log("cannot start the supervisor: %s", strerror(errno));
		if (pair[0] >= 0)
			close(pair[0]);
		free(sv);
		return -1;
	}
	sv->pid = pid;
	sv->fd = pair[0];
	d->supervisor = sv;
	/* what only the supervisor's children need */
	keyholder_keep(d, KH_CHANNEL_MAIN, KH_CHANNEL_WORKER - KH_CHANNEL_MAIN);
	wks_forget_secrets(d);
	SSL_CTX_free(d->tls);
	d->tls = NULL;
	return 0;
}

static void stop_daemon(struct daemon *d)
{
	d->fatal = 1;
	event_base_loopexit(d->base, NULL);
}

/* The descriptor attached to mh, or -1 if there is none or more than one
 * (then each is closed). */
static int passed_fd(struct msghdr *mh)
{
	int fd = -1, count = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (count++ == 0)
				fd = got;
			else
				close(got);
		}
	}
	if (count > 1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One sender's channel from the supervisor: served from now on. */
static void on_channel(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct supervisor *sv = d->supervisor;
	(void)what;
	for (;;) {
		struct pass_msg p;
		pass_msg_init(&p, sizeof(p.m));
		ssize_t n = recvmsg(fd, &p.mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) { /* it ended: on_sigchld says so */
			event_del(sv->chan);
			return;
		}
		int link = passed_fd(&p.mh);
		if (n != PASS_LEN || (p.mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || link < 0 ||
		    p.m[0] >= SENDERS || p.m[1] == 0 || p.m[1] > INT32_MAX) {
			daemon_log("a malformed message from the supervisor; stopping");
			if (link >= 0)
				close(link);
			stop_daemon(d);
			return;
		}
		pid_t pid = (pid_t)p.m[1];
		if (delivery_link_serve(d, link, pid, sender_what[p.m[0]], &sv->links[p.m[0]]) < 0) {
			close(link); /* the sender cannot deliver: another will */
			kill(pid, SIGKILL);
		}
	}
}

/* The key holder or the supervisor ended: the daemon cannot go on. */
static void on_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct supervisor *sv = d->supervisor;
	pid_t pid;
	int status;
	(void)sig;
	(void)what;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (keyholder_ended(d, pid, status)) {
			stop_daemon(d);
		} else if (pid == sv->pid) {
			char how[96];
			sv->pid = 0;
			if (sv->stopping)
				continue;
			daemon_log("the supervisor ended %s; stopping",
				   daemon_exit_text(status, how, sizeof(how)));
			stop_daemon(d);
		}
	}
}

int supervisor_watch(struct daemon *d)
{
	struct supervisor *sv = d->supervisor;
	if (sv == NULL)
		return 0;
	sv->sigchld = evsignal_new(d->base, SIGCHLD, on_sigchld, d);
	sv->chan = event_new(d->base, sv->fd, EV_READ | EV_PERSIST, on_channel, d);
	if (sv->sigchld == NULL || sv->chan == NULL || evsignal_add(sv->sigchld, NULL) < 0 ||
	    event_add(sv->chan, NULL) < 0)
		return -1;
	return 0;
}

void supervisor_stop(struct daemon *d)
{
	struct supervisor *sv = d->supervisor;
	if (sv == NULL)
		return;
	sv->stopping = true;
	if (sv->pid > 0) {
		kill(sv->pid, SIGTERM);
		while (waitpid(sv->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (sv->chan != NULL)
		event_free(sv->chan);
	if (sv->sigchld != NULL)
		event_free(sv->sigchld);
	close(sv->fd);
	for (size_t i = 0; i < SENDERS; i++)
		delivery_link_close(sv->links[i]); /* freed once the delivery threads answer */
	free(sv);
	d->supervisor = NULL;
}
