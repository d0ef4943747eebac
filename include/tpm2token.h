/* The sealed state's pure pieces, tested on the host: systemd's
 * "systemd-tpm2" LUKS2 token (strict parser and serializer, v252 layout),
 * the PolicyPCR digest the TPM computes for it, the LUKS passphrase systemd
 * derives from the unsealed secret, and systemd's recovery-key format.
 * Knows nothing of LUKS or ESAPI: TPM algorithm ids are spelled out here.
 *
 * The token comes from a LUKS2 header an offline attacker can write, so
 * nothing in it is trusted: every field is type-checked and bounded, and
 * the result is a fixed-size struct with no pointers into the JSON. */
#ifndef SEALROOT_TPM2TOKEN_H
#define SEALROOT_TPM2TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TPM_ALG_ID values (TPM 2.0 Part 2, table 9). */
#define TPM2TOKEN_ALG_RSA 0x0001
#define TPM2TOKEN_ALG_SHA1 0x0004
#define TPM2TOKEN_ALG_SHA256 0x000b
#define TPM2TOKEN_ALG_SHA384 0x000c
#define TPM2TOKEN_ALG_SHA512 0x000d
#define TPM2TOKEN_ALG_ECC 0x0023

#define TPM2TOKEN_PCRS 24		/* PC client TPMs: PCR 0..23 */
#define TPM2TOKEN_KEYSLOTS 32		/* LUKS2 keyslots 0..31 */
#define TPM2TOKEN_DIGEST_SIZE 32	/* SHA-256 policy digest */
/* Upper bounds of the two TPM2B parts of "tpm2-blob": the sizes of
 * TPM2B_PRIVATE.buffer (sizeof(_PRIVATE)) and of TPMT_PUBLIC in tpm2-tss
 * 4.1, which Tss2_MU refuses to exceed. */
#define TPM2TOKEN_PRIVATE_MAX 1550
#define TPM2TOKEN_PUBLIC_MAX 612
#define TPM2TOKEN_BLOB_MAX (2 + TPM2TOKEN_PRIVATE_MAX + 2 + TPM2TOKEN_PUBLIC_MAX)
/* A TPM2B_NAME of a sha256 key: nameAlg (2 bytes) then the digest. */
#define TPM2TOKEN_NAME_SIZE (2 + 32)
/* Owner persistent handles (TPM 2.0 Part 2, 7.5: 81 00 00 00..81 7F FF FF). */
#define TPM2TOKEN_HANDLE_FIRST 0x81000000u
#define TPM2TOKEN_HANDLE_LAST 0x817fffffu

/* Limits on the token JSON: far above what systemd writes (< 4 KiB). */
#define TPM2TOKEN_JSON_MAX 16384
#define TPM2TOKEN_JSON_DEPTH 16
#define TPM2TOKEN_MSG_MAX 128		/* parser messages always fit */

#define TPM2TOKEN_SECRET_SIZE 32	/* what systemd seals */
#define TPM2TOKEN_PASSPHRASE_LEN 44	/* base64 of 32 bytes */
#define TPM2TOKEN_RECOVERY_SIZE 32	/* random bytes in a recovery key */
#define TPM2TOKEN_RECOVERY_LEN 71	/* 8 groups of 8 modhex, 7 dashes */
#define TPM2TOKEN_RECOVERY_INPUT_MAX 256
/* "PCR 23 expected <64 hex> read <64 hex>" and a NUL. */
#define TPM2TOKEN_PCR_LINE_MAX 160

