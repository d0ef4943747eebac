/* dm-verity for the read-only root. The root hash comes from the signed
 * UKI (roothash= on its command line, or sealroot.conf); the data and hash
 * partitions are found from it as the Discoverable Partitions
 * Specification says (see roothash.h), unless configured explicitly. The
 * mapping is named "root", as systemd's veritysetup generator names it,
 * so the booted systemd finds it already active. */
#ifndef SEALROOT_VERITY_H
#define SEALROOT_VERITY_H

#include "roothash.h"

#define VERITY_NAME "root"

enum verity_corruption {
	VERITY_CORRUPTION_EIO,		/* failed reads return EIO (default) */
	VERITY_CORRUPTION_RESTART,	/* the kernel restarts the machine */
	VERITY_CORRUPTION_PANIC,	/* the kernel panics */
};

/* try_verify_in_tasklet: auto uses it where the target has it (1.9+),
 * off never asks for it (a kernel whose tasklet path misbehaves). */
enum verity_tasklets {
	VERITY_TASKLETS_AUTO,
	VERITY_TASKLETS_OFF,
};

/* Check that the running kernel's dm-verity target supports the policy;
 * *ret_flags gets the activation flags for verity_open (read-only, the
 * policy, and tasklets if asked for and the target has them). */
int verity_check_policy(enum verity_corruption policy,
			enum verity_tasklets tasklets, uint32_t *ret_flags);

/* Set up VERITY_NAME read-only from data_dev and hash_dev (superblock on
 * the hash device). The root hash is checked against the top of the hash
 * tree first, and after activation the kernel's table must be a verity
 * target that has seen no corruption. */
int verity_open(const char *data_dev, const char *hash_dev,
		const struct roothash *h, uint32_t flags);

#endif
