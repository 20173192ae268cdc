/* bench_util.h: what the benchmark programs share: a monotonic clock, one
 * error line, argument counts, and a fast seeded PRNG (splitmix64) for bulk
 * random data, where a system call per item would be most of what is
 * measured. Header-only; define BENCH_NAME (the program's name for
 * messages) before including it, and seed rng_state once. */
#ifndef SEALMAIL_BENCH_UTIL_H
#define SEALMAIL_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"

#define BENCH_N_MAX 100000000ul

static inline double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int fail(const char *what, int r)
{
	fprintf(stderr, BENCH_NAME ": %s%s%s\n", what, r < 0 ? ": " : "", r < 0 ? sm_strerror(r) : "");
	return -1;
}

/* Parses a decimal count from min up to BENCH_N_MAX; rejects signs and junk. */
static inline int parse_count(const char *s, unsigned long min, unsigned long *ret)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	unsigned long v = strtoul(s, &end, 10);
	if (*end != '\0' || v < min || v > BENCH_N_MAX)
		return -1;
	*ret = v;
	return 0;
}

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rnd();
		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

#endif
