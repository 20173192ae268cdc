/* epoch.c: the epoch thread (transparency.h). Every epoch-interval, for
 * each domain with pending publications: one transaction commits the new
 * leaves, the delta, the log entry and the signed checkpoint; then the
 * epoch goes to the witnesses and their cosignatures are added; then the
 * bundle the workers serve from is replaced. The thread has its own store
 * connection and is the only writer of the transparency tables. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "atomic_file.h"
#include "daemon.h"
#include "keyholder.h"
#include "kt.h"
#include "kt_delta.h"
#include "kt_trust.h"
#include "kt_witness.h"
#include "num.h"
#include "store_kt.h"
#include "tlog.h"
#include "transparency.h"

#define CHANGES_MAX 10000000u
#define WITNESS_REPLY_MAX 4096
#define WITNESS_TIMEOUT_S 10
#define CHECKPOINT_MAX (64 * 1024)
#define WITNESS_PATH "/sealmail-witness/v1/add-epoch" /* after the witness's URL */

struct epoch_thread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	int started;
	struct daemon *d;
	store *store;
	struct kt_trust_file *witnesses; /* NULL: none configured */
};

/* One pending publication, copied out of the store. */
struct change {
	int64_t user_id;
	char address[KT_ADDRESS_MAX];
	uint8_t *cert;
	size_t cert_len;
	uint8_t *auth; /* NULL: the change carries no authorization */
	size_t auth_len;
	int64_t cert_version;
	int has_leaf;
	struct ptree_leaf old;
	int has_index; /* idx and vrf_proof were computed at publication */
	uint8_t idx[PTREE_IDX_LEN];
	uint8_t vrf_proof[VRF_PROOF_LEN];
};

struct changes {
	struct change *c;
	size_t n, cap;
};

static void changes_free(struct changes *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->c[i].cert);
		free(cs->c[i].auth);
	}
	free(cs->c);
	memset(cs, 0, sizeof(*cs));
}

static int collect(void *arg, const struct store_kt_change *sc)
{
	struct changes *cs = arg;
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 64;
		struct change *c = cap <= CHANGES_MAX ? realloc(cs->c, cap * sizeof(*c)) : NULL;
		if (c == NULL)
			return SM_ENOMEM;
		cs->c = c;
		cs->cap = cap;
	}
	struct change *c = &cs->c[cs->n];
	memset(c, 0, sizeof(*c));
	if (kt_canonical_address(sc->address, c->address) < 0)
		return SM_EPARSE;
	if ((c->cert = malloc(sc->cert_len)) == NULL)
		return SM_ENOMEM;
	memcpy(c->cert, sc->cert, sc->cert_len);
	c->cert_len = sc->cert_len;
	cs->n++; /* from here on changes_free frees what c holds */
	if (sc->auth_len > 0) {
		if ((c->auth = malloc(sc->auth_len)) == NULL)
			return SM_ENOMEM;
		memcpy(c->auth, sc->auth, sc->auth_len);
		c->auth_len = sc->auth_len;
	}
	c->user_id = sc->user_id;
	c->cert_version = sc->cert_version;
	c->has_leaf = sc->has_leaf;
	c->old = sc->leaf;
	c->has_index = sc->has_index;
	memcpy(c->idx, sc->idx, PTREE_IDX_LEN);
	memcpy(c->vrf_proof, sc->vrf_proof, VRF_PROOF_LEN);
	return 0;
}

static int by_idx(const void *a, const void *b)
{
	return memcmp(((const struct change *)a)->idx, ((const struct change *)b)->idx, PTREE_IDX_LEN);
}

/* The index of each change: kept for an existing entry (its VRF proof is
 * stored with it), computed at publication for most new ones (kt_http
 * publish), and from the VRF here for the rest. */
static int index_changes(struct kh_channel *kh, const struct kt_domain *k, struct changes *cs)
{
	uint8_t beta[VRF_OUTPUT_LEN];
	for (size_t i = 0; i < cs->n; i++) {
		struct change *c = &cs->c[i];
		if (c->has_leaf) {
			memcpy(c->idx, c->old.idx, PTREE_IDX_LEN);
			continue;
		}
		if (c->has_index)
			continue;
		int r = keyholder_vrf_prove(kh, k->name, c->address, c->vrf_proof);
		if (r == 0)
			r = vrf_proof_to_hash(c->vrf_proof, beta);
		if (r < 0)
			return r;
		kt_index(beta, c->idx);
	}
	if (cs->n > 1) /* qsort(NULL, 0, ...) is undefined */
		qsort(cs->c, cs->n, sizeof(*cs->c), by_idx);
	return 0;
}

