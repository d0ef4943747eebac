/* Configuration: /etc/sealroot.conf (packed from policies/, so signed with
 * the UKI) and a documented set of kernel command line keys, which
 * override the file. Parsing is strict: an unknown key, a malformed value
 * or a value that does not fit is an error that names the key; nothing is
 * truncated. mkinitramfs runs the same parser (sealroot-lint) at build
 * time, so a device never boots a configuration that does not parse. */
#ifndef SEALROOT_CONFIG_H
#define SEALROOT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "verity.h"

#define CONFIG_PATH "/etc/sealroot.conf"
#define CONFIG_FILE_MAX (64 * 1024)
#define CONFIG_LINE_MAX 1024

enum failure_action {
	FAILURE_REBOOT,
	FAILURE_POWEROFF,
	FAILURE_HALT,
};

enum boot_mode {
	MODE_PRODUCTION,
	MODE_DEVELOPMENT,
};

struct config {
	char root[160];			/* device spec, see devspec.h */
	char root_fstype[16];		/* auto, ext4, erofs, squashfs */
	char root_options[256];		/* file system mount data */
	unsigned root_timeout;		/* seconds to wait for devices */
	char modules[512];		/* names, for mkinitramfs */
	char init[256];			/* init of the real root */
	char verity_roothash[129];	/* hex; empty: no dm-verity */
	char verity_data[160];		/* device spec; empty: DPS */
	char verity_hash[160];		/* device spec; empty: DPS */
	enum verity_corruption verity_corruption;
	enum verity_tasklets verity_tasklets;
	enum failure_action failure_action;
	unsigned failure_delay;		/* seconds before the action */
	enum boot_mode mode;
};

/* Where a parse error was found, and what it was. */
struct config_error {
	unsigned line;			/* 0 for the kernel command line */
	char msg[256];
};

void config_defaults(struct config *cfg);

/* Parse the text of a sealroot.conf. Keys may appear once. */
int config_parse_text(struct config *cfg, const char *text, size_t len,
		      struct config_error *err);

/* Read and parse a file; a missing file is -ENOENT with no error text. */
int config_parse_file(struct config *cfg, const char *path,
		      struct config_error *err);

/* Apply the keys sealroot knows from a kernel command line; other
 * programs' keys are ignored, unknown "sealroot." keys are errors. */
int config_parse_cmdline(struct config *cfg, const char *cmdline,
			 struct config_error *err);

/* The effective configuration as "key=value" lines, one per key. */
void config_print(const struct config *cfg, FILE *out);

const char *config_failure_action_name(enum failure_action a);

/* The file system types sealroot mounts a read-only root from. */
bool config_root_fstype_supported(const char *t);

#endif
