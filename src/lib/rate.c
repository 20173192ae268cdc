/* rate.c: per-client token buckets (rate.h). */
#include "rate.h"

#include <string.h>

void rate_init(struct rate *r, unsigned per_minute, unsigned burst)
{
	memset(r, 0, sizeof(*r));
	r->per_minute = per_minute > 0 ? per_minute : 1;
	r->burst = burst > 0 ? burst : 1;
}

/* FNV-1a, to pick where to start looking. */
static size_t key_hash(const char *key)
{
	uint32_t h = 2166136261u;
	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 16777619u;
	return h;
}

#define PROBES 8

/* The key's bucket: found among PROBES slots from its hash, else the
 * free or longest-idle one among them, reset for the key. */
static struct rate_bucket *bucket_for(struct rate *r, const char *key, double now)
{
	size_t start = key_hash(key) % RATE_SLOTS;
	struct rate_bucket *victim = NULL;
	for (size_t i = 0; i < PROBES; i++) {
		struct rate_bucket *b = &r->slot[(start + i) % RATE_SLOTS];
		if (b->used && strcmp(b->key, key) == 0)
			return b;
		if (victim == NULL || !b->used || (victim->used && b->last < victim->last))
			victim = b;
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = 1;
	victim->tokens = r->burst;
	victim->last = now;
	memcpy(victim->key, key, strlen(key) + 1); /* key fits: rate_take cut it */
	return victim;
}

int rate_take(struct rate *r, const char *key, double now, unsigned *ret_wait)
{
	char k[RATE_KEY_MAX + 1];
	size_t n = strnlen(key, RATE_KEY_MAX);
	memcpy(k, key, n);
	k[n] = 0;
	struct rate_bucket *b = bucket_for(r, k, now);
	double per_second = r->per_minute / 60.0;
	if (now > b->last) {
		b->tokens += (now - b->last) * per_second;
		if (b->tokens > r->burst)
			b->tokens = r->burst;
	}
	b->last = now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 1;
	}
	if (ret_wait != NULL) { /* whole seconds, rounded up, at least one */
		double w = (1.0 - b->tokens) / per_second;
		unsigned s = (unsigned)w;
		*ret_wait = s + (s < w || s == 0);
	}
	return 0;
}
