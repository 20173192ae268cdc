/* sealmail witness: run a witness (c2sp.org/tlog-witness style) for the key
 * transparency logs of other domains. kt_witness.c does the auditing; this
 * file is its shell: the key, the list of logs, the state files, and a
 * plain HTTP server. The cosignatures carry the trust, so no TLS.
 *
 *   sealmail witness init DIR NAME
 *   sealmail witness add-log DIR ORIGIN VKEY
 *   sealmail witness serve DIR --listen HOST:PORT [--max-body BYTES] [--timeout SECONDS]
 *
 * DIR holds witness.key (the cosignature/v1 signer key, 0600), logs (one
 * "log <origin> <vkey>" line per log followed) and state/<hex SHA-256 of
 * the origin> (kt_witness_save of each log). A state file is replaced
 * atomically, directory fsynced, before the cosignature that made it is
 * sent: a restarted witness never cosigns two checkpoints of one size. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

#include "atomic_file.h"
#include "cli.h"
#include "kt_witness.h"
#include "note.h"
#include "sandbox.h"

#define WITNESS_KEY "witness.key"
#define WITNESS_LOGS "logs"
#define WITNESS_STATE "state"
#define WITNESS_LOGS_MAX 256
#define WITNESS_LOGS_FILE_MAX (WITNESS_LOGS_MAX * (KT_WITNESS_ORIGIN_MAX + NOTE_VKEY_MAX + 8))
#define WITNESS_KEY_FILE_MAX 1024
#define WITNESS_STATE_MAX ((size_t)1 << 40)
#define WITNESS_ADD_PATH "/sealmail-witness/v1/add-epoch"
#define WITNESS_SIZE_PATH "/sealmail-witness/v1/size/"
#define WITNESS_MAX_BODY_DEFAULT ((size_t)256 << 20)
#define WITNESS_TIMEOUT_DEFAULT 60
#define WITNESS_HEADERS_MAX 8192

/* One followed log. */
struct wlog {
	char origin[KT_WITNESS_ORIGIN_MAX + 1];
	struct note_verifier key;
	char state[2 * 32 + 1]; /* the state file's name */
	struct kt_witness *w;
};

struct wlogs {
	struct wlog log[WITNESS_LOGS_MAX];
	size_t n;
};

/* ---- files ---- */

static int join(char out[CLI_PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, CLI_PATH_MAX, "%s/%s", dir, name);
	if (n < 0 || n >= CLI_PATH_MAX) {
		cli_error("%s/%s: path too long", dir, name);
		return EX_USAGE;
	}
	return 0;
}

/* Reads dir/name into b (bounded by b->max). SM_ENOTFOUND if absent. */
static int read_file(const char *dir, const char *name, struct buf *b)
{
	char path[CLI_PATH_MAX];
	if (join(path, dir, name) != 0)
		return SM_EINVAL;
	return buf_read_file(b, path, 0);
}

static int exists(const char *dir, const char *name)
{
	char path[CLI_PATH_MAX];
	struct stat st;
	return join(path, dir, name) == 0 && lstat(path, &st) == 0;
}

static void state_name(const char *origin, char ret[2 * 32 + 1])
{
	uint8_t h[32];
	crypto_hash_sha256(h, (const uint8_t *)origin, strlen(origin));
	sodium_bin2hex(ret, 2 * 32 + 1, h, sizeof(h));
}

static int state_dir(const char *dir, char out[CLI_PATH_MAX])
{
	return join(out, dir, WITNESS_STATE);
}

/* Writes w's state, atomically and durably. */
static int state_save(const char *dir, struct wlog *l)
{
	char sd[CLI_PATH_MAX];
	struct buf b;
	int r = SM_EINVAL;
	buf_init(&b, WITNESS_STATE_MAX);
	if (state_dir(dir, sd) == 0 && (r = kt_witness_save(l->w, &b)) == 0)
		r = atomic_file_write(sd, l->state, b.data, b.len, 0600);
	buf_free(&b);
	return r;
}

