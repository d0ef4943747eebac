/* The table of an active verity target, as the kernel reports it: not
 * attacker input, but parsed by sealroot, so it must never misbehave. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "veritytab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct veritytab t, again;
	const char *field = NULL;
	char *text = fuzz_cstring(data, len);

	if (!text)
		return 0;
	if (veritytab_parse(text, &t) == 0) {
		again = t;
		if (veritytab_compare(&t, &again, &field) != 0 &&
		    !(t.options & (VERITYTAB_WEAKENING | VERITYTAB_OTHER)))
			abort();
	}
	free(text);
	return 0;
}
