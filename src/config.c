#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "devspec.h"
#include "roothash.h"
#include "util.h"

enum key_type { KEY_STRING, KEY_UINT, KEY_ENUM };

struct key {
	const char *name;		/* in sealroot.conf */
	const char *cmdline;		/* on the kernel command line, or NULL */
	enum key_type type;
	size_t offset;
	size_t size;			/* KEY_STRING: buffer size */
	unsigned min, max;		/* KEY_UINT */
	const char *const *choices;	/* KEY_ENUM, NULL terminated */
	bool (*valid)(const char *value);	/* KEY_STRING */
	const char *expect;		/* KEY_STRING: what valid() wants */
};

static const char *const actions[] = { "reboot", "poweroff", "halt", NULL };
static const char *const modes[] = { "production", "development", NULL };
static const char *const corruption[] = { "eio", "restart", "panic", NULL };
static const char *const tasklets[] = { "auto", "off", NULL };

static bool valid_devspec(const char *v)
{
	struct devspec spec;

	return !*v || devspec_parse(v, &spec) == 0;
}

bool config_root_fstype_supported(const char *t)
{
	return !strcmp(t, "ext4") || !strcmp(t, "erofs") || !strcmp(t, "squashfs");
}

static bool valid_fstype(const char *v)
{
	return !strcmp(v, "auto") || config_root_fstype_supported(v);
}

/* sha256 to sha512, in hex: the root hash of a dm-verity tree. */
static bool valid_roothash(const char *v)
{
	struct roothash h;

	return !*v || roothash_parse(v, &h) == 0;
}

static bool all_chars(const char *v, const char *extra)
{
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr(extra, *v))
			return false;
	return true;
}

static bool valid_options(const char *v)
{
	return all_chars(v, "_,=.:/-+");
}

static bool valid_modules(const char *v)
{
	return all_chars(v, "_- ");
}

static bool valid_abs_path(const char *v)
{
	return v[0] == '/' && all_chars(v, "/_.-+") && !strstr(v, "/..");
}

#define STR(field) .type = KEY_STRING, \
	.offset = offsetof(struct config, field), \
	.size = sizeof(((struct config *)0)->field)
#define NUM(field) .type = KEY_UINT, .offset = offsetof(struct config, field)
#define ENUM(field) .type = KEY_ENUM, .offset = offsetof(struct config, field)

static const struct key keys[] = {
	{ .name = "root", .cmdline = "root", STR(root), .valid = valid_devspec,
	  .expect = "PARTUUID=, PARTLABEL=, UUID=, LABEL= or /dev/..." },
	{ .name = "root.fstype", .cmdline = "rootfstype", STR(root_fstype), .valid = valid_fstype,
	  .expect = "one of auto, ext4, erofs, squashfs" },
	{ .name = "root.options", .cmdline = "rootflags", STR(root_options), .valid = valid_options,
	  .expect = "mount options of [A-Za-z0-9_,=.:/+-]" },
	{ .name = "root.timeout", .cmdline = "sealroot.timeout", NUM(root_timeout),
	  .min = 1, .max = 3600 },
	{ .name = "modules", .cmdline = NULL, STR(modules), .valid = valid_modules,
	  .expect = "module names separated by spaces" },
	{ .name = "init", .cmdline = "init", STR(init), .valid = valid_abs_path,
	  .expect = "an absolute path" },
	{ .name = "verity.roothash", .cmdline = "roothash", STR(verity_roothash),
	  .valid = valid_roothash, .expect = "64 to 128 hex digits (a root hash)" },
	{ .name = "verity.data", .cmdline = "systemd.verity_root_data",
	  STR(verity_data), .valid = valid_devspec,
	  .expect = "PARTUUID=, PARTLABEL=, UUID=, LABEL= or /dev/..." },
	{ .name = "verity.hash", .cmdline = "systemd.verity_root_hash",
	  STR(verity_hash), .valid = valid_devspec,
	  .expect = "PARTUUID=, PARTLABEL=, UUID=, LABEL= or /dev/..." },
	{ .name = "verity.corruption", .cmdline = "sealroot.verity_corruption",
	  ENUM(verity_corruption), .choices = corruption },
	{ .name = "verity.tasklets", .cmdline = NULL, ENUM(verity_tasklets),
	  .choices = tasklets },
	{ .name = "failure.action", .cmdline = "sealroot.failure", ENUM(failure_action),
	  .choices = actions },
	{ .name = "failure.delay", .cmdline = NULL, NUM(failure_delay), .min = 0, .max = 3600 },
	{ .name = "mode", .cmdline = NULL, ENUM(mode), .choices = modes },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->root_fstype, "auto");
	cfg->root_timeout = 30;
	strcpy(cfg->init, "/sbin/init");
	cfg->failure_action = FAILURE_REBOOT;
	cfg->failure_delay = 10;
	cfg->mode = MODE_PRODUCTION;
}

