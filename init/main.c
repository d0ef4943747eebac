/* sealroot: PID 1 of the initramfs. Each stage below is one step of the
 * boot (see ../shared/DESIGN.md) and returns here; only main decides what
 * a failure means. Today every failure is fatal: boot_fail runs the
 * cleanup chain, reports, and acts as configured. */
#include <errno.h>

#include "boot.h"

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
	if (r == 0)
		r = boot_stage(&b, "switch_root", boot_switch_root);
	/* boot_switch_root returns only when init could not be executed */
	boot_fail(&b, r < 0 ? r : -ENOEXEC);
}
