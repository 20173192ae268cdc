/* mime.h: PGP/MIME (RFC 3156) with header protection (RFC 9788), on GMime 3.
 *
 * Sealing: mime_letter_parse() takes a cleartext RFC 5322 message and
 * yields its sender, its recipients and the cryptographic payload (the real
 * headers inside, Content-Type carrying hp="cipher", one HP-Outer field per
 * outer header field); after encryption mime_encrypted_build() wraps the
 * armored OpenPGP message into the outer multipart/encrypted message whose
 * Subject is "[...]". Bcc appears in neither.
 *
 * Reading: mime_encrypted_extract() checks the RFC 3156 structure of an
 * incoming message and returns the armored OpenPGP data and the outer
 * headers; after decryption mime_payload_restore() turns the payload into the
 * message the user sees (protected headers when hp="cipher" is present, the
 * outer ones otherwise) and names its From address.
 *
 * All output uses CRLF line endings. Nothing here decrypts or verifies.
 * Every function bounds its input (MIME_MAX_DEPTH nesting, the caller's
 * buffer maxima) and rejects what exceeds the bounds with SM_ETOOBIG.
 * GMime must be initialised once per process with mime_global_init(). */
#ifndef SEALMAIL_MIME_H
#define SEALMAIL_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define MIME_MAX_DEPTH 32     /* multipart nesting accepted anywhere */
#define MIME_MAX_RCPTS 1000   /* recipients in To + Cc + Bcc */
#define MIME_ADDR_MAX 320     /* one addr-spec */

/* Process-wide GMime set-up; call once before any thread uses this module. */
void mime_global_init(void);

struct mime_addr_list {
	char **addrs; /* owned, bare addr-spec strings, duplicates removed */
	size_t n;
};

struct mime_letter {
	char *from;                    /* owned: the single From mailbox's addr-spec */
	struct mime_addr_list to_cc;   /* To and Cc, in order */
	struct mime_addr_list bcc;     /* Bcc, minus any already in to_cc */
	struct buf payload;            /* the cryptographic payload, CRLF */
	struct buf outer_headers;      /* outer header section (no Bcc, Subject "[...]"), CRLF,
					  without Content-* / MIME-Version */
};

/* Parses msg (LF or CRLF line endings). Fails with SM_EPARSE (no header/body
 * structure), SM_EINVAL (no From, several From mailboxes, no recipient, an
 * unparsable address) or SM_ETOOBIG. ret is initialised even on failure,
 * so mime_letter_free() is always safe. max bounds the payload size. */
int mime_letter_parse(const uint8_t *msg, size_t len, size_t max, struct mime_letter *ret) SM_WUR;
void mime_letter_free(struct mime_letter *l); /* accepts NULL */

/* Appends the complete outer PGP/MIME message: outer_headers, MIME-Version,
 * Content-Type multipart/encrypted; protocol="application/pgp-encrypted",
 * the "Version: 1" part and the application/octet-stream part holding armored. */
int mime_encrypted_build(const struct mime_letter *l, const uint8_t *armored, size_t len,
			 struct buf *out) SM_WUR;

/* Validates that msg is an RFC 3156 encrypted message (top level
 * multipart/encrypted, protocol application/pgp-encrypted, control part
 * with Version: 1, second part holding the OpenPGP data) and appends that
 * data to ret_pgp and the outer header section to ret_outer_headers.
 * SM_EPARSE names any other structure (a plain or merely signed message). */
int mime_encrypted_extract(const uint8_t *msg, size_t len, struct buf *ret_pgp,
			   struct buf *ret_outer_headers) SM_WUR;

/* Builds the message to show from the decrypted payload. With hp="cipher"
 * the payload's own header section is authoritative; without it, the
 * outer non-MIME headers are put in front of the payload's MIME headers.
 * Appends the message to out and copies the From addr-spec into ret_from. */
int mime_payload_restore(const uint8_t *payload, size_t len, const uint8_t *outer_headers,
			 size_t outer_len, struct buf *out, char ret_from[MIME_ADDR_MAX + 1]) SM_WUR;

#endif
