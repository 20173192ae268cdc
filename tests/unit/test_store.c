#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "check.h"
#include "store.h"
#include "store_kt.h"
#include "store_wks.h"
#include "tlog.h"
#include "wkd.h"

static char base[64];
static const uint8_t cert_luke[] = "\x99\x00\x33" "luke's certificate bytes";
static const uint8_t cert_other[] = "\x99\x00\x33" "another certificate";

/* A fresh folder per test: BASE/NAME (not created: store_open creates it). */
static const char *dir_for(const char *name)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", base, name);
	return path;
}

static const char *db_path(const char *dir, const char *suffix)
{
	static char path[192];
	snprintf(path, sizeof(path), "%s/%s%s", dir, STORE_DB_NAME, suffix);
	return path;
}

/* Whole file into b (empty if missing). */
static void slurp(const char *path, struct buf *b)
{
	buf_init(b, 1 << 24);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	CHECK_INT(buf_read_fd(b, fd), 0);
	close(fd);
}

static void spew(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static int bytes_contain(const struct buf *b, const void *needle, size_t len)
{
	for (size_t i = 0; b->len >= len && i <= b->len - len; i++)
		if (memcmp(b->data + i, needle, len) == 0)
			return 1;
	return 0;
}


/* What an epoch does to the store, minus the cryptography: every pending
 * publication becomes the user's committed version (the index is a hash
 * of the address, the commitment a constant). */
struct fake_epoch {
	store *s;
	uint64_t epoch;
	unsigned n;
};

static int commit_one(void *arg, const struct store_kt_change *c)
{
	struct fake_epoch *fe = arg;
	struct ptree_leaf leaf;
	uint8_t vrf_proof[VRF_PROOF_LEN], opening[32];
	memset(&leaf, 0, sizeof(leaf));
	memset(vrf_proof, 7, sizeof(vrf_proof));
	memset(opening, 9, sizeof(opening));
	crypto_hash_sha256(leaf.idx, (const uint8_t *)c->address, strlen(c->address));
	leaf.counter = c->has_leaf ? c->leaf.counter + 1 : 1;
	leaf.epoch = fe->epoch;
	fe->n++;
	return store_kt_put_version(fe->s, c->user_id, strchr(c->address, '@') + 1, vrf_proof, &leaf,
				    opening, c->cert, c->cert_len, c->auth, c->auth_len, c->cert_version);
}

/* Commits domain's pending changes as one epoch; returns how many. */
static unsigned commit(store *s, const char *domain)
{
	struct fake_epoch fe = {s, 0, 0};
	CHECK_INT(store_kt_begin(s), 0);
	CHECK_INT(store_kt_changes(s, domain, commit_one, &fe), 0);
	CHECK_INT(store_kt_commit(s), 0);
	return fe.n;
}

static const char *luke_hash(void)
{
	static char h[WKD_HASH_LEN + 1];
	CHECK_INT(wkd_hash_local_part("luke", h), 0);
	return h;
}

/* Opens DIR and adds luke@jedi.test; returns the store, token in tok. */
static store *open_with_luke(const char *dir, char tok[STORE_TOKEN_LEN + 1])
{
	store *s = NULL;
	CHECK_INT(store_open(dir, &s), 0);
	if (s != NULL)
		CHECK_INT(store_user_add(s, "luke@jedi.test", tok), 0);
	return s;
}

static void open_creates_private_file(void)
{
	const char *dir = dir_for("create");
	struct stat st;
	store *s = NULL;
	char tok[STORE_TOKEN_LEN + 1];
	mode_t old = umask(022);
	CHECK_INT(store_open(dir, &s), 0);
	CHECK(s != NULL);
	CHECK_INT(stat(dir, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0700);
	CHECK_INT(stat(db_path(dir, ""), &st), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(store_user_add(s, "luke@jedi.test", tok), 0);
	/* WAL and shared-memory files inherit the database's mode */
	CHECK_INT(stat(db_path(dir, "-wal"), &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(stat(db_path(dir, "-shm"), &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	store_close(s);
	store_close(NULL);
	umask(old);
}

static void add_gives_token(void)
{
	store *s = NULL;
	char t1[STORE_TOKEN_LEN + 1], t2[STORE_TOKEN_LEN + 1];
	CHECK_INT(store_open(dir_for("add"), &s), 0);
	CHECK_INT(store_user_add(s, "luke@jedi.test", t1), 0);
	CHECK_INT(store_user_add(s, "leia@jedi.test", t2), 0);
	CHECK_INT(strlen(t1), STORE_TOKEN_LEN);
	CHECK_INT(strspn(t1, "abcdefghijklmnopqrstuvwxyz234567"), STORE_TOKEN_LEN);
	CHECK(strcmp(t1, t2) != 0);
	/* not an address: refused, token untouched */
	memcpy(t2, "unchanged", 10);
	CHECK_INT(store_user_add(s, "luke", t2), SM_EINVAL);
	CHECK_INT(store_user_add(s, NULL, t2), SM_EINVAL);
	CHECK_INT(store_user_add(s, "lu ke@jedi.test", t2), SM_EINVAL);
	CHECK_STR(t2, "unchanged");
	store_close(s);
}

static void add_refuses_duplicate(void)
{
	store *s = NULL;
	char tok[STORE_TOKEN_LEN + 1];
	struct store_counts c = {99, 99};
	CHECK_INT(store_open(dir_for("dup"), &s), 0);
	CHECK_INT(store_user_add(s, "Luke@jedi.test", tok), 0);
	memcpy(tok, "unchanged", 10);
	CHECK_INT(store_user_add(s, "Luke@jedi.test", tok), SM_EEXIST);
	CHECK_INT(store_user_add(s, "LUKE@JEDI.TEST", tok), SM_EEXIST);
	CHECK_INT(store_user_add(s, "luke@Jedi.Test", tok), SM_EEXIST);
	CHECK_STR(tok, "unchanged");
	/* the same local part in another domain is another mailbox */
	CHECK_INT(store_user_add(s, "luke@rebels.test", tok), 0);
	CHECK_INT(store_user_count(s, &c), 0);
	CHECK_INT(c.users, 2);
	CHECK_INT(c.published, 0);
	store_close(s);
}

static void exists_follows_wkd_case_rules(void)
{
	char tok[STORE_TOKEN_LEN + 1];
	store *s = open_with_luke(dir_for("exists"), tok);
	CHECK_INT(store_user_exists(s, "luke@jedi.test"), 1);
	CHECK_INT(store_user_exists(s, "Luke@Jedi.TEST"), 1);
	CHECK_INT(store_user_exists(s, "LUKE@jedi.test"), 1);
	CHECK_INT(store_user_exists(s, "leia@jedi.test"), 0);
	CHECK_INT(store_user_exists(s, "luke@rebels.test"), 0);
	CHECK_INT(store_user_exists(s, "luke@jedi.test.evil"), 0);
	CHECK_INT(store_user_exists(s, "luke"), SM_EINVAL);
	CHECK_INT(store_user_exists(s, "<luke@jedi.test>"), SM_EINVAL);
	store_close(s);
}

static void publish_refuses_wrong_token(void)
{
	char tok[STORE_TOKEN_LEN + 1], wrong[STORE_TOKEN_LEN + 1];
	struct buf b;
	struct store_counts c = {99, 99};
	store *s = open_with_luke(dir_for("wrong"), tok);
	memcpy(wrong, tok, sizeof(wrong));
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	CHECK_INT(store_publish(s, "luke@jedi.test", wrong, cert_luke, sizeof(cert_luke), NULL), SM_EINVAL);
	/* malformed: short, long, outside the alphabet, non-zero padding bits */
	CHECK_INT(store_publish(s, "luke@jedi.test", "abc", cert_luke, sizeof(cert_luke), NULL), SM_EINVAL);
	CHECK_INT(store_publish(s, "luke@jedi.test", NULL, cert_luke, sizeof(cert_luke), NULL), SM_EINVAL);
	memcpy(wrong, tok, sizeof(wrong));
	wrong[10] = '1';
	CHECK_INT(store_publish(s, "luke@jedi.test", wrong, cert_luke, sizeof(cert_luke), NULL), SM_EINVAL);
	memcpy(wrong, tok, sizeof(wrong));
	wrong[STORE_TOKEN_LEN - 1]++; /* 'a' or 'q' (one bit, four zero bits) + 1 */
	CHECK_INT(store_publish(s, "luke@jedi.test", wrong, cert_luke, sizeof(cert_luke), NULL), SM_EINVAL);
	/* the right token for someone else's address */
	CHECK_INT(store_publish(s, "leia@jedi.test", tok, cert_luke, sizeof(cert_luke), NULL), SM_ENOTFOUND);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, 0, NULL), SM_EINVAL);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, STORE_CERT_MAX + 1, NULL), SM_ETOOBIG);
	/* nothing stored, and the right token still works afterwards */
	buf_init(&b, 4096);
	CHECK_INT(store_key_by_hash(s, "jedi.test", luke_hash(), &b), SM_ENOTFOUND);
	CHECK_INT(b.len, 0);
	CHECK_INT(store_user_count(s, &c), 0);
	CHECK_INT(c.published, 0);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, sizeof(cert_luke), NULL), 0);
	buf_free(&b);
	store_close(s);
}

static void publish_stores_and_refuses_replay(void)
{
	char tok[STORE_TOKEN_LEN + 1], wrong[STORE_TOKEN_LEN + 1];
	struct buf b;
	struct store_counts c = {0, 0};
	store *s = open_with_luke(dir_for("publish"), tok);
	buf_init(&b, 4096);
	CHECK_INT(store_publish(s, "Luke@JEDI.test", tok, cert_luke, sizeof(cert_luke), NULL), 0);
	/* not served before an epoch commits it */
	CHECK_INT(store_key_by_hash(s, "jedi.test", luke_hash(), &b), SM_ENOTFOUND);
	CHECK_INT(commit(s, "jedi.test"), 1);
	CHECK_INT(commit(s, "jedi.test"), 0);
	CHECK_INT(store_key_by_hash(s, "jedi.test", luke_hash(), &b), 0);
	CHECK_INT(b.len, sizeof(cert_luke));
	CHECK(b.len == sizeof(cert_luke) && memcmp(b.data, cert_luke, b.len) == 0);
	CHECK_INT(store_user_count(s, &c), 0);
	CHECK_INT(c.users, 1);
	CHECK_INT(c.published, 1);
	/* replay: the same token, in any spelling, never publishes again */
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_other, sizeof(cert_other), NULL), SM_EEXIST);
	for (size_t i = 0; i < STORE_TOKEN_LEN; i++)
		wrong[i] = (char)((tok[i] >= 'a' && tok[i] <= 'z') ? tok[i] - 32 : tok[i]);
	wrong[STORE_TOKEN_LEN] = 0;
	CHECK_INT(store_publish(s, "luke@jedi.test", wrong, cert_other, sizeof(cert_other), NULL), SM_EEXIST);
	/* a wrong token for a used entry says "wrong", not "used" */
	wrong[0] = tok[0] == 'a' ? 'b' : 'a';
	CHECK_INT(store_publish(s, "luke@jedi.test", wrong + 0, cert_other, sizeof(cert_other), NULL),
		  SM_EINVAL);
	buf_reset(&b);
	CHECK_INT(store_key_by_hash(s, "jedi.test", luke_hash(), &b), 0);
	CHECK(b.len == sizeof(cert_luke) && memcmp(b.data, cert_luke, b.len) == 0);
	buf_free(&b);
	store_close(s);
}

