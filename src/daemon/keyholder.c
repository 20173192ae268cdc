/* keyholder.c: the key holder process and its clients (keyholder.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon.h"
#include "keyholder.h"
#include "keyholder_msg.h"
#include "kt.h"
#include "sandbox.h"
#include "transparency.h"

#define KH_STALE_MAX 16 /* replies to a dead predecessor a channel may hold */

struct keyholder {
	pid_t pid;
	unsigned n;
	struct kh_channel *ch; /* the client ends */
};

/* One domain as the key holder sees it. */
struct kh_domain {
	const char *name;
	uint8_t *vrf_sk; /* VRF_SK_LEN, guarded memory */
	uint8_t vrf_pk[VRF_PK_LEN];
	struct note_signer *log;
	struct buf vkey;   /* the log's verifier key, text */
	struct buf origin; /* the checkpoints' origin line, without "\n" */
	uint64_t last_size; /* the largest checkpoint signed since this process started */
};

struct kh_server {
	struct kh_domain *dom;
	size_t ndom;
	int *fds;
	unsigned n;
};

/* ---- the key holder's side ---- */

static void kh_fatal(const char *what)
{
	daemon_log("key holder: %s; stopping", what);
	_exit(70);
}

static struct kh_domain *kh_find(struct kh_server *s, const char *name)
{
	for (size_t i = 0; i < s->ndom; i++)
		if (strcmp(s->dom[i].name, name) == 0)
			return &s->dom[i];
	return NULL;
}

/* VRF proofs only for canonical addresses of the domain itself. */
static int kh_vrf(struct kh_domain *k, const struct kh_request *rq, uint8_t proof[VRF_PROOF_LEN])
{
	char addr[KT_ADDRESS_MAX], canon[KT_ADDRESS_MAX];
	memcpy(addr, rq->data, rq->len);
	addr[rq->len] = 0;
	const char *at = strrchr(addr, '@');
	if (strlen(addr) != rq->len || kt_canonical_address(addr, canon) < 0 ||
	    strcmp(canon, addr) != 0 || at == NULL || strcmp(at + 1, k->name) != 0)
		return SM_EINVAL;
	return vrf_prove(k->vrf_sk, (const uint8_t *)addr, rq->len, proof);
}

/* Signs only a checkpoint of this domain's log that commits to its VRF
 * key, whose size is its epoch + 1, and that does not go back. */
static int kh_sign(struct kh_domain *k, const struct kh_request *rq, struct buf *out)
{
	struct note_checkpoint cp;
	struct kt_map_line m;
	if (note_checkpoint_parse(rq->data, rq->len, &cp) < 0 || kt_map_line_parse(&cp, &m) < 0)
		return SM_EINVAL;
	if (cp.origin_len != k->origin.len || memcmp(cp.origin, k->origin.data, cp.origin_len) != 0 ||
	    memcmp(m.vrf_pk, k->vrf_pk, VRF_PK_LEN) != 0 || cp.size != m.epoch + 1 ||
	    cp.size < k->last_size)
		return SM_EINVAL;
	int r = note_sign(k->log, rq->data, rq->len, 0, out);
	if (r == 0)
		k->last_size = cp.size;
	return r;
}

/* The answer to one decoded request, in rp (data in out). */
static void kh_answer(struct kh_server *s, const struct kh_request *rq, struct buf *out,
		      struct kh_reply *rp)
{
	struct kh_domain *k = kh_find(s, rq->domain);
	int r = k == NULL ? SM_ENOTFOUND : 0;
	uint8_t proof[VRF_PROOF_LEN];
	if (r == 0 && rq->type == KH_PUBLIC) {
		r = buf_append(out, k->vrf_pk, VRF_PK_LEN);
		if (r == 0)
			r = buf_append(out, k->vkey.data, k->vkey.len);
	} else if (r == 0 && rq->type == KH_VRF_PROVE) {
		r = kh_vrf(k, rq, proof);
		if (r == 0)
			r = buf_append(out, proof, sizeof(proof));
	} else if (r == 0) {
		r = kh_sign(k, rq, out);
	}
	rp->type = rq->type;
	rp->id = rq->id;
	rp->status = r == 0 ? KH_OK : KH_REFUSED;
	rp->data = r == 0 ? out->data : NULL;
	rp->len = r == 0 ? out->len : 0;
	if (r != 0 && r != SM_EINVAL && r != SM_ENOTFOUND)
		daemon_log("key holder: %s for %s failed: %s",
			   rq->type == KH_SIGN_CHECKPOINT ? "signing" : "a VRF proof", rq->domain,
			   sm_strerror(r));
}

