/* The audit's checks: each one function and one row of audit_checks[] at
 * the end of this file, whose order is the report's within a severity.
 * A check reads what audit_load() made of the inputs and calls audit_add();
 * it returns -errno only when it could not finish. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "audit.h"

#define ADD(a, ...) do { if (!audit_add((a), __VA_ARGS__)) return -ENOMEM; } while (0)

/* Features in play ------------------------------------------------------ */

enum feature {
	F_ALWAYS = 1 << 0,
	F_UKI = 1 << 1,
	F_VERITY = 1 << 2,
	F_STATE = 1 << 3,
	F_EVM = 1 << 4,
	F_IMA = 1 << 5,
	F_IMA_APPRAISE = 1 << 6,
	F_CERTS = 1 << 7,
	F_MODULES = 1 << 8,
	F_ZSTD = 1 << 9,
	F_XZ = 1 << 10,
	F_GZIP = 1 << 11,
	F_ROOT_EXT4 = 1 << 12,
	F_ROOT_EROFS = 1 << 13,
	F_ROOT_SQUASHFS = 1 << 14,
	F_ROOT_AUTO = 1 << 15,
};

static bool has_state(const struct audit *a)
{
	return a->cfg.state[0] != 0;
}

/* Whether modules are packed: the list given, else the config names some. */
static bool modules_packed(const struct audit *a)
{
	if (a->in.modules)
		return a->in.modules[strspn(a->in.modules, " \t,")] != 0;
	return a->cfg.modules[strspn(a->cfg.modules, " ")] != 0;
}

static unsigned root_features(const char *fstype)
{
	if (!strcmp(fstype, "ext4"))
		return F_ROOT_EXT4;
	if (!strcmp(fstype, "erofs"))
		return F_ROOT_EROFS;
	if (!strcmp(fstype, "squashfs"))
		return F_ROOT_SQUASHFS;
	return F_ROOT_AUTO;
}

static unsigned features(const struct audit *a)
{
	const struct config *c = &a->cfg;
	const char *comp = a->in.compress ? a->in.compress : "zstd";
	unsigned f = F_ALWAYS | root_features(c->root_fstype);

	f |= a->in.no_uki ? 0 : F_UKI;
	f |= c->verity_roothash[0] || c->root_verity == ROOT_VERITY_REQUIRED ? F_VERITY : 0;
	f |= has_state(a) ? F_STATE : 0;
	f |= c->evm == CONFIG_ON && has_state(a) ? F_EVM : 0;
	f |= c->ima == CONFIG_ON ? F_IMA : 0;
	f |= c->ima == CONFIG_ON && a->ima.known && a->ima.appraises ? F_IMA_APPRAISE : 0;
	f |= a->certs && (f & (F_IMA | F_EVM)) ? F_CERTS : 0;
	f |= modules_packed(a) ? F_MODULES : 0;
	f |= !strcmp(comp, "zstd") ? F_ZSTD : !strcmp(comp, "xz") ? F_XZ :
	     !strcmp(comp, "gzip") ? F_GZIP : 0;
	return f;
}

/* Is module name (as modules.dep names it, '-' or '_') in the packed list? */
static bool module_in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (*list) {
		size_t k;

		list += strspn(list, " \t,");
		k = strcspn(list, " \t,");
		if (k == n) {
			size_t i = 0;

			while (i < n && (list[i] == name[i] ||
					 ((list[i] == '-' || list[i] == '_') && name[i] == '_')))
				i++;
			if (i == n)
				return true;
		}
		list += k;
	}
	return false;
}

/* kernel.config: a kernel image given, but no configuration in it. */
static int check_kernel_config(struct audit *a)
{
	if (!a->in.kernel || a->have_kconfig || a->kconfig_r != -ENOMSG)
		return 0;
	ADD(a, AUDIT_HIGH, "CONFIG_IKCONFIG", NULL,
	    "give the kernel's configuration file (--kconfig, e.g. /boot/config-VERSION)",
	    "the kernel was not audited: '%s' embeds no configuration (CONFIG_IKCONFIG), so the options sealroot needs were not checked",
	    a->in.kernel);
	return 0;
}

/* kernel.required ------------------------------------------------------- */

struct requirement {
	unsigned when;			/* features: any of them */
	const char *feature;		/* who needs it */
	const char *options[3];		/* one of them, =y or (module) =m */
	const char *modules[3];		/* each option's module; NULL: built in */
};

static const struct requirement requirements[] = {
	{ F_ALWAYS, "the initramfs sealroot runs from", { "BLK_DEV_INITRD" }, { NULL } },
	{ F_ALWAYS, "sealroot itself (a static ELF program)", { "BINFMT_ELF" }, { NULL } },
	{ F_ALWAYS, "sealroot's early stage (devtmpfs on /dev)", { "DEVTMPFS" }, { NULL } },
	{ F_ALWAYS, "sealroot's early stage (proc on /proc)", { "PROC_FS" }, { NULL } },
	{ F_ALWAYS, "sealroot's early stage (sysfs on /sys)", { "SYSFS" }, { NULL } },
	{ F_ALWAYS, "sealroot's early stage (securityfs on /sys/kernel/security)", { "SECURITYFS" }, { NULL } },
	{ F_ALWAYS, "sealroot's early stage (tmpfs on /run)", { "TMPFS" }, { NULL } },
	{ F_ZSTD, "the initramfs's compression (zstd)", { "RD_ZSTD" }, { NULL } },
	{ F_XZ, "the initramfs's compression (xz)", { "RD_XZ" }, { NULL } },
	{ F_GZIP, "the initramfs's compression (gzip)", { "RD_GZIP" }, { NULL } },
	{ F_UKI, "the UKI (systemd-stub starts the kernel as an EFI program)", { "EFI_STUB" }, { NULL } },
	{ F_MODULES, "the packed modules", { "MODULES" }, { NULL } },
	{ F_MODULES, "the packed modules (their signatures checked)", { "MODULE_SIG" }, { NULL } },
	{ F_VERITY, "the verified root (dm-verity on device-mapper)", { "BLK_DEV_DM" }, { "dm_mod" } },
	{ F_VERITY, "the verified root (dm-verity)", { "DM_VERITY" }, { "dm_verity" } },
	{ F_ROOT_EXT4, "the root file system (root.fstype = ext4)", { "EXT4_FS" }, { "ext4" } },
	{ F_ROOT_EROFS, "the root file system (root.fstype = erofs)", { "EROFS_FS" }, { "erofs" } },
	{ F_ROOT_SQUASHFS, "the root file system (root.fstype = squashfs)", { "SQUASHFS" }, { "squashfs" } },
	{ F_ROOT_AUTO, "the root file system (root.fstype = auto: ext4, erofs or squashfs)",
	  { "EROFS_FS", "SQUASHFS", "EXT4_FS" }, { "erofs", "squashfs", "ext4" } },
	{ F_STATE, "the state volume (LUKS2 on device-mapper)", { "BLK_DEV_DM" }, { "dm_mod" } },
	{ F_STATE, "the state volume (dm-crypt)", { "DM_CRYPT" }, { "dm_crypt" } },
	{ F_STATE, "the state volume's cipher (aes-xts-plain64: xts)", { "CRYPTO_XTS" }, { "xts" } },
	{ F_STATE, "the state volume's cipher (aes-xts-plain64: ecb under xts)", { "CRYPTO_ECB" }, { "ecb" } },
	{ F_STATE, "the state volume's cipher (aes-xts-plain64: aes)",
	  { "CRYPTO_AES", "CRYPTO_AES_TI" }, { "aes_generic", "aes_ti" } },
	{ F_STATE, "the state volume's file system (ext4)", { "EXT4_FS" }, { "ext4" } },
	{ F_STATE, "the TPM that seals the state volume's key", { "TCG_TPM" }, { "tpm" } },
	{ F_STATE, "the TPM that seals the state volume's key (a TPM 2.0 driver: TIS or CRB)",
	  { "TCG_TIS", "TCG_CRB" }, { "tpm_tis", "tpm_crb" } },
	{ F_EVM, "EVM (evm = on)", { "EVM" }, { NULL } },
	{ F_EVM, "EVM's key (evm = on: kernel keys)", { "KEYS" }, { NULL } },
	{ F_EVM, "EVM's key (evm = on: the encrypted evm-key)", { "ENCRYPTED_KEYS" }, { "encrypted_keys" } },
	{ F_IMA, "IMA (ima = on)", { "IMA" }, { NULL } },
	{ F_IMA_APPRAISE, "the IMA policy's appraise rules", { "IMA_APPRAISE" }, { NULL } },
	{ F_CERTS, "the certificates in keys/ima and keys/evm (signature appraisal)", { "INTEGRITY_SIGNATURE" }, { NULL } },
	{ F_CERTS, "the certificates in keys/ima and keys/evm (signature appraisal)", { "INTEGRITY_ASYMMETRIC_KEYS" }, { NULL } },
	{ F_CERTS, "the certificates in keys/ima and keys/evm (X.509)", { "X509_CERTIFICATE_PARSER" }, { NULL } },
};