struct tpm2token {
	uint32_t keyslot;		/* the LUKS2 keyslot it unlocks */
	uint32_t pcr_mask;		/* bit n set: PCR n in the policy */
	uint16_t pcr_bank;		/* TPM2TOKEN_ALG_SHA*; 0: field absent */
	uint16_t primary_alg;		/* ECC (also when absent) or RSA */
	bool pin;			/* "tpm2-pin": PolicyAuthValue too */
	uint8_t policy_hash[TPM2TOKEN_DIGEST_SIZE];
	/* "tpm2-blob" split: the contents of the TPM2B_PRIVATE and of the
	 * TPM2B_PUBLIC (a marshalled TPMT_PUBLIC), without size prefixes. */
	uint16_t private_size;
	uint8_t private_area[TPM2TOKEN_PRIVATE_MAX];
	uint16_t public_size;
	uint8_t public_area[TPM2TOKEN_PUBLIC_MAX];
	/* sealroot's own fields, ignored by systemd: the persistent primary
	 * the blob was sealed under and its name, to be checked before the
	 * key is trusted. primary_handle 0: none recorded. */
	uint32_t primary_handle;
	uint8_t primary_name[TPM2TOKEN_NAME_SIZE];
	/* sealroot's "sealroot_pcr_values": the SHA-256 values the PCRs in
	 * pcr_mask held when the secret was sealed, row n for PCR n (rows
	 * outside the mask zero). Only with the sha256 bank and no PIN.
	 * Diagnostic only, to name the PCR that changed when an unseal
	 * fails: they come from the header, and the parser's check that
	 * they reproduce policy_hash makes them no more trustworthy than
	 * policy_hash itself. Never a reason to trust or unseal anything. */
	bool has_pcr_values;
	uint8_t pcr_values[TPM2TOKEN_PCRS][TPM2TOKEN_DIGEST_SIZE];
};

/* Parse one LUKS2 token object of type "systemd-tpm2" (len bytes, no NUL
 * needed) into *ret, written only on success. Unknown fields are ignored
 * as systemd 252 does; what is read is held to what systemd writes. On
 * error msg gets a line naming the field (never token text) and:
 *   -E2BIG	  input above TPM2TOKEN_JSON_MAX or nested too deep
 *   -EBADMSG	  not a JSON object
 *   -EMEDIUMTYPE "type" is not "systemd-tpm2"
 *   -ENODATA	  a required field is missing
 *   -EINVAL	  a field of the wrong type or syntax
 *   -ERANGE	  a PCR, keyslot or handle out of range
 *   -ENOTUNIQ	  a PCR listed twice
 *   -EOPNOTSUPP  an unknown bank or primary algorithm, a signed PCR policy
 *   -EMSGSIZE	  a TPM2B part larger than its maximum
 *   -EPROTO	  "tpm2-blob" not exactly TPM2B_PRIVATE then TPM2B_PUBLIC
 *   -EIO	  hashing failed (OpenSSL)
 * sealroot's "sealroot_pcr_values" is an array of lowercase hex SHA-256
 * values, exactly one per PCR of "tpm2-pcrs" in ascending PCR order (the
 * position names the PCR: no key to repeat), e.g. for "tpm2-pcrs":[0,7]
 *   "sealroot_pcr_values":["<64 hex: PCR 0>","<64 hex: PCR 7>"]
 * Any fault in it is -EINVAL naming the field: not an array of that
 * many strings, a value not 64 lowercase hex digits, a bank other than
 * an explicit "sha256", a PIN, or values from which
 * tpm2token_policy_pcr does not give "tpm2-policy-hash" (an offline
 * writer could otherwise record misleading values). */
int tpm2token_parse(const char *json, size_t len, struct tpm2token *ret,
		    char msg[TPM2TOKEN_MSG_MAX]);

/* The token as systemd 252's tpm2_make_luks2_json writes it (same fields,
 * types and order), plus sealroot's fields: the primary's when
 * primary_handle is set, then the PCR values when has_pcr_values is.
 * NUL-terminated into buf; -ENOBUFS (buf untouched) if it does not fit,
 * -EINVAL if t would not parse back. */
int tpm2token_format(const struct tpm2token *t, char *buf, size_t size,
		     size_t *ret_len);

