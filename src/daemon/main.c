/* sealmaild: the domain daemon. Verbs:
 *   sealmaild serve  [-f FILE]           run the key directory and the MX
 *   sealmaild check  [-f FILE]           validate the configuration
 *   sealmaild user add ADDRESS [-f FILE] add a user, print their publish token
 *   sealmaild user reset ADDRESS [-f FILE] a new token for a user who lost every key
 *   sealmaild status [-f FILE]           list users and what they published
 *   sealmaild log-key DOMAIN [-f FILE]   print DOMAIN's transparency log key (vkey) */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "daemon.h"
#include "wks_service.h"
#include "keyholder.h"
#include "sandbox.h"
#include "supervisor.h"
#include "peer_limits.h"
#include "delivery.h"
#include "delivery_link.h"
#include "transparency.h"
#include "mime.h"
#include "store_kt.h"
#include "wkd_http.h"

#define DEFAULT_CONF "/etc/sealmaild.conf"
#define POLICY_MAX (64u * 1024)
/* Maildir writers: enough that fsyncs of different sessions overlap. */
#define DELIVERY_THREADS 8

void daemon_quiet_library(void);

static int read_file(const char *path, size_t max, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	buf_init(b, max);
	int r = buf_read_fd(b, fd);
	close(fd);
	return r;
}

static int load_conf(const char *path, struct conf **ret)
{
	struct buf b;
	char err[CONF_ERR_SIZE];
	if (read_file(path, CONF_FILE_MAX, &b) < 0) {
		fprintf(stderr, "sealmaild: cannot read %s: %s\n", path, strerror(errno));
		buf_free(&b);
		return EX_NOINPUT;
	}
	int r = conf_parse(b.data ? (const char *)b.data : "", b.len, ret, err, sizeof(err));
	buf_free(&b);
	if (r < 0) {
		fprintf(stderr, "sealmaild: %s: %s\n", path, err);
		return EX_CONFIG;
	}
	return 0;
}

static int load_policy(struct daemon *d)
{
	buf_init(&d->policy, POLICY_MAX);
	if (d->conf->policy_file == NULL)
		return 0;
	struct buf b;
	if (read_file(d->conf->policy_file, POLICY_MAX, &b) < 0 || wkd_http_policy_check(b.data, b.len) < 0) {
		daemon_log("policy-file %s: unreadable, over %u bytes, or a line without its newline",
			   d->conf->policy_file, POLICY_MAX);
		buf_free(&b);
		return -1;
	}
	d->policy = b;
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	(void)what;
	daemon_log("signal %d: stopping", (int)sig);
	event_base_loopexit(d->base, NULL);
}

/* What every process of the daemon needs, made before any fork. */
static int daemon_prepare(struct daemon *d)
{
	const struct conf *c = d->conf;
	if (c->hostname != NULL)
		snprintf(d->hostname, sizeof(d->hostname), "%s", c->hostname);
	else if (gethostname(d->hostname, sizeof(d->hostname) - 1) < 0)
		snprintf(d->hostname, sizeof(d->hostname), "localhost");
	buf_init(&d->key, STORE_CERT_MAX);
	if (load_policy(d) < 0)
		return -1;
	if ((d->tls = tls_server_ctx(c->tls_certificate, c->tls_key)) == NULL)
		return -1;
	if (wks_init(d) < 0)
		return -1;
	return kt_domains_init(d);
}

int daemon_store_open(struct daemon *d)
{
	int r = store_open(d->conf->state_dir, &d->store);
	if (r == 0)
		r = store_set_busy_timeout(d->store, LOOP_STORE_BUSY_MS);
	if (r < 0) {
		daemon_log("cannot open the store in %s: %s%s%s", d->conf->state_dir, sm_strerror(r), r == SM_EIO ? ": " : "", r == SM_EIO ? strerror(errno) : "");
		return -1;
	}
	return 0;
}

/* The main process's own state, made after the supervisor is forked. */
static int daemon_init(struct daemon *d)
{
	if (daemon_store_open(d) < 0)
		return -1;
	if ((d->base = daemon_event_base()) == NULL)
		return -1;
	return 0;
}

/* One HTTPS worker process per core. */
static unsigned https_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2)
		return 1;
	return n > 16 ? 16 : (unsigned)n;
}

/* The limits per client address the nworkers HTTPS workers share:
 * lookup-rate a minute, a tenth of it (at least 10) at once. */
