/* The boot sequence's shared state and its stages. Each stage is glue:
 * it calls into one module of src/ and returns 0 or -errno; only main
 * decides that a failure is fatal. */
#ifndef SEALROOT_BOOT_H
#define SEALROOT_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "devwait.h"
#include "plan.h"
#include "state.h"
#include "tpm.h"
#include "verity.h"

#define BOOT_STAGES_MAX 16
#define BOOT_CLEANUPS_MAX 8

struct boot;
typedef int (*boot_stage_fn)(struct boot *b);
typedef void (*boot_cleanup_fn)(struct boot *b);

struct boot {
	struct config cfg;
	struct devwait_req devs[PLAN_DEVICES_MAX];	/* from plan.h */
	size_t ndevs;
	int state;			/* index in devs of the state volume, -1: none */
	bool verity;
	struct roothash roothash;
	char root_path[48];		/* what gets mounted */
	struct devids root_ids;
	char root_fstype[32];
	/* The sealed state (init/sealed.c). */
	uint32_t pcr_mask;		/* tpm.pcrs */
	struct tpm tpm;
	bool tpm_open;
	int state_err;			/* why the TPM did not open the volume */
	struct state_diag diag;
	bool state_provisioned, state_open, state_mounted, barrier_done;
	int rng_pid;			/* the entropy warm-up child, 0: none */
	int fsmod_pid;			/* the state file system's module loader, 0: none */
	char state_mount_path[320];	/* in the staged root */
	struct luks_key vk;		/* the state volume's key, until evm derives from it */
	char evm_blob[LUKS_EVM_BLOB_MAX];
	uint64_t start_ms;
	uint64_t start_cpu_ms[2];	/* user, system: PID 1 inherits the kernel's init time */
	unsigned nstages;
	struct {
		const char *name;
		uint64_t ms;
	} stages[BOOT_STAGES_MAX];
	const char *failed_stage;	/* the stage whose error ends the boot */
	unsigned ncleanups;
	struct {
		const char *what;
		boot_cleanup_fn fn;
	} cleanups[BOOT_CLEANUPS_MAX];	/* run last-in first-out by boot_fail */
};

void boot_start(struct boot *b);

int boot_early(struct boot *b);
int boot_config(struct boot *b);
int boot_modules(struct boot *b);
int boot_wait(struct boot *b);
int boot_verity(struct boot *b);
int boot_mount(struct boot *b);
int boot_switch_root(struct boot *b);

/* The sealed state (init/sealed.c): only when 'state' is configured. */
bool boot_has_state(const struct boot *b);
/* Start the kernel's entropy gathering early (see sealed.c). */
void boot_rng_warmup(struct boot *b);
int boot_tpm(struct boot *b);
int boot_state(struct boot *b);
bool boot_state_recoverable(const struct boot *b, int err);
int boot_recovery(struct boot *b);
int boot_barrier(struct boot *b);

/* Integrity of what runs (init/integrity.c): EVM with the state
 * volume's key, the IMA policy, first-boot personalization and the
 * volume marked ready. */
int boot_evm(struct boot *b);
int boot_ima(struct boot *b);
int boot_personalize(struct boot *b);

/* Load the modules packed for a file system type (fs-<type>.order). */
int boot_load_fs_modules(const char *stage, const char *fstype);

/* Run a stage and time it. Returns its result: 0, or -errno with the
 * stage remembered for boot_fail. */
int boot_stage(struct boot *b, const char *name, boot_stage_fn fn);

/* Register what must be undone if the boot fails after this point
 * (wipe a secret, close a volume, extend the barrier), so that it is
 * done before any development shell and before the failure action.
 * -ENOBUFS when the chain is full: a programming error, and fatal. */
int boot_defer(struct boot *b, const char *what, boot_cleanup_fn fn);

/* The failure path: the cleanup chain, last registered first; then what
 * failed and what to check; then the configured action (reboot, power
 * off, halt; a shell first in development mode). */
__attribute__((noreturn)) void boot_fail(struct boot *b, int err);

#endif