/* Why one option does not serve, into buf; empty if it does. *modular
 * collects the modules taken on trust when the packed list is unknown. */
static void option_gap(const struct audit *a, const char *opt, const char *mod,
		       char *buf, size_t size, bool *ret_trusted)
{
	enum kconfig_state s = kconfig_get(&a->kc, opt);

	buf[0] = 0;
	*ret_trusted = false;
	if (s == KCONFIG_BUILTIN)
		return;
	if (s != KCONFIG_MODULE) {
		snprintf(buf, size, "CONFIG_%s is not set", opt);
	} else if (!mod) {
		snprintf(buf, size, "CONFIG_%s=m, but it must be built in (=y)", opt);
	} else if (!a->in.modules) {
		*ret_trusted = true;
	} else if (!module_in_list(a->in.modules, mod)) {
		snprintf(buf, size, "CONFIG_%s=m, but module '%s' is not packed", opt, mod);
	}
}

static int require(struct audit *a, const struct requirement *q,
		   char *trusted, size_t tsize)
{
	char gaps[512] = "", gap[160], fix[256];
	size_t n = 0, used = 0;
	bool t;

	for (; n < 3 && q->options[n]; n++) {
		option_gap(a, q->options[n], q->modules[n], gap, sizeof(gap), &t);
		if (!gap[0]) {
			if (t && !strstr(trusted, q->modules[n]))
				snprintf(trusted + strlen(trusted), tsize - strlen(trusted),
					 "%s%s", trusted[0] ? ", " : "", q->modules[n]);
			return 0;
		}
		used += (size_t)snprintf(gaps + used, sizeof(gaps) - used, "%s%s",
					 n ? "; " : "", gap);
		if (used >= sizeof(gaps))
			used = sizeof(gaps) - 1;
	}
	if (q->modules[0])
		snprintf(fix, sizeof(fix), "CONFIG_%s=y, or =m with module '%s' in modules= of sealroot.conf%s",
			 q->options[0], q->modules[0], n > 1 ? " (or one of the others)" : "");
	else
		snprintf(fix, sizeof(fix), "CONFIG_%s=y", q->options[0]);
	snprintf(gap, sizeof(gap), "CONFIG_%s", q->options[0]);
	if (n == 1)
		ADD(a, AUDIT_BLOCK, gap, NULL, fix, "%s: %s needs it", gaps, q->feature);
	else
		ADD(a, AUDIT_BLOCK, gap, NULL, fix, "none of the options serves (%s): %s needs one",
		    gaps, q->feature);
	return 0;
}

/* Already reported for another feature (BLK_DEV_DM for verity and state). */
static bool reported(const struct audit *a, const char *opt)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->findings[i]->check == a->current && a->findings[i]->subject &&
		    !strncmp(a->findings[i]->subject, "CONFIG_", 7) &&
		    !strcmp(a->findings[i]->subject + 7, opt))
			return true;
	return false;
}

static int check_kernel_required(struct audit *a)
{
	unsigned f = features(a);
	char trusted[512] = "";
	int r;

	for (size_t i = 0; i < sizeof(requirements) / sizeof(requirements[0]); i++) {
		if (!(requirements[i].when & f) || reported(a, requirements[i].options[0]))
			continue;
		r = require(a, &requirements[i], trusted, sizeof(trusted));
		if (r < 0)
			return r;
	}
	if (trusted[0])
		ADD(a, AUDIT_INFO, "modules", NULL, NULL,
		    "built as modules, so they must be packed (the packed modules were not given: --modules): %s",
		    trusted);
	if (f & F_IMA && !(f & F_IMA_APPRAISE) && a->in.ima_policy && !a->ima.known &&
	    !kconfig_enabled(&a->kc, "IMA_APPRAISE", false))
		ADD(a, AUDIT_HIGH, "CONFIG_IMA_APPRAISE", NULL, "CONFIG_IMA_APPRAISE=y",
		    "CONFIG_IMA_APPRAISE is not set, and whether the IMA policy appraises is not known (not linted): if it does, the kernel refuses its appraise rules");
	return 0;
}

/* kernel.lsm: IMA and EVM start only as LSMs the kernel enables. Before
 * Linux 6.4, "integrity" had to be in the LSM list: a kernel without it
 * panics ("lsm=integrity required") at the first file IMA looks at. */
static bool lsm_listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',' || p[-1] == '"' || p[-1] == '=') &&
		    (p[n] == ',' || p[n] == '"' || p[n] == 0 || p[n] == ' '))
			return true;
	return false;
}

/* lsm=... on the command line, which replaces CONFIG_LSM. */
static const char *cmdline_lsm(const char *cmdline)
{
	const char *p = cmdline;

	while (p && *p) {
		p += strspn(p, " \t");
		if (!strncmp(p, "lsm=", 4))
			return p + 4;
		p += strcspn(p, " \t");
	}
	return NULL;
}

/* The LSMs the kernel will start, and whether that is certain: lsm= on
 * a command line that was given, else CONFIG_LSM (which a boot loader's
 * lsm= could still replace when the UKI's command line is not known). */
static const char *active_lsms(const struct audit *a, bool *ret_certain,
			       const char **ret_source)
{
	const char *list = a->in.cmdline ? cmdline_lsm(a->in.cmdline) : NULL;

	*ret_certain = a->in.cmdline != NULL;
	*ret_source = list ? "lsm= on the command line" : "CONFIG_LSM";
	return list ? list : kconfig_value(&a->kc, "LSM");
}

static bool version_before(const struct audit *a, unsigned major, unsigned minor,
			   bool *ret_known)
{
	unsigned ma = 0, mi = 0;

	*ret_known = kconfig_version(&a->kc, &ma, &mi) == 0;
	return *ret_known && (ma < major || (ma == major && mi < minor));
}

/* Before 6.4 IMA and EVM need "integrity" among the LSMs: the kernel
 * panics ("lsm=integrity required") at the first file IMA looks at. */
static int lsm_integrity(struct audit *a, unsigned f, const char *list,
			 bool certain, const char *src)
{
	bool known, old = version_before(a, 6, 4, &known);
	char buf[256];

	if (lsm_listed(list, "integrity") || (known && !old) ||
	    ((!(f & F_IMA) || lsm_listed(list, "ima")) && (!(f & F_EVM) || lsm_listed(list, "evm"))))
		return 0;
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(list, " \t"), list);
	ADD(a, old && certain ? AUDIT_BLOCK : AUDIT_HIGH, "CONFIG_LSM", NULL,
	    "add integrity to CONFIG_LSM, or to lsm= on the UKI's command line",
	    "%s (%s) lacks integrity: %s, and %s%s",
	    src, buf, f & F_EVM ? "IMA and EVM need it" : "IMA needs it",
	    old ? "this kernel (before 6.4) panics at the first file IMA measures ('lsm=integrity required')"
		: "kernels before 6.4 panic at the first file IMA measures ('lsm=integrity required'); this configuration names no version",
	    certain ? "" : " (unless the boot loader's command line sets lsm=)");
	return 0;
}

/* Before 6.6 EVM with the BPF LSM oopses creating a file on the state
 * volume: sealroot refuses to enable EVM then (src/evm.c), so the boot
 * stops. */
static int lsm_bpf(struct audit *a, unsigned f, const char *list,
		   bool certain, const char *src)
{
	bool known, old = version_before(a, 6, 6, &known);
	char buf[256];

	if (!(f & F_EVM) || !kconfig_enabled(&a->kc, "BPF_LSM", false) ||
	    !lsm_listed(list, "bpf") || (known && !old))
		return 0;
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(list, " \t"), list);
	ADD(a, old && certain ? AUDIT_BLOCK : AUDIT_HIGH, "CONFIG_BPF_LSM", NULL,
	    "lsm= without bpf on the UKI's command line (or CONFIG_LSM without it)",
	    "%s (%s) starts the BPF LSM, and EVM (evm = on) crashes with it on kernels before 6.6%s: sealroot refuses to enable EVM, the boot stops%s",
	    src, buf, known ? "" : " (this configuration names no version)",
	    certain ? "" : " (unless the boot loader's command line sets lsm= without it)");
	return 0;
}

static int check_kernel_lsm(struct audit *a)
{
	unsigned f = features(a);
	const char *src, *list;
	bool certain;
	int r;

	if (!(f & (F_IMA | F_EVM)))
		return 0;
	list = active_lsms(a, &certain, &src);
	if (!list)
		return 0;
	r = lsm_integrity(a, f, list, certain, src);
	return r < 0 ? r : lsm_bpf(a, f, list, certain, src);
}

/* kernel.ima-pcr: the kernel's IMA PCR moves as files run; sealing the
 * state volume's key to it would lose the key on the first boot. */
