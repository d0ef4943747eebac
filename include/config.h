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

/* Whether the root must be verified. "optional" is the explicit switch
 * for a plain, unverified root; it is refused unless mode = development
 * (plan.h). A verified root is never turned off by leaving a key out. */
enum root_verity {
	ROOT_VERITY_REQUIRED,
	ROOT_VERITY_OPTIONAL,
};

enum boot_mode {
	MODE_PRODUCTION,
	MODE_DEVELOPMENT,
};

/* The state volume's recovery key, made at provisioning: none, or shown
 * once on the console (systemd's recovery-key format). */
enum state_recovery {
	STATE_RECOVERY_NONE,
	STATE_RECOVERY_SHOW,
};

/* evm, ima: on (the default) or off. */
enum onoff {
	CONFIG_ON,
	CONFIG_OFF,
};

#define CONFIG_STATE_NAME_MAX 32
#define CONFIG_PCR_MASK_REQUIRED (1u << 7)	/* Secure Boot policy */
#define CONFIG_PCR_MASK_IMA (1u << 10)		/* moves as files run: never sealed to */

struct config {
	char root[160];			/* device spec, see devspec.h */
	enum root_verity root_verity;
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
	char state[160];		/* device spec; empty: no state volume */
	char state_name[CONFIG_STATE_NAME_MAX];	/* /dev/mapper/<name> */
	char state_mount[256];		/* in the new root, or "none" */
	enum state_recovery state_recovery;
	char state_fsuuid[37];		/* ext4 UUID made at provisioning; empty: mke2fs's */
	char state_factory[256];	/* tree in the root copied at provisioning; empty: none */
	char tpm_pcrs[96];		/* "7" or "7,14": PCRs of the seal policy */
	unsigned tpm_timeout;		/* seconds to wait for /dev/tpm0 */
	enum onoff evm;			/* per-device EVM HMAC (with a state volume) */
	enum onoff ima;			/* load /etc/ima-policy */
};

/* Where a parse error was found, and what it was. */
struct config_error {
	unsigned line;			/* 0: the whole file, or the command line */
	char msg[512];
};

/* A value quoted in a message is cut after this many bytes of output,
 * with a marker saying how much was left out. */
#define QUOTE_MAX 160
#define QUOTE_CUT "[...%zu more bytes]"

void config_defaults(struct config *cfg);

/* Parse the text of a sealroot.conf. Keys may appear once. On error cfg
 * is left as it was and err says where and why. */
int config_parse_text(struct config *cfg, const char *text, size_t len,
		      struct config_error *err);

/* Read and parse a file; a missing file is -ENOENT with no error text. */
int config_parse_file(struct config *cfg, const char *path,
		      struct config_error *err);

/* Apply the keys sealroot knows from a kernel command line over what the
 * file set; other programs' keys are ignored, unknown "sealroot." keys
 * are errors. The command line may tighten the file, never weaken it (a
 * key the file set is not cleared or replaced, verity.corruption only
 * goes stricter), each key at most once, and a value is required. On
 * error cfg is left as it was. */
int config_parse_cmdline(struct config *cfg, const char *cmdline,
			 struct config_error *err);

/* The effective configuration as "key=value" lines, one per key. */
void config_print(const struct config *cfg, FILE *out);

/* The key table itself, one line per key, tab separated: name, built-in
 * default, command line name and its rule (set, fill, same, raise; "-"
 * for both when the key is file only), allowed values (a|b|c, MIN..MAX,
 * or what a string must be). README's reference is checked against it. */
void config_print_keys(FILE *out);

const char *config_failure_action_name(enum failure_action a);

/* v[0..len) for a message, into buf: control, non-ASCII and backslash
 * bytes as \xNN, cut with a QUOTE_CUT marker when buf is full (size
 * QUOTE_MAX is enough for any message here). Returns buf. */
const char *config_quote(const char *v, size_t len, char *buf, size_t size);

/* The PCR mask (bit n: PCR n) of a tpm.pcrs value: decimal PCR numbers
 * 0..23 separated by commas, each once, 7 among them, 10 not. -EINVAL
 * if not. */
int config_pcr_mask(const char *v, unsigned *ret_mask);

/* A canonical lower-case file system UUID (state.fsuuid, fsuuid=). */
bool config_valid_uuid(const char *v);

/* The file system types sealroot mounts a read-only root from. */
bool config_root_fstype_supported(const char *t);

#endif
