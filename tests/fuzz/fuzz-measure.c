/* The userspace TPM2 measurement log reader: a log root on the booted
 * system can write. Whatever replays must replay the same again and know
 * the value of every PCR whose pcrBefore it found; whatever fails must
 * leave a bounded message. libFuzzer's input is exactly len bytes, no
 * NUL after: the reader takes a length, and ASan sees any overread. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct measure_replay a, b;
	const char *log = (const char *)data;
	char msg[MEASURE_MSG_MAX];

	memset(msg, 0, sizeof(msg));
	if (measure_replay(log, len, NULL, &a, msg) < 0) {
		if (!msg[0] || strnlen(msg, sizeof(msg)) >= sizeof(msg))
			abort();
		return 0;
	}
	if ((a.values.mask & a.before.mask) != a.before.mask)
		abort();
	if (measure_replay(log, len, NULL, &b, msg) < 0 ||
	    memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	return 0;
}
