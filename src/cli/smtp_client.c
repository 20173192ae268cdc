#include "smtp_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "buf.h"

#define SMTP_IN_MAX 4096
#define SMTP_TEXT_LINE_MAX 998 /* RFC 5322 2.1.1, without CRLF */
#define SMTP_CRED_MAX 128      /* user name and password for AUTH PLAIN */

/* The one client TLS context of the process (created by smtp_client_tls_init). */
static SSL_CTX *tls_ctx;

/* One connection to one server; lives for one smtp_deliver() call. */
struct conn {
	int fd;
	SSL *ssl;
	const char *host;
	int timeout_ms;
	long long deadline;        /* of the wait in progress, CLOCK_MONOTONIC ms */
	uint8_t in[SMTP_IN_MAX];   /* received, not yet consumed */
	size_t in_len;
	char why[SMTP_TEXT_MAX];   /* our reason when an operation failed locally */
	bool starttls, auth_plain, size; /* from the last EHLO */
	unsigned long long size_max;      /* 0: no limit stated */
};

struct reply {
	int code;                  /* 0 when no valid reply arrived (see conn.why) */
	char text[SMTP_TEXT_MAX];  /* first line */
};

int smtp_client_tls_init(void)
{
	tls_ctx = SSL_CTX_new(TLS_client_method());
	if (tls_ctx == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER, NULL);
	if (SSL_CTX_set_default_verify_paths(tls_ctx) != 1) {
		smtp_client_tls_free();
		return -1;
	}
	return 0;
}

