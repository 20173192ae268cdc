/* test_kt_delta: the epoch delta, its framing and kt_delta_apply's rules,
 * each shown by a delta that breaks it and leaves the map as it was. */
#include <sodium.h>

#include "check.h"
#include "kt_delta.h"

#define WHY_OLD "an entry's old value does not match the map"
#define WHY_ORDER "entries are not in ascending index order"

/* Leaf i: idx (i+1) * 8 in its first byte, commitment the byte c. */
static struct ptree_leaf leaf(unsigned i, uint64_t counter, uint64_t epoch, uint8_t c)
{
	struct ptree_leaf l;
	memset(&l, 0, sizeof(l));
	l.idx[0] = (uint8_t)((i + 1) * 8);
	l.idx[31] = (uint8_t)i;
	l.counter = counter;
	l.epoch = epoch;
	memset(l.commitment, c, sizeof(l.commitment));
	return l;
}

/* A map of 10 leaves, each at counter 1 from epoch 0, except leaf 3
 * (counter 4, epoch 2). */
static struct ptree *map_new(void)
{
	struct ptree *t = NULL;
	CHECK_INT(ptree_new(&t), 0);
	for (unsigned i = 0; i < 10; i++) {
		struct ptree_leaf l = i == 3 ? leaf(i, 4, 2, 0x33) : leaf(i, 1, 0, (uint8_t)i);
		CHECK_INT(ptree_set(t, &l), 0);
	}
	return t;
}

static void root_of(struct ptree *t, uint8_t r[PTREE_HASH_LEN])
{
	ptree_root(t, r);
}

/* Applies d at epoch and expects failure with the given text; the map's
 * root and size must not change. */
static void refused(const struct buf *d, uint64_t epoch, int err, const char *why)
{
	struct ptree *t = map_new();
	uint8_t before[PTREE_HASH_LEN], after[PTREE_HASH_LEN];
	int w = -1;
	root_of(t, before);
	CHECK_INT(kt_delta_apply(t, d->data, d->len, epoch, &w), err);
	CHECK_STR(kt_delta_why(w), why);
	root_of(t, after);
	CHECK(memcmp(before, after, PTREE_HASH_LEN) == 0);
	CHECK_INT(ptree_count(t), 10);
	ptree_free(t);
}

static void framing(void)
{
	struct buf d;
	size_t n = 99;
	uint8_t c[PTREE_HASH_LEN];
	buf_init(&d, 1u << 20);
	CHECK_INT(kt_delta_begin(&d, 5), 0);
	CHECK_INT(d.len, KT_DELTA_HEADER_LEN);
	CHECK(memcmp(d.data, "sealmail-delta/v1\n\0\0\0\0\0\0\0\x05", 26) == 0);
	CHECK_INT(kt_delta_count(d.data, d.len, 5, &n), 0);
	CHECK_INT(n, 0);
	struct ptree_leaf l = leaf(12, 0, 0, 0);
	memset(c, 0xcc, sizeof(c));
	CHECK_INT(kt_delta_add(&d, l.idx, NULL, c), 0);
	CHECK_INT(d.len, KT_DELTA_HEADER_LEN + KT_DELTA_RECORD_LEN);
	CHECK_INT(kt_delta_count(d.data, d.len, 5, &n), 0);
	CHECK_INT(n, 1);
	/* the record's bytes: idx, zero counter, epoch, old commitment, then the new */
	CHECK(memcmp(d.data + 26, l.idx, 32) == 0);
	for (size_t i = 26 + 32; i < 26 + 80; i++)
		CHECK(d.data[i] == 0);
	CHECK(memcmp(d.data + 26 + 80, c, 32) == 0);
	n = 99;
	CHECK_INT(kt_delta_count(d.data, d.len, 4, &n), SM_EPARSE);
	CHECK_INT(kt_delta_count(d.data, d.len - 1, 5, &n), SM_EPARSE);
	CHECK_INT(kt_delta_count(d.data, KT_DELTA_HEADER_LEN - 1, 5, &n), SM_EPARSE);
	CHECK_INT(kt_delta_count(NULL, 0, 5, &n), SM_EPARSE);
	CHECK_INT(n, 99);
	d.data[0] = 'S';
	CHECK_INT(kt_delta_count(d.data, d.len, 5, &n), SM_EPARSE);
	buf_free(&d);
}

static void add_rules(void)
{
	struct buf d;
	uint8_t c[PTREE_HASH_LEN] = {0};
	struct ptree_leaf a = leaf(1, 1, 0, 1), b = leaf(2, 1, 0, 2);
	buf_init(&d, 1u << 20);
	CHECK_INT(kt_delta_add(&d, a.idx, NULL, c), SM_EINVAL); /* no header */
	CHECK_INT(kt_delta_begin(&d, 1), 0);
	CHECK_INT(kt_delta_add(&d, b.idx, &b, c), 0);
	CHECK_INT(kt_delta_add(&d, a.idx, &a, c), SM_EINVAL); /* below the last */
	CHECK_INT(kt_delta_add(&d, b.idx, &b, c), SM_EINVAL); /* equal */
	struct ptree_leaf z = leaf(4, 0, 0, 4);
	CHECK_INT(kt_delta_add(&d, z.idx, &z, c), SM_EINVAL); /* old with counter 0 */
	z.counter = UINT64_MAX;
	CHECK_INT(kt_delta_add(&d, z.idx, &z, c), SM_EINVAL);
	z.counter = 1;
	CHECK_INT(kt_delta_add(&d, a.idx, &z, c), SM_EINVAL); /* old of another idx */
	CHECK_INT(d.len, KT_DELTA_HEADER_LEN + KT_DELTA_RECORD_LEN);
	buf_free(&d);
}

