/* check.h: a minimal TAP test harness for the unit tests.
 *
 * Each RUN(fn) is one TAP test point; CHECK() inside it records a failure
 * with its location and goes on, so one run shows every broken assertion. */
#ifndef SEALMAIL_CHECK_H
#define SEALMAIL_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_points, check_failures, check_cur_failed;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			check_cur_failed = 1;                                         \
			printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		}                                                                     \
	} while (0)

#define CHECK_INT(a, b)                                                                 \
	do {                                                                            \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);             \
		if (check_a_ != check_b_) {                                             \
			check_cur_failed = 1;                                           \
			printf("# %s:%d: %s == %lld, expected %s == %lld\n", __FILE__,      \
			       __LINE__, #a, check_a_, #b, check_b_);                   \
		}                                                                       \
	} while (0)

#define CHECK_STR(a, b)                                                                \
	do {                                                                           \
		const char *check_a_ = (a), *check_b_ = (b);                           \
		if (check_a_ == NULL || check_b_ == NULL || strcmp(check_a_, check_b_)) { \
			check_cur_failed = 1;                                          \
			printf("# %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,       \
			       __LINE__, #a, check_a_ ? check_a_ : "(null)",              \
			       check_b_ ? check_b_ : "(null)");                           \
		}                                                                      \
	} while (0)

static inline void check_run(const char *name, void (*fn)(void))
{
	check_cur_failed = 0;
	fn();
	check_points++;
	if (check_cur_failed)
		check_failures++;
	printf("%sok %d - %s\n", check_cur_failed ? "not " : "", check_points, name);
	fflush(stdout);
}

#define RUN(fn) check_run(#fn, fn)

/* Debian's librnp 0.16 is a debug build whose internal log writes to
 * stderr whatever the ffi is told: tests of OpenPGP code point stderr at
 * /dev/null to keep the TAP stream readable, unless SEALMAIL_TEST_STDERR is
 * set. Returns 0, or -1 if stderr could not be redirected. */
static inline int check_quiet_librnp(void)
{
	if (getenv("SEALMAIL_TEST_STDERR") != NULL)
		return 0;
	FILE *f = freopen("/dev/null", "w", stderr);
	return f != NULL ? 0 : -1;
}

static inline int check_done(void)
{
	printf("1..%d\n", check_points);
	return check_failures ? 1 : 0;
}

#endif
