/* sealmail import [FILE]: add a correspondent's public certificate. */
#include <stdio.h>

#include "cli.h"

#define IMPORT_MAX (16u << 20)

int cmd_import(int argc, char **argv)
{
	if (argc > 2 || (argc == 2 && argv[1][0] == '-' && argv[1][1] != 0)) {
		fprintf(cli_stderr(), "usage: sealmail import [FILE]\n");
		return EX_USAGE;
	}
	const char *path = argc == 2 ? argv[1] : NULL;
	const char *name = path ? path : "standard input";
	struct cli c;
	struct pgp_fpr fpr;
	struct buf in;
	buf_init(&in, IMPORT_MAX);
	int st = cli_read_input(path, &in);
	if (st == 0)
		st = cli_open(&c);
	else
		c.ctx = NULL;
	int r = st == 0 ? pgp_import(c.ctx, in.data, in.len, PGP_IMPORT_PUBLIC, &fpr) : 0;
	if (r == SM_ESECRET) {
		cli_error("%s holds secret key material; import only your correspondents' public "
			  "certificates", name);
		st = EX_DATAERR;
	} else if (r < 0) {
		cli_error("%s holds no usable OpenPGP certificate (%s)", name, sm_strerror(r));
		st = EX_DATAERR;
	}
	if (st == 0)
		st = cli_save(&c);
	if (st == 0)
		printf("imported certificate %s\n", fpr.hex);
	buf_free(&in);
	cli_close(&c);
	return st;
}
