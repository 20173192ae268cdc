/* kt_http.c: the transparency endpoints of the key directory
 * (transparency.h), all GET, all public data:
 *
 *   /.well-known/sealmail/v1/<domain>/lookup/<wkd hash>?l=<local>[&since=<size>]
 *        [&authorization=1]
 *        the lookup proof (kt_proof.h) for the address; l is needed only
 *        to prove that an address without a key is absent; since asks for
 *        a consistency proof from the client's last checkpoint size;
 *        authorization=1 for the version's signed authorization
 *   /.well-known/sealmail/v1/<domain>/checkpoint   the latest cosigned checkpoint
 *   /.well-known/sealmail/v1/<domain>/consistency/<old>
 *        the consistency proof from size old to the latest checkpoint:
 *        "<old> <new>\n", then one base64 hash a line
 *   /.well-known/sealmail/v1/<domain>/entry/<e>    epoch e's log entry
 *   /.well-known/sealmail/v1/<domain>/delta/<e>    epoch e's delta, for auditors
 *   /.well-known/sealmail/v1/<domain>/tile/...     the epoch log as c2sp.org/tlog-tiles
 *        (hash tiles tile/<L>/<N>[.p/<W>] and entry bundles
 *        tile/entries/<N>[.p/<W>], each epoch entry prefixed by its length)
 *
 * Proofs come from the domain's bundle (the checkpoint and the map it
 * commits to), mapped read-only and replaced when the epoch thread renames
 * a new one into place; openings and keys from the store, by the counter
 * the bundle's map holds, so a proof is always consistent with its
 * checkpoint even while a newer epoch is being written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "b64.h"
#include "daemon.h"
#include "http.h"
#include "keyholder.h"
#include "kt.h"
#include "kt_proof.h"
#include "num.h"
#include "store_kt.h"
#include "tlog.h"
#include "transparency.h"
#include "wkd.h"

#define PREFIX "/.well-known/sealmail/v1/"
#define EPOCH_DIGITS_MAX 19

int kt_bundle_parse(const uint8_t *data, size_t len, uint64_t *ret_epoch,
		    const uint8_t **ret_checkpoint, size_t *ret_checkpoint_len,
		    struct ptree_view *ret_map)
{
	size_t m = strlen(KT_BUNDLE_MAGIC);
	if (len < m + 12 || memcmp(data, KT_BUNDLE_MAGIC, m) != 0)
		return SM_EPARSE;
	uint64_t cp_len = num_get_be(data + m + 8, 4);
	if (cp_len == 0 || cp_len > len - m - 12)
		return SM_EPARSE;
	*ret_epoch = num_get_be(data + m, 8);
	*ret_checkpoint = data + m + 12;
	*ret_checkpoint_len = (size_t)cp_len;
	ret_map->data = data + m + 12 + cp_len;
	ret_map->len = len - m - 12 - (size_t)cp_len;
	return ptree_view_check(ret_map);
}

void kt_http_unmap(struct kt_domain *k)
{
	if (k->bundle != NULL)
		munmap((void *)k->bundle, k->bundle_len);
	k->bundle = NULL;
	k->bundle_len = 0;
}

/* Maps the bundle again if the epoch thread replaced it. */
static int bundle_refresh(struct daemon *d, struct kt_domain *k)
{
	char path[4400];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s.bundle", d->kt->dir, k->name);
	if (stat(path, &st) < 0)
		return SM_ENOTFOUND;
	int64_t mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	if (k->bundle != NULL && (uint64_t)st.st_ino == k->bundle_ino && mtime == k->bundle_mtime_ns)
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SM_ENOTFOUND;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		close(fd);
		return SM_EIO;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return SM_EIO;
	kt_http_unmap(k);
	k->bundle = p;
	k->bundle_len = (size_t)st.st_size;
	k->bundle_ino = (uint64_t)st.st_ino;
	k->bundle_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return 0;
}

struct bundle {
	uint64_t epoch;
	const uint8_t *checkpoint;
	size_t checkpoint_len;
	struct ptree_view map;
};

static int bundle_get(struct daemon *d, struct kt_domain *k, struct bundle *b)
{
	int r = bundle_refresh(d, k);
	if (r == 0)
		r = kt_bundle_parse(k->bundle, k->bundle_len, &b->epoch, &b->checkpoint,
				    &b->checkpoint_len, &b->map);
	return r;
}

/* The answer being made for one request: its body is copied into the
 * caller's buffer, where it stays until the answer is sent. */
