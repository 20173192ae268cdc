/* sealmail device list|add|remove|join ADDRESS ...: an address served
 * with one key per device of its owner. Senders encrypt to every key
 * served; adding or removing a device is a change of the entry like any
 * other, signed by a key served now, so correspondents and the owner's
 * monitor see who made it.
 *
 *   on the new device:  sealmail keygen ADDRESS; sealmail export ADDRESS > phone.asc
 *   on a device served: sealmail device add ADDRESS phone.asc
 *   on the new device:  sealmail device join ADDRESS
 *
 * join records the other devices' keys in kt-own, so that the new
 * device's monitor takes their changes as the owner's own. */
#include <stdio.h>
#include <unistd.h>
#include <string.h>

#include "cli.h"
#include "entry.h"
#include "kt_update.h"
#include "pgp_lifecycle.h"
#include "transparency.h"
#include "wkd.h"

#define CERT_FILE_MAX (1u << 20)

static int device_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail device list ADDRESS\n"
			      "       sealmail device add ADDRESS FILE [--wait SECONDS]\n"
			      "       sealmail device remove ADDRESS FINGERPRINT [--wait SECONDS]\n"
			      "       sealmail device join ADDRESS\n");
	return EX_USAGE;
}

/* The keys for address in a bundle (newest first). */
static int bundle_keys(const struct buf *bundle, const char *address, pgp_ctx **ret_ctx,
		       struct pgp_fpr keys[PINS_KEYS_MAX], size_t *ret_n)
{
	int r = pgp_ctx_new(ret_ctx);
	if (r == 0 && bundle->len > 0)
		r = pgp_import(*ret_ctx, bundle->data, bundle->len, PGP_IMPORT_PUBLIC, NULL);
	if (r == 0)
		r = pgp_keys_for_address(*ret_ctx, address, keys, PINS_KEYS_MAX, ret_n);
	if (r == 0 && *ret_n > PINS_KEYS_MAX)
		*ret_n = PINS_KEYS_MAX;
	return r;
}

static bool served(const struct buf *bundle, const char *address, const struct pgp_fpr *fpr)
{
	pgp_ctx *ctx = NULL;
	struct pgp_fpr keys[PINS_KEYS_MAX];
	size_t n = 0;
	bool found = false;
	if (bundle_keys(bundle, address, &ctx, keys, &n) == 0)
		for (size_t i = 0; i < n && !found; i++)
			found = strcmp(keys[i].hex, fpr->hex) == 0;
	pgp_ctx_free(ctx);
	return found;
}

static size_t served_count(const struct buf *bundle, const char *address)
{
	pgp_ctx *ctx = NULL;
	struct pgp_fpr keys[PINS_KEYS_MAX];
	size_t n = 0;
	if (bundle_keys(bundle, address, &ctx, keys, &n) < 0)
		n = 0;
	pgp_ctx_free(ctx);
	return n;
}

/* kt-own's list of the user's other devices, with fpr added or removed. */
static int own_devices_edit(struct cli *c, const char *address, const struct pgp_fpr *fpr, bool add)
{
	struct kt_own own;
	int r = kt_own_load(c, address, &own);
	size_t k = 0;
	for (size_t i = 0; r == 0 && i < own.ndevices; i++)
		if (strcmp(own.devices[i].hex, fpr->hex) != 0)
			own.devices[k++] = own.devices[i];
	own.ndevices = k;
	if (r == 0 && add && own.ndevices < PINS_KEYS_MAX)
		own.devices[own.ndevices++] = *fpr;
	if (r == 0)
		r = kt_own_save(c, address, &own);
	if (r < 0)
		cli_error("cannot record your devices in %s/kt-own", c->home);
	return r < 0 ? EX_CANTCREAT : 0;
}