/* ---- the map ---- */

static int map_add(void *arg, const struct ptree_leaf *leaf)
{
	return ptree_set(arg, leaf);
}

/* Rebuilds k->map from the committed leaves. */
static int map_rebuild(store *s, struct kt_domain *k)
{
	struct ptree *t = NULL;
	int r = ptree_new(&t);
	if (r == 0)
		r = store_kt_leaves(s, k->name, map_add, t);
	if (r < 0) {
		ptree_free(t);
		return r;
	}
	ptree_free(k->map);
	k->map = t;
	return 0;
}

/* ---- one epoch ---- */

struct epoch_out {
	struct buf delta, entry, checkpoint;
};

static void epoch_out_init(struct epoch_out *o)
{
	buf_init(&o->delta, (size_t)KT_DELTA_HEADER_LEN + (size_t)KT_DELTA_RECORD_LEN * CHANGES_MAX);
	buf_init(&o->entry, KT_ENTRY_MAX);
	buf_init(&o->checkpoint, CHECKPOINT_MAX);
}

static void epoch_out_free(struct epoch_out *o)
{
	buf_free(&o->delta);
	buf_free(&o->entry);
	buf_free(&o->checkpoint);
}

/* The leaves, the delta and the versions of epoch e, inside the transaction. */
static int commit_changes(store *s, struct kt_domain *k, struct changes *cs, uint64_t e,
			  struct buf *delta)
{
	uint8_t opening[KT_OPENING_LEN], digest[KT_DIGEST_LEN];
	int r = kt_delta_begin(delta, e);
	for (size_t i = 0; r == 0 && i < cs->n; i++) {
		struct change *c = &cs->c[i];
		struct ptree_leaf leaf;
		memcpy(leaf.idx, c->idx, PTREE_IDX_LEN);
		leaf.counter = c->has_leaf ? c->old.counter + 1 : 1;
		leaf.epoch = e;
		randombytes_buf(opening, sizeof(opening));
		kt_key_digest(c->cert, c->cert_len, digest);
		r = kt_commitment(opening, c->address, digest, leaf.commitment);
		if (r == 0)
			r = kt_delta_add(delta, c->idx, c->has_leaf ? &c->old : NULL, leaf.commitment);
		if (r == 0)
			r = store_kt_put_version(s, c->user_id, k->name, c->vrf_proof, &leaf, opening,
						 c->cert, c->cert_len, c->auth, c->auth_len,
						 c->cert_version);
		if (r == 0)
			r = ptree_set(k->map, &leaf);
	}
	sodium_memzero(opening, sizeof(opening));
	return r;
}

/* Appends epoch e's entry to the log and signs the checkpoint. */
static int commit_log(struct kh_channel *kh, store *s, struct kt_domain *k, uint64_t e,
		      struct epoch_out *o)
{
	struct kt_entry entry;
	struct kt_map_line m;
	struct store_kt_log log;
	struct tlog_store st;
	uint8_t leaf[TLOG_HASH_LEN], root[TLOG_HASH_LEN];
	struct buf body;
	memset(&entry, 0, sizeof(entry));
	entry.epoch = e;
	entry.time = (uint64_t)time(NULL);
	ptree_root(k->map, entry.map_root);
	kt_key_digest(o->delta.data, o->delta.len, entry.delta_hash);
	store_kt_log_init(&log, s, k->name, &st);
	buf_init(&body, CHECKPOINT_MAX);
	int r = kt_entry_format(&entry, &o->entry);
	if (r == 0)
		r = kt_entry_leaf_hash(&entry, leaf);
	if (r == 0)
		r = tlog_append(&st, e, leaf);
	if (r == 0)
		r = tlog_root(&st, e + 1, root);
	m.epoch = e;
	memcpy(m.map_root, entry.map_root, sizeof(m.map_root));
	memcpy(m.vrf_pk, k->vrf_pk, sizeof(m.vrf_pk));
	if (r == 0)
		r = kt_checkpoint_body(k->name, e + 1, root, &m, &body);
	if (r == 0)
		r = keyholder_sign(kh, k->name, body.data, body.len, &o->checkpoint);
	if (r == 0)
		r = store_kt_put_epoch(s, k->name, e, &o->entry, &o->delta, &o->checkpoint);
	buf_free(&body);
	return r;
}

