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

/* What the kernel command line may do to a key the file set. It may
 * tighten what the file says, never weaken it: it fills in what the file
 * left unset, or raises an ordered policy; a security-relevant value the
 * file set is never cleared or replaced. */
enum cmdline_rule {
	CMDLINE_OVERRIDE,	/* availability only: timeout, failure action */
	CMDLINE_FILL,		/* only if the file left it unset, or the same */
	CMDLINE_SAME,		/* only the very value the file (or default) has */
	CMDLINE_RAISE,		/* an enum ordered weak to strong: only upwards */
};

struct key {
	const char *name;		/* in sealroot.conf */
	const char *cmdline;		/* on the kernel command line, or NULL */
	enum cmdline_rule rule;
	const char *unset;		/* CMDLINE_FILL: the "not set" value, "" if NULL */
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
#define DEVSPEC_EXPECT "PARTUUID=, PARTLABEL=, PARTTYPE=, UUID=, LABEL= or /dev/..."

static const char *const tasklets[] = { "auto", "off", NULL };
static const char *const root_verity[] = { "required", "optional", NULL };
static const char *const recovery[] = { "none", "show", NULL };
static const char *const onoff[] = { "on", "off", NULL };

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

/* The root is always mounted read-only: "rw" would be ignored by a
 * verity mapping's mount (it fails) or leave a writable superblock under a
 * read-only mount; "ro" is implied. Empty options are typos. */
static bool valid_options(const char *v)
{
	size_t n;

	if (!all_chars(v, "_,=.:/-+"))
		return false;
	while (*v) {
		n = strcspn(v, ",");
		if (!n || (n == 2 && (!strncmp(v, "ro", 2) || !strncmp(v, "rw", 2))))
			return false;
		v += n;
		if (*v && !*++v)
			return false;
	}
	return true;
}

static bool valid_modules(const char *v)
{
	return all_chars(v, "_- ");
}

static bool valid_abs_path(const char *v)
{
	return v[0] == '/' && all_chars(v, "/_.-+") && !strstr(v, "/..");
}

/* A device-mapper name: dmsetup's safe characters, not "." or "..". */
static bool valid_dm_name(const char *v)
{
	return *v && all_chars(v, "_-") && strcmp(v, "root");
}

/* Where the state volume is mounted in the new root: an absolute path
 * other than "/", or "none" (the root's fstab mounts /dev/mapper/<name>). */
static bool valid_mount_point(const char *v)
{
	return !strcmp(v, "none") || (valid_abs_path(v) && strcmp(v, "/") &&
				      v[strlen(v) - 1] != '/' && !strstr(v, "//"));
}

/* A file system UUID as mke2fs -U and the IMA policy's fsuuid= take it:
 * the canonical 8-4-4-4-12 form, lower case (the kernel prints it so). */
bool config_valid_uuid(const char *v)
{
	static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	for (i = 0; form[i]; i++) {
		if (form[i] == '-' ? v[i] != '-' :
		    !((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return false;
	}
	return v[i] == 0 && strcmp(v, "00000000-0000-0000-0000-000000000000");
}

static bool valid_fsuuid(const char *v)
{
	return !*v || config_valid_uuid(v);
}

/* A directory of the verified root, not the root itself; empty: none. */
static bool valid_factory(const char *v)
{
	return !*v || (valid_abs_path(v) && strcmp(v, "/") &&
		       v[strlen(v) - 1] != '/' && !strstr(v, "//"));
}

int config_pcr_mask(const char *v, unsigned *ret_mask)
{
	unsigned mask = 0, n;
	char *end;

	for (;;) {
		if (!isdigit((unsigned char)*v) || (*v == '0' && isdigit((unsigned char)v[1])))
			return -EINVAL;
		errno = 0;
		n = (unsigned)strtoul(v, &end, 10);
		if (errno || n > 23 || end - v > 2 || (mask & (1u << n)))
			return -EINVAL;
		mask |= 1u << n;
		if (!*end)
			break;
		if (*end != ',')
			return -EINVAL;
		v = end + 1;
	}
	if (!(mask & CONFIG_PCR_MASK_REQUIRED) || (mask & CONFIG_PCR_MASK_IMA))
		return -EINVAL;
	*ret_mask = mask;
	return 0;
}

static bool valid_pcrs(const char *v)
{
	unsigned mask;

	return config_pcr_mask(v, &mask) == 0;
}

#define STR(field) .type = KEY_STRING, \
	.offset = offsetof(struct config, field), \
	.size = sizeof(((struct config *)0)->field)
#define NUM(field) .type = KEY_UINT, .offset = offsetof(struct config, field)
#define ENUM(field) .type = KEY_ENUM, .offset = offsetof(struct config, field)

static const struct key keys[] = {
	{ .name = "root", .cmdline = "root", .rule = CMDLINE_FILL, STR(root),
	  .valid = valid_devspec,
	  .expect = DEVSPEC_EXPECT },
	{ .name = "root.verity", ENUM(root_verity), .choices = root_verity },
	{ .name = "root.fstype", .cmdline = "rootfstype", .rule = CMDLINE_FILL,
	  .unset = "auto", STR(root_fstype), .valid = valid_fstype,
	  .expect = "one of auto, ext4, erofs, squashfs" },
	{ .name = "root.options", .cmdline = "rootflags", .rule = CMDLINE_FILL,
	  STR(root_options), .valid = valid_options,
	  .expect = "mount options of [A-Za-z0-9_,=.:/+-], without ro or rw (the root is always read-only)" },
	{ .name = "root.timeout", .cmdline = "sealroot.timeout", NUM(root_timeout),
	  .min = 1, .max = 3600 },
	{ .name = "modules", STR(modules), .valid = valid_modules,
	  .expect = "module names separated by spaces" },
	{ .name = "init", .cmdline = "init", .rule = CMDLINE_SAME, STR(init),
	  .valid = valid_abs_path, .expect = "an absolute path" },
	{ .name = "verity.roothash", .cmdline = "roothash", .rule = CMDLINE_FILL,
	  STR(verity_roothash), .valid = valid_roothash,
	  .expect = "64 to 128 hex digits (a root hash)" },
	{ .name = "verity.data", .cmdline = "systemd.verity_root_data",
	  .rule = CMDLINE_FILL, STR(verity_data), .valid = valid_devspec,
	  .expect = DEVSPEC_EXPECT },
	{ .name = "verity.hash", .cmdline = "systemd.verity_root_hash",
	  .rule = CMDLINE_FILL, STR(verity_hash), .valid = valid_devspec,
	  .expect = DEVSPEC_EXPECT },
	{ .name = "verity.corruption", .cmdline = "sealroot.verity_corruption",
	  .rule = CMDLINE_RAISE, ENUM(verity_corruption), .choices = corruption },
	{ .name = "verity.tasklets", ENUM(verity_tasklets), .choices = tasklets },
	{ .name = "failure.action", .cmdline = "sealroot.failure", ENUM(failure_action),
	  .choices = actions },
	{ .name = "failure.delay", NUM(failure_delay), .min = 0, .max = 3600 },
	{ .name = "mode", ENUM(mode), .choices = modes },
	{ .name = "state", STR(state), .valid = valid_devspec,
	  .expect = DEVSPEC_EXPECT },
	{ .name = "state.name", STR(state_name), .valid = valid_dm_name,
	  .expect = "a device-mapper name of [A-Za-z0-9_-], not 'root'" },
	{ .name = "state.mount", STR(state_mount), .valid = valid_mount_point,
	  .expect = "an absolute path other than / (no trailing slash), or none" },
	{ .name = "state.recovery", ENUM(state_recovery), .choices = recovery },
	{ .name = "state.fsuuid", STR(state_fsuuid), .valid = valid_fsuuid,
	  .expect = "a file system UUID, lower case, 8-4-4-4-12 hex digits, not all zero" },
	{ .name = "state.factory", STR(state_factory), .valid = valid_factory,
	  .expect = "an absolute path in the root, other than /" },
	{ .name = "tpm.pcrs", STR(tpm_pcrs), .valid = valid_pcrs,
	  .expect = "PCR numbers 0..23 separated by commas, each once, 7 among them, not 10 (IMA's: it moves as files run)" },
	{ .name = "tpm.timeout", NUM(tpm_timeout), .min = 1, .max = 3600 },
	{ .name = "evm", ENUM(evm), .choices = onoff },
	{ .name = "ima", ENUM(ima), .choices = onoff },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	strcpy(cfg->root_fstype, "auto");
	cfg->root_verity = ROOT_VERITY_REQUIRED;
	cfg->root_timeout = 30;
	strcpy(cfg->init, "/sbin/init");
	cfg->failure_action = FAILURE_REBOOT;
	cfg->failure_delay = 10;
	cfg->mode = MODE_PRODUCTION;
	strcpy(cfg->state_name, "state");
	strcpy(cfg->state_mount, "/var");
	cfg->state_recovery = STATE_RECOVERY_NONE;
	strcpy(cfg->tpm_pcrs, "7");
	cfg->tpm_timeout = 5;
}

const char *config_failure_action_name(enum failure_action a)
{
	return actions[a];
}

const char *config_quote(const char *v, size_t len, char *buf, size_t size)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 4 + sizeof(QUOTE_CUT) < size; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c > 0x7e || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = 0;
	if (i < len)
		snprintf(buf + o, size - o, QUOTE_CUT, len - i);
	return buf;
}

/* A NUL-terminated value, quoted for a message. */
#define Q(v, buf) config_quote((v), strlen(v), (buf), sizeof(buf))

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
	char list[128], q[QUOTE_MAX];
	int i;

	switch (k->type) {
	case KEY_STRING:
		if (strlen(v) >= k->size)
			return fail(err, line, "key '%s': value longer than the limit of %zu bytes",
				    name, k->size - 1);
		if (!k->valid(v))
			return fail(err, line, "key '%s': '%s' is not %s",
				    name, Q(v, q), k->expect);
		strcpy(field, v);
		return 0;
	case KEY_UINT:
		if (parse_uint(v, k->min, k->max, (unsigned *)field) < 0)
			return fail(err, line, "key '%s': '%s' is not a number in %u..%u",
				    name, Q(v, q), k->min, k->max);
		return 0;
	case KEY_ENUM:
		i = choice_index(k->choices, v);
		join_choices(k->choices, list, sizeof(list));
		if (i < 0)
			return fail(err, line, "key '%s': '%s' is not one of %s",
				    name, Q(v, q), list);
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
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	return s;
}

/* Control bytes never reach a value; a CR is named, as it is what a file
 * saved with DOS/Windows line endings has on every line. */
static int check_line_bytes(const char *s, size_t n, unsigned lineno,
			    struct config_error *err)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' && i + 1 == n)
			return fail(err, lineno, "line ends with CR (DOS/Windows line endings): save the file with LF line endings");
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(err, lineno, "control character \\x%02x in line", c);
	}
	return 0;
}

static int parse_line(struct config *cfg, char *line, unsigned lineno,
		      unsigned seen[], struct config_error *err)
{
	char *eq, *name, *value, q[QUOTE_MAX];
	const struct key *k;
	size_t idx;

	name = trim(line);
	if (!*name || *name == '#')
		return 0;
	eq = strchr(name, '=');
	if (!eq)
		return fail(err, lineno, "expected 'key = value', got '%s'", Q(name, q));
	*eq = 0;
	name = trim(name);
	value = trim(eq + 1);
	k = find_key(name, strlen(name), false);
	if (!k)
		return fail(err, lineno, "unknown key '%s'", Q(name, q));
	idx = (size_t)(k - keys);
	if (seen[idx])
		return fail(err, lineno, "key '%s' set twice (first on line %u)",
			    name, seen[idx]);
	seen[idx] = lineno;
	return set_key(cfg, k, name, value, lineno, err);
}

static int parse_lines(struct config *cfg, const char *text, size_t len,
		       struct config_error *err)
{
	unsigned seen[NKEYS] = { 0 }, lineno = 0;
	char line[CONFIG_LINE_MAX + 1];
	size_t pos = 0;
	int r;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - text - pos) : len - pos;

