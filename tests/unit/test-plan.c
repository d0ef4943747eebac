#include <errno.h>
#include <string.h>

#include "config.h"
#include "plan.h"
#include "unit.h"

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct config cfg;
static struct config_error err;
static struct plan plan;

/* The file, then the command line, as the device parses them; the plan
 * is poisoned first so "written only on success" shows. */
static int plan_of(const char *file, const char *cmdline)
{
	int r;

	config_defaults(&cfg);
	memset(&err, 0, sizeof(err));
	memset(&plan, POISON, sizeof(plan));
	r = config_parse_text(&cfg, file, strlen(file), &err);
	if (r == 0)
		r = config_parse_cmdline(&cfg, cmdline, &err);
	if (r == 0)
		r = plan_devices(&cfg, &plan, &err);
	return r;
}

static bool poisoned(void)
{
	const unsigned char *b = (const unsigned char *)&plan;

	for (size_t i = 0; i < sizeof(plan); i++)
		if (b[i] != POISON)
			return false;
	return true;
}

static void test_verity_dps(void)
{
	CHECK(plan_of("", "ro roothash=" HASH) == 0);
	CHECK(plan.verity && plan.ndevs == 2 && plan.roothash.len == 32);
	CHECK_STR(plan.devs[0].what, "verity data");
	CHECK(plan.devs[0].spec.tag == DEVSPEC_PARTUUID);
	CHECK_STR(plan.devs[0].spec.value, "01234567-89ab-cdef-0123-456789abcdef");
	CHECK_STR(plan.devs[1].what, "verity hash");
	CHECK_STR(plan.devs[1].spec.value, "01234567-89ab-cdef-0123-456789abcdef");
}

static void test_verity_explicit(void)
{
	CHECK(plan_of("verity.data = PARTLABEL=a\nverity.hash = PARTLABEL=b\n",
		      "roothash=" HASH) == 0);
	CHECK(plan.ndevs == 2);
	CHECK(plan.devs[0].spec.tag == DEVSPEC_PARTLABEL);
	CHECK_STR(plan.devs[0].spec.value, "a");
	CHECK_STR(plan.devs[1].spec.value, "b");
	CHECK(plan_of("root = /dev/mapper/root\n", "roothash=" HASH) == 0);
}

/* Production never boots an unverified root, whatever the command line
 * says; the explicit switch is for development only. */
static void test_production_needs_verity(void)
{
	CHECK(plan_of("", "root=PARTLABEL=r") == -EPERM);
	CHECK(strstr(err.msg, "root.verity = required") != NULL);
	CHECK(poisoned());
	CHECK(plan_of("root = PARTLABEL=r\n", "") == -EPERM);
	CHECK(plan_of("root.verity = optional\n", "root=PARTLABEL=r") == -EPERM);
	CHECK(strstr(err.msg, "mode = development") != NULL && poisoned());
	CHECK(plan_of("root.verity = optional\n", "roothash=" HASH) == -EPERM);
	/* Issue 13: the file's root hash cannot be cleared by roothash=. */
	CHECK(plan_of("verity.roothash = " HASH "\n", "roothash= root=/dev/vda2") == -EINVAL);
	CHECK(poisoned());
}

static void test_development_plain(void)
{
	CHECK(plan_of("mode = development\nroot.verity = optional\n",
		      "root=PARTLABEL=r") == 0);
	CHECK(!plan.verity && plan.ndevs == 1);
	CHECK_STR(plan.devs[0].what, "root");
	CHECK_STR(plan.devs[0].spec.value, "r");
	/* Optional is not off: a root hash still makes it verified. */
	CHECK(plan_of("mode = development\nroot.verity = optional\n",
		      "roothash=" HASH) == 0);
	CHECK(plan.verity && plan.ndevs == 2);
}

static void test_conflicts(void)
{
	CHECK(plan_of("", "root=PARTLABEL=r roothash=" HASH) == -EINVAL);
	CHECK(strstr(err.msg, "conflicts with the root hash") && poisoned());
	CHECK(plan_of("mode = development\nroot.verity = optional\n"
		      "verity.data = PARTLABEL=d\n", "root=PARTLABEL=r") == -EINVAL);
	CHECK(strstr(err.msg, "without a root hash") && poisoned());
	CHECK(plan_of("mode = development\nroot.verity = optional\n", "") == -EINVAL);
	CHECK(strstr(err.msg, "neither") && poisoned());
}

/* The state volume is waited for last, with the root's devices; without
 * 'state' there is none. */
static void test_state(void)
{
	CHECK(plan_of("", "roothash=" HASH) == 0);
	CHECK(plan.state == -1);
	CHECK(plan_of("state = PARTLABEL=sealroot-state\n", "roothash=" HASH) == 0);
	CHECK(plan.ndevs == 3 && plan.state == 2);
	CHECK_STR(plan.devs[2].what, "state");
	CHECK(plan.devs[2].spec.tag == DEVSPEC_PARTLABEL);
	CHECK_STR(plan.devs[2].spec.value, "sealroot-state");
	CHECK(plan_of("mode = development\nroot.verity = optional\n"
		      "state = PARTTYPE=4d21b016-b534-45c2-a9fb-5c16e091fd2d\n",
		      "root=PARTLABEL=r") == 0);
	CHECK(plan.ndevs == 2 && plan.state == 1);
	CHECK(plan.devs[1].spec.tag == DEVSPEC_PARTTYPE);
}

/* The bound: a full plan refuses one more request, untouched. */
static void test_bounded(void)
{
	struct plan p = { 0 };
	struct plan copy;

	CHECK(plan_add(&p, "a", "PARTLABEL=a", &err) == 0);
	CHECK(plan_add(&p, "b", "PARTLABEL=b", &err) == 0);
	CHECK(plan_add(&p, "c", "PARTLABEL=c", &err) == 0);
	copy = p;
	CHECK(plan_add(&p, "d", "PARTLABEL=d", &err) == -ENOBUFS);
	CHECK(strstr(err.msg, "more than 3 devices") != NULL);
	CHECK(memcmp(&p, &copy, sizeof(p)) == 0);
	p.ndevs = 0;
	CHECK(plan_add(&p, "x", "FOO=bar", &err) == -EINVAL && p.ndevs == 0);
}

int main(void)
{
	RUN(test_verity_dps);
	RUN(test_verity_explicit);
	RUN(test_production_needs_verity);
	RUN(test_development_plain);
	RUN(test_conflicts);
	RUN(test_state);
	RUN(test_bounded);
	return UNIT_EXIT();
}
