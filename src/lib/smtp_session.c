/* smtp_session.c: the SMTP server state machine, modelled on OpenSMTPD's
 * smtp_session.c: a command table says which states take which command,
 * and each handler checks its argument, answers, and moves the state. */
#include "smtp_session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"

#define SMTP_CMD_MAX 510  /* command line without CRLF (512 with it) */
#define SMTP_TEXT_MAX 998 /* text line without CRLF (1000 with it) */
#define SMTP_REPLY_LINE_MAX 512

enum smtp_state { S_INIT, S_HELO, S_MAIL, S_RCPT, S_DATA, S_DELIVERING, S_TLS, S_CLOSED };
#define ST(x) (1u << (x))
#define ST_CMD (ST(S_INIT) | ST(S_HELO) | ST(S_MAIL) | ST(S_RCPT))

/* Where in the message data the last octet left us. */
enum data_pos {
	D_BOL,    /* after CRLF (or at the start) */
	D_DOT,    /* "." at the start of a line */
	D_DOT_CR, /* "." CR at the start of a line */
	D_TEXT,   /* inside a line */
	D_CR,     /* CR inside a line */
};

/* Why a message is refused at its end; it is no longer stored once set. */
#define DF_BIG 1u
#define DF_BARE 2u
#define DF_LONG 4u
#define DF_NOMEM 8u

struct smtp_session {
	char host[SMTP_SESSION_HOST_MAX + 1];
	size_t max_size, max_rcpts;
	unsigned max_errors, errors;
	bool tls_available, tls, esmtp;
	struct smtp_session_callbacks cb;
	enum smtp_state state;
	int err;        /* sticky fatal error */
	struct buf out; /* queued replies */
	/* the command line being read */
	char line[SMTP_CMD_MAX + 2];
	size_t line_len;
	bool line_overflow;
	char helo[SMTP_SESSION_HOST_MAX + 1];
	/* the transaction */
	char from[SMTP_SESSION_PATH_MAX + 1];
	enum smtp_body body;
	size_t declared_size;
	struct wkd_address *rcpts; /* rcpt_cap entries, at most max_rcpts */
	size_t rcpt_count, rcpt_cap;
	/* the message */
	struct buf msg;
	enum data_pos pos;
	size_t text_len, msg_size;
	unsigned data_flags;
};

/* ---- replies ---- */

static void vreply(struct smtp_session *s, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static void vreply(struct smtp_session *s, const char *fmt, va_list ap)
{
	char line[SMTP_REPLY_LINE_MAX + 1];
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	if (s->err != 0)
		return;
	if (n < 0 || (size_t)n >= sizeof(line) - 2) {
		s->err = SM_EINVAL; /* a reply we built is too long: a bug */
		return;
	}
	memcpy(line + n, "\r\n", 2);
	int r = buf_append(&s->out, line, (size_t)n + 2);
	if (r < 0)
		s->err = r;
}

static void reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
}

