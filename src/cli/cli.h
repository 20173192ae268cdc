/* cli.h: what the sealmail verbs share: the key store location, reading
 * input, writing output, and reporting errors in one consistent form. */
#ifndef SEALMAIL_CLI_H
#define SEALMAIL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sysexits.h>

#include "buf.h"
#include "pgp.h"
#include "pins.h"

#define CLI_PATH_MAX 4096

/* One verb's session: the key store folder and its keys loaded in ctx. */
struct cli {
	char home[CLI_PATH_MAX];
	pgp_ctx *ctx;
};

#include <stdio.h>

/* Prints "sealmail: <message>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), nonnull(1)));
/* Our standard error stream, for messages that are not "sealmail: ..." lines. */
FILE *cli_stderr(void);
/* Debian's librnp is built to print its internal diagnostics to stderr,
 * whatever log fd it is given. Users should see our messages, not those:
 * this points fd 2 at /dev/null and keeps a private copy of the real
 * stderr for cli_error(). SEALMAIL_DEBUG=1 in the environment keeps both. */
void cli_silence_library(void);

/* Resolves the key store folder and loads it. Returns 0 or an exit status. */
int cli_open(struct cli *c);
/* Writes the key store back; returns 0 or an exit status. */
int cli_save(struct cli *c);
void cli_close(struct cli *c);

/* Reads path ("-" or NULL: standard input) into b, bounded by b->max.
 * Returns 0 or an exit status, having said why. */
int cli_read_input(const char *path, struct buf *b);
/* Writes all of data to standard output; returns 0 or EX_IOERR. */
int cli_write_stdout(const uint8_t *data, size_t len);

/* What lookup_address() found: the key's fingerprint, the URL it came
 * from, and how it stands against the pin (a static phrase). */
struct lookup_info {
	struct pgp_fpr fpr[PINS_KEYS_MAX]; /* the usable keys, one per device of the owner, newest first */
	size_t nfpr;
	char source[1024];
	char pin_state[768];   /* how it stands against the pin, and who changed it */
	char proof[512]; /* what the transparency log proved, or why nothing */
};

/* Finds address's key with a lookup proof from its domain's transparency
 * log (transparency.h), or, for a domain that has never served one, in its
 * Web Key Directory; checks it against the pin (a changed key is taken if
 * the log proves it, or if accept), imports it into c->ctx, and saves the
 * key store and the pin. Prints nothing on success; on failure says
 * why and returns the exit status (EX_NOUSER: the directory has no key). */
int lookup_address(struct cli *c, const char *address, bool accept, struct lookup_info *ret);

/* letter_seal with the user's pins: a pinned correspondent is encrypted to
 * with their pinned key only. Returns letter_seal's code (SM_EIO if the
 * pin file cannot be read). */
int cli_letter_seal(struct cli *c, const struct buf *in, struct buf *out, struct buf *missing);

/* The key store folder ($SEALMAIL_HOME, else ~/.sealmail) into out.
 * Returns 0 or an exit status, having said why. */
int cli_home(char *out, size_t size);

#define CLI_PASSPHRASE_MAX 1024
/* A passphrase: the first line of file, or else typed at the terminal
 * (twice when confirm). Returns 0 or an exit status, having said why; the
 * caller wipes out (sodium_memzero) after use. */
int cli_passphrase(const char *file, bool confirm, char out[CLI_PASSPHRASE_MAX]);

/* A --wait SECONDS argument (at most a day); -1 if malformed. */
long cli_parse_wait(const char *arg);
/* The options of a verb whose only option is --wait SECONDS: the wait
 * (dflt when not given), optind then at the first argument; -1 for an
 * unknown option or a malformed wait. */
long cli_wait_option(int argc, char **argv, long dflt);

/* The verbs: each parses its own options and returns the exit status. */
int cmd_keygen(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_seal(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_rotate(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_renew(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_witness(int argc, char **argv);

#endif