const char *config_failure_action_name(enum failure_action a)
{
	return actions[a];
}

static int fail(struct config_error *err, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct config_error *err, unsigned line, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_uint(const char *v, unsigned min, unsigned max,
		      unsigned *ret)
{
	unsigned long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -ERANGE;
	*ret = (unsigned)n;
	return 0;
}

static int choice_index(const char *const *choices, const char *v)
{
	for (int i = 0; choices[i]; i++)
		if (!strcmp(choices[i], v))
			return i;
	return -1;
}

static void join_choices(const char *const *choices, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (int i = 0; choices[i] && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i ? ", " : "", choices[i]);
}

/* Store one value; "name" is how the user spelled the key. */
static int set_key(struct config *cfg, const struct key *k, const char *name,
		   const char *v, unsigned line, struct config_error *err)
{
	char *field = (char *)cfg + k->offset;
	char list[128];
	int i;

	switch (k->type) {
	case KEY_STRING:
		if (strlen(v) >= k->size)
			return fail(err, line, "key '%s': value longer than %zu bytes",
				    name, k->size - 1);
		if (!k->valid(v))
			return fail(err, line, "key '%s': '%s' is not %s",
				    name, v, k->expect);
		strcpy(field, v);
		return 0;
	case KEY_UINT:
		if (parse_uint(v, k->min, k->max, (unsigned *)field) < 0)
			return fail(err, line, "key '%s': '%s' is not a number in %u..%u",
				    name, v, k->min, k->max);
		return 0;
	case KEY_ENUM:
		i = choice_index(k->choices, v);
		join_choices(k->choices, list, sizeof(list));
		if (i < 0)
			return fail(err, line, "key '%s': '%s' is not one of %s",
				    name, v, list);
		*(int *)field = i;
		return 0;
	}
	return -EINVAL;
}

static const struct key *find_key(const char *name, size_t len, bool cmdline)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const char *kn = cmdline ? keys[i].cmdline : keys[i].name;

		if (kn && strlen(kn) == len && !strncmp(kn, name, len))
			return &keys[i];
	}
	return NULL;
}

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static bool has_control_chars(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (iscntrl((unsigned char)s[i]) && s[i] != '\t' && s[i] != '\r')
			return true;
	return false;
}

static int parse_line(struct config *cfg, char *line, unsigned lineno,
		      unsigned seen[], struct config_error *err)
{
	char *eq, *name, *value;
	const struct key *k;
	size_t idx;

	name = trim(line);
	if (!*name || *name == '#')
		return 0;
	eq = strchr(name, '=');
	if (!eq)
		return fail(err, lineno, "expected 'key = value', got '%.64s'", name);
	*eq = 0;
	name = trim(name);
	value = trim(eq + 1);
	k = find_key(name, strlen(name), false);
	if (!k)
		return fail(err, lineno, "unknown key '%.64s'", name);
	idx = (size_t)(k - keys);
	if (seen[idx])
		return fail(err, lineno, "key '%s' set twice (first on line %u)",
			    name, seen[idx]);
	seen[idx] = lineno;
	return set_key(cfg, k, name, value, lineno, err);
}

