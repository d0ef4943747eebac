/*
 * newc cpio writer and the manifest sealroot-mkcpio packs from.
 *
 * Reproducibility is the point: entries are sorted by path (byte order,
 * so a parent directory always precedes what it contains), owners are
 * 0:0, mtimes come from the caller, inode numbers count up in output
 * order and device fields of the host file system are never copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"

#define CPIO_NFIELDS 13
#define COPY_CHUNK 65536

void cpio_writer_init(struct cpio_writer *w, int fd, unsigned long mtime)
{
	w->fd = fd;
	w->mtime = mtime;
	w->next_ino = 1;
	w->written = 0;
}

/* Write all of buf: a short write is retried, never dropped. */
int cpio_write_data(struct cpio_writer *w, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(w->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= n;
		w->written += n;
	}
	return 0;
}

/* newc aligns every header and every data block to 4 bytes. */
int cpio_write_pad(struct cpio_writer *w)
{
	static const char zero[4];

	return cpio_write_data(w, zero, (4 - (w->written & 3)) & 3);
}

static void put_hex8(char *dst, unsigned long v)
{
	static const char digits[] = "0123456789ABCDEF";
	int i;

	for (i = 7; i >= 0; i--) {
		dst[i] = digits[v & 0xf];
		v >>= 4;
	}
}

/* One record head: magic, the 13 fields, the name with its NUL, padding. */
static int write_record(struct cpio_writer *w,
			const unsigned long f[CPIO_NFIELDS], const char *name)
{
	char hdr[CPIO_HEADER_LEN];
	int i, r;

	for (i = 0; i < CPIO_NFIELDS; i++) {
		if (f[i] > CPIO_FIELD_MAX)
			return -EOVERFLOW;
		put_hex8(hdr + 6 + 8 * i, f[i]);
	}
	memcpy(hdr, CPIO_MAGIC, 6);
	r = cpio_write_data(w, hdr, sizeof(hdr));
	if (!r)
		r = cpio_write_data(w, name, strlen(name) + 1);
	if (!r)
		r = cpio_write_pad(w);
	return r;
}

/*
 * Header of one entry: mode carries the file type bits. The caller then
 * writes filesize bytes of data and the padding.
 */
int cpio_write_header(struct cpio_writer *w, const char *name,
		      unsigned int mode, unsigned long filesize,
		      unsigned int rmajor, unsigned int rminor)
{
	size_t namesize = strlen(name) + 1;
	unsigned long f[CPIO_NFIELDS] = {
		w->next_ino, mode, 0, 0, S_ISDIR(mode) ? 2 : 1, w->mtime,
		filesize, 0, 0, rmajor, rminor, namesize, 0,
	};
	int r;

	if (namesize > CPIO_PATH_MAX)
		return -ENAMETOOLONG;
	r = write_record(w, f, name);
	if (!r)
		w->next_ino++;
	return r;
}

int cpio_write_trailer(struct cpio_writer *w)
{
	static const char name[] = CPIO_TRAILER;
	const unsigned long f[CPIO_NFIELDS] = {
		0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, sizeof(name), 0,
	};

	return write_record(w, f, name);
}

/*
 * Number with strtoul + endptr + range. Only digits are accepted: strtoul
 * alone would take leading blanks and a sign ("-1" wraps to ULONG_MAX).
 */
int cpio_parse_ulong(const char *s, int base, unsigned long max,
		     unsigned long *ret_value)
{
	unsigned long v;
	char *end;

	if (!s || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, base);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*ret_value = v;
	return 0;
}

static int check_component(const char *c, size_t len, const char **ret_why)
{
	if (len == 0) {
		*ret_why = "empty component ('//' or a trailing '/')";
		return -EINVAL;
	}
	if ((len == 1 && c[0] == '.') || (len == 2 && !strncmp(c, "..", 2))) {
		*ret_why = "'.' or '..' component";
		return -EINVAL;
	}
	return 0;
}

/*
 * Archive names are relative ("dev/console") and canonical, so sorting
 * and the duplicate and parent checks see one spelling per file.
 */
int cpio_check_path(const char *path, const char **ret_why)
{
	const char *c = path, *slash;
	int r;

	if (strlen(path) >= CPIO_PATH_MAX) {
		*ret_why = "path longer than 4095 bytes";
		return -ENAMETOOLONG;
	}
	if (path[0] == '/') {
		*ret_why = "absolute path (archive paths are relative: drop the leading '/')";
		return -EINVAL;
	}
	for (;;) {
		slash = strchr(c, '/');
		r = check_component(c, slash ? (size_t)(slash - c) : strlen(c),
				    ret_why);
		if (r || !slash)
			return r;
		c = slash + 1;
	}
}

