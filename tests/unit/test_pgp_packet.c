#include "check.h"
#include "pgp_packet.h"

static void header_new_format(void)
{
	struct pgp_packet k;
	const uint8_t one[] = {0xc1, 10};             /* tag 1, one-octet length */
	const uint8_t two[] = {0xd2, 0xc0, 0x00};     /* tag 18, two-octet: 192 */
	const uint8_t two_max[] = {0xc1, 0xdf, 0xff}; /* 8383 */
	const uint8_t five[] = {0xc1, 0xff, 0x00, 0x01, 0x00, 0x00};
	CHECK_INT(pgp_packet_header(one, sizeof(one), &k), 0);
	CHECK(k.tag == 1 && k.hdr == 2 && k.body == 10);
	CHECK_INT(pgp_packet_header(two, sizeof(two), &k), 0);
	CHECK(k.tag == 18 && k.hdr == 3 && k.body == 192);
	CHECK_INT(pgp_packet_header(two_max, sizeof(two_max), &k), 0);
	CHECK(k.body == 8383);
	CHECK_INT(pgp_packet_header(five, sizeof(five), &k), 0);
	CHECK(k.hdr == 6 && k.body == 65536);
}

static void header_old_format(void)
{
	struct pgp_packet k;
	const uint8_t one[] = {0x84, 12};             /* tag 1, one-octet length */
	const uint8_t two[] = {0x85, 0x01, 0x00};     /* tag 1, two-octet: 256 */
	const uint8_t four[] = {0x86, 0, 0, 0x10, 0}; /* tag 1, four-octet: 4096 */
	CHECK_INT(pgp_packet_header(one, sizeof(one), &k), 0);
	CHECK(k.tag == 1 && k.hdr == 2 && k.body == 12);
	CHECK_INT(pgp_packet_header(two, sizeof(two), &k), 0);
	CHECK(k.hdr == 3 && k.body == 256);
	CHECK_INT(pgp_packet_header(four, sizeof(four), &k), 0);
	CHECK(k.hdr == 5 && k.body == 4096);
}

static void header_rejects(void)
{
	struct pgp_packet k = {.tag = 99};
	const uint8_t not_packet[] = {0x41, 1};
	const uint8_t partial[] = {0xc1, 0xe1};         /* new-format partial length */
	const uint8_t indeterminate[] = {0x87, 0x00};   /* old-format length type 3 */
	const uint8_t short_two[] = {0xc1, 0xc0};       /* two-octet length cut off */
	const uint8_t short_five[] = {0xc1, 0xff, 0, 0}; /* five-octet length cut off */
	const uint8_t short_old[] = {0x86, 0, 0};
	CHECK_INT(pgp_packet_header(not_packet, 2, &k), SM_EPARSE);
	CHECK_INT(pgp_packet_header(partial, 2, &k), SM_EPARSE);
	CHECK_INT(pgp_packet_header(indeterminate, 2, &k), SM_EPARSE);
	CHECK_INT(pgp_packet_header(short_two, 2, &k), SM_EPARSE);
	CHECK_INT(pgp_packet_header(short_five, 4, &k), SM_EPARSE);
	CHECK_INT(pgp_packet_header(short_old, 3, &k), SM_EPARSE);
	CHECK_INT(pgp_packet_header(not_packet, 0, &k), SM_EPARSE);
	CHECK_INT((int)k.tag, 99); /* untouched on failure */
}

/* Two v3 PKESKs (key IDs 11.. and 00..), a v6-style PKESK that is not v3,
 * then the encrypted data. */
static const uint8_t msg[] = {
	0xc1, 10, 3, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 9,
	0x84, 10, 3, 0, 0, 0, 0, 0, 0, 0, 0, 9,
	0xc1, 3, 6, 1, 2,
	0xd2, 2, 1, 0,
};

static void pkesk_offsets(void)
{
	size_t offs[4], n = 99;
	CHECK_INT(pgp_packet_pkesk_keyids(msg, sizeof(msg), offs, 4, &n), 0);
	CHECK_INT((int)n, 2);
	CHECK_INT((int)offs[0], 3);
	CHECK_INT((int)offs[1], 15);
	CHECK(msg[offs[0]] == 0x11 && msg[offs[1]] == 0);
}

static void pkesk_rejects(void)
{
	size_t offs[4], n = 99;
	/* more PKESKs than room */
	CHECK_INT(pgp_packet_pkesk_keyids(msg, sizeof(msg), offs, 1, &n), SM_ETOOBIG);
	/* no encrypted data packet */
	CHECK_INT(pgp_packet_pkesk_keyids(msg, 24, offs, 4, &n), SM_EPARSE);
	/* a body running past the end */
	CHECK_INT(pgp_packet_pkesk_keyids(msg, 20, offs, 4, &n), SM_EPARSE);
	/* empty, and garbage */
	CHECK_INT(pgp_packet_pkesk_keyids(msg, 0, offs, 4, &n), SM_EPARSE);
	const uint8_t junk[] = {0x00, 0x01, 0x02};
	CHECK_INT(pgp_packet_pkesk_keyids(junk, sizeof(junk), offs, 4, &n), SM_EPARSE);
	CHECK_INT((int)n, 99); /* untouched on failure */
}

int main(void)
{
	RUN(header_new_format);
	RUN(header_old_format);
	RUN(header_rejects);
	RUN(pkesk_offsets);
	RUN(pkesk_rejects);
	return check_done();
}
