#include <sys/resource.h>

#include "buf.h"
#include "check.h"
#include "smtp_session.h"

#define HOST "mx.jedi.test"
#define SIZE_LIMIT 1000

/* One session under test, with what its callbacks saw. */
struct h {
	struct smtp_session *s;
	struct buf out;  /* every reply, in order */
	struct buf msg;  /* the last delivered message */
	unsigned deliveries, rcpt_calls;
	enum smtp_deliver_result result; /* what the delivery callback answers */
	char from[SMTP_SESSION_PATH_MAX + 1];
	size_t rcpt_count;
	char rcpt0[400];
	bool tls;
	enum smtp_body body;
};

/* Recipients: any user at jedi.test except unknown* (no such user) and
 * temp* (lookup fails); every other domain is a relay attempt. */
static enum smtp_rcpt_verdict t_rcpt(void *arg, const struct smtp_envelope *env,
				     const struct wkd_address *a)
{
	struct h *h = arg;
	(void)env;
	h->rcpt_calls++;
	if (strcmp(a->domain, "jedi.test") != 0 && strcmp(a->domain, HOST) != 0)
		return SMTP_RCPT_RELAY_DENIED;
	if (strncmp(a->local, "unknown", 7) == 0)
		return SMTP_RCPT_UNKNOWN;
	if (strncmp(a->local, "temp", 4) == 0)
		return SMTP_RCPT_TEMPFAIL;
	return SMTP_RCPT_OK;
}

static enum smtp_deliver_result t_deliver(void *arg, const struct smtp_envelope *env,
					  const uint8_t *msg, size_t len)
{
	struct h *h = arg;
	h->deliveries++;
	buf_reset(&h->msg);
	CHECK_INT(buf_append(&h->msg, msg, len), 0);
	snprintf(h->from, sizeof(h->from), "%s", env->mail_from);
	h->rcpt_count = env->rcpt_count;
	h->rcpt0[0] = 0;
	if (env->rcpt_count > 0)
		CHECK_INT(wkd_address_format(&env->rcpts[0], h->rcpt0, sizeof(h->rcpt0)), 0);
	h->tls = env->tls;
	h->body = env->body;
	return h->result;
}

static struct smtp_session_config cfg_default(void)
{
	struct smtp_session_config c = {
		.hostname = HOST, .max_message_size = SIZE_LIMIT, .max_recipients = 5,
		.max_errors = 10, .output_max = 0, .tls_available = true,
	};
	return c;
}

static void drain(struct h *h)
{
	size_t n;
	const uint8_t *p = smtp_session_output(h->s, &n);
	CHECK_INT(buf_append(&h->out, p, n), 0);
	CHECK_INT(smtp_session_output_consume(h->s, n), 0);
}

static void h_open(struct h *h, const struct smtp_session_config *cfg)
{
	struct smtp_session_callbacks cb = {t_rcpt, t_deliver, h};
	memset(h, 0, sizeof(*h));
	buf_init(&h->out, 16u << 20);
	buf_init(&h->msg, 64u << 20);
	h->result = SMTP_DELIVER_OK;
	CHECK_INT(smtp_session_new(cfg, &cb, &h->s), 0);
	drain(h);
}

static void h_close(struct h *h)
{
	smtp_session_free(h->s);
	buf_free(&h->out);
	buf_free(&h->msg);
}

/* Feeds len octets in pieces of chunk (0: at once), draining the output
 * after every call as a client that reads its replies would; returns how
 * many octets the session consumed. */
static size_t feed_n(struct h *h, const void *data, size_t len, size_t chunk)
{
	const uint8_t *p = data;
	size_t off = 0;
	while (off < len) {
		size_t n = chunk != 0 && chunk < len - off ? chunk : len - off, used = 0;
		size_t before = h->out.len;
		CHECK_INT(smtp_session_feed(h->s, p + off, n, &used), 0);
		CHECK(used <= n);
		drain(h);
		off += used;
		if (used == 0 && h->out.len == before)
			break;
	}
	return off;
}

static size_t feed(struct h *h, const char *text)
{
	return feed_n(h, text, strlen(text), 0);
}

/* The code of every last reply line ("250-" continuations skipped), space
 * separated: "220 250 250 354 250 221". */