/* Reads one request from fd and answers it. 0 when the parent is gone. */
static int kh_serve_one(struct kh_server *s, int fd)
{
	uint8_t msg[KH_MSG_MAX + 1], reply[KH_MSG_MAX];
	struct kh_request rq;
	struct kh_reply rp;
	struct buf out;
	size_t n = 0;
	ssize_t got = recv(fd, msg, sizeof(msg), MSG_TRUNC);
	if (got == 0)
		return 0;
	if (got < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if ((size_t)got > KH_MSG_MAX || kh_request_decode(msg, (size_t)got, &rq) < 0)
		kh_fatal("a malformed request");
	buf_init(&out, KH_DATA_MAX);
	kh_answer(s, &rq, &out, &rp);
	if (kh_reply_encode(&rp, reply, sizeof(reply), &n) < 0)
		kh_fatal("a reply that does not encode");
	buf_free(&out);
	if (send(fd, reply, n, MSG_NOSIGNAL) != (ssize_t)n && errno != EPIPE)
		kh_fatal("cannot send a reply");
	return 1;
}

static void kh_serve(struct kh_server *s)
{
	struct pollfd pfd[KH_CHANNEL_WORKER + 64];
	for (unsigned i = 0; i < s->n; i++)
		pfd[i] = (struct pollfd){.fd = s->fds[i], .events = POLLIN};
	for (;;) {
		if (poll(pfd, s->n, -1) < 0) {
			if (errno == EINTR)
				continue;
			kh_fatal("poll failed");
		}
		for (unsigned i = 0; i < s->n; i++)
			if (pfd[i].revents != 0 && kh_serve_one(s, pfd[i].fd) == 0)
				_exit(0); /* the parent closed its ends: it is gone */
	}
}

static int kh_load_domain(const char *dir, struct kh_domain *k)
{
	struct note_verifier v;
	buf_init(&k->vkey, NOTE_VKEY_MAX);
	buf_init(&k->origin, 512);
	if ((k->vrf_sk = sodium_malloc(VRF_SK_LEN)) == NULL)
		return SM_ENOMEM;
	int r = kt_keys_read(dir, k->name, k->vrf_sk, &k->log);
	if (r == 0)
		r = vrf_public_key(k->vrf_sk, k->vrf_pk);
	if (r == 0)
		r = note_signer_verifier(k->log, &v);
	if (r == 0)
		r = note_verifier_format(&v, &k->vkey);
	if (r == 0)
		r = kt_origin(k->name, &k->origin);
	return r;
}

/* Every descriptor but the log's and the channels' is closed, and stdin
 * and stdout become /dev/null: the key holder must not hold the listening
 * sockets, the store, or whatever the daemon was started with. */
static void kh_close_others(const int *keep, unsigned n)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0)
		kh_fatal("cannot open /dev/null");
	close(null);
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int fds[1024], nfds = 0, log_fd = daemon_log_fd();
	if (dir == NULL)
		kh_fatal("cannot list its descriptors");
	while ((e = readdir(dir)) != NULL && nfds < 1024) {
		int fd = (int)strtol(e->d_name, NULL, 10);
		int kept = fd <= 2 || fd == dirfd(dir) || fd == log_fd;
		for (unsigned i = 0; i < n && !kept; i++)
			kept = fd == keep[i];
		if (!kept && e->d_name[0] != '.')
			fds[nfds++] = fd;
	}
	closedir(dir);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