/* Makes the next epoch of k if anything is pending (or if there is none
 * yet). 1 if an epoch was made, 0 if nothing to do, or an error: then
 * nothing was committed and the map is rebuilt from the store. */
static int epoch_make(struct kh_channel *kh, store *s, struct kt_domain *k)
{
	struct changes cs = {0};
	struct epoch_out o;
	int r = store_kt_changes(s, k->name, collect, &cs);
	if (r < 0 || (cs.n == 0 && k->has_epoch)) {
		changes_free(&cs);
		return r;
	}
	uint64_t e = k->has_epoch ? k->last_epoch + 1 : 0;
	epoch_out_init(&o);
	r = index_changes(kh, k, &cs);
	if (r == 0)
		r = store_kt_begin(s);
	if (r == 0)
		r = commit_changes(s, k, &cs, e, &o.delta);
	if (r == 0)
		r = commit_log(kh, s, k, e, &o);
	if (r == 0)
		r = store_kt_commit(s);
	if (r < 0) {
		store_kt_rollback(s);
		if (map_rebuild(s, k) < 0)
			daemon_log("transparency %s: cannot rebuild the map", k->name);
	} else {
		daemon_log("transparency %s: epoch %llu committed, %zu change(s)", k->name,
			   (unsigned long long)e, cs.n);
		k->has_epoch = 1;
		k->last_epoch = e;
		r = 1;
	}
	changes_free(&cs);
	epoch_out_free(&o);
	return r;
}

/* ---- the bundle ---- */

/* Replaces STATE_DIR/kt/<domain>.bundle with the latest checkpoint and the
 * map as it is now (which is the map of that checkpoint: only this thread
 * changes either). */
static int bundle_write(struct daemon *d, store *s, struct kt_domain *k)
{
	struct buf cp, out;
	uint8_t hdr[12];
	uint64_t e = 0;
	char name[300];
	buf_init(&cp, CHECKPOINT_MAX);
	buf_init(&out, (size_t)4 << 30);
	int r = store_kt_latest(s, k->name, &e, &cp);
	num_put_be(hdr, e, 8);
	num_put_be(hdr + 8, cp.len, 4);
	if (r == 0)
		r = buf_append_str(&out, KT_BUNDLE_MAGIC);
	if (r == 0)
		r = buf_append(&out, hdr, sizeof(hdr));
	if (r == 0)
		r = buf_append(&out, cp.data, cp.len);
	if (r == 0)
		r = ptree_snapshot(k->map, &out);
	snprintf(name, sizeof(name), "%s.bundle", k->name);
	if (r == 0)
		r = atomic_file_write(d->kt->dir, name, out.data, out.len, 0644);
	buf_free(&cp);
	buf_free(&out);
	return r;
}

/* ---- witnesses ---- */

static size_t on_reply(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	return buf_append(b, p, size * n) == 0 ? size * n : 0;
}

/* POSTs body to url; *ret_status is the HTTP status (0: no answer). */
static int http_post(const char *url, const struct buf *body, long *ret_status, struct buf *reply)
{
	CURL *c = curl_easy_init();
	if (c == NULL)
		return SM_ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body->data);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)WITNESS_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(c);
	*ret_status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : SM_EIO;
}

/* A cosignature reply is one signature line of the witness's name. */
static int cosig_line_valid(const struct buf *reply, const struct note_verifier *w)
{
	size_t nl = strlen(w->name);
	static const char dash[] = "\xe2\x80\x94 ";
	if (reply->len < 4 + nl + 2 || reply->data[reply->len - 1] != '\n' ||
	    memchr(reply->data, '\n', reply->len) != reply->data + reply->len - 1)
		return 0;
	return memcmp(reply->data, dash, 4) == 0 && memcmp(reply->data + 4, w->name, nl) == 0 &&
	       reply->data[4 + nl] == ' ';
}

/* Whether the note already has a signature line by w's name. */
static int has_cosig(const struct buf *note, const struct note_verifier *w)
{
	char head[NOTE_NAME_MAX + 8];
	int n = snprintf(head, sizeof(head), "\n\xe2\x80\x94 %s ", w->name);
	for (size_t i = 0; n > 0 && i + (size_t)n <= note->len; i++)
		if (memcmp(note->data + i, head, (size_t)n) == 0)
			return 1;
	return 0;
}

/* Sends epoch e to witness i; on 200 adds the cosignature to the epoch's
 * checkpoint. Returns the witness's size afterwards, or an error. */
