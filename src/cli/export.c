/* sealmail export [--binary] ADDRESS: print the certificate for ADDRESS,
 * reduced to the user ID for that address (what a key directory serves). */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

static int export_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail export [--binary] ADDRESS\n");
	return EX_USAGE;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {{"binary", no_argument, NULL, 'b'}, {0, 0, 0, 0}};
	bool armored = true;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "b", opts, NULL)) != -1) {
		if (o != 'b')
			return export_usage();
		armored = false;
	}
	if (optind != argc - 1)
		return export_usage();
	if (!armored && isatty(STDOUT_FILENO)) {
		cli_error("refusing to write binary data to a terminal; redirect the output");
		return EX_USAGE;
	}
	const char *address = argv[optind];
	struct cli c;
	struct pgp_fpr fpr;
	struct buf out;
	buf_init(&out, 64u << 20);
	int st = cli_open(&c);
	if (st == 0 && pgp_find_by_address(c.ctx, address, false, &fpr) < 0) {
		cli_error("no usable key for %s in %s", address, c.home);
		st = EX_NOUSER;
	}
	if (st == 0 && pgp_export_for_address(c.ctx, &fpr, address, armored, &out) < 0) {
		cli_error("cannot export the certificate for %s", address);
		st = EX_SOFTWARE;
	}
	if (st == 0)
		st = cli_write_stdout(out.data, out.len);
	buf_free(&out);
	cli_close(&c);
	return st;
}
