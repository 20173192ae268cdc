/* transparency.c (CLI): lookup proofs and client state (transparency.h). */
#include "transparency.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "fetch.h"
#include "kt.h"
#include "kt_trust.h"
#include "wkd.h"

#define STATE_MAX 4096
#define OWN_MAGIC "sealmail-kt-owner/v1\n"

/* ---- files ---- */

/* Reads home/sub/name into b; SM_ENOTFOUND if it does not exist. */
static int read_home_file(const char *home, const char *sub, const char *name, struct buf *b)
{
	char path[CLI_PATH_MAX + 600];
	snprintf(path, sizeof(path), "%s%s%s/%s", home, sub[0] ? "/" : "", sub, name);
	return buf_read_file(b, path, 0);
}

static int write_home_file(const char *home, const char *sub, const char *name, const struct buf *b)
{
	char dir[CLI_PATH_MAX + 64];
	snprintf(dir, sizeof(dir), "%s/%s", home, sub);
	/* a lookup may be the first thing a new key store does */
	if ((mkdir(home, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
		return SM_EIO;
	return atomic_file_write(dir, name, b->data, b->len, 0600);
}

static int load_trust(const struct cli *c, struct kt_trust *ret)
{
	struct kt_trust_file f; /* about 13 KB */
	struct buf b;
	char err[256];
	buf_init(&b, KT_TRUST_FILE_MAX);
	int r = read_home_file(c->home, "", "witnesses", &b);
	if (r == SM_ENOTFOUND) {
		memset(ret, 0, sizeof(*ret));
		buf_free(&b);
		return 0;
	}
	if (r == 0)
		r = kt_trust_parse(b.data ? (const char *)b.data : "", b.len, &f, err, sizeof(err));
	buf_free(&b);
	if (r < 0) {
		cli_error("%s/witnesses: %s", c->home, r == SM_EPARSE ? err : sm_strerror(r));
		return EX_CONFIG;
	}
	*ret = f.trust;
	return 0;
}

/* The domain's state; size 0 if we never saw its log. */
static int load_state(const struct cli *c, const char *domain, struct kt_state *ret)
{
	struct buf b;
	buf_init(&b, STATE_MAX);
	memset(ret, 0, sizeof(*ret));
	int r = read_home_file(c->home, "kt", domain, &b);
	if (r == 0)
		r = kt_state_parse(b.data, b.len, ret);
	buf_free(&b);
	if (r == SM_ENOTFOUND)
		return 0;
	if (r < 0) {
		cli_error("%s/kt/%s: unreadable or damaged (%s); it records what %s's log showed "
			  "before, so it is not replaced silently", c->home, domain, sm_strerror(r), domain);
		return EX_DATAERR;
	}
	return 0;
}

static int save_state(const struct cli *c, const char *domain, const struct kt_state *s)
{
	struct buf b;
	buf_init(&b, STATE_MAX);
	int r = kt_state_format(s, &b);
	if (r == 0)
		r = write_home_file(c->home, "kt", domain, &b);
	buf_free(&b);
	if (r < 0) {
		cli_error("cannot write %s/kt/%s: %s", c->home, domain, strerror(errno));
		return EX_CANTCREAT;
	}
	return 0;
}

/* ---- fetching ---- */

static int append_escaped(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			    strchr("-._~", ch) != NULL;
		if ((plain ? buf_append(b, s, 1) : buf_appendf(b, "%%%02X", ch)) < 0)
			return -1;
	}
	return 0;
}

static int proof_url(const struct wkd_address *a, const char *host_prefix, uint64_t since,
		     enum kt_ask ask, struct buf *url)
{
	char hash[WKD_HASH_LEN + 1];
	if (wkd_hash_local_part(a->local, hash) < 0 ||
	    buf_appendf(url, "https://%s%s/.well-known/sealmail/v1/%s/lookup/%s?l=", host_prefix,
			a->domain, a->domain, hash) < 0 ||
	    append_escaped(url, a->local) < 0)
		return -1;
	if (since > 0 && buf_appendf(url, "&since=%llu", (unsigned long long)since) < 0)
		return -1;
	if (ask == KT_ASK_AUTHORIZATION && buf_append_str(url, "&authorization=1") < 0)
		return -1;
	return buf_append(url, "", 1);
}

/* 0 with the proof text, KT_NO_LOG on 404, or an exit status. */
static int fetch_proof(const struct wkd_address *a, uint64_t since, enum kt_ask ask,
		       struct kt_lookup *l)
{
	struct buf adv, direct;
	struct fetch_result f;
	buf_init(&adv, 2048);
	buf_init(&direct, 2048);
	int st = EX_SOFTWARE;
	if (proof_url(a, "openpgpkey.", since, ask, &adv) < 0 ||
	    proof_url(a, "", since, ask, &direct) < 0)
		goto done;
	int which = fetch_https_directory((const char *)adv.data, (const char *)direct.data, NULL, 0,
					  NULL, &l->text, &f);
	if (which < 0)
		goto done;
	snprintf(l->source, sizeof(l->source), "%s",
		 (const char *)(which == 1 ? direct.data : adv.data));
	if (f.outcome == FETCH_TOO_LARGE) {
		cli_error("%s: the lookup proof is larger than %u bytes", l->source, KT_PROOF_MAX);
		st = EX_PROTOCOL;
	} else if (f.outcome != FETCH_OK) {
		cli_error("%s: %s", l->source, f.detail);
		st = f.outcome == FETCH_TIMEOUT ? EX_TEMPFAIL : EX_UNAVAILABLE;
	} else if (f.status == 404 || f.status == 405) {
		st = KT_NO_LOG;
	} else if (f.status == 503) {
		cli_error("%s: the domain's transparency log has no epoch yet; try again shortly",
			  l->source);
		st = EX_TEMPFAIL;
	} else if (f.status != 200) {
		cli_error("%s: HTTP status %ld", l->source, f.status);
		st = EX_UNAVAILABLE;
	} else {
		st = 0;
	}
done:
	buf_free(&adv);
	buf_free(&direct);
	return st;
}

/* ---- checking ---- */

static int refuse(const char *domain, const char *what, enum kt_why why)
{
	cli_error("%s's key directory gave a proof that does not hold: %s\n"
		  "  %s\n"
		  "No key from %s is used until this is explained; tell its administrator.",
		  domain, what, kt_why_text(why), domain);
	return EX_PROTOCOL;
}

int kt_lookup(struct cli *c, const char *address, enum kt_ask ask, struct kt_lookup *l)
{
	struct wkd_address a;
	struct kt_trust trust;
	struct kt_state last;
	enum kt_why why = KT_OK;
	memset(l, 0, sizeof(*l));
	buf_init(&l->text, KT_PROOF_MAX);
	if (wkd_address_parse(address, &a) < 0) {
		cli_error("'%s' is not an email address", address);
		return EX_USAGE;
	}
	int st = load_trust(c, &trust);
	if (st == 0)
		st = load_state(c, a.domain, &last);
	if (st == 0)
		st = fetch_proof(&a, last.size, ask, l);
	if (st == KT_NO_LOG && last.size > 0) {
		cli_error("%s served a transparency log before (checkpoint %llu) and now serves none: "
			  "refusing a downgrade to unproven keys", a.domain,
			  (unsigned long long)last.size);
		return EX_PROTOCOL;
	}
	if (st != 0)
		return st;
	if ((l->proof = malloc(sizeof(*l->proof))) == NULL)
		return EX_OSERR;
	if (kt_proof_parse(l->text.data, l->text.len, l->proof) < 0)
		return refuse(a.domain, "it is malformed", KT_WHY_MALFORMED);
	if (kt_proof_verify(l->proof, address, &trust, &last, &l->res, &why) < 0)
		return refuse(a.domain, "a check failed", why);
	return save_state(c, a.domain, &l->res.new_state);
}

void kt_lookup_free(struct kt_lookup *l)
{
	free(l->proof);
	l->proof = NULL;
	buf_free(&l->text);
}

/* ---- the owner's count ---- */

static int own_name(const char *address, char ret[KT_ADDRESS_MAX])
{
	return kt_canonical_address(address, ret);
}

/* The first line after the magic: "version N", or "changes N" as written
 * before versions were signed (one change per epoch then, so the same
 * number); then one "device FPR" line per key of the owner's other devices. */
static int own_parse(const char *text, struct kt_own *ret)
{
	unsigned long long n = 0;
	char tail;
	memset(ret, 0, sizeof(*ret));
	if (strncmp(text, OWN_MAGIC, strlen(OWN_MAGIC)) != 0)
		return SM_EPARSE;
	text += strlen(OWN_MAGIC);
	if ((sscanf(text, "version %llu%c", &n, &tail) != 2 &&
	     sscanf(text, "changes %llu%c", &n, &tail) != 2) || tail != '\n')
		return SM_EPARSE;
	ret->version = n;
	for (const char *l = strchr(text, '\n') + 1; *l != 0; l = strchr(l, '\n') + 1) {
		struct pgp_fpr f;
		if (strncmp(l, "device ", 7) != 0 || strlen(l) < 7 + PGP_FPR_HEX + 1 ||
		    l[7 + PGP_FPR_HEX] != '\n' || ret->ndevices == PINS_KEYS_MAX)
			return SM_EPARSE;
		memcpy(f.hex, l + 7, PGP_FPR_HEX);
		f.hex[PGP_FPR_HEX] = 0;
		ret->devices[ret->ndevices++] = f;
	}
	return 0;
}

int kt_own_load(const struct cli *c, const char *address, struct kt_own *ret)
{
	char name[KT_ADDRESS_MAX];
	struct buf b;
	if (own_name(address, name) < 0)
		return SM_EINVAL;
	buf_init(&b, STATE_MAX);
	int r = read_home_file(c->home, "kt-own", name, &b);
	if (r == 0 && buf_append(&b, "", 1) < 0)
		r = SM_ENOMEM;
	if (r == 0)
		r = own_parse((const char *)b.data, ret);
	buf_free(&b);
	if (r == SM_ENOTFOUND) {
		memset(ret, 0, sizeof(*ret));
		return 0;
	}
	return r;
}

int kt_own_save(const struct cli *c, const char *address, const struct kt_own *own)
{
	char name[KT_ADDRESS_MAX];
	struct buf b;
	if (own_name(address, name) < 0 || own->ndevices > PINS_KEYS_MAX)
		return SM_EINVAL;
	buf_init(&b, STATE_MAX);
	int r = buf_appendf(&b, OWN_MAGIC "version %llu\n", (unsigned long long)own->version);
	for (size_t i = 0; r == 0 && i < own->ndevices; i++)
		r = buf_appendf(&b, "device %s\n", own->devices[i].hex);
	if (r == 0)
		r = write_home_file(c->home, "kt-own", name, &b);
	buf_free(&b);
	return r;
}