struct answer {
	struct http_response *ret;
	struct buf *body;
};

static void reply(struct answer *a, int status, const char *type, const void *data, size_t len)
{
	static const char too_big[] = "the answer is too large\n";
	buf_reset(a->body);
	if (len > 0 && buf_append(a->body, data, len) < 0) {
		status = 500;
		type = "text/plain; charset=utf-8";
		data = too_big;
		len = sizeof(too_big) - 1;
	} else {
		data = a->body->data;
	}
	*a->ret = (struct http_response){.status = status,
					 .content_type = type,
					 .cache_control = "no-cache",
					 .content_length = len,
					 .body = data,
					 .body_len = len};
}

static void reply_text(struct answer *a, int status, const char *text)
{
	reply(a, status, "text/plain; charset=utf-8", text, strlen(text));
}

static int parse_epoch_n(const char *s, size_t n, uint64_t *ret)
{
	return n <= EPOCH_DIGITS_MAX && num_parse_dec((const uint8_t *)s, n, ret) == 0 ? 0 : -1;
}

static int parse_epoch(const char *s, uint64_t *ret)
{
	return parse_epoch_n(s, strlen(s), ret);
}

/* ---- lookup proofs ---- */

struct lookup {
	struct kt_proof *p;
	struct buf cert;
	struct buf auth;
	struct ptree_proof tp;
	struct store_kt_user user;
	int known;
};

/* The address's index and VRF proof: stored for a user with a committed
 * key, else computed from l (which must hash to the requested hash). */
static int lookup_index(struct daemon *d, struct kt_domain *k, const char *hash, const char *l,
			struct lookup *lk, uint8_t idx[PTREE_IDX_LEN])
{
	char wh[WKD_HASH_LEN + 1], addr[KT_ADDRESS_MAX + 1];
	uint8_t beta[VRF_OUTPUT_LEN];
	int r = store_kt_user(d->store, k->name, hash, &lk->user);
	if (r == 0) {
		lk->known = 1;
		memcpy(idx, lk->user.idx, PTREE_IDX_LEN);
		memcpy(lk->p->vrf_proof, lk->user.vrf_proof, VRF_PROOF_LEN);
		return kt_canonical_address(lk->user.address, lk->p->address);
	}
	if (r != SM_ENOTFOUND)
		return r;
	if (l == NULL || wkd_hash_local_part(l, wh) < 0 || strcmp(wh, hash) != 0)
		return SM_EINVAL;
	snprintf(addr, sizeof(addr), "%s@%s", l, k->name);
	r = kt_canonical_address(addr, lk->p->address);
	if (r == 0)
		r = keyholder_vrf_prove(d->kh, k->name, lk->p->address, lk->p->vrf_proof);
	if (r == 0)
		r = vrf_proof_to_hash(lk->p->vrf_proof, beta);
	if (r == 0)
		kt_index(beta, idx);
	return r;
}

/* The proof for lk; the version's authorization only when asked (with_auth):
 * a sender does not need it, and it adds about 480 bytes to the proof. */
static int lookup_fill(struct daemon *d, struct kt_domain *k, const struct bundle *b,
		       struct lookup *lk, uint64_t since, bool with_auth)
{
	struct kt_proof *p = lk->p;
	int r;
	p->log_key = k->log_vkey;
	p->checkpoint = b->checkpoint;
	p->checkpoint_len = b->checkpoint_len;
	p->path = lk->tp.path;
	if (lk->tp.found) {
		if (!lk->known)
			return SM_EPARSE; /* the map holds an entry the store does not know */
		p->found = KT_PRESENT;
		p->counter = lk->tp.leaf.counter;
		p->epoch = lk->tp.leaf.epoch;
		r = store_kt_version(d->store, lk->user.user_id, p->counter, p->opening, &lk->cert,
				     &lk->auth);
		if (r < 0)
			return r;
		p->auth_len = with_auth ? lk->auth.len : 0;
		if (p->auth_len > 0)
			memcpy(p->auth, lk->auth.data, p->auth_len);
		p->key = lk->cert.data;
		p->key_len = lk->cert.len;
	} else {
		p->found = lk->tp.has_leaf ? KT_ABSENT : KT_EMPTY;
		p->neighbour = lk->tp.leaf;
	}
	uint64_t size = b->epoch + 1; /* since == size needs no proof; since > size: rollback */
	if (since > 0 && since < size) {
		struct store_kt_log log;
		struct tlog_store st;
		store_kt_log_init(&log, d->store, k->name, &st);
		p->has_consistency = 1;
		p->old_size = since;
		r = tlog_prove_consistency(&st, since, size, p->consistency, &p->consistency_len);
		if (r < 0)
			return r;
	}
	return 0;
}

