/* src/tpm.c against a real TPM 2.0: swtpm (libtpms), started here on free
 * TCP ports with its state in a directory next to this binary (under the
 * build tree), killed and removed at the end. Nothing else on the host is
 * touched: no /dev/tpm*, no system state. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>
#ifndef TEST_RAW_TCTI
#include <tss2/tss2_tcti_swtpm.h>
#endif

#include "tpm.h"
#include "unit.h"
#include "unit-swtpm.h"

#define PCR_SEAL 7
#define MASK_SEAL (1u << PCR_SEAL)
#define PCR_DEBUG 16	/* resettable, extendable by anyone: for extend tests */
#define PCR_IMA 10	/* what the kernel's IMA extends behind our back */

static char state_dir[PATH_MAX];
static pid_t swtpm_pid = -1;
static int swtpm_port;
static TSS2_TCTI_CONTEXT *tcti;

/* ---- swtpm ---- */

static int swtpm_start(const char *self)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", self);
	if (snprintf(state_dir, sizeof(state_dir), "%s/tpm-state.XXXXXX",
		     dirname(dir)) >= (int)sizeof(state_dir) ||
	    !mkdtemp(state_dir))
		return -errno;
	swtpm_port = free_port_pair();
	if (swtpm_port < 0)
		return -EADDRINUSE;
	swtpm_pid = swtpm_spawn(state_dir, swtpm_port);
	return swtpm_pid < 0 ? (int)swtpm_pid : 0;
}

#ifdef TEST_RAW_TCTI
/* The device build's tpm2-tss (musl sysroot) has no swtpm TCTI: this one
 * speaks swtpm's raw TCP command channel, enough for the same tests to
 * run against the library the device links. */
struct raw_tcti {
	TSS2_TCTI_CONTEXT_COMMON_V1 common;
	int fd;
	bool have_header;	/* read by a size query (response NULL) */
	uint8_t header[10];
};

static int raw_fd(TSS2_TCTI_CONTEXT *ctx)
{
	return ((struct raw_tcti *)ctx)->fd;
}

static TSS2_RC raw_transmit(TSS2_TCTI_CONTEXT *ctx, size_t size,
			    const uint8_t *cmd)
{
	while (size > 0) {
		ssize_t n = write(raw_fd(ctx), cmd, size);

		if (n <= 0)
			return TSS2_TCTI_RC_IO_ERROR;
		cmd += n;
		size -= n;
	}
	return TSS2_RC_SUCCESS;
}

static int read_all(int fd, uint8_t *buf, size_t size)
{
	while (size > 0) {
		ssize_t n = read(fd, buf, size);

		if (n <= 0)
			return -1;
		buf += n;
		size -= n;
	}
	return 0;
}

static TSS2_RC raw_receive(TSS2_TCTI_CONTEXT *ctx, size_t *size,
			   uint8_t *resp, int32_t timeout)
{
	struct raw_tcti *r = (struct raw_tcti *)ctx;
	const uint8_t *h = r->header;
	uint32_t len;

	(void)timeout;
	if (!r->have_header && read_all(r->fd, r->header, 10) < 0)
		return TSS2_TCTI_RC_IO_ERROR;
	r->have_header = true;
	len = (uint32_t)h[2] << 24 | h[3] << 16 | h[4] << 8 | h[5];
	if (len < 10)
		return TSS2_TCTI_RC_IO_ERROR;
	if (!resp) {
		*size = len;
		return TSS2_RC_SUCCESS;
	}
	if (len > *size)
		return TSS2_TCTI_RC_INSUFFICIENT_BUFFER;
	memcpy(resp, r->header, 10);
	r->have_header = false;
	if (read_all(r->fd, resp + 10, len - 10) < 0)
		return TSS2_TCTI_RC_IO_ERROR;
	*size = len;
	return TSS2_RC_SUCCESS;
}

static void raw_finalize(TSS2_TCTI_CONTEXT *ctx)
{
	close(raw_fd(ctx));
}

static TSS2_RC raw_init(TSS2_TCTI_CONTEXT *ctx, int port)
{
	struct raw_tcti *r = (struct raw_tcti *)ctx;
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons(port),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (fd >= 0)
			close(fd);
		return TSS2_TCTI_RC_IO_ERROR;
	}
	*r = (struct raw_tcti){
		.common = {
			.magic = 0x5ea1700c,
			.version = 1,
			.transmit = raw_transmit,
			.receive = raw_receive,
			.finalize = raw_finalize,
		},
		.fd = fd,
	};
	return TSS2_RC_SUCCESS;
}