static const char *codes(const struct h *h)
{
	static char c[65536];
	size_t o = 0;
	const char *p = h->out.data != NULL ? (const char *)h->out.data : "";
	c[0] = 0;
	for (const char *e; (e = strstr(p, "\r\n")) != NULL; p = e + 2) {
		if (e - p < 4 || p[3] != ' ' || o + 5 > sizeof(c))
			continue;
		memcpy(c + o, p, 3);
		c[o + 3] = ' ';
		o += 4;
	}
	c[o ? o - 1 : 0] = 0;
	return c;
}

static bool has_line(const struct h *h, const char *line)
{
	return h->out.data != NULL && strstr((const char *)h->out.data, line) != NULL;
}

#define PRELUDE "EHLO client.rebels.test\r\nMAIL FROM:<lea@rebels.test>\r\nRCPT TO:<luke@jedi.test>\r\n"

/* First, while the process is small: a 10 MB line must not be stored. */
static void data_10mb_line_bounded(void)
{
	static uint8_t chunk[65536];
	struct smtp_session_config cfg = cfg_default();
	struct rusage before, after;
	struct h h;
	cfg.max_message_size = 64u << 20; /* the size limit is not what stops it */
	h_open(&h, &cfg);
	memset(chunk, 'a', sizeof(chunk));
	feed(&h, PRELUDE "DATA\r\nSubject: long\r\n\r\n");
	CHECK_INT(getrusage(RUSAGE_SELF, &before), 0);
	for (int i = 0; i < 160; i++) /* 10 MiB */
		CHECK_INT(feed_n(&h, chunk, sizeof(chunk), 0), sizeof(chunk));
	CHECK_INT(getrusage(RUSAGE_SELF, &after), 0);
	CHECK(after.ru_maxrss - before.ru_maxrss < 4096); /* KiB: nothing like 10 MB */
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_DATA);
	feed(&h, "\r\n.\r\nQUIT\r\n");
	CHECK_STR(codes(&h), "220 250 250 250 354 554 221");
	CHECK(has_line(&h, "554 5.6.0 Message rejected: text line longer than 1000 octets\r\n"));
	CHECK_INT(h.deliveries, 0);
	h_close(&h);
}

static void greeting(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	CHECK_STR((char *)h.out.data, "220 " HOST " ESMTP\r\n");
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_COMMAND);
	h_close(&h);
}

static void config_rejected(void)
{
	struct smtp_session_callbacks cb = {t_rcpt, t_deliver, NULL}, nocb = {t_rcpt, NULL, NULL};
	struct smtp_session *s = (struct smtp_session *)&cb; /* must stay untouched */
	struct smtp_session_config c = cfg_default();
	CHECK_INT(smtp_session_new(&c, &nocb, &s), SM_EINVAL);
	c.hostname = "bad host";
	CHECK_INT(smtp_session_new(&c, &cb, &s), SM_EINVAL);
	c = cfg_default();
	c.max_message_size = 0;
	CHECK_INT(smtp_session_new(&c, &cb, &s), SM_EINVAL);
	c = cfg_default();
	c.max_recipients = 0;
	CHECK_INT(smtp_session_new(&c, &cb, &s), SM_EINVAL);
	c = cfg_default();
	c.max_errors = 0;
	CHECK_INT(smtp_session_new(&c, &cb, &s), SM_EINVAL);
	c = cfg_default();
	c.output_max = SMTP_SESSION_REPLY_ROOM;
	CHECK_INT(smtp_session_new(&c, &cb, &s), SM_EINVAL);
	CHECK(s == (struct smtp_session *)&cb);
	smtp_session_free(NULL);
}

