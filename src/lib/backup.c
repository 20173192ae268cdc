/* backup.c: the passphrase-protected key store backup. See backup.h. */
#include "backup.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "num.h"

#define KDF_ARGON2ID 1
#define SALT_LEN crypto_pwhash_SALTBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define MAGIC_LEN (sizeof(BACKUP_MAGIC) - 1)
#define HEAD_LEN (MAGIC_LEN + 1 + 8 + 8 + SALT_LEN + NONCE_LEN)

_Static_assert(SALT_LEN == 16, "Argon2id salt");

struct backup_cost backup_default_cost(void)
{
	struct backup_cost c = {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
	return c;
}

/* ---- the archive ---- */

static int name_ok(const uint8_t *name, size_t len)
{
	size_t seg = 0;
	int slashes = 0;
	if (len == 0 || len > BACKUP_NAME_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || name[i] == '/') {
			/* no empty, "." or ".." segment */
			if (seg == 0 || (seg == 1 && name[i - 1] == '.') ||
			    (seg == 2 && name[i - 1] == '.' && name[i - 2] == '.'))
				return 0;
			if (i < len && ++slashes > 1)
				return 0;
			seg = 0;
			continue;
		}
		uint8_t c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("._-@+", c) != NULL) || c == 0)
			return 0;
		seg++;
	}
	return 1;
}

int backup_archive_add(struct buf *archive, const char *name, const uint8_t *data, size_t len)
{
	uint8_t hdr[2], size[4];
	size_t nl = name != NULL ? strnlen(name, BACKUP_NAME_MAX + 1) : 0;
	if (!name_ok((const uint8_t *)name, nl) || (data == NULL && len > 0) || len > UINT32_MAX)
		return SM_EINVAL;
	size_t mark = archive->len;
	num_put_be(hdr, nl, 2);
	num_put_be(size, len, 4);
	int r = buf_append(archive, hdr, 2);
	if (r == 0)
		r = buf_append(archive, name, nl);
	if (r == 0)
		r = buf_append(archive, size, 4);
	if (r == 0 && len > 0)
		r = buf_append(archive, data, len);
	if (r < 0)
		archive->len = mark;
	return r;
}

struct entry {
	const uint8_t *name;
	size_t name_len;
	const uint8_t *data;
	size_t len;
};

/* The entry at *off, which moves past it. */
static int entry_next(const uint8_t *a, size_t len, size_t *off, struct entry *e)
{
	if (len - *off < 2)
		return SM_EPARSE;
	e->name_len = (size_t)num_get_be(a + *off, 2);
	*off += 2;
	if (len - *off < e->name_len + 4 || !name_ok(a + *off, e->name_len))
		return SM_EPARSE;
	e->name = a + *off;
	*off += e->name_len;
	e->len = (size_t)num_get_be(a + *off, 4);
	*off += 4;
	if (len - *off < e->len)
		return SM_EPARSE;
	e->data = a + *off;
	*off += e->len;
	return 0;
}

/* Whether the name at off is repeated later in the archive. The archive
 * is small (a key store), so a quadratic check keeps this simple. */
static int repeated(const uint8_t *a, size_t len, size_t off, const struct entry *e)
{
	struct entry o;
	while (off < len) {
		if (entry_next(a, len, &off, &o) < 0)
			return 1;
		if (o.name_len == e->name_len && memcmp(o.name, e->name, e->name_len) == 0)
			return 1;
	}
	return 0;
}

static int archive_check(const uint8_t *a, size_t len)
{
	size_t off = 0, n = 0;
	struct entry e;
	while (off < len) {
		if (entry_next(a, len, &off, &e) < 0 || ++n > BACKUP_FILES_MAX ||
		    repeated(a, len, off, &e))
			return SM_EPARSE;
	}
	return 0;
}

int backup_archive_walk(const uint8_t *archive, size_t len,
			int (*fn)(void *arg, const char *name, const uint8_t *data, size_t len),
			void *arg)
{
	size_t off = 0;
	struct entry e;
	if ((archive == NULL && len > 0) || fn == NULL)
		return SM_EINVAL;
	int r = archive_check(archive, len);
	while (r == 0 && off < len) {
		char name[BACKUP_NAME_MAX + 1];
		if (entry_next(archive, len, &off, &e) < 0)
			return SM_EPARSE;
		memcpy(name, e.name, e.name_len);
		name[e.name_len] = 0;
		r = fn(arg, name, e.data, e.len);
	}
	return r;
}

