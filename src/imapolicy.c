/* The IMA policy linter: Linux 6.1's ima_parse_rule() and
 * ima_validate_rule() (security/integrity/ima/ima_policy.c), rule by
 * rule, with a message where the kernel only says EINVAL. See
 * imapolicy.h for what is an error and what a warning. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "imapolicy.h"
#include "util.h"

#define ACTIONS "measure, dont_measure, appraise, dont_appraise, audit, hash, dont_hash"

static const char *const action_names[] = {
	"measure", "dont_measure", "appraise", "dont_appraise", "audit", "hash",
	"dont_hash",
};

static const char *const func_names[] = {
	[IMAPOLICY_FUNC_NONE] = "NONE",
	[IMAPOLICY_FUNC_FILE_CHECK] = "FILE_CHECK",
	[IMAPOLICY_FUNC_MMAP_CHECK] = "MMAP_CHECK",
	[IMAPOLICY_FUNC_BPRM_CHECK] = "BPRM_CHECK",
	[IMAPOLICY_FUNC_CREDS_CHECK] = "CREDS_CHECK",
	[IMAPOLICY_FUNC_MODULE_CHECK] = "MODULE_CHECK",
	[IMAPOLICY_FUNC_FIRMWARE_CHECK] = "FIRMWARE_CHECK",
	[IMAPOLICY_FUNC_KEXEC_KERNEL_CHECK] = "KEXEC_KERNEL_CHECK",
	[IMAPOLICY_FUNC_KEXEC_INITRAMFS_CHECK] = "KEXEC_INITRAMFS_CHECK",
	[IMAPOLICY_FUNC_POLICY_CHECK] = "POLICY_CHECK",
	[IMAPOLICY_FUNC_KEXEC_CMDLINE] = "KEXEC_CMDLINE",
	[IMAPOLICY_FUNC_KEY_CHECK] = "KEY_CHECK",
	[IMAPOLICY_FUNC_CRITICAL_DATA] = "CRITICAL_DATA",
	[IMAPOLICY_FUNC_SETXATTR_CHECK] = "SETXATTR_CHECK",
};

#define N_FUNCS (sizeof(func_names) / sizeof(func_names[0]))

/* The two names 6.1 keeps for backwards compatibility. */
static const struct {
	const char *name;
	enum imapolicy_func func;
} func_aliases[] = {
	{ "PATH_CHECK", IMAPOLICY_FUNC_FILE_CHECK },
	{ "FILE_MMAP", IMAPOLICY_FUNC_MMAP_CHECK },
};

/* Hooks of later kernels, named so the message says why. */
static const struct {
	const char *name;
	const char *since;
} later_funcs[] = {
	{ "MMAP_CHECK_REQPROT", "6.3" },
};

static const char *const masks[] = { "MAY_EXEC", "MAY_WRITE", "MAY_READ", "MAY_APPEND" };

/* crypto/hash_info.c hash_algo_name[] of 6.1. */
static const char *const hash_algos[] = {
	"md4", "md5", "sha1", "rmd160", "sha256", "sha384", "sha512", "sha224",
	"rmd128", "rmd256", "rmd320", "wp256", "wp384", "wp512", "tgr128",
	"tgr160", "tgr192", "sm3", "streebog256", "streebog512",
};

/* ima_template.c builtin_templates[] of 6.1: template= takes a name or
 * the format string of one. */
