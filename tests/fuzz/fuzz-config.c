/* sealroot.conf text: anything an integrator (or an attacker who got a
 * file into policies/) can write. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct config_error err;
	struct config cfg;
	FILE *null;

	config_defaults(&cfg);
	if (config_parse_text(&cfg, (const char *)data, len, &err) == 0) {
		null = fopen("/dev/null", "w");
		if (null) {
			config_print(&cfg, null);
			fclose(null);
		}
	}
	return 0;
}
