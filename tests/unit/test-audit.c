/* The audit's parts on synthetic input: the kernel configuration reader,
 * each required kernel option missing in turn (the build blocks, naming
 * the feature), hardening advice, the policy checks on facts an IMA
 * linter would give, the development-image key check, the ELF reader on
 * this very binary and on broken headers, the tree's symlink resolution,
 * and both reports. The tool end to end: tests/unit/test-audit.sh. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "unit.h"

static char dir[PATH_MAX];

/* Every option some feature needs, built in: the base the tests remove
 * one option from. The configuration below needs them all. */
static const char *const all_options[] = {
	"BLK_DEV_INITRD", "BINFMT_ELF", "DEVTMPFS", "PROC_FS", "SYSFS",
	"SECURITYFS", "TMPFS", "RD_ZSTD", "EFI_STUB", "MODULES", "MODULE_SIG",
	"BLK_DEV_DM", "DM_VERITY", "EROFS_FS", "DM_CRYPT", "CRYPTO_XTS",
	"CRYPTO_ECB", "CRYPTO_AES", "EXT4_FS", "TCG_TPM", "TCG_TIS", "EVM",
	"KEYS", "ENCRYPTED_KEYS", "IMA", "IMA_APPRAISE", "INTEGRITY_SIGNATURE",
	"INTEGRITY_ASYMMETRIC_KEYS", "X509_CERTIFICATE_PARSER", NULL,
};

/* What the blocking message must name for each: the feature. */
static const char *const feature_words[] = {
	"initramfs", "static ELF", "devtmpfs", "proc", "sysfs",
	"securityfs", "tmpfs", "zstd", "UKI", "packed modules", "signatures",
	"device-mapper", "dm-verity", "erofs", "dm-crypt", "xts",
	"ecb", "aes", "ext4", "TPM", "TPM 2.0 driver", "EVM",
	"kernel keys", "evm-key", "IMA", "appraise", "signature appraisal",
	"signature appraisal", "X.509",
};

static char *kconfig_without(const char *skip, const char *extra)
{
	static char text[8192];
	size_t o;

	o = (size_t)snprintf(text, sizeof(text), "# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_LSM=\"lockdown,integrity\"\n");
	for (size_t i = 0; all_options[i]; i++)
		if (!skip || strcmp(skip, all_options[i]))
			o += (size_t)snprintf(text + o, sizeof(text) - o, "CONFIG_%s=y\n", all_options[i]);
		else
			o += (size_t)snprintf(text + o, sizeof(text) - o, "# CONFIG_%s is not set\n", skip);
	snprintf(text + o, sizeof(text) - o, "%s", extra ? extra : "");
	return text;
}

/* An audit of no files: the inputs are set in the structure, as
 * audit_load() would from files. */
static void setup(struct audit *a, const struct audit_inputs *in, const char *ktext)
{
	unsigned line = 0;

	CHECK(audit_load(a, in, stderr) == 0);
	if (ktext) {
		CHECK(kconfig_parse(ktext, strlen(ktext), &a->kc, &line) == 0);
		a->have_kconfig = true;
	}
}

/* Every feature in play: a state volume (EVM, TPM), IMA appraising,
 * certificates, a verified erofs root, packed modules. */
static void all_features(struct audit *a)
{
	strcpy(a->cfg.state, "PARTLABEL=state");
	strcpy(a->cfg.root_fstype, "erofs");
	a->certs = true;
	a->ima.known = true;
	a->ima.appraises = true;
}

static size_t count(const struct audit *a, const char *check, enum audit_severity s)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += !strcmp(audit_checks[a->findings[i]->check].id, check) &&
		     a->findings[i]->severity == s;
	return n;
}

static const struct audit_finding *find(const struct audit *a, const char *check,
					const char *subject)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct audit_finding *f = a->findings[i];

		if (!strcmp(audit_checks[f->check].id, check) &&
		    (!subject || (f->subject && !strcmp(f->subject, subject))))
			return f;
	}
	return NULL;
}

static bool has(const struct audit_finding *f, const char *text)
{
	return f && strstr(f->message, text);
}

