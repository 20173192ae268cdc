/* vrf.c: c2sp.org/vrf-r255 (ECVRF-RISTRETTO255-SHA512) on libsodium's
 * ristretto255 API, with libdecaf's double-scalar multiplications for the
 * verifier's U and V (see verify_uv).
 *
 * The construction is RFC 9381's ECVRF (draft-irtf-cfrg-vrf-11, which the
 * spec cites) with the suite's own nonce generation and encode_to_curve:
 *   H     = one_way_map(SHA-512(suite || 0x82 || PK || alpha))
 *   k     = SHA-512(suite || 0x81 || x || H) mod q
 *   c     = SHA-512(suite || 0x02 || Y || H || Gamma || U || V || 0x00)[:16]
 *   beta  = SHA-512(suite || 0x03 || Gamma || 0x00)
 * with Gamma = x*H, U = k*B, V = k*H, s = k + c*x, pi = Gamma || c || s.
 * The cofactor is 1, so Gamma needs no clearing before hashing, and since
 * ristretto255 decoding only accepts canonical encodings, hashing the
 * received bytes is hashing point_to_string(Gamma). */
#include <string.h>

#include <decaf/point_255.h>
#include <sodium.h>

#include "vrf.h"

#define VRF_POINT_LEN 32
#define VRF_SCALAR_LEN 32
#define VRF_C_LEN 16
#define VRF_GAMMA_OFF 0
#define VRF_C_OFF VRF_POINT_LEN
#define VRF_S_OFF (VRF_POINT_LEN + VRF_C_LEN)

/* suite_string = 0xFF || "c2sp.org/vrf-r255"; the separate literal keeps
 * the \xff escape from swallowing the 'c'. */
static const char vrf_suite[] = "\xff"
				"c2sp.org/vrf-r255";

enum vrf_domain {
	VRF_DS_CHALLENGE = 0x02,
	VRF_DS_PROOF_TO_HASH = 0x03,
	VRF_DS_NONCE = 0x81,
	VRF_DS_ENCODE = 0x82,
	VRF_DS_BACK = 0x00, /* closes the challenge and proof_to_hash inputs */
};

/* q = 2^252 + 27742317777372353535851937790883648493, little-endian */
static const uint8_t vrf_q[VRF_SCALAR_LEN] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* Every hash of the suite starts with the same fixed prefix, which is what
 * separates its five uses from each other and from every other protocol. */
static void hash_start(crypto_hash_sha512_state *st, enum vrf_domain ds)
{
	uint8_t d = (uint8_t)ds;
	crypto_hash_sha512_init(st);
	crypto_hash_sha512_update(st, (const uint8_t *)vrf_suite, sizeof(vrf_suite) - 1);
	crypto_hash_sha512_update(st, &d, 1);
}

static void hash_byte(crypto_hash_sha512_state *st, uint8_t b)
{
	crypto_hash_sha512_update(st, &b, 1);
}

/* 1 for a scalar in [1, q-1]. Constant time, because it sees secret keys:
 * both tests are sodium's constant-time ones, combined without branching. */
static int scalar_is_valid_key(const uint8_t x[VRF_SCALAR_LEN])
{
	int below_q = sodium_compare(x, vrf_q, VRF_SCALAR_LEN) < 0;
	int zero = sodium_is_zero(x, VRF_SCALAR_LEN);
	return below_q & (zero ^ 1);
}

/* 1 for a canonical encoding of a group element other than the identity.
 * libsodium 1.0.18 decodes ignoring bit 255 (its canonical check masks it
 * off), so pk | 0x80 would be a second encoding of the same key with other
 * outputs, breaking the VRF's uniqueness: the bit is tested here. Canonical
 * decoding makes the all-zero string the identity's only encoding, so the
 * identity test is a byte test. */
static int point_is_valid(const uint8_t p[VRF_POINT_LEN])
{
	return (p[VRF_POINT_LEN - 1] & 0x80) == 0 && crypto_core_ristretto255_is_valid_point(p) == 1 &&
	       !sodium_is_zero(p, VRF_POINT_LEN);
}

