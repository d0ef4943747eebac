#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int kmsg_fd = -1;

int log_open_kmsg(void)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	kmsg_fd = fd;
	return 0;
}

void log_close_kmsg(void)
{
	if (kmsg_fd >= 0)
		close(kmsg_fd);
	kmsg_fd = -1;
}

/* Write a whole record in one write(2): kmsg takes one record per write.
 * A message longer than the buffer is marked, never cut silently. */
void log_msg(enum log_level level, const char *stage, const char *fmt, ...)
{
	char buf[1024];
	int saved = errno, head, n;
	size_t len;
	va_list ap;

	head = snprintf(buf, sizeof(buf), "<%d>sealroot: %s: ", level, stage);
	if (head < 0 || (size_t)head >= sizeof(buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + head, sizeof(buf) - head, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	len = (size_t)head + (size_t)n;
	if (len >= sizeof(buf) - 1) {
		len = sizeof(buf) - 2;
		memcpy(buf + len - 5, "[...]", 5);
	}
	buf[len++] = '\n';
	if (kmsg_fd < 0 || write(kmsg_fd, buf, len) != (ssize_t)len)
		(void)!write(STDERR_FILENO, buf + 3, len - 3);
	errno = saved;
}
