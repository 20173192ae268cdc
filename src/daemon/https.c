/* https.c: the key directory over HTTPS, in each HTTPS worker process:
 * WKD answers from wkd_http_route(), the publication endpoint
 * POST /sealmail/v1/publish, and the transparency endpoints under
 * /.well-known/sealmail/ (kt_http.c).
 *
 * Each connection is a small state machine over a non-blocking OpenSSL
 * stream (conn_run): handshake, read until http_request_parse() has a
 * whole request, answer it with one SSL_write of head and body, and go
 * on with the next request on the same connection. The socket is watched
 * edge-triggered for reading and writing at once, registered once: the
 * loop runs until OpenSSL wants to read or write more, so no request costs
 * an epoll_ctl (libevent's evhttp, used before, made two per request and
 * cost 40% of the throughput nginx has).
 *
 * Limits, each against what a peer controls:
 *   - time: a connection must send each whole request within
 *     http-request-timeout of the answer before it (or of its accept), and
 *     a client that stops reading an answer for that long is dropped; one
 *     timer a second checks every connection's deadline;
 *   - memory: the request buffer holds at most max-http-request bytes of
 *     head and STORE_CERT_MAX of body;
 *   - connections: a connection is counted against max-https-connections
 *     (this worker's) and max-https-connections-per-address (all workers',
 *     peer_limits.h) from its first whole request head; over either the
 *     answer is 503 and the connection closes;
 *   - lookups: lookup-rate per client address, across the workers
 *     (peer_limits.h), 429 past it. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/err.h>

#include "daemon.h"
#include "http.h"
#include "keyholder.h"
#include "wks_service.h"
#include "publish.h"
#include "peer_limits.h"
#include "kt.h"
#include "store_kt.h"
#include "transparency.h"
#include "wkd.h"
#include "wkd_http.h"

#define PUBLISH_PATH "/sealmail/v1/publish"
/* How long a closing connection may keep sending before it is dropped: its
 * unread bytes would otherwise turn our close into a reset that can
 * destroy the answer before the client reads it. */
#define LINGER_SECONDS 2
#define ACCEPTS_PER_EVENT 64
/* Answers one connection gets before the others have their turn: with an
 * edge-triggered socket a client that pipelines without end would
 * otherwise keep its worker to itself. */
#define ANSWERS_PER_TURN 16
/* A client must take an answer at this rate or better once
 * http-request-timeout has passed, or be dropped (a slow reader holding a
 * large answer in memory). */
#define ANSWER_BYTES_PER_SECOND 65536
/* What is read at once; OpenSSL hands out one record (at most 16 KB) per call. */
#define READ_CHUNK 16384

enum conn_state {
	CONN_HANDSHAKE, /* TLS handshake under way */
	CONN_OPEN,      /* reading requests, writing answers */
	CONN_LINGER,    /* the last answer is out; discarding what the client still sends */
};

struct https_conn {
	struct https *h;
	int fd;
	SSL *ssl;
	struct event *ev;
	enum conn_state state;
	struct buf in;  /* received, not yet answered */
	struct buf out; /* the answer being written */
	size_t out_off;
	int close_after; /* close once out is written */
	int counted;     /* counted against the connection caps */
	int continued;   /* "100 Continue" sent for the request in `in` */
	size_t scanned;  /* bytes of `in` seen without a whole head: the head can
			  * only end in a newline that comes after them */
	size_t want;     /* once the head is read: head and body's length */
	int head;        /* the request being answered is a HEAD: no body goes out */
	time_t deadline; /* CLOCK_MONOTONIC seconds */
	char peer[INET6_ADDRSTRLEN];
	struct https_conn *next, *prev;
};

struct https {
	struct daemon *d;
	unsigned slot;   /* this worker's, in d->peers */
	int fd;
	struct event *listener;
	struct event *tick; /* each second: deadlines, and the listener back after EMFILE */
	int listener_paused;
	struct https_conn *conns;
	size_t nconns;   /* all open connections */
	size_t ncounted; /* those counted against the caps */
	struct buf body; /* kt_http.c's answer bodies; valid until the answer is copied */
};

static time_t now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* ---- the key directory's callbacks (wkd_http.h) ---- */

