/* sealmail seal: encrypt and sign the RFC 5322 message on standard input
 * for every recipient in To, Cc and Bcc; the PGP/MIME result goes to
 * standard output, and nothing is written unless everything succeeded. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "letter.h"

static int report_missing(int r, const struct buf *missing, const char *home)
{
	const char *list = missing->data ? (const char *)missing->data : "";
	if (r == SM_ENOSECRET) {
		cli_error("no secret key for the sender %.*s in %s; create one with: sealmail keygen "
			  "ADDRESS", (int)strcspn(list, "\n"), list, home);
		return EX_NOUSER;
	}
	cli_error("no certificate for these recipients; nothing was sealed:");
	fputs(list, cli_stderr());
	fprintf(cli_stderr(), "import each one's certificate with: sealmail import FILE\n");
	return EX_NOUSER;
}

int cmd_seal(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(cli_stderr(), "usage: sealmail %s < message > sealed-message\n", argv[0]);
		return EX_USAGE;
	}
	struct cli c;
	struct buf in, out, missing;
	buf_init(&in, LETTER_MAX);
	buf_init(&out, 2 * LETTER_MAX);
	buf_init(&missing, 1u << 20);
	int st = cli_read_input(NULL, &in);
	c.ctx = NULL;
	if (st == 0)
		st = cli_open(&c);
	int r = st == 0 ? letter_seal(c.ctx, in.data, in.len, &out, &missing) : 0;
	if (r == SM_ENOSECRET || r == SM_ENOTFOUND)
		st = report_missing(r, &missing, c.home);
	else if (r == SM_EINVAL || r == SM_EPARSE) {
		cli_error("the input is not a usable message: it needs one From address and at "
			  "least one recipient in To, Cc or Bcc (%s)", sm_strerror(r));
		st = EX_DATAERR;
	} else if (r < 0) {
		cli_error("sealing failed: %s", sm_strerror(r));
		st = r == SM_ETOOBIG ? EX_DATAERR : EX_SOFTWARE;
	}
	if (st == 0)
		st = cli_write_stdout(out.data, out.len);
	buf_free(&in);
	buf_free(&out);
	buf_free(&missing);
	cli_close(&c);
	return st;
}
