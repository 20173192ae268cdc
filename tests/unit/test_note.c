#include <inttypes.h>

#include <sodium.h>

#include "check.h"
#include "note.h"

#define VEC_VKEY "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
#define VEC_PK "e932791ae6e7a840a46164c904786426d5e7821dd8b29a00d61cae72afdd4da4"
#define VEC_TEXT "This is an example message.\n"
#define VEC_SIG "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
#define DASH "\xe2\x80\x94 "
#define VEC_NOTE VEC_TEXT "\n" DASH "example.com/foo " VEC_SIG "\n"
#define CP_BODY "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

static struct note_verifier vec_key(void)
{
	struct note_verifier v;
	memset(&v, 0, sizeof(v));
	CHECK_INT(note_verifier_parse(VEC_VKEY, &v), 0);
	return v;
}

/* A deterministic signer: the seed is the byte tag repeated. */
static struct note_signer *signer(const char *name, uint8_t type, uint8_t tag)
{
	uint8_t seed[32], pk[32], sk[64];
	struct note_signer *s = NULL;
	memset(seed, tag, sizeof(seed));
	crypto_sign_ed25519_seed_keypair(pk, sk, seed);
	CHECK_INT(note_signer_new(name, type, sk, &s), 0);
	sodium_memzero(sk, sizeof(sk));
	return s;
}

static int verify_str(const char *note, const struct note_verifier *keys, size_t n,
		      struct note_sig_status *st)
{
	size_t tl = 0;
	return note_verify((const uint8_t *)note, strlen(note), keys, n, st, &tl);
}

static void vector_vkey(void)
{
	struct note_verifier v = vec_key();
	uint8_t pk[32];
	struct buf b;
	CHECK_INT(sodium_hex2bin(pk, 32, VEC_PK, 64, NULL, NULL, NULL), 0);
	CHECK_INT(v.key_id, 0x530d903a);
	CHECK_STR(v.name, "example.com/foo");
	CHECK_INT(v.type, NOTE_KEY_ED25519);
	CHECK(memcmp(v.pk, pk, 32) == 0);
	buf_init(&b, 1024);
	CHECK_INT(note_verifier_format(&v, &b), 0);
	CHECK_STR((char *)b.data, VEC_VKEY);
	buf_free(&b);
	/* Go's reference parser accepts an upper-case key ID */
	CHECK_INT(note_verifier_parse("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", &v), 0);
}

static void vector_note(void)
{
	struct note_verifier keys[2];
	struct note_sig_status st[2];
	struct note_signer *other = signer("example.com/other", NOTE_KEY_ED25519, 7);
	size_t tl = 0;
	keys[0] = vec_key();
	CHECK_INT(note_signer_verifier(other, &keys[1]), 0);
	CHECK_INT(note_verify((const uint8_t *)VEC_NOTE, strlen(VEC_NOTE), keys, 2, st, &tl), 0);
	CHECK_INT(tl, strlen(VEC_TEXT));
	CHECK_INT(st[0].verified, 1);
	CHECK_INT(st[1].verified, 0);
	CHECK_INT(st[0].timestamp, 0);
	/* signing the vector text again needs the secret key, which the spec
	 * does not publish; the payload's key ID must still be the vkey's */
	CHECK(memcmp(VEC_SIG, "Uw2QOk", 6) == 0);
	note_signer_free(other);
}