/* The one certificate for address in file, and its fingerprint. */
static int device_cert(const char *file, const char *address, struct buf *cert, struct pgp_fpr *ret)
{
	struct buf raw;
	pgp_ctx *ctx = NULL;
	size_t n = 0;
	buf_init(&raw, CERT_FILE_MAX);
	int st = cli_read_input(file, &raw);
	if (st == 0 && (pgp_bundle_for_address(raw.data, raw.len, address, cert, &n, NULL) < 0 || n != 1)) {
		cli_error("%s is not one public certificate with a user ID for %s", file, address);
		st = EX_DATAERR;
	}
	if (st == 0 && (pgp_ctx_new(&ctx) < 0 || pgp_import(ctx, cert->data, cert->len, PGP_IMPORT_PUBLIC, ret) < 0 ||
			!pgp_key_usable_for(ctx, ret, address))) {
		cli_error("the key in %s is revoked, expired, or cannot encrypt", file);
		st = EX_DATAERR;
	}
	pgp_ctx_free(ctx);
	buf_free(&raw);
	return st;
}

/* Submits the change, records the device as the user's (or no longer),
 * and waits for the epoch. */
static int device_change(struct cli *c, const struct entry_now *now, const struct entry_change *ch,
			 const struct pgp_fpr *dev, bool add)
{
	int st = entry_submit(c, now, ch);
	if (st == 0)
		st = own_devices_edit(c, ch->address, dev, add);
	if (st == 0 && add)
		st = cli_save(c);
	if (st != 0)
		return st;
	if (add)
		printf("device key %s added for %s; on that device run: sealmail device join %s\n",
		       dev->hex, ch->address, ch->address);
	else
		printf("device key %s no longer served for %s\n", dev->hex, ch->address);
	return entry_wait(c, ch, now->counter + 1);
}

static int device_add(struct cli *c, const char *address, const char *file, unsigned wait)
{
	struct entry_now now;
	struct pgp_fpr key, dev;
	struct buf cert, bundle;
	buf_init(&cert, CERT_FILE_MAX);
	buf_init(&bundle, 8u << 20);
	int st = device_cert(file, address, &cert, &dev);
	if (st == 0)
		st = entry_owned(c, address, &now, &key);
	else
		memset(&now, 0, sizeof(now));
	if (st == 0 && served(&now.bundle, address, &dev)) {
		cli_error("%s is served for %s already", dev.hex, address);
		st = EX_DATAERR;
	}
	if (st == 0)
		st = entry_bundle_edit(&now.bundle, NULL, &cert, address, &bundle);
	/* the new device's certificate is kept: its signatures are the user's */
	if (st == 0 && pgp_import(c->ctx, cert.data, cert.len, PGP_IMPORT_PUBLIC, NULL) < 0)
		st = EX_SOFTWARE;
	struct entry_change ch = {address, NULL, &bundle, &key, wait, "device added"};
	if (st == 0)
		st = device_change(c, &now, &ch, &dev, true);
	entry_free(&now);
	buf_free(&cert);
	buf_free(&bundle);
	return st;
}

static int device_remove(struct cli *c, const char *address, const char *hex, unsigned wait)
{
	struct entry_now now;
	struct pgp_fpr key, dev;
	struct buf bundle, none;
	buf_init(&bundle, 8u << 20);
	buf_init(&none, 1);
	if (strlen(hex) != PGP_FPR_HEX || strspn(hex, "0123456789ABCDEF") != PGP_FPR_HEX) {
		cli_error("'%s' is not a fingerprint (40 upper-case hex digits, as device list shows)", hex);
		return EX_USAGE;
	}
	memcpy(dev.hex, hex, PGP_FPR_HEX + 1);
	int st = entry_owned(c, address, &now, &key);
	if (st == 0 && !served(&now.bundle, address, &dev)) {
		cli_error("%s is not served for %s", dev.hex, address);
		st = EX_DATAERR;
	}
	if (st == 0 && served_count(&now.bundle, address) < 2) {
		cli_error("%s is the only key served for %s: revoke it instead", dev.hex, address);
		st = EX_DATAERR;
	}
	if (st == 0)
		st = entry_bundle_edit(&now.bundle, &dev, &none, address, &bundle);
	struct entry_change ch = {address, NULL, &bundle, &key, wait, "device removed"};
	if (st == 0)
		st = device_change(c, &now, &ch, &dev, false);
	entry_free(&now);
	buf_free(&bundle);
	return st;
}

/* The signer of the version served now, checked against its bundle: the
 * device that added this one. */
