/* The LUKS2 state volume (libcryptsetup): classify the device, provision a
 * blank one crash-safely, find systemd's "systemd-tpm2" token, activate by
 * the token's keyslot or by a recovery key, read the volume key for EVM.
 * No TPM here: the caller unseals and passes the secret or passphrase.
 *
 * States (kept in the LUKS2 header's *subsystem* field, see luks.c):
 *   BLANK         no signature libblkid sees and the first MiB all zero
 *   PROVISIONING  subsystem "sealroot-provisioning", or sealroot's
 *                 provisioning marker in sector 0 (a provisioning that
 *                 was cut before its header was complete)
 *   READY         subsystem "sealroot-ready"
 *   FOREIGN       anything else; never written to
 * Only BLANK and PROVISIONING are ever formatted; READY never is. The
 * open functions (token, activate, volume key) take any consistent LUKS2
 * header and never write it, so a volume enrolled by systemd's own tools
 * (FOREIGN: no subsystem of ours) opens, and is never formatted.
 * luks_reseal takes the same headers and changes only keyslots and
 * tokens, on the proof of a recovery key.
 *
 * Every function returns 0 or -errno, writes ret_* only on success and
 * logs a failure once ("sealroot: state: cannot <verb> '<dev>': ...");
 * callers do not log it again. libcryptsetup's own messages go through
 * log.c too (info level: context; ours is the error). Codes:
 *   -EMEDIUMTYPE  FOREIGN: not ours to format, or no LUKS2 to open or
 *                 re-seal
 *   -EEXIST       provision: READY (never formatted); activate: name in use
 *   -ENOSPC       smaller than LUKS_MIN_DEVICE
 *   -ESTALE       an interrupted provisioning (provision again)
 *   -ENOENT       BLANK; no such token, keyslot or recovery keyslot
 *   -EBADMSG      header refused by libcryptsetup; every token refused
 *   -EKEYREJECTED the passphrase or recovery key does not open the keyslot
 *   -EOPNOTSUPP   the keyslot's PBKDF is not a minimal PBKDF2: not tried
 *   -EINVAL       not a passphrase or recovery key
 *   -EUCLEAN      luks_repair left the copies inconsistent
 * and I/O errors as they come (-EIO, -EBUSY: device in use, -ENOMEM). Passphrases, recovery keys and volume keys only pass through
 * fixed buffers, wiped on every path, never logged. */
#ifndef SEALROOT_LUKS_H
#define SEALROOT_LUKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tpm2token.h"

#define LUKS_SUBSYSTEM_PROVISIONING "sealroot-provisioning"
#define LUKS_SUBSYSTEM_READY "sealroot-ready"
/* Sector 0 while the header is being written (see luks_provision). */
#define LUKS_MARKER "SEALROOT-PROVISIONING-IN-PROGRESS\n"
#define LUKS_MARKER_SIZE 512

#define LUKS_HEADER_AREA (16u << 20)	/* headers + keyslots; data after */
#define LUKS_MIN_DEVICE (LUKS_HEADER_AREA + (1u << 20))
#define LUKS_VOLUME_KEY_SIZE 64		/* aes-xts-plain64, 2 x 256 bits */
#define LUKS_VOLUME_KEY_MAX 64
/* A keyslot we unlock must use PBKDF2 with at most this many iterations:
 * systemd's TPM and recovery slots use 1000. A header edited offline to
 * a memory-hard KDF could otherwise exhaust PID 1's memory. */
#define LUKS_PBKDF2_ITER_MAX 10000
#define LUKS_PASSPHRASE_MAX 512
#define LUKS_WHAT_MAX 96

enum luks_state {
	LUKS_BLANK,
	LUKS_PROVISIONING,
	LUKS_READY,
	LUKS_FOREIGN,
};

