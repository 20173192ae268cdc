/* kt_delta.c: an epoch's map delta, written by the log and replayed by
 * auditors. See kt_delta.h.
 *
 * A delta is untrusted when applied (a witness gets it from the log), so
 * the whole of it is checked against the map before the map changes: a
 * rejected delta leaves the map exactly as it was. */
#include "kt_delta.h"

#include <string.h>

#include "num.h"

#define OFF_IDX 0
#define OFF_COUNTER 32
#define OFF_EPOCH 40
#define OFF_OLD 48
#define OFF_NEW 80

/* Why a delta was refused (kt_delta_why); indices into why_text. */
enum {
	WHY_OK = 0,
	WHY_FRAMING,
	WHY_EPOCH,
	WHY_ORDER,
	WHY_NEW_NONZERO,
	WHY_OLD_MISMATCH,
	WHY_COUNTER_MAX,
	WHY_COUNT
};

static const char *const why_text[WHY_COUNT] = {
	[WHY_OK] = "the delta is valid",
	[WHY_FRAMING] = "the delta is malformed (bad header or a truncated record)",
	[WHY_EPOCH] = "the delta is for another epoch",
	[WHY_ORDER] = "entries are not in ascending index order",
	[WHY_NEW_NONZERO] = "a new entry carries an old epoch or commitment",
	[WHY_OLD_MISMATCH] = "an entry's old value does not match the map",
	[WHY_COUNTER_MAX] = "an entry's counter cannot rise any further",
};

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

const char *kt_delta_why(int why)
{
	if (why < 0 || why >= WHY_COUNT)
		return "unknown reason";
	return why_text[why];
}

int kt_delta_begin(struct buf *out, uint64_t epoch)
{
	uint8_t h[KT_DELTA_HEADER_LEN];
	memcpy(h, KT_DELTA_MAGIC, strlen(KT_DELTA_MAGIC));
	num_put_be(h + strlen(KT_DELTA_MAGIC), epoch, 8);
	return buf_append(out, h, sizeof(h));
}

int kt_delta_add(struct buf *out, const uint8_t idx[PTREE_IDX_LEN], const struct ptree_leaf *old,
		 const uint8_t new_commitment[PTREE_HASH_LEN])
{
	uint8_t rec[KT_DELTA_RECORD_LEN];
	if (out->len < KT_DELTA_HEADER_LEN || (out->len - KT_DELTA_HEADER_LEN) % KT_DELTA_RECORD_LEN != 0)
		return SM_EINVAL;
	/* The previous record's idx is the last one written: keep them rising. */
	if (out->len > KT_DELTA_HEADER_LEN &&
	    memcmp(out->data + out->len - KT_DELTA_RECORD_LEN + OFF_IDX, idx, PTREE_IDX_LEN) >= 0)
		return SM_EINVAL;
	if (old != NULL && (old->counter == 0 || old->counter == UINT64_MAX ||
			    memcmp(old->idx, idx, PTREE_IDX_LEN) != 0))
		return SM_EINVAL;
	memset(rec, 0, sizeof(rec));
	memcpy(rec + OFF_IDX, idx, PTREE_IDX_LEN);
	if (old != NULL) {
		num_put_be(rec + OFF_COUNTER, old->counter, 8);
		num_put_be(rec + OFF_EPOCH, old->epoch, 8);
		memcpy(rec + OFF_OLD, old->commitment, PTREE_HASH_LEN);
	}
	memcpy(rec + OFF_NEW, new_commitment, PTREE_HASH_LEN);
	return buf_append(out, rec, sizeof(rec));
}

