#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "veritysb.h"
#include "util.h"

/* On-disk layout, little endian (cryptsetup lib/verity/verity.c). */
#define SB_SIGNATURE "verity\0\0"
#define SB_VERSION 8
#define SB_HASH_TYPE 12
#define SB_UUID 16
#define SB_ALGORITHM 32
#define SB_DATA_BLOCK_SIZE 64
#define SB_HASH_BLOCK_SIZE 68
#define SB_DATA_BLOCKS 72
#define SB_SALT_SIZE 80
#define SB_SALT 88

static int fail(struct veritysb_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct veritysb_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return r;
}

static bool block_size_ok(uint32_t s)
{
	return s >= VERITYSB_BLOCK_MIN && s <= VERITYSB_BLOCK_MAX &&
	       !(s & (s - 1));
}

static bool algorithm_ok(const uint8_t *p)
{
	size_t n = strnlen((const char *)p, 32);

	if (n == 0 || n == 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') ||
		      p[i] == '-'))
			return false;
	return true;
}

static int check_fields(const uint8_t *b, struct veritysb_error *err)
{
	if (memcmp(b, SB_SIGNATURE, 8))
		return fail(err, -EBADMSG, "no verity superblock (signature)");
	if (le_read(b + SB_VERSION, 4) != 1)
		return fail(err, -EBADMSG, "superblock version %u, expected 1",
			    (unsigned)le_read(b + SB_VERSION, 4));
	if (le_read(b + SB_HASH_TYPE, 4) > 1)
		return fail(err, -EBADMSG, "superblock hash type %u, expected 0 or 1",
			    (unsigned)le_read(b + SB_HASH_TYPE, 4));
	if (!algorithm_ok(b + SB_ALGORITHM))
		return fail(err, -EBADMSG, "superblock algorithm is not a hash name");
	if (!block_size_ok((uint32_t)le_read(b + SB_DATA_BLOCK_SIZE, 4)))
		return fail(err, -EBADMSG, "superblock data block size %u is not a power of two in 512..65536",
			    (unsigned)le_read(b + SB_DATA_BLOCK_SIZE, 4));
	if (!block_size_ok((uint32_t)le_read(b + SB_HASH_BLOCK_SIZE, 4)))
		return fail(err, -EBADMSG, "superblock hash block size %u is not a power of two in 512..65536",
			    (unsigned)le_read(b + SB_HASH_BLOCK_SIZE, 4));
	if (le_read(b + SB_DATA_BLOCKS, 8) < 2 || le_read(b + SB_DATA_BLOCKS, 8) > UINT64_MAX / VERITYSB_BLOCK_MAX)
		return fail(err, -EBADMSG, "superblock data blocks %llu out of range",
			    (unsigned long long)le_read(b + SB_DATA_BLOCKS, 8));
	if (le_read(b + SB_SALT_SIZE, 2) > VERITYSB_SALT_MAX)
		return fail(err, -EBADMSG, "superblock salt size %u larger than %d",
			    (unsigned)le_read(b + SB_SALT_SIZE, 2), VERITYSB_SALT_MAX);
	return 0;
}

int veritysb_parse(const uint8_t *buf, size_t len, struct veritysb *ret,
		   struct veritysb_error *err)
{
	int r;

	if (len < VERITYSB_SIZE)
		return fail(err, -EBADMSG, "superblock shorter than %d bytes", VERITYSB_SIZE);
	r = check_fields(buf, err);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->hash_type = (uint32_t)le_read(buf + SB_HASH_TYPE, 4);
	memcpy(ret->uuid, buf + SB_UUID, sizeof(ret->uuid));
	memcpy(ret->algorithm, buf + SB_ALGORITHM, sizeof(ret->algorithm));
	ret->data_block_size = (uint32_t)le_read(buf + SB_DATA_BLOCK_SIZE, 4);
	ret->hash_block_size = (uint32_t)le_read(buf + SB_HASH_BLOCK_SIZE, 4);
	ret->data_blocks = le_read(buf + SB_DATA_BLOCKS, 8);
	ret->salt_size = (uint16_t)le_read(buf + SB_SALT_SIZE, 2);
	memcpy(ret->salt, buf + SB_SALT, ret->salt_size);
	return 0;
}