/* 1 if the proof decodes (RFC 9381 ECVRF_decode_proof): Gamma a valid
 * element and s reduced. An identity Gamma is refused too: x*H is never the
 * identity for x != 0 unless H is (probability about 2^-252), so no honest
 * proof is lost, and the verifier never multiplies the identity. */
static int proof_is_well_formed(const uint8_t proof[VRF_PROOF_LEN])
{
	return point_is_valid(proof + VRF_GAMMA_OFF) &&
	       sodium_compare(proof + VRF_S_OFF, vrf_q, VRF_SCALAR_LEN) < 0;
}

/* n*P, or n*B when p is NULL, for the prover and key generation.
 * libsodium refuses to output the identity, and a nonce k of zero (odds
 * about 2^-252) is legal, so 0*P is handled here as the identity's
 * encoding. For a reduced non-zero n and a non-identity P in
 * this prime-order group n*P is never the identity, so any other refusal
 * means P did not decode. */
static int mul(uint8_t ret[VRF_POINT_LEN], const uint8_t n[VRF_SCALAR_LEN], const uint8_t *p)
{
	int r;
	if (sodium_is_zero(n, VRF_SCALAR_LEN)) {
		memset(ret, 0, VRF_POINT_LEN);
		return 0;
	}
	if (p == NULL)
		r = crypto_scalarmult_ristretto255_base(ret, n);
	else
		r = crypto_scalarmult_ristretto255(ret, n, p);
	return r == 0 ? 0 : SM_ECRYPTO;
}

/* ECVRF_encode_to_curve with encode_to_curve_salt = PK_string;
 * crypto_core_ristretto255_from_hash is the one-way map of
 * draft-irtf-cfrg-ristretto255-decaf448-03, Section 4.3.4. */
static void encode_to_curve(uint8_t ret_h[VRF_POINT_LEN], const uint8_t pk[VRF_PK_LEN],
			    const uint8_t *alpha, size_t alpha_len)
{
	crypto_hash_sha512_state st;
	uint8_t hash[crypto_hash_sha512_BYTES];
	hash_start(&st, VRF_DS_ENCODE);
	crypto_hash_sha512_update(&st, pk, VRF_PK_LEN);
	if (alpha_len > 0)
		crypto_hash_sha512_update(&st, alpha, alpha_len);
	crypto_hash_sha512_final(&st, hash);
	crypto_core_ristretto255_from_hash(ret_h, hash);
}

/* The suite's ECVRF_nonce_generation. Everything it touches derives from x,
 * so the hash state and the unreduced hash are wiped before returning. */
static void nonce_generation(uint8_t ret_k[VRF_SCALAR_LEN], const uint8_t x[VRF_SCALAR_LEN],
			     const uint8_t h[VRF_POINT_LEN])
{
	crypto_hash_sha512_state st;
	uint8_t k_string[crypto_hash_sha512_BYTES];
	hash_start(&st, VRF_DS_NONCE);
	crypto_hash_sha512_update(&st, x, VRF_SCALAR_LEN);
	crypto_hash_sha512_update(&st, h, VRF_POINT_LEN);
	crypto_hash_sha512_final(&st, k_string);
	crypto_core_ristretto255_scalar_reduce(ret_k, k_string);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(k_string, sizeof(k_string));
}

/* ECVRF_challenge_generation(Y, H, Gamma, U, V): c as a 32-byte scalar
 * (the 16-byte truncated hash, zero-extended; always below q). */
static void challenge_generation(uint8_t ret_c[VRF_SCALAR_LEN], const uint8_t *const p[5])
{
	crypto_hash_sha512_state st;
	uint8_t hash[crypto_hash_sha512_BYTES];
	hash_start(&st, VRF_DS_CHALLENGE);
	for (size_t i = 0; i < 5; i++)
		crypto_hash_sha512_update(&st, p[i], VRF_POINT_LEN);
	hash_byte(&st, VRF_DS_BACK);
	crypto_hash_sha512_final(&st, hash);
	memset(ret_c, 0, VRF_SCALAR_LEN);
	memcpy(ret_c, hash, VRF_C_LEN);
}

