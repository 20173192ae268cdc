/* vrf.h: the ristretto255 verifiable random function of c2sp.org/vrf-r255
 * (ECVRF-RISTRETTO255-SHA512, the RFC 9381 ECVRF construction on
 * ristretto255), which turns an address into a transparency-map index that
 * only the domain can compute and anyone can check.
 *
 * A secret key is the scalar x itself (32 bytes, little-endian, reduced,
 * non-zero); the public key is the encoding of x*B. A proof is
 * Gamma(32) || c(16) || s(32); its output ("beta", the map index source) is
 * 64 bytes.
 *
 * Every function works on caller-provided memory only and allocates
 * nothing; pointers are borrowed for the duration of the call. Output
 * parameters (ret_*) are left untouched on failure. Secret intermediates
 * (the nonce, its hash, c*x) live on the stack and are wiped on every path.
 * Nothing here is thread-unsafe: there is no state. */
#ifndef SEALMAIL_VRF_H
#define SEALMAIL_VRF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define VRF_PK_LEN 32
#define VRF_SK_LEN 32
#define VRF_PROOF_LEN 80
#define VRF_OUTPUT_LEN 64

/* A fresh key pair from the system CSPRNG. The caller keeps sk in
 * sodium_malloc'ed memory and wipes it. SM_ECRYPTO if libsodium cannot
 * be initialised. */
int vrf_keypair(uint8_t ret_pk[VRF_PK_LEN], uint8_t ret_sk[VRF_SK_LEN]) SM_WUR;

/* The public key of sk. SM_EINVAL if sk is zero or not reduced mod q. */
int vrf_public_key(const uint8_t sk[VRF_SK_LEN], uint8_t ret_pk[VRF_PK_LEN]) SM_WUR;

/* The proof for alpha (alpha may be NULL when alpha_len is 0). Deterministic:
 * the same sk and alpha always give the same proof. SM_EINVAL as for
 * vrf_public_key; SM_ECRYPTO if alpha hashes to the identity (probability
 * about 2^-252). */
int vrf_prove(const uint8_t sk[VRF_SK_LEN], const uint8_t *alpha, size_t alpha_len,
	      uint8_t ret_proof[VRF_PROOF_LEN]) SM_WUR;

/* 0 only if proof is valid for pk and alpha; then ret_beta holds the VRF
 * output. SM_EINVAL for a pk that is not a canonical, non-identity
 * encoding; SM_EPARSE for a proof whose Gamma is not a canonical,
 * non-identity encoding or whose s is not reduced; SM_ECRYPTO for a
 * well-formed proof that does not verify. All inputs may be hostile. */
int vrf_verify(const uint8_t pk[VRF_PK_LEN], const uint8_t *alpha, size_t alpha_len,
	       const uint8_t proof[VRF_PROOF_LEN], uint8_t ret_beta[VRF_OUTPUT_LEN]) SM_WUR;

/* The VRF output of a proof without checking it (SM_EPARSE if it is not
 * well-formed, as in vrf_verify). Only for proofs this process made with
 * vrf_prove or already checked with vrf_verify: an unchecked proof's
 * output means nothing. */
int vrf_proof_to_hash(const uint8_t proof[VRF_PROOF_LEN], uint8_t ret_beta[VRF_OUTPUT_LEN]) SM_WUR;

#endif