static int check_kernel_ima_pcr(struct audit *a)
{
	const char *v = kconfig_value(&a->kc, "IMA_MEASURE_PCR_IDX");
	unsigned mask = 0;
	unsigned long pcr;
	char *end;

	if (!v || !kconfig_enabled(&a->kc, "IMA", false) || !has_state(a) ||
	    config_pcr_mask(a->cfg.tpm_pcrs, &mask) < 0)
		return 0;
	pcr = strtoul(v, &end, 10);
	if (*end || pcr > 23 || !(mask & (1u << pcr)))
		return 0;
	ADD(a, AUDIT_BLOCK, "CONFIG_IMA_MEASURE_PCR_IDX", NULL,
	    "remove it from tpm.pcrs",
	    "tpm.pcrs = %s names PCR %lu, where this kernel's IMA measures (CONFIG_IMA_MEASURE_PCR_IDX=%s): it changes as files run, so the sealed key would never open again",
	    a->cfg.tpm_pcrs, pcr, v);
	return 0;
}

/* kernel.hardening ------------------------------------------------------- */

/* good: terms separated by '|', one of them true: OPT (=y), !OPT (not set
 * or absent), @WORD (a word on the command line). only: the row applies
 * only if OPT is =y or =m, or with ?OPT, if OPT is known to this kernel
 * (set or not). */
struct advice {
	const char *topic;
	enum audit_severity severity;
	unsigned when;			/* features; 0: always */
	const char *only;
	const char *good;
	const char *subject;		/* the option to change */
	const char *why;
	const char *fix;
};

static const struct advice advice[] = {
	{ "lockdown", AUDIT_HIGH, 0, NULL, "SECURITY_LOCKDOWN_LSM", "SECURITY_LOCKDOWN_LSM",
	  "the kernel cannot be locked down: root in the booted system can change the running kernel (/dev/mem, unsigned kexec, hibernation images, unsigned modules), so dm-verity and the sealed key no longer bound what runs",
	  "CONFIG_SECURITY_LOCKDOWN_LSM=y with CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y" },
	{ "lockdown", AUDIT_MEDIUM, 0, "SECURITY_LOCKDOWN_LSM",
	  "LOCK_DOWN_KERNEL_FORCE_INTEGRITY|LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY|LOCK_DOWN_IN_EFI_SECURE_BOOT|@lockdown=integrity|@lockdown=confidentiality",
	  "LOCK_DOWN_KERNEL_FORCE_INTEGRITY",
	  "lockdown is built but never switched on: not forced, not tied to Secure Boot, no lockdown= on the command line",
	  "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y, or lockdown=integrity on the UKI's command line" },
	{ "lockdown", AUDIT_LOW, 0, "LOCK_DOWN_IN_EFI_SECURE_BOOT",
	  "LOCK_DOWN_KERNEL_FORCE_INTEGRITY|LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY|@lockdown=integrity|@lockdown=confidentiality",
	  "LOCK_DOWN_KERNEL_FORCE_INTEGRITY",
	  "lockdown follows the Secure Boot state the firmware reports (CONFIG_LOCK_DOWN_IN_EFI_SECURE_BOOT); forced, it does not depend on it",
	  "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y, or lockdown=integrity on the UKI's command line" },
	{ "lockdown", AUDIT_LOW, 0, "SECURITY_LOCKDOWN_LSM", "SECURITY_LOCKDOWN_LSM_EARLY",
	  "SECURITY_LOCKDOWN_LSM_EARLY",
	  "lockdown starts with the other LSMs, after the earliest boot code has run",
	  "CONFIG_SECURITY_LOCKDOWN_LSM_EARLY=y" },
	{ "module-signatures", AUDIT_MEDIUM, 0, "MODULES", "MODULE_SIG_FORCE|@module.sig_enforce=1",
	  "MODULE_SIG_FORCE",
	  "a module without a valid signature still loads unless lockdown is on, so one setting decides whether unsigned code enters the kernel",
	  "CONFIG_MODULE_SIG_FORCE=y, or module.sig_enforce=1 on the UKI's command line" },
	{ "module-signatures", AUDIT_INFO, 0, NULL, "!MODULES", "MODULES",
	  "the kernel loads modules; with every driver built in and CONFIG_MODULES off there is no module loading to attack (and nothing for the initramfs to pack)",
	  NULL },
	{ "stack-protector", AUDIT_MEDIUM, 0, NULL, "STACKPROTECTOR_STRONG", "STACKPROTECTOR_STRONG",
	  "kernel functions with local buffers have no stack canary", "CONFIG_STACKPROTECTOR_STRONG=y" },
	{ "devmem", AUDIT_HIGH, 0, NULL, "!DEVMEM|STRICT_DEVMEM", "STRICT_DEVMEM",
	  "/dev/mem gives root all of physical memory, the kernel's included",
	  "CONFIG_STRICT_DEVMEM=y, or CONFIG_DEVMEM=n" },
	{ "devmem", AUDIT_MEDIUM, 0, "STRICT_DEVMEM", "IO_STRICT_DEVMEM", "IO_STRICT_DEVMEM",
	  "/dev/mem still reaches device memory that drivers have claimed", "CONFIG_IO_STRICT_DEVMEM=y" },
	{ "devmem", AUDIT_LOW, 0, NULL, "!DEVPORT", "DEVPORT",
	  "/dev/port gives root raw I/O port access", "CONFIG_DEVPORT=n" },
	{ "devmem", AUDIT_LOW, 0, NULL, "!PROC_KCORE", "PROC_KCORE",
	  "/proc/kcore lets root read kernel memory", "CONFIG_PROC_KCORE=n" },
	{ "kexec", AUDIT_MEDIUM, 0, NULL, "!KEXEC", "KEXEC",
	  "kexec_load() starts a new kernel from memory without checking a signature: refused under lockdown, otherwise a way around the signed UKI",
	  "CONFIG_KEXEC=n (kexec_file_load with CONFIG_KEXEC_SIG serves kdump)" },
	{ "kexec", AUDIT_MEDIUM, 0, "KEXEC_FILE", "KEXEC_SIG_FORCE", "KEXEC_SIG_FORCE",
	  "kexec_file_load() accepts an unsigned kernel unless lockdown is on",
	  "CONFIG_KEXEC_SIG=y and CONFIG_KEXEC_SIG_FORCE=y, or CONFIG_KEXEC_FILE=n" },
	{ "debugfs", AUDIT_MEDIUM, 0, "DEBUG_FS", "DEBUG_FS_ALLOW_NONE|DEBUG_FS_DISALLOW_MOUNT", "DEBUG_FS",
	  "debugfs exposes kernel internals to root, some of them writable",
	  "CONFIG_DEBUG_FS=n, or CONFIG_DEBUG_FS_ALLOW_NONE=y" },
	{ "dmesg", AUDIT_LOW, 0, NULL, "SECURITY_DMESG_RESTRICT", "SECURITY_DMESG_RESTRICT",
	  "any user can read the kernel log (addresses, device details)", "CONFIG_SECURITY_DMESG_RESTRICT=y" },
	{ "kaslr", AUDIT_MEDIUM, 0, "?RANDOMIZE_BASE", "RANDOMIZE_BASE", "RANDOMIZE_BASE",
	  "the kernel sits at the same address on every boot, which exploits can count on",
	  "CONFIG_RANDOMIZE_BASE=y" },
	{ "kaslr", AUDIT_LOW, 0, "?RANDOMIZE_MEMORY", "RANDOMIZE_MEMORY", "RANDOMIZE_MEMORY",
	  "the kernel's memory regions (direct map, vmalloc) sit at fixed addresses",
	  "CONFIG_RANDOMIZE_MEMORY=y" },
	{ "memory", AUDIT_MEDIUM, 0, NULL, "HARDENED_USERCOPY", "HARDENED_USERCOPY",
	  "copies between kernel and user memory are not checked against the bounds of the kernel object",
	  "CONFIG_HARDENED_USERCOPY=y" },
	{ "memory", AUDIT_MEDIUM, 0, NULL, "FORTIFY_SOURCE", "FORTIFY_SOURCE",
	  "the kernel's string and memory functions are not checked against the buffer sizes the compiler knows",
	  "CONFIG_FORTIFY_SOURCE=y" },
	{ "memory", AUDIT_MEDIUM, 0, "?STRICT_KERNEL_RWX", "STRICT_KERNEL_RWX", "STRICT_KERNEL_RWX",
	  "kernel code is writable or its data executable", "CONFIG_STRICT_KERNEL_RWX=y" },
	{ "memory", AUDIT_MEDIUM, 0, "MODULES", "STRICT_MODULE_RWX", "STRICT_MODULE_RWX",
	  "module code is writable or module data executable", "CONFIG_STRICT_MODULE_RWX=y" },
	{ "memory", AUDIT_LOW, 0, NULL, "INIT_ON_ALLOC_DEFAULT_ON|@init_on_alloc=1", "INIT_ON_ALLOC_DEFAULT_ON",
	  "allocated kernel memory is not zeroed, so stale data can leak through it",
	  "CONFIG_INIT_ON_ALLOC_DEFAULT_ON=y, or init_on_alloc=1 on the UKI's command line" },
	{ "memory", AUDIT_LOW, 0, NULL, "INIT_ON_FREE_DEFAULT_ON|@init_on_free=1", "INIT_ON_FREE_DEFAULT_ON",
	  "freed kernel memory keeps its content (keys among it) until it is reused",
	  "CONFIG_INIT_ON_FREE_DEFAULT_ON=y, or init_on_free=1 on the UKI's command line" },
	{ "memory", AUDIT_LOW, 0, "?VMAP_STACK", "VMAP_STACK", "VMAP_STACK",
	  "a kernel stack overflow runs into other memory instead of a guard page", "CONFIG_VMAP_STACK=y" },
	{ "memory", AUDIT_LOW, 0, NULL, "SLAB_FREELIST_HARDENED", "SLAB_FREELIST_HARDENED",
	  "the slab allocator's free-list pointers are stored in the clear, a common target of heap exploits",
	  "CONFIG_SLAB_FREELIST_HARDENED=y" },
	{ "bpf", AUDIT_MEDIUM, 0, "BPF_SYSCALL", "BPF_UNPRIV_DEFAULT_OFF", "BPF_UNPRIV_DEFAULT_OFF",
	  "unprivileged users can load BPF programs, a frequent way into the kernel",
	  "CONFIG_BPF_UNPRIV_DEFAULT_OFF=y" },
	{ "tty", AUDIT_LOW, 0, "?LEGACY_TIOCSTI", "!LEGACY_TIOCSTI", "LEGACY_TIOCSTI",
	  "TIOCSTI lets a process type into a terminal it shares, an old way out of a sandbox",
	  "CONFIG_LEGACY_TIOCSTI=n" },
	{ "tty", AUDIT_LOW, 0, NULL, "!LDISC_AUTOLOAD", "LDISC_AUTOLOAD",
	  "any user can make the kernel load a line discipline's module", "CONFIG_LDISC_AUTOLOAD=n" },
	{ "legacy", AUDIT_MEDIUM, 0, "?ACPI_CUSTOM_METHOD", "!ACPI_CUSTOM_METHOD", "ACPI_CUSTOM_METHOD",
	  "root can load ACPI methods, that is write any kernel memory", "CONFIG_ACPI_CUSTOM_METHOD=n" },
	{ "legacy", AUDIT_LOW, 0, "?USELIB", "!USELIB", "USELIB",
	  "the obsolete uselib() system call is there to be used", "CONFIG_USELIB=n" },
	{ "legacy", AUDIT_LOW, 0, "?X86_IOPL_IOPERM", "!X86_IOPL_IOPERM", "X86_IOPL_IOPERM",
	  "ioperm() and iopl() give privileged processes raw I/O port access", "CONFIG_X86_IOPL_IOPERM=n" },
	{ "hibernation", AUDIT_LOW, 0, "?HIBERNATION", "!HIBERNATION", "HIBERNATION",
	  "resuming from hibernation reads kernel memory back from a disk without verifying it (lockdown refuses it)",
	  "CONFIG_HIBERNATION=n" },
	{ "ima", AUDIT_MEDIUM, F_IMA, "IMA", "!IMA_WRITE_POLICY", "IMA_WRITE_POLICY",
	  "root can append rules to the IMA policy after boot (a dont_appraise, say)", "CONFIG_IMA_WRITE_POLICY=n" },
	{ "ima", AUDIT_LOW, F_IMA, "IMA", "IMA_ARCH_POLICY", "IMA_ARCH_POLICY",
	  "without the architecture policy, kexec kernel images and modules are not appraised under Secure Boot",
	  "CONFIG_IMA_ARCH_POLICY=y" },
	{ "ima", AUDIT_LOW, F_IMA, "IMA_APPRAISE", "!IMA_APPRAISE_BOOTPARAM", "IMA_APPRAISE_BOOTPARAM",
	  "ima_appraise= on the command line can turn appraisal to fix or log (the UKI's command line is signed, but a kernel that ignores it is simpler to review)",
	  "CONFIG_IMA_APPRAISE_BOOTPARAM=n" },
	{ "ima", AUDIT_LOW, F_IMA, "IMA", "IMA_DEFAULT_HASH_SHA256|IMA_DEFAULT_HASH_SHA384|IMA_DEFAULT_HASH_SHA512",
	  "IMA_DEFAULT_HASH_SHA256", "IMA's default hash is weaker than SHA-256",
	  "CONFIG_IMA_DEFAULT_HASH_SHA256=y" },
	{ "evm", AUDIT_LOW, F_EVM, "EVM", "EVM_ATTR_FSUUID", "EVM_ATTR_FSUUID",
	  "EVM's HMAC does not cover the file system UUID, so attributes copied from one volume verify on another",
	  "CONFIG_EVM_ATTR_FSUUID=y" },
	{ "ptrace", AUDIT_LOW, 0, NULL, "SECURITY_YAMA", "SECURITY_YAMA",
	  "any process may trace the others of its user (no Yama ptrace scope)", "CONFIG_SECURITY_YAMA=y" },
};