static int served(void *ctx, const char *domain)
{
	const struct daemon *d = ctx;
	const struct conf_domain *dom = conf_find_domain(d->conf, domain);
	return dom != NULL && dom->wkd;
}

static int lookup_key(void *ctx, const char *domain, const char *hash, const uint8_t **ret_data,
		      size_t *ret_len)
{
	struct daemon *d = ctx;
	if (wks_key(d, domain, hash, ret_data, ret_len) == 0)
		return 0;
	buf_reset(&d->key);
	int r = store_key_by_hash(d->store, domain, hash, &d->key);
	if (r < 0)
		return r;
	*ret_data = d->key.data;
	*ret_len = d->key.len;
	return 0;
}

static int policy(void *ctx, const char *domain, const uint8_t **ret_data, size_t *ret_len)
{
	struct daemon *d = ctx;
	if (wks_policy(d, domain, ret_data, ret_len) == 0)
		return 0;
	*ret_data = d->policy.data ? d->policy.data : (const uint8_t *)"";
	*ret_len = d->policy.len;
	return 0;
}

static int submission_file(void *ctx, const char *domain, const uint8_t **ret_data,
			   size_t *ret_len)
{
	return wks_submission_file(ctx, domain, ret_data, ret_len);
}

/* ---- answers ---- */

/* Queues r (head and body) as the connection's answer. A head that does
 * not fit cannot happen with our own statuses and strings; if it did, the
 * connection closes without an answer. */
static void answer(struct https_conn *c, const struct http_response *r, int close)
{
	struct http_response dated = *r;
	buf_reset(&c->out);
	c->out_off = 0;
	c->close_after = close;
	size_t body_len = c->head ? 0 : r->body_len;
	dated.date = (int64_t)time(NULL);
	if (http_response_head(&dated, close, &c->out) < 0 ||
	    (body_len > 0 && buf_append(&c->out, r->body, body_len) < 0)) {
		daemon_log("https: an answer (status %d) could not be made", r->status);
		buf_reset(&c->out);
		c->close_after = 1;
	}
	c->deadline = now_seconds() + (time_t)c->h->d->conf->http_request_timeout +
		      (time_t)(c->out.len / ANSWER_BYTES_PER_SECOND);
}

static void answer_text(struct https_conn *c, int status, const char *text, int close)
{
	struct http_response r = {.status = status,
				  .content_type = "text/plain; charset=utf-8",
				  .cache_control = "no-store",
				  .content_length = strlen(text),
				  .body = (const uint8_t *)text,
				  .body_len = strlen(text)};
	answer(c, &r, close);
}

/* ---- requests ---- */

/* Computes the address's VRF index now, so that its epoch need not (a
 * failure only costs the epoch that time). */
static void index_address(struct daemon *d, const char *address)
{
	char canon[KT_ADDRESS_MAX];
	uint8_t proof[VRF_PROOF_LEN], beta[VRF_OUTPUT_LEN], idx[PTREE_IDX_LEN];
	struct wkd_address a;
	struct kt_domain *k = NULL;
	if (wkd_address_parse(address, &a) == 0)
		k = kt_find(d, a.domain);
	if (k == NULL || kt_canonical_address(address, canon) < 0 ||
	    keyholder_vrf_prove(d->kh, k->name, canon, proof) < 0 ||
	    vrf_proof_to_hash(proof, beta) < 0)
		return;
	kt_index(beta, idx);
	if (store_kt_put_index(d->store, address, idx, proof) < 0)
		daemon_log("https: cannot store the index of %s; its epoch will compute it", address);
}

/* The token of "Authorization: Bearer <token>" as a C string in out, or
 * NULL without one. */
static const char *bearer_token(const struct http_request *req, char *out, size_t outsz)
{
	static const char scheme[] = "Bearer ";
	size_t n = sizeof(scheme) - 1;
	if (req->authorization == NULL || req->authorization_len <= n ||
	    req->authorization_len - n >= outsz || memcmp(req->authorization, scheme, n) != 0)
		return NULL;
	memcpy(out, req->authorization + n, req->authorization_len - n);
	out[req->authorization_len - n] = 0;
	return out;
}

