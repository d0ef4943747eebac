/* The kernel command line: without Secure Boot, whoever boots the
 * machine writes it. It is applied over a file (the first input byte
 * picks one: the defaults, or one that sets every key the command line
 * may only tighten), as the device does, and then planned. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "config.h"
#include "plan.h"

static const char *const files[] = {
	"",
	"root.verity = optional\nmode = development\n",
	"verity.roothash = 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"verity.data = PARTLABEL=d\nverity.hash = PARTLABEL=h\n"
	"verity.corruption = restart\nroot.fstype = erofs\n"
	"root.options = noatime\ninit = /sbin/init\n",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct config_error err;
	struct config cfg, before;
	struct plan plan;
	const char *file;
	char *text;

	if (!len)
		return 0;
	file = files[data[0] % (sizeof(files) / sizeof(files[0]))];
	text = fuzz_cstring(data + 1, len - 1);
	if (!text)
		return 0;
	config_defaults(&cfg);
	if (config_parse_text(&cfg, file, strlen(file), &err) < 0)
		abort();
	before = cfg;
	if (config_parse_cmdline(&cfg, text, &err) == 0)
		plan_devices(&cfg, &plan, &err);
	else if (memcmp(&before, &cfg, sizeof(cfg)))
		abort();	/* a failed command line must leave the file's config */
	free(text);
	return 0;
}
