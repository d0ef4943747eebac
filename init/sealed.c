/* The sealed state's stages: tpm, state, recovery, barrier. Glue: the
 * decisions are in src/state.c (which volume, provision or unlock),
 * src/tpm.c and src/luks.c; here they meet the boot's order, its
 * cleanup chain and the console. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot.h"
#include "devprobe.h"
#include "log.h"
#include "luks.h"
#include "measure.h"
#include "prompt.h"
#include "switchroot.h"
#include "tpm2token.h"
#include "util.h"

#define RECOVERY_TRIES 3
#define RECOVERY_TIMEOUT_S 300
#define RESEAL_TIMEOUT_S 60

bool boot_has_state(const struct boot *b)
{
	return b->state >= 0;
}

/* ---- entropy ----
 *
 * The TPM sessions need the kernel's RNG (ESYS draws salts and nonces
 * from OpenSSL, which reads getrandom), and right after boot it may not be
 * initialized yet: getrandom then blocks while the kernel gathers jitter
 * entropy on the calling CPU, about a second under emulation (hardware
 * with RDRAND is ready at once). A child asks for one byte as soon as the
 * configuration is known, so that gathering overlaps the module loads and
 * device waits instead of following them; the tpm stage reaps it. Nothing
 * is credited that the kernel did not gather itself. */