static void happy_path(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, "EHLO client.rebels.test\r\n");
	feed(&h, "MAIL FROM:<lea@Rebels.TEST> SIZE=120 BODY=8BITMIME\r\n");
	feed(&h, "RCPT TO:<luke@jedi.test>\r\n");
	feed(&h, "DATA\r\n");
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_DATA);
	feed(&h, "Subject: hi\r\n\r\nHello Luke.\r\n.\r\n");
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_COMMAND);
	feed(&h, "QUIT\r\n");
	CHECK_STR((char *)h.out.data, "220 " HOST " ESMTP\r\n"
				     "250-" HOST "\r\n"
				     "250-SIZE 1000\r\n"
				     "250-8BITMIME\r\n"
				     "250-PIPELINING\r\n"
				     "250-ENHANCEDSTATUSCODES\r\n"
				     "250 STARTTLS\r\n"
				     "250 2.1.0 Ok\r\n"
				     "250 2.1.5 Ok\r\n"
				     "354 End data with <CR><LF>.<CR><LF>\r\n"
				     "250 2.0.0 Ok: message accepted for delivery\r\n"
				     "221 2.0.0 " HOST " closing connection\r\n");
	CHECK_INT(h.deliveries, 1);
	CHECK_STR((char *)h.msg.data, "Subject: hi\r\n\r\nHello Luke.\r\n");
	CHECK_STR(h.from, "lea@rebels.test");
	CHECK_INT(h.rcpt_count, 1);
	CHECK_STR(h.rcpt0, "luke@jedi.test");
	CHECK_INT(h.body, SMTP_BODY_8BITMIME);
	CHECK(!h.tls);
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_CLOSE);
	h_close(&h);
}

static void helo_and_extensions(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	cfg.tls_available = false;
	h_open(&h, &cfg);
	feed(&h, "EHLO [192.0.2.1]\r\n");
	CHECK(has_line(&h, "250 ENHANCEDSTATUSCODES\r\n"));
	CHECK(!has_line(&h, "STARTTLS"));
	feed(&h, "HELO client.rebels.test\r\nMAIL FROM:<lea@rebels.test> SIZE=10\r\n"
		 "MAIL FROM:<lea@rebels.test>\r\nRSET\r\nSTARTTLS\r\nHELO\r\nEHLO bad\x01name\r\n");
	CHECK_STR(codes(&h), "220 250 250 555 250 250 502 501 501");
	CHECK(has_line(&h, "250 " HOST "\r\n"));
	h_close(&h);
}

static void dot_stuffing(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, PRELUDE "DATA\r\n..leading dot\r\n...\r\n..\r\n.x\r\nend.\r\n.\r\n");
	CHECK_STR(codes(&h), "220 250 250 250 354 250");
	CHECK_STR((char *)h.msg.data, ".leading dot\r\n..\r\n.\r\nx\r\nend.\r\n");
	/* an empty message */
	feed(&h, "MAIL FROM:<>\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\n.\r\n");
	CHECK_INT(h.deliveries, 2);
	CHECK_INT(h.msg.len, 0);
	CHECK_STR(h.from, "");
	h_close(&h);
}

/* A whole session with errors, two messages and a RSET. */
static const char script[] =
	"NOOP\r\nMAIL FROM:<a@b.test>\r\nEHLO c.test\r\nMAIL FROM:<lea@rebels.test>\r\n"
	"RCPT TO:<unknown@jedi.test>\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\n"
	"line 1\r\n..two\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<x@elsewhere.test>\r\n"
	"RCPT TO:<lea@jedi.test>\r\nDATA\r\nbody\r\n.\r\nBOGUS\r\nQUIT\r\n";

static void pipelined_equals_bytewise(void)
{
	static const size_t chunks[] = {0, 1, 2, 3, 7, 13, 64};
	struct smtp_session_config cfg = cfg_default();
	struct h ref, h;
	h_open(&ref, &cfg);
	feed(&ref, script);
	CHECK_STR(codes(&ref), "220 250 503 250 250 550 250 354 250 250 250 550 250 354 250 500 221");
	for (size_t i = 1; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		h_open(&h, &cfg);
		CHECK_INT(feed_n(&h, script, strlen(script), chunks[i]), strlen(script));
		CHECK_STR((char *)h.out.data, (char *)ref.out.data);
		CHECK_INT(h.deliveries, 2);
		CHECK_STR((char *)h.msg.data, "body\r\n");
		h_close(&h);
	}
	h_close(&ref);
}