static void append_key_b64(struct buf *b, uint8_t type, const uint8_t pk[32])
{
	uint8_t raw[33];
	char s[64];
	raw[0] = type;
	memcpy(raw + 1, pk, 32);
	sodium_bin2base64(s, sizeof(s), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	CHECK_INT(buf_append_str(b, s), 0);
}

/* A vkey for type 0x02 with a key ID computed the spec's way: well formed,
 * but not a type this module verifies. */
static void vkey_wrong_type(void)
{
	struct note_verifier v = vec_key(), out;
	uint8_t h[32], in[15 + 2 + 32];
	struct buf b;
	memcpy(in, "example.com/foo\n\x02", 17);
	memcpy(in + 17, v.pk, 32);
	crypto_hash_sha256(h, in, sizeof(in));
	buf_init(&b, 1024);
	CHECK_INT(buf_appendf(&b, "example.com/foo+%02x%02x%02x%02x+", h[0], h[1], h[2], h[3]), 0);
	append_key_b64(&b, 0x02, v.pk);
	memset(&out, 'x', sizeof(out));
	CHECK_INT(note_verifier_parse((char *)b.data, &out), SM_EPARSE);
	CHECK(out.name[0] == 'x');
	buf_free(&b);
}

static void vkey_rejects(void)
{
	static const char *bad[] = {
		"",
		"example.com/foo",
		"example.com/foo+530d903a",
		"example.com/foo+530d903a+",
		/* wrong type byte (0x02 in place of 0x01, key ID unchanged) */
		"example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		/* bad base64: missing padding bits, bad character, padding, truncated */
		"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l",
		"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2!",
		"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k=",
		"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U",
		"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k ",
		/* wrong key ID; key ID not 8 hex digits */
		"example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		"example.com/foo+530d903+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		"example.com/foo+530d903g+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		/* the name: empty, with '+', with spaces (ASCII and U+00A0), another name */
		"+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		"example.com/f+oo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		"example.com/ foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		"example.com/\xc2\xa0" "foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		"example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		"example.com/\xff+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	};
	struct note_verifier v;
	memset(&v, 'x', sizeof(v));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = note_verifier_parse(bad[i], &v);
		if (r != SM_EPARSE)
			printf("# accepted: \"%s\"\n", bad[i]);
		CHECK_INT(r, SM_EPARSE);
	}
	CHECK(v.name[0] == 'x' && v.key_id == 0x78787878); /* untouched on failure */
}

static void sign_verify_roundtrip(void)
{
	static const char text[] = "hello\n\nworld\n"; /* the note text MAY contain empty lines */
	struct note_signer *s = signer("log.example/a", NOTE_KEY_ED25519, 1), *s2 = NULL;
	struct note_verifier v, v2;
	struct note_sig_status st[1];
	struct buf n, n2, sk;
	size_t tl = 0;
	buf_init(&n, 4096);
	buf_init(&n2, 4096);
	buf_init(&sk, 4096);
	CHECK_INT(note_signer_verifier(s, &v), 0);
	CHECK_INT(note_sign(s, (const uint8_t *)text, strlen(text), 0, &n), 0);
	CHECK_INT(note_verify(n.data, n.len, &v, 1, st, &tl), 0);
	CHECK_INT(tl, strlen(text));
	CHECK_INT(st[0].verified, 1);
	/* the signer key string parses back to the same key */
	CHECK_INT(note_signer_format(s, &sk), 0);
	CHECK(strncmp((char *)sk.data, "PRIVATE+KEY+log.example/a+", 26) == 0);
	CHECK_INT(note_signer_parse((char *)sk.data, &s2), 0);
	CHECK_INT(note_signer_verifier(s2, &v2), 0);
	CHECK(memcmp(&v, &v2, sizeof(v)) == 0);
	CHECK_INT(note_sign(s2, (const uint8_t *)text, strlen(text), 0, &n2), 0);
	CHECK(n.len == n2.len && memcmp(n.data, n2.data, n.len) == 0); /* Ed25519 is deterministic */
	/* and its vkey string parses back too */
	buf_reset(&n2);
	CHECK_INT(note_verifier_format(&v, &n2), 0);
	CHECK_INT(note_verifier_parse((char *)n2.data, &v2), 0);
	CHECK(memcmp(&v, &v2, sizeof(v)) == 0);
	buf_free(&n);
	buf_free(&n2);
	buf_free(&sk);
	note_signer_free(s);
	note_signer_free(s2);
}

