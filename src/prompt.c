#include <errno.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "prompt.h"

static unsigned long long now_ms_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

static void write_all(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t k = write(fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

/* One byte before the deadline: 1, 0 at end of input, or -errno. */
static int read_byte(int in, unsigned long long deadline, char *c)
{
	for (;;) {
		unsigned long long now = now_ms_mono();
		struct pollfd p = { .fd = in, .events = POLLIN };
		ssize_t k;
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		k = read(in, c, 1);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return -errno;
		return (int)k;
	}
}

static int read_line(int in, unsigned timeout_s, char *buf, size_t size)
{
	unsigned long long deadline = now_ms_mono() + 1000ULL * timeout_s;
	size_t len = 0;
	bool over = false;
	char c = 0;
	int r;

	for (;;) {
		r = read_byte(in, deadline, &c);
		if (r == 0)
			r = -EPIPE;
		if (r < 0)
			break;
		if (c == '\n' || c == '\r') {
			r = over ? -E2BIG : 0;
			break;
		}
		if (len + 1 < size)
			buf[len++] = c;
		else
			over = true;
	}
	buf[r == 0 ? len : 0] = 0;
	if (r < 0)
		explicit_bzero(buf, size);
	c = 0;
	return r;
}

int prompt_line(int in, int out, const char *question, bool echo,
		unsigned timeout_s, char *buf, size_t size)
{
	struct termios saved, quiet;
	bool tty = !echo && tcgetattr(in, &saved) == 0;
	int r;

	if (size == 0)
		return -EINVAL;
	if (tty) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(in, TCSAFLUSH, &quiet);
	}
	write_all(out, question);
	r = read_line(in, timeout_s, buf, size);
	if (tty) {
		tcsetattr(in, TCSAFLUSH, &saved);
		write_all(out, "\n");
	}
	return r;
}
