#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "store_internal.h"
#include "wkd.h"

#define TOKEN_RAW_LEN 32
#define TOKEN_HASH_LEN crypto_hash_sha256_BYTES

#define SQL_NOW "CAST(strftime('%s', 'now') AS INTEGER)"

static const char *const stmt_sql[ST_COUNT] = {
	/* IMMEDIATE takes the write lock up front, so a writer waits (busy
	 * timeout) at BEGIN instead of failing half-way with a stale snapshot. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_USER_FIND] = "SELECT id, token_hash, token_used FROM users"
			 " WHERE domain = ?1 AND local = ?2",
	[ST_USER_ADD] = "INSERT INTO users (domain, local, wkd_hash, token_hash, created)"
			" VALUES (?1, ?2, ?3, ?4, " SQL_NOW ")",
	[ST_TOKEN_USE] = "UPDATE users SET token_used = 1 WHERE id = ?1 AND token_used = 0",
	[ST_CERT_PUT] = "INSERT INTO certs (user_id, cert, published, authorization)"
			" VALUES (?1, ?2, " SQL_NOW ", ?3)"
			" ON CONFLICT (user_id) DO UPDATE"
			" SET cert = excluded.cert, published = excluded.published,"
			" authorization = excluded.authorization, version = certs.version + 1",
	/* WKD serves the version the transparency map commits to, never a
	 * newer one still waiting for its epoch. */
	[ST_KEY_BY_HASH] = "SELECT v.cert FROM users u"
			   " JOIN kt_leaves l ON l.user_id = u.id"
			   " JOIN kt_versions v ON v.user_id = u.id AND v.counter = l.counter"
			   " WHERE u.domain = ?1 AND u.wkd_hash = ?2",
	[ST_USER_COUNT] = "SELECT count(*), count(c.user_id)"
			  " FROM users u LEFT JOIN certs c ON c.user_id = u.id",
	[ST_USER_LIST] = "SELECT u.local || '@' || u.domain, u.created,"
			 " coalesce(c.published, 0), u.token_used"
			 " FROM users u LEFT JOIN certs c ON c.user_id = u.id"
			 " ORDER BY u.domain, u.local",
	[ST_COUNTER] = "SELECT coalesce((SELECT counter FROM kt_leaves WHERE user_id = ?1), 0)",
	[ST_TOKEN_RESET] = "UPDATE users SET token_hash = ?2, token_used = 0 WHERE id = ?1",
};


/* ---- errors ---------------------------------------------------------- */

struct sql_err_map {
	int sqlite;    /* primary result code */
	int err;       /* sm_err */
	int sys_errno; /* errno to report with SM_EIO; 0: the VFS's own */
};

static const struct sql_err_map sql_errs[] = {
	{SQLITE_NOMEM, SM_ENOMEM, 0},
	{SQLITE_CORRUPT, SM_EPARSE, 0},
	{SQLITE_NOTADB, SM_EPARSE, 0},
	{SQLITE_BUSY, SM_EIO, EBUSY},
	{SQLITE_LOCKED, SM_EIO, EBUSY},
	{SQLITE_FULL, SM_EIO, ENOSPC},
	{SQLITE_READONLY, SM_EIO, EROFS},
	{SQLITE_TOOBIG, SM_ETOOBIG, 0},
	{SQLITE_CONSTRAINT, SM_EINVAL, 0},
	{SQLITE_RANGE, SM_EINVAL, 0},
	{SQLITE_MISUSE, SM_EINVAL, 0},
};

/* Maps a SQLite result code (extended codes are on) to an sm_err; sets
 * errno for SM_EIO as err.h promises. */
int store_sql_err(sqlite3 *db, int rc)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return SM_EEXIST;
	for (size_t i = 0; i < sizeof(sql_errs) / sizeof(sql_errs[0]); i++) {
		if (sql_errs[i].sqlite != (rc & 0xff))
			continue;
		if (sql_errs[i].sys_errno != 0)
			errno = sql_errs[i].sys_errno;
		return sql_errs[i].err;
	}
	int e = db != NULL ? sqlite3_system_errno(db) : 0;
	errno = e != 0 ? e : EIO;
	return SM_EIO;
}

