/* Probe one block device node with libblkid: partition entry UUID, name
 * and type, file system UUID, label and type. Kept apart from devwait so
 * the wait logic links against a fake probe in host tests. */
#ifndef SEALROOT_DEVPROBE_H
#define SEALROOT_DEVPROBE_H

#include "devspec.h"

/* Fill ids (all but name) from the device at path. -EUCLEAN when the
 * device carries conflicting signatures, -EIO when libblkid fails; the
 * caller tries again later, since a device can be read too early. */
int devprobe_block(const char *path, struct devids *ids);

#endif
