/* Bounded wait for the devices a boot needs. Block devices are found by
 * scanning <root>/sys/class/block and probing each new one (devprobe.h);
 * one that fails to probe is probed again on every scan until the
 * deadline, since a slow disk can be read too early. Character devices
 * (the TPM's /dev/tpm0) are waited for by node path. A request that
 * two block devices match is refused, naming both: a duplicate root
 * partition must never be picked silently. A progress line is logged
 * every few seconds; on timeout, every device that was seen is listed
 * with its identifiers (or why it could not be probed). root is "" on
 * the target, a test directory on the host. */
#ifndef SEALROOT_DEVWAIT_H
#define SEALROOT_DEVWAIT_H

#include <stdbool.h>
#include <stddef.h>

#include "devspec.h"

#define DEVWAIT_TRACK_MAX 256	/* devices remembered; more are probed every scan */

enum devwait_kind {
	DEVWAIT_BLOCK,			/* spec: any devspec */
	DEVWAIT_CHAR,			/* spec: DEVSPEC_PATH of a character device */
};

struct devwait_req {
	const char *what;		/* "root", "verity hash", "TPM", ... */
	enum devwait_kind kind;
	struct devspec spec;
	/* filled when found: */
	bool found;
	char path[48];			/* /dev/<name> */
	struct devids ids;
};

/* Wait until every request is found or timeout_s seconds pass
 * (-ETIMEDOUT, after logging what was missing and what was seen);
 * -EEXIST if two block devices match one request (musl has no text
 * for ENOTUNIQ). */
int devwait_all(const char *root, struct devwait_req *reqs, size_t n,
		unsigned timeout_s);

#endif
