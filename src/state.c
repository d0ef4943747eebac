#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "luks.h"
#include "state.h"
#include "tpm2token.h"
#include "util.h"

#define STAGE "state"

extern char **environ;

/* The token keeps the sealed object's two parts apart; tpm.c takes them
 * joined, as "tpm2-blob" holds them (tpm2token_blob_join/split). */
_Static_assert(TPM_BLOB_MAX >= TPM2TOKEN_BLOB_MAX, "a token's blob fits a tpm_blob");

/* ---- provisioning ---- */

/* sealroot's primary: systemd 252's template, persisted at
 * TPM_PRIMARY_HANDLE so that a normal boot creates none. After a power
 * cut during provisioning the handle may hold it already: used only if
 * it is the very key the template gives (same name). */
static int primary_persisted(struct tpm *t, ESYS_TR *ret, struct tpm_name *ret_name)
{
	ESYS_TR transient = ESYS_TR_NONE, h = ESYS_TR_NONE;
	struct tpm_name name;
	int r;

	r = tpm_primary_create(t, &transient, &name);
	if (r < 0)
		return r;
	r = tpm_primary_persist(t, transient, TPM_PRIMARY_HANDLE, &h);
	if (r == -EEXIST) {
		log_info(STAGE, "handle 0x%08x holds a key already: using it if it is sealroot's primary",
			 TPM_PRIMARY_HANDLE);
		r = tpm_primary_open_persistent(t, TPM_PRIMARY_HANDLE, &name, &h);
	}
	tpm_handle_release(t, &transient);
	if (r < 0)
		return r;
	*ret = h;
	*ret_name = name;
	return 0;
}

/* The values sealed to, recorded in the token for the diagnosis of a
 * later failed unseal, only if they give the policy the TPM computed
 * (a PCR outside 7 may move between the seal and this read). */
static void record_pcr_values(struct tpm *t, struct tpm2token *tok)
{
	static uint8_t values[TPM_PCR_COUNT][TPM_DIGEST_SIZE];
	uint8_t cat[TPM_PCR_COUNT * TPM_DIGEST_SIZE], digest[TPM_DIGEST_SIZE];
	size_t n = 0;

	if (tpm_pcr_read(t, tok->pcr_mask, values) < 0)
		return;
	for (unsigned pcr = 0; pcr < TPM_PCR_COUNT; pcr++)
		if (tok->pcr_mask & (1u << pcr)) {
			memcpy(cat + n, values[pcr], TPM_DIGEST_SIZE);
			n += TPM_DIGEST_SIZE;
		}
	if (tpm2token_policy_pcr(TPM2TOKEN_ALG_SHA256, tok->pcr_mask, cat, n, digest) < 0 ||
	    memcmp(digest, tok->policy_hash, TPM_DIGEST_SIZE))
		return;
	memcpy(tok->pcr_values, values, sizeof(tok->pcr_values));
	tok->has_pcr_values = true;
}

/* A fresh secret sealed to the PCRs of mask, as a systemd-tpm2 token
 * (its keyslot is filled in by luks_provision). */
static int seal_token(struct tpm *t, uint32_t mask, struct tpm2token *tok,
		      uint8_t secret[TPM_SECRET_SIZE])
{
	static struct tpm_blob blob;
	ESYS_TR primary = ESYS_TR_NONE;
	struct tpm_name name;
	int r;

	r = primary_persisted(t, &primary, &name);
	if (r < 0)
		return r;
	memset(tok, 0, sizeof(*tok));
	r = tpm_seal(t, primary, mask, &blob, tok->policy_hash, secret);
	tpm_handle_release(t, &primary);
	if (r == 0) {
		char msg[TPM2TOKEN_MSG_MAX];

		r = tpm2token_blob_split(blob.bytes, blob.size, tok, msg);
		if (r < 0)
			log_err(STAGE, "cannot use the sealed object: %s", msg);
	}
	if (r == 0 && name.size != TPM2TOKEN_NAME_SIZE)
		r = -EPROTO;
	if (r < 0) {
		explicit_bzero(secret, TPM_SECRET_SIZE);
		return r;
	}
	tok->pcr_mask = mask;
	tok->pcr_bank = TPM2TOKEN_ALG_SHA256;
	tok->primary_alg = TPM2TOKEN_ALG_ECC;
	tok->primary_handle = TPM_PRIMARY_HANDLE;
	memcpy(tok->primary_name, name.bytes, TPM2TOKEN_NAME_SIZE);
	record_pcr_values(t, tok);
	return 0;
}