static int swtpm_connect(void)
{
	struct timespec pause = { .tv_nsec = 50 * 1000 * 1000 };

	tcti = calloc(1, sizeof(struct raw_tcti));
	if (!tcti)
		return -ENOMEM;
	for (int i = 0; i < 100; i++) {
		if (raw_init(tcti, swtpm_port) == TSS2_RC_SUCCESS)
			return 0;
		if (waitpid(swtpm_pid, NULL, WNOHANG) == swtpm_pid) {
			swtpm_pid = -1;
			return -ECHILD;
		}
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}
#else
/* swtpm takes a moment to listen: try for up to 5 s. */
static int swtpm_connect(void)
{
	struct timespec pause = { .tv_nsec = 50 * 1000 * 1000 };
	char conf[64];
	size_t size = 0;

	snprintf(conf, sizeof(conf), "host=127.0.0.1,port=%d", swtpm_port);
	if (Tss2_Tcti_Swtpm_Init(NULL, &size, conf) != TSS2_RC_SUCCESS)
		return -EIO;
	tcti = calloc(1, size);
	if (!tcti)
		return -ENOMEM;
	for (int i = 0; i < 100; i++) {
		if (Tss2_Tcti_Swtpm_Init(tcti, &size, conf) == TSS2_RC_SUCCESS)
			return 0;
		if (waitpid(swtpm_pid, NULL, WNOHANG) == swtpm_pid) {
			swtpm_pid = -1;
			return -ECHILD;
		}
		nanosleep(&pause, NULL);
	}
	return -ETIMEDOUT;
}
#endif

/* A power cycle: swtpm's control channel CMD_INIT (2), flags 0. The TPM
 * loses its volatile state (PCRs, loaded objects, sessions) and keeps
 * its persistent objects; swtpm runs Startup(CLEAR) itself again. */
static int swtpm_power_cycle(void)
{
	static const uint8_t cmd[8] = { 0, 0, 0, 2, 0, 0, 0, 0 };
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons(swtpm_port + 1),
	};
	uint8_t res[4] = { 0xff };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = -EIO;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    write(fd, cmd, sizeof(cmd)) == sizeof(cmd) &&
	    read(fd, res, sizeof(res)) == sizeof(res) &&
	    memcmp(res, "\0\0\0\0", 4) == 0)
		r = 0;
	close(fd);
	return r;
}

static void remove_state_dir(void)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;

	if (!state_dir[0] || !(d = opendir(state_dir)))
		return;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", state_dir,
				 de->d_name);
			unlink(path);
		}
	}
	closedir(d);
	rmdir(state_dir);
}

static void swtpm_stop(void)
{
	if (tcti) {
		Tss2_Tcti_Finalize(tcti);
		free(tcti);
		tcti = NULL;
	}
	if (swtpm_pid > 0) {
		kill(swtpm_pid, SIGTERM);
		waitpid(swtpm_pid, NULL, 0);
		swtpm_pid = -1;
	}
	remove_state_dir();
}

/* ---- helpers ---- */

static bool all_poison(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != POISON)
			return false;
	return true;
}

static void open_tpm(struct tpm *t)
{
	int r = tpm_open_tcti(t, tcti);

	if (r < 0) {
		printf("FAIL open_tpm: cannot open the TPM: %s\n", strerror(-r));
		exit(1);
	}
}

/* systemd's tpm2-policy-hash for a sha256 PolicyPCR, computed here from
 * the spec: SHA256(0^32 || TPM_CC_PolicyPCR || TPML_PCR_SELECTION ||
 * SHA256(concatenated PCR values)), for one PCR. */
static void expected_policy(const uint8_t pcr_value[32], unsigned pcr,
			    uint8_t ret[32])
{
	uint8_t buf[32 + 4 + 10 + 32] = { 0 };
	uint8_t *p = buf + 32;

	memcpy(p, "\x00\x00\x01\x7f", 4);
	memcpy(p + 4, "\x00\x00\x00\x01\x00\x0b\x03", 7);
	p[11 + pcr / 8] = 1u << (pcr % 8);
	SHA256(pcr_value, 32, p + 14);
	SHA256(buf, sizeof(buf), ret);
}

static void extend_pcr(struct tpm *t, unsigned pcr, uint8_t byte)
{
	uint8_t d[TPM_DIGEST_SIZE];

	memset(d, byte, sizeof(d));
	CHECK(tpm_pcr_extend(t, pcr, d) == 0);
}

static const char *cc_name(uint32_t cc)
{
	switch (cc) {
	case TPM2_CC_Startup: return "Startup";
	case TPM2_CC_ReadPublic: return "ReadPublic";
	case TPM2_CC_Load: return "Load";
	case TPM2_CC_StartAuthSession: return "StartAuthSession";
	case TPM2_CC_PolicyPCR: return "PolicyPCR";
	case TPM2_CC_PolicyGetDigest: return "PolicyGetDigest";
	case TPM2_CC_GetCapability: return "GetCapability";
	case TPM2_CC_PolicyRestart: return "PolicyRestart";
	case TPM2_CC_Unseal: return "Unseal";
	case TPM2_CC_FlushContext: return "FlushContext";
	case TPM2_CC_PCR_Extend: return "PCR_Extend";
	case TPM2_CC_CreatePrimary: return "CreatePrimary";
	case TPM2_CC_PCR_Read: return "PCR_Read";
	default: return "?";
	}
}

