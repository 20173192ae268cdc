/* sealmail seal: encrypt and sign the RFC 5322 message on standard input
 * for every recipient in To, Cc and Bcc; the PGP/MIME result goes to
 * standard output, and nothing is written unless everything succeeded. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "letter.h"
#include "pgp_lifecycle.h"
#include "pins.h"

/* Why address has no usable key: the key we pinned (or else the newest we
 * have) is revoked or expired, or we have none. */
static void why_missing(struct cli *c, const char *address)
{
	struct pins pins;
	struct pgp_fpr f;
	struct pgp_key_state ks;
	size_t n = 0;
	const struct pgp_fpr *key = NULL;
	if (pins_load(c->home, &pins) == 0) {
		if (pins_get(&pins, address) != NULL) {
			f = pins_get(&pins, address)->fpr[0];
			key = &f;
		}
		pins_free(&pins);
	}
	if (key == NULL && pgp_keys_for_address(c->ctx, address, &f, 1, &n) == 0 && n > 0)
		key = &f;
	if (key != NULL && pgp_key_state(c->ctx, key, &ks) == 0 && ks.revoked)
		fprintf(cli_stderr(), "  %s: its key %s is revoked (%s)\n", address, key->hex,
			ks.reason[0] ? ks.reason : "no reason given");
	else if (key != NULL && pgp_key_state(c->ctx, key, &ks) == 0 && ks.expired)
		fprintf(cli_stderr(), "  %s: its key %s has expired\n", address, key->hex);
	else
		fprintf(cli_stderr(), "  %s: no certificate\n", address);
}

static int report_missing(struct cli *c, int r, const struct buf *missing)
{
	const char *list = missing->data ? (const char *)missing->data : "";
	if (r == SM_ENOSECRET) {
		cli_error("no secret key for the sender %.*s in %s; create one with: sealmail keygen "
			  "ADDRESS", (int)strcspn(list, "\n"), list, c->home);
		return EX_NOUSER;
	}
	cli_error("no usable key for these recipients; nothing was sealed:");
	for (const char *p = list; *p != 0;) {
		char address[512];
		size_t n = strcspn(p, "\n");
		snprintf(address, sizeof(address), "%.*s", (int)n, p);
		why_missing(c, address);
		p += n + (p[n] == '\n');
	}
	fprintf(cli_stderr(), "look each one up again (sealmail lookup ADDRESS) or import their "
			      "certificate (sealmail import FILE)\n");
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
	int r = st == 0 ? cli_letter_seal(&c, &in, &out, &missing) : 0;
	if (r == SM_ENOSECRET || r == SM_ENOTFOUND)
		st = report_missing(&c, r, &missing);
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
