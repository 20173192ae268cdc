#include "pgp_packet.h"

#define PGP_TAG_PKESK 1
#define PGP_TAG_SEIPD 18
#define PGP_TAG_AEAD 20

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* New-format length (RFC 4880 4.2.2); 224..254 are partial lengths. */
static int new_length(const uint8_t *p, size_t n, struct pgp_packet *k)
{
	if (n < 2)
		return SM_EPARSE;
	if (p[1] < 192) {
		k->hdr = 2;
		k->body = p[1];
	} else if (p[1] < 224) {
		if (n < 3)
			return SM_EPARSE;
		k->hdr = 3;
		k->body = ((size_t)(p[1] - 192) << 8) + p[2] + 192;
	} else if (p[1] == 255) {
		if (n < 6)
			return SM_EPARSE;
		k->hdr = 6;
		k->body = be32(p + 2);
	} else {
		return SM_EPARSE;
	}
	return 0;
}

/* Old-format length (RFC 4880 4.2.1); length type 3 is indeterminate. */
static int old_length(const uint8_t *p, size_t n, struct pgp_packet *k)
{
	static const size_t lenlen[4] = {1, 2, 4, 0};
	size_t ll = lenlen[p[0] & 3];
	if (ll == 0 || n < 1 + ll)
		return SM_EPARSE;
	k->hdr = 1 + ll;
	k->body = ll == 1 ? p[1] : ll == 2 ? (size_t)p[1] << 8 | p[2] : be32(p + 1);
	return 0;
}

int pgp_packet_header(const uint8_t *p, size_t n, struct pgp_packet *ret)
{
	struct pgp_packet k;
	if (n < 1 || !(p[0] & 0x80))
		return SM_EPARSE;
	int r;
	if (p[0] & 0x40) {
		k.tag = p[0] & 0x3f;
		r = new_length(p, n, &k);
	} else {
		k.tag = (p[0] >> 2) & 0x0f;
		r = old_length(p, n, &k);
	}
	if (r == 0)
		*ret = k;
	return r;
}

int pgp_packet_pkesk_keyids(const uint8_t *msg, size_t len, size_t *ret_offs, size_t max,
			    size_t *ret_n)
{
	size_t off = 0, n = 0;
	while (off < len) {
		struct pgp_packet k;
		if (pgp_packet_header(msg + off, len - off, &k) < 0)
			return SM_EPARSE;
		if (k.tag == PGP_TAG_SEIPD || k.tag == PGP_TAG_AEAD) {
			*ret_n = n;
			return 0;
		}
		if (k.body > len - off - k.hdr)
			return SM_EPARSE;
		const uint8_t *body = msg + off + k.hdr;
		if (k.tag == PGP_TAG_PKESK && k.body >= 1 + PGP_KEYID_LEN && body[0] == 3) {
			if (n == max)
				return SM_ETOOBIG;
			ret_offs[n++] = off + k.hdr + 1;
		}
		off += k.hdr + k.body;
	}
	return SM_EPARSE; /* no encrypted data packet */
}
