#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot.h"
#include "devprobe.h"
#include "log.h"
#include "modules.h"
#include "plan.h"
#include "switchroot.h"
#include "util.h"

#define CMDLINE_MAX 4096
#define DEVKMSG_PATH "/proc/sys/kernel/printk_devkmsg"
#define PANIC_PATH "/proc/sys/kernel/panic"

extern char **environ;

/* What to check when a stage fails, for the person at the console. */
static const struct {
	const char *stage;
	const char *hint;
} hints[] = {
	{ "early", "that the kernel has devtmpfs, proc, sysfs, securityfs and tmpfs" },
	{ "config", "/etc/sealroot.conf (policies/ at build time) and the kernel command line" },
	{ "modules", "that the packed modules belong to this kernel and are signed by its key" },
	{ "wait", "the root device spec (root in sealroot.conf or root= on the kernel command line; with roothash=, the partitions its halves name or verity.data/verity.hash) and that the disk driver is in 'modules'" },
	{ "verity", "that roothash= belongs to this root image and its hash partition, and that dm-verity is in 'modules'" },
	{ "mount", "root.fstype and root.options, and that the file system's module is in 'modules'" },
	{ "tpm", "that the TPM is enabled in the firmware and its driver is built in (tpm.timeout)" },
	{ "state", "the state partition ('state' in sealroot.conf) and the messages above: a volume that is neither blank nor sealroot's nor LUKS2 is never touched" },
	{ "recovery", "the recovery key, or why the TPM refused (the PCR values above: PCR 7 is the Secure Boot state)" },
	{ "evm", "that the kernel has EVM and encrypted keys, and the certificates in policies/keys/evm/ (the messages above)" },
	{ "ima", "policies/ima-policy (sealroot-imalint) and the certificates in policies/keys/ima/: the line the kernel rejected is named above" },
	{ "personalize", "state.factory (a directory of the root) and that the IMA policy appraises the state volume (state.fsuuid and its fsuuid=); a power cut here provisions again" },
	{ "barrier", "the TPM: the seal policy's PCRs must be extended before the booted system runs" },
	{ "switch_root", "that the root holds an executable init ('init' in sealroot.conf or init=)" },
};

static const char *hint_for(const char *stage)
{
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (!strcmp(hints[i].stage, stage))
			return hints[i].hint;
	return "the messages above";
}

static int mount_api(const char *src, const char *dir, const char *type,
		     unsigned long flags, const char *data)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		int r = -errno;

		log_err("early", "cannot create '%s': %s", dir, strerror(-r));
		return r;
	}
	if (mount(src, dir, type, flags, data) < 0 && errno != EBUSY) {
		int r = -errno;

		log_err("early", "cannot mount '%s' on '%s': %s", type, dir,
			strerror(-r));
		return r;
	}
	return 0;
}

static int open_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);

	if (fd < 0) {
		int r = -errno;

		log_err("early", "cannot open '/dev/console': %s", strerror(-r));
		return r;
	}
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
	return 0;
}

/* kmsg limits writers to a burst of ten lines per 5 s by default: lift
 * that while we log, and restore the default before handing over. The
 * sysctl takes the word only with its newline ("on\n"; "on" alone is
 * EINVAL, and the limit silently stays). */