/* Ends every use of a prepared statement, on every path: resets it and
 * drops its bindings (which may point into the caller's memory). errno is
 * kept for the caller. */
int store_stmt_end(sqlite3_stmt *st, int r)
{
	int saved = errno;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	errno = saved;
	return r;
}

/* Runs a prepared statement that returns no row. */
static int stmt_run(store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];
	int rc = sqlite3_step(st);
	return store_stmt_end(st, rc == SQLITE_DONE ? 0 : store_sql_err(s->db, rc));
}

/* ---- transactions ---------------------------------------------------- */

int store_tx_begin(store *s)
{
	return stmt_run(s, ST_BEGIN);
}

/* Safe to call when no transaction is open: SQLite itself rolls back on
 * some errors (disk full, I/O), and BEGIN may have failed. */
void store_tx_rollback(store *s)
{
	int saved = errno;
	if (!sqlite3_get_autocommit(s->db))
		(void)stmt_run(s, ST_ROLLBACK);
	errno = saved;
}

/* With synchronous=FULL in WAL mode, COMMIT returns once the WAL is
 * fsynced: only then may the caller acknowledge. */
int store_tx_commit(store *s)
{
	int r = stmt_run(s, ST_COMMIT);
	if (r < 0)
		store_tx_rollback(s);
	return r;
}

/* ---- schema ---------------------------------------------------------- */

/* Constant SQL only (pragmas, DDL); nothing here is built from input. */
static int exec_const(store *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : store_sql_err(s->db, rc);
}

/* Runs a one-shot pragma; if want is set, its first row must read want,
 * else the result is `mismatch`. */
static int pragma_expect(store *s, const char *sql, const char *want, int mismatch)
{
	sqlite3_stmt *st = NULL;
	int r, rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && want != NULL) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		r = t != NULL && strcmp((const char *)t, want) == 0 ? 0 : mismatch;
	} else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		r = want == NULL ? 0 : mismatch;
	} else {
		r = store_sql_err(s->db, rc);
	}
	int saved = errno;
	sqlite3_finalize(st);
	errno = saved;
	return r;
}

static int user_version(store *s, int64_t *ret)
{
	sqlite3_stmt *st = NULL;
	int r, rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? 0 : store_sql_err(s->db, rc);
	if (r == 0)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return r;
}

/* Version 1. local keeps the case it was added with and compares as WKD
 * does (ASCII case-insensitively, like wkd_hash_local_part lowercases); the
 * domain is stored lowercased. Only the SHA-256 of the publish token is
 * kept. Each step sets user_version itself, inside the migration's
 * transaction, so a crash leaves either the old or the new schema. */
static const char schema_v1[] =
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" local TEXT NOT NULL COLLATE NOCASE,"
	" domain TEXT NOT NULL,"
	" wkd_hash TEXT NOT NULL CHECK (length(wkd_hash) = 32),"
	" token_hash BLOB NOT NULL CHECK (length(token_hash) = 32),"
	" token_used INTEGER NOT NULL DEFAULT 0 CHECK (token_used IN (0, 1)),"
	" created INTEGER NOT NULL,"
	" UNIQUE (domain, local),"
	" UNIQUE (domain, wkd_hash)"
	") STRICT;"
	"CREATE TABLE certs ("
	" user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,"
	" cert BLOB NOT NULL CHECK (length(cert) > 0),"
	" published INTEGER NOT NULL"
	") STRICT;"
	"PRAGMA user_version = 1;";


/* Version 2: key transparency (store_kt.h). certs.version counts the
 * user's publications; kt_leaves holds each user's current map leaf and
 * the certs version it commits to, so a newer certs.version is a pending
 * change. kt_versions keeps every committed version (opening and key) for
 * lookup proofs; kt_epochs every epoch's log entry, delta and (cosigned)
 * checkpoint; kt_hashes the epoch log's stored hashes (tlog.h);
 * kt_indices each address's VRF index, computed when it first publishes so
 * that an epoch of many new users does not pay for the VRF; and
 * kt_witnesses how far each witness has seen each domain's log. */
