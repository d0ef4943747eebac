#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kconfig.h"

extern char **environ;

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* "CONFIG_NAME" at s, n bytes: the length of NAME, 0 if s is not one. */
static size_t option_name(const char *s, size_t n)
{
	size_t i = 7;

	if (n < 8 || strncmp(s, "CONFIG_", 7))
		return 0;
	while (i < n && name_char(s[i]))
		i++;
	return i - 7;
}

static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return true;
	return false;
}

/* "# Linux/ARCH VERSION Kernel Configuration": VERSION, cut in place. */
static const char *header_version(char *s, size_t n)
{
	static const char tail[] = " Kernel Configuration";
	size_t t = sizeof(tail) - 1;
	char *v;

	if (n <= 8 + t || strncmp(s, "# Linux/", 8) || strcmp(s + n - t, tail))
		return NULL;
	s[n - t] = 0;
	v = strchr(s + 8, ' ');
	return v && v[1] ? v + 1 : NULL;
}

/* One line, NUL-terminated in place: an entry, nothing (comment, blank)
 * or -EBADMSG. */
static int parse_line(struct kconfig *kc, char *s, size_t n,
		      struct kconfig_entry *e)
{
	static const char unset[] = " is not set";
	size_t k;

	if (has_control(s, n))
		return -EBADMSG;
	if (s[0] == '#' && !kc->version && (kc->version = header_version(s, n)))
		return 0;
	if (s[0] == '#') {
		k = n > 2 && s[1] == ' ' ? option_name(s + 2, n - 2) : 0;
		if (!k || n != 2 + 7 + k + sizeof(unset) - 1 ||
		    strcmp(s + 2 + 7 + k, unset))
			return 0;
		s[2 + 7 + k] = 0;
		e->name = s + 2 + 7;
		e->value = "n";
		return 1;
	}
	if (strspn(s, " \t") == n)
		return 0;
	k = option_name(s, n);
	if (!k || s[7 + k] != '=' || !s[7 + k + 1])
		return -EBADMSG;
	s[7 + k] = 0;
	e->name = s + 7;
	e->value = s + 7 + k + 1;
	return 1;
}

/* By name, then line: the last of equal names is the one that counts. */
static int entry_cmp(const void *a, const void *b)
{
	const struct kconfig_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static void sort_unique(struct kconfig *kc)
{
	size_t o = 0;

	qsort(kc->entries, kc->n, sizeof(*kc->entries), entry_cmp);
	for (size_t i = 0; i < kc->n; i++) {
		if (o && !strcmp(kc->entries[o - 1].name, kc->entries[i].name))
			o--;
		kc->entries[o++] = kc->entries[i];
	}
	kc->n = o;
}

static int parse_lines(struct kconfig *kc, size_t len, unsigned *ret_line)
{
	size_t pos = 0, cap = 0;
	unsigned line = 0;
	int r;

	while (pos < len) {
		char *s = kc->text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		struct kconfig_entry e;

		line++;
		s[n] = 0;
		r = parse_line(kc, s, n, &e);
		if (r < 0) {
			*ret_line = line;
			return r;
		}
		pos += n + 1;
		if (!r)
			continue;
		if (kc->n == cap) {
			struct kconfig_entry *p;

			cap = cap ? 2 * cap : 1024;
			p = realloc(kc->entries, cap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			kc->entries = p;
		}
		e.line = line;
		kc->entries[kc->n++] = e;
	}
	return kc->n ? 0 : -ENODATA;
}

int kconfig_parse(const char *text, size_t len, struct kconfig *ret,
		  unsigned *ret_line)
{
	struct kconfig kc = { 0 };
	unsigned line = 0;
	int r;

	kc.text = malloc(len + 1);
	if (!kc.text)
		return -ENOMEM;
	memcpy(kc.text, text, len);
	kc.text[len] = 0;
	r = parse_lines(&kc, len, &line);
	if (r < 0) {
		if (ret_line)
			*ret_line = line;
		kconfig_free(&kc);
		return r;
	}
	sort_unique(&kc);
	*ret = kc;
	return 0;
}

/* The whole file, mapped; -EFBIG past max. */
static int map_file(const char *path, size_t max, const char **ret,
		    size_t *ret_len)
{
	struct stat st;
	void *p;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		r = -EFBIG;
	else if (st.st_size == 0)
		r = -ENODATA;
	if (r == 0) {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			r = -errno;
		else {
			*ret = p;
			*ret_len = (size_t)st.st_size;
		}
	}
	close(fd);
	return r;
}

int kconfig_read(const char *path, struct kconfig *ret, unsigned *ret_line)
{
	const char *text;
	size_t len;
	int r;

	r = map_file(path, KCONFIG_FILE_MAX, &text, &len);
	if (r == -ENODATA)
		return kconfig_parse("", 0, ret, ret_line);
	if (r < 0)
		return r;
	r = kconfig_parse(text, len, ret, ret_line);
	munmap((void *)text, len);
	return r;
}

/* Embedded configuration ------------------------------------------------ */

struct buf {
	char *p;
	size_t len, cap;
};

/* Run argv with stdin from in (at its current offset) and read its
 * stdout into out, at most KCONFIG_IMAGE_MAX bytes (-EFBIG past it). The
 * exit status is not looked at: a decompressor given a stream with
 * trailing bytes complains after writing what it decoded. */
static int run_filter(char *const argv[], int in, struct buf *out)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2], r, status;
	ssize_t n = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	r = -posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r < 0) {
		close(pipefd[0]);
		return r;
	}
	out->len = 0;
	for (;;) {
		if (out->cap - out->len < 65536) {
			char *p;

			if (out->cap >= KCONFIG_IMAGE_MAX) {
				r = -EFBIG;
				break;
			}
			p = realloc(out->p, out->cap ? 2 * out->cap : 1u << 20);
			if (!p) {
				r = -ENOMEM;
				break;
			}
			out->p = p;
			out->cap = out->cap ? 2 * out->cap : 1u << 20;
		}
		n = read(pipefd[0], out->p + out->len, out->cap - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out->len += (size_t)n;
	}
	if (n < 0 && r == 0)
		r = -errno;
	if (r < 0)
		kill(pid, SIGKILL);
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return r;
}

