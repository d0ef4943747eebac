#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int read_file(const char *path, char *buf, size_t size, size_t *ret_len)
{
	size_t len = 0;
	ssize_t n = 0;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < size && (n = read(fd, buf + len, size - len)) > 0)
		len += (size_t)n;
	if (n < 0)
		r = -errno;
	else if (len == size)
		r = -EFBIG;
	close(fd);
	if (r == 0)
		*ret_len = len;
	return r;
}

int status_field_kb(const char *status, const char *field,
		    unsigned long *ret_kb)
{
	size_t n = strlen(field);
	const char *p = status;
	unsigned long kb;
	char *end;

	while (p && (strncmp(p, field, n) || p[n] != ':')) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return -ENODATA;
	p += n + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -EBADMSG;
	errno = 0;
	kb = strtoul(p, &end, 10);
	if (errno || kb == 0 || strncmp(end, " kB", 3))
		return -EBADMSG;
	*ret_kb = kb;
	return 0;
}

uint64_t le_read(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | p[bytes];
	return v;
}

int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	return c == '/' ? 63 : -1;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
