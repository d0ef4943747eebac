#include <errno.h>
#include <string.h>

#include "modules.h"
#include "unit.h"

struct seen {
	char paths[8][MODULES_PATH_MAX];
	unsigned n;
	unsigned fail_at;
};

static int collect(const char *path, void *userdata)
{
	struct seen *s = userdata;

	if (s->n + 1 == s->fail_at)
		return -ENOEXEC;
	if (s->n < 8)
		strcpy(s->paths[s->n], path);
	s->n++;
	return 0;
}

static int walk(const char *text, struct seen *s, unsigned *line)
{
	memset(s->paths, 0, sizeof(s->paths));
	s->n = 0;
	*line = 0;
	return modules_parse_order(text, strlen(text), collect, s, line);
}

static void test_order_kept(void)
{
	struct seen s = { .fail_at = 0 };
	unsigned line;

	CHECK(walk("/lib/modules/virtio.ko\n/lib/modules/virtio_ring.ko\n\n"
		   "/lib/modules/virtio_blk.ko", &s, &line) == 0);
	CHECK(s.n == 3);
	CHECK_STR(s.paths[0], "/lib/modules/virtio.ko");
	CHECK_STR(s.paths[1], "/lib/modules/virtio_ring.ko");
	CHECK_STR(s.paths[2], "/lib/modules/virtio_blk.ko");
}

static void test_bad_lines(void)
{
	struct seen s = { .fail_at = 0 };
	unsigned line;

	CHECK(walk("/lib/modules/a.ko\n/etc/shadow\n", &s, &line) == -EINVAL);
	CHECK(line == 2 && s.n == 1);
	CHECK(walk("/lib/modules/../x.ko\n", &s, &line) == -EINVAL && line == 1);
	CHECK(walk("lib/modules/a.ko\n", &s, &line) == -EINVAL);
	CHECK(walk("/lib/modules/a b.ko\n", &s, &line) == -EINVAL);
	CHECK(walk("/lib/modules/a.ko.xz\n", &s, &line) == -EINVAL);
}

static void test_too_long(void)
{
	char text[MODULES_PATH_MAX + 32];
	struct seen s = { .fail_at = 0 };
	unsigned line;

	memset(text, 'a', sizeof(text));
	memcpy(text, "/lib/modules/", 13);
	memcpy(text + MODULES_PATH_MAX - 3, ".ko", 4);
	CHECK(walk(text, &s, &line) == -EINVAL && s.n == 0);
	memcpy(text + MODULES_PATH_MAX - 4, ".ko", 4);
	CHECK(walk(text, &s, &line) == 0 && s.n == 1);
}

static void test_callback_error_stops(void)
{
	struct seen s = { .fail_at = 2 };
	unsigned line;

	CHECK(walk("/lib/modules/a.ko\n/lib/modules/b.ko\n/lib/modules/c.ko\n",
		   &s, &line) == -ENOEXEC);
	CHECK(line == 2 && s.n == 1);
}

int main(void)
{
	RUN(test_order_kept);
	RUN(test_bad_lines);
	RUN(test_too_long);
	RUN(test_callback_error_stops);
	return UNIT_EXIT();
}