		lineno++;
		if (n > CONFIG_LINE_MAX)
			return fail(err, lineno, "line longer than the limit of %d bytes",
				    CONFIG_LINE_MAX);
		r = check_line_bytes(text + pos, n, lineno, err);
		if (r < 0)
			return r;
		memcpy(line, text + pos, n);
		line[n] = 0;
		r = parse_line(cfg, line, lineno, seen, err);
		if (r < 0)
			return r;
		pos += n + 1;
	}
	return 0;
}

/* cfg is written only on success: a file that fails leaves the caller's
 * configuration (the defaults) whole, never half of the file. */
int config_parse_text(struct config *cfg, const char *text, size_t len,
		      struct config_error *err)
{
	struct config tmp = *cfg;
	int r;

	if (len > CONFIG_FILE_MAX)
		return fail(err, 0, "file larger than the limit of %d bytes",
			    CONFIG_FILE_MAX);
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		return fail(err, 1, "file starts with a UTF-8 byte order mark (BOM): save it without one");
	r = parse_lines(&tmp, text, len, err);
	if (r == 0)
		*cfg = tmp;
	return r;
}

int config_parse_file(struct config *cfg, const char *path,
		      struct config_error *err)
{
	static char buf[CONFIG_FILE_MAX + 1];
	size_t len = 0;
	int r;

