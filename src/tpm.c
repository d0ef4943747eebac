/* The TPM module: see tpm.h. Written against systemd 252's
 * src/shared/tpm2-util.c (tpm2_make_primary, tpm2_seal, tpm2_unseal) for
 * the objects and policy, so the blobs interoperate; the sessions differ
 * (one salted policy session that also encrypts, a persistent primary
 * checked by name) to keep a normal unseal within a handful of commands. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_sys.h>
#include <tss2/tss2_tcti.h>

#include "log.h"
#include "tpm.h"

#define STAGE "tpm"

/* AES-128-CFB, SHA-256: the parameter encryption systemd uses. */
static const TPMT_SYM_DEF session_symmetric = {
	.algorithm = TPM2_ALG_AES,
	.keyBits.aes = 128,
	.mode.aes = TPM2_ALG_CFB,
};

/* systemd 252's ECC primary (tpm2_make_primary), bit for bit: attributes
 * 0x00030072 (no noDA), AES-128-CFB, NIST P-256, unique x and y empty.
 * Any difference is another key, and systemd's blobs would not load. */
static const TPM2B_PUBLIC primary_template = {
	.size = sizeof(TPMT_PUBLIC),
	.publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_RESTRICTED |
			TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM |
			TPMA_OBJECT_FIXEDPARENT |
			TPMA_OBJECT_SENSITIVEDATAORIGIN |
			TPMA_OBJECT_USERWITHAUTH,
		.parameters.eccDetail = {
			.symmetric = {
				.algorithm = TPM2_ALG_AES,
				.keyBits.aes = 128,
				.mode.aes = TPM2_ALG_CFB,
			},
			.scheme.scheme = TPM2_ALG_NULL,
			.curveID = TPM2_ECC_NIST_P256,
			.kdf.scheme = TPM2_ALG_NULL,
		},
	},
};

#define SEALED_ATTRIBUTES (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT)

/* ---- errors ---- */