static void signer_rejects(void)
{
	uint8_t pk[32], sk[64];
	struct note_signer *s = NULL;
	uint8_t seed[32] = {3};
	crypto_sign_ed25519_seed_keypair(pk, sk, seed);
	CHECK_INT(note_signer_new("", NOTE_KEY_ED25519, sk, &s), SM_EINVAL);
	CHECK_INT(note_signer_new("a+b", NOTE_KEY_ED25519, sk, &s), SM_EINVAL);
	CHECK_INT(note_signer_new("a", 0x02, sk, &s), SM_EINVAL);
	sk[40] ^= 1; /* the pk half no longer matches the seed */
	CHECK_INT(note_signer_new("a", NOTE_KEY_ED25519, sk, &s), SM_EINVAL);
	CHECK(s == NULL);
	CHECK_INT(note_signer_parse("PRIVATE+KEY+example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", &s),
		  SM_EPARSE); /* the seed of another key ID */
	CHECK_INT(note_signer_parse(VEC_VKEY, &s), SM_EPARSE);
	CHECK(s == NULL);
	note_signer_free(NULL);
	/* note text must end in a newline and hold no control characters */
	s = signer("a", NOTE_KEY_ED25519, 3);
	struct buf b;
	buf_init(&b, 4096);
	CHECK_INT(note_sign(s, (const uint8_t *)"no newline", 10, 0, &b), SM_EINVAL);
	CHECK_INT(note_sign(s, (const uint8_t *)"tab\there\n", 9, 0, &b), SM_EINVAL);
	CHECK_INT(note_sign(s, (const uint8_t *)"", 0, 0, &b), SM_EINVAL);
	CHECK_INT(b.len, 0);
	buf_free(&b);
	note_signer_free(s);
}

static void cosig_message_bytes(void)
{
	struct buf b;
	buf_init(&b, 4096);
	CHECK_INT(note_cosig_message((const uint8_t *)CP_BODY, strlen(CP_BODY), 1679315147, &b), 0);
	/* the example of tlog-cosignature "Ed25519 signed message" */
	CHECK_INT(b.len, 113);
	CHECK_STR((char *)b.data, "cosignature/v1\n"
				  "time 1679315147\n"
				  "example.com/behind-the-sofa\n"
				  "20852163\n"
				  "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n");
	buf_reset(&b);
	CHECK_INT(note_cosig_message((const uint8_t *)CP_BODY, strlen(CP_BODY), 0, &b), 0);
	CHECK(strncmp((char *)b.data, "cosignature/v1\ntime 0\nexample.com/", 34) == 0);
	buf_reset(&b);
	CHECK_INT(note_cosig_message((const uint8_t *)CP_BODY, strlen(CP_BODY), (uint64_t)INT64_MAX + 1, &b),
		  SM_EINVAL);
	buf_free(&b);
}

/* The cosignature line of b (its last line), base64-decoded. */
static size_t last_payload(const struct buf *b, uint8_t *out, size_t max)
{
	const char *l = (const char *)b->data + b->len - 1;
	while (l > (const char *)b->data && l[-1] != ' ')
		l--;
	size_t n = 0;
	CHECK_INT(sodium_base642bin(out, max, l, (size_t)((const char *)b->data + b->len - 1 - l), NULL, &n,
				    NULL, sodium_base64_VARIANT_ORIGINAL),
		  0);
	return n;
}

static void cosig_roundtrip(void)
{
	struct note_signer *log = signer("example.com/behind-the-sofa", NOTE_KEY_ED25519, 1);
	struct note_signer *w = signer("witness.example/w1", NOTE_KEY_COSIG_V1, 2);
	struct note_verifier keys[2];
	struct note_sig_status st[2];
	struct buf n, msg;
	uint8_t p[100];
	size_t tl = 0;
	const uint8_t *body = (const uint8_t *)CP_BODY;
	buf_init(&n, 4096);
	buf_init(&msg, 4096);
	CHECK_INT(note_signer_verifier(log, &keys[0]), 0);
	CHECK_INT(note_signer_verifier(w, &keys[1]), 0);
	CHECK_INT(note_sign(log, body, strlen(CP_BODY), 0, &n), 0);
	CHECK_INT(note_sign_line(w, body, strlen(CP_BODY), 1679315147, &n), 0);
	CHECK_INT(note_verify(n.data, n.len, keys, 2, st, &tl), 0);
	CHECK(st[0].verified && st[1].verified);
	CHECK_INT(st[1].timestamp, 1679315147);
	/* payload = key ID (4) || timestamp (8, big-endian) || Ed25519 sig (64),
	 * the signature over exactly the cosignature/v1 message */
	CHECK_INT(last_payload(&n, p, sizeof(p)), 76);
	CHECK_INT(((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]), keys[1].key_id);
	CHECK(memcmp(p + 4, "\x00\x00\x00\x00\x64\x18\x50\xcb", 8) == 0);
	CHECK_INT(note_cosig_message(body, strlen(CP_BODY), 1679315147, &msg), 0);
	CHECK_INT(crypto_sign_ed25519_verify_detached(p + 12, msg.data, msg.len, keys[1].pk), 0);
	buf_free(&n);
	buf_free(&msg);
	note_signer_free(log);
	note_signer_free(w);
}

