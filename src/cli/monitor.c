/* sealmail monitor ADDRESS...: the owner's check of their own entries in
 * their domain's transparency log. One lookup proof per address, whatever
 * the number of epochs since the last check: the version the map holds
 * must be one the owner authorized, its statement signed by one of their
 * keys (kt_update.h), or the version they recorded (a key served and then
 * reverted leaves the counter two ahead, without their signature); an
 * administrator's reset is named as such. It reminds the owner to renew a
 * key that expires within 30 days. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "entry.h"
#include "pgp_lifecycle.h"
#include "kt.h"
#include "transparency.h"

#define EXIT_ALERT 1

static int monitor_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail monitor ADDRESS...\n");
	return EX_USAGE;
}

/* Whether the user holds a secret key for address (revoked or not). */
static bool has_own_key(struct cli *c, const char *address)
{
	struct pgp_fpr f[PGP_BUNDLE_MAX];
	size_t n = 0;
	if (pgp_keys_for_address(c->ctx, address, f, PGP_BUNDLE_MAX, &n) < 0)
		return false;
	for (size_t i = 0; i < n && i < PGP_BUNDLE_MAX; i++) {
		struct pgp_key_state ks;
		if (pgp_key_state(c->ctx, &f[i], &ks) == 0 && ks.secret)
			return true;
	}
	return false;
}

static int alert(const char *address, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Says what was found, on stdout (the report) and stderr (the error). */
static int alert(const char *address, const char *fmt, ...)
{
	char what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	printf("ALERT %s: %s\n", address, what);
	fflush(stdout);
	cli_error("ALERT for %s: %s", address, what);
	return EXIT_ALERT;
}

#define RENEW_BEFORE (30 * 86400) /* the reminder starts this long before expiry */

/* The reminder to renew the user's key before it expires. */
static void expiry_reminder(struct cli *c, const char *address)
{
	struct pgp_fpr ours;
	struct pgp_key_state ks;
	time_t now = time(NULL);
	if (pgp_find_by_address(c->ctx, address, true, &ours) < 0 ||
	    pgp_key_state(c->ctx, &ours, &ks) < 0 || ks.expires == 0)
		return;
	if (ks.expires <= (uint64_t)now + RENEW_BEFORE)
		printf("renew %s: your key %s expires in %llu day(s); run: sealmail renew %s\n",
		       address, ours.hex,
		       (unsigned long long)((ks.expires - (uint64_t)now) / 86400), address);
}

static int judge_present(struct cli *c, const char *address, const struct kt_lookup *kl,
			 uint64_t want)
{
	struct pgp_fpr signer = {{0}};
	uint64_t have = kl->res.counter;
	const struct kt_authorization *au = kl->res.has_auth ? &kl->res.auth : NULL;
	bool mine = entry_is_ours(c, address, have, kl->res.key, kl->res.key_len, au, &signer);
	if (!mine && au != NULL && au->update.authority == KT_BY_TOKEN && have > 1)
		return alert(address,
			     "version %llu of your entry was published with a one-time token from your "
			     "domain's administrator (a reset), signed by %s, not by any of your keys",
			     (unsigned long long)have, signer.hex[0] ? signer.hex : "a key you do not have");
	if (!mine && have > want)
		return alert(address,
			     "the domain committed %llu change(s) to your entry that you did not make "
			     "(the map holds version %llu%s)",
			     (unsigned long long)(have - want), (unsigned long long)have,
			     entry_serves_ours(c->ctx, address, kl->res.key, kl->res.key_len)
				     ? "; the key it commits to now is yours again: someone else's key "
				       "was served for you in between"
				     : "; the key it commits to now is NOT yours");
	if (have < want) {
		printf("pending %s: the map holds version %llu, you published %llu; your latest "
		       "publication is not committed yet, check again after the next epoch\n",
		       address, (unsigned long long)have, (unsigned long long)want);
		return EX_TEMPFAIL;
	}
	if (!mine)
		return alert(address, "the key committed for you (version %llu, epoch %llu) is NOT yours",
			     (unsigned long long)have, (unsigned long long)kl->res.epoch);
	/* signed by one of the user's keys: its other keys are theirs too */
	if (signer.hex[0] != 0 &&
	    entry_learn_devices(c, address, have, kl->res.key, kl->res.key_len, NULL) < 0)
		cli_error("cannot record your devices in %s/kt-own", c->home);
	printf("ok %s: version %llu (epoch %llu) is yours%s%s; checkpoint %llu, cosigned by %zu "
	       "witness(es) you trust\n", address, (unsigned long long)have,
	       (unsigned long long)kl->res.epoch, signer.hex[0] ? ", signed by " : "", signer.hex,
	       (unsigned long long)kl->res.size, kl->res.cosigned);
	expiry_reminder(c, address);
	return 0;
}

static int monitor_one(struct cli *c, const char *address)
{
	struct kt_lookup kl;
	struct kt_own own;
	if (kt_own_load(c, address, &own) < 0) {
		cli_error("cannot read %s/kt-own for %s", c->home, address);
		return EX_DATAERR;
	}
	uint64_t want = own.version;
	if (want == 0 && !has_own_key(c, address)) {
		cli_error("you have no key for %s; monitor checks your own addresses", address);
		return EX_NOUSER;
	}
	/* Asked as a sender asks, so that the domain cannot tell the owner's
	 * check from a lookup and show it an older map; the authorization
	 * only when the version is not the user's as recorded, which the
	 * domain has then shown already. */
	int st = kt_lookup(c, address, KT_ASK_PROOF, &kl);
	if (st == 0 && kl.res.found == KT_PRESENT &&
	    !entry_is_ours(c, address, kl.res.counter, kl.res.key, kl.res.key_len, NULL, NULL)) {
		kt_lookup_free(&kl);
		st = kt_lookup(c, address, KT_ASK_AUTHORIZATION, &kl);
	}
	if (st == KT_NO_LOG) {
		cli_error("%s's domain serves no transparency log: there is nothing to monitor", address);
		st = EX_UNAVAILABLE;
	} else if (st != 0) {
		st = st == EX_PROTOCOL ? EXIT_ALERT : st;
	} else if (kl.res.found != KT_PRESENT && want > 0) {
		st = alert(address, "your entry is missing from the map (you published version %llu); "
				    "checkpoint %llu",
			   (unsigned long long)want, (unsigned long long)kl.res.size);
	} else if (kl.res.found != KT_PRESENT) {
		printf("ok %s: no entry, and you never published one (checkpoint %llu)\n", address,
		       (unsigned long long)kl.res.size);
	} else {
		st = judge_present(c, address, &kl, want);
	}
	kt_lookup_free(&kl);
	return st;
}

int cmd_monitor(int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-')
		return monitor_usage();
	struct cli c = {.ctx = NULL};
	int st = cli_open(&c), worst = 0;
	for (int i = 1; st == 0 && i < argc; i++) {
		int r = monitor_one(&c, argv[i]);
		if (r == EXIT_ALERT || worst == 0)
			worst = r == 0 ? worst : r;
	}
	cli_close(&c);
	return st != 0 ? st : worst;
}
