#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <libdevmapper.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "verity.h"
#include "veritysb.h"
#include "veritytab.h"

/* The kernel version of a device-mapper target, e.g. verity 1.8.1. */
static int target_version(const char *name, uint32_t ret[3])
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_LIST_VERSIONS);
	struct dm_versions *v, *last;
	int r = -ENOENT;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		return -ENODEV;
	}
	v = dm_task_get_versions(dmt);
	do {
		last = v;
		if (!strcmp(v->name, name)) {
			memcpy(ret, v->version, 3 * sizeof(uint32_t));
			r = 0;
			break;
		}
		v = (struct dm_versions *)((char *)v + v->next);
	} while (last != v);
	dm_task_destroy(dmt);
	return r;
}

static const uint32_t policy_flags[] = {
	[VERITY_CORRUPTION_EIO] = 0,
	[VERITY_CORRUPTION_RESTART] = CRYPT_ACTIVATE_RESTART_ON_CORRUPTION,
	[VERITY_CORRUPTION_PANIC] = CRYPT_ACTIVATE_PANIC_ON_CORRUPTION,
};

/* restart_on_corruption came with dm-verity 1.3, panic_on_corruption
 * with 1.7: an older kernel would refuse the table, or worse. From 1.9
 * (Linux 6.0) blocks whose hashes are cached are verified in a tasklet
 * instead of a workqueue: less latency on every read of the root, same
 * checks (the kernel falls back to the workqueue for the rest); unless
 * verity.tasklets = off. */
int verity_check_policy(enum verity_corruption policy,
			enum verity_tasklets want_tasklets, uint32_t *ret_flags)
{
	static const uint32_t need_minor[] = { 0, 3, 7 };
	static const char *const names[] = { "eio", "restart", "panic" };
	uint32_t v[3];
	bool tasklets;
	int r = target_version("verity", v);

	if (r < 0) {
		log_err("verity", "cannot find the 'verity' device-mapper target: %s (is dm-verity in 'modules'?)",
			strerror(-r));
		return r;
	}
	tasklets = want_tasklets == VERITY_TASKLETS_AUTO &&
		   (v[0] > 1 || (v[0] == 1 && v[1] >= 9));
	log_info("verity", "dm-verity target %u.%u.%u%s", v[0], v[1], v[2],
		 tasklets ? ", verifying in tasklets" : "");
	if (v[0] == 1 && v[1] < need_minor[policy]) {
		log_err("verity", "cannot use corruption policy '%s': dm-verity %u.%u.%u lacks it (needs 1.%u)",
			names[policy], v[0], v[1], v[2], need_minor[policy]);
		return -EOPNOTSUPP;
	}
	*ret_flags = CRYPT_ACTIVATE_READONLY | policy_flags[policy] |
		     (tasklets ? CRYPT_ACTIVATE_TASKLETS : 0);
	return 0;
}

/* The hash device's superblock and tree, checked before the kernel sees
 * them: the root hash must be the top block's hash (a wrong one is
 * reported here, whatever the corruption policy: with restart or panic
 * the kernel would not tell us), and every hash block must match its
 * parent, so a tampered tree or superblock stops the boot now instead of
 * failing reads later. */
struct tree {
	struct veritysb sb;
	struct veritysb_geometry g;
	dev_t data_rdev, hash_rdev;
};

static int device_size(int fd, uint64_t *ret)
{
	off_t end = lseek(fd, 0, SEEK_END);

	if (end < 0)
		return -errno;
	*ret = (uint64_t)end;
	return 0;
}