static void publish_accepts_retyped_token(void)
{
	char tok[STORE_TOKEN_LEN + 1];
	store *s = open_with_luke(dir_for("upper"), tok);
	for (size_t i = 0; i < STORE_TOKEN_LEN; i++)
		if (tok[i] >= 'a' && tok[i] <= 'z')
			tok[i] = (char)(tok[i] - 32);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, sizeof(cert_luke), NULL), 0);
	store_close(s);
}

static void key_by_hash_scoped_to_domain(void)
{
	char tok[STORE_TOKEN_LEN + 1], tok2[STORE_TOKEN_LEN + 1];
	struct buf b, small;
	store *s = open_with_luke(dir_for("hash"), tok);
	CHECK_INT(store_user_add(s, "leia@rebels.test", tok2), 0);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, sizeof(cert_luke), NULL), 0);
	CHECK_INT(store_publish(s, "leia@rebels.test", tok2, cert_other, sizeof(cert_other), NULL), 0);
	CHECK_INT(commit(s, "jedi.test"), 1);
	CHECK_INT(commit(s, "rebels.test"), 1);
	buf_init(&b, 4096);
	CHECK_INT(store_key_by_hash(s, "jedi.test", luke_hash(), &b), 0);
	CHECK(b.len == sizeof(cert_luke) && memcmp(b.data, cert_luke, b.len) == 0);
	buf_reset(&b);
	CHECK_INT(store_key_by_hash(s, "JEDI.Test", luke_hash(), &b), 0);
	CHECK_INT(b.len, sizeof(cert_luke));
	buf_reset(&b);
	/* luke's hash in another domain, leia's cert under luke's hash: nothing */
	CHECK_INT(store_key_by_hash(s, "rebels.test", luke_hash(), &b), SM_ENOTFOUND);
	CHECK_INT(store_key_by_hash(s, "other.test", luke_hash(), &b), SM_ENOTFOUND);
	CHECK_INT(b.len, 0);
	CHECK_INT(store_key_by_hash(s, "jedi.test", "short", &b), SM_EINVAL);
	CHECK_INT(store_key_by_hash(s, "", luke_hash(), &b), SM_EINVAL);
	CHECK_INT(store_key_by_hash(s, NULL, luke_hash(), &b), SM_EINVAL);
	/* too big for the caller's buffer: untouched */
	buf_init(&small, 8);
	CHECK_INT(buf_append(&small, "x", 1), 0);
	CHECK_INT(store_key_by_hash(s, "jedi.test", luke_hash(), &small), SM_ETOOBIG);
	CHECK_INT(small.len, 1);
	buf_free(&small);
	buf_free(&b);
	store_close(s);
}