static const char *const templates[][2] = {
	{ "ima", "d|n" },
	{ "ima-ng", "d-ng|n-ng" },
	{ "ima-sig", "d-ng|n-ng|sig" },
	{ "ima-ngv2", "d-ngv2|n-ng" },
	{ "ima-sigv2", "d-ngv2|n-ng|sig" },
	{ "ima-buf", "d-ng|n-ng|buf" },
	{ "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
	{ "evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The options, each at most once a rule; uid and euid share the
 * kernel's one uid slot, gid and egid its gid slot. */
enum slot {
	SLOT_FUNC, SLOT_MASK, SLOT_FSMAGIC, SLOT_FSNAME, SLOT_FSUUID, SLOT_UID,
	SLOT_GID, SLOT_FOWNER, SLOT_FGROUP, SLOT_OBJ_USER, SLOT_OBJ_ROLE,
	SLOT_OBJ_TYPE, SLOT_SUBJ_USER, SLOT_SUBJ_ROLE, SLOT_SUBJ_TYPE,
	SLOT_DIGEST_TYPE, SLOT_APPRAISE_TYPE, SLOT_APPRAISE_FLAG,
	SLOT_APPRAISE_ALGOS, SLOT_DIRECTIO, SLOT_PCR, SLOT_TEMPLATE,
	SLOT_KEYRINGS, SLOT_LABEL, SLOT_N,
};

struct parser {
	imapolicy_report_fn *report;
	void *userdata;
	unsigned line;
	unsigned errors;
	char quoted[2][QUOTE_MAX];	/* two values a message */
	unsigned next_quote;
};

struct rule {
	struct imapolicy_rule r;
	const char *given[SLOT_N];	/* the word that filled a slot */
};

struct opt;
typedef int opt_parse_fn(struct parser *p, struct rule *r, const struct opt *o,
			 const char *v);

#define OP_EQ 1u
#define OP_LT 2u
#define OP_GT 4u

struct opt {
	const char *name;
	enum slot slot;
	unsigned ops;			/* OP_*; 0: a word without a value */
	unsigned flag;			/* IMAPOLICY_HAS_* it sets */
	opt_parse_fn *parse;
};

/* The kernel's rule flags each hook takes (ima_validate_rule). Templates
 * and LSM labels are no flags there: any hook takes them. */
#define FS_FLAGS (IMAPOLICY_HAS_FSMAGIC | IMAPOLICY_HAS_FSNAME | IMAPOLICY_HAS_FSUUID)
#define ID_FLAGS (IMAPOLICY_HAS_UID | IMAPOLICY_HAS_EUID | IMAPOLICY_HAS_GID | \
		  IMAPOLICY_HAS_EGID | IMAPOLICY_HAS_FOWNER | IMAPOLICY_HAS_FGROUP)
#define FILE_FLAGS (IMAPOLICY_HAS_FUNC | IMAPOLICY_HAS_MASK | IMAPOLICY_HAS_INMASK | \
		    FS_FLAGS | ID_FLAGS | IMAPOLICY_HAS_PCR | IMAPOLICY_HAS_SIG | \
		    IMAPOLICY_HAS_DIRECTIO | IMAPOLICY_HAS_ALGOS)
#define ANY_HOOK_FLAGS (IMAPOLICY_HAS_TEMPLATE | IMAPOLICY_HAS_LSM)
#define APPRAISE_ONLY (IMAPOLICY_HAS_SIG | IMAPOLICY_HAS_MODSIG | \
		       IMAPOLICY_HAS_BLACKLIST | IMAPOLICY_HAS_ALGOS)

static unsigned func_allowed(enum imapolicy_func f)
{
	switch (f) {
	case IMAPOLICY_FUNC_MODULE_CHECK:
	case IMAPOLICY_FUNC_KEXEC_KERNEL_CHECK:
	case IMAPOLICY_FUNC_KEXEC_INITRAMFS_CHECK:
		return FILE_FLAGS | IMAPOLICY_HAS_MODSIG | IMAPOLICY_HAS_BLACKLIST;
	case IMAPOLICY_FUNC_KEXEC_CMDLINE:
		return IMAPOLICY_HAS_FUNC | FS_FLAGS | ID_FLAGS | IMAPOLICY_HAS_PCR;
	case IMAPOLICY_FUNC_KEY_CHECK:
		return IMAPOLICY_HAS_FUNC | IMAPOLICY_HAS_UID | IMAPOLICY_HAS_GID |
		       IMAPOLICY_HAS_PCR | IMAPOLICY_HAS_KEYRINGS;
	case IMAPOLICY_FUNC_CRITICAL_DATA:
		return IMAPOLICY_HAS_FUNC | IMAPOLICY_HAS_UID | IMAPOLICY_HAS_GID |
		       IMAPOLICY_HAS_PCR | IMAPOLICY_HAS_LABEL;
	case IMAPOLICY_FUNC_SETXATTR_CHECK:
		return IMAPOLICY_HAS_FUNC | IMAPOLICY_HAS_ALGOS;
	default:
		return FILE_FLAGS | IMAPOLICY_HAS_VERITY;
	}
}

/* How a message names the option behind a flag. */
static const struct {
	unsigned flag;
	const char *name;
} flag_names[] = {
	{ IMAPOLICY_HAS_MASK, "mask=" },
	{ IMAPOLICY_HAS_INMASK, "mask=^" },
	{ IMAPOLICY_HAS_FSMAGIC, "fsmagic=" },
	{ IMAPOLICY_HAS_FSNAME, "fsname=" },
	{ IMAPOLICY_HAS_FSUUID, "fsuuid=" },
	{ IMAPOLICY_HAS_UID, "uid" },
	{ IMAPOLICY_HAS_EUID, "euid" },
	{ IMAPOLICY_HAS_GID, "gid" },
	{ IMAPOLICY_HAS_EGID, "egid" },
	{ IMAPOLICY_HAS_FOWNER, "fowner" },
	{ IMAPOLICY_HAS_FGROUP, "fgroup" },
	{ IMAPOLICY_HAS_VERITY, "digest_type=verity" },
	{ IMAPOLICY_HAS_MODSIG, "appraise_type=imasig|modsig" },
	{ IMAPOLICY_HAS_SIG, "appraise_type=" },
	{ IMAPOLICY_HAS_BLACKLIST, "appraise_flag=" },
	{ IMAPOLICY_HAS_ALGOS, "appraise_algos=" },
	{ IMAPOLICY_HAS_DIRECTIO, "permit_directio" },
	{ IMAPOLICY_HAS_PCR, "pcr=" },
	{ IMAPOLICY_HAS_KEYRINGS, "keyrings=" },
	{ IMAPOLICY_HAS_LABEL, "label=" },
};