static const char schema_v2[] =
	"ALTER TABLE certs ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
	"CREATE TABLE kt_leaves ("
	" user_id INTEGER PRIMARY KEY REFERENCES users (id),"
	" domain TEXT NOT NULL,"
	" idx BLOB NOT NULL CHECK (length(idx) = 32),"
	" vrf_proof BLOB NOT NULL CHECK (length(vrf_proof) = 80),"
	" counter INTEGER NOT NULL CHECK (counter > 0),"
	" epoch INTEGER NOT NULL CHECK (epoch >= 0),"
	" commitment BLOB NOT NULL CHECK (length(commitment) = 32),"
	" cert_version INTEGER NOT NULL,"
	" UNIQUE (domain, idx)"
	") STRICT;"
	"CREATE TABLE kt_versions ("
	" user_id INTEGER NOT NULL REFERENCES users (id),"
	" counter INTEGER NOT NULL,"
	" epoch INTEGER NOT NULL,"
	" opening BLOB NOT NULL CHECK (length(opening) = 32),"
	" cert BLOB NOT NULL CHECK (length(cert) > 0),"
	" PRIMARY KEY (user_id, counter)"
	") STRICT;"
	"CREATE TABLE kt_epochs ("
	" domain TEXT NOT NULL,"
	" epoch INTEGER NOT NULL,"
	" entry BLOB NOT NULL,"
	" delta BLOB NOT NULL,"
	" checkpoint BLOB NOT NULL,"
	" PRIMARY KEY (domain, epoch)"
	") STRICT;"
	"CREATE TABLE kt_hashes ("
	" domain TEXT NOT NULL,"
	" level INTEGER NOT NULL,"
	" idx INTEGER NOT NULL,"
	" hash BLOB NOT NULL CHECK (length(hash) = 32),"
	" PRIMARY KEY (domain, level, idx)"
	") STRICT, WITHOUT ROWID;"
	"CREATE TABLE kt_indices ("
	" user_id INTEGER PRIMARY KEY REFERENCES users (id),"
	" idx BLOB NOT NULL CHECK (length(idx) = 32),"
	" vrf_proof BLOB NOT NULL CHECK (length(vrf_proof) = 80)"
	") STRICT;"
	"CREATE TABLE kt_witnesses ("
	" domain TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" size INTEGER NOT NULL,"
	" PRIMARY KEY (domain, name)"
	") STRICT;"
	"PRAGMA user_version = 2;";


/* Version 3: key lifecycle (kt_update.h). Each pending change and each
 * committed version keeps the authorization it was published with. */
static const char schema_v3[] =
	"ALTER TABLE certs ADD COLUMN authorization BLOB;"
	"ALTER TABLE kt_versions ADD COLUMN authorization BLOB;"
	"PRAGMA user_version = 3;";


/* Version 4: the Web Key Service (store_wks.h): submissions waiting for
 * their confirmation, by the hash of their nonce. */
static const char schema_v4[] =
	"CREATE TABLE wks_pending ("
	" nonce_hash BLOB PRIMARY KEY CHECK (length(nonce_hash) = 32),"
	" user_id INTEGER NOT NULL REFERENCES users (id),"
	" cert BLOB NOT NULL CHECK (length(cert) > 0),"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0 CHECK (used IN (0, 1))"
	") STRICT;"
	"PRAGMA user_version = 4;";


/* migrations[i] takes a database from version i to i + 1. */
static const char *const migrations[] = {schema_v1, schema_v2, schema_v3, schema_v4};
#define SCHEMA_VERSION ((int64_t)(sizeof(migrations) / sizeof(migrations[0])))

/* Read-only: refuses a corrupt file and one from a newer sealmaild before
 * anything (even the switch to WAL) writes to it. */