/* Loads l's state, which must be of l's origin and key. */
static int state_load(const char *dir, struct wlog *l)
{
	char sd[CLI_PATH_MAX];
	struct buf b;
	struct kt_witness *w = NULL;
	int r = SM_EINVAL;
	buf_init(&b, WITNESS_STATE_MAX);
	if (state_dir(dir, sd) == 0 && (r = read_file(sd, l->state, &b)) == 0)
		r = kt_witness_load(b.data, b.len, &w);
	buf_free(&b);
	if (r < 0) {
		cli_error("%s/%s/%s (log %s): %s", dir, WITNESS_STATE, l->state, l->origin, sm_strerror(r));
		return r;
	}
	if (strcmp(kt_witness_origin(w), l->origin) != 0) {
		cli_error("%s/%s/%s is the state of another log", dir, WITNESS_STATE, l->state);
		kt_witness_free(w);
		return SM_EPARSE;
	}
	kt_witness_free(l->w);
	l->w = w;
	return 0;
}

/* ---- the list of logs ---- */

/* "log <origin> <vkey>"; blank lines and "#" comments are skipped. */
static int logs_line(struct wlogs *ls, char *line, unsigned no)
{
	char *origin, *vkey, *sp;
	struct kt_witness *probe = NULL;
	if (line[0] == 0 || line[0] == '#')
		return 0;
	if (strncmp(line, "log ", 4) != 0 || (sp = strchr(line + 4, ' ')) == NULL ||
	    strchr(sp + 1, ' ') != NULL || ls->n == WITNESS_LOGS_MAX)
		goto bad;
	*sp = 0;
	origin = line + 4;
	vkey = sp + 1;
	struct wlog *l = &ls->log[ls->n];
	if (note_verifier_parse(vkey, &l->key) < 0 || kt_witness_new(origin, &l->key, &probe) < 0)
		goto bad;
	kt_witness_free(probe);
	for (size_t i = 0; i < ls->n; i++)
		if (strcmp(ls->log[i].origin, origin) == 0)
			goto bad;
	snprintf(l->origin, sizeof(l->origin), "%s", origin);
	state_name(origin, l->state);
	l->w = NULL;
	ls->n++;
	return 0;
bad:
	cli_error("logs line %u: want \"log ORIGIN VKEY\" with a new origin and an Ed25519 note key", no);
	return EX_DATAERR;
}

static int logs_read(const char *dir, struct wlogs *ls)
{
	struct buf b;
	unsigned no = 0;
	int st = 0;
	buf_init(&b, WITNESS_LOGS_FILE_MAX);
	ls->n = 0;
	int r = read_file(dir, WITNESS_LOGS, &b);
	if (r < 0 && r != SM_ENOTFOUND) {
		cli_error("%s/%s: %s", dir, WITNESS_LOGS, sm_strerror(r));
		buf_free(&b);
		return EX_NOINPUT;
	}
	if (b.len > 0 && (memchr(b.data, 0, b.len) != NULL || b.data[b.len - 1] != '\n')) {
		cli_error("%s/%s: not a text file of whole lines", dir, WITNESS_LOGS);
		buf_free(&b);
		return EX_DATAERR;
	}
	for (char *p = (char *)b.data, *nl; st == 0 && p != NULL && (nl = strchr(p, '\n')) != NULL;
	     p = nl + 1) {
		*nl = 0;
		st = logs_line(ls, p, ++no);
	}
	buf_free(&b);
	return st;
}

static void logs_free(struct wlogs *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		kt_witness_free(ls->log[i].w);
	ls->n = 0;
}

static struct wlog *logs_find(struct wlogs *ls, const char *origin, size_t len)
{
	for (size_t i = 0; i < ls->n; i++)
		if (strlen(ls->log[i].origin) == len && memcmp(ls->log[i].origin, origin, len) == 0)
			return &ls->log[i];
	return NULL;
}

/* ---- init ---- */

static int make_dir(const char *path)
{
	struct stat st;
	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	cli_error("%s: cannot create the folder: %s", path, strerror(errno));
	return EX_CANTCREAT;
}