static void test_kconfig_parse(void)
{
	static const char text[] =
		"#\n# Linux/x86 6.1.192 Kernel Configuration\n#\n"
		"CONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\n"
		"CONFIG_S=\"a string\"\nCONFIG_N=10\n\n# a comment\nCONFIG_A=m\n";
	struct kconfig kc;
	unsigned line = 0, major = 0, minor = 0;

	memset(&kc, POISON, sizeof(kc));
	CHECK(kconfig_parse(text, sizeof(text) - 1, &kc, &line) == 0);
	CHECK(kc.n == 5);
	CHECK(kconfig_get(&kc, "A") == KCONFIG_MODULE);	/* the last one counts */
	CHECK(kconfig_get(&kc, "B") == KCONFIG_MODULE);
	CHECK(kconfig_get(&kc, "C") == KCONFIG_NO);
	CHECK(kconfig_get(&kc, "D") == KCONFIG_ABSENT);
	CHECK(kconfig_get(&kc, "N") == KCONFIG_VALUE);
	CHECK_STR(kconfig_value(&kc, "S"), "\"a string\"");
	CHECK_STR(kconfig_value(&kc, "N"), "10");
	CHECK(kconfig_enabled(&kc, "B", true) && !kconfig_enabled(&kc, "B", false));
	CHECK(kconfig_version(&kc, &major, &minor) == 0 && major == 6 && minor == 1);
	kconfig_free(&kc);
}

static void test_kconfig_rejects(void)
{
	struct kconfig kc;
	unsigned line = 0;

	memset(&kc, POISON, sizeof(kc));
	CHECK(kconfig_parse("CONFIG_A=y\nrubbish\n", 19, &kc, &line) == -EBADMSG && line == 2);
	CHECK(kconfig_parse("CONFIG_A=\n", 10, &kc, &line) == -EBADMSG && line == 1);
	CHECK(kconfig_parse("CONFIG_A=y\r\n", 12, &kc, &line) == -EBADMSG && line == 1);
	CHECK(kconfig_parse("# nothing\n\n", 11, &kc, &line) == -ENODATA);
	CHECK(kconfig_parse("", 0, &kc, &line) == -ENODATA);
	CHECK(((unsigned char *)&kc)[0] == POISON);
	CHECK(kconfig_parse("# CONFIG_A is not set, really\nCONFIG_B=y", 40, &kc, &line) == 0);
	CHECK(kconfig_get(&kc, "A") == KCONFIG_ABSENT && kconfig_get(&kc, "B") == KCONFIG_BUILTIN);
	CHECK(kconfig_version(&kc, &line, &line) == -ENODATA);
	kconfig_free(&kc);
}

/* With everything there, nothing blocks; each option taken away blocks
 * the build, once, naming the option and the feature that needs it. */
static void test_required_each(void)
{
	struct audit_inputs in = { .modules = "dm_mod dm_verity" };
	struct audit a;

	setup(&a, &in, kconfig_without(NULL, NULL));
	all_features(&a);
	CHECK(audit_run(&a) == 0);
	CHECK(count(&a, "kernel.required", AUDIT_BLOCK) == 0);
	CHECK(count(&a, "kernel.lsm", AUDIT_BLOCK) == 0);
	audit_free(&a);
	for (size_t i = 0; all_options[i]; i++) {
		const struct audit_finding *f;
		char subject[64], unset[96];

		setup(&a, &in, kconfig_without(all_options[i], NULL));
		all_features(&a);
		CHECK(audit_run(&a) == 0);
		snprintf(subject, sizeof(subject), "CONFIG_%s", all_options[i]);
		snprintf(unset, sizeof(unset), "CONFIG_%s is not set", all_options[i]);
		f = find(&a, "kernel.required", subject);
		if (count(&a, "kernel.required", AUDIT_BLOCK) != 1 || !has(f, unset) ||
		    !has(f, feature_words[i]) || !f->fix)
			printf("  %s: %zu blocking, %s\n", all_options[i],
			       count(&a, "kernel.required", AUDIT_BLOCK), f ? f->message : "none");
		CHECK(count(&a, "kernel.required", AUDIT_BLOCK) == 1);
		CHECK(has(f, unset) && has(f, feature_words[i]));
		CHECK(audit_blocked(&a));
		audit_free(&a);
	}
}