const char *imapolicy_action_name(enum imapolicy_action action)
{
	return action_names[action];
}

const char *imapolicy_func_name(enum imapolicy_func func)
{
	return func_names[func];
}

/* Messages ----------------------------------------------------------------- */

static const char *quote(struct parser *p, const char *v)
{
	char *buf = p->quoted[p->next_quote++ % 2];

	return config_quote(v, strlen(v), buf, QUOTE_MAX);
}

static void vreport(struct parser *p, enum imapolicy_severity s,
		    const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (p->report)
		p->report(p->userdata, s, p->line, msg);
}

static int fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, IMAPOLICY_ERROR, fmt, ap);
	va_end(ap);
	p->errors++;
	return -EINVAL;
}

static void warn(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(p, IMAPOLICY_WARNING, fmt, ap);
	va_end(ap);
}

/* Lists of names for messages, joined with ", ". */
static const char *join(const char *const *names, size_t n, size_t stride,
			char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
					names[i * stride]);
	return buf;
}

static const char *flags_text(unsigned flags, char *buf, size_t size)
{
	const char *names[ARRAY_LEN(flag_names)];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(flag_names); i++)
		if (flags & flag_names[i].flag)
			names[n++] = flag_names[i].name;
	if (!n)
		return "nothing else";
	return join(names, n, 1, buf, size);
}

static const char *flag_name(unsigned flag)
{
	for (size_t i = 0; i < ARRAY_LEN(flag_names); i++)
		if (flag & flag_names[i].flag)
			return flag_names[i].name;
	return "?";
}

/* Values ------------------------------------------------------------------- */

static int find_name(const char *const *names, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], v))
			return (int)i;
	return -1;
}

static bool all_digits(const char *v, size_t max)
{
	size_t n = strspn(v, "0123456789");

	return n && n <= max && !v[n];
}

static bool all_of(const char *v, const char *set)
{
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || strchr(set, *v)))
			return false;
	return true;
}

static int lookup_func(const char *v)
{
	int i = find_name(func_names + 1, N_FUNCS - 1, v);

	if (i >= 0)
		return i + 1;
	for (size_t a = 0; a < ARRAY_LEN(func_aliases); a++)
		if (!strcmp(func_aliases[a].name, v))
			return (int)func_aliases[a].func;
	return -1;
}

static int parse_func(struct parser *p, struct rule *r, const struct opt *o,
		      const char *v)
{
	int f = lookup_func(v);
	char list[384];

	(void)o;
	for (size_t i = 0; f < 0 && i < ARRAY_LEN(later_funcs); i++)
		if (!strcmp(later_funcs[i].name, v))
			return fail(p, "func=%s is a hook of Linux %s, not of 6.1",
				    v, later_funcs[i].since);
	if (f < 0)
		return fail(p, "func=%s is not a hook of Linux 6.1 (%s, PATH_CHECK, FILE_MMAP)",
			    quote(p, v), join(func_names + 1, N_FUNCS - 1, 1, list, sizeof(list)));
	r->r.func = (enum imapolicy_func)f;
	r->r.flags |= IMAPOLICY_HAS_FUNC;
	return 0;
}

static int parse_mask(struct parser *p, struct rule *r, const struct opt *o,
		      const char *v)
{
	bool inverted = *v == '^';

	(void)o;
	if (find_name(masks, ARRAY_LEN(masks), v + inverted) < 0)
		return fail(p, "mask=%s is not one of MAY_EXEC, MAY_WRITE, MAY_READ, MAY_APPEND (each may start with ^)",
			    quote(p, v));
	r->r.flags |= inverted ? IMAPOLICY_HAS_INMASK : IMAPOLICY_HAS_MASK;
	return 0;
}

/* Hex, as kstrtoul(16) reads it, without its '+' and 64 bits: every file
 * system's magic is 32 bits, and none is 0 (the kernel would take 0 as
 * "no fsmagic" and a second fsmagic= after it). */
static int parse_fsmagic(struct parser *p, struct rule *r, const struct opt *o,
			 const char *v)
{
	const char *h = v + ((v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) ? 2 : 0);
	size_t n = strspn(h, "0123456789abcdefABCDEF");

	(void)o;
	if (!n || h[n] || n > 8)
		return fail(p, "fsmagic=%s is not a file system magic (hex, 32 bits, e.g. 0x9fa0)",
			    quote(p, v));
	r->r.fsmagic = strtoul(h, NULL, 16);
	if (!r->r.fsmagic)
		return fail(p, "fsmagic=%s: no file system has magic 0", v);
	r->r.flags |= IMAPOLICY_HAS_FSMAGIC;
	return 0;
}

