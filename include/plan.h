/* The device plan: from a parsed configuration (file and command line
 * together, as the device sees them) to the block devices to wait for.
 * Pure and bounded, so sealroot (init/boot.c) and the build-time check
 * (sealroot-lint, from mkinitramfs) run the very same decision:
 *
 *   - a root hash: the root is the verity mapping of a data and a hash
 *     partition, named by verity.data/verity.hash or else found from the
 *     hash (DPS); 'root' must then be empty (or the mapping itself);
 *   - no root hash: a plain root= device, only with root.verity =
 *     optional, which only mode = development allows. A production image
 *     never boots an unverified root;
 *   - a state volume (state = ...): one more block device, last. */
#ifndef SEALROOT_PLAN_H
#define SEALROOT_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "devspec.h"
#include "roothash.h"

#define PLAN_DEVICES_MAX 3

struct plan_device {
	const char *what;		/* "root", "verity data", "verity hash" */
	struct devspec spec;
};

struct plan {
	bool verity;
	struct roothash roothash;	/* when verity */
	size_t ndevs;
	struct plan_device devs[PLAN_DEVICES_MAX];	/* verity: data, hash; then state */
	int state;			/* index in devs of the state volume, -1: none */
};

/* Decide what to wait for. *ret is written only on success; on error
 * err->msg says why (err->line is 0): -EPERM for a root that would not
 * be verified where it must be, -EINVAL for a conflict or a bad value,
 * -ENOBUFS if the plan would not fit. */
int plan_devices(const struct config *cfg, struct plan *ret,
		 struct config_error *err);

/* Append one device request to p; -ENOBUFS when p is full, -EINVAL when
 * spec is not a device spec. Exposed for the tests of the bound. */
int plan_add(struct plan *p, const char *what, const char *spec,
	     struct config_error *err);

#endif