struct list_seen {
	int n;
	char first[64];
	int published;
};

static int list_cb(void *arg, const struct store_user *u)
{
	struct list_seen *seen = arg;
	if (seen->n++ == 0)
		snprintf(seen->first, sizeof(seen->first), "%s", u->address);
	seen->published += u->published > 0;
	CHECK(u->created > 1700000000);
	return 0;
}

static int list_stop(void *arg, const struct store_user *u)
{
	(void)u;
	(*(int *)arg)++;
	return 42;
}

static void reopen_persists(void)
{
	const char *dir = dir_for("reopen");
	char tok[STORE_TOKEN_LEN + 1], tok2[STORE_TOKEN_LEN + 1];
	struct buf b;
	struct store_counts c = {0, 0};
	struct list_seen seen = {0, "", 0};
	int calls = 0;
	store *s = open_with_luke(dir, tok);
	CHECK_INT(store_user_add(s, "Anakin@jedi.test", tok2), 0);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, sizeof(cert_luke), NULL), 0);
	CHECK_INT(commit(s, "jedi.test"), 1);
	store_close(s);
	s = NULL;
	CHECK_INT(store_open(dir, &s), 0);
	CHECK_INT(store_user_exists(s, "LUKE@jedi.test"), 1);
	CHECK_INT(store_user_exists(s, "anakin@jedi.test"), 1);
	buf_init(&b, 4096);
	CHECK_INT(store_key_by_hash(s, "jedi.test", luke_hash(), &b), 0);
	CHECK(b.len == sizeof(cert_luke) && memcmp(b.data, cert_luke, b.len) == 0);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_other, sizeof(cert_other), NULL), SM_EEXIST);
	CHECK_INT(store_user_count(s, &c), 0);
	CHECK_INT(c.users, 2);
	CHECK_INT(c.published, 1);
	CHECK_INT(store_user_list(s, list_cb, &seen), 0);
	CHECK_INT(seen.n, 2);
	CHECK_STR(seen.first, "Anakin@jedi.test"); /* case as added; ordered */
	CHECK_INT(seen.published, 1);
	CHECK_INT(store_user_list(s, list_stop, &calls), 42);
	CHECK_INT(calls, 1);
	/* the unused token survived the reopen too */
	CHECK_INT(store_publish(s, "anakin@jedi.test", tok2, cert_other, sizeof(cert_other), NULL), 0);
	buf_free(&b);
	store_close(s);
}

