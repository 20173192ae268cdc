/* pgp_packet.h: OpenPGP packet framing (RFC 4880 section 4.2), just enough
 * to find the public-key encrypted session key packets (PKESK) that come
 * before a message's encrypted data.
 *
 * librnp 0.16 can neither write nor read a PKESK with a wildcard key ID
 * (all zeros, "hidden recipient"); pgp.c blanks and fills those key IDs
 * itself, at the offsets this module finds. Everything here is a pure,
 * bounds-checked walk over caller memory: nothing is allocated. */
#ifndef SEALMAIL_PGP_PACKET_H
#define SEALMAIL_PGP_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PGP_KEYID_LEN 8

struct pgp_packet {
	unsigned tag;
	size_t hdr;  /* header length: body starts at hdr */
	size_t body; /* body length */
};

/* Parses the packet header at p[0..n) (old or new format). Partial and
 * indeterminate lengths are refused (SM_EPARSE): the packets before the
 * encrypted data always have a definite length. The body is not checked
 * against n; the caller does that. */
int pgp_packet_header(const uint8_t *p, size_t n, struct pgp_packet *ret) SM_WUR;

/* Finds the v3 PKESK packets before the first encrypted data packet
 * (SEIPD, tag 18, or AEAD, tag 20) of the binary message msg, and writes
 * the offset of each one's 8-byte key ID into ret_offs (at most max).
 * SM_EPARSE if the framing is broken or there is no encrypted data packet,
 * SM_ETOOBIG if there are more than max such packets. */
int pgp_packet_pkesk_keyids(const uint8_t *msg, size_t len, size_t *ret_offs, size_t max,
			    size_t *ret_n) SM_WUR;

#endif
