/* wks_service.c: the Web Key Service: submission keys, the key directory's view
 * of them, and the process that reads the submission Maildirs. See wks_service.h. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic_file.h"
#include "daemon.h"
#include "delivery.h"
#include "delivery_link.h"
#include "sandbox.h"
#include "maildir.h"
#include "mime.h"
#include "pgp.h"
#include "pgp_lifecycle.h"
#include "store_wks.h"
#include "transparency.h"
#include "wks.h"
#include "wks_service.h"

#define WKS_KEY_SUFFIX ".wks"
#define WKS_KEY_FILE_MAX (64u * 1024)
#define WKS_MAIL_MAX (1u << 20)              /* a submission mail; larger ones are refused */
#define WKS_KEY_LIFETIME (730u * 86400u)
#define WKS_RENEW_BEFORE ((uint64_t)60 * 86400) /* renewed at start when it expires sooner */
#define WKS_POLL_SECONDS 1
#define NONCE_BYTES 20
/* Open submissions per user: each one mails them a confirmation request,
 * and anyone can submit in their name, so this bounds the mail bombing. */
#define WKS_OPEN_MAX 5

struct wks_domain {
	char name[WKD_DOMAIN_MAX + 1];
	char address[WKS_ADDR_MAX + 1];   /* key-submission@name */
	char hash[WKD_HASH_LEN + 1];      /* WKD hash of WKS_LOCAL */
	char maildir[4096];               /* the submission Maildir */
	struct buf secret;                /* the key file (secret key); wiped in workers */
	struct pgp_fpr fpr;
	struct buf cert;                  /* the public key, for WKD */
	struct buf policy;                /* the global policy plus submission-address */
	struct buf file;                  /* the submission-address file */
	bool auth_submit;                 /* publish submissions without confirmation */
};

struct wks {
	struct wks_domain *domains;
	size_t n;
	store *store;                     /* the service process's own */
	int link_fd;                      /* its channel to the Maildir writer */
};

/* What handling one mail came to. */
enum outcome { HANDLED, REFUSED, RETRY };

/* ---- the submission key ---- */

static int key_make(const char *dir, const char *file, const char *address, struct buf *secret)
{
	pgp_ctx *ctx = NULL;
	struct pgp_fpr fpr;
	int r = pgp_ctx_new(&ctx);
	if (r == 0)
		r = pgp_keygen(ctx, address, &fpr);
	if (r == 0)
		r = pgp_export_secret(ctx, &fpr, false, secret);
	if (r == 0)
		r = atomic_file_create(dir, file, secret->data, secret->len, 0600);
	pgp_ctx_free(ctx);
	return r;
}

/* Loads the key into ctx (renewing it when it nears its expiry). */
static int key_open(const char *dir, const char *file, struct wks_domain *w, pgp_ctx *ctx)
{
	struct pgp_key_state ks;
	int r = pgp_import(ctx, w->secret.data, w->secret.len, PGP_IMPORT_ANY, &w->fpr);
	if (r == 0)
		r = pgp_key_state(ctx, &w->fpr, &ks);
	if (r == 0 && (!ks.secret || !pgp_key_has_address(ctx, &w->fpr, w->address)))
		r = SM_EINVAL;
	if (r == 0 && ks.expires != 0 && ks.expires < (uint64_t)time(NULL) + WKS_RENEW_BEFORE) {
		buf_reset(&w->secret);
		r = pgp_renew(ctx, &w->fpr, WKS_KEY_LIFETIME);
		if (r == 0)
			r = pgp_export_secret(ctx, &w->fpr, false, &w->secret);
		if (r == 0)
			r = atomic_file_write(dir, file, w->secret.data, w->secret.len, 0600);
		if (r == 0)
			daemon_log("wks %s: the submission key %s is renewed", w->name, w->fpr.hex);
	}
	return r;
}

static int key_load(const char *dir, struct wks_domain *w)
{
	char file[WKD_DOMAIN_MAX + 8], path[4096 + 300];
	pgp_ctx *ctx = NULL;
	snprintf(file, sizeof(file), "%s" WKS_KEY_SUFFIX, w->name);
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int r = keys_file_read(&w->secret, path);
	if (r == SM_ENOTFOUND) {
		buf_reset(&w->secret);
		r = key_make(dir, file, w->address, &w->secret);
		if (r == 0)
			daemon_log("wks %s: made the submission key for %s", w->name, w->address);
	}
	if (r == 0)
		r = pgp_ctx_new(&ctx);
	if (r == 0)
		r = key_open(dir, file, w, ctx);
	if (r == 0)
		r = pgp_export_for_address(ctx, &w->fpr, w->address, false, &w->cert);
	pgp_ctx_free(ctx);
	if (r < 0)
		daemon_log("wks %s: the submission key %s: %s", w->name, path, sm_strerror(r));
	return r;
}

