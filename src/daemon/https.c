/* https.c: the key directory over HTTPS (libevent's evhttp over
 * bufferevent_openssl): WKD answers from wkd_http_route(), the
 * publication endpoint POST /sealmail/v1/publish, and the transparency
 * endpoints under /.well-known/sealmail/ (kt_http.c). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "keyholder.h"
#include "wks_service.h"
#include "publish.h"
#include "rate.h"
#include "kt.h"
#include "store_kt.h"
#include "transparency.h"
#include "wkd.h"
#include "wkd_http.h"

#define PUBLISH_PATH "/sealmail/v1/publish"

/* A connection that has sent a request, counted against the caps
 * (max-https-connections and its per-address share) until it closes. */
struct https_conn {
	struct evhttp_connection *evcon;
	char peer[INET6_ADDRSTRLEN];
	struct https_conn *next, *prev;
};

struct https {
	struct evhttp *http;
	struct https_conn *conns;
	size_t nconns;
};

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

static const char *method_name(enum evhttp_cmd_type cmd)
{
	static const struct {
		enum evhttp_cmd_type cmd;
		const char *name;
	} names[] = {
		{EVHTTP_REQ_GET, "GET"},       {EVHTTP_REQ_HEAD, "HEAD"},     {EVHTTP_REQ_POST, "POST"},
		{EVHTTP_REQ_PUT, "PUT"},       {EVHTTP_REQ_DELETE, "DELETE"}, {EVHTTP_REQ_OPTIONS, "OPTIONS"},
		{EVHTTP_REQ_TRACE, "TRACE"},   {EVHTTP_REQ_CONNECT, "CONNECT"}, {EVHTTP_REQ_PATCH, "PATCH"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].cmd == cmd)
			return names[i].name;
	return "UNKNOWN";
}

static void add_header(struct evkeyvalq *h, const char *name, const char *value)
{
	if (value != NULL)
		evhttp_add_header(h, name, value);
}

static void send_wkd(struct evhttp_request *req, const struct wkd_http_response *r)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();
	char len[32];
	snprintf(len, sizeof(len), "%zu", r->content_length);
	add_header(h, "Content-Type", r->content_type);
	add_header(h, "Cache-Control", r->cache_control);
	add_header(h, "Access-Control-Allow-Origin", "*");
	add_header(h, "X-Content-Type-Options", "nosniff");
	add_header(h, "Content-Length", len);
	if (r->allow)
		add_header(h, "Allow", "GET, HEAD");
	if (body != NULL && r->body_len > 0)
		evbuffer_add(body, r->body, r->body_len);
	evhttp_send_reply(req, r->status, NULL, body);
	if (body != NULL)
		evbuffer_free(body);
}

static void handle_wkd(struct daemon *d, struct evhttp_request *req)
{
	const char *method = method_name(evhttp_request_get_command(req));
	const char *target = evhttp_request_get_uri(req);
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
	struct wkd_http_ops ops = {served, lookup_key, policy, d, submission_file};
	struct wkd_http_request wr = {method, strlen(method), target, strlen(target), host,
				      host ? strlen(host) : 0};
	struct wkd_http_response r;
	wkd_http_route(&wr, &ops, &r);
	send_wkd(req, &r);
}

static void reply_text(struct evhttp_request *req, int status, const char *text)
{
	struct evbuffer *body = evbuffer_new();
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=utf-8");
	if (body != NULL)
		evbuffer_add(body, text, strlen(text));
	evhttp_send_reply(req, status, NULL, body);
	if (body != NULL)
		evbuffer_free(body);
}

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

static const char *bearer_token(struct evhttp_request *req)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0)
		return NULL;
	return auth + 7;
}

/* A publish request (publish.c): with a token, a first publication; without
 * one, an owner's change signed by a key served now. */
static void handle_publish(struct daemon *d, struct evhttp_request *req, const char *query)
{
	struct evkeyvalq params;
	struct publish_answer ans;
	const char *address = NULL, *token = bearer_token(req);
	struct wkd_address a;
	TAILQ_INIT(&params);
	if (query != NULL && evhttp_parse_query_str(query, &params) == 0)
		address = evhttp_find_header(&params, "address");
	if (address == NULL || wkd_address_parse(address, &a) < 0 || !served(d, a.domain)) {
		reply_text(req, 400, "usage: POST " PUBLISH_PATH "?address=ADDRESS with a sealmail "
				     "publish request as the body (and Authorization: Bearer TOKEN "
				     "for a first publication)\n");
		evhttp_clear_headers(&params);
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const uint8_t *data = len ? evbuffer_pullup(in, -1) : NULL;
	if (publish_request(d, address, token, data, len, &ans) == 200 && token != NULL)
		index_address(d, address);
	reply_text(req, ans.status, ans.text);
	evhttp_clear_headers(&params);
}

/* libevent frees a TLS connection without a close_notify; clients then
 * take the close for a truncation attack and drop the TLS session, so
 * every new connection pays a full handshake. Say goodbye properly. */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
	struct daemon *d = arg;
	struct https *h = d->https;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	if (ssl != NULL && SSL_is_init_finished(ssl))
		SSL_shutdown(ssl);
	for (struct https_conn *c = h != NULL ? h->conns : NULL; c != NULL; c = c->next) {
		if (c->evcon != evcon)
			continue;
		if (c->prev)
			c->prev->next = c->next;
		else
			h->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		h->nconns--;
		free(c);
		return;
	}
}

