#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfinfo.h"
#include "util.h"

/* The file and where each field sits for its class. */
struct elf {
	const uint8_t *p;
	size_t len;
	bool is64;
};

/* A field of a table entry: its offset and size for 32 and 64 bits. */
struct field {
	uint8_t off32, size32, off64, size64;
};

static uint64_t get(const struct elf *e, const uint8_t *ent, struct field f)
{
	return e->is64 ? le_read(ent + f.off64, f.size64) : le_read(ent + f.off32, f.size32);
}

static const struct field e_type = { 16, 2, 16, 2 }, e_machine = { 18, 2, 18, 2 },
	e_phoff = { 28, 4, 32, 8 }, e_shoff = { 32, 4, 40, 8 },
	e_phentsize = { 42, 2, 54, 2 }, e_phnum = { 44, 2, 56, 2 },
	e_shentsize = { 46, 2, 58, 2 }, e_shnum = { 48, 2, 60, 2 };
static const struct field p_type = { 0, 4, 0, 4 }, p_flags = { 24, 4, 4, 4 },
	p_offset = { 4, 4, 8, 8 }, p_filesz = { 16, 4, 32, 8 };
static const struct field sh_type = { 4, 4, 4, 4 }, sh_offset = { 16, 4, 24, 8 },
	sh_size = { 20, 4, 32, 8 }, sh_link = { 24, 4, 40, 4 },
	sh_entsize = { 36, 4, 56, 8 };
static const struct field d_tag = { 0, 4, 0, 8 }, d_val = { 4, 4, 8, 8 };
static const struct field st_name = { 0, 4, 0, 4 }, st_shndx = { 14, 2, 6, 2 };

static bool fits(const struct elf *e, uint64_t off, uint64_t size)
{
	return off <= e->len && size <= e->len - off;
}

/* Entry i of a table at off, of n entries of size each (>= min). */
static const uint8_t *entry(const struct elf *e, uint64_t off, uint64_t size,
			    uint64_t i)
{
	return e->p + off + i * size;
}

static bool table_fits(const struct elf *e, uint64_t off, uint64_t n,
		       uint64_t size, uint64_t min)
{
	return size >= min && n <= UINT32_MAX && fits(e, off, n * size);
}

static int read_interp(const struct elf *e, const uint8_t *ph,
		       struct elfinfo *info)
{
	uint64_t off = get(e, ph, p_offset), size = get(e, ph, p_filesz);
	const uint8_t *s;
	size_t n;

	if (!fits(e, off, size) || size == 0)
		return -EBADMSG;
	s = e->p + off;
	n = strnlen((const char *)s, (size_t)size);
	if (n == 0 || n >= sizeof(info->interp_path))
		return -EBADMSG;
	memcpy(info->interp_path, s, n);
	info->interp_path[n] = 0;
	info->interp = true;
	return 0;
}

static int read_dynamic(const struct elf *e, const uint8_t *ph,
			struct elfinfo *info)
{
	uint64_t off = get(e, ph, p_offset), size = get(e, ph, p_filesz);
	uint64_t esize = e->is64 ? 16 : 8;

	if (!fits(e, off, size))
		return -EBADMSG;
	info->dynamic = true;
	for (uint64_t i = 0; i < size / esize; i++) {
		const uint8_t *d = entry(e, off, esize, i);
		uint64_t tag = get(e, d, d_tag), val = get(e, d, d_val);

		if (tag == DT_NULL)
			break;
		if (tag == DT_BIND_NOW || (tag == DT_FLAGS && (val & DF_BIND_NOW)) ||
		    (tag == DT_FLAGS_1 && (val & DF_1_NOW)))
			info->bind_now = true;
		if (tag == DT_FLAGS_1 && (val & DF_1_PIE))
			info->pie_flag = true;
	}
	return 0;
}

static int read_segments(const struct elf *e, const uint8_t *eh,
			 struct elfinfo *info)
{
	uint64_t off = get(e, eh, e_phoff), n = get(e, eh, e_phnum);
	uint64_t size = get(e, eh, e_phentsize);
	bool gnu_stack = false;
	int r = 0;

	if (n && !table_fits(e, off, n, size, e->is64 ? 56 : 32))
		return -EBADMSG;
	for (uint64_t i = 0; i < n && r == 0; i++) {
		const uint8_t *ph = entry(e, off, size, i);

		switch (get(e, ph, p_type)) {
		case PT_INTERP:
			r = read_interp(e, ph, info);
			break;
		case PT_DYNAMIC:
			r = read_dynamic(e, ph, info);
			break;
		case PT_GNU_RELRO:
			info->relro = true;
			break;
		case PT_GNU_STACK:
			gnu_stack = true;
			info->exec_stack = get(e, ph, p_flags) & PF_X;
			break;
		}
	}
	if (!gnu_stack)
		info->exec_stack = true;
	return r;
}

