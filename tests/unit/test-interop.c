/* Interop with systemd 252 on the host, header and TPM, no device-mapper:
 *   systemd -> sealroot: systemd-cryptenroll --tpm2-pcrs=7 enrolls an
 *     image through swtpm; luks.c finds and parses its token, tpm.c
 *     unseals it under systemd's per-boot ECC primary, the derived
 *     passphrase opens the token's keyslot (crypt_activate, no name);
 *   sealroot -> systemd: tpm.c seals, luks.c provisions an image with
 *     that token; libcryptsetup opens it through systemd's own token
 *     plugin (libcryptsetup-token-systemd-tpm2, the code behind
 *     systemd-cryptsetup's tpm2-device=, given the swtpm as its device):
 *     systemd's parser and unseal, minus dm. After PCR 7 moves, it fails.
 * swtpm runs with its state in a scratch directory next to this binary;
 * both are removed at the end. SKIP when systemd's tools are missing. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libcryptsetup.h>
#include <openssl/evp.h>
#include <tss2/tss2_tcti_swtpm.h>

#include "luks.h"
#include "tpm.h"
#include "tpm2token.h"
#include "unit.h"
#include "unit-files.h"
#include "unit-swtpm.h"

#define IMG_SIZE (20u << 20)
#define PLUGIN "/usr/lib/x86_64-linux-gnu/cryptsetup/libcryptsetup-token-systemd-tpm2.so"

static pid_t swtpm_pid = -1;
static int port;

/* ---- swtpm ---- */

static int swtpm_start(void)
{
	port = free_port_pair();
	if (port < 0)
		return -EADDRINUSE;
	swtpm_pid = swtpm_spawn(dir, port);
	return swtpm_pid < 0 ? (int)swtpm_pid : 0;
}

static void swtpm_stop(void)
{
	if (swtpm_pid > 0) {
		kill(swtpm_pid, SIGTERM);
		waitpid(swtpm_pid, NULL, 0);
	}
	swtpm_pid = -1;
}

static TSS2_TCTI_CONTEXT *tcti_open(void)
{
	TSS2_TCTI_CONTEXT *tcti;
	char conf[64];
	size_t size = 0;

	snprintf(conf, sizeof(conf), "host=127.0.0.1,port=%d", port);
	if (Tss2_Tcti_Swtpm_Init(NULL, &size, conf) != TSS2_RC_SUCCESS)
		return NULL;
	tcti = calloc(1, size);
	if (tcti && Tss2_Tcti_Swtpm_Init(tcti, &size, conf) == TSS2_RC_SUCCESS)
		return tcti;
	free(tcti);
	return NULL;
}

static void tcti_close(TSS2_TCTI_CONTEXT *tcti)
{
	if (tcti)
		Tss2_Tcti_Finalize(tcti);
	free(tcti);
}

static const char *self;

/* ---- the two directions ---- */

static int unseal(const struct tpm2token *t, uint8_t secret[TPM_SECRET_SIZE])
{
	TSS2_TCTI_CONTEXT *tcti = tcti_open();
	ESYS_TR primary = ESYS_TR_NONE;
	struct tpm tpm = { 0 };
	struct tpm_name name;
	struct tpm_blob blob;
	int r = -ENODEV;

	blob.size = tpm2token_blob_join(t, blob.bytes);
	if (tcti && tpm_open_tcti(&tpm, tcti) == 0) {
		r = tpm_primary_create(&tpm, &primary, &name);
		if (r == 0)
			r = tpm_unseal(&tpm, primary, &blob, t->pcr_mask,
				       t->policy_hash, secret);
		tpm_handle_release(&tpm, &primary);
		tpm_close(&tpm);
	}
	tcti_close(tcti);
	return r;
}

static void test_systemd_to_sealroot(void)
{
	const char *img = path("enrolled.img");
	uint8_t secret[TPM_SECRET_SIZE], h[32], h2[32];
	char pass[TPM2TOKEN_PASSPHRASE_LEN + 1];
	struct tpm2token t;
	int id = -1;

	CHECK(sh("truncate -s %u '%s' && printf pw | cryptsetup luksFormat -q --type luks2 "
		 "--pbkdf pbkdf2 --pbkdf-force-iterations 1000 '%s' --key-file -",
		 IMG_SIZE, img, img) == 0);
	CHECK(sh("PASSWORD=pw systemd-cryptenroll --tpm2-device=swtpm:host=127.0.0.1,port=%d "
		 "--tpm2-pcrs=7 '%s' >/dev/null 2>&1", port, img) == 0);
	hash_file(img, h);
	memset(&t, POISON, sizeof(t));
	CHECK(luks_tpm2_token(img, 0, &t, &id) == 0 && id == 0);
	CHECK(t.keyslot == 1 && t.pcr_mask == 1u << 7);
	CHECK(t.pcr_bank == TPM2TOKEN_ALG_SHA256 && t.primary_alg == TPM2TOKEN_ALG_ECC);
	memset(secret, POISON, sizeof(secret));
	CHECK(unseal(&t, secret) == 0);
	tpm2token_passphrase(secret, pass);
	CHECK(luks_activate(img, NULL, (int)t.keyslot, pass) == 0);
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(pass, sizeof(pass));
	hash_file(img, h2);
	CHECK(!memcmp(h, h2, sizeof(h)));
}

