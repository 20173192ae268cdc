/* sealmail lookup [--accept-new-key] ADDRESS: find a correspondent's key
 * with a lookup proof from their domain's transparency log (or, for a
 * domain without one, in its Web Key Directory), check it, pin it, and
 * keep it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "fetch.h"
#include "pins.h"
#include "transparency.h"
#include "wkd.h"

#define LOOKUP_MAX (1u << 20) /* a served key larger than this is refused */

/* Exit status for a failed fetch, after saying why. */
static int fetch_failed(const char *url, const struct fetch_result *f)
{
	static const int status[] = {
		[FETCH_NO_HOST] = EX_UNAVAILABLE, [FETCH_TLS] = EX_UNAVAILABLE,
		[FETCH_TIMEOUT] = EX_TEMPFAIL,    [FETCH_TOO_LARGE] = EX_DATAERR,
		[FETCH_ERROR] = EX_UNAVAILABLE,
	};
	if (f->outcome == FETCH_TOO_LARGE)
		cli_error("%s: the answer is larger than %u bytes", url, LOOKUP_MAX);
	else
		cli_error("%s: %s", url, f->detail);
	return status[f->outcome];
}

/* Fetches the key from the domain's directory; url gets the URL that answered. */
static int wkd_get(const struct wkd_address *a, struct buf *cert, struct buf *url)
{
	struct fetch_result f;
	struct buf direct;
	buf_init(&direct, url->max);
	if (wkd_url_advanced(a, url) < 0 || wkd_url_direct(a, &direct) < 0) {
		buf_free(&direct);
		return EX_SOFTWARE;
	}
	int which = fetch_https_directory((const char *)url->data, (const char *)direct.data, NULL, 0,
					  NULL, cert, &f);
	if (which == 1) {
		buf_reset(url);
		if (buf_append(url, direct.data, direct.len) < 0)
			which = -1;
	}
	buf_free(&direct);
	if (which < 0)
		return EX_SOFTWARE;
	if (f.outcome != FETCH_OK)
		return fetch_failed((const char *)url->data, &f);
	if (f.status == 404) {
		cli_error("%s@%s has no key in its domain's directory (%s)", a->local, a->domain,
			  (const char *)url->data);
		return EX_NOUSER;
	}
	if (f.status != 200) {
		cli_error("%s: HTTP status %ld", (const char *)url->data, f.status);
		return EX_UNAVAILABLE;
	}
	return 0;
}

/* Reduces what was served to the certificate for address, binary. */
static int served_cert(const char *address, const struct buf *served, struct buf *cert,
		       struct pgp_fpr *ret_fpr)
{
	pgp_ctx *scratch = NULL;
	int st = EX_DATAERR;
	if (pgp_ctx_new(&scratch) < 0)
		return EX_SOFTWARE;
	if (pgp_import(scratch, served->data, served->len, PGP_IMPORT_PUBLIC, NULL) < 0)
		cli_error("the directory's answer for %s is not an OpenPGP certificate", address);
	else if (pgp_find_by_address(scratch, address, false, ret_fpr) < 0)
		cli_error("the key served for %s has no valid user ID for that address or no usable "
			  "encryption key", address);
	else if (pgp_export_for_address(scratch, ret_fpr, address, false, cert) < 0)
		st = EX_SOFTWARE;
	else
		st = 0;
	pgp_ctx_free(scratch);
	return st;
}

/* A pinned address must keep its key, unless the transparency log proves
 * the change (proven): then the owner's monitor is what guards it. */
static int check_pin(const struct pins *pins, const char *address, const struct pgp_fpr *fpr,
		     bool accept, bool proven, const char **ret_state)
{
	const struct pgp_fpr *pinned = pins_get(pins, address);
	*ret_state = pinned == NULL ? "new: pinned on first use" : "matches the pinned key";
	if (pinned == NULL || strcmp(pinned->hex, fpr->hex) == 0)
		return 0;
	if (proven) {
		*ret_state = "changed: the transparency log proves the new key was published for "
			     "this address (its owner's monitor would see a change they did not make)";
		return 0;
	}
	if (accept) {
		*ret_state = "changed: the new key replaces the pinned one, as you asked";
		return 0;
	}
	cli_error("the key for %s has changed!\n  pinned:  %s\n  now:     %s\n"
		  "Someone may be impersonating %s. If you know the change is genuine (ask them by "
		  "another way), accept it with:\n  sealmail lookup --accept-new-key %s",
		  address, pinned->hex, fpr->hex, address, address);
	return EX_NOPERM;
}