static void bad_sequence(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, "MAIL FROM:<lea@rebels.test>\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\nSTARTTLS\r\n"
		 "EHLO c.test\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\nMAIL FROM:<lea@rebels.test>\r\n"
		 "DATA\r\nMAIL FROM:<lea@rebels.test>\r\n");
	CHECK_STR(codes(&h), "220 503 503 503 503 250 503 503 250 503 503");
	CHECK(has_line(&h, "503 5.5.1 Error: bad sequence of commands\r\n"));
	CHECK_INT(h.rcpt_calls, 0);
	h_close(&h);
}

static void syntax_errors(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, "FOO\r\n\r\nEHLO\r\nEHLO c.test\r\nMAIL lea@rebels.test\r\nMAIL FROM:lea@rebels.test\r\n"
		 "MAIL FROM:<lea>\r\nMAIL FROM:<lea@rebels..test>\r\nMAIL FROM:<lea@rebels.test>x\r\n");
	CHECK_STR(codes(&h), "220 500 500 501 250 501 501 501 501 501");
	CHECK(has_line(&h, "500 5.5.2 Error: command not recognized\r\n"));
	CHECK(has_line(&h, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"));
	CHECK(has_line(&h, "501 5.1.7 Bad sender address syntax\r\n"));
	h_close(&h);
	h_open(&h, &cfg);
	feed(&h, "ehlo c.test\r\nmail from: <lea@rebels.test> body=7bit\r\nRCPT TO:luke@jedi.test\r\n"
		 "RCPT TO:<luke>\r\nRCPT TO:<luke@jedi.test> NOTIFY=NEVER\r\nRCPT TO:<Postmaster>\r\n"
		 "DATA x\r\nMAIL FROM:<lea@rebels.test> FOO=1\r\nRSET x\r\n");
	CHECK_STR(codes(&h), "220 250 250 501 501 555 250 501 503 501");
	CHECK(has_line(&h, "501 5.1.3 Bad recipient address syntax\r\n"));
	CHECK(has_line(&h, "555 5.5.4 Unsupported RCPT TO parameter\r\n"));
	CHECK(has_line(&h, "501 5.5.4 Syntax error in parameters\r\n"));
	h_close(&h);
}

static void source_route_and_nul(void)
{
	static const char in[] = "EHLO c.test\r\nMAIL FROM:<@relay.test:lea@rebels.test>\r\nNO\0OP\r\n";
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed_n(&h, in, sizeof(in) - 1, 0);
	CHECK_STR(codes(&h), "220 250 250 500");
	CHECK(has_line(&h, "500 5.5.2 Error: NUL in command line\r\n"));
	h_close(&h);
}

static void rcpt_verdicts(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, "EHLO c.test\r\nMAIL FROM:<lea@rebels.test>\r\nRCPT TO:<unknown@jedi.test>\r\n"
		 "RCPT TO:<han@rebels.test>\r\nRCPT TO:<temp@jedi.test>\r\nDATA\r\n"
		 "RCPT TO:<luke@jedi.test>\r\nRCPT TO:<LUKE@JEDI.test>\r\nRCPT TO:<Postmaster>\r\n"
		 "DATA\r\nx\r\n.\r\n");
	CHECK_STR(codes(&h), "220 250 250 550 550 451 503 250 250 250 354 250");
	CHECK(has_line(&h, "550 5.1.1 Recipient address rejected: user unknown\r\n"));
	CHECK(has_line(&h, "550 5.7.1 Recipient address rejected: relaying denied\r\n"));
	CHECK(has_line(&h, "451 4.3.0 Recipient address rejected: try again later\r\n"));
	CHECK_INT(h.rcpt_count, 2); /* the duplicate is folded */
	CHECK_INT(h.rcpt_calls, 5);
	h_close(&h);
}

static void too_many_recipients(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	cfg.max_recipients = 3;
	h_open(&h, &cfg);
	feed(&h, "EHLO c.test\r\nMAIL FROM:<lea@rebels.test>\r\nRCPT TO:<a@jedi.test>\r\n"
		 "RCPT TO:<b@jedi.test>\r\nRCPT TO:<c@jedi.test>\r\nRCPT TO:<d@jedi.test>\r\n"
		 "DATA\r\nx\r\n.\r\n");
	CHECK_STR(codes(&h), "220 250 250 250 250 250 452 354 250");
	CHECK(has_line(&h, "452 4.5.3 Error: too many recipients\r\n"));
	CHECK_INT(h.rcpt_count, 3);
	h_close(&h);
}

