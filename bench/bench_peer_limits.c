/* bench_peer_limits [N]: what sharing the HTTPS workers' per-address
 * limits costs (peer_limits.h): nanoseconds per key-lookup check and per
 * connection admit+release, in one process, and in two processes that
 * hammer the same address at once (the worst case: one client spread over
 * both workers), against rate_take on a private table (what each worker
 * did before). N checks per measurement (default 2,000,000). */
#define BENCH_NAME "bench_peer_limits"
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "peer_limits.h"
#include "rate.h"

static struct rate private_table;

/* ns per call of one of the three operations, n calls. */
static double run(struct peer_limits *p, int op, unsigned slot, unsigned long n)
{
	double t0 = now();
	for (unsigned long i = 0; i < n; i++) {
		double t = (double)i; /* one second a call: the bucket never runs dry */
		if (op == 0)
			(void)!rate_take(&private_table, "192.0.2.1", t, NULL);
		else if (op == 1)
			(void)!peer_limits_lookup(p, "192.0.2.1", t, NULL);
		else if (peer_limits_admit(p, slot, "192.0.2.1", 1000000))
			peer_limits_release(p, slot, "192.0.2.1");
	}
	return (now() - t0) * 1e9 / (double)n;
}

/* The same, with a forked second process doing the same at the same
 * time; the parent's figure. */
static double run_two(struct peer_limits *p, int op, unsigned long n)
{
	pid_t pid = fork();
	if (pid == 0) {
		run(p, op, 1, n);
		_exit(0);
	}
	double ns = run(p, op, 0, n);
	waitpid(pid, NULL, 0);
	return ns;
}

int main(int argc, char **argv)
{
	unsigned long n = 2000000;
	if (argc > 2 || (argc == 2 && parse_count(argv[1], 1000, &n) < 0)) {
		fprintf(stderr, "usage: bench_peer_limits [N]\n");
		return 2;
	}
	struct peer_limits *p = peer_limits_new(2, 1000000000, 1000000000);
	if (p == NULL) {
		fail("cannot map the table", 0);
		return 1;
	}
	rate_init(&private_table, 1000000000, 1000000000);
	printf("# ns per call, %lu calls, one address\n", n);
	printf("%-34s %10s %14s\n", "operation", "alone", "two processes");
	printf("%-34s %10.0f %14s\n", "rate_take, private table (before)", run(p, 0, 0, n), "-");
	printf("%-34s %10.0f %14.0f\n", "lookup check, shared table", run(p, 1, 0, n), run_two(p, 1, n));
	printf("%-34s %10.0f %14.0f\n", "connection admit + release", run(p, 2, 0, n), run_two(p, 2, n));
	peer_limits_free(p);
	return 0;
}
