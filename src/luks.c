/* The LUKS2 state volume. Design choices (see also luks.h):
 *
 * State in the subsystem field. LUKS2 has two free text fields in its
 * binary header, label and subsystem. The label is the integrator's: blkid
 * reports it as LABEL and udev links /dev/disk/by-label/<label> to it, so
 * "ready" there would be a public name. cryptsetup documents subsystem as
 * the label of the subsystem owning the device: ours. The values carry our
 * name, so someone else's LUKS2 volume is never taken for one we may
 * format (PROVISIONING is the one state that is formatted).
 *
 * Classification reads the binary headers itself (both copies, checksums
 * verified, the copy with the higher seqid current, as libcryptsetup reads
 * them) and asks libblkid for other signatures: libcryptsetup is not
 * needed to look. Where it is used, metadata locking is off, which keeps
 * crypt_load from rewriting a bad or stale header copy (see cd_init): the
 * open paths never write the header, hostile or torn.
 *
 * Volume key from libcryptsetup's RNG set to CRYPT_RNG_RANDOM: the key is
 * made inside libcryptsetup and never crosses our buffers (one copy fewer
 * to wipe); /dev/random blocks only until the kernel's CRNG is seeded, and
 * a first boot in the initramfs is exactly when /dev/urandom may not be.
 *
 * Recovery keyslot at systemd's minimal PBKDF (PBKDF2-sha512, 1000
 * iterations) with a "systemd-recovery" token, as systemd-cryptenroll 252
 * enrolls it: the key has 256 random bits, so a slow KDF adds no strength;
 * the token makes systemd's tools see it as a recovery key
 * (--wipe-slot=recovery, luksDump), and recovery in the initramfs costs no
 * KDF time or memory.
 *
 * Crash safety. libcryptsetup's crypt_format on the device would zero the
 * first 16 MiB, fill the keyslot area with random bytes, then write the
 * headers: a power cut in between leaves neither BLANK nor a header, i.e.
 * FOREIGN, refused for ever. So the header is built on a detached header
 * in a memfd (data offset 16 MiB, the layout of an attached header) and
 * copied: (1) a marker in sector 0, synced: from here on the device reads
 * as PROVISIONING whatever else is torn; (2) all but sector 0, synced;
 * (3) sector 0, synced: the primary header's checksum becomes valid in one
 * sector write. Marking ready is one libcryptsetup header update (primary,
 * then secondary, seqid + 1): torn, the copy with the higher valid seqid
 * says where we are, as libcryptsetup itself reads it; the other copy is
 * restored only by luks_repair, when the caller asks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <blkid/blkid.h>
#include <json-c/json.h>
#include <libcryptsetup.h>
#include <openssl/evp.h>

#include "log.h"
#include "luks.h"

#define STAGE "state"
#define SECTOR 512
#define MIB (1u << 20)
#define BIN_HDR 4096			/* LUKS2 binary header */
#define HDR_SIZE_MIN 0x4000u
#define HDR_SIZE_MAX 0x400000u
/* Header fields (cryptsetup's struct luks2_hdr_disk, big endian). */
#define OFF_VERSION 6
#define OFF_HDR_SIZE 8
#define OFF_SEQID 16
#define OFF_CSUM_ALG 72
#define OFF_SUBSYSTEM 208
#define OFF_HDR_OFFSET 256
#define OFF_CSUM 448
#define LABEL_LEN 48
#define CSUM_LEN 64
#define RECOVERY_TOKEN_MAX 80

int (*luks_step_hook)(enum luks_step step, int fd);

/* systemd's cryptsetup_set_minimal_pbkdf: the secret is high entropy. */
static const struct crypt_pbkdf_type minimal_pbkdf = {
	.type = CRYPT_KDF_PBKDF2,
	.hash = "sha512",
	.iterations = 1000,
	.flags = CRYPT_PBKDF_NO_BENCHMARK,
};

static const uint32_t secondary_offsets[] = {
	0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000,
	0x200000, 0x400000,
};

/* ---- libcryptsetup glue ---- */