static int b32v(char ch)
{
	return ch >= 'a' && ch <= 'z' ? ch - 'a' : ch - '2' + 26;
}

static void token_only_hashed(void)
{
	const char *dir = dir_for("hashed");
	char tok[STORE_TOKEN_LEN + 1], upper[STORE_TOKEN_LEN + 1];
	uint8_t raw[32], hash[32];
	struct buf db, wal;
	store *s = open_with_luke(dir, tok);
	/* the file bytes while open (WAL) and after the checkpoint at close */
	for (int round = 0; round < 2; round++) {
		slurp(db_path(dir, ""), &db);
		slurp(db_path(dir, "-wal"), &wal);
		CHECK(db.len > 0 || wal.len > 0);
		for (size_t i = 0; i <= STORE_TOKEN_LEN; i++)
			upper[i] = (char)((tok[i] >= 'a' && tok[i] <= 'z') ? tok[i] - 32 : tok[i]);
		CHECK(!bytes_contain(&db, tok, STORE_TOKEN_LEN) && !bytes_contain(&wal, tok, STORE_TOKEN_LEN));
		CHECK(!bytes_contain(&db, upper, STORE_TOKEN_LEN) &&
		      !bytes_contain(&wal, upper, STORE_TOKEN_LEN));
		/* neither the raw 32 bytes; but their SHA-256 is there */
		unsigned acc = 0, bits = 0, o = 0;
		for (size_t i = 0; i < STORE_TOKEN_LEN; i++) {
			acc = ((acc << 5) | (unsigned)b32v(tok[i])) & 0x1fff;
			for (bits += 5; bits >= 8 && o < 32; bits -= 8)
				raw[o++] = (uint8_t)(acc >> (bits - 8));
		}
		crypto_hash_sha256(hash, raw, sizeof(raw));
		CHECK(!bytes_contain(&db, raw, 32) && !bytes_contain(&wal, raw, 32));
		CHECK(bytes_contain(&db, hash, 32) || bytes_contain(&wal, hash, 32));
		buf_free(&db);
		buf_free(&wal);
		store_close(s);
		s = NULL;
	}
}