/* beta from a Gamma already known to be a valid encoding. */
static void gamma_to_hash(const uint8_t gamma[VRF_POINT_LEN], uint8_t ret_beta[VRF_OUTPUT_LEN])
{
	crypto_hash_sha512_state st;
	hash_start(&st, VRF_DS_PROOF_TO_HASH);
	crypto_hash_sha512_update(&st, gamma, VRF_POINT_LEN);
	hash_byte(&st, VRF_DS_BACK);
	crypto_hash_sha512_final(&st, ret_beta);
}

int vrf_keypair(uint8_t ret_pk[VRF_PK_LEN], uint8_t ret_sk[VRF_SK_LEN])
{
	uint8_t x[VRF_SK_LEN], y[VRF_PK_LEN];
	int r;
	if (ret_pk == NULL || ret_sk == NULL)
		return SM_EINVAL;
	/* for randombytes; idempotent and thread-safe */
	if (sodium_init() < 0)
		return SM_ECRYPTO;
	/* uniform in [1, q-1], by rejection sampling */
	crypto_core_ristretto255_scalar_random(x);
	r = mul(y, x, NULL);
	if (r == 0) {
		memcpy(ret_sk, x, VRF_SK_LEN);
		memcpy(ret_pk, y, VRF_PK_LEN);
	}
	sodium_memzero(x, sizeof(x));
	return r;
}

int vrf_public_key(const uint8_t sk[VRF_SK_LEN], uint8_t ret_pk[VRF_PK_LEN])
{
	uint8_t y[VRF_PK_LEN];
	if (sk == NULL || ret_pk == NULL || !scalar_is_valid_key(sk))
		return SM_EINVAL;
	if (mul(y, sk, NULL) < 0)
		return SM_ECRYPTO;
	memcpy(ret_pk, y, VRF_PK_LEN);
	return 0;
}

/* Everything vrf_prove computes, in one place so one wipe covers it:
 * k and c*x reveal x together with the proof. */
struct vrf_prove_state {
	uint8_t y[VRF_POINT_LEN], h[VRF_POINT_LEN], gamma[VRF_POINT_LEN];
	uint8_t u[VRF_POINT_LEN], v[VRF_POINT_LEN];
	uint8_t k[VRF_SCALAR_LEN], c[VRF_SCALAR_LEN], cx[VRF_SCALAR_LEN], s[VRF_SCALAR_LEN];
};

int vrf_prove(const uint8_t sk[VRF_SK_LEN], const uint8_t *alpha, size_t alpha_len,
	      uint8_t ret_proof[VRF_PROOF_LEN])
{
	struct vrf_prove_state t;
	int r = SM_ECRYPTO;
	if (sk == NULL || ret_proof == NULL || (alpha == NULL && alpha_len > 0) ||
	    !scalar_is_valid_key(sk))
		return SM_EINVAL;
	if (mul(t.y, sk, NULL) < 0)
		goto done;
	encode_to_curve(t.h, t.y, alpha, alpha_len);
	nonce_generation(t.k, sk, t.h);
	if (mul(t.gamma, sk, t.h) < 0 || mul(t.u, t.k, NULL) < 0 || mul(t.v, t.k, t.h) < 0)
		goto done;
	challenge_generation(t.c, (const uint8_t *const[5]){t.y, t.h, t.gamma, t.u, t.v});
	crypto_core_ristretto255_scalar_mul(t.cx, t.c, sk);
	crypto_core_ristretto255_scalar_add(t.s, t.k, t.cx);
	memcpy(ret_proof + VRF_GAMMA_OFF, t.gamma, VRF_POINT_LEN);
	memcpy(ret_proof + VRF_C_OFF, t.c, VRF_C_LEN);
	memcpy(ret_proof + VRF_S_OFF, t.s, VRF_SCALAR_LEN);
	r = 0;
done:
	sodium_memzero(&t, sizeof(t));
	return r;
}

