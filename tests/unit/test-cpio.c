/*
 * Host unit tests for src/cpio.c: the newc writer byte for byte, the
 * manifest parser's refusals and the determinism of the whole archive.
 * Archives and source files live in memfds: nothing touches the disk.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "unit.h"

#define BUF_MAX 65536

static unsigned char out[BUF_MAX];
static size_t out_len;

static int mem_fd(void)
{
	return memfd_create("test-cpio", MFD_CLOEXEC);
}

/* Read a memfd back into out[]. */
static void slurp(int fd)
{
	ssize_t n;

	out_len = 0;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, out + out_len, BUF_MAX - out_len)) > 0)
		out_len += n;
}

/* A source file for "file" entries: a memfd reached by a /proc path. */
static int make_source(const char *content, char *ret_path, size_t size)
{
	int fd = mem_fd();

	if (fd < 0 || write(fd, content, strlen(content)) < 0)
		return -1;
	snprintf(ret_path, size, "/proc/self/fd/%d", fd);
	return fd;
}

static int same_bytes(const void *expect, size_t len)
{
	return out_len == len && !memcmp(out, expect, len);
}

#define HDR(ino, mode, nlink, mtime, size, rmaj, rmin, namesize) \
	"070701" ino mode "00000000" "00000000" nlink mtime size \
	"00000000" "00000000" rmaj rmin namesize "00000000"

static void test_dir_header(void)
{
	static const char expect[] =
		HDR("00000001", "000041ED", "00000002", "12345678",
		    "00000000", "00000000", "00000000", "00000004")
		"dev\0" "\0\0";
	struct cpio_writer w;
	int fd = mem_fd();

	cpio_writer_init(&w, fd, 0x12345678);
	CHECK(cpio_write_header(&w, "dev", S_IFDIR | 0755, 0, 0, 0) == 0);
	slurp(fd);
	CHECK(out_len == 116);
	CHECK(same_bytes(expect, sizeof(expect) - 1));
	CHECK(w.written == 116);
	CHECK(w.next_ino == 2);
	close(fd);
}

static void test_file_padding(void)
{
	/* 110 + "init\0" = 115 -> 1 pad byte; 6 data bytes -> 2 pad bytes */
	static const char expect[] =
		HDR("00000001", "000081ED", "00000001", "00000000",
		    "00000006", "00000000", "00000000", "00000005")
		"init\0" "\0" "hello\n" "\0\0";
	struct cpio_writer w;
	int fd = mem_fd();

	cpio_writer_init(&w, fd, 0);
	CHECK(cpio_write_header(&w, "init", S_IFREG | 0755, 6, 0, 0) == 0);
	CHECK(cpio_write_data(&w, "hello\n", 6) == 0);
	CHECK(cpio_write_pad(&w) == 0);
	slurp(fd);
	CHECK(same_bytes(expect, sizeof(expect) - 1));
	CHECK(out_len % 4 == 0);
	close(fd);
}

static void test_device_header(void)
{
	static const char expect[] =
		HDR("00000001", "00002180", "00000001", "00000000",
		    "00000000", "00000005", "00000001", "0000000C")
		"dev/console\0" "\0\0";
	struct cpio_writer w;
	int fd = mem_fd();

	cpio_writer_init(&w, fd, 0);
	CHECK(cpio_write_header(&w, "dev/console", S_IFCHR | 0600, 0, 5, 1) == 0);
	slurp(fd);
	CHECK(same_bytes(expect, sizeof(expect) - 1));
	close(fd);
}

static void test_trailer(void)
{
	/* 110 + "TRAILER!!!\0" = 121 -> 3 pad bytes */
	static const char expect[] =
		HDR("00000000", "00000000", "00000001", "00000000",
		    "00000000", "00000000", "00000000", "0000000B")
		"TRAILER!!!\0" "\0\0\0";
	struct cpio_writer w;
	int fd = mem_fd();

	cpio_writer_init(&w, fd, 99);
	CHECK(cpio_write_trailer(&w) == 0);
	slurp(fd);
	CHECK(same_bytes(expect, sizeof(expect) - 1));
	close(fd);
}

static void test_inode_sequence(void)
{
	struct cpio_writer w;
	int fd = mem_fd();

	cpio_writer_init(&w, fd, 0);
	CHECK(cpio_write_header(&w, "a", S_IFDIR | 0755, 0, 0, 0) == 0);
	CHECK(cpio_write_header(&w, "b", S_IFDIR | 0755, 0, 0, 0) == 0);
	CHECK(cpio_write_header(&w, "c", S_IFDIR | 0755, 0, 0, 0) == 0);
	slurp(fd);
	CHECK(out_len == 3 * 112);
	CHECK(!memcmp(out + 6, "00000001", 8));
	CHECK(!memcmp(out + 112 + 6, "00000002", 8));
	CHECK(!memcmp(out + 224 + 6, "00000003", 8));
	close(fd);
}