/* =m serves when the module is packed; not for EVM, which must be built
 * in; with no list given, the modules it trusts are named. */
static void test_required_modules(void)
{
	struct audit_inputs packed = { .modules = "dm-mod,dm_verity" }, none = { .modules = "" };
	struct audit_inputs unknown = { 0 };
	const char *m = "CONFIG_DM_VERITY=m\nCONFIG_EVM=m\n";
	struct audit a;

	setup(&a, &packed, kconfig_without("DM_VERITY", m));
	all_features(&a);
	CHECK(audit_run(&a) == 0);
	CHECK(!find(&a, "kernel.required", "CONFIG_DM_VERITY"));
	CHECK(has(find(&a, "kernel.required", "CONFIG_EVM"), "CONFIG_EVM=m, but it must be built in"));
	audit_free(&a);

	setup(&a, &none, kconfig_without("DM_VERITY", m));
	all_features(&a);
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "kernel.required", "CONFIG_DM_VERITY"), "module 'dm_verity' is not packed"));
	audit_free(&a);

	setup(&a, &unknown, kconfig_without("DM_VERITY", "CONFIG_DM_VERITY=m\n"));
	CHECK(audit_run(&a) == 0);
	CHECK(!find(&a, "kernel.required", "CONFIG_DM_VERITY"));
	CHECK(has(find(&a, "kernel.required", "modules"), "dm_verity"));
	audit_free(&a);
}

/* Alternatives: root.fstype = auto takes any of three, a state volume
 * any TPM 2.0 driver; an initramfs alone needs no EFI stub; the
 * compression asked for is the one needed. */
static void test_required_alternatives(void)
{
	struct audit_inputs in = { .modules = "squashfs", .no_uki = true, .compress = "xz" };
	struct audit a;

	setup(&a, &in, kconfig_without("EROFS_FS", "# CONFIG_EXT4_FS is not set\nCONFIG_SQUASHFS=m\n"
				       "# CONFIG_EFI_STUB is not set\nCONFIG_RD_XZ=y\n"));
	CHECK(audit_run(&a) == 0);
	CHECK(count(&a, "kernel.required", AUDIT_BLOCK) == 0);
	audit_free(&a);

	setup(&a, &in, kconfig_without("EROFS_FS", "# CONFIG_EXT4_FS is not set\n"
				       "# CONFIG_RD_XZ is not set\nCONFIG_TCG_CRB=y\n# CONFIG_TCG_TIS is not set\n"));
	strcpy(a.cfg.state, "PARTLABEL=state");
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "kernel.required", "CONFIG_EROFS_FS"), "none of the options serves"));
	CHECK(has(find(&a, "kernel.required", "CONFIG_RD_XZ"), "(xz)"));
	CHECK(has(find(&a, "kernel.required", "CONFIG_EXT4_FS"), "state volume"));
	CHECK(!find(&a, "kernel.required", "CONFIG_TCG_TIS"));
	audit_free(&a);
}

/* Before 6.4 IMA panics without "integrity" among the LSMs; before 6.6
 * EVM crashes with the BPF LSM. Certain (blocking) only when the command
 * line is known. */