struct luks_info {
	enum luks_state state;
	/* PROVISIONING from the marker alone: provision again. */
	bool interrupted;
	/* A valid LUKS2 header was found: the open functions accept it,
	 * also when FOREIGN (a volume systemd-cryptenroll enrolled: opened,
	 * never formatted). */
	bool luks2;
	/* Both LUKS2 header copies valid and of the same seqid. If not, the
	 * current copy (valid, highest seqid) is the one reported and used;
	 * luks_repair restores the other when the caller decides to. */
	bool consistent;
	/* What was found, for messages: "an ext4 signature", ... */
	char what[LUKS_WHAT_MAX];
};

/* Read-only look at dev (block device or image file): never a write,
 * libcryptsetup is not asked (its header load may repair, i.e. write).
 * Errors only when dev cannot be read. */
int luks_classify(const char *dev, struct luks_info *ret);

struct luks_slots {
	int tpm_keyslot;
	int tpm_token;
	int recovery_keyslot;	/* -1: none */
	int recovery_token;	/* -1: none */
};

/* From BLANK or PROVISIONING only (-EMEDIUMTYPE for FOREIGN, -EEXIST for
 * READY, -ENOSPC below LUKS_MIN_DEVICE: nothing written): a new LUKS2
 * header in memory (fresh volume key from libcryptsetup's RNG on
 * /dev/random; subsystem "sealroot-provisioning"), keyslot with the
 * passphrase tpm2token_passphrase(secret) at PBKDF2-sha512/1000, token
 * *token (its keyslot field is set here), and when recovery_key is not
 * NULL (tpm2token_recovery_format's string) a keyslot for it at the same
 * PBKDF with a "systemd-recovery" token, as systemd-cryptenroll 252 does.
 * Then written to dev so that a power cut at any point leaves BLANK or
 * PROVISIONING: marker sector, everything after sector 0, sector 0. */
int luks_provision(const char *dev, const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
		   const struct tpm2token *token, const char *recovery_key,
		   struct luks_slots *ret);

/* PROVISIONING -> READY (one header update, both copies); 0 without a
 * write if already READY. -ESTALE if the provisioning was interrupted
 * (provision again), -ENOENT for BLANK, -EMEDIUMTYPE for FOREIGN. */
int luks_mark_ready(const char *dev);

/* Let libcryptsetup (crypt_repair) restore a LUKS2 header copy that is
 * damaged or stale (a power cut during a header update) from the current
 * one; 0 without a write if consistent. The only header write outside
 * provisioning, marking ready and re-sealing, and only when the caller
 * asks: loading never repairs (see luks.c). -EUCLEAN if still
 * inconsistent. */
int luks_repair(const char *dev);

/* The first systemd-tpm2 token with id >= start that parses strictly,
 * names an active keyslot assigned to it and that keyslot's PBKDF is
 * PBKDF2 within LUKS_PBKDF2_ITER_MAX. Each refused token is logged with
 * its id. -ENOENT: no systemd-tpm2 token from start on; -EBADMSG: some,
 * all refused. The header is never written. */
int luks_tpm2_token(const char *dev, int start, struct tpm2token *ret_token,
		    int *ret_id);

/* Activate dev as /dev/mapper/name with passphrase on keyslot only; name
 * NULL only checks that the passphrase opens it. -EKEYREJECTED: it does
 * not; -ENOENT: no such active keyslot; -EOPNOTSUPP: its PBKDF is not a
 * minimal PBKDF2; -EEXIST: name in use. */
int luks_activate(const char *dev, const char *name, int keyslot,
		  const char *passphrase);

/* The volume key, for what is derived from it (evm.c). Wiped by its
 * holder. */
struct luks_key {
	uint8_t bytes[LUKS_VOLUME_KEY_MAX];
	size_t size;
};

/* luks_activate, with the volume key in *ret_vk (NULL: not wanted): taken
 * out by the keyslot's KDF, then the mapping activated by it. */
int luks_open(const char *dev, const char *name, int keyslot,
	      const char *passphrase, struct luks_key *ret_vk);

/* The same with a recovery key as typed (any case, spaces, dashes), on
 * the keyslots of systemd-recovery tokens only. -EINVAL: not a recovery
 * key; -ENOENT: no recovery keyslot; -EKEYREJECTED: none opened. */
