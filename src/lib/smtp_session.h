/* smtp_session.h: the SMTP server side of the MX (RFC 5321 with SIZE,
 * 8BITMIME, PIPELINING, ENHANCEDSTATUSCODES and STARTTLS), socket-free.
 *
 * The caller owns the connection; the session only turns input bytes into
 * replies and events. One session per connection:
 *
 *   smtp_session_new()       queues the 220 greeting
 *   loop:
 *     smtp_session_feed()    consumes input, queues replies, calls back
 *     smtp_session_output()  the queued replies; send some, then
 *     smtp_session_output_consume()
 *     smtp_session_wait()    what the session waits for now (see below)
 *   smtp_session_free()
 *
 * Nothing here blocks, reads a clock or does I/O, and every buffer is
 * bounded: a command line by 512 octets, the message by the configured
 * size limit (the buffer may round its capacity up to twice that), the
 * recipient list by max_recipients and the queued replies by output_max.
 *
 * Back-pressure. smtp_session_feed() stops consuming input, and says how
 * much it consumed, when the queued replies leave less than
 * SMTP_SESSION_REPLY_ROOM octets free in output_max, when a delivery is
 * pending, or never otherwise. The caller keeps the unconsumed bytes, sends
 * output, and feeds them again; a peer that pipelines without reading its
 * replies thus ends up blocked by its own TCP window, not by our memory. A
 * feed that consumes nothing while output is empty only happens in
 * SMTP_WAIT_DELIVERY.
 *
 * Bare CR and LF. A command line may end in CRLF or a bare LF (as Postfix
 * accepts; a command cannot smuggle anything). In a message, the end is
 * only CRLF "." CRLF, and a CR or LF that is not part of a CRLF pair makes
 * the session read on to that end and reject the message with 554 5.6.0
 * without delivering it: no "\n.\n" variant can end the data or be passed
 * on (SMTP smuggling, CVE-2023-51764 and relatives).
 *
 * Long lines. A command line over 512 octets (CRLF included) is discarded
 * as it arrives and answered 500 5.5.2. A message text line over 1000
 * octets (RFC 5321 4.5.3.1.6) does not end the data: the session reads on
 * to the end without storing anything more and answers 554 5.6.0.
 *
 * STARTTLS. After "220 2.0.0 Ready to start TLS" the session waits for
 * TLS (SMTP_WAIT_TLS) and discards every input byte it is fed until
 * smtp_session_starttls_done(): commands pipelined after STARTTLS in
 * plaintext are never executed (CVE-2011-0411). The caller sends the
 * queued output, runs the handshake, calls smtp_session_starttls_done()
 * and from then on feeds only decrypted bytes; the session is back in its
 * state before EHLO (RFC 3207 4.2) and no longer offers STARTTLS. */
#ifndef SEALMAIL_SMTP_SESSION_H
#define SEALMAIL_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wkd.h"

#define SMTP_SESSION_HOST_MAX 255     /* host name and EHLO argument */
#define SMTP_SESSION_PATH_MAX 256     /* reverse-path, RFC 5321 4.5.3.1.3 */
#define SMTP_SESSION_REPLY_ROOM 1024  /* free output needed to take a command */
#define SMTP_SESSION_OUTPUT_DEFAULT (16u * 1024)

/* Verdict of the recipient callback. */
enum smtp_rcpt_verdict {
	SMTP_RCPT_OK,           /* 250 2.1.5 */
	SMTP_RCPT_UNKNOWN,      /* 550 5.1.1: no such user here */
	SMTP_RCPT_RELAY_DENIED, /* 550 5.7.1: not a domain of ours */
	SMTP_RCPT_TEMPFAIL,     /* 451 4.3.0: try again later */
};

/* Result of the delivery callback, or of smtp_session_deliver_done(). */
enum smtp_deliver_result {
	SMTP_DELIVER_OK,       /* durably stored for every recipient: 250 2.0.0 */
	SMTP_DELIVER_TEMPFAIL, /* 451 4.3.0 */
	SMTP_DELIVER_NOSPACE,  /* 452 4.3.1 insufficient system storage */
	SMTP_DELIVER_REJECT,   /* 554 5.7.1: refused for good */
	SMTP_DELIVER_PENDING,  /* the caller answers later with smtp_session_deliver_done() */
};

enum smtp_body { SMTP_BODY_UNSPECIFIED, SMTP_BODY_7BIT, SMTP_BODY_8BITMIME };

/* What the session waits for; the caller picks its time-out from it
 * (RFC 5321 4.5.3.2: at least 5 minutes for a command, 3 minutes per data
 * block) and acts on the last three. */
