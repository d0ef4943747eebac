/* Shared by the fuzz targets: the parsers under test take C strings. */
#ifndef SEALROOT_FUZZ_H
#define SEALROOT_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A NUL-terminated copy of the input (free it), or NULL. */
static inline char *fuzz_cstring(const uint8_t *data, size_t len)
{
	char *text = malloc(len + 1);

	if (text) {
		memcpy(text, data, len);
		text[len] = 0;
	}
	return text;
}

#endif