/* libcryptsetup's errors as context lines; our own message is the error. */
static void cryptsetup_log(int level, const char *msg, void *userdata)
{
	(void)userdata;
	if (level == CRYPT_LOG_ERROR)
		log_info(STAGE, "libcryptsetup: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* Tokens are parsed here, never by libcryptsetup's token plugins: no
 * dlopen of code from a file system into PID 1 (host builds have them).
 * Metadata locking off (global, for good): locks only serialize processes
 * and PID 1 is the initramfs's one user of libcryptsetup; without them
 * crypt_load never rewrites a damaged, stale or JSON-invalid header copy
 * (cryptsetup 2.6 skips auto-recovery then), so no open path writes. */
static int cd_init(struct crypt_device **ret, const char *hdr, const char *dev)
{
	int r;

	crypt_token_external_disable();
	crypt_metadata_locking(NULL, 0);
	crypt_set_log_callback(NULL, cryptsetup_log, NULL);
	r = hdr ? crypt_init_data_device(ret, hdr, dev) : crypt_init(ret, dev);
	if (r == 0)
		crypt_set_log_callback(*ret, cryptsetup_log, NULL);
	return r;
}

/* ---- reading ---- */

static int read_at(int fd, void *buf, size_t n, off_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pread(fd, (char *)buf + done, n - done,
				  off + (off_t)done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -ENODATA;
		done += (size_t)k;
	}
	return 0;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

struct hdr_copy {
	bool valid;
	uint64_t seqid;
	uint64_t size;
	char subsystem[LABEL_LEN];
};

/* The binary header at off, if its fields are sane for a copy there. */
static bool bin_sane(const uint8_t *b, uint64_t off)
{
	static const uint8_t magic1[6] = { 'L', 'U', 'K', 'S', 0xba, 0xbe };
	static const uint8_t magic2[6] = { 'S', 'K', 'U', 'L', 0xba, 0xbe };
	uint64_t size = be64(b + OFF_HDR_SIZE);

	if (memcmp(b, off ? magic2 : magic1, 6) || b[OFF_VERSION] != 0 ||
	    b[OFF_VERSION + 1] != 2 || be64(b + OFF_HDR_OFFSET) != off)
		return false;
	if (size < HDR_SIZE_MIN || size > HDR_SIZE_MAX)
		return false;
	return !off || size == off;
}

/* sha256 of the header area with the checksum field zeroed, as stored. */
static bool csum_ok(uint8_t *area, size_t size)
{
	uint8_t want[CSUM_LEN], got[32];
	unsigned int len = 0;

	if (strncmp((char *)area + OFF_CSUM_ALG, "sha256", 32))
		return false;
	memcpy(want, area + OFF_CSUM, CSUM_LEN);
	memset(area + OFF_CSUM, 0, CSUM_LEN);
	if (!EVP_Digest(area, size, got, &len, EVP_sha256(), NULL) || len != 32)
		return false;
	return !memcmp(want, got, 32);
}

/* One header copy at off: valid only if sane and its checksum matches. */
static int read_copy(int fd, uint64_t off, struct hdr_copy *c)
{
	uint8_t bin[BIN_HDR], *area;
	int r;

	memset(c, 0, sizeof(*c));
	r = read_at(fd, bin, sizeof(bin), (off_t)off);
	if (r == -ENODATA || (r == 0 && !bin_sane(bin, off)))
		return 0;
	if (r < 0)
		return r;
	c->size = be64(bin + OFF_HDR_SIZE);
	area = malloc(c->size);
	if (!area)
		return -ENOMEM;
	r = read_at(fd, area, c->size, (off_t)off);
	if (r == 0 && csum_ok(area, c->size)) {
		c->valid = true;
		c->seqid = be64(area + OFF_SEQID);
		memcpy(c->subsystem, area + OFF_SUBSYSTEM, LABEL_LEN - 1);
	}
	free(area);
	return r == -ENODATA ? 0 : r;
}

/* The copy libcryptsetup would use (valid, highest seqid), and whether
 * loading would find nothing to repair. The secondary is looked for where
 * the primary says, or at every offset cryptsetup scans. */
static int read_header(int fd, struct hdr_copy *ret, bool *ret_consistent)
{
	struct hdr_copy p, s, best = { 0 };
	bool consistent = false;
	int r;

	r = read_copy(fd, 0, &p);
	for (size_t i = 0; r == 0 && i < sizeof(secondary_offsets) /
					     sizeof(secondary_offsets[0]); i++) {
		if (p.valid && p.size != secondary_offsets[i])
			continue;
		r = read_copy(fd, secondary_offsets[i], &s);
		if (r == 0 && s.valid && (!best.valid || s.seqid > best.seqid))
			best = s;
		if (r == 0 && s.valid && p.valid)
			consistent = s.seqid == p.seqid;
	}
	if (r < 0)
		return r;
	if (p.valid && (!best.valid || p.seqid >= best.seqid))
		best = p;
	*ret = best;
	*ret_consistent = consistent;
	return 0;
}

/* libblkid: 1 and a description if any signature or partition table is
 * seen (several: ambiguous, still foreign), 0 if none. Read-only. */
static int probe_signature(const char *dev, char *what, size_t size)
{
	blkid_probe pr = blkid_new_probe_from_filename(dev);
	const char *type = NULL;
	int r;

	if (!pr)
		return errno ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	r = blkid_do_safeprobe(pr);
	if (r == 0 && blkid_probe_lookup_value(pr, "TYPE", &type, NULL) &&
	    blkid_probe_lookup_value(pr, "PTTYPE", &type, NULL))
		type = "unknown";
	if (r == 0)
		snprintf(what, size, "a signature of type '%s'", type);
	else if (r == -2)
		snprintf(what, size, "several signatures");
	blkid_free_probe(pr);
	if (r == -1)
		return -EIO;
	return r == 1 ? 0 : 1;
}

/* 1 if the first MiB is all zero, 0 if not or shorter. */
static int first_mib_zero(int fd)
{
	static const uint8_t zero[64 * 1024];
	uint8_t buf[sizeof(zero)];
	int r;

	for (off_t off = 0; off < MIB; off += (off_t)sizeof(buf)) {
		r = read_at(fd, buf, sizeof(buf), off);
		if (r == -ENODATA)
			return 0;
		if (r < 0)
			return r;
		if (memcmp(buf, zero, sizeof(buf)))
			return 0;
	}
	return 1;
}

static bool has_marker(int fd)
{
	char buf[sizeof(LUKS_MARKER) - 1];

	return read_at(fd, buf, sizeof(buf), 0) == 0 &&
	       !memcmp(buf, LUKS_MARKER, sizeof(buf));
}

/* Header text is the attacker's: printable ASCII only into messages. */
static void printable(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
}

static void classify_header(const struct hdr_copy *h, struct luks_info *info)
{
	if (!strcmp(h->subsystem, LUKS_SUBSYSTEM_PROVISIONING))
		info->state = LUKS_PROVISIONING;
	else if (!strcmp(h->subsystem, LUKS_SUBSYSTEM_READY))
		info->state = LUKS_READY;
	else
		info->state = LUKS_FOREIGN;
	snprintf(info->what, sizeof(info->what),
		 "a LUKS2 header of subsystem '%.*s'", LABEL_LEN, h->subsystem);
	printable(info->what);
}

/* No LUKS2 header: blank only if libblkid sees nothing and the first MiB
 * is zero. LUKS1, other file systems, random bytes: foreign. */
static int classify_rest(const char *dev, int fd, struct luks_info *info)
{
	int r = probe_signature(dev, info->what, sizeof(info->what));

	if (r < 0)
		return r;
	info->state = LUKS_FOREIGN;
	if (r > 0)
		return 0;
	r = first_mib_zero(fd);
	if (r < 0)
		return r;
	if (r > 0) {
		info->state = LUKS_BLANK;
		snprintf(info->what, sizeof(info->what), "a blank device");
	} else {
		snprintf(info->what, sizeof(info->what),
			 "data in its first MiB and no signature");
	}
	return 0;
}

static int classify_fd(const char *dev, int fd, struct luks_info *info)
{
	struct hdr_copy h;
	int r;

	memset(info, 0, sizeof(*info));
	if (has_marker(fd)) {
		info->state = LUKS_PROVISIONING;
		info->interrupted = true;
		snprintf(info->what, sizeof(info->what),
			 "an interrupted provisioning");
		return 0;
	}
	r = read_header(fd, &h, &info->consistent);
	if (r < 0)
		return r;
	if (h.valid) {
		info->luks2 = true;
		classify_header(&h, info);
		return 0;
	}
	return classify_rest(dev, fd, info);
}

int luks_classify(const char *dev, struct luks_info *ret)
{
	struct luks_info info;
	int fd, r;

	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		log_err(STAGE, "cannot open '%s': %s", dev, strerror(-r));
		return r;
	}
	r = classify_fd(dev, fd, &info);
	close(fd);
	if (r < 0) {
		log_err(STAGE, "cannot read '%s': %s", dev, strerror(-r));
		return r;
	}
	*ret = info;
	return 0;
}

/* ---- loading for use ---- */

/* A LUKS2 header (ours or one systemd's tools enrolled), loaded without
 * a write: with copies that disagree, libcryptsetup uses the current one
 * (the one luks_classify reports) and leaves the other for luks_repair. */
static int cd_load(const char *dev, struct crypt_device **ret)
{
	struct crypt_device *cd = NULL;
	struct luks_info info;
	int r;

	r = luks_classify(dev, &info);
	if (r < 0)
		return r;
	if (!info.luks2 || info.interrupted) {
		log_err(STAGE, "cannot load '%s': it holds %s", dev, info.what);
		return info.state == LUKS_FOREIGN ? -EMEDIUMTYPE : -ENOENT;
	}
	r = cd_init(&cd, NULL, dev);
	if (r == 0)
		r = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (r < 0) {
		log_err(STAGE, "cannot load '%s': LUKS2 header refused by libcryptsetup: %s",
			dev, strerror(-r));
		crypt_free(cd);
		return r == -ENOMEM ? r : -EBADMSG;
	}
	*ret = cd;
	return 0;
}

/* A keyslot we are about to unlock: active, PBKDF2, bounded work. */
static int check_keyslot(struct crypt_device *cd, int slot, char *why,
			 size_t size)
{
	struct crypt_pbkdf_type p = { 0 };
	crypt_keyslot_info st = crypt_keyslot_status(cd, slot);

	if (st != CRYPT_SLOT_ACTIVE && st != CRYPT_SLOT_ACTIVE_LAST) {
		snprintf(why, size, "keyslot %d is not active", slot);
		return -ENOENT;
	}
	if (crypt_keyslot_get_pbkdf(cd, slot, &p) < 0 || !p.type ||
	    strcmp(p.type, CRYPT_KDF_PBKDF2) ||
	    p.iterations > LUKS_PBKDF2_ITER_MAX) {
		snprintf(why, size, "keyslot %d: PBKDF %s/%u is not a minimal PBKDF2",
			 slot, p.type ? p.type : "?", p.iterations);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* ---- the systemd-tpm2 token ---- */

static bool token_is(struct crypt_device *cd, int id, const char *type)
{
	const char *t = NULL;
	crypt_token_info st = crypt_token_status(cd, id, &t);

	return st != CRYPT_TOKEN_INVALID && st != CRYPT_TOKEN_INACTIVE && t &&
	       !strcmp(t, type);
}

static int check_token(struct crypt_device *cd, int id, struct tpm2token *t,
		       char *why, size_t size)
{
	const char *json = NULL;
	int r;

	r = crypt_token_json_get(cd, id, &json);
	if (r < 0 || !json) {
		snprintf(why, size, "unreadable: %s", strerror(r < 0 ? -r : EIO));
		return -EBADMSG;
	}
	r = tpm2token_parse(json, strlen(json), t, why);
	if (r < 0)
		return r;
	if (crypt_token_is_assigned(cd, id, (int)t->keyslot) < 0) {
		snprintf(why, size, "keyslot %u is not assigned to it", t->keyslot);
		return -EBADMSG;
	}
	return check_keyslot(cd, (int)t->keyslot, why, size);
}

static int find_token(struct crypt_device *cd, const char *dev, int start,
		      struct tpm2token *ret, int *ret_id)
{
	char why[TPM2TOKEN_MSG_MAX];
	struct tpm2token t;
	int max = crypt_token_max(CRYPT_LUKS2), refused = 0;

	for (int id = start < 0 ? 0 : start; id < max; id++) {
		if (!token_is(cd, id, "systemd-tpm2"))
			continue;
		if (check_token(cd, id, &t, why, sizeof(why)) == 0) {
			*ret = t;
			*ret_id = id;
			return 0;
		}
		log_err(STAGE, "cannot use token %d of '%s': %s", id, dev, why);
		refused++;
	}
	return refused ? -EBADMSG : -ENOENT;
}

int luks_tpm2_token(const char *dev, int start, struct tpm2token *ret_token,
		    int *ret_id)
{
	struct crypt_device *cd;
	int r;

	r = cd_load(dev, &cd);
	if (r < 0)
		return r;
	r = find_token(cd, dev, start, ret_token, ret_id);
	if (r == -ENOENT)
		log_err(STAGE, "cannot find a systemd-tpm2 token on '%s'%s", dev,
			start > 0 ? " after the ones tried" : "");
	crypt_free(cd);
	return r;
}

/* ---- activation ---- */

static int get_volume_key(struct crypt_device *cd, int keyslot,
			  const char *pass, size_t len,
			  uint8_t key[LUKS_VOLUME_KEY_MAX], size_t *ret_len);

/* With ret_vk, the volume key is taken out first (the keyslot's KDF runs
 * once) and the mapping activated by it: the caller derives the EVM key
 * from the same bytes. */
static int unlock_slot(struct crypt_device *cd, const char *name, int slot,
		       const char *pass, size_t len, struct luks_key *ret_vk)
{
	int r;

	if (!ret_vk) {
		r = crypt_activate_by_passphrase(cd, name, slot, pass, len, 0);
		if (r == -EPERM)
			return -EKEYREJECTED;
		return r < 0 ? r : 0;
	}
	r = get_volume_key(cd, slot, pass, len, ret_vk->bytes, &ret_vk->size);
	if (r == 0 && name)
		r = crypt_activate_by_volume_key(cd, name, (const char *)ret_vk->bytes,
						 ret_vk->size, 0);
	if (r < 0)
		explicit_bzero(ret_vk, sizeof(*ret_vk));
	return r < 0 ? r : 0;
}

static const char *unlock_reason(int r)
{
	if (r == -EKEYREJECTED)
		return "the key does not open it";
	if (r == -EEXIST)
		return "the mapping name is in use";
	return strerror(-r);
}

static int check_passphrase(const char *p, size_t *ret_len)
{
	size_t n = p ? strnlen(p, LUKS_PASSPHRASE_MAX + 1) : 0;

	if (n == 0 || n > LUKS_PASSPHRASE_MAX)
		return -EINVAL;
	*ret_len = n;
	return 0;
}

int luks_activate(const char *dev, const char *name, int keyslot,
		  const char *passphrase)
{
	return luks_open(dev, name, keyslot, passphrase, NULL);
}

int luks_open(const char *dev, const char *name, int keyslot,
	      const char *passphrase, struct luks_key *ret_vk)
{
	char why[TPM2TOKEN_MSG_MAX];
	struct crypt_device *cd;
	size_t len;
	int r;

	r = check_passphrase(passphrase, &len);
	if (r < 0) {
		log_err(STAGE, "cannot activate '%s': no usable passphrase", dev);
		return r;
	}
	r = cd_load(dev, &cd);
	if (r < 0)
		return r;
	r = check_keyslot(cd, keyslot, why, sizeof(why));
	if (r == 0) {
		r = unlock_slot(cd, name, keyslot, passphrase, len, ret_vk);
		snprintf(why, sizeof(why), "keyslot %d: %s", keyslot,
			 unlock_reason(r));
	}
	if (r < 0)
		log_err(STAGE, "cannot activate '%s': %s", dev, why);
	crypt_free(cd);
	return r;
}

/* Every keyslot of every systemd-recovery token, until one opens: that
 * keyslot is returned, its token in *ret_token. */
static int unlock_recovery(struct crypt_device *cd, const char *name,
			   const char *key, struct luks_key *ret_vk,
			   int *ret_token, char *why, size_t size)
{
	int max = crypt_token_max(CRYPT_LUKS2), r = -ENOENT;

	snprintf(why, size, "no recovery keyslot");
	for (int id = 0; id < max; id++) {
		if (!token_is(cd, id, "systemd-recovery"))
			continue;
		for (int slot = 0; slot < TPM2TOKEN_KEYSLOTS; slot++) {
			if (crypt_token_is_assigned(cd, id, slot) < 0 ||
			    check_keyslot(cd, slot, why, size) < 0)
				continue;
			r = unlock_slot(cd, name, slot, key,
					TPM2TOKEN_RECOVERY_LEN, ret_vk);
			if (r == 0) {
				*ret_token = id;
				return slot;
			}
			snprintf(why, size, "keyslot %d: %s", slot,
				 unlock_reason(r));
		}
	}
	return r;
}

int luks_activate_recovery(const char *dev, const char *name,
			   const char *recovery_key)
{
	return luks_open_recovery(dev, name, recovery_key, NULL);
}

int luks_open_recovery(const char *dev, const char *name,
		       const char *recovery_key, struct luks_key *ret_vk)
{
	char key[TPM2TOKEN_RECOVERY_LEN + 1], why[TPM2TOKEN_MSG_MAX];
	struct crypt_device *cd;
	int id, r;

	r = tpm2token_recovery_normalize(recovery_key, key);
	if (r < 0) {
		log_err(STAGE, "cannot activate '%s': the input is not a recovery key",
			dev);
		return r;
	}
	r = cd_load(dev, &cd);
	if (r < 0)
		goto out_wipe_key;
	r = unlock_recovery(cd, name, key, ret_vk, &id, why, sizeof(why));
	if (r < 0)
		log_err(STAGE, "cannot activate '%s' with the recovery key: %s",
			dev, why);
	crypt_free(cd);
	r = r < 0 ? r : 0;
out_wipe_key:
	explicit_bzero(key, sizeof(key));
	return r;
}

/* The failure path closes what it opened: the mapping and the key the
 * kernel holds for it. */
int luks_deactivate(const char *name)
{
	struct crypt_device *cd = NULL;
	int r;

	crypt_token_external_disable();
	crypt_metadata_locking(NULL, 0);
	r = crypt_init_by_name(&cd, name);
	if (r == 0)
		r = crypt_deactivate(cd, name);
	crypt_free(cd);
	if (r < 0)
		log_err(STAGE, "cannot close '/dev/mapper/%s': %s", name, strerror(-r));
	return r;
}

/* Whether a prompt for a recovery key can open dev at all: the usable
 * keyslots of its systemd-recovery tokens, counted without a passphrase. */
int luks_recovery_slots(const char *dev, unsigned *ret_count)
{
	int max = crypt_token_max(CRYPT_LUKS2), r;
	char why[TPM2TOKEN_MSG_MAX];
	struct crypt_device *cd;
	unsigned n = 0;

	r = cd_load(dev, &cd);
	if (r < 0)
		return r;
	for (int id = 0; id < max; id++) {
		if (!token_is(cd, id, "systemd-recovery"))
			continue;
		for (int slot = 0; slot < TPM2TOKEN_KEYSLOTS; slot++)
			if (crypt_token_is_assigned(cd, id, slot) == 0 &&
			    check_keyslot(cd, slot, why, sizeof(why)) == 0)
				n++;
	}
	crypt_free(cd);
	*ret_count = n;
	return 0;
}

/* ---- the volume key ---- */

static int get_volume_key(struct crypt_device *cd, int keyslot,
			  const char *pass, size_t len,
			  uint8_t key[LUKS_VOLUME_KEY_MAX], size_t *ret_len)
{
	size_t n = LUKS_VOLUME_KEY_MAX;
	int r, size = crypt_get_volume_key_size(cd);

	if (size <= 0 || size > LUKS_VOLUME_KEY_MAX)
		return -EMSGSIZE;
	r = crypt_volume_key_get(cd, keyslot, (char *)key, &n, pass, len);
	if (r == -EPERM)
		return -EKEYREJECTED;
	if (r < 0)
		return r;
	*ret_len = n;
	return 0;
}

int luks_volume_key(const char *dev, int keyslot, const char *passphrase,
		    uint8_t ret_key[LUKS_VOLUME_KEY_MAX], size_t *ret_len)
{
	uint8_t key[LUKS_VOLUME_KEY_MAX];
	char why[TPM2TOKEN_MSG_MAX];
	struct crypt_device *cd;
	size_t len, n = 0;
	int r;

	r = check_passphrase(passphrase, &len);
	if (r < 0) {
		log_err(STAGE, "cannot read the volume key of '%s': no usable passphrase",
			dev);
		return r;
	}
	r = cd_load(dev, &cd);
	if (r < 0)
		return r;
	r = check_keyslot(cd, keyslot, why, sizeof(why));
	if (r == 0) {
		r = get_volume_key(cd, keyslot, passphrase, len, key, &n);
		snprintf(why, sizeof(why), "keyslot %d: %s", keyslot,
			 r == -EMSGSIZE ? "volume key larger than expected" :
					  unlock_reason(r));
	}
	crypt_free(cd);
	if (r < 0) {
		log_err(STAGE, "cannot read the volume key of '%s': %s", dev, why);
		goto out_wipe_key;
	}
	memcpy(ret_key, key, n);
	*ret_len = n;
out_wipe_key:
	explicit_bzero(key, sizeof(key));
	return r;
}

/* ---- the EVM key's blob ---- */

/* The kernel's encrypted evm-key, as keyctl reads it: encrypted and
 * authenticated under a key only the volume key gives (evm.c), so it can
 * sit in the clear header, where it is read before anything is mounted.
 * A token with no keyslot: systemd's tools skip its type. */
static int evm_token(struct crypt_device *cd, int *ret_id, char *blob,
		     size_t size)
{
	int max = crypt_token_max(CRYPT_LUKS2);

	for (int id = 0; id < max; id++) {
		const char *json = NULL, *v;
		struct json_object *o, *f;
		int r = -EBADMSG;

		if (!token_is(cd, id, LUKS_EVM_TOKEN) ||
		    crypt_token_json_get(cd, id, &json) < 0 || !json)
			continue;
		o = json_tokener_parse(json);
		if (o && json_object_object_get_ex(o, LUKS_EVM_TOKEN "-blob", &f) &&
		    json_object_is_type(f, json_type_string)) {
			v = json_object_get_string(f);
			if (strlen(v) < size) {
				if (blob)
					strcpy(blob, v);
				r = 0;
			}
		}
		json_object_put(o);
		*ret_id = id;
		return r;
	}
	return -ENOENT;
}

int luks_evm_blob(const char *dev, char ret_blob[LUKS_EVM_BLOB_MAX])
{
	struct crypt_device *cd;
	int id, r;

	r = cd_load(dev, &cd);
	if (r < 0)
		return r;
	r = evm_token(cd, &id, ret_blob, LUKS_EVM_BLOB_MAX);
	crypt_free(cd);
	if (r == -EBADMSG)
		log_err(STAGE, "cannot read the EVM key of '%s': token %d is malformed",
			dev, id);
	return r;
}

int luks_evm_blob_save(const char *dev, const char *blob)
{
	char json[LUKS_EVM_BLOB_MAX + 96];
	struct crypt_device *cd;
	int id, r;

	if (strlen(blob) >= LUKS_EVM_BLOB_MAX || strpbrk(blob, "\"\\\n"))
		return -EINVAL;
	r = cd_load(dev, &cd);
	if (r < 0)
		return r;
	r = evm_token(cd, &id, NULL, LUKS_EVM_BLOB_MAX);
	if (r != -ENOENT) {
		crypt_free(cd);
		log_err(STAGE, "cannot save the EVM key of '%s': token %d holds one already",
			dev, id);
		return -EEXIST;
	}
	snprintf(json, sizeof(json), "{\"type\":\"%s\",\"keyslots\":[],\"%s-blob\":\"%s\"}",
		 LUKS_EVM_TOKEN, LUKS_EVM_TOKEN, blob);
	r = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
	crypt_free(cd);
	if (r < 0) {
		log_err(STAGE, "cannot save the EVM key of '%s': %s", dev, strerror(-r));
		return r;
	}
	return 0;
}

/* ---- provisioning: the header in memory ---- */

/* A memfd for the detached header, sized like the on-disk header area,
 * and the path libcryptsetup opens it by. */
static int header_memfd(char *path, size_t size)
{
	int fd = memfd_create("sealroot-luks-header", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, LUKS_HEADER_AREA) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	snprintf(path, size, "/proc/self/fd/%d", fd);
	return fd;
}

static int format_header(struct crypt_device *cd)
{
	struct crypt_params_luks2 params = {
		.pbkdf = &minimal_pbkdf,
		.data_alignment = LUKS_HEADER_AREA / SECTOR,
		.subsystem = LUKS_SUBSYSTEM_PROVISIONING,
	};

	crypt_set_rng_type(cd, CRYPT_RNG_RANDOM);
	return crypt_format(cd, CRYPT_LUKS2, "aes", "xts-plain64", NULL, NULL,
			    LUKS_VOLUME_KEY_SIZE, &params);
}

/* *token for keyslot slot, as a new token; returns its id. */
static int add_tpm_token(struct crypt_device *cd, const struct tpm2token *token,
			 int slot)
{
	char json[TPM2TOKEN_JSON_MAX];
	struct tpm2token t = *token;
	size_t len;
	int r;

	t.keyslot = (uint32_t)slot;
	r = tpm2token_format(&t, json, sizeof(json), &len);
	return r < 0 ? r : crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
}

/* The TPM keyslot and its token, keyslot filled in; returns the token id. */
static int add_tpm(struct crypt_device *cd,
		   const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
		   const struct tpm2token *token, int *ret_slot)
{
	char pass[TPM2TOKEN_PASSPHRASE_LEN + 1];
	int slot, r;

	r = tpm2token_passphrase(secret, pass);
	if (r < 0)
		goto out_wipe_pass;
	r = crypt_set_pbkdf_type(cd, &minimal_pbkdf);
	if (r < 0)
		goto out_wipe_pass;
	slot = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0,
					       pass, TPM2TOKEN_PASSPHRASE_LEN);
	r = slot;
	if (slot < 0)
		goto out_wipe_pass;
	r = add_tpm_token(cd, token, slot);
	if (r >= 0)
		*ret_slot = slot;
out_wipe_pass:
	explicit_bzero(pass, sizeof(pass));
	return r;
}

/* A recovery keyslot and its systemd-recovery token (systemd 252's JSON:
 * type and keyslots only); returns the token id. */
static int add_recovery(struct crypt_device *cd, const char *key,
			int *ret_slot)
{
	char json[RECOVERY_TOKEN_MAX];
	int slot, r;

	if (strnlen(key, TPM2TOKEN_RECOVERY_LEN + 1) != TPM2TOKEN_RECOVERY_LEN)
		return -EINVAL;
	r = crypt_set_pbkdf_type(cd, &minimal_pbkdf);
	if (r < 0)
		return r;
	slot = crypt_keyslot_add_by_volume_key(cd, CRYPT_ANY_SLOT, NULL, 0, key,
					       TPM2TOKEN_RECOVERY_LEN);
	if (slot < 0)
		return slot;
	snprintf(json, sizeof(json),
		 "{\"type\":\"systemd-recovery\",\"keyslots\":[\"%d\"]}", slot);
	r = crypt_token_json_set(cd, CRYPT_ANY_TOKEN, json);
	if (r >= 0)
		*ret_slot = slot;
	return r;
}

static int build_keys(struct crypt_device *cd,
		      const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
		      const struct tpm2token *token, const char *recovery_key,
		      struct luks_slots *s)
{
	int r;

	*s = (struct luks_slots){ .recovery_keyslot = -1, .recovery_token = -1 };
	r = add_tpm(cd, secret, token, &s->tpm_keyslot);
	if (r < 0)
		return r;
	s->tpm_token = r;
	if (!recovery_key)
		return 0;
	r = add_recovery(cd, recovery_key, &s->recovery_keyslot);
	if (r < 0)
		return r;
	s->recovery_token = r;
	return 0;
}

/* The complete header in a memfd (returned): nothing written to dev. The
 * volume key lives only in libcryptsetup's context, wiped by crypt_free. */
static int build_header(const char *dev,
			const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
			const struct tpm2token *token, const char *recovery_key,
			struct luks_slots *ret)
{
	struct crypt_device *cd = NULL;
	char path[32];
	int fd, r;

	fd = header_memfd(path, sizeof(path));
	if (fd < 0)
		return fd;
	r = cd_init(&cd, path, dev);
	if (r == 0)
		r = format_header(cd);
	if (r == 0)
		r = build_keys(cd, secret, token, recovery_key, ret);
	if (r == 0 && crypt_get_data_offset(cd) * SECTOR != LUKS_HEADER_AREA)
		r = -EPROTO;
	crypt_free(cd);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}

/* ---- provisioning: onto the device, in crash-safe order ---- */

static int write_at(int fd, const void *buf, size_t n, off_t off)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = pwrite(fd, (const char *)buf + done, n - done,
				   off + (off_t)done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		done += (size_t)k;
	}
	return 0;
}

static int copy_range(int dst, int src, off_t from, off_t to, uint8_t *buf)
{
	int r = 0;

	for (off_t off = from; off < to && r == 0; off += MIB) {
		size_t n = (size_t)(to - off < MIB ? to - off : MIB);

		r = read_at(src, buf, n, off);
		if (r == 0)
			r = write_at(dst, buf, n, off);
	}
	return r;
}

static int synced(int fd, enum luks_step step)
{
	if (fdatasync(fd) < 0)
		return -errno;
	return luks_step_hook ? luks_step_hook(step, fd) : 0;
}

static int write_marker(int fd)
{
	uint8_t marker[LUKS_MARKER_SIZE] = { 0 };
	int r;

	memcpy(marker, LUKS_MARKER, sizeof(LUKS_MARKER) - 1);
	r = write_at(fd, marker, sizeof(marker), 0);
	return r < 0 ? r : synced(fd, LUKS_STEP_MARKER);
}

static int write_header(int dev_fd, int hdr_fd)
{
	uint8_t *buf = malloc(MIB);
	int r;

	if (!buf)
		return -ENOMEM;
	r = write_marker(dev_fd);
	if (r == 0)
		r = copy_range(dev_fd, hdr_fd, SECTOR, LUKS_HEADER_AREA, buf);
	if (r == 0)
		r = synced(dev_fd, LUKS_STEP_BODY);
	if (r == 0)
		r = copy_range(dev_fd, hdr_fd, 0, SECTOR, buf);
	if (r == 0)
		r = synced(dev_fd, LUKS_STEP_HEADER);
	free(buf);
	return r;
}

/* Refuse what is not ours to format, and small devices, before any write. */
static int provision_check(const char *dev)
{
	struct luks_info info;
	off_t size;
	int fd, r;

	r = luks_classify(dev, &info);
	if (r < 0)
		return r;
	if (info.state == LUKS_READY || info.state == LUKS_FOREIGN) {
		log_err(STAGE, "cannot provision '%s': it holds %s%s", dev,
			info.what, info.state == LUKS_READY ?
				" marked ready: never formatted again" :
				", not blank: refusing to format it");
		return info.state == LUKS_READY ? -EEXIST : -EMEDIUMTYPE;
	}
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	size = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	r = size < 0 ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		log_err(STAGE, "cannot size '%s': %s", dev, strerror(-r));
		return r;
	}
	if (size < (off_t)LUKS_MIN_DEVICE) {
		log_err(STAGE, "cannot provision '%s': %lld bytes, less than %u",
			dev, (long long)size, LUKS_MIN_DEVICE);
		return -ENOSPC;
	}
	return 0;
}

/* The written header opens with the passphrase: read back, not trusted. */
static int verify(const char *dev, const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
		  int slot)
{
	char pass[TPM2TOKEN_PASSPHRASE_LEN + 1];
	struct crypt_device *cd;
	int r;

	r = cd_load(dev, &cd);
	if (r < 0)
		return r;
	r = tpm2token_passphrase(secret, pass);
	if (r == 0)
		r = unlock_slot(cd, NULL, slot, pass, TPM2TOKEN_PASSPHRASE_LEN, NULL);
	explicit_bzero(pass, sizeof(pass));
	crypt_free(cd);
	return r;
}

static int write_to_device(const char *dev, int hdr_fd)
{
	int fd, r;

	fd = open(dev, O_WRONLY | O_CLOEXEC | O_EXCL);
	if (fd < 0)
		return -errno;
	r = write_header(fd, hdr_fd);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int luks_provision(const char *dev, const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
		   const struct tpm2token *token, const char *recovery_key,
		   struct luks_slots *ret)
{
	struct luks_slots slots;
	int hdr_fd, r;

	r = provision_check(dev);
	if (r < 0)
		return r;
	hdr_fd = build_header(dev, secret, token, recovery_key, &slots);
	if (hdr_fd < 0) {
		log_err(STAGE, "cannot build the LUKS2 header for '%s': %s", dev,
			strerror(-hdr_fd));
		return hdr_fd;
	}
	r = luks_step_hook ? luks_step_hook(LUKS_STEP_BUILT, hdr_fd) : 0;
	if (r == 0)
		r = write_to_device(dev, hdr_fd);
	close(hdr_fd);
	if (r < 0) {
		log_err(STAGE, "cannot write the LUKS2 header to '%s': %s", dev,
			strerror(-r));
		return r;
	}
	r = verify(dev, secret, slots.tpm_keyslot);
	if (r < 0) {
		log_err(STAGE, "cannot verify the new header of '%s': %s", dev,
			unlock_reason(r));
		return r;
	}
	*ret = slots;
	return 0;
}

/* ---- ready, repair ---- */

static int set_ready(struct crypt_device *cd)
{
	char label[LABEL_LEN] = "";
	const char *l = crypt_get_label(cd);

	/* crypt_set_label clears the label before copying the new one. */
	if (l)
		snprintf(label, sizeof(label), "%s", l);
	return crypt_set_label(cd, label, LUKS_SUBSYSTEM_READY);
}

static int ready_check(const char *dev)
{
	struct luks_info info;
	int r = luks_classify(dev, &info);

	if (r < 0)
		return r;
	if (info.state == LUKS_READY)
		return 1;
	if (info.state == LUKS_PROVISIONING && info.interrupted) {
		log_err(STAGE, "cannot mark '%s' ready: its provisioning was interrupted",
			dev);
		return -ESTALE;
	}
	if (info.state != LUKS_PROVISIONING) {
		log_err(STAGE, "cannot mark '%s' ready: it holds %s", dev,
			info.what);
		return info.state == LUKS_BLANK ? -ENOENT : -EMEDIUMTYPE;
	}
	return 0;
}

int luks_mark_ready(const char *dev)
{
	struct crypt_device *cd;
	int r;

	r = ready_check(dev);
	if (r != 0)
		return r < 0 ? r : 0;
	r = cd_load(dev, &cd);
	if (r < 0)
		return r;
	r = set_ready(cd);
	crypt_free(cd);
	if (r < 0)
		log_err(STAGE, "cannot mark '%s' ready: %s", dev, strerror(-r));
	return r;
}

int luks_repair(const char *dev)
{
	struct crypt_device *cd = NULL;
	struct luks_info info;
	int r;

	r = luks_classify(dev, &info);
	if (r < 0 || info.consistent)
		return r;
	if (!info.luks2 || info.interrupted) {
		log_err(STAGE, "cannot repair '%s': it holds %s", dev, info.what);
		return -EMEDIUMTYPE;
	}
	r = cd_init(&cd, NULL, dev);
	if (r == 0)
		r = crypt_repair(cd, CRYPT_LUKS2, NULL);
	crypt_free(cd);
	if (r == 0)
		r = luks_classify(dev, &info);
	if (r == 0 && !info.consistent)
		r = -EUCLEAN;
	if (r < 0)
		log_err(STAGE, "cannot repair '%s': %s", dev, strerror(-r));
	return r;
}

/* ---- re-sealing ---- */

/* Any LUKS2 header the open paths take, ours or one systemd's tools
 * enrolled: only keyslots and tokens change. The new token must format
 * before anything is written (it is written after its keyslot). */
static int reseal_check(const char *dev, const struct tpm2token *token)
{
	char json[TPM2TOKEN_JSON_MAX];
	struct tpm2token t = *token;
	struct luks_info info;
	size_t len;
	int r;

	r = luks_classify(dev, &info);
	if (r < 0)
		return r;
	if (!info.luks2 || info.interrupted) {
		log_err(STAGE, "cannot re-seal '%s': it holds %s, not a LUKS2 header",
			dev, info.what);
		return -EMEDIUMTYPE;
	}
	t.keyslot = 0;
	r = tpm2token_format(&t, json, sizeof(json), &len);
	if (r < 0)
		log_err(STAGE, "cannot re-seal '%s': the new token cannot be written: %s",
			dev, strerror(-r));
	return r;
}

static int reseal_step(enum luks_step step, char *why, size_t size)
{
	int r = luks_step_hook ? luks_step_hook(step, -1) : 0;

	if (r < 0)
		snprintf(why, size, "stopped after step %d", (int)step);
	return r;
}

/* A keyslot for the passphrase of secret at systemd's minimal PBKDF, the
 * volume key taken from recovery keyslot rslot (checked: unlock_recovery)
 * inside libcryptsetup. Not crypt_keyslot_add_by_passphrase: it would
 * try the key on every keyslot, also one converted offline to a
 * memory-hard KDF (see LUKS_PBKDF2_ITER_MAX). */
static int add_keyslot(struct crypt_device *cd, int rslot, const char *key,
		       const uint8_t secret[TPM2TOKEN_SECRET_SIZE])
{
	struct crypt_keyslot_context *old_kc = NULL, *new_kc = NULL;
	char pass[TPM2TOKEN_PASSPHRASE_LEN + 1];
	int r;

	r = tpm2token_passphrase(secret, pass);
	if (r == 0)
		r = crypt_set_pbkdf_type(cd, &minimal_pbkdf);
	if (r == 0)
		r = crypt_keyslot_context_init_by_passphrase(
			cd, key, TPM2TOKEN_RECOVERY_LEN, &old_kc);
	if (r == 0)
		r = crypt_keyslot_context_init_by_passphrase(
			cd, pass, TPM2TOKEN_PASSPHRASE_LEN, &new_kc);
	if (r == 0)
		r = crypt_keyslot_add_by_keyslot_context(cd, rslot, old_kc,
							 CRYPT_ANY_SLOT, new_kc, 0);
	crypt_keyslot_context_free(new_kc);
	crypt_keyslot_context_free(old_kc);
	explicit_bzero(pass, sizeof(pass));
	return r;
}

/* The recovery key opens a recovery keyslot (nothing written before),
 * then the new keyslot, then its token: one header write each. A token
 * that cannot be written takes its keyslot back out. */
static int reseal_add(struct crypt_device *cd, const char *key,
		      const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
		      const struct tpm2token *token, struct luks_slots *s,
		      char *why, size_t size)
{
	int r;

	r = unlock_recovery(cd, NULL, key, NULL, &s->recovery_token, why, size);
	if (r < 0)
		return r;
	s->recovery_keyslot = r;
	r = add_keyslot(cd, s->recovery_keyslot, key, secret);
	if (r < 0) {
		snprintf(why, size, "cannot add a keyslot: %s", strerror(-r));
		return r;
	}
	s->tpm_keyslot = r;
	r = reseal_step(LUKS_STEP_RESEAL_KEYSLOT, why, size);
	if (r < 0)
		return r;
	r = add_tpm_token(cd, token, s->tpm_keyslot);
	if (r < 0) {
		snprintf(why, size, "cannot add the token of keyslot %d: %s",
			 s->tpm_keyslot, strerror(-r));
		crypt_keyslot_destroy(cd, s->tpm_keyslot);
		return r;
	}
	s->tpm_token = r;
	return 0;
}

/* Read back from the device: the new token is the one written and
 * usable (check_token), the new passphrase opens its keyslot. */
static int reseal_verify(struct crypt_device *cd,
			 const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
			 const struct tpm2token *token,
			 const struct luks_slots *s, char *why, size_t size)
{
	char pass[TPM2TOKEN_PASSPHRASE_LEN + 1];
	struct tpm2token t, want = *token;
	int r;

	want.keyslot = (uint32_t)s->tpm_keyslot;
	r = check_token(cd, s->tpm_token, &t, why, size);
	if (r == 0 && !tpm2token_equal(&t, &want)) {
		snprintf(why, size, "token %d reads back different", s->tpm_token);
		r = -EIO;
	}
	if (r < 0)
		return r;
	r = tpm2token_passphrase(secret, pass);
	if (r == 0)
		r = unlock_slot(cd, NULL, s->tpm_keyslot, pass,
				TPM2TOKEN_PASSPHRASE_LEN, NULL);
	explicit_bzero(pass, sizeof(pass));
	if (r < 0)
		snprintf(why, size, "new keyslot %d: %s", s->tpm_keyslot,
			 unlock_reason(r));
	return r;
}

/* A keyslot some token still names: a recovery key's, the new TPM
 * token's, anyone else's. Never destroyed. */
static bool slot_named(struct crypt_device *cd, int slot)
{
	int max = crypt_token_max(CRYPT_LUKS2);

	for (int id = 0; id < max; id++)
		if (crypt_token_is_assigned(cd, id, slot) == 0)
			return true;
	return false;
}

/* One old systemd-tpm2 token, then each of its keyslots that no token
 * names any more. Token first: a cut in between leaves a keyslot no
 * token names (its passphrase sealed in the token gone), never a token
 * whose keyslot is gone. */
static int remove_old(struct crypt_device *cd, int id,
		      const struct luks_slots *s)
{
	uint32_t slots = 0;
	int r;

	for (int slot = 0; slot < TPM2TOKEN_KEYSLOTS; slot++)
		if (crypt_token_is_assigned(cd, id, slot) == 0)
			slots |= UINT32_C(1) << slot;
	r = crypt_token_json_set(cd, id, NULL);
	for (int slot = 0; slot < TPM2TOKEN_KEYSLOTS && r >= 0; slot++)
		if (slots & UINT32_C(1) << slot && slot != s->tpm_keyslot &&
		    slot != s->recovery_keyslot && !slot_named(cd, slot))
			r = crypt_keyslot_destroy(cd, slot);
	return r < 0 ? r : 0;
}

/* Every systemd-tpm2 token but the new one, parsed or not: a re-seal
 * replaces the TPM enrollment, as systemd-cryptenroll --wipe-slot=tpm2. */
static int remove_old_tokens(struct crypt_device *cd,
			     const struct luks_slots *s, char *why, size_t size)
{
	int max = crypt_token_max(CRYPT_LUKS2), r = 0;

	for (int id = 0; id < max && r == 0; id++) {
		if (id == s->tpm_token || !token_is(cd, id, "systemd-tpm2"))
			continue;
		r = remove_old(cd, id, s);
		if (r < 0)
			snprintf(why, size, "cannot remove the old token %d: %s",
				 id, strerror(-r));
	}
	return r;
}

/* The header as written, checked, then the old TPM tokens out. */
static int reseal_finish(const char *dev,
			 const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
			 const struct tpm2token *token,
			 const struct luks_slots *s, char *why, size_t size)
{
	struct crypt_device *cd;
	int r;

	r = cd_load(dev, &cd);
	if (r < 0) {
		snprintf(why, size, "cannot load the header written");
		return r;
	}
	r = reseal_verify(cd, secret, token, s, why, size);
	if (r == 0)
		r = remove_old_tokens(cd, s, why, size);
	crypt_free(cd);
	return r;
}

int luks_reseal(const char *dev, const char *recovery_key,
		const uint8_t secret[TPM2TOKEN_SECRET_SIZE],
		const struct tpm2token *token, struct luks_slots *ret)
{
	char key[TPM2TOKEN_RECOVERY_LEN + 1], why[TPM2TOKEN_MSG_MAX];
	struct luks_slots s = { .tpm_keyslot = -1, .tpm_token = -1,
				.recovery_keyslot = -1, .recovery_token = -1 };
	struct crypt_device *cd;
	int r;

	r = reseal_check(dev, token);
	if (r < 0)
		return r;
	r = tpm2token_recovery_normalize(recovery_key, key);
	if (r < 0) {
		log_err(STAGE, "cannot re-seal '%s': the input is not a recovery key",
			dev);
		return r;
	}
	r = cd_load(dev, &cd);
	if (r < 0)
		goto out_wipe_key;
	r = reseal_add(cd, key, secret, token, &s, why, sizeof(why));
	crypt_free(cd);
	if (r == 0)
		r = reseal_step(LUKS_STEP_RESEAL_TOKEN, why, sizeof(why));
	if (r == 0)
		r = reseal_finish(dev, secret, token, &s, why, sizeof(why));
	if (r < 0) {
		log_err(STAGE, "cannot re-seal '%s': %s", dev, why);
		goto out_wipe_key;
	}
	*ret = s;
out_wipe_key:
	explicit_bzero(key, sizeof(key));
	return r;
}
