/* sealroot-lint: the build-time check of a sealroot.conf, with the very
 * parser the device runs. mkinitramfs calls it before packing anything.
 *
 *   sealroot-lint [--print] FILE
 *
 * Errors are printed as FILE:LINE: message and the exit status is 1.
 * With --print, a valid file's effective configuration (defaults
 * included) is printed as key=value lines. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

static int usage(FILE *out)
{
	fputs("usage: sealroot-lint [--print] FILE\n"
	      "Check a sealroot.conf; print FILE:LINE: errors, exit 1 on any.\n"
	      "  --print  print the effective configuration as key=value\n",
	      out);
	return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
	struct config_error err = { 0 };
	struct config cfg;
	int print = 0, r;
	const char *path;

	if (argc == 2 && !strcmp(argv[1], "--help"))
		return usage(stdout);
	if (argc == 3 && !strcmp(argv[1], "--print"))
		print = 1;
	else if (argc != 2 || argv[1][0] == '-')
		return usage(stderr);
	path = argv[argc - 1];
	config_defaults(&cfg);
	r = config_parse_file(&cfg, path, &err);
	if (r == -EINVAL) {
		fprintf(stderr, "%s:%u: %s\n", path, err.line, err.msg);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-r));
		return 1;
	}
	if (print)
		config_print(&cfg, stdout);
	return 0;
}
