#include <errno.h>
#include <string.h>

#include "veritytab.h"
#include "unit.h"

#define RH "084d3beb385b8b9dc40298daacfea4ee753474a9f8df810919730f4ce0dc94e0"
#define SALT "5ea1200d5ea1200d5ea1200d5ea1200d5ea1200d5ea1200d5ea1200d5ea1200d"
#define BASE "1 254:2 254:3 4096 4096 37888 1 sha256 " RH " " SALT

static struct veritytab want;

static void setup(void)
{
	CHECK(veritytab_parse(BASE " 1 try_verify_in_tasklet", &want) == 0);
}

static void test_parse(void)
{
	struct veritytab t;

	memset(&t, POISON, sizeof(t));
	CHECK(veritytab_parse(BASE, &t) == 0);
	CHECK(t.version == 1 && t.data_major == 254 && t.data_minor == 2);
	CHECK(t.hash_major == 254 && t.hash_minor == 3);
	CHECK(t.data_block_size == 4096 && t.hash_block_size == 4096);
	CHECK(t.data_blocks == 37888 && t.hash_start == 1);
	CHECK_STR(t.algorithm, "sha256");
	CHECK(t.root.len == 32 && t.root.bytes[0] == 0x08 && t.root.bytes[31] == 0xe0);
	CHECK(t.salt_size == 32 && t.salt[0] == 0x5e);
	CHECK(t.options == 0);
	CHECK(veritytab_parse(BASE " 2 restart_on_corruption try_verify_in_tasklet", &t) == 0);
	CHECK(t.options == (VERITYTAB_RESTART | VERITYTAB_TASKLET));
	CHECK(veritytab_parse("1 8:1 8:2 4096 4096 10 1 sha256 " RH " -", &t) == 0);
	CHECK(t.salt_size == 0);
	CHECK(veritytab_parse(BASE " 1 ignore_zero_blocks", &t) == 0);
	CHECK(t.options == VERITYTAB_WEAKENING);
	CHECK(veritytab_parse(BASE " 2 use_fec_from_device 8:3", &t) == 0);
	CHECK(t.options == VERITYTAB_OTHER);
}

static void test_parse_rejects(void)
{
	struct veritytab t;

	memset(&t, POISON, sizeof(t));
	CHECK(veritytab_parse("", &t) == -EINVAL);
	CHECK(veritytab_parse("2 254:2 254:3 4096 4096 1 1 sha256 " RH " -", &t) == -EINVAL);
	CHECK(veritytab_parse("1 2542 254:3 4096 4096 1 1 sha256 " RH " -", &t) == -EINVAL);
	CHECK(veritytab_parse("1 254:2 254:3 4096 4096 1 1 sha256 " RH "x -", &t) == -EINVAL);
	CHECK(veritytab_parse("1 254:2 254:3 4096 4096 1 1 sha256 " RH, &t) == -EINVAL);
	CHECK(veritytab_parse("1 254:2 254:3 4096 4096 -1 1 sha256 " RH " -", &t) == -EINVAL);
	CHECK(veritytab_parse(BASE " 2 restart_on_corruption", &t) == -EINVAL);
	CHECK(veritytab_parse(BASE " 1 a b", &t) == -EINVAL);
	CHECK(veritytab_parse("1 254:2 254:3 4096 4096 1 1 "
			      "a-very-long-algorithm-name-of-more-than-32 " RH " -", &t) == -EINVAL);
	CHECK(((unsigned char *)&t)[0] == POISON);
}

static const char *differs(const char *params)
{
	struct veritytab got;
	const char *field = "poison";

	if (veritytab_parse(params, &got) < 0)
		return "unparsed";
	if (veritytab_compare(&got, &want, &field) == 0)
		return "same";
	return field;
}

static void test_compare_names_field(void)
{
	setup();
	CHECK_STR(differs(BASE " 1 try_verify_in_tasklet"), "same");
	CHECK_STR(differs("1 254:2 254:3 4096 4096 37888 1 sha256 "
			  "184d3beb385b8b9dc40298daacfea4ee753474a9f8df810919730f4ce0dc94e0 "
			  SALT " 1 try_verify_in_tasklet"), "root hash");
	CHECK_STR(differs("1 254:4 254:3 4096 4096 37888 1 sha256 " RH " " SALT
			  " 1 try_verify_in_tasklet"), "data device");
	CHECK_STR(differs("1 254:2 253:3 4096 4096 37888 1 sha256 " RH " " SALT
			  " 1 try_verify_in_tasklet"), "hash device");
	CHECK_STR(differs(BASE " 2 try_verify_in_tasklet restart_on_corruption"),
		  "corruption flags");
	CHECK_STR(differs(BASE " 2 try_verify_in_tasklet ignore_corruption"), "options");
	CHECK_STR(differs(BASE), "try_verify_in_tasklet");
	CHECK_STR(differs("1 254:2 254:3 4096 4096 37887 1 sha256 " RH " " SALT
			  " 1 try_verify_in_tasklet"), "data blocks");
	CHECK_STR(differs("1 254:2 254:3 4096 4096 37888 2 sha256 " RH " " SALT
			  " 1 try_verify_in_tasklet"), "hash start");
	CHECK_STR(differs("1 254:2 254:3 4096 4096 37888 1 sha256 " RH " -"
			  " 1 try_verify_in_tasklet"), "salt");
	CHECK_STR(differs("1 254:2 254:3 4096 512 37888 1 sha256 " RH " " SALT
			  " 1 try_verify_in_tasklet"), "block sizes");
}

int main(void)
{
	RUN(test_parse);
	RUN(test_parse_rejects);
	RUN(test_compare_names_field);
	return UNIT_EXIT();
}
