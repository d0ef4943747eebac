/* Host tests of the integrity modules' logic: the HKDF behind the EVM
 * key (RFC 5869's vectors), the evm-key blob check, the host kernel's own
 * keyrings for the master-key/evm-key pair (when it has encrypted keys),
 * the IMA policy's line walk and its path-first load against a stand-in
 * policy file, and the factory tree copy with its labels. What the
 * kernel does with EVM and IMA is tested in the VM. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "evm.h"
#include "ima.h"
#include "keys.h"
#include "personalize.h"
#include "unit.h"
#include "unit-files.h"
#include "util.h"

static void unhex(const char *h, uint8_t *out, size_t *ret_len)
{
	size_t n = 0;

	for (; h[0] && h[1]; h += 2)
		sscanf(h, "%2hhx", &out[n++]);
	*ret_len = n;
}

/* RFC 5869 A.1 and A.3 (SHA-256; A.3 with no salt and no info). */
static void test_hkdf_rfc5869(void)
{
	uint8_t ikm[80], salt[80], want[82], out[82];
	size_t ni, ns, nw;

	unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", ikm, &ni);
	unhex("000102030405060708090a0b0c", salt, &ns);
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	      "34007208d5b887185865", want, &nw);
	/* info f0..f9 */
	CHECK(evm_hkdf_sha256(ikm, ni, salt, ns, "\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9",
			      out, nw) == 0);
	CHECK(memcmp(out, want, nw) == 0);
	unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	      "9d201395faa4b61a96c8", want, &nw);
	CHECK(evm_hkdf_sha256(ikm, ni, NULL, 0, "", out, nw) == 0);
	CHECK(memcmp(out, want, nw) == 0);
	CHECK(evm_hkdf_sha256(ikm, ni, NULL, 0, "", out, 255 * 32 + 1) == -EINVAL);
}

/* Same volume key, same master key; another volume key, another; the
 * label is part of it (a key for another use differs). */
static void test_kmk(void)
{
	uint8_t vk[64], a[EVM_KMK_SIZE], b[EVM_KMK_SIZE], c[EVM_KMK_SIZE];

	memset(vk, 7, sizeof(vk));
	memset(a, POISON, sizeof(a));
	CHECK(evm_derive_kmk(vk, sizeof(vk), a) == 0);
	CHECK(evm_derive_kmk(vk, sizeof(vk), b) == 0);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	vk[63] ^= 1;
	CHECK(evm_derive_kmk(vk, sizeof(vk), c) == 0);
	CHECK(memcmp(a, c, sizeof(a)) != 0);
	CHECK(evm_hkdf_sha256(vk, sizeof(vk), NULL, 0, "another use", c, sizeof(c)) == 0);
	CHECK(memcmp(b, c, sizeof(b)) != 0);
	CHECK(evm_derive_kmk(vk, 16, c) == -EINVAL);
}

static void test_blob_valid(void)
{
	char b[EVM_BLOB_MAX];
	int n = snprintf(b, sizeof(b), "default user:" EVM_KMK_DESC " 64 ");

	for (int i = 0; i < 2 * 112; i++)
		b[n + i] = "0123456789abcdef"[i % 16];
	b[n + 224] = 0;
	CHECK(evm_blob_valid(b));
	b[n + 5] = 'G';
	CHECK(!evm_blob_valid(b));
	b[n + 5] = 'a';
	b[n + 223] = 0;
	CHECK(!evm_blob_valid(b));		/* odd */
	b[n + 20] = 0;
	CHECK(!evm_blob_valid(b));		/* too short */
	CHECK(!evm_blob_valid("default user:kmk 64 00"));
	CHECK(!evm_blob_valid("default trusted:" EVM_KMK_DESC " 64 00"));
}

/* The host kernel's encrypted keys, in this process's own keyring (gone
 * with it): a new evm-key comes back as a valid blob, loads again under
 * the same master key, and is refused under another. */
static void test_keys_roundtrip(void)
{
	uint8_t kmk[EVM_KMK_SIZE], other[EVM_KMK_SIZE];
	char blob[EVM_BLOB_MAX] = "", copy[EVM_BLOB_MAX];
	struct evm_keys k = { 0, 0 };
	bool created = false;
	int r;

	memset(kmk, 1, sizeof(kmk));
	memset(other, 2, sizeof(other));
	r = evm_keys_load(kmk, blob, &created, &k);
	if (r == -ENODEV || r == -EOPNOTSUPP) {
		printf("  skip: the host kernel has no encrypted keys (%s)\n", strerror(-r));
		return;
	}
	CHECK(r == 0 && created && evm_blob_valid(blob));
	evm_keys_drop(&k);
	strcpy(copy, blob);
	created = true;
	CHECK(evm_keys_load(kmk, copy, &created, &k) == 0 && !created);
	CHECK(strcmp(copy, blob) == 0);
	evm_keys_drop(&k);
	k.kmk = k.key = 0;
	CHECK(evm_keys_load(other, copy, &created, &k) == -EKEYREJECTED);
	CHECK(k.kmk == 0 && k.key == 0);
	copy[strlen(copy) - 1] = copy[strlen(copy) - 1] == '0' ? '1' : '0';
	CHECK(evm_keys_load(kmk, copy, &created, &k) == -EKEYREJECTED);
}