/* 1 if req's connection is counted (now or before) within the caps; else
 * req was answered 503 and its connection closes. */
static int conn_admitted(struct daemon *d, struct evhttp_request *req)
{
	struct https *h = d->https;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port = 0;
	size_t from_peer = 0;
	evhttp_connection_get_peer(evcon, &addr, &port);
	const char *peer = addr != NULL ? addr : "-";
	for (const struct https_conn *c = h->conns; c != NULL; c = c->next) {
		if (c->evcon == evcon)
			return 1;
		from_peer += strcmp(c->peer, peer) == 0;
	}
	struct https_conn *c = NULL;
	if (h->nconns < d->conf->max_https_connections &&
	    from_peer < d->conf->max_https_connections_per_address)
		c = calloc(1, sizeof(*c));
	if (c == NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
		reply_text(req, 503, "too many connections from your address or in all; try again later\n");
		return 0;
	}
	c->evcon = evcon;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	evhttp_connection_set_closecb(evcon, on_close, d);
	return 1;
}

/* Key lookups (a WKD key, a lookup proof) are what enumerating a
 * directory takes, and an absent address costs a VRF proof: each client
 * address gets lookup-rate of them a minute, in every process. */
static int is_lookup(const char *path)
{
	return path != NULL && (strstr(path, "/hu/") != NULL || strstr(path, "/lookup/") != NULL);
}

/* 1 if req may go on; else it was answered 429. */
static int lookup_allowed(struct daemon *d, struct evhttp_request *req)
{
	char *addr = NULL;
	ev_uint16_t port = 0;
	unsigned wait = 0;
	char retry[16];
	struct timespec now;
	if (d->lookups == NULL)
		return 1;
	evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (rate_take(d->lookups, addr ? addr : "-", (double)now.tv_sec + now.tv_nsec / 1e9, &wait))
		return 1;
	snprintf(retry, sizeof(retry), "%u", wait);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", retry);
	reply_text(req, 429, "too many key lookups from your address; try again later\n");
	return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	if (!conn_admitted(d, req))
		return;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (is_lookup(path) && !lookup_allowed(d, req))
		return;
	if (path != NULL && strcmp(path, PUBLISH_PATH) == 0) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
			reply_text(req, 405, "use POST\n");
			return;
		}
		handle_publish(d, req, evhttp_uri_get_query(uri));
		return;
	}
	if (path != NULL && kt_http_handle(d, req, path, evhttp_uri_get_query(uri)))
		return;
	handle_wkd(d, req);
}

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	struct daemon *d = arg;
	SSL *ssl = SSL_new(d->tls);
	if (ssl == NULL)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

int https_start(struct daemon *d, int fd)
{
	const struct conf *c = d->conf;
	struct https *h = calloc(1, sizeof(*h));
	if (h == NULL || (h->http = evhttp_new(d->base)) == NULL) {
		free(h);
		return -1;
	}
	if (d->lookups == NULL && (d->lookups = malloc(sizeof(*d->lookups))) != NULL)
		rate_init(d->lookups, c->lookup_rate, c->lookup_rate / 10 > 10 ? c->lookup_rate / 10 : 10);
	evhttp_set_bevcb(h->http, tls_bev, d);
	evhttp_set_gencb(h->http, on_request, d);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(h->http, (ev_ssize_t)c->max_http_request);
	evhttp_set_max_body_size(h->http, STORE_CERT_MAX);
	evhttp_set_timeout(h->http, (int)c->http_request_timeout);
	if (evhttp_accept_socket(h->http, fd) < 0) {
		daemon_log("https: cannot accept on the listening socket");
		evhttp_free(h->http);
		free(h);
		return -1;
	}
	d->https = h;
	return 0;
}

void https_stop(struct daemon *d)
{
	free(d->lookups);
	d->lookups = NULL;
	if (d->https == NULL)
		return;
	evhttp_free(d->https->http); /* runs on_close for every connection */
	while (d->https->conns != NULL) {
		struct https_conn *c = d->https->conns;
		d->https->conns = c->next;
		free(c);
	}
	free(d->https);
	d->https = NULL;
}
