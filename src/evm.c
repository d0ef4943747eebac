#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "evm.h"
#include "keys.h"
#include "log.h"

#define STAGE "evm"
#define SHA256_SIZE 32
#define BLOB_PREFIX "default user:" EVM_KMK_DESC " 64 "

_Static_assert(EVM_KEY_LEN == 64, "BLOB_PREFIX spells the key length");

static int hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *a,
		       size_t a_len, const uint8_t *b, size_t b_len,
		       uint8_t out[SHA256_SIZE])
{
	uint8_t in[SHA256_SIZE + 128 + 1];
	unsigned n = 0;
	int r = 0;

	if (a_len + b_len > sizeof(in))
		return -EINVAL;
	memcpy(in, a, a_len);
	memcpy(in + a_len, b, b_len);
	if (!HMAC(EVP_sha256(), key, (int)key_len, in, a_len + b_len, out, &n) ||
	    n != SHA256_SIZE)
		r = -EIO;
	explicit_bzero(in, sizeof(in));
	return r;
}

/* Extract then expand; T(i) = HMAC(PRK, T(i-1) | info | i). */
int evm_hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
		    size_t salt_len, const char *info, uint8_t *out,
		    size_t out_len)
{
	static const uint8_t zeros[SHA256_SIZE];
	uint8_t prk[SHA256_SIZE], t[SHA256_SIZE], tail[128 + 1];
	size_t info_len = strlen(info), done = 0, t_len = 0;
	unsigned n = 0;
	int r = 0;

	if (out_len > 255 * SHA256_SIZE || info_len > 128)
		return -EINVAL;
	if (!salt_len)
		salt = zeros, salt_len = sizeof(zeros);
	if (!HMAC(EVP_sha256(), salt, (int)salt_len, ikm, ikm_len, prk, &n))
		return -EIO;
	for (uint8_t i = 1; done < out_len && r == 0; i++) {
		memcpy(tail, info, info_len);
		tail[info_len] = i;
		r = hmac_sha256(prk, sizeof(prk), t, t_len, tail, info_len + 1, t);
		t_len = sizeof(t);
		if (r == 0) {
			size_t k = out_len - done < sizeof(t) ? out_len - done : sizeof(t);

			memcpy(out + done, t, k);
			done += k;
		}
	}
	explicit_bzero(prk, sizeof(prk));
	explicit_bzero(t, sizeof(t));
	if (r < 0)
		explicit_bzero(out, out_len);
	return r;
}

int evm_derive_kmk(const uint8_t *vk, size_t vk_len, uint8_t ret_kmk[EVM_KMK_SIZE])
{
	if (vk_len < 32)
		return -EINVAL;
	return evm_hkdf_sha256(vk, vk_len, NULL, 0, EVM_HKDF_INFO, ret_kmk,
			       EVM_KMK_SIZE);
}

bool evm_blob_valid(const char *blob)
{
	size_t n = strlen(BLOB_PREFIX), hex;

	if (strncmp(blob, BLOB_PREFIX, n))
		return false;
	hex = strspn(blob + n, "0123456789abcdef");
	return hex >= 2 * (16 + EVM_KEY_LEN) && hex % 2 == 0 && !blob[n + hex] &&
	       n + hex < EVM_BLOB_MAX;
}

/* The kernel makes the key (its RNG) and gives it back only sealed. */
static int make_key(char blob[EVM_BLOB_MAX], int32_t *ret_id)
{
	static const char cmd[] = "new default user:" EVM_KMK_DESC " 64";
	size_t len = 0;
	int r;

	r = keys_add("encrypted", EVM_KEY_DESC, cmd, sizeof(cmd) - 1, KEYS_PROCESS, ret_id);
	if (r < 0) {
		log_err(STAGE, "cannot make the EVM key: %s", strerror(-r));
		return r;
	}
	r = keys_read(*ret_id, blob, EVM_BLOB_MAX - 1, &len);
	if (r == 0) {
		blob[len] = 0;
		blob[strcspn(blob, "\n")] = 0;
		if (!evm_blob_valid(blob))
			r = -EBADMSG;
	}
	if (r < 0)
		log_err(STAGE, "cannot read back the new EVM key's blob: %s", strerror(-r));
	return r;
}