static void kh_main(struct daemon *d, int *fds, unsigned n, pid_t parent)
{
	struct kh_server s = {NULL, 0, fds, n};
	struct sandbox_report rep;
	char dir[4200];
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(0);
	signal(SIGINT, SIG_IGN); /* the parent decides when the key holder stops */
	signal(SIGTERM, SIG_DFL);
	kh_close_others(fds, n);
	int r = kt_keys_dir(d->conf->state_dir, dir, sizeof(dir));
	if (r < 0) {
		daemon_log("key holder: %s/%s: %s (it must be a directory of this user's own, "
			   "mode 0700)", d->conf->state_dir, KEYS_DIR,
			   r == SM_EINVAL ? "not this user's own or open to others" : strerror(errno));
		_exit(70);
	}
	if ((s.dom = calloc(d->conf->ndomains, sizeof(*s.dom))) == NULL)
		kh_fatal("out of memory");
	for (size_t i = 0; i < d->conf->ndomains; i++) {
		if (!d->conf->domains[i].wkd)
			continue;
		struct kh_domain *k = &s.dom[s.ndom++];
		k->name = d->conf->domains[i].name;
		r = kh_load_domain(dir, k);
		if (r < 0) {
			daemon_log("transparency keys of %s in %s: %s (a key file is unreadable, "
				   "malformed, not this user's own or open to others; it is never "
				   "overwritten)", k->name, dir, sm_strerror(r));
			_exit(70);
		}
	}
	tzset(); /* daemon_log's strftime reads the time zone file once, now */
	pid_t self = getpid(); /* a system call the sandbox does not allow */
	memset(&rep, 0, sizeof(rep));
	if (!daemon_unconfined() && sandbox_keyholder(n + 8, &rep) < 0) {
		daemon_log("key holder: cannot confine itself: %s", strerror(errno));
		_exit(70);
	}
	daemon_log("key holder (pid %ld): %zu domain key set(s) loaded; confined by seccomp, %s%s",
		   (long)self, s.ndom,
		   rep.landlock_abi > 0 ? "Landlock (no filesystem access)" : "no Landlock (kernel)",
		   rep.caps_dropped ? ", capabilities dropped" : "");
	kh_serve(&s);
}

/* ---- the parent's side ---- */

