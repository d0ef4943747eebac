/* Minimal host unit-test harness: each test prints "PASS name" or
 * "FAIL name: file:line: expr", the binary exits non-zero if any failed.
 * tests/run counts these lines. */
#ifndef SEALROOT_UNIT_H
#define SEALROOT_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed_total;
static int unit_failed_now;

#define CHECK(expr) do { \
	if (!(expr)) { \
		printf("  check failed: %s:%d: %s\n", __FILE__, __LINE__, #expr); \
		unit_failed_now = 1; \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) { \
		printf("  check failed: %s:%d: %s == %s (\"%s\" vs \"%s\")\n", \
		       __FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)", \
		       b_ ? b_ : "(null)"); \
		unit_failed_now = 1; \
	} \
} while (0)

#define RUN(fn) do { \
	unit_failed_now = 0; \
	fn(); \
	printf("%s %s\n", unit_failed_now ? "FAIL" : "PASS", #fn); \
	unit_failed_total += unit_failed_now; \
} while (0)

#define UNIT_EXIT() (unit_failed_total ? 1 : 0)

/* Poison pattern for output parameters: a test fills outputs with it
 * first, so "left untouched on error" is observable. */
#define POISON 0xa5

#endif
