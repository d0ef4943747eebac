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
#include "verity.h"

#define BOOT_STAGES_MAX 16

struct boot {
	struct config cfg;
	struct devwait_req devs[PLAN_DEVICES_MAX];	/* from plan.h */
	size_t ndevs;
	bool verity;
	struct roothash roothash;
	char root_path[48];		/* what gets mounted */
	struct devids root_ids;
	char root_fstype[32];
	uint64_t start_ms;
	uint64_t start_cpu_ms[2];	/* user, system: PID 1 inherits the kernel's init time */
	unsigned nstages;
	struct {
		const char *name;
		uint64_t ms;
	} stages[BOOT_STAGES_MAX];
};

typedef int (*boot_stage_fn)(struct boot *b);

void boot_start(struct boot *b);

int boot_early(struct boot *b);
int boot_config(struct boot *b);
int boot_modules(struct boot *b);
int boot_wait(struct boot *b);
int boot_verity(struct boot *b);
int boot_mount(struct boot *b);
int boot_switch_root(struct boot *b);

/* Run a stage and time it; on failure report it and end the boot. */
void boot_run(struct boot *b, const char *name, boot_stage_fn fn);

/* Report what failed and what to check, then act as configured
 * (reboot, power off, halt; a shell first in development mode). */
__attribute__((noreturn)) void boot_fail(struct boot *b, const char *stage,
					 int err);

#endif
