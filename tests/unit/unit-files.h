/* Scratch-file helpers shared by the host tests that work on image files
 * (test-luks, test-interop): everything lives under dir, a directory the
 * test makes below build/. */
#ifndef SEALROOT_UNIT_FILES_H
#define SEALROOT_UNIT_FILES_H

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

static char dir[PATH_MAX];

/* dir/name, from a ring of buffers so a few can be used at once. */
static const char *path(const char *name)
{
	static char p[64][PATH_MAX + 64];
	static int i;

	i = (i + 1) % 64;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* SHA-256 of a whole file: "left byte-for-byte unchanged" checks. */
static void hash_file(const char *p, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	static uint8_t buf[1 << 20];
	unsigned int len = 0;
	ssize_t n;
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
}

#endif
