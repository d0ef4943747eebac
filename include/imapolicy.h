/* The kernel's IMA policy language, as Linux 6.1 parses it
 * (security/integrity/ima/ima_policy.c: ima_parse_rule, ima_validate_rule;
 * ima_fs.c: ima_read_policy). mkinitramfs lints policies/ima-policy with it
 * (sealroot-imalint), so a policy the kernel would reject never reaches a
 * signed image: the kernel says only "invalid-policy" and sealroot's boot
 * would stop there.
 *
 * Strict: what every 6.1 kernel rejects is an error, and so are a few
 * forms it takes but that are mistakes (an option given twice, where the
 * kernel keeps the last or leaks the first; a rule not starting with its
 * action; an fsuuid= not in lower case, which state.fsuuid is compared
 * with). What depends on the kernel's configuration or on when the policy
 * is loaded (modsig, LSM labels) is a warning. */
#ifndef SEALROOT_IMAPOLICY_H
#define SEALROOT_IMAPOLICY_H

#include <stdbool.h>
#include <stddef.h>

/* Where mkinitramfs packs the policy, and its x509 certificates. */
#define IMAPOLICY_PATH "/etc/ima-policy"
#define IMAPOLICY_KEYS_IMA "/etc/keys/ima"
#define IMAPOLICY_KEYS_EVM "/etc/keys/evm"

#define IMAPOLICY_FILE_MAX (256 * 1024)
/* One write(2) to securityfs/ima/policy takes at most PAGE_SIZE - 1 bytes:
 * a rule written line by line must fit. */
#define IMAPOLICY_LINE_MAX 4095
#define IMAPOLICY_RULES_MAX 512

enum imapolicy_action {
	IMAPOLICY_MEASURE,
	IMAPOLICY_DONT_MEASURE,
	IMAPOLICY_APPRAISE,
	IMAPOLICY_DONT_APPRAISE,
	IMAPOLICY_AUDIT,
	IMAPOLICY_HASH,
	IMAPOLICY_DONT_HASH,
};

/* The hooks of func=, by their canonical names (FILE_MMAP is MMAP_CHECK,
 * PATH_CHECK is FILE_CHECK). NONE: a rule without func=, every hook. */
enum imapolicy_func {
	IMAPOLICY_FUNC_NONE,
	IMAPOLICY_FUNC_FILE_CHECK,
	IMAPOLICY_FUNC_MMAP_CHECK,
	IMAPOLICY_FUNC_BPRM_CHECK,
	IMAPOLICY_FUNC_CREDS_CHECK,
	IMAPOLICY_FUNC_MODULE_CHECK,
	IMAPOLICY_FUNC_FIRMWARE_CHECK,
	IMAPOLICY_FUNC_KEXEC_KERNEL_CHECK,
	IMAPOLICY_FUNC_KEXEC_INITRAMFS_CHECK,
	IMAPOLICY_FUNC_POLICY_CHECK,
	IMAPOLICY_FUNC_KEXEC_CMDLINE,
	IMAPOLICY_FUNC_KEY_CHECK,
	IMAPOLICY_FUNC_CRITICAL_DATA,
	IMAPOLICY_FUNC_SETXATTR_CHECK,
};

/* What a rule names, one bit per condition or option (the kernel's rule
 * flags, with uid= and euid= told apart). */
