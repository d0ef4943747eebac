/* A kernel's build configuration (.config, /boot/config-VER, or the copy
 * CONFIG_IKCONFIG embeds in the image), for the build-time audit: which
 * options the kernel that boots sealroot has. Host only.
 *
 * Lines are "CONFIG_NAME=value" or "# CONFIG_NAME is not set"; other
 * comments and blank lines are skipped, anything else is an error naming
 * its line (a configuration is never half read). A name given twice takes
 * the last value, as the kernel's own configurator does. Names are kept
 * without the CONFIG_ prefix. */
#ifndef SEALROOT_KCONFIG_H
#define SEALROOT_KCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define KCONFIG_FILE_MAX (16u << 20)
#define KCONFIG_IMAGE_MAX (512u << 20)	/* a decompressed kernel image */

enum kconfig_state {
	KCONFIG_ABSENT,		/* not mentioned: its dependencies are not met */
	KCONFIG_NO,		/* "is not set" */
	KCONFIG_MODULE,		/* =m */
	KCONFIG_BUILTIN,	/* =y */
	KCONFIG_VALUE,		/* a number or a string */
};

struct kconfig_entry {
	const char *name;	/* without CONFIG_ */
	const char *value;	/* "y", "m", "n" (not set), or as written */
	unsigned line;
};

struct kconfig {
	char *text;		/* owned; entries point into it */
	const char *version;	/* "6.1.192" from the "# Linux/x86 6.1.192
				 * Kernel Configuration" header, or NULL */
	struct kconfig_entry *entries;	/* sorted by name, one per name */
	size_t n;
};

/* Parse the text of a configuration (len bytes, need not be
 * NUL-terminated). -EBADMSG with *ret_line for a line that is neither an
 * option nor a comment, -ENODATA for a text without a single option (not
 * a kernel configuration), -ENOMEM. *ret is written only on success. */
int kconfig_parse(const char *text, size_t len, struct kconfig *ret,
		  unsigned *ret_line);

/* Read and parse a configuration file; errors as kconfig_parse, or the
 * -errno of reading it (-EFBIG past KCONFIG_FILE_MAX). */
int kconfig_read(const char *path, struct kconfig *ret, unsigned *ret_line);

/* The configuration a kernel image carries (CONFIG_IKCONFIG: a gzip
 * stream between "IKCFG_ST" and "IKCFG_ED"), in a raw vmlinux or inside
 * a compressed one (bzImage payload, Image.gz, ...). The decompressors
 * (gzip, xz, zstd, lz4, bzip2) are run as programs from PATH.
 * -ENOMSG: the image carries no configuration. */
int kconfig_extract(const char *image, struct kconfig *ret,
		    unsigned *ret_line);

void kconfig_free(struct kconfig *kc);

/* name without CONFIG_. */
enum kconfig_state kconfig_get(const struct kconfig *kc, const char *name);

/* The value as written ("y", "m", "n" for not set, "\"str\"", "10"), or
 * NULL if absent. */
const char *kconfig_value(const struct kconfig *kc, const char *name);

/* The kernel version the header names, as major and minor; -ENODATA if
 * the configuration has no header. */
int kconfig_version(const struct kconfig *kc, unsigned *ret_major,
		    unsigned *ret_minor);

/* =y, or =m when modular is true. */
bool kconfig_enabled(const struct kconfig *kc, const char *name, bool modular);

#endif
