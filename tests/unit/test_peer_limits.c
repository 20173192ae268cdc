#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "peer_limits.h"

/* Two workers share one address's cap; each counts its own. */
static void the_cap_counts_every_worker(void)
{
	struct peer_limits *p = peer_limits_new(2, 60, 10);
	CHECK(p != NULL);
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 3), 1);
	CHECK_INT(peer_limits_admit(p, 1, "192.0.2.1", 3), 1);
	CHECK_INT(peer_limits_admit(p, 1, "192.0.2.1", 3), 1);
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 3), 0);
	CHECK_INT(peer_limits_admit(p, 1, "192.0.2.1", 3), 0);
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.2", 3), 1); /* another address */
	peer_limits_release(p, 1, "192.0.2.1");
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 3), 1);
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 3), 0);
	CHECK_INT(peer_limits_admit(p, 2, "192.0.2.3", 3), 0); /* no such worker */
	peer_limits_free(p);
}

/* A restarted worker's predecessor held connections that died with it. */
static void a_restarted_worker_starts_from_zero(void)
{
	struct peer_limits *p = peer_limits_new(2, 60, 10);
	CHECK(p != NULL);
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 2), 1);
	CHECK_INT(peer_limits_admit(p, 1, "192.0.2.1", 2), 1);
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 2), 0);
	peer_limits_worker_start(p, 1);
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 2), 1);
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 2), 0);
	peer_limits_release(p, 1, "192.0.2.1"); /* nothing of its own: no harm */
	CHECK_INT(peer_limits_admit(p, 1, "192.0.2.1", 2), 0);
	peer_limits_free(p);
}

/* The table is shared with forked processes: what a child takes from an
 * address's lookups, the parent no longer has. */
static void forked_processes_share_the_lookups(void)
{
	struct peer_limits *p = peer_limits_new(2, 60, 10);
	unsigned wait = 0;
	int status = -1;
	CHECK(p != NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int ok = 1;
		for (int i = 0; i < 6; i++)
			ok &= peer_limits_lookup(p, "192.0.2.1", 100.0, NULL);
		ok &= peer_limits_admit(p, 1, "192.0.2.1", 2);
		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (int i = 0; i < 4; i++)
		CHECK_INT(peer_limits_lookup(p, "192.0.2.1", 100.0, NULL), 1);
	CHECK_INT(peer_limits_lookup(p, "192.0.2.1", 100.0, &wait), 0);
	CHECK_INT(wait, 1);
	CHECK_INT(peer_limits_lookup(p, "192.0.2.2", 100.0, NULL), 1);
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 2), 1);
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 2), 0); /* the child's counts */
	peer_limits_free(p);
}

/* Children killed at any moment, holding the lock or not: the others go
 * on (a lock its dead holder kept would hang this test until its alarm). */
static void a_worker_killed_holding_the_lock_stops_no_one(void)
{
	struct peer_limits *p = peer_limits_new(2, 1000000, 1000000);
	CHECK(p != NULL);
	alarm(60);
	for (int round = 0; round < 20; round++) {
		pid_t pid = fork();
		if (pid == 0) {
			for (;;) {
				(void)!peer_limits_lookup(p, "192.0.2.1", 1.0, NULL);
				if (peer_limits_admit(p, 1, "192.0.2.9", 1000000))
					peer_limits_release(p, 1, "192.0.2.9");
			}
		}
		CHECK(pid > 0);
		usleep(2000 + (useconds_t)(round * 997 % 5000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		CHECK_INT(peer_limits_lookup(p, "192.0.2.2", 1.0, NULL), 1);
	}
	CHECK_INT(peer_limits_admit(p, 0, "192.0.2.1", 1), 1);
	alarm(0);
	peer_limits_free(p);
}

int main(void)
{
	RUN(the_cap_counts_every_worker);
	RUN(a_restarted_worker_starts_from_zero);
	RUN(forked_processes_share_the_lookups);
	RUN(a_worker_killed_holding_the_lock_stops_no_one);
	return check_done();
}
