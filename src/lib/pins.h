/* pins.h: trust on first use for correspondents' keys, until key
 * transparency replaces it (DESIGN.md).
 *
 * The first keys seen for an address are pinned: the set of its usable
 * keys, one per device of its owner (at most PINS_KEYS_MAX). A later lookup
 * that finds a different set is refused until the user accepts it, or the
 * domain's transparency log proves the change. The pin file holds one
 * "address fingerprint" line per pinned key (canonical address as
 * wkd_address_format gives it with the local part lowercased, 40 uppercase
 * hex digits), sorted, and is replaced atomically. A struct pins is plain
 * memory owned by the caller. */
#ifndef SEALMAIL_PINS_H
#define SEALMAIL_PINS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "pgp.h"

#define PINS_MAX 100000    /* lines in one pin file */
#define PINS_KEYS_MAX 8    /* keys pinned for one address (its owner's devices) */
#define PINS_FILE "pins"

struct pin {
	char *address; /* owned, canonical */
	struct pgp_fpr fpr[PINS_KEYS_MAX]; /* sorted */
	size_t n;      /* 1..PINS_KEYS_MAX */
};

struct pins {
	struct pin *items; /* owned, sorted by address */
	size_t n;
};

/* Parses a pin file's contents. Empty input gives no pins. A malformed
 * line, a line twice, more than PINS_KEYS_MAX keys for one address or more
 * than PINS_MAX lines is SM_EPARSE / SM_ETOOBIG; ret is untouched on
 * failure. */
int pins_parse(const uint8_t *data, size_t len, struct pins *ret) SM_WUR;
void pins_free(struct pins *p); /* accepts NULL */

/* The keys pinned for address, or NULL. Borrowed from p. */
const struct pin *pins_get(const struct pins *p, const char *address);
/* 1 if fpr is one of the keys pinned in pin (NULL: none), else 0. */
int pins_has(const struct pin *pin, const struct pgp_fpr *fpr);

/* Pins the n keys fprs (1..PINS_KEYS_MAX, no repeats) for address,
 * replacing any earlier pin. */
int pins_set(struct pins *p, const char *address, const struct pgp_fpr *fprs, size_t n) SM_WUR;

/* Appends the file form (sorted lines) to out. */
int pins_format(const struct pins *p, struct buf *out) SM_WUR;

/* Loads dir/PINS_FILE (missing: no pins) and saves it atomically, mode 0644. */
int pins_load(const char *dir, struct pins *ret) SM_WUR;
int pins_save(const char *dir, const struct pins *p) SM_WUR;

#endif