static bool rc_is_tpm(TSS2_RC rc)
{
	return (rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER;
}

/* The TPM response code without the handle/parameter/session number. */
static TSS2_RC rc_base(TSS2_RC rc)
{
	if (rc & TPM2_RC_FMT1)
		return rc & (TPM2_RC_FMT1 | 0x3f);
	return rc & 0xfff;
}

static int rc_errno(TSS2_RC rc)
{
	TSS2_RC base = rc & 0xffff;

	if (!rc_is_tpm(rc)) {
		if ((rc & TSS2_RC_LAYER_MASK) == TSS2_MU_RC_LAYER)
			return -EBADMSG;
		if (base == TSS2_BASE_RC_MEMORY)
			return -ENOMEM;
		if (base == TSS2_BASE_RC_IO_ERROR ||
		    base == TSS2_BASE_RC_NO_CONNECTION)
			return -ENODEV;
		return -EIO;
	}
	switch (rc_base(rc)) {
	case TPM2_RC_LOCKOUT:
		return -ENOLCK;
	case TPM2_RC_POLICY_FAIL:
	case TPM2_RC_PCR:
	case TPM2_RC_PCR_CHANGED:
		return -EPERM;
	case TPM2_RC_AUTH_FAIL:
	case TPM2_RC_BAD_AUTH:
		return -EACCES;
	case TPM2_RC_HANDLE:
		return -ENOENT;
	case TPM2_RC_NV_DEFINED:
		return -EEXIST;
	default:
		return -EIO;
	}
}

/* Log a failed operation once and return err. */
static int fail_msg(const char *verb, const char *object, const char *reason,
		    int err)
{
	log_err(STAGE, "cannot %s '%s': %s", verb, object, reason);
	return err;
}

static int fail(const char *verb, const char *object, TSS2_RC rc, int err)
{
	return fail_msg(verb, object, Tss2_RC_Decode(rc), err);
}

static int fail_rc(const char *verb, const char *object, TSS2_RC rc)
{
	return fail(verb, object, rc, rc_errno(rc));
}

/* ---- the counting TCTI: every command ESYS sends passes here ---- */

static struct tpm *tpm_of(TSS2_TCTI_CONTEXT *ctx)
{
	return (struct tpm *)((char *)ctx - offsetof(struct tpm, counter));
}

static void count_command(struct tpm *t, uint32_t cc)
{
	t->commands++;
	for (unsigned i = 0; i < TPM_CC_SLOTS; i++) {
		if (t->by_cc[i].n == 0)
			t->by_cc[i].cc = cc;
		if (t->by_cc[i].cc == cc) {
			t->by_cc[i].n++;
			return;
		}
	}
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static TSS2_RC counter_transmit(TSS2_TCTI_CONTEXT *ctx, size_t size,
				const uint8_t *cmd)
{
	struct tpm *t = tpm_of(ctx);
	uint32_t cc = size >= 10 ? be32(cmd + 6) : 0;

	count_command(t, cc);
	t->last_cc = cc;
	if (t->before_command)
		t->before_command(t, cc, t->userdata);
	return Tss2_Tcti_Transmit(t->tcti, size, cmd);
}

static TSS2_RC counter_receive(TSS2_TCTI_CONTEXT *ctx, size_t *size,
			       uint8_t *resp, int32_t timeout)
{
	struct tpm *t = tpm_of(ctx);
	TSS2_RC rc = Tss2_Tcti_Receive(t->tcti, size, resp, timeout);

	if (rc == TSS2_RC_SUCCESS && resp && t->on_response)
		t->on_response(t, t->last_cc, resp, *size, t->userdata);
	return rc;
}

static TSS2_RC counter_cancel(TSS2_TCTI_CONTEXT *ctx)
{
	return Tss2_Tcti_Cancel(tpm_of(ctx)->tcti);
}

static TSS2_RC counter_poll(TSS2_TCTI_CONTEXT *ctx,
			    TSS2_TCTI_POLL_HANDLE *handles, size_t *n)
{
	return Tss2_Tcti_GetPollHandles(tpm_of(ctx)->tcti, handles, n);
}

static TSS2_RC counter_locality(TSS2_TCTI_CONTEXT *ctx, uint8_t locality)
{
	return Tss2_Tcti_SetLocality(tpm_of(ctx)->tcti, locality);
}

static void counter_init(struct tpm *t, TSS2_TCTI_CONTEXT *tcti)
{
	t->tcti = tcti;
	t->counter = (TSS2_TCTI_CONTEXT_COMMON_V2){
		.v1 = {
			.magic = TSS2_TCTI_MAGIC(tcti),
			.version = 1,
			.transmit = counter_transmit,
			.receive = counter_receive,
			.cancel = counter_cancel,
			.getPollHandles = counter_poll,
			.setLocality = counter_locality,
		},
	};
}

static const struct {
	uint32_t cc;
	const char *name;
} cc_names[] = {
	{ TPM2_CC_Startup, "Startup" },
	{ TPM2_CC_CreatePrimary, "CreatePrimary" },
	{ TPM2_CC_EvictControl, "EvictControl" },
	{ TPM2_CC_ReadPublic, "ReadPublic" },
	{ TPM2_CC_StartAuthSession, "StartAuthSession" },
	{ TPM2_CC_PolicyPCR, "PolicyPCR" },
	{ TPM2_CC_PolicyGetDigest, "PolicyGetDigest" },
	{ TPM2_CC_PolicyRestart, "PolicyRestart" },
	{ TPM2_CC_Create, "Create" },
	{ TPM2_CC_Load, "Load" },
	{ TPM2_CC_Unseal, "Unseal" },
	{ TPM2_CC_FlushContext, "FlushContext" },
	{ TPM2_CC_PCR_Read, "PCR_Read" },
	{ TPM2_CC_PCR_Extend, "PCR_Extend" },
	{ TPM2_CC_GetRandom, "GetRandom" },
	{ TPM2_CC_GetCapability, "GetCapability" },
};

const char *tpm_cc_name(uint32_t cc)
{
	for (size_t i = 0; i < sizeof(cc_names) / sizeof(cc_names[0]); i++)
		if (cc_names[i].cc == cc)
			return cc_names[i].name;
	return NULL;
}

size_t tpm_format_counts(const struct tpm *t, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < TPM_CC_SLOTS && t->by_cc[i].n && len < size; i++) {
		const char *name = tpm_cc_name(t->by_cc[i].cc);

		if (name)
			len += (size_t)snprintf(buf + len, size - len, "%s%s %u",
						i ? ", " : "", name, t->by_cc[i].n);
		else
			len += (size_t)snprintf(buf + len, size - len, "%s0x%03x %u",
						i ? ", " : "", t->by_cc[i].cc, t->by_cc[i].n);
	}
	return len;
}

/* ---- context ---- */

/* Startup(CLEAR), for a TPM no kernel started (a raw simulator in the
 * tests): one started already answers TPM_RC_INITIALIZE, which is fine.
 * Not on the device: the kernel started the TPM when it probed the chip
 * (tpm2_auto_startup), before the device node existed. */
static int startup(struct tpm *t)
{
	TSS2_RC rc = Esys_Startup(t->esys, TPM2_SU_CLEAR);

	if (rc != TSS2_RC_SUCCESS && rc != TPM2_RC_INITIALIZE)
		return fail_rc("start up", "TPM", rc);
	return 0;
}

/* tpm2-tss logs its own lines to stderr, our console, in its own grammar,
 * next to the one we log: silence it for as long as the context lives,
 * unless TSS2_LOG was given (the kernel passes cmdline key=value to init,
 * so a developer can still ask for it). Gone again before any exec. */
static bool quiet_tss2(void)
{
	return !getenv("TSS2_LOG") && setenv("TSS2_LOG", "all+none", 0) == 0;
}

static void unquiet_tss2(bool quieted)
{
	if (quieted)
		unsetenv("TSS2_LOG");
}

/* The ESYS context on tcti, through the counter; no command sent. */
static int esys_open(struct tpm *t, TSS2_TCTI_CONTEXT *tcti)
{
	TSS2_RC rc;

	*t = (struct tpm){ .quieted = quiet_tss2() };
	counter_init(t, tcti);
	rc = Esys_Initialize(&t->esys, (TSS2_TCTI_CONTEXT *)&t->counter, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_close(t);
		return fail_rc("initialize", "ESYS context", rc);
	}
	return 0;
}

int tpm_open_tcti(struct tpm *t, TSS2_TCTI_CONTEXT *tcti)
{
	int r = esys_open(t, tcti);

	if (r == 0)
		r = startup(t);
	if (r < 0)
		tpm_close(t);
	return r;
}

/* ---- the device's transport ----
 *
 * Our own, not tss2-tcti-device: that one's Init sends a command of its
 * own (a GetRandom of 8 bytes, to learn whether the kernel takes partial
 * reads), one more on the wire every boot, unseen by the counter. The
 * kernel's interface is simple: the whole command in one write(2), which
 * on a blocking descriptor returns once the TPM answered (the driver's
 * timeouts apply), then the whole response in one read(2) of up to
 * TPM_BUFSIZE, which every kernel with the TPM 2.0 driver takes. PID 1
 * has no signal handlers, so nothing interrupts the two. O_CLOEXEC: the
 * programs sealroot runs (mke2fs) do not inherit the TPM. */

#define DEVICE_TCTI_MAGIC 0x5ea1de0cu
#define DEVICE_BUFSIZE 4096	/* the kernel's TPM_BUFSIZE */

struct device_tcti {
	TSS2_TCTI_CONTEXT_COMMON_V1 common;
	int fd;
};

static int device_fd(TSS2_TCTI_CONTEXT *ctx)
{
	return ((struct device_tcti *)ctx)->fd;
}

static TSS2_RC device_transmit(TSS2_TCTI_CONTEXT *ctx, size_t size,
			       const uint8_t *cmd)
{
	ssize_t n = write(device_fd(ctx), cmd, size);

	return n == (ssize_t)size ? TSS2_RC_SUCCESS : TSS2_TCTI_RC_IO_ERROR;
}

/* Asked for the size first (resp NULL), it says DEVICE_BUFSIZE: the
 * response comes whole or not at all. */
static TSS2_RC device_receive(TSS2_TCTI_CONTEXT *ctx, size_t *size,
			      uint8_t *resp, int32_t timeout)
{
	ssize_t n;

	(void)timeout;	/* the write returned with the answer */
	if (!resp) {
		*size = DEVICE_BUFSIZE;
		return TSS2_RC_SUCCESS;
	}
	n = read(device_fd(ctx), resp, *size);
	if (n < 0)
		return TSS2_TCTI_RC_IO_ERROR;
	if (n < 10 || be32(resp + 2) != (uint32_t)n)
		return TSS2_TCTI_RC_MALFORMED_RESPONSE;
	*size = (size_t)n;
	return TSS2_RC_SUCCESS;
}

static void device_finalize(TSS2_TCTI_CONTEXT *ctx)
{
	close(device_fd(ctx));
}

static int device_open_fail(const char *dev, int e)
{
	/* /dev/tpm0 opens once at a time (no resource manager) */
	if (e == EBUSY)
		return fail_msg("open", dev, "busy: another process has the "
				"TPM device open (it opens once)", -EBUSY);
	return fail_msg("open", dev, strerror(e), -ENODEV);
}

static int device_tcti(const char *dev, TSS2_TCTI_CONTEXT **ret)
{
	struct device_tcti *d = calloc(1, sizeof(*d));
	int fd;

	if (!d)
		return -ENOMEM;
	fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		free(d);
		return device_open_fail(dev, e);
	}
	*d = (struct device_tcti){
		.common = {
			.magic = DEVICE_TCTI_MAGIC,
			.version = 1,
			.transmit = device_transmit,
			.receive = device_receive,
			.finalize = device_finalize,
		},
		.fd = fd,
	};
	*ret = (TSS2_TCTI_CONTEXT *)d;
	return 0;
}

