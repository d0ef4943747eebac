/* A root tree being sealed (an unpacked root image), indexed once for the
 * audit's checks: every entry with its lstat() and, for an ELF file, what
 * elfinfo read from it. Paths are absolute as seen from inside the tree
 * ("/usr/bin/su"), sorted, so reports are the same on every run. Symlinks
 * are never followed by the walk; roottree_open() resolves them as the
 * booted system would, inside the tree (openat2 RESOLVE_IN_ROOT). Host
 * only. */
#ifndef SEALROOT_ROOTTREE_H
#define SEALROOT_ROOTTREE_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include "elfinfo.h"

#define ROOTTREE_DEPTH_MAX 128

struct roottree_entry {
	const char *path;
	struct stat st;
	const struct elfinfo *elf;	/* an ELF file elfinfo could read, else NULL */
	int elf_error;		/* why not: 0 (not a regular file, or not ELF)
				 * or elfinfo_read's -errno */
};

struct roottree_arena {
	unsigned char *base;
	size_t used, size;
};

struct roottree {
	int fd;			/* the tree's top directory (O_PATH) */
	struct roottree_entry *entries;
	size_t n;
	struct roottree_arena entry_arena;	/* entries is its base */
	struct roottree_arena data_arena;	/* the paths and ELF properties */
	size_t unreadable;	/* directories not read (error, depth) */
	char first_unreadable[PATH_MAX];
	size_t other_fs;	/* mount points of other file systems, not entered */
};

/* Walk dir into *t. -errno if dir itself cannot be opened or memory runs
 * out (*t is then empty, nothing to free); directories below that cannot
 * be read are counted, not fatal. */
int roottree_load(const char *dir, struct roottree *t);

void roottree_free(struct roottree *t);

/* The entry for path, or NULL. */
const struct roottree_entry *roottree_find(const struct roottree *t,
					   const char *path);

/* Open path (absolute, as inside the tree) with symlinks resolved inside
 * the tree: an fd, or -errno. */
int roottree_open(const struct roottree *t, const char *path, int flags);

/* Read a small file of the tree into buf, NUL-terminated; -EFBIG if it
 * does not fit in size - 1 bytes. */
int roottree_read(const struct roottree *t, const char *path, char *buf,
		  size_t size, size_t *ret_len);

#endif
