/* rate.h: per-client rate limits (token buckets), socket-free.
 *
 * A table of at most RATE_SLOTS buckets keyed by a client's name (its IP
 * address as text). Each bucket holds up to `burst` tokens and regains
 * `per_minute` tokens a minute; a request takes one, and is refused when
 * there is none. When the table is full, the bucket that was idle longest
 * is reused, so memory is fixed whatever the number of clients; a client
 * forgotten that way starts again with a full bucket, which errs on the
 * side of serving. Time is the caller's (seconds, monotonic), so tests
 * need no clock. Not thread-safe: one table per process or thread. */
#ifndef SEALMAIL_RATE_H
#define SEALMAIL_RATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RATE_SLOTS 4096
#define RATE_KEY_MAX 63

struct rate_bucket {
	char key[RATE_KEY_MAX + 1];
	double tokens;
	double last; /* time of the last update */
	int used;
};

struct rate {
	unsigned per_minute;
	unsigned burst;
	struct rate_bucket slot[RATE_SLOTS];
};

/* per_minute > 0; burst > 0 (the tokens a new client starts with). */
void rate_init(struct rate *r, unsigned per_minute, unsigned burst);

/* 1 if the client key may make a request at time now (and takes a token),
 * 0 if it must wait; then *ret_wait (if not NULL) is the whole seconds
 * until a token is back. A key longer than RATE_KEY_MAX is cut. */
int rate_take(struct rate *r, const char *key, double now, unsigned *ret_wait);

#endif