/* A memory file holding data, to be a child's stdin. */
static int memfd_with(const char *data, size_t len)
{
	int fd = memfd_create("kconfig", MFD_CLOEXEC);
	size_t o = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (o < len) {
		n = write(fd, data + o, len - o);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return (int)n;
		}
		o += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	return fd;
}

static const char *find(const char *hay, size_t len, const char *needle,
			size_t n)
{
	return memmem(hay, len, needle, n);
}

/* "IKCFG_ST" gzip "IKCFG_ED" in data: the configuration, gunzipped. */
static int from_marker(const char *data, size_t len, struct kconfig *ret,
		       unsigned *ret_line)
{
	const char *st = find(data, len, "IKCFG_ST", 8), *ed;
	char *gunzip[] = { "gzip", "-dc", NULL };
	struct buf text = { 0 };
	int fd, r;

	if (!st)
		return -ENOMSG;
	st += 8;
	ed = find(st, len - (size_t)(st - data), "IKCFG_ED", 8);
	if (!ed)
		return -EBADMSG;
	fd = memfd_with(st, (size_t)(ed - st));
	if (fd < 0)
		return fd;
	r = run_filter(gunzip, fd, &text);
	close(fd);
	if (r == 0)
		r = text.len ? kconfig_parse(text.p, text.len, ret, ret_line) : -EBADMSG;
	free(text.p);
	return r;
}

struct codec {
	const char *magic;
	size_t len;
	const char *tool;
};

static const struct codec codecs[] = {
	{ "\037\213\010", 3, "gzip" },
	{ "\3757zXZ\000", 6, "xz" },
	{ "(\265/\375", 4, "zstd" },
	{ "\002!L\030", 4, "lz4" },
	{ "BZh", 3, "bzip2" },
};

/* Decompress the stream at off of the image (fd) and look for the
 * configuration in what comes out. */
static int try_stream(int fd, size_t off, const struct codec *c,
		      struct buf *out, struct kconfig *ret, unsigned *ret_line)
{
	char *argv[] = { (char *)c->tool, "-dc", NULL };
	int r;

	if (lseek(fd, (off_t)off, SEEK_SET) < 0)
		return -errno;
	r = run_filter(argv, fd, out);
	if (r == -ENOENT)
		return -ENOMSG;
	if (r < 0)
		return r;
	return from_marker(out->p, out->len, ret, ret_line);
}

/* The offset of a bzImage's compressed payload (x86 boot protocol
 * 2.08+: setup_sects at 0x1f1, "HdrS" at 0x202, payload_offset at 0x248
 * from the protected-mode code), or 0. */
