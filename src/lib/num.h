/* num.h: the number encodings the wire formats here share: ASCII decimal
 * without leading zeroes (c2sp.org/tlog-checkpoint's rule for sizes, used
 * by every text format of ours), and big-endian integers of 1 to 8 bytes.
 * Pure functions on caller memory. */
#ifndef SEALMAIL_NUM_H
#define SEALMAIL_NUM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The decimal number in p[0..len): digits only, no leading zero (but "0"
 * itself), below 2^64. SM_EPARSE otherwise; *ret untouched then. */
int num_parse_dec(const uint8_t *p, size_t len, uint64_t *ret) SM_WUR;

/* v as n big-endian bytes (its low n bytes), and back. n is 1 to 8. */
void num_put_be(uint8_t *p, uint64_t v, size_t n);
uint64_t num_get_be(const uint8_t *p, size_t n);

#endif
