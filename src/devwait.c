#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devprobe.h"
#include "devwait.h"
#include "log.h"
#include "util.h"

#define POLL_MS 20
#define PROGRESS_MS 5000
#define PATH_MAX_LEN 512

/* A block device probed once and for all, or that failed to probe (err,
 * probed again on the next scan). */
struct seen {
	struct devids ids;
	int err;
};

struct scan_state {
	const char *root;
	struct seen dev[DEVWAIT_TRACK_MAX];
	size_t n;
	unsigned untracked;		/* devices beyond the table, last scan */
	bool overflow_logged;
	int dup;			/* request index with two matches, or -1 */
	char dup_other[48];
};

static struct seen *find_seen(struct scan_state *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->dev[i].ids.name, name))
			return &s->dev[i];
	return NULL;
}

static void match_block(struct scan_state *s, struct devwait_req *reqs,
			size_t n, const struct devids *ids)
{
	for (size_t i = 0; i < n; i++) {
		struct devwait_req *q = &reqs[i];

		if (q->kind != DEVWAIT_BLOCK || !devspec_match(&q->spec, ids))
			continue;
		if (q->found && strcmp(q->ids.name, ids->name)) {
			if (s->dup < 0) {
				s->dup = (int)i;
				snprintf(s->dup_other, sizeof(s->dup_other), "/dev/%s", ids->name);
			}
			continue;
		}
		if (q->found)
			continue;
		q->found = true;
		q->ids = *ids;
		snprintf(q->path, sizeof(q->path), "/dev/%s", ids->name);
		log_info("wait", "found %s at %s", q->what, q->path);
	}
}

/* Probe one device into ids; a node devtmpfs has not made yet is -ENOENT. */
static int probe(const struct scan_state *s, const char *name, struct devids *ids)
{
	char path[PATH_MAX_LEN];

	memset(ids, 0, sizeof(*ids));
	strcpy(ids->name, name);
	snprintf(path, sizeof(path), "%s/dev/%s", s->root, name);
	if (access(path, F_OK) < 0)
		return -errno;
	return devprobe_block(path, ids);
}

/* A device the table has no room for is still probed and matched, on
 * every scan: the cap costs time, never a device. */
static void scan_one(struct scan_state *s, struct devwait_req *reqs, size_t n,
		     const char *name)
{
	struct seen *d = find_seen(s, name), spare;

	if (d && d->err == 0)
		return;
	if (!d && s->n < DEVWAIT_TRACK_MAX)
		d = &s->dev[s->n++];
	if (!d) {
		d = &spare;
		s->untracked++;
	}
	d->err = probe(s, name, &d->ids);
	if (d->err == 0)
		match_block(s, reqs, n, &d->ids);
}

static int scan_block(struct scan_state *s, struct devwait_req *reqs, size_t n)
{
	char dir[PATH_MAX_LEN];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/sys/class/block", s->root);
	d = opendir(dir);
	if (!d && errno == ENOENT)
		return 0;
	if (!d) {
		int r = -errno;

		log_err("wait", "cannot read '%s': %s", dir, strerror(-r));
		return r;
	}
	s->untracked = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (strlen(de->d_name) >= sizeof(s->dev[0].ids.name)) {
			log_warn("wait", "cannot probe '%s': name longer than %zu bytes",
				 de->d_name, sizeof(s->dev[0].ids.name) - 1);
			continue;
		}
		scan_one(s, reqs, n, de->d_name);
	}
	closedir(d);
	return 0;
}

static int scan_char(const struct scan_state *s, struct devwait_req *reqs, size_t n)
{
	char path[PATH_MAX_LEN];
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		struct devwait_req *q = &reqs[i];
		size_t len = strlen(q->spec.value);

		if (q->kind != DEVWAIT_CHAR || q->found)
			continue;
		if (len >= sizeof(q->path)) {
			log_err("wait", "cannot wait for %s '%s': path longer than %zu bytes",
				q->what, q->spec.value, sizeof(q->path) - 1);
			return -ENAMETOOLONG;
		}
		snprintf(path, sizeof(path), "%s%s", s->root, q->spec.value);
		if (stat(path, &st) < 0 || !S_ISCHR(st.st_mode))
			continue;
		q->found = true;
		memcpy(q->path, q->spec.value, len + 1);
		log_info("wait", "found %s at %s", q->what, q->path);
	}
	return 0;
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

static void log_seen(const struct scan_state *s)
{
	if (!s->n)
		log_err("wait", "no block device appeared: is the disk driver in 'modules' of sealroot.conf?");
	for (size_t i = 0; i < s->n; i++) {
		const struct devids *d = &s->dev[i].ids;

		if (s->dev[i].err)
			log_err("wait", "seen /dev/%s: cannot probe it: %s", d->name,
				s->dev[i].err == -EUCLEAN ? "conflicting signatures" :
				strerror(-s->dev[i].err));
		else
			log_err("wait", "seen /dev/%s: PARTUUID=%s PARTLABEL=%s PARTTYPE=%s UUID=%s LABEL=%s TYPE=%s",
				d->name, d->partuuid, d->partlabel, d->parttype,
				d->uuid, d->label, d->type);
	}
	if (s->untracked)
		log_err("wait", "seen %u more block devices, not listed (more than %d)",
			s->untracked, DEVWAIT_TRACK_MAX);
}

static void log_timeout(const struct scan_state *s, const struct devwait_req *reqs,
			size_t n, unsigned timeout_s)
{
	for (size_t i = 0; i < n; i++)
		if (!reqs[i].found)
			log_err("wait", "cannot find %s '%s=%s': no such device after %u s",
				reqs[i].what, devspec_tag_name(reqs[i].spec.tag),
				reqs[i].spec.value, timeout_s);
	log_seen(s);
}

static void log_overflow(struct scan_state *s)
{
	if (!s->untracked || s->overflow_logged)
		return;
	s->overflow_logged = true;
	log_warn("wait", "cannot track '%s/sys/class/block': more than %d block devices; probing the other %u on every scan",
		 s->root, DEVWAIT_TRACK_MAX, s->untracked);
}

static int scan(struct scan_state *s, struct devwait_req *reqs, size_t n)
{
	const struct devwait_req *q;
	int r = scan_block(s, reqs, n);

	if (r == 0)
		r = scan_char(s, reqs, n);
	log_overflow(s);
	if (s->dup < 0)
		return r;
	q = &reqs[s->dup];
	log_err("wait", "cannot pick %s '%s=%s': both %s and %s match",
		q->what, devspec_tag_name(q->spec.tag), q->spec.value, q->path,
		s->dup_other);
	return -EEXIST;
}

int devwait_all(const char *root, struct devwait_req *reqs, size_t n,
		unsigned timeout_s)
{
	static struct scan_state s;
	uint64_t start = now_ms(), next_progress = start + PROGRESS_MS, t;
	int r;

	memset(&s, 0, sizeof(s));
	s.root = root;
	s.dup = -1;
	for (;;) {
		r = scan(&s, reqs, n);
		if (r < 0)
			return r;
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
	log_timeout(&s, reqs, n, timeout_s);
	return -ETIMEDOUT;
}
