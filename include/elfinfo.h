/* What an ELF file says about how it was hardened at build time (the
 * checksec properties): PIE, RELRO, BIND_NOW, a non-executable stack, the
 * stack protector and fortified libc calls. 32- and 64-bit little-endian
 * files; read from untrusted trees (a root being sealed), so every offset
 * is checked against the file's size. Host only (sealroot-audit). */
#ifndef SEALROOT_ELFINFO_H
#define SEALROOT_ELFINFO_H

#include <stdbool.h>
#include <stddef.h>

#define ELFINFO_FILE_MAX (1u << 30)

struct elfinfo {
	unsigned bits;		/* 32 or 64 */
	unsigned type;		/* ET_EXEC, ET_DYN, ET_REL, ... */
	unsigned machine;	/* EM_X86_64, ... */
	bool interp;		/* PT_INTERP: run by a dynamic loader */
	char interp_path[256];	/* its path, when interp */
	bool dynamic;		/* PT_DYNAMIC */
	bool relro;		/* PT_GNU_RELRO */
	bool bind_now;		/* DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW */
	bool pie_flag;		/* DF_1_PIE */
	bool exec_stack;	/* PT_GNU_STACK with PF_X, or no PT_GNU_STACK */
	bool imports;		/* its dynamic symbols were read */
	bool stack_chk;		/* imports __stack_chk_fail */
	bool fortified;		/* imports a fortified (__*_chk) libc call */
	bool fortifiable;	/* imports a libc call fortify has a checked
				 * variant of */
};

/* Parse an ELF image of len bytes. -ENOEXEC: not ELF; -EPROTONOSUPPORT:
 * big-endian or an unknown class; -EBADMSG: a header, table or name
 * outside the file. *ret is written only on success. */
int elfinfo_parse(const void *data, size_t len, struct elfinfo *ret);

/* Parse the file at path relative to dirfd (AT_FDCWD for a plain path),
 * not following a final symlink; -ENOEXEC also for a file too small or
 * not regular, -EFBIG past ELFINFO_FILE_MAX. */
int elfinfo_read(int dirfd, const char *path, struct elfinfo *ret);

/* The same from an open file (its offset is not used). */
int elfinfo_read_fd(int fd, struct elfinfo *ret);

/* A program: ET_EXEC, or ET_DYN run by a loader or marked DF_1_PIE. */
bool elfinfo_is_program(const struct elfinfo *e);

/* A position-independent program. */
bool elfinfo_is_pie(const struct elfinfo *e);

/* A shared library: ET_DYN that is not a program. */
bool elfinfo_is_library(const struct elfinfo *e);

#endif