/* The framing rules; *ret_why says which one failed. */
static int delta_frame(const uint8_t *delta, size_t len, uint64_t epoch, size_t *ret_n, int *ret_why)
{
	size_t ml = strlen(KT_DELTA_MAGIC);
	*ret_why = WHY_FRAMING;
	if (delta == NULL || len < KT_DELTA_HEADER_LEN || memcmp(delta, KT_DELTA_MAGIC, ml) != 0 ||
	    (len - KT_DELTA_HEADER_LEN) % KT_DELTA_RECORD_LEN != 0 ||
	    (len - KT_DELTA_HEADER_LEN) / KT_DELTA_RECORD_LEN > KT_DELTA_MAX_RECORDS)
		return SM_EPARSE;
	if (num_get_be(delta + ml, 8) != epoch) {
		*ret_why = WHY_EPOCH;
		return SM_EPARSE;
	}
	*ret_why = WHY_OK;
	*ret_n = (len - KT_DELTA_HEADER_LEN) / KT_DELTA_RECORD_LEN;
	return 0;
}

int kt_delta_count(const uint8_t *delta, size_t len, uint64_t epoch, size_t *ret_n)
{
	int why;
	return delta_frame(delta, len, epoch, ret_n, &why);
}

/* Checks one record (rec) against the map and the one before it (prev,
 * NULL for the first); counts a new entry in *nnew. */
static int record_check(const struct ptree *map, const uint8_t *rec, const uint8_t *prev,
			size_t *nnew, int *ret_why)
{
	struct ptree_leaf cur;
	uint64_t counter = num_get_be(rec + OFF_COUNTER, 8);
	if (prev != NULL && memcmp(prev + OFF_IDX, rec + OFF_IDX, PTREE_IDX_LEN) >= 0) {
		*ret_why = WHY_ORDER;
		return SM_EPARSE;
	}
	int r = ptree_get(map, rec + OFF_IDX, &cur);
	if (r < 0 && r != SM_ENOTFOUND)
		return r;
	if (counter == 0) {
		if (!all_zero(rec + OFF_EPOCH, 8 + PTREE_HASH_LEN)) {
			*ret_why = WHY_NEW_NONZERO;
			return SM_EPARSE;
		}
		if (r == 0) {
			*ret_why = WHY_OLD_MISMATCH; /* "new", but the map has it */
			return SM_ECRYPTO;
		}
		(*nnew)++;
		return 0;
	}
	if (r < 0 || cur.counter != counter || cur.epoch != num_get_be(rec + OFF_EPOCH, 8) ||
	    memcmp(cur.commitment, rec + OFF_OLD, PTREE_HASH_LEN) != 0) {
		*ret_why = WHY_OLD_MISMATCH;
		return SM_ECRYPTO;
	}
	if (counter == UINT64_MAX) {
		*ret_why = WHY_COUNTER_MAX;
		return SM_ECRYPTO;
	}
	return 0;
}

static int delta_check(const struct ptree *map, const uint8_t *recs, size_t n, int *ret_why)
{
	size_t nnew = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *rec = recs + i * KT_DELTA_RECORD_LEN;
		int r = record_check(map, rec, i ? rec - KT_DELTA_RECORD_LEN : NULL, &nnew, ret_why);
		if (r < 0)
			return r;
	}
	/* Growth past the tree's limit is refused before anything changes. */
	if (nnew > PTREE_MAX_LEAVES - ptree_count(map))
		return SM_ETOOBIG;
	return 0;
}

int kt_delta_apply(struct ptree *map, const uint8_t *delta, size_t len, uint64_t epoch,
		   int *ret_why)
{
	size_t n = 0;
	int why = WHY_OK;
	int r = delta_frame(delta, len, epoch, &n, &why);
	if (r == 0)
		r = delta_check(map, delta + KT_DELTA_HEADER_LEN, n, &why);
	if (r < 0) {
		if (ret_why != NULL)
			*ret_why = why;
		return r;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		const uint8_t *rec = delta + KT_DELTA_HEADER_LEN + i * KT_DELTA_RECORD_LEN;
		struct ptree_leaf leaf;
		memcpy(leaf.idx, rec + OFF_IDX, PTREE_IDX_LEN);
		leaf.counter = num_get_be(rec + OFF_COUNTER, 8) + 1;
		leaf.epoch = epoch;
		memcpy(leaf.commitment, rec + OFF_NEW, PTREE_HASH_LEN);
		r = ptree_set(map, &leaf);
	}
	if (ret_why != NULL)
		*ret_why = WHY_OK;
	return r;
}
