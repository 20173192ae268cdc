/* sealmail keygen ADDRESS: create the user's own key pair. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wkd.h"

int cmd_keygen(int argc, char **argv)
{
	struct wkd_address a;
	struct pgp_fpr fpr;
	struct cli c;
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(cli_stderr(), "usage: sealmail keygen ADDRESS\n");
		return EX_USAGE;
	}
	if (wkd_address_parse(argv[1], &a) < 0) {
		cli_error("'%s' is not an email address (expected local@domain)", argv[1]);
		return EX_USAGE;
	}
	int st = cli_open(&c);
	if (st != 0)
		goto done;
	if (pgp_find_by_address(c.ctx, argv[1], true, &fpr) == 0) {
		cli_error("you already have a key for %s (fingerprint %s)", argv[1], fpr.hex);
		st = EX_CANTCREAT;
		goto done;
	}
	if (pgp_keygen(c.ctx, argv[1], &fpr) < 0) {
		cli_error("key generation failed");
		st = EX_SOFTWARE;
		goto done;
	}
	st = cli_save(&c);
	if (st == 0)
		printf("created key for %s\nfingerprint %s\n", argv[1], fpr.hex);
done:
	cli_close(&c);
	return st;
}