/* The same Ed25519 key and name as type 0x01 has another key ID: a
 * cosignature is unknown to it, and no 0x04 key verifies a plain note. */
static void cosig_type_separation(void)
{
	struct note_signer *w = signer("witness.example/w1", NOTE_KEY_COSIG_V1, 2);
	struct note_signer *w1 = signer("witness.example/w1", NOTE_KEY_ED25519, 2);
	struct note_verifier vw, vw1;
	struct note_sig_status st[1];
	struct buf n;
	size_t tl = 0;
	buf_init(&n, 4096);
	CHECK_INT(note_signer_verifier(w, &vw), 0);
	CHECK_INT(note_signer_verifier(w1, &vw1), 0);
	CHECK(vw.key_id != vw1.key_id);
	CHECK_INT(note_sign(w, (const uint8_t *)CP_BODY, strlen(CP_BODY), 5, &n), 0);
	CHECK_INT(note_verify(n.data, n.len, &vw1, 1, st, &tl), SM_ENOTFOUND);
	CHECK_INT(note_verify(n.data, n.len, &vw, 1, st, &tl), 0);
	CHECK_INT(st[0].timestamp, 5);
	/* a tampered timestamp breaks the signature: the time is signed */
	uint8_t p[100];
	CHECK_INT(last_payload(&n, p, sizeof(p)), 76);
	buf_reset(&n);
	p[11] ^= 1;
	char s[200];
	sodium_bin2base64(s, sizeof(s), p, 76, sodium_base64_VARIANT_ORIGINAL);
	CHECK_INT(buf_appendf(&n, "%s\n" DASH "witness.example/w1 %s\n", CP_BODY, s), 0);
	CHECK_INT(note_verify(n.data, n.len, &vw, 1, st, &tl), SM_ECRYPTO);
	/* a witness cosigns checkpoints only, at times below 2^63 */
	buf_reset(&n);
	CHECK_INT(note_sign_line(w, (const uint8_t *)"not a checkpoint\n", 17, 5, &n), SM_EINVAL);
	CHECK_INT(note_sign_line(w, (const uint8_t *)CP_BODY, strlen(CP_BODY), (uint64_t)INT64_MAX + 1, &n),
		  SM_EINVAL);
	buf_free(&n);
	note_signer_free(w);
	note_signer_free(w1);
}

