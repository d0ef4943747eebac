/* The audit's engine: reading the inputs with sealroot's parsers, running
 * the table of checks (src/audit.c), keeping their findings. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define PROG "sealroot-audit"

static int load_error(FILE *err, const char *what, const char *path, int r)
{
	fprintf(err, PROG ": %s: cannot read '%s': %s\n", what, path, strerror(-r));
	return r;
}

/* The file, then the command line over it, then (with a command line:
 * the device sees both) the device plan, as sealroot-lint does. A parse
 * error is kept for config.lint; cfg keeps what parsed (the defaults if
 * the file did not). */
static void load_config(struct audit *a)
{
	struct plan plan;

	config_defaults(&a->cfg);
	if (a->in.config)
		a->config_r = config_parse_file(&a->cfg, a->in.config, &a->config_err);
	if (a->config_r == 0 && a->in.cmdline) {
		a->cmdline_r = config_parse_cmdline(&a->cfg, a->in.cmdline, &a->cmdline_err);
		if (a->cmdline_r == 0)
			a->plan_r = plan_devices(&a->cfg, &plan, &a->plan_err);
	}
}

static int load_kconfig(struct audit *a, FILE *err)
{
	unsigned line = 0;
	int r;

	if (a->in.kconfig) {
		r = kconfig_read(a->in.kconfig, &a->kc, &line);
		if (r == -EBADMSG) {
			fprintf(err, PROG ": kconfig: cannot parse '%s': line %u is neither an option nor a comment\n",
				a->in.kconfig, line);
			return r;
		}
		if (r == -ENODATA) {
			fprintf(err, PROG ": kconfig: cannot parse '%s': no CONFIG_ option: not a kernel configuration\n",
				a->in.kconfig);
			return r;
		}
		if (r < 0)
			return load_error(err, "kconfig", a->in.kconfig, r);
	} else if (a->in.kernel) {
		r = kconfig_extract(a->in.kernel, &a->kc, &line);
		a->kconfig_r = r;
		if (r == -ENOMSG)
			return 0;
		if (r == -EBADMSG) {
			fprintf(err, PROG ": kernel: cannot parse the configuration embedded in '%s'\n",
				a->in.kernel);
			return r;
		}
		if (r < 0)
			return load_error(err, "kernel", a->in.kernel, r);
	} else {
		return 0;
	}
	a->have_kconfig = true;
	return 0;
}

/* Certificates for IMA/EVM: any file under keys/ima or keys/evm. */
static bool has_certs(const char *keys)
{
	static const char *const sub[] = { "ima", "evm" };
	char path[4096];
	bool found = false;

	for (size_t i = 0; i < 2 && !found; i++) {
		struct dirent *de;
		DIR *d;

		snprintf(path, sizeof(path), "%s/%s", keys, sub[i]);
		d = opendir(path);
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				found = true;
		if (d)
			closedir(d);
	}
	return found;
}

static int load_certs(struct audit *a, FILE *err)
{
	int r;

	if (a->in.signing_cert) {
		r = certkey_read(a->in.signing_cert, &a->signing);
		if (r < 0)
			return load_error(err, "signing certificate", a->in.signing_cert, r);
		a->have_signing = true;
	}
	for (size_t i = 0; i < a->in.nproduction; i++) {
		r = certkey_read(a->in.production_certs[i], &a->production[i]);
		if (r < 0)
			return load_error(err, "production certificate",
					  a->in.production_certs[i], r);
	}
	return 0;
}

static int alloc_status(struct audit *a)
{
	a->status = calloc(audit_nchecks, sizeof(*a->status));
	a->check_r = calloc(audit_nchecks, sizeof(*a->check_r));
	return a->status && a->check_r ? 0 : -ENOMEM;
}

int audit_load(struct audit *a, const struct audit_inputs *in, FILE *err)
{
	int r;

	*a = (struct audit){ .in = *in, .tree = { .fd = -1 } };
	r = alloc_status(a);
	if (r < 0)
		return r;
	load_config(a);
	r = load_kconfig(a, err);
	if (r == 0 && in->root) {
		r = roottree_load(in->root, &a->tree);
		if (r < 0)
			return load_error(err, "root", in->root, r);
		a->have_tree = true;
	}
	if (r == 0 && in->keys)
		a->certs = has_certs(in->keys);
	if (r == 0)
		r = load_certs(a, err);
	return r;
}

