/* Bounded wait for block devices. Devices are found by scanning
 * /sys/class/block and probing each new one once (libblkid: partition
 * entry UUID and name, file system UUID, label and type). A progress
 * line is logged every few seconds; on timeout, every device that was
 * seen is listed with its identifiers, so a wrong root= is easy to spot. */
#ifndef SEALROOT_DEVWAIT_H
#define SEALROOT_DEVWAIT_H

#include <stdbool.h>
#include <stddef.h>

#include "devspec.h"

struct devwait_req {
	const char *what;		/* "root", "verity hash", ... */
	struct devspec spec;
	/* filled when found: */
	bool found;
	char path[48];			/* /dev/<name> */
	struct devids ids;
};

/* Probe one block device's identifiers (and file system type). */
int devwait_probe(const char *path, struct devids *ids);

/* Wait until every request is found or timeout_s seconds pass
 * (-ETIMEDOUT, after logging what was missing and what was seen). */
int devwait_all(struct devwait_req *reqs, size_t n, unsigned timeout_s);

#endif
