/* The TPM 2.0: one ESAPI context per boot, on the raw TPM device
 * (/dev/tpm0) through a transport of our own (write the command, read
 * the response: see tpm.c), created directly: no tctildr, no dlopen, no
 * probe command of tss2-tcti-device's.
 *
 * Not /dev/tpmrm0: in the initramfs sealroot is PID 1 and the only
 * process that uses the TPM. The kernel's own users (IMA's PCR extends,
 * the TPM hwrng) go through the chip lock, not through a device file,
 * and touch none of our objects (a kernel with TCG_TPM2_HMAC, 6.10+,
 * loads its null key and a session around each of its commands and
 * flushes them: one slot of each beside ours, two objects and one
 * session at most, within the 3 and 3 a PC Client TPM has at least). So
 * the resource manager's context swaps (ContextSave, ContextLoad,
 * FlushContext around each of our commands) would be pure overhead on
 * the wire. Without it every transient object and session we create is
 * ours to flush, on every path: this module records what it holds, and
 * tpm_close flushes what is left. If sealroot dies with objects loaded,
 * the kernel panics (PID 1 exited) and the machine reboots, which
 * resets the TPM. /dev/tpm0 opens once at a time (a second open gets
 * EBUSY). The kernel ran TPM2_Startup when it probed the chip
 * (tpm2_auto_startup), before /dev/tpm0 existed: the device path sends
 * none.
 *
 * This module knows TPM objects, PCRs and sessions, nothing of LUKS or
 * tokens. The sealed object and the primary key are those of systemd 252's
 * systemd-tpm2 token (see tpm.c), so either side unseals what the other
 * sealed.
 *
 * Every function returns 0 or -errno and writes its ret_* outputs only on
 * success. A failure is logged once here, decoded (callers do not log it
 * again), and mapped:
 *   -ENODEV       no TPM (device missing or not answering at open)
 *   -EBUSY        the TPM device is open elsewhere (it opens once)
 *   -EPERM        policy or PCR mismatch: the PCRs are not what was sealed
 *   -ENOLCK       the TPM is in dictionary-attack lockout
 *   -EBADMSG      a blob that is damaged or was not sealed under this parent
 *   -EKEYREJECTED a persistent key whose name is not the one recorded
 *   -EACCES       an authorization failed (an owner password is set:
 *                 systemd 252's primary needs the owner auth empty)
 *   -ENOENT       no object at a persistent handle
 *   -EEXIST       the persistent handle is taken
 *   -EIO          any other TPM or transport failure
 * Secrets only ever pass through fixed buffers and are wiped on every
 * path; nothing here logs them. */
#ifndef SEALROOT_TPM_H
#define SEALROOT_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_esys.h>

#define TPM_DEVICE "/dev/tpm0"

/* Where sealroot persists its primary (owner hierarchy, TCG's range for
 * storage primary keys 0x81000000-0x8100ffff). Not 0x81000001: systemd 254+
 * puts its own SRK there, with noDA, a different key. "5EA1" for seal. */
#define TPM_PRIMARY_HANDLE 0x81005ea1u

#define TPM_PCR_COUNT 24
#define TPM_PCR_MASK_ALL 0xffffffu
#define TPM_DIGEST_SIZE 32	/* SHA-256: the only PCR bank and name hash used */
#define TPM_SECRET_SIZE 32	/* the sealed secret, as systemd 252 seals it */
#define TPM_UNSEAL_TRIES 30	/* TPM_RC_PCR_CHANGED retries, as systemd 252.3+ */
/* Transient objects and sessions one context may hold at once: more than
 * a TPM loads (PC Client TPMs: 3 objects, 3 sessions, typically). */
#define TPM_HELD_MAX 16

/* The TPM's name of an object: nameAlg (2 bytes) then the digest of its
 * public area. What the caller records at provisioning. */
struct tpm_name {
	uint16_t size;
	uint8_t bytes[sizeof(TPMU_NAME)];
};

/* A sealed object as systemd stores it in the token's tpm2-blob:
 * TPM2B_PRIVATE then TPM2B_PUBLIC, marshalled, nothing after. */
#define TPM_BLOB_MAX (sizeof(TPM2B_PRIVATE) + sizeof(TPM2B_PUBLIC))
struct tpm_blob {
	size_t size;
	uint8_t bytes[TPM_BLOB_MAX];
};

/* Commands counted by code, for the boot's report. */
#define TPM_CC_SLOTS 16
struct tpm_cc_count {
	uint32_t cc;
	unsigned n;
};

struct tpm {
	/* Public: what this context sent to the TPM. */
	unsigned commands;
	struct tpm_cc_count by_cc[TPM_CC_SLOTS];
	/* Test seams: called before each command goes out, with its code
	 * (may send raw commands of its own on .tcti), and with each
	 * response before ESYS reads it (may alter it: a forged answer). */
	void (*before_command)(struct tpm *t, uint32_t cc, void *userdata);
	void (*on_response)(struct tpm *t, uint32_t cc, uint8_t *resp,
			    size_t size, void *userdata);
	void *userdata;

