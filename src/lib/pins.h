/* pins.h: trust on first use for correspondents' keys, until key
 * transparency replaces it (DESIGN.md).
 *
 * The first key seen for an address is pinned; a later lookup that finds a
 * different key is refused until the user accepts it. The pin file holds
 * one "address fingerprint" line per address (canonical address as
 * wkd_address_format gives it, 40 uppercase hex digits), sorted, and is
 * replaced atomically. A struct pins is plain memory owned by the caller. */
#ifndef SEALMAIL_PINS_H
#define SEALMAIL_PINS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "pgp.h"

#define PINS_MAX 100000    /* addresses in one pin file */
#define PINS_FILE "pins"

struct pin {
	char *address; /* owned, canonical */
	struct pgp_fpr fpr;
};

struct pins {
	struct pin *items; /* owned, sorted by address */
	size_t n;
};

/* Parses a pin file's contents. Empty input gives no pins. A malformed
 * line, a duplicate address or more than PINS_MAX lines is SM_EPARSE /
 * SM_ETOOBIG; ret is untouched on failure. */
int pins_parse(const uint8_t *data, size_t len, struct pins *ret) SM_WUR;
void pins_free(struct pins *p); /* accepts NULL */

/* The pinned fingerprint for address, or NULL. Borrowed from p. */
const struct pgp_fpr *pins_get(const struct pins *p, const char *address);

/* Pins fpr for address, replacing any earlier pin. */
int pins_set(struct pins *p, const char *address, const struct pgp_fpr *fpr) SM_WUR;

/* Appends the file form (sorted lines) to out. */
int pins_format(const struct pins *p, struct buf *out) SM_WUR;

/* Loads dir/PINS_FILE (missing: no pins) and saves it atomically, mode 0644. */
int pins_load(const char *dir, struct pins *ret) SM_WUR;
int pins_save(const char *dir, const struct pins *p) SM_WUR;

#endif