/* A fresh cosignature/v1 key for name; its vkey goes to vkey. */
static int new_signer_key(const char *name, struct buf *skey, struct buf *vkey)
{
	uint8_t pk[NOTE_PK_LEN];
	uint8_t *sk = sodium_malloc(NOTE_SK_LEN);
	struct note_signer *s = NULL;
	struct note_verifier v;
	int st = EX_SOFTWARE;
	if (sk == NULL || crypto_sign_ed25519_keypair(pk, sk) != 0)
		goto done;
	if (note_signer_new(name, NOTE_KEY_COSIG_V1, sk, &s) < 0) {
		cli_error("'%s' is not a valid key name (printable, no spaces or '+')", name);
		st = EX_DATAERR;
		goto done;
	}
	if (note_signer_format(s, skey) < 0 || buf_append(skey, "\n", 1) < 0 ||
	    note_signer_verifier(s, &v) < 0 || note_verifier_format(&v, vkey) < 0)
		goto done;
	st = 0;
done:
	note_signer_free(s);
	sodium_free(sk);
	return st;
}

static int witness_init(const char *dir, const char *name)
{
	char sd[CLI_PATH_MAX];
	struct buf skey, vkey;
	int st;
	if (exists(dir, WITNESS_KEY)) {
		cli_error("%s/%s already exists; not replacing a witness's key", dir, WITNESS_KEY);
		return EX_CANTCREAT;
	}
	buf_init(&skey, WITNESS_KEY_FILE_MAX);
	buf_init(&vkey, NOTE_VKEY_MAX + 1);
	if ((st = new_signer_key(name, &skey, &vkey)) != 0 || (st = make_dir(dir)) != 0 ||
	    (st = state_dir(dir, sd)) != 0 || (st = make_dir(sd)) != 0)
		goto done;
	if ((!exists(dir, WITNESS_LOGS) &&
	     atomic_file_write(dir, WITNESS_LOGS, (const uint8_t *)"", 0, 0600) < 0) ||
	    atomic_file_write(dir, WITNESS_KEY, skey.data, skey.len, 0600) < 0) {
		cli_error("%s: cannot write: %s", dir, strerror(errno));
		st = EX_CANTCREAT;
		goto done;
	}
	printf("%s\n", (const char *)vkey.data);
	st = fflush(stdout) == 0 ? 0 : EX_IOERR;
done:
	buf_free(&skey);
	buf_free(&vkey);
	return st;
}

/* ---- add-log ---- */

static int append_log_line(const char *dir, const char *origin, const struct note_verifier *v)
{
	struct buf b;
	int st = EX_IOERR;
	buf_init(&b, WITNESS_LOGS_FILE_MAX);
	int r = read_file(dir, WITNESS_LOGS, &b);
	if ((r < 0 && r != SM_ENOTFOUND) || buf_appendf(&b, "log %s ", origin) < 0 ||
	    note_verifier_format(v, &b) < 0 || buf_append(&b, "\n", 1) < 0 ||
	    atomic_file_write(dir, WITNESS_LOGS, b.data, b.len, 0600) < 0)
		cli_error("%s/%s: cannot update it", dir, WITNESS_LOGS);
	else
		st = 0;
	buf_free(&b);
	return st;
}

static int witness_add_log(const char *dir, const char *origin, const char *vkey)
{
	struct wlogs *ls = calloc(1, sizeof(*ls));
	struct wlog l;
	int st;
	memset(&l, 0, sizeof(l));
	if (ls == NULL)
		return EX_OSERR;
	if (!exists(dir, WITNESS_KEY)) {
		cli_error("%s is not a witness folder (run 'sealmail witness init' first)", dir);
		st = EX_NOINPUT;
	} else if (note_verifier_parse(vkey, &l.key) < 0 || l.key.type != NOTE_KEY_ED25519) {
		cli_error("'%s' is not a log's Ed25519 note verifier key (name+id+key)", vkey);
		st = EX_DATAERR;
	} else if (kt_witness_new(origin, &l.key, &l.w) < 0) {
		cli_error("'%s' is not a valid origin (printable ASCII, no spaces)", origin);
		st = EX_DATAERR;
	} else if ((st = logs_read(dir, ls)) == 0 && logs_find(ls, origin, strlen(origin)) != NULL) {
		cli_error("log %s is already followed", origin);
		st = EX_DATAERR;
	}
	if (st != 0)
		goto done;
	size_t on = strnlen(origin, sizeof(l.origin) - 1); /* kt_witness_new checked it */
	memcpy(l.origin, origin, on);
	l.origin[on] = 0;
	state_name(origin, l.state);
	char sd[CLI_PATH_MAX];
	if ((st = state_dir(dir, sd)) != 0)
		goto done;
	if (exists(sd, l.state)) {
		/* a state left by an earlier registration: starting over would let
		 * the log's old checkpoints be cosigned again */
		cli_error("%s/%s exists already; remove it only if the log %s really starts anew", sd,
			  l.state, origin);
		st = EX_CANTCREAT;
		goto done;
	}
	if (state_save(dir, &l) < 0) {
		cli_error("%s/%s: cannot write: %s", sd, l.state, strerror(errno));
		st = EX_CANTCREAT;
		goto done;
	}
	st = append_log_line(dir, origin, &l.key);
done:
	kt_witness_free(l.w);
	logs_free(ls);
	free(ls);
	return st;
}