static void print_counts(const char *what, const struct tpm *t)
{
	printf("  %s: %u TPM commands:", what, t->commands);
	for (unsigned i = 0; i < TPM_CC_SLOTS && t->by_cc[i].n; i++)
		printf(" %s(0x%03x)x%u", cc_name(t->by_cc[i].cc),
		       (unsigned)t->by_cc[i].cc, t->by_cc[i].n);
	printf("\n");
}

static void reset_counts(struct tpm *t)
{
	t->commands = 0;
	memset(t->by_cc, 0, sizeof(t->by_cc));
}

static unsigned count_of(const struct tpm *t, uint32_t cc)
{
	for (unsigned i = 0; i < TPM_CC_SLOTS && t->by_cc[i].n; i++)
		if (t->by_cc[i].cc == cc)
			return t->by_cc[i].n;
	return 0;
}

/* Handles of one type the TPM holds (GetCapability TPM_CAP_HANDLES), or
 * -1. Sent on t: check its counts first. */
static int tpm_handles(struct tpm *t, uint32_t first)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	int n = -1;

	if (Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
			       ESYS_TR_NONE, TPM2_CAP_HANDLES, first,
			       TPM2_MAX_CAP_HANDLES, &more, &cap) == 0 &&
	    !more)
		n = (int)cap->data.handles.count;
	Esys_Free(cap);
	return n;
}

/* On the raw device no resource manager flushes what a process leaves
 * loaded: after each operation the TPM holds no transient object, no
 * loaded session and no saved one (swtpm here has none either), and the
 * module holds none it would flush at tpm_close. */
static bool tpm_holds_nothing(struct tpm *t)
{
	/* TPM2_TRANSIENT_FIRST & co. shift a signed int into the sign bit:
	 * the handle ranges' first values, spelled out */
	int objects = tpm_handles(t, 0x80000000u);
	int loaded = tpm_handles(t, 0x02000000u);	/* HMAC or policy */
	int saved = tpm_handles(t, 0x03000000u);

	if (objects != 0 || loaded != 0 || saved != 0 || t->n_held != 0)
		printf("  the TPM holds %d objects, %d loaded and %d saved "
		       "sessions; the module %u handles\n", objects, loaded,
		       saved, t->n_held);
	return objects == 0 && loaded == 0 && saved == 0 && t->n_held == 0;
}

/* The TPM's dictionary-attack failure count (TPM_PT_LOCKOUT_COUNTER). */
static int da_failed_tries(struct tpm *t)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	int n = -1;

	if (Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
			       ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
			       TPM2_PT_LOCKOUT_COUNTER, 1, &more, &cap) == 0 &&
	    cap->data.tpmProperties.count == 1)
		n = (int)cap->data.tpmProperties.tpmProperty[0].value;
	Esys_Free(cap);
	return n;
}

/* Seal to PCR 7 under a transient primary; the outputs were poisoned. */
struct sealed {
	struct tpm_blob blob;
	uint8_t policy[TPM_DIGEST_SIZE];
	uint8_t secret[TPM_SECRET_SIZE];
};

static int seal(struct tpm *t, ESYS_TR parent, struct sealed *s)
{
	memset(s, POISON, sizeof(*s));
	return tpm_seal(t, parent, MASK_SEAL, &s->blob, s->policy, s->secret);
}

/* ---- tests ---- */

static void test_no_device(void)
{
	struct tpm t;

	CHECK(tpm_open(&t, "/nonexistent/tpm0") == -ENODEV);
}

/* The device path sends nothing when it opens: no Startup (the kernel
 * started the TPM when it probed it), no probe of a TCTI's own (tcti-
 * device's GetRandom). An empty file in the state directory stands for
 * the device: whatever tpm_open wrote, it would hold. */