static int open_dev(const char *path, int *ret_fd, dev_t *ret_rdev,
		    uint64_t *ret_size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || device_size(fd, ret_size) < 0)
		r = -errno;
	if (r < 0) {
		log_err("verity", "cannot open '%s': %s", path, strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	*ret_fd = fd;
	*ret_rdev = st.st_rdev;
	return 0;
}

static int read_superblock(int fd, const char *hash_dev, uint64_t data_size,
			   uint64_t hash_size, struct tree *t)
{
	uint8_t buf[VERITYSB_SIZE];
	struct veritysb_error err = { "" };
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	int r;

	if (n != (ssize_t)sizeof(buf)) {
		r = n < 0 ? -errno : -EIO;
		log_err("verity", "cannot read the verity superblock of '%s': %s",
			hash_dev, strerror(-r));
		return r;
	}
	r = veritysb_parse(buf, sizeof(buf), &t->sb, &err);
	if (r == 0)
		r = veritysb_geometry(&t->sb, data_size, hash_size, &t->g, &err);
	if (r < 0)
		log_err("verity", "cannot use the verity superblock of '%s': %s",
			hash_dev, err.msg);
	return r;
}

static int check_root_hash(int fd, const struct tree *t, const char *data_dev,
			   const char *hash_dev, const struct roothash *h)
{
	char want[2 * ROOTHASH_MAX + 1], got[2 * ROOTHASH_MAX + 1];
	struct roothash top;
	int r = veritysb_top_hash(fd, &t->sb, &t->g, &top);

	if (r < 0) {
		log_err("verity", "cannot read the hash tree on '%s': %s", hash_dev,
			strerror(-r));
		return r;
	}
	if (top.len == h->len && !memcmp(top.bytes, h->bytes, h->len))
		return 0;
	roothash_hex(h, want, sizeof(want));
	roothash_hex(&top, got, sizeof(got));
	log_err("verity", "cannot verify root: expected root hash %s, hash tree on '%s' (data '%s') has %s",
		want, hash_dev, data_dev, got);
	return -EBADMSG;
}

static int check_tree(int fd, const struct tree *t, const char *hash_dev)
{
	struct veritysb_error err = { "" };
	int r = veritysb_check_tree(fd, &t->sb, &t->g, &err);

	if (r < 0)
		log_err("verity", "cannot verify the hash tree on '%s': %s",
			hash_dev, err.msg);
	return r;
}

static int check_devices(const char *data_dev, const char *hash_dev,
			 const struct roothash *h, struct tree *t)
{
	uint64_t data_size, hash_size;
	int data_fd, hash_fd, r;

	r = open_dev(data_dev, &data_fd, &t->data_rdev, &data_size);
	if (r < 0)
		return r;
	close(data_fd);
	r = open_dev(hash_dev, &hash_fd, &t->hash_rdev, &hash_size);
	if (r < 0)
		return r;
	r = read_superblock(hash_fd, hash_dev, data_size, hash_size, t);
	if (r == 0)
		r = check_root_hash(hash_fd, t, data_dev, hash_dev, h);
	if (r == 0)
		r = check_tree(hash_fd, t, hash_dev);
	close(hash_fd);
	return r;
}

/* What the kernel's table must say after activation. */
static void expected_table(const struct tree *t, const struct roothash *h,
			   uint32_t flags, struct veritytab *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->version = t->sb.hash_type;
	ret->data_major = major(t->data_rdev);
	ret->data_minor = minor(t->data_rdev);
	ret->hash_major = major(t->hash_rdev);
	ret->hash_minor = minor(t->hash_rdev);
	ret->data_block_size = t->sb.data_block_size;
	ret->hash_block_size = t->sb.hash_block_size;
	ret->data_blocks = t->sb.data_blocks;
	ret->hash_start = t->g.hash_start;
	memcpy(ret->algorithm, t->sb.algorithm, sizeof(ret->algorithm));
	ret->root = *h;
	ret->salt_size = t->sb.salt_size;
	memcpy(ret->salt, t->sb.salt, t->sb.salt_size);
	ret->options = (flags & CRYPT_ACTIVATE_RESTART_ON_CORRUPTION ? VERITYTAB_RESTART : 0) |
		       (flags & CRYPT_ACTIVATE_PANIC_ON_CORRUPTION ? VERITYTAB_PANIC : 0) |
		       (flags & CRYPT_ACTIVATE_TASKLETS ? VERITYTAB_TASKLET : 0);
}

/* One target of VERITY_NAME: its type and parameters, from a status or
 * table task. */
static int read_target(int task, char *type, size_t type_size, char *params,
		       size_t params_size)
{
	struct dm_task *dmt = dm_task_create(task);
	char *t = NULL, *p = NULL;
	uint64_t start, length;
	int r = -EIO;

	if (!dmt)
		return -ENOMEM;
	if (dm_task_set_name(dmt, VERITY_NAME) && dm_task_run(dmt)) {
		if (dm_get_next_target(dmt, NULL, &start, &length, &t, &p) == NULL &&
		    t && p && strlen(t) < type_size && strlen(p) < params_size) {
			strcpy(type, t);
			strcpy(params, p);
			r = 0;
		}
	}
	dm_task_destroy(dmt);
	return r;
}

/* The mapping the kernel now runs must be one verity target that has seen
 * no corruption ("V"), with the table we asked for: same devices, root
 * hash, tree and corruption flags, and nothing that weakens it. */
static int check_active(const struct veritytab *want)
{
	static char params[4096];
	struct veritytab got;
	char type[32];
	const char *field = "table";
	int r;

	r = read_target(DM_DEVICE_STATUS, type, sizeof(type), params, sizeof(params));
	if (r < 0 || strcmp(type, "verity") || params[0] != 'V') {
		log_err("verity", "cannot confirm '%s' is verified: target '%s', status '%s'",
			VERITY_NAME, r < 0 ? "none" : type, r < 0 ? "none" : params);
		return -EIO;
	}
	r = read_target(DM_DEVICE_TABLE, type, sizeof(type), params, sizeof(params));
	if (r == 0)
		r = veritytab_parse(params, &got);
	if (r == 0)
		r = veritytab_compare(&got, want, &field);
	if (r < 0)
		log_err("verity", "cannot confirm the table of '%s': %s differs from what was asked (table '%s')",
			VERITY_NAME, field, params);
	return r < 0 ? -EBADMSG : 0;
}

static void log_from_cryptsetup(int level, const char *msg, void *userdata)
{
	(void)userdata;
	if (level == CRYPT_LOG_ERROR)
		log_err("verity", "libcryptsetup: %.*s", (int)strcspn(msg, "\n"), msg);
}

int verity_open(const char *data_dev, const char *hash_dev,
		const struct roothash *h, uint32_t flags)
{
	static struct tree t;
	struct veritytab want;
	struct crypt_device *cd = NULL;
	int r;

	r = check_devices(data_dev, hash_dev, h, &t);
	if (r < 0)
		return r;
	crypt_set_log_callback(NULL, log_from_cryptsetup, NULL);
	r = crypt_init_data_device(&cd, hash_dev, data_dev);
	if (r == 0)
		r = crypt_load(cd, CRYPT_VERITY, NULL);
	if (r < 0) {
		log_err("verity", "cannot load the verity superblock of '%s': %s",
			hash_dev, strerror(-r));
		goto out_free;
	}
	r = crypt_activate_by_volume_key(cd, VERITY_NAME, (const char *)h->bytes,
					 h->len, flags);
	if (r < 0) {
		log_err("verity", "cannot activate '%s' from '%s' and '%s': %s",
			VERITY_NAME, data_dev, hash_dev, strerror(-r));
		goto out_free;
	}
	expected_table(&t, h, flags, &want);
	r = check_active(&want);
out_free:
	crypt_free(cd);
	return r;
}