static int db_check(store *s)
{
	int64_t v = 0;
	int r = pragma_expect(s, "PRAGMA quick_check(1)", "ok", SM_EPARSE);
	if (r == 0)
		r = user_version(s, &v);
	if (r == 0 && (v < 0 || v > SCHEMA_VERSION))
		r = SM_EINVAL;
	return r;
}

struct pragma {
	const char *set;
	const char *get;  /* NULL: set returns the value itself */
	const char *want;
};

/* Each setting is read back: SQLite ignores some pragmas silently. */
static const struct pragma pragmas[] = {
	{"PRAGMA journal_mode = WAL", NULL, "wal"},
	{"PRAGMA synchronous = FULL", "PRAGMA synchronous", "2"},
	{"PRAGMA foreign_keys = ON", "PRAGMA foreign_keys", "1"},
	{"PRAGMA trusted_schema = OFF", "PRAGMA trusted_schema", "0"},
	/* temporary tables and statement journals in memory: sealmaild may
	 * write nowhere but its state directory (src/daemon/sandbox.h) */
	{"PRAGMA temp_store = MEMORY", "PRAGMA temp_store", "2"},
};

static int db_configure(store *s)
{
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	for (size_t i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
		const struct pragma *p = &pragmas[i];
		int r = pragma_expect(s, p->set, p->get == NULL ? p->want : NULL, SM_EIO);
		if (r == 0 && p->get != NULL)
			r = pragma_expect(s, p->get, p->want, SM_EIO);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Another process may migrate at the same time: the version is read again
 * under the write lock, and each step must advance it by exactly one. */
static int db_migrate(store *s)
{
	int64_t v = 0, after = 0;
	int r = user_version(s, &v);
	if (r < 0 || v == SCHEMA_VERSION)
		return r;
	r = exec_const(s, "BEGIN IMMEDIATE");
	if (r == 0)
		r = user_version(s, &v);
	while (r == 0 && v < SCHEMA_VERSION) {
		r = exec_const(s, migrations[v]);
		if (r == 0)
			r = user_version(s, &after);
		if (r == 0 && after != v + 1)
			r = SM_EIO;
		v = after;
	}
	if (r == 0 && v != SCHEMA_VERSION)
		r = SM_EINVAL;
	if (r == 0)
		r = exec_const(s, "COMMIT");
	if (r < 0 && !sqlite3_get_autocommit(s->db))
		(void)exec_const(s, "ROLLBACK");
	return r;
}

/* ---- open and close -------------------------------------------------- */

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return SM_EIO;
	int r = fsync(fd) == 0 ? 0 : SM_EIO;
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* SQLite would create the file with 0644 less the umask; creating it
 * ourselves fixes the mode, and SQLite gives the -wal and -shm files the
 * database file's mode. The directory is fsynced so the new name survives
 * a crash. An existing entry must be a regular file, not a link. */
static int db_file_create(const char *dir, const char *path)
{
	struct stat st;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return SM_EIO;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno != EEXIST)
		return SM_EIO;
	if (fd < 0) {
		if (lstat(path, &st) < 0)
			return SM_EIO;
		return S_ISREG(st.st_mode) ? 0 : SM_EINVAL;
	}
	int r = fsync(fd) == 0 ? 0 : SM_EIO;
	if (close(fd) < 0)
		r = SM_EIO;
	return r == 0 ? fsync_dir(dir) : r;
}

static int db_connect(store *s, const char *path)
{
	/* The file exists (db_file_create): no CREATE, so SQLite cannot make a
	 * fresh database where a vanished one should be. */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK)
		return store_sql_err(s->db, rc);
	sqlite3_extended_result_codes(s->db, 1);
	rc = sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	return rc == SQLITE_OK ? 0 : store_sql_err(s->db, rc);
}

int store_stmts_prepare(store *s, const char *const *sql, size_t n, sqlite3_stmt **ret)
{
	for (size_t i = 0; i < n; i++) {
		int rc = sqlite3_prepare_v3(s->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &ret[i], NULL);
		if (rc != SQLITE_OK)
			return store_sql_err(s->db, rc);
	}
	return 0;
}