static void handle_lookup(struct daemon *d, struct kt_domain *k, struct answer *a,
			  const char *hash, const char *query)
{
	char lbuf[WKD_LOCAL_MAX + 1], sbuf[EPOCH_DIGITS_MAX + 1], abuf[2];
	struct bundle b;
	struct lookup lk;
	struct buf out;
	uint8_t idx[PTREE_IDX_LEN];
	uint64_t since = 0;
	memset(&lk, 0, sizeof(lk));
	buf_init(&lk.cert, KT_PROOF_KEY_MAX);
	buf_init(&lk.auth, KT_AUTH_MAX);
	buf_init(&out, KT_PROOF_MAX);
	size_t qlen = query != NULL ? strlen(query) : 0;
	int lr = http_query_param(query, qlen, "l", lbuf, sizeof(lbuf));
	int sr = http_query_param(query, qlen, "since", sbuf, sizeof(sbuf));
	int ar = http_query_param(query, qlen, "authorization", abuf, sizeof(abuf));
	const char *l = lr == 0 ? lbuf : NULL;
	int r = strlen(hash) == WKD_HASH_LEN && (lr == 0 || lr == SM_ENOTFOUND) &&
			(sr == SM_ENOTFOUND || (sr == 0 && parse_epoch(sbuf, &since) == 0)) &&
			(ar == SM_ENOTFOUND || (ar == 0 && strcmp(abuf, "1") == 0))
		? 0
		: SM_EINVAL;
	if (r == 0 && (lk.p = calloc(1, sizeof(*lk.p))) == NULL)
		r = SM_ENOMEM;
	if (r == 0)
		r = bundle_get(d, k, &b);
	if (r == 0)
		r = lookup_index(d, k, hash, l, &lk, idx);
	if (r == 0)
		r = ptree_view_prove(&b.map, idx, &lk.tp);
	if (r == 0)
		r = lookup_fill(d, k, &b, &lk, since, ar == 0);
	if (r == 0)
		r = kt_proof_format(lk.p, &out);
	if (r == 0)
		reply(a, 200, "text/plain; charset=utf-8", out.data, out.len);
	else if (r == SM_EINVAL)
		reply_text(a, 400, "usage: " PREFIX "<domain>/lookup/<wkd hash>?l=<local part>"
				     "[&since=<size>][&authorization=1]; l is required for an "
				     "address without a key\n");
	else if (r == SM_ENOTFOUND)
		reply_text(a, 503, "the transparency log has no epoch yet; try again shortly\n");
	else {
		daemon_log("https: lookup proof for %s failed: %s", k->name, sm_strerror(r));
		reply_text(a, 500, "the lookup proof could not be made\n");
	}
	buf_free(&lk.cert);
	buf_free(&lk.auth);
	buf_free(&out);
	free(lk.p);
}

/* ---- tiles ---- */

/* Reads "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]" (rest starts
 * after "tile/"): loosely, then only if formatting the result gives back
 * the very same path, so every tile has exactly one name. *ret_level is -1
 * for entries. */
static int tile_parse(const char *rest, int *ret_level, struct tlog_tile *ret)
{
	char canon[TLOG_PATH_MAX], req[TLOG_PATH_MAX + 8];
	const char *slash = strchr(rest, '/');
	struct tlog_tile t = {0, 0, TLOG_TILE_WIDTH};
	int entries = strncmp(rest, "entries/", 8) == 0;
	uint64_t level = 0;
	if (slash == NULL || strlen(rest) >= TLOG_PATH_MAX)
		return -1;
	if (!entries && (slash - rest > 2 || parse_epoch_n(rest, (size_t)(slash - rest), &level) < 0 ||
			 level > TLOG_LEVEL_MAX))
		return -1;
	const char *p = slash + 1, *dot = strstr(p, ".p/");
	size_t nlen = dot ? (size_t)(dot - p) : strlen(p);
	for (size_t i = 0; i < nlen; i++) {
		if (p[i] >= '0' && p[i] <= '9') {
			if (t.n > (UINT64_MAX - 9) / 10)
				return -1;
			t.n = t.n * 10 + (uint64_t)(p[i] - '0');
		} else if (p[i] != 'x' && p[i] != '/') {
			return -1;
		}
	}
	uint64_t w = TLOG_TILE_WIDTH;
	if (dot != NULL && (parse_epoch_n(dot + 3, strlen(dot + 3), &w) < 0 || w == 0 ||
			    w >= TLOG_TILE_WIDTH))
		return -1;
	t.width = (unsigned)w;
	t.level = (unsigned)level;
	int r = entries ? tlog_entries_path(t.n, t.width, canon) : tlog_tile_path(&t, canon);
	snprintf(req, sizeof(req), "tile/%s", rest);
	if (r < 0 || strcmp(canon, req) != 0)
		return -1;
	*ret_level = entries ? -1 : (int)level;
	*ret = t;
	return 0;
}

