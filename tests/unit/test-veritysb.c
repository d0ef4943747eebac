/* The superblock and hash-tree checks on trees made by the real
 * `veritysetup format` (cryptsetup-bin), intact and tampered. Files live
 * in a temporary directory next to this binary, in the build tree. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "veritysb.h"
#include "unit.h"

#define DATA_BLOCKS 300

static char dir[4096], data_path[4200], hash_path[4200];
static struct roothash want;

/* veritysetup format; the root hash it prints goes to want. */
static int format(const char *extra)
{
	char cmd[9000], line[512];
	FILE *p;
	int found = 0;

	snprintf(cmd, sizeof(cmd), "veritysetup format %s '%s' '%s' 2>&1", extra,
		 data_path, hash_path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		char *h = strstr(line, "Root hash:");

		if (h && roothash_parse(strtok(h + 10, " \t\n"), &want) == 0)
			found = 1;
	}
	return pclose(p) == 0 && found ? 0 : -1;
}

static int write_data(void)
{
	FILE *f = fopen(data_path, "w");

	if (!f)
		return -1;
	for (unsigned i = 0; i < DATA_BLOCKS * 4096u; i++)
		fputc((int)((i * 2654435761u) >> 13), f);
	return fclose(f);
}

static int patch(const char *path, off_t off, const void *bytes, size_t n)
{
	int fd = open(path, O_WRONLY);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = pwrite(fd, bytes, n, off);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

static void flip(const char *path, off_t off)
{
	unsigned char c;
	int fd = open(path, O_RDWR);

	CHECK(fd >= 0 && pread(fd, &c, 1, off) == 1);
	c ^= 0xff;
	CHECK(pwrite(fd, &c, 1, off) == 1);
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The whole check as verity.c runs it: 0, or the first failure's code
 * with its message in err. */
static int check(struct veritysb_error *err, struct roothash *top)
{
	uint8_t buf[VERITYSB_SIZE];
	struct veritysb sb;
	struct veritysb_geometry g;
	int fd = open(hash_path, O_RDONLY), r;

	memset(err, 0, sizeof(*err));
	if (fd < 0 || pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		return -EIO;
	r = veritysb_parse(buf, sizeof(buf), &sb, err);
	if (r == 0)
		r = veritysb_geometry(&sb, (uint64_t)file_size(data_path),
				      (uint64_t)file_size(hash_path), &g, err);
	if (r == 0)
		r = veritysb_top_hash(fd, &sb, &g, top);
	if (r == 0 && (top->len != want.len || memcmp(top->bytes, want.bytes, want.len)))
		r = -ENOTUNIQ;		/* the root hash check of verity.c */
	if (r == 0)
		r = veritysb_check_tree(fd, &sb, &g, err);
	close(fd);
	return r;
}

static int fresh(const char *extra)
{
	unlink(hash_path);
	return format(extra);
}

static void test_intact_4096(void)
{
	struct veritysb_error err;
	struct roothash top;

	CHECK(fresh("") == 0);
	CHECK(check(&err, &top) == 0);
	CHECK(top.len == 32);
}

/* 512-byte hash blocks: 16 digests each, so three levels. */
static void test_intact_deep_and_format0(void)
{
	struct veritysb_error err;
	struct roothash top;
	uint8_t buf[VERITYSB_SIZE];
	struct veritysb sb;
	struct veritysb_geometry g;
	int fd;

	CHECK(fresh("--hash-block-size 512 --salt 00ff") == 0);
	CHECK(check(&err, &top) == 0);
	fd = open(hash_path, O_RDONLY);
	CHECK(pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf));
	CHECK(veritysb_parse(buf, sizeof(buf), &sb, &err) == 0);
	CHECK(veritysb_geometry(&sb, DATA_BLOCKS * 4096, 1 << 20, &g, &err) == 0);
	CHECK(g.levels == 3 && g.level_blocks[0] == 19 && g.level_blocks[2] == 1);
	CHECK(g.level_start[2] == 1 && g.level_start[0] == 4);
	close(fd);
	CHECK(fresh("--format 0 --hash sha512") == 0);
	CHECK(check(&err, &top) == 0);
	CHECK(top.len == 64);
}

static void test_superblock_fields(void)
{
	struct veritysb_error err;
	struct roothash top;
	uint8_t v;

	CHECK(fresh("") == 0);
	flip(hash_path, 0);
	CHECK(check(&err, &top) == -EBADMSG && strstr(err.msg, "signature"));
	flip(hash_path, 0);
	v = 2;
	CHECK(patch(hash_path, 8, &v, 1) == 0);
	CHECK(check(&err, &top) == -EBADMSG && strstr(err.msg, "version 2"));
	v = 1;
	CHECK(patch(hash_path, 8, &v, 1) == 0);
	CHECK(patch(hash_path, 32, "md5x", 5) == 0);
	CHECK(check(&err, &top) == -EOPNOTSUPP && strstr(err.msg, "'md5x'"));
	CHECK(patch(hash_path, 32, "sha256", 7) == 0);
	CHECK(patch(hash_path, 64 + 1, "\x0b", 1) == 0);	/* 4096 -> 2816 */
	CHECK(check(&err, &top) == -EBADMSG && strstr(err.msg, "data block size 2816"));
	CHECK(patch(hash_path, 64 + 1, "\x10", 1) == 0);
	CHECK(patch(hash_path, 80, "\x01\x01", 2) == 0);	/* salt size 257 */
	CHECK(check(&err, &top) == -EBADMSG && strstr(err.msg, "salt size 257"));
	CHECK(patch(hash_path, 80, "\x20\x00", 2) == 0);
	CHECK(check(&err, &top) == 0);
	flip(hash_path, 88);					/* salt */
	CHECK(check(&err, &top) == -ENOTUNIQ);
}

/* data_blocks is not covered by the root hash: a larger one must fit the
 * data device, a smaller one shows as digests where the tree should
 * have none. */
static void test_superblock_data_blocks(void)
{
	struct veritysb_error err;
	struct roothash top;
	uint8_t n[8] = { 0 };

	CHECK(fresh("") == 0);
	n[0] = (DATA_BLOCKS + 1) & 0xff;
	n[1] = (DATA_BLOCKS + 1) >> 8;
	CHECK(patch(hash_path, 72, n, 8) == 0);
	CHECK(check(&err, &top) == -EBADMSG && strstr(err.msg, "do not fit the data device"));
	n[0] = 200;
	n[1] = 0;
	CHECK(patch(hash_path, 72, n, 8) == 0);
	CHECK(check(&err, &top) == -EBADMSG && strstr(err.msg, "unused digest slot"));
	CHECK(fresh("--hash-block-size 512") == 0);
	n[0] = 128;				/* 8 leaves instead of 19 */
	CHECK(patch(hash_path, 72, n, 8) == 0);
	CHECK(check(&err, &top) != 0);
}

static void test_hash_blocks(void)
{
	struct veritysb_error err;
	struct roothash top;

	CHECK(fresh("") == 0);
	flip(hash_path, 4096 + 5);			/* top block, a digest */
	CHECK(check(&err, &top) == -ENOTUNIQ);
	flip(hash_path, 4096 + 5);
	flip(hash_path, 2 * 4096 + 100);		/* first leaf */
	CHECK(check(&err, &top) == -EBADMSG &&
	      strstr(err.msg, "hash block 2 (level 0) does not match its digest in block 1 (level 1)"));
	flip(hash_path, 2 * 4096 + 100);
	flip(hash_path, 4 * 4096 + 4000);		/* past the last leaf's digests */
	CHECK(check(&err, &top) == -EBADMSG && strstr(err.msg, "hash block 4 (level 0) does not match"));
	flip(hash_path, 4 * 4096 + 4000);
	CHECK(check(&err, &top) == 0);
	CHECK(truncate(hash_path, 4 * 4096) == 0);
	CHECK(check(&err, &top) == -EBADMSG && strstr(err.msg, "does not fit the hash device"));
}

static void test_parse_short_and_poison(void)
{
	struct veritysb_error err;
	struct veritysb sb;
	uint8_t buf[VERITYSB_SIZE] = "verity";

	memset(&sb, POISON, sizeof(sb));
	CHECK(veritysb_parse(buf, 100, &sb, &err) == -EBADMSG);
	CHECK(veritysb_parse(buf, sizeof(buf), &sb, &err) == -EBADMSG);
	CHECK(((uint8_t *)&sb)[0] == POISON && sb.data_blocks != 0);
}

int main(int argc, char **argv)
{
	char self[4096];

	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(dir, sizeof(dir), "%s/veritysb.XXXXXX", dirname(self));
	if (!mkdtemp(dir)) {
		printf("FAIL setup: cannot create '%s'\n", dir);
		return 1;
	}
	snprintf(data_path, sizeof(data_path), "%s/data", dir);
	snprintf(hash_path, sizeof(hash_path), "%s/hash", dir);
	if (write_data() < 0) {
		printf("FAIL setup: cannot write '%s'\n", data_path);
		return 1;
	}
	RUN(test_intact_4096);
	RUN(test_intact_deep_and_format0);
	RUN(test_superblock_fields);
	RUN(test_superblock_data_blocks);
	RUN(test_hash_blocks);
	RUN(test_parse_short_and_poison);
	unlink(data_path);
	unlink(hash_path);
	rmdir(dir);
	return UNIT_EXIT();
}