/* A reply that counts against max_errors: the peer did something wrong. */
static void reply_err(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_err(struct smtp_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply(s, fmt, ap);
	va_end(ap);
	if (++s->errors < s->max_errors)
		return;
	reply(s, "421 4.7.0 %s Error: too many errors, closing connection", s->host);
	s->state = S_CLOSED;
}

/* ---- envelope ---- */

static void transaction_reset(struct smtp_session *s)
{
	s->from[0] = 0;
	s->body = SMTP_BODY_UNSPECIFIED;
	s->declared_size = 0;
	s->rcpt_count = 0;
	buf_free(&s->msg);
	s->data_flags = 0;
	s->msg_size = 0;
}

/* Back to the state after the greeting, as after STARTTLS. */
static void session_reset(struct smtp_session *s)
{
	transaction_reset(s);
	s->helo[0] = 0;
	s->esmtp = false;
	s->state = S_INIT;
}

static void envelope_fill(const struct smtp_session *s, struct smtp_envelope *env)
{
	env->helo = s->helo;
	env->mail_from = s->from;
	env->rcpts = s->rcpts;
	env->rcpt_count = s->rcpt_count;
	env->body = s->body;
	env->declared_size = s->declared_size;
	env->esmtp = s->esmtp;
	env->tls = s->tls;
}

static int rcpt_add(struct smtp_session *s, const struct wkd_address *a)
{
	if (s->rcpt_count == s->rcpt_cap) {
		size_t cap = s->rcpt_cap ? s->rcpt_cap * 2 : 8;
		if (cap > s->max_rcpts)
			cap = s->max_rcpts;
		struct wkd_address *p = realloc(s->rcpts, cap * sizeof(*p));
		if (p == NULL)
			return SM_ENOMEM;
		s->rcpts = p;
		s->rcpt_cap = cap;
	}
	s->rcpts[s->rcpt_count++] = *a;
	return 0;
}

static bool rcpt_known(const struct smtp_session *s, const struct wkd_address *a)
{
	for (size_t i = 0; i < s->rcpt_count; i++)
		if (wkd_address_equal(&s->rcpts[i], a))
			return true;
	return false;
}

/* ---- argument parsing ---- */

/* A host name or address literal as we take it in EHLO and the config:
 * printable ASCII without spaces. */
static bool host_valid(const char *h)
{
	size_t n = strlen(h);
	if (n == 0 || n > SMTP_SESSION_HOST_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)h[i] <= 0x20 || (unsigned char)h[i] >= 0x7f)
			return false;
	return true;
}

/* Splits "<path> params" in place: *ret_path is the path without its
 * brackets or source route (RFC 5321 4.1.3 says to ignore it), *ret_params
 * what follows. A space after the colon is tolerated, as everyone does. */
static int path_split(char *p, char **ret_path, char **ret_params)
{
	while (*p == ' ')
		p++;
	if (*p != '<')
		return SM_EPARSE;
	char *end = strchr(++p, '>');
	if (end == NULL || (size_t)(end - p) > SMTP_SESSION_PATH_MAX - 2)
		return SM_EPARSE;
	if (end[1] != 0 && end[1] != ' ')
		return SM_EPARSE;
	*end = 0;
	if (*p == '@') {
		char *colon = strchr(p, ':');
		if (colon == NULL)
			return SM_EPARSE;
		p = colon + 1;
	}
	*ret_path = p;
	*ret_params = end + 1;
	return 0;
}

/* Digits only, no sign, no overflow: strtoull alone accepts " -1". */
static int size_parse(const char *v, size_t *ret)
{
	if (*v == 0 || strspn(v, "0123456789") != strlen(v))
		return SM_EPARSE;
	errno = 0;
	unsigned long long n = strtoull(v, NULL, 10);
	if (errno == ERANGE || n > SIZE_MAX)
		n = SIZE_MAX; /* over any limit we can have */
	*ret = (size_t)n;
	return 0;
}

/* Next space-separated word of *p, NUL-terminated in place; NULL at the end. */
static char *word_next(char **p)
{
	char *w = *p;
	while (*w == ' ')
		w++;
	if (*w == 0)
		return NULL;
	char *e = w + strcspn(w, " ");
	*p = *e ? e + 1 : e;
	*e = 0;
	return w;
}

/* ---- MAIL, RCPT ---- */

/* One MAIL FROM parameter; answers and returns < 0 if it is refused. */
static int mail_param(struct smtp_session *s, char *w)
{
	char *v = strchr(w, '=');
	if (!s->esmtp || v == NULL)
		goto unsupported;
	*v++ = 0;
	if (strcasecmp(w, "SIZE") == 0) {
		if (size_parse(v, &s->declared_size) < 0) {
			reply_err(s, "501 5.5.4 Syntax error in SIZE parameter");
			return SM_EPARSE;
		}
		if (s->declared_size > s->max_size) {
			reply(s, "552 5.3.4 Message size exceeds fixed maximum message size");
			return SM_ETOOBIG;
		}
		return 0;
	}
	if (strcasecmp(w, "BODY") == 0) {
		if (strcasecmp(v, "8BITMIME") == 0 || strcasecmp(v, "7BIT") == 0) {
			s->body = v[0] == '7' ? SMTP_BODY_7BIT : SMTP_BODY_8BITMIME;
			return 0;
		}
		reply_err(s, "501 5.5.4 Syntax error in BODY parameter");
		return SM_EPARSE;
	}
unsupported:
	reply_err(s, "555 5.5.4 Unsupported MAIL FROM parameter");
	return SM_EINVAL;
}

