/* sealmail lookup [--accept-new-key] ADDRESS: find a correspondent's key
 * with a lookup proof from their domain's transparency log (or, for a
 * domain without one, in its Web Key Directory), check it, pin it, and
 * keep it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fetch.h"
#include "kt_update.h"
#include "pgp_lifecycle.h"
#include "pins.h"
#include "transparency.h"
#include "wkd.h"

#define LOOKUP_MAX (1u << 20) /* a served key larger than this is refused */

/* What the domain served for an address. */
struct served {
	struct buf all;   /* the certificates, binary */
	struct buf auth;  /* the version's authorization (kt_update.h); empty if none */
	bool proven;      /* by the domain's transparency log */
	uint64_t version; /* proven: the entry's counter */
};

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

/* Says why no key served for address is usable: revoked, expired, or
 * without a user ID or encryption key for it. */
static int unusable(pgp_ctx *scratch, const char *address)
{
	struct pgp_fpr f;
	struct pgp_key_state ks;
	size_t n = 0;
	if (pgp_keys_for_address(scratch, address, &f, 1, &n) < 0 || n == 0 ||
	    pgp_key_state(scratch, &f, &ks) < 0) {
		cli_error("the key served for %s has no valid user ID for that address or no usable "
			  "encryption key", address);
		return EX_DATAERR;
	}
	if (ks.revoked) {
		cli_error("%s's key %s is revoked by its owner (%s), and they have no other key: "
			  "nothing can be encrypted to them", address, f.hex,
			  ks.reason[0] ? ks.reason : "no reason given");
		return EX_NOUSER;
	}
	if (ks.expired) {
		cli_error("%s's key %s expired %llu day(s) ago, and they have no other key: "
			  "nothing can be encrypted to them until they renew it", address, f.hex,
			  (unsigned long long)(((uint64_t)time(NULL) - ks.expires) / 86400));
		return EX_NOUSER;
	}
	cli_error("the key served for %s (%s) has no usable encryption key", address, f.hex);
	return EX_DATAERR;
}

/* The usable keys served for address (one per device of its owner),
 * newest first. */
static int served_keys(const char *address, const struct buf *served, struct lookup_info *ret)
{
	pgp_ctx *scratch = NULL;
	struct pgp_fpr all[PINS_KEYS_MAX];
	size_t n = 0;
	int st = EX_DATAERR;
	ret->nfpr = 0;
	if (pgp_ctx_new(&scratch) < 0)
		return EX_SOFTWARE;
	if (pgp_import(scratch, served->data, served->len, PGP_IMPORT_PUBLIC, NULL) < 0 ||
	    pgp_keys_for_address(scratch, address, all, PINS_KEYS_MAX, &n) < 0) {
		cli_error("the directory's answer for %s is not an OpenPGP certificate", address);
		goto done;
	}
	for (size_t i = 0; i < n && i < PINS_KEYS_MAX; i++)
		if (pgp_key_usable_for(scratch, &all[i], address))
			ret->fpr[ret->nfpr++] = all[i];
	st = ret->nfpr > 0 ? 0 : unusable(scratch, address);
done:
	pgp_ctx_free(scratch);
	return st;
}

/* Who changed a pinned key, as the change's authorization (kt_update.h)
 * shows it to us: the statement's signature is checked with our key store,
 * which holds the key we pinned (the new certificates are not imported
 * yet). */
static void change_story(struct cli *c, const struct buf *auth, const struct pin *pinned,
			 char *out, size_t n)
{
	struct kt_authorization au;
	struct pgp_fpr signer;
	if (auth->len == 0 || kt_authorization_parse(auth->data, auth->len, &au) < 0) {
		snprintf(out, n, "changed: the transparency log proves the new key was published for "
				 "this address (its owner's monitor would see a change they did not "
				 "make)");
	} else if (au.update.authority == KT_BY_TOKEN) {
		snprintf(out, n, "changed by the domain's administrator (a reset with a one-time "
				 "token): the key you had, %s, did not authorize it; its owner's "
				 "monitor shows the reset", pinned->fpr[0].hex);
	} else if (pgp_verify_detached(c->ctx, au.statement, au.statement_len, au.sig, au.sig_len,
				       &signer) == 0 && pins_has(pinned, &signer)) {
		snprintf(out, n, "changed by its owner: the change (version %llu) is signed by the key "
				 "you had pinned, %s", (unsigned long long)au.update.version,
			 signer.hex);
	} else {
		snprintf(out, n, "changed: the domain says its owner authorized it with a key you have "
				 "not seen (version %llu); its owner's monitor would see a change they "
				 "did not make", (unsigned long long)au.update.version);
	}
}

/* Whether the keys found are exactly the keys pinned. */
static bool same_keys(const struct pin *pinned, const struct lookup_info *found)
{
	if (pinned->n != found->nfpr)
		return false;
	for (size_t i = 0; i < found->nfpr; i++)
		if (!pins_has(pinned, &found->fpr[i]))
			return false;
	return true;
}

/* The served version's authorization, asked for only now that a pinned
 * key changed (a sender's proof comes without it): a second lookup, with
 * it, which must prove the same version. 0; EX_TEMPFAIL if the entry
 * changed again in between; or the exit status of a proof that did not
 * hold (a replayed authorization among them). */
static int served_authorization(struct cli *c, const char *address, struct served *sv)
{
	struct kt_lookup kl;
	int st = kt_lookup(c, address, KT_ASK_AUTHORIZATION, &kl);
	if (st == KT_NO_LOG)
		st = EX_UNAVAILABLE;
	if (st == 0 && (kl.res.found != KT_PRESENT || kl.res.counter != sv->version ||
			kl.res.key_len != sv->all.len ||
			memcmp(kl.res.key, sv->all.data, sv->all.len) != 0)) {
		cli_error("the entry for %s changed while it was being looked up; try again", address);
		st = EX_TEMPFAIL;
	}
	if (st == 0 && buf_append(&sv->auth, kl.proof->auth, kl.proof->auth_len) < 0)
		st = EX_DATAERR;
	kt_lookup_free(&kl);
	return st;
}