/* A new entry, a change (+1 counter, the delta's epoch), an empty delta. */
static void apply_valid(void)
{
	struct ptree *t = map_new();
	struct buf d;
	struct ptree_leaf got, l3 = leaf(3, 4, 2, 0x33), fresh = leaf(20, 0, 0, 0);
	uint8_t c[PTREE_HASH_LEN], r0[PTREE_HASH_LEN], r1[PTREE_HASH_LEN];
	int why = -1;
	buf_init(&d, 1u << 20);
	memset(c, 0x77, sizeof(c));
	CHECK_INT(kt_delta_begin(&d, 7), 0);
	CHECK_INT(kt_delta_add(&d, l3.idx, &l3, c), 0);
	CHECK_INT(kt_delta_add(&d, fresh.idx, NULL, c), 0);
	CHECK_INT(kt_delta_apply(t, d.data, d.len, 7, &why), 0);
	CHECK_INT(why, 0);
	CHECK_INT(ptree_count(t), 11);
	CHECK_INT(ptree_get(t, l3.idx, &got), 0);
	CHECK_INT(got.counter, 5);
	CHECK_INT(got.epoch, 7);
	CHECK(memcmp(got.commitment, c, sizeof(c)) == 0);
	CHECK_INT(ptree_get(t, fresh.idx, &got), 0);
	CHECK_INT(got.counter, 1);
	CHECK_INT(got.epoch, 7);
	/* the same delta again: its old values are now wrong */
	root_of(t, r0);
	CHECK_INT(kt_delta_apply(t, d.data, d.len, 7, &why), SM_ECRYPTO);
	CHECK_STR(kt_delta_why(why), WHY_OLD);
	root_of(t, r1);
	CHECK(memcmp(r0, r1, sizeof(r0)) == 0);
	/* an empty delta changes nothing */
	buf_reset(&d);
	CHECK_INT(kt_delta_begin(&d, 8), 0);
	CHECK_INT(kt_delta_apply(t, d.data, d.len, 8, NULL), 0);
	root_of(t, r1);
	CHECK(memcmp(r0, r1, sizeof(r0)) == 0);
	buf_free(&d);
	ptree_free(t);
}

/* Writes a record by hand (kt_delta_add would refuse the bad ones). */
static void raw_record(struct buf *d, const struct ptree_leaf *idx_of, uint64_t counter,
		       uint64_t epoch, uint8_t old_c, uint8_t new_c)
{
	uint8_t r[KT_DELTA_RECORD_LEN];
	memcpy(r, idx_of->idx, 32);
	for (int i = 0; i < 8; i++) {
		r[32 + i] = (uint8_t)(counter >> (56 - 8 * i));
		r[40 + i] = (uint8_t)(epoch >> (56 - 8 * i));
	}
	memset(r + 48, old_c, 32);
	memset(r + 80, new_c, 32);
	CHECK_INT(buf_append(d, r, sizeof(r)), 0);
}

static void fresh_delta(struct buf *d, uint64_t epoch)
{
	buf_reset(d);
	CHECK_INT(kt_delta_begin(d, epoch), 0);
}

