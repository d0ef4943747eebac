/* sealroot: PID 1 of the initramfs. Each line below is one stage of the
 * boot; see ../shared/DESIGN.md. A stage that fails ends the boot. */
#include <errno.h>

#include "boot.h"
#include "util.h"

int main(void)
{
	static struct boot b;

	boot_start(&b);
	boot_run(&b, "early", boot_early);
	boot_run(&b, "config", boot_config);
	boot_run(&b, "modules", boot_modules);
	boot_run(&b, "wait", boot_wait);
	boot_run(&b, "verity", boot_verity);
	boot_run(&b, "mount", boot_mount);
	boot_run(&b, "switch_root", boot_switch_root);
	boot_fail(&b, "switch_root", -ENOEXEC);
}
