/* backup.h: a user's whole key store ($SEALMAIL_HOME: secret and public
 * key rings, pins, trusted witnesses, transparency state, settings) as one
 * file protected by a passphrase.
 *
 * The file:
 *   "sealmail-backup/v1\n"                 19 bytes, so that it says what it is
 *   u8  kdf (1: Argon2id v1.3)
 *   u64 opslimit, u64 memlimit (bytes)     big-endian; within the bounds below
 *   salt[16], nonce[24]
 *   ciphertext                             XChaCha20-Poly1305 (IETF) of the
 *                                          archive, key = Argon2id(passphrase,
 *                                          salt), associated data = all the
 *                                          bytes before it
 * The archive, once decrypted: entries of u16 name length, name, u32 data
 * length, data (big-endian). A name is a path relative to the key store,
 * "file" or "dir/file", of letters, digits and "._-@+" (no "." or ".."
 * segment), each name once.
 *
 * A wrong passphrase and a damaged file look alike (SM_ECRYPTO): the
 * authentication tag covers everything. Pure computation on caller memory
 * (libsodium), except that sealing reads random bytes. */
#ifndef SEALMAIL_BACKUP_H
#define SEALMAIL_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define BACKUP_MAGIC "sealmail-backup/v1\n"
#define BACKUP_NAME_MAX 255
#define BACKUP_FILES_MAX 100000
#define BACKUP_MAX ((size_t)256 << 20)
/* Argon2id cost: sealing uses libsodium's "moderate" (3 passes, 256 MiB);
 * opening accepts 1..10 passes and 8 MiB..1 GiB, so that a crafted file
 * cannot make restore run for hours or exhaust memory. */
#define BACKUP_OPS_MIN 1u
#define BACKUP_OPS_MAX 10u
#define BACKUP_MEM_MIN ((size_t)8 << 20)
#define BACKUP_MEM_MAX ((size_t)1 << 30)
#define BACKUP_PASSPHRASE_MIN 10 /* bytes */

struct backup_cost {
	uint64_t opslimit;
	uint64_t memlimit;
};

/* The cost sealing uses by default. */
struct backup_cost backup_default_cost(void);

/* Appends one archive entry. SM_EINVAL for a name outside the rule above. */
int backup_archive_add(struct buf *archive, const char *name, const uint8_t *data,
		       size_t len) SM_WUR;

/* Calls fn for each entry of an archive (untrusted: the whole archive is
 * checked before the first call). SM_EPARSE for a malformed archive, a bad
 * or repeated name; a nonzero return of fn stops the walk and is returned.
 * name is NUL-terminated; both pointers are borrowed for the call. */
int backup_archive_walk(const uint8_t *archive, size_t len,
			int (*fn)(void *arg, const char *name, const uint8_t *data, size_t len),
			void *arg) SM_WUR;

/* Encrypts archive under passphrase (at least BACKUP_PASSPHRASE_MIN bytes,
 * else SM_EINVAL) into the file format above, appended to out. SM_ENOMEM
 * when Argon2id cannot get its memory. */
int backup_seal(const uint8_t *archive, size_t len, const char *passphrase,
		struct backup_cost cost, struct buf *out) SM_WUR;

/* Decrypts a backup file; the archive is appended to out (which the caller
 * wipes after use). SM_EPARSE: not a backup file, or a cost outside the
 * bounds; SM_ECRYPTO: wrong passphrase or damaged; SM_ETOOBIG: over
 * BACKUP_MAX or out's maximum. */
int backup_open(const uint8_t *file, size_t len, const char *passphrase, struct buf *out) SM_WUR;

#endif
