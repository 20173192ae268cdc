/* keys.c: each domain's transparency keys (transparency.h): their files in
 * STATE_DIR/keys, read only by the key holder (keyholder.c) and `sealmaild
 * log-key`, and the parent's table of each domain's public keys. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "atomic_file.h"
#include "daemon.h"
#include "keyholder.h"
#include "kt.h"
#include "transparency.h"

#define KEY_FILE_MAX 1024

/* "<hex VRF secret key>\n" */
static int vrf_key_parse(const struct buf *b, uint8_t *sk)
{
	size_t got = 0;
	if (b->len != 2 * VRF_SK_LEN + 1 || b->data[b->len - 1] != '\n' ||
	    sodium_hex2bin(sk, VRF_SK_LEN, (const char *)b->data, 2 * VRF_SK_LEN, NULL, &got, NULL) != 0 ||
	    got != VRF_SK_LEN)
		return SM_EPARSE;
	uint8_t pk[VRF_PK_LEN];
	return vrf_public_key(sk, pk) == 0 ? 0 : SM_EPARSE;
}

static int vrf_key_create(const char *dir, const char *name, uint8_t *sk)
{
	uint8_t pk[VRF_PK_LEN];
	char hex[2 * VRF_SK_LEN + 2];
	int r = vrf_keypair(pk, sk);
	if (r < 0)
		return r;
	sodium_bin2hex(hex, sizeof(hex), sk, VRF_SK_LEN);
	hex[2 * VRF_SK_LEN] = '\n';
	r = atomic_file_create(dir, name, (const uint8_t *)hex, 2 * VRF_SK_LEN + 1, 0600);
	sodium_memzero(hex, sizeof(hex));
	return r;
}

static int log_key_create(const char *dir, const char *name, const char *origin,
			  struct note_signer **ret)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	struct buf text;
	buf_init(&text, KEY_FILE_MAX);
	crypto_sign_keypair(pk, sk);
	int r = note_signer_new(origin, NOTE_KEY_ED25519, sk, ret);
	sodium_memzero(sk, sizeof(sk));
	if (r == 0)
		r = note_signer_format(*ret, &text);
	if (r == 0)
		r = buf_append(&text, "\n", 1);
	if (r == 0)
		r = atomic_file_create(dir, name, text.data, text.len, 0600);
	buf_free(&text);
	if (r < 0) {
		note_signer_free(*ret);
		*ret = NULL;
	}
	return r;
}

static int log_key_parse(struct buf *b, struct note_signer **ret)
{
	if (b->len < 2 || b->data[b->len - 1] != '\n')
		return SM_EPARSE;
	b->data[b->len - 1] = 0;
	return note_signer_parse((const char *)b->data, ret);
}

/* A key file is read only if it is a regular file of the reader's own
 * that no one else may read or write: one another user could have put
 * there is not a key to trust. SM_EINVAL if it is not. */