static int parse_fsuuid(struct parser *p, struct rule *r, const struct opt *o,
			const char *v)
{
	(void)o;
	if (!config_valid_uuid(v))
		return fail(p, "fsuuid=%s is not a file system UUID in lower case (8-4-4-4-12 hex digits, not all zero)",
			    quote(p, v));
	memcpy(r->r.fsuuid, v, sizeof(r->r.fsuuid));
	r->r.flags |= IMAPOLICY_HAS_FSUUID;
	return 0;
}

static int parse_fsname(struct parser *p, struct rule *r, const struct opt *o,
			const char *v)
{
	(void)o;
	if (!all_of(v, "_.-"))
		return fail(p, "fsname=%s is not a file system type name ([A-Za-z0-9_.-])",
			    quote(p, v));
	r->r.flags |= IMAPOLICY_HAS_FSNAME;
	return 0;
}

/* A decimal uid or gid: uid_t, without (uid_t)-1, which is no one. */
static int parse_id(struct parser *p, struct rule *r, const struct opt *o,
		    const char *v)
{
	if (!all_digits(v, 10) || strtoul(v, NULL, 10) > 4294967294ul)
		return fail(p, "%s: '%s' is not a decimal id in 0..4294967294",
			    o->name, quote(p, v));
	r->r.flags |= o->flag;
	return 0;
}

/* LSM labels are checked by the LSM when the rule is loaded. sealroot
 * loads the policy from the initramfs, when no LSM policy is loaded yet:
 * SELinux refuses every label then, and while the kernel's built-in
 * policy is still the one in force, a label the LSM refuses is -EINVAL. */
static int parse_lsm(struct parser *p, struct rule *r, const struct opt *o,
		     const char *v)
{
	if (!(r->r.flags & IMAPOLICY_HAS_LSM))
		warn(p, "%s=%s: an LSM label is resolved when the policy is loaded; from the initramfs no LSM policy is loaded yet (SELinux refuses every label then) and the kernel rejects the rule",
		     o->name, v);
	r->r.flags |= IMAPOLICY_HAS_LSM;
	return 0;
}

/* keyrings= and label=: names separated by '|', none empty
 * (ima_alloc_rule_opt_list). */
static int parse_list(struct parser *p, struct rule *r, const struct opt *o,
		      const char *v)
{
	size_t n;

	for (;;) {
		n = strcspn(v, "|");
		if (!n)
			return fail(p, "%s has an empty name: names are separated by one '|'",
				    o->name);
		if (!v[n])
			break;
		v += n + 1;
	}
	r->r.flags |= o->flag;
	return 0;
}

static int parse_digest_type(struct parser *p, struct rule *r, const struct opt *o,
			     const char *v)
{
	(void)o;
	if (strcmp(v, "verity"))
		return fail(p, "digest_type=%s is not verity (the only digest type of Linux 6.1)",
			    quote(p, v));
	if (r->r.flags & IMAPOLICY_HAS_SIG)
		return fail(p, "digest_type=verity after appraise_type=: the kernel takes it only before");
	r->r.flags |= IMAPOLICY_HAS_VERITY;
	return 0;
}

static int parse_appraise_type(struct parser *p, struct rule *r,
			       const struct opt *o, const char *v)
{
	bool verity = r->r.flags & IMAPOLICY_HAS_VERITY;

	(void)o;
	if (!strcmp(v, "sigv3") && !verity)
		return fail(p, "appraise_type=sigv3 needs digest_type=verity before it (sigv3 signs fs-verity digests)");
	if ((!strcmp(v, "imasig") || !strcmp(v, "imasig|modsig")) && verity)
		return fail(p, "appraise_type=%s with digest_type=verity: fs-verity digests are signed as sigv3", v);
	if (!strcmp(v, "imasig|modsig")) {
		warn(p, "appraise_type=imasig|modsig needs CONFIG_IMA_APPRAISE_MODSIG (Debian 12's kernel has none): without it the kernel rejects the rule");
		r->r.flags |= IMAPOLICY_HAS_MODSIG;
	} else if (strcmp(v, "imasig") && strcmp(v, "sigv3")) {
		return fail(p, "appraise_type=%s is not one of imasig, imasig|modsig, sigv3",
			    quote(p, v));
	}
	r->r.flags |= IMAPOLICY_HAS_SIG;
	return 0;
}

/* The kernel takes any value with "blacklist" in it; check_blacklist is
 * the one documented. */
static int parse_appraise_flag(struct parser *p, struct rule *r,
			       const struct opt *o, const char *v)
{
	(void)o;
	if (strcmp(v, "check_blacklist"))
		return fail(p, "appraise_flag=%s is not check_blacklist", quote(p, v));
	warn(p, "appraise_flag=check_blacklist needs CONFIG_IMA_APPRAISE_MODSIG (Debian 12's kernel has none): without it the kernel rejects the rule");
	r->r.flags |= IMAPOLICY_HAS_BLACKLIST;
	return 0;
}

