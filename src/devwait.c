#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devwait.h"
#include "log.h"
#include "util.h"

#define SEEN_MAX 128
#define POLL_MS 20
#define PROGRESS_MS 5000

struct seen {
	struct devids ids[SEEN_MAX];
	size_t n;
};

/* An identifier that does not fit is left empty, so it can never match:
 * a cut-off UUID must not be mistaken for a shorter one. */
static void copy_id(char *dst, size_t size, blkid_probe pr, const char *name)
{
	const char *v = NULL;

	dst[0] = 0;
	if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v &&
	    strlen(v) < size)
		strcpy(dst, v);
}

int devwait_probe(const char *path, struct devids *ids)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);

	if (!pr)
		return errno ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL |
					  BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	blkid_do_safeprobe(pr);
	copy_id(ids->partuuid, sizeof(ids->partuuid), pr, "PART_ENTRY_UUID");
	copy_id(ids->partlabel, sizeof(ids->partlabel), pr, "PART_ENTRY_NAME");
	copy_id(ids->uuid, sizeof(ids->uuid), pr, "UUID");
	copy_id(ids->label, sizeof(ids->label), pr, "LABEL");
	copy_id(ids->type, sizeof(ids->type), pr, "TYPE");
	if (!ids->type[0])
		copy_id(ids->type, sizeof(ids->type), pr, "PTTYPE");
	blkid_free_probe(pr);
	return 0;
}

static bool already_seen(const struct seen *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->ids[i].name, name))
			return true;
	return false;
}

static void match_requests(struct devwait_req *reqs, size_t n,
			   const struct devids *ids)
{
	for (size_t i = 0; i < n; i++) {
		if (reqs[i].found || !devspec_match(&reqs[i].spec, ids))
			continue;
		reqs[i].found = true;
		reqs[i].ids = *ids;
		snprintf(reqs[i].path, sizeof(reqs[i].path), "/dev/%s", ids->name);
		log_info("wait", "found %s at %s", reqs[i].what, reqs[i].path);
	}
}

/* Probe the block devices that appeared since the last scan. A device
 * whose node devtmpfs has not created yet is retried on the next scan. */
static void scan(struct seen *s, struct devwait_req *reqs, size_t n)
{
	struct dirent *de;
	DIR *d = opendir("/sys/class/block");
	char path[48];

	if (!d)
		return;
	while ((de = readdir(d)) && s->n < SEEN_MAX) {
		struct devids *ids = &s->ids[s->n];

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(ids->name) ||
		    already_seen(s, de->d_name))
			continue;
		memset(ids, 0, sizeof(*ids));
		strcpy(ids->name, de->d_name);
		snprintf(path, sizeof(path), "/dev/%s", ids->name);
		if (access(path, F_OK) < 0 || devwait_probe(path, ids) < 0)
			continue;
		s->n++;
		match_requests(reqs, n, ids);
	}
	closedir(d);
}

static size_t count_missing(const struct devwait_req *reqs, size_t n)
{
	size_t missing = 0;

	for (size_t i = 0; i < n; i++)
		missing += !reqs[i].found;
	return missing;
}

static void log_missing(const struct devwait_req *reqs, size_t n,
			unsigned waited_s, unsigned timeout_s)
{
	for (size_t i = 0; i < n; i++)
		if (!reqs[i].found)
			log_notice("wait", "waiting for %s %s=%s (%u s of %u s)",
				   reqs[i].what, devspec_tag_name(reqs[i].spec.tag),
				   reqs[i].spec.value, waited_s, timeout_s);
}

static void log_seen(const struct seen *s)
{
	if (!s->n)
		log_err("wait", "no block device appeared: is the disk driver in 'modules' of sealroot.conf?");
	for (size_t i = 0; i < s->n; i++) {
		const struct devids *d = &s->ids[i];

		log_err("wait", "seen /dev/%s: PARTUUID=%s PARTLABEL=%s UUID=%s LABEL=%s TYPE=%s",
			d->name, d->partuuid, d->partlabel, d->uuid, d->label,
			d->type);
	}
}

int devwait_all(struct devwait_req *reqs, size_t n, unsigned timeout_s)
{
	static struct seen seen;
	uint64_t start = now_ms(), next_progress = start + PROGRESS_MS, t;

	seen.n = 0;
	for (;;) {
		scan(&seen, reqs, n);
		if (!count_missing(reqs, n))
			return 0;
		t = now_ms();
		if (t - start >= (uint64_t)timeout_s * 1000)
			break;
		if (t >= next_progress) {
			log_missing(reqs, n, (unsigned)((t - start) / 1000), timeout_s);
			next_progress += PROGRESS_MS;
		}
		usleep(POLL_MS * 1000);
	}
	for (size_t i = 0; i < n; i++)
		if (!reqs[i].found)
			log_err("wait", "cannot find %s '%s=%s': no such device after %u s",
				reqs[i].what, devspec_tag_name(reqs[i].spec.tag),
				reqs[i].spec.value, timeout_s);
	log_seen(&seen);
	return -ETIMEDOUT;
}
