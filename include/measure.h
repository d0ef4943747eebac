/* The barrier: after the last unseal and before switch_root, sealroot
 * extends a fixed event into the PCRs its secrets are sealed to, so the
 * booted system can never again present the values they were sealed to;
 * and it records that in systemd's userspace TPM2 measurement log, so
 * the booted system can see what was measured and what the PCRs held
 * before (the values a new enrollment from the booted system must name).
 *
 * The event is systemd's own for this moment: eventType "phase", string
 * "leave-initrd" (systemd-pcrphase-initrd.service measures it when the
 * initrd is left, into PCR 11), its SHA-256 extended into each PCR of the
 * mask. One string for one moment: a reader that knows systemd's phases
 * (systemd-pcrlock's 800-leave-initrd component, for PCR 11) recognizes
 * it, and systemd-pcrlock finds the digest to be SHA-256 of the string.
 *
 * The log: /run/log/systemd/tpm2-measure.log, in the format systemd
 * v255-v256 write (src/shared/tpm2-util.c, tpm2_userspace_log): RFC 7464
 * JSON text sequences, each record 0x1E, one JSON object, "\n". One record
 * per PCR, keys in systemd's order, plus one object of ours:
 *
 *   <RS>{"pcr":7,"digests":[{"hashAlg":"sha256","digest":"<64 hex>"}],
 *   "content_type":"systemd","content":{"string":"leave-initrd",
 *   "bootId":"<32 hex>","timestamp":<CLOCK_BOOTTIME usec>,
 *   "eventType":"phase","sealroot":{"pcrBefore":"<64 hex>"}}}<LF>
 *
 * (one line in the file). systemd's format has no field for the value
 * before an extend; "content"."sealroot"."pcrBefore" carries it. systemd
 * v255-v256's reader (pcrlock.c, event_log_record_parse_json) looks only
 * at the keys it knows, ignores others at every level and keeps "content"
 * whole (it prints it back in its JSON output): the extra object is
 * carried along, never an error. The file is created 0600 in a 0755
 * directory, locked with flock and marked with S_ISVTX while written, as
 * systemd does: a log left marked was cut short, and systemd refuses to
 * append to it; so do we.
 *
 * The log is untrusted: root on the booted system can write anything into
 * it. It is worth what it replays to: measure_replay recomputes each
 * PCR's SHA-256 value from the records, so a log whose replay equals the
 * TPM's PCR values names the values before the barrier truly (pcrBefore
 * is a SHA-256 preimage of the PCR's value). The reader is strict and
 * bounded: any record it cannot read fails the replay, since a record it
 * skipped could have extended a PCR.
 *
 * Functions return 0 or -errno and write ret_* only on success. */
#ifndef SEALROOT_MEASURE_H
#define SEALROOT_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "tpm.h"

#define MEASURE_LOG_PATH "/run/log/systemd/tpm2-measure.log"
#define MEASURE_EVENT_TYPE "phase"
#define MEASURE_EVENT_STRING "leave-initrd"

#define MEASURE_RECORD_MAX 512	/* one record of ours, formatted */
/* Limits on a log read back: far above what a boot writes (systemd's
 * longest record: a 1024-byte escaped description). */
#define MEASURE_LOG_MAX (1u << 20)
#define MEASURE_LOG_RECORD_MAX 16384
#define MEASURE_JSON_DEPTH 16
#define MEASURE_MSG_MAX 128		/* replay messages always fit */

/* SHA-256 PCR values, one row per PCR; mask: the rows that hold one. */
struct measure_pcrs {
	uint32_t mask;
	uint8_t values[TPM_PCR_COUNT][TPM_DIGEST_SIZE];
};

/* What a barrier did: the PCRs it extended, before and after. */
struct measure_barrier {
	struct measure_pcrs before;
	struct measure_pcrs after;
};

/* Read the PCRs in pcr_mask and extend the event into each: once the
 * extends succeeded the barrier is in place, and before are the values it
 * followed; after, each SHA-256(before || event digest), is computed,
 * not read back (one PCR_Read a boot): nothing else extends a sealed PCR
 * in the initramfs (IMA's PCR 10 is refused in the mask). Fails closed:
 * any error means the barrier is not known to be in place (the caller
 * stops the boot). TPM failures are logged by tpm.c; besides its codes:
 *   -EINVAL  pcr_mask empty or beyond PCR 23 */
int measure_barrier(struct tpm *t, uint32_t pcr_mask,
		    struct measure_barrier *ret);

/* Append one record per PCR of b->before.mask to the log at path
 * (MEASURE_LOG_PATH), making its directories: one write per record,
 * short writes are errors. Called after measure_barrier succeeded, with
 * what it returned: a record says an extend happened. Errors are logged
 * (stage "barrier") with the errno of the failed call, and:
 *   -ESTALE  the log is marked as cut short by an earlier writer
 *   -EBADFD  the path is not a regular file
 *   -EBADMSG /proc/sys/kernel/random/boot_id is not a UUID
 * A failure leaves the barrier in place: what is fatal is main's call. */
int measure_log_append(const char *path, const struct measure_barrier *b);

/* The text of one record (as in the header comment): the event extended
 * into PCR pcr, which held before; boot_id the kernel's boot ID (16
 * bytes), timestamp_usec CLOCK_BOOTTIME. *ret_len bytes, NUL after them.
 * -EINVAL: pcr beyond 23; -ENOBUFS: size too small. */
int measure_record_format(unsigned pcr, const uint8_t before[TPM_DIGEST_SIZE],
			  const uint8_t boot_id[16], uint64_t timestamp_usec,
			  char *buf, size_t size, size_t *ret_len);

/* A log replayed: per PCR, its start value and then SHA-256(value ||
 * digest) for each record's SHA-256 digest, in order. */
struct measure_replay {
	unsigned records;			/* records in the log */
	unsigned extends[TPM_PCR_COUNT];	/* SHA-256 digests, per PCR */
	/* pcrBefore of each PCR's first sealroot record: the values the
	 * first barrier followed */
	struct measure_pcrs before;
	/* each PCR's value after the log; a PCR is in values.mask when its
	 * start is known: from start, else from its first sealroot record
	 * (records before that one are part of pcrBefore) */
	struct measure_pcrs values;
};

/* Replay the log text (len bytes, no NUL needed) from start (NULL: none
 * but the log's own pcrBefore). Each sealroot record's pcrBefore must be
 * the value replayed so far for its PCR, when one is known. Records
 * without a SHA-256 digest did not extend that bank and are read, not
 * replayed. Strict: JSON per RFC 8259 in valid UTF-8 without NUL, records
 * per RFC 7464 each ending in a line feed, known keys once per object,
 * "pcr" an integer 0..23, a SHA-256 digest 64 lower-case hex digits,
 * "content" an object when "content_type" is "systemd". On error msg
 * gets a line naming the record and byte (never log text), and:
 *   -E2BIG    the log, a record or its nesting beyond the limits above
 *   -EBADMSG  anything else it cannot read or that does not replay */
int measure_replay(const char *log, size_t len,
		   const struct measure_pcrs *start,
		   struct measure_replay *ret, char msg[MEASURE_MSG_MAX]);

#endif