static void apply_rules(void)
{
	struct buf d;
	struct ptree_leaf l1 = leaf(1, 1, 0, 1), l3 = leaf(3, 4, 2, 0x33), l5 = leaf(5, 1, 0, 5);
	struct ptree_leaf fresh = leaf(30, 0, 0, 0);
	buf_init(&d, 1u << 20);
	/* +1 from a counter that is not the map's */
	fresh_delta(&d, 7);
	raw_record(&d, &l3, 3, 2, 0x33, 9);
	refused(&d, 7, SM_ECRYPTO, WHY_OLD);
	/* the map's epoch or commitment differs */
	fresh_delta(&d, 7);
	raw_record(&d, &l3, 4, 1, 0x33, 9);
	refused(&d, 7, SM_ECRYPTO, WHY_OLD);
	fresh_delta(&d, 7);
	raw_record(&d, &l3, 4, 2, 0x34, 9);
	refused(&d, 7, SM_ECRYPTO, WHY_OLD);
	/* "new" for an entry the map has: a deletion and re-creation */
	fresh_delta(&d, 7);
	raw_record(&d, &l3, 0, 0, 0, 9);
	refused(&d, 7, SM_ECRYPTO, WHY_OLD);
	/* an old value for an entry the map does not have */
	fresh_delta(&d, 7);
	raw_record(&d, &fresh, 1, 0, 0, 9);
	refused(&d, 7, SM_ECRYPTO, WHY_OLD);
	/* a new entry with an old epoch or commitment */
	fresh_delta(&d, 7);
	raw_record(&d, &fresh, 0, 1, 0, 9);
	refused(&d, 7, SM_EPARSE, "a new entry carries an old epoch or commitment");
	/* out of order, and the same idx twice; a bad last record must not
	 * let the good first ones through */
	fresh_delta(&d, 7);
	raw_record(&d, &l3, 4, 2, 0x33, 9);
	raw_record(&d, &l1, 1, 0, 1, 9);
	refused(&d, 7, SM_EPARSE, WHY_ORDER);
	fresh_delta(&d, 7);
	raw_record(&d, &l1, 1, 0, 1, 9);
	raw_record(&d, &l3, 4, 2, 0x33, 9);
	raw_record(&d, &l3, 4, 2, 0x33, 9);
	refused(&d, 7, SM_EPARSE, WHY_ORDER);
	fresh_delta(&d, 7);
	raw_record(&d, &l1, 1, 0, 1, 9);
	raw_record(&d, &l5, 2, 0, 5, 9);
	refused(&d, 7, SM_ECRYPTO, WHY_OLD);
	/* the wrong epoch, a truncated record, a bad magic */
	fresh_delta(&d, 6);
	raw_record(&d, &l1, 1, 0, 1, 9);
	refused(&d, 7, SM_EPARSE, "the delta is for another epoch");
	fresh_delta(&d, 7);
	raw_record(&d, &l1, 1, 0, 1, 9);
	d.len--;
	refused(&d, 7, SM_EPARSE, "the delta is malformed (bad header or a truncated record)");
	d.len = KT_DELTA_HEADER_LEN - 1;
	refused(&d, 7, SM_EPARSE, "the delta is malformed (bad header or a truncated record)");
	fresh_delta(&d, 7);
	d.data[16] = '2';
	refused(&d, 7, SM_EPARSE, "the delta is malformed (bad header or a truncated record)");
	buf_free(&d);
}

/* A counter at 2^64 - 1 cannot rise. */
static void counter_limit(void)
{
	struct ptree *t = map_new();
	struct ptree_leaf top = leaf(40, UINT64_MAX, 3, 0x40);
	struct buf d;
	uint8_t before[PTREE_HASH_LEN], after[PTREE_HASH_LEN];
	int why = -1;
	CHECK_INT(ptree_set(t, &top), 0);
	root_of(t, before);
	buf_init(&d, 4096);
	CHECK_INT(kt_delta_begin(&d, 9), 0);
	raw_record(&d, &top, UINT64_MAX, 3, 0x40, 1);
	CHECK_INT(kt_delta_apply(t, d.data, d.len, 9, &why), SM_ECRYPTO);
	CHECK_STR(kt_delta_why(why), "an entry's counter cannot rise any further");
	root_of(t, after);
	CHECK(memcmp(before, after, sizeof(before)) == 0);
	CHECK(kt_delta_why(-1) != NULL && kt_delta_why(1000) != NULL);
	buf_free(&d);
	ptree_free(t);
}

/* A larger replay: many epochs of random changes, each delta built from
 * the map, applied to a copy, with equal roots after every epoch. */
static void replay(void)
{
	struct ptree *log = NULL, *wit = NULL;
	struct buf d;
	uint8_t ra[PTREE_HASH_LEN], rb[PTREE_HASH_LEN];
	CHECK_INT(ptree_new(&log), 0);
	CHECK_INT(ptree_new(&wit), 0);
	buf_init(&d, 1u << 24);
	for (uint64_t e = 0; e < 6; e++) {
		CHECK_INT(kt_delta_begin(&d, e), 0);
		/* 64 random indices, sorted by their first byte being i * 4 */
		for (unsigned i = 0; i < 64; i++) {
			struct ptree_leaf l, old;
			uint8_t c[PTREE_HASH_LEN];
			memset(&l, 0, sizeof(l));
			l.idx[0] = (uint8_t)(i * 4);
			l.idx[1] = (uint8_t)(randombytes_uniform(4));
			randombytes_buf(c, sizeof(c));
			int have = ptree_get(log, l.idx, &old) == 0;
			CHECK_INT(kt_delta_add(&d, l.idx, have ? &old : NULL, c), 0);
		}
		CHECK_INT(kt_delta_apply(log, d.data, d.len, e, NULL), 0);
		CHECK_INT(kt_delta_apply(wit, d.data, d.len, e, NULL), 0);
		root_of(log, ra);
		root_of(wit, rb);
		CHECK(memcmp(ra, rb, sizeof(ra)) == 0);
		buf_reset(&d);
	}
	buf_free(&d);
	ptree_free(log);
	ptree_free(wit);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	RUN(framing);
	RUN(add_rules);
	RUN(apply_valid);
	RUN(apply_rules);
	RUN(counter_limit);
	RUN(replay);
	return check_done();
}
