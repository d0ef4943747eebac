/* Loading the IMA policy the integrator packed (policies/ima-policy,
 * signed with the UKI) into the kernel, once: the kernels sealroot runs
 * on remove the policy file after the first complete load
 * (CONFIG_IMA_WRITE_POLICY off). */
#ifndef SEALROOT_IMA_H
#define SEALROOT_IMA_H

#include <stdbool.h>
#include <stddef.h>

#include "imapolicy.h"

#define IMA_POLICY_PATH IMAPOLICY_PATH	/* where mkinitramfs packs it */
#define IMA_SECFS_DIR "/sys/kernel/security/ima"
#define IMA_POLICY_MAX (64 * 1024)

struct ima_load {
	unsigned rules;			/* rule lines loaded */
	bool by_path;			/* the kernel read the file itself */
	unsigned bad_line;		/* line by line: the rejected one, 0: none */
	long measurements_before;	/* runtime_measurements_count, -1: unknown */
	long measurements_after;
};

/* Load the policy at path into secfs_dir/policy. Its path is written
 * first: the kernel then reads the file itself, measures it (a
 * POLICY_CHECK rule of the boot policy, e.g. ima_policy=tcb) and can
 * appraise its signature. If the kernel refuses it, the policy is
 * written again line by line, so the rejected line can be named (file
 * line number and text); the kernel discards a partial policy. */
int ima_load_policy(const char *secfs_dir, const char *path,
		    struct ima_load *ret);

/* Have the kernel find and keep the _ima keyring now, from PID 1, by a
 * signature check that must fail: a probe file in dir (on a volume the
 * policy appraises), removed after. -EPROTO: the check passed (dir is not
 * appraised by signature, or the kernel checks nothing). */
int ima_pin_keyring(const char *dir);

/* The rule lines of a policy text: not blank, not '#' comments (as the
 * kernel skips them). The n-th line (1-based) and its length, or -ENOENT
 * past the end. For ima.c and its tests. */
int ima_policy_line(const char *text, size_t len, unsigned n,
		    const char **ret_line, size_t *ret_len, bool *ret_rule);

#endif