static void set_devkmsg(const char *mode)
{
	char line[16];
	int fd = open(DEVKMSG_PATH, O_WRONLY | O_CLOEXEC), n;

	n = snprintf(line, sizeof(line), "%s\n", mode);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		log_warn("early", "cannot write '%s' to '%s': %s: messages may be rate-limited",
			 mode, DEVKMSG_PATH, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* The kernel's answer to a crash of PID 1 (or of a library inside it) is
 * a panic, and a kernel panic waits forever unless kernel.panic says
 * otherwise: set it to the configured failure policy, so a crash ends as
 * a fatal error would (reboot after failure.delay; halt stays halted: the
 * kernel cannot power off from a panic). Restored before init runs. */
static char panic_saved[24];

static int write_panic(const char *value)
{
	int fd = open(PANIC_PATH, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		r = -EIO;
	close(fd);
	return r;
}

static void panic_set_timeout(const char *stage, const struct config *cfg)
{
	char value[16];
	int r;

	if (cfg->failure_action == FAILURE_HALT)
		snprintf(value, sizeof(value), "0");
	else if (cfg->failure_delay == 0)
		snprintf(value, sizeof(value), "-1");
	else
		snprintf(value, sizeof(value), "%u", cfg->failure_delay);
	r = write_panic(value);
	if (r < 0)
		log_warn(stage, "cannot write '%s': %s", PANIC_PATH, strerror(-r));
}

static void panic_save(void)
{
	size_t len = 0;

	if (read_file(PANIC_PATH, panic_saved, sizeof(panic_saved) - 1, &len) == 0)
		panic_saved[len] = 0;
}

static void panic_restore(void)
{
	if (panic_saved[0])
		(void)write_panic(panic_saved);
}

int boot_early(struct boot *b)
{
	const unsigned long nosuid_nodev = MS_NOSUID | MS_NODEV;
	int r;

	umask(022);
	r = mount_api("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	if (r == 0)
		r = open_console();
	if (r == 0)
		r = mount_api("proc", "/proc", "proc", nosuid_nodev | MS_NOEXEC, NULL);
	if (r == 0) {
		r = log_open_kmsg();
		if (r < 0)
			log_err("early", "cannot open '/dev/kmsg': %s", strerror(-r));
	}
	if (r == 0) {
		set_devkmsg("on");
		panic_save();
		panic_set_timeout("early", &b->cfg);
	}
	if (r == 0)
		r = mount_api("sysfs", "/sys", "sysfs", nosuid_nodev | MS_NOEXEC, NULL);
	if (r == 0)
		r = mount_api("securityfs", "/sys/kernel/security", "securityfs",
			      nosuid_nodev | MS_NOEXEC, NULL);
	if (r == 0)
		r = mount_api("tmpfs", "/run", "tmpfs", nosuid_nodev, "mode=0755");
	return r;
}

static int log_config_error(const char *source, const struct config_error *err)
{
	if (err->line)
		log_err("config", "cannot parse '%s': line %u: %s", source,
			err->line, err->msg);
	else
		log_err("config", "cannot parse '%s': %s", source, err->msg);
	return -EINVAL;
}

static int read_cmdline(char *buf, size_t size)
{
	size_t len = 0;
	int r = read_file("/proc/cmdline", buf, size - 1, &len);

	if (r < 0) {
		log_err("config", "cannot read '/proc/cmdline': %s", strerror(-r));
		return r;
	}
	buf[len] = 0;
	return 0;
}

/* The plan (plan.h) is what sealroot-lint checked at build time; here it
 * becomes the requests the bounded wait fills in. */
static int plan_to_boot(struct boot *b)
{
	struct config_error err = { 0 };
	struct plan p;
	int r = plan_devices(&b->cfg, &p, &err);

	if (r < 0) {
		log_err("config", "cannot plan 'root devices': %s", err.msg);
		return r;
	}
	b->verity = p.verity;
	b->roothash = p.roothash;
	b->ndevs = p.ndevs;
	b->state = p.state;
	for (size_t i = 0; i < p.ndevs; i++) {
		b->devs[i].what = p.devs[i].what;
		b->devs[i].spec = p.devs[i].spec;
	}
	r = config_pcr_mask(b->cfg.tpm_pcrs, &b->pcr_mask);
	if (r < 0) {
		log_err("config", "cannot use tpm.pcrs '%s'", b->cfg.tpm_pcrs);
		return r;
	}
	if (!p.verity)
		log_warn("config", "root '%s' is not verified (root.verity = optional, mode = development)",
			 b->cfg.root);
	return 0;
}

/* The parsers write b->cfg only on success: a file that fails leaves the
 * defaults boot_start set, a command line that fails leaves the file's
 * settings, so the failure policy the integrator signed still applies. */
static int parse_config(struct boot *b)
{
	static char cmdline[CMDLINE_MAX];
	struct config_error err = { 0 };
	int r;

	r = config_parse_file(&b->cfg, CONFIG_PATH, &err);
	if (r == -EINVAL)
		return log_config_error(CONFIG_PATH, &err);
	if (r < 0 && r != -ENOENT) {
		log_err("config", "cannot read '%s': %s", CONFIG_PATH, strerror(-r));
		return r;
	}
	panic_set_timeout("config", &b->cfg);
	r = read_cmdline(cmdline, sizeof(cmdline));
	if (r < 0)
		return r;
	if (config_parse_cmdline(&b->cfg, cmdline, &err) < 0)
		return log_config_error("/proc/cmdline", &err);
	panic_set_timeout("config", &b->cfg);
	return plan_to_boot(b);
}

int boot_config(struct boot *b)
{
	int r = parse_config(b);

	if (r == 0 && boot_has_state(b))
		boot_rng_warmup(b);
	return r;
}

int boot_modules(struct boot *b)
{
	unsigned count = 0;
	int r;

	(void)b;
	r = modules_load_all(MODULES_ORDER_PATH, &count);
	if (r == 0)
		log_info("modules", "loaded %u modules", count);
	return r;
}

int boot_wait(struct boot *b)
{
	return devwait_all("", b->devs, b->ndevs, b->cfg.root_timeout);
}

int boot_verity(struct boot *b)
{
	uint32_t flags = 0;
	int r;

	if (!b->verity) {
		snprintf(b->root_path, sizeof(b->root_path), "%s", b->devs[0].path);
		b->root_ids = b->devs[0].ids;
		return 0;
	}
	r = verity_check_policy(b->cfg.verity_corruption,
				b->cfg.verity_tasklets, &flags);
	if (r == 0)
		r = verity_open(b->devs[0].path, b->devs[1].path, &b->roothash, flags);
	if (r < 0)
		return r;
	snprintf(b->root_path, sizeof(b->root_path), "/dev/mapper/%s", VERITY_NAME);
	log_info("verity", "root verified: %s from %s and %s", b->root_path,
		 b->devs[0].path, b->devs[1].path);
	return devprobe_block(b->root_path, &b->root_ids);
}

/* With root.fstype=auto the probed type is used, but only a type we
 * support for a read-only root. */
static int pick_fstype(struct boot *b)
{
	const char *t = b->cfg.root_fstype;

	if (!strcmp(t, "auto"))
		t = b->root_ids.type;
	if (!config_root_fstype_supported(t)) {
		log_err("mount", "cannot mount '%s': file system type '%s' is not ext4, erofs or squashfs",
			b->root_path, t);
		return -EMEDIUMTYPE;
	}
	snprintf(b->root_fstype, sizeof(b->root_fstype), "%s", t);
	return 0;
}

/* The file system's modules are packed apart (fs-<type>.order) and
 * loaded only for the type the root (or the state volume) has. */
int boot_load_fs_modules(const char *stage, const char *fstype)
{
	char path[64];
	unsigned count = 0;
	int r;

	snprintf(path, sizeof(path), MODULES_DIR "/fs-%s.order", fstype);
	r = modules_load_all(path, &count);
	if (r == 0 && count)
		log_info(stage, "loaded %u modules for %s", count, fstype);
	return r;
}

/* A boot that fails after the mount (no init on the root, say) leaves
 * no file system of the disk mounted for a development shell to use. */
static void unmount_staged_root(struct boot *b)
{
	(void)b;
	if (umount2(SWITCHROOT_STAGING, MNT_DETACH) < 0)
		log_warn("cleanup", "cannot unmount '%s': %s", SWITCHROOT_STAGING,
			 strerror(errno));
}

int boot_mount(struct boot *b)
{
	int r = pick_fstype(b);

	if (r == 0)
		r = boot_load_fs_modules("mount", b->root_fstype);
	if (r == 0)
		r = switchroot_mount(b->root_path, b->root_fstype,
				     b->cfg.root_options, SWITCHROOT_STAGING);
	if (r == 0)
		r = boot_defer(b, "unmount the new root", unmount_staged_root);
	return r;
}

/* VmHWM of /proc/self/status, in kB. */
static int peak_memory_kb(unsigned long *ret_kb)
{
	char buf[2048];
	size_t len = 0;
	int r;

	r = read_file("/proc/self/status", buf, sizeof(buf) - 1, &len);
	if (r < 0)
		return r;
	buf[len] = 0;
	return status_field_kb(buf, "VmHWM", ret_kb);
}

/* The stage table feeds the summary line; it is sized for every stage
 * main runs, so a full table is a programming error, reported as one. */
static int record_stage(struct boot *b, const char *name, uint64_t start)
{
	if (b->nstages >= BOOT_STAGES_MAX) {
		log_err(name, "cannot record stage '%s': the stage table holds %d",
			name, BOOT_STAGES_MAX);
		return -ENOBUFS;
	}
	b->stages[b->nstages].name = name;
	b->stages[b->nstages++].ms = now_ms() - start;
	return 0;
}

/* CPU time splits the wall time: user is our own code, system the kernel's
 * work on our behalf (module signature checks and IMA hashing, mounts, dm
 * ioctls); the rest was spent waiting (devices, the TPM, I/O). Counted from
 * boot_start: as PID 1 we inherit the kernel's initcalls as system time. */
static void cpu_ms(uint64_t ms[2])
{
	struct rusage ru = { 0 };

	(void)getrusage(RUSAGE_SELF, &ru);
	ms[0] = (uint64_t)ru.ru_utime.tv_sec * 1000 + (uint64_t)ru.ru_utime.tv_usec / 1000;
	ms[1] = (uint64_t)ru.ru_stime.tv_sec * 1000 + (uint64_t)ru.ru_stime.tv_usec / 1000;
}

/* The failure policy is in force from the first instruction: a failure
 * before the config stage acts on the defaults (reboot after 10 s), not
 * on a zeroed struct. */
void boot_start(struct boot *b)
{
	config_defaults(&b->cfg);
	b->state = -1;
	b->start_ms = now_ms();
	cpu_ms(b->start_cpu_ms);
}

/* A peak memory that cannot be read is said so ("unknown: <reason>"),
 * never reported as 0 kB. */
static void log_summary(struct boot *b, uint64_t end)
{
	uint64_t cpu[2];
	char line[512], mem[64];
	unsigned long kb = 0;
	size_t len = 0;
	int r;

	for (unsigned i = 0; i < b->nstages && len < sizeof(line); i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%s %llu",
					i ? ", " : "", b->stages[i].name,
					(unsigned long long)b->stages[i].ms);
	r = peak_memory_kb(&kb);
	if (r < 0)
		snprintf(mem, sizeof(mem), "unknown (%s)", strerror(-r));
	else
		snprintf(mem, sizeof(mem), "%lu kB", kb);
	cpu_ms(cpu);
	log_notice("done", "%llu ms from start to exec of init (%s); started %llu ms after kernel; peak memory %s; cpu user %llu ms, system %llu ms",
		   (unsigned long long)(end - b->start_ms), line,
		   (unsigned long long)b->start_ms, mem,
		   (unsigned long long)(cpu[0] - b->start_cpu_ms[0]),
		   (unsigned long long)(cpu[1] - b->start_cpu_ms[1]));
}

int boot_switch_root(struct boot *b)
{
	char *const argv[] = { b->cfg.init, NULL };
	uint64_t start = now_ms();
	int r;

	r = switchroot_check(SWITCHROOT_STAGING, b->cfg.init);
	if (r < 0)
		return r;
	r = switchroot_enter(SWITCHROOT_STAGING);
	if (r == 0)
		r = record_stage(b, "switch_root", start);
	if (r < 0)
		return r;
	log_summary(b, now_ms());
	set_devkmsg("ratelimit");
	panic_restore();
	log_close_kmsg();
	execve(b->cfg.init, argv, environ);
	r = -errno;
	log_open_kmsg();
	panic_set_timeout("switch_root", &b->cfg);
	log_err("switch_root", "cannot execute '%s': %s", b->cfg.init, strerror(-r));
	return r;
}

int boot_stage(struct boot *b, const char *name, boot_stage_fn fn)
{
	uint64_t start = now_ms();
	int r = fn(b);

	if (r == 0)
		r = record_stage(b, name, start);
	if (r < 0)
		b->failed_stage = name;
	return r;
}

int boot_defer(struct boot *b, const char *what, boot_cleanup_fn fn)
{
	if (b->ncleanups >= BOOT_CLEANUPS_MAX) {
		log_err("cleanup", "cannot register '%s': the chain holds %d",
			what, BOOT_CLEANUPS_MAX);
		return -ENOBUFS;
	}
	b->cleanups[b->ncleanups].what = what;
	b->cleanups[b->ncleanups++].fn = fn;
	return 0;
}

static void run_cleanups(struct boot *b)
{
	while (b->ncleanups > 0) {
		b->ncleanups--;
		log_notice("cleanup", "%s", b->cleanups[b->ncleanups].what);
		b->cleanups[b->ncleanups].fn(b);
	}
}

/* Development mode only: a shell on the console if one was packed. */
static void run_emergency_shell(void)
{
	char *const argv[] = { "/bin/sh", NULL };
	pid_t pid;

	if (access("/bin/sh", X_OK) < 0) {
		log_crit("fatal", "development mode, but no /bin/sh was packed (mkinitramfs --shell)");
		return;
	}
	log_crit("fatal", "development mode: starting /bin/sh; exit it to continue");
	pid = fork();
	if (pid == 0) {
		setsid();
		execve("/bin/sh", argv, environ);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

static const int reboot_cmds[] = {
	[FAILURE_REBOOT] = RB_AUTOBOOT,
	[FAILURE_POWEROFF] = RB_POWER_OFF,
	[FAILURE_HALT] = RB_HALT_SYSTEM,
};

void boot_fail(struct boot *b, int err)
{
	const char *stage = b->failed_stage ? b->failed_stage : "switch_root";
	enum failure_action action = b->cfg.failure_action;

	run_cleanups(b);
	log_crit("fatal", "boot stopped in stage '%s': %s", stage, strerror(-err));
	log_crit("fatal", "check %s", hint_for(stage));
	if (b->cfg.mode == MODE_DEVELOPMENT)
		run_emergency_shell();
	log_crit("fatal", "%s in %u s", config_failure_action_name(action),
		 b->cfg.failure_delay);
	sync();
	sleep(b->cfg.failure_delay);
	reboot(reboot_cmds[action]);
	for (;;)
		pause();
}
