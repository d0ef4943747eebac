/* devwait on a fake tree: <dir>/sys/class/block entries and <dir>/dev
 * nodes (plain files; /dev/null through a symlink for a character
 * device), with a fake devprobe_block linked in place of libblkid's. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devprobe.h"
#include "devwait.h"
#include "unit.h"

#define UUID_A "4f68bce3-e8cd-4db1-96e7-fbcaf984b709"
#define UUID_B "2c7357ed-ebd2-46d9-aec1-23d437ec2bf5"
#define TYPE_VAR "4d21b016-b534-45c2-a9fb-5c16e091fd2d"

struct fake {
	char name[32];
	char partuuid[40];
	char parttype[40];
	int fail_times;			/* fail this many probes first */
	int err;
	int probes;
	const char *appear;		/* create this entry at the first probe */
};

static struct fake fakes[400];
static size_t nfakes;
static char dir[4096], logpath[4200];

int devprobe_block(const char *path, struct devids *ids)
{
	const char *name = strrchr(path, '/') + 1;
	char p[4300];

	for (size_t i = 0; i < nfakes; i++) {
		struct fake *f = &fakes[i];

		if (strcmp(f->name, name))
			continue;
		f->probes++;
		if (f->appear && f->probes == 1) {
			snprintf(p, sizeof(p), "%s/sys/class/block/%s", dir, f->appear);
			mkdir(p, 0755);
		}
		if (f->fail_times > 0) {
			f->fail_times--;
			return f->err;
		}
		strcpy(ids->partuuid, f->partuuid);
		strcpy(ids->parttype, f->parttype);
		return 0;
	}
	return -ENODEV;
}

static void touch_dev(const char *name)
{
	char p[4300];
	int fd;

	snprintf(p, sizeof(p), "%s/sys/class/block/%s", dir, name);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/dev/%s", dir, name);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
}

static struct fake *add(const char *name, const char *partuuid, const char *parttype)
{
	struct fake *f = &fakes[nfakes++];

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->partuuid, sizeof(f->partuuid), "%s", partuuid);
	snprintf(f->parttype, sizeof(f->parttype), "%s", parttype);
	touch_dev(name);
	return f;
}

static void reset(void)
{
	char cmd[20000];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/sys' '%s/dev' && mkdir -p '%s/sys/class/block' '%s/dev'",
		 dir, dir, dir, dir);
	CHECK(system(cmd) == 0);
	nfakes = 0;
	CHECK(freopen(logpath, "w", stderr) != NULL);
}

/* What devwait logged since reset(). */
static int logged(const char *text)
{
	static char buf[1 << 16];
	FILE *f;
	size_t n;

	fflush(stderr);
	f = fopen(logpath, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, text) != NULL;
}

static void req(struct devwait_req *q, const char *what, const char *spec)
{
	memset(q, 0, sizeof(*q));
	q->what = what;
	CHECK(devspec_parse(spec, &q->spec) == 0);
}

static void test_found_by_partuuid_and_parttype(void)
{
	struct devwait_req q[2];

	reset();
	add("vda", "", "");
	add("vda1", UUID_B, "");
	add("vda2", UUID_A, TYPE_VAR);
	req(&q[0], "root", "PARTUUID=" UUID_A);
	req(&q[1], "state", "PARTTYPE=" TYPE_VAR);
	CHECK(devwait_all(dir, q, 2, 2) == 0);
	CHECK(q[0].found && !strcmp(q[0].path, "/dev/vda2"));
	CHECK(q[1].found && !strcmp(q[1].path, "/dev/vda2"));
	CHECK_STR(q[1].ids.parttype, TYPE_VAR);
}

/* A device whose probe fails (slow disk, conflicting signatures) is
 * probed again until it works. */
static void test_failed_probe_retried(void)
{
	struct devwait_req q;
	struct fake *f;

	reset();
	f = add("vda2", UUID_A, "");
	f->fail_times = 5;
	f->err = -EUCLEAN;
	req(&q, "root", "PARTUUID=" UUID_A);
	CHECK(devwait_all(dir, &q, 1, 3) == 0);
	CHECK(q.found && f->probes == 6);
}

