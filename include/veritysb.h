/* The dm-verity superblock and hash tree as `veritysetup format` writes
 * them (format 1 superblock at the start of the hash device, the tree's
 * levels after it, top level first). Everything here is disk data an
 * attacker controls: the superblock is not covered by the root hash, so
 * its fields are range checked, the tree geometry they imply must fit the
 * devices, and every hash block above the data is checked against its
 * parent up to the root hash, before the kernel is handed any of it.
 * Pure logic on file descriptors: tested on the host with files, fuzzed. */
#ifndef SEALROOT_VERITYSB_H
#define SEALROOT_VERITYSB_H

#include <stdint.h>

#include "roothash.h"

#define VERITYSB_SIZE 512
#define VERITYSB_SALT_MAX 256
#define VERITYSB_BLOCK_MIN 512
#define VERITYSB_BLOCK_MAX 65536
#define VERITYSB_LEVELS_MAX 63

struct veritysb {
	uint32_t hash_type;		/* 1: salt first; 0: Chrome OS, salt last */
	uint8_t uuid[16];
	char algorithm[32];		/* NUL terminated, e.g. "sha256" */
	uint32_t data_block_size;
	uint32_t hash_block_size;
	uint64_t data_blocks;
	uint16_t salt_size;
	uint8_t salt[VERITYSB_SALT_MAX];
};

/* What a check found wrong, naming the field or block. */
struct veritysb_error {
	char msg[192];
};

/* The tree's shape, derived from the superblock as the kernel does. */
struct veritysb_geometry {
	unsigned digest_size;
	unsigned slot_size;		/* digests are spaced to a power of two */
	unsigned per_block;		/* digests per hash block */
	unsigned levels;
	uint64_t level_start[VERITYSB_LEVELS_MAX];	/* in hash blocks */
	uint64_t level_blocks[VERITYSB_LEVELS_MAX];
	uint64_t hash_start;		/* first hash block (after the superblock) */
	uint64_t hash_end;		/* hash blocks used, superblock included */
};

/* Parse and range check the on-disk superblock (VERITYSB_SIZE bytes). */
int veritysb_parse(const uint8_t *buf, size_t len, struct veritysb *ret,
		   struct veritysb_error *err);

/* The tree's geometry; the devices must be large enough to hold what the
 * superblock claims (sizes in bytes). */
int veritysb_geometry(const struct veritysb *sb, uint64_t data_size,
		      uint64_t hash_size, struct veritysb_geometry *ret,
		      struct veritysb_error *err);

/* Hash of the top hash block: what the root hash must be. */
int veritysb_top_hash(int hash_fd, const struct veritysb *sb,
		      const struct veritysb_geometry *g, struct roothash *ret);

/* Check every hash block against its digest in the level above, and that
 * unused digest slots are zero (a shrunken data_blocks shows there).
 * The top block itself is checked by comparing veritysb_top_hash with
 * the root hash. */
int veritysb_check_tree(int hash_fd, const struct veritysb *sb,
			const struct veritysb_geometry *g,
			struct veritysb_error *err);

#endif
