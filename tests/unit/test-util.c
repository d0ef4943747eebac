/* util: the /proc/<pid>/status reader behind the summary's peak memory.
 * A value that cannot be read must be an error, never a plausible 0 kB. */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "util.h"

static const char status[] =
	"Name:\tinit\n"
	"VmPeak:\t    5120 kB\n"
	"VmHWMx:\t       1 kB\n"
	"VmHWM:\t    3664 kB\n"
	"VmRSS:\t    3600 kB\n";

static void test_field_found(void)
{
	unsigned long kb = POISON;

	CHECK(status_field_kb(status, "VmHWM", &kb) == 0);
	CHECK(kb == 3664);
	CHECK(status_field_kb(status, "VmPeak", &kb) == 0);
	CHECK(kb == 5120);
}

static void test_field_missing(void)
{
	unsigned long kb = POISON;

	CHECK(status_field_kb(status, "VmSwap", &kb) == -ENODATA);
	CHECK(status_field_kb("", "VmHWM", &kb) == -ENODATA);
	/* a prefix of another field's name is not the field */
	CHECK(status_field_kb("VmHWMx:\t1 kB\n", "VmHWM", &kb) == -ENODATA);
	CHECK(kb == POISON);
}

static void test_field_malformed(void)
{
	unsigned long kb = POISON;

	CHECK(status_field_kb("VmHWM:\t0 kB\n", "VmHWM", &kb) == -EBADMSG);
	CHECK(status_field_kb("VmHWM:\t-5 kB\n", "VmHWM", &kb) == -EBADMSG);
	CHECK(status_field_kb("VmHWM:\t kB\n", "VmHWM", &kb) == -EBADMSG);
	CHECK(status_field_kb("VmHWM:\t12 MB\n", "VmHWM", &kb) == -EBADMSG);
	CHECK(status_field_kb("VmHWM:\t99999999999999999999999 kB\n", "VmHWM", &kb) == -EBADMSG);
	CHECK(status_field_kb("VmHWM:\t12", "VmHWM", &kb) == -EBADMSG);
	CHECK(kb == POISON);
}

int main(void)
{
	RUN(test_field_found);
	RUN(test_field_missing);
	RUN(test_field_malformed);
	return UNIT_EXIT();
}