static void test_device_open_sends_nothing(void)
{
	char dev[PATH_MAX + 8];
	struct stat st;
	struct tpm t;
	int fd;

	snprintf(dev, sizeof(dev), "%s/tpm0", state_dir);
	fd = open(dev, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(tpm_open(&t, dev) == 0);
	CHECK(t.commands == 0);
	CHECK(stat(dev, &st) == 0 && st.st_size == 0);
	tpm_close(&t);
	unlink(dev);
}

/* swtpm ran Startup itself: ours gets TPM_RC_INITIALIZE, which is fine;
 * and again on a second context. */
static void test_startup_started(void)
{
	struct tpm t;

	open_tpm(&t);
	CHECK(t.commands == 1 && t.by_cc[0].cc == TPM2_CC_Startup);
	tpm_close(&t);
	open_tpm(&t);
	tpm_close(&t);
}

static void test_pcr_read_extend(void)
{
	uint8_t before[TPM_PCR_COUNT][TPM_DIGEST_SIZE];
	uint8_t after[TPM_PCR_COUNT][TPM_DIGEST_SIZE];
	uint8_t d[TPM_DIGEST_SIZE], cat[2 * TPM_DIGEST_SIZE], want[32];
	struct tpm t;

	open_tpm(&t);
	memset(before, POISON, sizeof(before));
	CHECK(tpm_pcr_read(&t, TPM_PCR_MASK_ALL, before) == 0);
	memset(after, POISON, sizeof(after));
	memset(d, 0x42, sizeof(d));
	CHECK(tpm_pcr_extend(&t, PCR_DEBUG, d) == 0);
	CHECK(tpm_pcr_read(&t, 1u << PCR_DEBUG, after) == 0);
	memcpy(cat, before[PCR_DEBUG], TPM_DIGEST_SIZE);
	memcpy(cat + TPM_DIGEST_SIZE, d, TPM_DIGEST_SIZE);
	SHA256(cat, sizeof(cat), want);
	CHECK(memcmp(after[PCR_DEBUG], want, 32) == 0);
	CHECK(all_poison(after[PCR_DEBUG - 1], TPM_DIGEST_SIZE));
	CHECK(tpm_pcr_read(&t, 0, after) == -EINVAL);
	CHECK(tpm_pcr_extend(&t, TPM_PCR_COUNT, d) == -EINVAL);
	tpm_close(&t);
}

static void test_random(void)
{
	uint8_t buf[100];
	struct tpm t;

	open_tpm(&t);
	memset(buf, POISON, sizeof(buf));
	CHECK(tpm_get_random(&t, buf, sizeof(buf)) == 0);
	CHECK(!all_poison(buf + 64, 36));
	tpm_close(&t);
}

/* The primary is derived from the TPM's seed and the template: created
 * twice, it is the same key; and its public area is systemd 252's. */
static void test_primary_deterministic(void)
{
	struct tpm_name a, b;
	TPM2B_PUBLIC *pub = NULL;
	ESYS_TR h1, h2;
	struct tpm t;

	open_tpm(&t);
	memset(&a, POISON, sizeof(a));
	memset(&b, POISON, sizeof(b));
	CHECK(tpm_primary_create(&t, &h1, &a) == 0);
	CHECK(tpm_primary_create(&t, &h2, &b) == 0);
	CHECK(a.size == 34 && a.bytes[0] == 0x00 && a.bytes[1] == 0x0b);
	CHECK(a.size == b.size && memcmp(a.bytes, b.bytes, a.size) == 0);
	CHECK(Esys_ReadPublic(t.esys, h1, ESYS_TR_NONE, ESYS_TR_NONE,
			      ESYS_TR_NONE, &pub, NULL, NULL) == 0);
	if (pub) {
		CHECK(pub->publicArea.objectAttributes == 0x00030072);
		CHECK(pub->publicArea.parameters.eccDetail.curveID ==
		      TPM2_ECC_NIST_P256);
		CHECK(pub->publicArea.parameters.eccDetail.symmetric.mode.aes ==
		      TPM2_ALG_CFB);
		Esys_Free(pub);
	}
	tpm_handle_release(&t, &h1);
	tpm_handle_release(&t, &h2);
	tpm_close(&t);
}

static void test_seal_unseal(void)
{
	uint8_t pcrs[TPM_PCR_COUNT][TPM_DIGEST_SIZE], want[32];
	uint8_t out[TPM_SECRET_SIZE];
	struct sealed s;
	struct tpm_name name;
	ESYS_TR primary;
	struct tpm t;
	int r;

	open_tpm(&t);
	CHECK(tpm_primary_create(&t, &primary, &name) == 0);
	CHECK(seal(&t, primary, &s) == 0);
	CHECK(!all_poison(s.secret, sizeof(s.secret)));
	CHECK(s.blob.size > 0 && s.blob.size < sizeof(s.blob.bytes));
	CHECK(tpm_pcr_read(&t, MASK_SEAL, pcrs) == 0);
	expected_policy(pcrs[PCR_SEAL], PCR_SEAL, want);
	CHECK(memcmp(s.policy, want, 32) == 0);
	memset(out, POISON, sizeof(out));
	r = tpm_unseal(&t, primary, &s.blob, MASK_SEAL, s.policy, out);
	CHECK(r == 0);
	if (r < 0)
		printf("  unseal: %s\n", strerror(-r));
	CHECK(memcmp(out, s.secret, sizeof(out)) == 0);
	tpm_handle_release(&t, &primary);
	tpm_close(&t);
}

/* After PCR 7 moves, the policy no longer matches: the TPM refuses the
 * Unseal (TPM_RC_POLICY_FAIL on the session), -EPERM, no output; no
 * PolicyGetDigest is sent; the sealed object is DA-protected (no noDA,
 * as systemd 252 seals) and the TPM's failure count does not move. */
static void test_pcr_changed_refused(void)
{
	uint8_t out[TPM_SECRET_SIZE];
	struct tpm_name name;
	struct sealed s;
	ESYS_TR primary;
	struct tpm t;
	int da;

	open_tpm(&t);
	CHECK(tpm_primary_create(&t, &primary, &name) == 0);
	CHECK(seal(&t, primary, &s) == 0);
	extend_pcr(&t, PCR_SEAL, 0x07);
	da = da_failed_tries(&t);
	CHECK(da >= 0);
	reset_counts(&t);
	memset(out, POISON, sizeof(out));
	CHECK(tpm_unseal(&t, primary, &s.blob, MASK_SEAL, s.policy, out) ==
	      -EPERM);
	CHECK(all_poison(out, sizeof(out)));
	print_counts("unseal refused", &t);
	CHECK(count_of(&t, TPM2_CC_Unseal) == 1);
	CHECK(count_of(&t, TPM2_CC_PolicyGetDigest) == 0);
	CHECK(da_failed_tries(&t) == da);
	tpm_handle_release(&t, &primary);
	CHECK(tpm_holds_nothing(&t));
	tpm_close(&t);
}

/* A damaged, truncated, extended or foreign blob is -EBADMSG. */
static void test_bad_blob(void)
{
	static const TPM2B_SENSITIVE_CREATE none;
	static const TPML_PCR_SELECTION no_pcr;
	uint8_t out[TPM_SECRET_SIZE], want[TPM_DIGEST_SIZE];
	TPM2B_PUBLIC other_tmpl;
	struct tpm_name name;
	struct sealed s, foreign;
	struct tpm_blob bad;
	ESYS_TR primary, other;
	struct tpm t;

	open_tpm(&t);
	CHECK(tpm_primary_create(&t, &primary, &name) == 0);
	CHECK(seal(&t, primary, &s) == 0);
	memset(out, POISON, sizeof(out));

	bad = s.blob;
	bad.bytes[10] ^= 0x01;	/* inside the encrypted private part */
	CHECK(tpm_unseal(&t, primary, &bad, MASK_SEAL, s.policy, out) ==
	      -EBADMSG);
	bad = s.blob;
	bad.size -= 1;
	CHECK(tpm_unseal(&t, primary, &bad, MASK_SEAL, s.policy, out) ==
	      -EBADMSG);
	bad = s.blob;
	bad.bytes[bad.size++] = 0;
	CHECK(tpm_unseal(&t, primary, &bad, MASK_SEAL, s.policy, out) ==
	      -EBADMSG);
	bad = s.blob;
	bad.bytes[bad.size - 1] ^= 0x01;	/* the public part's unique */
	CHECK(tpm_unseal(&t, primary, &bad, MASK_SEAL, s.policy, out) ==
	      -EBADMSG);
	memcpy(want, s.policy, sizeof(want));
	want[0] ^= 0x01;	/* a token whose policy hash is not the blob's */
	CHECK(tpm_unseal(&t, primary, &s.blob, MASK_SEAL, want, out) ==
	      -EBADMSG);

	/* Sealed under another storage key: the TPM's integrity check. */
	memset(&other_tmpl, 0, sizeof(other_tmpl));
	{
		TPM2B_PUBLIC *pub = NULL;

		CHECK(Esys_ReadPublic(t.esys, primary, ESYS_TR_NONE,
				      ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL,
				      NULL) == 0);
		if (pub) {
			other_tmpl = *pub;
			Esys_Free(pub);
		}
	}
	other_tmpl.publicArea.unique.ecc.x.size = 1;	/* another key */
	other_tmpl.publicArea.unique.ecc.x.buffer[0] = 1;
	other_tmpl.publicArea.unique.ecc.y.size = 0;
	CHECK(Esys_CreatePrimary(t.esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD,
				 ESYS_TR_NONE, ESYS_TR_NONE, &none, &other_tmpl,
				 NULL, &no_pcr, &other, NULL, NULL, NULL,
				 NULL) == 0);
	CHECK(seal(&t, other, &foreign) == 0);
	CHECK(tpm_unseal(&t, primary, &foreign.blob, MASK_SEAL, foreign.policy,
			 out) == -EBADMSG);
	CHECK(all_poison(out, sizeof(out)));
	tpm_handle_release(&t, &other);
	tpm_handle_release(&t, &primary);
	tpm_close(&t);
}

/* Persistent primary: used only with the recorded name. Then the normal
 * boot's unseal, counted. */
static void test_persistent(void)
{
	struct tpm_name name, wrong;
	uint8_t out[TPM_SECRET_SIZE];
	ESYS_TR transient, persistent, h;
	struct sealed s;
	struct tpm t;

	open_tpm(&t);
	CHECK(tpm_primary_create(&t, &transient, &name) == 0);
	CHECK(tpm_primary_persist(&t, transient, TPM_PRIMARY_HANDLE,
				  &persistent) == 0);
	CHECK(tpm_primary_persist(&t, transient, TPM_PRIMARY_HANDLE, &h) ==
	      -EEXIST);
	tpm_handle_release(&t, &transient);
	CHECK(seal(&t, persistent, &s) == 0);
	tpm_handle_release(&t, &persistent);
	tpm_close(&t);

	open_tpm(&t);
	wrong = name;
	wrong.bytes[5] ^= 0x01;
	h = 0x5a5a5a5a;
	CHECK(tpm_primary_open_persistent(&t, TPM_PRIMARY_HANDLE, &wrong, &h) ==
	      -EKEYREJECTED);
	CHECK(tpm_primary_open_persistent(&t, TPM_PRIMARY_HANDLE + 1, &name,
					  &h) == -ENOENT);
	CHECK(h == 0x5a5a5a5a);
	tpm_close(&t);

	/* A normal boot: open (Startup), then persistent primary + unseal. */
	open_tpm(&t);
	reset_counts(&t);
	memset(out, POISON, sizeof(out));
	CHECK(tpm_primary_open_persistent(&t, TPM_PRIMARY_HANDLE, &name,
					  &persistent) == 0);
	CHECK(tpm_unseal(&t, persistent, &s.blob, MASK_SEAL, s.policy, out) ==
	      0);
	CHECK(memcmp(out, s.secret, sizeof(out)) == 0);
	print_counts("normal unseal, persistent primary (after Startup)", &t);
	/* ReadPublic, Load, StartAuthSession, PolicyPCR, Unseal and the
	 * sealed object's FlushContext (the session ends with the Unseal);
	 * with the barrier's PCR_Read and PCR_Extend, 8 a boot */
	CHECK(t.commands == 6);
	CHECK(count_of(&t, TPM2_CC_ReadPublic) == 1 &&
	      count_of(&t, TPM2_CC_Load) == 1 &&
	      count_of(&t, TPM2_CC_StartAuthSession) == 1 &&
	      count_of(&t, TPM2_CC_PolicyPCR) == 1 &&
	      count_of(&t, TPM2_CC_Unseal) == 1 &&
	      count_of(&t, TPM2_CC_FlushContext) == 1);
	tpm_handle_release(&t, &persistent);
	CHECK(tpm_holds_nothing(&t));
	tpm_close(&t);
}

/* A forged ReadPublic answer: the TPM's name for the key, with another
 * public key beside it (a byte of the ECC point x changed). ESYS would
 * salt sessions to that key: the module must refuse it. */
static void forge_public(struct tpm *t, uint32_t cc, uint8_t *resp,
			 size_t size, void *userdata)
{
	(void)t;
	(void)userdata;
	if (cc == TPM2_CC_ReadPublic && size > 40)
		resp[40] ^= 0x01;
}

static void test_persistent_forged_public(void)
{
	struct tpm_name name;
	ESYS_TR transient, h = 0x5a5a5a5a;
	struct tpm t;

	open_tpm(&t);
	CHECK(tpm_primary_create(&t, &transient, &name) == 0);
	tpm_handle_release(&t, &transient);
	t.on_response = forge_public;
	CHECK(tpm_primary_open_persistent(&t, TPM_PRIMARY_HANDLE, &name, &h) ==
	      -EKEYREJECTED);
	CHECK(h == 0x5a5a5a5a);
	t.on_response = NULL;
	CHECK(tpm_primary_open_persistent(&t, TPM_PRIMARY_HANDLE, &name, &h) ==
	      0);
	tpm_handle_release(&t, &h);
	tpm_close(&t);
}

/* The persistent primary and the one systemd 252 creates on every boot
 * are one key: each unseals what was sealed under the other. */
static void test_persistent_is_systemds_primary(void)
{
	uint8_t out[TPM_SECRET_SIZE];
	ESYS_TR persistent, transient;
	struct tpm_name name, recorded;
	struct sealed a, b;
	struct tpm t;

	open_tpm(&t);
	CHECK(tpm_primary_create(&t, &transient, &recorded) == 0);
	tpm_handle_release(&t, &transient);
	CHECK(tpm_primary_open_persistent(&t, TPM_PRIMARY_HANDLE, &recorded,
					  &persistent) == 0);
	CHECK(tpm_primary_create(&t, &transient, &name) == 0);
	CHECK(seal(&t, persistent, &a) == 0);
	CHECK(seal(&t, transient, &b) == 0);
	memset(out, POISON, sizeof(out));
	CHECK(tpm_unseal(&t, transient, &a.blob, MASK_SEAL, a.policy, out) ==
	      0);
	CHECK(memcmp(out, a.secret, sizeof(out)) == 0);
	memset(out, POISON, sizeof(out));
	CHECK(tpm_unseal(&t, persistent, &b.blob, MASK_SEAL, b.policy, out) ==
	      0);
	CHECK(memcmp(out, b.secret, sizeof(out)) == 0);
	tpm_handle_release(&t, &transient);
	tpm_handle_release(&t, &persistent);
	tpm_close(&t);
}

/* The TPM's dictionary-attack counter and its limit: a power cycle
 * without TPM2_Shutdown makes the next use of a DA-protected key's
 * authValue (the primary: systemd's template has no noDA) count as a
 * failure. Printed for the power-cut scenarios. */
static void print_da(struct tpm *t, const char *when)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMS_TAGGED_PROPERTY *p;
	TPMI_YES_NO more;

	if (Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE,
			       ESYS_TR_NONE, TPM2_CAP_TPM_PROPERTIES,
			       TPM2_PT_LOCKOUT_COUNTER, 2, &more, &cap) != 0)
		return;
	p = cap->data.tpmProperties.tpmProperty;
	if (cap->data.tpmProperties.count == 2)
		printf("  %s: DA failed tries %u of %u\n", when, p[0].value,
		       p[1].value);
	Esys_Free(cap);
}

