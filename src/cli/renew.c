/* sealmail renew ADDRESS [--days N] [--wait SECONDS]: moves the expiry of
 * the user's key served for address to N days from now (default 730) and
 * publishes the renewed certificate as the next version of their entry,
 * signed by the key itself. Renew before the key expires: an expired key
 * can no longer authorize a change (then only the administrator's reset
 * helps). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "entry.h"
#include "pgp_lifecycle.h"
#include "wkd.h"

#define DAYS_DEFAULT 730
#define DAYS_MAX 3650

static int renew_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail renew ADDRESS [--days N] [--wait SECONDS]\n");
	return EX_USAGE;
}

static int renew(struct cli *c, const char *address, unsigned days, unsigned wait)
{
	struct entry_now now;
	struct pgp_fpr key;
	struct buf bundle, mine;
	buf_init(&bundle, 1u << 20);
	buf_init(&mine, 1u << 20);
	int st = entry_owned(c, address, &now, &key);
	if (st == 0 && pgp_renew(c->ctx, &key, days * 86400u) < 0) {
		cli_error("cannot renew %s (an expired key cannot sign its renewal)", key.hex);
		st = EX_SOFTWARE;
	}
	if (st == 0 && pgp_export_public(c->ctx, &key, false, &mine) < 0)
		st = EX_SOFTWARE;
	if (st == 0) /* merged in: the other keys served (devices, a revoked predecessor) stay */
		st = entry_bundle_edit(&now.bundle, NULL, &mine, address, &bundle);
	struct entry_change ch = {address, NULL, &bundle, &key, wait, "renewed"};
	if (st == 0)
		st = entry_submit(c, &now, &ch);
	/* kept only once the directory took it */
	if (st == 0)
		st = cli_save(c);
	if (st == 0) {
		printf("%s now expires in %u days\n", key.hex, days);
		st = entry_wait(c, &ch, now.counter + 1);
	}
	entry_free(&now);
	buf_free(&bundle);
	buf_free(&mine);
	return st;
}

int cmd_renew(int argc, char **argv)
{
	static const struct option opts[] = {{"days", required_argument, NULL, 'd'},
					     {"wait", required_argument, NULL, 'w'},
					     {0, 0, 0, 0}};
	struct wkd_address a;
	long wait = ENTRY_WAIT_DEFAULT;
	unsigned long days = DAYS_DEFAULT;
	char *end;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'd') {
			days = strtoul(optarg, &end, 10);
			if (*optarg == 0 || *end != 0 || days == 0 || days > DAYS_MAX)
				return renew_usage();
		} else if (o != 'w' || (wait = cli_parse_wait(optarg)) < 0) {
			return renew_usage();
		}
	}
	if (optind != argc - 1)
		return renew_usage();
	if (wkd_address_parse(argv[optind], &a) < 0) {
		cli_error("'%s' is not an email address", argv[optind]);
		return EX_USAGE;
	}
	struct cli c = {.ctx = NULL};
	int st = cli_open(&c);
	if (st == 0)
		st = renew(&c, argv[optind], (unsigned)days, (unsigned)wait);
	cli_close(&c);
	return st;
}
