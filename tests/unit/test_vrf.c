#include <decaf/point_255.h>
#include <sodium.h>

#include "check.h"
#include "vrf.h"

/* c2sp.org/vrf-r255 test vector (../shared/vectors/vrf-and-notes.txt) */
static const char vec_x[] = "3431c2b03533e280b23232e280b34e2c3132c2b03238e280b23131e280b34500";
static const char vec_pk[] = "54136cd90d99fbd1d4e855d9556efea87ba0337f2a6ce22028d0f5726fcb854e";
static const char vec_alpha[] = "c2sp.org/vrf-r255";
static const char vec_pi[] = "0a97d961262fb549b4175c5117860f42ae44a123f93c476c439eddd1c0cff926"
			     "5c805525233e2284dbed45e593b8eea3"
			     "1d5ca9734d72bcbba9738d5237f955f3b2422351149d1312503b6441a47c940c";
static const char vec_beta[] = "dd653f0879b48c3ef69e13551239bec4cbcc1c18fe8894de2e9e1c790e182736"
			       "03bf1c6c25d7a797aeff3c43fd32b974d3fcbd4bcce916007097922a3ea3a794";

/* q and p = 2^255 - 19, little-endian */
static const uint8_t order_q[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};
static const uint8_t field_p[32] = {
	0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
};

static uint8_t x[VRF_SK_LEN], pk[VRF_PK_LEN], pi[VRF_PROOF_LEN], beta[VRF_OUTPUT_LEN];

static void unhex(uint8_t *out, size_t len, const char *hex)
{
	size_t got = 0;
	if (sodium_hex2bin(out, len, hex, strlen(hex), NULL, &got, NULL) != 0 || got != len) {
		printf("Bail out! bad hex in the test itself\n");
		exit(1);
	}
}

