#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "roottree.h"

static int add_entry(struct roottree *t, size_t *cap, const char *path,
		     const struct stat *st)
{
	struct roottree_entry *e;

	if (t->n == *cap) {
		size_t ncap = *cap ? 2 * *cap : 4096;

		e = realloc(t->entries, ncap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		t->entries = e;
		*cap = ncap;
	}
	e = &t->entries[t->n];
	*e = (struct roottree_entry){ .st = *st };
	e->path = strdup(path);
	if (!e->path)
		return -ENOMEM;
	t->n++;
	return 0;
}

static int note_unreadable(struct roottree *t, const char *path)
{
	t->unreadable++;
	if (!t->first_unreadable) {
		t->first_unreadable = strdup(path);
		if (!t->first_unreadable)
			return -ENOMEM;
	}
	return 0;
}

/* An ELF file's properties, kept on its entry; a file that is not ELF
 * is not an error. */
static int read_elf(struct roottree_entry *e, int dirfd, const char *name)
{
	struct elfinfo info;
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
	e->elf = malloc(sizeof(*e->elf));
	if (!e->elf)
		return -ENOMEM;
	*e->elf = info;
	return 0;
}

static int walk(struct roottree *t, size_t *cap, int dirfd, char *path,
		size_t len, dev_t dev, unsigned depth);

/* One directory entry: indexed, and entered if a directory on the same
 * file system. */
static int visit(struct roottree *t, size_t *cap, int dirfd, const char *name,
		 char *path, size_t len, dev_t dev, unsigned depth)
{
	size_t n = strlen(name);
	struct stat st;
	int r, fd;

	if (len + 1 + n >= PATH_MAX)
		return note_unreadable(t, path);
	path[len] = '/';
	memcpy(path + len + 1, name, n + 1);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return note_unreadable(t, path);
	r = add_entry(t, cap, path, &st);
	if (r == 0)
		r = read_elf(&t->entries[t->n - 1], dirfd, name);
	if (r < 0 || !S_ISDIR(st.st_mode))
		return r;
	if (st.st_dev != dev) {
		t->other_fs++;
		return 0;
	}
	if (depth >= ROOTTREE_DEPTH_MAX)
		return note_unreadable(t, path);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return note_unreadable(t, path);
	return walk(t, cap, fd, path, len + 1 + n, dev, depth + 1);
}

/* Takes fd (closes it). path[0..len) is the directory's path. */
static int walk(struct roottree *t, size_t *cap, int fd, char *path,
		size_t len, dev_t dev, unsigned depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		close(fd);
		path[len] = 0;
		return note_unreadable(t, len ? path : "/");
	}
	while (r == 0 && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = visit(t, cap, dirfd(d), de->d_name, path, len, dev, depth);
		path[len] = 0;
	}
	if (r == 0 && errno)
		r = note_unreadable(t, len ? path : "/");
	closedir(d);
	return r;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct roottree_entry *)a)->path,
		      ((const struct roottree_entry *)b)->path);
}

int roottree_load(const char *dir, struct roottree *ret)
{
	struct roottree t = { .fd = -1 };
	static char path[PATH_MAX];
	struct stat st;
	size_t cap = 0;
	int fd, r;

	t.fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t.fd < 0)
		return -errno;
	fd = openat(t.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		roottree_free(&t);
		return r;
	}
	path[0] = 0;
	r = add_entry(&t, &cap, "/", &st);
	if (r == 0)
		r = walk(&t, &cap, fd, path, 0, st.st_dev, 0);
	else
		close(fd);
	if (r < 0) {
		roottree_free(&t);
		return r;
	}
	qsort(t.entries, t.n, sizeof(*t.entries), entry_cmp);
	*ret = t;
	return 0;
}

void roottree_free(struct roottree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->entries[i].path);
		free(t->entries[i].elf);
	}
	free(t->entries);
	free(t->first_unreadable);
	if (t->fd >= 0)
		close(t->fd);
	*t = (struct roottree){ .fd = -1 };
}

const struct roottree_entry *roottree_find(const struct roottree *t,
					   const char *path)
{
	struct roottree_entry key = { .path = (char *)path };

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
