/* store.h: sealmaild's durable state (users, publish tokens, certificates).
 *
 * One SQLite 3 database, STATE_DIR/sealmaild.db, in WAL mode with
 * synchronous=FULL: when a write function returns 0 its transaction is on
 * disk, so the caller may acknowledge it (print the token, answer 200).
 * A failed write has changed nothing.
 *
 * A store handle belongs to one thread at a time; processes may each open
 * their own handle on the same database (SQLite serialises the writers).
 * Writes wait for a competing writer up to the busy timeout (default
 * STORE_BUSY_TIMEOUT_MS) and then fail with SM_EIO and errno set to EBUSY.
 *
 * Errors, besides those listed per function:
 *   SM_EPARSE  the database is corrupt or not a database (never overwritten);
 *   SM_EIO     busy past the timeout (errno EBUSY), disk full (ENOSPC), or an
 *              I/O error (errno as the system reported it);
 *   SM_ENOMEM  out of memory.
 *
 * Addresses follow WKD (wkd.h): the domain is lowercased, the local part is
 * kept as first written and compared ASCII case-insensitively. */
#ifndef SEALMAIL_STORE_H
#define SEALMAIL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* A publish token: 32 random bytes as unpadded lowercase RFC 4648 base32. */
#define STORE_TOKEN_LEN 52
#define STORE_CERT_MAX (1024 * 1024)
#define STORE_BUSY_TIMEOUT_MS 5000
#define STORE_DB_NAME "sealmaild.db"

typedef struct store store;

/* Opens STATE_DIR/sealmaild.db, creating the folder (0700) and the file
 * (0600) if missing, and brings its schema up to date. The database file
 * must not be a symbolic link. Refuses with SM_EPARSE a file that fails
 * SQLite's quick_check, and with SM_EINVAL one written by a newer sealmaild
 * (a schema version this code does not know); neither is modified.
 * On success *ret is a handle to free with store_close; untouched on failure. */
int store_open(const char *state_dir, store **ret) SM_WUR;
/* Releases the handle. Accepts NULL. */
void store_close(store *s);
/* How long a write waits for another writer before failing (milliseconds). */
int store_set_busy_timeout(store *s, int ms) SM_WUR;

/* Adds a user and writes their one-time publish token (NUL-terminated) to
 * ret_token once the user is committed. Only a SHA-256 hash of the token is
 * stored; the caller shows the token to the user and should wipe it
 * (sodium_memzero) afterwards. SM_EINVAL: not an address; SM_EEXIST: the
 * mailbox exists (in any case of its local part). ret_token untouched on
 * failure. */
int store_user_add(store *s, const char *address, char ret_token[STORE_TOKEN_LEN + 1]) SM_WUR;

/* 1 if the mailbox is a user, 0 if not; SM_EINVAL if not an address. */
int store_user_exists(store *s, const char *address) SM_WUR;

/* An owner's authorization (kt_update.h) stored with a change, and the
 * committed version the change builds on (its map counter; 0: none yet). */
struct store_auth {
	const uint8_t *text;
	size_t len;
	uint64_t base_counter;
};
#define STORE_AUTH_MAX 4096

/* Checks the token and, in one transaction, uses it up and stores cert
 * (with auth, when not NULL) as the user's pending certificate (replacing
 * any earlier pending one). The caller has already checked that cert is a
 * public certificate bundle for the address and auth's signature; the
 * store parses neither. A token works once, ever (store_user_reset issues a
 * new one). SM_ENOTFOUND: no such user; SM_EINVAL: not an address,
 * malformed or wrong token; SM_EEXIST: right token, already used;
 * SM_ESTALE: the committed version is no longer auth->base_counter;
 * SM_ETOOBIG: cert over STORE_CERT_MAX or auth over STORE_AUTH_MAX. A
 * daemon should answer the first three alike, so that the answer reveals
 * neither users nor tokens. cert and auth are only borrowed. */
int store_publish(store *s, const char *address, const char *token, const uint8_t *cert,
		  size_t cert_len, const struct store_auth *auth) SM_WUR;

/* An owner's change: stores cert with auth (required) as the user's
 * pending certificate, in one transaction, if the committed version is
 * still auth->base_counter (SM_ESTALE otherwise). The caller has checked
 * that auth is signed by a key of the committed version. SM_ENOTFOUND: no
 * such user; other errors as store_publish. */
int store_update(store *s, const char *address, const uint8_t *cert, size_t cert_len,
		 const struct store_auth *auth) SM_WUR;

/* The administrator's reset of a user who lost every key: a new one-time
 * token replaces the old (used or not), written to ret_token once it is
 * committed. What the domain serves changes only when the user publishes
 * with it. SM_ENOTFOUND: no such user. */
int store_user_reset(store *s, const char *address, char ret_token[STORE_TOKEN_LEN + 1]) SM_WUR;

/* Appends the certificate served under the domain's WKD hash (as in the
 * URL: wkd_hash_local_part) to ret_cert. SM_ENOTFOUND if there is none;
 * SM_ETOOBIG if it would not fit ret_cert's maximum; ret_cert untouched on
 * failure. */
int store_key_by_hash(store *s, const char *domain, const char *wkd_hash,
		      struct buf *ret_cert) SM_WUR;

struct store_counts {
	uint64_t users;
	uint64_t published; /* users with a certificate */
};

int store_user_count(store *s, struct store_counts *ret) SM_WUR;

/* One user, as handed to a store_user_list callback; the strings are
 * borrowed and valid only during the call. */
struct store_user {
	const char *address;  /* canonical local@domain */
	int64_t created;      /* Unix time */
	int64_t published;    /* Unix time of the current certificate; 0 if none */
	int token_used;
};

/* Calls fn for every user, ordered by domain then address. fn must not call
 * back into this store; a nonzero return from fn stops the walk and is
 * returned as is (use a negative sm_err or a positive value of your own). */
int store_user_list(store *s, int (*fn)(void *arg, const struct store_user *u), void *arg) SM_WUR;

#endif