/* A publish request (publish.c): with a token, a first publication; without
 * one, an owner's change signed by a key served now. */
static void handle_publish(struct https_conn *c, const struct http_request *req, const uint8_t *body)
{
	struct daemon *d = c->h->d;
	char address[KT_ADDRESS_MAX], token[256];
	struct publish_answer ans;
	struct wkd_address a;
	if (req->method_len != 4 || memcmp(req->method, "POST", 4) != 0) {
		struct http_response r = {.status = 405,
					  .content_type = "text/plain; charset=utf-8",
					  .cache_control = "no-store",
					  .allow = "POST",
					  .content_length = 9,
					  .body = (const uint8_t *)"use POST\n",
					  .body_len = 9};
		answer(c, &r, !req->keep_alive);
		return;
	}
	if (http_query_param(req->query, req->query_len, "address", address, sizeof(address)) < 0 ||
	    wkd_address_parse(address, &a) < 0 || !served(d, a.domain)) {
		answer_text(c, 400, "usage: POST " PUBLISH_PATH "?address=ADDRESS with a sealmail "
				    "publish request as the body (and Authorization: Bearer TOKEN "
				    "for a first publication)\n", !req->keep_alive);
		return;
	}
	const char *tok = bearer_token(req, token, sizeof(token));
	if (publish_request(d, address, tok, body, (size_t)req->content_length, &ans) == 200 && tok)
		index_address(d, address);
	answer_text(c, ans.status, ans.text, !req->keep_alive);
}

static void handle_wkd(struct https_conn *c, const struct http_request *req)
{
	struct daemon *d = c->h->d;
	struct wkd_http_ops ops = {served, lookup_key, policy, d, submission_file};
	struct wkd_http_request wr = {req->method, req->method_len, req->target, req->target_len,
				      req->host, req->host_len};
	struct http_response r;
	wkd_http_route(&wr, &ops, &r);
	answer(c, &r, !req->keep_alive);
}

/* 1 if c is counted (now or before) within the caps; else it was answered
 * 503 and closes. */
static int conn_admitted(struct https_conn *c)
{
	struct https *h = c->h;
	const struct conf *conf = h->d->conf;
	if (c->counted)
		return 1;
	if (h->ncounted >= conf->max_https_connections ||
	    !peer_limits_admit(h->d->peers, h->slot, c->peer, conf->max_https_connections_per_address)) {
		answer_text(c, 503, "too many connections from your address or in all; try again later\n", 1);
		return 0;
	}
	c->counted = 1;
	h->ncounted++;
	return 1;
}

/* Key lookups (a WKD key, a lookup proof) are what enumerating a
 * directory takes, and an absent address costs a VRF proof: each client
 * address gets lookup-rate of them a minute, counted across the workers
 * (peer_limits.h). */
static int is_lookup(const char *path)
{
	return strstr(path, "/hu/") != NULL || strstr(path, "/lookup/") != NULL;
}

/* 1 if the request may go on; else it was answered 429. */
static int lookup_allowed(struct https_conn *c, const struct http_request *req)
{
	struct daemon *d = c->h->d;
	unsigned wait = 0;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (peer_limits_lookup(d->peers, c->peer, (double)now.tv_sec + now.tv_nsec / 1e9, &wait))
		return 1;
	static const char text[] = "too many key lookups from your address; try again later\n";
	struct http_response r = {.status = 429,
				  .content_type = "text/plain; charset=utf-8",
				  .cache_control = "no-store",
				  .retry_after = wait,
				  .content_length = sizeof(text) - 1,
				  .body = (const uint8_t *)text,
				  .body_len = sizeof(text) - 1};
	answer(c, &r, !req->keep_alive);
	return 0;
}

/* An empty buffer that grew for a large request or answer gives its
 * memory back, so that a thousand idle connections hold little. */
static void release_large(struct buf *b)
{
	size_t max = b->max;
	if (b->len > 0 || b->cap <= 2 * READ_CHUNK)
		return;
	buf_free(b);
	buf_init(b, max);
}