int tpm_open(struct tpm *t, const char *dev)
{
	TSS2_TCTI_CONTEXT *tcti = NULL;
	bool quieted = quiet_tss2();
	int r;

	r = device_tcti(dev, &tcti);
	if (r < 0)
		goto out_unquiet;
	r = esys_open(t, tcti);
	if (r < 0) {
		Tss2_Tcti_Finalize(tcti);
		free(tcti);
		goto out_unquiet;
	}
	t->tcti_owned = true;
	t->quieted = quieted;
	return 0;
out_unquiet:
	unquiet_tss2(quieted);
	return r;
}

/* ---- what this context holds on the TPM ----
 *
 * On /dev/tpm0 no resource manager flushes what a process leaves loaded:
 * each transient object and session created here is held until it is
 * flushed (tpm_handle_release) or the TPM ends it (a session without
 * continueSession whose command succeeded), and tpm_close flushes what a
 * path left. ESYS keeps its own record of each, but not one we can walk. */

static void unhold(struct tpm *t, ESYS_TR h)
{
	for (unsigned i = 0; i < t->n_held; i++) {
		if (t->held[i] == h) {
			t->held[i] = t->held[--t->n_held];
			return;
		}
	}
}

/* Record h, just created; with no room left it is flushed at once. */
static int hold(struct tpm *t, ESYS_TR *h)
{
	if (t->n_held < TPM_HELD_MAX) {
		t->held[t->n_held++] = *h;
		return 0;
	}
	(void)Esys_FlushContext(t->esys, *h);
	*h = ESYS_TR_NONE;
	return fail_msg("hold", "TPM object", "more than TPM_HELD_MAX at once",
			-ENOBUFS);
}

/* A session the TPM ended itself: ESYS still has its record (it does not
 * look at continueSession), the TPM has nothing left to flush. */
static void session_ended(struct tpm *t, ESYS_TR *s)
{
	unhold(t, *s);
	(void)Esys_TR_Close(t->esys, s);
	*s = ESYS_TR_NONE;
}

