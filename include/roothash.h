/* Root hashes of dm-verity trees: parsing, printing, and the partition
 * UUIDs the Discoverable Partitions Specification derives from them.
 * Pure logic, tested on the host. */
#ifndef SEALROOT_ROOTHASH_H
#define SEALROOT_ROOTHASH_H

#include <stddef.h>
#include <stdint.h>

#define ROOTHASH_MAX 64			/* sha512 at most */
#define ROOTHASH_MIN 32			/* 128-bit DPS halves need 32 bytes */

struct roothash {
	uint8_t bytes[ROOTHASH_MAX];
	size_t len;
};

/* Parse a root hash in hex (32 to 64 bytes, even number of digits). */
int roothash_parse(const char *hex, struct roothash *ret);

/* The DPS PARTUUIDs of the data and hash partitions: the first and the
 * last 128 bits, as "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx". */
void roothash_dps_partuuids(const struct roothash *h, char ret_data[37],
			    char ret_hash[37]);

/* Lower-case hex into buf; cut short only if buf is too small, which
 * 2 * ROOTHASH_MAX + 1 bytes never is. */
void roothash_hex(const struct roothash *h, char *buf, size_t size);

#endif