static bool cmdline_has(const char *cmdline, const char *word, size_t n)
{
	const char *p = cmdline;

	while (p && *p) {
		size_t k;

		p += strspn(p, " \t");
		k = strcspn(p, " \t");
		if (k == n && !strncmp(p, word, n))
			return true;
		p += k;
	}
	return false;
}

static bool term_holds(const struct audit *a, const char *t, size_t n)
{
	char opt[64];

	if (t[0] == '@')
		return cmdline_has(a->in.cmdline, t + 1, n - 1);
	snprintf(opt, sizeof(opt), "%.*s", (int)(n - (t[0] == '!')), t + (t[0] == '!'));
	if (t[0] == '!')
		return kconfig_get(&a->kc, opt) <= KCONFIG_NO;
	return kconfig_get(&a->kc, opt) == KCONFIG_BUILTIN;
}

static bool good_holds(const struct audit *a, const char *good)
{
	while (*good) {
		size_t n = strcspn(good, "|");

		if (term_holds(a, good, n))
			return true;
		good += n + (good[n] == '|');
	}
	return false;
}

static bool advice_applies(const struct audit *a, const struct advice *v,
			   unsigned f)
{
	if (v->when && !(v->when & f))
		return false;
	if (!v->only)
		return true;
	if (v->only[0] == '?')
		return kconfig_get(&a->kc, v->only + 1) != KCONFIG_ABSENT;
	return kconfig_enabled(&a->kc, v->only, true);
}

/* "CONFIG_X=y" or "CONFIG_X is not set", as the option is now. */
static void option_now(const struct audit *a, const char *opt, char *buf,
		       size_t size)
{
	const char *v = kconfig_value(&a->kc, opt);

	if (!v || !strcmp(v, "n"))
		snprintf(buf, size, "CONFIG_%s is not set", opt);
	else
		snprintf(buf, size, "CONFIG_%s=%s", opt, v);
}

static int check_kernel_hardening(struct audit *a)
{
	unsigned f = features(a);
	char now[160], subject[64];

	for (size_t i = 0; i < sizeof(advice) / sizeof(advice[0]); i++) {
		const struct advice *v = &advice[i];

		if (!advice_applies(a, v, f) || good_holds(a, v->good))
			continue;
		option_now(a, v->subject, now, sizeof(now));
		snprintf(subject, sizeof(subject), "CONFIG_%s", v->subject);
		ADD(a, v->severity, subject, v->topic, v->fix, "%s: %s", now, v->why);
	}
	return 0;
}

/* Policies --------------------------------------------------------------- */

/* policy.config-lint: sealroot-lint's checks, by the same parser and plan. */
static int check_config_lint(struct audit *a)
{
	const char *path = a->in.config;

	if (a->config_r == -EINVAL && a->config_err.line)
		ADD(a, AUDIT_BLOCK, "sealroot.conf", NULL, NULL, "%s:%u: %s", path,
		    a->config_err.line, a->config_err.msg);
	else if (a->config_r == -EINVAL)
		ADD(a, AUDIT_BLOCK, "sealroot.conf", NULL, NULL, "%s: %s", path, a->config_err.msg);
	else if (a->config_r < 0)
		ADD(a, AUDIT_BLOCK, "sealroot.conf", NULL, NULL, "cannot read '%s': %s", path,
		    strerror(-a->config_r));
	else if (a->cmdline_r < 0)
		ADD(a, AUDIT_BLOCK, "cmdline", NULL, NULL, "kernel command line: %s", a->cmdline_err.msg);
	else if (a->plan_r < 0)
		ADD(a, AUDIT_BLOCK, "plan", NULL, NULL, "device plan: %s", a->plan_err.msg);
	if (a->config_r < 0)
		ADD(a, AUDIT_INFO, "defaults", NULL, NULL,
		    "the other checks used sealroot's defaults, as the file did not parse");
	return 0;
}