void tpm_close(struct tpm *t)
{
	while (t->esys && t->n_held > 0)
		(void)Esys_FlushContext(t->esys, t->held[--t->n_held]);
	t->n_held = 0;
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti_owned) {
		Tss2_Tcti_Finalize(t->tcti);
		free(t->tcti);
	}
	t->tcti = NULL;
	t->tcti_owned = false;
	unquiet_tss2(t->quieted);
	t->quieted = false;
}

static bool handle_is_flushable(TPM2_HANDLE h)
{
	uint8_t type = h >> TPM2_HR_SHIFT;

	return type == TPM2_HT_TRANSIENT || type == TPM2_HT_HMAC_SESSION ||
	       type == TPM2_HT_POLICY_SESSION;
}

void tpm_handle_release(struct tpm *t, ESYS_TR *h)
{
	TPM2_HANDLE tpm_handle;

	if (*h == ESYS_TR_NONE)
		return;
	if (Esys_TR_GetTpmHandle(t->esys, *h, &tpm_handle) != TSS2_RC_SUCCESS ||
	    !handle_is_flushable(tpm_handle)) {
		unhold(t, *h);
		(void)Esys_TR_Close(t->esys, h);
	} else if (Esys_FlushContext(t->esys, *h) == TSS2_RC_SUCCESS) {
		unhold(t, *h);
	}
	/* a flush that failed stays held: tpm_close tries it again */
	*h = ESYS_TR_NONE;
}

/* ---- PCRs ---- */

static void pcr_selection(uint32_t mask, TPML_PCR_SELECTION *ret)
{
	*ret = (TPML_PCR_SELECTION){
		.count = 1,
		.pcrSelections[0] = {
			.hash = TPM2_ALG_SHA256,
			.sizeofSelect = 3,
			.pcrSelect = { mask & 0xff, (mask >> 8) & 0xff,
				       (mask >> 16) & 0xff },
		},
	};
}

static uint32_t selection_mask(const TPML_PCR_SELECTION *s)
{
	const TPMS_PCR_SELECTION *p = &s->pcrSelections[0];
	uint32_t mask = 0;

	if (s->count != 1 || p->hash != TPM2_ALG_SHA256)
		return 0;
	for (unsigned i = 0; i < p->sizeofSelect && i < 3; i++)
		mask |= (uint32_t)p->pcrSelect[i] << (8 * i);
	return mask;
}

static bool pcr_mask_valid(uint32_t mask)
{
	return mask != 0 && (mask & ~TPM_PCR_MASK_ALL) == 0;
}

/* One PCR_Read: the TPM answers at most 8 digests, lowest PCRs first, and
 * says which. Stores them and clears their bits from *mask. */
static int pcr_read_some(struct tpm *t, uint32_t *mask,
			 uint8_t values[TPM_PCR_COUNT][TPM_DIGEST_SIZE])
{
	TPML_PCR_SELECTION sel, *out_sel = NULL;
	TPML_DIGEST *digests = NULL;
	uint32_t got;
	unsigned k = 0;
	TSS2_RC rc;
	int r = -EIO;

	pcr_selection(*mask, &sel);
	rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			   &sel, NULL, &out_sel, &digests);
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("read", "PCRs", rc);
	got = selection_mask(out_sel) & *mask;
	for (unsigned i = 0; i < TPM_PCR_COUNT && got; i++) {
		if (!(got & (1u << i)))
			continue;
		if (k >= digests->count ||
		    digests->digests[k].size != TPM_DIGEST_SIZE)
			goto out;
		memcpy(values[i], digests->digests[k++].buffer,
		       TPM_DIGEST_SIZE);
		*mask &= ~(1u << i);
	}
	r = k > 0 ? 0 : -EIO;
out:
	if (r < 0)
		log_err(STAGE, "cannot read 'PCRs': the TPM answered another "
			"selection than asked (no SHA-256 bank?)");
	Esys_Free(out_sel);
	Esys_Free(digests);
	return r;
}

int tpm_pcr_read(struct tpm *t, uint32_t mask,
		 uint8_t ret_values[TPM_PCR_COUNT][TPM_DIGEST_SIZE])
{
	uint8_t values[TPM_PCR_COUNT][TPM_DIGEST_SIZE];
	uint32_t left = mask;
	int r;

	if (!pcr_mask_valid(mask))
		return -EINVAL;
	while (left) {
		r = pcr_read_some(t, &left, values);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < TPM_PCR_COUNT; i++)
		if (mask & (1u << i))
			memcpy(ret_values[i], values[i], TPM_DIGEST_SIZE);
	return 0;
}

int tpm_pcr_extend(struct tpm *t, unsigned pcr,
		   const uint8_t digest[TPM_DIGEST_SIZE])
{
	TPML_DIGEST_VALUES values = {
		.count = 1,
		.digests[0].hashAlg = TPM2_ALG_SHA256,
	};
	TSS2_RC rc;

	if (pcr >= TPM_PCR_COUNT)
		return -EINVAL;
	memcpy(values.digests[0].digest.sha256, digest, TPM_DIGEST_SIZE);
	rc = Esys_PCR_Extend(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD,
			     ESYS_TR_NONE, ESYS_TR_NONE, &values);
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("extend", "PCR", rc);
	return 0;
}

/* ---- random ---- */