static int seal(struct tpm2token *t, uint8_t secret[TPM_SECRET_SIZE])
{
	TSS2_TCTI_CONTEXT *tcti = tcti_open();
	ESYS_TR primary = ESYS_TR_NONE;
	struct tpm tpm = { 0 };
	struct tpm_name name;
	static struct tpm_blob blob;
	int r = -ENODEV;

	if (tcti && tpm_open_tcti(&tpm, tcti) == 0) {
		r = tpm_primary_create(&tpm, &primary, &name);
		if (r == 0)
			r = tpm_seal(&tpm, primary, 1u << 7, &blob,
				     t->policy_hash, secret);
		tpm_handle_release(&tpm, &primary);
		tpm_close(&tpm);
	}
	tcti_close(tcti);
	if (r == 0) {
		char msg[TPM2TOKEN_MSG_MAX];

		r = tpm2token_blob_split(blob.bytes, blob.size, t, msg);
	}
	return r;
}

/* systemd's plugin parameters (v252 src/shared/tpm2-util.h,
 * systemd_tpm2_plugin_params): its ABI, passed through libcryptsetup. */
struct systemd_tpm2_params {
	uint32_t search_pcr_mask;
	const char *device;
	const char *signature_path;
};

/* In a fresh process (luks.c disables token plugins for good): let
 * libcryptsetup run systemd's token plugin on img, TPM at device. */
static int systemd_open(const char *img, const char *device)
{
	struct systemd_tpm2_params params = { UINT32_MAX, device, NULL };
	struct crypt_device *cd = NULL;
	int r;

	r = crypt_init(&cd, img);
	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r == 0)
		r = crypt_activate_by_token_pin(cd, NULL, "systemd-tpm2",
						CRYPT_ANY_TOKEN, NULL, 0,
						&params, 0);
	crypt_free(cd);
	if (r < 0)
		fprintf(stderr, "systemd-tpm2 plugin: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}

static int systemd_opens(const char *prog, const char *img)
{
	return sh("ASAN_OPTIONS=detect_leaks=0 '%s' --systemd-open '%s' "
		  "swtpm:host=127.0.0.1,port=%d", prog, img, port);
}

/* swtpm's control channel CMD_INIT (2), flags 0: a power cycle. Loaded
 * sessions go (systemd's tools leave theirs behind on a TPM without a
 * resource manager), PCRs are reset, swtpm starts the TPM up again. */
static int swtpm_power_cycle(void)
{
	static const uint8_t cmd[8] = { 0, 0, 0, 2, 0, 0, 0, 0 };
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)(port + 1)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t resp[4] = { 1 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = -EIO;

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    write(fd, cmd, sizeof(cmd)) == sizeof(cmd) &&
	    read(fd, resp, sizeof(resp)) == sizeof(resp) &&
	    !memcmp(resp, "\0\0\0\0", 4))
		r = 0;
	if (fd >= 0)
		close(fd);
	return r;
}

static int extend_pcr7(void)
{
	static const uint8_t digest[TPM_DIGEST_SIZE] = { 1 };
	TSS2_TCTI_CONTEXT *tcti = tcti_open();
	struct tpm tpm = { 0 };
	int r = -ENODEV;

	if (tcti && tpm_open_tcti(&tpm, tcti) == 0) {
		r = tpm_pcr_extend(&tpm, 7, digest);
		tpm_close(&tpm);
	}
	tcti_close(tcti);
	return r;
}


static void test_sealroot_to_systemd(void)
{
	const char *img = path("ours.img");
	uint8_t secret[TPM_SECRET_SIZE];
	struct tpm2token t = {
		.pcr_mask = 1u << 7,
		.pcr_bank = TPM2TOKEN_ALG_SHA256,
		.primary_alg = TPM2TOKEN_ALG_ECC,
	};
	struct luks_slots s;

	CHECK(seal(&t, secret) == 0);
	CHECK(sh("truncate -s %u '%s'", IMG_SIZE, img) == 0);
	CHECK(luks_provision(img, secret, &t, NULL, &s) == 0);
	explicit_bzero(secret, sizeof(secret));
	CHECK(luks_mark_ready(img) == 0);
	CHECK(systemd_opens(self, img) == 0);
	/* Once PCR 7 moved, systemd's unseal fails on the policy. */
	CHECK(swtpm_power_cycle() == 0);
	CHECK(extend_pcr7() == 0);
	CHECK(sh("ASAN_OPTIONS=detect_leaks=0 '%s' --systemd-open '%s' "
		 "swtpm:host=127.0.0.1,port=%d 2>&1 | "
		 "grep -q 'policy digest does not match'", self, img, port) == 0);
	CHECK(swtpm_power_cycle() == 0);
	CHECK(systemd_opens(self, img) == 0);
}

static bool have_tools(void)
{
	return sh("command -v systemd-cryptenroll swtpm cryptsetup >/dev/null") == 0 &&
	       access(PLUGIN, R_OK) == 0;
}

int main(int argc, char **argv)
{
	char d[PATH_MAX];

	if (argc == 4 && !strcmp(argv[1], "--systemd-open"))
		return systemd_open(argv[2], argv[3]);
	self = argv[0];
	if (!have_tools()) {
		printf("SKIP test-interop: systemd-cryptenroll, swtpm, cryptsetup or %s missing\n",
		       PLUGIN);
		return 0;
	}
	snprintf(d, sizeof(d), "%s", argv[0]);
	snprintf(dir, sizeof(dir), "%s/interop.XXXXXX", dirname(d));
	if (!mkdtemp(dir) || swtpm_start() < 0 || swtpm_wait_listening(port) < 0) {
		printf("FAIL test-interop: cannot start swtpm in %s\n", dir);
		return 1;
	}
	atexit(swtpm_stop);
	RUN(test_systemd_to_sealroot);
	RUN(test_sealroot_to_systemd);
	swtpm_stop();
	sh("rm -rf '%s'", dir);
	return UNIT_EXIT();
}
