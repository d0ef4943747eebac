#include <blkid.h>
#include <errno.h>
#include <string.h>

#include "devprobe.h"

/* An identifier that does not fit is left empty, so it can never match:
 * a cut-off UUID must not be mistaken for a shorter one. */
static void copy_id(char *dst, size_t size, blkid_probe pr, const char *name)
{
	const char *v = NULL;

	dst[0] = 0;
	if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v &&
	    strlen(v) < size)
		strcpy(dst, v);
}

static void copy_ids(blkid_probe pr, struct devids *ids)
{
	copy_id(ids->partuuid, sizeof(ids->partuuid), pr, "PART_ENTRY_UUID");
	copy_id(ids->partlabel, sizeof(ids->partlabel), pr, "PART_ENTRY_NAME");
	copy_id(ids->parttype, sizeof(ids->parttype), pr, "PART_ENTRY_TYPE");
	copy_id(ids->uuid, sizeof(ids->uuid), pr, "UUID");
	copy_id(ids->label, sizeof(ids->label), pr, "LABEL");
	copy_id(ids->type, sizeof(ids->type), pr, "TYPE");
	if (!ids->type[0])
		copy_id(ids->type, sizeof(ids->type), pr, "PTTYPE");
}

/* blkid_do_safeprobe: 0 found, 1 nothing found (a partition without a
 * file system still has its entry values), -2 ambiguous, -1 error. */
int devprobe_block(const char *path, struct devids *ids)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);
	int r;

	if (!pr)
		return errno ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL |
					  BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	r = blkid_do_safeprobe(pr);
	if (r == 0 || r == 1)
		copy_ids(pr, ids);
	blkid_free_probe(pr);
	if (r == -2)
		return -EUCLEAN;
	return r < 0 ? -EIO : 0;
}
