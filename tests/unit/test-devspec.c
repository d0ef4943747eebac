#include <errno.h>
#include <string.h>

#include "devspec.h"
#include "unit.h"

static void test_parse_tags(void)
{
	struct devspec s;

	CHECK(devspec_parse("PARTUUID=4F68BCE3-e8cd-4db1-96e7-fbcaf984b709", &s) == 0);
	CHECK(s.tag == DEVSPEC_PARTUUID);
	CHECK_STR(s.value, "4F68BCE3-e8cd-4db1-96e7-fbcaf984b709");
	CHECK(devspec_parse("PARTLABEL=sealroot-root", &s) == 0 && s.tag == DEVSPEC_PARTLABEL);
	CHECK(devspec_parse("UUID=1234-ABCD", &s) == 0 && s.tag == DEVSPEC_UUID);
	CHECK(devspec_parse("LABEL=root", &s) == 0 && s.tag == DEVSPEC_LABEL);
	CHECK(devspec_parse("/dev/vda2", &s) == 0 && s.tag == DEVSPEC_PATH);
}

static void test_parse_rejects(void)
{
	struct devspec s;
	char longv[DEVSPEC_VALUE_MAX + 16];

	memset(&s, POISON, sizeof(s));
	CHECK(devspec_parse("", &s) == -EINVAL);
	CHECK(devspec_parse("PARTUUID=", &s) == -EINVAL);
	CHECK(devspec_parse("PARTUUID=xyz", &s) == -EINVAL);
	CHECK(devspec_parse("partuuid=abc", &s) == -EINVAL);
	CHECK(devspec_parse("LABEL=a b", &s) == -EINVAL);
	CHECK(devspec_parse("vda2", &s) == -EINVAL);
	CHECK(devspec_parse("/dev/../etc/shadow", &s) == -EINVAL);
	memset(longv, 'a', sizeof(longv));
	memcpy(longv, "LABEL=", 6);
	longv[6 + DEVSPEC_VALUE_MAX] = 0;
	CHECK(devspec_parse(longv, &s) == -EINVAL);
	/* outputs untouched on error */
	CHECK(((unsigned char *)&s)[0] == POISON && (unsigned char)s.value[0] == POISON);
	longv[6 + DEVSPEC_VALUE_MAX - 1] = 0;
	CHECK(devspec_parse(longv, &s) == 0);
}

/* GPT partition types, as the state volume is found by its DPS type. */
static void test_parttype(void)
{
	struct devids ids = {
		.name = "vda4",
		.parttype = "4d21b016-b534-45c2-a9fb-5c16e091fd2d",
		.partuuid = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
	};
	struct devspec s;

	memset(&s, POISON, sizeof(s));
	CHECK(devspec_parse("PARTTYPE=4D21B016-B534-45C2-A9FB-5C16E091FD2D", &s) == 0);
	CHECK(s.tag == DEVSPEC_PARTTYPE);
	CHECK_STR(devspec_tag_name(s.tag), "PARTTYPE");
	CHECK(devspec_match(&s, &ids));
	CHECK(devspec_parse("PARTTYPE=4f68bce3-e8cd-4db1-96e7-fbcaf984b709", &s) == 0);
	CHECK(!devspec_match(&s, &ids));
	memset(&s, POISON, sizeof(s));
	CHECK(devspec_parse("PARTTYPE=", &s) == -EINVAL);
	CHECK(devspec_parse("PARTTYPE=4d21b016", &s) == -EINVAL);
	CHECK(devspec_parse("PARTTYPE=4d21b016-b534-45c2-a9fb-5c16e091fd2", &s) == -EINVAL);
	CHECK(devspec_parse("PARTTYPE=4d21b016-b534-45c2-a9fb-5c16e091fd2dd", &s) == -EINVAL);
	CHECK(devspec_parse("PARTTYPE=4d21b016b-534-45c2-a9fb-5c16e091fd2d", &s) == -EINVAL);
	CHECK(devspec_parse("PARTTYPE=4d21b016-b534-45c2-a9fb-5c16e091fd2g", &s) == -EINVAL);
	CHECK(devspec_parse("parttype=4d21b016-b534-45c2-a9fb-5c16e091fd2d", &s) == -EINVAL);
	CHECK((unsigned char)s.value[0] == POISON);
	ids.parttype[0] = 0;
	CHECK(devspec_parse("PARTTYPE=4d21b016-b534-45c2-a9fb-5c16e091fd2d", &s) == 0);
	CHECK(!devspec_match(&s, &ids));
}

static void test_match(void)
{
	struct devids ids = {
		.name = "vda2",
		.partuuid = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709",
		.partlabel = "root",
		.uuid = "",
		.label = "Root",
	};
	struct devspec s;

	devspec_parse("PARTUUID=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", &s);
	CHECK(devspec_match(&s, &ids));
	devspec_parse("PARTUUID=4f68bce3-e8cd-4db1-96e7-fbcaf984b70", &s);
	CHECK(!devspec_match(&s, &ids));
	devspec_parse("PARTLABEL=root", &s);
	CHECK(devspec_match(&s, &ids));
	devspec_parse("LABEL=root", &s);
	CHECK(!devspec_match(&s, &ids));
	devspec_parse("UUID=0", &s);
	CHECK(!devspec_match(&s, &ids));
	devspec_parse("/dev/vda2", &s);
	CHECK(devspec_match(&s, &ids));
	devspec_parse("/dev/vda", &s);
	CHECK(!devspec_match(&s, &ids));
}

int main(void)
{
	RUN(test_parse_tags);
	RUN(test_parse_rejects);
	RUN(test_parttype);
	RUN(test_match);
	return UNIT_EXIT();
}