/* A pinned address must keep its keys, unless the transparency log proves
 * the change (proven): then the owner's monitor is what guards it, and the
 * change's authorization says who made it. */
static int check_pin(struct cli *c, const struct pin *pinned, const char *address,
		     struct served *sv, bool accept, struct lookup_info *ret)
{
	snprintf(ret->pin_state, sizeof(ret->pin_state), "%s",
		 pinned == NULL ? "new: pinned on first use" : "matches the pinned key");
	if (pinned == NULL || same_keys(pinned, ret))
		return 0;
	if (sv->proven) {
		int st = served_authorization(c, address, sv);
		if (st == 0)
			change_story(c, &sv->auth, pinned, ret->pin_state, sizeof(ret->pin_state));
		return st;
	}
	if (accept) {
		snprintf(ret->pin_state, sizeof(ret->pin_state),
			 "changed: the new key replaces the pinned one, as you asked");
		return 0;
	}
	cli_error("the key for %s has changed!\n  pinned:  %s%s\n  now:     %s%s\n"
		  "Someone may be impersonating %s. If you know the change is genuine (ask them by "
		  "another way), accept it with:\n  sealmail lookup --accept-new-key %s",
		  address, pinned->fpr[0].hex, pinned->n > 1 ? " (and more)" : "", ret->fpr[0].hex,
		  ret->nfpr > 1 ? " (and more)" : "", address, address);
	return EX_NOPERM;
}

/* Adds what a formerly pinned key's revocation says, once it is imported. */
static void note_revoked_pin(struct cli *c, const struct pin *pinned, struct lookup_info *ret)
{
	struct pgp_key_state ks;
	size_t len = strlen(ret->pin_state);
	for (size_t i = 0; pinned != NULL && i < pinned->n; i++) {
		if (pgp_key_state(c->ctx, &pinned->fpr[i], &ks) < 0 || !ks.revoked)
			continue;
		snprintf(ret->pin_state + len, sizeof(ret->pin_state) - len,
			 "; the old key is revoked (%s)", ks.reason[0] ? ks.reason : "no reason given");
		return;
	}
}

/* Every certificate served for address, each reduced to its user ID for
 * it, goes into the key store, so that a revoked or expired predecessor is
 * known there too and nothing is encrypted to it from the copy there.
 * Served certificates that are not all for address are left out. */
static void import_served(struct cli *c, const char *address, const struct served *sv)
{
	struct buf reduced;
	buf_init(&reduced, LOOKUP_MAX);
	if (pgp_bundle_for_address(sv->all.data, sv->all.len, address, &reduced, NULL, NULL) == 0 &&
	    pgp_import(c->ctx, reduced.data, reduced.len, PGP_IMPORT_PUBLIC, NULL) < 0)
		cli_error("could not keep the certificates served for %s", address);
	buf_free(&reduced);
}

static int keep(struct cli *c, const char *address, struct served *sv, bool accept,
		struct lookup_info *ret)
{
	struct pins pins;
	struct pin pinned = {.n = 0};
	if (pins_load(c->home, &pins) < 0) {
		cli_error("cannot read %s/%s", c->home, PINS_FILE);
		return EX_IOERR;
	}
	if (pins_get(&pins, address) != NULL)
		pinned = *pins_get(&pins, address);
	int st = check_pin(c, pinned.n ? &pinned : NULL, address, sv, accept, ret);
	if (st == 0)
		import_served(c, address, sv);
	if (st == 0)
		note_revoked_pin(c, pinned.n ? &pinned : NULL, ret);
	if (st == 0 && pins_set(&pins, address, ret->fpr, ret->nfpr) < 0)
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

/* The served certificates: from the verified lookup proof, or from WKD
 * when the domain has no transparency log. */
static int find_served(struct cli *c, const struct wkd_address *a, const char *address,
		       struct served *sv, struct lookup_info *ret)
{
	struct kt_lookup kl;
	struct buf url;
	int st = kt_lookup(c, address, KT_ASK_PROOF, &kl);
	sv->proven = false;
	if (st == KT_NO_LOG) {
		kt_lookup_free(&kl);
		buf_init(&url, 4096);
		st = wkd_get(a, &sv->all, &url);
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
	if (st == 0 && buf_append(&sv->all, kl.res.key, kl.res.key_len) < 0)
		st = EX_DATAERR;
	if (st == 0) {
		sv->proven = true;
		sv->version = kl.res.counter;
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
	struct served sv;
	buf_init(&sv.all, LOOKUP_MAX);
	buf_init(&sv.auth, KT_AUTH_MAX);
	int st = find_served(c, &a, address, &sv, ret);
	if (st == 0)
		st = served_keys(address, &sv.all, ret);
	if (st == EX_NOUSER && sv.all.len > 0) {
		import_served(c, address, &sv);
		(void)cli_save(c);
	}
	if (st == 0)
		st = keep(c, address, &sv, accept, ret);
	buf_free(&sv.all);
	buf_free(&sv.auth);
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
	if (st == 0) {
		printf("%s\n", address);
		for (size_t i = 0; i < info.nfpr; i++)
			printf("  fingerprint %s\n", info.fpr[i].hex);
		printf("  source      %s\n  proof       %s\n  pin         %s\n", info.source,
		       info.proof, info.pin_state);
	}
	cli_close(&c);
	return st;
}
