/* mem_tlog.h: an in-memory hash store for tlog.h (one growing array of
 * hashes per level), shared by the tests and benchmarks that build logs.
 * Header-only; zero a struct mem_tlog to start, mem_tlog_free to end. */
#ifndef SEALMAIL_MEM_TLOG_H
#define SEALMAIL_MEM_TLOG_H

#include <stdlib.h>
#include <string.h>

#include "tlog.h"

struct mem_tlog {
	uint8_t (*lv[64])[TLOG_HASH_LEN];
	uint64_t n[64], cap[64];
};

static inline int mem_tlog_read(void *ctx, unsigned level, uint64_t index,
				uint8_t ret[TLOG_HASH_LEN])
{
	struct mem_tlog *m = ctx;
	if (level >= 64 || index >= m->n[level])
		return SM_ENOTFOUND;
	memcpy(ret, m->lv[level][index], TLOG_HASH_LEN);
	return 0;
}

static inline int mem_tlog_write(void *ctx, unsigned level, uint64_t index,
				 const uint8_t h[TLOG_HASH_LEN])
{
	struct mem_tlog *m = ctx;
	if (level >= 64 || index > m->n[level])
		return SM_EINVAL; /* tlog_append writes each level in order */
	if (index == m->cap[level]) {
		uint64_t cap = m->cap[level] ? 2 * m->cap[level] : 16;
		void *p = realloc(m->lv[level], cap * TLOG_HASH_LEN);
		if (p == NULL)
			return SM_ENOMEM;
		m->lv[level] = p;
		m->cap[level] = cap;
	}
	memcpy(m->lv[level][index], h, TLOG_HASH_LEN);
	if (index == m->n[level])
		m->n[level]++;
	return 0;
}

static inline struct tlog_store mem_tlog_store(struct mem_tlog *m)
{
	return (struct tlog_store){mem_tlog_read, mem_tlog_write, m};
}

static inline void mem_tlog_free(struct mem_tlog *m)
{
	for (size_t i = 0; i < 64; i++)
		free(m->lv[i]);
	memset(m, 0, sizeof(*m));
}

#endif
