#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "prompt.h"
#include "unit.h"

static int in[2], out[2];
static char buf[16];

/* Feed text to the prompt's input (then close it if eof), run it. */
static int ask(const char *text, bool eof, unsigned timeout_s)
{
	int r;

	CHECK(pipe(in) == 0 && pipe(out) == 0);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	if (text)
		CHECK(write(in[1], text, strlen(text)) == (ssize_t)strlen(text));
	if (eof)
		close(in[1]);
	memset(buf, POISON, sizeof(buf));
	r = prompt_line(in[0], out[1], "key? ", false, timeout_s, buf, sizeof(buf));
	if (!eof)
		close(in[1]);
	close(in[0]);
	close(out[1]);
	return r;
}

static void done(void)
{
	close(out[0]);
}

static void test_line(void)
{
	char q[8] = { 0 };

	CHECK(ask("abc def\nrest", false, 5) == 0);
	CHECK_STR(buf, "abc def");
	CHECK(read(out[0], q, sizeof(q) - 1) == 5 && !strcmp(q, "key? "));
	done();
	/* a serial console sends CR */
	CHECK(ask("xyz\r", false, 5) == 0);
	CHECK_STR(buf, "xyz");
	done();
	CHECK(ask("\n", false, 5) == 0);
	CHECK_STR(buf, "");
	done();
}

static bool wiped(void)
{
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i])
			return false;
	return true;
}

/* Too long, no answer, end of input: an error, and nothing of what was
 * typed left in the buffer. */
static void test_bounded(void)
{
	CHECK(ask("0123456789abcdefghij\n", false, 5) == -E2BIG);
	CHECK(wiped());
	done();
	CHECK(ask("0123456789abcde\n", false, 5) == 0);
	CHECK_STR(buf, "0123456789abcde");
	done();
	CHECK(ask("partial", true, 5) == -EPIPE);
	CHECK(wiped());
	done();
	CHECK(ask("slow", false, 1) == -ETIMEDOUT);
	CHECK(wiped());
	done();
}

int main(void)
{
	RUN(test_line);
	RUN(test_bounded);
	return UNIT_EXIT();
}
