/* Mount the real root read-only at a staging point and hand over to it.
 * Every check comes before the first change: we must be on ramfs/tmpfs,
 * the new root must be another file system with the API mount points,
 * and its init must be an executable regular file, resolved inside the
 * new root. The initramfs is freed only once the new root is "/". */
#ifndef SEALROOT_SWITCHROOT_H
#define SEALROOT_SWITCHROOT_H

#define SWITCHROOT_STAGING "/sysroot"

/* Mount dev (fstype, mount data options) read-only on target. */
int switchroot_mount(const char *dev, const char *fstype, const char *options,
		     const char *target);

/* Check that newroot is ready to take over with init: everything the
 * switch needs, before anything is changed (we are on ramfs/tmpfs,
 * newroot is another file system with directories for /dev /proc /sys
 * /run, and init is an executable file in it). */
int switchroot_check(const char *newroot, const char *init);

/* Move /dev /proc /sys /run into newroot, make it the root, then free
 * the initramfs. A move that fails is an error, logged, with the moves
 * before it undone and nothing freed. After this only execv() is left. */
int switchroot_enter(const char *newroot);

#endif
