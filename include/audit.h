/* The build-time security audit (sealroot-audit, run by mkinitramfs): what
 * the kernel, the policies, the signing key and the root tree being sealed
 * would do to a device, learnt before it is built rather than on a bricked
 * device. Host only.
 *
 * Each check is one function in one table (src/audit.c): an id, a group
 * (kernel, policy, signing, tree), the inputs it needs. It reads what
 * audit_load() made of the inputs, with sealroot's own parsers (config,
 * plan, kconfig, elfinfo, roottree, certkey; the IMA linter through
 * auditima.h), and adds findings, each with a severity:
 *
 *   block   the device would not boot, or would boot without a guarantee
 *           sealroot gives (a missing kernel option, a development image
 *           signed with the production key, no executable init): the
 *           build stops
 *   high .. low   advice, most severe first
 *   info    context
 *
 * A new check is one function and one table row. Findings about many
 * files are one finding with all the paths (the text report shows the
 * first few, the JSON report all). */
#ifndef SEALROOT_AUDIT_H
#define SEALROOT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "auditima.h"
#include "certkey.h"
#include "config.h"
#include "kconfig.h"
#include "plan.h"
#include "roottree.h"

enum audit_severity {
	AUDIT_BLOCK,
	AUDIT_HIGH,
	AUDIT_MEDIUM,
	AUDIT_LOW,
	AUDIT_INFO,
};

#define AUDIT_NSEVERITY 5
#define AUDIT_CERTS_MAX 16
#define AUDIT_PATHS_SHOWN 5

/* What to audit; every input is optional (NULL / false). */
struct audit_inputs {
	const char *config;		/* sealroot.conf; NULL: the defaults */
	const char *cmdline;		/* the UKI's kernel command line */
	const char *kconfig;		/* the kernel's configuration file */
	const char *kernel;		/* or a kernel image embedding it */
	const char *root;		/* the root tree to be sealed */
	const char *ima_policy;		/* the IMA policy */
	const char *keys;		/* policies/keys: certificates for IMA/EVM */
	const char *modules;		/* names of the packed modules (blank or
					 * comma separated); NULL: not known */
	const char *compress;		/* the initramfs's: zstd, xz, gzip, none */
	bool no_uki;			/* only an initramfs: no EFI stub needed */
	bool shell;			/* a shell is packed */
	const char *signing_cert;	/* the certificate the UKI is signed with */
	const char *production_certs[AUDIT_CERTS_MAX];
	size_t nproduction;
};

struct audit_finding {
	size_t check;			/* index in audit_checks */
	enum audit_severity severity;
	char *subject;			/* what it is about (an option, a file), or NULL */
	char *topic;			/* a finer group (lockdown, kexec, ...), or NULL */
	char *message;
	char *fix;			/* what to do, or NULL */
	char *pathbuf;			/* the files it is about, all of them: */
	size_t *path_offs;		/* path i at pathbuf + path_offs[i] */
	size_t npaths, offs_cap, buf_len, buf_cap;
};

enum audit_check_status {
	AUDIT_CHECK_NOT_RUN,
	AUDIT_CHECK_RAN,
	AUDIT_CHECK_SKIPPED,		/* an input it needs was not given */
	AUDIT_CHECK_FAILED,		/* it could not finish: the audit is incomplete */
};

struct audit {
	struct audit_inputs in;

	/* What audit_load() made of the inputs. */
	struct config cfg;		/* the file (and command line), else defaults */
	int config_r;			/* parsing the file: 0 or -errno */
	struct config_error config_err;
	int cmdline_r;			/* the command line over the file */
	struct config_error cmdline_err;
	int plan_r;			/* the device plan (with a command line) */
	struct config_error plan_err;
	bool have_kconfig;
	struct kconfig kc;
	int kconfig_r;			/* -ENOMSG: the image embeds no configuration */
	bool have_tree;
	struct roottree tree;
	bool certs;			/* certificates packed for IMA/EVM */
	bool have_signing;
	struct certkey signing;
	struct certkey production[AUDIT_CERTS_MAX];
	struct audit_ima_facts ima;	/* set by the policy.ima-lint check */

	/* What the checks found. */
	struct audit_finding **findings;
	size_t n, cap;
	size_t current;			/* the check running */
	enum audit_check_status *status;
	int *check_r;			/* a failed check's -errno */
	bool oom;
};

enum audit_needs {
	AUDIT_NEEDS_CONFIG = 1 << 0,	/* a sealroot.conf */
	AUDIT_NEEDS_KCONFIG = 1 << 1,	/* the kernel's configuration */
	AUDIT_NEEDS_ROOT = 1 << 2,	/* the root tree */
	AUDIT_NEEDS_IMA = 1 << 3,	/* an IMA policy the linter read */
	AUDIT_NEEDS_IMA_FILE = 1 << 4,	/* an IMA policy file */
};

struct audit_check {
	const char *id;			/* "kernel.required" */
	const char *group;		/* kernel, policy, signing, tree */
	unsigned needs;			/* enum audit_needs */
	int (*run)(struct audit *a);
};

extern const struct audit_check audit_checks[];
extern const size_t audit_nchecks;

/* Read the inputs with sealroot's parsers. An input that was named but
 * cannot be read is an error printed to err as
 * "sealroot-audit: <input>: cannot read '<path>': <reason>" and -errno
 * (the audit would be incomplete); a sealroot.conf that does not parse is
 * not: the check config.lint reports it. */
int audit_load(struct audit *a, const struct audit_inputs *in, FILE *err);

/* Run every check whose inputs are there. -errno if one could not
 * finish (status AUDIT_CHECK_FAILED) or memory ran out. */
int audit_run(struct audit *a);

void audit_free(struct audit *a);

/* Why check i was skipped (an input it needs is missing), or NULL. */
const char *audit_skip_reason(const struct audit *a, size_t check);

/* For the checks: add a finding to the check running. NULL when memory
 * ran out (a->oom). */
struct audit_finding *audit_add(struct audit *a, enum audit_severity sev,
				const char *subject, const char *topic,
				const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

int audit_add_path(struct audit *a, struct audit_finding *f, const char *path);

/* Path i of a finding (i < f->npaths). */
const char *audit_finding_path(const struct audit_finding *f, size_t i);

const char *audit_severity_name(enum audit_severity s);
size_t audit_count(const struct audit *a, enum audit_severity s);
bool audit_blocked(const struct audit *a);

/* The findings, most severe first, then by group and check. short_form:
 * only the blocking ones, and the count line. */
void audit_print(const struct audit *a, FILE *out, bool short_form);

/* The same findings as JSON (tests/audit.schema.json). */
int audit_print_json(const struct audit *a, FILE *out);

#endif