static void note_rejects(void)
{
	static const struct {
		const char *note;
		int want;
	} bad[] = {
		{VEC_TEXT "\n", SM_EPARSE},                                         /* no signature */
		{VEC_TEXT DASH "example.com/foo " VEC_SIG "\n", SM_EPARSE},          /* no blank line */
		{VEC_TEXT "\n" DASH "example.com/foo " VEC_SIG, SM_EPARSE},          /* line without newline */
		{VEC_TEXT "\n" DASH "example.com/foo " VEC_SIG "\n\n", SM_EPARSE},   /* blank line last */
		{"", SM_EPARSE},
		{"\n\n", SM_EPARSE},
		{VEC_TEXT "\n- example.com/foo " VEC_SIG "\n", SM_EPARSE},           /* hyphen, not em dash */
		{VEC_TEXT "\n" DASH " example.com/foo " VEC_SIG "\n", SM_EPARSE},    /* empty name */
		{VEC_TEXT "\n" DASH "example.com/foo\n", SM_EPARSE},                 /* no signature */
		{VEC_TEXT "\n" DASH "example.com/foo \n", SM_EPARSE},
		{VEC_TEXT "\n" DASH "example.com/foo Uw2QOkn8!\n", SM_EPARSE},       /* bad base64 */
		{VEC_TEXT "\n" DASH "example.com/foo Uw2QOg==\n", SM_EPARSE},        /* key ID alone */
		{VEC_TEXT "\n" DASH "example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQ\xcb\xb5\n", SM_EPARSE},
		{VEC_TEXT "\n" DASH "example.com/foo " VEC_SIG " \n", SM_EPARSE},
		{VEC_TEXT "\n" DASH "a+b " VEC_SIG "\n", SM_EPARSE},                 /* '+' in name */
		{"This is\tan example message.\n\n" DASH "example.com/foo " VEC_SIG "\n", SM_EPARSE},
		{"This is \xff\n\n" DASH "example.com/foo " VEC_SIG "\n", SM_EPARSE},
		{"This is \xed\xa0\x80\n\n" DASH "example.com/foo " VEC_SIG "\n", SM_EPARSE}, /* surrogate */
		{"This is \xc0\xaf\n\n" DASH "example.com/foo " VEC_SIG "\n", SM_EPARSE},     /* overlong */
		/* bad signature bytes: the last byte of the Ed25519 signature changed */
		{VEC_TEXT "\n" DASH "example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQI=\n",
		 SM_ECRYPTO},
		/* truncated signature payload of the known key: 4 + 63 bytes */
		{VEC_TEXT "\n" DASH "example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQ==\n",
		 SM_ECRYPTO},
		/* the right signature over other text */
		{"This is an example message!\n\n" DASH "example.com/foo " VEC_SIG "\n", SM_ECRYPTO},
		/* a known key's good signature and a bad duplicate */
		{VEC_NOTE DASH "example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQI=\n",
		 SM_ECRYPTO},
		/* unknown keys only: another name, or the right name with another ID */
		{VEC_TEXT "\n" DASH "example.com/bar " VEC_SIG "\n", SM_ENOTFOUND},
		{VEC_TEXT "\n" DASH "example.com/foo AAAAAAAA\n", SM_ENOTFOUND},
	};
	struct note_verifier k = vec_key();
	struct note_sig_status st[1] = {{7, 7}};
	size_t tl = 99;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = note_verify((const uint8_t *)bad[i].note, strlen(bad[i].note), &k, 1, st, &tl);
		if (r != bad[i].want)
			printf("# case %zu: got %d\n", i, r);
		CHECK_INT(r, bad[i].want);
	}
	CHECK(st[0].verified == 7 && st[0].timestamp == 7 && tl == 99); /* untouched */
	/* a duplicate good signature counts once */
	CHECK_INT(verify_str(VEC_NOTE DASH "example.com/foo " VEC_SIG "\n", &k, 1, st), 0);
	CHECK_INT(st[0].verified, 1);
	/* an unknown signature beside the known one is ignored */
	CHECK_INT(verify_str(VEC_NOTE DASH "example.com/bar AAAAAAAA\n", &k, 1, st), 0);
}

static void note_limits(void)
{
	struct note_verifier k = vec_key();
	struct note_sig_status st[1];
	struct buf b;
	size_t tl = 0;
	buf_init(&b, 2 * NOTE_MAX_SIZE);
	CHECK_INT(buf_append_str(&b, VEC_NOTE), 0);
	for (int i = 1; i < NOTE_MAX_SIGS; i++)
		CHECK_INT(buf_append_str(&b, DASH "other.example AAAAAAAA\n"), 0);
	CHECK_INT(note_verify(b.data, b.len, &k, 1, st, &tl), 0); /* exactly 100 */
	CHECK_INT(buf_append_str(&b, DASH "other.example AAAAAAAA\n"), 0);
	CHECK_INT(note_verify(b.data, b.len, &k, 1, st, &tl), SM_ETOOBIG);
	buf_reset(&b);
	while (b.len <= NOTE_MAX_SIZE)
		CHECK_INT(buf_append_str(&b, "0123456789abcdef0123456789abcdef\n"), 0);
	CHECK_INT(buf_append_str(&b, "\n" DASH "example.com/foo " VEC_SIG "\n"), 0);
	CHECK_INT(note_verify(b.data, b.len, &k, 1, st, &tl), SM_ETOOBIG);
	CHECK_INT(note_verify((const uint8_t *)VEC_NOTE, strlen(VEC_NOTE), &k, NOTE_MAX_KEYS + 1, st, &tl),
		  SM_ETOOBIG);
	buf_free(&b);
}