/* policy.ima-lint: the IMA policy linter, through auditima.h. */
static int check_ima_lint(struct audit *a)
{
	if (!a->in.ima_policy) {
		if (a->in.config && a->cfg.ima == CONFIG_ON)
			ADD(a, AUDIT_INFO, "ima-policy", "ima", NULL,
			    "ima = on, and no IMA policy was given (--ima-policy): nothing to lint");
		return 0;
	}
	return audit_ima_lint(a, a->in.ima_policy, &a->ima);
}

/* policy.evm: appraisal by hash trusts security.ima, which only EVM
 * protects against an offline edit. */
static int check_policy_evm(struct audit *a)
{
	bool off = a->cfg.evm == CONFIG_OFF;

	/* Without a state volume, rules by fsuuid= (the shipped policy's)
	 * match nothing; one for every file system still appraises. */
	if (!a->ima.hash_appraisal || (!off && (has_state(a) || !a->ima.appraise_all)))
		return 0;
	ADD(a, AUDIT_HIGH, "evm", "ima",
	    "evm = on with a state volume, or appraise_type=imasig on every appraise rule",
	    "the IMA policy appraises by hash, but %s: whoever can write the disk offline can rewrite security.ima to match a changed file",
	    off ? "evm = off" : "EVM has no key without a state volume");
	return 0;
}

/* policy.evm-state: EVM's key derives from the state volume's. */
static int check_policy_evm_state(struct audit *a)
{
	if (a->cfg.evm != CONFIG_ON || has_state(a))
		return 0;
	ADD(a, AUDIT_INFO, "evm", "evm", NULL,
	    "evm = on does nothing without a state volume: EVM's key derives from the state volume's key");
	return 0;
}

static bool fsuuid_in(const char (*list)[37], size_t n, const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], uuid))
			return true;
	return false;
}

static bool magic_in(const unsigned long *list, size_t n, unsigned long magic)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == magic)
			return true;
	return false;
}

#define EXT4_MAGIC 0xef53ul
#define EROFS_MAGIC 0xe0f5e1e2ul
#define SQUASHFS_MAGIC 0x73717368ul

/* policy.state-covered: the IMA policy appraises the state volume, the
 * one writable file system, by its UUID (state.fsuuid, given to the
 * volume at provisioning so a policy signed beforehand can name it). */
static int check_policy_state(struct audit *a)
{
	const struct audit_ima_facts *m = &a->ima;
	const char *uuid = a->cfg.state_fsuuid;

	if (!has_state(a) || a->cfg.ima != CONFIG_ON || !strcmp(a->cfg.state_mount, "none"))
		return 0;
	if (!uuid[0]) {
		if (!m->known || !m->appraise_all)
			ADD(a, AUDIT_MEDIUM, "state.fsuuid", "ima",
			    "set state.fsuuid, and appraise fsuuid=<it> in the IMA policy",
			    "state.fsuuid is empty: the state volume's UUID is made on the device, so no IMA rule can name it and its files (%s) are not appraised",
			    a->cfg.state_mount);
		return 0;
	}
	if (!m->known)
		return 0;
	if (fsuuid_in(m->exempt_fsuuids, m->n_exempt_fsuuids, uuid) ||
	    (m->appraise_all && magic_in(m->exempt_fsmagics, m->n_exempt_fsmagics, EXT4_MAGIC)))
		ADD(a, AUDIT_HIGH, "state.mount", "ima", "remove the dont_appraise rule that matches it",
		    "the IMA policy exempts the state volume (%s) from appraisal: its files, the writable ones, run unchecked",
		    a->cfg.state_mount);
	else if (!m->appraise_all && !fsuuid_in(m->appraised_fsuuids, m->n_appraised_fsuuids, uuid))
		ADD(a, AUDIT_HIGH, "state.mount", "ima",
		    "appraise fsuuid=<state.fsuuid> in the IMA policy (the two change together)",
		    "no appraise rule of the IMA policy names state.fsuuid %s: the state volume's files (%s), the writable ones, run unchecked",
		    uuid, a->cfg.state_mount);
	return 0;
}

/* policy.root-exempt: the verified root is read-only and already
 * verified block by block; appraising it needs a security.ima on every
 * file of it, or reads fail. */
static int check_policy_root(struct audit *a)
{
	static const struct {
		const char *type;
		unsigned long magic;
	} fs[] = { { "erofs", EROFS_MAGIC }, { "squashfs", SQUASHFS_MAGIC }, { "ext4", EXT4_MAGIC } };
	const struct audit_ima_facts *m = &a->ima;
	const char *t = a->cfg.root_fstype;
	char missing[128] = "";

	if (!m->appraise_all || a->cfg.ima != CONFIG_ON)
		return 0;
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(t, "auto") && strcmp(t, fs[i].type))
			continue;
		if (magic_in(m->exempt_fsmagics, m->n_exempt_fsmagics, fs[i].magic))
			continue;
		if (fs[i].magic == EXT4_MAGIC && m->n_exempt_fsuuids)
			continue;	/* an ext4 root is told apart by its UUID */
		snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
			 "%s%s (fsmagic=0x%lx)", missing[0] ? ", " : "", fs[i].type, fs[i].magic);
	}
	if (missing[0])
		ADD(a, AUDIT_HIGH, "root", "ima", "dont_appraise fsmagic=<the root's> (by fsuuid= for an ext4 root beside an ext4 state volume)",
		    "the IMA policy appraises the verified root too (%s not exempted): every file on it needs a security.ima made at image build, or reading it fails, and the read-only root cannot be fixed on the device",
		    missing);
	return 0;
}

/* policy.pcrs: what the state volume's key is sealed to. */
static int check_policy_pcrs(struct audit *a)
{
	static const struct {
		unsigned pcr;
		enum audit_severity severity;
		const char *why;
	} pcrs[] = {
		{ 0, AUDIT_LOW, "firmware code: every firmware update changes it" },
		{ 1, AUDIT_LOW, "firmware settings: changing a setting changes it" },
		{ 2, AUDIT_LOW, "option ROMs: a new card or its firmware changes it" },
		{ 4, AUDIT_MEDIUM, "the boot loader and UKI images: every UKI (every root hash) changes it, so each update needs the recovery key" },
		{ 9, AUDIT_MEDIUM, "the initrd the kernel loaded: every build changes it, so each update needs the recovery key" },
		{ 11, AUDIT_MEDIUM, "the UKI's sections (systemd-stub): every build changes it, so each update needs the recovery key" },
		{ 16, AUDIT_LOW, "the debug PCR: anyone can reset it, so it adds nothing" },
		{ 23, AUDIT_LOW, "the application PCR: the booted system can reset it, so it adds nothing" },
	};
	unsigned mask;

	if (!has_state(a))
		return 0;
	if (config_pcr_mask(a->cfg.tpm_pcrs, &mask) < 0 || !(mask & CONFIG_PCR_MASK_REQUIRED)) {
		ADD(a, AUDIT_BLOCK, "tpm.pcrs", "pcr", "tpm.pcrs = 7 (plus others)",
		    "tpm.pcrs = '%s' omits PCR 7 (the Secure Boot state): the key would open whatever the firmware booted",
		    a->cfg.tpm_pcrs);
		return 0;
	}
	for (size_t i = 0; i < sizeof(pcrs) / sizeof(pcrs[0]); i++)
		if (mask & (1u << pcrs[i].pcr))
			ADD(a, pcrs[i].severity, "tpm.pcrs", "pcr", NULL, "tpm.pcrs names PCR %u, %s",
			    pcrs[i].pcr, pcrs[i].why);
	return 0;
}

/* Signing ------------------------------------------------------------------- */

#define DEV_KEY_FIX "sign development images with their own db key, enrolled only on development devices: PCR 7 tells the two keys apart (README, 'Development images and PCR 7')"

/* signing.dev-key: PCR 7 measures the db certificate that verified the
 * UKI, not the UKI: every UKI signed by the same key gives the same PCR 7.
 * A development image (a shell, an unverified root) signed with the
 * production key could unseal production devices' state. */
static int check_dev_key(struct audit *a)
{
	bool mode = a->cfg.mode == MODE_DEVELOPMENT;
	const char *what = mode && a->in.shell ? "mode = development, a shell packed" :
			   mode ? "mode = development" : "a shell packed";

	if (!mode && !a->in.shell)
		return 0;
	if (!a->in.nproduction) {
		ADD(a, AUDIT_HIGH, "production-key", "pcr7", DEV_KEY_FIX,
		    "a development image (%s)%s%s%s: PCR 7 is the same for every UKI signed by one db key, so if that is the production key this image unseals production devices' state; name the production certificates (--production-cert) to have the build check",
		    what, a->in.signing_cert ? ", signed with '" : "",
		    a->in.signing_cert ? a->in.signing_cert : "",
		    a->in.signing_cert ? "'" : "");
		return 0;
	}
	if (!a->have_signing)
		return 0;
	for (size_t i = 0; i < a->in.nproduction; i++) {
		if (a->production[i].len != a->signing.len ||
		    memcmp(a->production[i].spki, a->signing.spki, a->signing.len))
			continue;
		ADD(a, AUDIT_BLOCK, "production-key", "pcr7", DEV_KEY_FIX,
		    "a development image (%s) signed with the production key ('%s' has the key of production certificate '%s'): its PCR 7 equals production's, so its shell or unverified root can unseal production devices' state",
		    what, a->in.signing_cert, a->in.production_certs[i]);
		return 0;
	}
	return 0;
}