static size_t bzimage_payload(const unsigned char *p, size_t len)
{
	size_t setup, off;

	if (len < 0x250 || memcmp(p + 0x202, "HdrS", 4) ||
	    (p[0x206] | p[0x207] << 8) < 0x208)
		return 0;
	setup = (size_t)(p[0x1f1] ? p[0x1f1] : 4) + 1;
	off = setup * 512 + ((size_t)p[0x248] | (size_t)p[0x249] << 8 |
			     (size_t)p[0x24a] << 16 | (size_t)p[0x24b] << 24);
	return off < len ? off : 0;
}

/* Where to try: the bzImage payload, else each place a codec's magic
 * appears, a few per codec, in file order. */
static int try_image(int fd, const char *img, size_t len, struct kconfig *ret,
		     unsigned *ret_line)
{
	size_t payload = bzimage_payload((const unsigned char *)img, len);
	struct buf out = { 0 };
	int r = -ENOMSG;

	for (size_t i = 0; payload && r == -ENOMSG && i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (len - payload >= codecs[i].len &&
		    !memcmp(img + payload, codecs[i].magic, codecs[i].len))
			r = try_stream(fd, payload, &codecs[i], &out, ret, ret_line);
	for (size_t i = 0; r == -ENOMSG && i < sizeof(codecs) / sizeof(codecs[0]); i++) {
		const char *p = img;

		for (int tries = 0; r == -ENOMSG && tries < 4; tries++) {
			p = find(p, len - (size_t)(p - img), codecs[i].magic, codecs[i].len);
			if (!p)
				break;
			if ((size_t)(p - img) != payload)
				r = try_stream(fd, (size_t)(p - img), &codecs[i], &out, ret, ret_line);
			p++;
		}
	}
	free(out.p);
	return r;
}

int kconfig_extract(const char *image, struct kconfig *ret, unsigned *ret_line)
{
	const char *img;
	size_t len;
	int fd, r;

	r = map_file(image, KCONFIG_IMAGE_MAX, &img, &len);
	if (r == -ENODATA)
		return -ENOMSG;
	if (r < 0)
		return r;
	r = from_marker(img, len, ret, ret_line);
	if (r == -ENOMSG) {
		fd = open(image, O_RDONLY | O_CLOEXEC);
		r = fd < 0 ? -errno : try_image(fd, img, len, ret, ret_line);
		if (fd >= 0)
			close(fd);
	}
	munmap((void *)img, len);
	return r;
}

void kconfig_free(struct kconfig *kc)
{
	free(kc->entries);
	free(kc->text);
	kc->entries = NULL;
	kc->text = NULL;
	kc->n = 0;
}

static const struct kconfig_entry *lookup(const struct kconfig *kc,
					  const char *name)
{
	size_t lo = 0, hi = kc->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, kc->entries[mid].name);

		if (!c)
			return &kc->entries[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *kconfig_value(const struct kconfig *kc, const char *name)
{
	const struct kconfig_entry *e = lookup(kc, name);

	return e ? e->value : NULL;
}

enum kconfig_state kconfig_get(const struct kconfig *kc, const char *name)
{
	const char *v = kconfig_value(kc, name);

	if (!v)
		return KCONFIG_ABSENT;
	if (!strcmp(v, "n"))
		return KCONFIG_NO;
	if (!strcmp(v, "m"))
		return KCONFIG_MODULE;
	if (!strcmp(v, "y"))
		return KCONFIG_BUILTIN;
	return KCONFIG_VALUE;
}

int kconfig_version(const struct kconfig *kc, unsigned *ret_major,
		    unsigned *ret_minor)
{
	unsigned long major, minor;
	char *end;

	if (!kc->version || kc->version[0] < '0' || kc->version[0] > '9')
		return -ENODATA;
	major = strtoul(kc->version, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -ENODATA;
	minor = strtoul(end + 1, &end, 10);
	if (major > 1000 || minor > 1000)
		return -ENODATA;
	*ret_major = (unsigned)major;
	*ret_minor = (unsigned)minor;
	return 0;
}

bool kconfig_enabled(const struct kconfig *kc, const char *name, bool modular)
{
	enum kconfig_state s = kconfig_get(kc, name);

	return s == KCONFIG_BUILTIN || (modular && s == KCONFIG_MODULE);
}
