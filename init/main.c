/* sealroot: PID 1 of the initramfs. Each stage below is one step of the
 * boot (see ../shared/DESIGN.md) and returns here; only main decides what
 * a failure means. Every failure is fatal but two: a missing TPM, and a
 * TPM that does not open the state volume, both of which a recovery key
 * can get past. boot_fail runs the cleanup chain (close the volume,
 * extend the barrier), reports, and acts as configured. */
#include <errno.h>

#include "boot.h"

static int sealed_state(struct boot *b)
{
	int r;

	/* No TPM is not fatal yet: the state stage says what it means. */
	(void)boot_stage(b, "tpm", boot_tpm);
	r = boot_stage(b, "state", boot_state);
	if (boot_state_recoverable(b, r))
		r = boot_stage(b, "recovery", boot_recovery);
	if (r == 0)
		r = boot_stage(b, "evm", boot_evm);
	return r;
}

/* The policy loads after the unseal; a new volume is filled and marked
 * ready once EVM and IMA are active; the barrier comes last. */
static int integrity(struct boot *b)
{
	int r = boot_stage(b, "ima", boot_ima);

	if (r == 0 && b->state_provisioned)
		r = boot_stage(b, "personalize", boot_personalize);
	if (r == 0 && boot_has_state(b))
		r = boot_stage(b, "barrier", boot_barrier);
	return r;
}

int main(void)
{
	static struct boot b;
	int r;

	boot_start(&b);
	r = boot_stage(&b, "early", boot_early);
	if (r == 0)
		r = boot_stage(&b, "config", boot_config);
	if (r == 0)
		r = boot_stage(&b, "modules", boot_modules);
	if (r == 0)
		r = boot_stage(&b, "wait", boot_wait);
	if (r == 0)
		r = boot_stage(&b, "verity", boot_verity);
	if (r == 0)
		r = boot_stage(&b, "mount", boot_mount);
	if (r == 0 && boot_has_state(&b))
		r = sealed_state(&b);
	if (r == 0)
		r = integrity(&b);
	if (r == 0)
		r = boot_stage(&b, "switch_root", boot_switch_root);
	/* boot_switch_root returns only when init could not be executed */
	boot_fail(&b, r < 0 ? r : -ENOEXEC);
}
