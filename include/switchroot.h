/* Mount the real root read-only at a staging point and hand over to it.
 * Every check comes before the first destructive step (freeing the
 * initramfs): we must be on ramfs/tmpfs, the new root must be another
 * file system, and its init must be an executable regular file, resolved
 * inside the new root. */
#ifndef SEALROOT_SWITCHROOT_H
#define SEALROOT_SWITCHROOT_H

#define SWITCHROOT_STAGING "/sysroot"

/* Mount dev (fstype, mount data options) read-only on target. */
int switchroot_mount(const char *dev, const char *fstype, const char *options,
		     const char *target);

/* Check that newroot is ready to take over with init: everything the
 * switch needs, before anything is changed. */
int switchroot_check(const char *newroot, const char *init);

/* Free the initramfs, move /dev /proc /sys /run into newroot, make it the
 * root. After this only execv() is left to do. */
int switchroot_enter(const char *newroot);

#endif
