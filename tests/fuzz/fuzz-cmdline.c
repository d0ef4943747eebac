/* The kernel command line: without Secure Boot, whoever boots the
 * machine writes it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct config_error err;
	struct config cfg;
	char *text = fuzz_cstring(data, len);

	if (!text)
		return 0;
	config_defaults(&cfg);
	config_parse_cmdline(&cfg, text, &err);
	free(text);
	return 0;
}
