/* maildir.h: durable delivery into a Maildir (https://cr.yp.to/proto/maildir.html).
 *
 * A message is written to tmp/<unique>, fsynced, closed with its error
 * checked, hard-linked to new/<unique> (link(), not rename(), so an existing
 * file of that name is never replaced), unlinked from tmp/, and then the new/
 * directory is fsynced. Only after that does maildir_deliver() return 0, so a
 * caller that answers "250" on 0 never acknowledges a message a crash could
 * lose, and no partial file can ever appear in new/: a file reaches new/ only
 * complete and fsynced, in one atomic step. If fsyncing new/ fails, the
 * entry is unlinked again (best effort) before the error is returned: a
 * failed delivery should not turn into a duplicate when the sender retries.
 * A crash between link() and the unlink of tmp/ leaves a stale copy in tmp/,
 * which Maildir readers remove after 36 hours; new/ still has it once.
 *
 * Unique names are "<sec>.M<usec>P<pid>R<16 hex>.<host>,S=<size>": the
 * microsecond clock and the pid separate deliveries on one host, 64 random
 * bits cover a clock stepped backwards or several threads in one
 * microsecond, the host name separates hosts sharing the Maildir (NFS), and
 * ",S=" is the size hint Courier and Dovecot read. The host name is
 * sanitised as the Maildir conventions say: '/' becomes "\057", ':' becomes
 * "\072"; beyond them '\\', spaces, control and non-ASCII bytes are written
 * as \ooo too, and the result is cut at 128 bytes. O_EXCL on tmp/ and link()
 * on new/ turn an astronomically unlikely collision into a failure, never an
 * overwrite. On a file system without hard links (link() fails with EPERM or
 * EOPNOTSUPP) the move falls back to rename(), and the unique name alone is
 * what keeps it from replacing a message.
 *
 * Nothing here keeps state between calls; the functions are safe to call
 * from several processes or threads on the same Maildir. */
#ifndef SEALMAIL_MAILDIR_H
#define SEALMAIL_MAILDIR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A ret_name buffer of this size always holds a delivered name. */
#define MAILDIR_NAME_SIZE 256

/* Makes path a Maildir: creates path itself (its parent must exist) and its
 * tmp/, new/ and cur/ with mode 0700 where they are missing, and fsyncs each
 * parent of something it created. Existing directories are left as they are
 * (modes included). SM_EINVAL for a path too long; SM_EIO with errno set
 * otherwise (ENOTDIR when path or one of the three is not a directory). */
int maildir_ensure(const char *path) SM_WUR;

/* Delivers msg (len bytes, stored as given; msg may be NULL when len is 0)
 * into path/new/, calling maildir_ensure(path) first. On success writes the
 * file's base name (no directory) into ret_name, NUL-terminated. The file has
 * mode 0600.
 *
 * Errors, each with nothing left in tmp/ or new/:
 *   SM_ETOOBIG  ret_size cannot hold the name (checked before any write;
 *               MAILDIR_NAME_SIZE is always enough)
 *   SM_EINVAL   path too long
 *   SM_EIO      a system call failed; errno is the one it set. ENOSPC,
 *               EDQUOT and EFBIG mean "out of room" (SMTP 452 4.3.1); any
 *               other errno is a local error (451 4.3.0).
 * ret_name is untouched on failure. */
int maildir_deliver(const char *path, const uint8_t *msg, size_t len, char *ret_name,
		    size_t ret_size) SM_WUR;

#endif
