/* smtp_client.h: a small, strict SMTP client (RFC 5321) over OpenSSL, for
 * handing one message to one server: an MX (port 25) or a relay
 * (submission, port 587).
 *
 * Blocking in effect, but every wait is a poll() bounded by the policy's
 * time-out (RFC 5321 4.5.3.2 suggests minutes; the caller chooses; the
 * final "." waits twice as long). Replies are parsed strictly: CRLF line
 * ends, three-digit codes, the same code on every line, at most
 * SMTP_REPLY_LINE_MAX octets a line and SMTP_REPLY_LINES_MAX lines.
 * STARTTLS verifies the server's certificate against the system trust
 * store and the host name we connected to. AUTH PLAIN is only ever sent
 * inside TLS. The message is sent with CRLF line ends and dot-stuffed;
 * SIZE is declared and respected when the server advertises it. */
#ifndef SEALMAIL_SMTP_CLIENT_H
#define SEALMAIL_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_REPLY_LINE_MAX 1000 /* RFC 5321 says 512; we take up to the text-line limit */
#define SMTP_REPLY_LINES_MAX 64
#define SMTP_TEXT_MAX 256        /* what we keep of a reply to report it */

/* How to talk to the server. All strings are borrowed for the call. */
struct smtp_policy {
	const char *helo;       /* our name in EHLO */
	int timeout_s;          /* each wait; the final "." gets twice this */
	bool require_tls;       /* refuse a server that offers no STARTTLS */
	const char *user;       /* AUTH PLAIN with these when not NULL (TLS required) */
	const char *password;
};

/* One recipient of the transaction and what became of it: code is the
 * server's reply (250: delivered; 4xx: try later; 5xx: refused), or 0 when
 * nothing was tried. text is the reply's first line, or our reason; for
 * failures of our own (connection, time-out, TLS) the code is 421 or 554. */
struct smtp_rcpt {
	const char *address;    /* borrowed */
	const char *host;       /* the host that last tried it (the host argument), or NULL */
	int code;
	char text[SMTP_TEXT_MAX];
};

struct smtp_envelope {
	const char *from;       /* reverse path, borrowed */
	struct smtp_rcpt *rcpts;
	size_t n;
	const uint8_t *msg;     /* the message, LF or CRLF line ends; borrowed */
	size_t len;
};

enum smtp_outcome {
	SMTP_DONE = 0,    /* the transaction ran: each rcpt has its own code */
	SMTP_NEXT = -1,   /* this host could not be used now (connection, TLS, 4xx before
			     RCPT): every rcpt has a 4xx code; try the next host */
	SMTP_FAILED = -2, /* refused for good before RCPT (5xx, message too big, a line over
			     998 octets): every rcpt has a 5xx code */
};

/* Sends e to host:port under p. Returns an smtp_outcome; every recipient
 * has a code afterwards. The TLS context is created once per process by
 * smtp_client_tls_init(); call it first. */
int smtp_deliver(const char *host, const char *port, const struct smtp_policy *p,
		 struct smtp_envelope *e);

/* Creates the client TLS context (system trust store, TLS 1.2 or newer).
 * Returns 0 or -1. */
int smtp_client_tls_init(void) __attribute__((warn_unused_result));
void smtp_client_tls_free(void);

#endif