	/* Private. ESYS talks to .counter, which forwards to .tcti. */
	TSS2_TCTI_CONTEXT_COMMON_V2 counter;
	TSS2_TCTI_CONTEXT *tcti;
	uint32_t last_cc;
	/* The transient objects and sessions this context created and has
	 * not flushed: tpm_close flushes them (no resource manager will). */
	ESYS_TR held[TPM_HELD_MAX];
	unsigned n_held;
	bool tcti_owned;
	bool quieted;		/* we set TSS2_LOG */
	ESYS_CONTEXT *esys;
};

/* The name of a command code ("Unseal"), NULL for one we do not send. */
const char *tpm_cc_name(uint32_t cc);
/* "Startup 1, PCR_Read 2, ..." of what t sent, in first-sent order, into
 * buf (cut at size); returns the length it wanted. */
size_t tpm_format_counts(const struct tpm *t, char *buf, size_t size);

/* Open the TPM at dev (TPM_DEVICE), started up by the kernel already. */
int tpm_open(struct tpm *t, const char *dev);
/* The same on a TCTI the caller made (tests: swtpm), with a
 * TPM2_Startup(CLEAR) first (TPM_RC_INITIALIZE, started already, is
 * fine): no kernel stands in front of a raw simulator. The caller keeps
 * ownership of tcti and finalizes it after tpm_close. */
int tpm_open_tcti(struct tpm *t, TSS2_TCTI_CONTEXT *tcti);
/* Flush every transient object and session still held, then close. */
void tpm_close(struct tpm *t);

/* Release an ESYS handle: a transient object or session is flushed from
 * the TPM, a persistent one only forgotten. *h becomes ESYS_TR_NONE. */
void tpm_handle_release(struct tpm *t, ESYS_TR *h);

/* Read the SHA-256 values of the PCRs in mask (bit n = PCR n) into
 * ret_values[n]; other rows are left alone. */
int tpm_pcr_read(struct tpm *t, uint32_t mask,
		 uint8_t ret_values[TPM_PCR_COUNT][TPM_DIGEST_SIZE]);
/* Extend one SHA-256 digest into the SHA-256 bank of PCR pcr. */
int tpm_pcr_extend(struct tpm *t, unsigned pcr,
		   const uint8_t digest[TPM_DIGEST_SIZE]);
/* size bytes from the TPM's RNG, in the clear on the bus (not for
 * secrets: tpm_seal draws its secret through an encrypted session). */
int tpm_get_random(struct tpm *t, void *ret_buf, size_t size);

/* Create systemd 252's ECC primary (owner hierarchy), transient. The
 * TPM derives it from its seed and the template: the same key each time. */
int tpm_primary_create(struct tpm *t, ESYS_TR *ret_handle,
		       struct tpm_name *ret_name);
/* Make the transient primary persistent at handle (TPM_PRIMARY_HANDLE);
 * the transient stays loaded (release it). */
int tpm_primary_persist(struct tpm *t, ESYS_TR transient, uint32_t handle,
			ESYS_TR *ret_persistent);
/* Use the key at a persistent handle only if its name is expected_name:
 * whoever has root on a booted system can put another key there. */
int tpm_primary_open_persistent(struct tpm *t, uint32_t handle,
				const struct tpm_name *expected_name,
				ESYS_TR *ret_handle);

/* Seal TPM_SECRET_SIZE random bytes from the TPM under parent, to the
 * current SHA-256 values of the PCRs in pcr_mask (PolicyPCR). Returns the
 * blob, the policy digest (systemd's tpm2-policy-hash) and the secret. */
int tpm_seal(struct tpm *t, ESYS_TR parent, uint32_t pcr_mask,
	     struct tpm_blob *ret_blob,
	     uint8_t ret_policy_digest[TPM_DIGEST_SIZE],
	     uint8_t ret_secret[TPM_SECRET_SIZE]);
/* Unseal blob under parent if the PCRs in pcr_mask still hold the sealed
 * values. The blob's authPolicy must be expected_policy_digest (the
 * token's policy hash), checked before any command (-EBADMSG); the TPM
 * then enforces it: a policy failure of Unseal is -EPERM. The session is
 * salted with parent and encrypts the response: the secret never crosses
 * the bus in the clear. */
int tpm_unseal(struct tpm *t, ESYS_TR parent, const struct tpm_blob *blob,
	       uint32_t pcr_mask,
	       const uint8_t expected_policy_digest[TPM_DIGEST_SIZE],
	       uint8_t ret_secret[TPM_SECRET_SIZE]);

#endif
