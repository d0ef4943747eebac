/* switch_root in a private mount namespace (a forked child unshares it,
 * so nothing on the host is mounted or changed outside the build tree):
 * a tmpfs plays the initramfs with tmpfs /dev /proc /sys /run, another
 * the new root; the child chroots into the first and switches. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "switchroot.h"
#include "unit.h"

static char dir[4096], base[4200], logpath[4200];
static const char *const api[] = { "dev", "proc", "sys", "run" };

/* What the initramfs lacks, what the new root lacks. */
struct setup {
	const char *unmounted;		/* an API dir left unmounted */
	const char *no_mount_point;	/* missing in the new root */
	bool no_init;
};

static int put_file(const char *path, mode_t mode)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);

	if (fd < 0)
		return -1;
	(void)!write(fd, "x", 1);
	return close(fd);
}

static int mount_tmpfs(const char *path)
{
	return mount("tmpfs", path, "tmpfs", 0, "size=1m");
}

static int make_newroot(const struct setup *s)
{
	char p[4400];

	snprintf(p, sizeof(p), "%s/sysroot", base);
	if (mkdir(p, 0755) < 0 || mount_tmpfs(p) < 0)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		if (s->no_mount_point && !strcmp(s->no_mount_point, api[i]))
			continue;
		snprintf(p, sizeof(p), "%s/sysroot/%s", base, api[i]);
		if (mkdir(p, 0755) < 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/sysroot/sbin", base);
	if (mkdir(p, 0755) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/sysroot/sbin/init", base);
	return s->no_init ? 0 : put_file(p, 0755);
}

static int make_initramfs(const struct setup *s)
{
	char p[4400];

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount_tmpfs(base) < 0)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s", base, api[i]);
		if (mkdir(p, 0755) < 0)
			return -1;
		if (s->unmounted && !strcmp(s->unmounted, api[i]))
			continue;
		if (mount_tmpfs(p) < 0)
			return -1;
		snprintf(p, sizeof(p), "%s/%s/marker-%s", base, api[i], api[i]);
		if (put_file(p, 0644) < 0)
			return -1;
	}
	snprintf(p, sizeof(p), "%s/etc", base);
	if (mkdir(p, 0755) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/etc/junk", base);
	if (put_file(p, 0644) < 0)
		return -1;
	return make_newroot(s);
}

static int log_readfd = -1;

/* The child's stderr, read through an fd opened before its chroot. */
static int logged(const char *text)
{
	static char buf[8192];
	ssize_t n = pread(log_readfd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, text) != NULL;
}

/* In the child: build, chroot, switch; *ret_oldfd stays on the old root. */
static int run_switch(const struct setup *s, int *ret_oldfd)
{
	int logfd = open(logpath, O_CREAT | O_WRONLY | O_TRUNC, 0644);

	if (logfd < 0 || dup2(logfd, 2) < 0 || make_initramfs(s) < 0)
		return -1000;
	log_readfd = open(logpath, O_RDONLY);
	*ret_oldfd = open(base, O_RDONLY | O_DIRECTORY);
	if (chroot(base) < 0 || chdir("/") < 0)
		return -1000;
	int r = switchroot_check("/sysroot", "/sbin/init");
	return r < 0 ? r : switchroot_enter("/sysroot");
}

static bool old_root_intact(int oldfd)
{
	return faccessat(oldfd, "etc/junk", F_OK, 0) == 0;
}

static void child_ok(void)
{
	struct setup s = { 0 };
	int oldfd = -1;

	CHECK(run_switch(&s, &oldfd) == 0);
	CHECK(access("/sbin/init", X_OK) == 0);
	CHECK(access("/sysroot", F_OK) < 0);
	CHECK(access("/dev/marker-dev", F_OK) == 0 && access("/run/marker-run", F_OK) == 0);
	CHECK(faccessat(oldfd, "etc/junk", F_OK, 0) < 0 && errno == ENOENT);
	CHECK(faccessat(oldfd, "etc", F_OK, 0) < 0);
}

static void child_no_init(void)
{
	struct setup s = { .no_init = true };
	int oldfd = -1;

	CHECK(run_switch(&s, &oldfd) == -ENOENT);
	CHECK(logged("sealroot: switch_root: cannot use init '/sbin/init' of '/sysroot': No such file or directory"));
	CHECK(old_root_intact(oldfd));
	CHECK(access("/dev/marker-dev", F_OK) == 0);
}

static void child_no_mount_point(void)
{
	struct setup s = { .no_mount_point = "run" };
	int oldfd = -1;

	CHECK(run_switch(&s, &oldfd) == -ENOENT);
	CHECK(logged("sealroot: switch_root: cannot use mount point '/sysroot/run': No such file or directory"));
	CHECK(old_root_intact(oldfd));
	CHECK(access("/run/marker-run", F_OK) == 0);
}

/* /run is not a mount: its move fails after /dev /proc /sys moved. The
 * error comes back, those three are moved back, nothing is freed. */
static void child_failed_move(void)
{
	struct setup s = { .unmounted = "run" };
	int oldfd = -1;

	CHECK(run_switch(&s, &oldfd) == -EINVAL);
	CHECK(logged("sealroot: switch_root: cannot move '/run' to '/sysroot/run': Invalid argument"));
	CHECK(old_root_intact(oldfd));
	CHECK(access("/sysroot/sbin/init", F_OK) == 0);
	CHECK(access("/dev/marker-dev", F_OK) == 0 && access("/sys/marker-sys", F_OK) == 0);
	CHECK(access("/sysroot/dev/marker-dev", F_OK) < 0);
}

static bool can_unshare(void)
{
	pid_t pid = fork();
	int status = 1;

	/* In a chroot "/" is no mount point and cannot be made private: the
	 * test's mounts could then reach the host, so it does not run. */
	if (pid == 0)
		_exit(unshare(CLONE_NEWNS) < 0 ||
		      mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void in_child(void (*fn)(void))
{
	pid_t pid;
	int status = 1;
	char p[9000];

	snprintf(p, sizeof(p), "rm -rf '%s' && mkdir '%s'", base, base);
	CHECK(system(p) == 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fn();
		fflush(stdout);
		_exit(unit_failed_now);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_switch(void) { in_child(child_ok); }
static void test_missing_init_refused_before_freeing(void) { in_child(child_no_init); }
static void test_missing_mount_point_refused(void) { in_child(child_no_mount_point); }
static void test_failed_move_is_an_error(void) { in_child(child_failed_move); }

int main(int argc, char **argv)
{
	char self[4096], cmd[4300];

	(void)argc;
	if (!can_unshare()) {
		printf("SKIP test-switchroot: no private mount namespace here (needs CAP_SYS_ADMIN and \"/\" a mount point: not a chroot)\n");
		return 0;
	}
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(dir, sizeof(dir), "%s/switchroot.XXXXXX", dirname(self));
	if (!mkdtemp(dir)) {
		printf("FAIL setup: cannot create '%s'\n", dir);
		return 1;
	}
	snprintf(base, sizeof(base), "%s/root", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	RUN(test_switch);
	RUN(test_missing_init_refused_before_freeing);
	RUN(test_missing_mount_point_refused);
	RUN(test_failed_move_is_an_error);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("FAIL cleanup: cannot remove '%s'\n", dir);
	return UNIT_EXIT();
}
