/* bench_letter: letters per second through letter_seal() and letter_read(),
 * in process, for a 1 KB and a 50 KB body.
 *
 * Lea (lea@rebels.test) writes to Luke (luke@jedi.test); both keys are
 * generated here with pgp_keygen() and each party gets its own key store
 * holding its secret key and the other's certificate. Every read must come
 * back LETTER_VERIFIED, signed by Lea's key, with the body unchanged, or
 * the program exits non-zero: the smoke test relies on that. It prints
 * figures and checks no timing threshold.
 *
 * usage: bench_letter [--iterations N | --seconds S]
 *        bench_letter --dump-letter SIZE   (the letter used, to stdout) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "letter.h"

#define LEA "lea@rebels.test"
#define LUKE "luke@jedi.test"
#define BENCH_LINE 64 /* body line length, CRLF included */
#define BENCH_DEFAULT_SECONDS 2

struct party {
	pgp_ctx *ctx;
	struct pgp_fpr fpr;
};

struct bench_opts {
	unsigned long iterations; /* 0: run each case for seconds */
	unsigned long seconds;
};

struct bench_row {
	unsigned long n;
	double elapsed;
};

static const size_t bench_sizes[] = {1024, 50 * 1024};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, int r)
{
	fprintf(stderr, "bench_letter: %s%s%s\n", what, r < 0 ? ": " : "",
		r < 0 ? sm_strerror(r) : "");
	return -1;
}

/* Parses a positive decimal count; rejects signs, junk and overflow. */
static int parse_count(const char *s, unsigned long *ret)
{
	char *end;
	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != 0 || v == 0)
		return -1;
	*ret = v;
	return 0;
}

/* ---- the letter ------------------------------------------------------ */

/* Appends size bytes of 7-bit text in CRLF lines, none starting with
 * "From " or "-", so no transfer encoding or quoting will touch it. */
static int body_build(size_t size, struct buf *out)
{
	static const char words[] = "Help me, Obi-Wan Kenobi, you are my only hope. ";
	size_t line = 0;
	while (size > 0) {
		size_t want = size < BENCH_LINE ? size : BENCH_LINE;
		char text[BENCH_LINE + 1];
		int k = snprintf(text, sizeof(text), "%06zu ", line++);
		if (k < 0)
			return SM_EINVAL;
		for (size_t i = (size_t)k; i < sizeof(text) - 1; i++)
			text[i] = words[(i + line) % (sizeof(words) - 1)];
		if (want >= 2) {
			text[want - 2] = '\r';
			text[want - 1] = '\n';
		}
		int r = buf_append(out, text, want);
		if (r < 0)
			return r;
		size -= want;
	}
	return 0;
}

static int letter_build(size_t body_size, struct buf *out)
{
	int r = buf_appendf(out,
			    "From: Lea <" LEA ">\r\n"
			    "To: Luke <" LUKE ">\r\n"
			    "Subject: Benchmark letter, %zu byte body\r\n"
			    "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n"
			    "Message-ID: <bench-%zu@rebels.test>\r\n"
			    "MIME-Version: 1.0\r\n"
			    "Content-Type: text/plain; charset=us-ascii\r\n"
			    "Content-Transfer-Encoding: 7bit\r\n"
			    "\r\n",
			    body_size, body_size);
	return r < 0 ? r : body_build(body_size, out);
}

/* Where the body starts: after the first empty line. */
static const uint8_t *body_of(const struct buf *msg, size_t *ret_len)
{
	for (size_t i = 0; i + 4 <= msg->len; i++) {
		if (memcmp(msg->data + i, "\r\n\r\n", 4) == 0) {
			*ret_len = msg->len - i - 4;
			return msg->data + i + 4;
		}
	}
	return NULL;
}

/* ---- the parties ----------------------------------------------------- */

static int party_new(struct party *p, const char *address)
{
	p->ctx = NULL;
	int r = pgp_ctx_new(&p->ctx);
	if (r == 0)
		r = pgp_keygen(p->ctx, address, &p->fpr);
	return r;
}