static int mail_from_set(struct smtp_session *s, const char *path)
{
	struct wkd_address a;
	if (*path == 0) {
		s->from[0] = 0;
		return 0;
	}
	if (wkd_address_parse(path, &a) < 0)
		return SM_EINVAL;
	return wkd_address_format(&a, s->from, sizeof(s->from));
}

static void cmd_mail(struct smtp_session *s, char *arg)
{
	char *path, *params, *w;
	if (strncasecmp(arg, "FROM:", 5) != 0) {
		reply_err(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	if (path_split(arg + 5, &path, &params) < 0 || mail_from_set(s, path) < 0) {
		reply_err(s, "501 5.1.7 Bad sender address syntax");
		transaction_reset(s);
		return;
	}
	while ((w = word_next(&params)) != NULL) {
		if (mail_param(s, w) < 0) {
			transaction_reset(s);
			return;
		}
	}
	s->state = S_MAIL;
	reply(s, "250 2.1.0 Ok");
}

/* "<postmaster>" without a domain must be accepted (RFC 5321 4.5.1). */
static int rcpt_parse(const struct smtp_session *s, const char *path, struct wkd_address *ret)
{
	if (strcasecmp(path, "postmaster") != 0)
		return wkd_address_parse(path, ret);
	char pm[sizeof("postmaster@") + SMTP_SESSION_HOST_MAX];
	int n = snprintf(pm, sizeof(pm), "postmaster@%s", s->host);
	if (n < 0 || (size_t)n >= sizeof(pm))
		return SM_EINVAL;
	return wkd_address_parse(pm, ret);
}

static void rcpt_verdict(struct smtp_session *s, const struct wkd_address *a, enum smtp_rcpt_verdict v)
{
	switch (v) {
	case SMTP_RCPT_OK:
		if (rcpt_add(s, a) < 0) {
			reply(s, "452 4.3.1 Insufficient system storage");
			return;
		}
		s->state = S_RCPT;
		reply(s, "250 2.1.5 Ok");
		return;
	case SMTP_RCPT_UNKNOWN:
		reply_err(s, "550 5.1.1 Recipient address rejected: user unknown");
		return;
	case SMTP_RCPT_RELAY_DENIED:
		reply_err(s, "550 5.7.1 Recipient address rejected: relaying denied");
		return;
	case SMTP_RCPT_TEMPFAIL:
		break;
	}
	reply(s, "451 4.3.0 Recipient address rejected: try again later");
}

static void cmd_rcpt(struct smtp_session *s, char *arg)
{
	char *path, *params;
	struct wkd_address a;
	struct smtp_envelope env;
	if (strncasecmp(arg, "TO:", 3) != 0) {
		reply_err(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (path_split(arg + 3, &path, &params) < 0 || rcpt_parse(s, path, &a) < 0) {
		reply_err(s, "501 5.1.3 Bad recipient address syntax");
		return;
	}
	if (word_next(&params) != NULL) {
		reply_err(s, "555 5.5.4 Unsupported RCPT TO parameter");
		return;
	}
	if (rcpt_known(s, &a)) {
		reply(s, "250 2.1.5 Ok");
		return;
	}
	/* not an error: the client sends the rest in another transaction */
	if (s->rcpt_count >= s->max_rcpts) {
		reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	envelope_fill(s, &env);
	rcpt_verdict(s, &a, s->cb.rcpt(s->cb.arg, &env, &a));
}

/* ---- DATA ---- */

static void cmd_data(struct smtp_session *s, char *arg)
{
	(void)arg;
	buf_free(&s->msg);
	s->pos = D_BOL;
	s->text_len = 0;
	s->msg_size = 0;
	s->data_flags = 0;
	s->state = S_DATA;
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void deliver_reply(struct smtp_session *s, enum smtp_deliver_result r)
{
	switch (r) {
	case SMTP_DELIVER_OK:
		reply(s, "250 2.0.0 Ok: message accepted for delivery");
		break;
	case SMTP_DELIVER_NOSPACE:
		reply(s, "452 4.3.1 Insufficient system storage");
		break;
	case SMTP_DELIVER_REJECT:
		reply(s, "554 5.7.1 Message refused");
		break;
	case SMTP_DELIVER_TEMPFAIL:
	case SMTP_DELIVER_PENDING: /* not an answer: fail safe */
		reply(s, "451 4.3.0 Error: local error in processing, try again later");
		break;
	}
	transaction_reset(s);
	s->state = S_HELO;
}

/* The message ended with CRLF.CRLF: refuse it or hand it over. Whatever
 * the answer, it is sent only from here, so no 250 without the callback. */
static void data_end(struct smtp_session *s)
{
	struct smtp_envelope env;
	static const uint8_t empty[1];
	const char *refusal = NULL;
	if (s->msg_size > s->max_size || (s->data_flags & DF_BIG))
		refusal = "552 5.3.4 Message size exceeds fixed maximum message size";
	else if (s->data_flags & DF_BARE)
		refusal = "554 5.6.0 Message rejected: bare CR or LF in message (RFC 5321 2.3.8)";
	else if (s->data_flags & DF_LONG)
		refusal = "554 5.6.0 Message rejected: text line longer than 1000 octets";
	else if (s->data_flags & DF_NOMEM)
		refusal = "452 4.3.1 Insufficient system storage";
	if (refusal != NULL) {
		reply(s, "%s", refusal);
		transaction_reset(s);
		s->state = S_HELO;
		return;
	}
	envelope_fill(s, &env);
	s->state = S_DELIVERING;
	enum smtp_deliver_result r = s->cb.deliver(s->cb.arg, &env,
		s->msg.data != NULL ? s->msg.data : empty, s->msg.len);
	if (r != SMTP_DELIVER_PENDING)
		deliver_reply(s, r);
}

/* Stores message octets until the first reason to refuse the message;
 * from then on only the size is counted, so a hostile peer costs no memory. */
static void data_store(struct smtp_session *s, const void *p, size_t n)
{
	s->msg_size = n > SIZE_MAX - s->msg_size ? SIZE_MAX : s->msg_size + n;
	if (s->data_flags != 0)
		return;
	int r = buf_append(&s->msg, p, n);
	if (r == 0)
		return;
	s->data_flags |= r == SM_ETOOBIG ? DF_BIG : DF_NOMEM;
	buf_free(&s->msg);
}

static void data_flag(struct smtp_session *s, unsigned flag)
{
	s->data_flags |= flag;
	buf_free(&s->msg);
}

/* One octet inside a line (D_TEXT). A bare LF leaves us inside the line:
 * only CRLF starts a new one, so only CRLF.CRLF can end the data. */
static void data_text(struct smtp_session *s, uint8_t c)
{
	s->pos = D_TEXT;
	if (c == '\r') {
		s->pos = D_CR;
		return;
	}
	if (c == '\n') {
		data_flag(s, DF_BARE);
		return;
	}
	if (++s->text_len > SMTP_TEXT_MAX && !(s->data_flags & DF_LONG))
		data_flag(s, DF_LONG);
	data_store(s, &c, 1);
}

static void data_octet(struct smtp_session *s, uint8_t c)
{
	switch (s->pos) {
	case D_BOL:
		if (c == '.') {
			s->pos = D_DOT;
			s->text_len = 1;
			return;
		}
		break;
	case D_DOT: /* a stuffed dot: dropped (RFC 5321 4.5.2) */
		if (c == '\r') {
			s->pos = D_DOT_CR;
			return;
		}
		break;
	case D_DOT_CR:
		if (c == '\n') {
			data_end(s);
			return;
		}
		data_flag(s, DF_BARE);
		break;
	case D_CR:
		if (c == '\n') {
			data_store(s, "\r\n", 2);
			s->pos = D_BOL;
			s->text_len = 0;
			return;
		}
		data_flag(s, DF_BARE);
		break;
	case D_TEXT:
		break;
	}
	data_text(s, c);
}

/* Consumes message octets until the data ends or the input does. The
 * common case, a run of text inside a line, is copied in one step. */
static size_t data_feed(struct smtp_session *s, const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len && s->state == S_DATA) {
		size_t run = 0;
		if (s->pos == D_TEXT)
			while (i + run < len && p[i + run] != '\r' && p[i + run] != '\n')
				run++;
		if (run == 0) {
			data_octet(s, p[i++]);
			continue;
		}
		s->text_len += run;
		if (s->text_len > SMTP_TEXT_MAX && !(s->data_flags & DF_LONG))
			data_flag(s, DF_LONG);
		data_store(s, p + i, run);
		i += run;
	}
	return i;
}

/* ---- the other commands ---- */

static int greeted(struct smtp_session *s, const char *arg, bool esmtp)
{
	if (!host_valid(arg)) {
		reply_err(s, "501 5.5.4 Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		return SM_EINVAL;
	}
	transaction_reset(s);
	memcpy(s->helo, arg, strlen(arg) + 1);
	s->esmtp = esmtp;
	s->state = S_HELO;
	return 0;
}

static void cmd_ehlo(struct smtp_session *s, char *arg)
{
	char size[32];
	const char *ext[5];
	size_t n = 0;
	if (greeted(s, arg, true) < 0)
		return;
	snprintf(size, sizeof(size), "SIZE %zu", s->max_size);
	ext[n++] = size;
	ext[n++] = "8BITMIME";
	ext[n++] = "PIPELINING";
	ext[n++] = "ENHANCEDSTATUSCODES";
	if (s->tls_available && !s->tls)
		ext[n++] = "STARTTLS";
	reply(s, "250-%s", s->host);
	for (size_t i = 0; i < n; i++)
		reply(s, "250%c%s", i + 1 == n ? ' ' : '-', ext[i]);
}

static void cmd_helo(struct smtp_session *s, char *arg)
{
	if (greeted(s, arg, false) == 0)
		reply(s, "250 %s", s->host);
}

static void cmd_rset(struct smtp_session *s, char *arg)
{
	(void)arg;
	transaction_reset(s);
	if (s->state != S_INIT)
		s->state = S_HELO;
	reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(struct smtp_session *s, char *arg)
{
	(void)arg;
	reply(s, "250 2.0.0 Ok");
}

static void cmd_quit(struct smtp_session *s, char *arg)
{
	(void)arg;
	reply(s, "221 2.0.0 %s closing connection", s->host);
	s->state = S_CLOSED;
}

static void cmd_vrfy(struct smtp_session *s, char *arg)
{
	(void)arg;
	reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_help(struct smtp_session *s, char *arg)
{
	(void)arg;
	reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP%s",
	      s->tls_available && !s->tls ? " STARTTLS" : "");
}

static void cmd_starttls(struct smtp_session *s, char *arg)
{
	(void)arg;
	if (!s->tls_available) {
		reply_err(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	if (s->tls) {
		reply_err(s, "503 5.5.1 Error: TLS already active");
		return;
	}
	reply(s, "220 2.0.0 Ready to start TLS");
	s->state = S_TLS;
}

static void cmd_not_offered(struct smtp_session *s, char *arg)
{
	(void)arg;
	reply_err(s, "502 5.5.1 Error: command not implemented");
}

/* An HTTP or proxy client talking to port 25 (a browser made to POST to
 * us, a cross-protocol attack): the rest of its request is not SMTP. */
static void cmd_not_smtp(struct smtp_session *s, char *arg)
{
	(void)arg;
	reply(s, "421 4.7.0 %s Error: not an SMTP client, closing connection", s->host);
	s->state = S_CLOSED;
}

enum arg_rule { ARG_ANY, ARG_NONE, ARG_NEEDED };

struct smtp_cmd {
	const char *name;
	void (*fn)(struct smtp_session *s, char *arg);
	unsigned states; /* where it may come; elsewhere 503 */
	enum arg_rule arg;
};

static const struct smtp_cmd smtp_cmds[] = {
	{"EHLO", cmd_ehlo, ST_CMD, ARG_NEEDED},
	{"HELO", cmd_helo, ST_CMD, ARG_NEEDED},
	{"MAIL", cmd_mail, ST(S_HELO), ARG_NEEDED},
	{"RCPT", cmd_rcpt, ST(S_MAIL) | ST(S_RCPT), ARG_NEEDED},
	{"DATA", cmd_data, ST(S_RCPT), ARG_NONE},
	{"RSET", cmd_rset, ST_CMD, ARG_NONE},
	{"NOOP", cmd_noop, ST_CMD, ARG_ANY},
	{"QUIT", cmd_quit, ST_CMD, ARG_NONE},
	{"VRFY", cmd_vrfy, ST_CMD, ARG_NEEDED},
	{"HELP", cmd_help, ST_CMD, ARG_ANY},
	{"STARTTLS", cmd_starttls, ST(S_HELO), ARG_NONE},
	{"AUTH", cmd_not_offered, ST_CMD, ARG_ANY},
	{"EXPN", cmd_not_offered, ST_CMD, ARG_ANY},
	{"GET", cmd_not_smtp, ST_CMD, ARG_ANY},
	{"POST", cmd_not_smtp, ST_CMD, ARG_ANY},
	{"CONNECT", cmd_not_smtp, ST_CMD, ARG_ANY},
};

static const struct smtp_cmd *cmd_find(const char *verb, size_t len)
{
	for (size_t i = 0; i < sizeof(smtp_cmds) / sizeof(smtp_cmds[0]); i++)
		if (strlen(smtp_cmds[i].name) == len && strncasecmp(smtp_cmds[i].name, verb, len) == 0)
			return &smtp_cmds[i];
	return NULL;
}

static void dispatch(struct smtp_session *s, char *line)
{
	size_t vlen = strcspn(line, " ");
	char *arg = line + vlen;
	while (*arg == ' ')
		arg++;
	const struct smtp_cmd *c = cmd_find(line, vlen);
	if (c == NULL) {
		reply_err(s, "500 5.5.2 Error: command not recognized");
		return;
	}
	if (!(c->states & ST(s->state))) {
		reply_err(s, "503 5.5.1 Error: bad sequence of commands");
		return;
	}
	if ((c->arg == ARG_NONE && *arg != 0) || (c->arg == ARG_NEEDED && *arg == 0)) {
		reply_err(s, "501 5.5.4 Syntax error in parameters");
		return;
	}
	c->fn(s, arg);
}

/* ---- command lines ---- */

/* A complete line (its LF consumed). Over-long lines were never stored. */
static void line_done(struct smtp_session *s)
{
	size_t n = s->line_len;
	bool overflow = s->line_overflow;
	s->line_len = 0;
	s->line_overflow = false;
	if (n > 0 && s->line[n - 1] == '\r')
		n--;
	if (overflow || n > SMTP_CMD_MAX) {
		reply_err(s, "500 5.5.2 Error: line too long");
		return;
	}
	while (n > 0 && s->line[n - 1] == ' ')
		n--;
	if (memchr(s->line, 0, n) != NULL) {
		reply_err(s, "500 5.5.2 Error: NUL in command line");
		return;
	}
	s->line[n] = 0;
	dispatch(s, s->line);
}

/* Consumes up to and including one LF; what does not fit in the line
 * buffer is dropped and the line marked too long. */
static size_t cmd_feed(struct smtp_session *s, const uint8_t *p, size_t len)
{
	const uint8_t *lf = memchr(p, '\n', len);
	size_t n = lf != NULL ? (size_t)(lf - p) : len;
	size_t room = sizeof(s->line) - 1 - s->line_len;
	if (n > room)
		s->line_overflow = true;
	memcpy(s->line + s->line_len, p, n > room ? room : n);
	s->line_len += n > room ? room : n;
	if (lf == NULL)
		return len;
	line_done(s);
	return n + 1;
}

static bool output_full(const struct smtp_session *s)
{
	return s->out.max - s->out.len < SMTP_SESSION_REPLY_ROOM;
}

/* ---- public ---- */

int smtp_session_feed(struct smtp_session *s, const uint8_t *data, size_t len, size_t *ret_consumed)
{
	size_t i = 0;
	if (s->err != 0)
		return s->err;
	while (i < len) {
		if (s->state == S_TLS || s->state == S_CLOSED) {
			i = len; /* discarded: nothing after STARTTLS or QUIT is obeyed */
			break;
		}
		if (s->state == S_DELIVERING)
			break;
		if (s->state == S_DATA) {
			i += data_feed(s, data + i, len - i);
			continue;
		}
		/* Room for the largest reply one line can cause (EHLO, or an
		 * error and the 421), and for DATA also the reply at its end. */
		if (output_full(s))
			break;
		i += cmd_feed(s, data + i, len - i);
		if (s->err != 0)
			return s->err;
	}
	*ret_consumed = i;
	return 0;
}

const uint8_t *smtp_session_output(const struct smtp_session *s, size_t *ret_len)
{
	static const uint8_t empty[1];
	*ret_len = s->out.len;
	return s->out.data != NULL ? s->out.data : empty;
}

int smtp_session_output_consume(struct smtp_session *s, size_t n)
{
	if (n > s->out.len)
		return SM_EINVAL;
	if (n == 0)
		return 0;
	memmove(s->out.data, s->out.data + n, s->out.len - n);
	s->out.len -= n;
	s->out.data[s->out.len] = 0;
	return 0;
}

enum smtp_wait smtp_session_wait(const struct smtp_session *s)
{
	static const enum smtp_wait wait[] = {
		[S_INIT] = SMTP_WAIT_COMMAND, [S_HELO] = SMTP_WAIT_COMMAND,
		[S_MAIL] = SMTP_WAIT_COMMAND, [S_RCPT] = SMTP_WAIT_COMMAND,
		[S_DATA] = SMTP_WAIT_DATA,    [S_DELIVERING] = SMTP_WAIT_DELIVERY,
		[S_TLS] = SMTP_WAIT_TLS,      [S_CLOSED] = SMTP_WAIT_CLOSE,
	};
	return s->err != 0 ? SMTP_WAIT_CLOSE : wait[s->state];
}

int smtp_session_deliver_done(struct smtp_session *s, enum smtp_deliver_result result)
{
	if (s->state != S_DELIVERING || result == SMTP_DELIVER_PENDING ||
	    (unsigned)result > (unsigned)SMTP_DELIVER_PENDING)
		return SM_EINVAL;
	deliver_reply(s, result);
	return s->err;
}

int smtp_session_starttls_done(struct smtp_session *s)
{
	if (s->state != S_TLS)
		return SM_EINVAL;
	session_reset(s);
	s->tls = true;
	s->line_len = 0;
	s->line_overflow = false;
	return 0;
}

static int config_check(const struct smtp_session_config *cfg, const struct smtp_session_callbacks *cb)
{
	if (cfg->hostname == NULL || !host_valid(cfg->hostname))
		return SM_EINVAL;
	if (cfg->max_message_size == 0 || cfg->max_recipients == 0 || cfg->max_errors == 0)
		return SM_EINVAL;
	if (cfg->output_max != 0 && cfg->output_max < 2 * SMTP_SESSION_REPLY_ROOM)
		return SM_EINVAL;
	if (cb->rcpt == NULL || cb->deliver == NULL)
		return SM_EINVAL;
	return 0;
}

int smtp_session_new(const struct smtp_session_config *cfg, const struct smtp_session_callbacks *cb,
		     struct smtp_session **ret)
{
	int r = config_check(cfg, cb);
	if (r < 0)
		return r;
	struct smtp_session *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SM_ENOMEM;
	memcpy(s->host, cfg->hostname, strlen(cfg->hostname) + 1);
	s->max_size = cfg->max_message_size;
	s->max_rcpts = cfg->max_recipients;
	s->max_errors = cfg->max_errors;
	s->tls_available = cfg->tls_available;
	s->cb = *cb;
	buf_init(&s->out, cfg->output_max ? cfg->output_max : SMTP_SESSION_OUTPUT_DEFAULT);
	buf_init(&s->msg, cfg->max_message_size);
	session_reset(s);
	reply(s, "220 %s ESMTP", s->host);
	if (s->err != 0) {
		r = s->err;
		smtp_session_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	buf_free(&s->out);
	buf_free(&s->msg);
	free(s->rcpts);
	free(s);
}