/* Provisioning boot: primary persisted, secret sealed. Power cycle. The
 * next boot creates no primary and unseals with the recorded name. */
static void test_reboot(void)
{
	uint8_t pcrs[TPM_PCR_COUNT][TPM_DIGEST_SIZE];
	uint8_t out[TPM_SECRET_SIZE], zero[TPM_DIGEST_SIZE] = { 0 };
	struct tpm_name name;
	ESYS_TR primary;
	struct sealed s;
	struct tpm t;

	CHECK(swtpm_power_cycle() == 0);
	open_tpm(&t);
	CHECK(tpm_primary_create(&t, &primary, &name) == 0);
	tpm_handle_release(&t, &primary);
	CHECK(tpm_primary_open_persistent(&t, TPM_PRIMARY_HANDLE, &name,
					  &primary) == 0);
	CHECK(seal(&t, primary, &s) == 0);
	tpm_handle_release(&t, &primary);
	tpm_close(&t);

	CHECK(swtpm_power_cycle() == 0);
	open_tpm(&t);
	CHECK(tpm_pcr_read(&t, MASK_SEAL, pcrs) == 0);
	CHECK(memcmp(pcrs[PCR_SEAL], zero, sizeof(zero)) == 0);
	reset_counts(&t);
	memset(out, POISON, sizeof(out));
	CHECK(tpm_primary_open_persistent(&t, TPM_PRIMARY_HANDLE, &name,
					  &primary) == 0);
	CHECK(tpm_unseal(&t, primary, &s.blob, MASK_SEAL, s.policy, out) == 0);
	CHECK(memcmp(out, s.secret, sizeof(out)) == 0);
	print_counts("unseal after a power cycle", &t);
	print_da(&t, "after 2 power cycles without TPM2_Shutdown");
	for (unsigned i = 0; i < TPM_CC_SLOTS; i++)
		CHECK(t.by_cc[i].cc != TPM2_CC_CreatePrimary);
	tpm_handle_release(&t, &primary);
	tpm_close(&t);
}