void smtp_client_tls_free(void)
{
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- bounded waits and raw I/O ---- */

static int wait_fd(struct conn *c, short events)
{
	for (;;) {
		long long left = c->deadline - now_ms();
		if (left <= 0)
			return fail(c, "%s: no answer within %d seconds", c->host, c->timeout_ms / 1000);
		struct pollfd p = {.fd = c->fd, .events = events};
		int r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return fail(c, "%s: poll: %s", c->host, strerror(errno));
	}
}

/* What to do after an SSL call returned r <= 0: 0 to retry, -1 on failure. */
static int tls_retry(struct conn *c, int r, const char *what)
{
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(c, POLLIN);
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(c, POLLOUT);
	if (e == SSL_ERROR_ZERO_RETURN)
		return fail(c, "%s: the server closed the connection", c->host);
	unsigned long err = ERR_get_error();
	return fail(c, "%s: TLS %s failed: %s", c->host, what,
		    err ? ERR_reason_error_string(err) : "connection lost");
}

/* Reads what is available into c->in; -1 on error or end of stream. */
static int conn_fill(struct conn *c)
{
	size_t room = sizeof(c->in) - c->in_len;
	for (;;) {
		ssize_t n;
		if (c->ssl != NULL) {
			ERR_clear_error();
			int r = SSL_read(c->ssl, c->in + c->in_len, (int)room);
			if (r > 0) {
				c->in_len += (size_t)r;
				return 0;
			}
			if (tls_retry(c, r, "read") < 0)
				return -1;
			continue;
		}
		n = read(c->fd, c->in + c->in_len, room);
		if (n > 0) {
			c->in_len += (size_t)n;
			return 0;
		}
		if (n == 0)
			return fail(c, "%s: the server closed the connection", c->host);
		if (errno != EAGAIN && errno != EINTR)
			return fail(c, "%s: read: %s", c->host, strerror(errno));
		if (errno == EAGAIN && wait_fd(c, POLLIN) < 0)
			return -1;
	}
}

static int conn_write(struct conn *c, const uint8_t *data, size_t len)
{
	while (len > 0) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : len;
		ssize_t n;
		if (c->ssl != NULL) {
			ERR_clear_error();
			int r = SSL_write(c->ssl, data, (int)chunk);
			if (r <= 0 && tls_retry(c, r, "write") < 0)
				return -1;
			n = r > 0 ? r : 0;
		} else {
			n = write(c->fd, data, chunk);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return fail(c, "%s: write: %s", c->host, strerror(errno));
			if (n < 0 && errno == EAGAIN && wait_fd(c, POLLOUT) < 0)
				return -1;
			n = n > 0 ? n : 0;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- replies ---- */

/* Takes one CRLF-terminated line (without CRLF) out of c->in into line. */
static int read_line(struct conn *c, char line[SMTP_REPLY_LINE_MAX + 1])
{
	for (;;) {
		uint8_t *lf = memchr(c->in, '\n', c->in_len);
		if (lf != NULL) {
			size_t n = (size_t)(lf - c->in);
			if (n == 0 || c->in[n - 1] != '\r' || n - 1 > SMTP_REPLY_LINE_MAX)
				return fail(c, "%s: malformed reply line", c->host);
			memcpy(line, c->in, n - 1);
			line[n - 1] = 0;
			memmove(c->in, lf + 1, c->in_len - n - 1);
			c->in_len -= n + 1;
			return 0;
		}
		if (c->in_len > SMTP_REPLY_LINE_MAX)
			return fail(c, "%s: reply line over %d octets", c->host, SMTP_REPLY_LINE_MAX);
		if (conn_fill(c) < 0)
			return -1;
	}
}

/* The code of one reply line, checking "DDD", "DDD " or "DDD-" and its characters. */
static int line_code(const char *line, bool *ret_more)
{
	if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
	    line[2] < '0' || line[2] > '9')
		return -1;
	if (line[3] != 0 && line[3] != ' ' && line[3] != '-')
		return -1;
	for (const char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return -1;
	*ret_more = line[3] == '-';
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

typedef void line_fn(struct conn *c, const char *text);

/* Reads one whole (possibly multi-line) reply within one time-out. */
static int reply_read(struct conn *c, struct reply *r, int timeout_ms, line_fn *each)
{
	char line[SMTP_REPLY_LINE_MAX + 1];
	bool more = true;
	r->code = 0;
	c->deadline = now_ms() + timeout_ms;
	for (int i = 0; more; i++) {
		if (i == SMTP_REPLY_LINES_MAX)
			return fail(c, "%s: reply of over %d lines", c->host, SMTP_REPLY_LINES_MAX);
		if (read_line(c, line) < 0)
			return -1;
		int code = line_code(line, &more);
		if (code < 0 || (i > 0 && code != r->code))
			return fail(c, "%s: malformed reply", c->host);
		if (i == 0)
			snprintf(r->text, sizeof(r->text), "%.*s", (int)sizeof(r->text) - 1, line);
		if (each != NULL && i > 0)
			each(c, line + 4);
		r->code = code;
	}
	return 0;
}

/* Sends one command line (without CRLF) and reads the reply. */
static int command(struct conn *c, struct reply *r, line_fn *each, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int command(struct conn *c, struct reply *r, line_fn *each, const char *fmt, ...)
{
	char line[SMTP_REPLY_LINE_MAX + 3];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2 || n > 510)
		return fail(c, "%s: command too long", c->host);
	memcpy(line + n, "\r\n", 2);
	r->code = 0;
	c->deadline = now_ms() + c->timeout_ms;
	int st = conn_write(c, (const uint8_t *)line, (size_t)n + 2);
	explicit_bzero(line, sizeof(line)); /* AUTH data passes through here */
	if (st < 0)
		return -1;
	return reply_read(c, r, c->timeout_ms, each);
}

/* ---- connecting ---- */

static int connect_one(struct conn *c, const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	if (fd < 0)
		return fail(c, "%s: socket: %s", c->host, strerror(errno));
	c->fd = fd;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	int err = errno;
	socklen_t len = sizeof(err);
	if (err == EINPROGRESS) {
		c->deadline = now_ms() + (c->timeout_ms < 30000 ? c->timeout_ms : 30000);
		if (wait_fd(c, POLLOUT) == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
		    err == 0)
			return 0;
	}
	close(fd);
	c->fd = -1;
	return err == EINPROGRESS ? -1 : fail(c, "cannot connect to %s: %s", c->host, strerror(err));
}

static int conn_open(struct conn *c, const char *port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int r = getaddrinfo(c->host, port, &hints, &res);
	if (r != 0)
		return fail(c, "cannot find the address of %s: %s", c->host, gai_strerror(r));
	r = -1;
	for (struct addrinfo *ai = res; ai != NULL && r < 0; ai = ai->ai_next)
		r = connect_one(c, ai);
	freeaddrinfo(res);
	return r;
}

static void conn_close(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
}

/* ---- extensions, TLS, AUTH ---- */

/* "SIZE" or "SIZE <digits>"; anything else leaves the limit unknown. */
static void ehlo_size(struct conn *c, const char *arg)
{
	unsigned long long v = 0;
	c->size = true;
	for (; *arg >= '0' && *arg <= '9' && v < (1ull << 50); arg++)
		v = v * 10 + (unsigned)(*arg - '0');
	c->size_max = *arg == 0 ? v : 0;
}

/* Whether the space-separated list words holds word (case-insensitive). */
static bool has_word(const char *words, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = words; *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && strncasecmp(p, word, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

static void ehlo_line(struct conn *c, const char *text)
{
	if (strcasecmp(text, "STARTTLS") == 0)
		c->starttls = true;
	else if (strcasecmp(text, "SIZE") == 0)
		ehlo_size(c, "");
	else if (strncasecmp(text, "SIZE ", 5) == 0)
		ehlo_size(c, text + 5);
	else if (strncasecmp(text, "AUTH ", 5) == 0 && has_word(text + 5, "PLAIN"))
		c->auth_plain = true;
}

static int ehlo(struct conn *c, struct reply *r, const char *helo)
{
	c->starttls = c->auth_plain = c->size = false;
	c->size_max = 0;
	return command(c, r, ehlo_line, "EHLO %s", helo);
}

static int tls_start(struct conn *c)
{
	c->ssl = SSL_new(tls_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, c->host) != 1 || SSL_set1_host(c->ssl, c->host) != 1)
		return fail(c, "%s: cannot set up TLS", c->host);
	c->deadline = now_ms() + c->timeout_ms;
	for (;;) {
		ERR_clear_error();
		int r = SSL_connect(c->ssl);
		if (r == 1)
			return 0;
		long v = SSL_get_verify_result(c->ssl);
		if (v != X509_V_OK)
			return fail(c, "%s: certificate not trusted for that name: %s", c->host,
				    X509_verify_cert_error_string(v));
		if (tls_retry(c, r, "handshake") < 0)
			return -1;
	}
}

/* STARTTLS and the handshake. Anything the server sent after its 220
 * would have been injected before TLS (CVE-2011-0411): refuse it. */
static int starttls(struct conn *c, struct reply *r)
{
	if (command(c, r, NULL, "STARTTLS") < 0)
		return -1;
	if (r->code != 220)
		return 0;
	if (c->in_len != 0)
		return fail(c, "%s: data after the STARTTLS reply", c->host);
	r->code = 0;
	return tls_start(c);
}

static int auth_plain(struct conn *c, struct reply *r, const char *user, const char *password)
{
	size_t ul = strlen(user), pl = strlen(password);
	unsigned char raw[2 * SMTP_CRED_MAX + 2];
	unsigned char b64[4 * sizeof(raw) / 3 + 4];
	if (ul > SMTP_CRED_MAX || pl > SMTP_CRED_MAX)
		return fail(c, "%s: user name or password over %d octets", c->host, SMTP_CRED_MAX);
	raw[0] = 0;
	memcpy(raw + 1, user, ul);
	raw[1 + ul] = 0;
	memcpy(raw + 2 + ul, password, pl);
	EVP_EncodeBlock(b64, raw, (int)(ul + pl + 2));
	int st = command(c, r, NULL, "AUTH PLAIN %s", (const char *)b64);
	explicit_bzero(raw, sizeof(raw));
	explicit_bzero(b64, sizeof(b64));
	return st;
}

/* ---- the message ---- */

/* The DATA body: CRLF line ends, leading dots doubled, ending in ".\r\n".
 * Returns -1 for a line over 998 octets (RFC 5322 2.1.1). */
static int body_build(const uint8_t *msg, size_t len, struct buf *out)
{
	size_t i = 0;
	while (i < len) {
		const uint8_t *lf = memchr(msg + i, '\n', len - i);
		size_t end = lf ? (size_t)(lf - msg) : len;
		size_t n = end - i;
		if (n > 0 && msg[end - 1] == '\r')
			n--;
		if (n > SMTP_TEXT_LINE_MAX)
			return -1;
		if ((msg[i] == '.' && n > 0 && buf_append(out, ".", 1) < 0) ||
		    buf_append(out, msg + i, n) < 0 || buf_append(out, "\r\n", 2) < 0)
			return -2;
		i = end + 1;
	}
	return buf_append(out, ".\r\n", 3) < 0 ? -2 : 0;
}

/* ---- the transaction ---- */

static bool path_ok(const char *a)
{
	for (; *a; a++)
		if ((unsigned char)*a <= 0x20 || (unsigned char)*a >= 0x7f || *a == '<' || *a == '>')
			return false;
	return true;
}

/* Gives every recipient still pending (untried, or accepted but not yet
 * delivered) the outcome code/text. */
static void mark_pending(struct smtp_envelope *e, int code, const char *text)
{
	for (size_t i = 0; i < e->n; i++) {
		if (e->rcpts[i].code != 0 && e->rcpts[i].code / 100 != 2)
			continue;
		e->rcpts[i].code = code;
		snprintf(e->rcpts[i].text, sizeof(e->rcpts[i].text), "%s", text);
	}
}

/* A reply that ends the transaction before DATA succeeds. */
static int refuse(struct smtp_envelope *e, const struct reply *r)
{
	mark_pending(e, r->code, r->text);
	return r->code / 100 == 5 ? SMTP_FAILED : SMTP_NEXT;
}

static int local_fail(struct smtp_envelope *e, const struct conn *c, int code)
{
	mark_pending(e, code, c->why);
	return code / 100 == 5 ? SMTP_FAILED : SMTP_NEXT;
}

/* Greeting, EHLO, STARTTLS (and EHLO again), AUTH: up to MAIL. */
static int session_open(struct conn *c, const struct smtp_policy *p, struct reply *r)
{
	if (reply_read(c, r, c->timeout_ms, NULL) < 0 || r->code != 220)
		return -1;
	if (ehlo(c, r, p->helo) < 0 || r->code != 250)
		return -1;
	if (!c->starttls && (p->require_tls || p->user != NULL)) {
		r->code = 0;
		return fail(c, "%s offers no STARTTLS, and TLS is required", c->host);
	}
	if (c->starttls && (starttls(c, r) < 0 || r->code != 0 || ehlo(c, r, p->helo) < 0 ||
			    r->code != 250))
		return -1;
	if (p->user == NULL)
		return 0;
	if (!c->auth_plain) {
		r->code = 0;
		return fail(c, "%s does not offer AUTH PLAIN", c->host);
	}
	if (auth_plain(c, r, p->user, p->password) < 0 || r->code != 235)
		return -1;
	return 0;
}

static void rcpt_all(struct conn *c, struct smtp_envelope *e, size_t *ret_accepted)
{
	struct reply r;
	*ret_accepted = 0;
	for (size_t i = 0; i < e->n; i++) {
		if (!path_ok(e->rcpts[i].address)) {
			e->rcpts[i].code = 553;
			snprintf(e->rcpts[i].text, sizeof(e->rcpts[i].text), "553 not a valid address");
			continue;
		}
		if (command(c, &r, NULL, "RCPT TO:<%s>", e->rcpts[i].address) < 0) {
			e->rcpts[i].code = 421;
			snprintf(e->rcpts[i].text, sizeof(e->rcpts[i].text), "%s", c->why);
			return;
		}
		e->rcpts[i].code = r.code == 250 || r.code == 251 ? 250 : r.code;
		snprintf(e->rcpts[i].text, sizeof(e->rcpts[i].text), "%s", r.text);
		*ret_accepted += r.code / 100 == 2;
	}
}

/* MAIL, RCPT, DATA. */
static int transaction(struct conn *c, struct smtp_envelope *e, const struct buf *body)
{
	struct reply r;
	char size[32] = "";
	if (c->size_max > 0 && body->len > c->size_max) {
		fail(c, "552 the message (%zu octets) is over %s's limit of %llu", body->len,
		     c->host, c->size_max);
		return local_fail(e, c, 552);
	}
	if (c->size)
		snprintf(size, sizeof(size), " SIZE=%zu", body->len);
	if (command(c, &r, NULL, "MAIL FROM:<%s>%s", e->from, size) < 0)
		return local_fail(e, c, 421);
	if (r.code != 250)
		return refuse(e, &r);
	size_t accepted;
	rcpt_all(c, e, &accepted);
	if (accepted == 0)
		return SMTP_DONE;
	if (command(c, &r, NULL, "DATA") < 0)
		return local_fail(e, c, 421);
	if (r.code != 354)
		return refuse(e, &r) == SMTP_FAILED ? SMTP_DONE : SMTP_NEXT;
	c->deadline = now_ms() + 2 * c->timeout_ms;
	if (conn_write(c, body->data, body->len) < 0 ||
	    reply_read(c, &r, 2 * c->timeout_ms, NULL) < 0)
		return local_fail(e, c, 421);
	mark_pending(e, r.code, r.text);
	return r.code / 100 == 4 ? SMTP_NEXT : SMTP_DONE;
}

static void quit(struct conn *c)
{
	struct reply r;
	c->timeout_ms = c->timeout_ms < 5000 ? c->timeout_ms : 5000;
	(void)command(c, &r, NULL, "QUIT");
}

static int deliver_body(const char *host, const char *port, const struct smtp_policy *p,
			struct smtp_envelope *e, const struct buf *body)
{
	struct conn c = {.fd = -1, .host = host, .timeout_ms = p->timeout_s * 1000};
	struct reply r = {.code = 0};
	int st;
	if (conn_open(&c, port) < 0)
		st = local_fail(e, &c, 421);
	else if (session_open(&c, p, &r) < 0)
		st = r.code != 0 ? refuse(e, &r) : local_fail(e, &c, 421);
	else
		st = transaction(&c, e, body);
	if (c.fd >= 0 && st != SMTP_NEXT)
		quit(&c);
	conn_close(&c);
	return st;
}

int smtp_deliver(const char *host, const char *port, const struct smtp_policy *p,
		 struct smtp_envelope *e)
{
	struct buf body;
	int st = SMTP_FAILED;
	buf_init(&body, 2 * e->len + 16);
	for (size_t i = 0; i < e->n; i++)
		e->rcpts[i].host = host;
	int b = body_build(e->msg, e->len, &body);
	if (!path_ok(e->from))
		mark_pending(e, 553, "553 the sender address cannot be sent in SMTP");
	else if (b == -1)
		mark_pending(e, 554, "554 the message has a line over 998 octets");
	else if (b < 0)
		mark_pending(e, 552, "552 the message is too large");
	else
		st = deliver_body(host, port, p, e, &body);
	buf_free(&body);
	return st;
}