static void stmts_finalize(sqlite3_stmt **st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sqlite3_finalize(st[i]); /* NULL for one never prepared: a no-op */
}

/* Checks, configures and migrates. Switching to WAL and a few checks do
 * not wait in SQLite's busy handler when another process is opening the
 * same new database (a "sealmaild user add" while the daemon starts): those
 * are tried again, every 10 ms, for up to the busy timeout. Each step can
 * be repeated. */
static int db_setup(store *s)
{
	for (int waited = 0;; waited += 10) {
		int r = db_check(s);
		if (r == 0)
			r = db_configure(s);
		if (r == 0)
			r = db_migrate(s);
		if (r != SM_EIO || errno != EBUSY || waited >= STORE_BUSY_TIMEOUT_MS)
			return r;
		usleep(10000);
	}
}

int store_open(const char *state_dir, store **ret)
{
	char path[4096];
	store *s = NULL;
	int saved;
	if (state_dir == NULL || ret == NULL)
		return SM_EINVAL;
	int n = snprintf(path, sizeof(path), "%s/%s", state_dir, STORE_DB_NAME);
	if (n < 0 || (size_t)n >= sizeof(path))
		return SM_EINVAL;
	if (sodium_init() < 0)
		return SM_ECRYPTO;
	int r = db_file_create(state_dir, path);
	if (r < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return SM_ENOMEM;
	r = db_connect(s, path);
	if (r == 0)
		r = db_setup(s);
	if (r == 0)
		r = store_stmts_prepare(s, stmt_sql, ST_COUNT, s->st);
	if (r == 0)
		r = store_kt_prepare(s);
	if (r == 0)
		r = store_wks_prepare(s);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	saved = errno;
	store_close(s);
	errno = saved;
	return r;
}

void store_close(store *s)
{
	if (s == NULL)
		return;
	stmts_finalize(s->st, ST_COUNT);
	stmts_finalize(s->kst, KST_COUNT);
	stmts_finalize(s->wst, WST_COUNT);
	/* Every statement is finalized, so this cannot fail with BUSY; the last
	 * connection to close checkpoints the WAL into the database. */
	sqlite3_close(s->db);
	free(s);
}

int store_set_busy_timeout(store *s, int ms)
{
	if (ms < 0)
		return SM_EINVAL;
	int rc = sqlite3_busy_timeout(s->db, ms);
	return rc == SQLITE_OK ? 0 : store_sql_err(s->db, rc);
}

/* ---- tokens ---------------------------------------------------------- */

static const char b32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

/* 256 bits make 51 full groups of five and one of a single bit padded with
 * four zero bits: 52 characters. */
static void token_encode(const uint8_t raw[TOKEN_RAW_LEN], char ret[STORE_TOKEN_LEN + 1])
{
	unsigned acc = 0, bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < TOKEN_RAW_LEN; i++) {
		acc = ((acc << 8) | raw[i]) & 0xfff;
		for (bits += 8; bits >= 5; bits -= 5)
			ret[o++] = b32_alphabet[(acc >> (bits - 5)) & 31];
	}
	if (bits > 0)
		ret[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	ret[o] = 0;
}

static int b32_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Accepts either case (people retype tokens) but only the canonical
 * encoding: exactly 52 characters with the padding bits zero. */
static int token_decode(const char *token, uint8_t ret[TOKEN_RAW_LEN])
{
	unsigned acc = 0, bits = 0;
	size_t o = 0;
	if (token == NULL || strnlen(token, STORE_TOKEN_LEN + 1) != STORE_TOKEN_LEN)
		return SM_EINVAL;
	for (size_t i = 0; i < STORE_TOKEN_LEN; i++) {
		int v = b32_value((unsigned char)token[i]);
		if (v < 0)
			return SM_EINVAL;
		acc = ((acc << 5) | (unsigned)v) & 0x1fff;
		for (bits += 5; bits >= 8; bits -= 8)
			ret[o++] = (uint8_t)(acc >> (bits - 8));
	}
	return (acc & ((1u << bits) - 1)) == 0 ? 0 : SM_EINVAL;
}

/* SHA-256 of the token's 32 bytes. A plain hash is enough: the token is a
 * full-entropy random value, so a stolen database gives nothing to guess. */
static int token_hash(const char *token, uint8_t ret[TOKEN_HASH_LEN])
{
	uint8_t raw[TOKEN_RAW_LEN];
	int r = token_decode(token, raw);
	if (r == 0)
		crypto_hash_sha256(ret, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return r;
}

/* ---- users ----------------------------------------------------------- */

static int address_parse(const char *address, struct wkd_address *ret)
{
	if (address == NULL)
		return SM_EINVAL;
	return wkd_address_parse(address, ret) < 0 ? SM_EINVAL : 0;
}

/* ?1 domain, ?2 local: the key of ST_USER_FIND. */
static int bind_user(sqlite3_stmt *st, const struct wkd_address *a)
{
	int rc = sqlite3_bind_text(st, 1, a->domain, -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? sqlite3_bind_text(st, 2, a->local, -1, SQLITE_STATIC) : rc;
}

static int user_insert(store *s, const struct wkd_address *a, const uint8_t hash[TOKEN_HASH_LEN])
{
	char wkd_hash[WKD_HASH_LEN + 1];
	sqlite3_stmt *st = s->st[ST_USER_ADD];
	int r = wkd_hash_local_part(a->local, wkd_hash);
	if (r < 0)
		return r;
	int rc = bind_user(st, a);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, wkd_hash, WKD_HASH_LEN, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 4, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	return store_stmt_end(st, rc == SQLITE_DONE ? 0 : store_sql_err(s->db, rc));
}

/* Makes a new token, runs op (which stores its hash for user a) in one
 * transaction, and hands the token out only once that is durable. */
static int with_new_token(store *s, const char *address,
			  int (*op)(store *s, const struct wkd_address *a,
				    const uint8_t hash[TOKEN_HASH_LEN]),
			  char ret_token[STORE_TOKEN_LEN + 1])
{
	struct wkd_address a;
	uint8_t raw[TOKEN_RAW_LEN], hash[TOKEN_HASH_LEN];
	char token[STORE_TOKEN_LEN + 1];
	int r = address_parse(address, &a);
	if (r < 0)
		return r;
	randombytes_buf(raw, sizeof(raw));
	token_encode(raw, token);
	crypto_hash_sha256(hash, raw, sizeof(raw));
	r = store_tx_begin(s);
	if (r == 0)
		r = op(s, &a, hash);
	if (r == 0)
		r = store_tx_commit(s);
	if (r < 0)
		store_tx_rollback(s);
	if (r == 0)
		memcpy(ret_token, token, sizeof(token));
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(token, sizeof(token));
	sodium_memzero(hash, sizeof(hash));
	return r;
}

int store_user_add(store *s, const char *address, char ret_token[STORE_TOKEN_LEN + 1])
{
	return with_new_token(s, address, user_insert, ret_token);
}

int store_user_exists(store *s, const char *address)
{
	struct wkd_address a;
	sqlite3_stmt *st = s->st[ST_USER_FIND];
	int r = address_parse(address, &a);
	if (r < 0)
		return r;
	int rc = bind_user(st, &a);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_sql_err(s->db, rc);
	return store_stmt_end(st, r);
}

/* ---- publication ----------------------------------------------------- */

/* Wrong token before used token: only the token's holder learns that it
 * has been used. */
static int token_check(store *s, const struct wkd_address *a, const uint8_t hash[TOKEN_HASH_LEN],
		       int64_t *ret_id)
{
	sqlite3_stmt *st = s->st[ST_USER_FIND];
	int r, rc = bind_user(st, a);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		return store_stmt_end(st, rc == SQLITE_DONE ? SM_ENOTFOUND : store_sql_err(s->db, rc));
	const void *stored = sqlite3_column_blob(st, 1);
	if (stored == NULL || sqlite3_column_bytes(st, 1) != TOKEN_HASH_LEN)
		r = SM_EPARSE;
	else if (sodium_memcmp(stored, hash, TOKEN_HASH_LEN) != 0)
		r = SM_EINVAL;
	else if (sqlite3_column_int(st, 2) != 0)
		r = SM_EEXIST;
	else
		r = 0;
	if (r == 0)
		*ret_id = sqlite3_column_int64(st, 0);
	return store_stmt_end(st, r);
}

/* The token_used = 0 condition makes the update itself refuse a replay,
 * whatever happened between the check and here. */
static int token_use(store *s, int64_t id)
{
	sqlite3_stmt *st = s->st[ST_TOKEN_USE];
	int rc = sqlite3_bind_int64(st, 1, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : store_sql_err(s->db, rc);
	if (r == 0 && sqlite3_changes(s->db) != 1)
		r = SM_EEXIST;
	return store_stmt_end(st, r);
}

int store_cert_put(store *s, int64_t id, const uint8_t *cert, size_t cert_len,
		    const struct store_auth *auth)
{
	sqlite3_stmt *st = s->st[ST_CERT_PUT];
	int rc = sqlite3_bind_int64(st, 1, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 2, cert, (int)cert_len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = auth != NULL ? sqlite3_bind_blob(st, 3, auth->text, (int)auth->len, SQLITE_STATIC)
				  : sqlite3_bind_null(st, 3);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	return store_stmt_end(st, rc == SQLITE_DONE ? 0 : store_sql_err(s->db, rc));
}

/* Inside the transaction: the change must build on the version committed
 * now (an epoch may have committed another one since it was checked). */
static int counter_check(store *s, int64_t id, const struct store_auth *auth)
{
	if (auth == NULL)
		return 0;
	sqlite3_stmt *st = s->st[ST_COUNTER];
	int r, rc = sqlite3_bind_int64(st, 1, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = (uint64_t)sqlite3_column_int64(st, 0) == auth->base_counter ? 0 : SM_ESTALE;
	else
		r = store_sql_err(s->db, rc);
	return store_stmt_end(st, r);
}

static int change_check(const uint8_t *cert, size_t cert_len, const struct store_auth *auth)
{
	if (cert == NULL || cert_len == 0 || (auth != NULL && (auth->text == NULL || auth->len == 0)))
		return SM_EINVAL;
	if (cert_len > STORE_CERT_MAX || (auth != NULL && auth->len > STORE_AUTH_MAX))
		return SM_ETOOBIG;
	return 0;
}

int store_publish(store *s, const char *address, const char *token, const uint8_t *cert,
		  size_t cert_len, const struct store_auth *auth)
{
	struct wkd_address a;
	uint8_t hash[TOKEN_HASH_LEN];
	int64_t id = 0;
	int r = address_parse(address, &a);
	if (r < 0 || (r = change_check(cert, cert_len, auth)) < 0)
		return r;
	r = token_hash(token, hash);
	if (r < 0)
		goto fail;
	r = store_tx_begin(s);
	if (r < 0)
		goto fail;
	r = token_check(s, &a, hash, &id);
	if (r == 0)
		r = counter_check(s, id, auth);
	if (r == 0)
		r = token_use(s, id);
	if (r == 0)
		r = store_cert_put(s, id, cert, cert_len, auth);
	if (r == 0)
		r = store_tx_commit(s);
fail:
	if (r < 0)
		store_tx_rollback(s);
	sodium_memzero(hash, sizeof(hash));
	return r;
}

int store_user_id(store *s, const struct wkd_address *a, int64_t *ret_id)
{
	sqlite3_stmt *st = s->st[ST_USER_FIND];
	int rc = bind_user(st, a);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_id = sqlite3_column_int64(st, 0);
	return store_stmt_end(st, rc == SQLITE_ROW    ? 0
				  : rc == SQLITE_DONE ? SM_ENOTFOUND
						      : store_sql_err(s->db, rc));
}

int store_update(store *s, const char *address, const uint8_t *cert, size_t cert_len,
		 const struct store_auth *auth)
{
	struct wkd_address a;
	int64_t id = 0;
	int r = address_parse(address, &a);
	if (r < 0 || (r = change_check(cert, cert_len, auth)) < 0)
		return r;
	if (auth == NULL)
		return SM_EINVAL;
	if ((r = store_tx_begin(s)) < 0)
		return r;
	r = store_user_id(s, &a, &id);
	if (r == 0)
		r = counter_check(s, id, auth);
	if (r == 0)
		r = store_cert_put(s, id, cert, cert_len, auth);
	if (r == 0)
		r = store_tx_commit(s);
	if (r < 0)
		store_tx_rollback(s);
	return r;
}

static int token_reset(store *s, int64_t id, const uint8_t hash[TOKEN_HASH_LEN])
{
	sqlite3_stmt *st = s->st[ST_TOKEN_RESET];
	int rc = sqlite3_bind_int64(st, 1, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 2, hash, TOKEN_HASH_LEN, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	return store_stmt_end(st, rc == SQLITE_DONE ? 0 : store_sql_err(s->db, rc));
}

/* A new token hash for the existing user a. */
static int user_token_reset(store *s, const struct wkd_address *a,
			    const uint8_t hash[TOKEN_HASH_LEN])
{
	int64_t id = 0;
	int r = store_user_id(s, a, &id);
	return r == 0 ? token_reset(s, id, hash) : r;
}

int store_user_reset(store *s, const char *address, char ret_token[STORE_TOKEN_LEN + 1])
{
	return with_new_token(s, address, user_token_reset, ret_token);
}

/* ---- lookups --------------------------------------------------------- */

static int domain_lower(const char *domain, char ret[WKD_DOMAIN_MAX + 1])
{
	size_t len = domain != NULL ? strnlen(domain, WKD_DOMAIN_MAX + 1) : 0;
	if (len == 0 || len > WKD_DOMAIN_MAX)
		return SM_EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = domain[i];
		ret[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	ret[len] = 0;
	return 0;
}

int store_key_by_hash(store *s, const char *domain, const char *wkd_hash, struct buf *ret_cert)
{
	char dom[WKD_DOMAIN_MAX + 1];
	sqlite3_stmt *st = s->st[ST_KEY_BY_HASH];
	if (domain_lower(domain, dom) < 0 || wkd_hash == NULL ||
	    strnlen(wkd_hash, WKD_HASH_LEN + 1) != WKD_HASH_LEN)
		return SM_EINVAL;
	int r, rc = sqlite3_bind_text(st, 1, dom, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, wkd_hash, WKD_HASH_LEN, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *cert = sqlite3_column_blob(st, 0);
		int n = sqlite3_column_bytes(st, 0);
		r = cert == NULL || n <= 0 ? SM_EPARSE : buf_append(ret_cert, cert, (size_t)n);
	} else {
		r = rc == SQLITE_DONE ? SM_ENOTFOUND : store_sql_err(s->db, rc);
	}
	return store_stmt_end(st, r);
}

int store_user_count(store *s, struct store_counts *ret)
{
	sqlite3_stmt *st = s->st[ST_USER_COUNT];
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? 0 : store_sql_err(s->db, rc);
	if (r == 0) {
		ret->users = (uint64_t)sqlite3_column_int64(st, 0);
		ret->published = (uint64_t)sqlite3_column_int64(st, 1);
	}
	return store_stmt_end(st, r);
}

/* One statement walks the table, so the list is one consistent snapshot. */
int store_user_list(store *s, int (*fn)(void *arg, const struct store_user *u), void *arg)
{
	sqlite3_stmt *st = s->st[ST_USER_LIST];
	int rc = SQLITE_DONE, r = 0;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_user u = {
			.address = (const char *)sqlite3_column_text(st, 0),
			.created = sqlite3_column_int64(st, 1),
			.published = sqlite3_column_int64(st, 2),
			.token_used = sqlite3_column_int(st, 3),
		};
		r = u.address == NULL ? SM_ENOMEM : fn(arg, &u);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = store_sql_err(s->db, rc);
	return store_stmt_end(st, r);
}
