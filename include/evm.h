/* EVM with a per-device HMAC key. The kernel takes EVM's key only as an
 * encrypted key named "evm-key", whose blob is sealed by a master key:
 *
 *   LUKS2 volume key --HKDF-SHA256--> master key (user key, 32 bytes)
 *   master key --kernel--> evm-key blob (made once, kept in the volume's
 *                          LUKS2 header, luks_evm_blob)
 *
 * Whatever opens the volume (the TPM or the recovery key) gives the same
 * volume key, so EVM survives a PCR change. Both keys live in the
 * kernel's keyrings only while EVM takes its copy; then they are
 * invalidated. */
#ifndef SEALROOT_EVM_H
#define SEALROOT_EVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVM_KMK_SIZE 32
#define EVM_KMK_DESC "sealroot-evm-kmk"
#define EVM_KEY_DESC "evm-key"		/* the name the kernel asks for */
#define EVM_KEY_LEN 64			/* HMAC-SHA1 key bytes, as evmctl's guides use */
#define EVM_BLOB_MAX 1024
/* The fixed HKDF info label: a new use of the volume key gets a new one. */
#define EVM_HKDF_INFO "sealroot evm master key v1"
#define EVM_SECFS "/sys/kernel/security/integrity/evm/evm"

/* /sys/kernel/security/evm bits (security/integrity/evm/evm.h). */
#define EVM_INIT_HMAC 0x0001u
#define EVM_INIT_X509 0x0002u
#define EVM_SETUP_COMPLETE 0x80000000u

struct evm_keys {
	int32_t kmk;			/* the user key */
	int32_t key;			/* the encrypted evm-key */
};

/* RFC 5869 with SHA-256 (salt may be empty); out_len <= 255 * 32. */
int evm_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
		    size_t salt_len, const char *info, uint8_t *out,
		    size_t out_len);

/* The master key of a volume key. */
int evm_derive_kmk(const uint8_t *vk, size_t vk_len, uint8_t ret_kmk[EVM_KMK_SIZE]);

/* A blob as the kernel reads out evm-key under our master key:
 * "default user:sealroot-evm-kmk 64 <hex>". */
bool evm_blob_valid(const char *blob);

/* Put the master key and evm-key into this process's keyring. blob
 * empty: the kernel makes a new evm-key (random) and blob is filled
 * with it (*ret_created), for the caller to keep before enabling EVM;
 * else evm-key is loaded from blob (-EKEYREJECTED: this master key does
 * not open it). On error nothing is left in a keyring. */
int evm_keys_load(const uint8_t kmk[EVM_KMK_SIZE], char blob[EVM_BLOB_MAX],
		  bool *ret_created, struct evm_keys *ret_keys);

/* Invalidate both keys (done on every path once EVM has its copy). */
void evm_keys_drop(struct evm_keys *keys);

/* Whether the active LSMs (the text of /sys/kernel/security/lsm) and the
 * kernel release (uname) are a pair whose EVM crashes on file creation
 * (the BPF LSM before Linux 6.6; see evm.c). */
bool evm_lsm_conflict(const char *lsm_list, const char *release);

/* Enable the HMAC (and, with certificates loaded into _evm, signature)
 * checks; the kernel then forbids any further EVM setup. Checks the
 * kernel reports what was asked and refuses a second write. *ret_bits:
 * what it reports. */
int evm_enable(const char *secfs, bool x509, unsigned *ret_bits);

#endif
