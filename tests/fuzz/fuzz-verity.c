/* Verity parameters: root hashes and device specs as they come from the
 * command line (roothash=, systemd.verity_root_data/hash=, root=). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "devspec.h"
#include "roothash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char hex[2 * ROOTHASH_MAX + 1], data_uuid[37], hash_uuid[37];
	struct devids ids = { .name = "vda2", .partuuid = "x", .label = "y" };
	struct devspec spec;
	struct roothash h;
	char *text = fuzz_cstring(data, len);

	if (!text)
		return 0;
	if (roothash_parse(text, &h) == 0) {
		roothash_dps_partuuids(&h, data_uuid, hash_uuid);
		roothash_hex(&h, hex, sizeof(hex));
		if (strlen(hex) != 2 * h.len)
			abort();
	}
	if (devspec_parse(text, &spec) == 0)
		devspec_match(&spec, &ids);
	free(text);
	return 0;
}