static void test_lsm(void)
{
	struct audit_inputs in = { 0 }, ro = { .cmdline = "ro" };
	struct audit_inputs cmd = { .cmdline = "ro lsm=lockdown,integrity" };
	const char *k61 = "# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_IMA=y\nCONFIG_LSM=\"lockdown,yama\"\n";
	const char *bpf = "# Linux/x86 6.1.0 Kernel Configuration\nCONFIG_BPF_LSM=y\nCONFIG_LSM=\"integrity,bpf\"\n";
	struct audit a;

	setup(&a, &ro, k61);
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "kernel.lsm", "CONFIG_LSM"), "lacks integrity") && count(&a, "kernel.lsm", AUDIT_BLOCK) == 1);
	audit_free(&a);
	setup(&a, &in, k61);
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "kernel.lsm", "CONFIG_LSM"), "unless the boot loader") && count(&a, "kernel.lsm", AUDIT_HIGH) == 1);
	audit_free(&a);
	setup(&a, &cmd, k61);
	CHECK(audit_run(&a) == 0);
	CHECK(!find(&a, "kernel.lsm", NULL));
	audit_free(&a);
	setup(&a, &ro, "# Linux/x86 6.6.1 Kernel Configuration\nCONFIG_IMA=y\nCONFIG_LSM=\"lockdown,yama\"\n");
	CHECK(audit_run(&a) == 0);
	CHECK(!find(&a, "kernel.lsm", NULL));
	audit_free(&a);
	setup(&a, &ro, "CONFIG_IMA=y\nCONFIG_LSM=\"lockdown,yama\"\n");
	CHECK(audit_run(&a) == 0);
	CHECK(count(&a, "kernel.lsm", AUDIT_HIGH) == 1);
	audit_free(&a);

	setup(&a, &ro, bpf);
	strcpy(a.cfg.state, "PARTLABEL=state");	/* evm = on takes a state volume */
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "kernel.lsm", "CONFIG_BPF_LSM"), "crashes with it") &&
	      count(&a, "kernel.lsm", AUDIT_BLOCK) == 1);
	audit_free(&a);
	setup(&a, &cmd, bpf);
	strcpy(a.cfg.state, "PARTLABEL=state");
	CHECK(audit_run(&a) == 0);
	CHECK(!find(&a, "kernel.lsm", NULL));
	audit_free(&a);
	setup(&a, &ro, bpf);	/* no state volume: no EVM */
	CHECK(audit_run(&a) == 0);
	CHECK(!find(&a, "kernel.lsm", NULL));
	audit_free(&a);
}

static void test_ima_pcr(void)
{
	struct audit_inputs in = { 0 };
	struct audit a;

	setup(&a, &in, "CONFIG_IMA=y\nCONFIG_IMA_MEASURE_PCR_IDX=11\n");
	strcpy(a.cfg.state, "PARTLABEL=state");
	strcpy(a.cfg.tpm_pcrs, "7,11");
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "kernel.ima-pcr", "CONFIG_IMA_MEASURE_PCR_IDX"), "names PCR 11"));
	CHECK(count(&a, "policy.pcrs", AUDIT_MEDIUM) == 0);	/* no --config: not run */
	audit_free(&a);
}

static void test_hardening(void)
{
	struct audit_inputs in = { 0 }, lock = { .cmdline = "ro lockdown=integrity" };
	const char *k = "CONFIG_SECURITY_LOCKDOWN_LSM=y\nCONFIG_DEVMEM=y\nCONFIG_KEXEC=y\n";
	const struct audit_finding *f;
	struct audit a;

	setup(&a, &in, "CONFIG_DEVMEM=y\n");
	CHECK(audit_run(&a) == 0);
	f = find(&a, "kernel.hardening", "CONFIG_SECURITY_LOCKDOWN_LSM");
	CHECK(f && f->severity == AUDIT_HIGH && f->topic && !strcmp(f->topic, "lockdown"));
	CHECK(has(f, "CONFIG_SECURITY_LOCKDOWN_LSM is not set"));
	f = find(&a, "kernel.hardening", "CONFIG_STRICT_DEVMEM");
	CHECK(f && f->severity == AUDIT_HIGH && !strcmp(f->topic, "devmem"));
	CHECK(!find(&a, "kernel.hardening", "CONFIG_KEXEC"));
	audit_free(&a);

	setup(&a, &in, k);
	CHECK(audit_run(&a) == 0);
	CHECK(count(&a, "kernel.hardening", AUDIT_MEDIUM) >= 2);
	CHECK(has(find(&a, "kernel.hardening", "CONFIG_KEXEC"), "CONFIG_KEXEC=y"));
	CHECK(find(&a, "kernel.hardening", "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY"));
	audit_free(&a);

	setup(&a, &lock, k);
	CHECK(audit_run(&a) == 0);
	CHECK(!find(&a, "kernel.hardening", "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY"));
	audit_free(&a);
}

