/* Small helpers shared by the modules. */
#ifndef SEALROOT_UTIL_H
#define SEALROOT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Read a whole small file into buf. A file that does not fit is -EFBIG:
 * never a silent truncation. */
int read_file(const char *path, char *buf, size_t size, size_t *ret_len);

/* Milliseconds of CLOCK_MONOTONIC (comparable with kernel timestamps,
 * which count from boot). */
uint64_t now_ms(void);

#endif
