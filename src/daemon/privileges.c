/* privileges.c: leaving root. Started as root with `user` configured, the
 * main process gives the state it writes to that user (the state
 * directory, the database, the transparency directory with its bundles,
 * the Maildir roots and the Maildirs in them) and becomes that user before
 * it talks to the network; the HTTPS workers are forked after, as that
 * user. The key holder, forked before, stays root in its sandbox, and the
 * keys' directory and files stay root's, mode 0700 and 0600: no process
 * that talks to the network can read or replace them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "transparency.h"

/* Gives path to uid:gid if it exists, never following a link. */
static int give(const char *path, uid_t uid, gid_t gid)
{
	if (fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 || errno == ENOENT)
		return 0;
	daemon_log("cannot give %s to the daemon's user: %s", path, strerror(errno));
	return -1;
}

/* The Maildir root (made if missing) and, below it, every Maildir with
 * its tmp, new and cur: delivery creates and renames files in those. */
static int give_maildirs(const char *root, uid_t uid, gid_t gid)
{
	char path[4200];
	struct dirent *e;
	if (mkdir(root, 0700) < 0 && errno != EEXIST) {
		daemon_log("cannot create %s: %s", root, strerror(errno));
		return -1;
	}
	if (give(root, uid, gid) < 0)
		return -1;
	DIR *dir = opendir(root);
	int r = dir == NULL ? -1 : 0;
	while (r == 0 && (e = readdir(dir)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.' ||
		    (e->d_type != DT_DIR && (e->d_type != DT_UNKNOWN ||
		     fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))))
			continue;
		static const char *const subs[] = {"", "/tmp", "/new", "/cur"};
		for (size_t i = 0; r == 0 && i < 4; i++) {
			snprintf(path, sizeof(path), "%s/%s%s", root, e->d_name, subs[i]);
			r = give(path, uid, gid);
		}
	}
	if (dir != NULL)
		closedir(dir);
	return r;
}

static int give_state(struct daemon *d, uid_t uid, gid_t gid)
{
	static const char *const db[] = {"sealmaild.db", "sealmaild.db-wal", "sealmaild.db-shm"};
	const struct conf *c = d->conf;
	char path[4200];
	int r = give(c->state_dir, uid, gid);
	for (size_t i = 0; r == 0 && i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", c->state_dir, db[i]);
		r = give(path, uid, gid);
	}
	if (r == 0 && d->kt != NULL)
		r = give(d->kt->dir, uid, gid);
	for (size_t i = 0; r == 0 && d->kt != NULL && i < d->kt->n; i++) {
		snprintf(path, sizeof(path), "%s/%s.bundle", d->kt->dir, d->kt->domains[i].name);
		r = give(path, uid, gid);
	}
	for (size_t i = 0; r == 0 && i < c->ndomains; i++)
		r = give_maildirs(c->domains[i].maildir_root, uid, gid);
	return r;
}

/* Whether uid 0 here is the machine's root, not only the root of a user
 * namespace (where it is some unprivileged user outside): the initial
 * namespace maps every uid to itself. Unreadable: assume it is. */
static int machine_root(void)
{
	unsigned long inner, outer, count;
	FILE *f = fopen("/proc/self/uid_map", "re");
	if (f == NULL)
		return 1;
	int n = fscanf(f, "%lu %lu %lu", &inner, &outer, &count);
	fclose(f);
	return n != 3 || (inner == 0 && outer == 0);
}

int privileges_check(const struct daemon *d)
{
	if (geteuid() != 0 || d->conf->user != NULL || !machine_root())
		return 0;
	daemon_log("started as root without 'user': the processes that talk to the network would run "
		   "as root; set 'user' in the configuration to the account they should run as "
		   "(sealmaild.conf(5)); not starting");
	return -1;
}

int privileges_drop(struct daemon *d)
{
	const char *user = d->conf->user;
	if (geteuid() != 0) {
		if (user != NULL)
			daemon_log("not started as root: running as uid %ld, not as %s", (long)geteuid(), user);
		return 0;
	}
	if (user == NULL) { /* the root of a user namespace (privileges_check) */
		daemon_log("running as the root of a user namespace, without capabilities; set 'user' "
			   "in the configuration so that no process that talks to the network does");
		return 0;
	}
	struct passwd *pw = getpwnam(user);
	if (pw == NULL || pw->pw_uid == 0) {
		daemon_log("user %s: %s", user, pw == NULL ? "no such user" : "is root");
		return -1;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (give_state(d, uid, gid) < 0)
		return -1;
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		daemon_log("cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		daemon_log("could become root again after dropping to %s; stopping", user);
		return -1;
	}
	return 0;
}
