/* peer_limits.c: the per-address limits the HTTPS workers share
 * (peer_limits.h). */
#include "peer_limits.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <sodium.h>

#include "rate.h"

#define BUCKETS 65536u
#define WORKERS_MAX 64u

struct peer_limits {
	pthread_mutex_t lock; /* process-shared, robust */
	uint8_t key[crypto_shorthash_KEYBYTES];
	unsigned nworkers;
	size_t size;          /* of the mapping */
	struct rate lookups;
	uint32_t counts[];    /* [nworkers][BUCKETS]: each worker's connections per bucket */
};

struct peer_limits *peer_limits_new(unsigned nworkers, unsigned per_minute, unsigned burst)
{
	pthread_mutexattr_t a;
	if (nworkers == 0 || nworkers > WORKERS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	size_t size = sizeof(struct peer_limits) + (size_t)nworkers * BUCKETS * sizeof(uint32_t);
	struct peer_limits *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* the mapping is zeroed: every count starts at 0 */
	p->size = size;
	p->nworkers = nworkers;
	randombytes_buf(p->key, sizeof(p->key));
	rate_init(&p->lookups, per_minute, burst);
	if (pthread_mutexattr_init(&a) != 0 ||
	    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&p->lock, &a) != 0) {
		munmap(p, size);
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutexattr_destroy(&a);
	return p;
}

void peer_limits_free(struct peer_limits *p)
{
	if (p != NULL)
		munmap(p, p->size);
}

static void lock(struct peer_limits *p)
{
	if (pthread_mutex_lock(&p->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&p->lock); /* its holder died; the table stands */
}

static void unlock(struct peer_limits *p)
{
	pthread_mutex_unlock(&p->lock);
}

static size_t bucket(const struct peer_limits *p, const char *peer)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;
	crypto_shorthash(h, (const unsigned char *)peer, strlen(peer), p->key);
	memcpy(&v, h, sizeof(v));
	return v % BUCKETS;
}

static uint32_t *column(struct peer_limits *p, unsigned slot)
{
	return &p->counts[(size_t)slot * BUCKETS];
}

void peer_limits_worker_start(struct peer_limits *p, unsigned slot)
{
	if (slot >= p->nworkers)
		return;
	lock(p);
	memset(column(p, slot), 0, BUCKETS * sizeof(uint32_t));
	unlock(p);
}

int peer_limits_admit(struct peer_limits *p, unsigned slot, const char *peer, unsigned cap)
{
	size_t b = bucket(p, peer);
	uint64_t sum = 0;
	if (slot >= p->nworkers)
		return 0;
	lock(p);
	for (unsigned w = 0; w < p->nworkers; w++)
		sum += column(p, w)[b];
	int ok = sum < cap;
	if (ok)
		column(p, slot)[b]++;
	unlock(p);
	return ok;
}

void peer_limits_release(struct peer_limits *p, unsigned slot, const char *peer)
{
	size_t b = bucket(p, peer);
	if (slot >= p->nworkers)
		return;
	lock(p);
	if (column(p, slot)[b] > 0)
		column(p, slot)[b]--;
	unlock(p);
}

int peer_limits_lookup(struct peer_limits *p, const char *peer, double now, unsigned *ret_wait)
{
	lock(p);
	int ok = rate_take(&p->lookups, peer, now, ret_wait);
	unlock(p);
	return ok;
}