int keyholder_start(struct daemon *d, unsigned nworkers)
{
	struct keyholder *kh = calloc(1, sizeof(*kh));
	unsigned n = KH_CHANNEL_WORKER + nworkers;
	int servers[KH_CHANNEL_WORKER + 64];
	if (kh == NULL || n > KH_CHANNEL_WORKER + 64 || (kh->ch = calloc(n, sizeof(*kh->ch))) == NULL) {
		free(kh);
		return -1;
	}
	d->keyholder = kh;
	for (; kh->n < n; kh->n++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
			daemon_log("key holder: cannot make its channels: %s", strerror(errno));
			return -1;
		}
		kh->ch[kh->n] = (struct kh_channel){sv[0], randombytes_random()};
		servers[kh->n] = sv[1];
	}
	pid_t parent = getpid();
	kh->pid = fork();
	if (kh->pid == 0)
		kh_main(d, servers, n, parent);
	for (unsigned i = 0; i < n; i++)
		close(servers[i]);
	if (kh->pid < 0) {
		daemon_log("key holder: cannot start it: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct kh_channel *keyholder_channel(struct daemon *d, unsigned i)
{
	struct keyholder *kh = d->keyholder;
	return kh != NULL && i < kh->n ? &kh->ch[i] : NULL;
}

void keyholder_keep(struct daemon *d, unsigned first, unsigned n)
{
	struct keyholder *kh = d->keyholder;
	for (unsigned j = 0; kh != NULL && j < kh->n; j++) {
		if (j >= first && j - first < n) {
			kh->ch[j].next_id = randombytes_random(); /* not the ids of its predecessor */
			continue;
		}
		if (kh->ch[j].fd >= 0)
			close(kh->ch[j].fd);
		kh->ch[j].fd = -1;
	}
}

int keyholder_ended(struct daemon *d, pid_t pid, int status)
{
	struct keyholder *kh = d->keyholder;
	if (kh == NULL || pid != kh->pid)
		return 0;
	char how[96];
	kh->pid = 0;
	daemon_log("key holder ended %s", daemon_exit_text(status, how, sizeof(how)));
	return 1;
}

void keyholder_stop(struct daemon *d)
{
	struct keyholder *kh = d->keyholder;
	if (kh == NULL)
		return;
	for (unsigned i = 0; i < kh->n; i++)
		if (kh->ch[i].fd >= 0)
			close(kh->ch[i].fd);
	if (kh->pid > 0) {
		kill(kh->pid, SIGTERM);
		while (waitpid(kh->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(kh->ch);
	free(kh);
	d->keyholder = NULL;
}

/* ---- requests ---- */

static void kh_client_fatal(const char *what)
{
	daemon_log("key holder channel: %s; stopping this process", what);
	_exit(70);
}

/* Sends one request and waits for its reply, skipping replies meant for a
 * predecessor that died waiting. */
static int kh_call(struct kh_channel *c, uint8_t type, const char *domain, const uint8_t *data,
		   size_t len, uint8_t *msg, struct kh_reply *rp)
{
	struct kh_request rq = {.type = type, .id = c->next_id++, .data = data, .len = len};
	size_t n = 0;
	if (c->fd < 0 || snprintf(rq.domain, sizeof(rq.domain), "%s", domain) >= (int)sizeof(rq.domain) ||
	    kh_request_encode(&rq, msg, KH_MSG_MAX, &n) < 0)
		return SM_EINVAL;
	if (send(c->fd, msg, n, MSG_NOSIGNAL) != (ssize_t)n)
		return SM_EIO;
	for (int stale = 0; stale <= KH_STALE_MAX; stale++) {
		ssize_t got;
		while ((got = recv(c->fd, msg, KH_MSG_MAX + 1, MSG_TRUNC)) < 0 && errno == EINTR)
			;
		if (got <= 0)
			return SM_EIO;
		if ((size_t)got > KH_MSG_MAX || kh_reply_decode(msg, (size_t)got, rp) < 0)
			kh_client_fatal("a malformed reply");
		if (rp->id != rq.id)
			continue;
		if (rp->type != type)
			kh_client_fatal("a reply to another request");
		return rp->status == KH_OK ? 0 : SM_ENOTFOUND;
	}
	kh_client_fatal("too many replies to no request");
	return SM_EIO;
}

int keyholder_public(struct kh_channel *c, const char *domain, uint8_t vrf_pk[VRF_PK_LEN],
		     struct note_verifier *ret_log)
{
	uint8_t msg[KH_MSG_MAX + 1];
	char vkey[NOTE_VKEY_MAX + 1];
	struct kh_reply rp;
	int r = kh_call(c, KH_PUBLIC, domain, NULL, 0, msg, &rp);
	if (r < 0)
		return r;
	if (rp.len - VRF_PK_LEN > NOTE_VKEY_MAX)
		kh_client_fatal("an over-long verifier key");
	memcpy(vkey, rp.data + VRF_PK_LEN, rp.len - VRF_PK_LEN);
	vkey[rp.len - VRF_PK_LEN] = 0;
	if (note_verifier_parse(vkey, ret_log) < 0)
		kh_client_fatal("a malformed verifier key");
	memcpy(vrf_pk, rp.data, VRF_PK_LEN);
	return 0;
}

int keyholder_vrf_prove(struct kh_channel *c, const char *domain, const char *address,
			uint8_t proof[VRF_PROOF_LEN])
{
	uint8_t msg[KH_MSG_MAX + 1];
	struct kh_reply rp;
	int r = kh_call(c, KH_VRF_PROVE, domain, (const uint8_t *)address, strlen(address), msg, &rp);
	if (r == 0)
		memcpy(proof, rp.data, VRF_PROOF_LEN);
	return r;
}

int keyholder_sign(struct kh_channel *c, const char *domain, const uint8_t *body, size_t len,
		   struct buf *out)
{
	uint8_t msg[KH_MSG_MAX + 1];
	struct kh_reply rp;
	int r = kh_call(c, KH_SIGN_CHECKPOINT, domain, body, len, msg, &rp);
	if (r == 0 && (rp.len <= len || memcmp(rp.data, body, len) != 0))
		kh_client_fatal("a signed note that is not of the body sent");
	return r == 0 ? buf_append(out, rp.data, rp.len) : r;
}
