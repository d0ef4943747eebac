/* The IMA policy in the build-time audit: the one place the IMA policy
 * linter (src/imapolicy.c, also sealroot-imalint) plugs into
 * sealroot-audit.
 *
 * The audit's check "policy.ima-lint" calls audit_ima_lint() with the
 * policy's path. Each of the linter's diagnostics becomes one finding
 * (audit_add() from audit.h: an error blocks, a warning is medium advice;
 * the subject "ima-policy:LINE"), and the parsed rules become the facts
 * below, which the consistency checks that follow it in the table read
 * (appraisal by hash and EVM, the state volume covered, the verified root
 * exempted, CONFIG_IMA_APPRAISE). A policy with an error gives no facts
 * (known = false): those checks are then listed as skipped. */
#ifndef SEALROOT_AUDITIMA_H
#define SEALROOT_AUDITIMA_H

#include <stdbool.h>
#include <stddef.h>

#define AUDIT_IMA_FS_MAX 512	/* IMAPOLICY_RULES_MAX: one per rule at most */

struct audit_ima_facts {
	bool known;		/* the linter read the policy */
	unsigned rules;
	bool appraises;		/* at least one appraise rule */
	bool appraise_all;	/* an appraise rule not limited to file
				 * systems by fsuuid=, fsmagic= or fsname= */
	bool hash_appraisal;	/* an appraise rule that accepts a hash (no
				 * appraise_type=imasig): only EVM protects
				 * that security.ima against offline edits */
	char appraised_fsuuids[AUDIT_IMA_FS_MAX][37];	/* appraise fsuuid= */
	size_t n_appraised_fsuuids;
	char exempt_fsuuids[AUDIT_IMA_FS_MAX][37];	/* dont_appraise fsuuid= */
	size_t n_exempt_fsuuids;
	unsigned long exempt_fsmagics[AUDIT_IMA_FS_MAX];	/* dont_appraise fsmagic= */
	size_t n_exempt_fsmagics;
};

struct audit;

/* Lint the IMA policy at path for the audit: findings through audit_add(),
 * facts into *ret (written on success). -errno only when the policy could
 * not be linted at all (unreadable: the audit is incomplete). */
int audit_ima_lint(struct audit *a, const char *path,
		   struct audit_ima_facts *ret);

#endif
