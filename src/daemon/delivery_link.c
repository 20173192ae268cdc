/* delivery_link.c: the channels to the Maildir writer (delivery_link.h). */
#include "delivery_link.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "daemon.h"
#include "delivery.h"
#include "delivery_msg.h"
#include "fdio.h"
#include "wkd.h"

/* Room for the trace headers the MX puts before a message. */
#define TRACE_MAX (8u * 1024)

struct delivery_link {
	struct daemon *d;
	struct bufferevent *bev;  /* NULL once closed */
	pid_t peer;               /* writer side: the process at the other end */
	const char *what;         /* writer side: what it is, for the log */
	struct delivery_link **slot; /* writer side: who points at it while open */
	struct dlv_header head;   /* writer side: the request being read */
	bool have_head;
	unsigned pending;         /* writer side: deliveries the threads have not answered */
};

/* ---- the MX's side ---- */

static void client_read(struct bufferevent *bev, void *arg)
{
	struct delivery_link *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t m[DLV_REPLY_LEN];
	while (evbuffer_get_length(in) >= DLV_REPLY_LEN) {
		uint32_t id;
		uint8_t result;
		if (evbuffer_remove(in, m, sizeof(m)) != (int)sizeof(m) ||
		    dlv_reply_decode(m, &id, &result) < 0) {
			daemon_log("smtp: a malformed reply from the Maildir writer; stopping");
			_exit(70);
		}
		smtp_delivered(l->d, id, (enum smtp_deliver_result)result);
	}
}

/* The writer is gone (the main process ended, or ended this channel):
 * nothing more can be delivered, and the parent starts another MX. */
static void client_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		daemon_log("smtp: the channel to the Maildir writer closed; stopping");
		_exit(70);
	}
}