/* ---- the file ---- */

static int derive(const char *passphrase, const uint8_t salt[SALT_LEN], struct backup_cost cost,
		  uint8_t key[KEY_LEN])
{
	if (crypto_pwhash(key, KEY_LEN, passphrase, strlen(passphrase), salt, cost.opslimit,
			  (size_t)cost.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return SM_ENOMEM;
	return 0;
}

static int cost_ok(struct backup_cost c)
{
	return c.opslimit >= BACKUP_OPS_MIN && c.opslimit <= BACKUP_OPS_MAX &&
	       c.memlimit >= BACKUP_MEM_MIN && c.memlimit <= BACKUP_MEM_MAX;
}

int backup_seal(const uint8_t *archive, size_t len, const char *passphrase,
		struct backup_cost cost, struct buf *out)
{
	uint8_t head[HEAD_LEN], key[KEY_LEN];
	if ((archive == NULL && len > 0) || passphrase == NULL || out == NULL || !cost_ok(cost))
		return SM_EINVAL;
	if (strlen(passphrase) < BACKUP_PASSPHRASE_MIN)
		return SM_EINVAL;
	if (len > BACKUP_MAX - HEAD_LEN - TAG_LEN)
		return SM_ETOOBIG;
	uint8_t *p = head;
	memcpy(p, BACKUP_MAGIC, MAGIC_LEN);
	p += MAGIC_LEN;
	*p++ = KDF_ARGON2ID;
	num_put_be(p, cost.opslimit, 8);
	num_put_be(p + 8, cost.memlimit, 8);
	p += 16;
	randombytes_buf(p, SALT_LEN + NONCE_LEN);
	uint8_t *sealed = malloc(len + TAG_LEN);
	int r = sealed != NULL ? derive(passphrase, p, cost, key) : SM_ENOMEM;
	if (r == 0) {
		unsigned long long clen = 0;
		crypto_aead_xchacha20poly1305_ietf_encrypt(sealed, &clen, archive, len, head, HEAD_LEN,
							   NULL, p + SALT_LEN, key);
		size_t mark = out->len;
		r = buf_append(out, head, HEAD_LEN);
		if (r == 0)
			r = buf_append(out, sealed, (size_t)clen);
		if (r < 0)
			out->len = mark;
	}
	free(sealed);
	sodium_memzero(key, sizeof(key));
	return r;
}

int backup_open(const uint8_t *file, size_t len, const char *passphrase, struct buf *out)
{
	uint8_t key[KEY_LEN];
	struct backup_cost cost;
	if (file == NULL || passphrase == NULL || out == NULL)
		return SM_EINVAL;
	if (len > BACKUP_MAX)
		return SM_ETOOBIG;
	if (len < HEAD_LEN + TAG_LEN || memcmp(file, BACKUP_MAGIC, MAGIC_LEN) != 0 ||
	    file[MAGIC_LEN] != KDF_ARGON2ID)
		return SM_EPARSE;
	cost.opslimit = num_get_be(file + MAGIC_LEN + 1, 8);
	cost.memlimit = num_get_be(file + MAGIC_LEN + 9, 8);
	if (!cost_ok(cost))
		return SM_EPARSE;
	const uint8_t *salt = file + MAGIC_LEN + 17, *nonce = salt + SALT_LEN;
	size_t max = len - HEAD_LEN - TAG_LEN;
	uint8_t *plain = malloc(max > 0 ? max : 1);
	unsigned long long plen = 0;
	int r = plain != NULL ? derive(passphrase, salt, cost, key) : SM_ENOMEM;
	if (r == 0 && crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plen, NULL, file + HEAD_LEN,
								 len - HEAD_LEN, file, HEAD_LEN,
								 nonce, key) != 0)
		r = SM_ECRYPTO;
	if (r == 0)
		r = buf_append(out, plain, (size_t)plen);
	if (plain != NULL)
		sodium_memzero(plain, max);
	free(plain);
	sodium_memzero(key, sizeof(key));
	return r;
}
