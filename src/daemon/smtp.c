/* smtp.c: the MX, in its own process (workers.h). Each connection is a
 * bufferevent feeding an smtp_session (the protocol lives there,
 * socket-free); this file only moves bytes, applies time-outs and session
 * caps, switches to TLS on STARTTLS, and hands each message to the Maildir
 * writer (delivery_link.h), whose answer the session waits for before it may
 * answer 250. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>

#include "daemon.h"
#include "delivery.h"
#include "delivery_msg.h"
#include "delivery_link.h"
#include "smtp_session.h"

#define SMTP_MAX_ERRORS 10
/* Queued replies beyond this stop reading until the peer reads them. */
#define SMTP_OUTPUT_HIGH (64u * 1024)

struct smtp {
	struct evconnlistener *listener;
	size_t sessions;
	struct conn *conns; /* every open connection, for the per-address cap */
	uint32_t next_id;   /* the next delivery's name */
};

struct conn {
	struct daemon *d;
	evutil_socket_t fd;
	bool tls;             /* bev is the TLS bufferevent, which owns fd */
	struct bufferevent *bev;
	struct smtp_session *s;
	struct conn *next, *prev;
	char peer[INET6_ADDRSTRLEN];
	unsigned delivered;
	bool closing; /* a last reply is being sent; free once it is out */
	bool pending; /* the Maildir writer has not answered delivery `id` */
	uint32_t id;
	bool dead;    /* the connection is gone; free once pending is answered */
	struct event *deadline;  /* conn_deadline */
	struct timespec session_end; /* CLOCK_MONOTONIC */
};

static void conn_free(struct conn *c)
{
	struct smtp *m = c->d->smtp;
	if (c->prev)
		c->prev->next = c->next;
	else
		m->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	m->sessions--;
	SSL *ssl = c->tls ? bufferevent_openssl_get_ssl(c->bev) : NULL;
	if (ssl != NULL && SSL_is_init_finished(ssl))
		SSL_shutdown(ssl); /* close_notify: an orderly end, not a truncation */
	bufferevent_free(c->bev);
	if (!c->tls)
		evutil_closesocket(c->fd);
	if (c->deadline)
		event_free(c->deadline);
	smtp_session_free(c->s);
	free(c);
}

/* Frees c now, or once its delivery is answered. */
static void conn_close(struct conn *c)
{
	if (!c->pending) {
		conn_free(c);
		return;
	}
	c->dead = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
}

static enum smtp_rcpt_verdict on_rcpt(void *arg, const struct smtp_envelope *env,
				      const struct wkd_address *rcpt)
{
	struct conn *c = arg;
	(void)env;
	return delivery_rcpt_verdict(c->d, rcpt);
}

/* The client's EHLO name as it may appear in a header: printable ASCII,
 * anything else (it is the peer's text) replaced by '?'. */