void cpio_manifest_init(struct cpio_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

/* Record why the manifest failed; a cut message ends in "...". */
static int fail(struct cpio_manifest *m, unsigned long line, int err,
		const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(m->err))
		memcpy(m->err + sizeof(m->err) - 4, "...", 4);
	m->err_line = line;
	return err;
}

static int append(struct cpio_manifest *m, const struct cpio_entry *e)
{
	struct cpio_entry *grown, *dst;
	size_t cap;

	if (m->count == m->cap) {
		cap = m->cap ? m->cap * 2 : 64;
		if (cap > SIZE_MAX / sizeof(*grown))
			return fail(m, e->line, -ENOMEM, "too many entries");
		grown = realloc(m->entries, cap * sizeof(*grown));
		if (!grown)
			return fail(m, e->line, -ENOMEM, "out of memory");
		m->entries = grown;
		m->cap = cap;
	}
	dst = &m->entries[m->count];
	*dst = *e;
	dst->path = strdup(e->path);
	dst->arg = e->arg ? strdup(e->arg) : NULL;
	if (!dst->path || (e->arg && !dst->arg)) {
		free(dst->path);
		free(dst->arg);
		return fail(m, e->line, -ENOMEM, "out of memory");
	}
	m->count++;
	return 0;
}

struct kind {
	const char *word;
	enum cpio_type type;	/* nod: CPIO_CHR until the c|b field says */
	int nfields;		/* including the word */
	int mode_field;
	const char *usage;
};

static const struct kind kinds[] = {
	{ "dir", CPIO_DIR, 3, 2, "dir <path> <mode>" },
	{ "file", CPIO_FILE, 4, 2, "file <path> <mode> <source>" },
	{ "slink", CPIO_SLINK, 4, 3, "slink <path> <target> <mode>" },
	{ "nod", CPIO_CHR, 6, 2, "nod <path> <mode> <c|b> <major> <minor>" },
};

static const struct kind *find_kind(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].word, word))
			return &kinds[i];
	return NULL;
}

static int parse_dev(struct cpio_manifest *m, char **f, struct cpio_entry *e)
{
	unsigned long major, minor;

	if (!strcmp(f[3], "c"))
		e->type = CPIO_CHR;
	else if (!strcmp(f[3], "b"))
		e->type = CPIO_BLK;
	else
		return fail(m, e->line, -EINVAL,
			    "bad device type '%s': expected 'c' or 'b'", f[3]);
	if (cpio_parse_ulong(f[4], 10, CPIO_MAJOR_MAX, &major))
		return fail(m, e->line, -EINVAL,
			    "bad major '%s': expected decimal 0 to %lu",
			    f[4], CPIO_MAJOR_MAX);
	if (cpio_parse_ulong(f[5], 10, CPIO_MINOR_MAX, &minor))
		return fail(m, e->line, -EINVAL,
			    "bad minor '%s': expected decimal 0 to %lu",
			    f[5], CPIO_MINOR_MAX);
	e->major = major;
	e->minor = minor;
	return 0;
}

/* Type-specific fields; path and mode are already checked. */
static int parse_kind(struct cpio_manifest *m, const struct kind *k,
		      char **f, struct cpio_entry *e)
{
	e->type = k->type;
	switch (k->type) {
	case CPIO_FILE:
		e->arg = f[3];
		return 0;
	case CPIO_SLINK:
		e->arg = f[2];
		if (strlen(f[2]) >= CPIO_PATH_MAX)
			return fail(m, e->line, -ENAMETOOLONG,
				    "symlink target longer than 4095 bytes");
		return 0;
	case CPIO_CHR:
	case CPIO_BLK:
		return parse_dev(m, f, e);
	default:
		return 0;
	}
}

