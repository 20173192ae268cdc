/* sealmail rotate ADDRESS [--wait SECONDS]: a new key for address,
 * published as the next version of the user's entry and signed by the key
 * served now, so correspondents see the change authorized by the key they
 * had. The old secret key stays in the key store: older mail still reads. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "entry.h"
#include "pgp_lifecycle.h"
#include "wkd.h"

static int rotate_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail rotate ADDRESS [--wait SECONDS]\n");
	return EX_USAGE;
}

/* A key made but refused by the directory goes away again, so that the
 * key store's newest key stays the one served. */
static void discard(struct cli *c, const struct pgp_fpr *fpr)
{
	if (pgp_remove(c->ctx, fpr) < 0 || cli_save(c) != 0)
		cli_error("could not remove the unpublished key %s from your key store", fpr->hex);
	else
		cli_error("the new key %s was not published and is removed again", fpr->hex);
}

static int rotate(struct cli *c, const char *address, unsigned wait)
{
	struct entry_now now;
	struct pgp_fpr old, new;
	struct buf bundle;
	buf_init(&bundle, 1u << 20);
	int st = entry_owned(c, address, &now, &old);
	if (st == 0 && pgp_keygen(c->ctx, address, &new) < 0) {
		cli_error("key generation failed");
		st = EX_SOFTWARE;
	}
	/* the new secret key is on disk before anyone can encrypt to it */
	if (st == 0 && (st = cli_save(c)) == 0) {
		struct entry_change ch = {address, NULL, &bundle, &old, wait, "rotated"};
		st = entry_bundle(c->ctx, &new, 1, address, &bundle);
		if (st == 0)
			st = entry_submit(c, &now, &ch);
		if (st != 0) {
			discard(c, &new);
		} else {
			printf("new key %s replaces %s for %s; the old key stays in your key store "
			       "for older mail\n", new.hex, old.hex, address);
			st = entry_wait(c, &ch, now.counter + 1);
		}
	}
	entry_free(&now);
	buf_free(&bundle);
	return st;
}

int cmd_rotate(int argc, char **argv)
{
	static const struct option opts[] = {{"wait", required_argument, NULL, 'w'}, {0, 0, 0, 0}};
	struct wkd_address a;
	long wait = ENTRY_WAIT_DEFAULT;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (o != 'w' || (wait = cli_parse_wait(optarg)) < 0)
			return rotate_usage();
	if (optind != argc - 1)
		return rotate_usage();
	if (wkd_address_parse(argv[optind], &a) < 0) {
		cli_error("'%s' is not an email address", argv[optind]);
		return EX_USAGE;
	}
	struct cli c = {.ctx = NULL};
	int st = cli_open(&c);
	if (st == 0)
		st = rotate(&c, argv[optind], (unsigned)wait);
	cli_close(&c);
	return st;
}