static int algo_index(const char *v, size_t n)
{
	for (size_t i = 0; i < ARRAY_LEN(hash_algos); i++)
		if (strlen(hash_algos[i]) == n && !strncmp(hash_algos[i], v, n))
			return (int)i;
	return -1;
}

/* Hash names, comma separated, each once. The kernel also asks the crypto
 * API for each: one built as a module (sha512 in Debian) must be loaded
 * before the policy, as nothing in the initramfs answers module requests. */
static int parse_algos(struct parser *p, struct rule *r, const struct opt *o,
		       const char *v)
{
	unsigned seen = 0;
	char q[QUOTE_MAX], list[256];
	size_t n;
	int i;

	(void)o;
	for (;; v += n + 1) {
		n = strcspn(v, ",");
		i = algo_index(v, n);
		if (i < 0)
			return fail(p, "appraise_algos=: '%s' is not a hash algorithm of Linux 6.1 (%s; separated by commas)",
				    config_quote(v, n, q, sizeof(q)),
				    join(hash_algos, ARRAY_LEN(hash_algos), 1, list, sizeof(list)));
		if (seen & (1u << i))
			return fail(p, "appraise_algos=: %s given twice", hash_algos[i]);
		seen |= 1u << i;
		if (!v[n])
			break;
	}
	r->r.flags |= IMAPOLICY_HAS_ALGOS;
	return 0;
}

/* The kernel takes 0..63 (a bit in the iint's measured_pcrs); a TPM 2.0
 * has 24 PCRs, and an extend of any other fails. */
static int parse_pcr(struct parser *p, struct rule *r, const struct opt *o,
		     const char *v)
{
	(void)o;
	if (!all_digits(v, 2) || strtoul(v, NULL, 10) > 23)
		return fail(p, "pcr=%s is not a PCR of the TPM (0..23)", quote(p, v));
	r->r.pcr = (unsigned)strtoul(v, NULL, 10);
	r->r.flags |= IMAPOLICY_HAS_PCR;
	return 0;
}

static bool known_template(const char *v)
{
	for (size_t i = 0; i < ARRAY_LEN(templates); i++)
		if (!strcmp(templates[i][0], v) || !strcmp(templates[i][1], v))
			return true;
	return false;
}

static int parse_template(struct parser *p, struct rule *r, const struct opt *o,
			  const char *v)
{
	char list[160];

	(void)o;
	if (r->r.action != IMAPOLICY_MEASURE)
		return fail(p, "template= is only for measure rules");
	if (!known_template(v))
		return fail(p, "template=%s is not a template of Linux 6.1 (%s)", quote(p, v),
			    join(&templates[0][0], ARRAY_LEN(templates), 2, list, sizeof(list)));
	r->r.flags |= IMAPOLICY_HAS_TEMPLATE;
	return 0;
}

static int parse_flag(struct parser *p, struct rule *r, const struct opt *o,
		      const char *v)
{
	(void)p;
	(void)v;
	r->r.flags |= o->flag;
	return 0;
}

#define IDS (OP_EQ | OP_LT | OP_GT)

static const struct opt opts[] = {
	{ "func", SLOT_FUNC, OP_EQ, 0, parse_func },
	{ "mask", SLOT_MASK, OP_EQ, 0, parse_mask },
	{ "fsmagic", SLOT_FSMAGIC, OP_EQ, 0, parse_fsmagic },
	{ "fsname", SLOT_FSNAME, OP_EQ, 0, parse_fsname },
	{ "fsuuid", SLOT_FSUUID, OP_EQ, 0, parse_fsuuid },
	{ "uid", SLOT_UID, IDS, IMAPOLICY_HAS_UID, parse_id },
	{ "euid", SLOT_UID, IDS, IMAPOLICY_HAS_EUID, parse_id },
	{ "gid", SLOT_GID, IDS, IMAPOLICY_HAS_GID, parse_id },
	{ "egid", SLOT_GID, IDS, IMAPOLICY_HAS_EGID, parse_id },
	{ "fowner", SLOT_FOWNER, IDS, IMAPOLICY_HAS_FOWNER, parse_id },
	{ "fgroup", SLOT_FGROUP, IDS, IMAPOLICY_HAS_FGROUP, parse_id },
	{ "obj_user", SLOT_OBJ_USER, OP_EQ, 0, parse_lsm },
	{ "obj_role", SLOT_OBJ_ROLE, OP_EQ, 0, parse_lsm },
	{ "obj_type", SLOT_OBJ_TYPE, OP_EQ, 0, parse_lsm },
	{ "subj_user", SLOT_SUBJ_USER, OP_EQ, 0, parse_lsm },
	{ "subj_role", SLOT_SUBJ_ROLE, OP_EQ, 0, parse_lsm },
	{ "subj_type", SLOT_SUBJ_TYPE, OP_EQ, 0, parse_lsm },
	{ "digest_type", SLOT_DIGEST_TYPE, OP_EQ, 0, parse_digest_type },
	{ "appraise_type", SLOT_APPRAISE_TYPE, OP_EQ, 0, parse_appraise_type },
	{ "appraise_flag", SLOT_APPRAISE_FLAG, OP_EQ, 0, parse_appraise_flag },
	{ "appraise_algos", SLOT_APPRAISE_ALGOS, OP_EQ, 0, parse_algos },
	{ "permit_directio", SLOT_DIRECTIO, 0, IMAPOLICY_HAS_DIRECTIO, parse_flag },
	{ "pcr", SLOT_PCR, OP_EQ, 0, parse_pcr },
	{ "template", SLOT_TEMPLATE, OP_EQ, 0, parse_template },
	{ "keyrings", SLOT_KEYRINGS, OP_EQ, IMAPOLICY_HAS_KEYRINGS, parse_list },
	{ "label", SLOT_LABEL, OP_EQ, IMAPOLICY_HAS_LABEL, parse_list },
};