/* The consistency checks on what an IMA linter would report. */
static void test_policy_facts(void)
{
	struct audit_inputs in = { .config = "sealroot.conf" };
	const struct audit_finding *f;
	struct audit a;

	setup(&a, &in, NULL);
	a.config_r = 0;		/* as if the file parsed */
	config_defaults(&a.cfg);
	strcpy(a.cfg.state, "PARTLABEL=state");
	strcpy(a.cfg.state_fsuuid, "0c5bd4e3-7d1b-4f3c-9a71-0e8f3d2c1b5a");
	strcpy(a.cfg.root_fstype, "erofs");
	a.cfg.evm = CONFIG_OFF;
	a.ima = (struct audit_ima_facts){ .known = true, .appraises = true, .hash_appraisal = true,
					  .appraise_all = true };
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "policy.evm", NULL), "evm = off"));
	CHECK(has(find(&a, "policy.root-exempt", NULL), "erofs (fsmagic=0xe0f5e1e2)"));
	CHECK(!find(&a, "policy.state-covered", NULL));
	audit_free(&a);

	setup(&a, &in, NULL);
	a.config_r = 0;
	config_defaults(&a.cfg);
	strcpy(a.cfg.state, "PARTLABEL=state");
	strcpy(a.cfg.state_fsuuid, "0c5bd4e3-7d1b-4f3c-9a71-0e8f3d2c1b5a");
	strcpy(a.cfg.root_fstype, "erofs");
	a.ima = (struct audit_ima_facts){ .known = true, .appraises = true, .n_exempt_fsmagics = 1,
					  .exempt_fsmagics = { 0xe0f5e1e2 }, .n_appraised_fsuuids = 1,
					  .appraised_fsuuids = { "ffffffff-7d1b-4f3c-9a71-0e8f3d2c1b5a" } };
	CHECK(audit_run(&a) == 0);
	CHECK(!find(&a, "policy.evm", NULL) && !find(&a, "policy.root-exempt", NULL));
	f = find(&a, "policy.state-covered", NULL);
	CHECK(f && f->severity == AUDIT_HIGH && has(f, "state.fsuuid 0c5bd4e3"));
	audit_free(&a);

	/* Not linted: only what the config tells. */
	setup(&a, &in, NULL);
	a.config_r = 0;
	config_defaults(&a.cfg);
	strcpy(a.cfg.state, "PARTLABEL=state");
	strcpy(a.cfg.tpm_pcrs, "4,7,11");
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "policy.state-covered", NULL), "state.fsuuid is empty"));
	CHECK(count(&a, "policy.pcrs", AUDIT_MEDIUM) == 2);
	CHECK(a.status[1] == AUDIT_CHECK_SKIPPED);	/* kernel.required: no kconfig */
	audit_free(&a);
}

static void test_config_lint(void)
{
	struct audit_inputs in = { .config = "x.conf" };
	struct audit a;

	setup(&a, &in, NULL);
	a.config_r = -EINVAL;
	a.config_err.line = 3;
	strcpy(a.config_err.msg, "unknown key 'bogus'");
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "policy.config-lint", "sealroot.conf"), "x.conf:3: unknown key 'bogus'"));
	CHECK(audit_blocked(&a));
	audit_free(&a);
}

/* Two certificates, as small as DER allows: v3 with key "30 02 05 00",
 * v1 (no version field) with key "30 03 05 01 07". */
static const uint8_t cert_v3[] = {
	0x30, 0x16, 0x30, 0x14, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01,
	0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x00, 0x30, 0x02, 0x05, 0x00,
};
static const char cert_v3_pem[] = "-----BEGIN CERTIFICATE-----\n"
	"MBYwFKADAgECAgEBMAAwADAAMAAwAgUA\n-----END CERTIFICATE-----\n";
static const uint8_t cert_v1[] = {
	0x30, 0x12, 0x30, 0x10, 0x02, 0x01, 0x01, 0x30, 0x00, 0x30, 0x00,
	0x30, 0x00, 0x30, 0x00, 0x30, 0x03, 0x05, 0x01, 0x07,
};

