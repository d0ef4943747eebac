#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "personalize.h"

#define STAGE "personalize"
#define XATTR_IMA "security.ima"
#define XATTR_EVM "security.evm"
#define IMA_DIGSIG 0x03			/* EVM_IMA_XATTR_DIGSIG */
#define IMA_DIGEST_NG 0x04		/* IMA_XATTR_DIGEST_NG */
#define IMA_HASH_SHA256 4		/* HASH_ALGO_SHA256 */
#define XATTR_LIST_MAX_ 65536
#define XATTR_VALUE_MAX 4096
#define COPY_BUF (64 * 1024)

struct walk {
	char src[PATH_MAX];
	char dst[PATH_MAX];
	bool label;
	struct personalize_stats st;
};

static int fail(const char *verb, const char *path, int err)
{
	log_err(STAGE, "cannot %s '%s': %s", verb, path, strerror(-err));
	return err;
}

/* Every extended attribute but IMA's and EVM's, which are made here. */
static int copy_xattrs(const char *src, int sfd, const char *dst, int dfd)
{
	static char names[XATTR_LIST_MAX_], value[XATTR_VALUE_MAX];
	ssize_t len, n;

	len = sfd >= 0 ? flistxattr(sfd, names, sizeof(names)) :
			 llistxattr(src, names, sizeof(names));
	if (len < 0)
		return errno == ENOTSUP ? 0 : fail("list the attributes of", src, -errno);
	for (char *name = names; name < names + len; name += strlen(name) + 1) {
		if (!strcmp(name, XATTR_IMA) || !strcmp(name, XATTR_EVM))
			continue;
		n = sfd >= 0 ? fgetxattr(sfd, name, value, sizeof(value)) :
			       lgetxattr(src, name, value, sizeof(value));
		if (n < 0)
			return fail("read an attribute of", src, -errno);
		if ((dfd >= 0 ? fsetxattr(dfd, name, value, (size_t)n, 0) :
				lsetxattr(dst, name, value, (size_t)n, 0)) < 0) {
			log_err(STAGE, "cannot set %s on '%s': %s", name, dst, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* Owner first (chown clears set-id bits), then the mode, then the
 * attributes (security.capability after chown, which clears it). */
static int set_meta(struct walk *w, int sfd, int dfd, const struct stat *st)
{
	if (fchown(dfd, st->st_uid, st->st_gid) < 0)
		return fail("set the owner of", w->dst, -errno);
	if (fchmod(dfd, st->st_mode & 07777) < 0)
		return fail("set the mode of", w->dst, -errno);
	return copy_xattrs(w->src, sfd, w->dst, dfd);
}

static int copy_data(int sfd, int dfd, const char *src, uint64_t *bytes,
		     uint8_t digest[32])
{
	static uint8_t buf[COPY_BUF];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned dlen = 0;
	ssize_t n;
	int r = 0;

	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		r = -ENOMEM;
	while (r == 0 && (n = read(sfd, buf, sizeof(buf))) != 0) {
		if (n < 0)
			r = errno == EINTR ? 0 : -errno;
		else if (write(dfd, buf, (size_t)n) != n)
			r = errno ? -errno : -EIO;
		else if (!EVP_DigestUpdate(md, buf, (size_t)n))
			r = -EIO;
		else
			*bytes += (uint64_t)n;
	}
	if (r == 0 && (!EVP_DigestFinal_ex(md, digest, &dlen) || dlen != 32))
		r = -EIO;
	EVP_MD_CTX_free(md);
	if (r < 0)
		fail("copy", src, r);
	return r;
}

/* The factory's signature if it has one, else the hash made while copying. */
static int label_file(struct walk *w, int sfd, int dfd, const uint8_t digest[32])
{
	uint8_t v[XATTR_VALUE_MAX];
	ssize_t n = fgetxattr(sfd, XATTR_IMA, v, sizeof(v));

	if (n > 1 && v[0] == IMA_DIGSIG) {
		w->st.signed_files++;
	} else {
		v[0] = IMA_DIGEST_NG;
		v[1] = IMA_HASH_SHA256;
		memcpy(v + 2, digest, 32);
		n = 34;
	}
	if (fsetxattr(dfd, XATTR_IMA, v, (size_t)n, 0) == 0)
		return 0;
	log_err(STAGE, "cannot set %s on '%s': %s%s", XATTR_IMA, w->dst, strerror(errno),
		errno == EPERM ? " (EVM refused it: the IMA policy does not appraise this volume; state.fsuuid and the policy's fsuuid= must agree)" : "");
	return -errno;
}

static int copy_file(struct walk *w, const struct stat *st)
{
	uint8_t digest[32];
	int sfd, dfd, r;

	sfd = open(w->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return fail("open", w->src, -errno);
	dfd = open(w->dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dfd < 0) {
		r = fail("create", w->dst, -errno);
		goto out_close_src;
	}
	r = copy_data(sfd, dfd, w->src, &w->st.bytes, digest);
	if (r == 0)
		r = set_meta(w, sfd, dfd, st);
	if (r == 0 && w->label)
		r = label_file(w, sfd, dfd, digest);
	if (close(dfd) < 0 && r == 0)
		r = fail("write", w->dst, -errno);
	w->st.files += r == 0;
out_close_src:
	close(sfd);
	return r;
}

static int copy_link(struct walk *w, const struct stat *st)
{
	char target[PATH_MAX];
	ssize_t n = readlink(w->src, target, sizeof(target));

	if (n < 0 || n == (ssize_t)sizeof(target))
		return fail("read the symlink", w->src, n < 0 ? -errno : -ENAMETOOLONG);
	target[n] = 0;
	if (symlink(target, w->dst) < 0)
		return fail("create the symlink", w->dst, -errno);
	if (lchown(w->dst, st->st_uid, st->st_gid) < 0)
		return fail("set the owner of", w->dst, -errno);
	w->st.symlinks++;
	return copy_xattrs(w->src, -1, w->dst, -1);
}

static int copy_node(struct walk *w, const struct stat *st)
{
	if (mknod(w->dst, st->st_mode, st->st_rdev) < 0)
		return fail("create the node", w->dst, -errno);
	if (lchown(w->dst, st->st_uid, st->st_gid) < 0)
		return fail("set the owner of", w->dst, -errno);
	if (chmod(w->dst, st->st_mode & 07777) < 0)
		return fail("set the mode of", w->dst, -errno);
	w->st.nodes++;
	return copy_xattrs(w->src, -1, w->dst, -1);
}

/* After its entries, so a read-only directory mode does not stop them. */
static int dir_meta(struct walk *w, const struct stat *st)
{
	int sfd, dfd, r = 0;

	sfd = open(w->src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	dfd = open(w->dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 || dfd < 0)
		r = fail("open the directory", sfd < 0 ? w->src : w->dst, -errno);
	if (r == 0)
		r = set_meta(w, sfd, dfd, st);
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	return r;
}

static int copy_dir(struct walk *w, unsigned depth);

static int push(char *path, size_t *len, const char *name)
{
	size_t n = strlen(name);

	*len = strlen(path);
	if (*len + 1 + n >= PATH_MAX)
		return -ENAMETOOLONG;
	path[*len] = '/';
	memcpy(path + *len + 1, name, n + 1);
	return 0;
}

static int copy_entry(struct walk *w, const char *name, unsigned depth)
{
	size_t slen, dlen;
	struct stat st;
	int r;

	if (push(w->src, &slen, name) < 0 || push(w->dst, &dlen, name) < 0) {
		log_err(STAGE, "cannot copy '%s/%s': path too long", w->src, name);
		return -ENAMETOOLONG;
	}
	if (lstat(w->src, &st) < 0)
		r = fail("read", w->src, -errno);
	else if (S_ISDIR(st.st_mode))
		r = copy_dir(w, depth + 1);
	else if (S_ISREG(st.st_mode))
		r = copy_file(w, &st);
	else if (S_ISLNK(st.st_mode))
		r = copy_link(w, &st);
	else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode))
		r = copy_node(w, &st);
	else {
		log_warn(STAGE, "'%s' is a socket: not copied", w->src);
		w->st.skipped++;
		r = 0;
	}
	w->src[slen] = 0;
	w->dst[dlen] = 0;
	return r;
}

static int copy_dir(struct walk *w, unsigned depth)
{
	struct stat st, dst;
	struct dirent *e;
	DIR *d;
	int r = 0;

	if (depth > PERSONALIZE_DEPTH_MAX)
		return fail("copy", w->src, -ELOOP);
	if (lstat(w->src, &st) < 0)
		return fail("read", w->src, -errno);
	if (mkdir(w->dst, 0700) < 0 &&
	    (errno != EEXIST || lstat(w->dst, &dst) < 0 || !S_ISDIR(dst.st_mode)))
		return fail("create the directory", w->dst, errno == EEXIST ? -ENOTDIR : -errno);
	d = opendir(w->src);
	if (!d)
		return fail("read the directory", w->src, -errno);
	while (r == 0 && (errno = 0, e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r = copy_entry(w, e->d_name, depth);
	if (r == 0 && errno)
		r = fail("read the directory", w->src, -errno);
	closedir(d);
	if (r == 0)
		r = dir_meta(w, &st);
	w->st.dirs += r == 0;
	return r;
}

int personalize_tree(const char *src, const char *dst, bool label,
		     struct personalize_stats *ret)
{
	static struct walk w;
	struct stat st;
	int r;

	memset(&w, 0, sizeof(w));
	if (strlen(src) >= PATH_MAX || strlen(dst) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (stat(src, &st) < 0 || !S_ISDIR(st.st_mode))
		return fail("copy the factory tree", src, errno ? -errno : -ENOTDIR);
	strcpy(w.src, src);
	strcpy(w.dst, dst);
	w.label = label;
	r = copy_dir(&w, 0);
	if (r == 0)
		*ret = w.st;
	return r;
}

/* ---- verify ---- */

static int verify_file(const char *path, bool label)
{
	char v[8];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r = 0;

	if (fd < 0) {
		log_err(STAGE, "cannot open '%s' after copying it: %s%s", path, strerror(errno),
			errno == EACCES || errno == EPERM ?
			" (the kernel's appraisal refused it: see its integrity line)" : "");
		return -errno;
	}
	if (label && (fgetxattr(fd, XATTR_IMA, v, sizeof(v)) < 0 && errno != ERANGE))
		r = fail("find security.ima on", path, -errno);
	else if (label && (fgetxattr(fd, XATTR_EVM, v, sizeof(v)) < 0 && errno != ERANGE))
		r = fail("find security.evm on", path, errno == ENODATA ? -ENODATA : -errno);
	close(fd);
	return r;
}

static int verify_dir(char *path, bool label, unsigned depth, unsigned *files)
{
	struct dirent *e;
	size_t len;
	DIR *d;
	int r = 0;

	if (depth > PERSONALIZE_DEPTH_MAX)
		return -ELOOP;
	d = opendir(path);
	if (!d)
		return fail("read the directory", path, -errno);
	while (r == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (e->d_type != DT_DIR && e->d_type != DT_REG))
			continue;
		if (push(path, &len, e->d_name) < 0) {
			r = -ENAMETOOLONG;
			break;
		}
		if (e->d_type == DT_DIR)
			r = verify_dir(path, label, depth + 1, files);
		else if ((r = verify_file(path, label)) == 0)
			(*files)++;
		path[len] = 0;
	}
	closedir(d);
	return r;
}

int personalize_verify(const char *dst, bool label, unsigned *ret_files)
{
	static char path[PATH_MAX];
	unsigned files = 0;
	int r;

	if (strlen(dst) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(path, dst);
	r = verify_dir(path, label, 0, &files);
	if (r == 0)
		*ret_files = files;
	return r;
}
