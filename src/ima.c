#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "config.h"
#include "ima.h"
#include "log.h"
#include "util.h"

#define STAGE "ima"

/* The line at *pos, and *pos moved past it: one pass over the text. */
static bool next_line(const char *text, size_t len, size_t *pos,
		      const char **ret_line, size_t *ret_len, bool *ret_rule)
{
	const char *p = text + *pos, *nl;
	size_t n, skip;

	if (*pos >= len)
		return false;
	nl = memchr(p, '\n', len - *pos);
	n = (size_t)((nl ? nl : text + len) - p);
	for (skip = 0; skip < n && (p[skip] == ' ' || p[skip] == '\t'); skip++)
		;
	*ret_line = p;
	*ret_len = n;
	*ret_rule = skip < n && p[skip] != '#';
	*pos += n + 1;
	return true;
}

int ima_policy_line(const char *text, size_t len, unsigned n,
		    const char **ret_line, size_t *ret_len, bool *ret_rule)
{
	size_t pos = 0;

	for (unsigned i = 1; next_line(text, len, &pos, ret_line, ret_len, ret_rule); i++)
		if (i == n)
			return 0;
	return -ENOENT;
}

static long measurements(const char *dir)
{
	char path[128], v[32];
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/runtime_measurements_count", dir);
	if (read_file(path, v, sizeof(v) - 1, &n) < 0)
		return -1;
	v[n] = 0;
	return strtol(v, NULL, 10);
}

/* One write per rule: the kernel parses one line per write and answers
 * the write with an error for a line it refuses. */
static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int by_path(const char *policy, const char *path)
{
	char line[256];
	int fd, r;

	if (strlen(path) + 2 > sizeof(line))
		return -ENAMETOOLONG;
	fd = open(policy, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(line, sizeof(line), "%s\n", path);
	r = write_all(fd, line, strlen(line));
	close(fd);
	return r;
}

static int by_lines(const char *policy, const char *text, size_t len,
		    struct ima_load *ret)
{
	static char rule[CONFIG_LINE_MAX + 2];
	const char *line;
	size_t n;
	bool is_rule;
	int fd, r = 0;

	size_t pos = 0;

	fd = open(policy, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (unsigned i = 1; r == 0 && next_line(text, len, &pos, &line, &n, &is_rule); i++) {
		if (!is_rule)
			continue;
		if (n > CONFIG_LINE_MAX) {
			ret->bad_line = i;
			r = -E2BIG;
			break;
		}
		memcpy(rule, line, n);
		rule[n] = '\n';
		r = write_all(fd, rule, n + 1);
		if (r < 0)
			ret->bad_line = i;
	}
	close(fd);
	return r;
}

static void log_bad_line(const char *path, const char *text, size_t len,
			 const struct ima_load *l, int err)
{
	char quoted[QUOTE_MAX];
	const char *line = "";
	size_t n = 0;
	bool rule;

	(void)ima_policy_line(text, len, l->bad_line, &line, &n, &rule);
	log_err(STAGE, "cannot load the IMA policy '%s': line %u rejected by the kernel (%s): '%s'",
		path, l->bad_line, strerror(-err), config_quote(line, n, quoted, sizeof(quoted)));
}

static unsigned count_rules(const char *text, size_t len)
{
	const char *line;
	unsigned rules = 0;
	size_t n, pos = 0;
	bool rule;

	while (next_line(text, len, &pos, &line, &n, &rule))
		rules += rule;
	return rules;
}

int ima_load_policy(const char *secfs_dir, const char *path,
		    struct ima_load *ret)
{
	static char text[IMA_POLICY_MAX];
	char policy[128];
	struct ima_load l = { .measurements_before = measurements(secfs_dir) };
	size_t len = 0;
	int r;

	snprintf(policy, sizeof(policy), "%s/policy", secfs_dir);
	r = read_file(path, text, sizeof(text), &len);
	if (r < 0) {
		log_err(STAGE, "cannot read the IMA policy '%s': %s%s", path, strerror(-r),
			r == -ENOENT ? " (mkinitramfs packs policies/ima-policy when ima = on)" : "");
		return r;
	}
	l.rules = count_rules(text, len);
	if (l.rules == 0) {
		log_err(STAGE, "cannot load the IMA policy '%s': it has no rule", path);
		return -EINVAL;
	}
	if (access(policy, W_OK) < 0) {
		r = -errno;
		log_err(STAGE, "cannot load the IMA policy: '%s': %s%s", policy, strerror(-r),
			r == -ENOENT ? " (a kernel without IMA, or a policy loaded already)" : "");
		return r;
	}
	r = by_path(policy, path);
	l.by_path = r == 0;
	if (r < 0) {
		log_warn(STAGE, "the kernel did not take the IMA policy by its path (%s): writing it line by line",
			 strerror(-r));
		r = by_lines(policy, text, len, &l);
	}
	if (r < 0 && l.bad_line) {
		log_bad_line(path, text, len, &l, r);
		return r;
	}
	if (r < 0) {
		log_err(STAGE, "cannot load the IMA policy '%s': %s", path, strerror(-r));
		return r;
	}
	l.measurements_after = measurements(secfs_dir);
	*ret = l;
	return 0;
}

/* The kernel finds _ima by request_key in the keyrings of the first
 * process whose file needs a signature checked, then keeps it for good.
 * A system service runs with a private session keyring that does not
 * reach root's user keyring: were it first, every signature check would
 * fail for lack of the keyring. So PID 1 (no session keyring: it
 * searches root's user keyring) makes the first check itself: a probe
 * file on the appraised volume carrying a signature that names no key
 * (keyid 0). The check fails, as it must, after the lookup. */
int ima_pin_keyring(const char *dir)
{
	static const uint8_t sig[] = { 0x03, 0x02, 0x04, 0, 0, 0, 0, 0x00, 0x01, 0x00 };
	char path[320];
	int fd, r = 0;

	snprintf(path, sizeof(path), "%s/.sealroot-ima-pin", dir);
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, "pin\n", 4) != 4 || fsetxattr(fd, "security.ima", sig, sizeof(sig), 0) < 0)
		r = -errno;
	close(fd);
	if (r == 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			r = -EPROTO;	/* a signature naming no key passed */
		} else if (errno != EACCES && errno != EPERM) {
			r = -errno;
		}
	}
	(void)unlink(path);
	return r;
}