static void test_certkey(void)
{
	static struct certkey k;
	uint8_t d[sizeof(cert_v3)];

	CHECK(certkey_from_der(cert_v3, sizeof(cert_v3), &k) == 0);
	CHECK(k.len == 4 && !memcmp(k.spki, "\x30\x02\x05\x00", 4));
	CHECK(certkey_from_der(cert_v1, sizeof(cert_v1), &k) == 0);
	CHECK(k.len == 5 && !memcmp(k.spki, "\x30\x03\x05\x01\x07", 5));
	CHECK(certkey_from_der(cert_v3, sizeof(cert_v3) - 1, &k) == -EBADMSG);
	memcpy(d, cert_v3, sizeof(d));
	d[20] = 0x31;		/* the key is not a SEQUENCE */
	CHECK(certkey_from_der(d, sizeof(d), &k) == -EBADMSG);
	memcpy(d, cert_v3, sizeof(d));
	d[3] = 0x7f;		/* longer than the certificate */
	CHECK(certkey_from_der(d, sizeof(d), &k) == -EBADMSG);
}

static int write_bytes(const char *name, const void *data, size_t len,
		       char *ret_path, size_t size)
{
	int fd;

	snprintf(ret_path, size, "%s/%s", dir, name);
	fd = open(ret_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	return close(fd) < 0 ? -errno : 0;
}

/* A development image and the production key (PCR 7 is the db key's):
 * the same key in PEM and DER is the same key. */
static void test_dev_key(void)
{
	char v3[PATH_MAX + 16], v3pem[PATH_MAX + 16], v1[PATH_MAX + 16];
	struct audit_inputs in = { .shell = true };
	struct audit a;

	CHECK(write_bytes("v3.der", cert_v3, sizeof(cert_v3), v3, sizeof(v3)) == 0);
	CHECK(write_bytes("v3.pem", cert_v3_pem, strlen(cert_v3_pem), v3pem, sizeof(v3pem)) == 0);
	CHECK(write_bytes("v1.der", cert_v1, sizeof(cert_v1), v1, sizeof(v1)) == 0);
	in.signing_cert = v3;
	setup(&a, &in, NULL);
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "signing.dev-key", NULL), "--production-cert"));
	CHECK(count(&a, "signing.dev-key", AUDIT_HIGH) == 1);
	audit_free(&a);

	in.nproduction = 2;
	in.production_certs[0] = v1;
	in.production_certs[1] = v3pem;
	setup(&a, &in, NULL);
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "signing.dev-key", NULL), "signed with the production key"));
	CHECK(has(find(&a, "signing.dev-key", NULL), "v3.pem"));
	CHECK(audit_blocked(&a));
	audit_free(&a);

	in.nproduction = 1;
	setup(&a, &in, NULL);
	CHECK(audit_run(&a) == 0);
	CHECK(!find(&a, "signing.dev-key", NULL));
	audit_free(&a);

	in.shell = false;	/* production, no shell: nothing to say */
	in.nproduction = 0;
	setup(&a, &in, NULL);
	CHECK(audit_run(&a) == 0);
	CHECK(!find(&a, "signing.dev-key", NULL));
	audit_free(&a);

	in.production_certs[0] = dir;	/* not a certificate: cannot audit */
	in.nproduction = 1;
	{
		char *msg = NULL;
		size_t len = 0;
		FILE *err = open_memstream(&msg, &len);

		CHECK(err && audit_load(&a, &in, err) < 0);
		if (err)
			fclose(err);
		CHECK(msg && strstr(msg, "sealroot-audit: production certificate: cannot read '") &&
		      strstr(msg, "': Is a directory\n"));
		free(msg);
	}
	audit_free(&a);
}

static void test_elf_self(void)
{
	struct elfinfo e;

	memset(&e, POISON, sizeof(e));
	CHECK(elfinfo_read(AT_FDCWD, "/proc/self/exe", &e) == -ELOOP);	/* a symlink */
	CHECK(elfinfo_read(AT_FDCWD, dir, &e) == -ENOEXEC);		/* a directory */
	{
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

		CHECK(elfinfo_read_fd(fd, &e) == 0);
		close(fd);
	}
	CHECK(e.bits == 64 && e.type == ET_DYN && e.interp && e.dynamic);
	CHECK(elfinfo_is_program(&e) && elfinfo_is_pie(&e) && !elfinfo_is_library(&e));
	CHECK(e.relro && !e.exec_stack && e.imports);
#ifdef __SSP_STRONG__
	CHECK(e.stack_chk);
#endif
#if defined(_FORTIFY_SOURCE) && defined(__OPTIMIZE__)
	CHECK(e.fortified);
#endif
	CHECK(!strncmp(e.interp_path, "/lib", 4));
}

