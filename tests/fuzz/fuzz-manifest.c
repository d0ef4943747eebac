/* mkinitramfs's manifest lines, as sealroot-mkcpio reads them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "cpio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct cpio_manifest m;
	char *text = fuzz_cstring(data, len), *line, *save = NULL;
	unsigned long n = 0;

	if (!text)
		return 0;
	cpio_manifest_init(&m);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (cpio_manifest_parse_line(&m, line, ++n) < 0)
			break;
	cpio_manifest_finish(&m);
	cpio_manifest_free(&m);
	free(text);
	return 0;
}