/* a + b over 32 little-endian bytes, the carry out dropped */
static void add256(uint8_t ret[32], const uint8_t a[32], const uint8_t b[32])
{
	unsigned carry = 0;
	for (size_t i = 0; i < 32; i++) {
		carry += (unsigned)a[i] + b[i];
		ret[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

/* a - b over 32 little-endian bytes, a >= b */
static void sub256(uint8_t ret[32], const uint8_t a[32], const uint8_t b[32])
{
	int borrow = 0;
	for (size_t i = 0; i < 32; i++) {
		int d = (int)a[i] - b[i] - borrow;
		borrow = d < 0;
		ret[i] = (uint8_t)(d + (borrow ? 256 : 0));
	}
}

/* Verifies pk/alpha/proof expecting failure with want (0: any failure), and
 * checks that the output was left untouched. */
static int rejects(const uint8_t *k, const char *alpha, const uint8_t *proof, int want)
{
	uint8_t out[VRF_OUTPUT_LEN];
	memset(out, 0xa5, sizeof(out));
	int r = vrf_verify(k, (const uint8_t *)alpha, strlen(alpha), proof, out);
	int untouched = 1;
	for (size_t i = 0; i < sizeof(out); i++)
		untouched &= out[i] == 0xa5;
	return r < 0 && (want == 0 || r == want) && untouched;
}

static void vector_public_key(void)
{
	uint8_t got[VRF_PK_LEN];
	CHECK_INT(vrf_public_key(x, got), 0);
	CHECK(memcmp(got, pk, sizeof(got)) == 0);
}

static void vector_prove(void)
{
	uint8_t got[VRF_PROOF_LEN], again[VRF_PROOF_LEN];
	CHECK_INT(vrf_prove(x, (const uint8_t *)vec_alpha, strlen(vec_alpha), got), 0);
	CHECK(memcmp(got, pi, sizeof(got)) == 0);
	/* deterministic: the nonce derives from x and H only */
	CHECK_INT(vrf_prove(x, (const uint8_t *)vec_alpha, strlen(vec_alpha), again), 0);
	CHECK(memcmp(got, again, sizeof(got)) == 0);
}

static void vector_verify(void)
{
	uint8_t got[VRF_OUTPUT_LEN], h[VRF_OUTPUT_LEN];
	CHECK_INT(vrf_verify(pk, (const uint8_t *)vec_alpha, strlen(vec_alpha), pi, got), 0);
	CHECK(memcmp(got, beta, sizeof(got)) == 0);
	CHECK_INT(vrf_proof_to_hash(pi, h), 0);
	CHECK(memcmp(h, beta, sizeof(h)) == 0);
}

/* Every single-bit change of the proof is refused: in Gamma (0-31), c
 * (32-47) and s (48-79). */
static void reject_flipped_bits(void)
{
	uint8_t bad[VRF_PROOF_LEN];
	int refused = 0;
	for (size_t bit = 0; bit < 8 * VRF_PROOF_LEN; bit++) {
		memcpy(bad, pi, sizeof(bad));
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		refused += rejects(pk, vec_alpha, bad, 0);
	}
	CHECK_INT(refused, 8 * VRF_PROOF_LEN);
	/* c and low bits of s: well-formed, so a verification failure */
	memcpy(bad, pi, sizeof(bad));
	bad[32] ^= 1;
	CHECK(rejects(pk, vec_alpha, bad, SM_ECRYPTO));
	memcpy(bad, pi, sizeof(bad));
	bad[48] ^= 1;
	CHECK(rejects(pk, vec_alpha, bad, SM_ECRYPTO));
	/* Gamma's lowest bit makes it odd ("negative"), its top bit makes it
	 * 2^255 or more: neither is canonical, so a parse error */
	memcpy(bad, pi, sizeof(bad));
	bad[0] ^= 1;
	CHECK(rejects(pk, vec_alpha, bad, SM_EPARSE));
	memcpy(bad, pi, sizeof(bad));
	bad[31] ^= 0x80;
	CHECK(rejects(pk, vec_alpha, bad, SM_EPARSE));
	/* s's top bit: not reduced, a parse error too */
	memcpy(bad, pi, sizeof(bad));
	bad[79] ^= 0x80;
	CHECK(rejects(pk, vec_alpha, bad, SM_EPARSE));
}

static void reject_wrong_alpha(void)
{
	CHECK(rejects(pk, "c2sp.org/vrf-r256", pi, SM_ECRYPTO));
	CHECK(rejects(pk, "c2sp.org/vrf-r25", pi, SM_ECRYPTO));
	CHECK(rejects(pk, "", pi, SM_ECRYPTO));
}

static void reject_wrong_pk(void)
{
	uint8_t pk2[VRF_PK_LEN], sk2[VRF_SK_LEN];
	CHECK_INT(vrf_keypair(pk2, sk2), 0);
	CHECK(rejects(pk2, vec_alpha, pi, SM_ECRYPTO));
	sodium_memzero(sk2, sizeof(sk2));
}

/* Ristretto decoding ignores the sign of s, so p - s encodes the very same
 * Gamma; only the canonical (even, below p) form may be accepted, or one
 * proof would have several encodings. */
static void reject_noncanonical_gamma(void)
{
	uint8_t bad[VRF_PROOF_LEN], h[VRF_OUTPUT_LEN];
	memcpy(bad, pi, sizeof(bad));
	sub256(bad, field_p, pi);
	CHECK(rejects(pk, vec_alpha, bad, SM_EPARSE));
	CHECK_INT(vrf_proof_to_hash(bad, h), SM_EPARSE);
	memcpy(bad, pi, sizeof(bad));
	bad[31] |= 0x80; /* bit 255 set */
	CHECK(rejects(pk, vec_alpha, bad, SM_EPARSE));
	memcpy(bad, field_p, 32); /* p itself: a non-canonical zero */
	CHECK(rejects(pk, vec_alpha, bad, SM_EPARSE));
	memset(bad, 0, 32); /* the identity */
	CHECK(rejects(pk, vec_alpha, bad, SM_EPARSE));
	CHECK_INT(vrf_proof_to_hash(bad, h), SM_EPARSE);
}

static void reject_unreduced_s(void)
{
	uint8_t bad[VRF_PROOF_LEN], h[VRF_OUTPUT_LEN];
	memcpy(bad, pi, sizeof(bad));
	add256(bad + 48, pi + 48, order_q); /* s + q: the same residue */
	CHECK(rejects(pk, vec_alpha, bad, SM_EPARSE));
	CHECK_INT(vrf_proof_to_hash(bad, h), SM_EPARSE);
	memcpy(bad + 48, order_q, 32);
	CHECK(rejects(pk, vec_alpha, bad, SM_EPARSE));
}

static void reject_bad_pk(void)
{
	uint8_t bad[VRF_PK_LEN] = {0};
	CHECK(rejects(bad, vec_alpha, pi, SM_EINVAL)); /* identity */
	memcpy(bad, field_p, sizeof(bad));
	CHECK(rejects(bad, vec_alpha, pi, SM_EINVAL)); /* non-canonical */
	sub256(bad, field_p, pk);
	CHECK(rejects(bad, vec_alpha, pi, SM_EINVAL)); /* same point, negative s */
	/* bit 255 set: libsodium 1.0.18 decodes it as the same point */
	memcpy(bad, pk, sizeof(bad));
	bad[31] |= 0x80;
	CHECK(rejects(bad, vec_alpha, pi, SM_EINVAL));
}

static void reject_bad_sk(void)
{
	uint8_t bad[VRF_SK_LEN] = {0}, out[VRF_PROOF_LEN];
	memset(out, 0xa5, sizeof(out));
	CHECK_INT(vrf_public_key(bad, out), SM_EINVAL);
	CHECK_INT(vrf_prove(bad, (const uint8_t *)"a", 1, out), SM_EINVAL);
	memcpy(bad, order_q, sizeof(bad));
	CHECK_INT(vrf_public_key(bad, out), SM_EINVAL);
	CHECK_INT(vrf_prove(bad, (const uint8_t *)"a", 1, out), SM_EINVAL);
	memset(bad, 0xff, sizeof(bad));
	CHECK_INT(vrf_prove(bad, (const uint8_t *)"a", 1, out), SM_EINVAL);
	CHECK(out[0] == 0xa5 && out[VRF_PROOF_LEN - 1] == 0xa5);
	CHECK_INT(vrf_prove(x, NULL, 1, out), SM_EINVAL);
	CHECK_INT(vrf_verify(pk, NULL, 1, pi, out), SM_EINVAL);
}

/* s*P - c*Q, or s*B - c*Q when p is NULL, with libsodium alone; a zero
 * scalar's product is the identity, which libsodium will not output. */
static void sodium_combo(uint8_t ret[32], const uint8_t s[32], const uint8_t *p,
			 const uint8_t c[32], const uint8_t q[32])
{
	uint8_t sp[32] = {0}, cq[32] = {0};
	if (!sodium_is_zero(s, 32))
		CHECK_INT(p ? crypto_scalarmult_ristretto255(sp, s, p) : crypto_scalarmult_ristretto255_base(sp, s), 0);
	if (!sodium_is_zero(c, 32))
		CHECK_INT(crypto_scalarmult_ristretto255(cq, c, q), 0);
	CHECK_INT(crypto_core_ristretto255_sub(ret, sp, cq), 0);
}

/* vrf_verify's U and V come from libdecaf's double-scalar multiplications;
 * libsodium computes the same sums with single ones. The two libraries must
 * agree on encodings (decode then encode gives the same bytes) and on both
 * sums, for random points and scalars and for zero scalars; except that
 * libdecaf 1.0.2's variable-time sum is wrong for a zero second scalar,
 * which vrf.c avoids: pinned here, so that a fixed libdecaf is noticed. */
static void decaf_agrees_with_sodium(void)
{
	int ok = 1;
	for (int i = 0; i < 200; i++) {
		uint8_t p[32], q[32], s[32], c[32], want[32], got[32];
		decaf_255_point_t dp, dq, combo;
		decaf_255_scalar_t ds, minus_c;
		crypto_core_ristretto255_random(p);
		crypto_core_ristretto255_random(q);
		crypto_core_ristretto255_scalar_random(s);
		crypto_core_ristretto255_scalar_random(c);
		if (i == 0)
			memset(s, 0, sizeof(s));
		if (i == 1)
			memset(c, 0, sizeof(c));
		ok &= decaf_255_point_decode(dp, p, DECAF_FALSE) == DECAF_SUCCESS &&
		      decaf_255_point_decode(dq, q, DECAF_FALSE) == DECAF_SUCCESS &&
		      decaf_255_scalar_decode(ds, s) == DECAF_SUCCESS &&
		      decaf_255_scalar_decode(minus_c, c) == DECAF_SUCCESS;
		decaf_255_scalar_sub(minus_c, decaf_255_scalar_zero, minus_c);
		decaf_255_point_encode(got, dp);
		ok &= memcmp(got, p, 32) == 0;
		sodium_combo(want, s, NULL, c, q);
		decaf_255_base_double_scalarmul_non_secret(combo, ds, dq, minus_c);
		decaf_255_point_encode(got, combo);
		ok &= (memcmp(got, want, 32) == 0) == (i != 1);
		sodium_combo(want, s, p, c, q);
		decaf_255_point_double_scalarmul(combo, dp, ds, dq, minus_c);
		decaf_255_point_encode(got, combo);
		ok &= memcmp(got, want, 32) == 0;
	}
	CHECK(ok);
}

/* A proof with c = 0, which takes verify_uv's constant-time path for U,
 * is refused like any other forged one, with s kept or zeroed too. */
static void zero_challenge(void)
{
	uint8_t forged[VRF_PROOF_LEN], out[VRF_OUTPUT_LEN];
	memcpy(forged, pi, sizeof(forged));
	memset(forged + 32, 0, 16);
	CHECK(rejects(pk, vec_alpha, forged, SM_ECRYPTO));
	memset(forged + 48, 0, 32);
	CHECK(rejects(pk, vec_alpha, forged, SM_ECRYPTO));
	CHECK_INT(vrf_verify(pk, (const uint8_t *)vec_alpha, strlen(vec_alpha), pi, out), 0);
}

static void keypair_round_trip(void)
{
	uint8_t k[VRF_PK_LEN], sk[VRF_SK_LEN], k2[VRF_PK_LEN], p1[VRF_PROOF_LEN], p2[VRF_PROOF_LEN];
	uint8_t b1[VRF_OUTPUT_LEN], b2[VRF_OUTPUT_LEN], h[VRF_OUTPUT_LEN];
	CHECK_INT(vrf_keypair(k, sk), 0);
	CHECK_INT(vrf_public_key(sk, k2), 0);
	CHECK(memcmp(k, k2, sizeof(k)) == 0);
	CHECK_INT(vrf_prove(sk, (const uint8_t *)"luke@jedi.test", 14, p1), 0);
	CHECK_INT(vrf_verify(k, (const uint8_t *)"luke@jedi.test", 14, p1, b1), 0);
	CHECK_INT(vrf_proof_to_hash(p1, h), 0);
	CHECK(memcmp(b1, h, sizeof(h)) == 0);
	CHECK_INT(vrf_prove(sk, NULL, 0, p2), 0); /* the empty input is an input */
	CHECK_INT(vrf_verify(k, NULL, 0, p2, b2), 0);
	CHECK(memcmp(b1, b2, sizeof(b1)) != 0);
	CHECK_INT(vrf_verify(k, (const uint8_t *)"lea@jedi.test", 13, p1, b2), SM_ECRYPTO);
	sodium_memzero(sk, sizeof(sk));
}

int main(void)
{
	uint8_t alpha[sizeof(vec_alpha) - 1];
	if (sodium_init() < 0) {
		printf("Bail out! sodium_init\n");
		return 1;
	}
	unhex(x, sizeof(x), vec_x);
	unhex(pk, sizeof(pk), vec_pk);
	unhex(alpha, sizeof(alpha), "633273702e6f72672f7672662d72323535");
	unhex(pi, sizeof(pi), vec_pi);
	unhex(beta, sizeof(beta), vec_beta);
	/* the vector's alpha is this ASCII string; checked so the tests can use it */
	if (memcmp(alpha, vec_alpha, sizeof(alpha)) != 0) {
		printf("Bail out! alpha is not \"%s\"\n", vec_alpha);
		return 1;
	}
	RUN(vector_public_key);
	RUN(vector_prove);
	RUN(vector_verify);
	RUN(reject_flipped_bits);
	RUN(reject_wrong_alpha);
	RUN(reject_wrong_pk);
	RUN(reject_noncanonical_gamma);
	RUN(reject_unreduced_s);
	RUN(reject_bad_pk);
	RUN(reject_bad_sk);
	RUN(keypair_round_trip);
	RUN(decaf_agrees_with_sodium);
	RUN(zero_challenge);
	return check_done();
}