/* A raw TPM2_PCR_Extend of PCR 10 with an empty password, sent on the
 * transport between two of the module's commands, as IMA would. */
static void inject_extend(struct tpm *t, uint32_t cc, void *userdata)
{
	static const uint8_t cmd[] = {
		0x80, 0x02, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x01, 0x82,
		0x00, 0x00, 0x00, PCR_IMA,
		0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, 0x00, 0x00,
		0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
	};
	unsigned *left = userdata;
	uint8_t resp[64];
	size_t size = sizeof(resp);

	if (cc != TPM2_CC_Unseal || *left == 0)
		return;
	(*left)--;
	if (Tss2_Tcti_Transmit(t->tcti, sizeof(cmd), cmd) != 0 ||
	    Tss2_Tcti_Receive(t->tcti, &size, resp, TSS2_TCTI_TIMEOUT_BLOCK) !=
		    0 || size < 10 || memcmp(resp + 6, "\0\0\0\0", 4) != 0)
		printf("  injected PCR_Extend failed\n");
}

static void test_pcr_changed_retry(void)
{
	uint8_t out[TPM_SECRET_SIZE];
	struct tpm_name name;
	unsigned left = 2;
	struct sealed s;
	ESYS_TR primary;
	struct tpm t;

	open_tpm(&t);
	CHECK(tpm_primary_create(&t, &primary, &name) == 0);
	CHECK(seal(&t, primary, &s) == 0);
	t.before_command = inject_extend;
	t.userdata = &left;
	reset_counts(&t);
	memset(out, POISON, sizeof(out));
	CHECK(tpm_unseal(&t, primary, &s.blob, MASK_SEAL, s.policy, out) == 0);
	CHECK(memcmp(out, s.secret, sizeof(out)) == 0);
	CHECK(left == 0);
	print_counts("unseal with PCR 10 extended twice under it", &t);
	CHECK(count_of(&t, TPM2_CC_Unseal) == 3 &&
	      count_of(&t, TPM2_CC_PolicyRestart) == 2);
	t.before_command = NULL;
	tpm_handle_release(&t, &primary);
	CHECK(tpm_holds_nothing(&t));
	tpm_close(&t);
}

