#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "keys.h"
#include "log.h"
#include "util.h"

#define KEYCTL_SETPERM 5
#define KEYCTL_UNLINK 9
#define KEYCTL_READ 11
#define KEYCTL_INVALIDATE 21
#define KEYCTL_RESTRICT_KEYRING 29
#define CERT_MAX (16 * 1024)

/* Possessor (<< 24) and user (<< 16) permissions: view, read, search,
 * link for the possessor; view, read, search for root. Not write: no key
 * can be removed from the keyring; not setattr: no new restriction. */
#define KEYRING_PERM (0x1bu << 24 | 0x0bu << 16)

int keys_add(const char *type, const char *desc, const void *payload,
	     size_t len, int32_t ring, int32_t *ret_id)
{
	long id = syscall(SYS_add_key, type, desc, payload, len, ring);

	if (id < 0)
		return -errno;
	*ret_id = (int32_t)id;
	return 0;
}

int keys_read(int32_t id, char *buf, size_t size, size_t *ret_len)
{
	long n = syscall(SYS_keyctl, KEYCTL_READ, id, buf, size);

	if (n < 0)
		return -errno;
	if ((size_t)n > size)
		return -EMSGSIZE;
	*ret_len = (size_t)n;
	return 0;
}

void keys_drop(int32_t id, int32_t ring)
{
	if (id <= 0)
		return;
	(void)syscall(SYS_keyctl, KEYCTL_UNLINK, id, ring);
	(void)syscall(SYS_keyctl, KEYCTL_INVALIDATE, id);
}

static int load_cert(const char *stage, int dirfd, const char *name,
		     const char *ring_name, int32_t *ring)
{
	static char der[CERT_MAX];
	struct stat st;
	ssize_t n;
	int32_t id;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = fd < 0 ? -errno : -EINVAL;
		log_err(stage, "cannot load certificate '%s': %s", name,
			r == -EINVAL ? "not a regular file" : strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	n = read(fd, der, sizeof(der));
	r = n < 0 ? -errno : n == (ssize_t)sizeof(der) ? -EFBIG : 0;
	close(fd);
	if (r == 0 && *ring == 0) {
		r = keys_add("keyring", ring_name, NULL, 0, KEYS_USER, ring);
		if (r < 0)
			log_err(stage, "cannot make keyring '%s': %s", ring_name, strerror(-r));
	}
	if (r == 0)
		r = keys_add("asymmetric", NULL, der, (size_t)n, *ring, &id);
	if (r < 0)
		log_err(stage, "cannot load certificate '%s' into keyring '%s': %s%s", name,
			ring_name, strerror(-r),
			r == -EBADMSG ? " (not an x509 certificate in DER?)" :
			r == -EKEYREJECTED ? " (the kernel refused its key or signature)" : "");
	return r;
}

int keys_find_keyring(const char *proc_keys, const char *name, int32_t *ret_id)
{
	const char *line = proc_keys;
	size_t n = strlen(name);

	while (line && *line) {
		unsigned long id;
		char type[16], desc[64];

		if (sscanf(line, "%lx %*s %*s %*s %*s %*s %*s %15s %63s", &id, type, desc) == 3 &&
		    !strcmp(type, "keyring") && !strncmp(desc, name, n) &&
		    (desc[n] == ':' || desc[n] == 0) && id > 0 && id <= INT32_MAX) {
			*ret_id = (int32_t)id;
			return 0;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return -ENOENT;
}

/* The kernel's own keyring for ring_name ("_ima" -> ".ima"), made at
 * boot where CONFIG_INTEGRITY_TRUSTED_KEYRING is set: then the kernel
 * looks there, never at ours, and only takes certificates signed by a
 * key it trusts (a refusal names the file). */
static int32_t trusted_keyring(const char *ring_name)
{
	static char text[64 * 1024];
	char name[16];
	size_t len = 0;
	int32_t id;

	if (ring_name[0] != '_' || read_file("/proc/keys", text, sizeof(text) - 1, &len) < 0)
		return 0;
	text[len] = 0;
	snprintf(name, sizeof(name), ".%s", ring_name + 1);
	return keys_find_keyring(text, name, &id) == 0 ? id : 0;
}

/* Sorted, so the order of the keyring is the same on every device. */
static int cert_filter(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int keys_load_certs(const char *stage, const char *dir, const char *ring_name,
		    unsigned *ret_count)
{
	struct dirent **names = NULL;
	int32_t ring = 0, trusted;
	int dirfd, n, i, r = 0;

	*ret_count = 0;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return errno == ENOENT ? 0 : -errno;
	trusted = trusted_keyring(ring_name);
	if (trusted > 0) {
		ring = trusted;
		log_info(stage, "the kernel has its own keyring for '%s': loading into it", ring_name);
	}
	n = scandir(dir, &names, cert_filter, alphasort);
	if (n < 0)
		r = -errno;
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = load_cert(stage, dirfd, names[i]->d_name, ring_name, &ring);
		if (r == 0)
			(*ret_count)++;
		free(names[i]);
	}
	free(names);
	close(dirfd);
	if (r == 0 && ring > 0 && ring != trusted &&
	    (syscall(SYS_keyctl, KEYCTL_RESTRICT_KEYRING, ring, NULL, NULL) < 0 ||
	     syscall(SYS_keyctl, KEYCTL_SETPERM, ring, KEYRING_PERM) < 0)) {
		r = -errno;
		log_err(stage, "cannot close keyring '%s' to further keys: %s", ring_name,
			strerror(-r));
	}
	return r;
}