static int tile_body(struct daemon *d, struct kt_domain *k, int level, const struct tlog_tile *t,
		     struct buf *out)
{
	struct store_kt_log log;
	struct tlog_store st;
	struct buf entry;
	uint8_t h[TLOG_HASH_LEN], len2[2];
	int r = 0;
	store_kt_log_init(&log, d->store, k->name, &st);
	buf_init(&entry, KT_ENTRY_MAX);
	for (unsigned i = 0; r == 0 && i < t->width; i++) {
		uint64_t at = t->n * TLOG_TILE_WIDTH + i;
		if (level >= 0) {
			r = st.read_hash(st.ctx, (unsigned)level * TLOG_TILE_HEIGHT, at, h);
			if (r == 0)
				r = buf_append(out, h, sizeof(h));
			continue;
		}
		buf_reset(&entry);
		r = store_kt_epoch(d->store, k->name, at, &entry, NULL, NULL);
		len2[0] = (uint8_t)(entry.len >> 8);
		len2[1] = (uint8_t)entry.len;
		if (r == 0)
			r = buf_append(out, len2, 2);
		if (r == 0)
			r = buf_append(out, entry.data, entry.len);
	}
	buf_free(&entry);
	return r;
}

/* A tile of the log as of the bundle's checkpoint: a full tile once it is
 * full, a partial one of any width up to what the log holds. */
static void handle_tile(struct daemon *d, struct kt_domain *k, struct answer *a,
			const char *rest)
{
	struct bundle b;
	struct tlog_tile t;
	struct buf out;
	unsigned have = 0;
	int level = 0;
	buf_init(&out, (size_t)TLOG_TILE_WIDTH * (KT_ENTRY_MAX + 2));
	int r = tile_parse(rest, &level, &t) == 0 ? 0 : SM_ENOTFOUND;
	if (r == 0)
		r = bundle_get(d, k, &b);
	if (r == 0)
		r = tlog_tile_width(level < 0 ? 0 : (unsigned)level, t.n, b.epoch + 1, &have);
	if (r == 0 && t.width > have)
		r = SM_ENOTFOUND;
	if (r == 0)
		r = tile_body(d, k, level, &t, &out);
	if (r == 0)
		reply(a, 200, "application/octet-stream", out.data, out.len);
	else if (r == SM_ENOTFOUND || r == SM_EINVAL)
		reply_text(a, 404, "no such tile\n");
	else
		reply_text(a, 500, "the tile could not be read\n");
	buf_free(&out);
}

/* ---- the rest ---- */

static void handle_epoch_part(struct daemon *d, struct kt_domain *k, struct answer *a,
			      const char *what, const char *num)
{
	struct buf part;
	uint64_t e;
	int delta = strcmp(what, "delta") == 0;
	buf_init(&part, (size_t)1 << 31);
	int r = parse_epoch(num, &e) == 0 ? 0 : SM_ENOTFOUND;
	if (r == 0)
		r = store_kt_epoch(d->store, k->name, e, delta ? NULL : &part, delta ? &part : NULL, NULL);
	if (r == 0)
		reply(a, 200, delta ? "application/octet-stream" : "text/plain; charset=utf-8",
		      part.data, part.len);
	else if (r == SM_ENOTFOUND)
		reply_text(a, 404, "no such epoch\n");
	else
		reply_text(a, 500, "the epoch could not be read\n");
	buf_free(&part);
}

static void handle_checkpoint(struct daemon *d, struct kt_domain *k, struct answer *a)
{
	struct bundle b;
	if (bundle_get(d, k, &b) == 0)
		reply(a, 200, "text/plain; charset=utf-8", b.checkpoint, b.checkpoint_len);
	else
		reply_text(a, 503, "the transparency log has no epoch yet; try again shortly\n");
}

