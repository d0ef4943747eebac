/* ELF files of a root tree being sealed: anyone who made the tree chose
 * their bytes, and sealroot-audit reads every one. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elfinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct elfinfo e;

	memset(&e, 0xa5, sizeof(e));
	if (elfinfo_parse(data, len, &e) < 0)
		return 0;
	if ((e.bits != 32 && e.bits != 64) ||
	    (e.interp && strnlen(e.interp_path, sizeof(e.interp_path)) == sizeof(e.interp_path)))
		abort();
	if (elfinfo_is_program(&e) && elfinfo_is_library(&e))
		abort();
	return 0;
}
