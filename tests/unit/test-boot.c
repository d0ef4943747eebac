/* The boot sequence's bookkeeping (init/boot.c), on the host: the stage
 * table and the cleanup chain are bounded, and a full one is an error
 * that names itself, never a silent drop. */
#include <errno.h>
#include <string.h>

#include "boot.h"
#include "unit.h"

/* init/sealed.c is not linked: its two calls from boot.c, stubbed. */
bool boot_has_state(const struct boot *bb)
{
	(void)bb;
	return false;
}

void boot_rng_warmup(struct boot *bb)
{
	(void)bb;
}

static int ok_stage(struct boot *b)
{
	(void)b;
	return 0;
}

static int failing_stage(struct boot *b)
{
	(void)b;
	return -EIO;
}

static struct boot b;

static void test_stage_table_bounded(void)
{
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < BOOT_STAGES_MAX; i++)
		CHECK(boot_stage(&b, "ok", ok_stage) == 0);
	CHECK(b.nstages == BOOT_STAGES_MAX && b.failed_stage == NULL);
	CHECK(boot_stage(&b, "one-too-many", ok_stage) == -ENOBUFS);
	CHECK(b.nstages == BOOT_STAGES_MAX);
	CHECK_STR(b.failed_stage, "one-too-many");
}

static void test_stage_failure_named(void)
{
	memset(&b, 0, sizeof(b));
	CHECK(boot_stage(&b, "ok", ok_stage) == 0);
	CHECK(boot_stage(&b, "broken", failing_stage) == -EIO);
	CHECK(b.nstages == 1);
	CHECK_STR(b.failed_stage, "broken");
}

static int cleaned;
static void cleanup(struct boot *bb)
{
	(void)bb;
	cleaned++;
}

static void test_cleanup_chain_bounded(void)
{
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < BOOT_CLEANUPS_MAX; i++)
		CHECK(boot_defer(&b, "x", cleanup) == 0);
	CHECK(boot_defer(&b, "one-too-many", cleanup) == -ENOBUFS);
	CHECK(b.ncleanups == BOOT_CLEANUPS_MAX);
	CHECK(cleaned == 0);
}

/* The sequence main runs fits the table: every stage it can run. */
static void test_main_fits(void)
{
	static const char *const stages[] = { "early", "config", "modules",
		"wait", "verity", "mount", "tpm", "state", "recovery", "barrier",
		"switch_root" };

	CHECK(sizeof(stages) / sizeof(stages[0]) <= BOOT_STAGES_MAX);
}

int main(void)
{
	RUN(test_stage_table_bounded);
	RUN(test_stage_failure_named);
	RUN(test_cleanup_chain_bounded);
	RUN(test_main_fits);
	return UNIT_EXIT();
}