#define IMAPOLICY_HAS_FUNC	(1u << 0)	/* func= */
#define IMAPOLICY_HAS_MASK	(1u << 1)	/* mask=MAY_... */
#define IMAPOLICY_HAS_INMASK	(1u << 2)	/* mask=^MAY_... */
#define IMAPOLICY_HAS_FSMAGIC	(1u << 3)
#define IMAPOLICY_HAS_FSNAME	(1u << 4)
#define IMAPOLICY_HAS_FSUUID	(1u << 5)
#define IMAPOLICY_HAS_UID	(1u << 6)	/* uid= uid< uid> */
#define IMAPOLICY_HAS_EUID	(1u << 7)
#define IMAPOLICY_HAS_GID	(1u << 8)
#define IMAPOLICY_HAS_EGID	(1u << 9)
#define IMAPOLICY_HAS_FOWNER	(1u << 10)
#define IMAPOLICY_HAS_FGROUP	(1u << 11)
#define IMAPOLICY_HAS_LSM	(1u << 12)	/* obj_* or subj_* */
#define IMAPOLICY_HAS_VERITY	(1u << 13)	/* digest_type=verity */
#define IMAPOLICY_HAS_SIG	(1u << 14)	/* appraise_type=: a signature required */
#define IMAPOLICY_HAS_MODSIG	(1u << 15)	/* appraise_type=imasig|modsig */
#define IMAPOLICY_HAS_BLACKLIST	(1u << 16)	/* appraise_flag=check_blacklist */
#define IMAPOLICY_HAS_ALGOS	(1u << 17)	/* appraise_algos= */
#define IMAPOLICY_HAS_DIRECTIO	(1u << 18)	/* permit_directio */
#define IMAPOLICY_HAS_PCR	(1u << 19)
#define IMAPOLICY_HAS_TEMPLATE	(1u << 20)
#define IMAPOLICY_HAS_KEYRINGS	(1u << 21)
#define IMAPOLICY_HAS_LABEL	(1u << 22)

/* One rule, as much of it as callers check against the configuration. */
struct imapolicy_rule {
	unsigned line;			/* in the text, from 1 */
	enum imapolicy_action action;
	enum imapolicy_func func;	/* IMAPOLICY_FUNC_NONE: every hook */
	unsigned flags;			/* IMAPOLICY_HAS_* */
	unsigned long fsmagic;		/* with IMAPOLICY_HAS_FSMAGIC */
	char fsuuid[37];		/* with IMAPOLICY_HAS_FSUUID: lower case */
	unsigned pcr;			/* with IMAPOLICY_HAS_PCR; else IMA's (10) */
};

struct imapolicy {
	unsigned n_rules;
	struct imapolicy_rule rules[IMAPOLICY_RULES_MAX];
};

enum imapolicy_severity {
	IMAPOLICY_ERROR,		/* the kernel rejects it, or a mistake */
	IMAPOLICY_WARNING,		/* depends on the kernel or the time of loading */
};

/* Called for each problem: line 0 is the whole text. msg has no line
 * number and no trailing newline. */
typedef void imapolicy_report_fn(void *userdata, enum imapolicy_severity severity,
				 unsigned line, const char *msg);

/* Check a whole policy text, reporting every problem (the first of each
 * line). Returns the number of rules, or -EINVAL if any error was
 * reported; ret_policy is written only on success. report may be NULL. */
int imapolicy_parse(const char *text, size_t len, imapolicy_report_fn *report,
		    void *userdata, struct imapolicy *ret_policy);

/* Read and check a file; a file that cannot be read is its -errno, with
 * no report; one larger than IMAPOLICY_FILE_MAX is reported, -EINVAL. */
int imapolicy_parse_file(const char *path, imapolicy_report_fn *report,
			 void *userdata, struct imapolicy *ret_policy);

const char *imapolicy_action_name(enum imapolicy_action action);
const char *imapolicy_func_name(enum imapolicy_func func);

/* Is there a rule with this action and func (IMAPOLICY_FUNC_NONE: one
 * without func=)? E.g. measure func=POLICY_CHECK. */
bool imapolicy_has_rule(const struct imapolicy *policy,
			enum imapolicy_action action, enum imapolicy_func func);

/* Does an appraise rule name this file system UUID (lower case)? */
bool imapolicy_appraises_fsuuid(const struct imapolicy *policy,
				const char *fsuuid);

/* Does any appraise rule name a file system by fsuuid=? */
bool imapolicy_appraises_by_fsuuid(const struct imapolicy *policy);

/* Does an appraise rule take a file hash (no appraise_type=)? Such a
 * security.ima is only as good as EVM's HMAC over it. */
bool imapolicy_appraise_needs_evm(const struct imapolicy *policy);

/* Does an appraise rule require a signature (appraise_type=)? Its keys
 * must be in the .ima keyring. */
bool imapolicy_appraise_needs_sig(const struct imapolicy *policy);

#endif