enum smtp_wait {
	SMTP_WAIT_COMMAND,  /* a command line */
	SMTP_WAIT_DATA,     /* message data after 354 */
	SMTP_WAIT_DELIVERY, /* a pending delivery: call smtp_session_deliver_done() */
	SMTP_WAIT_TLS,      /* send the output, then run the TLS handshake */
	SMTP_WAIT_CLOSE,    /* send the output, then close (after QUIT or 421) */
};

/* The transaction as the callbacks see it. The struct itself lives only
 * during the call; the strings and the array it points to, like the
 * message bytes, are borrowed from the session and live until the
 * callback returns, or for a PENDING delivery until
 * smtp_session_deliver_done() or smtp_session_free(). Callbacks must not
 * call back into the session. */
struct smtp_envelope {
	const char *helo;                 /* EHLO/HELO argument */
	const char *mail_from;            /* "" for the null reverse-path <> */
	const struct wkd_address *rcpts;  /* accepted recipients, no duplicates */
	size_t rcpt_count;
	enum smtp_body body;
	size_t declared_size;             /* MAIL FROM SIZE=, 0 if absent */
	bool esmtp;                       /* EHLO rather than HELO */
	bool tls;                         /* STARTTLS completed */
};

struct smtp_session_callbacks {
	/* Decides one RCPT TO. env holds the recipients accepted so far.
	 * "<postmaster>" arrives as postmaster@<hostname>. */
	enum smtp_rcpt_verdict (*rcpt)(void *arg, const struct smtp_envelope *env,
				       const struct wkd_address *rcpt);
	/* Delivers msg (len octets, dot-unstuffed, CRLF line ends, at most
	 * max_message_size octets, no bare CR or LF). Return OK only once the
	 * message is durable for every recipient: the session answers 250
	 * from that alone. May return PENDING to answer later. */
	enum smtp_deliver_result (*deliver)(void *arg, const struct smtp_envelope *env,
					    const uint8_t *msg, size_t len);
	void *arg; /* handed to both; owned by the caller */
};

struct smtp_session_config {
	const char *hostname;    /* our name in 220/221/421 and EHLO; copied */
	size_t max_message_size; /* SIZE limit in octets, > 0 */
	size_t max_recipients;   /* per transaction, > 0 (RFC 5321 asks for 100) */
	unsigned max_errors;     /* 421 and close at this many errors, > 0 */
	size_t output_max;       /* queued reply octets; 0: SMTP_SESSION_OUTPUT_DEFAULT,
				  * else at least 2 * SMTP_SESSION_REPLY_ROOM */
	bool tls_available;      /* offer STARTTLS (until TLS is active) */
};

struct smtp_session;

/* Creates a session with the 220 greeting queued. cfg and cb are copied
 * (cb->arg is kept as given). SM_EINVAL for a bad config, SM_ENOMEM.
 * The caller owns *ret and frees it with smtp_session_free(). */
int smtp_session_new(const struct smtp_session_config *cfg, const struct smtp_session_callbacks *cb,
		     struct smtp_session **ret) SM_WUR;
/* Wipes the message buffer and frees everything. Accepts NULL. */
void smtp_session_free(struct smtp_session *s);

/* Consumes up to len input octets, queueing replies and calling back.
 * *ret_consumed < len means back-pressure (see above): feed the rest
 * again later. Bytes fed while waiting for TLS or close are consumed and
 * discarded. SM_ENOMEM (output could not grow) is fatal: close the
 * connection; *ret_consumed is then untouched. */
int smtp_session_feed(struct smtp_session *s, const uint8_t *data, size_t len,
		      size_t *ret_consumed) SM_WUR;

/* The queued replies; borrowed, valid until the next call on s. */
const uint8_t *smtp_session_output(const struct smtp_session *s, size_t *ret_len) SM_WUR;
/* Drops the first n queued octets (sent). SM_EINVAL if fewer are queued. */
int smtp_session_output_consume(struct smtp_session *s, size_t n) SM_WUR;

enum smtp_wait smtp_session_wait(const struct smtp_session *s) SM_WUR;

/* Answers a delivery that returned SMTP_DELIVER_PENDING. SM_EINVAL if no
 * delivery is pending or result is PENDING. */
int smtp_session_deliver_done(struct smtp_session *s, enum smtp_deliver_result result) SM_WUR;

/* The TLS handshake succeeded: forget the session's state (back to before
 * EHLO) and mark it TLS. SM_EINVAL unless in SMTP_WAIT_TLS. */
int smtp_session_starttls_done(struct smtp_session *s) SM_WUR;

#endif