/* ---- the domains ---- */

static int domain_init(struct daemon *d, const struct conf_domain *dom, const char *keys,
		       struct wks_domain *w)
{
	struct wkd_address a;
	snprintf(w->name, sizeof(w->name), "%s", dom->name);
	snprintf(w->address, sizeof(w->address), WKS_LOCAL "@%s", dom->name);
	buf_init(&w->secret, WKS_KEY_FILE_MAX);
	buf_init(&w->cert, WKS_KEY_FILE_MAX);
	buf_init(&w->policy, d->policy.len + 256);
	buf_init(&w->file, 256);
	if (wkd_address_parse(w->address, &a) < 0 || wkd_hash_local_part(WKS_LOCAL, w->hash) < 0 ||
	    delivery_maildir_of(d, &a, w->maildir, sizeof(w->maildir)) < 0)
		return -1;
	if (key_load(keys, w) < 0)
		return -1;
	w->auth_submit = dom->wks_auth_submit;
	if (w->auth_submit)
		daemon_log("wks %s: wks-auth-submit: submissions are published without confirmation; "
			   "anyone who can mail key-submission@%s as a user can publish a key for "
			   "them", w->name, w->name);
	if (buf_append(&w->policy, d->policy.data ? d->policy.data : (const uint8_t *)"",
		       d->policy.len) < 0 ||
	    buf_appendf(&w->policy, "submission-address: %s\n%s", w->address,
			w->auth_submit ? "auth-submit\n" : "") < 0 ||
	    buf_appendf(&w->file, "%s\n", w->address) < 0)
		return -1;
	int r = maildir_ensure(w->maildir);
	if (r < 0) {
		daemon_log("wks %s: cannot make the submission Maildir %s: %s", w->name, w->maildir,
			   strerror(errno));
		return -1;
	}
	return 0;
}

int wks_init(struct daemon *d)
{
	char keys[4096];
	size_t n = 0;
	for (size_t i = 0; i < d->conf->ndomains; i++)
		n += d->conf->domains[i].wks;
	if (n == 0)
		return 0;
	struct wks *wk = calloc(1, sizeof(*wk));
	if (wk == NULL || (wk->domains = calloc(n, sizeof(*wk->domains))) == NULL) {
		free(wk);
		return -1;
	}
	d->wks = wk;
	wk->link_fd = -1;
	if (kt_keys_dir(d->conf->state_dir, keys, sizeof(keys)) < 0) {
		daemon_log("wks: the keys directory in %s is not usable", d->conf->state_dir);
		return -1;
	}
	for (size_t i = 0; i < d->conf->ndomains; i++) {
		if (!d->conf->domains[i].wks)
			continue;
		if (domain_init(d, &d->conf->domains[i], keys, &wk->domains[wk->n++]) < 0)
			return -1;
		daemon_log("wks %s: submissions to %s, key %s", wk->domains[wk->n - 1].name,
			   wk->domains[wk->n - 1].address, wk->domains[wk->n - 1].fpr.hex);
	}
	return 0;
}

static struct wks_domain *find(const struct daemon *d, const char *domain)
{
	for (size_t i = 0; d->wks != NULL && i < d->wks->n; i++)
		if (strcmp(d->wks->domains[i].name, domain) == 0)
			return &d->wks->domains[i];
	return NULL;
}

void wks_forget_secrets(struct daemon *d)
{
	for (size_t i = 0; d->wks != NULL && i < d->wks->n; i++) {
		struct buf *s = &d->wks->domains[i].secret;
		if (s->data != NULL)
			sodium_memzero(s->data, s->len);
		buf_free(s);
	}
}

void wks_free(struct daemon *d)
{
	if (d->wks == NULL)
		return;
	wks_forget_secrets(d);
	for (size_t i = 0; i < d->wks->n; i++) {
		buf_free(&d->wks->domains[i].cert);
		buf_free(&d->wks->domains[i].policy);
		buf_free(&d->wks->domains[i].file);
	}
	free(d->wks->domains);
	free(d->wks);
	d->wks = NULL;
}

