#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <libdevmapper.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "verity.h"

#define VERITY_SB_SIZE 512		/* on-disk superblock, format 1 */
#define BLOCK_MAX 65536

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

static int read_block(const char *path, uint64_t offset, uint8_t *buf,
		      size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int r = 0;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, size, (off_t)offset);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != size)
		r = -EIO;
	close(fd);
	return r;
}

/* Recompute the root hash from the top block of the hash tree: a wrong
 * root hash is reported here, before the kernel sees it, and whatever
 * the corruption policy (with restart or panic, the kernel would not
 * tell us). Format 1 hashes salt + block, format 0 block + salt. */
static int top_hash(const char *hash_dev, const struct crypt_params_verity *p,
		    struct roothash *ret)
{
	static uint8_t block[BLOCK_MAX];
	const EVP_MD *md = EVP_get_digestbyname(p->hash_name);
	uint64_t offset = p->hash_area_offset + VERITY_SB_SIZE;
	unsigned int len = 0;
	EVP_MD_CTX *ctx;
	int r, ok;

	if (!md || (size_t)EVP_MD_get_size(md) > ROOTHASH_MAX ||
	    p->hash_block_size > BLOCK_MAX || p->hash_block_size == 0)
		return -EOPNOTSUPP;
	offset = (offset + p->hash_block_size - 1) / p->hash_block_size *
		 p->hash_block_size;
	r = read_block(hash_dev, offset, block, p->hash_block_size);
	if (r < 0)
		return r;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(ctx, md, NULL) &&
	     (p->hash_type == 0 || EVP_DigestUpdate(ctx, p->salt, p->salt_size)) &&
	     EVP_DigestUpdate(ctx, block, p->hash_block_size) &&
	     (p->hash_type != 0 || EVP_DigestUpdate(ctx, p->salt, p->salt_size)) &&
	     EVP_DigestFinal_ex(ctx, ret->bytes, &len);
	EVP_MD_CTX_free(ctx);
	ret->len = len;
	return ok ? 0 : -EIO;
}

static int check_root_hash(struct crypt_device *cd, const char *data_dev,
			   const char *hash_dev, const struct roothash *h)
{
	struct crypt_params_verity p;
	struct roothash top;
	char want[2 * ROOTHASH_MAX + 1], got[2 * ROOTHASH_MAX + 1];
	int r;

	r = crypt_get_verity_info(cd, &p);
	if (r == 0)
		r = top_hash(hash_dev, &p, &top);
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

/* The table the kernel now runs must be a verity target that has seen no
 * corruption ("V"): what we configured is what is enforced. */
static int check_active(void)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_STATUS);
	char *type = NULL, *params = NULL;
	uint64_t start, length;
	int r = -EIO;

	if (!dmt)
		return -ENOMEM;
	if (dm_task_set_name(dmt, VERITY_NAME) && dm_task_run(dmt)) {
		dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
		if (type && !strcmp(type, "verity") && params && params[0] == 'V')
			r = 0;
	}
	if (r < 0)
		log_err("verity", "cannot confirm '%s' is verified: target '%s', status '%s'",
			VERITY_NAME, type ? type : "none", params ? params : "none");
	dm_task_destroy(dmt);
	return r;
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
	struct crypt_device *cd = NULL;
	int r;

	crypt_set_log_callback(NULL, log_from_cryptsetup, NULL);
	r = crypt_init_data_device(&cd, hash_dev, data_dev);
	if (r == 0)
		r = crypt_load(cd, CRYPT_VERITY, NULL);
	if (r < 0) {
		log_err("verity", "cannot load the verity superblock of '%s': %s",
			hash_dev, strerror(-r));
		goto out_free;
	}
	r = check_root_hash(cd, data_dev, hash_dev, h);
	if (r < 0)
		goto out_free;
	r = crypt_activate_by_volume_key(cd, VERITY_NAME, (const char *)h->bytes,
					 h->len, flags);
	if (r < 0) {
		log_err("verity", "cannot activate '%s' from '%s' and '%s': %s",
			VERITY_NAME, data_dev, hash_dev, strerror(-r));
		goto out_free;
	}
	r = check_active();
out_free:
	crypt_free(cd);
	return r;
}
