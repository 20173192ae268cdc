/* atomic_file.h: crash-safe replacement of a file's contents.
 *
 * The data goes to a fresh temporary file in the same directory (O_EXCL),
 * which is fsynced, closed with its error checked, renamed over the target,
 * and then the directory is fsynced. After a crash the target holds either
 * the old or the new contents, never a mix. */
#ifndef SEALMAIL_ATOMIC_FILE_H
#define SEALMAIL_ATOMIC_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Replaces dir/name with data; the file gets mode (e.g. 0600). SM_EIO with
 * errno set on failure, in which case no temporary file is left behind. */
int atomic_file_write(const char *dir, const char *name, const uint8_t *data, size_t len,
		      mode_t mode) SM_WUR;

/* As atomic_file_write, but only if dir/name does not exist: the whole
 * file appears at once or not at all, and of two processes creating it at
 * the same time exactly one succeeds; the other gets SM_EEXIST and the
 * file stays as the winner wrote it. */
int atomic_file_create(const char *dir, const char *name, const uint8_t *data, size_t len,
		       mode_t mode) SM_WUR;

/* fsyncs the directory dir, so that entries created, renamed or linked in
 * it survive a crash. SM_EIO with errno set on failure. */
int atomic_file_fsync_dir(const char *dir) SM_WUR;

#endif