static void header_safe(const char *in, char *out, size_t size)
{
	size_t i;
	for (i = 0; in[i] && i + 1 < size; i++)
		out[i] = (in[i] > 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = 0;
}

/* RFC 5321 4.4: the final delivery adds Return-Path and a Received line,
 * naming the recipient when there is only one (as Postfix does). */
static int trace_headers(const struct conn *c, const struct smtp_envelope *env, struct buf *out)
{
	char date[64], helo[SMTP_SESSION_HOST_MAX + 1], from[SMTP_SESSION_PATH_MAX + 1];
	char rcpt[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 16] = "";
	time_t now = time(NULL);
	struct tm tm;
	header_safe(env->helo, helo, sizeof(helo));
	header_safe(env->mail_from, from, sizeof(from));
	if (env->rcpt_count == 1)
		snprintf(rcpt, sizeof(rcpt), "\r\n\tfor <%s@%s>", env->rcpts[0].local, env->rcpts[0].domain);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	return buf_appendf(out,
			   "Return-Path: <%s>\r\n"
			   "Received: from %s (%s)\r\n\tby %s (sealmaild) with %s%s;\r\n\t%s\r\n",
			   from, helo, c->peer, c->d->hostname,
			   env->tls ? "ESMTPS" : (env->esmtp ? "ESMTP" : "SMTP"), rcpt, date);
}

static int flush_output(struct conn *c);
static void on_read(struct bufferevent *bev, void *arg);

void smtp_delivered(struct daemon *d, uint32_t id, enum smtp_deliver_result r)
{
	struct conn *c = d->smtp->conns;
	while (c != NULL && !(c->pending && c->id == id))
		c = c->next;
	if (c == NULL) {
		daemon_log("smtp: the Maildir writer answered delivery %u, which no session waits for", id);
		return;
	}
	c->pending = false;
	if (c->dead) {
		conn_free(c);
		return;
	}
	if (r == SMTP_DELIVER_OK)
		c->delivered++;
	daemon_log("smtp: %s: message %s", c->peer, r == SMTP_DELIVER_OK ? "delivered" : "not delivered");
	if (smtp_session_deliver_done(c->s, r) < 0 || flush_output(c) < 0) {
		conn_free(c);
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
	on_read(c->bev, c); /* commands pipelined behind the message */
}

/* Hands the message to the Maildir writer; the session answers once
 * every recipient's copy is durable (smtp_delivered), so a 250 never
 * acknowledges a message a crash could lose. */
static enum smtp_deliver_result on_deliver(void *arg, const struct smtp_envelope *env,
					   const uint8_t *msg, size_t len)
{
	struct conn *c = arg;
	char(*addr)[DLV_ADDRESS_MAX + 1] = calloc(env->rcpt_count, sizeof(*addr));
	const char **rcpts = calloc(env->rcpt_count, sizeof(*rcpts));
	struct buf trace;
	buf_init(&trace, 4096);
	int r = addr != NULL && rcpts != NULL && trace_headers(c, env, &trace) == 0 ? 0 : -1;
	for (size_t i = 0; r == 0 && i < env->rcpt_count; i++) {
		r = wkd_address_format(&env->rcpts[i], addr[i], sizeof(addr[i]));
		rcpts[i] = addr[i];
	}
	uint32_t id = c->d->smtp->next_id++;
	if (r == 0)
		r = delivery_link_send(c->d, id, rcpts, env->rcpt_count, &trace, msg, len);
	buf_free(&trace);
	free(rcpts);
	free(addr);
	if (r < 0)
		return SMTP_DELIVER_TEMPFAIL;
	c->pending = true;
	c->id = id;
	return SMTP_DELIVER_PENDING;
}

static void conn_timeouts(struct conn *c)
{
	const struct conf *cf = c->d->conf;
	unsigned secs = smtp_session_wait(c->s) == SMTP_WAIT_DATA ? cf->smtp_data_timeout
								   : cf->smtp_command_timeout;
	struct timeval tv = {(time_t)secs, 0};
	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

/* The session's clock, against slowloris: a command must arrive whole
 * within smtp-command-timeout of the reply before it, however slowly its
 * bytes trickle in, and no session outlives smtp-session-timeout. (Between
 * blocks of message data the bufferevent's idle time-out applies.)
 * Re-armed whenever the session answers. */
static void conn_deadline(struct conn *c)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double left = (double)(c->session_end.tv_sec - now.tv_sec) +
		      (double)(c->session_end.tv_nsec - now.tv_nsec) / 1e9;
	if (smtp_session_wait(c->s) == SMTP_WAIT_COMMAND && c->d->conf->smtp_command_timeout < left)
		left = c->d->conf->smtp_command_timeout;
	if (left < 0)
		left = 0;
	struct timeval tv = {(time_t)left, (suseconds_t)((left - (double)(time_t)left) * 1e6)};
	evtimer_add(c->deadline, &tv);
}

/* Moves the session's queued replies to the bufferevent. */
static int flush_output(struct conn *c)
{
	size_t len;
	const uint8_t *out = smtp_session_output(c->s, &len);
	if (len == 0)
		return 0;
	if (bufferevent_write(c->bev, out, len) < 0)
		return -1;
	conn_deadline(c);
	return smtp_session_output_consume(c->s, len);
}

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);
static int conn_expire(struct conn *c);

/* RFC 3207: the reply to STARTTLS has been sent; the rest is TLS. The
 * plaintext bufferevent goes, and with it any bytes the client pipelined
 * after STARTTLS (never executed: CVE-2011-0411); a TLS bufferevent takes
 * the socket over, so what it writes goes straight to the socket. */
static int start_tls(struct conn *c)
{
	SSL *ssl = SSL_new(c->d->tls);
	if (ssl == NULL)
		return -1;
	struct bufferevent *tls = bufferevent_openssl_socket_new(
		c->d->base, c->fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (tls == NULL) {
		SSL_free(ssl);
		return -1;
	}
	bufferevent_free(c->bev);
	c->bev = tls;
	c->tls = true;
	bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
	bufferevent_setcb(tls, on_read, on_write, on_event, c);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
	conn_timeouts(c);
	return 0;
}

/* Output fully written: act on what the session waits for. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	enum smtp_wait w = smtp_session_wait(c->s);
	(void)bev;
	if (c->closing || w == SMTP_WAIT_CLOSE) {
		conn_close(c);
		return;
	}
	if (w == SMTP_WAIT_TLS && start_tls(c) < 0) {
		conn_close(c);
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
}

/* Feeds what arrived, and stops reading while replies pile up unread. */
static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t len = evbuffer_get_length(in), used = 0;
		if (len == 0 || smtp_session_wait(c->s) == SMTP_WAIT_TLS)
			break;
		const uint8_t *data = evbuffer_pullup(in, -1);
		if (smtp_session_feed(c->s, data, len, &used) < 0 || flush_output(c) < 0) {
			conn_close(c);
			return;
		}
		evbuffer_drain(in, used);
		if (used == 0)
			break;
	}
	enum smtp_wait w = smtp_session_wait(c->s);
	if (w == SMTP_WAIT_CLOSE || w == SMTP_WAIT_TLS || w == SMTP_WAIT_DELIVERY ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > SMTP_OUTPUT_HIGH)
		bufferevent_disable(bev, EV_READ);
	conn_timeouts(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* the TLS handshake after STARTTLS finished */
		if (smtp_session_starttls_done(c->s) < 0)
			conn_close(c);
		else
			conn_deadline(c); /* the EHLO that follows is a command */
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && conn_expire(c) == 0)
		return;
	conn_close(c);
}

