/* The table of an active dm-verity target, as the kernel reports it
 * (DM_TABLE_STATUS: "1 254:2 254:3 4096 4096 37888 1 sha256 <root hash>
 * <salt> [n opt...]"): parsed and compared field by field with what was
 * asked, so a mapping that differs from it (another device, root hash or
 * tree, a weaker corruption policy) is caught before the root is used.
 * Pure logic, tested on the host. */
#ifndef SEALROOT_VERITYTAB_H
#define SEALROOT_VERITYTAB_H

#include <stdint.h>

#include "roothash.h"
#include "veritysb.h"

/* Optional arguments the table may carry. */
#define VERITYTAB_RESTART	(1u << 0)	/* restart_on_corruption */
#define VERITYTAB_PANIC		(1u << 1)	/* panic_on_corruption */
#define VERITYTAB_TASKLET	(1u << 2)	/* try_verify_in_tasklet */
#define VERITYTAB_WEAKENING	(1u << 3)	/* ignore_corruption, ignore_zero_blocks, check_at_most_once */
#define VERITYTAB_OTHER		(1u << 4)	/* anything else (FEC, signatures...) */

struct veritytab {
	unsigned version;
	unsigned data_major, data_minor;
	unsigned hash_major, hash_minor;
	uint32_t data_block_size, hash_block_size;
	uint64_t data_blocks;
	uint64_t hash_start;		/* in hash blocks */
	char algorithm[32];
	struct roothash root;
	uint16_t salt_size;
	uint8_t salt[VERITYSB_SALT_MAX];
	unsigned options;		/* VERITYTAB_* */
};

/* Parse a verity target's table parameters. */
int veritytab_parse(const char *params, struct veritytab *ret);

/* 0 if got is what want describes, else -EBADMSG and *ret_field names
 * the first field that differs ("root hash", "data device", ...). */
int veritytab_compare(const struct veritytab *got, const struct veritytab *want,
		      const char **ret_field);

#endif