/* The root tree ---------------------------------------------------------- */

static int add_paths_where(struct audit *a, struct audit_finding *f,
			   bool (*match)(const struct roottree_entry *))
{
	for (size_t i = 0; i < a->tree.n; i++)
		if (match(&a->tree.entries[i]) && audit_add_path(a, f, a->tree.entries[i].path) < 0)
			return -ENOMEM;
	return 0;
}

static size_t count_where(const struct audit *a,
			  bool (*match)(const struct roottree_entry *))
{
	size_t n = 0;

	for (size_t i = 0; i < a->tree.n; i++)
		n += match(&a->tree.entries[i]);
	return n;
}

/* One finding for every entry match() picks, if any: "N <what>". */
static int aggregate(struct audit *a, enum audit_severity sev,
		     bool (*match)(const struct roottree_entry *),
		     const char *fix, const char *what)
{
	size_t n = count_where(a, match);
	struct audit_finding *f;

	if (!n)
		return 0;
	f = audit_add(a, sev, NULL, NULL, fix, "%zu %s", n, what);
	if (!f)
		return -ENOMEM;
	return add_paths_where(a, f, match);
}

/* Follow an interpreter: a script's #! line, or an ELF's PT_INTERP. */
static int interpreter(int fd, char *buf, size_t size)
{
	struct elfinfo e;
	char head[256];
	ssize_t n;
	int r = elfinfo_read_fd(fd, &e);

	if (r == 0) {
		snprintf(buf, size, "%s", e.interp ? e.interp_path : "");
		return 0;
	}
	if (r != -ENOEXEC && r != -EPROTONOSUPPORT)
		return r;
	n = pread(fd, head, sizeof(head) - 1, 0);
	if (n < 2 || head[0] != '#' || head[1] != '!')
		return -ENOEXEC;
	head[n] = 0;
	head[strcspn(head, "\n")] = 0;
	snprintf(buf, size, "%.*s", (int)strcspn(head + 2 + strspn(head + 2, " \t"), " \t"),
		 head + 2 + strspn(head + 2, " \t"));
	return buf[0] ? 0 : -ENOEXEC;
}

/* path is a regular, executable file of the tree: 0, or why not. */
static int executable_in_tree(const struct audit *a, const char *path,
			      char *why, size_t size)
{
	struct stat st;
	int fd = roottree_open(&a->tree, path, O_PATH);

	if (fd < 0) {
		snprintf(why, size, "%s", strerror(-fd));
		return fd;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(why, size, "%s", strerror(errno));
		st.st_mode = 0;
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, size, "not a regular file");
		st.st_mode = 0;
	} else if (!(st.st_mode & 0111)) {
		snprintf(why, size, "not executable (mode %04o)", (unsigned)(st.st_mode & 07777));
		st.st_mode = 0;
	}
	close(fd);
	return st.st_mode ? 0 : -EACCES;
}

/* tree.init: switch_root refuses an init that is missing or not
 * executable; so does the kernel one whose interpreter is missing. */
static int check_tree_init(struct audit *a)
{
	const char *init = a->cfg.init;
	char why[128], interp[256];
	int fd, r;

	if (executable_in_tree(a, init, why, sizeof(why)) < 0) {
		ADD(a, AUDIT_BLOCK, init, NULL, "install the root's init there, or set init = in sealroot.conf",
		    "init '%s' cannot be started: %s (switch_root refuses it, the boot stops)", init, why);
		return 0;
	}
	fd = roottree_open(&a->tree, init, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	r = interpreter(fd, interp, sizeof(interp));
	close(fd);
	if (r == -ENOEXEC)
		ADD(a, AUDIT_HIGH, init, NULL, NULL,
		    "init '%s' is neither an ELF program nor a #! script", init);
	else if (r < 0)
		return r;
	else if (interp[0] && executable_in_tree(a, interp, why, sizeof(why)) < 0)
		ADD(a, AUDIT_BLOCK, init, NULL, "install it in the root tree",
		    "init '%s' needs '%s', which cannot be run: %s (the kernel cannot start init)",
		    init, interp, why);
	return 0;
}

static int need_directory(struct audit *a, const char *key, const char *path,
			  const char *what)
{
	struct stat st;
	int fd = roottree_open(&a->tree, path, O_PATH);
	bool dir = fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);

	if (fd >= 0)
		close(fd);
	if (!dir)
		ADD(a, AUDIT_BLOCK, key, NULL, "make the directory in the root image",
		    "%s '%s' is not a directory in the root tree: %s", key, path, what);
	return 0;
}

/* tree.state-mount: sealroot mounts the state volume on a directory the
 * (read-only) root must have. */
static int check_tree_state_mount(struct audit *a)
{
	if (!has_state(a) || !strcmp(a->cfg.state_mount, "none"))
		return 0;
	return need_directory(a, "state.mount", a->cfg.state_mount,
			      "sealroot cannot mount the state volume there, the boot stops");
}

/* tree.factory: the tree copied onto a new state volume. */
static int check_tree_factory(struct audit *a)
{
	if (!has_state(a) || !a->cfg.state_factory[0])
		return 0;
	return need_directory(a, "state.factory", a->cfg.state_factory,
			      "provisioning cannot copy it, the first boot stops");
}

static bool is_world_writable_file(const struct roottree_entry *e)
{
	return (e->st.st_mode & S_IWOTH) && !S_ISLNK(e->st.st_mode) &&
	       !S_ISDIR(e->st.st_mode) && !S_ISCHR(e->st.st_mode) && !S_ISBLK(e->st.st_mode);
}

static bool is_world_writable_dir(const struct roottree_entry *e)
{
	return S_ISDIR(e->st.st_mode) && (e->st.st_mode & S_IWOTH) && !(e->st.st_mode & S_ISVTX);
}

/* tree.world-writable: on a read-only root a mode matters where the tree
 * is copied (state.factory) or mounted writable (development). */
static int check_tree_world_writable(struct audit *a)
{
	int r = aggregate(a, AUDIT_HIGH, is_world_writable_file, "chmod o-w",
			  "world-writable files: any user can change them wherever the tree is writable (a state.factory copy, a writable root)");

	if (r == 0)
		r = aggregate(a, AUDIT_MEDIUM, is_world_writable_dir, "chmod o-w, or +t for a shared scratch directory",
			      "world-writable directories without the sticky bit: any user can delete or replace the others' files in them");
	return r;
}

static bool is_setuid(const struct roottree_entry *e)
{
	return S_ISREG(e->st.st_mode) && (e->st.st_mode & S_ISUID);
}

static bool is_setgid(const struct roottree_entry *e)
{
	return S_ISREG(e->st.st_mode) && (e->st.st_mode & S_ISGID);
}

static int check_tree_setuid(struct audit *a)
{
	return aggregate(a, AUDIT_MEDIUM, is_setuid, "remove what the device does not need, or chmod u-s",
			 "setuid programs: each runs with its owner's rights for any user who starts it");
}

static int check_tree_setgid(struct audit *a)
{
	return aggregate(a, AUDIT_LOW, is_setgid, "remove what the device does not need, or chmod g-s",
			 "setgid programs: each runs with its group's rights for any user who starts it");
}

/* The ids named in a passwd or group file (the third field). */
struct ids {
	unsigned long *v;
	size_t n, cap;
};

static int read_ids(const struct audit *a, const char *path, struct ids *ret)
{
	static char buf[1 << 20];
	size_t len;
	int r = roottree_read(&a->tree, path, buf, sizeof(buf), &len);

	if (r < 0)
		return r;
	for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char *f = line, *end;
		unsigned long id;

		for (int i = 0; i < 2 && f; i++)
			f = strchr(f, ':'), f = f ? f + 1 : NULL;
		if (!f || *f < '0' || *f > '9')
			continue;
		id = strtoul(f, &end, 10);
		if (*end != ':')
			continue;
		if (ret->n == ret->cap) {
			unsigned long *p = realloc(ret->v, (ret->cap ? 2 * ret->cap : 64) * sizeof(*p));

			if (!p)
				return -ENOMEM;
			ret->v = p;
			ret->cap = ret->cap ? 2 * ret->cap : 64;
		}
		ret->v[ret->n++] = id;
	}
	return 0;
}

static bool id_known(const struct ids *ids, unsigned long id)
{
	for (size_t i = 0; i < ids->n; i++)
		if (ids->v[i] == id)
			return true;
	return false;
}