/* ESYS decrypts the response in its own buffer: wipe what it left there. */
static void wipe_response(struct tpm *t)
{
	TSS2_SYS_CONTEXT *sys = NULL;
	const uint8_t *rp = NULL;
	size_t size = 0;

	if (Esys_GetSysContext(t->esys, &sys) != TSS2_RC_SUCCESS ||
	    Tss2_Sys_GetRpBuffer(sys, &size, &rp) != TSS2_RC_SUCCESS || !rp)
		return;
	explicit_bzero((uint8_t *)rp, size);
}


/* Fill buf from the TPM's RNG; with an encrypting session the bytes cross
 * the bus encrypted. The TPM may answer fewer bytes than asked. */
static int get_random(struct tpm *t, ESYS_TR session, uint8_t *buf,
		      size_t size)
{
	TPM2B_DIGEST *rnd = NULL;
	size_t done = 0, n;
	TSS2_RC rc;

	while (done < size) {
		n = size - done;
		if (n > sizeof(rnd->buffer))
			n = sizeof(rnd->buffer);
		rc = Esys_GetRandom(t->esys, session, ESYS_TR_NONE,
				    ESYS_TR_NONE, (UINT16)n, &rnd);
		if (rc != TSS2_RC_SUCCESS)
			return fail_rc("get", "random bytes", rc);
		n = rnd->size < n ? rnd->size : n;
		memcpy(buf + done, rnd->buffer, n);
		explicit_bzero(rnd->buffer, sizeof(rnd->buffer));
		wipe_response(t);
		Esys_Free(rnd);
		rnd = NULL;
		if (n == 0)
			return fail_msg("get", "random bytes", "none given",
					-EIO);
		done += n;
	}
	return 0;
}

int tpm_get_random(struct tpm *t, void *ret_buf, size_t size)
{
	return get_random(t, ESYS_TR_NONE, ret_buf, size);
}

/* ---- primary key ---- */

static int object_name(struct tpm *t, ESYS_TR h, struct tpm_name *ret)
{
	TPM2B_NAME *name = NULL;
	TSS2_RC rc;

	rc = Esys_TR_GetName(t->esys, h, &name);
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("get the name of", "primary key", rc);
	if (name->size > sizeof(ret->bytes)) {
		Esys_Free(name);
		return -EOVERFLOW;
	}
	ret->size = name->size;
	memcpy(ret->bytes, name->name, name->size);
	Esys_Free(name);
	return 0;
}

int tpm_primary_create(struct tpm *t, ESYS_TR *ret_handle,
		       struct tpm_name *ret_name)
{
	static const TPM2B_SENSITIVE_CREATE no_sensitive;
	static const TPML_PCR_SELECTION no_creation_pcr;
	struct tpm_name name;
	ESYS_TR h = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
				ESYS_TR_NONE, ESYS_TR_NONE, &no_sensitive,
				&primary_template, NULL, &no_creation_pcr, &h,
				NULL, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("create", "primary key", rc);
	r = hold(t, &h);
	if (r < 0)
		return r;
	r = object_name(t, h, &name);
	if (r < 0) {
		tpm_handle_release(t, &h);
		return r;
	}
	*ret_handle = h;
	*ret_name = name;
	return 0;
}

static bool persistent_handle_valid(uint32_t handle)
{
	return handle >= 0x81000000u && handle <= 0x817fffffu;
}

int tpm_primary_persist(struct tpm *t, ESYS_TR transient, uint32_t handle,
			ESYS_TR *ret_persistent)
{
	ESYS_TR h = ESYS_TR_NONE;
	TSS2_RC rc;

	if (!persistent_handle_valid(handle))
		return -EINVAL;
	rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, transient,
			       ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
			       handle, &h);
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("persist", "primary key", rc);
	*ret_persistent = h;
	return 0;
}

static bool name_equal(const struct tpm_name *a, const struct tpm_name *b)
{
	return a->size == b->size && memcmp(a->bytes, b->bytes, a->size) == 0;
}

/* Is the key at h the one named expected? Esys_TR_GetName computes the
 * name from the public area ESYS holds (it does not take the TPM's word
 * for it), and that public area is the key ESYS encrypts session salts
 * to: so a forged ReadPublic answer on the bus fails here as well as a
 * key that root on a booted system put at the handle. */
static int key_is_named(struct tpm *t, ESYS_TR h,
			const struct tpm_name *expected)
{
	struct tpm_name name;
	int r;

	r = object_name(t, h, &name);
	if (r < 0)
		return r;
	if (!name_equal(&name, expected))
		return fail_msg("trust", "persistent primary key", "its name "
				"is not the one recorded (replaced?)",
				-EKEYREJECTED);
	return 0;
}

int tpm_primary_open_persistent(struct tpm *t, uint32_t handle,
				const struct tpm_name *expected_name,
				ESYS_TR *ret_handle)
{
	ESYS_TR h = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	if (!persistent_handle_valid(handle))
		return -EINVAL;
	rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE,
				   ESYS_TR_NONE, &h);
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("open", "persistent primary key", rc);
	r = key_is_named(t, h, expected_name);
	if (r < 0) {
		(void)Esys_TR_Close(t->esys, &h);
		return r;
	}
	*ret_handle = h;
	return 0;
}

/* ---- sessions: reused by every operation that needs one ---- */

/* Start a session of type (HMAC, POLICY, TRIAL) salted with salt_key when
 * it is not ESYS_TR_NONE: the salt is encrypted to that key, so only the
 * TPM holding it can derive the session key, and parameter encryption
 * with it is confidential on the bus. attrs: TPMA_SESSION_*. */