int wks_key(struct daemon *d, const char *domain, const char *hash, const uint8_t **ret_data,
	    size_t *ret_len)
{
	const struct wks_domain *w = find(d, domain);
	if (w == NULL || strcmp(hash, w->hash) != 0)
		return SM_ENOTFOUND;
	*ret_data = w->cert.data;
	*ret_len = w->cert.len;
	return 0;
}

int wks_policy(struct daemon *d, const char *domain, const uint8_t **ret_data, size_t *ret_len)
{
	const struct wks_domain *w = find(d, domain);
	if (w == NULL)
		return SM_ENOTFOUND;
	*ret_data = w->policy.data;
	*ret_len = w->policy.len;
	return 0;
}

int wks_submission_file(struct daemon *d, const char *domain, const uint8_t **ret_data,
			size_t *ret_len)
{
	const struct wks_domain *w = find(d, domain);
	if (w == NULL)
		return SM_ENOTFOUND;
	*ret_data = w->file.data;
	*ret_len = w->file.len;
	return 0;
}

bool wks_is_submission(const struct daemon *d, const struct wkd_address *rcpt)
{
	const struct wks_domain *w = find(d, rcpt->domain);
	return w != NULL && strcasecmp(rcpt->local, WKS_LOCAL) == 0;
}

/* ---- handling one mail ---- */

/* What the thread needs while it handles one mail. */
struct job {
	struct daemon *d;
	store *s;
	struct wks_domain *w;
	char from[WKS_ADDR_MAX + 1];
	char why[256];                   /* REFUSED: for the log */
};

static enum outcome refuse(struct job *j, const char *why)
{
	snprintf(j->why, sizeof(j->why), "%s", why);
	return REFUSED;
}

/* A context holding the submission key and the extra certificates. */
static int ctx_with_key(const struct wks_domain *w, const struct buf *extra, pgp_ctx **ret)
{
	pgp_ctx *ctx = NULL;
	int r = pgp_ctx_new(&ctx);
	if (r == 0)
		r = pgp_import(ctx, w->secret.data, w->secret.len, PGP_IMPORT_ANY, NULL);
	if (r == 0 && extra != NULL && extra->len > 0)
		r = pgp_import(ctx, extra->data, extra->len, PGP_IMPORT_PUBLIC, NULL);
	if (r < 0)
		pgp_ctx_free(ctx);
	else
		*ret = ctx;
	return r;
}

/* The primary fingerprint of the one certificate in cert. */
static int cert_fpr(const struct buf *cert, struct pgp_fpr *ret)
{
	pgp_ctx *ctx = NULL;
	int r = pgp_ctx_new(&ctx);
	if (r == 0)
		r = pgp_import(ctx, cert->data, cert->len, PGP_IMPORT_PUBLIC, ret);
	pgp_ctx_free(ctx);
	return r;
}

/* The confirmation request, as a mail into the user's Maildir. */
static int request_mail(struct job *j, const struct buf *cert, const struct pgp_fpr *fpr,
			const char *nonce, struct buf *mail)
{
	struct buf text, armored, part, sig;
	struct pgp_recipient to = {*fpr, false};
	pgp_ctx *ctx = NULL;
	char date[64], msgid[WKD_DOMAIN_MAX + 48], hex[33];
	uint8_t id[16];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
	snprintf(msgid, sizeof(msgid), "<wks.%s@%s>", hex, j->w->name);
	buf_init(&text, 4096);
	buf_init(&armored, 64 * 1024);
	buf_init(&part, 128 * 1024);
	buf_init(&sig, 8192);
	int r = ctx_with_key(j->w, cert, &ctx);
	if (r == 0)
		r = wks_request_text(j->w->address, j->from, fpr->hex, nonce, &text);
	if (r == 0)
		r = pgp_encrypt_sign(ctx, &j->w->fpr, &to, 1, text.data, text.len, &armored);
	if (r == 0)
		r = wks_request_part(j->from, armored.data, armored.len, &part);
	if (r == 0)
		r = pgp_sign_detached(ctx, &j->w->fpr, part.data, part.len, true, &sig);
	if (r == 0)
		r = wks_request_mail(j->w->address, j->from, date, msgid, &part, sig.data, sig.len, mail);
	pgp_ctx_free(ctx);
	buf_free(&text);
	buf_free(&armored);
	buf_free(&part);
	buf_free(&sig);
	return r;
}