int keys_file_read(struct buf *b, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? SM_ENOTFOUND : SM_EIO;
	int r = fstat(fd, &st) < 0 ? SM_EIO : 0;
	if (r == 0 && (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0))
		r = SM_EINVAL;
	if (r == 0)
		r = buf_read_fd(b, fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* Loads the domain's keys from dir, or creates them when they do not exist
 * yet (never replacing one another process created meanwhile). */
int kt_keys_read(const char *dir, const char *domain, uint8_t *vrf_sk, struct note_signer **ret_log)
{
	char vrf_name[300], log_name[300], path[4400];
	struct buf b, origin;
	struct note_signer *log = NULL;
	struct note_verifier v;
	uint8_t pk[VRF_PK_LEN];
	snprintf(vrf_name, sizeof(vrf_name), "%s.vrf-key", domain);
	snprintf(log_name, sizeof(log_name), "%s.log-key", domain);
	buf_init(&b, KEY_FILE_MAX);
	buf_init(&origin, 512);
	snprintf(path, sizeof(path), "%s/%s", dir, vrf_name);
	int created = 0;
	int r = keys_file_read(&b, path);
	if (r == SM_ENOTFOUND) {
		r = vrf_key_create(dir, vrf_name, vrf_sk);
		created = r == 0;
		if (r == SM_EEXIST)
			r = keys_file_read(&b, path); /* another process made it first: use theirs */
	}
	if (r == 0 && !created)
		r = vrf_key_parse(&b, vrf_sk);
	if (r == 0)
		r = vrf_public_key(vrf_sk, pk);
	buf_reset(&b);
	if (r == 0)
		r = kt_origin(domain, &origin);
	if (r == 0)
		r = buf_append(&origin, "", 1);
	snprintf(path, sizeof(path), "%s/%s", dir, log_name);
	if (r == 0) {
		r = keys_file_read(&b, path);
		if (r == SM_ENOTFOUND &&
		    (r = log_key_create(dir, log_name, (const char *)origin.data, &log)) == SM_EEXIST)
			r = keys_file_read(&b, path); /* another process made it first */
		if (r == 0 && log == NULL)
			r = log_key_parse(&b, &log);
	}
	if (r == 0)
		r = note_signer_verifier(log, &v);
	if (r == 0 && strcmp(v.name, (const char *)origin.data) != 0)
		r = SM_EPARSE;
	buf_free(&b);
	buf_free(&origin);
	if (r < 0)
		note_signer_free(log);
	else
		*ret_log = log;
	return r;
}

/* dir must be a directory of the reader's own that no one else may use:
 * the processes that talk to the network own the state directory around
 * it, and could otherwise put one of their own in its place. */
static int keys_dir_check(const char *dir)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return SM_EIO;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return SM_EINVAL;
	return 0;
}

/* Before the keys had a directory of their own they lived beside the
 * bundles in STATE_DIR/kt: moves any found there, never replacing one. */
static int keys_move_from_kt(const char *state_dir, const char *dir)
{
	char old_dir[4200], from[4500], to[4500];
	struct dirent *e;
	snprintf(old_dir, sizeof(old_dir), "%s/%s", state_dir, KT_DIR);
	DIR *d = opendir(old_dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : SM_EIO;
	int r = 0;
	while (r == 0 && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 9 || (strcmp(e->d_name + n - 8, ".log-key") != 0 &&
						     strcmp(e->d_name + n - 8, ".vrf-key") != 0))
			continue;
		snprintf(from, sizeof(from), "%s/%s", old_dir, e->d_name);
		snprintf(to, sizeof(to), "%s/%s", dir, e->d_name);
		if (link(from, to) < 0 && errno != EEXIST)
			r = SM_EIO;
		else if (unlink(from) < 0)
			r = SM_EIO;
	}
	closedir(d);
	return r == 0 ? atomic_file_fsync_dir(dir) : r;
}

int kt_keys_dir(const char *state_dir, char *out, size_t cap)
{
	if ((size_t)snprintf(out, cap, "%s/%s", state_dir, KEYS_DIR) >= cap)
		return SM_ETOOBIG;
	if ((mkdir(state_dir, 0700) < 0 && errno != EEXIST) || (mkdir(out, 0700) < 0 && errno != EEXIST))
		return SM_EIO;
	int r = keys_dir_check(out);
	return r == 0 ? keys_move_from_kt(state_dir, out) : r;
}

int kt_domains_init(struct daemon *d)
{
	struct kt *kt = calloc(1, sizeof(*kt));
	if (kt == NULL)
		return -1;
	d->kt = kt;
	snprintf(kt->dir, sizeof(kt->dir), "%s/%s", d->conf->state_dir, KT_DIR);
	if (mkdir(kt->dir, 0755) < 0 && errno != EEXIST) {
		daemon_log("cannot create %s: %s", kt->dir, strerror(errno));
		return -1;
	}
	kt->domains = calloc(d->conf->ndomains, sizeof(*kt->domains));
	if (kt->domains == NULL)
		return -1;
	for (size_t i = 0; i < d->conf->ndomains; i++) {
		struct kt_domain *k = &kt->domains[kt->n];
		if (!d->conf->domains[i].wkd)
			continue;
		k->name = d->conf->domains[i].name;
		kt->n++;
		int r = keyholder_public(d->kh, k->name, k->vrf_pk, &k->log_vkey);
		if (r < 0) {
			daemon_log("transparency keys of %s: the key holder %s", k->name,
				   r == SM_EIO ? "ended before serving them" : "does not serve them");
			return -1;
		}
	}
	return 0;
}

struct kt_domain *kt_find(struct daemon *d, const char *domain)
{
	if (d->kt == NULL)
		return NULL;
	for (size_t i = 0; i < d->kt->n; i++)
		if (strcmp(d->kt->domains[i].name, domain) == 0)
			return &d->kt->domains[i];
	return NULL;
}

void kt_free(struct daemon *d)
{
	struct kt *kt = d->kt;
	if (kt == NULL)
		return;
	for (size_t i = 0; i < kt->n; i++) {
		struct kt_domain *k = &kt->domains[i];
		ptree_free(k->map);
		kt_http_unmap(k);
	}
	free(kt->domains);
	free(kt);
	d->kt = NULL;
}
