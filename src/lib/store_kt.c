/* store_kt.c: key transparency state in sealmaild's database (store_kt.h). */
#include "store_kt.h"

#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store_internal.h"

enum kst_id {
	KST_CHANGES = 0,
	KST_LEAVES,
	KST_VERSION_PUT,
	KST_LEAF_PUT,
	KST_EPOCH_PUT,
	KST_CHECKPOINT_SET,
	KST_LATEST,
	KST_EPOCH,
	KST_HASH_GET,
	KST_HASH_PUT,
	KST_USER,
	KST_VERSION,
	KST_WITNESS_GET,
	KST_WITNESS_SET,
	KST_INDEX_PUT,
	KST_N
};

_Static_assert(KST_N <= KST_COUNT, "raise KST_COUNT in store_internal.h");

static const char *const kst_sql[KST_N] = {
	[KST_CHANGES] = "SELECT u.id, u.local || '@' || u.domain, c.cert, c.version,"
			" l.idx, l.counter, l.epoch, l.commitment, i.idx, i.vrf_proof,"
			" c.authorization"
			" FROM users u JOIN certs c ON c.user_id = u.id"
			" LEFT JOIN kt_leaves l ON l.user_id = u.id"
			" LEFT JOIN kt_indices i ON i.user_id = u.id"
			" WHERE u.domain = ?1 AND (l.user_id IS NULL OR l.cert_version <> c.version)",
	[KST_LEAVES] = "SELECT idx, counter, epoch, commitment FROM kt_leaves WHERE domain = ?1",
	[KST_VERSION_PUT] = "INSERT INTO kt_versions (user_id, counter, epoch, opening, cert,"
			    " authorization) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[KST_LEAF_PUT] = "INSERT INTO kt_leaves (user_id, domain, idx, vrf_proof, counter, epoch,"
			 " commitment, cert_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
			 " ON CONFLICT (user_id) DO UPDATE SET counter = excluded.counter,"
			 " epoch = excluded.epoch, commitment = excluded.commitment,"
			 " cert_version = excluded.cert_version",
	[KST_EPOCH_PUT] = "INSERT INTO kt_epochs (domain, epoch, entry, delta, checkpoint)"
			  " VALUES (?1, ?2, ?3, ?4, ?5)",
	[KST_CHECKPOINT_SET] = "UPDATE kt_epochs SET checkpoint = ?3 WHERE domain = ?1 AND epoch = ?2",
	[KST_LATEST] = "SELECT epoch, checkpoint FROM kt_epochs WHERE domain = ?1"
		       " ORDER BY epoch DESC LIMIT 1",
	[KST_EPOCH] = "SELECT entry, delta, checkpoint FROM kt_epochs WHERE domain = ?1 AND epoch = ?2",
	[KST_HASH_GET] = "SELECT hash FROM kt_hashes WHERE domain = ?1 AND level = ?2 AND idx = ?3",
	[KST_HASH_PUT] = "INSERT OR REPLACE INTO kt_hashes (domain, level, idx, hash)"
			 " VALUES (?1, ?2, ?3, ?4)",
	[KST_USER] = "SELECT u.id, lower(u.local) || '@' || u.domain, l.idx, l.vrf_proof, l.counter"
		     " FROM users u JOIN kt_leaves l ON l.user_id = u.id"
		     " WHERE u.domain = ?1 AND u.wkd_hash = ?2",
	[KST_VERSION] = "SELECT opening, cert, authorization FROM kt_versions"
			" WHERE user_id = ?1 AND counter = ?2",
	[KST_WITNESS_GET] = "SELECT size FROM kt_witnesses WHERE domain = ?1 AND name = ?2",
	[KST_INDEX_PUT] = "INSERT OR IGNORE INTO kt_indices (user_id, idx, vrf_proof)"
			  " SELECT id, ?3, ?4 FROM users WHERE domain = ?1 AND local = ?2",
	[KST_WITNESS_SET] = "INSERT INTO kt_witnesses (domain, name, size) VALUES (?1, ?2, ?3)"
			    " ON CONFLICT (domain, name) DO UPDATE SET size = excluded.size",
};

int store_kt_prepare(store *s)
{
	return store_stmts_prepare(s, kst_sql, KST_N, s->kst);
}

/* ---- binding and reading helpers ---- */

static int bind_text(sqlite3_stmt *st, int i, const char *t)
{
	return sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
}

static int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	return sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC);
}

