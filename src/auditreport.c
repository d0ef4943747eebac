/* The audit's two reports: text for people, most severe first, and JSON
 * with the same findings (tests/audit.schema.json). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

#define PROG "sealroot-audit"

/* The findings in report order (severity, then the table's order of
 * checks, then the order they were added: an insertion sort, stable); NULL
 * if memory ran out. */
static struct audit_finding **sorted(const struct audit *a)
{
	struct audit_finding **v = malloc((a->n ? a->n : 1) * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < a->n; i++) {
		struct audit_finding *f = a->findings[i];
		size_t j = i;

		while (j > 0 && (v[j - 1]->severity > f->severity ||
				 (v[j - 1]->severity == f->severity &&
				  v[j - 1]->check > f->check))) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = f;
	}
	return v;
}

static const char *verdict(const struct audit *a)
{
	if (audit_blocked(a))
		return "blocked";
	for (int s = AUDIT_HIGH; s <= AUDIT_LOW; s++)
		if (audit_count(a, (enum audit_severity)s))
			return "advice";
	return "clean";
}

static void print_label(const struct audit_finding *f, FILE *out)
{
	static const char *const tags[] = { "BLOCK", "HIGH", "MEDIUM", "LOW", "INFO" };

	fprintf(out, "%-6s [%s%s%s] ", tags[f->severity], audit_checks[f->check].id,
		f->topic ? "/" : "", f->topic ? f->topic : "");
}

static void print_quoted(const char *s, FILE *out)
{
	char q[QUOTE_MAX];

	fputs(config_quote(s, strlen(s), q, sizeof(q)), out);
}

static void print_finding(const struct audit_finding *f, FILE *out)
{
	size_t shown = f->npaths < AUDIT_PATHS_SHOWN ? f->npaths : AUDIT_PATHS_SHOWN;

	print_label(f, out);
	fprintf(out, "%s\n", f->message);
	for (size_t i = 0; i < shown; i++) {
		fputs("         ", out);
		print_quoted(audit_finding_path(f, i), out);
		fputc('\n', out);
	}
	if (f->npaths > shown)
		fprintf(out, "         ... and %zu more (all in the JSON report)\n",
			f->npaths - shown);
	if (f->fix)
		fprintf(out, "         fix: %s\n", f->fix);
}

static void print_inputs(const struct audit *a, FILE *out)
{
	const struct audit_inputs *in = &a->in;

	if (in->config)
		fprintf(out, PROG ": config '%s' (mode %s)\n", in->config,
			a->cfg.mode == MODE_DEVELOPMENT ? "development" : "production");
	else
		fprintf(out, PROG ": config: none given, sealroot's defaults (mode production)\n");
	if (in->kconfig)
		fprintf(out, PROG ": kernel configuration '%s'\n", in->kconfig);
	else if (in->kernel)
		fprintf(out, PROG ": kernel configuration: embedded in '%s'%s\n", in->kernel,
			a->have_kconfig ? "" : " (none found)");
	else
		fprintf(out, PROG ": kernel configuration: none given\n");
	if (in->root)
		fprintf(out, PROG ": root tree '%s' (%zu entries)\n", in->root, a->tree.n);
	if (in->ima_policy)
		fprintf(out, PROG ": IMA policy '%s'\n", in->ima_policy);
	fputc('\n', out);
}

static void print_count(const struct audit *a, FILE *out, bool short_form)
{
	const char *v = verdict(a);

	fprintf(out, PROG ": %s: %zu blocking, %zu high, %zu medium, %zu low, %zu info%s\n",
		!strcmp(v, "blocked") ? "blocked" : !strcmp(v, "advice") ? "advice only" : "clean",
		audit_count(a, AUDIT_BLOCK), audit_count(a, AUDIT_HIGH),
		audit_count(a, AUDIT_MEDIUM), audit_count(a, AUDIT_LOW),
		audit_count(a, AUDIT_INFO),
		short_form && a->n > audit_count(a, AUDIT_BLOCK) ? " (the advice is in the full report)" : "");
}

void audit_print(const struct audit *a, FILE *out, bool short_form)
{
	struct audit_finding **v = sorted(a);

	if (!short_form)
		print_inputs(a, out);
	for (size_t i = 0; v && i < a->n; i++)
		if (!short_form || v[i]->severity == AUDIT_BLOCK)
			print_finding(v[i], out);
	if (!short_form)
		for (size_t i = 0; i < audit_nchecks; i++)
			if (a->status[i] == AUDIT_CHECK_FAILED)
				fprintf(out, PROG ": %s: cannot finish: %s\n",
					audit_checks[i].id, strerror(-a->check_r[i]));
	print_count(a, out, short_form);
	free(v);
}

/* JSON ------------------------------------------------------------------ */

/* The length of a valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* A JSON string. Bytes that are not UTF-8 (a file name can hold any) are
 * written as the four characters \xNN, as the text report quotes them. */
static void json_str(const char *s, FILE *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), len;

	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\') {
			fprintf(out, "\\%c", p[i]);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(out, "\\u%04x", p[i]);
		} else if (p[i] < 0x80) {
			fputc(p[i], out);
		} else if ((len = utf8_len(p + i, n - i))) {
			fwrite(p + i, 1, len, out);
			i += len - 1;
		} else {
			fprintf(out, "\\\\x%02x", p[i]);
		}
	}
	fputc('"', out);
}

static void json_str_or_null(const char *s, FILE *out)
{
	if (s)
		json_str(s, out);
	else
		fputs("null", out);
}

static void json_key(const char *key, FILE *out)
{
	json_str(key, out);
	fputs(": ", out);
}

