/* Small helpers shared by the modules. */
#ifndef SEALROOT_UTIL_H
#define SEALROOT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Read a whole small file into buf. A file that does not fit is -EFBIG:
 * never a silent truncation. */
int read_file(const char *path, char *buf, size_t size, size_t *ret_len);

/* The kB value of FIELD ("VmHWM", ...) in the text of /proc/<pid>/status.
 * A missing field is -ENODATA, a value that is not a positive number of
 * kB -EBADMSG: never a silent 0. */
int status_field_kb(const char *status, const char *field,
		    unsigned long *ret_kb);

/* An unsigned little-endian integer of 1..8 bytes at p. */
uint64_t le_read(const uint8_t *p, unsigned bytes);

/* The value of one base64 digit (RFC 4648, standard alphabet), -1 for
 * anything else ('=' included). */
int b64_value(char c);

/* Milliseconds of CLOCK_MONOTONIC (comparable with kernel timestamps,
 * which count from boot). */
uint64_t now_ms(void);

#endif
