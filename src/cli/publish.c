/* sealmail publish ADDRESS --token TOKEN [--wait SECONDS]: the first
 * publication of the user's key in their domain's key directory
 * (sealmaild), with the one-time token the domain's administrator gave
 * them (also after an administrator's reset), then wait until the
 * domain's transparency log proves it is served. Later changes need no
 * token: rotate, revoke and renew sign them with the key served now. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "entry.h"
#include "wkd.h"

static int publish_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail publish ADDRESS --token TOKEN [--wait SECONDS]\n");
	return EX_USAGE;
}

static int publish(struct cli *c, const char *address, const char *token, unsigned wait)
{
	struct entry_now now;
	struct pgp_fpr fpr;
	struct buf bundle, mine, none;
	if (pgp_find_by_address(c->ctx, address, true, &fpr) < 0) {
		cli_error("you have no key for %s; create one with: sealmail keygen %s", address,
			  address);
		return EX_NOUSER;
	}
	buf_init(&bundle, 1u << 20);
	buf_init(&mine, 1u << 20);
	buf_init(&none, 1);
	int st = entry_lookup(c, address, &now);
	if (st == 0 && pgp_export_public(c->ctx, &fpr, false, &mine) < 0)
		st = EX_SOFTWARE;
	if (st == 0) /* a token publication starts the entry anew: this key alone */
		st = entry_bundle_edit(&none, NULL, &mine, address, &bundle);
	if (st == 0 && now.counter > 0)
		printf("%s has version %llu already: publishing with a token replaces it (a reset)\n",
		       address, (unsigned long long)now.counter);
	struct entry_change ch = {address, token, &bundle, &fpr, wait, "published"};
	if (st == 0)
		st = entry_submit(c, &now, &ch);
	if (st == 0)
		st = entry_wait(c, &ch, now.counter + 1);
	entry_free(&now);
	buf_free(&bundle);
	buf_free(&mine);
	return st;
}

int cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {{"token", required_argument, NULL, 't'},
					     {"wait", required_argument, NULL, 'w'},
					     {0, 0, 0, 0}};
	const char *token = NULL;
	struct wkd_address a;
	long wait = ENTRY_WAIT_DEFAULT;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 't')
			token = optarg;
		else if (o != 'w' || (wait = cli_parse_wait(optarg)) < 0)
			return publish_usage();
	}
	if (optind != argc - 1 || token == NULL || token[0] == 0)
		return publish_usage();
	const char *address = argv[optind];
	if (wkd_address_parse(address, &a) < 0) {
		cli_error("'%s' is not an email address", address);
		return EX_USAGE;
	}
	struct cli c = {.ctx = NULL};
	int st = cli_open(&c);
	if (st == 0)
		st = publish(&c, address, token, (unsigned)wait);
	cli_close(&c);
	return st;
}