/* Every path leaves the TPM as it found it (no resource manager cleans
 * up on the raw device): seal and unseal under the persistent primary,
 * a refused unseal (wrong PCRs), a PCR_CHANGED retry, a damaged blob;
 * and what a caller forgot to release, tpm_close flushes. */
static void test_nothing_left(void)
{
	uint8_t out[TPM_SECRET_SIZE];
	struct tpm_name name;
	struct sealed s;
	struct tpm_blob bad;
	ESYS_TR primary, transient, another;
	unsigned left = 1;
	struct tpm t;

	open_tpm(&t);
	CHECK(tpm_holds_nothing(&t));
	CHECK(tpm_primary_create(&t, &transient, &name) == 0);
	tpm_handle_release(&t, &transient);
	CHECK(tpm_primary_open_persistent(&t, TPM_PRIMARY_HANDLE, &name,
					  &primary) == 0);
	CHECK(seal(&t, primary, &s) == 0);
	CHECK(tpm_holds_nothing(&t));
	CHECK(tpm_unseal(&t, primary, &s.blob, MASK_SEAL, s.policy, out) == 0);
	CHECK(tpm_holds_nothing(&t));

	t.before_command = inject_extend;
	t.userdata = &left;
	CHECK(tpm_unseal(&t, primary, &s.blob, MASK_SEAL, s.policy, out) == 0);
	CHECK(left == 0);
	t.before_command = NULL;
	CHECK(tpm_holds_nothing(&t));

	bad = s.blob;
	bad.bytes[10] ^= 0x01;
	CHECK(tpm_unseal(&t, primary, &bad, MASK_SEAL, s.policy, out) ==
	      -EBADMSG);
	CHECK(tpm_holds_nothing(&t));

	extend_pcr(&t, PCR_SEAL, 0x17);
	CHECK(tpm_unseal(&t, primary, &s.blob, MASK_SEAL, s.policy, out) ==
	      -EPERM);
	CHECK(tpm_holds_nothing(&t));
	tpm_handle_release(&t, &primary);

	/* left loaded by the caller: flushed by tpm_close */
	CHECK(tpm_primary_create(&t, &transient, &name) == 0);
	CHECK(tpm_primary_create(&t, &another, &name) == 0);
	CHECK(t.n_held == 2);
	tpm_close(&t);
	open_tpm(&t);
	CHECK(tpm_holds_nothing(&t));
	tpm_close(&t);
}