static void refuses_corrupt_database(void)
{
	const char *dir = dir_for("garbage");
	uint8_t junk[8192];
	struct buf after;
	store *s = (store *)&junk; /* sentinel: must stay as is */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	CHECK_INT(mkdir(dir, 0700), 0);
	spew(db_path(dir, ""), junk, sizeof(junk));
	CHECK_INT(store_open(dir, &s), SM_EPARSE);
	CHECK(s == (store *)&junk);
	slurp(db_path(dir, ""), &after);
	CHECK(after.len == sizeof(junk) && memcmp(after.data, junk, sizeof(junk)) == 0);
	buf_free(&after);
	CHECK(access(db_path(dir, "-wal"), F_OK) != 0);
	CHECK(access(db_path(dir, "-shm"), F_OK) != 0);
}

static void refuses_damaged_page(void)
{
	const char *dir = dir_for("damaged");
	char tok[STORE_TOKEN_LEN + 1];
	struct buf before, after;
	store *s = open_with_luke(dir, tok);
	store_close(s);
	slurp(db_path(dir, ""), &before);
	CHECK(before.len >= 3 * 4096);
	if (before.len < 3 * 4096)
		return;
	size_t page = ((size_t)before.data[16] << 8) | before.data[17];
	/* page 2 is the users table's root: scribble over its b-tree header */
	memset(before.data + page, 0x5a, 12);
	spew(db_path(dir, ""), before.data, before.len);
	s = NULL;
	CHECK_INT(store_open(dir, &s), SM_EPARSE);
	CHECK(s == NULL);
	slurp(db_path(dir, ""), &after);
	CHECK(after.len == before.len && memcmp(after.data, before.data, before.len) == 0);
	buf_free(&before);
	buf_free(&after);
}

static void refuses_newer_schema(void)
{
	const char *dir = dir_for("newer");
	char tok[STORE_TOKEN_LEN + 1];
	sqlite3 *db = NULL;
	struct buf before, after;
	store *s = open_with_luke(dir, tok);
	store_close(s);
	CHECK_INT(sqlite3_open(db_path(dir, ""), &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_close(db), SQLITE_OK);
	slurp(db_path(dir, ""), &before);
	s = NULL;
	CHECK_INT(store_open(dir, &s), SM_EINVAL);
	CHECK(s == NULL);
	slurp(db_path(dir, ""), &after);
	CHECK(after.len == before.len && memcmp(after.data, before.data, before.len) == 0);
	buf_free(&before);
	buf_free(&after);
}

static void refuses_symlink(void)
{
	const char *dir = dir_for("symlink");
	char target[192];
	store *s = NULL;
	CHECK_INT(mkdir(dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/elsewhere.db", dir);
	spew(target, "", 0);
	CHECK_INT(symlink(target, db_path(dir, "")), 0);
	CHECK(store_open(dir, &s) < 0);
	CHECK(s == NULL);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void busy_write_fails_loudly(void)
{
	const char *dir = dir_for("busy");
	char tok[STORE_TOKEN_LEN + 1], tok2[STORE_TOKEN_LEN + 1];
	struct buf b;
	sqlite3 *other = NULL;
	store *s = open_with_luke(dir, tok);
	CHECK_INT(store_set_busy_timeout(s, -1), SM_EINVAL);
	CHECK_INT(store_set_busy_timeout(s, 100), 0);
	CHECK_INT(sqlite3_open(db_path(dir, ""), &other), SQLITE_OK);
	CHECK_INT(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	memcpy(tok2, "unchanged", 10);
	double t0 = now_ms();
	errno = 0;
	CHECK_INT(store_user_add(s, "leia@jedi.test", tok2), SM_EIO);
	CHECK_INT(errno, EBUSY);
	CHECK(now_ms() - t0 >= 90);
	CHECK_STR(tok2, "unchanged");
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, sizeof(cert_luke), NULL), SM_EIO);
	/* WAL: readers are not blocked by the writer */
	CHECK_INT(store_user_exists(s, "luke@jedi.test"), 1);
	CHECK_INT(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_close(other), SQLITE_OK);
	/* the failed writes left nothing behind, and burned no token */
	CHECK_INT(store_user_exists(s, "leia@jedi.test"), 0);
	buf_init(&b, 4096);
	CHECK_INT(store_key_by_hash(s, "jedi.test", luke_hash(), &b), SM_ENOTFOUND);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, sizeof(cert_luke), NULL), 0);
	CHECK_INT(store_user_add(s, "leia@jedi.test", tok2), 0);
	buf_free(&b);
	store_close(s);
}

static int seen_index(void *arg, const struct store_kt_change *c)
{
	uint8_t *got = arg;
	if (c->has_index)
		memcpy(got, c->idx, PTREE_IDX_LEN);
	return 0;
}

/* An index stored at publication reaches the epoch with the change. */
static void kt_index_at_publish(void)
{
	char tok[STORE_TOKEN_LEN + 1];
	uint8_t idx[PTREE_IDX_LEN], proof[VRF_PROOF_LEN], got[PTREE_IDX_LEN] = {0};
	store *s = open_with_luke(dir_for("ktidx"), tok);
	memset(idx, 0x5a, sizeof(idx));
	memset(proof, 0x17, sizeof(proof));
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, sizeof(cert_luke), NULL), 0);
	CHECK_INT(store_kt_put_index(s, "Luke@jedi.test", idx, proof), 0);
	memset(proof, 0x18, sizeof(proof));
	CHECK_INT(store_kt_put_index(s, "luke@jedi.test", proof, proof), 0); /* ignored */
	CHECK_INT(store_kt_changes(s, "jedi.test", seen_index, got), 0);
	CHECK(memcmp(got, idx, sizeof(idx)) == 0);
	CHECK_INT(store_kt_put_index(s, "nobody", idx, proof), SM_EINVAL);
	store_close(s);
}

