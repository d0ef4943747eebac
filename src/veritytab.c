#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "veritytab.h"

#define TOKEN_MAX (2 * VERITYSB_SALT_MAX + 1)

/* The next blank-separated word; one that does not fit is an error. */
static int next_word(const char **pos, char *buf, size_t size)
{
	const char *p = *pos + strspn(*pos, " ");
	size_t n = strcspn(p, " ");

	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(buf, p, n);
	buf[n] = 0;
	*pos = p + n;
	return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int word_u64(const char **pos, uint64_t max, uint64_t *ret)
{
	char w[32];
	int r = next_word(pos, w, sizeof(w));

	return r < 0 ? r : parse_u64(w, max, ret);
}

static int word_u32(const char **pos, uint32_t *ret)
{
	uint64_t v;
	int r = word_u64(pos, UINT32_MAX, &v);

	if (r == 0)
		*ret = (uint32_t)v;
	return r;
}

static int word_dev(const char **pos, unsigned *ret_major, unsigned *ret_minor)
{
	char w[32], *colon;
	uint64_t ma, mi;
	int r = next_word(pos, w, sizeof(w));

	if (r < 0)
		return r;
	colon = strchr(w, ':');
	if (!colon)
		return -EINVAL;
	*colon = 0;
	if (parse_u64(w, UINT32_MAX, &ma) < 0 ||
	    parse_u64(colon + 1, UINT32_MAX, &mi) < 0)
		return -EINVAL;
	*ret_major = (unsigned)ma;
	*ret_minor = (unsigned)mi;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int word_hex(const char **pos, uint8_t *buf, size_t size, size_t *ret_len)
{
	char w[TOKEN_MAX + 1];
	size_t n;
	int r = next_word(pos, w, sizeof(w));

	if (r < 0)
		return r;
	n = strlen(w);
	if (!strcmp(w, "-")) {
		*ret_len = 0;
		return 0;
	}
	if (n % 2 || n / 2 > size)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(w[2 * i]), lo = hexval(w[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret_len = n / 2;
	return 0;
}

static unsigned option_flag(const char *w)
{
	if (!strcmp(w, "restart_on_corruption"))
		return VERITYTAB_RESTART;
	if (!strcmp(w, "panic_on_corruption"))
		return VERITYTAB_PANIC;
	if (!strcmp(w, "try_verify_in_tasklet"))
		return VERITYTAB_TASKLET;
	if (!strcmp(w, "ignore_corruption") || !strcmp(w, "ignore_zero_blocks") ||
	    !strcmp(w, "check_at_most_once"))
		return VERITYTAB_WEAKENING;
	return VERITYTAB_OTHER;
}

/* "<n> <arg>...": arguments with values (use_fec_from_device <dev>...)
 * count as their own words and land in OTHER. */
static int parse_options(const char *p, unsigned *ret)
{
	char w[TOKEN_MAX + 1];
	uint64_t n;
	unsigned flags = 0;

	if (!*(p + strspn(p, " "))) {
		*ret = 0;
		return 0;
	}
	if (word_u64(&p, 64, &n) < 0)
		return -EINVAL;
	for (uint64_t i = 0; i < n; i++) {
		if (next_word(&p, w, sizeof(w)) < 0)
			return -EINVAL;
		flags |= option_flag(w);
	}
	if (*(p + strspn(p, " ")))
		return -EINVAL;
	*ret = flags;
	return 0;
}

static int parse_fixed(const char **p, struct veritytab *t)
{
	uint64_t version;
	size_t len;

	if (word_u64(p, 1, &version) < 0 ||
	    word_dev(p, &t->data_major, &t->data_minor) < 0 ||
	    word_dev(p, &t->hash_major, &t->hash_minor) < 0 ||
	    word_u32(p, &t->data_block_size) < 0 ||
	    word_u32(p, &t->hash_block_size) < 0 ||
	    word_u64(p, UINT64_MAX, &t->data_blocks) < 0 ||
	    word_u64(p, UINT64_MAX, &t->hash_start) < 0 ||
	    next_word(p, t->algorithm, sizeof(t->algorithm)) < 0 ||
	    word_hex(p, t->root.bytes, sizeof(t->root.bytes), &t->root.len) < 0 ||
	    word_hex(p, t->salt, sizeof(t->salt), &len) < 0)
		return -EINVAL;
	t->version = (unsigned)version;
	t->salt_size = (uint16_t)len;
	return 0;
}

int veritytab_parse(const char *params, struct veritytab *ret)
{
	struct veritytab t;
	const char *p = params;

	memset(&t, 0, sizeof(t));
	if (parse_fixed(&p, &t) < 0 || parse_options(p, &t.options) < 0)
		return -EINVAL;
	*ret = t;
	return 0;
}

static const char *first_difference(const struct veritytab *a,
				    const struct veritytab *b)
{
	if (a->root.len != b->root.len || memcmp(a->root.bytes, b->root.bytes, a->root.len))
		return "root hash";
	if (a->data_major != b->data_major || a->data_minor != b->data_minor)
		return "data device";
	if (a->hash_major != b->hash_major || a->hash_minor != b->hash_minor)
		return "hash device";
	if (a->options & (VERITYTAB_WEAKENING | VERITYTAB_OTHER))
		return "options";
	if ((a->options ^ b->options) & (VERITYTAB_RESTART | VERITYTAB_PANIC))
		return "corruption flags";
	if ((a->options ^ b->options) & VERITYTAB_TASKLET)
		return "try_verify_in_tasklet";
	if (a->version != b->version)
		return "format version";
	if (a->data_block_size != b->data_block_size ||
	    a->hash_block_size != b->hash_block_size)
		return "block sizes";
	if (a->data_blocks != b->data_blocks)
		return "data blocks";
	if (a->hash_start != b->hash_start)
		return "hash start";
	if (strcmp(a->algorithm, b->algorithm))
		return "algorithm";
	if (a->salt_size != b->salt_size || memcmp(a->salt, b->salt, a->salt_size))
		return "salt";
	return NULL;
}

int veritytab_compare(const struct veritytab *got, const struct veritytab *want,
		      const char **ret_field)
{
	const char *field = first_difference(got, want);

	if (!field)
		return 0;
	*ret_field = field;
	return -EBADMSG;
}