static int bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	return v > INT64_MAX ? SQLITE_RANGE : sqlite3_bind_int64(st, i, (int64_t)v);
}

/* Copies a fixed-size blob column; SM_EPARSE if its size is not n. */
static int column_fixed(sqlite3_stmt *st, int col, uint8_t *out, size_t n)
{
	const void *p = sqlite3_column_blob(st, col);
	if (p == NULL || (size_t)sqlite3_column_bytes(st, col) != n)
		return SM_EPARSE;
	memcpy(out, p, n);
	return 0;
}

static int column_u64(sqlite3_stmt *st, int col, uint64_t *ret)
{
	int64_t v = sqlite3_column_int64(st, col);
	if (v < 0)
		return SM_EPARSE;
	*ret = (uint64_t)v;
	return 0;
}

static int column_append(sqlite3_stmt *st, int col, struct buf *out)
{
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);
	if (out == NULL)
		return 0;
	if (p == NULL || n <= 0)
		return SM_EPARSE;
	return buf_append(out, p, (size_t)n);
}

/* Steps a statement that returns no row. */
static int run(store *s, sqlite3_stmt *st, int rc)
{
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	return store_stmt_end(st, rc == SQLITE_DONE ? 0 : store_sql_err(s->db, rc));
}

/* ---- pending changes and leaves ---- */

static int leaf_columns(sqlite3_stmt *st, int first, struct ptree_leaf *leaf)
{
	int r = column_fixed(st, first, leaf->idx, PTREE_IDX_LEN);
	if (r == 0)
		r = column_u64(st, first + 1, &leaf->counter);
	if (r == 0)
		r = column_u64(st, first + 2, &leaf->epoch);
	if (r == 0)
		r = column_fixed(st, first + 3, leaf->commitment, PTREE_HASH_LEN);
	return r;
}

static int change_row(sqlite3_stmt *st, struct store_kt_change *c)
{
	memset(c, 0, sizeof(*c));
	c->user_id = sqlite3_column_int64(st, 0);
	c->address = (const char *)sqlite3_column_text(st, 1);
	c->cert = sqlite3_column_blob(st, 2);
	int n = sqlite3_column_bytes(st, 2);
	c->cert_version = sqlite3_column_int64(st, 3);
	if (c->address == NULL || c->cert == NULL || n <= 0)
		return SM_EPARSE;
	c->cert_len = (size_t)n;
	c->has_leaf = sqlite3_column_type(st, 4) != SQLITE_NULL;
	c->has_index = sqlite3_column_type(st, 8) != SQLITE_NULL;
	int r = c->has_leaf ? leaf_columns(st, 4, &c->leaf) : 0;
	if (r == 0 && c->has_index)
		r = column_fixed(st, 8, c->idx, PTREE_IDX_LEN);
	if (r == 0 && c->has_index)
		r = column_fixed(st, 9, c->vrf_proof, VRF_PROOF_LEN);
	c->auth = sqlite3_column_blob(st, 10);
	c->auth_len = c->auth != NULL ? (size_t)sqlite3_column_bytes(st, 10) : 0;
	return r;
}

int store_kt_changes(store *s, const char *domain,
		     int (*fn)(void *arg, const struct store_kt_change *c), void *arg)
{
	sqlite3_stmt *st = s->kst[KST_CHANGES];
	struct store_kt_change c;
	int r = 0, rc = bind_text(st, 1, domain);
	while (rc == SQLITE_OK && r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = change_row(st, &c);
		if (r == 0)
			r = fn(arg, &c);
		rc = SQLITE_OK;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_OK)
		r = store_sql_err(s->db, rc);
	return store_stmt_end(st, r);
}

int store_kt_leaves(store *s, const char *domain,
		    int (*fn)(void *arg, const struct ptree_leaf *leaf), void *arg)
{
	sqlite3_stmt *st = s->kst[KST_LEAVES];
	struct ptree_leaf leaf;
	int r = 0, rc = bind_text(st, 1, domain);
	while (rc == SQLITE_OK && r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = leaf_columns(st, 0, &leaf);
		if (r == 0)
			r = fn(arg, &leaf);
		rc = SQLITE_OK;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_OK)
		r = store_sql_err(s->db, rc);
	return store_stmt_end(st, r);
}

/* ---- the epoch transaction ---- */