/* Through the Maildir writer, the one process that writes Maildirs. */
static enum outcome deliver_request(struct job *j, const struct buf *mail)
{
	struct wkd_address a;
	char rcpt[WKS_ADDR_MAX + 1];
	enum smtp_deliver_result res = SMTP_DELIVER_TEMPFAIL;
	if (wkd_address_parse(j->from, &a) < 0 || wkd_address_format(&a, rcpt, sizeof(rcpt)) < 0)
		return refuse(j, "the submitter's address is not usable");
	int r = delivery_link_deliver(j->d->wks->link_fd, rcpt, mail, &res);
	if (r < 0 || res != SMTP_DELIVER_OK) {
		daemon_log("wks %s: cannot deliver the confirmation request to %s: %s", j->w->name,
			   j->from, r < 0 ? "the Maildir writer is gone" : "the Maildir writer refused");
		return RETRY;
	}
	return HANDLED;
}

static enum outcome submission(struct job *j, const uint8_t *key, size_t len)
{
	struct buf cert, mail;
	struct pgp_fpr fpr, bad;
	size_t n = 0;
	char nonce[2 * NONCE_BYTES + 1];
	uint8_t raw[NONCE_BYTES];
	enum outcome o = HANDLED;
	uint64_t now = (uint64_t)time(NULL);
	buf_init(&cert, STORE_CERT_MAX);
	buf_init(&mail, 512 * 1024);
	int r = pgp_bundle_for_address(key, len, j->from, &cert, &n, &bad);
	if (r < 0 || n != 1) {
		o = refuse(j, "the submission is not one public key with a user ID for the sender");
		goto done;
	}
	pgp_ctx *probe = NULL;
	if (pgp_ctx_new(&probe) < 0 || pgp_import(probe, cert.data, cert.len, PGP_IMPORT_PUBLIC, &fpr) < 0 ||
	    !pgp_key_usable_for(probe, &fpr, j->from)) {
		pgp_ctx_free(probe);
		o = refuse(j, "the submitted key is revoked, expired, or has no encryption subkey");
		goto done;
	}
	pgp_ctx_free(probe);
	size_t open = 0;
	r = store_wks_open(j->s, j->from, now, NULL, &open);
	if (r == 0 && open >= WKS_OPEN_MAX) {
		o = refuse(j, "too many submissions wait for the user's confirmation already");
		goto done;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(nonce, sizeof(nonce), raw, sizeof(raw));
	r = store_wks_submit(j->s, j->from, nonce, cert.data, cert.len, now,
			     now + j->d->conf->wks_confirm_timeout);
	if (r == SM_ENOTFOUND) {
		o = refuse(j, "the sender is not a user of the domain");
		goto done;
	}
	if (r < 0) { /* the store is busy or failing: the mail stays for the next round */
		daemon_log("wks %s: submission from %s: %s", j->w->name, j->from, sm_strerror(r));
		o = RETRY;
		goto done;
	}
	if (j->w->auth_submit) { /* the domain vouches for its senders: no confirmation */
		r = store_wks_confirm(j->s, j->from, nonce, now, NULL);
		if (r == 0)
			daemon_log("wks %s: %s submitted %s; published from the next epoch without "
				   "confirmation (auth-submit)", j->w->name, j->from, fpr.hex);
		o = r == 0 ? HANDLED : RETRY;
		goto done;
	}
	if ((r = request_mail(j, &cert, &fpr, nonce, &mail)) < 0) {
		snprintf(j->why, sizeof(j->why), "cannot make the confirmation request: %s",
			 sm_strerror(r));
		o = REFUSED;
		goto done;
	}
	o = deliver_request(j, &mail);
	if (o == HANDLED)
		daemon_log("wks %s: %s submitted %s; confirmation request delivered", j->w->name,
			   j->from, fpr.hex);
done:
	sodium_memzero(nonce, sizeof(nonce));
	buf_free(&cert);
	buf_free(&mail);
	return o;
}

/* A signed response must be signed by the key its nonce was sent for. */
static enum outcome response_signer(struct job *j, const char *nonce, const struct pgp_fpr *signer)
{
	struct buf cert;
	struct pgp_fpr want;
	buf_init(&cert, STORE_CERT_MAX);
	int r = store_wks_pending(j->s, j->from, nonce, (uint64_t)time(NULL), &cert);
	if (r == 0)
		r = cert_fpr(&cert, &want);
	buf_free(&cert);
	if (r == 0 && strcmp(want.hex, signer->hex) == 0)
		return HANDLED;
	return refuse(j, "the response is signed by another key than the one submitted");
}

static enum outcome response(struct job *j, const struct wks_response *resp,
			     const struct pgp_result *res)
{
	struct wkd_address a, f;
	struct buf cert;
	struct pgp_fpr fpr;
	if (wkd_address_parse(resp->address, &a) < 0 || wkd_address_parse(j->from, &f) < 0 ||
	    !wkd_address_equal(&a, &f) || strcasecmp(resp->sender, j->w->address) != 0)
		return refuse(j, "the response's address or sender is not the mail's");
	if (res->verdict == PGP_VERIFIED && response_signer(j, resp->nonce, &res->signer) != HANDLED)
		return REFUSED;
	buf_init(&cert, STORE_CERT_MAX);
	int r = store_wks_confirm(j->s, j->from, resp->nonce, (uint64_t)time(NULL), &cert);
	enum outcome o = HANDLED;
	if (r == SM_ENOTFOUND)
		o = refuse(j, "no submission waits for this nonce (a wrong nonce)");
	else if (r == SM_EEXIST)
		o = refuse(j, "the nonce was used already (a replayed confirmation)");
	else if (r == SM_ESTALE)
		o = refuse(j, "the confirmation came after its submission expired");
	else if (r < 0)
		o = RETRY;
	if (o == HANDLED && cert_fpr(&cert, &fpr) == 0)
		daemon_log("wks %s: %s confirmed %s; published from the next epoch", j->w->name,
			   j->from, fpr.hex);
	buf_free(&cert);
	return o;
}

/* Decrypts the mail with the submission key, the user's open submissions
 * alongside (a response may be signed with one of them). */
static enum outcome decrypt(struct job *j, const struct buf *pgp, struct buf *plain,
			    struct pgp_result *res)
{
	struct buf open;
	pgp_ctx *ctx = NULL;
	buf_init(&open, 4u << 20);
	size_t n = 0;
	int r = store_wks_open(j->s, j->from, (uint64_t)time(NULL), &open, &n);
	if (r == SM_ENOTFOUND) {
		buf_free(&open);
		return refuse(j, "the sender is not a user of the domain");
	}
	if (r == 0)
		r = ctx_with_key(j->w, &open, &ctx);
	if (r == 0)
		r = pgp_decrypt_verify(ctx, pgp->data, pgp->len, WKS_MAX, res, plain);
	pgp_ctx_free(ctx);
	buf_free(&open);
	if (r < 0)
		return RETRY;
	if (res->verdict != PGP_VERIFIED && res->verdict != PGP_UNSIGNED) {
		snprintf(j->why, sizeof(j->why), "cannot use it: %s%s", pgp_verdict_str(res->verdict),
			 res->verdict == PGP_UNKNOWN_SIGNER ? " (not the key submitted)" : "");
		return REFUSED;
	}
	return HANDLED;
}

static enum outcome handle(struct job *j, const uint8_t *msg, size_t len)
{
	struct buf pgp, outer, plain;
	struct wkd_address from;
	struct pgp_result res;
	struct wks_response resp;
	const uint8_t *key = NULL;
	size_t key_len = 0;
	enum outcome o;
	buf_init(&pgp, WKS_MAIL_MAX);
	buf_init(&outer, WKS_MAIL_MAX);
	buf_init(&plain, WKS_MAX);
	if (mime_encrypted_extract(msg, len, &pgp, &outer) < 0) {
		o = refuse(j, "not an encrypted PGP/MIME mail (a response sent in the clear would "
			      "show its nonce to every relay)");
		goto done;
	}
	if (wks_header_from(outer.data, outer.len, &from) < 0 ||
	    wkd_address_format(&from, j->from, sizeof(j->from)) < 0) {
		o = refuse(j, "no single From address");
		goto done;
	}
	if ((o = decrypt(j, &pgp, &plain, &res)) != HANDLED)
		goto done;
	if (wks_submission_parse(plain.data, plain.len, &key, &key_len) == 0)
		o = submission(j, key, key_len);
	else if (wks_response_parse(plain.data, plain.len, &resp) == 0)
		o = response(j, &resp, &res);
	else
		o = refuse(j, "neither a key submission nor a confirmation response");
done:
	if (plain.data != NULL)
		sodium_memzero(plain.data, plain.len);
	buf_free(&pgp);
	buf_free(&outer);
	buf_free(&plain);
	return o;
}

/* Handles the mail at new/NAME of w's Maildir. It is moved to cur/ while
 * it is handled, so that a mail that ends the process is not handled again
 * by the next one (drop_leftover), and back to new/ when it must be
 * tried again. */
static void handle_file(struct daemon *d, store *s, struct wks_domain *w, const char *name)
{
	char fresh[4096 + 300], busy[4096 + 300];
	struct buf msg;
	struct job j = {d, s, w, "", ""};
	enum outcome o;
	snprintf(fresh, sizeof(fresh), "%s/new/%s", w->maildir, name);
	snprintf(busy, sizeof(busy), "%s/cur/%s", w->maildir, name);
	if (rename(fresh, busy) < 0) {
		daemon_log("wks %s: cannot move %s to cur/: %s", w->name, fresh, strerror(errno));
		return;
	}
	buf_init(&msg, WKS_MAIL_MAX);
	int r = buf_read_file(&msg, busy, 0);
	if (r == SM_ETOOBIG)
		o = refuse(&j, "over the size a submission may have");
	else if (r < 0)
		o = RETRY;
	else
		o = handle(&j, msg.data, msg.len);
	buf_free(&msg);
	if (o == RETRY) {
		if (rename(busy, fresh) < 0) /* for the next round */
			daemon_log("wks %s: cannot move %s back to new/: %s", w->name, busy, strerror(errno));
		return;
	}
	if (o == REFUSED)
		daemon_log("wks %s: mail from %s refused: %s", w->name, j.from[0] ? j.from : "?", j.why);
	if (unlink(busy) < 0)
		daemon_log("wks %s: cannot remove %s: %s", w->name, busy, strerror(errno));
}

/* Calls fn with the name of each mail in w's Maildir subdirectory sub. */
static void each_mail(struct wks_domain *w, const char *sub,
		      void (*fn)(struct wks_domain *w, const char *name, void *arg), void *arg)
{
	char dir[4096 + 8];
	snprintf(dir, sizeof(dir), "%s/%s", w->maildir, sub);
	DIR *dh = opendir(dir);
	if (dh == NULL)
		return;
	for (struct dirent *e; (e = readdir(dh)) != NULL;)
		if (e->d_name[0] != '.')
			fn(w, e->d_name, arg);
	closedir(dh);
}

static void handle_one(struct wks_domain *w, const char *name, void *arg)
{
	struct daemon *d = arg;
	handle_file(d, d->wks->store, w, name);
}

/* A mail left in cur/ was being handled when the service's process ended
 * (it crashed, or was killed): it is dropped, not handled again, so that
 * one mail cannot end every process that reads it. */
static void drop_leftover(struct wks_domain *w, const char *name, void *arg)
{
	char path[4096 + 300];
	(void)arg;
	snprintf(path, sizeof(path), "%s/cur/%s", w->maildir, name);
	daemon_log("wks %s: dropped %s: the service ended while it handled this mail", w->name, path);
	if (unlink(path) < 0)
		daemon_log("wks %s: cannot remove %s: %s", w->name, path, strerror(errno));
}

/* ---- the service's process ---- */

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* It changes files only in the state directory (its store) and the
 * submission Maildirs. */
static void confine(struct daemon *d)
{
	const char *dirs[CONF_DOMAINS_MAX + 1];
	size_t n = 0;
	dirs[n++] = d->conf->state_dir;
	for (size_t i = 0; i < d->wks->n && n < CONF_DOMAINS_MAX + 1; i++)
		dirs[n++] = d->wks->domains[i].maildir;
	if (!daemon_unconfined() && sandbox_narrow_writes(dirs, n) < 0) {
		daemon_log("wks: cannot confine the service's process: %s", strerror(errno));
		_exit(70);
	}
}

/* Before the first mail: the process's allow-list (sandbox.h). */
static void allow_list(void)
{
	if (daemon_allow(SANDBOX_MAIL_READER, "Web Key Service's process") < 0)
		_exit(70);
}

void wks_serve(struct daemon *d, int link_fd)
{
	struct wks *wk = d->wks;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	wk->link_fd = link_fd;
	confine(d);
	int r = store_open(d->conf->state_dir, &wk->store);
	if (r < 0) {
		daemon_log("wks: cannot open the store: %s", sm_strerror(r));
		_exit(70);
	}
	daemon_log("wks: the Web Key Service's process (pid %ld) reads the submission Maildir",
		   (long)getpid());
	for (size_t i = 0; i < wk->n; i++)
		each_mail(&wk->domains[i], "cur", drop_leftover, NULL);
	allow_list();
	while (!stopping) {
		for (size_t i = 0; i < wk->n && !stopping; i++)
			each_mail(&wk->domains[i], "new", handle_one, d);
		if (!stopping)
			sleep(WKS_POLL_SECONDS);
	}
	_exit(0);
}