static int added_by(const struct entry_now *now, const char *address, struct pgp_fpr *ret)
{
	struct kt_authorization au;
	struct pgp_fpr keys[PINS_KEYS_MAX];
	pgp_ctx *ctx = NULL;
	size_t n = 0;
	int r = now->auth.len > 0 ? kt_authorization_parse(now->auth.data, now->auth.len, &au) : SM_EPARSE;
	if (r == 0)
		r = bundle_keys(&now->bundle, address, &ctx, keys, &n);
	if (r == 0)
		r = pgp_verify_detached(ctx, au.statement, au.statement_len, au.sig, au.sig_len, ret);
	pgp_ctx_free(ctx);
	return r;
}

static int device_join(struct cli *c, const char *address)
{
	struct entry_now now;
	struct pgp_fpr signer;
	size_t n = 0;
	int st = entry_lookup(c, address, &now);
	if (st == 0 && !entry_serves_ours(c->ctx, address, now.bundle.data, now.bundle.len)) {
		cli_error("none of your keys is served for %s yet: add this device's key from a device "
			  "that is (sealmail device add %s FILE), then join again", address, address);
		st = EX_NOUSER;
	}
	if (st == 0 && added_by(&now, address, &signer) < 0) {
		cli_error("version %llu of %s is not signed by a key it serves: not joining",
			  (unsigned long long)now.counter, address);
		st = EX_NOPERM;
	}
	if (st == 0 && entry_learn_devices(c, address, now.counter, now.bundle.data, now.bundle.len,
					   &n) < 0) {
		cli_error("cannot record your devices in %s/kt-own", c->home);
		st = EX_CANTCREAT;
	}
	if (st == 0)
		printf("joined: %s is served with %zu other device key(s) (version %llu, added by "
		       "%s); their changes are yours to this device's monitor\n", address, n,
		       (unsigned long long)now.counter, signer.hex);
	entry_free(&now);
	return st;
}

static int device_list(struct cli *c, const char *address)
{
	struct entry_now now;
	struct pgp_fpr keys[PINS_KEYS_MAX];
	struct kt_own own;
	pgp_ctx *ctx = NULL;
	size_t n = 0;
	int st = entry_lookup(c, address, &now);
	if (st == 0 && (bundle_keys(&now.bundle, address, &ctx, keys, &n) < 0 ||
			kt_own_load(c, address, &own) < 0))
		st = EX_SOFTWARE;
	if (st == 0)
		printf("%s: version %llu, %zu key(s)\n", address, (unsigned long long)now.counter, n);
	for (size_t i = 0; st == 0 && i < n; i++) {
		struct pgp_key_state served, mine;
		bool this = pgp_key_state(c->ctx, &keys[i], &mine) == 0 && mine.secret, other = false;
		for (size_t k = 0; k < own.ndevices; k++)
			other |= strcmp(own.devices[k].hex, keys[i].hex) == 0;
		if (pgp_key_state(ctx, &keys[i], &served) < 0)
			continue;
		printf("  %s  %s%s\n", keys[i].hex,
		       served.revoked ? "revoked" : served.expired ? "expired" : "usable",
		       this ? ", this device" : other ? ", another of your devices" : "");
	}
	pgp_ctx_free(ctx);
	entry_free(&now);
	return st;
}

int cmd_device(int argc, char **argv)
{
	struct wkd_address a;
	long wait = cli_wait_option(argc, argv, ENTRY_WAIT_DEFAULT);
	if (wait < 0)
		return device_usage();
	int nargs = argc - optind;
	const char *verb = nargs > 0 ? argv[optind] : "";
	const char *address = nargs > 1 ? argv[optind + 1] : "";
	bool two = strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0;
	if (nargs != (two ? 3 : 2) || (!two && strcmp(verb, "list") != 0 && strcmp(verb, "join") != 0))
		return device_usage();
	if (wkd_address_parse(address, &a) < 0) {
		cli_error("'%s' is not an email address", address);
		return EX_USAGE;
	}
	struct cli c = {.ctx = NULL};
	int st = cli_open(&c);
	if (st == 0 && strcmp(verb, "list") == 0)
		st = device_list(&c, address);
	else if (st == 0 && strcmp(verb, "join") == 0)
		st = device_join(&c, address);
	else if (st == 0 && strcmp(verb, "add") == 0)
		st = device_add(&c, address, argv[optind + 2], (unsigned)wait);
	else if (st == 0)
		st = device_remove(&c, address, argv[optind + 2], (unsigned)wait);
	cli_close(&c);
	return st;
}
