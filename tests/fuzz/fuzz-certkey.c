/* A certificate given to sealroot-audit (--signing-cert, --production-cert):
 * the DER walk to its public key. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "certkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct certkey k;

	if (certkey_from_der(data, len, &k) == 0 && (k.len < 2 || k.len > len || k.spki[0] != 0x30))
		abort();
	return 0;
}
