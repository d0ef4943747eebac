/* Integrity of what runs: the stages evm, ima and personalize. Glue: the
 * kernel interfaces are in src/evm.c, src/ima.c, src/keys.c and
 * src/personalize.c; here they meet the boot's order. The state volume
 * is open (its key in b->vk) and mounted when evm runs; the IMA policy
 * loads after the unseal, so its PCR 10 extends cannot touch the seal
 * (PCR 10 is never in it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "boot.h"
#include "evm.h"
#include "ima.h"
#include "keys.h"
#include "log.h"
#include "luks.h"
#include "personalize.h"
#include "switchroot.h"
#include "util.h"


/* ---- evm ---- */

/* The evm-key blob: the volume's, or a new one kept in its header before
 * EVM uses it (a key that was not kept would lock every file out). */
static int evm_keys(struct boot *b, const uint8_t kmk[EVM_KMK_SIZE],
		    struct evm_keys *keys)
{
	const char *dev = b->devs[b->state].path;
	bool created = false;
	int r;

	r = luks_evm_blob(dev, b->evm_blob);
	if (r == -ENOENT)
		b->evm_blob[0] = 0;
	else if (r < 0)
		return r;
	r = evm_keys_load(kmk, b->evm_blob, &created, keys);
	if (r == 0 && created) {
		log_info("evm", "made a new EVM key for '%s'; keeping its blob in the LUKS2 header",
			 dev);
		r = luks_evm_blob_save(dev, b->evm_blob);
		if (r < 0)
			evm_keys_drop(keys);
	}
	return r;
}

static int check_lsm(void)
{
	char lsm[256];
	struct utsname u;
	size_t n = 0;

	if (read_file("/sys/kernel/security/lsm", lsm, sizeof(lsm) - 1, &n) < 0 || uname(&u) < 0)
		return 0;
	lsm[n] = 0;
	if (!evm_lsm_conflict(lsm, u.release))
		return 0;
	log_err("evm", "cannot enable EVM: the BPF LSM is active (lsm: %.*s) and this kernel (%s) crashes creating files with both; boot with lsm= without bpf on the UKI's command line",
		(int)strcspn(lsm, "\n"), lsm, u.release);
	return -EOPNOTSUPP;
}

int boot_evm(struct boot *b)
{
	struct evm_keys keys = { 0, 0 };
	uint8_t kmk[EVM_KMK_SIZE];
	unsigned certs = 0, bits = 0;
	int r;

	if (b->cfg.evm == CONFIG_OFF || !boot_has_state(b)) {
		explicit_bzero(&b->vk, sizeof(b->vk));
		log_notice("evm", "EVM not enabled (%s)", b->cfg.evm == CONFIG_OFF ?
			   "evm = off" : "no state volume to derive its key from");
		return 0;
	}
	r = check_lsm();
	if (r == 0)
		r = evm_derive_kmk(b->vk.bytes, b->vk.size, kmk);
	explicit_bzero(&b->vk, sizeof(b->vk));
	if (r == -EOPNOTSUPP)
		return r;
	if (r < 0) {
		log_err("evm", "cannot derive the EVM master key: %s", strerror(-r));
		return r;
	}
	r = evm_keys(b, kmk, &keys);
	explicit_bzero(kmk, sizeof(kmk));
	if (r == 0)
		r = keys_load_certs("evm", IMAPOLICY_KEYS_EVM, "_evm", &certs);
	if (r == 0)
		r = evm_enable(EVM_SECFS, certs > 0, &bits);
	evm_keys_drop(&keys);
	if (r == 0)
		log_info("evm", "EVM enabled (bits 0x%x: HMAC%s), setup locked; the keys sealroot added are invalidated",
			 bits, certs ? ", x509" : "");
	return r;
}

/* ---- ima ---- */

int boot_ima(struct boot *b)
{
	struct ima_load l;
	unsigned certs = 0;
	int r;

	if (b->cfg.ima == CONFIG_OFF) {
		log_notice("ima", "IMA policy not loaded (ima = off): the kernel's boot policy stays");
		return 0;
	}
	r = keys_load_certs("ima", IMAPOLICY_KEYS_IMA, "_ima", &certs);
	if (r < 0)
		return r;
	r = ima_load_policy(IMA_SECFS_DIR, IMA_POLICY_PATH, &l);
	if (r < 0)
		return r;
	if (certs && b->state_mounted) {
		r = ima_pin_keyring(b->state_mount_path);
		if (r < 0) {
			log_err("ima", "cannot have the kernel keep the _ima keyring: %s%s", strerror(-r),
				r == -EPROTO ? " (a signature naming no key passed: does the policy appraise the state volume?)" : "");
			return r;
		}
		log_info("ima", "_ima keyring kept by the kernel (a probe signature refused on %s, as it must be)",
			 b->cfg.state_mount);
	} else if (certs) {
		log_warn("ima", "_ima is found only by processes that reach root's user keyring (no state volume mounted for the probe)");
	}
	log_info("ima", "IMA policy loaded %s: %u rules, %u certificates in _ima; measurement list %ld -> %ld entries%s",
		 l.by_path ? "by path" : "line by line", l.rules, certs,
		 l.measurements_before, l.measurements_after,
		 access(IMA_SECFS_DIR "/policy", F_OK) < 0 ? "; the kernel closed its policy file" : "");
	return 0;
}

/* ---- personalize ---- */

static int personalize(struct boot *b)
{
	char src[320];
	struct personalize_stats st;
	bool label = b->cfg.ima == CONFIG_ON;
	uint64_t start = now_ms(), ms;
	unsigned checked = 0;
	int r;

	if (!b->state_mounted) {
		log_err("personalize", "cannot copy the factory tree '%s': the state volume is not mounted by sealroot (state.mount = none)",
			b->cfg.state_factory);
		return -EINVAL;
	}
	snprintf(src, sizeof(src), "%s%s", SWITCHROOT_STAGING, b->cfg.state_factory);
	r = personalize_tree(src, b->state_mount_path, label, &st);
	if (r == 0)
		r = personalize_verify(b->state_mount_path, label, &checked);
	if (r < 0)
		return r;
	ms = now_ms() - start;
	log_info("personalize", "copied '%s': %u files (%u signed), %u directories, %u symlinks, %u nodes, %llu bytes in %llu ms (%llu files/s); %u files open under appraisal",
		 b->cfg.state_factory, st.files, st.signed_files, st.dirs, st.symlinks,
		 st.nodes, (unsigned long long)st.bytes, (unsigned long long)ms,
		 (unsigned long long)(ms ? st.files * 1000ull / ms : st.files), checked);
	if (!label)
		log_warn("personalize", "files not labelled (ima = off)");
	return 0;
}

/* Only on the boot that provisioned the volume: "ready" comes last, so
 * a power cut before it provisions again. */
int boot_personalize(struct boot *b)
{
	struct state_req req = { .dev = b->devs[b->state].path };
	int r = 0, fd;

	if (b->cfg.state_factory[0])
		r = personalize(b);
	else
		log_info("personalize", "no factory tree (state.factory): the volume starts empty");
	if (r == 0 && b->state_mounted) {
		fd = open(b->state_mount_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0 || syncfs(fd) < 0) {
			r = -errno;
			log_err("personalize", "cannot sync the state volume: %s", strerror(-r));
		}
		if (fd >= 0)
			close(fd);
	}
	if (r == 0)
		r = state_mark_ready(&req);
	return r;
}