/* Words -------------------------------------------------------------------- */

static const struct opt *find_opt(const char *w, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(opts); i++)
		if (strlen(opts[i].name) == len && !strncmp(opts[i].name, w, len))
			return &opts[i];
	return NULL;
}

static unsigned op_of(char c)
{
	return c == '=' ? OP_EQ : c == '<' ? OP_LT : c == '>' ? OP_GT : 0;
}

static int unknown_word(struct parser *p, const char *w)
{
	if (strchr(w, '#'))
		return fail(p, "'%s': a comment must be a line of its own (the kernel reads '#' after a rule as a word it does not know)",
			    quote(p, w));
	return fail(p, "unknown word '%s' (not a condition or option of Linux 6.1)",
		    quote(p, w));
}

/* The form of the word: a value where one is due, an operator the option
 * takes, the option not given yet. */
static int check_form(struct parser *p, const struct rule *r,
		      const struct opt *o, const char *w, unsigned op)
{
	size_t n = strlen(o->name);

	if (!o->ops && w[n])
		return fail(p, "'%s' takes no value", o->name);
	if (o->ops && !op)
		return fail(p, "'%s' needs a value (%s=...)", o->name, o->name);
	if (o->ops && !(o->ops & op))
		return fail(p, "'%s%c': %s takes '='%s", o->name, w[n], o->name,
			    o->ops == IDS ? ", '<' or '>'" : " only");
	if (o->ops && !w[n + 1])
		return fail(p, "'%s' has no value", w);
	if (r->given[o->slot] && !strcmp(r->given[o->slot], o->name))
		return fail(p, "'%s' given twice in one rule", o->name);
	if (r->given[o->slot])
		return fail(p, "'%s' and '%s' in one rule: the kernel has one slot for both",
			    r->given[o->slot], o->name);
	return 0;
}

static int action_index(const char *w)
{
	return find_name(action_names, ARRAY_LEN(action_names), w);
}

static int parse_word(struct parser *p, struct rule *r, const char *w)
{
	size_t n = strcspn(w, "=<>");
	const struct opt *o = find_opt(w, n);

	if (action_index(w) >= 0)
		return fail(p, "a second action '%s': a rule has one", w);
	if (!o)
		return unknown_word(p, w);
	if (check_form(p, r, o, w, op_of(w[n])) < 0)
		return -EINVAL;
	r->given[o->slot] = o->name;
	return o->parse(p, r, o, w[n] ? w + n + 1 : w + n);
}

/* Rules -------------------------------------------------------------------- */

/* ima_validate_rule(): which action takes which option. */
static int check_action(struct parser *p, const struct imapolicy_rule *r)
{
	if ((r->flags & IMAPOLICY_HAS_PCR) && r->action != IMAPOLICY_MEASURE)
		return fail(p, "pcr= is only for measure rules");
	if ((r->flags & APPRAISE_ONLY) && r->action != IMAPOLICY_APPRAISE)
		return fail(p, "%s is only for appraise rules",
			    flag_name(r->flags & APPRAISE_ONLY));
	return 0;
}

/* ima_validate_rule(): which hook takes which action and option. */
static int check_func(struct parser *p, const struct imapolicy_rule *r)
{
	const char *fn = func_names[r->func];
	unsigned bad = r->flags & ~(func_allowed(r->func) | ANY_HOOK_FLAGS);
	char list[384];

	if (r->flags & IMAPOLICY_HAS_KEYRINGS && r->func != IMAPOLICY_FUNC_KEY_CHECK)
		return fail(p, "keyrings= is only for func=KEY_CHECK");
	if (r->flags & IMAPOLICY_HAS_LABEL && r->func != IMAPOLICY_FUNC_CRITICAL_DATA)
		return fail(p, "label= is only for func=CRITICAL_DATA");
	if (bad & (IMAPOLICY_HAS_MODSIG | IMAPOLICY_HAS_BLACKLIST))
		return fail(p, "%s is only for func=MODULE_CHECK, KEXEC_KERNEL_CHECK or KEXEC_INITRAMFS_CHECK",
			    flag_name(bad & (IMAPOLICY_HAS_MODSIG | IMAPOLICY_HAS_BLACKLIST)));
	if (bad)
		return fail(p, "func=%s does not take %s (it takes %s)", fn, flag_name(bad),
			    flags_text(func_allowed(r->func) & ~IMAPOLICY_HAS_FUNC, list, sizeof(list)));
	return 0;
}

