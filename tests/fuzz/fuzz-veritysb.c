/* The verity superblock and hash tree as they come from a disk an
 * attacker may have written: the input is the whole hash device. */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "veritysb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct veritysb_geometry g;
	struct veritysb_error err;
	struct roothash top;
	struct veritysb sb;
	int fd;

	if (veritysb_parse(data, len, &sb, &err) < 0 ||
	    veritysb_geometry(&sb, UINT64_MAX, len, &g, &err) < 0)
		return 0;
	fd = memfd_create("hash", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, len) == (ssize_t)len &&
	    veritysb_top_hash(fd, &sb, &g, &top) == 0)
		veritysb_check_tree(fd, &sb, &g, &err);
	close(fd);
	return 0;
}