void boot_rng_warmup(struct boot *b)
{
	pid_t pid = fork();

	if (pid == 0) {
		uint8_t c;

		while (getrandom(&c, 1, 0) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	if (pid > 0)
		b->rng_pid = pid;
}

static void rng_wait(struct boot *b)
{
	uint64_t start = now_ms();

	if (b->rng_pid <= 0)
		return;
	while (waitpid(b->rng_pid, NULL, 0) < 0 && errno == EINTR)
		;
	b->rng_pid = 0;
	log_info("tpm", "kernel RNG ready (waited %llu ms)",
		 (unsigned long long)(now_ms() - start));
}

/* ---- tpm ---- */

/* A failure after this point extends the barrier before anything else
 * can run (a development shell): what was unsealed stays unsealable. */
static void barrier_on_failure(struct boot *b)
{
	if (b->tpm_open && !b->barrier_done)
		(void)boot_barrier(b);
}

/* The raw TPM device (TPM_DEVICE, see tpm.h): the kernel creates it once
 * it has probed the chip and started it up, so its node is the sign the
 * TPM is ready. */
static int wait_tpm(struct boot *b)
{
	struct devwait_req req = { .what = "TPM", .kind = DEVWAIT_CHAR };

	if (devspec_parse(TPM_DEVICE, &req.spec) < 0)
		return -EINVAL;
	return devwait_all("", &req, 1, b->cfg.tpm_timeout);
}

/* The state volume's file system modules load in a child while the TPM
 * works: the TPM's answers keep the CPU idle (and no secret is in memory
 * yet to be copied into the child). mount_state reaps it. */
static void fs_modules_start(struct boot *b)
{
	pid_t pid;

	if (!strcmp(b->cfg.state_mount, "none"))
		return;
	pid = fork();
	if (pid == 0)
		_exit(boot_load_fs_modules("state", "ext4") < 0 ? 1 : 0);
	if (pid > 0)
		b->fsmod_pid = pid;
}

static int fs_modules_wait(struct boot *b)
{
	int status = 0;

	if (b->fsmod_pid <= 0)
		return boot_load_fs_modules("state", "ext4");
	while (waitpid(b->fsmod_pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	b->fsmod_pid = 0;
	if (status == 0)
		return 0;
	log_err("state", "cannot load the ext4 modules for the state volume (see above)");
	return -ENOEXEC;
}

int boot_tpm(struct boot *b)
{
	int r;

	fs_modules_start(b);
	r = wait_tpm(b);

	rng_wait(b);
	if (r == -ETIMEDOUT) {
		log_err("tpm", "no TPM: '%s' did not appear within %u s (tpm.timeout)",
			TPM_DEVICE, b->cfg.tpm_timeout);
		return -ENODEV;
	}
	if (r == 0)
		r = tpm_open(&b->tpm, TPM_DEVICE);
	if (r < 0)
		return r;
	b->tpm_open = true;
	return boot_defer(b, "extend the barrier", barrier_on_failure);
}

/* ---- state ---- */

static void close_state(struct boot *b)
{
	explicit_bzero(&b->vk, sizeof(b->vk));
	if (b->state_mounted && umount2(b->state_mount_path, MNT_DETACH) < 0)
		log_warn("cleanup", "cannot unmount '%s': %s", b->state_mount_path,
			 strerror(errno));
	b->state_mounted = false;
	if (b->state_open)
		(void)luks_deactivate(b->cfg.state_name);
	b->state_open = false;
}

/* The IMA policy names the volume it appraises by this UUID: a volume
 * with another would go unappraised. */
static int check_fsuuid(struct boot *b, const char *dev)
{
	struct devids ids;
	int r;

	if (!b->cfg.state_fsuuid[0])
		return 0;
	r = devprobe_block(dev, &ids);
	if (r < 0) {
		log_err("state", "cannot read the file system UUID of '%s': %s", dev, strerror(-r));
		return r;
	}
	if (strcmp(ids.uuid, b->cfg.state_fsuuid)) {
		log_err("state", "cannot use '%s': its file system UUID is '%s', not state.fsuuid '%s' (the IMA policy would not appraise it)",
			dev, ids.uuid, b->cfg.state_fsuuid);
		return -EMEDIUMTYPE;
	}
	return 0;
}

/* In the new root, so the mount moves with it through switch_root. The
 * root is read-only: the mount point must be in its image. */
static int mount_state(struct boot *b)
{
	char dev[80];
	struct stat st;
	int r;

	if (!strcmp(b->cfg.state_mount, "none")) {
		log_info("state", "/dev/mapper/%s left to the root's fstab (state.mount = none)",
			 b->cfg.state_name);
		return 0;
	}
	snprintf(b->state_mount_path, sizeof(b->state_mount_path), "%s%s",
		 SWITCHROOT_STAGING, b->cfg.state_mount);
	if (stat(b->state_mount_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		r = errno ? -errno : -ENOTDIR;
		log_err("state", "cannot mount the state volume on '%s': the root has no such directory",
			b->cfg.state_mount);
		return r < 0 ? r : -ENOTDIR;
	}
	r = fs_modules_wait(b);
	if (r < 0)
		return r;
	snprintf(dev, sizeof(dev), "/dev/mapper/%s", b->cfg.state_name);
	r = check_fsuuid(b, dev);
	if (r < 0)
		return r;
	if (mount(dev, b->state_mount_path, "ext4", MS_NOSUID | MS_NODEV, "") < 0) {
		r = -errno;
		log_err("state", "cannot mount '%s' on '%s': %s", dev, b->cfg.state_mount,
			strerror(-r));
		return r;
	}
	b->state_mounted = true;
	log_info("state", "mounted %s on %s", dev, b->cfg.state_mount);
	return 0;
}

static struct state_req state_req(struct boot *b)
{
	return (struct state_req){
		.dev = b->devs[b->state].path,
		.name = b->cfg.state_name,
		.pcr_mask = b->pcr_mask,
		.show_recovery = b->cfg.state_recovery == STATE_RECOVERY_SHOW,
		.fsuuid = b->cfg.state_fsuuid,
		.vk = &b->vk,
	};
}

int boot_state(struct boot *b)
{
	struct state_req req = state_req(b);
	int r;

	r = state_open(b->tpm_open ? &b->tpm : NULL, &req, &b->state_provisioned,
		       &b->diag);
	if (r < 0) {
		b->state_err = r;
		state_log_diag(&b->diag);
		return r;
	}
	b->state_open = true;
	r = boot_defer(b, "close the state volume", close_state);
	if (r == 0)
		r = mount_state(b);
	return r;
}

bool boot_state_recoverable(const struct boot *b, int err)
{
	return err < 0 && err == b->state_err && state_recoverable(err);
}

/* ---- recovery ---- */

/* After a recovery-key unlock, the operator may seal the volume to the
 * PCRs as they are now: the next boot in this state opens by the TPM. */
static void offer_reseal(struct boot *b, const char *key)
{
	struct state_req req = state_req(b);
	char answer[8];
	int r;

	if (!b->tpm_open)
		return;
	r = prompt_line(0, 1, "sealroot: recovery: seal the state volume to this boot's PCR state, so the TPM opens it next time? [y/N]\n",
			true, RESEAL_TIMEOUT_S, answer, sizeof(answer));
	if (r < 0 || (strcmp(answer, "y") && strcmp(answer, "Y") && strcmp(answer, "yes"))) {
		log_notice("recovery", "not re-sealed: the next boot in this state asks for the recovery key again");
		return;
	}
	r = state_reseal(&b->tpm, &req, key);
	if (r == 0)
		log_notice("recovery", "re-sealed '%s' to PCR mask 0x%06x", req.dev, req.pcr_mask);
}

static int ask_key(struct boot *b, unsigned try, char key[TPM2TOKEN_RECOVERY_INPUT_MAX + 1])
{
	char question[192];
	int r;

	snprintf(question, sizeof(question),
		 "sealroot: recovery: type the recovery key for '%s' (try %u of %d), then Enter:\n",
		 b->devs[b->state].path, try, RECOVERY_TRIES);
	r = prompt_line(0, 1, question, false, RECOVERY_TIMEOUT_S, key,
			TPM2TOKEN_RECOVERY_INPUT_MAX + 1);
	if (r == -ETIMEDOUT)
		log_err("recovery", "no recovery key typed within %d s", RECOVERY_TIMEOUT_S);
	else if (r == -E2BIG)
		log_err("recovery", "the input is longer than a recovery key");
	else if (r < 0)
		log_err("recovery", "cannot read the console: %s", strerror(-r));
	return r;
}

int boot_recovery(struct boot *b)
{
	char key[TPM2TOKEN_RECOVERY_INPUT_MAX + 1];
	const char *dev = b->devs[b->state].path;
	unsigned slots = 0, try;
	int r;

	r = luks_recovery_slots(dev, &slots);
	if (r < 0)
		return r;
	if (slots == 0) {
		log_err("recovery", "cannot open '%s' without the TPM: it has no recovery key (state.recovery = none)",
			dev);
		return b->state_err;
	}
	log_notice("recovery", "the TPM did not open '%s': %d tries at its recovery key",
		   dev, RECOVERY_TRIES);
	for (try = 1, r = -EKEYREJECTED; try <= RECOVERY_TRIES && r < 0; try++) {
		r = ask_key(b, try, key);
		if (r == -ETIMEDOUT || r == -EPIPE)
			break;
		if (r == 0)
			r = luks_open_recovery(dev, b->cfg.state_name, key, &b->vk);
		if (r < 0)
			explicit_bzero(key, sizeof(key));
	}
	if (r < 0) {
		explicit_bzero(key, sizeof(key));
		return r;
	}
	log_notice("recovery", "opened '%s' with the recovery key", dev);
	b->state_open = true;
	offer_reseal(b, key);
	explicit_bzero(key, sizeof(key));
	r = boot_defer(b, "close the state volume", close_state);
	if (r == 0)
		r = mount_state(b);
	return r;
}

/* ---- barrier ---- */

/* After the last unseal: extend every PCR of the seal policy, so the
 * booted system cannot unseal again (the log says from which values). */
int boot_barrier(struct boot *b)
{
	static struct measure_barrier done;
	int r;

	if (!b->tpm_open) {
		log_notice("barrier", "no TPM: nothing to extend");
		return 0;
	}
	if (b->barrier_done)
		return 0;
	r = measure_barrier(&b->tpm, b->pcr_mask, &done);
	if (r == 0) {
		b->barrier_done = true;
		char counts[512];

		tpm_format_counts(&b->tpm, counts, sizeof(counts));
		log_info("barrier", "extended PCR mask 0x%06x; TPM commands this boot: %u (%s)",
			 b->pcr_mask, b->tpm.commands, counts);
		r = measure_log_append(MEASURE_LOG_PATH, &done);
	}
	tpm_close(&b->tpm);
	b->tpm_open = false;
	return r;
}