static int session_start(struct tpm *t, ESYS_TR salt_key, TPM2_SE type,
			 TPMA_SESSION attrs, ESYS_TR *ret_session)
{
	ESYS_TR s = ESYS_TR_NONE;
	TSS2_RC rc;
	int r;

	rc = Esys_StartAuthSession(t->esys, salt_key, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
				   NULL, type, &session_symmetric,
				   TPM2_ALG_SHA256, &s);
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("start", "session", rc);
	r = hold(t, &s);
	if (r < 0)
		return r;
	rc = Esys_TRSess_SetAttributes(t->esys, s, attrs, 0xff);
	if (rc != TSS2_RC_SUCCESS) {
		tpm_handle_release(t, &s);
		return fail_rc("configure", "session", rc);
	}
	*ret_session = s;
	return 0;
}

static int session_attrs(struct tpm *t, ESYS_TR s, TPMA_SESSION attrs)
{
	TSS2_RC rc = Esys_TRSess_SetAttributes(t->esys, s, attrs, 0xff);

	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("configure", "session", rc);
	return 0;
}

/* PolicyPCR over the current SHA-256 values of mask (empty pcrDigest: the
 * TPM uses what the PCRs hold now). -EAGAIN: a PCR changed meanwhile. */
static int policy_pcr(struct tpm *t, ESYS_TR session, uint32_t mask)
{
	TPML_PCR_SELECTION sel;
	TSS2_RC rc;

	pcr_selection(mask, &sel);
	rc = Esys_PolicyPCR(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE,
			    ESYS_TR_NONE, NULL, &sel);
	if (rc_is_tpm(rc) && rc_base(rc) == TPM2_RC_PCR_CHANGED)
		return -EAGAIN;
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("add PCR policy to", "session", rc);
	return 0;
}

static int policy_get_digest(struct tpm *t, ESYS_TR session,
			     uint8_t ret_digest[TPM_DIGEST_SIZE])
{
	TPM2B_DIGEST *digest = NULL;
	TSS2_RC rc;

	rc = Esys_PolicyGetDigest(t->esys, session, ESYS_TR_NONE, ESYS_TR_NONE,
				  ESYS_TR_NONE, &digest);
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("get the policy digest of", "session", rc);
	if (digest->size != TPM_DIGEST_SIZE) {
		Esys_Free(digest);
		return fail_msg("get the policy digest of", "session",
				"not a SHA-256 digest", -EIO);
	}
	memcpy(ret_digest, digest->buffer, TPM_DIGEST_SIZE);
	Esys_Free(digest);
	return 0;
}

/* The digest a sealed object's authPolicy must hold (at provisioning
 * only). A policy session, not a trial one, as systemd 252 does: some
 * TPMs get trial mode wrong. */
static int policy_digest_now(struct tpm *t, uint32_t mask,
			     uint8_t ret_digest[TPM_DIGEST_SIZE])
{
	ESYS_TR s = ESYS_TR_NONE;
	int r;

	r = session_start(t, ESYS_TR_NONE, TPM2_SE_POLICY, 0, &s);
	if (r < 0)
		return r;
	r = policy_pcr(t, s, mask);
	if (r == 0)
		r = policy_get_digest(t, s, ret_digest);
	tpm_handle_release(t, &s);
	if (r == -EAGAIN)
		return fail_msg("compute", "PCR policy", "PCRs changed", -EIO);
	return r;
}

/* ---- seal ---- */

static void sealed_template(const uint8_t policy[TPM_DIGEST_SIZE],
			    TPM2B_PUBLIC *ret)
{
	*ret = (TPM2B_PUBLIC){
		.publicArea = {
			.type = TPM2_ALG_KEYEDHASH,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = SEALED_ATTRIBUTES,
			.parameters.keyedHashDetail.scheme.scheme =
				TPM2_ALG_NULL,
			.unique.keyedHash.size = TPM_DIGEST_SIZE,
			.authPolicy.size = TPM_DIGEST_SIZE,
		},
	};
	memcpy(ret->publicArea.authPolicy.buffer, policy, TPM_DIGEST_SIZE);
}

static int blob_marshal(const TPM2B_PRIVATE *priv, const TPM2B_PUBLIC *pub,
			struct tpm_blob *ret)
{
	size_t off = 0;
	TSS2_RC rc;

	rc = Tss2_MU_TPM2B_PRIVATE_Marshal(priv, ret->bytes, sizeof(ret->bytes),
					   &off);
	if (rc == TSS2_RC_SUCCESS)
		rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, ret->bytes,
						  sizeof(ret->bytes), &off);
	if (rc != TSS2_RC_SUCCESS)
		return fail("marshal", "sealed object", rc, -ENOBUFS);
	ret->size = off;
	return 0;
}

/* Create the sealed object under parent, its data sent through the
 * session's parameter encryption. tpm2-tss keeps a copy of inSensitive in
 * the ESYS context (for resubmission) that it frees unwiped at tpm_close;
 * it cannot be reached from here, and dies with sealroot's image at the
 * exec of switch_root. */
static int seal_create(struct tpm *t, ESYS_TR parent, ESYS_TR session,
		       const uint8_t secret[TPM_SECRET_SIZE],
		       const uint8_t policy[TPM_DIGEST_SIZE],
		       struct tpm_blob *ret_blob)
{
	static const TPML_PCR_SELECTION no_creation_pcr;
	TPM2B_SENSITIVE_CREATE sensitive = {
		.size = sizeof(sensitive.sensitive),
		.sensitive.data.size = TPM_SECRET_SIZE,
	};
	TPM2B_PRIVATE *priv = NULL;
	TPM2B_PUBLIC tmpl, *pub = NULL;
	TSS2_RC rc;
	int r;