/* Answers the whole request req, whose body follows its head in c->in. */
static void handle_request(struct https_conn *c, const struct http_request *req)
{
	char path[WKD_HTTP_TARGET_MAX + 1], query[WKD_HTTP_TARGET_MAX + 1];
	if (req->target_len > WKD_HTTP_TARGET_MAX) {
		answer_text(c, 414, "request target too long\n", !req->keep_alive);
		return;
	}
	memcpy(path, req->path, req->path_len); /* no NUL inside: the parser allows only 0x21-0x7e */
	path[req->path_len] = 0;
	if (is_lookup(path) && !lookup_allowed(c, req))
		return;
	if (strcmp(path, PUBLISH_PATH) == 0) {
		handle_publish(c, req, c->in.data + req->head_len);
		return;
	}
	if (req->query != NULL)
		memcpy(query, req->query, req->query_len);
	query[req->query != NULL ? req->query_len : 0] = 0;
	struct http_response r;
	buf_reset(&c->h->body);
	if (kt_http_handle(c->h->d, req, path, req->query != NULL ? query : NULL, &c->h->body, &r))
		answer(c, &r, !req->keep_alive);
	else
		handle_wkd(c, req);
	buf_reset(&c->h->body);
	release_large(&c->h->body);
}

/* Removes the answered request (head_len + body bytes) from the front of
 * c->in. */
static void consume(struct https_conn *c, size_t n)
{
	memmove(c->in.data, c->in.data + n, c->in.len - n);
	buf_truncate(&c->in, c->in.len - n); /* wipes the request's copy left at the end */
	c->continued = 0;
	c->scanned = 0;
	c->want = 0;
	release_large(&c->in);
}

/* Parses the head at the start of c->in, unless no newline came since the
 * last try: a client sending a byte per TLS record must not have its head
 * parsed again for each of them. */
static int parse_head(struct https_conn *c, struct http_request *ret)
{
	size_t max_head = c->h->d->conf->max_http_request;
	if (c->in.len == c->scanned) /* nothing new (c->in.data may still be NULL) */
		return HTTP_PARSE_MORE;
	if (c->in.len <= max_head &&
	    memchr(c->in.data + c->scanned, '\n', c->in.len - c->scanned) == NULL) {
		c->scanned = c->in.len;
		return HTTP_PARSE_MORE;
	}
	int p = http_request_parse(c->in.data, c->in.len, max_head, STORE_CERT_MAX, ret);
	c->scanned = c->in.len;
	return p;
}

/* Queues "100 Continue" for a client that waits for it before its body. */
static void answer_continue(struct https_conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	buf_reset(&c->out);
	c->out_off = 0;
	c->continued = 1;
	if (buf_append(&c->out, cont, sizeof(cont) - 1) < 0)
		c->close_after = 1;
}

/* The first look at a request, as soon as its head is in: refused, or
 * admitted (only then may a body fill the buffer). 1 if an answer is now
 * queued, 0 if its body is to be read. */
static int process_head(struct https_conn *c)
{
	struct http_request req;
	int p = parse_head(c, &req);
	if (p == HTTP_PARSE_MORE)
		return 0;
	if (p == HTTP_PARSE_ERROR) {
		answer_text(c, req.status, req.error, 1);
		return 1;
	}
	if (!conn_admitted(c))
		return 1;
	c->want = req.head_len + (size_t)req.content_length;
	if (c->in.len < c->want && req.expect_continue) {
		answer_continue(c);
		return 1;
	}
	return 0;
}

/* Acts on what c->in holds: 1 if an answer is now queued, 0 if more bytes
 * are needed. */
static int process_input(struct https_conn *c)
{
	struct http_request req;
	if (c->want == 0 && process_head(c))
		return 1;
	if (c->want == 0 || c->in.len < c->want)
		return 0;
	/* The same bytes as in process_head: the same head, now with its body
	 * (the buffer may have moved since, so it is read again). */
	if (http_request_parse(c->in.data, c->in.len, c->h->d->conf->max_http_request,
			       STORE_CERT_MAX, &req) != HTTP_PARSE_HEAD) {
		answer_text(c, 500, "internal error\n", 1);
		return 1;
	}
	c->head = req.method_len == 4 && memcmp(req.method, "HEAD", 4) == 0;
	handle_request(c, &req);
	c->head = 0;
	consume(c, c->want);
	return 1;
}