/* ---- serve ---- */

struct server {
	const char *dir;
	struct wlogs logs;
	struct note_signer *signer;
	struct event_base *base;
	int failed; /* a state could not be restored: stop */
};

static int load_signer(const char *dir, struct note_signer **ret)
{
	char path[CLI_PATH_MAX];
	struct stat st;
	struct buf b;
	int r;
	if (join(path, dir, WITNESS_KEY) != 0)
		return EX_USAGE;
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
		cli_error("%s is readable by others; chmod 600 it", path);
		return EX_CONFIG;
	}
	buf_init(&b, WITNESS_KEY_FILE_MAX);
	if ((r = read_file(dir, WITNESS_KEY, &b)) == 0) {
		if (b.len > 0 && b.data[b.len - 1] == '\n')
			b.data[--b.len] = 0;
		r = b.len > 0 ? note_signer_parse((const char *)b.data, ret) : SM_EPARSE;
	}
	buf_free(&b);
	if (r < 0) {
		cli_error("%s: %s", path, sm_strerror(r));
		return r == SM_ENOTFOUND ? EX_NOINPUT : EX_DATAERR;
	}
	return 0;
}

static void log_request(struct evhttp_request *req, int status, const char *what)
{
	char *addr = NULL;
	ev_uint16_t port = 0;
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	if (c != NULL)
		evhttp_connection_get_peer(c, &addr, &port);
	fprintf(cli_stderr(), "sealmail witness: %s:%u %s %d %s\n", addr ? addr : "-", (unsigned)port,
		evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET", status, what);
	fflush(cli_stderr());
}

static void reply(struct evhttp_request *req, int status, const char *type, const void *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	if (b != NULL && len > 0)
		evbuffer_add(b, body, len);
	evhttp_send_reply(req, status, NULL, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void reply_text(struct evhttp_request *req, int status, const char *text, const char *what)
{
	reply(req, status, "text/plain; charset=utf-8", text, strlen(text));
	log_request(req, status, what);
}

/* The witness moved: persist before answering. If that fails, go back to
 * the state on disk, which has not moved. */
static int persist(struct server *s, struct wlog *l)
{
	if (state_save(s->dir, l) == 0)
		return 0;
	cli_error("%s: cannot save the state of %s: %s", s->dir, l->origin, strerror(errno));
	if (state_load(s->dir, l) < 0) {
		s->failed = 1;
		event_base_loopexit(s->base, NULL);
	}
	return -1;
}

/* Runs the request through the log's witness: 0 and the answer in out,
 * or -1 having answered already. */
static int add_epoch(struct server *s, struct evhttp_request *req, struct wlog **ret_log, struct buf *out,
		     int *ret_status)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in), olen;
	const uint8_t *data = len ? evbuffer_pullup(in, -1) : (const uint8_t *)"";
	const char *origin;
	struct wlog *l;
	if (data == NULL) {
		reply_text(req, 500, "out of memory\n", "out of memory");
		return -1;
	}
	if (kt_witness_request_origin(data, len, &origin, &olen) < 0) {
		reply_text(req, 400, "malformed request\n", "malformed request");
		return -1;
	}
	if ((l = logs_find(&s->logs, origin, olen)) == NULL) {
		reply_text(req, 403, "unknown origin\n", "unknown origin");
		return -1;
	}
	int st = kt_witness_add(l->w, s->signer, (uint64_t)time(NULL), data, len, out);
	if (st < 0) {
		/* the witness may be unusable (kt_witness.h): take it from disk */
		if (state_load(s->dir, l) < 0) {
			s->failed = 1;
			event_base_loopexit(s->base, NULL);
		}
		reply_text(req, 500, "internal error\n", sm_strerror(st));
		return -1;
	}
	if (st == 200 && persist(s, l) < 0) {
		reply_text(req, 500, "cannot save the witness state\n", "state not saved");
		return -1;
	}
	*ret_log = l;
	*ret_status = st;
	return 0;
}

static void handle_add(struct server *s, struct evhttp_request *req)
{
	char what[KT_WITNESS_ORIGIN_MAX + 160];
	struct wlog *l = NULL;
	struct buf out;
	int st = 0;
	buf_init(&out, 4096);
	if (add_epoch(s, req, &l, &out, &st) == 0) {
		/* the reason line comes from kt_witness.c, printable text */
		snprintf(what, sizeof(what), "%s size %" PRIu64 ": %.*s", l->origin, kt_witness_size(l->w),
			 st == 200 ? 8 : (int)strcspn((const char *)out.data, "\n"),
			 st == 200 ? "cosigned" : (const char *)out.data);
		reply(req, st, st == 409 ? "text/x.tlog.size" : "text/plain; charset=utf-8", out.data,
		      out.len);
		log_request(req, st, what);
	}
	buf_free(&out);
}

static void handle_size(struct server *s, struct evhttp_request *req, const char *rest)
{
	size_t n = 0;
	char body[32];
	char *origin = evhttp_uridecode(rest, 0, &n);
	struct wlog *l = origin ? logs_find(&s->logs, origin, n) : NULL;
	free(origin);
	if (l == NULL) {
		reply_text(req, 404, "unknown origin\n", "size: unknown origin");
		return;
	}
	char what[KT_WITNESS_ORIGIN_MAX + 40];
	snprintf(body, sizeof(body), "%" PRIu64 "\n", kt_witness_size(l->w));
	snprintf(what, sizeof(what), "size of %s: %" PRIu64, l->origin, kt_witness_size(l->w));
	reply(req, 200, "text/x.tlog.size", body, strlen(body));
	log_request(req, 200, what);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct server *s = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	if (path != NULL && strcmp(path, WITNESS_ADD_PATH) == 0) {
		if (cmd == EVHTTP_REQ_POST) {
			handle_add(s, req);
		} else {
			evhttp_add_header(h, "Allow", "POST");
			reply_text(req, 405, "use POST\n", "method not allowed");
		}
	} else if (path != NULL && strncmp(path, WITNESS_SIZE_PATH, strlen(WITNESS_SIZE_PATH)) == 0) {
		if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) {
			handle_size(s, req, path + strlen(WITNESS_SIZE_PATH));
		} else {
			evhttp_add_header(h, "Allow", "GET, HEAD");
			reply_text(req, 405, "use GET\n", "method not allowed");
		}
	} else {
		reply_text(req, 404, "not found\n", "not found");
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

/* "HOST:PORT" or "[V6]:PORT" into host (borrowed from a copy) and port. */
static int parse_listen(char *spec, const char **ret_host, ev_uint16_t *ret_port)
{
	char *colon = strrchr(spec, ':'), *end = NULL;
	if (colon == NULL || colon == spec)
		return -1;
	*colon = 0;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != 0 || port == 0 || port > 65535)
		return -1;
	if (spec[0] == '[') {
		size_t n = strlen(spec);
		if (n < 3 || spec[n - 1] != ']')
			return -1;
		spec[n - 1] = 0;
		spec++;
	}
	*ret_host = spec;
	*ret_port = (ev_uint16_t)port;
	return 0;
}

static int parse_size(const char *arg, unsigned long long max, unsigned long long *ret)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || errno != 0 || *end != 0 || v == 0 || v > max)
		return -1;
	*ret = v;
	return 0;
}