static int witness_send(store *s, struct kt_domain *k, const struct kt_trust_file *wf, size_t i,
			uint64_t e, uint64_t *ret_size)
{
	const struct note_verifier *w = &wf->trust.witness[i];
	struct buf entry, delta, cp, req, reply;
	long status = 0;
	char url[KT_URL_MAX + 64];
	size_t n = strlen(wf->url[i]);
	snprintf(url, sizeof(url), "%.*s" WITNESS_PATH, (int)(n > 0 && wf->url[i][n - 1] == '/' ? n - 1 : n),
		 wf->url[i]);
	buf_init(&entry, KT_ENTRY_MAX);
	buf_init(&delta, (size_t)KT_DELTA_HEADER_LEN + (size_t)KT_DELTA_RECORD_LEN * CHANGES_MAX);
	buf_init(&cp, CHECKPOINT_MAX);
	buf_init(&req, KT_WITNESS_REQUEST_MAX);
	buf_init(&reply, WITNESS_REPLY_MAX);
	int r = store_kt_epoch(s, k->name, e, &entry, &delta, &cp);
	if (r == 0)
		r = kt_witness_request(e, entry.data, entry.len, delta.data, delta.len, cp.data, cp.len,
				       &req);
	if (r == 0)
		r = http_post(url, &req, &status, &reply);
	if (r == 0 && status == 409 && reply.len > 0 && reply.len < 24) {
		char num[24];
		memcpy(num, reply.data, reply.len);
		num[reply.len] = 0;
		*ret_size = strtoull(num, NULL, 10);
		daemon_log("transparency %s: witness %s is at size %llu", k->name, w->name,
			   (unsigned long long)*ret_size);
	} else if (r == 0 && status == 200 && cosig_line_valid(&reply, w)) {
		/* after a crash the witness may cosign a checkpoint again whose
		 * first cosignature was stored already: keep one */
		if (!has_cosig(&cp, w))
			r = buf_append(&cp, reply.data, reply.len);
		if (r == 0)
			r = store_kt_set_checkpoint(s, k->name, e, &cp);
		*ret_size = e + 1;
	} else if (r == 0) {
		daemon_log("transparency %s: witness %s refused epoch %llu (HTTP %ld): %.*s", k->name,
			   w->name, (unsigned long long)e, status,
			   (int)(reply.len > 200 ? 200 : reply.len), reply.data ? (char *)reply.data : "");
		r = SM_ECRYPTO;
	} else {
		daemon_log("transparency %s: witness %s at %s did not answer", k->name, w->name,
			   wf->url[i]);
	}
	buf_free(&entry);
	buf_free(&delta);
	buf_free(&cp);
	buf_free(&req);
	buf_free(&reply);
	return r;
}

/* Brings witness i up to the latest epoch, resending what it missed;
 * 1 if it cosigned anything. */
static int witness_catch_up(store *s, struct kt_domain *k, const struct kt_trust_file *wf, size_t i)
{
	const char *name = wf->trust.witness[i].name;
	uint64_t size = 0;
	int cosigned = 0;
	if (wf->url[i][0] == 0 || store_kt_witness_size(s, k->name, name, &size) < 0)
		return 0;
	for (unsigned tries = 0; size <= k->last_epoch && tries < 1000; tries++) {
		uint64_t next = size;
		if (witness_send(s, k, wf, i, size, &next) < 0)
			break;
		if (next > k->last_epoch + 1)
			break; /* a witness ahead of the log: something is very wrong */
		cosigned |= next == size + 1;
		size = next;
		if (store_kt_set_witness_size(s, k->name, name, size) < 0)
			break;
	}
	return cosigned;
}

/* ---- the thread ---- */

/* One round for one domain: an epoch if anything is pending, the
 * witnesses brought up to date, and a new bundle if either changed
 * anything (or always, with force). */
static void domain_step(struct epoch_thread *t, struct kt_domain *k, int force)
{
	int r = epoch_make(keyholder_channel(t->d, KH_CHANNEL_EPOCH), t->store, k);
	int changed = force || r == 1;
	if (r < 0) {
		daemon_log("transparency %s: epoch failed, nothing committed: %s", k->name, sm_strerror(r));
		return;
	}
	if (t->witnesses != NULL)
		for (size_t i = 0; i < t->witnesses->trust.nwitness; i++)
			changed |= witness_catch_up(t->store, k, t->witnesses, i);
	if (changed && bundle_write(t->d, t->store, k) < 0)
		daemon_log("transparency %s: cannot write the bundle: %s", k->name, strerror(errno));
}

