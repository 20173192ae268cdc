/* note.h: signed notes (c2sp.org/signed-note), transparency log checkpoints
 * (c2sp.org/tlog-checkpoint) and Ed25519 witness cosignatures
 * (c2sp.org/tlog-cosignature, "cosignature/v1").
 *
 * Two key types are supported, named by their signed-note signature type
 * byte: NOTE_KEY_ED25519 (0x01, a log's plain Ed25519 note signature) and
 * NOTE_KEY_COSIG_V1 (0x04, a witness's timestamped cosignature). A key is
 * the tuple (name, key ID, type, public key); a verifier of one type never
 * checks a signature of the other.
 *
 * Ownership: verifiers and checkpoints are plain values the caller owns.
 * A struct note_checkpoint from note_checkpoint_parse() borrows origin and
 * ext from the parsed body, which must outlive it. A struct note_signer
 * lives in sodium_malloc memory (the secret key with it); free it with
 * note_signer_free(), which wipes it. Output goes to a caller's struct buf
 * (appended); on failure the buf may hold a partial append the caller
 * discards, and every ret_ parameter is left untouched.
 *
 * Verification allocates nothing: all limits below are fixed. */
#ifndef SEALMAIL_NOTE_H
#define SEALMAIL_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define NOTE_MAX_SIZE (1u << 20)  /* whole note, body and signatures */
#define NOTE_MAX_SIGS 100         /* signature lines per note (spec: at least 16) */
#define NOTE_MAX_KEYS 64          /* verifiers per note_verify() call */
#define NOTE_NAME_MAX 255         /* key name, in bytes */
#define NOTE_SIG_PAYLOAD_MAX 8192 /* decoded signature of an unknown key, bytes */
#define NOTE_PK_LEN 32            /* Ed25519 public key */
#define NOTE_SK_LEN 64            /* Ed25519 secret key, libsodium layout seed || pk */
#define NOTE_HASH_LEN 32          /* checkpoint root hash (SHA-256) */
#define NOTE_COSIG_BODY_MAX 4000  /* checkpoint body under a cosignature/v1; real ones are ~100 */
/* A key name followed by "+", 8 hex digits, "+" and base64 of 33 bytes. */
#define NOTE_VKEY_MAX (NOTE_NAME_MAX + 1 + 8 + 1 + 44)

enum note_key_type {
	NOTE_KEY_ED25519 = 0x01,  /* c2sp.org/signed-note Ed25519 */
	NOTE_KEY_COSIG_V1 = 0x04, /* c2sp.org/tlog-cosignature Ed25519 cosignature/v1 */
};

struct note_verifier {
	char name[NOTE_NAME_MAX + 1]; /* NUL-terminated, validated key name */
	uint32_t key_id;
	uint8_t type;                 /* enum note_key_type */
	uint8_t pk[NOTE_PK_LEN];
};

/* What note_verify() found for one verifier. */
struct note_sig_status {
	int verified;       /* 1 if this key's signature was present and valid */
	uint64_t timestamp; /* cosignature/v1 time (POSIX seconds); 0 for 0x01 keys */
};

struct note_checkpoint {
	const char *origin; /* not NUL-terminated; borrowed */
	size_t origin_len;
	uint64_t size;
	uint8_t root[NOTE_HASH_LEN];
	const char *ext;    /* extension lines, each ending in "\n"; borrowed; NULL if none */
	size_t ext_len;
};

struct note_signer;

/* ---- keys ---- */

/* Builds a verifier from a name and an Ed25519 public key, computing the
 * key ID. SM_EINVAL for a bad name or type. */
int note_verifier_new(const char *name, uint8_t type, const uint8_t pk[NOTE_PK_LEN],
		      struct note_verifier *ret_v) SM_WUR;
/* Parses "name+keyid+base64(type||pk)". SM_EPARSE if malformed, of an
 * unsupported type, or if the key ID does not match name and key. */
int note_verifier_parse(const char *vkey, struct note_verifier *ret_v) SM_WUR;
/* Appends the vkey string of v. */
int note_verifier_format(const struct note_verifier *v, struct buf *out) SM_WUR;

/* Creates a signer from a name and a libsodium Ed25519 secret key (seed ||
 * pk; SM_EINVAL if the halves disagree). The key is copied; wipe yours. */
int note_signer_new(const char *name, uint8_t type, const uint8_t sk[NOTE_SK_LEN],
		    struct note_signer **ret_s) SM_WUR;
/* Parses "PRIVATE+KEY+name+keyid+base64(type||seed)" (the Go
 * golang.org/x/mod/sumdb/note signer key encoding). */
int note_signer_parse(const char *skey, struct note_signer **ret_s) SM_WUR;
/* Appends the signer key string; out then holds a secret (buf_free wipes). */
int note_signer_format(const struct note_signer *s, struct buf *out) SM_WUR;
/* The verifier matching s. */
int note_signer_verifier(const struct note_signer *s, struct note_verifier *ret_v) SM_WUR;
/* Wipes and frees. Accepts NULL. */
void note_signer_free(struct note_signer *s);

/* ---- notes ---- */

/* Appends one signature line "— name base64(...)\n" by s over text (which
 * must be valid note text ending in "\n"). For a NOTE_KEY_COSIG_V1 signer
 * text must be a checkpoint body and timestamp (< 2^63) is signed with it;
 * an 0x01 signer ignores timestamp. */
int note_sign_line(const struct note_signer *s, const uint8_t *text, size_t len,
		   uint64_t timestamp, struct buf *out) SM_WUR;
/* Appends a whole note: text, the blank line, and s's signature line. */
int note_sign(const struct note_signer *s, const uint8_t *text, size_t len, uint64_t timestamp,
	      struct buf *out) SM_WUR;
/* Appends the exact message a cosignature/v1 signs:
 * "cosignature/v1\ntime <timestamp>\n" || body. */
int note_cosig_message(const uint8_t *body, size_t len, uint64_t timestamp,
		       struct buf *out) SM_WUR;

/* Verifies note (len bytes, untrusted) against keys[0..nkeys). Succeeds
 * only if at least one known key signed; then ret_status[i] (nkeys
 * entries) says which, and *ret_text_len is the length of the signed text
 * at the start of note. Signatures from unknown keys are ignored; every
 * line of a known key must verify (a key that signs twice counts once).
 * Errors: SM_EPARSE malformed note or signature line; SM_ETOOBIG over
 * NOTE_MAX_SIZE, NOTE_MAX_SIGS or NOTE_MAX_KEYS; SM_ECRYPTO a known key's
 * signature failed; SM_ENOTFOUND no known key signed. */
int note_verify(const uint8_t *note, size_t len, const struct note_verifier *keys, size_t nkeys,
		struct note_sig_status *ret_status, size_t *ret_text_len) SM_WUR;

/* ---- checkpoints ---- */

/* Parses a checkpoint body (the signed text of a checkpoint note, final
 * newline included). SM_EPARSE if malformed. */
int note_checkpoint_parse(const uint8_t *body, size_t len, struct note_checkpoint *ret_cp) SM_WUR;
/* Appends the body of cp. SM_EINVAL if cp could not be parsed back. */
int note_checkpoint_format(const struct note_checkpoint *cp, struct buf *out) SM_WUR;

#endif