/* U = s*B - c*Y and V = s*H - c*Gamma for a well-formed proof and a valid
 * pk. Public data only: nothing to wipe, and variable time is fine.
 *
 * libsodium 1.0.18 has only single scalar multiplications, four of them
 * here (about 60 us each on a 2020s core); libdecaf computes each line as
 * one double-scalar multiplication, U in variable time with its base-point
 * table. Its group is ristretto255 with the same encoding (decaf 1.0; the
 * unit test cross-checks both libraries on random points and scalars), so
 * the inputs, already checked with point_is_valid, decode here too; a
 * refusal is an error all the same. libdecaf 1.0.2's variable-time one
 * is wrong when its second scalar is zero (the unit test shows it), so a
 * zero c, which only a forger sends, takes the constant-time one. */
static int verify_uv(const uint8_t pk[VRF_PK_LEN], const uint8_t h[VRF_POINT_LEN],
		     const uint8_t proof[VRF_PROOF_LEN], uint8_t ret_u[VRF_POINT_LEN],
		     uint8_t ret_v[VRF_POINT_LEN])
{
	uint8_t c[VRF_SCALAR_LEN] = {0};
	decaf_255_point_t y, hp, gamma, u, v;
	decaf_255_scalar_t s, minus_c;
	memcpy(c, proof + VRF_C_OFF, VRF_C_LEN);
	if (decaf_255_point_decode(y, pk, DECAF_FALSE) != DECAF_SUCCESS ||
	    decaf_255_point_decode(hp, h, DECAF_TRUE) != DECAF_SUCCESS ||
	    decaf_255_point_decode(gamma, proof + VRF_GAMMA_OFF, DECAF_FALSE) != DECAF_SUCCESS ||
	    decaf_255_scalar_decode(s, proof + VRF_S_OFF) != DECAF_SUCCESS ||
	    decaf_255_scalar_decode(minus_c, c) != DECAF_SUCCESS)
		return SM_ECRYPTO;
	decaf_255_scalar_sub(minus_c, decaf_255_scalar_zero, minus_c);
	if (sodium_is_zero(c, sizeof(c)))
		decaf_255_point_double_scalarmul(u, decaf_255_point_base, s, y, minus_c);
	else
		decaf_255_base_double_scalarmul_non_secret(u, s, y, minus_c);
	decaf_255_point_double_scalarmul(v, hp, s, gamma, minus_c);
	decaf_255_point_encode(ret_u, u);
	decaf_255_point_encode(ret_v, v);
	return 0;
}

int vrf_verify(const uint8_t pk[VRF_PK_LEN], const uint8_t *alpha, size_t alpha_len,
	       const uint8_t proof[VRF_PROOF_LEN], uint8_t ret_beta[VRF_OUTPUT_LEN])
{
	uint8_t h[VRF_POINT_LEN], u[VRF_POINT_LEN], v[VRF_POINT_LEN], c[VRF_SCALAR_LEN];
	const uint8_t *gamma;
	if (pk == NULL || proof == NULL || ret_beta == NULL || (alpha == NULL && alpha_len > 0))
		return SM_EINVAL;
	gamma = proof + VRF_GAMMA_OFF;
	/* ECVRF_validate_key, which the spec recommends always doing */
	if (!point_is_valid(pk))
		return SM_EINVAL;
	if (!proof_is_well_formed(proof))
		return SM_EPARSE;
	encode_to_curve(h, pk, alpha, alpha_len);
	if (verify_uv(pk, h, proof, u, v) < 0)
		return SM_ECRYPTO;
	challenge_generation(c, (const uint8_t *const[5]){pk, h, gamma, u, v});
	if (sodium_memcmp(c, proof + VRF_C_OFF, VRF_C_LEN) != 0)
		return SM_ECRYPTO;
	gamma_to_hash(gamma, ret_beta);
	return 0;
}

int vrf_proof_to_hash(const uint8_t proof[VRF_PROOF_LEN], uint8_t ret_beta[VRF_OUTPUT_LEN])
{
	if (proof == NULL || ret_beta == NULL)
		return SM_EINVAL;
	if (!proof_is_well_formed(proof))
		return SM_EPARSE;
	gamma_to_hash(proof + VRF_GAMMA_OFF, ret_beta);
	return 0;
}