/* In DA lockout the primary (DA-protected, as systemd's is) cannot be
 * used: -ENOLCK. maxTries 0 puts the TPM in lockout at once. */
static void test_lockout(void)
{
	uint8_t out[TPM_SECRET_SIZE];
	struct tpm_name name;
	struct sealed s;
	ESYS_TR primary;
	struct tpm t;

	open_tpm(&t);
	CHECK(tpm_primary_create(&t, &primary, &name) == 0);
	CHECK(seal(&t, primary, &s) == 0);
	CHECK(Esys_DictionaryAttackParameters(t.esys, ESYS_TR_RH_LOCKOUT,
					      ESYS_TR_PASSWORD, ESYS_TR_NONE,
					      ESYS_TR_NONE, 0, 1000, 1000) ==
	      0);
	memset(out, POISON, sizeof(out));
	CHECK(tpm_unseal(&t, primary, &s.blob, MASK_SEAL, s.policy, out) ==
	      -ENOLCK);
	CHECK(all_poison(out, sizeof(out)));
	CHECK(Esys_DictionaryAttackParameters(t.esys, ESYS_TR_RH_LOCKOUT,
					      ESYS_TR_PASSWORD, ESYS_TR_NONE,
					      ESYS_TR_NONE, 32, 600, 600) ==
	      0);
	tpm_handle_release(&t, &primary);
	tpm_close(&t);
}

int main(int argc, char **argv)
{
	int r;

	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	atexit(swtpm_stop);	/* also when a test gives up with exit() */
	r = swtpm_start(argv[0]);
	if (r == 0)
		r = swtpm_connect();
	if (r < 0) {
		printf("FAIL swtpm: cannot start or reach swtpm: %s\n",
		       strerror(-r));
		return 1;
	}
	RUN(test_no_device);
	RUN(test_device_open_sends_nothing);
	RUN(test_startup_started);
	RUN(test_pcr_read_extend);
	RUN(test_random);
	RUN(test_primary_deterministic);
	RUN(test_seal_unseal);
	RUN(test_pcr_changed_refused);
	RUN(test_bad_blob);
	RUN(test_persistent);
	RUN(test_persistent_is_systemds_primary);
	RUN(test_persistent_forged_public);
	RUN(test_reboot);
	RUN(test_pcr_changed_retry);
	RUN(test_nothing_left);
	RUN(test_lockout);
	return UNIT_EXIT();
}
