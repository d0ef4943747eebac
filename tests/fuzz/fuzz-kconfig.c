/* A kernel configuration, as mkinitramfs finds it beside the modules or in
 * a kernel image: the integrator's input, parsed by sealroot-audit. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "kconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct kconfig kc;
	unsigned line = 0, major, minor;

	if (kconfig_parse((const char *)data, len, &kc, &line) < 0)
		return 0;
	for (size_t i = 0; i < kc.n; i++) {
		const char *name = kc.entries[i].name;

		if (kconfig_value(&kc, name) != kc.entries[i].value)
			abort();
		if (i && kconfig_get(&kc, kc.entries[i - 1].name) == KCONFIG_ABSENT)
			abort();
	}
	kconfig_version(&kc, &major, &minor);
	kconfig_free(&kc);
	return 0;
}
