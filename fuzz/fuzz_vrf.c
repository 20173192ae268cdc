/* fuzz_vrf: vrf_verify() on an untrusted public key, proof and input.
 *
 * The input is pk (32 bytes) || proof (80 bytes) || alpha (the rest, maybe
 * empty); shorter inputs are skipped. alpha is the tail of the input, so a
 * read past its end is a read past the fuzzer's buffer. Checked besides
 * memory safety:
 *   - the result is 0, SM_EINVAL, SM_EPARSE or SM_ECRYPTO;
 *   - on failure the output is untouched;
 *   - on success vrf_proof_to_hash() of the proof gives the same output,
 *     and the pk and Gamma have their top bit clear (libsodium 1.0.18
 *     would decode them anyway; accepting them would make proofs
 *     malleable). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "vrf.h"

#define FUZZ_FILL 0xa5

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int fuzz_all_fill(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != FUZZ_FILL)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t beta[VRF_OUTPUT_LEN], again[VRF_OUTPUT_LEN];
	const uint8_t *pk = data, *proof = data + VRF_PK_LEN, *alpha;
	if (size < VRF_PK_LEN + VRF_PROOF_LEN)
		return 0;
	alpha = proof + VRF_PROOF_LEN;
	memset(beta, FUZZ_FILL, sizeof(beta));
	int r = vrf_verify(pk, alpha, size - VRF_PK_LEN - VRF_PROOF_LEN, proof, beta);
	fuzz_check(r == 0 || r == SM_EINVAL || r == SM_EPARSE || r == SM_ECRYPTO, "result code");
	if (r != 0) {
		fuzz_check(fuzz_all_fill(beta, sizeof(beta)), "output touched on failure");
		return 0;
	}
	fuzz_check((pk[VRF_PK_LEN - 1] & 0x80) == 0 && (proof[31] & 0x80) == 0,
		   "encoding with bit 255 set accepted");
	fuzz_check(vrf_proof_to_hash(proof, again) == 0, "proof_to_hash of a valid proof");
	fuzz_check(memcmp(beta, again, sizeof(beta)) == 0, "proof_to_hash differs from verify");
	return 0;
}