static const char *skip_reason(const struct audit *a, unsigned needs)
{
	if ((needs & AUDIT_NEEDS_CONFIG) && !a->in.config)
		return "no sealroot.conf (--config)";
	if ((needs & AUDIT_NEEDS_KCONFIG) && !a->have_kconfig)
		return "no kernel configuration (--kconfig, or --kernel with CONFIG_IKCONFIG)";
	if ((needs & AUDIT_NEEDS_ROOT) && !a->have_tree)
		return "no root tree (--root)";
	if ((needs & AUDIT_NEEDS_IMA_FILE) && !a->in.ima_policy)
		return "no IMA policy (--ima-policy)";
	if ((needs & AUDIT_NEEDS_IMA) && !a->ima.known)
		return "the IMA policy was not linted";
	return NULL;
}

int audit_run(struct audit *a)
{
	int r = 0;

	for (size_t i = 0; i < audit_nchecks && !a->oom; i++) {
		int cr;

		a->current = i;
		if (skip_reason(a, audit_checks[i].needs)) {
			a->status[i] = AUDIT_CHECK_SKIPPED;
			continue;
		}
		cr = audit_checks[i].run(a);
		if (cr == 0 && a->oom)
			cr = -ENOMEM;
		a->status[i] = cr < 0 ? AUDIT_CHECK_FAILED : AUDIT_CHECK_RAN;
		a->check_r[i] = cr;
		if (cr < 0 && r == 0)
			r = cr;
	}
	return a->oom ? -ENOMEM : r;
}

const char *audit_skip_reason(const struct audit *a, size_t check)
{
	return skip_reason(a, audit_checks[check].needs);
}

static void free_finding(struct audit_finding *f)
{
	free(f->pathbuf);
	free(f->path_offs);
	free(f->subject);
	free(f->topic);
	free(f->message);
	free(f->fix);
}

void audit_free(struct audit *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free_finding(a->findings[i]);
		free(a->findings[i]);
	}
	free(a->findings);
	free(a->status);
	free(a->check_r);
	kconfig_free(&a->kc);
	if (a->have_tree)
		roottree_free(&a->tree);
	a->findings = NULL;
	a->status = NULL;
	a->check_r = NULL;
	a->n = a->cap = 0;
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

struct audit_finding *audit_add(struct audit *a, enum audit_severity sev,
				const char *subject, const char *topic,
				const char *fix, const char *fmt, ...)
{
	struct audit_finding *f;
	bool fail = false;
	va_list ap;
	int n;

	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct audit_finding **p = realloc(a->findings, cap * sizeof(*p));

		if (!p) {
			a->oom = true;
			return NULL;
		}
		a->findings = p;
		a->cap = cap;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		a->oom = true;
		return NULL;
	}
	*f = (struct audit_finding){ .check = a->current, .severity = sev };
	f->subject = dup_or_null(subject, &fail);
	f->topic = dup_or_null(topic, &fail);
	f->fix = dup_or_null(fix, &fail);
	va_start(ap, fmt);
	n = vasprintf(&f->message, fmt, ap);
	va_end(ap);
	if (n < 0) {
		f->message = NULL;
		fail = true;
	}
	if (fail) {
		free_finding(f);
		free(f);
		a->oom = true;
		return NULL;
	}
	a->findings[a->n++] = f;
	return f;
}

/* A buffer grown to hold need more bytes: doubling, and never a size
 * that overflows. */
static int grow(void **buf, size_t *cap, size_t used, size_t need, size_t unit)
{
	size_t ncap = *cap ? *cap : 64;
	void *p;

	while (ncap - used < need) {
		if (ncap > SIZE_MAX / 2 / unit)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap == *cap)
		return 0;
	p = realloc(*buf, ncap * unit);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = ncap;
	return 0;
}

/* Paths are kept in one buffer, each at an offset: no allocation per
 * path (a Debian root has thousands of files in some findings). */
int audit_add_path(struct audit *a, struct audit_finding *f, const char *path)
{
	size_t n = strlen(path) + 1;

	if (grow((void **)&f->path_offs, &f->offs_cap, f->npaths, 1, sizeof(size_t)) < 0 ||
	    grow((void **)&f->pathbuf, &f->buf_cap, f->buf_len, n, 1) < 0) {
		a->oom = true;
		return -ENOMEM;
	}
	memcpy(f->pathbuf + f->buf_len, path, n);
	f->path_offs[f->npaths++] = f->buf_len;
	f->buf_len += n;
	return 0;
}

const char *audit_finding_path(const struct audit_finding *f, size_t i)
{
	return f->pathbuf + f->path_offs[i];
}

const char *audit_severity_name(enum audit_severity s)
{
	static const char *const names[] = { "block", "high", "medium", "low", "info" };

	return names[s];
}

size_t audit_count(const struct audit *a, enum audit_severity s)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += a->findings[i]->severity == s;
	return n;
}

bool audit_blocked(const struct audit *a)
{
	return audit_count(a, AUDIT_BLOCK) > 0;
}