/* The transparency tables: committed versions and users, epochs, the log's
 * hashes as a tlog store, and witness sizes. */
static void kt_tables(void)
{
	char tok[STORE_TOKEN_LEN + 1];
	struct buf a, b, c;
	struct store_kt_user u;
	struct store_kt_log log;
	struct tlog_store st;
	uint8_t opening[32], leaf[TLOG_HASH_LEN], root[TLOG_HASH_LEN], want[TLOG_HASH_LEN];
	uint64_t e = 99, size = 99;
	store *s = open_with_luke(dir_for("kt"), tok);
	buf_init(&a, 4096);
	buf_init(&b, 4096);
	buf_init(&c, 4096);
	CHECK_INT(store_kt_latest(s, "jedi.test", &e, NULL), SM_ENOTFOUND);
	CHECK_INT(store_kt_user(s, "jedi.test", luke_hash(), &u), SM_ENOTFOUND);
	CHECK_INT(store_publish(s, "Luke@jedi.test", tok, cert_luke, sizeof(cert_luke), NULL), 0);
	CHECK_INT(commit(s, "jedi.test"), 1);
	CHECK_INT(store_kt_user(s, "jedi.test", luke_hash(), &u), 0);
	CHECK_STR(u.address, "luke@jedi.test");
	CHECK_INT(u.counter, 1);
	CHECK_INT(store_kt_version(s, u.user_id, 1, opening, &a, NULL), 0);
	CHECK(a.len == sizeof(cert_luke) && memcmp(a.data, cert_luke, a.len) == 0);
	CHECK_INT(opening[0], 9);
	CHECK_INT(store_kt_version(s, u.user_id, 2, opening, &a, NULL), SM_ENOTFOUND);
	/* two epochs, and the log over them */
	buf_reset(&a);
	CHECK_INT(buf_append_str(&a, "entry0"), 0);
	CHECK_INT(buf_append_str(&b, "delta0"), 0);
	CHECK_INT(buf_append_str(&c, "checkpoint0"), 0);
	store_kt_log_init(&log, s, "jedi.test", &st);
	CHECK_INT(store_kt_begin(s), 0);
	CHECK_INT(store_kt_put_epoch(s, "jedi.test", 0, &a, &b, &c), 0);
	tlog_leaf_hash(a.data, a.len, leaf);
	CHECK_INT(tlog_append(&st, 0, leaf), 0);
	CHECK_INT(store_kt_put_epoch(s, "jedi.test", 1, &a, &b, &c), 0);
	CHECK_INT(tlog_append(&st, 1, leaf), 0);
	CHECK_INT(store_kt_commit(s), 0);
	CHECK_INT(store_kt_put_epoch(s, "jedi.test", 1, &a, &b, &c), SM_EEXIST);
	CHECK_INT(tlog_root(&st, 2, root), 0);
	tlog_node_hash(leaf, leaf, want);
	CHECK(memcmp(root, want, sizeof(root)) == 0);
	buf_reset(&c);
	CHECK_INT(buf_append_str(&c, "checkpoint1+cosig"), 0);
	CHECK_INT(store_kt_set_checkpoint(s, "jedi.test", 1, &c), 0);
	buf_reset(&c);
	CHECK_INT(store_kt_latest(s, "jedi.test", &e, &c), 0);
	CHECK_INT(e, 1);
	CHECK(c.len == 17 && memcmp(c.data, "checkpoint1+cosig", 17) == 0);
	buf_reset(&b);
	CHECK_INT(store_kt_epoch(s, "jedi.test", 0, NULL, &b, NULL), 0);
	CHECK(b.len == 6 && memcmp(b.data, "delta0", 6) == 0);
	CHECK_INT(store_kt_epoch(s, "jedi.test", 2, NULL, &b, NULL), SM_ENOTFOUND);
	CHECK_INT(store_kt_latest(s, "rebels.test", &e, NULL), SM_ENOTFOUND);
	/* witnesses */
	CHECK_INT(store_kt_witness_size(s, "jedi.test", "w1", &size), 0);
	CHECK_INT(size, 0);
	CHECK_INT(store_kt_set_witness_size(s, "jedi.test", "w1", 2), 0);
	CHECK_INT(store_kt_witness_size(s, "jedi.test", "w1", &size), 0);
	CHECK_INT(size, 2);
	CHECK_INT(store_kt_witness_size(s, "rebels.test", "w1", &size), 0);
	CHECK_INT(size, 0);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	store_close(s);
}

