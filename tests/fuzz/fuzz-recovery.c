/* Recovery keys as typed on the console: whatever normalizes is the
 * canonical 71-character key, and normalizes to itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tpm2token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char key[TPM2TOKEN_RECOVERY_LEN + 1], again[TPM2TOKEN_RECOVERY_LEN + 1];
	char *text = fuzz_cstring(data, len);

	if (!text)
		return 0;
	if (tpm2token_recovery_normalize(text, key) == 0) {
		if (strlen(key) != TPM2TOKEN_RECOVERY_LEN ||
		    tpm2token_recovery_normalize(key, again) != 0 ||
		    strcmp(key, again) != 0)
			abort();
	}
	free(text);
	return 0;
}