static void test_write_error(void)
{
	struct cpio_writer w;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	cpio_writer_init(&w, fd, 0);
	CHECK(cpio_write_header(&w, "a", S_IFDIR | 0755, 0, 0, 0) == -EBADF);
	CHECK(w.next_ino == 1);
	close(fd);
}

static void test_parse_ulong(void)
{
	static const char *bad[] = { "", "-1", "+1", " 1", "1 ", "0x10", "1a" };
	unsigned long v;
	size_t i;

	CHECK(cpio_parse_ulong("0", 10, 5, &v) == 0 && v == 0);
	CHECK(cpio_parse_ulong("0755", 8, 07777, &v) == 0 && v == 0755);
	CHECK(cpio_parse_ulong("4294967295", 10, CPIO_FIELD_MAX, &v) == 0 &&
	      v == 4294967295UL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&v, POISON, sizeof(v));
		CHECK(cpio_parse_ulong(bad[i], 10, 100, &v) == -EINVAL);
		CHECK(v == (unsigned long)0xa5a5a5a5a5a5a5a5ULL);
	}
	memset(&v, POISON, sizeof(v));
	CHECK(cpio_parse_ulong("8", 8, 07777, &v) == -EINVAL);
	CHECK(cpio_parse_ulong("10000", 8, 07777, &v) == -ERANGE);
	CHECK(cpio_parse_ulong("4294967296", 10, CPIO_FIELD_MAX, &v) == -ERANGE);
	CHECK(cpio_parse_ulong("99999999999999999999999", 10, ~0UL, &v) == -ERANGE);
	CHECK(v == (unsigned long)0xa5a5a5a5a5a5a5a5ULL);
}

static void test_check_path(void)
{
	static const char *bad[] = {
		"", "/dev", "dev/", "a//b", ".", "..", "a/./b", "a/..", "../x",
	};
	char longp[CPIO_PATH_MAX + 1];
	const char *why;
	size_t i;

	CHECK(cpio_check_path("dev", &why) == 0);
	CHECK(cpio_check_path("lib/modules/virtio.ko", &why) == 0);
	CHECK(cpio_check_path(".hidden/..x/...", &why) == 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CHECK(cpio_check_path(bad[i], &why) == -EINVAL);
		CHECK(why != NULL);
	}
	memset(longp, 'a', CPIO_PATH_MAX - 1);
	longp[CPIO_PATH_MAX - 1] = '\0';
	CHECK(cpio_check_path(longp, &why) == 0);
	longp[CPIO_PATH_MAX - 1] = 'a';
	longp[CPIO_PATH_MAX] = '\0';
	CHECK(cpio_check_path(longp, &why) == -ENAMETOOLONG);
}

/* Parse one line into a fresh manifest; return the code, keep the text. */
static char last_err[CPIO_ERR_MAX];
static unsigned long last_line;

static int parse1(const char *line)
{
	struct cpio_manifest m;
	int r;

	cpio_manifest_init(&m);
	r = cpio_manifest_parse_line(&m, line, 7);
	memcpy(last_err, m.err, sizeof(last_err));
	last_line = m.err_line;
	cpio_manifest_free(&m);
	return r;
}

static void test_parse_ok(void)
{
	struct cpio_manifest m;

	cpio_manifest_init(&m);
	CHECK(cpio_manifest_parse_line(&m, "", 1) == 0);
	CHECK(cpio_manifest_parse_line(&m, " \t ", 2) == 0);
	CHECK(cpio_manifest_parse_line(&m, "# dir x 0755", 3) == 0);
	CHECK(cpio_manifest_parse_line(&m, "  #comment", 4) == 0);
	CHECK(m.count == 0);
	CHECK(cpio_manifest_parse_line(&m, "dir\tdev  0755", 5) == 0);
	CHECK(cpio_manifest_parse_line(&m, "nod dev/sda 0600 b 8 0", 6) == 0);
	CHECK(cpio_manifest_parse_line(&m, "slink sh /bin/busybox 777", 7) == 0);
	CHECK(cpio_manifest_parse_line(&m, "file init 0755 /x/init", 8) == 0);
	CHECK(m.count == 4);
	CHECK(m.entries[0].type == CPIO_DIR && m.entries[0].perm == 0755);
	CHECK(m.entries[1].type == CPIO_BLK && m.entries[1].major == 8);
	CHECK(m.entries[1].minor == 0 && m.entries[1].line == 6);
	CHECK_STR(m.entries[2].arg, "/bin/busybox");
	CHECK(m.entries[2].perm == 0777);
	CHECK_STR(m.entries[3].path, "init");
	CHECK_STR(m.entries[3].arg, "/x/init");
	cpio_manifest_free(&m);
}