static unsigned log2_floor(uint64_t v)
{
	unsigned n = 0;

	while (v >>= 1)
		n++;
	return n;
}

/* Levels and where each starts, top level first on disk, as dm-verity's
 * constructor computes them. */
static int level_layout(const struct veritysb *sb, struct veritysb_geometry *g,
			struct veritysb_error *err)
{
	uint64_t blocks = sb->data_blocks, pos;

	g->levels = 0;
	while (blocks > 1) {
		if (g->levels == VERITYSB_LEVELS_MAX)
			return fail(err, -EBADMSG, "hash tree deeper than %d levels",
				    VERITYSB_LEVELS_MAX);
		blocks = (blocks + g->per_block - 1) / g->per_block;
		g->level_blocks[g->levels++] = blocks;
	}
	g->hash_start = (VERITYSB_SIZE + sb->hash_block_size - 1) / sb->hash_block_size;
	pos = g->hash_start;
	for (unsigned i = g->levels; i-- > 0;) {
		g->level_start[i] = pos;
		pos += g->level_blocks[i];
	}
	g->hash_end = pos;
	return 0;
}

static int digest_layout(const struct veritysb *sb, struct veritysb_geometry *g,
			 struct veritysb_error *err)
{
	const EVP_MD *md = EVP_get_digestbyname(sb->algorithm);
	int size = md ? EVP_MD_get_size(md) : -1;

	if (size <= 0 || size > ROOTHASH_MAX)
		return fail(err, -EOPNOTSUPP, "superblock algorithm '%s' is not a supported hash",
			    sb->algorithm);
	if ((unsigned)size * 2 > sb->hash_block_size)
		return fail(err, -EBADMSG, "hash block size %u holds fewer than two %s digests",
			    sb->hash_block_size, sb->algorithm);
	g->digest_size = (unsigned)size;
	g->per_block = 1u << log2_floor(sb->hash_block_size / g->digest_size);
	g->slot_size = sb->hash_block_size / g->per_block;
	return 0;
}

int veritysb_geometry(const struct veritysb *sb, uint64_t data_size,
		      uint64_t hash_size, struct veritysb_geometry *ret,
		      struct veritysb_error *err)
{
	struct veritysb_geometry g;
	int r;

	memset(&g, 0, sizeof(g));
	r = digest_layout(sb, &g, err);
	if (r == 0)
		r = level_layout(sb, &g, err);
	if (r < 0)
		return r;
	if (sb->data_blocks > data_size / sb->data_block_size)
		return fail(err, -EBADMSG, "superblock data blocks %llu of %u bytes do not fit the data device (%llu bytes)",
			    (unsigned long long)sb->data_blocks, sb->data_block_size,
			    (unsigned long long)data_size);
	if (g.hash_end > hash_size / sb->hash_block_size)
		return fail(err, -EBADMSG, "hash tree of %llu blocks of %u bytes does not fit the hash device (%llu bytes)",
			    (unsigned long long)g.hash_end, sb->hash_block_size,
			    (unsigned long long)hash_size);
	*ret = g;
	return 0;
}

static int read_block(int fd, uint64_t block, uint32_t size, uint8_t *buf)
{
	ssize_t n = pread(fd, buf, size, (off_t)(block * size));

	if (n < 0)
		return -errno;
	return (size_t)n == size ? 0 : -EIO;
}

