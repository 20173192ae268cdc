/* peer_limits.h: limits per client address that several processes (the
 * HTTPS workers, one per core) share, so that a client gets what
 * sealmaild.conf(5) promises however the kernel spreads its connections
 * over them:
 *   - connections at once per address: each worker counts its own in its
 *     own column, and a new one is admitted only if the sum over all
 *     columns is under the cap; a restarted worker clears its column (its
 *     predecessor's connections died with it);
 *   - lookups per address: one table of token buckets (rate.h).
 * Connections are counted by a keyed hash of the address (a random key
 * per table) into 65,536 buckets: two addresses that share a bucket share
 * its cap, and no client can choose whom it shares with.
 *
 * The table lives in shared anonymous memory, so it is made before the
 * processes are forked, behind one process-shared robust mutex: a
 * process that dies holding it leaves the table one update behind at
 * worst, and the next one to lock it goes on. */
#ifndef SEALMAIL_PEER_LIMITS_H
#define SEALMAIL_PEER_LIMITS_H

#include "err.h"

struct peer_limits;

/* For nworkers workers; lookups a minute per address, with burst at once.
 * NULL (errno set) if the shared memory cannot be had. */
struct peer_limits *peer_limits_new(unsigned nworkers, unsigned per_minute, unsigned burst);
void peer_limits_free(struct peer_limits *p);

/* In worker slot, at its start: its column cleared. */
void peer_limits_worker_start(struct peer_limits *p, unsigned slot);

/* 1 if peer (its address as text) may hold one more connection, under
 * cap in all; then worker slot counts it until peer_limits_release. 0 if
 * not. */
int peer_limits_admit(struct peer_limits *p, unsigned slot, const char *peer, unsigned cap) SM_WUR;
void peer_limits_release(struct peer_limits *p, unsigned slot, const char *peer);

/* 1 if peer may make a key lookup at time now (seconds, monotonic), else
 * 0 with *ret_wait the whole seconds until it may (rate.h). */
int peer_limits_lookup(struct peer_limits *p, const char *peer, double now, unsigned *ret_wait) SM_WUR;

#endif
