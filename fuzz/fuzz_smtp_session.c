/* fuzz_smtp_session: the MX's SMTP state machine on untrusted bytes.
 *
 * Input: three header octets, then what the peer sends. Octet 0 seeds the
 * chunk sizes the input is fed in, octet 1 what the delivery callback
 * answers (including PENDING, answered on the next round), octet 2 the
 * configuration (bit 0: TLS available, bit 1: 2 KiB of output, bit 2: a
 * client that reads its replies only now and then, bit 3: a 200-octet
 * size limit instead of 2 KiB). Besides what the sanitizers catch, the
 * contract of smtp_session.h is checked:
 * - the output is a sequence of well-formed reply lines ("ddd" then " " or
 *   "-", at most 512 octets with CRLF, continuations with the same code),
 *   never larger than output_max, and nothing follows 221 or 421;
 * - nothing follows "220 2.0.0 Ready to start TLS" until the handshake;
 * - the delivery callback sees at most max_message_size octets without a
 *   bare CR or LF, from at least one accepted recipient, and only for an
 *   open DATA;
 * - the reply at the end of a DATA is 250 only if the delivery callback
 *   (or smtp_session_deliver_done) said OK for that very DATA;
 * - feed consumes what it is given, except under back-pressure or while a
 *   delivery is pending. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "smtp_session.h"

#define FZ_HOST "mx.jedi.test"
#define FZ_MAX_RCPTS 4
#define FZ_DELIVERY_MAX 64 /* DATAs tracked per input */

/* The checker's view of the reply stream, and what the callbacks did. */
struct fz {
	struct smtp_session *s;
	size_t size_limit, output_max;
	uint32_t rng, deliver_rng;
	unsigned data_opened;       /* 354 replies seen so far */
	bool in_data;               /* last final reply was 354 */
	bool closed, tls_wait;      /* after 221/421, after 220 2.0.0 */
	char cont[4];               /* code of an open multi-line reply, "" if none */
	/* result per DATA (by 354 index): -1 none, else enum smtp_deliver_result */
	int result[FZ_DELIVERY_MAX];
	int pending;                /* 354 index of a PENDING delivery, -1 if none */
};

static struct fz fz;

static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz_smtp_session: %s\n", what);
	abort();
}

static uint32_t fz_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* jedi.test users, except u* (unknown) and t* (lookup fails); no relaying. */
static enum smtp_rcpt_verdict fz_rule(const struct wkd_address *a)
{
	if (strcmp(a->domain, "jedi.test") != 0)
		return SMTP_RCPT_RELAY_DENIED;
	if (a->local[0] == 'u')
		return SMTP_RCPT_UNKNOWN;
	return a->local[0] == 't' ? SMTP_RCPT_TEMPFAIL : SMTP_RCPT_OK;
}

static enum smtp_rcpt_verdict fz_rcpt(void *arg, const struct smtp_envelope *env,
				      const struct wkd_address *a)
{
	(void)arg;
	if (env->rcpt_count >= FZ_MAX_RCPTS)
		fz_die("recipient callback called over the cap");
	return fz_rule(a);
}

