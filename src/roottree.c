#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "roottree.h"

/* Storage: two arenas reserved up front (address space only, pages come
 * as they are written), bump-allocated, released whole. The entries one
 * is their array; paths and ELF properties never move in the other, so
 * an entry points at them from the start. Nothing is allocated per file;
 * a tree that does not fit is -ENOMEM, never cut short. */
#define ARENA_WANT ((size_t)1 << 30)
#define ARENA_MIN ((size_t)16 << 20)

static int arena_reserve(struct roottree_arena *a)
{
	for (size_t size = ARENA_WANT; size >= ARENA_MIN; size /= 2) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p != MAP_FAILED) {
			*a = (struct roottree_arena){ .base = p, .size = size };
			return 0;
		}
	}
	return -ENOMEM;
}

static void arena_release(struct roottree_arena *a)
{
	if (a->base)
		munmap(a->base, a->size);
	*a = (struct roottree_arena){ 0 };
}

static void *arena_alloc(struct roottree_arena *a, size_t size)
{
	size_t align = _Alignof(max_align_t), at = (a->used + align - 1) & ~(align - 1);

	if (at > a->size || a->size - at < size)
		return NULL;
	a->used = at + size;
	return a->base + at;
}

struct walk {
	struct roottree *t;
};

static int add_entry(struct walk *w, const char *path, const struct stat *st,
		     struct roottree_entry **ret)
{
	struct roottree *t = w->t;
	size_t n = strlen(path) + 1;
	struct roottree_entry *e;
	char *name;

	if ((t->entry_arena.size - t->entry_arena.used) / sizeof(*e) == 0)
		return -ENOMEM;
	name = arena_alloc(&t->data_arena, n);
	if (!name)
		return -ENOMEM;
	memcpy(name, path, n);
	e = &t->entries[t->n++];
	t->entry_arena.used += sizeof(*e);
	*e = (struct roottree_entry){ .path = name, .st = *st };
	*ret = e;
	return 0;
}

static int note_unreadable(struct walk *w, const char *path)
{
	struct roottree *t = w->t;

	if (!t->unreadable++)
		snprintf(t->first_unreadable, sizeof(t->first_unreadable), "%s", path);
	return 0;
}

/* An ELF file's properties, kept for its entry; a file that is not ELF
 * is not an error. */
static int read_elf(struct walk *w, struct roottree_entry *e, int dirfd,
		    const char *name)
{
	struct elfinfo info, *elf;
	int r;

	if (!S_ISREG(e->st.st_mode) || e->st.st_size < 52)
		return 0;
	r = elfinfo_read(dirfd, name, &info);
	if (r == -ENOEXEC)
		return 0;
	if (r < 0) {
		e->elf_error = r;
		return 0;
	}
	elf = arena_alloc(&w->t->data_arena, sizeof(*elf));
	if (!elf)
		return -ENOMEM;
	*elf = info;
	e->elf = elf;
	return 0;
}

static int walk(struct walk *w, int dirfd, char *path, size_t len, dev_t dev,
		unsigned depth);

/* One directory entry: indexed, and entered if a directory on the same
 * file system. */
static int visit(struct walk *w, int dirfd, const char *name, char *path,
		 size_t len, dev_t dev, unsigned depth)
{
	struct roottree *t = w->t;
	size_t n = strlen(name);
	struct roottree_entry *e;
	struct stat st;
	int r, fd;

	if (len + 1 + n >= PATH_MAX)
		return note_unreadable(w, path);
	path[len] = '/';
	memcpy(path + len + 1, name, n + 1);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return note_unreadable(w, path);
	r = add_entry(w, path, &st, &e);
	if (r == 0)
		r = read_elf(w, e, dirfd, name);
	if (r < 0 || !S_ISDIR(st.st_mode))
		return r;
	if (st.st_dev != dev) {
		t->other_fs++;
		return 0;
	}
	if (depth >= ROOTTREE_DEPTH_MAX)
		return note_unreadable(w, path);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return note_unreadable(w, path);
	return walk(w, fd, path, len + 1 + n, dev, depth + 1);
}

/* Takes fd (closes it). path[0..len) is the directory's path. */
static int walk(struct walk *w, int fd, char *path, size_t len, dev_t dev,
		unsigned depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		close(fd);
		path[len] = 0;
		return note_unreadable(w, len ? path : "/");
	}
	while (r == 0 && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = visit(w, dirfd(d), de->d_name, path, len, dev, depth);
		path[len] = 0;
	}
	if (r == 0 && errno)
		r = note_unreadable(w, len ? path : "/");
	closedir(d);
	return r;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct roottree_entry *)a)->path,
		      ((const struct roottree_entry *)b)->path);
}

/* Loads into *t directly (the walk's buffers hang off it); on error it
 * is freed and left empty. */
int roottree_load(const char *dir, struct roottree *t)
{
	struct walk w = { .t = t };
	struct roottree_entry *top;
	static char path[PATH_MAX];
	struct stat st;
	int fd = -1, r;

	*t = (struct roottree){ .fd = -1 };
	r = arena_reserve(&t->entry_arena);
	if (r == 0)
		r = arena_reserve(&t->data_arena);
	if (r == 0 && (t->fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0 && (fd = openat(t->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0 && fstat(fd, &st) < 0)
		r = -errno;
	t->entries = (struct roottree_entry *)t->entry_arena.base;
	path[0] = 0;
	if (r == 0)
		r = add_entry(&w, "/", &st, &top);
	if (r == 0) {
		r = walk(&w, fd, path, 0, st.st_dev, 0);
		fd = -1;
	}
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		roottree_free(t);
		return r;
	}
	qsort(t->entries, t->n, sizeof(*t->entries), entry_cmp);
	return 0;
}

void roottree_free(struct roottree *t)
{
	arena_release(&t->entry_arena);
	arena_release(&t->data_arena);
	if (t->fd >= 0)
		close(t->fd);
	*t = (struct roottree){ .fd = -1 };
}

const struct roottree_entry *roottree_find(const struct roottree *t,
					   const char *path)
{
	struct roottree_entry key = { .path = path };

	return bsearch(&key, t->entries, t->n, sizeof(key), entry_cmp);
}

int roottree_open(const struct roottree *t, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, t->fd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

int roottree_read(const struct roottree *t, const char *path, char *buf,
		  size_t size, size_t *ret_len)
{
	struct stat st;
	size_t len = 0;
	ssize_t n = 0;
	int fd, r = 0;

	fd = roottree_open(t, path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0)
		r = -errno;
	else if (len == size - 1 && read(fd, &(char){ 0 }, 1) > 0)
		r = -EFBIG;
	close(fd);
	if (r == 0) {
		buf[len] = 0;
		*ret_len = len;
	}
	return r;
}