struct bad_line {
	const char *line;
	int err;
	const char *msg;
};

static void test_parse_errors(void)
{
	static const struct bad_line cases[] = {
		{ "dri dev 0755", -EINVAL, "unknown entry type 'dri'" },
		{ "dir dev", -EINVAL, "too few fields" },
		{ "dir dev 0755 extra", -EINVAL, "too many fields" },
		{ "nod a 0 c 1 2 3", -EINVAL, "too many fields" },
		{ "dir /dev 0755", -EINVAL, "bad path '/dev': absolute" },
		{ "dir a/../b 0755", -EINVAL, "bad path 'a/../b'" },
		{ "dir a//b 0755", -EINVAL, "empty component" },
		{ "dir dev 0855", -EINVAL, "bad mode '0855'" },
		{ "dir dev 17777", -EINVAL, "bad mode '17777'" },
		{ "dir dev -755", -EINVAL, "bad mode '-755'" },
		{ "slink a b 0x1ff", -EINVAL, "bad mode '0x1ff'" },
		{ "nod c 0600 x 5 1", -EINVAL, "bad device type 'x'" },
		{ "nod c 0600 c 4096 1", -EINVAL, "bad major '4096'" },
		{ "nod c 0600 c 5 1048576", -EINVAL, "bad minor '1048576'" },
		{ "nod c 0600 c -5 1", -EINVAL, "bad major '-5'" },
		{ "nod c 0600 c 5 99999999999999999999", -EINVAL, "bad minor" },
		{ "dir dev\r 0755", -EINVAL, "control character 0x0d" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		last_err[0] = '\0';
		CHECK(parse1(cases[i].line) == cases[i].err);
		CHECK(strstr(last_err, cases[i].msg) != NULL);
		CHECK(last_line == 7);
		if (!strstr(last_err, cases[i].msg))
			printf("  case '%s' said '%s'\n", cases[i].line, last_err);
	}
}

/* Feed lines, finish; returns the first error. */
static int build(struct cpio_manifest *m, const char *const *lines, size_t n)
{
	size_t i;
	int r;

	cpio_manifest_init(m);
	for (i = 0; i < n; i++) {
		r = cpio_manifest_parse_line(m, lines[i], i + 1);
		if (r)
			return r;
	}
	return cpio_manifest_finish(m);
}

static void test_duplicate(void)
{
	static const char *const lines[] = {
		"dir dev 0755", "dir etc 0755", "nod dev 0600 c 1 3",
	};
	struct cpio_manifest m;

	CHECK(build(&m, lines, 3) == -EEXIST);
	CHECK(m.err_line == 3);
	CHECK(strstr(m.err, "duplicate path 'dev' (first on line 1)") != NULL);
	cpio_manifest_free(&m);
}

static void test_missing_parent(void)
{
	static const char *const lines[] = {
		"dir lib 0755", "file lib/modules/a.ko 0644 /x",
	};
	static const char *const not_dir[] = {
		"slink lib /usr/lib 0777", "dir lib/modules 0755",
	};
	struct cpio_manifest m;

	CHECK(build(&m, lines, 2) == -ENOENT);
	CHECK(m.err_line == 2);
	CHECK(strstr(m.err, "parent directory 'lib/modules' of "
			    "'lib/modules/a.ko' is not in the manifest") != NULL);
	cpio_manifest_free(&m);
	CHECK(build(&m, not_dir, 2) == -ENOTDIR);
	CHECK(m.err_line == 2);
	cpio_manifest_free(&m);
}

/* "lib-x" sorts before "lib/": parents must still be found. */
static void test_sort_order(void)
{
	static const char *const lines[] = {
		"dir lib/m 0755", "dir lib-x 0755", "dir lib 0755", "dir a 0755",
		"dir lib/m/z 0755", "dir lib.d 0755",
	};
	static const char *const order[] = {
		"a", "lib", "lib-x", "lib.d", "lib/m", "lib/m/z",
	};
	struct cpio_manifest m;
	size_t i;

	CHECK(build(&m, lines, 6) == 0);
	for (i = 0; i < 6 && m.count == 6; i++)
		CHECK_STR(m.entries[i].path, order[i]);
	cpio_manifest_free(&m);
}

static int write_manifest(const char *const *lines, size_t n,
			  unsigned long mtime)
{
	struct cpio_manifest m;
	int fd = mem_fd(), r;

	r = build(&m, lines, n);
	if (!r)
		r = cpio_manifest_write(&m, fd, mtime);
	slurp(fd);
	cpio_manifest_free(&m);
	close(fd);
	return r;
}

static void test_archive_bytes(void)
{
	static const char expect[] =
		HDR("00000001", "000041ED", "00000002", "00000064",
		    "00000000", "00000000", "00000000", "00000004")
		"bin\0" "\0\0"
		HDR("00000002", "0000A1FF", "00000001", "00000064",
		    "00000005", "00000000", "00000000", "00000007")
		"bin/sh\0" "\0\0\0" "/init" "\0\0\0"
		HDR("00000003", "000081ED", "00000001", "00000064",
		    "00000003", "00000000", "00000000", "00000005")
		"init\0" "\0" "hi\n" "\0"
		HDR("00000000", "00000000", "00000001", "00000000",
		    "00000000", "00000000", "00000000", "0000000B")
		"TRAILER!!!\0" "\0\0\0";
	char src[64], line[128];
	const char *lines[3];
	int sfd = make_source("hi\n", src, sizeof(src));

	snprintf(line, sizeof(line), "file init 0755 %s", src);
	lines[0] = line;
	lines[1] = "slink bin/sh /init 0777";
	lines[2] = "dir bin 0755";
	CHECK(write_manifest(lines, 3, 100) == 0);
	CHECK(same_bytes(expect, sizeof(expect) - 1));
	close(sfd);
}

static void test_deterministic(void)
{
	static const char *const fwd[] = {
		"dir dev 0755", "nod dev/console 0600 c 5 1",
		"nod dev/null 0666 c 1 3", "dir tmp 1777", "dir sys 0755",
	};
	static const char *const rev[] = {
		"dir sys 0755", "dir tmp 1777", "nod dev/null 0666 c 1 3",
		"nod dev/console 0600 c 5 1", "dir dev 0755",
	};
	static unsigned char first[BUF_MAX];
	size_t first_len;

	CHECK(write_manifest(fwd, 5, 1700000000) == 0);
	memcpy(first, out, out_len);
	first_len = out_len;
	CHECK(write_manifest(rev, 5, 1700000000) == 0);
	CHECK(same_bytes(first, first_len));
	CHECK(write_manifest(rev, 5, 1700000001) == 0);
	CHECK(!same_bytes(first, first_len));
}

static void test_source_errors(void)
{
	static const char *const missing[] = {
		"dir a 0755", "file a/x 0644 /nonexistent/sealroot-test",
	};
	static const char *const notreg[] = { "file x 0644 /dev/null" };
	struct cpio_manifest m;
	int fd = mem_fd();

	CHECK(build(&m, missing, 2) == 0);
	CHECK(cpio_manifest_write(&m, fd, 0) == -ENOENT);
	CHECK(m.err_line == 2);
	CHECK(strstr(m.err, "cannot open '/nonexistent/sealroot-test'") != NULL);
	cpio_manifest_free(&m);
	CHECK(build(&m, notreg, 1) == 0);
	CHECK(cpio_manifest_write(&m, fd, 0) == -EINVAL);
	CHECK(strstr(m.err, "not a regular file") != NULL);
	cpio_manifest_free(&m);
	close(fd);
}

static void test_output_error(void)
{
	static const char *const lines[] = { "dir a 0755" };
	struct cpio_manifest m;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	CHECK(build(&m, lines, 1) == 0);
	CHECK(cpio_manifest_write(&m, fd, 0) == -EBADF);
	CHECK(m.err_line == 0);
	CHECK(strstr(m.err, "cannot write") != NULL);
	if (sizeof(unsigned long) > 4)
		CHECK(cpio_manifest_write(&m, fd, CPIO_FIELD_MAX + 1) == -ERANGE);
	cpio_manifest_free(&m);
	close(fd);
}

static void test_empty_archive(void)
{
	CHECK(write_manifest(NULL, 0, 0) == 0);
	CHECK(out_len == 124);
	CHECK(!memcmp(out + 110, "TRAILER!!!", 11));
}

int main(void)
{
	RUN(test_dir_header);
	RUN(test_file_padding);
	RUN(test_device_header);
	RUN(test_trailer);
	RUN(test_inode_sequence);
	RUN(test_write_error);
	RUN(test_parse_ulong);
	RUN(test_check_path);
	RUN(test_parse_ok);
	RUN(test_parse_errors);
	RUN(test_duplicate);
	RUN(test_missing_parent);
	RUN(test_sort_order);
	RUN(test_archive_bytes);
	RUN(test_deterministic);
	RUN(test_source_errors);
	RUN(test_output_error);
	RUN(test_empty_archive);
	return UNIT_EXIT();
}