static void *epoch_main(void *arg)
{
	struct epoch_thread *t = arg;
	unsigned interval = t->d->conf->epoch_interval;
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += interval;
		while (!t->stop && pthread_cond_timedwait(&t->cv, &t->mu, &until) != ETIMEDOUT)
			;
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->mu);
		for (size_t i = 0; i < t->d->kt->n; i++)
			domain_step(t, &t->d->kt->domains[i], 0);
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* The map must give the root the last epoch committed to. */
static int domain_load(store *s, struct kt_domain *k)
{
	struct buf cp;
	struct note_checkpoint c;
	struct kt_map_line m;
	uint8_t root[PTREE_HASH_LEN];
	size_t text_len = 0;
	struct note_sig_status st;
	int r = map_rebuild(s, k);
	if (r < 0)
		return r;
	buf_init(&cp, CHECKPOINT_MAX);
	r = store_kt_latest(s, k->name, &k->last_epoch, &cp);
	if (r == SM_ENOTFOUND) {
		buf_free(&cp);
		k->has_epoch = 0;
		return ptree_count(k->map) == 0 ? 0 : SM_EPARSE;
	}
	if (r == 0)
		r = note_verify(cp.data, cp.len, &k->log_vkey, 1, &st, &text_len);
	if (r == 0)
		r = note_checkpoint_parse(cp.data, text_len, &c);
	if (r == 0)
		r = kt_map_line_parse(&c, &m);
	ptree_root(k->map, root);
	if (r == 0 && (memcmp(root, m.map_root, sizeof(root)) != 0 || m.epoch != k->last_epoch))
		r = SM_EPARSE;
	k->has_epoch = r == 0;
	buf_free(&cp);
	return r;
}

static int load_witnesses(struct epoch_thread *t, const char *path)
{
	struct buf b;
	char err[256];
	buf_init(&b, KT_TRUST_FILE_MAX);
	int r = buf_read_file(&b, path, 0);
	if (r < 0) {
		daemon_log("witnesses-file %s: cannot read it: %s", path, strerror(errno));
		buf_free(&b);
		return -1;
	}
	t->witnesses = malloc(sizeof(*t->witnesses));
	r = t->witnesses == NULL ? SM_ENOMEM
				 : kt_trust_parse(b.data ? (const char *)b.data : "", b.len,
						  t->witnesses, err, sizeof(err));
	buf_free(&b);
	if (r < 0) {
		daemon_log("witnesses-file %s: %s", path, r == SM_ENOMEM ? "out of memory" : err);
		return -1;
	}
	return 0;
}

int kt_epoch_start(struct daemon *d)
{
	struct epoch_thread *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -1;
	d->kt->thread = t;
	t->d = d;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	if (d->conf->witnesses_file != NULL && load_witnesses(t, d->conf->witnesses_file) < 0)
		return -1;
	int r = store_open(d->conf->state_dir, &t->store);
	if (r < 0) {
		daemon_log("transparency: cannot open the store: %s", sm_strerror(r));
		return -1;
	}
	for (size_t i = 0; i < d->kt->n; i++) {
		struct kt_domain *k = &d->kt->domains[i];
		r = domain_load(t->store, k);
#ifdef SEALMAIL_DISHONEST
		/* The tests' dishonest operator: it serves whatever its tampered
		 * database says; witnesses and clients must catch it. */
		if (r == SM_EPARSE) {
			daemon_log("DISHONEST TEST BUILD: serving %s's map although it does not match "
				   "the last checkpoint", k->name);
			k->has_epoch = 1;
			r = 0;
		}
#endif
		if (r < 0) {
			daemon_log("transparency %s: the stored map does not match the last signed "
				   "checkpoint (%s); refusing to serve", k->name, sm_strerror(r));
			return -1;
		}
		domain_step(t, k, 1);
	}
	if (pthread_create(&t->th, NULL, epoch_main, t) != 0)
		return -1;
	t->started = 1;
	return 0;
}

void kt_epoch_stop(struct daemon *d)
{
	struct epoch_thread *t = d->kt ? d->kt->thread : NULL;
	if (t == NULL)
		return;
	if (t->started) {
		pthread_mutex_lock(&t->mu);
		t->stop = 1;
		pthread_cond_signal(&t->cv);
		pthread_mutex_unlock(&t->mu);
		pthread_join(t->th, NULL);
	}
	store_close(t->store);
	free(t->witnesses);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
	d->kt->thread = NULL;
}