static void test_lsm_conflict(void)
{
	const char *deb = "lockdown,capability,landlock,yama,apparmor,bpf,integrity";

	CHECK(evm_lsm_conflict(deb, "6.1.0-56-amd64"));
	CHECK(evm_lsm_conflict("bpf\n", "5.15.0"));
	CHECK(!evm_lsm_conflict("lockdown,capability,landlock,yama,apparmor,integrity", "6.1.0"));
	CHECK(!evm_lsm_conflict("lockdown,bpfx,xbpf,integrity", "6.1.0"));
	CHECK(!evm_lsm_conflict(deb, "6.6.0"));
	CHECK(!evm_lsm_conflict(deb, "7.0"));
	CHECK(!evm_lsm_conflict(deb, "garbage"));
}

static void test_find_keyring(void)
{
	static const char text[] =
		"111c3e20 I--Q---     1 perm 0c030000     0 65534 keyring   .user_reg: 2\n"
		"1bae8c57 I------     1 perm 1f0b0000     0     0 keyring   .imax: empty\n"
		"2bae8c57 I------     1 perm 1f0b0000     0     0 user      .ima: 32\n"
		"0aa1bb2c I------     1 perm 1f0b0000     0     0 keyring   .ima: 1\n";
	int32_t id = 0;

	CHECK(keys_find_keyring(text, ".ima", &id) == 0 && id == 0x0aa1bb2c);
	CHECK(keys_find_keyring(text, ".evm", &id) == -ENOENT);
	CHECK(keys_find_keyring(text, ".user_reg", &id) == 0 && id == 0x111c3e20);
	CHECK(keys_find_keyring("", ".ima", &id) == -ENOENT);
}

static void test_policy_lines(void)
{
	static const char text[] = "# c\n\n  \nmeasure func=BPRM_CHECK\n\t# x\ndont_measure fsmagic=0x9fa0";
	const char *l;
	size_t n;
	bool rule;

	CHECK(ima_policy_line(text, strlen(text), 1, &l, &n, &rule) == 0 && !rule && n == 3);
	CHECK(ima_policy_line(text, strlen(text), 3, &l, &n, &rule) == 0 && !rule);
	CHECK(ima_policy_line(text, strlen(text), 4, &l, &n, &rule) == 0 && rule &&
	      n == strlen("measure func=BPRM_CHECK") && !strncmp(l, "measure", 7));
	CHECK(ima_policy_line(text, strlen(text), 5, &l, &n, &rule) == 0 && !rule);
	CHECK(ima_policy_line(text, strlen(text), 6, &l, &n, &rule) == 0 && rule &&
	      n == strlen("dont_measure fsmagic=0x9fa0"));
	CHECK(ima_policy_line(text, strlen(text), 7, &l, &n, &rule) == -ENOENT);
}

/* A stand-in securityfs: a regular file takes the path, as the kernel
 * would; then no policy file (a kernel without IMA) is named. */
static void test_policy_load(void)
{
	struct ima_load l;
	char got[256] = "";
	size_t n = 0;

	mkdir(path("ima"), 0700);
	CHECK(sh("printf 'measure func=BPRM_CHECK\\n# c\\nappraise fsuuid=7a1f3c2e-5b4d-4e6f-8a9b-0c1d2e3f4a5b\\n' > %s",
		 path("policy.txt")) == 0);
	CHECK(sh(": > %s/policy && echo 5 > %s/runtime_measurements_count", path("ima"),
		 path("ima")) == 0);
	memset(&l, POISON, sizeof(l));
	CHECK(ima_load_policy(path("ima"), path("policy.txt"), &l) == 0);
	CHECK(l.rules == 2 && l.by_path && l.bad_line == 0);
	CHECK(l.measurements_before == 5 && l.measurements_after == 5);
	CHECK(read_file(path("ima/policy"), got, sizeof(got), &n) == 0);
	got[n] = 0;
	CHECK(strcmp(got, path("policy.txt")) > 0 && got[n - 1] == '\n');
	unlink(path("ima/policy"));
	CHECK(ima_load_policy(path("ima"), path("policy.txt"), &l) == -ENOENT);
	CHECK(sh("printf '# only\\n\\n' > %s", path("empty.txt")) == 0);
	CHECK(ima_load_policy(path("ima"), path("empty.txt"), &l) == -EINVAL);
	CHECK(ima_load_policy(path("ima"), path("missing.txt"), &l) == -ENOENT);
}

