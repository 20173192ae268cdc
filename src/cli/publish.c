/* sealmail publish ADDRESS --token TOKEN [--wait SECONDS]: upload the
 * user's own certificate to their domain's key directory (sealmaild), with
 * the one-time token the domain's administrator gave them, then wait until
 * the domain's transparency log proves it is served. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fetch.h"
#include "kt.h"
#include "transparency.h"
#include "wkd.h"

#define WAIT_DEFAULT 300 /* seconds; an epoch is 60 s by default */

#define PUBLISH_ANSWER_MAX 4096
#define PUBLISH_PATH "/sealmail/v1/publish?address="

static int publish_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail publish ADDRESS --token TOKEN [--wait SECONDS]\n");
	return EX_USAGE;
}

/* https://HOST/sealmail/v1/publish?address=local%40domain */
static int publish_url(const struct wkd_address *a, const char *host_prefix, struct buf *url)
{
	char addr[WKD_LOCAL_MAX + WKD_DOMAIN_MAX + 2];
	if (wkd_address_format(a, addr, sizeof(addr)) < 0)
		return -1;
	if (buf_appendf(url, "https://%s%s%s", host_prefix, a->domain, PUBLISH_PATH) < 0)
		return -1;
	for (const char *p = addr; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			    strchr("-._~", ch) != NULL;
		if ((plain ? buf_append(url, p, 1) : buf_appendf(url, "%%%02X", ch)) < 0)
			return -1;
	}
	return 0;
}

/* POSTs to the domain's directory; url gets the URL that answered. */
static int upload(const struct wkd_address *a, const struct buf *cert, const char *token,
		  struct buf *answer, struct fetch_result *f, struct buf *url)
{
	struct buf direct;
	int st = EX_SOFTWARE;
	buf_init(&direct, url->max);
	if (publish_url(a, "openpgpkey.", url) < 0 || publish_url(a, "", &direct) < 0)
		goto done;
	if (fetch_https_directory((const char *)url->data, (const char *)direct.data, cert->data,
				  cert->len, token, answer, f) == 1) {
		buf_reset(url);
		if (buf_append(url, direct.data, direct.len) < 0)
			goto done;
	}
	st = 0;
done:
	buf_free(&direct);
	return st;
}

static int report(const char *address, const struct pgp_fpr *fpr, const struct buf *url,
		  const struct buf *answer, const struct fetch_result *f)
{
	const char *said = answer->len ? (const char *)answer->data : "";
	if (f->outcome != FETCH_OK) {
		cli_error("%s: %s", (const char *)url->data, f->detail);
		return f->outcome == FETCH_TIMEOUT ? EX_TEMPFAIL : EX_UNAVAILABLE;
	}
	if (f->status == 200) {
		printf("accepted %s for %s\n  by %s\n", fpr->hex, address, (const char *)url->data);
		return 0;
	}
	cli_error("the directory refused the key (HTTP %ld): %.*s", f->status,
		  (int)strcspn(said, "\n"), said);
	if (f->status == 403 || f->status == 401)
		return EX_NOPERM;
	/* the directory could not take it now (busy store, rate limit): try later */
	return f->status >= 500 || f->status == 429 ? EX_TEMPFAIL : EX_DATAERR;
}

/* Whether the proof shows our key at the version we expect. */
static int committed(const char *address, const struct pgp_fpr *ours, const struct kt_lookup *kl,
		     uint64_t want)
{
	pgp_ctx *scratch = NULL;
	struct pgp_fpr fpr;
	int ok = 0;
	if (kl->res.found != KT_PRESENT || kl->res.counter != want || pgp_ctx_new(&scratch) < 0)
		return 0;
	if (pgp_import(scratch, kl->res.key, kl->res.key_len, PGP_IMPORT_PUBLIC, NULL) == 0 &&
	    pgp_find_by_address(scratch, address, false, &fpr) == 0)
		ok = strcmp(fpr.hex, ours->hex) == 0;
	pgp_ctx_free(scratch);
	return ok;
}

/* Polls the lookup proof until our key is in the log (or the wait ends). */
static int wait_committed(struct cli *c, const char *address, const struct pgp_fpr *fpr,
			  unsigned wait)
{
	uint64_t want = 0;
	time_t end = time(NULL) + (time_t)wait;
	if (kt_own_changes(c, address, &want) < 0)
		return EX_SOFTWARE;
	for (;;) {
		struct kt_lookup kl;
		int st = kt_lookup(c, address, &kl);
		if (st == 0 && committed(address, fpr, &kl, want)) {
			printf("published: version %llu of %s is in %s's transparency log (epoch %llu, "
			       "checkpoint %llu, cosigned by %zu witness(es))\n",
			       (unsigned long long)kl.res.counter, address, strchr(address, '@') + 1,
			       (unsigned long long)kl.res.epoch, (unsigned long long)kl.res.size,
			       kl.res.cosigned);
			kt_lookup_free(&kl);
			return 0;
		}
		kt_lookup_free(&kl);
		if (st == KT_NO_LOG)
			return 0; /* a directory without a log serves it at once */
		if (st != 0 && st != EX_TEMPFAIL)
			return st;
		if (time(NULL) >= end) {
			cli_error("the key was accepted but is not in the transparency log yet; "
				  "check later with: sealmail monitor %s", address);
			return EX_TEMPFAIL;
		}
		sleep(1);
	}
}

int cmd_publish(int argc, char **argv)
{
	static const struct option opts[] = {{"token", required_argument, NULL, 't'},
					     {"wait", required_argument, NULL, 'w'},
					     {0, 0, 0, 0}};
	const char *token = NULL;
	struct wkd_address a;
	unsigned wait = WAIT_DEFAULT;
	char *end;
	int o;
	optind = 1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 't') {
			token = optarg;
		} else if (o == 'w') {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*optarg == 0 || *end != 0 || v > 86400)
				return publish_usage();
			wait = (unsigned)v;
		} else {
			return publish_usage();
		}
	}
	if (optind != argc - 1 || token == NULL || token[0] == 0)
		return publish_usage();
	const char *address = argv[optind];
	if (wkd_address_parse(address, &a) < 0) {
		cli_error("'%s' is not an email address", address);
		return EX_USAGE;
	}
	struct cli c = {.ctx = NULL};
	struct buf cert, answer, url;
	struct fetch_result f;
	struct pgp_fpr fpr;
	buf_init(&cert, 1u << 20);
	buf_init(&answer, PUBLISH_ANSWER_MAX);
	buf_init(&url, 4096);
	int st = cli_open(&c);
	if (st == 0 && pgp_find_by_address(c.ctx, address, true, &fpr) < 0) {
		cli_error("you have no key for %s; create one with: sealmail keygen %s", address, address);
		st = EX_NOUSER;
	}
	if (st == 0 && pgp_export_for_address(c.ctx, &fpr, address, false, &cert) < 0)
		st = EX_SOFTWARE;
	if (st == 0)
		st = upload(&a, &cert, token, &answer, &f, &url);
	if (st == 0)
		st = report(address, &fpr, &url, &answer, &f);
	if (st == 0 && kt_own_bump(&c, address) < 0) {
		cli_error("cannot record the publication in %s/kt-own", c.home);
		st = EX_CANTCREAT;
	}
	if (st == 0 && wait > 0)
		st = wait_committed(&c, address, &fpr, wait);
	buf_free(&cert);
	buf_free(&answer);
	buf_free(&url);
	cli_close(&c);
	return st;
}
