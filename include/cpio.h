/*
 * newc ("070701") cpio archives for the initramfs.
 *
 * The initramfs is part of the signed UKI, so it must be byte-for-byte
 * reproducible: owners are 0:0, every mtime is the caller's, inode
 * numbers follow output order and nothing else of the host leaks in.
 *
 * Two layers: a writer (headers, data, padding, trailer on an fd) and a
 * manifest (gen_init_cpio-like lines, validated, sorted by path, then
 * written with the writer). Both return 0 or -errno and never exit.
 */
#ifndef SEALROOT_CPIO_H
#define SEALROOT_CPIO_H

#include <stddef.h>

#define CPIO_MAGIC "070701"
#define CPIO_HEADER_LEN 110
#define CPIO_TRAILER "TRAILER!!!"
#define CPIO_FIELD_MAX 0xffffffffUL
/* The kernel unpacker refuses names and link targets past PATH_MAX. */
#define CPIO_PATH_MAX 4096
/* Linux dev_t: 12-bit major, 20-bit minor. */
#define CPIO_MAJOR_MAX 4095UL
#define CPIO_MINOR_MAX 1048575UL
#define CPIO_ERR_MAX 512

struct cpio_writer {
	int fd;
	unsigned long mtime;
	unsigned long next_ino;
	unsigned long long written;
};

void cpio_writer_init(struct cpio_writer *w, int fd, unsigned long mtime);
int cpio_write_header(struct cpio_writer *w, const char *name,
		      unsigned int mode, unsigned long filesize,
		      unsigned int rmajor, unsigned int rminor);
int cpio_write_data(struct cpio_writer *w, const void *buf, size_t len);
int cpio_write_pad(struct cpio_writer *w);
int cpio_write_trailer(struct cpio_writer *w);

enum cpio_type {
	CPIO_DIR,
	CPIO_FILE,
	CPIO_SLINK,
	CPIO_CHR,
	CPIO_BLK,
};

struct cpio_entry {
	enum cpio_type type;
	char *path;		/* archive name, relative: "dev/console" */
	unsigned int perm;	/* permission bits only, <= 07777 */
	char *arg;		/* CPIO_FILE: source path; CPIO_SLINK: target */
	unsigned int major;	/* CPIO_CHR, CPIO_BLK */
	unsigned int minor;
	unsigned long line;	/* manifest line, for messages */
};

/* After a failed call, err says why and err_line names the manifest line
 * (0 when no line is to blame, e.g. the output failed). */
struct cpio_manifest {
	struct cpio_entry *entries;
	size_t count;
	size_t cap;
	char err[CPIO_ERR_MAX];
	unsigned long err_line;
};

void cpio_manifest_init(struct cpio_manifest *m);
int cpio_manifest_parse_line(struct cpio_manifest *m, const char *line,
			     unsigned long lineno);
int cpio_manifest_finish(struct cpio_manifest *m);
int cpio_manifest_write(struct cpio_manifest *m, int fd, unsigned long mtime);
void cpio_manifest_free(struct cpio_manifest *m);

int cpio_parse_ulong(const char *s, int base, unsigned long max,
		     unsigned long *ret_value);
int cpio_check_path(const char *path, const char **ret_why);

#endif