	sealed_template(policy, &tmpl);
	memcpy(sensitive.sensitive.data.buffer, secret, TPM_SECRET_SIZE);
	rc = Esys_Create(t->esys, parent, session, ESYS_TR_NONE, ESYS_TR_NONE,
			 &sensitive, &tmpl, NULL, &no_creation_pcr, &priv,
			 &pub, NULL, NULL, NULL);
	explicit_bzero(&sensitive, sizeof(sensitive));
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("create", "sealed object", rc);
	r = blob_marshal(priv, pub, ret_blob);
	Esys_Free(priv);
	Esys_Free(pub);
	return r;
}

/* The secret comes from the TPM's RNG through a session salted with the
 * parent that encrypts the answer, and goes back into Create through the
 * same session's parameter encryption: never in the clear on the bus. */
int tpm_seal(struct tpm *t, ESYS_TR parent, uint32_t pcr_mask,
	     struct tpm_blob *ret_blob,
	     uint8_t ret_policy_digest[TPM_DIGEST_SIZE],
	     uint8_t ret_secret[TPM_SECRET_SIZE])
{
	uint8_t secret[TPM_SECRET_SIZE], policy[TPM_DIGEST_SIZE];
	struct tpm_blob blob;
	ESYS_TR s = ESYS_TR_NONE;
	int r;

	if (!pcr_mask_valid(pcr_mask))
		return -EINVAL;
	r = policy_digest_now(t, pcr_mask, policy);
	if (r < 0)
		return r;
	r = session_start(t, parent, TPM2_SE_HMAC,
			  TPMA_SESSION_ENCRYPT | TPMA_SESSION_CONTINUESESSION,
			  &s);
	if (r < 0)
		return r;
	r = get_random(t, s, secret, sizeof(secret));
	if (r == 0)
		r = session_attrs(t, s, TPMA_SESSION_DECRYPT |
				  TPMA_SESSION_ENCRYPT |
				  TPMA_SESSION_CONTINUESESSION);
	if (r == 0)
		r = seal_create(t, parent, s, secret, policy, &blob);
	tpm_handle_release(t, &s);
	if (r < 0)
		goto out_wipe;
	*ret_blob = blob;
	memcpy(ret_policy_digest, policy, TPM_DIGEST_SIZE);
	memcpy(ret_secret, secret, TPM_SECRET_SIZE);
out_wipe:
	explicit_bzero(secret, sizeof(secret));
	return r;
}

/* ---- unseal ---- */

/* The blob is untrusted input (the LUKS2 header is writable offline):
 * exactly a TPM2B_PRIVATE then a TPM2B_PUBLIC, nothing after, and the
 * public part a sealed-data object bound to the expected policy. */
static int blob_unmarshal(const struct tpm_blob *blob,
			  const uint8_t policy[TPM_DIGEST_SIZE],
			  TPM2B_PRIVATE *ret_priv, TPM2B_PUBLIC *ret_pub)
{
	const TPMT_PUBLIC *p = &ret_pub->publicArea;
	size_t off = 0;
	TSS2_RC rc;

	if (blob->size > sizeof(blob->bytes))
		return -EINVAL;
	/* tss2-mu refuses a TPM2B_PUBLIC destination whose size is set. */
	memset(ret_priv, 0, sizeof(*ret_priv));
	memset(ret_pub, 0, sizeof(*ret_pub));
	rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(blob->bytes, blob->size, &off,
					     ret_priv);
	if (rc == TSS2_RC_SUCCESS)
		rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(blob->bytes, blob->size,
						    &off, ret_pub);
	if (rc != TSS2_RC_SUCCESS)
		return fail("parse", "sealed object", rc, -EBADMSG);
	if (off != blob->size)
		return fail_msg("parse", "sealed object", "trailing bytes",
				-EBADMSG);
	if (p->type != TPM2_ALG_KEYEDHASH ||
	    p->nameAlg != TPM2_ALG_SHA256 ||
	    (p->objectAttributes & (TPMA_OBJECT_SIGN_ENCRYPT |
				    TPMA_OBJECT_DECRYPT |
				    TPMA_OBJECT_USERWITHAUTH)) ||
	    p->authPolicy.size != TPM_DIGEST_SIZE ||
	    memcmp(p->authPolicy.buffer, policy, TPM_DIGEST_SIZE) != 0)
		return fail_msg("parse", "sealed object", "not a sealed secret "
				"bound to the expected policy", -EBADMSG);
	return 0;
}

/* Load the sealed object. A parameter error here means the blob is
 * damaged or was sealed under another key (the TPM's integrity check). */
static int load_sealed(struct tpm *t, ESYS_TR parent,
		       const struct tpm_blob *blob,
		       const uint8_t policy[TPM_DIGEST_SIZE], ESYS_TR *ret)
{
	TPM2B_PRIVATE priv;
	TPM2B_PUBLIC pub;
	TSS2_RC rc;
	int r;

	r = blob_unmarshal(blob, policy, &priv, &pub);
	if (r < 0)
		return r;
	rc = Esys_Load(t->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE,
		       ESYS_TR_NONE, &priv, &pub, ret);
	if (rc == TSS2_RC_SUCCESS)
		return hold(t, ret);
	r = rc_errno(rc);
	if (r == -EIO && rc_is_tpm(rc) && (rc & TPM2_RC_FMT1) &&
	    (rc & TPM2_RC_P))
		r = -EBADMSG;
	return fail("load", "sealed object", rc, r);
}