/* 32 bytes of the kernel's RNG (seeded: we wait for it), not the TPM's:
 * GetRandom answers in the clear on the bus. */
static int make_recovery_key(char key[TPM2TOKEN_RECOVERY_LEN + 1])
{
	uint8_t raw[TPM2TOKEN_RECOVERY_SIZE];
	size_t got = 0;
	int r = 0;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			log_err(STAGE, "cannot make a recovery key: getrandom: %s",
				strerror(-r));
			goto out_wipe;
		}
		got += (size_t)n;
	}
	r = tpm2token_recovery_format(raw, key);
out_wipe:
	explicit_bzero(raw, sizeof(raw));
	return r;
}

/* mke2fs on the open mapping: ext4 with the built-in defaults (no
 * mke2fs.conf in the initramfs), lazy init so a large volume is quick. */
static int make_fs(const char *name, const char *fsuuid)
{
	char dev[80], uuid[40];
	bool u = fsuuid && *fsuuid;
	char *const argv[] = { STATE_MKE2FS, "-q", "-F", "-t", "ext4", "-E",
			       "lazy_itable_init=1,lazy_journal_init=1",
			       u ? "-U" : dev, u ? uuid : NULL, dev, NULL };
	int status = 0, fd;
	pid_t pid;

	snprintf(dev, sizeof(dev), "/dev/mapper/%s", name);
	snprintf(uuid, sizeof(uuid), "%s", fsuuid ? fsuuid : "");
	pid = fork();
	if (pid < 0) {
		log_err(STAGE, "cannot run '%s': fork: %s", STATE_MKE2FS, strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		execve(argv[0], argv, environ);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		log_err(STAGE, "cannot make a file system on '%s': %s exited with %d%s",
			dev, STATE_MKE2FS, WEXITSTATUS(status),
			WEXITSTATUS(status) == 127 ? " (not packed? mkinitramfs packs it with 'state')" : "");
	else
		log_err(STAGE, "cannot make a file system on '%s': %s killed by signal %d",
			dev, STATE_MKE2FS, WTERMSIG(status));
	return -EIO;
}

/* Shown once, on the console only: never to kmsg, which the booted
 * system's journal keeps on disk. */
static void show_recovery_key(const char *dev, const char *key)
{
	dprintf(STDOUT_FILENO,
		"\nsealroot: state: the recovery key of '%s' (shown once, write it down):\n\n"
		"    %s\n\n"
		"sealroot: state: it opens the volume when the TPM does not (PCR 7 changed, TPM replaced);\n"
		"sealroot: state: systemd-cryptsetup accepts it as well.\n\n", dev, key);
}

static int provision(struct tpm *t, const struct state_req *req)
{
	char pass[TPM2TOKEN_PASSPHRASE_LEN + 1], rkey[TPM2TOKEN_RECOVERY_LEN + 1];
	uint8_t secret[TPM_SECRET_SIZE];
	static struct tpm2token tok;
	struct luks_slots slots;
	int r;

	if (!t) {
		log_err(STAGE, "cannot provision '%s': no TPM to seal its key to", req->dev);
		return -ENODEV;
	}
	log_notice(STAGE, "provisioning '%s': LUKS2 sealed to PCR mask 0x%06x",
		   req->dev, req->pcr_mask);
	r = seal_token(t, req->pcr_mask, &tok, secret);
	if (r < 0)
		return r;
	rkey[0] = 0;
	if (req->show_recovery)
		r = make_recovery_key(rkey);
	if (r == 0)
		r = luks_provision(req->dev, secret, &tok, rkey[0] ? rkey : NULL, &slots);
	if (r == 0) {
		log_info(STAGE, "'%s': LUKS2 header written (marked provisioning), making the file system",
			 req->dev);
		r = tpm2token_passphrase(secret, pass);
	}
	explicit_bzero(secret, sizeof(secret));
	if (r == 0)
		r = luks_open(req->dev, req->name, slots.tpm_keyslot, pass, req->vk);
	explicit_bzero(pass, sizeof(pass));
	if (r == 0)
		r = make_fs(req->name, req->fsuuid);
	if (r == 0)
		log_info(STAGE, "'%s': file system made%s%s; the volume is marked ready after EVM, IMA and personalization",
			 req->dev, req->fsuuid && *req->fsuuid ? ", UUID " : "",
			 req->fsuuid ? req->fsuuid : "");
	if (r == 0 && rkey[0])
		show_recovery_key(req->dev, rkey);
	explicit_bzero(rkey, sizeof(rkey));
	if (r == 0)
		log_notice(STAGE, "provisioned '%s': keyslot %d, token %d%s", req->dev,
			   slots.tpm_keyslot, slots.tpm_token,
			   slots.recovery_keyslot >= 0 ? ", recovery keyslot" : "");
	return r;
}

/* ---- unlocking ---- */

static void diag_fill(struct tpm *t, const struct tpm2token *tok, int err,
		      struct state_diag *diag)
{
	memset(diag, 0, sizeof(*diag));
	diag->err = err;
	diag->pcr_mask = tok->pcr_mask;
	memcpy(diag->policy, tok->policy_hash, sizeof(diag->policy));
	if (t && err == -EPERM)
		diag->have_now = tpm_pcr_read(t, tok->pcr_mask, diag->now) == 0;
	if (tok->has_pcr_values) {
		memcpy(diag->sealed, tok->pcr_values, sizeof(diag->sealed));
		diag->have_sealed = true;
	}
}

/* The parent of tok's blob: sealroot's persistent primary if the token
 * records one (checked by name), else systemd 252's, made again. */
static int token_parent(struct tpm *t, const struct tpm2token *tok, ESYS_TR *ret)
{
	struct tpm_name name = { .size = TPM2TOKEN_NAME_SIZE };

	if (!tok->primary_handle) {
		struct tpm_name made;

		return tpm_primary_create(t, ret, &made);
	}
	memcpy(name.bytes, tok->primary_name, TPM2TOKEN_NAME_SIZE);
	return tpm_primary_open_persistent(t, tok->primary_handle, &name, ret);
}

static int unseal_token(struct tpm *t, const struct tpm2token *tok,
			uint8_t secret[TPM_SECRET_SIZE])
{
	static struct tpm_blob blob;
	ESYS_TR parent = ESYS_TR_NONE;
	int r;

	if (tok->pcr_bank != TPM2TOKEN_ALG_SHA256 || tok->primary_alg != TPM2TOKEN_ALG_ECC ||
	    tok->pin) {
		log_err(STAGE, "cannot use the token: only SHA-256 PCRs, an ECC primary and no PIN are supported");
		return -EOPNOTSUPP;
	}
	r = token_parent(t, tok, &parent);
	if (r < 0)
		return r;
	blob.size = tpm2token_blob_join(tok, blob.bytes);
	r = tpm_unseal(t, parent, &blob, tok->pcr_mask, tok->policy_hash, secret);
	tpm_handle_release(t, &parent);
	return r;
}

static int open_token(struct tpm *t, const struct state_req *req,
		      const struct tpm2token *tok, uint64_t ret_ms[2])
{
	char pass[TPM2TOKEN_PASSPHRASE_LEN + 1];
	uint8_t secret[TPM_SECRET_SIZE];
	uint64_t start = now_ms();
	int r;

	r = unseal_token(t, tok, secret);
	if (r < 0)
		return r;
	ret_ms[0] = now_ms() - start;
	r = tpm2token_passphrase(secret, pass);
	explicit_bzero(secret, sizeof(secret));
	if (r == 0)
		r = luks_open(req->dev, req->name, (int)tok->keyslot, pass, req->vk);
	explicit_bzero(pass, sizeof(pass));
	ret_ms[1] = now_ms() - start - ret_ms[0];
	return r;
}

/* Tokens in order, as systemd does: a policy mismatch (another PCR
 * state's token) moves on to the next, anything else stops. */
static int unlock(struct tpm *t, const struct state_req *req,
		  struct state_diag *diag)
{
	static struct tpm2token tok;
	uint64_t ms[2] = { 0, 0 };
	int id = -1, first = 0, r;

	for (;;) {
		r = luks_tpm2_token(req->dev, id + 1, &tok, &id);
		if (r < 0)
			return first ? first : r;
		if (!t) {
			log_err(STAGE, "cannot unseal token %d of '%s': no TPM", id, req->dev);
			r = -ENODEV;
		} else {
			r = open_token(t, req, &tok, ms);
		}
		if (r == 0) {
			log_info(STAGE, "unsealed token %d of '%s' (keyslot %u): unseal %llu ms, activation %llu ms",
				 id, req->dev, tok.keyslot, (unsigned long long)ms[0],
				 (unsigned long long)ms[1]);
			return 0;
		}
		log_err(STAGE, "token %d of '%s' did not open it: %s", id, req->dev,
			r == -EPERM ? "the PCRs are not as sealed" : strerror(-r));
		if (!first)
			diag_fill(t, &tok, r, diag);
		first = first ? first : r;
		if (r != -EPERM)
			return r;
	}
}

int state_open(struct tpm *t, const struct state_req *req,
	       bool *ret_provisioned, struct state_diag *diag)
{
	struct luks_info info;
	int r;

	memset(diag, 0, sizeof(*diag));
	r = luks_classify(req->dev, &info);
	if (r < 0)
		return r;
	switch (info.state) {
	case LUKS_BLANK:
	case LUKS_PROVISIONING:
		if (info.state == LUKS_PROVISIONING)
			log_notice(STAGE, "'%s': an interrupted provisioning, done again", req->dev);
		r = provision(t, req);
		if (r == 0)
			*ret_provisioned = true;
		return r;
	case LUKS_READY:
		break;
	case LUKS_FOREIGN:
		if (info.luks2)
			break;
		log_err(STAGE, "cannot use '%s': it holds %s, not a state volume: refused and left untouched (erase it to have it provisioned)",
			req->dev, info.what);
		return -EMEDIUMTYPE;
	}
	r = unlock(t, req, diag);
	if (r == 0)
		*ret_provisioned = false;
	return r;
}

int state_mark_ready(const struct state_req *req)
{
	int r = luks_mark_ready(req->dev);

	if (r == 0)
		log_notice(STAGE, "'%s' is ready: later boots open it, never format it", req->dev);
	return r;
}

int state_reseal(struct tpm *t, const struct state_req *req,
		 const char *recovery_key)
{
	uint8_t secret[TPM_SECRET_SIZE];
	static struct tpm2token tok;
	struct luks_slots slots;
	int r;

	r = seal_token(t, req->pcr_mask, &tok, secret);
	if (r < 0)
		return r;
	r = luks_reseal(req->dev, recovery_key, secret, &tok, &slots);
	explicit_bzero(secret, sizeof(secret));
	return r;
}

bool state_recoverable(int err)
{
	return err == -ENODEV || err == -EPERM || err == -ENOLCK ||
	       err == -EBADMSG || err == -EKEYREJECTED || err == -ENOENT ||
	       err == -EOPNOTSUPP;
}

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

void state_log_diag(const struct state_diag *d)
{
	char now[2 * TPM_DIGEST_SIZE + 1], sealed[2 * TPM_DIGEST_SIZE + 1];

	if (d->err != -EPERM)
		return;
	hex(d->policy, TPM_DIGEST_SIZE, now);
	log_err(STAGE, "the TPM refused: the PCRs are not in the state the key was sealed to (token policy %s)",
		now);
	for (unsigned pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
		if (!(d->pcr_mask & (1u << pcr)))
			continue;
		snprintf(now, sizeof(now), "unknown");
		snprintf(sealed, sizeof(sealed), "not recorded");
		if (d->have_now)
			hex(d->now[pcr], TPM_DIGEST_SIZE, now);
		if (d->have_sealed)
			hex(d->sealed[pcr], TPM_DIGEST_SIZE, sealed);
		log_err(STAGE, "PCR %u: expected %s, read %s%s", pcr, sealed, now,
			pcr == 7 ? " (PCR 7: the Secure Boot state: enabled? same db, dbx, keys?)" : "");
	}
}