static int keep(struct cli *c, const char *address, const struct buf *cert,
		const struct pgp_fpr *fpr, bool accept, bool proven, const char **ret_state)
{
	struct pins pins;
	if (pins_load(c->home, &pins) < 0) {
		cli_error("cannot read %s/%s", c->home, PINS_FILE);
		return EX_IOERR;
	}
	int st = check_pin(&pins, address, fpr, accept, proven, ret_state);
	if (st == 0 && pgp_import(c->ctx, cert->data, cert->len, PGP_IMPORT_PUBLIC, NULL) < 0)
		st = EX_SOFTWARE;
	if (st == 0 && pins_set(&pins, address, fpr) < 0)
		st = EX_SOFTWARE;
	if (st == 0)
		st = cli_save(c);
	if (st == 0 && pins_save(c->home, &pins) < 0) {
		cli_error("cannot write %s/%s", c->home, PINS_FILE);
		st = EX_CANTCREAT;
	}
	pins_free(&pins);
	return st;
}

/* The served key: from the verified lookup proof, or from WKD when the
 * domain has no transparency log. */
static int find_served(struct cli *c, const struct wkd_address *a, const char *address,
		       struct buf *served, struct lookup_info *ret, bool *ret_proven)
{
	struct kt_lookup kl;
	struct buf url;
	int st = kt_lookup(c, address, &kl);
	*ret_proven = false;
	if (st == KT_NO_LOG) {
		kt_lookup_free(&kl);
		buf_init(&url, 4096);
		st = wkd_get(a, served, &url);
		if (st == 0)
			snprintf(ret->source, sizeof(ret->source), "%s", (const char *)url.data);
		snprintf(ret->proof, sizeof(ret->proof),
			 "none: %s serves no transparency log; the key is trusted on first use only",
			 a->domain);
		buf_free(&url);
		return st;
	}
	if (st == 0 && kl.res.found != KT_PRESENT) {
		cli_error("%s has no key: %s's transparency log proves the address absent "
			  "(checkpoint %llu)", address, a->domain, (unsigned long long)kl.res.size);
		st = EX_NOUSER;
	}
	if (st == 0 && buf_append(served, kl.res.key, kl.res.key_len) < 0)
		st = EX_DATAERR;
	if (st == 0) {
		*ret_proven = true;
		snprintf(ret->source, sizeof(ret->source), "%s", kl.source);
		snprintf(ret->proof, sizeof(ret->proof),
			 "version %llu of the entry (epoch %llu), in checkpoint %llu, cosigned by %zu "
			 "witness(es) you trust", (unsigned long long)kl.res.counter,
			 (unsigned long long)kl.res.epoch, (unsigned long long)kl.res.size,
			 kl.res.cosigned);
	}
	kt_lookup_free(&kl);
	return st;
}

int lookup_address(struct cli *c, const char *address, bool accept, struct lookup_info *ret)
{
	struct wkd_address a;
	if (wkd_address_parse(address, &a) < 0) {
		cli_error("'%s' is not an email address", address);
		return EX_USAGE;
	}
	struct buf served, cert;
	struct pgp_fpr fpr;
	const char *state = "";
	bool proven = false;
	buf_init(&served, LOOKUP_MAX);
	buf_init(&cert, LOOKUP_MAX);
	int st = find_served(c, &a, address, &served, ret, &proven);
	if (st == 0)
		st = served_cert(address, &served, &cert, &fpr);
	if (st == 0)
		st = keep(c, address, &cert, &fpr, accept, proven, &state);
	if (st == 0) {
		ret->fpr = fpr;
		ret->pin_state = state;
	}
	buf_free(&served);
	buf_free(&cert);
	return st;
}

static int lookup_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail lookup [--accept-new-key] ADDRESS\n");
	return EX_USAGE;
}

int cmd_lookup(int argc, char **argv)
{
	static const struct option opts[] = {{"accept-new-key", no_argument, NULL, 'a'}, {0, 0, 0, 0}};
	struct wkd_address a;
	bool accept = false;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'a')
			return lookup_usage();
		accept = true;
	}
	if (optind != argc - 1)
		return lookup_usage();
	const char *address = argv[optind];
	if (wkd_address_parse(address, &a) < 0) {
		cli_error("'%s' is not an email address", address);
		return EX_USAGE;
	}
	struct cli c = {.ctx = NULL};
	struct lookup_info info;
	int st = cli_open(&c);
	if (st == 0)
		st = lookup_address(&c, address, accept, &info);
	if (st == 0)
		printf("%s\n  fingerprint %s\n  source      %s\n  proof       %s\n  pin         %s\n",
		       address, info.fpr.hex, info.source, info.proof, info.pin_state);
	cli_close(&c);
	return st;
}