/* tree.unowned: an owner with no name is whoever gets that id later. */
static int check_tree_unowned(struct audit *a)
{
	struct ids users = { 0 }, groups = { 0 };
	struct audit_finding *f = NULL;
	size_t n = 0;
	int r;

	r = read_ids(a, "/etc/passwd", &users);
	if (r == 0)
		r = read_ids(a, "/etc/group", &groups);
	if (r == -ENOENT) {
		free(users.v);
		free(groups.v);
		ADD(a, AUDIT_INFO, "/etc/passwd", NULL, NULL,
		    "no /etc/passwd or /etc/group in the root tree: owners not checked");
		return 0;
	}
	for (size_t i = 0; r == 0 && i < a->tree.n; i++) {
		const struct roottree_entry *e = &a->tree.entries[i];

		if (id_known(&users, e->st.st_uid) && id_known(&groups, e->st.st_gid))
			continue;
		if (!f && !(f = audit_add(a, AUDIT_MEDIUM, NULL, NULL,
					  "chown them to an account of the root, or add the account",
					  "files whose owner or group has no entry in the root's /etc/passwd or /etc/group: an account made later with that id owns them")))
			r = -ENOMEM;
		if (r == 0)
			r = audit_add_path(a, f, e->path);
		n++;
	}
	if (r == 0 && f) {
		char *m = NULL;

		if (asprintf(&m, "%zu %s", n, f->message) < 0)
			r = -ENOMEM;
		else {
			free(f->message);
			f->message = m;
		}
	}
	free(users.v);
	free(groups.v);
	return r;
}

static bool is_device(const struct roottree_entry *e)
{
	return S_ISCHR(e->st.st_mode) || S_ISBLK(e->st.st_mode);
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == 0);
}

static bool is_dev_node(const struct roottree_entry *e)
{
	return is_device(e) && under(e->path, "/dev");
}

static bool is_open_device(const struct roottree_entry *e)
{
	return is_device(e) && !under(e->path, "/dev") && (e->st.st_mode & (S_IROTH | S_IWOTH));
}

static bool is_other_device(const struct roottree_entry *e)
{
	return is_device(e) && !under(e->path, "/dev") && !(e->st.st_mode & (S_IROTH | S_IWOTH));
}

/* tree.devices: a node is access to its device wherever it lies, unless
 * the file system holding it is mounted nodev. */
static int check_tree_devices(struct audit *a)
{
	int r = aggregate(a, AUDIT_HIGH, is_open_device, "remove them; devices come from devtmpfs",
			  "device nodes outside /dev that any user may open: access to the device itself, on a file system not mounted nodev");

	if (r == 0)
		r = aggregate(a, AUDIT_MEDIUM, is_other_device, "remove them; devices come from devtmpfs",
			      "device nodes outside /dev: access to the device for whoever may open them, on a file system not mounted nodev");
	if (r == 0)
		r = aggregate(a, AUDIT_INFO, is_dev_node, NULL,
			      "device nodes under /dev: hidden at boot by the devtmpfs sealroot mounts there");
	return r;
}

/* tree.file-caps: security.capability gives a program privileges for
 * every user who runs it, like setuid. */
static int check_tree_file_caps(struct audit *a)
{
	char path[PATH_MAX * 2];
	struct audit_finding *f = NULL;
	size_t n = 0;

	for (size_t i = 0; i < a->tree.n; i++) {
		const struct roottree_entry *e = &a->tree.entries[i];

		if (!S_ISREG(e->st.st_mode))
			continue;
		snprintf(path, sizeof(path), "%s%s", a->in.root, e->path);
		if (lgetxattr(path, "security.capability", NULL, 0) <= 0)
			continue;
		if (!f && !(f = audit_add(a, AUDIT_LOW, NULL, NULL, "setcap -r what does not need them",
					  "programs with file capabilities (security.capability): each runs with them for any user who starts it")))
			return -ENOMEM;
		if (audit_add_path(a, f, e->path) < 0)
			return -ENOMEM;
		n++;
	}
	if (f) {
		char *m = NULL;

		if (asprintf(&m, "%zu %s", n, f->message) < 0)
			return -ENOMEM;
		free(f->message);
		f->message = m;
	}
	return 0;
}

static const char *const legacy_services[] = {
	"in.telnetd", "telnetd", "in.rlogind", "rlogind", "in.rshd", "rshd",
	"in.rexecd", "rexecd", "in.tftpd", "tftpd", "in.fingerd", "fingerd",
	"in.talkd", "talkd", "in.ntalkd", "ntalkd", "in.ftpd", "ftpd",
	"vsftpd", "proftpd", "pure-ftpd", "inetd", "xinetd", "rpc.rexd",
	"rpc.rusersd", "rpc.rwalld", "rwhod", "ypserv", "ypbind", NULL,
};

static bool is_legacy_service(const struct roottree_entry *e)
{
	const char *base = strrchr(e->path, '/') + 1;

	if (!S_ISREG(e->st.st_mode) || !(e->st.st_mode & 0111))
		return false;
	for (size_t i = 0; legacy_services[i]; i++)
		if (!strcmp(base, legacy_services[i]))
			return true;
	return false;
}

/* tree.legacy-services: servers that send passwords in the clear or
 * trust the network's word. */
static int check_tree_legacy(struct audit *a)
{
	return aggregate(a, AUDIT_HIGH, is_legacy_service, "remove them (ssh, sftp instead)",
			 "programs of legacy network services (telnet, rsh, rlogin, rexec, tftp, finger, talk, ftp, inetd, NIS): passwords in the clear, or trust in the network's word");
}

/* fstab ------------------------------------------------------------------ */

static const struct {
	const char *dir;
	bool noexec;		/* no programs belong there */
} mount_rules[] = {
	{ "/tmp", true }, { "/var/tmp", true }, { "/dev/shm", true },
	{ "/boot", true }, { "/boot/efi", true }, { "/efi", true },
	{ "/home", false }, { "/var", false }, { "/srv", false },
	{ "/media", false }, { "/mnt", false }, { "/run", false },
};

static bool has_option(const char *opts, const char *opt)
{
	size_t n = strlen(opt);

	for (const char *p = opts; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strcspn(p, ",") == n && !strncmp(p, opt, n))
			return true;
	}
	return false;
}

static int fstab_entry(struct audit *a, const char *dir, const char *type,
		       const char *opts)
{
	bool user = has_option(opts, "user") || has_option(opts, "users");
	char missing[64] = "";
	size_t rule;

	if (has_state(a) && !strcmp(dir, a->cfg.state_mount))
		ADD(a, AUDIT_MEDIUM, dir, NULL, "drop the fstab entry, or set state.mount = none",
		    "/etc/fstab mounts '%s' (%s) where sealroot mounts the state volume: it would hide it", dir, type);
	for (rule = 0; rule < sizeof(mount_rules) / sizeof(mount_rules[0]); rule++)
		if (!strcmp(dir, mount_rules[rule].dir))
			break;
	if (rule == sizeof(mount_rules) / sizeof(mount_rules[0]) || user)
		return 0;
	if (!has_option(opts, "nodev"))
		strcat(missing, ", nodev");
	if (!has_option(opts, "nosuid"))
		strcat(missing, ", nosuid");
	if (mount_rules[rule].noexec && !has_option(opts, "noexec"))
		strcat(missing, ", noexec");
	if (missing[0])
		ADD(a, strstr(missing, "nodev") || strstr(missing, "nosuid") ? AUDIT_MEDIUM : AUDIT_LOW,
		    dir, NULL, NULL,
		    "/etc/fstab mounts '%s' (%s) without %s: %s", dir, type, missing + 2,
		    mount_rules[rule].noexec ? "no device nodes, setuid programs or programs at all belong there"
					     : "no device nodes or setuid programs belong there");
	return 0;
}

/* tree.fstab: the mount options of the root's own mounts. */
static int check_tree_fstab(struct audit *a)
{
	static char buf[65536];
	size_t len;
	int r = roottree_read(&a->tree, "/etc/fstab", buf, sizeof(buf), &len);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		char *field[4] = { NULL }, *save = NULL;
		int n = 0;

		for (char *t = strtok_r(line, " \t", &save); t && n < 4; t = strtok_r(NULL, " \t", &save))
			field[n++] = t;
		if (n < 3 || field[0][0] == '#' || field[1][0] != '/')
			continue;
		r = fstab_entry(a, field[1], field[2], n > 3 ? field[3] : "defaults");
		if (r < 0)
			return r;
	}
	return 0;
}

/* tree.accounts: accounts anyone can log into, and a readable shadow. */
static int check_tree_accounts(struct audit *a)
{
	static const char *const files[] = { "/etc/passwd", "/etc/shadow" };
	static char buf[1 << 20];
	char names[512] = "";
	const struct roottree_entry *shadow = roottree_find(&a->tree, "/etc/shadow");
	size_t len;

	for (size_t i = 0; i < 2; i++) {
		if (roottree_read(&a->tree, files[i], buf, sizeof(buf), &len) < 0)
			continue;
		for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
			char *colon = strchr(line, ':');

			if (!colon || colon[1] != ':' || colon == line)
				continue;
			*colon = 0;
			if (strlen(names) + strlen(line) + 3 < sizeof(names) &&
			    !strstr(names, line))
				snprintf(names + strlen(names), sizeof(names) - strlen(names),
					 "%s%s", names[0] ? ", " : "", line);
		}
	}
	if (names[0])
		ADD(a, AUDIT_HIGH, "accounts", NULL, "lock them (passwd -l) or set a password",
		    "accounts with an empty password field in /etc/passwd or /etc/shadow: anyone can log in as %s", names);
	if (shadow && S_ISREG(shadow->st.st_mode) && (shadow->st.st_mode & S_IROTH))
		ADD(a, AUDIT_HIGH, "/etc/shadow", NULL, "chmod o-r /etc/shadow",
		    "/etc/shadow is readable by any user: the password hashes are there to crack");
	return 0;
}

