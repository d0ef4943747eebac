/*
 * sealroot-mkcpio: build host tool. Reads a manifest on stdin, writes a
 * reproducible newc cpio archive on stdout:
 *
 *   dir   <path> <mode>
 *   file  <path> <mode> <source>
 *   slink <path> <target> <mode>
 *   nod   <path> <mode> <c|b> <major> <minor>
 *
 * Paths are relative archive names ("dev/console"), modes octal. Entries
 * are sorted by path, so the archive does not depend on input order.
 * Any error names the manifest line and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpio.h"

#define PROG "sealroot-mkcpio"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--mtime SECONDS] < MANIFEST > ARCHIVE\n"
		"\n"
		"Manifest lines (blank lines and '#' comments are skipped):\n"
		"  dir   <path> <mode>\n"
		"  file  <path> <mode> <source>\n"
		"  slink <path> <target> <mode>\n"
		"  nod   <path> <mode> <c|b> <major> <minor>\n"
		"Paths are relative archive names, modes octal (0 to 7777).\n"
		"Every entry gets owner 0:0 and mtime SECONDS (default 0).\n");
}

static int parse_args(int argc, char **argv, unsigned long *ret_mtime)
{
	unsigned long mtime = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(argv[i], "--mtime") || i + 1 == argc) {
			fprintf(stderr, PROG ": bad argument '%s' (try --help)\n",
				argv[i]);
			return -EINVAL;
		}
		if (cpio_parse_ulong(argv[++i], 10, CPIO_FIELD_MAX, &mtime)) {
			fprintf(stderr, PROG ": bad --mtime '%s': expected decimal 0 to %lu\n",
				argv[i], CPIO_FIELD_MAX);
			return -EINVAL;
		}
	}
	*ret_mtime = mtime;
	return 0;
}

static int parse_one(struct cpio_manifest *m, char *line, ssize_t len,
		     unsigned long lineno)
{
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	if ((ssize_t)strlen(line) != len) {
		snprintf(m->err, sizeof(m->err), "NUL byte in line");
		m->err_line = lineno;
		return -EINVAL;
	}
	return cpio_manifest_parse_line(m, line, lineno);
}

static int read_manifest(struct cpio_manifest *m, FILE *in)
{
	unsigned long lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int r = 0;

	while (!r && (len = getline(&line, &cap, in)) >= 0)
		r = parse_one(m, line, len, ++lineno);
	if (!r && ferror(in)) {
		r = -errno;
		snprintf(m->err, sizeof(m->err), "cannot read '<stdin>': %s",
			 strerror(errno));
		m->err_line = 0;
	}
	free(line);
	return r;
}

int main(int argc, char **argv)
{
	struct cpio_manifest m;
	unsigned long mtime;
	int r;

	if (parse_args(argc, argv, &mtime))
		return 1;
	if (isatty(STDOUT_FILENO)) {
		fprintf(stderr, PROG ": refusing to write an archive to a terminal\n");
		return 1;
	}
	cpio_manifest_init(&m);
	r = read_manifest(&m, stdin);
	if (!r)
		r = cpio_manifest_finish(&m);
	if (!r)
		r = cpio_manifest_write(&m, STDOUT_FILENO, mtime);
	if (r && m.err_line)
		fprintf(stderr, PROG ": line %lu: %s\n", m.err_line, m.err);
	else if (r)
		fprintf(stderr, PROG ": %s\n", m.err);
	cpio_manifest_free(&m);
	return r ? 1 : 0;
}