/* A 32-bit executable made by hand: ELF header and one PT_GNU_STACK. */
static size_t elf32(uint8_t *b, uint32_t stack_flags)
{
	memset(b, 0, 84);
	memcpy(b, ELFMAG, SELFMAG);
	b[EI_CLASS] = ELFCLASS32;
	b[EI_DATA] = ELFDATA2LSB;
	b[EI_VERSION] = EV_CURRENT;
	b[16] = ET_EXEC;
	b[18] = EM_386;
	b[28] = 52;		/* e_phoff */
	b[42] = 32;		/* e_phentsize */
	b[44] = 1;		/* e_phnum */
	b[52] = (uint8_t)(PT_GNU_STACK & 0xff);
	b[53] = (uint8_t)(PT_GNU_STACK >> 8 & 0xff);
	b[54] = (uint8_t)(PT_GNU_STACK >> 16 & 0xff);
	b[55] = (uint8_t)(PT_GNU_STACK >> 24);
	b[52 + 24] = (uint8_t)stack_flags;	/* p_flags */
	return 84;
}

static void test_elf_broken(void)
{
	uint8_t b[128];
	struct elfinfo e;
	size_t n = elf32(b, PF_R | PF_W);

	CHECK(elfinfo_parse(b, n, &e) == 0);
	CHECK(e.bits == 32 && e.type == ET_EXEC && !e.exec_stack && !elfinfo_is_pie(&e));
	CHECK(elfinfo_is_program(&e) && !e.dynamic && !e.relro);
	elf32(b, PF_R | PF_W | PF_X);
	CHECK(elfinfo_parse(b, n, &e) == 0 && e.exec_stack);
	b[44] = 0;		/* no PT_GNU_STACK: the kernel makes it executable */
	CHECK(elfinfo_parse(b, n, &e) == 0 && e.exec_stack);

	memset(&e, POISON, sizeof(e));
	elf32(b, PF_R);
	CHECK(elfinfo_parse(b, 10, &e) == -ENOEXEC);
	CHECK(elfinfo_parse(b, 40, &e) == -EBADMSG);
	CHECK(elfinfo_parse(b, 60, &e) == -EBADMSG);	/* the segment table cut */
	b[28] = 0xff;
	b[29] = 0xff;
	CHECK(elfinfo_parse(b, n, &e) == -EBADMSG);
	elf32(b, PF_R);
	b[EI_DATA] = ELFDATA2MSB;
	CHECK(elfinfo_parse(b, n, &e) == -EPROTONOSUPPORT);
	memcpy(b, "\x7f" "ELG", 4);
	CHECK(elfinfo_parse(b, n, &e) == -ENOEXEC);
	CHECK(((uint8_t *)&e)[0] == POISON);
}

static int mkfile(const char *rel, const char *text, mode_t mode)
{
	char p[PATH_MAX + 64];
	int fd;

	snprintf(p, sizeof(p), "%s/tree%s", dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0) {
		close(fd);
		return -errno;
	}
	close(fd);
	return chmod(p, mode) < 0 ? -errno : 0;
}

static int mk(const char *fmt, const char *rel)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), fmt, dir, rel);
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* Symlinks resolve inside the tree: an absolute one (as /sbin/init is)
 * does not reach the host's file. */