int store_kt_begin(store *s)
{
	return store_tx_begin(s);
}

int store_kt_commit(store *s)
{
	return store_tx_commit(s);
}

void store_kt_rollback(store *s)
{
	store_tx_rollback(s);
}

int store_kt_put_version(store *s, int64_t user_id, const char *domain,
			 const uint8_t vrf_proof[VRF_PROOF_LEN], const struct ptree_leaf *leaf,
			 const uint8_t opening[32], const uint8_t *cert, size_t cert_len,
			 const uint8_t *auth, size_t auth_len, int64_t cert_version)
{
	sqlite3_stmt *st = s->kst[KST_VERSION_PUT];
	int rc = sqlite3_bind_int64(st, 1, user_id);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 2, leaf->counter);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 3, leaf->epoch);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 4, opening, 32);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 5, cert, cert_len);
	if (rc == SQLITE_OK)
		rc = auth_len > 0 ? bind_blob(st, 6, auth, auth_len) : sqlite3_bind_null(st, 6);
	int r = run(s, st, rc);
	if (r < 0)
		return r;
	st = s->kst[KST_LEAF_PUT];
	rc = sqlite3_bind_int64(st, 1, user_id);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, domain);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 3, leaf->idx, PTREE_IDX_LEN);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 4, vrf_proof, VRF_PROOF_LEN);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 5, leaf->counter);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 6, leaf->epoch);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 7, leaf->commitment, PTREE_HASH_LEN);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, cert_version);
	return run(s, st, rc);
}

int store_kt_put_epoch(store *s, const char *domain, uint64_t epoch, const struct buf *entry,
		       const struct buf *delta, const struct buf *checkpoint)
{
	sqlite3_stmt *st = s->kst[KST_EPOCH_PUT];
	int rc = bind_text(st, 1, domain);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 2, epoch);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 3, entry->data, entry->len);
	/* An empty delta body is still its 26-byte header, never NULL. */
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 4, delta->data, delta->len);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 5, checkpoint->data, checkpoint->len);
	return run(s, st, rc);
}

int store_kt_set_checkpoint(store *s, const char *domain, uint64_t epoch, const struct buf *checkpoint)
{
	sqlite3_stmt *st = s->kst[KST_CHECKPOINT_SET];
	int rc = bind_text(st, 1, domain);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 2, epoch);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 3, checkpoint->data, checkpoint->len);
	return run(s, st, rc);
}

int store_kt_latest(store *s, const char *domain, uint64_t *ret_epoch, struct buf *ret_checkpoint)
{
	sqlite3_stmt *st = s->kst[KST_LATEST];
	uint64_t e = 0;
	int r, rc = bind_text(st, 1, domain);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r = column_u64(st, 0, &e);
		if (r == 0)
			r = column_append(st, 1, ret_checkpoint);
		if (r == 0)
			*ret_epoch = e;
	} else {
		r = rc == SQLITE_DONE ? SM_ENOTFOUND : store_sql_err(s->db, rc);
	}
	return store_stmt_end(st, r);
}

int store_kt_epoch(store *s, const char *domain, uint64_t epoch, struct buf *ret_entry,
		   struct buf *ret_delta, struct buf *ret_checkpoint)
{
	sqlite3_stmt *st = s->kst[KST_EPOCH];
	int r, rc = bind_text(st, 1, domain);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 2, epoch);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r = column_append(st, 0, ret_entry);
		if (r == 0)
			r = column_append(st, 1, ret_delta);
		if (r == 0)
			r = column_append(st, 2, ret_checkpoint);
	} else {
		r = rc == SQLITE_DONE ? SM_ENOTFOUND : store_sql_err(s->db, rc);
	}
	return store_stmt_end(st, r);
}

/* ---- the epoch log's hashes ---- */

static int log_read(void *ctx, unsigned level, uint64_t index, uint8_t ret[TLOG_HASH_LEN])
{
	struct store_kt_log *log = ctx;
	sqlite3_stmt *st = log->s->kst[KST_HASH_GET];
	int r, rc = bind_text(st, 1, log->domain);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 2, (int)level);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 3, index);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = column_fixed(st, 0, ret, TLOG_HASH_LEN);
	else
		r = rc == SQLITE_DONE ? SM_ENOTFOUND : store_sql_err(log->s->db, rc);
	return store_stmt_end(st, r);
}