/* TPM_RC_POLICY_FAIL on the session of a command (format 1, its S bit
 * set and the session's number in bits 8-10: 0x99d for the first): the
 * session's policy digest is not the object's authPolicy. */
static bool rc_is_session_policy_fail(TSS2_RC rc)
{
	return rc_is_tpm(rc) && (rc & TPM2_RC_FMT1) && (rc & TPM2_RC_S) &&
	       rc_base(rc) == TPM2_RC_POLICY_FAIL;
}

/* One attempt: PolicyPCR, then Unseal. No PolicyGetDigest to compare
 * first: the TPM compares the session's digest with the object's
 * authPolicy itself, and the blob's authPolicy was checked against the
 * token's policy hash before Load. PCRs other than sealed give
 * TPM_RC_POLICY_FAIL, which costs nothing against dictionary-attack
 * protection: TPM 2.0 Part 1 (DA protection) counts authorization
 * failures of an authValue (a password, an HMAC, or a policy with
 * PolicyAuthValue or PolicyPassword) on an object without noDA; a policy
 * that is not satisfied is no authValue failure (in the reference code
 * only the password and HMAC checks call IncrementLockout), and ours has
 * only PolicyPCR; test-tpm reads the counter around a refused unseal.
 * -EAGAIN when a PCR changed while the session was open (IMA extends
 * PCR 10 at any time). An Unseal that succeeded ended the session
 * (*session becomes ESYS_TR_NONE); one that failed left it loaded. */
static int unseal_once(struct tpm *t, ESYS_TR object, ESYS_TR *session,
		       uint32_t mask, uint8_t ret_secret[TPM_SECRET_SIZE])
{
	TPM2B_SENSITIVE_DATA *out = NULL;
	TSS2_RC rc;
	int r;

	r = policy_pcr(t, *session, mask);
	if (r < 0)
		return r;
	rc = Esys_Unseal(t->esys, object, *session, ESYS_TR_NONE, ESYS_TR_NONE,
			 &out);
	if (rc_is_tpm(rc) && rc_base(rc) == TPM2_RC_PCR_CHANGED)
		return -EAGAIN;
	if (rc_is_session_policy_fail(rc))
		return fail_msg("unseal", "sealed object", "the PCRs do not "
				"hold the values it was sealed to", -EPERM);
	if (rc != TSS2_RC_SUCCESS)
		return fail_rc("unseal", "sealed object", rc);
	session_ended(t, session);
	wipe_response(t);
	r = out->size == TPM_SECRET_SIZE ? 0 : -EBADMSG;
	if (r == 0)
		memcpy(ret_secret, out->buffer, TPM_SECRET_SIZE);
	else
		log_err(STAGE, "cannot unseal 'sealed object': it holds %u "
			"bytes, not %d", out->size, TPM_SECRET_SIZE);
	explicit_bzero(out->buffer, sizeof(out->buffer));
	Esys_Free(out);
	return r;
}

/* Retry while PCRs change under the session, a bounded number of times.
 * PolicyRestart clears the session's policy but keeps it and its salt. */
static int unseal_retry(struct tpm *t, ESYS_TR object, ESYS_TR *session,
			uint32_t mask, uint8_t ret_secret[TPM_SECRET_SIZE])
{
	TSS2_RC rc;
	int r;

	for (unsigned i = 0; i < TPM_UNSEAL_TRIES; i++) {
		r = unseal_once(t, object, session, mask, ret_secret);
		if (r != -EAGAIN)
			return r;
		rc = Esys_PolicyRestart(t->esys, *session, ESYS_TR_NONE,
					ESYS_TR_NONE, ESYS_TR_NONE);
		if (rc != TSS2_RC_SUCCESS)
			return fail_rc("restart", "policy session", rc);
	}
	return fail_msg("unseal", "sealed object", "PCRs kept changing "
			"while the policy session was open", -EPERM);
}

int tpm_unseal(struct tpm *t, ESYS_TR parent, const struct tpm_blob *blob,
	       uint32_t pcr_mask,
	       const uint8_t expected_policy_digest[TPM_DIGEST_SIZE],
	       uint8_t ret_secret[TPM_SECRET_SIZE])
{
	uint8_t secret[TPM_SECRET_SIZE];
	ESYS_TR object = ESYS_TR_NONE, s = ESYS_TR_NONE;
	int r;

	if (!pcr_mask_valid(pcr_mask))
		return -EINVAL;
	r = load_sealed(t, parent, blob, expected_policy_digest, &object);
	if (r < 0)
		return r;
	/* Not continueSession: a successful Unseal ends the session; after
	 * a failed one it is still loaded, and flushed here. */
	r = session_start(t, parent, TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT, &s);
	if (r < 0)
		goto out_flush;
	r = unseal_retry(t, object, &s, pcr_mask, secret);
	tpm_handle_release(t, &s);
	if (r == 0)
		memcpy(ret_secret, secret, TPM_SECRET_SIZE);
	explicit_bzero(secret, sizeof(secret));
out_flush:
	tpm_handle_release(t, &object);
	return r;
}
