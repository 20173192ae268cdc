#include <inttypes.h>

#include <sodium.h>

#include "check.h"
#include "kt.h"
#include "tlog.h"

static void canonical_address(void)
{
	char out[KT_ADDRESS_MAX];
	memset(out, 'x', sizeof(out));
	CHECK_INT(kt_canonical_address("Alice.Smith@Example.ORG", out), 0);
	CHECK_STR(out, "alice.smith@example.org");
	CHECK_INT(kt_canonical_address("bob@example.org", out), 0);
	CHECK_STR(out, "bob@example.org");
	/* the local part is lowercased in ASCII only, as WKD hashes it */
	CHECK_INT(kt_canonical_address("J\xc3\x96RG@Example.org", out), 0);
	CHECK_STR(out, "j\xc3\x96rg@example.org");
	/* split at the last '@' is not allowed to smuggle one in the local part */
	memset(out, 'x', sizeof(out));
	CHECK_INT(kt_canonical_address("a@b@example.org", out), SM_EINVAL);
	CHECK_INT(kt_canonical_address("", out), SM_EINVAL);
	CHECK_INT(kt_canonical_address("@example.org", out), SM_EINVAL);
	CHECK_INT(kt_canonical_address("alice@", out), SM_EINVAL);
	CHECK_INT(kt_canonical_address("alice example@example.org", out), SM_EINVAL);
	CHECK_INT(kt_canonical_address("alice@exa_mple.org", out), SM_EINVAL);
	CHECK_INT(kt_canonical_address(NULL, out), SM_EINVAL);
	CHECK(out[0] == 'x'); /* untouched on failure */
	/* the longest local part and domain fit */
	char longest[KT_ADDRESS_MAX + 8];
	memset(longest, 'a', WKD_LOCAL_MAX);
	longest[WKD_LOCAL_MAX] = '@';
	size_t o = WKD_LOCAL_MAX + 1;
	for (int i = 0; i < 4; i++) {
		memset(longest + o, 'b', 62);
		o += 62;
		longest[o++] = '.';
	}
	longest[o++] = 'c';
	longest[o] = 0;
	CHECK_INT(kt_canonical_address(longest, out), 0);
	CHECK_INT(strlen(out), KT_ADDRESS_MAX - 1);
}

static void index_and_digest(void)
{
	uint8_t beta[VRF_OUTPUT_LEN], idx[PTREE_IDX_LEN], d[KT_DIGEST_LEN], want[32];
	for (size_t i = 0; i < sizeof(beta); i++)
		beta[i] = (uint8_t)i;
	kt_index(beta, idx);
	CHECK(memcmp(idx, beta, PTREE_IDX_LEN) == 0);
	kt_key_digest((const uint8_t *)"abc", 3, d);
	CHECK_INT(sodium_hex2bin(want, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
				 64, NULL, NULL, NULL), 0);
	CHECK(memcmp(d, want, 32) == 0);
}

/* The commitment recomputed by hand from kt.h's definition. */
static void commitment_known_answer(void)
{
	uint8_t opening[KT_OPENING_LEN], digest[KT_DIGEST_LEN], got[32], want[32];
	uint8_t msg[256];
	const char *label = "sealmail-kt/v1 commitment\n", *addr = "alice@example.org";
	size_t n = 0, al = strlen(addr);
	for (size_t i = 0; i < 32; i++) {
		opening[i] = (uint8_t)(0x40 + i);
		digest[i] = (uint8_t)(0xc0 ^ i);
	}
	memcpy(msg, label, strlen(label));
	n += strlen(label);
	memcpy(msg + n, opening, 32);
	n += 32;
	msg[n++] = 0;
	msg[n++] = (uint8_t)al;
	memcpy(msg + n, addr, al);
	n += al;
	memcpy(msg + n, digest, 32);
	n += 32;
	crypto_hash_sha256(want, msg, n);
	CHECK_INT(kt_commitment(opening, addr, digest, got), 0);
	CHECK(memcmp(got, want, 32) == 0);
	/* a fixed value, so the definition cannot drift unnoticed */
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), got, 32);
	CHECK_STR(hex, "b575523efefb36752b47925511e6dc46fdcd91b8799dfda72b751e61ba51314a");
	/* another opening, another commitment */
	opening[0] ^= 1;
	CHECK_INT(kt_commitment(opening, addr, digest, got), 0);
	CHECK(memcmp(got, want, 32) != 0);
	/* only canonical addresses */
	memset(got, 0xa5, sizeof(got));
	CHECK_INT(kt_commitment(opening, "Alice@example.org", digest, got), SM_EINVAL);
	CHECK_INT(kt_commitment(opening, "alice@EXAMPLE.org", digest, got), SM_EINVAL);
	CHECK_INT(kt_commitment(opening, "nope", digest, got), SM_EINVAL);
	CHECK(got[0] == 0xa5 && got[31] == 0xa5);
}

