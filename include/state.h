/* The sealed state volume: a LUKS2 volume whose key the TPM releases only
 * in the PCR state it was sealed to. Glue between tpm.h (which knows no
 * LUKS) and luks.h (which knows no TPM), with systemd's token in between:
 *
 *   blank or interrupted  -> provision: seal a new secret under sealroot's
 *                            persistent primary, LUKS2 with its keyslot
 *                            and token (+ recovery key), mkfs; "ready"
 *                            only after EVM, IMA and personalization
 *                            (state_mark_ready)
 *   ready, or a LUKS2 volume systemd-cryptenroll enrolled
 *                         -> unseal the first usable systemd-tpm2 token
 *                            and activate its keyslot
 *   anything else         -> refused, never written
 *
 * Functions return 0 or -errno and log once. Secrets (the unsealed
 * secret, passphrases, the recovery key) live in this module's stack
 * frames only, wiped before return on every path. */
#ifndef SEALROOT_STATE_H
#define SEALROOT_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "luks.h"
#include "tpm.h"

#define STATE_MKE2FS "/sbin/mke2fs"

struct state_req {
	const char *dev;		/* /dev/vdaN */
	const char *name;		/* /dev/mapper/<name> */
	uint32_t pcr_mask;		/* seal policy: PCR 7 + configured */
	bool show_recovery;		/* provisioning makes a recovery key */
	const char *fsuuid;		/* mke2fs -U; empty: mke2fs's own */
	struct luks_key *vk;		/* filled on open (EVM's key derives from it) */
};

/* Why the TPM did not open the volume, for the console: the PCRs of the
 * token's policy as read now, and as sealed when the token records them. */
struct state_diag {
	int err;			/* 0: nothing to say */
	uint32_t pcr_mask;
	bool have_now;
	uint8_t now[TPM_PCR_COUNT][TPM_DIGEST_SIZE];
	bool have_sealed;
	uint8_t sealed[TPM_PCR_COUNT][TPM_DIGEST_SIZE];
	uint8_t policy[TPM_DIGEST_SIZE];	/* what the token expects */
};

/* Open req->dev as /dev/mapper/<name> with the TPM (t NULL: no TPM),
 * provisioning it first if blank or interrupted (*ret_provisioned).
 * Errors that a recovery key can get past (the TPM did not release the
 * key): -ENODEV no TPM, -EPERM PCRs not as sealed, -ENOLCK lockout,
 * -EBADMSG no usable token, -EKEYREJECTED a persistent key not the one
 * recorded, or the secret does not open the keyslot; diag says more.
 * Not: -EMEDIUMTYPE (foreign: refused, untouched), or provisioning and
 * I/O failures. */
int state_open(struct tpm *t, const struct state_req *req,
	       bool *ret_provisioned, struct state_diag *diag);

/* The end of a provisioning: the volume is marked ready (luks_mark_ready)
 * once everything first boot puts on it is there. */
int state_mark_ready(const struct state_req *req);

/* After a recovery-key unlock: seal a new secret to the PCRs as they are
 * now and replace the volume's systemd-tpm2 tokens with it (luks_reseal:
 * the recovery key stays). */
int state_reseal(struct tpm *t, const struct state_req *req,
		 const char *recovery_key);

/* Whether a failure of state_open is one a recovery key can get past. */
bool state_recoverable(int err);

/* Log diag (PCR n: sealed <hex>, now <hex>) on the console and kmsg:
 * PCR values are not secret. */
void state_log_diag(const struct state_diag *diag);

#endif
