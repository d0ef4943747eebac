/* The systemd-tpm2 token parser: input an offline attacker writes into
 * the LUKS2 header. Whatever parses must serialize and parse back to the
 * same token (the largest fits TPM2TOKEN_JSON_MAX); whatever fails must
 * leave a bounded message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpm2token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char out[TPM2TOKEN_JSON_MAX];
	char msg[TPM2TOKEN_MSG_MAX];
	struct tpm2token t, u;
	size_t n;

	memset(msg, 0, sizeof(msg));
	if (tpm2token_parse((const char *)data, len, &t, msg) < 0) {
		if (strnlen(msg, sizeof(msg)) >= sizeof(msg) || !msg[0])
			abort();
		return 0;
	}
	if (tpm2token_format(&t, out, sizeof(out), &n) < 0 || strlen(out) != n)
		abort();
	if (tpm2token_parse(out, n, &u, msg) < 0 || !tpm2token_equal(&t, &u))
		abort();
	return 0;
}