static int parse_fields(struct cpio_manifest *m, char **f, int n,
			unsigned long lineno)
{
	struct cpio_entry e = { .line = lineno };
	const struct kind *k = find_kind(f[0]);
	unsigned long perm;
	const char *why;
	int r;

	if (!k)
		return fail(m, lineno, -EINVAL,
			    "unknown entry type '%s' (expected dir, file, slink or nod)",
			    f[0]);
	if (n != k->nfields)
		return fail(m, lineno, -EINVAL, "%s fields, expected '%s'",
			    n < k->nfields ? "too few" : "too many", k->usage);
	r = cpio_check_path(f[1], &why);
	if (r)
		return fail(m, lineno, r, "bad path '%s': %s", f[1], why);
	e.path = f[1];
	if (cpio_parse_ulong(f[k->mode_field], 8, 07777, &perm))
		return fail(m, lineno, -EINVAL,
			    "bad mode '%s': expected octal 0 to 7777",
			    f[k->mode_field]);
	e.perm = perm;
	r = parse_kind(m, k, f, &e);
	if (r)
		return r;
	return append(m, &e);
}

/* Split on blanks; returns the field count, max + 1 if there are more. */
static int split_fields(char *s, char **f, int max)
{
	int n = 0;

	for (;;) {
		s += strspn(s, " \t");
		if (!*s)
			return n;
		if (n == max)
			return max + 1;
		f[n++] = s;
		s += strcspn(s, " \t");
		if (*s)
			*s++ = '\0';
	}
}