static void test_tree_resolution(void)
{
	struct audit_inputs in = { 0 };
	char root[PATH_MAX + 8], link[PATH_MAX + 64];
	char buf[64];
	struct audit a;
	size_t len;

	snprintf(root, sizeof(root), "%s/tree", dir);
	CHECK(mk("%s/tree%s", "") == 0 && mk("%s/tree%s", "/etc") == 0 &&
	      mk("%s/tree%s", "/sbin") == 0 && mk("%s/tree%s", "/lib") == 0);
	CHECK(mkfile("/lib/init", "#!/lib/missing-shell\n", 0755) == 0);
	CHECK(mkfile("/etc/hostname", "inside\n", 0644) == 0);
	snprintf(link, sizeof(link), "%s/sbin/init", root);
	CHECK(symlink("/lib/init", link) == 0);
	snprintf(link, sizeof(link), "%s/etc/escape", root);
	CHECK(symlink("../../../../../../../../etc/hostname", link) == 0);
	in.root = root;
	CHECK(audit_load(&a, &in, stderr) == 0);
	CHECK(a.tree.n == 8 && !strcmp(a.tree.entries[0].path, "/"));
	CHECK(roottree_find(&a.tree, "/sbin/init") && S_ISLNK(roottree_find(&a.tree, "/sbin/init")->st.st_mode));
	CHECK(roottree_read(&a.tree, "/etc/escape", buf, sizeof(buf), &len) == 0);
	CHECK_STR(buf, "inside\n");
	CHECK(roottree_read(&a.tree, "/etc/hostname", buf, 4, &len) == -EFBIG);
	CHECK(audit_run(&a) == 0);
	CHECK(has(find(&a, "tree.init", "/sbin/init"), "needs '/lib/missing-shell'"));
	CHECK(audit_blocked(&a));
	audit_free(&a);
}

static char *report(const struct audit *a, int json, bool short_form)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (json)
		CHECK(audit_print_json(a, f) == 0);
	else
		audit_print(a, f, short_form);
	fclose(f);
	return text;
}

/* Most severe first, the short form only blocks; JSON escapes names that
 * are not UTF-8 as \xNN, keeps UTF-8. */
static void test_reports(void)
{
	struct audit_inputs in = { 0 };
	struct audit a;
	char *t;

	setup(&a, &in, NULL);
	a.current = 0;
	CHECK(audit_add(&a, AUDIT_LOW, NULL, NULL, NULL, "low one"));
	CHECK(audit_add(&a, AUDIT_BLOCK, "x", "t", "do this", "blocking \"one\"\n"));
	CHECK(audit_add_path(&a, a.findings[1], "/caf\xc3\xa9/\xff") == 0);
	CHECK(audit_add(&a, AUDIT_HIGH, NULL, NULL, NULL, "high one"));
	t = report(&a, 0, false);
	CHECK(t && strstr(t, "BLOCK") < strstr(t, "HIGH") && strstr(t, "HIGH") < strstr(t, "LOW"));
	CHECK(t && strstr(t, "blocked: 1 blocking, 1 high, 0 medium, 1 low, 0 info"));
	CHECK(t && strstr(t, "/caf\\xc3\\xa9/\\xff"));
	free(t);
	t = report(&a, 0, true);
	CHECK(t && strstr(t, "BLOCK") && !strstr(t, "HIGH") && strstr(t, "fix: do this"));
	free(t);
	t = report(&a, 1, false);
	CHECK(t && strstr(t, "\"verdict\": \"blocked\""));
	CHECK(t && strstr(t, "blocking \\\"one\\\"\\u000a"));
	CHECK(t && strstr(t, "\"/caf\xc3\xa9/\\\\xff\""));
	CHECK(t && strstr(t, "\"id\": \"kernel.config:x\""));
	free(t);
	audit_free(&a);
}

int main(int argc, char **argv)
{
	char self[PATH_MAX], cmd[PATH_MAX + 16];
	int failed;

	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(dir, sizeof(dir), "%s/audit.XXXXXX", dirname(self));
	if (!mkdtemp(dir)) {
		printf("FAIL setup: cannot create '%s'\n", dir);
		return 1;
	}
	RUN(test_kconfig_parse);
	RUN(test_kconfig_rejects);
	RUN(test_required_each);
	RUN(test_required_modules);
	RUN(test_required_alternatives);
	RUN(test_lsm);
	RUN(test_ima_pcr);
	RUN(test_hardening);
	RUN(test_policy_facts);
	RUN(test_config_lint);
	RUN(test_dev_key);
	RUN(test_elf_self);
	RUN(test_elf_broken);
	RUN(test_certkey);
	RUN(test_tree_resolution);
	RUN(test_reports);
	failed = UNIT_EXIT();
	if (!failed) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		failed = system(cmd) != 0;
	}
	return failed;
}
