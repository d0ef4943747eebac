#include <errno.h>
#include <fcntl.h>
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

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
