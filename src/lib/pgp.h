/* pgp.h: OpenPGP through librnp, with the safety rules librnp leaves to us.
 *
 * The rules (DESIGN.md): refuse data without integrity protection; report a
 * message as verified only for a good signature; cap every output and refuse
 * compressed data that expands past the cap; release no plaintext until the
 * whole operation has succeeded. Generated keys are v4, Ed25519 primary
 * (certify+sign) with a Cv25519 encryption subkey; messages are SEIPDv1
 * (MDC), AES-256, binary literal data, no compression, never AEAD.
 *
 * A pgp_ctx wraps one rnp_ffi_t with its key store: use one per thread.
 * Errors come back as codes. The ffi's log goes to /dev/null, but Debian's
 * librnp 0.16.3 also prints internal diagnostics straight to stderr, which
 * no API turns off: programs decide where their stderr goes (the CLI
 * points it at /dev/null, see cli_silence_library()). */
#ifndef SEALMAIL_PGP_H
#define SEALMAIL_PGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define PGP_FPR_HEX 40

/* A v4 fingerprint as 40 uppercase hex digits, NUL-terminated. */
struct pgp_fpr {
	char hex[PGP_FPR_HEX + 1];
};

typedef struct pgp_ctx pgp_ctx;

int pgp_ctx_new(pgp_ctx **ret_ctx) SM_WUR;
void pgp_ctx_free(pgp_ctx *ctx); /* accepts NULL */

/* Generates a key for address (user ID = the bare address) and adds it,
 * with its secret part, to ctx. The secret key is not passphrase-protected:
 * the key store protects it with file permissions. */
int pgp_keygen(pgp_ctx *ctx, const char *address, struct pgp_fpr *ret_fpr) SM_WUR;

enum pgp_import_mode {
	PGP_IMPORT_PUBLIC, /* a correspondent's certificate: refuse secret keys (SM_ESECRET) */
	PGP_IMPORT_ANY,    /* our own key store: public and secret keys */
};

/* Imports every key in data (armored or binary). ret_fpr (may be NULL)
 * receives the fingerprint of the first primary key. Fails with SM_EPARSE
 * for data holding no key, and imports nothing in that case. */
int pgp_import(pgp_ctx *ctx, const uint8_t *data, size_t len, enum pgp_import_mode mode,
	       struct pgp_fpr *ret_fpr) SM_WUR;

/* Appends the public certificate (primary, user IDs, subkeys, signatures). */
int pgp_export_public(pgp_ctx *ctx, const struct pgp_fpr *fpr, bool armored, struct buf *out) SM_WUR;
/* Appends the transferable secret key. */
int pgp_export_secret(pgp_ctx *ctx, const struct pgp_fpr *fpr, bool armored, struct buf *out) SM_WUR;
/* Appends the public certificate reduced to the single user ID whose address
 * equals address (WKD requires this); SM_ENOTFOUND if it has none. */
int pgp_export_for_address(pgp_ctx *ctx, const struct pgp_fpr *fpr, const char *address,
			   bool armored, struct buf *out) SM_WUR;
/* Appends every certificate in ctx, binary, one after another (the public key ring). */
int pgp_export_all_public(pgp_ctx *ctx, struct buf *out) SM_WUR;
/* Appends every key with secret material, binary (the secret key ring). */
int pgp_export_all_secret(pgp_ctx *ctx, struct buf *out) SM_WUR;

/* Finds the usable key for address: a valid (not revoked, not expired) primary
 * with a valid user ID whose address equals address ("a@b" or "Name <a@b>",
 * compared as wkd_address_equal does) and a usable encryption subkey; with
 * need_secret, one whose secret signing key we hold. Several candidates: the
 * most recently created. SM_ENOTFOUND if none. */
int pgp_find_by_address(pgp_ctx *ctx, const char *address, bool need_secret,
			struct pgp_fpr *ret_fpr) SM_WUR;

/* 1 if fpr is a usable key for address as pgp_find_by_address judges it
 * (valid, not revoked or expired, user ID for address, usable encryption
 * subkey), else 0. */
int pgp_key_usable_for(pgp_ctx *ctx, const struct pgp_fpr *fpr, const char *address);

/* 1 if the key fpr carries a valid user ID for address, else 0. */
int pgp_key_has_address(pgp_ctx *ctx, const struct pgp_fpr *fpr, const char *address);

struct pgp_recipient {
	struct pgp_fpr fpr;
	/* Write a wildcard key ID (all zeros) into this recipient's PKESK so the
	 * other recipients cannot see that it was encrypted to them (Bcc). */
	bool hidden;
};

/* Encrypts in to every recipient and signs with signer's secret key, as one
 * OpenPGP message (one pass), armored. out is appended to only on success. */
int pgp_encrypt_sign(pgp_ctx *ctx, const struct pgp_fpr *signer, const struct pgp_recipient *rcpts,
		     size_t n_rcpts, const uint8_t *in, size_t len, struct buf *out) SM_WUR;

enum pgp_verdict {
	PGP_VERIFIED,        /* integrity-protected, decrypted, good signature by signer */
	PGP_UNSIGNED,        /* integrity-protected and decrypted, but carries no signature */
	PGP_BAD_SIGNATURE,   /* a signature is present and does not verify */
	PGP_UNKNOWN_SIGNER,  /* signed by a key we do not have (signer holds its key ID or fpr) */
	PGP_NO_INTEGRITY,    /* symmetrically encrypted without MDC/AEAD */
	PGP_NOT_FOR_US,      /* none of our secret keys can decrypt it */
	PGP_TOO_LARGE,       /* plaintext (after decompression) over the cap */
	PGP_NOT_ENCRYPTED,   /* valid OpenPGP but not encrypted (e.g. only signed) */
	PGP_MALFORMED,       /* corrupt, truncated or not OpenPGP at all */
};

struct pgp_result {
	enum pgp_verdict verdict;
	/* PGP_VERIFIED: the signing primary key's fingerprint. PGP_UNKNOWN_SIGNER:
	 * the issuer fingerprint or 16-digit key ID as found. Otherwise empty. */
	struct pgp_fpr signer;
};

/* Decrypts and verifies in (armored or binary). Returns 0 whenever a verdict
 * was reached (the verdict says what happened) and a negative code only for
 * SM_ENOMEM or misuse. Plaintext is appended to out only when the verdict is
 * PGP_VERIFIED or PGP_UNSIGNED; on every other verdict out is untouched and
 * all intermediate plaintext has been wiped. max_plaintext caps the output
 * and every decompression step. */
int pgp_decrypt_verify(pgp_ctx *ctx, const uint8_t *in, size_t len, size_t max_plaintext,
		       struct pgp_result *ret, struct buf *out) SM_WUR;

/* A short English description of a verdict ("no integrity protection"). */
const char *pgp_verdict_str(enum pgp_verdict v);

#endif