static int peer_limits_start(struct daemon *d, unsigned nworkers)
{
	unsigned rate = d->conf->lookup_rate;
	if ((d->peers = peer_limits_new(nworkers, rate, rate / 10 > 10 ? rate / 10 : 10)) == NULL) {
		daemon_log("cannot map the HTTPS workers' shared table: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void daemon_free(struct daemon *d)
{
	supervisor_stop(d);
	kt_epoch_stop(d);
	keyholder_stop(d);
	https_stop(d);
	delivery_stop(d); /* answers the jobs left; their closed channels go with them */
	smtp_stop(d);
	if (d->base)
		event_base_free(d->base);
	SSL_CTX_free(d->tls);
	store_close(d->store);
	kt_free(d);
	wks_free(d);
	peer_limits_free(d->peers);
	buf_free(&d->policy);
	buf_free(&d->key);
	conf_free(d->conf);
}

/* Whether the environment variable name, which only the test build
 * reads, is set. */
static int test_switch(const char *name)
{
#ifdef SEALMAIL_DISHONEST
	return getenv(name) != NULL;
#else
	(void)name;
	return 0;
#endif
}

int daemon_unconfined(void)
{
	return test_switch("SEALMAIL_TEST_UNCONFINED");
}

int daemon_allow(enum sandbox_allow_kind kind, const char *who)
{
	struct sandbox_report rep;
	if (daemon_unconfined())
		return 0;
	if (sandbox_allow(kind, test_switch("SEALMAIL_TEST_SECCOMP_LOG"), &rep) < 0) {
		daemon_log("cannot confine the %s: %s", who, strerror(errno));
		return -1;
	}
	return 0;
}

/* The HTTPS connections (conn_run) rely on edge-triggered events: without
 * them every writable connection would wake the loop without end. And the
 * environment must choose nothing: EVENT_NOEPOLL would take them away,
 * EVENT_PRECISE_TIMER would add a timerfd that no allow-list permits. */
struct event_base *daemon_event_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;
	if (cfg != NULL && event_config_require_features(cfg, EV_FEATURE_ET) == 0 &&
	    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV) == 0)
		base = event_base_new_with_config(cfg);
	if (cfg != NULL)
		event_config_free(cfg);
	if (base == NULL)
		daemon_log("no event loop with edge-triggered events (epoll) here");
	return base;
}

/* This process and those that talk to the network (forked by the
 * supervisor, which this one forks from now on) may change files only in
 * the state directory and the Maildirs (sandbox.h). */
static int daemon_confine(struct daemon *d)
{
	const char *dirs[CONF_DOMAINS_MAX + 1];
	struct sandbox_report rep;
	size_t n = 0;
	dirs[n++] = d->conf->state_dir;
	for (size_t i = 0; i < d->conf->ndomains && n < CONF_DOMAINS_MAX + 1; i++) {
		const char *root = d->conf->domains[i].maildir_root;
		if (mkdir(root, 0700) < 0 && errno != EEXIST) {
			daemon_log("cannot create %s: %s", root, strerror(errno));
			return -1;
		}
		dirs[n++] = root;
	}
	if (daemon_unconfined()) {
		daemon_log("test build: no process is confined (SEALMAIL_TEST_UNCONFINED)");
		return 0;
	}
	if (sandbox_network(dirs, n, &rep) < 0) {
		daemon_log("cannot confine the network processes: %s", strerror(errno));
		return -1;
	}
	daemon_log("network processes confined: seccomp, %s%s", rep.landlock_abi > 0
		   ? "Landlock (changes only in the state directory and the Maildirs)"
		   : "no Landlock (kernel)", rep.caps_dropped ? ", capabilities dropped" : "");
	return 0;
}

static int cmd_serve(struct daemon *d)
{
	struct event *sigint = NULL, *sigterm = NULL;
	int st = EX_SOFTWARE, https_fd = -1, smtp_fd = -1;
	/* counted once: the key holder's channels, the shared table's columns
	 * and the supervisor's workers must agree */
	unsigned nworkers = https_workers();
	if (privileges_check(d) < 0)
		return EX_CONFIG;
	daemon_quiet_library();
	signal(SIGPIPE, SIG_IGN);
	/* First, so that it inherits nothing but the configuration. */
	if (keyholder_start(d, nworkers) < 0)
		goto done;
	d->kh = keyholder_channel(d, KH_CHANNEL_MAIN);
#ifdef SEALMAIL_DISHONEST
	/* The tests' compromised process: a malformed message must be fatal
	 * to the key holder, and its end to the daemon. */
	if (getenv("SEALMAIL_TEST_KEYHOLDER_GARBAGE") != NULL && send(d->kh->fd, "garbage", 7, 0) != 7)
		goto done;
#endif
	if (daemon_prepare(d) < 0)
		goto done;
	if ((https_fd = daemon_listen(&d->conf->listen_https, "https")) < 0 ||
	    (smtp_fd = daemon_listen(&d->conf->listen_smtp, "smtp")) < 0)
		goto done;
	if (privileges_drop(d) < 0 || daemon_confine(d) < 0)
		goto done;
	if (peer_limits_start(d, nworkers) < 0 ||
	    supervisor_start(d, https_fd, smtp_fd, nworkers) < 0 || daemon_init(d) < 0)
		goto done;
	sigint = evsignal_new(d->base, SIGINT, on_signal, d);
	sigterm = evsignal_new(d->base, SIGTERM, on_signal, d);
	if (!sigint || !sigterm || evsignal_add(sigint, NULL) || evsignal_add(sigterm, NULL) ||
	    supervisor_watch(d) < 0)
		goto done;
	/* set up, and before its threads, which inherit it: the main
	 * process's own allow-list on top of the deny-list */
	if (daemon_allow(SANDBOX_WRITER, "main process") < 0 || kt_epoch_start(d) < 0 ||
	    delivery_start(d, DELIVERY_THREADS) < 0)
		goto done;
	daemon_log("serving %zu domain(s) as %s: https on port %u (%u worker processes), smtp on "
		   "port %u (the MX process)%s; this process writes the Maildirs and commits the epochs",
		   d->conf->ndomains, d->hostname, d->conf->listen_https.port, nworkers,
		   d->conf->listen_smtp.port, d->wks != NULL ? ", the Web Key Service (its process)" : "");
	st = event_base_dispatch(d->base) < 0 || d->fatal ? EX_SOFTWARE : 0;
done:
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	return st;
}

/* user add: a new user and their first token; user reset: a new token for
 * a user who lost every key (the next publication with it is shown to
 * everyone as the administrator's reset). */
static int cmd_user_token(struct daemon *d, const char *how, const char *address)
{
	char token[STORE_TOKEN_LEN + 1];
	struct wkd_address a;
	bool reset = strcmp(how, "reset") == 0;
	if (wkd_address_parse(address, &a) < 0 || conf_find_domain(d->conf, a.domain) == NULL) {
		fprintf(stderr, "sealmaild: %s is not an address in one of the configured domains\n",
			address);
		return EX_USAGE;
	}
	int r = store_open(d->conf->state_dir, &d->store);
	if (r == 0)
		r = reset ? store_user_reset(d->store, address, token)
			  : store_user_add(d->store, address, token);
	if (r == SM_EEXIST || r == SM_ENOTFOUND) {
		fprintf(stderr, "sealmaild: %s is %s a user\n", address, reset ? "not" : "already");
		return reset ? EX_NOUSER : EX_CANTCREAT;
	}
	if (r < 0) {
		fprintf(stderr, "sealmaild: cannot %s %s: %s\n", how, address, sm_strerror(r));
		return EX_IOERR;
	}
	printf("%s %s\npublish token (shown once): %s\n"
	       "the user runs: sealmail publish %s --token %s\n", reset ? "reset" : "added",
	       address, token, address, token);
	if (reset)
		printf("until then the entry stays as it is; the publication will be shown to "
		       "correspondents and to the user's monitor as your reset\n");
	sodium_memzero(token, sizeof(token));
	return 0;
}

static int print_user(void *arg, const struct store_user *u)
{
	(void)arg;
	printf("%-40s %s\n", u->address, u->published ? "key published" : "no key yet");
	return 0;
}

static int count_leaf(void *arg, const struct ptree_leaf *leaf)
{
	(void)leaf;
	++*(size_t *)arg;
	return 0;
}

static int count_change(void *arg, const struct store_kt_change *c)
{
	(void)c;
	++*(size_t *)arg;
	return 0;
}

/* One line per domain with a key directory: its log's state. */
static int print_transparency(struct daemon *d)
{
	for (size_t i = 0; i < d->conf->ndomains; i++) {
		const struct conf_domain *dom = &d->conf->domains[i];
		uint64_t epoch = 0;
		size_t entries = 0, pending = 0;
		if (!dom->wkd)
			continue;
		int r = store_kt_latest(d->store, dom->name, &epoch, NULL);
		if (r == SM_ENOTFOUND) {
			printf("%s: no transparency epoch yet (sealmaild serve makes epoch 0)\n", dom->name);
			continue;
		}
		if (r == 0)
			r = store_kt_leaves(d->store, dom->name, count_leaf, &entries);
		if (r == 0)
			r = store_kt_changes(d->store, dom->name, count_change, &pending);
		if (r < 0)
			return r;
		printf("%s: transparency log at epoch %llu (checkpoint size %llu), %zu %s, "
		       "%zu publication(s) waiting for the next epoch\n", dom->name,
		       (unsigned long long)epoch, (unsigned long long)epoch + 1, entries,
		       entries == 1 ? "entry" : "entries", pending);
	}
	return 0;
}

static int cmd_status(struct daemon *d)
{
	struct store_counts n;
	int r = store_open(d->conf->state_dir, &d->store);
	if (r == 0)
		r = store_user_count(d->store, &n);
	if (r == 0)
		printf("%llu users, %llu with a published key\n", (unsigned long long)n.users,
		       (unsigned long long)n.published);
	if (r == 0)
		r = print_transparency(d);
	if (r == 0)
		r = store_user_list(d->store, print_user, NULL);
	if (r < 0) {
		fprintf(stderr, "sealmaild: cannot read the store: %s\n", sm_strerror(r));
		return EX_IOERR;
	}
	return 0;
}

/* The vkey witnesses and clients need; makes the keys on first use. */
static int cmd_log_key(struct daemon *d, const char *domain)
{
	const struct conf_domain *dom = conf_find_domain(d->conf, domain);
	char dir[4200];
	struct note_signer *log = NULL;
	struct note_verifier v;
	struct buf b;
	if (dom == NULL || !dom->wkd) {
		fprintf(stderr, "sealmaild: %s is not a configured domain with a key directory\n", domain);
		return EX_USAGE;
	}
	uint8_t *vrf_sk = sodium_malloc(VRF_SK_LEN);
	int r = vrf_sk == NULL ? SM_ENOMEM : kt_keys_dir(d->conf->state_dir, dir, sizeof(dir));
	if (r == 0)
		r = kt_keys_read(dir, domain, vrf_sk, &log);
	sodium_free(vrf_sk);
	buf_init(&b, NOTE_VKEY_MAX + 1);
	if (r == 0)
		r = note_signer_verifier(log, &v);
	note_signer_free(log);
	if (r == 0)
		r = note_verifier_format(&v, &b);
	if (r == 0)
		printf("%.*s\n", (int)b.len, (const char *)b.data);
	else
		fprintf(stderr, "sealmaild: the keys of %s in %s/%s: %s\n", domain, d->conf->state_dir,
			KEYS_DIR, sm_strerror(r));
	buf_free(&b);
	return r == 0 ? 0 : EX_IOERR;
}

static int usage(void)
{
	fprintf(stderr, "usage: sealmaild serve [-f FILE]\n"
			"       sealmaild check [-f FILE]\n"
			"       sealmaild user add ADDRESS [-f FILE]\n"
			"       sealmaild user reset ADDRESS [-f FILE]\n"
			"       sealmaild status [-f FILE]\n"
			"       sealmaild log-key DOMAIN [-f FILE]\n"
			"FILE defaults to " DEFAULT_CONF "; see sealmaild(8).\n");
	return EX_USAGE;
}

/* Parses "-f FILE" anywhere after the verb; leaves the other words. */
static int parse_args(int argc, char **argv, const char **conf_path, char **words, int *nwords)
{
	int o;
	optind = 2;
	*nwords = 0;
	while ((o = getopt(argc, argv, "f:")) != -1) {
		if (o != 'f')
			return -1;
		*conf_path = optarg;
	}
	for (int i = optind; i < argc && *nwords < 4; i++)
		words[(*nwords)++] = argv[i];
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf_path = DEFAULT_CONF;
	char *words[4];
	int nwords, st;
	struct daemon d;
	memset(&d, 0, sizeof(d));
	if (argc < 2 || parse_args(argc, argv, &conf_path, words, &nwords) < 0)
		return usage();
	if (sodium_init() < 0)
		return EX_SOFTWARE;
	mime_global_init();
	if ((st = load_conf(conf_path, &d.conf)) != 0)
		return st;
	const char *verb = argv[1];
	if (strcmp(verb, "check") == 0 && nwords == 0) {
		printf("%s: ok, %zu domain(s)\n", conf_path, d.conf->ndomains);
		st = 0;
	} else if (strcmp(verb, "serve") == 0 && nwords == 0) {
		st = cmd_serve(&d);
	} else if (strcmp(verb, "user") == 0 && nwords == 2 &&
		   (strcmp(words[0], "add") == 0 || strcmp(words[0], "reset") == 0)) {
		st = cmd_user_token(&d, words[0], words[1]);
	} else if (strcmp(verb, "status") == 0 && nwords == 0) {
		st = cmd_status(&d);
	} else if (strcmp(verb, "log-key") == 0 && nwords == 1) {
		st = cmd_log_key(&d, words[0]);
	} else {
		st = usage();
	}
	daemon_free(&d);
	return st;
}