static void origin(void)
{
	struct buf b;
	buf_init(&b, 1024);
	CHECK_INT(kt_origin("Example.ORG", &b), 0);
	CHECK_STR((char *)b.data, "example.org/sealmail-kt");
	buf_reset(&b);
	CHECK_INT(kt_origin("", &b), SM_EINVAL);
	CHECK_INT(kt_origin("a@b.org", &b), SM_EINVAL);
	CHECK_INT(kt_origin("b.org/x", &b), SM_EINVAL);
	CHECK_INT(kt_origin("-b.org", &b), SM_EINVAL);
	CHECK_INT(kt_origin(NULL, &b), SM_EINVAL);
	char big[WKD_DOMAIN_MAX + 3];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CHECK_INT(kt_origin(big, &b), SM_EINVAL);
	CHECK_INT(b.len, 0);
	buf_free(&b);
}

static struct kt_entry entry_example(void)
{
	struct kt_entry e;
	e.epoch = 7;
	e.time = 1700000000;
	for (size_t i = 0; i < 32; i++) {
		e.map_root[i] = (uint8_t)i;
		e.delta_hash[i] = (uint8_t)(0xff - i);
	}
	return e;
}

#define ENTRY_TEXT                                                   \
	"sealmail-epoch/v1\nepoch 7\ntime 1700000000\n"               \
	"map AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"          \
	"delta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n"

static void entry_round_trip(void)
{
	struct kt_entry e = entry_example(), back;
	struct buf b;
	uint8_t h[32], want[32];
	buf_init(&b, 4096);
	CHECK_INT(kt_entry_format(&e, &b), 0);
	CHECK_STR((char *)b.data, ENTRY_TEXT);
	memset(&back, 0, sizeof(back));
	CHECK_INT(kt_entry_parse(b.data, b.len, &back), 0);
	CHECK(memcmp(&back, &e, sizeof(e)) == 0);
	CHECK_INT(kt_entry_leaf_hash(&e, h), 0);
	tlog_leaf_hash(b.data, b.len, want);
	CHECK(memcmp(h, want, 32) == 0);
	/* the largest numbers */
	e.epoch = UINT64_MAX;
	e.time = UINT64_MAX;
	buf_reset(&b);
	CHECK_INT(kt_entry_format(&e, &b), 0);
	CHECK_INT(kt_entry_parse(b.data, b.len, &back), 0);
	CHECK(back.epoch == UINT64_MAX && back.time == UINT64_MAX);
	buf_free(&b);
}

static void entry_rejects(void)
{
	static const char *const bad[] = {
		"",
		"sealmail-epoch/v2\nepoch 7\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n",
		"sealmail-epoch/v1\nepoch 07\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n",
		"sealmail-epoch/v1\nepoch 18446744073709551616\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n",
		"sealmail-epoch/v1\nepoch -7\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n",
		"sealmail-epoch/v1\nepoch 7\ntime  1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n",
		"sealmail-epoch/v1\ntime 1700000000\nepoch 7\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n",
		"sealmail-epoch/v1\nepoch 7\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n",
		"sealmail-epoch/v1\nepoch 7\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n",
		"sealmail-epoch/v1\nepoch 7\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n",
		"sealmail-epoch/v1\nepoch 7\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=",
		"sealmail-epoch/v1\nepoch 7\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n\n",
		"sealmail-epoch/v1\nepoch 7\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\nextra 1\n",
		"sealmail-epoch/v1\nepoch 7\ntime 1700000000\nmap AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\ndelta //79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eA=\n",
	};
	struct kt_entry e = entry_example(), got;
	memset(&got, 0x5a, sizeof(got));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = kt_entry_parse((const uint8_t *)bad[i], strlen(bad[i]), &got);
		if (r != SM_EPARSE)
			printf("# bad entry %zu accepted (%d)\n", i, r);
		CHECK_INT(r, SM_EPARSE);
	}
	CHECK(got.epoch == 0x5a5a5a5a5a5a5a5aull);
	uint8_t big[KT_ENTRY_MAX + 1];
	memset(big, 'a', sizeof(big));
	CHECK_INT(kt_entry_parse(big, sizeof(big), &got), SM_ETOOBIG);
	(void)e;
}

static struct kt_map_line map_example(void)
{
	struct kt_map_line m;
	m.epoch = 41;
	for (size_t i = 0; i < 32; i++) {
		m.map_root[i] = (uint8_t)(3 * i);
		m.vrf_pk[i] = (uint8_t)(5 * i + 1);
	}
	return m;
}

