/* test_backup: the key store backup: archive names and framing, sealing
 * and opening, the wrong passphrase, damage anywhere, and the cost bounds
 * that keep a crafted file from exhausting the machine. Argon2id runs at
 * its lowest accepted cost here, to keep the test fast. */
#define _GNU_SOURCE
#include <string.h>

#include <sodium.h>

#include "backup.h"
#include "check.h"

#define PASS "correct horse battery staple"
static const struct backup_cost cheap = {BACKUP_OPS_MIN, BACKUP_MEM_MIN};

struct seen {
	char names[8][BACKUP_NAME_MAX + 1];
	size_t lens[8];
	size_t n;
};

static int collect(void *arg, const char *name, const uint8_t *data, size_t len)
{
	struct seen *s = arg;
	(void)data;
	if (s->n == 8)
		return -100;
	snprintf(s->names[s->n], sizeof(s->names[s->n]), "%s", name);
	s->lens[s->n++] = len;
	return 0;
}

static void archive_names(void)
{
	struct buf a;
	buf_init(&a, 1 << 20);
	static const char *const good[] = {"secring.pgp", "kt/jedi.test", "kt-own/luke@jedi.test",
					   "a+b_c-d", "x/.y"};
	static const char *const bad[] = {"", "/etc/passwd", "../x", "kt/../x", "a//b", "a/", "./a",
					  "a/b/c", "a b", "a\\\\b", "kt/..", "é"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_INT(backup_archive_add(&a, good[i], (const uint8_t *)"d", 1), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(backup_archive_add(&a, bad[i], (const uint8_t *)"d", 1), SM_EINVAL);
		if (backup_archive_add(&a, bad[i], (const uint8_t *)"d", 1) == 0)
			printf("# accepted bad name '%s'\n", bad[i]);
	}
	char longname[BACKUP_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	CHECK_INT(backup_archive_add(&a, longname, NULL, 0), SM_EINVAL);
	longname[BACKUP_NAME_MAX] = 0;
	CHECK_INT(backup_archive_add(&a, longname, NULL, 0), 0);
	struct seen s = {.n = 0};
	CHECK_INT(backup_archive_walk(a.data, a.len, collect, &s), 0);
	CHECK_INT(s.n, 6);
	CHECK_STR(s.names[2], "kt-own/luke@jedi.test");
	CHECK_INT(s.lens[5], 0);
	buf_free(&a);
}

static void archive_rejects(void)
{
	struct buf a;
	struct seen s = {.n = 0};
	buf_init(&a, 1 << 20);
	CHECK_INT(backup_archive_add(&a, "pins", (const uint8_t *)"abc", 3), 0);
	CHECK_INT(backup_archive_add(&a, "pins", (const uint8_t *)"def", 3), 0);
	CHECK_INT(backup_archive_walk(a.data, a.len, collect, &s), SM_EPARSE); /* twice */
	CHECK_INT(s.n, 0); /* nothing is handed out before the whole archive is checked */
	buf_reset(&a);
	CHECK_INT(backup_archive_add(&a, "pins", (const uint8_t *)"abc", 3), 0);
	for (size_t cut = 1; cut < a.len; cut++)
		CHECK_INT(backup_archive_walk(a.data, cut, collect, &s), SM_EPARSE);
	a.data[2] = '.'; /* the name becomes ".ins": fine; ".." is not */
	a.data[3] = '.';
	a.data[4] = 0;
	CHECK_INT(backup_archive_walk(a.data, a.len, collect, &s), SM_EPARSE);
	CHECK_INT(backup_archive_walk(NULL, 0, collect, &s), 0);
	buf_free(&a);
}

static void seal_and_open(void)
{
	struct buf a, f, back;
	buf_init(&a, 1 << 20);
	buf_init(&f, 1 << 20);
	buf_init(&back, 1 << 20);
	CHECK_INT(backup_archive_add(&a, "secring.pgp", (const uint8_t *)"secret bytes", 12), 0);
	CHECK_INT(backup_seal(a.data, a.len, PASS, cheap, &f), 0);
	CHECK(memcmp(f.data, BACKUP_MAGIC, strlen(BACKUP_MAGIC)) == 0);
	CHECK(memmem(f.data, f.len, "secret bytes", 12) == NULL);
	CHECK_INT(backup_open(f.data, f.len, PASS, &back), 0);
	CHECK(back.len == a.len && memcmp(back.data, a.data, a.len) == 0);
	/* two backups of the same store differ (salt and nonce) */
	struct buf f2;
	buf_init(&f2, 1 << 20);
	CHECK_INT(backup_seal(a.data, a.len, PASS, cheap, &f2), 0);
	CHECK(f2.len == f.len && memcmp(f2.data, f.data, f.len) != 0);
	buf_free(&f2);
	/* wrong passphrase */
	buf_reset(&back);
	CHECK_INT(backup_open(f.data, f.len, "correct horse battery stapl", &back), SM_ECRYPTO);
	CHECK_INT(back.len, 0);
	/* every byte is covered: header, cost, salt, nonce, ciphertext, tag */
	for (size_t i = strlen(BACKUP_MAGIC); i < f.len; i++) {
		f.data[i] ^= 0x01;
		int r = backup_open(f.data, f.len, PASS, &back);
		CHECK(r == SM_ECRYPTO || r == SM_EPARSE);
		f.data[i] ^= 0x01;
	}
	CHECK_INT(back.len, 0);
	CHECK_INT(backup_open(f.data, f.len - 1, PASS, &back), SM_ECRYPTO);
	CHECK_INT(backup_open(f.data, 30, PASS, &back), SM_EPARSE);
	f.data[0] = 'S';
	CHECK_INT(backup_open(f.data, f.len, PASS, &back), SM_EPARSE);
	buf_free(&a);
	buf_free(&f);
	buf_free(&back);
}

static void cost_bounds(void)
{
	struct buf f, back;
	buf_init(&f, 1 << 20);
	buf_init(&back, 1 << 20);
	struct backup_cost c = backup_default_cost();
	CHECK(c.opslimit >= BACKUP_OPS_MIN && c.opslimit <= BACKUP_OPS_MAX);
	CHECK(c.memlimit >= BACKUP_MEM_MIN && c.memlimit <= BACKUP_MEM_MAX);
	struct backup_cost big = {BACKUP_OPS_MAX + 1, BACKUP_MEM_MIN};
	CHECK_INT(backup_seal((const uint8_t *)"", 0, PASS, big, &f), SM_EINVAL);
	struct backup_cost huge = {BACKUP_OPS_MIN, BACKUP_MEM_MAX * 2};
	CHECK_INT(backup_seal((const uint8_t *)"", 0, PASS, huge, &f), SM_EINVAL);
	CHECK_INT(backup_seal((const uint8_t *)"", 0, "short", cheap, &f), SM_EINVAL);
	CHECK_INT(backup_seal((const uint8_t *)"", 0, PASS, cheap, &f), 0);
	CHECK_INT(backup_open(f.data, f.len, PASS, &back), 0);
	CHECK_INT(back.len, 0);
	/* a file that asks for 16 GiB is refused before any work */
	size_t mem_at = strlen(BACKUP_MAGIC) + 1 + 8;
	f.data[mem_at] = 0x04;
	CHECK_INT(backup_open(f.data, f.len, PASS, &back), SM_EPARSE);
	f.data[mem_at] = 0;
	f.data[mem_at - 1] = 0xff; /* 255+ passes */
	CHECK_INT(backup_open(f.data, f.len, PASS, &back), SM_EPARSE);
	buf_free(&f);
	buf_free(&back);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(archive_names);
	RUN(archive_rejects);
	RUN(seal_and_open);
	RUN(cost_bounds);
	return check_done();
}
