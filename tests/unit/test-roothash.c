#include <errno.h>
#include <string.h>

#include "roothash.h"
#include "unit.h"

#define H64 "0123456789abcdef0123456789ABCDEF" "fedcba9876543210fedcba9876543210"

static void test_parse(void)
{
	struct roothash h;

	memset(&h, POISON, sizeof(h));
	CHECK(roothash_parse(H64, &h) == 0);
	CHECK(h.len == 32);
	CHECK(h.bytes[0] == 0x01 && h.bytes[15] == 0xef && h.bytes[16] == 0xfe &&
	      h.bytes[31] == 0x10);
}

static void test_parse_rejects(void)
{
	struct roothash h;
	char buf[200];

	memset(&h, POISON, sizeof(h));
	CHECK(roothash_parse("", &h) == -EINVAL);
	CHECK(roothash_parse("abcd", &h) == -EINVAL);
	CHECK(roothash_parse(H64 "0", &h) == -EINVAL);
	memcpy(buf, H64, sizeof(H64));
	buf[10] = 'g';
	CHECK(roothash_parse(buf, &h) == -EINVAL);
	memset(buf, 'a', 130);
	buf[130] = 0;
	CHECK(roothash_parse(buf, &h) == -EINVAL);
	CHECK(h.len == (size_t)0xa5a5a5a5a5a5a5a5ULL);
	buf[128] = 0;
	CHECK(roothash_parse(buf, &h) == 0 && h.len == 64);
}

/* The DPS halves, checked against systemd's rule: bytes in order. */
static void test_dps(void)
{
	struct roothash h;
	char data[37], hash[37];

	CHECK(roothash_parse(H64, &h) == 0);
	roothash_dps_partuuids(&h, data, hash);
	CHECK_STR(data, "01234567-89ab-cdef-0123-456789abcdef");
	CHECK_STR(hash, "fedcba98-7654-3210-fedc-ba9876543210");
}

static void test_hex_roundtrip(void)
{
	struct roothash h;
	char hex[2 * ROOTHASH_MAX + 1];

	CHECK(roothash_parse(H64, &h) == 0);
	roothash_hex(&h, hex, sizeof(hex));
	CHECK_STR(hex, "0123456789abcdef0123456789abcdef"
		       "fedcba9876543210fedcba9876543210");
}

int main(void)
{
	RUN(test_parse);
	RUN(test_parse_rejects);
	RUN(test_dps);
	RUN(test_hex_roundtrip);
	return UNIT_EXIT();
}
