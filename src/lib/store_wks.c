/* store_wks.c: Web Key Service submissions waiting for confirmation. See
 * store_wks.h. */
#include "store_wks.h"

#include <string.h>

#include <sodium.h>

#include "store_internal.h"
#include "wkd.h"

enum {
	WST_ADD,
	WST_FIND,
	WST_USE,
	WST_OPEN,
	WST_N
};

_Static_assert(WST_N <= WST_COUNT, "raise WST_COUNT in store_internal.h");

static const char *const wst_sql[WST_N] = {
	[WST_ADD] = "INSERT INTO wks_pending (nonce_hash, user_id, cert, created, expires)"
		    " VALUES (?1, ?2, ?3, ?4, ?5)",
	[WST_FIND] = "SELECT user_id, cert, expires, used FROM wks_pending WHERE nonce_hash = ?1",
	[WST_USE] = "UPDATE wks_pending SET used = 1 WHERE nonce_hash = ?1 AND used = 0",
	[WST_OPEN] = "SELECT cert FROM wks_pending WHERE user_id = ?1 AND used = 0 AND expires > ?2",
};

int store_wks_prepare(store *s)
{
	return store_stmts_prepare(s, wst_sql, WST_N, s->wst);
}

static void nonce_hash(const char *nonce, uint8_t ret[32])
{
	crypto_hash_sha256(ret, (const uint8_t *)nonce, strlen(nonce));
}

static int add(store *s, const uint8_t hash[32], int64_t id, const uint8_t *cert, size_t len,
	       uint64_t now, uint64_t expires)
{
	sqlite3_stmt *st = s->wst[WST_ADD];
	int rc = sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 3, cert, (int)len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, (sqlite3_int64)expires);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0
		: (rc & 0xff) == SQLITE_CONSTRAINT ? SM_EEXIST
						   : store_sql_err(s->db, rc);
	return store_stmt_end(st, r);
}

int store_wks_submit(store *s, const char *address, const char *nonce, const uint8_t *cert,
		     size_t cert_len, uint64_t now, uint64_t expires)
{
	struct wkd_address a;
	uint8_t hash[32];
	int64_t id = 0;
	if (address == NULL || nonce == NULL || cert == NULL || cert_len == 0 ||
	    wkd_address_parse(address, &a) < 0)
		return SM_EINVAL;
	if (cert_len > STORE_CERT_MAX)
		return SM_ETOOBIG;
	nonce_hash(nonce, hash);
	int r = store_tx_begin(s);
	if (r < 0)
		return r;
	r = store_user_id(s, &a, &id);
	if (r == 0)
		r = add(s, hash, id, cert, cert_len, now, expires);
	if (r == 0)
		r = store_tx_commit(s);
	if (r < 0)
		store_tx_rollback(s);
	return r;
}

/* The pending submission under hash, for user id: its certificate is
 * appended to cert. */
static int find(store *s, const uint8_t hash[32], int64_t id, uint64_t now, struct buf *cert)
{
	sqlite3_stmt *st = s->wst[WST_FIND];
	int r, rc = sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_stmt_end(st, rc == SQLITE_DONE ? SM_ENOTFOUND : store_sql_err(s->db, rc));
	const void *blob = sqlite3_column_blob(st, 1);
	int n = sqlite3_column_bytes(st, 1);
	if (sqlite3_column_int64(st, 0) != id)
		r = SM_ENOTFOUND; /* someone else's nonce answers nothing for this address */
	else if (sqlite3_column_int(st, 3) != 0)
		r = SM_EEXIST;
	else if ((uint64_t)sqlite3_column_int64(st, 2) <= now)
		r = SM_ESTALE;
	else if (blob == NULL || n <= 0)
		r = SM_EPARSE;
	else
		r = buf_append(cert, blob, (size_t)n);
	return store_stmt_end(st, r);
}

static int use(store *s, const uint8_t hash[32])
{
	sqlite3_stmt *st = s->wst[WST_USE];
	int rc = sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : store_sql_err(s->db, rc);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = SM_EEXIST;
	return store_stmt_end(st, r);
}

int store_wks_confirm(store *s, const char *address, const char *nonce, uint64_t now,
		      struct buf *ret_cert)
{
	struct wkd_address a;
	uint8_t hash[32];
	int64_t id = 0;
	struct buf cert;
	if (address == NULL || nonce == NULL || wkd_address_parse(address, &a) < 0)
		return SM_EINVAL;
	nonce_hash(nonce, hash);
	buf_init(&cert, STORE_CERT_MAX);
	int r = store_tx_begin(s);
	if (r < 0)
		goto done;
	r = store_user_id(s, &a, &id);
	if (r == 0)
		r = find(s, hash, id, now, &cert);
	if (r == 0)
		r = use(s, hash);
	if (r == 0)
		r = store_cert_put(s, id, cert.data, cert.len, NULL);
	if (r == 0)
		r = store_tx_commit(s);
	if (r < 0)
		store_tx_rollback(s);
	if (r == 0 && ret_cert != NULL)
		r = buf_append(ret_cert, cert.data, cert.len);
done:
	buf_free(&cert);
	return r;
}

int store_wks_open(store *s, const char *address, uint64_t now, struct buf *ret_certs,
		   size_t *ret_n)
{
	struct wkd_address a;
	int64_t id = 0;
	size_t n = 0;
	if (address == NULL || ret_n == NULL || wkd_address_parse(address, &a) < 0)
		return SM_EINVAL;
	int r = store_tx_begin(s);
	if (r < 0)
		return r;
	r = store_user_id(s, &a, &id);
	sqlite3_stmt *st = s->wst[WST_OPEN];
	int rc = r == 0 ? sqlite3_bind_int64(st, 1, id) : SQLITE_OK;
	if (r == 0 && rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
	while (r == 0 && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const void *blob = sqlite3_column_blob(st, 0);
		int len = sqlite3_column_bytes(st, 0);
		n++;
		if (blob == NULL || len <= 0)
			r = SM_EPARSE;
		else if (ret_certs != NULL)
			r = buf_append(ret_certs, blob, (size_t)len);
		rc = SQLITE_OK;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_OK)
		r = store_sql_err(s->db, rc);
	r = store_stmt_end(st, r);
	store_tx_rollback(s); /* read only */
	if (r == 0)
		*ret_n = n;
	return r;
}

int store_wks_pending(store *s, const char *address, const char *nonce, uint64_t now,
		      struct buf *ret_cert)
{
	struct wkd_address a;
	uint8_t hash[32];
	int64_t id = 0;
	if (address == NULL || nonce == NULL || ret_cert == NULL || wkd_address_parse(address, &a) < 0)
		return SM_EINVAL;
	nonce_hash(nonce, hash);
	int r = store_tx_begin(s);
	if (r < 0)
		return r;
	r = store_user_id(s, &a, &id);
	if (r == 0)
		r = find(s, hash, id, now, ret_cert);
	store_tx_rollback(s); /* read only */
	return r;
}
