#include <sodium.h>

#include "check.h"
#include "kt_trust.h"

static char vkeys[3][NOTE_VKEY_MAX + 1];
static char log_vkey[NOTE_VKEY_MAX + 1];

/* A fresh verifier key string of type for name. */
static void make_vkey(const char *name, uint8_t type, char out[NOTE_VKEY_MAX + 1])
{
	uint8_t pk[32], sk[64];
	struct note_verifier v;
	struct buf b;
	crypto_sign_keypair(pk, sk);
	buf_init(&b, NOTE_VKEY_MAX + 1);
	CHECK_INT(note_verifier_new(name, type, pk, &v), 0);
	CHECK_INT(note_verifier_format(&v, &b), 0);
	CHECK(b.len <= NOTE_VKEY_MAX);
	memcpy(out, b.data, b.len);
	out[b.len] = 0;
	buf_free(&b);
}

static int parse(const char *text, struct kt_trust_file *f, char *err, size_t n)
{
	return kt_trust_parse(text, strlen(text), f, err, n);
}

static void accepts_witnesses_and_quorum(void)
{
	static struct kt_trust_file f;
	char text[2048], err[256];
	snprintf(text, sizeof(text),
		 "# my witnesses\n\nwitness %s http://127.0.0.1:7380\nwitness %s\n  witness\t%s https://w3.example/x\nquorum 2\n",
		 vkeys[0], vkeys[1], vkeys[2]);
	CHECK_INT(parse(text, &f, err, sizeof(err)), 0);
	CHECK_INT(f.trust.nwitness, 3);
	CHECK_INT(f.trust.quorum, 2);
	CHECK_STR(f.url[0], "http://127.0.0.1:7380");
	CHECK_STR(f.url[1], "");
	CHECK_STR(f.url[2], "https://w3.example/x");
	CHECK_STR(f.trust.witness[1].name, "w2");
	CHECK_INT(f.trust.witness[0].type, NOTE_KEY_COSIG_V1);
}

static void quorum_defaults_to_all(void)
{
	static struct kt_trust_file f;
	char text[2048], err[256];
	snprintf(text, sizeof(text), "witness %s\nwitness %s\n", vkeys[0], vkeys[1]);
	CHECK_INT(parse(text, &f, err, sizeof(err)), 0);
	CHECK_INT(f.trust.quorum, 2);
	CHECK_INT(parse("", &f, err, sizeof(err)), 0);
	CHECK_INT(f.trust.nwitness, 0);
	CHECK_INT(f.trust.quorum, 0);
	CHECK_INT(parse("quorum 0\n", &f, err, sizeof(err)), 0);
}

/* Each bad file is refused with the line that is wrong. The cases are
 * format strings filled with the same keys. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void refuses_bad_files(void)
{
	static struct kt_trust_file f;
	char text[4096], err[256];
	struct {
		const char *fmt;
		const char *want;
	} bad[] = {
		{"witness %s\nwitness %s\n", "line 2: witness 'w1' is listed twice"},
		{"witness %s ftp://x\n", "line 1: 'ftp://x' is not an http:// or https:// URL"},
		{"witness %s\nquorum 2\n", "line 2: quorum 2 is more than the 1 witnesses listed"},
		{"witness %s\nquorum 01\n", "line 2: 'quorum' needs a number"},
		{"witness %s\nquorum 1\nquorum 1\n", "line 3: 'quorum' is already set on line 2"},
		{"witness %s a b\n", "line 1: expected 'witness VKEY [URL]' or 'quorum N'"},
		{"witnesses %s\n", "line 1: expected"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), bad[i].fmt, vkeys[0], vkeys[0]);
		CHECK_INT(parse(text, &f, err, sizeof(err)), SM_EPARSE);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)) != 0)
			printf("# case %zu: got \"%s\"\n", i, err);
		CHECK(strncmp(err, bad[i].want, strlen(bad[i].want)) == 0);
	}
	/* a log key (type 0x01) is not a witness key */
	snprintf(text, sizeof(text), "witness %s\n", log_vkey);
	CHECK_INT(parse(text, &f, err, sizeof(err)), SM_EPARSE);
	CHECK(strstr(err, "not a witness (cosignature/v1) key") != NULL);
	CHECK_INT(parse("witness x\r\n", &f, err, sizeof(err)), SM_EPARSE);
	CHECK_INT(parse("quorum 1\0\n", &f, err, sizeof(err)), SM_EPARSE); /* quorum over 0 witnesses */
}

static void refuses_too_many_and_too_long(void)
{
	static struct kt_trust_file f;
	static char text[64 * 1024];
	char name[16], vk[NOTE_VKEY_MAX + 1], err[256];
	size_t off = 0;
	for (int i = 0; i <= KT_WITNESS_MAX; i++) {
		snprintf(name, sizeof(name), "x%d", i);
		make_vkey(name, NOTE_KEY_COSIG_V1, vk);
		off += (size_t)snprintf(text + off, sizeof(text) - off, "witness %s\n", vk);
	}
	CHECK_INT(parse(text, &f, err, sizeof(err)), SM_EPARSE);
	CHECK(strstr(err, "more than 16 witnesses") != NULL);
	memset(text, 'a', 2000);
	text[2000] = 0;
	CHECK_INT(parse(text, &f, err, sizeof(err)), SM_EPARSE);
	CHECK(strstr(err, "line 1: line longer than") != NULL);
	CHECK_INT(kt_trust_parse(text, KT_TRUST_FILE_MAX + 1, &f, err, sizeof(err)), SM_EPARSE);
}

int main(void)
{
	if (sodium_init() < 0)
		return 2;
	make_vkey("w1", NOTE_KEY_COSIG_V1, vkeys[0]);
	make_vkey("w2", NOTE_KEY_COSIG_V1, vkeys[1]);
	make_vkey("w3", NOTE_KEY_COSIG_V1, vkeys[2]);
	make_vkey("log", NOTE_KEY_ED25519, log_vkey);
	RUN(accepts_witnesses_and_quorum);
	RUN(quorum_defaults_to_all);
	RUN(refuses_bad_files);
	RUN(refuses_too_many_and_too_long);
	return check_done();
}