/* Version AUTH of luke's entry carries authorization text want. */
static void check_auth(store *s, uint64_t counter, const char *want)
{
	struct store_kt_user u;
	uint8_t opening[32];
	struct buf cert, auth;
	buf_init(&cert, 4096);
	buf_init(&auth, 4096);
	CHECK_INT(store_kt_user(s, "jedi.test", luke_hash(), &u), 0);
	CHECK_INT(u.counter, counter);
	CHECK_INT(store_kt_version(s, u.user_id, counter, opening, &cert, &auth), 0);
	CHECK(auth.len == strlen(want) && (auth.len == 0 || memcmp(auth.data, want, auth.len) == 0));
	buf_free(&cert);
	buf_free(&auth);
}

#define AUTH(text, base) (&(struct store_auth){(const uint8_t *)(text), strlen(text), (base)})

static void owner_changes_and_reset(void)
{
	char tok[STORE_TOKEN_LEN + 1], tok2[STORE_TOKEN_LEN + 1];
	store *s = open_with_luke(dir_for("lifecycle"), tok);
	/* a first publication builds on nothing */
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, sizeof(cert_luke), AUTH("v1", 1)),
		  SM_ESTALE);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_luke, sizeof(cert_luke), AUTH("v1", 0)), 0);
	CHECK_INT(commit(s, "jedi.test"), 1);
	check_auth(s, 1, "v1");
	/* an owner's change needs no token, and must build on version 1 */
	CHECK_INT(store_update(s, "luke@jedi.test", cert_other, sizeof(cert_other), AUTH("v2", 0)),
		  SM_ESTALE);
	CHECK_INT(store_update(s, "luke@jedi.test", cert_other, sizeof(cert_other), NULL), SM_EINVAL);
	CHECK_INT(store_update(s, "han@jedi.test", cert_other, sizeof(cert_other), AUTH("v2", 1)),
		  SM_ENOTFOUND);
	CHECK_INT(store_update(s, "luke@jedi.test", cert_other, sizeof(cert_other), AUTH("v2", 1)), 0);
	/* a second change in the same epoch replaces the first */
	CHECK_INT(store_update(s, "luke@jedi.test", cert_luke, sizeof(cert_luke), AUTH("v2b", 1)), 0);
	CHECK_INT(commit(s, "jedi.test"), 1);
	check_auth(s, 2, "v2b");
	CHECK_INT(commit(s, "jedi.test"), 0);
	/* the old token stays spent; a reset issues a new one, the old one is gone */
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_other, sizeof(cert_other), AUTH("v3", 2)),
		  SM_EEXIST);
	CHECK_INT(store_user_reset(s, "han@jedi.test", tok2), SM_ENOTFOUND);
	CHECK_INT(store_user_reset(s, "Luke@jedi.test", tok2), 0);
	CHECK(strcmp(tok, tok2) != 0);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok, cert_other, sizeof(cert_other), AUTH("v3", 2)),
		  SM_EINVAL);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok2, cert_other, sizeof(cert_other), AUTH("v3", 1)),
		  SM_ESTALE);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok2, cert_other, sizeof(cert_other), AUTH("v3", 2)), 0);
	CHECK_INT(store_publish(s, "luke@jedi.test", tok2, cert_other, sizeof(cert_other), AUTH("v3", 2)),
		  SM_EEXIST);
	CHECK_INT(commit(s, "jedi.test"), 1);
	check_auth(s, 3, "v3");
	/* limits */
	uint8_t big[STORE_AUTH_MAX + 1];
	memset(big, 'a', sizeof(big));
	struct store_auth huge = {big, sizeof(big), 3};
	CHECK_INT(store_update(s, "luke@jedi.test", cert_luke, sizeof(cert_luke), &huge), SM_ETOOBIG);
	store_close(s);
}