static void size_in_mail(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, "EHLO c.test\r\nMAIL FROM:<lea@rebels.test> SIZE=1001\r\n"
		 "MAIL FROM:<lea@rebels.test> SIZE=99999999999999999999999999\r\n"
		 "MAIL FROM:<lea@rebels.test> SIZE=-1\r\nMAIL FROM:<lea@rebels.test> SIZE=\r\n"
		 "RCPT TO:<luke@jedi.test>\r\nMAIL FROM:<lea@rebels.test> SIZE=1000\r\n");
	CHECK_STR(codes(&h), "220 250 552 552 501 501 503 250");
	CHECK(has_line(&h, "552 5.3.4 Message size exceeds fixed maximum message size\r\n"));
	h_close(&h);
}

static void size_while_receiving(void)
{
	static char big[4096];
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	/* exactly the limit: 998 octets and CRLF is 1000 */
	memset(big, 'a', 998);
	memcpy(big + 998, "\r\n.\r\n", 6);
	feed(&h, PRELUDE "DATA\r\n");
	feed(&h, big);
	CHECK_INT(h.deliveries, 1);
	CHECK_INT(h.msg.len, 1000);
	/* one more octet: 552, and the session goes on */
	feed(&h, "MAIL FROM:<lea@rebels.test>\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\nb\r\n");
	feed(&h, big);
	feed(&h, "MAIL FROM:<lea@rebels.test>\r\nRCPT TO:<luke@jedi.test>\r\nDATA\r\nok\r\n.\r\n");
	CHECK_STR(codes(&h), "220 250 250 250 354 250 250 250 354 552 250 250 354 250");
	CHECK_INT(h.deliveries, 2);
	CHECK_STR((char *)h.msg.data, "ok\r\n");
	h_close(&h);
}

static void overlong_command(void)
{
	static char line[2048];
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	/* 510 octets and CRLF: the longest command line */
	memset(line, 'x', sizeof(line) - 1);
	memcpy(line, "NOOP ", 5);
	memcpy(line + 510, "\r\n", 3);
	feed(&h, line);
	/* 511: too long, and so is a 2000-octet one fed in pieces */
	memset(line, 'x', sizeof(line) - 1);
	memcpy(line, "NOOP ", 5);
	memcpy(line + 511, "\r\n", 3);
	feed(&h, line);
	memset(line, 'y', sizeof(line) - 1);
	memcpy(line + 2000, "\r\n", 3);
	feed_n(&h, line, strlen(line), 100);
	feed(&h, "NOOP\r\n");
	CHECK_STR(codes(&h), "220 250 500 500 250");
	CHECK(has_line(&h, "500 5.5.2 Error: line too long\r\n"));
	h_close(&h);
}

static void long_text_line(void)
{
	static char body[2048];
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	cfg.max_message_size = 10000;
	h_open(&h, &cfg);
	memset(body, 'a', 999);
	memcpy(body + 999, "\r\n.\r\n", 6);
	feed(&h, PRELUDE "DATA\r\n");
	feed(&h, body);
	CHECK_STR(codes(&h), "220 250 250 250 354 554");
	CHECK_INT(h.deliveries, 0);
	h_close(&h);
}

/* The smuggling shapes: none may end the data, and the message holding
 * them is refused whole, so the commands inside it never run. */
static void bare_lf_in_data(void)
{
	static const char *const smuggle[] = {
		"a\n.\nMAIL FROM:<darth@jedi.test>\r\n",
		"a\r\n.\nMAIL FROM:<darth@jedi.test>\r\n",
		"a\n.\r\nMAIL FROM:<darth@jedi.test>\r\n",
		"a\r.\r\nMAIL FROM:<darth@jedi.test>\r\n",
		"a\r\n.\rMAIL FROM:<darth@jedi.test>\r\n",
		"bare\nLF only\r\n",
		"bare\rCR only\r\n",
	};
	struct smtp_session_config cfg = cfg_default();
	for (size_t i = 0; i < sizeof(smuggle) / sizeof(smuggle[0]); i++) {
		struct h h;
		h_open(&h, &cfg);
		feed(&h, PRELUDE "DATA\r\n");
		feed(&h, smuggle[i]);
		CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_DATA);
		feed(&h, "RCPT TO:<luke@jedi.test>\r\nDATA\r\nx\r\n.\r\nNOOP\r\n");
		CHECK_STR(codes(&h), "220 250 250 250 354 554 250");
		CHECK(has_line(&h, "554 5.6.0 Message rejected: bare CR or LF in message (RFC 5321 2.3.8)\r\n"));
		CHECK_INT(h.deliveries, 0);
		h_close(&h);
	}
}

