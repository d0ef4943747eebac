/* A question on the console and one line of answer, bounded in time and
 * length: the recovery-key prompt. With echo off the answer (a secret)
 * is not shown as typed. Host-testable on pipes (no terminal: no echo to
 * switch off). */
#ifndef SEALROOT_PROMPT_H
#define SEALROOT_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

/* Write question to out, read one line from in into buf (NUL-terminated,
 * without its CR/LF) within timeout_s seconds. 0 on success; -ETIMEDOUT,
 * -E2BIG (longer than size - 1: the rest of the line is read and thrown
 * away, buf wiped), -EPIPE (end of input), or a read error. The caller
 * wipes buf. */
int prompt_line(int in, int out, const char *question, bool echo,
		unsigned timeout_s, char *buf, size_t size);

#endif