static void checkpoint_parse_format(void)
{
	static const char ext[] = CP_BODY "ext one\next two\n";
	static const uint8_t root0[4] = {0x0a, 0xc5, 0x18, 0x6a};
	struct note_checkpoint cp;
	struct buf b;
	buf_init(&b, 4096);
	CHECK_INT(note_checkpoint_parse((const uint8_t *)CP_BODY, strlen(CP_BODY), &cp), 0);
	CHECK_INT(cp.origin_len, 27);
	CHECK(memcmp(cp.origin, "example.com/behind-the-sofa", 27) == 0);
	CHECK(cp.size == 20852163);
	CHECK(memcmp(cp.root, root0, 4) == 0);
	CHECK(cp.ext == NULL && cp.ext_len == 0);
	CHECK_INT(note_checkpoint_format(&cp, &b), 0);
	CHECK_STR((char *)b.data, CP_BODY);
	buf_reset(&b);
	CHECK_INT(note_checkpoint_parse((const uint8_t *)ext, strlen(ext), &cp), 0);
	CHECK_INT(cp.ext_len, 16);
	CHECK(memcmp(cp.ext, "ext one\next two\n", 16) == 0);
	CHECK_INT(note_checkpoint_format(&cp, &b), 0);
	CHECK_STR((char *)b.data, ext);
	buf_reset(&b);
	static const char zero[] = "o\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	CHECK_INT(note_checkpoint_parse((const uint8_t *)zero, strlen(zero), &cp), 0);
	CHECK(cp.size == 0);
	static const char max[] = "o\n18446744073709551615\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	CHECK_INT(note_checkpoint_parse((const uint8_t *)max, strlen(max), &cp), 0);
	CHECK(cp.size == UINT64_MAX);
	/* format refuses what would not parse back */
	cp.origin = "a\nb";
	cp.origin_len = 3;
	CHECK_INT(note_checkpoint_format(&cp, &b), SM_EINVAL);
	cp.origin_len = 0;
	CHECK_INT(note_checkpoint_format(&cp, &b), SM_EINVAL);
	cp.origin_len = 1;
	cp.ext = "no newline";
	cp.ext_len = 10;
	CHECK_INT(note_checkpoint_format(&cp, &b), SM_EINVAL);
	cp.ext = "x\n\n";
	cp.ext_len = 3;
	CHECK_INT(note_checkpoint_format(&cp, &b), SM_EINVAL);
	CHECK_INT(b.len, 0);
	buf_free(&b);
}

#define ROOT "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="

static void checkpoint_rejects(void)
{
	static const char *bad[] = {
		"o\n01\n" ROOT "\n", "o\n-1\n" ROOT "\n", "o\n1e3\n" ROOT "\n", "o\n+1\n" ROOT "\n",
		"o\n 1\n" ROOT "\n", "o\n1 \n" ROOT "\n", "o\n\n" ROOT "\n", "o\n00\n" ROOT "\n",
		"o\n18446744073709551616\n" ROOT "\n",  /* 2^64 */
		"o\n99999999999999999999\n" ROOT "\n",  /* 20 digits, overflow */
		"o\n100000000000000000000\n" ROOT "\n", /* 21 digits */
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",   /* no padding */
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2!=\n",  /* bad character */
		"o\n1\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n",  /* URL alphabet */
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n",  /* non-zero trailing bits */
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxqw==\n",  /* 31 bytes */
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2IA\n",  /* 33 bytes */
		"o\n1\n\n",
		"o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\xcb\xb5I=\n", /* libsodium reads as "//" */
		"\n1\n" ROOT "\n",                     /* empty origin */
		"o\n1\n" ROOT,                         /* last line without newline */
		"o\n1\n" ROOT "\next\n\n",             /* empty extension line */
		"o\n1\n" ROOT "\n\next\n",
		"o\n1\n" ROOT "\next",                 /* extension line without newline */
		"o\n1\n",
		"o\n",
		"",
		"o\t\n1\n" ROOT "\n",                  /* control character */
		"o\r\n1\n" ROOT "\n",
	};
	struct note_checkpoint cp;
	memset(&cp, 'x', sizeof(cp));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = note_checkpoint_parse((const uint8_t *)bad[i], strlen(bad[i]), &cp);
		if (r != SM_EPARSE)
			printf("# accepted: case %zu\n", i);
		CHECK_INT(r, SM_EPARSE);
	}
	CHECK(cp.origin_len == 0x7878787878787878u); /* untouched */
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(vector_vkey);
	RUN(vector_note);
	RUN(vkey_wrong_type);
	RUN(vkey_rejects);
	RUN(sign_verify_roundtrip);
	RUN(signer_rejects);
	RUN(cosig_message_bytes);
	RUN(cosig_roundtrip);
	RUN(cosig_type_separation);
	RUN(note_rejects);
	RUN(note_limits);
	RUN(checkpoint_parse_format);
	RUN(checkpoint_rejects);
	return check_done();
}
