/* The module load order file (module dependency data, from mkinitramfs). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "modules.h"

static int visit(const char *path, void *userdata)
{
	size_t *total = userdata;

	*total += strlen(path);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t total = 0;
	unsigned line;

	modules_parse_order((const char *)data, len, visit, &total, &line);
	return 0;
}