static void bare_lf_in_commands(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, "EHLO c.test\nMAIL FROM:<lea@rebels.test>\nRCPT TO:<luke@jedi.test>\nDATA\n"
		 "ok\r\n.\r\nQUIT\n");
	CHECK_STR(codes(&h), "220 250 250 250 354 250 221");
	CHECK_STR((char *)h.msg.data, "ok\r\n");
	h_close(&h);
}

static void starttls_discards_pipelined(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	CHECK_INT(feed(&h, "EHLO c.test\r\nSTARTTLS\r\nMAIL FROM:<darth@jedi.test>\r\n"
			   "RCPT TO:<luke@jedi.test>\r\n"),
		  strlen("EHLO c.test\r\nSTARTTLS\r\nMAIL FROM:<darth@jedi.test>\r\nRCPT TO:<luke@jedi.test>\r\n"));
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_TLS);
	feed(&h, "DATA\r\n"); /* still plaintext: discarded as well */
	CHECK_STR(codes(&h), "220 250 220");
	CHECK(has_line(&h, "220 2.0.0 Ready to start TLS\r\n"));
	CHECK_INT(h.rcpt_calls, 0);
	CHECK_INT(smtp_session_starttls_done(h.s), 0);
	CHECK_INT(smtp_session_starttls_done(h.s), SM_EINVAL);
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_COMMAND);
	buf_reset(&h.out);
	/* back before EHLO: nothing learnt in plaintext survives */
	feed(&h, "MAIL FROM:<lea@rebels.test>\r\nEHLO c.test\r\nSTARTTLS\r\n" PRELUDE
		 "DATA\r\nx\r\n.\r\n");
	CHECK_STR(codes(&h), "503 250 503 250 250 250 354 250");
	CHECK(!has_line(&h, "STARTTLS"));
	CHECK(h.tls);
	CHECK_STR(h.from, "lea@rebels.test");
	h_close(&h);
}

static void starttls_misuse(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, "EHLO c.test\r\nSTARTTLS now\r\nMAIL FROM:<>\r\nSTARTTLS\r\n");
	CHECK_STR(codes(&h), "220 250 501 250 503");
	CHECK_INT(smtp_session_starttls_done(h.s), SM_EINVAL);
	h_close(&h);
}

static void rset_clears_envelope(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, PRELUDE "RSET\r\nDATA\r\nRCPT TO:<lea@jedi.test>\r\nMAIL FROM:<>\r\n"
		 "RCPT TO:<han@jedi.test>\r\nDATA\r\nx\r\n.\r\n");
	CHECK_STR(codes(&h), "220 250 250 250 250 503 503 250 250 354 250");
	CHECK_INT(h.rcpt_count, 1);
	CHECK_STR(h.rcpt0, "han@jedi.test");
	CHECK_STR(h.from, "");
	/* RSET before EHLO leaves us before EHLO */
	h_close(&h);
	h_open(&h, &cfg);
	feed(&h, "RSET\r\nMAIL FROM:<>\r\n");
	CHECK_STR(codes(&h), "220 250 503");
	h_close(&h);
}

static void error_limit(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, "EHLO c.test\r\nMAIL FROM:<lea@rebels.test>\r\n");
	for (int i = 0; i < 9; i++)
		feed(&h, "RCPT TO:<unknown@jedi.test>\r\n");
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_COMMAND);
	CHECK_INT(feed(&h, "XYZZY\r\nNOOP\r\nNOOP\r\n"), strlen("XYZZY\r\nNOOP\r\nNOOP\r\n"));
	CHECK_STR(codes(&h), "220 250 250 550 550 550 550 550 550 550 550 550 500 421");
	CHECK(has_line(&h, "421 4.7.0 " HOST " Error: too many errors, closing connection\r\n"));
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_CLOSE);
	h_close(&h);
}

