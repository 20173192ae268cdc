/* fuzz_kt_proof: kt_proof_parse() and kt_proof_verify() on a lookup proof
 * from a hostile domain.
 *
 * The input is the proof text. The client trusts three witnesses with the
 * deterministic keys of tests/unit/test_kt_proof.c (seeds 0x21, 0x22, 0x23
 * repeated; quorum 2), which made the seeds in fuzz/corpus/kt_proof, so
 * mutations reach every check. Checked besides memory safety:
 *   - parse returns 0, SM_EPARSE or SM_ETOOBIG, and leaves its output
 *     untouched on failure;
 *   - what parses formats back to exactly the input (one spelling);
 *   - verify returns 0 exactly when the reason is KT_OK, leaves its result
 *     untouched on failure, and a verified proof verifies again from the
 *     state it leaves, is a rollback from a later state and fails with the
 *     same reason for another address. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz.h"
#include "kt_proof.h"

#define FUZZ_FILL 0xa5
#define NWIT 3

static struct kt_trust trust;
static struct kt_proof *proof;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || (proof = malloc(sizeof(*proof))) == NULL)
		abort();
	for (size_t i = 0; i < NWIT; i++) {
		uint8_t seed[32], pk[32], sk[64];
		char name[32];
		memset(seed, 0x21 + (int)i, sizeof(seed));
		crypto_sign_ed25519_seed_keypair(pk, sk, seed);
		snprintf(name, sizeof(name), "witness%zu.test", i + 1);
		if (note_verifier_new(name, NOTE_KEY_COSIG_V1, pk, &trust.witness[i]) < 0)
			abort();
		sodium_memzero(sk, sizeof(sk));
	}
	trust.nwitness = NWIT;
	trust.quorum = 2;
	return 0;
}

static int all_fill(const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++)
		if (b[i] != FUZZ_FILL)
			return 0;
	return 1;
}

static enum kt_why verify(const struct kt_state *last, const char *address, struct kt_result *res)
{
	enum kt_why why = (enum kt_why)-1;
	memset(res, FUZZ_FILL, sizeof(*res));
	int r = kt_proof_verify(proof, address, &trust, last, res, &why);
	fuzz_check(r == 0 || r == SM_ECRYPTO || r == SM_EPARSE || r == SM_EINVAL, "verify result");
	fuzz_check((r == 0) == (why == KT_OK), "result and reason agree");
	fuzz_check(why <= KT_WHY_AUTHORIZATION && kt_why_text(why) != NULL, "reason in range");
	if (r != 0)
		fuzz_check(all_fill(res, sizeof(*res)), "result touched on failure");
	return why;
}

static void round_trip(const uint8_t *data, size_t size)
{
	struct buf b;
	buf_init(&b, KT_PROOF_MAX);
	int r = kt_proof_format(proof, &b);
	fuzz_check(r == 0, "a parsed proof formats");
	fuzz_check(b.len == size && memcmp(b.data, data, size) == 0, "format(parse(x)) == x");
	buf_free(&b);
}

/* A verified proof, seen again from what it taught the client. */
static void after_success(const struct kt_result *res)
{
	struct kt_state later = res->new_state, earlier = res->new_state;
	struct kt_result again;
	char other[KT_ADDRESS_MAX + 1];
	fuzz_check(res->found == proof->found, "result kind");
	fuzz_check(res->found != KT_PRESENT || (res->key == proof->key && res->key_len == proof->key_len),
		   "result key is the proof's");
	fuzz_check(verify(&res->new_state, proof->address, &again) == KT_OK, "same checkpoint again");
	later.size++;
	fuzz_check(verify(&later, proof->address, &again) == KT_WHY_ROLLBACK, "rollback");
	if (earlier.size > 1) {
		earlier.size--;
		memset(earlier.root, 0x42, sizeof(earlier.root));
		fuzz_check(verify(&earlier, proof->address, &again) == KT_WHY_CONSISTENCY,
			   "consistency with a made-up root");
	}
	snprintf(other, sizeof(other), "x%s", proof->address);
	enum kt_why w = verify(NULL, other, &again);
	fuzz_check(w == KT_WHY_ADDRESS, "another address");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_result res;
	memset(proof, FUZZ_FILL, offsetof(struct kt_proof, key_buf));
	int r = kt_proof_parse(data, size, proof);
	fuzz_check(r == 0 || r == SM_EPARSE || r == SM_ETOOBIG, "parse result");
	if (r != 0) {
		fuzz_check(all_fill(proof, offsetof(struct kt_proof, key_buf)), "parse output touched");
		return 0;
	}
	round_trip(data, size);
	if (verify(NULL, proof->address, &res) == KT_OK)
		after_success(&res);
	return 0;
}