static void wks_submissions(void)
{
	char tok[STORE_TOKEN_LEN + 1];
	struct buf certs, cert;
	size_t n = 99;
	store *s = open_with_luke(dir_for("wks"), tok);
	const char *n1 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", *n2 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	buf_init(&certs, 1 << 16);
	buf_init(&cert, 1 << 16);
	CHECK_INT(store_wks_submit(s, "luke@jedi.test", n1, cert_luke, sizeof(cert_luke), 100, 200), 0);
	CHECK_INT(store_wks_submit(s, "luke@jedi.test", n1, cert_luke, sizeof(cert_luke), 100, 200),
		  SM_EEXIST);
	CHECK_INT(store_wks_submit(s, "leia@jedi.test", n2, cert_luke, sizeof(cert_luke), 100, 200),
		  SM_ENOTFOUND);
	CHECK_INT(store_wks_submit(s, "luke@jedi.test", n2, cert_other, sizeof(cert_other), 100, 150), 0);
	CHECK_INT(store_wks_open(s, "luke@jedi.test", 120, NULL, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(store_wks_open(s, "luke@jedi.test", 160, NULL, &n), 0);
	CHECK_INT(n, 1); /* n2 expired at 150 */
	CHECK_INT(store_wks_open(s, "luke@jedi.test", 120, &certs, &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(certs.len, sizeof(cert_luke) + sizeof(cert_other));
	CHECK_INT(store_wks_pending(s, "luke@jedi.test", n1, 120, &cert), 0);
	CHECK(cert.len == sizeof(cert_luke) && memcmp(cert.data, cert_luke, cert.len) == 0);
	/* a wrong nonce, someone else's address, expiry, then a single use */
	CHECK_INT(store_wks_confirm(s, "luke@jedi.test", "cccccccccccccccccccccccccccccccccccccccc", 120, NULL),
		  SM_ENOTFOUND);
	CHECK_INT(store_wks_confirm(s, "han@jedi.test", n1, 120, NULL), SM_ENOTFOUND);
	CHECK_INT(store_wks_confirm(s, "luke@jedi.test", n2, 160, NULL), SM_ESTALE);
	buf_reset(&cert);
	CHECK_INT(store_wks_confirm(s, "Luke@jedi.test", n1, 120, &cert), 0);
	CHECK(cert.len == sizeof(cert_luke) && memcmp(cert.data, cert_luke, cert.len) == 0);
	CHECK_INT(store_wks_confirm(s, "luke@jedi.test", n1, 120, NULL), SM_EEXIST);
	CHECK_INT(store_wks_open(s, "luke@jedi.test", 120, NULL, &n), 0);
	CHECK_INT(n, 1);
	/* the confirmed key is Luke's pending publication, without an authorization */
	CHECK_INT(commit(s, "jedi.test"), 1);
	check_auth(s, 1, "");
	buf_free(&certs);
	buf_free(&cert);
	store_close(s);
}

int main(void)
{
	snprintf(base, sizeof(base), "/tmp/sm-store.XXXXXX");
	if (mkdtemp(base) == NULL || sodium_init() < 0)
		return 2;
	RUN(open_creates_private_file);
	RUN(add_gives_token);
	RUN(add_refuses_duplicate);
	RUN(exists_follows_wkd_case_rules);
	RUN(publish_refuses_wrong_token);
	RUN(publish_stores_and_refuses_replay);
	RUN(publish_accepts_retyped_token);
	RUN(key_by_hash_scoped_to_domain);
	RUN(reopen_persists);
	RUN(kt_tables);
	RUN(kt_index_at_publish);
	RUN(owner_changes_and_reset);
	RUN(wks_submissions);
	RUN(token_only_hashed);
	RUN(refuses_corrupt_database);
	RUN(refuses_damaged_page);
	RUN(refuses_newer_schema);
	RUN(refuses_symlink);
	RUN(busy_write_fails_loudly);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", base);
	return check_done();
}