	r = read_file(path, buf, sizeof(buf), &len);
	if (r == -EFBIG)
		return fail(err, 0, "file larger than the limit of %d bytes",
			    CONFIG_FILE_MAX);
	if (r < 0)
		return r;
	return config_parse_text(cfg, buf, len, err);
}

/* One kernel command line word: quotes group blanks and are dropped, as
 * the kernel's own parser does. A word that does not fit is -E2BIG, with
 * what fitted in buf. */
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

static bool key_unset(const struct key *k, const char *field)
{
	return !strcmp(field, k->unset ? k->unset : "");
}

/* The rule of the key: may the command line's value v replace what the
 * file (or the default) set? */
static int cmdline_allowed(const struct config *cfg, const struct key *k,
			   const char *v, struct config_error *err)
{
	const char *field = (const char *)cfg + k->offset;
	char q1[QUOTE_MAX], q2[QUOTE_MAX];
	int i;

	switch (k->rule) {
	case CMDLINE_OVERRIDE:
		return 0;
	case CMDLINE_FILL:
		if (key_unset(k, field) || !strcmp(field, v))
			return 0;
		return fail(err, 0, "key '%s': cannot replace %s = '%s' of the file with '%s': the command line only fills in what the file left unset",
			    k->cmdline, k->name, Q(field, q1), Q(v, q2));
	case CMDLINE_SAME:
		if (!strcmp(field, v))
			return 0;
		return fail(err, 0, "key '%s': cannot replace %s = '%s' of the file with '%s': the command line may only repeat it",
			    k->cmdline, k->name, Q(field, q1), Q(v, q2));
	case CMDLINE_RAISE:
		i = choice_index(k->choices, v);
		if (i < 0 || i >= *(const int *)field)
			return 0;
		return fail(err, 0, "key '%s': '%s' is weaker than %s = '%s' of the file: the command line may only make it stricter",
			    k->cmdline, Q(v, q2), k->name, k->choices[*(const int *)field]);
	}
	return -EINVAL;
}

