#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "roothash.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int roothash_parse(const char *hex, struct roothash *ret)
{
	size_t n = strlen(hex);
	struct roothash h;

	if (n % 2 || n / 2 < ROOTHASH_MIN || n / 2 > ROOTHASH_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		h.bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	h.len = n / 2;
	*ret = h;
	return 0;
}

static void uuid_string(const uint8_t b[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

void roothash_dps_partuuids(const struct roothash *h, char ret_data[37],
			  char ret_hash[37])
{
	uuid_string(h->bytes, ret_data);
	uuid_string(h->bytes + h->len - 16, ret_hash);
}

void roothash_hex(const struct roothash *h, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < h->len && 2 * i + 2 < size; i++)
		snprintf(buf + 2 * i, 3, "%02x", h->bytes[i]);
	buf[2 * i] = 0;
}