/* Gives to the certificate of from, as a correspondent would import it. */
static int party_give_cert(const struct party *from, struct party *to)
{
	struct buf cert;
	buf_init(&cert, 1u << 20);
	int r = pgp_export_public(from->ctx, &from->fpr, false, &cert);
	if (r == 0)
		r = pgp_import(to->ctx, cert.data, cert.len, PGP_IMPORT_PUBLIC, NULL);
	buf_free(&cert);
	return r;
}

static int parties_new(struct party *lea, struct party *luke)
{
	int r = party_new(lea, LEA);
	if (r == 0)
		r = party_new(luke, LUKE);
	if (r == 0)
		r = party_give_cert(lea, luke);
	if (r == 0)
		r = party_give_cert(luke, lea);
	return r;
}

/* ---- one seal, one checked read --------------------------------------- */

static int seal_once(const struct party *lea, const struct buf *letter, struct buf *sealed)
{
	struct buf missing;
	buf_init(&missing, 1u << 16);
	buf_reset(sealed);
	int r = letter_seal(lea->ctx, NULL, letter->data, letter->len, sealed, &missing);
	buf_free(&missing);
	return r;
}

/* Reads sealed as Luke and checks the verdict, the signer and the body. */
static int read_checked(const struct party *luke, const struct pgp_fpr *lea_fpr,
			const struct buf *sealed, const struct buf *letter, struct buf *shown)
{
	struct letter_result res;
	size_t want_len = 0, got_len = 0;
	buf_reset(shown);
	int r = letter_read(luke->ctx, sealed->data, sealed->len, &res, shown);
	if (r < 0)
		return fail("letter_read", r);
	if (res.verdict != LETTER_VERIFIED) {
		fprintf(stderr, "bench_letter: verdict: %s\n", letter_verdict_str(res.verdict));
		return -1;
	}
	if (strcmp(res.from, LEA) != 0 || strcmp(res.signer.hex, lea_fpr->hex) != 0)
		return fail("verified, but not as Lea's letter", 0);
	const uint8_t *want = body_of(letter, &want_len);
	const uint8_t *got = body_of(shown, &got_len);
	if (want == NULL || got == NULL || got_len != want_len || memcmp(got, want, want_len) != 0)
		return fail("the body read differs from the body sealed", 0);
	return 0;
}

/* ---- timing ---------------------------------------------------------- */

static int bench_done(const struct bench_opts *o, const struct bench_row *row, double t0)
{
	if (o->iterations > 0)
		return row->n >= o->iterations;
	return now() - t0 >= (double)o->seconds;
}

/* Times letter_seal(); the last letter sealed is then read back and checked. */
static int bench_seal(const struct party *lea, const struct party *luke,
		      const struct bench_opts *o, const struct buf *letter, struct bench_row *row)
{
	struct buf sealed, shown;
	buf_init(&sealed, 2 * (size_t)LETTER_MAX);
	buf_init(&shown, LETTER_MAX);
	int r = seal_once(lea, letter, &sealed); /* warm-up, untimed */
	double t0 = now();
	for (row->n = 0; r == 0 && !bench_done(o, row, t0); row->n++)
		r = seal_once(lea, letter, &sealed);
	row->elapsed = now() - t0;
	if (r < 0)
		r = fail("letter_seal", r);
	else
		r = read_checked(luke, &lea->fpr, &sealed, letter, &shown);
	buf_free(&sealed);
	buf_free(&shown);
	return r;
}

/* Times letter_read() of one sealed letter, checking every result. */
static int bench_read(const struct party *lea, const struct party *luke,
		      const struct bench_opts *o, const struct buf *letter, struct bench_row *row)
{
	struct buf sealed, shown;
	buf_init(&sealed, 2 * (size_t)LETTER_MAX);
	buf_init(&shown, LETTER_MAX);
	int r = seal_once(lea, letter, &sealed);
	if (r < 0)
		r = fail("letter_seal", r);
	if (r == 0)
		r = read_checked(luke, &lea->fpr, &sealed, letter, &shown); /* warm-up */
	double t0 = now();
	for (row->n = 0; r == 0 && !bench_done(o, row, t0); row->n++)
		r = read_checked(luke, &lea->fpr, &sealed, letter, &shown);
	row->elapsed = now() - t0;
	buf_free(&sealed);
	buf_free(&shown);
	return r;
}

