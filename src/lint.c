/* sealroot-lint: the build-time check of a sealroot.conf and the UKI's
 * kernel command line, with the very parser and device plan the device
 * runs. mkinitramfs calls it before packing anything.
 *
 *   sealroot-lint [--print] [--cmdline STRING] FILE
 *   sealroot-lint --keys
 *
 * Errors are printed as FILE:LINE: message (FILE: message for the whole
 * file), "kernel command line: message" and "device plan: message", and
 * the exit status is 1. With --cmdline, the file and the command line are
 * checked together, as the device sees them, including the device plan
 * (a production image must have a verified root). Without it only the
 * file is checked: the command line may still complete it. With --print,
 * the effective configuration (defaults included, the command line
 * applied) is printed as key=value lines. --keys prints the parser's key
 * table (config_print_keys): the source of truth for the reference. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "plan.h"

struct args {
	bool print;
	const char *cmdline;		/* NULL: not given */
	const char *path;
};

static int usage(FILE *out)
{
	fputs("usage: sealroot-lint [--print] [--cmdline STRING] FILE\n"
	      "       sealroot-lint --keys\n"
	      "Check a sealroot.conf, and with --cmdline the kernel command line\n"
	      "and the device plan as the device sees them; exit 1 on any error.\n"
	      "  --print    print the effective configuration as key=value\n"
	      "  --cmdline  the UKI's kernel command line (.cmdline)\n"
	      "  --keys     print every key, tab separated: name, default, command\n"
	      "             line name, its rule (set, fill, same, raise), allowed\n"
	      "             values; '-' for a key the command line cannot set\n",
	      out);
	return out == stdout ? 0 : 2;
}

static int parse_args(int argc, char **argv, struct args *ret)
{
	int i;

	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--print"))
			ret->print = true;
		else if (!strcmp(argv[i], "--cmdline") && i + 2 < argc)
			ret->cmdline = argv[++i];
		else
			return -EINVAL;
	}
	if (i != argc - 1 || argv[i][0] == '-')
		return -EINVAL;
	ret->path = argv[i];
	return 0;
}

static int check_file(struct config *cfg, const char *path)
{
	struct config_error err = { 0 };
	int r = config_parse_file(cfg, path, &err);

	if (r == -EINVAL && err.line)
		fprintf(stderr, "%s:%u: %s\n", path, err.line, err.msg);
	else if (r == -EINVAL)
		fprintf(stderr, "%s: %s\n", path, err.msg);
	else if (r < 0)
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-r));
	return r;
}

static int check_cmdline(struct config *cfg, const char *cmdline)
{
	struct config_error err = { 0 };
	struct plan plan;
	int r;

	r = config_parse_cmdline(cfg, cmdline, &err);
	if (r < 0) {
		fprintf(stderr, "kernel command line: %s\n", err.msg);
		return r;
	}
	r = plan_devices(cfg, &plan, &err);
	if (r < 0)
		fprintf(stderr, "device plan: %s\n", err.msg);
	return r;
}

int main(int argc, char **argv)
{
	struct args args = { 0 };
	struct config cfg;

	if (argc == 2 && !strcmp(argv[1], "--help"))
		return usage(stdout);
	if (argc == 2 && !strcmp(argv[1], "--keys")) {
		config_print_keys(stdout);
		return 0;
	}
	if (parse_args(argc, argv, &args) < 0)
		return usage(stderr);
	config_defaults(&cfg);
	if (check_file(&cfg, args.path) < 0)
		return 1;
	if (args.cmdline && check_cmdline(&cfg, args.cmdline) < 0)
		return 1;
	if (args.print)
		config_print(&cfg, stdout);
	return 0;
}