static void test_failed_probe_listed_on_timeout(void)
{
	struct devwait_req q;
	struct fake *f;

	reset();
	f = add("vda2", UUID_A, "");
	f->fail_times = 1 << 30;
	f->err = -EUCLEAN;
	req(&q, "root", "PARTUUID=" UUID_A);
	CHECK(devwait_all(dir, &q, 1, 1) == -ETIMEDOUT);
	CHECK(!q.found && f->probes > 5);
	CHECK(logged("seen /dev/vda2: cannot probe it: conflicting signatures"));
	CHECK(logged("cannot find root 'PARTUUID=" UUID_A "': no such device after 1 s"));
}

/* A disk that shows up while we wait. */
static void test_late_device(void)
{
	struct devwait_req q;
	struct fake *f;

	reset();
	f = add("vda", "", "");
	f->appear = "vdb1";
	add("vdb1", UUID_B, "");
	req(&q, "verity hash", "PARTUUID=" UUID_B);
	CHECK(devwait_all(dir, &q, 1, 2) == 0);
	CHECK_STR(q.path, "/dev/vdb1");
}

static void test_duplicate_refused(void)
{
	struct devwait_req q;

	reset();
	add("vda2", UUID_A, "");
	add("vdb2", UUID_A, "");
	req(&q, "root", "PARTUUID=" UUID_A);
	CHECK(devwait_all(dir, &q, 1, 2) == -EEXIST);
	CHECK(logged("cannot pick root 'PARTUUID=" UUID_A "': both /dev/vd"));
	CHECK(logged("/dev/vda2") && logged("/dev/vdb2"));
}

/* More devices than the table holds: the one asked for is still found
 * (probed every scan), and the overflow is reported. */
static void test_many_devices(void)
{
	struct devwait_req q;
	char name[32];

	reset();
	for (int i = 0; i < DEVWAIT_TRACK_MAX + 40; i++) {
		snprintf(name, sizeof(name), "loop%d", i);
		add(name, i == DEVWAIT_TRACK_MAX + 30 ? UUID_B : "", "");
	}
	req(&q, "root", "PARTUUID=" UUID_B);
	CHECK(devwait_all(dir, &q, 1, 2) == 0);
	CHECK(q.found);
	CHECK(logged("more than 256 block devices"));
	req(&q, "root", "PARTUUID=" UUID_A);
	CHECK(devwait_all(dir, &q, 1, 1) == -ETIMEDOUT);
	CHECK(logged("seen 40 more block devices, not listed"));
}

/* A character device by node path: only a character device counts. */
static void test_char_device(void)
{
	struct devwait_req q;
	char p[4300];
	int fd;

	reset();
	req(&q, "TPM", "/dev/tpm0");
	q.kind = DEVWAIT_CHAR;
	snprintf(p, sizeof(p), "%s/dev/tpm0", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
	CHECK(devwait_all(dir, &q, 1, 1) == -ETIMEDOUT && !q.found);
	CHECK(logged("cannot find TPM 'path=/dev/tpm0'"));
	unlink(p);
	CHECK(symlink("/dev/null", p) == 0);
	CHECK(devwait_all(dir, &q, 1, 1) == 0);
	CHECK(q.found && !strcmp(q.path, "/dev/tpm0"));
}

int main(int argc, char **argv)
{
	char self[4096], cmd[4300];
	int failed;

	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(dir, sizeof(dir), "%s/devwait.XXXXXX", dirname(self));
	if (!mkdtemp(dir)) {
		printf("FAIL setup: cannot create '%s'\n", dir);
		return 1;
	}
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	RUN(test_found_by_partuuid_and_parttype);
	RUN(test_failed_probe_retried);
	RUN(test_failed_probe_listed_on_timeout);
	RUN(test_late_device);
	RUN(test_duplicate_refused);
	RUN(test_many_devices);
	RUN(test_char_device);
	failed = UNIT_EXIT();
	if (!failed) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		failed = system(cmd) != 0;
	}
	return failed;
}