/* ---- connections ---- */

static void conn_free(struct https_conn *c)
{
	struct https *h = c->h;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nconns--;
	if (c->counted) {
		h->ncounted--;
		peer_limits_release(h->d->peers, h->slot, c->peer);
	}
	if (c->ev)
		event_free(c->ev);
	SSL_free(c->ssl);
	close(c->fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
}

/* Reads and drops what a closing client still sends: -1 once it has
 * closed too (or failed), 0 while more may come. */
static int linger(struct https_conn *c)
{
	char scratch[4096];
	for (;;) {
		ssize_t n = recv(c->fd, scratch, sizeof(scratch), 0);
		if (n > 0)
			continue;
		return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
	}
}

/* Says goodbye properly: clients take a close without close_notify for a
 * truncation attack and drop the TLS session, so every new connection
 * would pay a full handshake. Then lingers until the client closes too. */
static void conn_close(struct https_conn *c)
{
	if (c->state == CONN_OPEN) {
		ERR_clear_error();
		if (SSL_shutdown(c->ssl) < 0)
			ERR_clear_error(); /* or the next connection's SSL_get_error() would see it */
	}
	if (c->state == CONN_HANDSHAKE || shutdown(c->fd, SHUT_WR) < 0) {
		conn_free(c);
		return;
	}
	c->state = CONN_LINGER;
	c->deadline = now_seconds() + LINGER_SECONDS;
	if (linger(c) < 0) /* what came already; the socket signals what comes later */
		conn_free(c);
}

/* What an OpenSSL call's failure means: 0 to wait for the socket, -1 to
 * drop the connection. */
static int ssl_wait(struct https_conn *c, int r)
{
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	ERR_clear_error();
	return -1;
}

/* Writes what is queued: 1 when all of it is out, 0 to wait, -1 to drop. */
static int flush_out(struct https_conn *c)
{
	while (c->out_off < c->out.len) {
		size_t n = c->out.len - c->out_off;
		ERR_clear_error(); /* SSL_get_error() reads the queue: only this call's errors */
		int r = SSL_write(c->ssl, c->out.data + c->out_off, n > INT32_MAX ? INT32_MAX : (int)n);
		if (r <= 0)
			return ssl_wait(c, r);
		c->out_off += (size_t)r;
	}
	buf_reset(&c->out);
	release_large(&c->out);
	c->out_off = 0;
	return 1;
}

/* Reads once into c->in: 1 if bytes came, 0 to wait, -1 to drop (the
 * client closed, or the buffer is full, which the parser's limits leave
 * only for a request that lies about its length). */
static int read_in(struct https_conn *c)
{
	uint8_t chunk[READ_CHUNK];
	size_t room = c->in.max - c->in.len;
	if (room == 0)
		return -1;
	ERR_clear_error();
	int r = SSL_read(c->ssl, chunk, room < sizeof(chunk) ? (int)room : (int)sizeof(chunk));
	if (r <= 0)
		return ssl_wait(c, r);
	return buf_append(&c->in, chunk, (size_t)r) == 0 ? 1 : -1;
}

/* Runs c until OpenSSL must wait for the socket; c may be gone after. */
static void conn_run(struct https_conn *c)
{
	int answers = 0;
	if (c->state == CONN_LINGER) {
		if (linger(c) < 0)
			conn_free(c);
		return;
	}
	if (c->state == CONN_HANDSHAKE) {
		ERR_clear_error();
		int r = SSL_do_handshake(c->ssl);
		if (r != 1) {
			if (ssl_wait(c, r) < 0)
				conn_free(c);
			return;
		}
		c->state = CONN_OPEN;
	}
	for (;;) {
		int r = flush_out(c);
		if (r == 1 && c->close_after) {
			conn_close(c);
			return;
		}
		if (r == 1 && answers == ANSWERS_PER_TURN) {
			/* the others' turn; the socket signals nothing new, so come back by hand */
			event_active(c->ev, EV_READ | EV_WRITE, 0);
			return;
		}
		if (r == 1 && process_input(c)) {
			answers++;
			continue;
		}
		if (r == 1)
			r = read_in(c);
		if (r < 0) {
			conn_free(c);
			return;
		}
		if (r == 0)
			return;
	}
}

static void on_conn_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_run(arg);
}