static int cmdline_apply(struct config *cfg, char *word, bool seen[],
			 struct config_error *err)
{
	char *eq = strchr(word, '='), q[QUOTE_MAX];
	size_t klen = eq ? (size_t)(eq - word) : strlen(word);
	const struct key *k = find_key(word, klen, true);
	int r;

	if (!k) {
		if (!strncmp(word, "sealroot.", 9))
			return fail(err, 0, "unknown kernel command line key '%s'",
				    config_quote(word, klen, q, sizeof(q)));
		return 0;
	}
	if (seen[k - keys])
		return fail(err, 0, "key '%s' given twice: refused, so the value a reader of the command line sees is the one enforced",
			    k->cmdline);
	seen[k - keys] = true;
	if (!eq || !eq[1])
		return fail(err, 0, "key '%s': a value is required", k->cmdline);
	r = cmdline_allowed(cfg, k, eq + 1, err);
	if (r < 0)
		return r;
	return set_key(cfg, k, k->cmdline, eq + 1, 0, err);
}

static int cmdline_long_word(const char *word, struct config_error *err)
{
	char q[QUOTE_MAX];

	if (strncmp(word, "sealroot.", 9) && !find_key(word, strcspn(word, "="), true))
		return 0;
	return fail(err, 0, "kernel command line word '%s' longer than the limit of %d bytes",
		    config_quote(word, 48, q, sizeof(q)), CONFIG_LINE_MAX);
}

