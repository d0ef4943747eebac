/* IMA policy text: anything an integrator (or an attacker who got a file
 * into policies/) can write; sealroot-imalint runs this parser on it at
 * build time. Every report must be a bounded, NUL-terminated message. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "imapolicy.h"

static void report(void *userdata, enum imapolicy_severity severity,
		   unsigned line, const char *msg)
{
	size_t *total = userdata;

	(void)severity;
	(void)line;
	*total += strlen(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct imapolicy pol;
	size_t total = 0;
	int n;

	n = imapolicy_parse((const char *)data, len, report, &total, &pol);
	if (n >= 0) {
		if ((unsigned)n != pol.n_rules || n == 0)
			__builtin_trap();
		imapolicy_has_rule(&pol, IMAPOLICY_MEASURE, IMAPOLICY_FUNC_POLICY_CHECK);
		imapolicy_appraises_fsuuid(&pol, "7a1f3c2e-5b4d-4e6f-8a9b-0c1d2e3f4a5b");
		imapolicy_appraise_needs_evm(&pol);
		imapolicy_appraise_needs_sig(&pol);
	}
	return 0;
}