static struct delivery_link *link_new(struct daemon *d, int fd, bufferevent_data_cb read,
				bufferevent_event_cb event)
{
	struct delivery_link *l = calloc(1, sizeof(*l));
	if (l == NULL || evutil_make_socket_nonblocking(fd) < 0 ||
	    (l->bev = bufferevent_socket_new(d->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(l);
		close(fd);
		return NULL;
	}
	l->d = d;
	bufferevent_setcb(l->bev, read, NULL, event, l);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	return l;
}

int delivery_link_client_start(struct daemon *d, int fd)
{
	d->delivery_link = link_new(d, fd, client_read, client_event);
	return d->delivery_link != NULL ? 0 : -1;
}

/* ---- the Web Key Service's side: one blocking request at a time ---- */

int delivery_link_deliver(int fd, const char *rcpt, const struct buf *data,
			  enum smtp_deliver_result *ret)
{
	static uint32_t next_id;
	uint32_t id = next_id++, got;
	uint8_t reply[DLV_REPLY_LEN], result;
	struct buf req;
	buf_init(&req, DLV_HEADER_LEN + 2 + DLV_ADDRESS_MAX);
	int r = dlv_request_encode(id, &rcpt, 1, data->len, &req);
	if (r == 0)
		r = fd_write_all(fd, req.data, req.len);
	buf_free(&req);
	if (r == 0)
		r = fd_write_all(fd, data->data, data->len);
	if (r == 0)
		r = fd_read_exact(fd, reply, sizeof(reply));
	if (r < 0)
		return r;
	if (dlv_reply_decode(reply, &got, &result) < 0 || got != id) {
		daemon_log("wks: a malformed reply from the Maildir writer; stopping");
		_exit(70);
	}
	*ret = (enum smtp_deliver_result)result;
	return 0;
}

int delivery_link_send(struct daemon *d, uint32_t id, const char *const *rcpts, size_t n,
		 const struct buf *head, const uint8_t *body, size_t len)
{
	struct bufferevent *bev = d->delivery_link->bev;
	struct buf req;
	buf_init(&req, DLV_HEADER_LEN + n * (2 + DLV_ADDRESS_MAX));
	int r = dlv_request_encode(id, rcpts, n, head->len + len, &req);
	if (r == 0 && (bufferevent_write(bev, req.data, req.len) < 0 ||
		       bufferevent_write(bev, head->data, head->len) < 0 ||
		       bufferevent_write(bev, body, len) < 0))
		r = SM_ENOMEM;
	buf_free(&req);
	return r;
}

/* ---- the writer's side ---- */

static void link_free(struct delivery_link *l)
{
	if (l->bev != NULL)
		bufferevent_free(l->bev);
	free(l);
}

/* Closes the channel; l itself goes once nothing waits on it. */
static void link_close(struct delivery_link *l)
{
	if (l->slot != NULL && *l->slot == l)
		*l->slot = NULL;
	l->slot = NULL;
	if (l->bev != NULL) {
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	if (l->pending == 0)
		link_free(l);
}

static void reply(struct delivery_link *l, uint32_t id, enum smtp_deliver_result result)
{
	uint8_t m[DLV_REPLY_LEN];
	dlv_reply_encode(id, (uint8_t)result, m);
	if (l->bev != NULL && bufferevent_write(l->bev, m, sizeof(m)) < 0)
		daemon_log("delivery: cannot answer the %s", l->what);
}

static void answered(struct delivery_job *job)
{
	struct delivery_link *l = job->arg;
	reply(l, job->id, job->result);
	delivery_job_free(job);
	l->pending--;
	if (l->bev == NULL && l->pending == 0)
		link_free(l);
}

struct rcpt_check {
	struct delivery_link *l;
	struct delivery_job *job;
};

/* One recipient of a request: a user here (or the Web Key Service's
 * address), whose Maildir joins the job. Nonzero refuses the delivery. */
static int add_rcpt(void *arg, const char *address)
{
	struct rcpt_check *rc = arg;
	struct daemon *d = rc->l->d;
	struct wkd_address a;
	char path[4096];
	enum smtp_rcpt_verdict v = wkd_address_parse(address, &a) < 0 ? SMTP_RCPT_RELAY_DENIED
								     : delivery_rcpt_verdict(d, &a);
	if (v != SMTP_RCPT_OK) {
		if (v != SMTP_RCPT_TEMPFAIL)
			daemon_log("delivery: the %s asked for a delivery to %s, %s", rc->l->what,
				   address, v == SMTP_RCPT_RELAY_DENIED ? "not a domain of ours" : "who is no user");
		return SMTP_DELIVER_TEMPFAIL;
	}
	struct delivery_job *job = rc->job;
	if (delivery_maildir_of(d, &a, path, sizeof(path)) < 0 ||
	    (job->paths[job->npaths] = strdup(path)) == NULL)
		return SMTP_DELIVER_TEMPFAIL;
	job->npaths++;
	return 0;
}

/* A new job, or NULL when memory is short. In the test build the first
 * SEALMAIL_TEST_WRITER_OOM jobs find none (privsep.sh). */
static struct delivery_job *job_new(void)
{
#ifdef SEALMAIL_DISHONEST
	static long failing = -1;
	if (failing < 0) {
		const char *v = getenv("SEALMAIL_TEST_WRITER_OOM");
		failing = v != NULL ? strtol(v, NULL, 10) : 0;
	}
	if (failing > 0) {
		failing--;
		return NULL;
	}
#endif
	return calloc(1, sizeof(struct delivery_job));
}

/* The request whose header is l->head, all of it in in: a job for the
 * delivery threads, or at once a refusal. -1 if it does not decode. */
static int serve_request(struct delivery_link *l, struct evbuffer *in)
{
	const struct dlv_header *h = &l->head;
	struct delivery_job *job = job_new();
	struct rcpt_check rc = {l, job};
	if (job == NULL || (job->paths = calloc(h->nrcpts, sizeof(char *))) == NULL) {
		/* Out of memory is this process's trouble, not a sign that the
		 * sender is hostile: "try again later" for this one message. */
		free(job);
		evbuffer_drain(in, h->rcpts_len + h->data_len);
		reply(l, h->id, SMTP_DELIVER_TEMPFAIL);
		return 0;
	}
	job->id = h->id;
	job->arg = l;
	job->done = answered;
	const uint8_t *rcpts = evbuffer_pullup(in, (ev_ssize_t)h->rcpts_len);
	int r = rcpts == NULL ? -1 : dlv_rcpts_walk(h, rcpts, add_rcpt, &rc);
	if (r == SM_EPARSE || rcpts == NULL) {
		delivery_job_free(job);
		return -1;
	}
	evbuffer_drain(in, h->rcpts_len);
	buf_init(&job->data, h->data_len);
	const uint8_t *data = h->data_len ? evbuffer_pullup(in, (ev_ssize_t)h->data_len) : NULL;
	if (r == 0 && h->data_len > 0 && (data == NULL || buf_append(&job->data, data, h->data_len) < 0))
		r = SMTP_DELIVER_TEMPFAIL;
	evbuffer_drain(in, h->data_len);
	l->pending++;
	if (r != 0) {
		job->result = (enum smtp_deliver_result)r;
		answered(job);
		return 0;
	}
	delivery_submit(l->d, job);
	return 0;
}

/* A peer that sends what does not decode is broken or hostile: the
 * channel ends here, and the process that sent it with it. */
static void malformed(struct delivery_link *l)
{
	daemon_log("delivery: a malformed delivery request from the %s %ld; ending it", l->what,
		   (long)l->peer);
	if (l->peer > 0)
		kill(l->peer, SIGKILL);
	link_close(l);
}

static void server_read(struct bufferevent *bev, void *arg)
{
	struct delivery_link *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	const struct conf *c = l->d->conf;
	const struct dlv_limits lim = {c->max_recipients, (uint32_t)(c->max_message_size + TRACE_MAX)};
	for (;;) {
		if (!l->have_head) {
			uint8_t h[DLV_HEADER_LEN];
			if (evbuffer_get_length(in) < DLV_HEADER_LEN)
				return;
			if (evbuffer_remove(in, h, sizeof(h)) != (int)sizeof(h) ||
			    dlv_header_decode(h, &lim, &l->head) < 0) {
				malformed(l);
				return;
			}
			l->have_head = true;
		}
		if (evbuffer_get_length(in) < (size_t)l->head.rcpts_len + l->head.data_len)
			return;
		l->have_head = false;
		if (serve_request(l, in) < 0) {
			malformed(l);
			return;
		}
	}
}

static void server_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		link_close(arg);
}

int delivery_link_serve(struct daemon *d, int fd, pid_t peer, const char *what,
			struct delivery_link **slot)
{
	if (*slot != NULL)
		link_close(*slot);
	struct delivery_link *l = link_new(d, fd, server_read, server_event);
	if (l == NULL) {
		daemon_log("delivery: cannot serve the %s's channel: %s", what, strerror(errno));
		return -1;
	}
	l->peer = peer;
	l->what = what;
	l->slot = slot;
	*slot = l;
	return 0;
}

void delivery_link_close(struct delivery_link *l)
{
	if (l != NULL)
		link_close(l);
}
