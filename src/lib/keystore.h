/* keystore.h: the user's keys on disk, under one folder ($SEALMAIL_HOME).
 *
 * The folder (mode 0700) holds pubring.pgp (every certificate, binary,
 * mode 0644) and secring.pgp (our transferable secret keys, binary, mode
 * 0600). Saving rewrites both atomically (atomic_file.h); loading a folder
 * that does not exist yet gives an empty key store. */
#ifndef SEALMAIL_KEYSTORE_H
#define SEALMAIL_KEYSTORE_H

#include "err.h"
#include "pgp.h"

#define KEYSTORE_MAX_FILE (64u << 20) /* a key ring larger than this is refused */

/* Imports dir's key rings into ctx. SM_EIO if a ring exists but cannot be
 * read, SM_ETOOBIG past KEYSTORE_MAX_FILE, SM_EPARSE if a ring is corrupt,
 * SM_EINVAL if secring.pgp is readable by group or others. */
int keystore_load(pgp_ctx *ctx, const char *dir) SM_WUR;

/* Creates dir (0700) if needed and writes ctx's keys to it. */
int keystore_save(pgp_ctx *ctx, const char *dir) SM_WUR;

#endif