static bool measure_only(enum imapolicy_func f)
{
	return f == IMAPOLICY_FUNC_KEXEC_CMDLINE || f == IMAPOLICY_FUNC_KEY_CHECK ||
	       f == IMAPOLICY_FUNC_CRITICAL_DATA;
}

static int check_func_action(struct parser *p, const struct imapolicy_rule *r)
{
	const char *fn = func_names[r->func];
	bool measure = r->action == IMAPOLICY_MEASURE || r->action == IMAPOLICY_DONT_MEASURE;
	bool setxattr = r->func == IMAPOLICY_FUNC_SETXATTR_CHECK;

	if (measure_only(r->func) && r->func != IMAPOLICY_FUNC_KEXEC_CMDLINE &&
	    (r->flags & IMAPOLICY_HAS_LSM))
		return fail(p, "func=%s does not take LSM labels (obj_*, subj_*)", fn);
	if (measure_only(r->func) && !measure)
		return fail(p, "func=%s is only for measure and dont_measure rules", fn);
	if (setxattr && r->action != IMAPOLICY_APPRAISE)
		return fail(p, "func=SETXATTR_CHECK is only for appraise rules");
	if (setxattr && !(r->flags & IMAPOLICY_HAS_ALGOS))
		return fail(p, "func=SETXATTR_CHECK needs appraise_algos=");
	return 0;
}

static int check_combination(struct parser *p, const struct imapolicy_rule *r)
{
	if ((r->flags & IMAPOLICY_HAS_BLACKLIST) && !(r->flags & IMAPOLICY_HAS_MODSIG))
		return fail(p, "appraise_flag=check_blacklist needs appraise_type=imasig|modsig");
	if (r->action == IMAPOLICY_APPRAISE && (r->flags & IMAPOLICY_HAS_VERITY) &&
	    !(r->flags & IMAPOLICY_HAS_SIG))
		return fail(p, "appraise with digest_type=verity needs appraise_type=sigv3 (an fs-verity digest is only trusted signed)");
	return 0;
}

static int validate(struct parser *p, const struct imapolicy_rule *r)
{
	if (check_action(p, r) < 0 || check_func_action(p, r) < 0 ||
	    check_func(p, r) < 0 || check_combination(p, r) < 0)
		return -EINVAL;
	return 0;
}

/* The next word separated by blanks (the kernel's strsep(" \t")), made a
 * string in place; NULL at the end of the line. */
static char *next_word(char **pos)
{
	char *w = *pos + strspn(*pos, " \t");
	size_t n = strcspn(w, " \t");

	if (!*w)
		return NULL;
	*pos = w + n + (w[n] ? 1 : 0);
	w[n] = 0;
	return w;
}

/* One rule: its action first (the kernel takes it anywhere, but refuses
 * template= before it), then conditions and options. */
static int parse_rule(struct parser *p, char *line, struct imapolicy_rule *ret)
{
	struct rule r = { .r = { .line = p->line, .pcr = 10 } };
	char *w = next_word(&line);
	int a = w ? action_index(w) : -1;

	if (a < 0)
		return fail(p, "a rule starts with its action (%s), not '%s'", ACTIONS,
			    quote(p, w ? w : ""));
	r.r.action = (enum imapolicy_action)a;
	while ((w = next_word(&line)))
		if (parse_word(p, &r, w) < 0)
			return -EINVAL;
	if (validate(p, &r.r) < 0)
		return -EINVAL;
	*ret = r.r;
	return 0;
}

/* Lines -------------------------------------------------------------------- */

/* The bytes of a rule line: printable ASCII and tabs. A CR is named, as a
 * file with DOS line endings has one on every line (the kernel reads it as
 * part of the last word). */
static int check_bytes(struct parser *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' && i + 1 == n)
			return fail(p, "line ends with CR (DOS/Windows line endings): save the file with LF line endings");
		if ((c < 0x20 && c != '\t') || c >= 0x7f)
			return fail(p, "byte \\x%02x in a rule: rules are plain ASCII", c);
	}
	return 0;
}

static bool blank_or_comment(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i == n || s[i] == '#';
}

static void parse_line(struct parser *p, const char *s, size_t n,
		       struct imapolicy *pol)
{
	char line[IMAPOLICY_LINE_MAX + 1];
	struct imapolicy_rule rule;

