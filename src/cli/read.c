/* sealmail read [FILE]: decrypt and verify a PGP/MIME message. The cleartext
 * goes to standard output only when it decrypted with integrity protection
 * and is either verified or plainly unsigned; the verdict goes to standard
 * error and the exit status names it (see sealmail(1)). */
#include <stdio.h>

#include "cli.h"
#include "letter.h"

/* Exit status per verdict; 0 only for a verified letter. */
static const int verdict_status[] = {
	[LETTER_VERIFIED] = 0,
	[LETTER_UNSIGNED] = 1,
	[LETTER_WRONG_SIGNER] = 2,
	[LETTER_BAD_SIGNATURE] = 3,
	[LETTER_UNKNOWN_SIGNER] = 4,
	[LETTER_NO_INTEGRITY] = 5,
	[LETTER_NOT_FOR_US] = 6,
	[LETTER_TOO_LARGE] = 7,
	[LETTER_NOT_ENCRYPTED] = 8,
	[LETTER_MALFORMED] = 9,
};

static void report_verdict(const struct letter_result *res)
{
	const char *what = letter_verdict_str(res->verdict);
	switch (res->verdict) {
	case LETTER_VERIFIED:
		cli_error("verified: signed by %s, key %s", res->from, res->signer.hex);
		break;
	case LETTER_UNSIGNED:
		cli_error("warning: %s (From says %s)", what, res->from[0] ? res->from : "nobody");
		break;
	case LETTER_WRONG_SIGNER:
		cli_error("refused: the letter says it is from %s but is signed by key %s, which "
			  "is not bound to that address; nothing was shown", res->from, res->signer.hex);
		break;
	case LETTER_UNKNOWN_SIGNER:
		cli_error("refused: signed by key %s, which is not in your key store; import the "
			  "sender's certificate and read again; nothing was shown", res->signer.hex);
		break;
	default:
		cli_error("refused: %s; nothing was shown", what);
		break;
	}
}

int cmd_read(int argc, char **argv)
{
	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1] != 0)) {
		fprintf(cli_stderr(), "usage: sealmail read [FILE]\n");
		return EX_USAGE;
	}
	struct cli c;
	struct letter_result res;
	struct buf in, out;
	buf_init(&in, LETTER_MAX);
	buf_init(&out, LETTER_MAX);
	c.ctx = NULL;
	int st = cli_read_input(argc == 2 ? argv[1] : NULL, &in);
	if (st == 0)
		st = cli_open(&c);
	if (st == 0 && letter_read(c.ctx, in.data, in.len, &res, &out) < 0) {
		cli_error("out of memory");
		st = EX_SOFTWARE;
	}
	if (st == 0)
		st = cli_write_stdout(out.data, out.len);
	if (st == 0) {
		report_verdict(&res);
		st = verdict_status[res.verdict];
	}
	buf_free(&in);
	buf_free(&out);
	cli_close(&c);
	return st;
}
