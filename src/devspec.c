#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "devspec.h"

static const char *const tag_names[] = {
	[DEVSPEC_PATH] = "path",
	[DEVSPEC_PARTUUID] = "PARTUUID",
	[DEVSPEC_PARTLABEL] = "PARTLABEL",
	[DEVSPEC_UUID] = "UUID",
	[DEVSPEC_LABEL] = "LABEL",
	[DEVSPEC_PARTTYPE] = "PARTTYPE",
};

const char *devspec_tag_name(enum devspec_tag tag)
{
	return tag_names[tag];
}

static bool is_uuidish(const char *s)
{
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

/* A GPT type is always a full GUID, 8-4-4-4-12 hex digits: a shorter
 * one would be a typo that never matches. */
static bool is_guid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool is_printable_word(const char *s)
{
	for (; *s; s++)
		if (!isgraph((unsigned char)*s))
			return false;
	return true;
}

static int split_tag(const char *text, enum devspec_tag *ret_tag,
		     const char **ret_value)
{
	const char *eq = strchr(text, '=');
	size_t n;

	if (!eq)
		return -EINVAL;
	n = (size_t)(eq - text);
	for (int t = DEVSPEC_PARTUUID; t <= DEVSPEC_PARTTYPE; t++) {
		if (strlen(tag_names[t]) == n && !strncmp(text, tag_names[t], n)) {
			*ret_tag = t;
			*ret_value = eq + 1;
			return 0;
		}
	}
	return -EINVAL;
}

/* udev's /dev/disk/by-* links do not exist in the initramfs: take them
 * for the tag they stand for, as systemd's command line keys allow. */
static const char *const by_links[] = {
	[DEVSPEC_PARTUUID] = "/dev/disk/by-partuuid/",
	[DEVSPEC_PARTLABEL] = "/dev/disk/by-partlabel/",
	[DEVSPEC_UUID] = "/dev/disk/by-uuid/",
	[DEVSPEC_LABEL] = "/dev/disk/by-label/",
};

static void split_by_link(const char *text, enum devspec_tag *tag,
			  const char **value)
{
	for (int t = DEVSPEC_PARTUUID; t <= DEVSPEC_LABEL; t++) {
		size_t n = strlen(by_links[t]);

		if (!strncmp(text, by_links[t], n)) {
			*tag = t;
			*value = text + n;
			return;
		}
	}
}

/* Parse "TAG=value" or "/dev/...". UUIDs must look like UUIDs, labels
 * must be printable without blanks, and nothing longer than the buffer
 * is accepted: a truncated identifier could match the wrong device. */
int devspec_parse(const char *text, struct devspec *ret)
{
	enum devspec_tag tag = DEVSPEC_PATH;
	const char *value = text;

	if (strncmp(text, "/dev/", 5) && split_tag(text, &tag, &value) < 0)
		return -EINVAL;
	split_by_link(text, &tag, &value);
	if (!*value || strlen(value) >= DEVSPEC_VALUE_MAX)
		return -EINVAL;
	if (!is_printable_word(value))
		return -EINVAL;
	if ((tag == DEVSPEC_PARTUUID || tag == DEVSPEC_UUID) &&
	    !is_uuidish(value))
		return -EINVAL;
	if (tag == DEVSPEC_PARTTYPE && !is_guid(value))
		return -EINVAL;
	if (tag == DEVSPEC_PATH && strstr(value, "/../"))
		return -EINVAL;
	ret->tag = tag;
	strcpy(ret->value, value);
	return 0;
}

/* UUIDs compare without regard to case (blkid prints lower case, people
 * write upper case); labels compare exactly. */
bool devspec_match(const struct devspec *spec, const struct devids *ids)
{
	switch (spec->tag) {
	case DEVSPEC_PATH:
		return !strncmp(spec->value, "/dev/", 5) &&
		       !strcmp(spec->value + 5, ids->name);
	case DEVSPEC_PARTUUID:
		return !strcasecmp(spec->value, ids->partuuid);
	case DEVSPEC_PARTLABEL:
		return !strcmp(spec->value, ids->partlabel);
	case DEVSPEC_UUID:
		return !strcasecmp(spec->value, ids->uuid);
	case DEVSPEC_LABEL:
		return !strcmp(spec->value, ids->label);
	case DEVSPEC_PARTTYPE:
		return !strcasecmp(spec->value, ids->parttype);
	}
	return false;
}