	if (memchr(s, 0, n)) {
		fail(p, "NUL byte in the line: the kernel's policy reader stops there and rejects the file");
		return;
	}
	if (n > IMAPOLICY_LINE_MAX) {
		fail(p, "line longer than the limit of %d bytes (one write to the kernel's policy file)",
		     IMAPOLICY_LINE_MAX);
		return;
	}
	if (blank_or_comment(s, n) || check_bytes(p, s, n) < 0)
		return;
	memcpy(line, s, n);
	line[n] = 0;
	if (parse_rule(p, line, &rule) < 0)
		return;
	if (pol->n_rules == IMAPOLICY_RULES_MAX) {
		fail(p, "more than %d rules", IMAPOLICY_RULES_MAX);
		return;
	}
	pol->rules[pol->n_rules++] = rule;
}

/* The whole text as the kernel's ima_read_policy() takes it: it splits
 * at each '\n' and counts what each line consumed, so a last line
 * without one (or a NUL byte) fails the whole file. */
static void parse_text(struct parser *p, const char *text, size_t len,
		       struct imapolicy *pol)
{
	size_t pos = 0, n;
	unsigned errors;
	const char *nl;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		p->line = 1;
		fail(p, "file starts with a UTF-8 byte order mark (BOM): the kernel reads it as part of the first word; save the file without one");
		return;
	}
	while (pos < len) {
		nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - text) - pos : len - pos;
		errors = p->errors;
		p->line++;
		parse_line(p, text + pos, n, pol);
		if (!nl && errors == p->errors)
			fail(p, "no newline at the end of the file: the kernel's policy reader then rejects the whole file");
		pos += n + 1;
	}
}

int imapolicy_parse(const char *text, size_t len, imapolicy_report_fn *report,
		    void *userdata, struct imapolicy *ret_policy)
{
	struct parser p = { .report = report, .userdata = userdata };
	struct imapolicy pol;

	pol.n_rules = 0;
	if (len > IMAPOLICY_FILE_MAX)
		return fail(&p, "file larger than the limit of %d bytes", IMAPOLICY_FILE_MAX);
	parse_text(&p, text, len, &pol);
	p.line = 0;
	if (!p.errors && !pol.n_rules)
		fail(&p, "no rules: the kernel refuses an empty policy");
	if (p.errors)
		return -EINVAL;
	ret_policy->n_rules = pol.n_rules;
	memcpy(ret_policy->rules, pol.rules, pol.n_rules * sizeof(pol.rules[0]));
	return (int)pol.n_rules;
}

int imapolicy_parse_file(const char *path, imapolicy_report_fn *report,
			 void *userdata, struct imapolicy *ret_policy)
{
	static char buf[IMAPOLICY_FILE_MAX + 1];
	struct parser p = { .report = report, .userdata = userdata };
	size_t len = 0;
	int r;

	r = read_file(path, buf, sizeof(buf), &len);
	if (r == -EFBIG || (r == 0 && len > IMAPOLICY_FILE_MAX))
		return fail(&p, "file larger than the limit of %d bytes", IMAPOLICY_FILE_MAX);
	if (r < 0)
		return r;
	return imapolicy_parse(buf, len, report, userdata, ret_policy);
}

/* Questions ------------------------------------------------------------------ */

bool imapolicy_has_rule(const struct imapolicy *policy,
			enum imapolicy_action action, enum imapolicy_func func)
{
	for (unsigned i = 0; i < policy->n_rules; i++)
		if (policy->rules[i].action == action && policy->rules[i].func == func)
			return true;
	return false;
}

static bool is_appraise(const struct imapolicy_rule *r)
{
	return r->action == IMAPOLICY_APPRAISE;
}

bool imapolicy_appraises_fsuuid(const struct imapolicy *policy,
				const char *fsuuid)
{
	for (unsigned i = 0; i < policy->n_rules; i++) {
		const struct imapolicy_rule *r = &policy->rules[i];

		if (is_appraise(r) && (r->flags & IMAPOLICY_HAS_FSUUID) &&
		    !strcmp(r->fsuuid, fsuuid))
			return true;
	}
	return false;
}

bool imapolicy_appraises_by_fsuuid(const struct imapolicy *policy)
{
	for (unsigned i = 0; i < policy->n_rules; i++)
		if (is_appraise(&policy->rules[i]) &&
		    (policy->rules[i].flags & IMAPOLICY_HAS_FSUUID))
			return true;
	return false;
}

bool imapolicy_appraise_needs_evm(const struct imapolicy *policy)
{
	for (unsigned i = 0; i < policy->n_rules; i++)
		if (is_appraise(&policy->rules[i]) &&
		    !(policy->rules[i].flags & IMAPOLICY_HAS_SIG))
			return true;
	return false;
}

bool imapolicy_appraise_needs_sig(const struct imapolicy *policy)
{
	for (unsigned i = 0; i < policy->n_rules; i++)
		if (is_appraise(&policy->rules[i]) &&
		    (policy->rules[i].flags & IMAPOLICY_HAS_SIG))
			return true;
	return false;
}