/* 421, then close once it is out. -1 if c must be closed now instead. */
static int conn_expire(struct conn *c)
{
	static const char bye[] = "421 4.4.2 too slow or too long, closing\r\n";
	struct timeval tv = {10, 0};
	if (c->closing)
		return -1;
	daemon_log("smtp: %s: time-out, closing", c->peer);
	c->closing = true;
	evtimer_del(c->deadline);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
	return bufferevent_write(c->bev, bye, sizeof(bye) - 1) == 0 ? 0 : -1;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd;
	(void)what;
	if (c->dead || c->pending)
		return; /* a delivery is being answered; the deadline comes back with its reply */
	if (conn_expire(c) < 0)
		conn_close(c);
}

static size_t sessions_from(const struct smtp *m, const char *peer)
{
	size_t n = 0;
	for (const struct conn *c = m->conns; c != NULL; c = c->next)
		n += strcmp(c->peer, peer) == 0;
	return n;
}

static void peer_name(const struct sockaddr *sa, char *out, size_t size)
{
	const void *addr = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
						     : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
	if (inet_ntop(sa->sa_family, addr, out, (socklen_t)size) == NULL)
		snprintf(out, size, "unknown");
}

/* Over a cap: say so in one line and close, without a session. */
static void refuse(evutil_socket_t fd, const char *why)
{
	static const char msg[] = "421 4.7.0 too many connections, try again later\r\n";
	ssize_t w = send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)w;
	(void)why;
	evutil_closesocket(fd);
}

static int conn_session(struct conn *c)
{
	const struct conf *cf = c->d->conf;
	struct smtp_session_config sc = {
		.hostname = c->d->hostname,
		.max_message_size = cf->max_message_size,
		.max_recipients = cf->max_recipients,
		.max_errors = SMTP_MAX_ERRORS,
		.output_max = 0,
		.tls_available = c->d->tls != NULL,
	};
	struct smtp_session_callbacks cb = {on_rcpt, on_deliver, c};
	return smtp_session_new(&sc, &cb, &c->s);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	struct daemon *d = arg;
	struct smtp *m = d->smtp;
	char peer[INET6_ADDRSTRLEN];
	(void)l;
	(void)len;
	peer_name(sa, peer, sizeof(peer));
	if (m->sessions >= d->conf->max_sessions ||
	    sessions_from(m, peer) >= d->conf->max_sessions_per_address) {
		daemon_log("smtp: %s: refused, too many sessions", peer);
		refuse(fd, "cap");
		return;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		refuse(fd, "memory");
		return;
	}
	c->d = d;
	c->fd = fd;
	memcpy(c->peer, peer, sizeof(peer));
	/* not CLOSE_ON_FREE: STARTTLS replaces this bufferevent, not the socket */
	c->bev = bufferevent_socket_new(d->base, fd, 0);
	c->deadline = evtimer_new(d->base, on_deadline, c);
	if (c->bev == NULL || c->deadline == NULL || conn_session(c) < 0) {
		if (c->bev)
			bufferevent_free(c->bev);
		if (c->deadline)
			event_free(c->deadline);
		evutil_closesocket(fd);
		free(c);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &c->session_end);
	c->session_end.tv_sec += d->conf->smtp_session_timeout;
	c->next = m->conns;
	if (m->conns)
		m->conns->prev = c;
	m->conns = c;
	m->sessions++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_timeouts(c);
	if (flush_output(c) < 0)
		conn_free(c);
}

int smtp_start(struct daemon *d, int fd)
{
	struct smtp *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		free(m);
		return -1;
	}
	d->smtp = m;
	m->listener = evconnlistener_new(d->base, on_accept, d, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (m->listener == NULL) {
		daemon_log("smtp: cannot accept on the listening socket");
		free(m);
		d->smtp = NULL;
		return -1;
	}
	return 0;
}

void smtp_stop(struct daemon *d)
{
	struct smtp *m = d->smtp;
	if (m == NULL)
		return;
	while (m->conns != NULL)
		conn_free(m->conns);
	evconnlistener_free(m->listener);
	free(m);
	d->smtp = NULL;
}