static int log_write(void *ctx, unsigned level, uint64_t index, const uint8_t h[TLOG_HASH_LEN])
{
	struct store_kt_log *log = ctx;
	sqlite3_stmt *st = log->s->kst[KST_HASH_PUT];
	int rc = bind_text(st, 1, log->domain);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 2, (int)level);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 3, index);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 4, h, TLOG_HASH_LEN);
	return run(log->s, st, rc);
}

void store_kt_log_init(struct store_kt_log *log, store *s, const char *domain,
		       struct tlog_store *ret_st)
{
	log->s = s;
	snprintf(log->domain, sizeof(log->domain), "%s", domain);
	ret_st->read_hash = log_read;
	ret_st->write_hash = log_write;
	ret_st->ctx = log;
}

/* ---- lookups ---- */

int store_kt_user(store *s, const char *domain, const char *wkd_hash, struct store_kt_user *ret)
{
	sqlite3_stmt *st = s->kst[KST_USER];
	struct store_kt_user u;
	int r, rc = bind_text(st, 1, domain);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, wkd_hash);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 1);
		memset(&u, 0, sizeof(u));
		u.user_id = sqlite3_column_int64(st, 0);
		r = a != NULL && strlen(a) < sizeof(u.address) ? 0 : SM_EPARSE;
		if (r == 0) {
			memcpy(u.address, a, strlen(a) + 1);
			r = column_fixed(st, 2, u.idx, PTREE_IDX_LEN);
		}
		if (r == 0)
			r = column_fixed(st, 3, u.vrf_proof, VRF_PROOF_LEN);
		if (r == 0)
			r = column_u64(st, 4, &u.counter);
		if (r == 0)
			*ret = u;
	} else {
		r = rc == SQLITE_DONE ? SM_ENOTFOUND : store_sql_err(s->db, rc);
	}
	return store_stmt_end(st, r);
}

int store_kt_version(store *s, int64_t user_id, uint64_t counter, uint8_t ret_opening[32],
		     struct buf *ret_cert, struct buf *ret_auth)
{
	sqlite3_stmt *st = s->kst[KST_VERSION];
	uint8_t opening[32];
	int r, rc = sqlite3_bind_int64(st, 1, user_id);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 2, counter);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r = column_fixed(st, 0, opening, sizeof(opening));
		if (r == 0)
			r = column_append(st, 1, ret_cert);
		if (r == 0 && ret_auth != NULL && sqlite3_column_type(st, 2) != SQLITE_NULL)
			r = column_append(st, 2, ret_auth);
		if (r == 0)
			memcpy(ret_opening, opening, sizeof(opening));
	} else {
		r = rc == SQLITE_DONE ? SM_ENOTFOUND : store_sql_err(s->db, rc);
	}
	return store_stmt_end(st, r);
}

int store_kt_put_index(store *s, const char *address, const uint8_t idx[PTREE_IDX_LEN],
		       const uint8_t vrf_proof[VRF_PROOF_LEN])
{
	struct wkd_address a;
	sqlite3_stmt *st = s->kst[KST_INDEX_PUT];
	if (wkd_address_parse(address, &a) < 0)
		return SM_EINVAL;
	int rc = bind_text(st, 1, a.domain);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, a.local);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 3, idx, PTREE_IDX_LEN);
	if (rc == SQLITE_OK)
		rc = bind_blob(st, 4, vrf_proof, VRF_PROOF_LEN);
	return run(s, st, rc);
}

/* ---- witnesses ---- */

int store_kt_witness_size(store *s, const char *domain, const char *name, uint64_t *ret)
{
	sqlite3_stmt *st = s->kst[KST_WITNESS_GET];
	int r, rc = bind_text(st, 1, domain);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, name);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r = column_u64(st, 0, ret);
	} else if (rc == SQLITE_DONE) {
		*ret = 0;
		r = 0;
	} else {
		r = store_sql_err(s->db, rc);
	}
	return store_stmt_end(st, r);
}

int store_kt_set_witness_size(store *s, const char *domain, const char *name, uint64_t size)
{
	sqlite3_stmt *st = s->kst[KST_WITNESS_SET];
	int rc = bind_text(st, 1, domain);
	if (rc == SQLITE_OK)
		rc = bind_text(st, 2, name);
	if (rc == SQLITE_OK)
		rc = bind_u64(st, 3, size);
	return run(s, st, rc);
}