static void conn_new(struct https *h, int fd, const struct sockaddr_storage *ss)
{
	struct https_conn *c = calloc(1, sizeof(*c));
	const struct conf *conf = h->d->conf;
	if (c == NULL || (c->ssl = SSL_new(h->d->tls)) == NULL || SSL_set_fd(c->ssl, fd) != 1) {
		if (c != NULL)
			SSL_free(c->ssl);
		free(c);
		close(fd);
		return;
	}
	c->h = h;
	c->fd = fd;
	SSL_set_accept_state(c->ssl);
	SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_set_read_ahead(c->ssl, 1); /* a record in one read(), not a header and then a body */
	buf_init(&c->in, conf->max_http_request + STORE_CERT_MAX);
	buf_init(&c->out, (size_t)1 << 31);
	if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, c->peer, sizeof(c->peer));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, c->peer, sizeof(c->peer));
	c->deadline = now_seconds() + (time_t)conf->http_request_timeout;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	c->ev = event_new(h->d->base, fd, EV_READ | EV_WRITE | EV_PERSIST | EV_ET, on_conn_event, c);
	if (c->ev == NULL || event_add(c->ev, NULL) < 0) {
		conn_free(c);
		return;
	}
	conn_run(c);
}

/* The most connections a worker holds: max-https-connections counted ones,
 * and as many again that have not sent a whole request yet. */
static size_t conns_max(const struct https *h)
{
	return 2 * (size_t)h->d->conf->max_https_connections;
}

/* Stops accepting until the next tick; new connections wait in the
 * kernel's queue meanwhile. */
static void pause_listener(struct https *h)
{
	event_del(h->listener);
	h->listener_paused = 1;
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct https *h = arg;
	(void)what;
	for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		struct sockaddr_storage ss;
		if (h->nconns >= conns_max(h)) {
			pause_listener(h);
			return;
		}
		socklen_t len = sizeof(ss);
		int cfd = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			conn_new(h, cfd, &ss);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* Out of descriptors: stop accepting for a second instead of
			 * spinning on a socket that stays readable. */
			daemon_log("https: cannot accept: %s; pausing for a second", strerror(errno));
			pause_listener(h);
		}
		return;
	}
}

/* Each second: drops connections past their deadline, and accepts again
 * after a pause once there is room. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct https *h = arg;
	time_t now = now_seconds();
	(void)fd;
	(void)what;
	for (struct https_conn *c = h->conns, *next; c != NULL; c = next) {
		next = c->next;
		if (now >= c->deadline)
			conn_free(c);
	}
	if (h->listener_paused && h->nconns < conns_max(h) && event_add(h->listener, NULL) == 0)
		h->listener_paused = 0;
}

int https_start(struct daemon *d, int fd, unsigned slot)
{
	const struct timeval second = {1, 0};
	struct https *h = calloc(1, sizeof(*h));
	if (h == NULL || d->peers == NULL) {
		free(h);
		return -1;
	}
	peer_limits_worker_start(d->peers, slot);
	h->d = d;
	h->slot = slot;
	h->fd = fd;
	buf_init(&h->body, (size_t)1 << 31);
	h->listener = event_new(d->base, fd, EV_READ | EV_PERSIST, on_accept, h);
	h->tick = event_new(d->base, -1, EV_PERSIST, on_tick, h);
	if (h->listener == NULL || h->tick == NULL || event_add(h->listener, NULL) < 0 ||
	    event_add(h->tick, &second) < 0) {
		daemon_log("https: cannot watch the listening socket");
		d->https = h;
		https_stop(d);
		return -1;
	}
	d->https = h;
	return 0;
}

void https_stop(struct daemon *d)
{
	struct https *h = d->https;
	if (h == NULL)
		return;
	while (h->conns != NULL) {
		if (h->conns->state == CONN_OPEN && SSL_shutdown(h->conns->ssl) < 0)
			ERR_clear_error();
		conn_free(h->conns);
	}
	if (h->listener)
		event_free(h->listener);
	if (h->tick)
		event_free(h->tick);
	buf_free(&h->body);
	free(h);
	d->https = NULL;
}