static void delivery_failures(void)
{
	static const struct {
		enum smtp_deliver_result r;
		const char *line;
	} cases[] = {
		{SMTP_DELIVER_TEMPFAIL, "451 4.3.0 Error: local error in processing, try again later\r\n"},
		{SMTP_DELIVER_NOSPACE, "452 4.3.1 Insufficient system storage\r\n"},
		{SMTP_DELIVER_REJECT, "554 5.7.1 Message refused\r\n"},
	};
	struct smtp_session_config cfg = cfg_default();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct h h;
		h_open(&h, &cfg);
		h.result = cases[i].r;
		feed(&h, PRELUDE "DATA\r\nx\r\n.\r\nRCPT TO:<luke@jedi.test>\r\n");
		CHECK_INT(h.deliveries, 1);
		CHECK(has_line(&h, cases[i].line));
		CHECK(!has_line(&h, "250 2.0.0"));
		CHECK(has_line(&h, "503 5.5.1")); /* the transaction is over */
		h_close(&h);
	}
}

static void delivery_pending(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	size_t used = 99;
	h_open(&h, &cfg);
	h.result = SMTP_DELIVER_PENDING;
	CHECK_INT(smtp_session_deliver_done(h.s, SMTP_DELIVER_OK), SM_EINVAL);
	feed(&h, PRELUDE "DATA\r\nx\r\n.\r\n");
	CHECK_STR(codes(&h), "220 250 250 250 354");
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_DELIVERY);
	CHECK_INT(smtp_session_feed(h.s, (const uint8_t *)"NOOP\r\n", 6, &used), 0);
	CHECK_INT(used, 0);
	CHECK_INT(smtp_session_deliver_done(h.s, SMTP_DELIVER_PENDING), SM_EINVAL);
	CHECK_INT(smtp_session_deliver_done(h.s, SMTP_DELIVER_OK), 0);
	CHECK_INT(smtp_session_deliver_done(h.s, SMTP_DELIVER_OK), SM_EINVAL);
	drain(&h);
	feed(&h, "NOOP\r\n");
	CHECK_STR(codes(&h), "220 250 250 250 354 250 250");
	h_close(&h);
}

static void quit_and_others(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, "VRFY luke\r\nVRFY\r\nHELP\r\nAUTH PLAIN AGx1a2UAcHc=\r\nEXPN staff\r\nNOOP hi\r\n"
		 "QUIT now\r\nQUIT\r\nNOOP\r\nEHLO c.test\r\n");
	CHECK_STR(codes(&h), "220 252 501 214 502 502 250 501 221");
	CHECK(has_line(&h, "252 2.5.2 "));
	CHECK(has_line(&h, "214 2.0.0 "));
	CHECK(has_line(&h, "502 5.5.1 Error: command not implemented\r\n"));
	CHECK(has_line(&h, "221 2.0.0 " HOST " closing connection\r\n"));
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_CLOSE);
	h_close(&h);
}

static void http_client_closed(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	h_open(&h, &cfg);
	feed(&h, "POST / HTTP/1.1\r\nHost: mx\r\n\r\nMAIL FROM:<a@b.test>\r\n");
	CHECK_STR(codes(&h), "220 421");
	CHECK_INT(smtp_session_wait(h.s), SMTP_WAIT_CLOSE);
	h_close(&h);
}

static char *rcpt_burst(size_t n)
{
	size_t cap = 64 + n * 40;
	char *p = malloc(cap);
	size_t o = (size_t)snprintf(p, cap, "EHLO c.test\r\nMAIL FROM:<lea@rebels.test>\r\n");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(p + o, cap - o, "RCPT TO:<user%zu@jedi.test>\r\n", i);
	snprintf(p + o, cap - o, "DATA\r\nx\r\n.\r\n");
	return p;
}

/* With 4 KiB of output, 1,000 RCPTs in one buffer are taken in pieces:
 * every feed stops when the replies would overflow, never loses one. */
