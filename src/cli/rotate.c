/* sealmail rotate ADDRESS [--wait SECONDS]: a new key for address,
 * published as the next version of the user's entry and signed by the key
 * served now, so correspondents see the change authorized by the key they
 * had. Only this device's key is replaced: the keys of the user's other
 * devices stay served. The old secret key stays in the key store: older
 * mail still reads. */
#include <stdio.h>
#include <unistd.h>

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
	struct buf bundle, add;
	buf_init(&bundle, 1u << 20);
	buf_init(&add, 1u << 20);
	int st = entry_owned(c, address, &now, &old);
	if (st == 0 && pgp_keygen(c->ctx, address, &new) < 0) {
		cli_error("key generation failed");
		st = EX_SOFTWARE;
	}
	/* the new secret key is on disk before anyone can encrypt to it */
	if (st == 0 && (st = cli_save(c)) == 0) {
		struct entry_change ch = {address, NULL, &bundle, &old, wait, "rotated"};
		st = pgp_export_public(c->ctx, &new, false, &add) < 0 ? EX_SOFTWARE : 0;
		if (st == 0)
			st = entry_bundle_edit(&now.bundle, &old, &add, address, &bundle);
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
	buf_free(&add);
	return st;
}

int cmd_rotate(int argc, char **argv)
{
	struct wkd_address a;
	long wait = cli_wait_option(argc, argv, ENTRY_WAIT_DEFAULT);
	if (wait < 0 || optind != argc - 1)
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