/* Format 1 hashes salt + block, format 0 block + salt. */
static int hash_block(const struct veritysb *sb, const uint8_t *block,
		      uint8_t *ret)
{
	const EVP_MD *md = EVP_get_digestbyname(sb->algorithm);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = md && EVP_DigestInit_ex(ctx, md, NULL) &&
	     (sb->hash_type == 0 || EVP_DigestUpdate(ctx, sb->salt, sb->salt_size)) &&
	     EVP_DigestUpdate(ctx, block, sb->hash_block_size) &&
	     (sb->hash_type != 0 || EVP_DigestUpdate(ctx, sb->salt, sb->salt_size)) &&
	     EVP_DigestFinal_ex(ctx, ret, NULL);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

int veritysb_top_hash(int hash_fd, const struct veritysb *sb,
		      const struct veritysb_geometry *g, struct roothash *ret)
{
	static uint8_t block[VERITYSB_BLOCK_MAX];
	struct roothash h;
	int r;

	r = read_block(hash_fd, g->level_start[g->levels - 1],
		       sb->hash_block_size, block);
	if (r == 0)
		r = hash_block(sb, block, h.bytes);
	if (r < 0)
		return r;
	h.len = g->digest_size;
	*ret = h;
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Slots from first on, and the spacing after each used digest, must be
 * zero: veritysetup writes them so, and a non-zero one means the
 * superblock's data_blocks does not describe this tree. */
static int check_unused(const uint8_t *parent, const struct veritysb_geometry *g,
			unsigned first, unsigned level, uint64_t index,
			struct veritysb_error *err)
{
	for (unsigned i = 0; i < g->per_block; i++) {
		const uint8_t *s = parent + (size_t)i * g->slot_size;
		bool used = i < first;

		if (!all_zero(s + (used ? g->digest_size : 0),
			      g->slot_size - (used ? g->digest_size : 0)))
			return fail(err, -EBADMSG, "hash block %llu (level %u): unused digest slot %u is not zero (the superblock's data blocks do not describe this tree)",
				    (unsigned long long)index, level, i);
	}
	return 0;
}

/* The children of one hash block at level (>= 1), checked against it. */
static int check_children(int fd, const struct veritysb *sb,
			  const struct veritysb_geometry *g, unsigned level,
			  uint64_t b, const uint8_t *parent,
			  struct veritysb_error *err)
{
	static uint8_t child[VERITYSB_BLOCK_MAX];
	uint8_t digest[EVP_MAX_MD_SIZE];
	uint64_t first = b * g->per_block, n = g->level_blocks[level - 1] - first;
	int r;

	if (n > g->per_block)
		n = g->per_block;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t at = g->level_start[level - 1] + first + i;

		r = read_block(fd, at, sb->hash_block_size, child);
		if (r == 0)
			r = hash_block(sb, child, digest);
		if (r < 0)
			return fail(err, r, "cannot read hash block %llu: %s",
				    (unsigned long long)at, strerror(-r));
		if (memcmp(digest, parent + i * g->slot_size, g->digest_size))
			return fail(err, -EBADMSG, "hash block %llu (level %u) does not match its digest in block %llu (level %u)",
				    (unsigned long long)at, level - 1,
				    (unsigned long long)(g->level_start[level] + b), level);
	}
	return check_unused(parent, g, (unsigned)n, level,
			    g->level_start[level] + b, err);
}

static int check_level(int fd, const struct veritysb *sb,
		       const struct veritysb_geometry *g, unsigned level,
		       struct veritysb_error *err)
{
	static uint8_t parent[VERITYSB_BLOCK_MAX];
	int r;

	for (uint64_t b = 0; b < g->level_blocks[level]; b++) {
		r = read_block(fd, g->level_start[level] + b, sb->hash_block_size,
			       parent);
		if (r < 0)
			return fail(err, r, "cannot read hash block %llu: %s",
				    (unsigned long long)(g->level_start[level] + b),
				    strerror(-r));
		r = check_children(fd, sb, g, level, b, parent, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The last block of level 0 covers the last data blocks: its slots past
 * them must be zero too. */
static int check_last_leaf(int fd, const struct veritysb *sb,
			   const struct veritysb_geometry *g,
			   struct veritysb_error *err)
{
	static uint8_t leaf[VERITYSB_BLOCK_MAX];
	uint64_t last = g->level_blocks[0] - 1, at = g->level_start[0] + last;
	unsigned used = (unsigned)(sb->data_blocks - last * g->per_block);
	int r = read_block(fd, at, sb->hash_block_size, leaf);

	if (r < 0)
		return fail(err, r, "cannot read hash block %llu: %s",
			    (unsigned long long)at, strerror(-r));
	return check_unused(leaf, g, used, 0, at, err);
}

int veritysb_check_tree(int hash_fd, const struct veritysb *sb,
			const struct veritysb_geometry *g,
			struct veritysb_error *err)
{
	int r;

	for (unsigned level = g->levels - 1; level >= 1; level--) {
		r = check_level(hash_fd, sb, g, level, err);
		if (r < 0)
			return r;
	}
	return check_last_leaf(hash_fd, sb, g, err);
}
