/* sealmail revoke ADDRESS [--reason WHY] [--text TEXT] [--replace]
 * [--wait SECONDS]: revokes the user's key served for address and
 * publishes the revocation as the next version of their entry, signed by
 * the key itself while it is still valid. With --replace a new key is
 * made and served next to the revoked one (reason "superseded" unless
 * told otherwise); without, the address has no usable key until the
 * administrator's reset (unless the user's other devices have theirs).
 * Senders then refuse the revoked key. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "entry.h"
#include "pgp_lifecycle.h"
#include "wkd.h"

struct revoke_opts {
	enum pgp_revocation why;
	int why_given;
	const char *text;
	int replace;
	unsigned wait;
};

static int revoke_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail revoke ADDRESS [--reason "
			      "compromised|superseded|retired|none] [--text TEXT] [--replace] "
			      "[--wait SECONDS]\n");
	return EX_USAGE;
}

/* The revoked certificate of key, made in a scratch copy so that c->ctx
 * keeps the valid key that signs the change. */
static int revoked_cert(struct cli *c, const struct pgp_fpr *key, const struct revoke_opts *o,
			struct buf *out)
{
	pgp_ctx *scratch = NULL;
	struct buf secret;
	int st = EX_SOFTWARE;
	buf_init(&secret, 1u << 20);
	if (pgp_ctx_new(&scratch) == 0 && pgp_export_secret(c->ctx, key, false, &secret) == 0 &&
	    pgp_import(scratch, secret.data, secret.len, PGP_IMPORT_ANY, NULL) == 0 &&
	    pgp_revoke(scratch, key, o->why, o->text) == 0 &&
	    pgp_export_public(scratch, key, false, out) == 0)
		st = 0;
	else
		cli_error("cannot revoke %s", key->hex);
	pgp_ctx_free(scratch);
	buf_free(&secret);
	return st;
}

/* What is served now with key revoked, and the new key's certificate
 * when there is one; the user's other devices stay. */
static int revoke_bundle(struct cli *c, const char *address, const struct entry_now *now,
			 const struct pgp_fpr *key, const struct pgp_fpr *new,
			 const struct revoke_opts *o, struct buf *revoked, struct buf *out)
{
	struct buf add;
	buf_init(&add, 2u << 20);
	int st = revoked_cert(c, key, o, revoked);
	if (st == 0 && buf_append(&add, revoked->data, revoked->len) < 0)
		st = EX_SOFTWARE;
	if (st == 0 && new != NULL && pgp_export_public(c->ctx, new, false, &add) < 0)
		st = EX_SOFTWARE;
	if (st == 0)
		st = entry_bundle_edit(&now->bundle, NULL, &add, address, out);
	buf_free(&add);
	return st;
}

/* After the directory took it: the revocation goes into our key store. */
static int keep_revocation(struct cli *c, const struct buf *revoked)
{
	if (pgp_import(c->ctx, revoked->data, revoked->len, PGP_IMPORT_PUBLIC, NULL) < 0) {
		cli_error("the revocation is published but could not be added to your key store");
		return EX_SOFTWARE;
	}
	return cli_save(c);
}

static int revoke(struct cli *c, const char *address, const struct revoke_opts *o)
{
	struct entry_now now;
	struct pgp_fpr key, new;
	struct buf bundle, revoked;
	buf_init(&bundle, 2u << 20);
	buf_init(&revoked, 1u << 20);
	int st = entry_owned(c, address, &now, &key);
	if (st == 0 && o->replace && (pgp_keygen(c->ctx, address, &new) < 0 || cli_save(c) != 0)) {
		cli_error("cannot make the replacement key");
		st = EX_SOFTWARE;
	}
	if (st == 0)
		st = revoke_bundle(c, address, &now, &key, o->replace ? &new : NULL, o, &revoked,
				   &bundle);
	struct entry_change ch = {address, NULL, &bundle, &key, o->wait, "revoked"};
	if (st == 0)
		st = entry_submit(c, &now, &ch);
	if (st != 0 && o->replace && pgp_remove(c->ctx, &new) == 0)
		(void)cli_save(c);
	if (st == 0)
		st = keep_revocation(c, &revoked);
	if (st == 0) {
		printf("%s is revoked for %s%s%s\n", key.hex, address,
		       o->replace ? "; its replacement is " : "", o->replace ? new.hex : "");
		st = entry_wait(c, &ch, now.counter + 1);
	}
	entry_free(&now);
	buf_free(&bundle);
	buf_free(&revoked);
	return st;
}

static int revoke_options(int argc, char **argv, struct revoke_opts *o)
{
	static const struct option opts[] = {{"reason", required_argument, NULL, 'r'},
					     {"text", required_argument, NULL, 't'},
					     {"replace", no_argument, NULL, 'R'},
					     {"wait", required_argument, NULL, 'w'},
					     {0, 0, 0, 0}};
	long wait = ENTRY_WAIT_DEFAULT;
	int c;
	optind = 1;
	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r' && pgp_revocation_parse(optarg, &o->why) == 0)
			o->why_given = 1;
		else if (c == 't' && strlen(optarg) < PGP_REASON_MAX)
			o->text = optarg;
		else if (c == 'R')
			o->replace = 1;
		else if (c != 'w' || (wait = cli_parse_wait(optarg)) < 0)
			return -1;
	}
	if (!o->why_given)
		o->why = o->replace ? PGP_REVOKE_SUPERSEDED : PGP_REVOKE_NONE;
	o->wait = (unsigned)wait;
	return optind == argc - 1 ? 0 : -1;
}

int cmd_revoke(int argc, char **argv)
{
	struct revoke_opts o;
	struct wkd_address a;
	if (revoke_options(argc, argv, &o) < 0)
		return revoke_usage();
	const char *address = argv[optind];
	if (wkd_address_parse(address, &a) < 0) {
		cli_error("'%s' is not an email address", address);
		return EX_USAGE;
	}
	struct cli c = {.ctx = NULL};
	int st = cli_open(&c);
	if (st == 0)
		st = revoke(&c, address, &o);
	cli_close(&c);
	return st;
}