/* Loads every followed log's state. */
static int serve_load(struct server *s)
{
	int st = load_signer(s->dir, &s->signer);
	if (st == 0)
		st = logs_read(s->dir, &s->logs);
	for (size_t i = 0; st == 0 && i < s->logs.n; i++)
		if (state_load(s->dir, &s->logs.log[i]) < 0)
			st = EX_DATAERR;
	return st;
}

static int serve_loop(struct server *s, const char *host, ev_uint16_t port, size_t max_body,
		      int timeout)
{
	struct evhttp *http = NULL;
	struct event *sigs[2] = {NULL, NULL};
	int st = EX_OSERR;
	if ((s->base = event_base_new()) == NULL || (http = evhttp_new(s->base)) == NULL)
		goto done;
	evhttp_set_gencb(http, on_request, s);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
	evhttp_set_max_headers_size(http, WITNESS_HEADERS_MAX);
	evhttp_set_max_body_size(http, (ev_ssize_t)max_body);
	evhttp_set_timeout(http, timeout);
	if (evhttp_bind_socket_with_handle(http, host, port) == NULL) {
		cli_error("cannot listen on %s port %u: %s", host, (unsigned)port, strerror(errno));
		st = EX_UNAVAILABLE;
		goto done;
	}
	sigs[0] = evsignal_new(s->base, SIGTERM, on_signal, s->base);
	sigs[1] = evsignal_new(s->base, SIGINT, on_signal, s->base);
	if (sigs[0] == NULL || sigs[1] == NULL || event_add(sigs[0], NULL) < 0 || event_add(sigs[1], NULL) < 0)
		goto done;
	/* From here it talks to the network: it may change files only in its
	 * own directory, and never run a program (sandbox.h). */
	const char *dirs[] = {s->dir};
	struct sandbox_report rep;
	if (sandbox_network(dirs, 1, &rep) < 0) {
		cli_error("cannot confine the witness: %s", strerror(errno));
		goto done;
	}
	fprintf(cli_stderr(), "sealmail witness: listening on %s port %u, %zu logs; confined by seccomp%s\n",
		host, (unsigned)port, s->logs.n, rep.landlock_abi > 0 ? " and Landlock" : "");
	fflush(cli_stderr());
	st = event_base_dispatch(s->base) < 0 || s->failed ? EX_IOERR : 0;
	fprintf(cli_stderr(), "sealmail witness: %s\n", st ? "stopped on an error" : "stopped");
done:
	for (int i = 0; i < 2; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	if (http != NULL)
		evhttp_free(http);
	if (s->base != NULL)
		event_base_free(s->base);
	return st;
}

static int serve_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail witness serve DIR --listen HOST:PORT [--max-body BYTES] "
			      "[--timeout SECONDS]\n");
	return EX_USAGE;
}