int config_parse_text(struct config *cfg, const char *text, size_t len,
		      struct config_error *err)
{
	unsigned seen[NKEYS] = { 0 }, lineno = 0;
	char line[CONFIG_LINE_MAX + 1];
	size_t pos = 0;
	int r;

	if (len > CONFIG_FILE_MAX)
		return fail(err, 0, "file larger than %d bytes", CONFIG_FILE_MAX);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;

		lineno++;
		if (n > CONFIG_LINE_MAX)
			return fail(err, lineno, "line longer than %d bytes",
				    CONFIG_LINE_MAX);
		if (has_control_chars(text + pos, n))
			return fail(err, lineno, "control character in line");
		memcpy(line, text + pos, n);
		line[n] = 0;
		r = parse_line(cfg, line, lineno, seen, err);
		if (r < 0)
			return r;
		pos += n + 1;
	}
	return 0;
}

int config_parse_file(struct config *cfg, const char *path,
		      struct config_error *err)
{
	static char buf[CONFIG_FILE_MAX + 1];
	size_t len = 0;
	int r;

	r = read_file(path, buf, sizeof(buf), &len);
	if (r == -EFBIG)
		return fail(err, 0, "file larger than %d bytes", CONFIG_FILE_MAX);
	if (r < 0)
		return r;
	return config_parse_text(cfg, buf, len, err);
}

/* One kernel command line word: quotes group blanks and are dropped, as
 * the kernel's own parser does. */
static int cmdline_word(const char **pos, char *buf, size_t size,
			size_t *ret_len)
{
	const char *p = *pos;
	bool quoted = false;
	size_t len = 0;

	while (*p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n'))) {
		if (*p == '"')
			quoted = !quoted;
		else if (len + 1 < size)
			buf[len++] = *p;
		else
			len = size;
		p++;
	}
	*pos = p;
	if (len >= size) {
		buf[size - 1] = 0;
		return -E2BIG;
	}
	buf[len] = 0;
	*ret_len = len;
	return 0;
}

static int cmdline_apply(struct config *cfg, char *word,
			 struct config_error *err)
{
	char *eq = strchr(word, '=');
	size_t klen = eq ? (size_t)(eq - word) : strlen(word);
	const struct key *k = find_key(word, klen, true);

	if (!k) {
		if (!strncmp(word, "sealroot.", 9))
			return fail(err, 0, "unknown kernel command line key '%.*s'",
				    (int)klen, word);
		return 0;
	}
	if (!eq)
		return fail(err, 0, "key '%s': a value is required", k->cmdline);
	return set_key(cfg, k, k->cmdline, eq + 1, 0, err);
}

int config_parse_cmdline(struct config *cfg, const char *cmdline,
			 struct config_error *err)
{
	char word[CONFIG_LINE_MAX + 1];
	const char *p = cmdline;
	size_t len;
	int r;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			return 0;
		r = cmdline_word(&p, word, sizeof(word), &len);
		if (r < 0) {
			if (!strncmp(word, "sealroot.", 9) ||
			    find_key(word, strcspn(word, "="), true))
				return fail(err, 0, "kernel command line word '%.32s...' longer than %d bytes",
					    word, CONFIG_LINE_MAX);
			continue;
		}
		if (!strcmp(word, "--"))
			return 0;
		r = cmdline_apply(cfg, word, err);
		if (r < 0)
			return r;
	}
}

void config_print(const struct config *cfg, FILE *out)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		const char *field = (const char *)cfg + k->offset;

		if (k->type == KEY_UINT)
			fprintf(out, "%s=%u\n", k->name, *(const unsigned *)field);
		else if (k->type == KEY_ENUM)
			fprintf(out, "%s=%s\n", k->name, k->choices[*(const int *)field]);
		else
			fprintf(out, "%s=%s\n", k->name, field);
	}
}