static void pipelined_1000_rcpts(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct h h;
	char *in = rcpt_burst(1000);
	cfg.max_recipients = 1000;
	cfg.output_max = 4096;
	h_open(&h, &cfg);
	size_t used = 0, len = strlen(in);
	CHECK_INT(smtp_session_feed(h.s, (const uint8_t *)in, len, &used), 0);
	CHECK(used > 0 && used < len); /* back-pressure */
	size_t pending = 0;
	CHECK(smtp_session_output(h.s, &pending) != NULL);
	CHECK(pending <= 4096);
	drain(&h);
	CHECK_INT(feed_n(&h, in + used, len - used, 0), len - used);
	CHECK_INT(h.rcpt_count, 1000);
	CHECK_INT(h.rcpt_calls, 1000);
	CHECK_INT(h.deliveries, 1);
	static char want[8192];
	size_t o = (size_t)snprintf(want, sizeof(want), "220 250 250");
	for (int i = 0; i < 1000; i++)
		o += (size_t)snprintf(want + o, sizeof(want) - o, " 250");
	snprintf(want + o, sizeof(want) - o, " 354 250");
	CHECK_STR(codes(&h), want);
	free(in);
	h_close(&h);
	/* over the cap: 452 for the rest, which is no error (no 421) */
	cfg.max_recipients = 100;
	in = rcpt_burst(1000);
	h_open(&h, &cfg);
	feed(&h, in);
	CHECK_INT(h.rcpt_count, 100);
	CHECK_INT(h.deliveries, 1);
	CHECK(!has_line(&h, "421"));
	CHECK(has_line(&h, "452 4.5.3"));
	free(in);
	h_close(&h);
}

static void output_backpressure(void)
{
	struct smtp_session_config cfg = cfg_default();
	struct smtp_session_callbacks cb = {t_rcpt, t_deliver, NULL};
	struct smtp_session *s;
	static char in[64 * 1024];
	size_t used = 0, n = 0;
	cfg.output_max = 2 * SMTP_SESSION_REPLY_ROOM;
	cfg.max_errors = 100000;
	CHECK_INT(smtp_session_new(&cfg, &cb, &s), 0);
	for (size_t o = 0; o + 6 < sizeof(in); o += 6)
		memcpy(in + o, "NOOP\r\n", 6);
	/* a peer that never reads: the session stops taking its input */
	CHECK_INT(smtp_session_feed(s, (const uint8_t *)in, sizeof(in) - 6, &used), 0);
	CHECK(used < 2 * SMTP_SESSION_REPLY_ROOM);
	CHECK(smtp_session_output(s, &n) != NULL);
	CHECK(n <= 2 * SMTP_SESSION_REPLY_ROOM);
	CHECK_INT(smtp_session_feed(s, (const uint8_t *)in + used, 6, &used), 0);
	CHECK_INT(used, 0);
	CHECK_INT(smtp_session_output_consume(s, n + 1), SM_EINVAL);
	CHECK_INT(smtp_session_output_consume(s, 5), 0);
	const uint8_t *p = smtp_session_output(s, &n);
	CHECK(n >= 19 && memcmp(p, "x.jedi.test ESMTP\r\n", 19) == 0);
	smtp_session_free(s);
}

int main(void)
{
	RUN(data_10mb_line_bounded);
	RUN(greeting);
	RUN(config_rejected);
	RUN(happy_path);
	RUN(helo_and_extensions);
	RUN(dot_stuffing);
	RUN(pipelined_equals_bytewise);
	RUN(bad_sequence);
	RUN(syntax_errors);
	RUN(source_route_and_nul);
	RUN(rcpt_verdicts);
	RUN(too_many_recipients);
	RUN(size_in_mail);
	RUN(size_while_receiving);
	RUN(overlong_command);
	RUN(long_text_line);
	RUN(bare_lf_in_data);
	RUN(bare_lf_in_commands);
	RUN(starttls_discards_pipelined);
	RUN(starttls_misuse);
	RUN(rset_clears_envelope);
	RUN(error_limit);
	RUN(delivery_failures);
	RUN(delivery_pending);
	RUN(quit_and_others);
	RUN(http_client_closed);
	RUN(pipelined_1000_rcpts);
	RUN(output_backpressure);
	return check_done();
}