/* "tpm2-blob" as bytes: TPM2B_PRIVATE then TPM2B_PUBLIC, each with its
 * 2-byte big-endian size (how Esys_Create's outputs are marshalled and
 * what tpm2-tss loads). Join writes t's two parts into blob and returns
 * the length (t's sizes within their maxima, as the parser leaves them).
 * Split is the parser's own check: each part present, non-empty, within
 * its maximum, nothing after; on error msg says which and t's blob parts
 * may be partly written: -EPROTO, -EMSGSIZE. */
size_t tpm2token_blob_join(const struct tpm2token *t,
			   uint8_t blob[TPM2TOKEN_BLOB_MAX]);
int tpm2token_blob_split(const uint8_t *blob, size_t n, struct tpm2token *t,
			 char msg[TPM2TOKEN_MSG_MAX]);

/* Field-by-field equality (struct padding is not compared; of
 * pcr_values only the rows in pcr_mask, and only when recorded). */
bool tpm2token_equal(const struct tpm2token *a, const struct tpm2token *b);

/* The policy digest the TPM reaches from an empty policy after
 * TPM2_PolicyPCR over the PCRs in pcr_mask of bank, as systemd 252 records
 * it in "tpm2-policy-hash" (selection count 1, sizeofSelect 3):
 *   SHA256(0^32 || TPM_CC_PolicyPCR || TPML_PCR_SELECTION ||
 *	    SHA256(values of the selected PCRs, ascending))
 * values: the bank's digests, concatenated in ascending PCR order. An
 * empty mask is no PolicyPCR at all: 32 zero bytes, as systemd records. */
int tpm2token_policy_pcr(uint16_t bank, uint32_t pcr_mask,
			 const uint8_t *values, size_t values_size,
			 uint8_t ret_digest[TPM2TOKEN_DIGEST_SIZE]);

/* The PCRs whose value now differs from the one t recorded at sealing:
 * current[n] is PCR n's SHA-256 value now (tpm_pcr_read's layout), only
 * the rows of t->pcr_mask are read. *ret_mask gets the PCRs that differ,
 * 0 if none. -ENODATA if t records no values. Diagnostic only (see
 * struct tpm2token): a reason for a failed unseal, never a decision. */
int tpm2token_pcr_diff(const struct tpm2token *t,
		       const uint8_t current[TPM2TOKEN_PCRS][TPM2TOKEN_DIGEST_SIZE],
		       uint32_t *ret_mask);

/* "PCR <n> expected <hex> read <hex>" (lowercase hex of the value t
 * recorded and of value_now), NUL-terminated into ret. -ENODATA if t
 * records no values, -EINVAL if pcr is not in t->pcr_mask. */
int tpm2token_pcr_line(const struct tpm2token *t, unsigned int pcr,
		       const uint8_t value_now[TPM2TOKEN_DIGEST_SIZE],
		       char ret[TPM2TOKEN_PCR_LINE_MAX]);

/* The LUKS passphrase systemd derives from the unsealed secret: standard
 * padded base64, no newline, 44 characters and a NUL. */
int tpm2token_passphrase(const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
			 char ret[TPM2TOKEN_PASSPHRASE_LEN + 1]);

/* A recovery key in systemd's format from 32 caller-supplied random bytes:
 * 64 modhex characters, a dash after every 8th but the last. This string
 * is the LUKS passphrase, exactly as systemd-cryptenroll enrolls it. */
int tpm2token_recovery_format(const uint8_t key[TPM2TOKEN_RECOVERY_SIZE],
			      char ret[TPM2TOKEN_RECOVERY_LEN + 1]);

/* Typed input to the canonical recovery key (the passphrase): any case,
 * spaces, tabs and dashes anywhere; exactly 64 modhex characters remain.
 * -EINVAL if not a recovery key, -E2BIG above TPM2TOKEN_RECOVERY_INPUT_MAX.
 * ret written only on success; no copy of the input is left behind. */
int tpm2token_recovery_normalize(const char *input,
				 char ret[TPM2TOKEN_RECOVERY_LEN + 1]);

#endif