/* The packed modules as a list of names, or null when not known. */
static void json_modules(const char *list, FILE *out)
{
	const char *p = list;
	bool first = true;

	if (!list) {
		fputs("null", out);
		return;
	}
	fputc('[', out);
	while (*p) {
		size_t n;
		char name[128];

		p += strspn(p, " \t,");
		n = strcspn(p, " \t,");
		if (!n)
			break;
		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), p);
		fputs(first ? "" : ", ", out);
		json_str(name, out);
		first = false;
		p += n;
	}
	fputc(']', out);
}

static void json_inputs(const struct audit *a, FILE *out)
{
	const struct audit_inputs *in = &a->in;

	fputs("  \"inputs\": {\n    ", out);
	json_key("config", out);
	json_str_or_null(in->config, out);
	fputs(",\n    ", out);
	json_key("mode", out);
	json_str(a->cfg.mode == MODE_DEVELOPMENT ? "development" : "production", out);
	fputs(",\n    ", out);
	json_key("cmdline", out);
	json_str_or_null(in->cmdline, out);
	fputs(",\n    ", out);
	json_key("kconfig", out);
	json_str_or_null(in->kconfig, out);
	fputs(",\n    ", out);
	json_key("kernel", out);
	json_str_or_null(in->kernel, out);
	fputs(",\n    ", out);
	json_key("root", out);
	json_str_or_null(in->root, out);
	fputs(",\n    ", out);
	json_key("ima_policy", out);
	json_str_or_null(in->ima_policy, out);
	fputs(",\n    ", out);
	json_key("modules", out);
	json_modules(in->modules, out);
	fputs(",\n    ", out);
	json_key("compress", out);
	json_str(in->compress ? in->compress : "zstd", out);
	fprintf(out, ",\n    \"uki\": %s,\n    \"shell\": %s,\n    ",
		in->no_uki ? "false" : "true", in->shell ? "true" : "false");
	json_key("signing_cert", out);
	json_str_or_null(in->signing_cert, out);
	fputs(",\n    \"production_certs\": [", out);
	for (size_t i = 0; i < in->nproduction; i++) {
		fputs(i ? ", " : "", out);
		json_str(in->production_certs[i], out);
	}
	fputs("]\n  },\n", out);
}

static void json_checks(const struct audit *a, FILE *out)
{
	static const char *const status[] = { "not-run", "ran", "skipped", "failed" };

	fputs("  \"checks\": [", out);
	for (size_t i = 0; i < audit_nchecks; i++) {
		fputs(i ? ",\n    {" : "\n    {", out);
		json_key("id", out);
		json_str(audit_checks[i].id, out);
		fputs(", ", out);
		json_key("group", out);
		json_str(audit_checks[i].group, out);
		fputs(", ", out);
		json_key("status", out);
		json_str(status[a->status[i]], out);
		if (a->status[i] == AUDIT_CHECK_SKIPPED) {
			fputs(", ", out);
			json_key("reason", out);
			json_str(audit_skip_reason(a, i), out);
		} else if (a->status[i] == AUDIT_CHECK_FAILED) {
			fputs(", ", out);
			json_key("reason", out);
			json_str(strerror(-a->check_r[i]), out);
		}
		fputc('}', out);
	}
	fputs("\n  ],\n", out);
}

static void json_finding(const struct audit_finding *f, FILE *out)
{
	const char *check = audit_checks[f->check].id;

	fputs("    {", out);
	json_key("id", out);
	if (f->subject) {
		char *id = NULL;

		if (asprintf(&id, "%s:%s", check, f->subject) < 0)
			id = NULL;
		json_str(id ? id : check, out);
		free(id);
	} else {
		json_str(check, out);
	}
	fputs(", ", out);
	json_key("check", out);
	json_str(check, out);
	fputs(", ", out);
	json_key("group", out);
	json_str(audit_checks[f->check].group, out);
	fputs(", ", out);
	json_key("severity", out);
	json_str(audit_severity_name(f->severity), out);
	fputs(",\n      ", out);
	json_key("topic", out);
	json_str_or_null(f->topic, out);
	fputs(", ", out);
	json_key("subject", out);
	json_str_or_null(f->subject, out);
	fputs(",\n      ", out);
	json_key("message", out);
	json_str(f->message, out);
	fputs(",\n      ", out);
	json_key("fix", out);
	json_str_or_null(f->fix, out);
	fprintf(out, ",\n      \"count\": %zu, \"paths\": [", f->npaths);
	for (size_t i = 0; i < f->npaths; i++) {
		fputs(i ? ",\n        " : "\n        ", out);
		json_str(audit_finding_path(f, i), out);
	}
	fputs(f->npaths ? "\n      ]}" : "]}", out);
}

int audit_print_json(const struct audit *a, FILE *out)
{
	struct audit_finding **v = sorted(a);

	if (!v)
		return -ENOMEM;
	fputs("{\n  \"tool\": \"sealroot-audit\",\n  \"format\": 1,\n  ", out);
	json_key("verdict", out);
	json_str(verdict(a), out);
	fputs(",\n  \"counts\": {", out);
	for (int s = AUDIT_BLOCK; s < AUDIT_NSEVERITY; s++)
		fprintf(out, "%s\"%s\": %zu", s ? ", " : "",
			audit_severity_name((enum audit_severity)s),
			audit_count(a, (enum audit_severity)s));
	fputs("},\n", out);
	json_inputs(a, out);
	json_checks(a, out);
	fputs("  \"findings\": [", out);
	for (size_t i = 0; i < a->n; i++) {
		fputs(i ? ",\n" : "\n", out);
		json_finding(v[i], out);
	}
	fputs(a->n ? "\n  ]\n}\n" : "]\n}\n", out);
	free(v);
	return ferror(out) ? -EIO : 0;
}
