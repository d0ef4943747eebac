#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "switchroot.h"

int switchroot_mount(const char *dev, const char *fstype, const char *options,
		     const char *target)
{
	if (mkdir(target, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount(dev, target, fstype, MS_RDONLY, options) < 0) {
		int r = -errno;

		log_err("mount", "cannot mount '%s' (%s, ro%s%s) on '%s': %s",
			dev, fstype, *options ? "," : "", options, target,
			strerror(-r));
		return r;
	}
	return 0;
}

static int check_initramfs_root(void)
{
	struct statfs sfs;

	if (statfs("/", &sfs) < 0)
		return -errno;
	if ((unsigned long)sfs.f_type != RAMFS_MAGIC &&
	    (unsigned long)sfs.f_type != TMPFS_MAGIC) {
		log_err("switch_root", "cannot switch from '/': not a ramfs or tmpfs (type 0x%lx)",
			(unsigned long)sfs.f_type);
		return -EINVAL;
	}
	return 0;
}

static int check_other_fs(const char *newroot)
{
	struct stat a, b;

	if (stat("/", &a) < 0 || stat(newroot, &b) < 0)
		return -errno;
	if (a.st_dev == b.st_dev) {
		log_err("switch_root", "cannot switch to '%s': not a mounted file system",
			newroot);
		return -EINVAL;
	}
	return 0;
}

/* Resolve init as the new root will see it: absolute symlinks such as
 * /sbin/init -> /lib/systemd/systemd stay inside newroot. */
static int check_init(const char *newroot, const char *init)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int rootfd, fd, r = 0;

	rootfd = open(newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, rootfd, init, &how, sizeof(how));
	if (fd < 0 || fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		r = -EACCES;
	if (r < 0)
		log_err("switch_root", "cannot use init '%s' of '%s': %s", init,
			newroot, r == -EACCES ? "not an executable file" : strerror(-r));
	if (fd >= 0)
		close(fd);
	close(rootfd);
	return r;
}

static const char *const api_mounts[] = { "/dev", "/proc", "/sys", "/run" };
#define NAPI (sizeof(api_mounts) / sizeof(api_mounts[0]))

/* Each API file system moves onto a directory of the new root: one that
 * is missing (or a symlink, a file) would fail the move half-way. */
static int check_mount_points(const char *newroot)
{
	struct stat st;
	int rootfd, r = 0;

	rootfd = open(newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	for (size_t i = 0; i < NAPI && r == 0; i++) {
		if (fstatat(rootfd, api_mounts[i] + 1, &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		else if (!S_ISDIR(st.st_mode))
			r = -ENOTDIR;
		if (r < 0)
			log_err("switch_root", "cannot use mount point '%s%s': %s",
				newroot, api_mounts[i], strerror(-r));
	}
	close(rootfd);
	return r;
}

int switchroot_check(const char *newroot, const char *init)
{
	int r;

	r = check_initramfs_root();
	if (r == 0)
		r = check_other_fs(newroot);
	if (r == 0)
		r = check_mount_points(newroot);
	if (r == 0)
		r = check_init(newroot, init);
	return r;
}

/* Delete everything on the initramfs file system below dirfd, never
 * crossing into another file system (the mounted root, /dev, /proc...).
 * Consumes dirfd. Returns how many entries could not be removed. */
static unsigned remove_tree(int dirfd, dev_t dev)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	unsigned left = 0;

	if (!d) {
		close(dirfd);
		return 1;
	}
	while ((de = readdir(d))) {
		struct stat st;
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd, de->d_name,
				    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			left += fd < 0 ? 1 : remove_tree(fd, dev);
		}
		if (unlinkat(dirfd, de->d_name,
			     S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0 &&
		    errno != EBUSY)
			left++;
	}
	closedir(d);
	return left;
}

static int move_one(const char *from, const char *to)
{
	if (mount(from, to, NULL, MS_MOVE, NULL) < 0)
		return -errno;
	return 0;
}

/* Put back the first n API mounts after a failed move, so the caller
 * (the failure path: console, kmsg, reboot) still has /dev and /proc. */
static void move_back(const char *newroot, size_t n)
{
	char target[256];

	while (n-- > 0) {
		snprintf(target, sizeof(target), "%s%s", newroot, api_mounts[n]);
		(void)move_one(target, api_mounts[n]);
	}
}

static int move_api_mounts(const char *newroot)
{
	char target[256];
	int r;

	for (size_t i = 0; i < NAPI; i++) {
		if ((size_t)snprintf(target, sizeof(target), "%s%s", newroot,
				     api_mounts[i]) >= sizeof(target))
			r = -ENAMETOOLONG;
		else
			r = move_one(api_mounts[i], target);
		if (r < 0) {
			log_err("switch_root", "cannot move '%s' to '%s': %s",
				api_mounts[i], target, strerror(-r));
			move_back(newroot, i);
			return r;
		}
	}
	return 0;
}

/* Make newroot "/": move it over the initramfs and enter it. */
static int enter_root(const char *newroot)
{
	int r = 0;

	if (chdir(newroot) < 0 || mount(newroot, "/", NULL, MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0)
		r = -errno;
	if (r < 0)
		log_err("switch_root", "cannot move '%s' to '/': %s", newroot,
			strerror(-r));
	return r;
}

/* Nothing is deleted until the new root is "/": the old root's files are
 * freed last, through a directory fd kept on it, so every failure before
 * that leaves the initramfs as it was. */
int switchroot_enter(const char *newroot)
{
	struct stat st;
	unsigned left;
	int oldfd, r;

	oldfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (oldfd < 0 || fstat(oldfd, &st) < 0) {
		r = -errno;
		log_err("switch_root", "cannot open '/': %s", strerror(-r));
		goto out_close;
	}
	r = move_api_mounts(newroot);
	if (r < 0)
		goto out_close;
	r = enter_root(newroot);
	if (r < 0) {
		move_back(newroot, NAPI);
		goto out_close;
	}
	left = remove_tree(oldfd, st.st_dev);
	oldfd = -1;
	if (left)
		log_warn("switch_root", "cannot free %u entries of the initramfs", left);
	return 0;
out_close:
	if (oldfd >= 0)
		close(oldfd);
	return r;
}
