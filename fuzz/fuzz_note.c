/* fuzz_note: note_verify() and note_checkpoint_parse() on an untrusted note.
 *
 * The input is a whole signed note, verified against three fixed keys: the
 * c2sp.org/signed-note example key, a log key (0x01) and a witness key
 * (0x04) whose secrets this harness holds, so seeds signed with them reach
 * the signature checks. Checked besides memory safety:
 *   - note_verify() returns 0 or one of its documented errors, and leaves
 *     its outputs untouched on failure; on success at least one key
 *     verified, the text is a prefix ending in "\n" followed by the blank
 *     line, and a 0x01 key reports no timestamp;
 *   - whatever parses as a checkpoint body (the verified text, or the whole
 *     input) formats back to exactly the same bytes, and a fresh log
 *     signature plus witness cosignature over it verifies, with the time;
 *   - a first line that parses as a vkey formats back to itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "fuzz.h"
#include "note.h"

#define FUZZ_VEC_VKEY "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
#define FUZZ_TIME 1679315147u

/* Fixed for the whole process once LLVMFuzzerInitialize has run. */
static struct note_verifier fuzz_keys[3];
static struct note_signer *fuzz_log, *fuzz_witness;

/* The seeds are the byte tag repeated; fuzz/corpus/note was signed with them. */
static struct note_signer *fuzz_signer(const char *name, uint8_t type, uint8_t tag)
{
	uint8_t seed[32], pk[32], sk[64];
	struct note_signer *s = NULL;
	memset(seed, tag, sizeof(seed));
	fuzz_check(crypto_sign_ed25519_seed_keypair(pk, sk, seed) == 0, "keypair");
	fuzz_check(note_signer_new(name, type, sk, &s) == 0, "signer");
	sodium_memzero(sk, sizeof(sk));
	return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_check(sodium_init() >= 0, "sodium_init");
	fuzz_log = fuzz_signer("log.example/fuzz", NOTE_KEY_ED25519, 0x11);
	fuzz_witness = fuzz_signer("witness.example/fuzz", NOTE_KEY_COSIG_V1, 0x22);
	fuzz_check(note_verifier_parse(FUZZ_VEC_VKEY, &fuzz_keys[0]) == 0, "vector vkey");
	fuzz_check(note_signer_verifier(fuzz_log, &fuzz_keys[1]) == 0, "log vkey");
	fuzz_check(note_signer_verifier(fuzz_witness, &fuzz_keys[2]) == 0, "witness vkey");
	return 0;
}

/* Signs and cosigns body afresh; both signatures must verify. */
static void fuzz_resign(const uint8_t *body, size_t len)
{
	struct note_sig_status st[3];
	struct buf n;
	size_t tl = 0;
	buf_init(&n, 2 * NOTE_MAX_SIZE);
	fuzz_check(note_sign(fuzz_log, body, len, 0, &n) == 0, "sign a checkpoint");
	int r = note_sign_line(fuzz_witness, body, len, FUZZ_TIME, &n);
	fuzz_check(r == 0 || (r == SM_ETOOBIG && len > NOTE_COSIG_BODY_MAX), "cosign a checkpoint");
	fuzz_check(note_verify(n.data, n.len, fuzz_keys, 3, st, &tl) == 0, "own signatures verify");
	fuzz_check(tl == len && st[1].verified && st[1].timestamp == 0, "log signature");
	fuzz_check(r != 0 || (st[2].verified && st[2].timestamp == FUZZ_TIME), "cosignature");
	buf_free(&n);
}

/* A checkpoint body must format back to exactly its own bytes. */
static void fuzz_checkpoint(const uint8_t *body, size_t len)
{
	struct note_checkpoint cp;
	struct buf b;
	if (note_checkpoint_parse(body, len, &cp) != 0)
		return;
	fuzz_check(cp.origin_len > 0 && (cp.ext == NULL) == (cp.ext_len == 0), "checkpoint fields");
	buf_init(&b, NOTE_MAX_SIZE + 1);
	fuzz_check(note_checkpoint_format(&cp, &b) == 0, "format a parsed checkpoint");
	fuzz_check(b.len == len && memcmp(b.data, body, len) == 0, "checkpoint round trip");
	buf_free(&b);
	fuzz_resign(body, len);
}

static void fuzz_verify(const uint8_t *data, size_t size)
{
	struct note_sig_status st[3] = {{9, 9}, {9, 9}, {9, 9}};
	size_t tl = 7;
	int r = note_verify(data, size, fuzz_keys, 3, st, &tl);
	if (r != 0) {
		fuzz_check(r == SM_EPARSE || r == SM_ETOOBIG || r == SM_ECRYPTO || r == SM_ENOTFOUND,
			   "verify error code");
		fuzz_check(tl == 7 && st[0].verified == 9 && st[2].timestamp == 9, "outputs untouched");
		return;
	}
	fuzz_check(st[0].verified + st[1].verified + st[2].verified >= 1, "someone signed");
	fuzz_check(st[0].timestamp == 0 && st[1].timestamp == 0, "0x01 keys have no time");
	fuzz_check(tl >= 1 && tl + 2 < size && data[tl - 1] == '\n' && data[tl] == '\n', "text split");
	fuzz_checkpoint(data, tl);
}

/* The first line as a vkey. */
static void fuzz_vkey(const uint8_t *data, size_t size)
{
	char s[NOTE_VKEY_MAX + 2];
	struct note_verifier v;
	struct buf b;
	size_t n = 0;
	while (n < size && n < sizeof(s) - 1 && data[n] != '\n' && data[n] != 0)
		n++;
	memcpy(s, data, n);
	s[n] = 0;
	if (note_verifier_parse(s, &v) != 0)
		return;
	buf_init(&b, 1024);
	fuzz_check(note_verifier_format(&v, &b) == 0, "format a vkey");
	/* the key ID may come back in lower case */
	fuzz_check(b.len == n && strncasecmp((char *)b.data, s, n) == 0, "vkey round trip");
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_verify(data, size);
	fuzz_checkpoint(data, size);
	fuzz_vkey(data, size);
	return 0;
}