/* ELF hardening -------------------------------------------------------------
 * Programs and shared libraries, not kernel modules or objects, and not
 * the detached debug files under /usr/lib/debug. */

static bool elf_judged(const struct roottree_entry *e)
{
	return e->elf && (elfinfo_is_program(e->elf) || elfinfo_is_library(e->elf)) &&
	       !under(e->path, "/usr/lib/debug");
}

static bool elf_program(const struct roottree_entry *e)
{
	return elf_judged(e) && elfinfo_is_program(e->elf);
}

static bool elf_dynamic(const struct roottree_entry *e)
{
	return elf_judged(e) && e->elf->dynamic;
}

static bool elf_with_imports(const struct roottree_entry *e)
{
	return elf_dynamic(e) && e->elf->imports;
}

static bool no_pie(const struct roottree_entry *e)
{
	return elf_program(e) && !elfinfo_is_pie(e->elf);
}

static bool no_relro(const struct roottree_entry *e)
{
	return elf_dynamic(e) && !e->elf->relro;
}

static bool no_bind_now(const struct roottree_entry *e)
{
	return elf_dynamic(e) && e->elf->relro && !e->elf->bind_now;
}

static bool no_stack_chk(const struct roottree_entry *e)
{
	return elf_with_imports(e) && !e->elf->stack_chk;
}

static bool no_fortify(const struct roottree_entry *e)
{
	return elf_with_imports(e) && e->elf->fortifiable && !e->elf->fortified;
}

static bool exec_stack(const struct roottree_entry *e)
{
	return elf_judged(e) && e->elf->exec_stack;
}

/* "N of M <what>": one finding per property, all paths in it. */
static int elf_aggregate(struct audit *a, enum audit_severity sev,
			 bool (*bad)(const struct roottree_entry *),
			 bool (*judged)(const struct roottree_entry *),
			 const char *fix, const char *what)
{
	size_t n = count_where(a, bad);
	struct audit_finding *f;

	if (!n)
		return 0;
	f = audit_add(a, sev, NULL, NULL, fix, "%zu of %zu %s", n, count_where(a, judged), what);
	if (!f)
		return -ENOMEM;
	return add_paths_where(a, f, bad);
}

static int check_elf_nx(struct audit *a)
{
	return elf_aggregate(a, AUDIT_HIGH, exec_stack, elf_judged, "link with -z noexecstack",
			     "ELF programs and libraries ask for an executable stack (PT_GNU_STACK with PF_X, or none): code injected onto the stack runs, in every process that loads them");
}

static int check_elf_pie(struct audit *a)
{
	return elf_aggregate(a, AUDIT_MEDIUM, no_pie, elf_program, "build with -fPIE -pie",
			     "ELF programs are not position independent (PIE): their code sits at a fixed address ASLR cannot move");
}

static int check_elf_relro(struct audit *a)
{
	return elf_aggregate(a, AUDIT_MEDIUM, no_relro, elf_dynamic, "link with -z relro -z now",
			     "dynamically linked ELF objects have no RELRO: their relocations (the GOT) stay writable for the whole run");
}

static int check_elf_bind_now(struct audit *a)
{
	return elf_aggregate(a, AUDIT_LOW, no_bind_now, elf_dynamic, "link with -z now",
			     "dynamically linked ELF objects bind lazily (partial RELRO, no BIND_NOW): the GOT entries of functions not yet called stay writable");
}

static int check_elf_stack_protector(struct audit *a)
{
	return elf_aggregate(a, AUDIT_LOW, no_stack_chk, elf_with_imports, "build with -fstack-protector-strong",
			     "dynamically linked ELF objects import no __stack_chk_fail: built without the stack protector (or with no function that needs one)");
}

static int check_elf_fortify(struct audit *a)
{
	return elf_aggregate(a, AUDIT_LOW, no_fortify, elf_with_imports, "build with -O2 -D_FORTIFY_SOURCE=2 (or 3)",
			     "dynamically linked ELF objects call libc functions that have checked variants, none of them checked: built without _FORTIFY_SOURCE (or it found nothing to check)");
}

/* tree.unread: what the walk could not see is not audited. */
static int check_tree_unread(struct audit *a)
{
	if (a->tree.unreadable)
		ADD(a, AUDIT_MEDIUM, a->tree.first_unreadable, NULL, NULL,
		    "%zu directories of the root tree could not be read (the first: '%s'): what they hold was not audited",
		    a->tree.unreadable, a->tree.first_unreadable);
	if (a->tree.other_fs)
		ADD(a, AUDIT_INFO, "mounts", NULL, NULL,
		    "%zu directories are mount points of other file systems: not entered (give an unpacked root, not a live system)",
		    a->tree.other_fs);
	return 0;
}

/* The table ----------------------------------------------------------------
 * Report order within a severity. policy.ima-lint comes before the checks
 * that read its facts (AUDIT_NEEDS_IMA). */
const struct audit_check audit_checks[] = {
	{ "kernel.config", "kernel", 0, check_kernel_config },
	{ "kernel.required", "kernel", AUDIT_NEEDS_KCONFIG, check_kernel_required },
	{ "kernel.lsm", "kernel", AUDIT_NEEDS_KCONFIG, check_kernel_lsm },
	{ "kernel.ima-pcr", "kernel", AUDIT_NEEDS_KCONFIG, check_kernel_ima_pcr },
	{ "kernel.hardening", "kernel", AUDIT_NEEDS_KCONFIG, check_kernel_hardening },
	{ "policy.config-lint", "policy", AUDIT_NEEDS_CONFIG, check_config_lint },
	{ "policy.ima-lint", "policy", 0, check_ima_lint },
	{ "policy.evm", "policy", AUDIT_NEEDS_CONFIG | AUDIT_NEEDS_IMA, check_policy_evm },
	{ "policy.evm-state", "policy", AUDIT_NEEDS_CONFIG, check_policy_evm_state },
	{ "policy.state-covered", "policy", AUDIT_NEEDS_CONFIG, check_policy_state },
	{ "policy.root-exempt", "policy", AUDIT_NEEDS_IMA, check_policy_root },
	{ "policy.pcrs", "policy", AUDIT_NEEDS_CONFIG, check_policy_pcrs },
	{ "signing.dev-key", "signing", 0, check_dev_key },
	{ "tree.unread", "tree", AUDIT_NEEDS_ROOT, check_tree_unread },
	{ "tree.init", "tree", AUDIT_NEEDS_ROOT, check_tree_init },
	{ "tree.state-mount", "tree", AUDIT_NEEDS_ROOT, check_tree_state_mount },
	{ "tree.factory", "tree", AUDIT_NEEDS_ROOT, check_tree_factory },
	{ "tree.accounts", "tree", AUDIT_NEEDS_ROOT, check_tree_accounts },
	{ "tree.world-writable", "tree", AUDIT_NEEDS_ROOT, check_tree_world_writable },
	{ "tree.devices", "tree", AUDIT_NEEDS_ROOT, check_tree_devices },
	{ "tree.legacy-services", "tree", AUDIT_NEEDS_ROOT, check_tree_legacy },
	{ "tree.setuid", "tree", AUDIT_NEEDS_ROOT, check_tree_setuid },
	{ "tree.setgid", "tree", AUDIT_NEEDS_ROOT, check_tree_setgid },
	{ "tree.file-caps", "tree", AUDIT_NEEDS_ROOT, check_tree_file_caps },
	{ "tree.unowned", "tree", AUDIT_NEEDS_ROOT, check_tree_unowned },
	{ "tree.fstab", "tree", AUDIT_NEEDS_ROOT, check_tree_fstab },
	{ "tree.elf-nx-stack", "tree", AUDIT_NEEDS_ROOT, check_elf_nx },
	{ "tree.elf-pie", "tree", AUDIT_NEEDS_ROOT, check_elf_pie },
	{ "tree.elf-relro", "tree", AUDIT_NEEDS_ROOT, check_elf_relro },
	{ "tree.elf-bind-now", "tree", AUDIT_NEEDS_ROOT, check_elf_bind_now },
	{ "tree.elf-stack-protector", "tree", AUDIT_NEEDS_ROOT, check_elf_stack_protector },
	{ "tree.elf-fortify", "tree", AUDIT_NEEDS_ROOT, check_elf_fortify },
};

const size_t audit_nchecks = sizeof(audit_checks) / sizeof(audit_checks[0]);