/* libc calls with a fortified variant (__NAME_chk). */
static const char *const fortifiable[] = {
	"memcpy", "memmove", "mempcpy", "memset", "strcpy", "stpcpy",
	"strncpy", "stpncpy", "strcat", "strncat", "sprintf", "snprintf",
	"vsprintf", "vsnprintf", "printf", "fprintf", "dprintf", "vprintf",
	"vfprintf", "vdprintf", "asprintf", "vasprintf", "read", "pread",
	"pread64", "recv", "recvfrom", "readlink", "readlinkat", "getcwd",
	"realpath", "fgets", "fgets_unlocked", "fread", "fread_unlocked",
	"gets", "confstr", "getgroups", "ttyname_r", "getlogin_r",
	"gethostname", "getdomainname", "wcscpy", "wcsncpy", "wcscat",
	"wmemcpy", "wmemset", "mbstowcs", "wcstombs", "poll", "ppoll",
	"syslog", "vsyslog", NULL,
};

static bool is_fortifiable(const char *name)
{
	for (size_t i = 0; fortifiable[i]; i++)
		if (!strcmp(fortifiable[i], name))
			return true;
	return false;
}

static void classify_import(const char *name, struct elfinfo *info)
{
	size_t n = strlen(name);

	if (!strcmp(name, "__stack_chk_fail") || !strcmp(name, "__stack_chk_fail_local"))
		info->stack_chk = true;
	else if (n > 6 && !strncmp(name, "__", 2) && !strcmp(name + n - 4, "_chk"))
		info->fortified = true;
	else if (is_fortifiable(name))
		info->fortifiable = true;
}

/* The undefined symbols of a .dynsym section: what the file imports. */
static int read_imports(const struct elf *e, const uint8_t *sh,
			const uint8_t *strsh, struct elfinfo *info)
{
	uint64_t off = get(e, sh, sh_offset), size = get(e, sh, sh_size);
	uint64_t esize = get(e, sh, sh_entsize);
	uint64_t soff = get(e, strsh, sh_offset), ssize = get(e, strsh, sh_size);

	if (esize < (e->is64 ? 24u : 16u) || !fits(e, off, size) || !fits(e, soff, ssize))
		return -EBADMSG;
	info->imports = true;
	for (uint64_t i = 1; i < size / esize; i++) {
		const uint8_t *s = entry(e, off, esize, i);
		uint64_t name = get(e, s, st_name);

		if (get(e, s, st_shndx) != SHN_UNDEF || name >= ssize)
			continue;
		if (!memchr(e->p + soff + name, 0, (size_t)(ssize - name)))
			return -EBADMSG;
		classify_import((const char *)e->p + soff + name, info);
	}
	return 0;
}

static int read_sections(const struct elf *e, const uint8_t *eh,
			 struct elfinfo *info)
{
	uint64_t off = get(e, eh, e_shoff), n = get(e, eh, e_shnum);
	uint64_t size = get(e, eh, e_shentsize), link;
	int r = 0;

	if (!off || !n)
		return 0;
	if (!table_fits(e, off, n, size, e->is64 ? 64 : 40))
		return -EBADMSG;
	for (uint64_t i = 0; i < n && r == 0; i++) {
		const uint8_t *sh = entry(e, off, size, i);

		if (get(e, sh, sh_type) != SHT_DYNSYM)
			continue;
		link = get(e, sh, sh_link);
		if (link >= n)
			return -EBADMSG;
		r = read_imports(e, sh, entry(e, off, size, link), info);
	}
	return r;
}

int elfinfo_parse(const void *data, size_t len, struct elfinfo *ret)
{
	struct elf e = { .p = data, .len = len };
	struct elfinfo info = { 0 };
	int r;

	if (len < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG))
		return -ENOEXEC;
	if (e.p[EI_DATA] != ELFDATA2LSB ||
	    (e.p[EI_CLASS] != ELFCLASS32 && e.p[EI_CLASS] != ELFCLASS64))
		return -EPROTONOSUPPORT;
	e.is64 = e.p[EI_CLASS] == ELFCLASS64;
	if (len < (e.is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return -EBADMSG;
	info.bits = e.is64 ? 64 : 32;
	info.type = (unsigned)get(&e, e.p, e_type);
	info.machine = (unsigned)get(&e, e.p, e_machine);
	r = read_segments(&e, e.p, &info);
	if (r == 0)
		r = read_sections(&e, e.p, &info);
	if (r == 0)
		*ret = info;
	return r;
}

int elfinfo_read_fd(int fd, struct elfinfo *ret)
{
	struct stat st;
	void *p;
	int r;

	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_size < EI_NIDENT)
		r = -ENOEXEC;
	else if ((uint64_t)st.st_size > ELFINFO_FILE_MAX)
		r = -EFBIG;
	else {
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			r = -errno;
		} else {
			r = elfinfo_parse(p, (size_t)st.st_size, ret);
			munmap(p, (size_t)st.st_size);
		}
	}
	return r;
}

int elfinfo_read(int dirfd, const char *path, struct elfinfo *ret)
{
	int fd, r;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	r = elfinfo_read_fd(fd, ret);
	close(fd);
	return r;
}

bool elfinfo_is_program(const struct elfinfo *e)
{
	return e->type == ET_EXEC || (e->type == ET_DYN && (e->interp || e->pie_flag));
}

bool elfinfo_is_pie(const struct elfinfo *e)
{
	return e->type == ET_DYN && (e->interp || e->pie_flag);
}

bool elfinfo_is_library(const struct elfinfo *e)
{
	return e->type == ET_DYN && !elfinfo_is_program(e);
}