static ssize_t xattr(const char *p, const char *name, uint8_t *v, size_t size)
{
	return lgetxattr(p, name, v, size);
}

/* A tree with each kind of entry: copied with owners, modes, attributes
 * and links; plain files labelled with their SHA-256, a signed one
 * keeping its signature. Needs root (owners, security.*). */
static void test_personalize(void)
{
	struct personalize_stats st;
	uint8_t v[128], digest[32];
	unsigned files = 0;
	struct stat s;
	ssize_t n;

	if (geteuid() != 0) {
		printf("  skip: needs root\n");
		return;
	}
	CHECK(sh("rm -rf %s %s && mkdir -p %s/etc/app %s/empty %s/ro && "
		 "printf 'hello' > %s/etc/app/conf && printf 'signed' > %s/etc/app/bin && "
		 "ln -s app/conf %s/etc/link && chown 1234:5678 %s/etc/app/conf && "
		 "chmod 4750 %s/etc/app/bin && chmod 0555 %s/ro && printf x > %s/ro/f && "
		 "chmod 0444 %s/ro/f && mkfifo %s/fifo",
		 path("f"), path("d"), path("f"), path("f"), path("f"), path("f"), path("f"),
		 path("f"), path("f"), path("f"), path("f"), path("f"), path("f"),
		 path("f")) == 0);
	if (setxattr(path("f/etc/app/conf"), "user.note", "kept", 4, 0) < 0 ||
	    setxattr(path("f/etc/app/bin"), "security.ima", "\x03\x02\x04sig", 6, 0) < 0) {
		printf("  skip: the build directory's file system has no user/security xattrs (%s)\n",
		       strerror(errno));
		return;
	}
	mkdir(path("d"), 0755);
	mkdir(path("d/empty"), 0700);		/* exists already: reused */
	memset(&st, POISON, sizeof(st));
	CHECK(personalize_tree(path("f"), path("d"), true, &st) == 0);
	CHECK(st.files == 3 && st.signed_files == 1 && st.symlinks == 1 && st.nodes == 1);
	CHECK(st.dirs == 5 && st.bytes == strlen("hello") + strlen("signed") + 1);
	CHECK(lstat(path("d/etc/app/conf"), &s) == 0 && s.st_uid == 1234 && s.st_gid == 5678);
	CHECK(lstat(path("d/etc/app/bin"), &s) == 0 && (s.st_mode & 07777) == 04750);
	CHECK(lstat(path("d/ro"), &s) == 0 && (s.st_mode & 07777) == 0555);
	CHECK(lstat(path("d/fifo"), &s) == 0 && S_ISFIFO(s.st_mode));
	n = readlink(path("d/etc/link"), (char *)v, sizeof(v));
	CHECK(n == 8 && !memcmp(v, "app/conf", 8));
	CHECK(xattr(path("d/etc/app/conf"), "user.note", v, sizeof(v)) == 4 && !memcmp(v, "kept", 4));
	hash_file(path("f/etc/app/conf"), digest);
	CHECK(xattr(path("d/etc/app/conf"), "security.ima", v, sizeof(v)) == 34 &&
	      v[0] == 0x04 && v[1] == 4 && !memcmp(v + 2, digest, 32));
	CHECK(xattr(path("d/etc/app/bin"), "security.ima", v, sizeof(v)) == 6 &&
	      !memcmp(v, "\x03\x02\x04sig", 6));
	/* the copy does not overwrite a file */
	CHECK(personalize_tree(path("f"), path("d"), true, &st) == -EEXIST);
	/* without labels: no security.ima; verify then only opens */
	CHECK(sh("rm -rf %s", path("d")) == 0 && mkdir(path("d"), 0755) == 0);
	CHECK(personalize_tree(path("f"), path("d"), false, &st) == 0);
	CHECK(xattr(path("d/etc/app/conf"), "security.ima", v, sizeof(v)) < 0 && errno == ENODATA);
	CHECK(personalize_verify(path("d"), false, &files) == 0 && files == 3);
	/* with labels, the host has no EVM: security.evm is missing, named */
	CHECK(personalize_verify(path("d"), true, &files) == -ENODATA);
	CHECK(personalize_tree(path("nothing"), path("d"), true, &st) == -ENOENT);
}

int main(int argc, char **argv)
{
	char d[PATH_MAX];

	(void)argc;
	snprintf(d, sizeof(d), "%s", argv[0]);
	snprintf(dir, sizeof(dir), "%s/integrity.XXXXXX", dirname(d));
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	RUN(test_hkdf_rfc5869);
	RUN(test_kmk);
	RUN(test_blob_valid);
	RUN(test_keys_roundtrip);
	RUN(test_lsm_conflict);
	RUN(test_find_keyring);
	RUN(test_policy_lines);
	RUN(test_policy_load);
	RUN(test_personalize);
	sh("rm -rf '%s'", dir);
	return UNIT_EXIT();
}