static void fz_check_message(const uint8_t *msg, size_t len)
{
	size_t line = 0;
	if (len > fz.size_limit)
		fz_die("delivered a message over the size limit");
	for (size_t i = 0; i < len; i++) {
		bool crlf = msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n';
		if ((msg[i] == '\r' && !crlf) || (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r')))
			fz_die("delivered a message with a bare CR or LF");
		line = msg[i] == '\n' ? 0 : line + 1;
		if (line > 1000)
			fz_die("delivered a line over 1000 octets");
	}
	if (len > 0 && (len < 2 || msg[len - 2] != '\r' || msg[len - 1] != '\n'))
		fz_die("delivered a message not ending in CRLF");
}

/* Which DATA this delivery belongs to: the ones the checker saw plus the
 * 354 lines still queued; the last of them must be the newest output. */
static unsigned fz_current_data(void)
{
	static const char r354[] = "354 End data with <CR><LF>.<CR><LF>\r\n";
	size_t n;
	const char *p = (const char *)smtp_session_output(fz.s, &n);
	unsigned k = fz.data_opened;
	for (size_t i = 0; i + 4 <= n; i++)
		if ((i == 0 || p[i - 1] == '\n') && memcmp(p + i, "354 ", 4) == 0)
			k++;
	if (n > 0 && (n < sizeof(r354) - 1 || memcmp(p + n - (sizeof(r354) - 1), r354, sizeof(r354) - 1)))
		fz_die("delivery without an open DATA");
	if (n == 0 && !fz.in_data)
		fz_die("delivery without an open DATA");
	return k - 1;
}

static enum smtp_deliver_result fz_deliver(void *arg, const struct smtp_envelope *env,
					   const uint8_t *msg, size_t len)
{
	static const enum smtp_deliver_result answers[] = {
		SMTP_DELIVER_OK, SMTP_DELIVER_OK, SMTP_DELIVER_TEMPFAIL, SMTP_DELIVER_NOSPACE,
		SMTP_DELIVER_REJECT, SMTP_DELIVER_PENDING,
	};
	(void)arg;
	fz_check_message(msg, len);
	if (env->rcpt_count == 0 || env->rcpt_count > FZ_MAX_RCPTS)
		fz_die("delivery with a bad recipient count");
	for (size_t i = 0; i < env->rcpt_count; i++)
		if (fz_rule(&env->rcpts[i]) != SMTP_RCPT_OK)
			fz_die("delivery to a recipient that was not accepted");
	unsigned k = fz_current_data();
	enum smtp_deliver_result r = answers[fz_next(&fz.deliver_rng) % 6];
	if (k < FZ_DELIVERY_MAX)
		fz.result[k] = (int)r;
	if (r == SMTP_DELIVER_PENDING)
		fz.pending = (int)k;
	return r;
}

/* The reply that ends DATA number k. */
static void fz_check_data_end(const char *line)
{
	unsigned k = fz.data_opened - 1;
	int r = k < FZ_DELIVERY_MAX ? fz.result[k] : -2;
	if (r == -2)
		return; /* beyond what we track */
	if (r == SMTP_DELIVER_PENDING)
		fz_die("reply while the delivery is pending");
	if ((memcmp(line, "250", 3) == 0) != (r == SMTP_DELIVER_OK))
		fz_die(r == SMTP_DELIVER_OK ? "delivery OK but no 250" : "250 after DATA without a successful delivery");
}

static void fz_check_line(const char *p, size_t n)
{
	if (fz.closed)
		fz_die("reply after 221/421");
	if (fz.tls_wait)
		fz_die("reply after 220 Ready to start TLS");
	if (n < 4 || n > 510 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' ||
	    p[2] < '0' || p[2] > '9' || (p[3] != ' ' && p[3] != '-'))
		fz_die("malformed reply line");
	if (memchr(p, '\r', n) != NULL || memchr(p, '\n', n) != NULL || memchr(p, 0, n) != NULL)
		fz_die("control character in a reply line");
	if (fz.cont[0] != 0 && memcmp(fz.cont, p, 3) != 0)
		fz_die("multi-line reply changes its code");
	if (p[3] == '-') {
		memcpy(fz.cont, p, 3);
		return;
	}
	fz.cont[0] = 0;
	if (fz.in_data)
		fz_check_data_end(p);
	fz.in_data = memcmp(p, "354", 3) == 0;
	fz.data_opened += fz.in_data;
	fz.closed = memcmp(p, "221", 3) == 0 || memcmp(p, "421", 3) == 0;
	fz.tls_wait = n >= 28 && memcmp(p, "220 2.0.0 Ready to start TLS", 28) == 0;
}

/* Takes all queued output, checking it line by line. Replies are queued
 * whole, so the output always ends at a line end. */
static void fz_drain(void)
{
	size_t n;
	const char *p = (const char *)smtp_session_output(fz.s, &n);
	if (n > fz.output_max)
		fz_die("output over output_max");
	for (size_t i = 0; i < n;) {
		const char *e = memchr(p + i, '\n', n - i);
		if (e == NULL || e == p + i || e[-1] != '\r')
			fz_die("output does not end in CRLF");
		fz_check_line(p + i, (size_t)(e - 1 - (p + i)));
		i = (size_t)(e - p) + 1;
	}
	if (smtp_session_output_consume(fz.s, n) != 0)
		fz_die("output_consume refused what output gave");
}

/* Acts on what the session waits for, as the daemon would. */
static void fz_serve(void)
{
	enum smtp_wait w = smtp_session_wait(fz.s);
	if (w == SMTP_WAIT_TLS) {
		fz_drain();
		if (smtp_session_starttls_done(fz.s) != 0)
			fz_die("starttls_done refused in SMTP_WAIT_TLS");
		fz.tls_wait = false;
	}
	if (w == SMTP_WAIT_DELIVERY) {
		enum smtp_deliver_result r = (enum smtp_deliver_result)(fz_next(&fz.deliver_rng) % 4);
		if (fz.pending < 0)
			fz_die("waiting for a delivery nobody started");
		if (fz.pending < FZ_DELIVERY_MAX)
			fz.result[fz.pending] = (int)r;
		fz.pending = -1;
		if (smtp_session_deliver_done(fz.s, r) != 0)
			fz_die("deliver_done refused a pending delivery");
	}
}

static int fz_setup(uint8_t flags, uint8_t seed0, uint8_t seed1)
{
	struct smtp_session_config cfg = {
		.hostname = FZ_HOST, .max_message_size = (flags & 8) ? 200 : 2048,
		.max_recipients = FZ_MAX_RCPTS, .max_errors = 10,
		.output_max = (flags & 2) ? 2 * SMTP_SESSION_REPLY_ROOM : 0, .tls_available = flags & 1,
	};
	struct smtp_session_callbacks cb = {fz_rcpt, fz_deliver, NULL};
	memset(&fz, 0, sizeof(fz));
	for (size_t i = 0; i < FZ_DELIVERY_MAX; i++)
		fz.result[i] = -1;
	fz.pending = -1;
	fz.size_limit = cfg.max_message_size;
	fz.output_max = cfg.output_max ? cfg.output_max : SMTP_SESSION_OUTPUT_DEFAULT;
	fz.rng = 0x9e3779b9u ^ seed0;
	fz.deliver_rng = 0x85ebca6bu ^ ((uint32_t)seed1 << 8 | seed1);
	return smtp_session_new(&cfg, &cb, &fz.s);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static size_t fz_chunk(void)
{
	static const size_t scale[] = {1, 7, 64, 1500};
	uint32_t x = fz_next(&fz.rng);
	return 1 + (x >> 8) % scale[x & 3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	bool lazy = data[2] & 4;
	if (fz_setup(data[2], data[0], data[1]) != 0)
		fz_die("smtp_session_new");
	fz_drain();
	for (size_t off = 3; off < size;) {
		size_t n = fz_chunk(), used = 0;
		n = n < size - off ? n : size - off;
		int r = smtp_session_feed(fz.s, data + off, n, &used);
		if (r != 0)
			fz_die("feed failed");
		if (used > n)
			fz_die("feed consumed more than it was given");
		size_t queued;
		if (smtp_session_output(fz.s, &queued) == NULL)
			fz_die("no output buffer");
		bool blocked = smtp_session_wait(fz.s) == SMTP_WAIT_DELIVERY ||
			       fz.output_max - queued < SMTP_SESSION_REPLY_ROOM;
		if (used < n && !blocked)
			fz_die("feed stopped without back-pressure");
		if (!lazy || used < n || (fz_next(&fz.rng) & 3) == 0)
			fz_drain();
		fz_serve();
		off += used;
	}
	fz_drain();
	smtp_session_free(fz.s);
	return 0;
}