static int check_chars(struct cpio_manifest *m, const char *line,
		       unsigned long lineno)
{
	const unsigned char *p;

	for (p = (const unsigned char *)line; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return fail(m, lineno, -EINVAL,
				    "control character 0x%02x", *p);
	return 0;
}

/*
 * One manifest line (without its newline). Blank lines and lines whose
 * first non-blank character is '#' are skipped. Fields cannot contain
 * blanks, so a path with a space cannot be expressed and is refused.
 */
int cpio_manifest_parse_line(struct cpio_manifest *m, const char *line,
			     unsigned long lineno)
{
	char *buf, *f[6];
	int n, r;

	r = check_chars(m, line, lineno);
	if (r)
		return r;
	buf = strdup(line);
	if (!buf)
		return fail(m, lineno, -ENOMEM, "out of memory");
	n = split_fields(buf, f, 6);
	if (n == 0 || f[0][0] == '#')
		r = 0;
	else if (n > 6)
		r = fail(m, lineno, -EINVAL, "too many fields");
	else
		r = parse_fields(m, f, n, lineno);
	free(buf);
	return r;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct cpio_entry *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

/* strcmp(path, key[0..len)) without copying the key. */
static int prefix_cmp(const char *path, const char *key, size_t len)
{
	int c = strncmp(path, key, len);

	if (c)
		return c;
	return path[len] != '\0';
}

static const struct cpio_entry *find_entry(const struct cpio_manifest *m,
					   const char *key, size_t len)
{
	size_t lo = 0, hi = m->count, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = prefix_cmp(m->entries[mid].path, key, len);
		if (c == 0)
			return &m->entries[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The kernel unpacker does not create missing parents: insist on them. */
static int check_parent(struct cpio_manifest *m, const struct cpio_entry *e)
{
	const char *slash = strrchr(e->path, '/');
	const struct cpio_entry *p;
	int len;

	if (!slash)
		return 0;
	len = slash - e->path;
	p = find_entry(m, e->path, len);
	if (!p)
		return fail(m, e->line, -ENOENT,
			    "parent directory '%.*s' of '%s' is not in the manifest",
			    len, e->path, e->path);
	if (p->type != CPIO_DIR)
		return fail(m, e->line, -ENOTDIR,
			    "parent '%.*s' of '%s' is not a directory (line %lu)",
			    len, e->path, e->path, p->line);
	return 0;
}

/* Sort by path, then refuse duplicates and entries without a parent. */
int cpio_manifest_finish(struct cpio_manifest *m)
{
	const struct cpio_entry *e;
	size_t i;
	int r;

	if (m->count)
		qsort(m->entries, m->count, sizeof(*e), entry_cmp);
	for (i = 0; i < m->count; i++) {
		e = &m->entries[i];
		if (i > 0 && !strcmp(e->path, e[-1].path))
			return fail(m, e->line, -EEXIST,
				    "duplicate path '%s' (first on line %lu)",
				    e->path, e[-1].line);
		r = check_parent(m, e);
		if (r)
			return r;
	}
	return 0;
}

static int fail_output(struct cpio_manifest *m, int err)
{
	return fail(m, 0, err, "cannot write '<archive>': %s", strerror(-err));
}

static int check_source(struct cpio_manifest *m, const struct cpio_entry *e,
			int fd, struct stat *st)
{
	if (fstat(fd, st) < 0)
		return fail(m, e->line, -errno, "cannot stat '%s': %s",
			    e->arg, strerror(errno));
	if (!S_ISREG(st->st_mode))
		return fail(m, e->line, -EINVAL,
			    "cannot pack '%s': not a regular file", e->arg);
	if ((unsigned long long)st->st_size > CPIO_FIELD_MAX)
		return fail(m, e->line, -EFBIG,
			    "cannot pack '%s': larger than the 4 GiB newc limit",
			    e->arg);
	return 0;
}

/* After size bytes the source must be at its end: never cut a file. */
static int check_eof(struct cpio_manifest *m, const struct cpio_entry *e,
		     int fd)
{
	ssize_t n;
	char c;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(m, e->line, -errno, "cannot read '%s': %s",
			    e->arg, strerror(errno));
	if (n > 0)
		return fail(m, e->line, -EFBIG,
			    "cannot read '%s': file grew while packing", e->arg);
	return 0;
}

static int copy_source(struct cpio_manifest *m, struct cpio_writer *w,
		       const struct cpio_entry *e, int fd, off_t size)
{
	char buf[COPY_CHUNK];
	off_t left = size;
	ssize_t n;
	int r;

	while (left > 0) {
		n = read(fd, buf, left < COPY_CHUNK ? (size_t)left : COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(m, e->line, -errno, "cannot read '%s': %s",
				    e->arg, strerror(errno));
		if (n == 0)
			return fail(m, e->line, -ENODATA,
				    "cannot read '%s': file shrank while packing",
				    e->arg);
		r = cpio_write_data(w, buf, n);
		if (r)
			return fail_output(m, r);
		left -= n;
	}
	return check_eof(m, e, fd);
}

static int write_file(struct cpio_manifest *m, struct cpio_writer *w,
		      const struct cpio_entry *e)
{
	struct stat st;
	int fd, r;

	fd = open(e->arg, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fail(m, e->line, -errno, "cannot open '%s': %s",
			    e->arg, strerror(errno));
	r = check_source(m, e, fd, &st);
	if (r)
		goto out_close;
	r = cpio_write_header(w, e->path, S_IFREG | e->perm, st.st_size, 0, 0);
	if (r) {
		r = fail_output(m, r);
		goto out_close;
	}
	r = copy_source(m, w, e, fd, st.st_size);
	if (r)
		goto out_close;
	r = cpio_write_pad(w);
	if (r)
		r = fail_output(m, r);
out_close:
	close(fd);
	return r;
}

static int write_slink(struct cpio_writer *w, const struct cpio_entry *e)
{
	size_t len = strlen(e->arg);
	int r;

	r = cpio_write_header(w, e->path, S_IFLNK | e->perm, len, 0, 0);
	if (!r)
		r = cpio_write_data(w, e->arg, len);
	if (!r)
		r = cpio_write_pad(w);
	return r;
}

static int write_entry(struct cpio_manifest *m, struct cpio_writer *w,
		       const struct cpio_entry *e)
{
	int r = 0;

	switch (e->type) {
	case CPIO_FILE:
		return write_file(m, w, e);
	case CPIO_DIR:
		r = cpio_write_header(w, e->path, S_IFDIR | e->perm, 0, 0, 0);
		break;
	case CPIO_SLINK:
		r = write_slink(w, e);
		break;
	case CPIO_CHR:
		r = cpio_write_header(w, e->path, S_IFCHR | e->perm, 0,
				      e->major, e->minor);
		break;
	case CPIO_BLK:
		r = cpio_write_header(w, e->path, S_IFBLK | e->perm, 0,
				      e->major, e->minor);
		break;
	}
	return r ? fail_output(m, r) : 0;
}

/* Write the finished (sorted, checked) manifest and the trailer to fd. */
int cpio_manifest_write(struct cpio_manifest *m, int fd, unsigned long mtime)
{
	struct cpio_writer w;
	size_t i;
	int r;

	if (mtime > CPIO_FIELD_MAX)
		return fail(m, 0, -ERANGE, "mtime %lu does not fit newc", mtime);
	cpio_writer_init(&w, fd, mtime);
	for (i = 0; i < m->count; i++) {
		r = write_entry(m, &w, &m->entries[i]);
		if (r)
			return r;
	}
	r = cpio_write_trailer(&w);
	return r ? fail_output(m, r) : 0;
}

void cpio_manifest_free(struct cpio_manifest *m)
{
	size_t i;

	for (i = 0; i < m->count; i++) {
		free(m->entries[i].path);
		free(m->entries[i].arg);
	}
	free(m->entries);
	cpio_manifest_init(m);
}
