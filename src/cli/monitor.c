/* sealmail monitor ADDRESS...: the owner's check of their own entries in
 * their domain's transparency log. One lookup proof per address, whatever
 * the number of epochs since the last check: the map's counter for the
 * address must equal the number of changes the owner published (a key
 * served and then reverted leaves it two ahead), and the key it commits
 * to must be the owner's. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kt.h"
#include "transparency.h"

#define EXIT_ALERT 1

static int monitor_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail monitor ADDRESS...\n");
	return EX_USAGE;
}

/* The fingerprint of the committed key for address, or "" if unusable. */
static void committed_fpr(const struct kt_lookup *kl, const char *address, struct pgp_fpr *ret)
{
	pgp_ctx *scratch = NULL;
	memset(ret, 0, sizeof(*ret));
	if (pgp_ctx_new(&scratch) < 0)
		return;
	if (pgp_import(scratch, kl->res.key, kl->res.key_len, PGP_IMPORT_PUBLIC, NULL) < 0 ||
	    pgp_find_by_address(scratch, address, false, ret) < 0)
		memset(ret, 0, sizeof(*ret));
	pgp_ctx_free(scratch);
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

static int judge_present(const char *address, const struct kt_lookup *kl, uint64_t want,
			 const struct pgp_fpr *ours)
{
	struct pgp_fpr now;
	uint64_t have = kl->res.counter;
	committed_fpr(kl, address, &now);
	int mine = now.hex[0] != 0 && strcmp(now.hex, ours->hex) == 0;
	if (have > want)
		return alert(address,
			     "the domain committed %llu change(s) to your entry that you did not make "
			     "(the map holds version %llu%s)",
			     (unsigned long long)(have - want), (unsigned long long)have,
			     mine ? "; the key it commits to now is yours again: someone else's key was "
				    "served for you in between"
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
	printf("ok %s: version %llu (epoch %llu) is your key %s; checkpoint %llu, cosigned by %zu "
	       "witness(es) you trust\n", address, (unsigned long long)have,
	       (unsigned long long)kl->res.epoch, ours->hex, (unsigned long long)kl->res.size,
	       kl->res.cosigned);
	return 0;
}

static int monitor_one(struct cli *c, const char *address)
{
	struct pgp_fpr ours;
	struct kt_lookup kl;
	uint64_t want = 0;
	if (pgp_find_by_address(c->ctx, address, true, &ours) < 0) {
		cli_error("you have no key for %s; monitor checks your own addresses", address);
		return EX_NOUSER;
	}
	if (kt_own_changes(c, address, &want) < 0) {
		cli_error("cannot read %s/kt-own for %s", c->home, address);
		return EX_DATAERR;
	}
	int st = kt_lookup(c, address, &kl);
	if (st == KT_NO_LOG) {
		cli_error("%s's domain serves no transparency log: there is nothing to monitor", address);
		st = EX_UNAVAILABLE;
	} else if (st != 0) {
		st = st == EX_PROTOCOL ? EXIT_ALERT : st;
	} else if (kl.res.found != KT_PRESENT && want > 0) {
		st = alert(address, "your entry is missing from the map (you published %llu change(s)); "
				    "checkpoint %llu",
			   (unsigned long long)want, (unsigned long long)kl.res.size);
	} else if (kl.res.found != KT_PRESENT) {
		printf("ok %s: no entry, and you never published one (checkpoint %llu)\n", address,
		       (unsigned long long)kl.res.size);
	} else {
		st = judge_present(address, &kl, want, &ours);
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