static void handle_consistency(struct daemon *d, struct kt_domain *k, struct answer *a,
			       const char *num)
{
	uint8_t proof[TLOG_PROOF_MAX][TLOG_HASH_LEN];
	size_t n = 0;
	uint64_t old = 0;
	struct bundle b;
	struct store_kt_log log;
	struct tlog_store st;
	struct buf out;
	buf_init(&out, 8192);
	int r = parse_epoch(num, &old) == 0 ? 0 : SM_EINVAL;
	if (r == 0)
		r = bundle_get(d, k, &b);
	if (r == 0 && (old == 0 || old > b.epoch + 1))
		r = SM_EINVAL;
	store_kt_log_init(&log, d->store, k->name, &st);
	if (r == 0)
		r = tlog_prove_consistency(&st, old, b.epoch + 1, proof, &n);
	if (r == 0)
		r = buf_appendf(&out, "%llu %llu\n", (unsigned long long)old,
				(unsigned long long)(b.epoch + 1));
	for (size_t i = 0; r == 0 && i < n; i++) {
		r = b64_append(&out, proof[i], TLOG_HASH_LEN);
		if (r == 0)
			r = buf_append(&out, "\n", 1);
	}
	if (r == 0)
		reply(a, 200, "text/plain; charset=utf-8", out.data, out.len);
	else if (r == SM_EINVAL)
		reply_text(a, 404, "no consistency proof from that size (1 to the latest)\n");
	else
		reply_text(a, 500, "the consistency proof could not be made\n");
	buf_free(&out);
}

/* Splits "<a>[/<b>]", what follows "<domain>/". */
static int split(const char *rest, char a[16], char b[64])
{
	size_t n = strlen(rest), an = strcspn(rest, "/");
	if (an == 0 || an >= 16)
		return -1;
	memcpy(a, rest, an);
	a[an] = 0;
	b[0] = 0;
	if (an == n)
		return 0;
	size_t bn = n - an - 1;
	if (bn == 0 || bn >= 64 || memchr(rest + an + 1, '/', bn) != NULL)
		return -1;
	memcpy(b, rest + an + 1, bn + 1);
	return 0;
}

/* What follows PREFIX: "<domain>/<what>". */
static void route(struct daemon *d, struct answer *ans, const char *rest, const char *query)
{
	char dom[WKD_DOMAIN_MAX + 1], part[16], arg[64];
	size_t dn = strcspn(rest, "/");
	struct kt_domain *k = NULL;
	if (dn > 0 && dn <= WKD_DOMAIN_MAX && rest[dn] == '/') {
		memcpy(dom, rest, dn);
		dom[dn] = 0;
		k = kt_find(d, dom);
	}
	const char *what = k != NULL ? rest + dn + 1 : NULL;
	if (what != NULL && strncmp(what, "tile/", 5) == 0)
		handle_tile(d, k, ans, what + 5);
	else if (what == NULL || split(what, part, arg) < 0)
		reply_text(ans, 404, "not found\n");
	else if (strcmp(part, "lookup") == 0 && arg[0] != 0)
		handle_lookup(d, k, ans, arg, query);
	else if (strcmp(part, "checkpoint") == 0 && arg[0] == 0)
		handle_checkpoint(d, k, ans);
	else if (strcmp(part, "consistency") == 0 && arg[0] != 0)
		handle_consistency(d, k, ans, arg);
	else if ((strcmp(part, "entry") == 0 || strcmp(part, "delta") == 0) && arg[0] != 0)
		handle_epoch_part(d, k, ans, part, arg);
	else
		reply_text(ans, 404, "not found\n");
}

int kt_http_handle(struct daemon *d, const struct http_request *req, const char *path,
		   const char *query, struct buf *body, struct http_response *ret)
{
	struct answer a = {ret, body};
	if (strncmp(path, "/.well-known/sealmail/", 22) != 0)
		return 0;
	if (req->method_len != 3 || memcmp(req->method, "GET", 3) != 0) {
		reply_text(&a, 405, "use GET\n");
		ret->allow = "GET";
	} else if (strncmp(path, PREFIX, strlen(PREFIX)) != 0) {
		reply_text(&a, 404, "not found\n");
	} else {
		route(d, &a, path + strlen(PREFIX), query);
	}
	return 1;
}
