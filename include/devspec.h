/* Device specifications as integrators write them: PARTUUID=, PARTLABEL=,
 * PARTTYPE= (GPT partition type GUID, e.g. a Discoverable Partitions
 * Specification type), UUID=, LABEL= or a /dev path. Pure logic: parsing and matching against
 * the identifiers a probe found on a block device. */
#ifndef SEALROOT_DEVSPEC_H
#define SEALROOT_DEVSPEC_H

#include <stdbool.h>
#include <stddef.h>

#define DEVSPEC_VALUE_MAX 128

enum devspec_tag {
	DEVSPEC_PATH,
	DEVSPEC_PARTUUID,
	DEVSPEC_PARTLABEL,
	DEVSPEC_UUID,
	DEVSPEC_LABEL,
	DEVSPEC_PARTTYPE,
};

struct devspec {
	enum devspec_tag tag;
	char value[DEVSPEC_VALUE_MAX];
};

/* What a probe of one block device found; empty strings when absent. */
struct devids {
	char name[32];			/* kernel name, e.g. "vda2" */
	char partuuid[DEVSPEC_VALUE_MAX];
	char partlabel[DEVSPEC_VALUE_MAX];
	char parttype[DEVSPEC_VALUE_MAX];	/* GPT type GUID (or MBR type) */
	char uuid[DEVSPEC_VALUE_MAX];
	char label[DEVSPEC_VALUE_MAX];
	char type[32];			/* file system or container type */
};

int devspec_parse(const char *text, struct devspec *ret);
bool devspec_match(const struct devspec *spec, const struct devids *ids);
const char *devspec_tag_name(enum devspec_tag tag);

#endif