static int cmdline_parse(struct config *cfg, const char *p,
			 struct config_error *err)
{
	char word[CONFIG_LINE_MAX + 1];
	bool seen[NKEYS] = { false };
	size_t len;
	int r;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			return 0;
		r = cmdline_word(&p, word, sizeof(word), &len);
		if (r < 0)
			r = cmdline_long_word(word, err);
		else if (!strcmp(word, "--"))
			return 0;
		else
			r = cmdline_apply(cfg, word, seen, err);
		if (r < 0)
			return r;
	}
}

/* cfg is written only on success: a command line that fails leaves the
 * file's configuration, its failure policy above all, in force. */
int config_parse_cmdline(struct config *cfg, const char *cmdline,
			 struct config_error *err)
{
	struct config tmp = *cfg;
	int r = cmdline_parse(&tmp, cmdline, err);

	if (r == 0)
		*cfg = tmp;
	return r;
}

static void print_value(const struct config *cfg, const struct key *k, FILE *out)
{
	const char *field = (const char *)cfg + k->offset;

	if (k->type == KEY_UINT)
		fprintf(out, "%u", *(const unsigned *)field);
	else if (k->type == KEY_ENUM)
		fputs(k->choices[*(const int *)field], out);
	else
		fputs(field, out);
}

void config_print(const struct config *cfg, FILE *out)
{
	for (size_t i = 0; i < NKEYS; i++) {
		fprintf(out, "%s=", keys[i].name);
		print_value(cfg, &keys[i], out);
		fputc('\n', out);
	}
}

static const char *const rule_names[] = {
	[CMDLINE_OVERRIDE] = "set",
	[CMDLINE_FILL] = "fill",
	[CMDLINE_SAME] = "same",
	[CMDLINE_RAISE] = "raise",
};

static void print_allowed(const struct key *k, FILE *out)
{
	if (k->type == KEY_UINT) {
		fprintf(out, "%u..%u", k->min, k->max);
		return;
	}
	if (k->type == KEY_STRING) {
		fputs(k->expect, out);
		return;
	}
	for (int i = 0; k->choices[i]; i++)
		fprintf(out, "%s%s", i ? "|" : "", k->choices[i]);
}

void config_print_keys(FILE *out)
{
	struct config def;

	config_defaults(&def);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		fprintf(out, "%s\t", k->name);
		print_value(&def, k, out);
		fprintf(out, "\t%s\t%s\t", k->cmdline ? k->cmdline : "-",
			k->cmdline ? rule_names[k->rule] : "-");
		print_allowed(k, out);
		fputc('\n', out);
	}
}