int luks_activate_recovery(const char *dev, const char *name,
			   const char *recovery_key);

/* luks_activate_recovery, with the volume key in *ret_vk (NULL: not
 * wanted). */
int luks_open_recovery(const char *dev, const char *name,
		       const char *recovery_key, struct luks_key *ret_vk);

/* The encrypted EVM key's blob (keyctl's text form), kept in a LUKS2
 * token of type LUKS_EVM_TOKEN with no keyslot. -ENOENT: none; -EBADMSG:
 * a malformed one. Never writes. */
#define LUKS_EVM_TOKEN "sealroot-evm"
#define LUKS_EVM_BLOB_MAX 1024
int luks_evm_blob(const char *dev, char ret_blob[LUKS_EVM_BLOB_MAX]);

/* Add the token (one header update). -EEXIST: there is one already. */
int luks_evm_blob_save(const char *dev, const char *blob);

/* Remove /dev/mapper/name (the kernel forgets its key). */
int luks_deactivate(const char *name);

/* How many keyslots of systemd-recovery tokens a recovery key could open
 * (0: no point in asking for one). Never writes. */
int luks_recovery_slots(const char *dev, unsigned *ret_count);

/* The volume key, unlocked by passphrase on keyslot, into the caller's
 * fixed buffer (the caller wipes it). */
int luks_volume_key(const char *dev, int keyslot, const char *passphrase,
		    uint8_t ret_key[LUKS_VOLUME_KEY_MAX], size_t *ret_len);

/* Re-seal after a recovery-key unlock, to a secret sealed to the PCRs
 * as they are now. recovery_key as typed (tpm2token_recovery_normalize)
 * must open a keyslot of a systemd-recovery token, as for
 * luks_activate_recovery: nothing is written before it has. Then, each
 * its own header update: (1) a new keyslot with the passphrase
 * tpm2token_passphrase(secret) at PBKDF2-sha512/1000, the volume key
 * taken from the recovery keyslot inside libcryptsetup; (2) *token for
 * it (keyslot field set here); both read back and checked; (3) every
 * other systemd-tpm2 token, parsed or not, each followed by its keyslots
 * that no token names any more. A power cut at any point leaves the
 * recovery key working, from (2) on the new secret too (an old token
 * still there fails on its policy hash: harmless), at worst a keyslot no
 * token names, whose passphrase is gone with its sealed secret. Never
 * formats, never writes the subsystem, never destroys a keyslot that a
 * recovery or any other token names: READY volumes and volumes
 * systemd-cryptenroll enrolled alike; copies that disagree (an earlier
 * update cut) are both rewritten from the current one by the first
 * update. ret (on success): the new TPM keyslot and token, the
 * recovery keyslot and token that opened.
 * -EMEDIUMTYPE: no LUKS2 header; -EINVAL: not a recovery key, or *token
 * cannot be written; -ENOENT: no recovery keyslot; -EKEYREJECTED: the
 * recovery key opens none. Nothing is written in these cases. */
int luks_reseal(const char *dev, const char *recovery_key,
		const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
		const struct tpm2token *token, struct luks_slots *ret);

/* Test seam: called after each step of luks_provision (with the device
 * or header fd) and of luks_reseal (fd -1); a negative return stops
 * there with that code, as a power cut would (tests). NULL in
 * production. */
enum luks_step {
	LUKS_STEP_BUILT,	/* header complete in memory, nothing written */
	LUKS_STEP_MARKER,	/* marker in sector 0, synced */
	LUKS_STEP_BODY,		/* all but sector 0 written, synced */
	LUKS_STEP_HEADER,	/* sector 0 written, synced: header complete */
	LUKS_STEP_RESEAL_KEYSLOT, /* re-seal: new keyslot written, no token */
	LUKS_STEP_RESEAL_TOKEN,	/* re-seal: its token written, old ones kept */
};
extern int (*luks_step_hook)(enum luks_step step, int fd);

#endif