typedef int (*bench_fn)(const struct party *, const struct party *, const struct bench_opts *,
			const struct buf *, struct bench_row *);

static const struct {
	const char *op;
	bench_fn run;
} bench_ops[] = {
	{"seal", bench_seal},
	{"read", bench_read},
};

static void row_print(const char *op, size_t size, const struct bench_row *row)
{
	double rate = row->elapsed > 0 ? (double)row->n / row->elapsed : 0;
	printf("%-6s %5zuKB %10lu %9.3f %10.1f %9.3f\n", op, size / 1024, row->n, row->elapsed,
	       rate, row->n ? 1e3 * row->elapsed / (double)row->n : 0);
}

static int bench_all(const struct party *lea, const struct party *luke, const struct bench_opts *o)
{
	printf("%-6s %7s %10s %9s %10s %9s\n", "op", "body", "messages", "seconds", "msgs/s",
	       "ms/msg");
	for (size_t i = 0; i < sizeof(bench_ops) / sizeof(bench_ops[0]); i++) {
		for (size_t j = 0; j < sizeof(bench_sizes) / sizeof(bench_sizes[0]); j++) {
			struct buf letter;
			struct bench_row row = {0, 0};
			buf_init(&letter, LETTER_MAX);
			int r = letter_build(bench_sizes[j], &letter);
			if (r == 0)
				r = bench_ops[i].run(lea, luke, o, &letter, &row);
			buf_free(&letter);
			if (r < 0)
				return fail(bench_ops[i].op, r);
			row_print(bench_ops[i].op, bench_sizes[j], &row);
			fflush(stdout);
		}
	}
	return 0;
}

/* ---- main ------------------------------------------------------------ */

static int usage(void)
{
	fprintf(stderr, "usage: bench_letter [--iterations N | --seconds S]\n"
			"       bench_letter --dump-letter SIZE\n");
	return 2;
}

static int dump_letter(const char *size_arg)
{
	unsigned long size;
	struct buf letter;
	if (parse_count(size_arg, &size) < 0 || size > LETTER_MAX / 2)
		return usage();
	buf_init(&letter, LETTER_MAX);
	int r = letter_build(size, &letter);
	if (r == 0 && fwrite(letter.data, 1, letter.len, stdout) != letter.len)
		r = SM_EIO;
	buf_free(&letter);
	if (r == 0 && fflush(stdout) != 0)
		r = SM_EIO;
	if (r < 0) {
		fail("--dump-letter", r);
		return 1;
	}
	return 0;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	o->iterations = 0;
	o->seconds = BENCH_DEFAULT_SECONDS;
	if (argc == 1)
		return 0;
	if (argc != 3)
		return -1;
	if (strcmp(argv[1], "--iterations") == 0)
		return parse_count(argv[2], &o->iterations);
	if (strcmp(argv[1], "--seconds") == 0)
		return parse_count(argv[2], &o->seconds);
	return -1;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct party lea = {NULL, {{0}}}, luke = {NULL, {{0}}};
	if (argc == 3 && strcmp(argv[1], "--dump-letter") == 0)
		return dump_letter(argv[2]);
	if (parse_opts(argc, argv, &o) < 0)
		return usage();
	mime_global_init();
	int r = parties_new(&lea, &luke);
	if (r < 0)
		fail("generating the keys of Lea and Luke", r);
	else
		r = bench_all(&lea, &luke, &o);
	pgp_ctx_free(lea.ctx);
	pgp_ctx_free(luke.ctx);
	return r < 0 ? 1 : 0;
}
