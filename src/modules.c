#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "modules.h"
#include "util.h"

#define ORDER_MAX (64 * 1024)

static bool valid_module_path(const char *p, size_t len)
{
	return len > 16 && len < MODULES_PATH_MAX &&
	       !strncmp(p, "/lib/modules/", 13) &&
	       !memcmp(p + len - 3, ".ko", 3) &&
	       !memmem(p, len, "/..", 3) && !memchr(p, ' ', len);
}

int modules_parse_order(const char *text, size_t len, modules_fn fn,
			void *userdata, unsigned *ret_line)
{
	char path[MODULES_PATH_MAX];
	unsigned line = 0;
	size_t pos = 0;
	int r;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;

		line++;
		if (n && !valid_module_path(text + pos, n)) {
			*ret_line = line;
			return -EINVAL;
		}
		if (n) {
			memcpy(path, text + pos, n);
			path[n] = 0;
			r = fn(path, userdata);
			if (r < 0) {
				*ret_line = line;
				return r;
			}
		}
		pos += n + 1;
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Loaded already (by an earlier order file: the state volume's ext4 on an
 * ext4 root)? Asking the kernel again costs a full signature check and IMA
 * measurement of the file before it answers EEXIST. */
static bool loaded(const char *path)
{
	char name[64], sys[96];
	const char *b = base_name(path);
	size_t n = strlen(b) - 3;	/* ".ko": valid_module_path */

	if (n >= sizeof(name))
		return false;
	for (size_t i = 0; i < n; i++)
		name[i] = b[i] == '-' ? '_' : b[i];
	name[n] = 0;
	snprintf(sys, sizeof(sys), "/sys/module/%s/initstate", name);
	return access(sys, F_OK) == 0;
}

/* finit_module: the kernel reads (and checks the signature of) the file
 * itself; nothing is copied through our memory. */
static int load_one(const char *path, void *userdata)
{
	unsigned *count = userdata;
	int fd, r = 0;

	if (loaded(path)) {
		(*count)++;
		return 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		log_err("modules", "cannot open '%s': %s", path, strerror(-r));
		return r;
	}
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST) {
		r = -errno;
		log_err("modules", "cannot load '%s': %s", base_name(path),
			strerror(-r));
	} else {
		(*count)++;
	}
	close(fd);
	return r;
}

int modules_load_all(const char *order_path, unsigned *ret_count)
{
	static char text[ORDER_MAX];
	unsigned count = 0, line = 0;
	size_t len = 0;
	int r;

	r = read_file(order_path, text, sizeof(text), &len);
	if (r == -ENOENT) {
		*ret_count = 0;
		return 0;
	}
	if (r < 0) {
		log_err("modules", "cannot read '%s': %s", order_path, strerror(-r));
		return r;
	}
	r = modules_parse_order(text, len, load_one, &count, &line);
	if (r == -EINVAL)
		log_err("modules", "cannot parse '%s': line %u is not a module path",
			order_path, line);
	if (r < 0)
		return r;
	*ret_count = count;
	return 0;
}