static int load_key(const char *blob, int32_t *ret_id)
{
	static char cmd[EVM_BLOB_MAX + 8];
	int r;

	if (!evm_blob_valid(blob)) {
		log_err(STAGE, "cannot load the EVM key: its blob in the volume header is malformed");
		return -EBADMSG;
	}
	snprintf(cmd, sizeof(cmd), "load %s", blob);
	r = keys_add("encrypted", EVM_KEY_DESC, cmd, strlen(cmd), KEYS_PROCESS, ret_id);
	if (r == -EINVAL)
		r = -EKEYREJECTED;
	if (r < 0)
		log_err(STAGE, "cannot load the EVM key: %s", r == -EKEYREJECTED ?
			"its blob does not open with this volume's key (another volume's, or damaged)" :
			strerror(-r));
	return r;
}

int evm_keys_load(const uint8_t kmk[EVM_KMK_SIZE], char blob[EVM_BLOB_MAX],
		  bool *ret_created, struct evm_keys *ret_keys)
{
	struct evm_keys k = { 0, 0 };
	int r;

	r = keys_add("user", EVM_KMK_DESC, kmk, EVM_KMK_SIZE, KEYS_PROCESS, &k.kmk);
	if (r < 0) {
		log_err(STAGE, "cannot load the EVM master key: %s", strerror(-r));
		return r;
	}
	*ret_created = !blob[0];
	r = blob[0] ? load_key(blob, &k.key) : make_key(blob, &k.key);
	if (r < 0) {
		evm_keys_drop(&k);
		return r;
	}
	*ret_keys = k;
	return 0;
}

void evm_keys_drop(struct evm_keys *keys)
{
	keys_drop(keys->key, KEYS_PROCESS);
	keys_drop(keys->kmk, KEYS_PROCESS);
	keys->key = keys->kmk = 0;
}

static int write_bits(const char *secfs, unsigned bits)
{
	char v[16];
	int fd, n, r = 0;

	fd = open(secfs, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(v, sizeof(v), "%u", bits);
	if (write(fd, v, (size_t)n) != n)
		r = -errno;
	close(fd);
	return r;
}

static int read_bits(const char *secfs, unsigned *ret)
{
	char v[24] = "";
	char *end;
	int fd;
	ssize_t n;

	fd = open(secfs, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, v, sizeof(v) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	v[n] = 0;
	errno = 0;
	*ret = (unsigned)strtoul(v, &end, 10);
	return errno || end == v ? -EBADMSG : 0;
}

/* With the HMAC key loaded, the kernel asks each LSM for a new inode's
 * security attribute and hands the first to EVM. Before Linux 6.6 the
 * BPF LSM answers "done" without naming one, and EVM dereferences the
 * missing name: the first file created on the state volume oopses the
 * kernel (seen on Debian's 6.1). Refused here, with the fix. */
bool evm_lsm_conflict(const char *lsm_list, const char *release)
{
	unsigned major = 0, minor = 0;
	const char *p = lsm_list;
	size_t n;

	if (sscanf(release, "%u.%u", &major, &minor) != 2 || major > 6 ||
	    (major == 6 && minor >= 6))
		return false;
	while (*p) {
		n = strcspn(p, ",\n");
		if (n == 3 && !strncmp(p, "bpf", 3))
			return true;
		p += n + (p[n] != 0);
	}
	return false;
}

int evm_enable(const char *secfs, bool x509, unsigned *ret_bits)
{
	unsigned want = EVM_INIT_HMAC | (x509 ? EVM_INIT_X509 : 0), bits = 0;
	int r;

	if (access(secfs, F_OK) < 0) {
		log_err(STAGE, "cannot enable EVM: '%s' is missing (a kernel without CONFIG_EVM, or securityfs not mounted)",
			secfs);
		return -ENOSYS;
	}
	r = read_bits(secfs, &bits);
	if (r == 0 && bits) {
		log_err(STAGE, "cannot enable EVM: it is set up already (bits 0x%x) by someone else", bits);
		return -EEXIST;
	}
	r = write_bits(secfs, want);
	if (r < 0) {
		log_err(STAGE, "cannot enable EVM: writing %u to '%s': %s%s", want, secfs,
			strerror(-r), r == -ENOENT ? " (the kernel found no evm-key)" : "");
		return r;
	}
	r = read_bits(secfs, &bits);
	if (r == 0 && (bits & want) != want)
		r = -EIO;
	if (r == 0 && write_bits(secfs, EVM_INIT_HMAC) != -EPERM)
		r = -EPERM;
	if (r < 0) {
		log_err(STAGE, "cannot enable EVM: the kernel reports bits 0x%x after writing 0x%x%s",
			bits, want, r == -EPERM ? ", and its setup is not locked" : "");
		return r;
	}
	*ret_bits = bits;
	return 0;
}