static int witness_serve(int argc, char **argv)
{
	static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
					     {"max-body", required_argument, NULL, 'm'},
					     {"timeout", required_argument, NULL, 't'},
					     {0, 0, 0, 0}};
	unsigned long long max_body = WITNESS_MAX_BODY_DEFAULT, timeout = WITNESS_TIMEOUT_DEFAULT;
	char *listen = NULL;
	const char *host = NULL;
	ev_uint16_t port = 0;
	int c, st;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			listen = optarg;
		else if (c == 'm' && parse_size(optarg, KT_WITNESS_REQUEST_MAX, &max_body) < 0)
			return serve_usage();
		else if (c == 't' && parse_size(optarg, 86400, &timeout) < 0)
			return serve_usage();
		else if (c == '?')
			return serve_usage();
	}
	if (optind != argc - 1 || listen == NULL || parse_listen(listen, &host, &port) < 0)
		return serve_usage();
	struct server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return EX_OSERR;
	s->dir = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	if ((st = serve_load(s)) == 0)
		st = serve_loop(s, host, port, (size_t)max_body, (int)timeout);
	logs_free(&s->logs);
	note_signer_free(s->signer);
	free(s);
	return st;
}

/* ---- the verb ---- */

static int witness_usage(void)
{
	fprintf(cli_stderr(), "usage: sealmail witness init DIR NAME\n"
			      "       sealmail witness add-log DIR ORIGIN VKEY\n"
			      "       sealmail witness serve DIR --listen HOST:PORT [--max-body BYTES] "
			      "[--timeout SECONDS]\n");
	return EX_USAGE;
}

int cmd_witness(int argc, char **argv)
{
	if (sodium_init() < 0) {
		cli_error("cannot initialise libsodium");
		return EX_SOFTWARE;
	}
	if (argc >= 2 && strcmp(argv[1], "init") == 0 && argc == 4)
		return witness_init(argv[2], argv[3]);
	if (argc >= 2 && strcmp(argv[1], "add-log") == 0 && argc == 5)
		return witness_add_log(argv[2], argv[3], argv[4]);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return witness_serve(argc - 1, argv + 1);
	return witness_usage();
}
