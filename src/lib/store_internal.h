/* store_internal.h: what store.c and store_kt.c share, for the library's
 * own use only: the handle, its prepared statements, and the error and
 * transaction helpers. Not part of the public API. */
#ifndef SEALMAIL_STORE_INTERNAL_H
#define SEALMAIL_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"
#include "wkd.h"

/* Every statement the store runs, prepared once at open. Parameters are
 * always bound, never spliced into the text. */
enum stmt_id {
	ST_BEGIN = 0,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_USER_FIND,
	ST_USER_ADD,
	ST_TOKEN_USE,
	ST_CERT_PUT,
	ST_KEY_BY_HASH,
	ST_USER_COUNT,
	ST_USER_LIST,
	ST_COUNTER,
	ST_TOKEN_RESET,
	ST_COUNT
};

/* store_kt.c's and store_wks.c's statements (each file lists its own). */
#define KST_COUNT 24
#define WST_COUNT 4

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	sqlite3_stmt *kst[KST_COUNT];
	sqlite3_stmt *wst[WST_COUNT];
};

/* A SQLite result code as an sm_err (errno set for SM_EIO). */
int store_sql_err(sqlite3 *db, int rc);
/* Resets st and clears its bindings, keeping errno; returns r. */
int store_stmt_end(sqlite3_stmt *st, int r);
/* BEGIN IMMEDIATE / COMMIT (rolls back if it fails) / ROLLBACK if open. */
int store_tx_begin(store *s);
int store_tx_commit(store *s);
void store_tx_rollback(store *s);

/* Prepares the n statements sql into ret (each persistent). store_close
 * finalizes every statement array of the handle. */
int store_stmts_prepare(store *s, const char *const *sql, size_t n, sqlite3_stmt **ret);
/* Prepare store_kt.c's and store_wks.c's statements (called by store_open). */
int store_kt_prepare(store *s);
int store_wks_prepare(store *s);

/* Inside a transaction: the id of user a (SM_ENOTFOUND if none). */
int store_user_id(store *s, const struct wkd_address *a, int64_t *ret_id);
/* Inside a transaction: cert (with auth, or none when NULL) becomes the
 * user's pending certificate. */
int store_cert_put(store *s, int64_t id, const uint8_t *cert, size_t cert_len,
		   const struct store_auth *auth);

#endif