static void map_line_and_checkpoint(void)
{
	struct kt_map_line m = map_example(), back;
	struct note_checkpoint cp;
	uint8_t root[32];
	struct buf b, line;
	buf_init(&b, 4096);
	buf_init(&line, 4096);
	memset(root, 0x11, sizeof(root));
	CHECK_INT(kt_map_line_format(&m, &line), 0);
	CHECK(line.len > 13 && memcmp(line.data, "sealmail-map 41 ", 16) == 0);
	CHECK_INT(kt_checkpoint_body("Example.org", 42, root, &m, &b), 0);
	CHECK_INT(note_checkpoint_parse(b.data, b.len, &cp), 0);
	CHECK(cp.origin_len == strlen("example.org/sealmail-kt") &&
	      memcmp(cp.origin, "example.org/sealmail-kt", cp.origin_len) == 0);
	CHECK_INT(cp.size, 42);
	CHECK(memcmp(cp.root, root, 32) == 0);
	CHECK(cp.ext_len == line.len && memcmp(cp.ext, line.data, line.len) == 0);
	memset(&back, 0, sizeof(back));
	CHECK_INT(kt_map_line_parse(&cp, &back), 0);
	CHECK(memcmp(&back, &m, sizeof(m)) == 0);
	/* epoch must be size - 1 */
	cp.size = 43;
	CHECK_INT(kt_map_line_parse(&cp, &back), SM_EPARSE);
	cp.size = 42;
	/* exactly one line */
	struct buf two;
	buf_init(&two, 4096);
	CHECK_INT(buf_append(&two, line.data, line.len), 0);
	CHECK_INT(buf_append(&two, line.data, line.len), 0);
	cp.ext = (const char *)two.data;
	cp.ext_len = two.len;
	CHECK_INT(kt_map_line_parse(&cp, &back), SM_EPARSE);
	cp.ext = NULL;
	cp.ext_len = 0;
	CHECK_INT(kt_map_line_parse(&cp, &back), SM_EPARSE);
	static const char *const bad[] = {
		"sealmail-map 41 AAMGCQwPEhUYGx4hJCcqLTAzNjk8P0JFSEtOUVRXWl0=\n",
		"sealmail-map 041 AAMGCQwPEhUYGx4hJCcqLTAzNjk8P0JFSEtOUVRXWl0= AQYLEBUaHyQpLjM4PUJHTFFWW2Blam90eX6DiI2Sl5w=\n",
		"sealmail-map  41 AAMGCQwPEhUYGx4hJCcqLTAzNjk8P0JFSEtOUVRXWl0= AQYLEBUaHyQpLjM4PUJHTFFWW2Blam90eX6DiI2Sl5w=\n",
		"sealmail-map 41 AAMGCQwPEhUYGx4hJCcqLTAzNjk8P0JFSEtOUVRXWl0= AQYLEBUaHyQpLjM4PUJHTFFWW2Blam90eX6DiI2Sl5w= x\n",
		"sealmail-maps 41 AAMGCQwPEhUYGx4hJCcqLTAzNjk8P0JFSEtOUVRXWl0= AQYLEBUaHyQpLjM4PUJHTFFWW2Blam90eX6DiI2Sl5w=\n",
		"sealmail-map 41 AAMGCQwPEhUYGx4hJCcqLTAzNjk8P0JFSEtOUVRXWl0= AQYLEBUaHyQpLjM4PUJHTFFWW2Blam90eX6DiI2Sl5w=",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cp.ext = bad[i];
		cp.ext_len = strlen(bad[i]);
		CHECK_INT(kt_map_line_parse(&cp, &back), SM_EPARSE);
	}
	/* and the good spelling of the same fields parses */
	cp.ext = (const char *)line.data;
	cp.ext_len = line.len;
	CHECK_INT(kt_map_line_parse(&cp, &back), 0);
	/* the body refuses a map line that does not name the last epoch */
	buf_reset(&b);
	CHECK_INT(kt_checkpoint_body("example.org", 41, root, &m, &b), SM_EINVAL);
	CHECK_INT(kt_checkpoint_body("example.org", 0, root, &m, &b), SM_EINVAL);
	CHECK_INT(kt_checkpoint_body("exa mple.org", 42, root, &m, &b), SM_EINVAL);
	CHECK_INT(b.len, 0);
	buf_free(&b);
	buf_free(&line);
	buf_free(&two);
}

static void map_line_text(void)
{
	struct kt_map_line m = map_example();
	struct buf b;
	buf_init(&b, 4096);
	CHECK_INT(kt_map_line_format(&m, &b), 0);
	CHECK_STR((char *)b.data, "sealmail-map 41 AAMGCQwPEhUYGx4hJCcqLTAzNjk8P0JFSEtOUVRXWl0= "
				  "AQYLEBUaHyQpLjM4PUJHTFFWW2Blam90eX6DiI2Sl5w=\n");
	buf_free(&b);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(canonical_address);
	RUN(index_and_digest);
	RUN(commitment_known_answer);
	RUN(origin);
	RUN(entry_round_trip);
	RUN(entry_rejects);
	RUN(map_line_and_checkpoint);
	RUN(map_line_text);
	return check_done();
}
