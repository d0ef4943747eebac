/* sealroot-imalint: the build-time check of an IMA policy, as Linux 6.1
 * parses it (src/imapolicy.c). mkinitramfs runs it on policies/ima-policy
 * before packing it, so a rule the kernel would reject at boot (it says
 * only "invalid-policy") stops the build with its file and line.
 *
 *   sealroot-imalint [--summary] FILE...
 *
 * Errors are printed as FILE:LINE: message (FILE: message for the whole
 * file), warnings as FILE:LINE: warning: message; the exit status is 1 if
 * any file has an error, 2 on a usage error. With --summary, each clean
 * file's facts are printed as key=value lines (after file=FILE when
 * several files are given):
 *   rules=N                 the number of rules
 *   measure_funcs=F...      hooks of measure rules (NONE: no func=, every hook)
 *   appraise_funcs=F...     hooks of appraise rules
 *   appraise_fsuuids=U...   file system UUIDs of appraise rules
 *   appraise_fsmagics=M...  file system magics of appraise rules
 *   appraise_needs_evm=yes  an appraise rule takes a hash (EVM protects it)
 *   appraise_needs_sig=yes  an appraise rule requires a signature (.ima keys)
 *   measure_pcrs=P...       the PCRs measure rules extend */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "imapolicy.h"

struct args {
	bool summary;
	int first;			/* argv index of the first FILE */
};

static int usage(FILE *out)
{
	fputs("usage: sealroot-imalint [--summary] FILE...\n"
	      "Check IMA policy files as Linux 6.1 parses them; exit 1 on any error.\n"
	      "  --summary  print each file's rules count and the facts mkinitramfs\n"
	      "             checks against sealroot.conf, as key=value lines\n",
	      out);
	return out == stdout ? 0 : 2;
}

static int parse_args(int argc, char **argv, struct args *ret)
{
	int i = 1;

	if (i < argc && !strcmp(argv[i], "--summary")) {
		ret->summary = true;
		i++;
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	else if (i < argc && argv[i][0] == '-')
		return -EINVAL;
	if (i == argc)
		return -EINVAL;
	ret->first = i;
	return 0;
}

static void report(void *userdata, enum imapolicy_severity severity,
		   unsigned line, const char *msg)
{
	const char *path = userdata;
	const char *kind = severity == IMAPOLICY_WARNING ? "warning: " : "";

	if (line)
		fprintf(stderr, "%s:%u: %s%s\n", path, line, kind, msg);
	else
		fprintf(stderr, "%s: %s%s\n", path, kind, msg);
}

/* Does rules[0..i) already have rule i's value of this key? */
typedef bool same_fn(const struct imapolicy_rule *a, const struct imapolicy_rule *b);

static bool seen_before(const struct imapolicy *pol, unsigned i, same_fn *same,
			bool (*want)(const struct imapolicy_rule *))
{
	for (unsigned j = 0; j < i; j++)
		if (want(&pol->rules[j]) && same(&pol->rules[j], &pol->rules[i]))
			return true;
	return false;
}

static bool is_measure(const struct imapolicy_rule *r)
{
	return r->action == IMAPOLICY_MEASURE;
}

static bool is_appraise(const struct imapolicy_rule *r)
{
	return r->action == IMAPOLICY_APPRAISE;
}

static bool is_appraise_fsuuid(const struct imapolicy_rule *r)
{
	return is_appraise(r) && (r->flags & IMAPOLICY_HAS_FSUUID);
}

static bool is_appraise_fsmagic(const struct imapolicy_rule *r)
{
	return is_appraise(r) && (r->flags & IMAPOLICY_HAS_FSMAGIC);
}

static bool same_func(const struct imapolicy_rule *a, const struct imapolicy_rule *b)
{
	return a->func == b->func;
}

static bool same_fsuuid(const struct imapolicy_rule *a, const struct imapolicy_rule *b)
{
	return !strcmp(a->fsuuid, b->fsuuid);
}

static bool same_fsmagic(const struct imapolicy_rule *a, const struct imapolicy_rule *b)
{
	return a->fsmagic == b->fsmagic;
}

static bool same_pcr(const struct imapolicy_rule *a, const struct imapolicy_rule *b)
{
	return a->pcr == b->pcr;
}

enum field { FIELD_FUNC, FIELD_FSUUID, FIELD_FSMAGIC, FIELD_PCR };

static void print_value(const struct imapolicy_rule *r, enum field f, bool first)
{
	fputs(first ? "" : " ", stdout);
	if (f == FIELD_FUNC)
		fputs(imapolicy_func_name(r->func), stdout);
	else if (f == FIELD_FSUUID)
		fputs(r->fsuuid, stdout);
	else if (f == FIELD_FSMAGIC)
		printf("0x%lx", r->fsmagic);
	else
		printf("%u", r->pcr);
}

/* key=V1 V2 ...: the distinct values of the rules want() picks. */
static void print_list(const struct imapolicy *pol, const char *key,
		       bool (*want)(const struct imapolicy_rule *), same_fn *same,
		       enum field f)
{
	bool first = true;

	printf("%s=", key);
	for (unsigned i = 0; i < pol->n_rules; i++) {
		if (!want(&pol->rules[i]) || seen_before(pol, i, same, want))
			continue;
		print_value(&pol->rules[i], f, first);
		first = false;
	}
	putchar('\n');
}

static void print_summary(const struct imapolicy *pol)
{
	printf("rules=%u\n", pol->n_rules);
	print_list(pol, "measure_funcs", is_measure, same_func, FIELD_FUNC);
	print_list(pol, "appraise_funcs", is_appraise, same_func, FIELD_FUNC);
	print_list(pol, "appraise_fsuuids", is_appraise_fsuuid, same_fsuuid, FIELD_FSUUID);
	print_list(pol, "appraise_fsmagics", is_appraise_fsmagic, same_fsmagic, FIELD_FSMAGIC);
	printf("appraise_needs_evm=%s\n", imapolicy_appraise_needs_evm(pol) ? "yes" : "no");
	printf("appraise_needs_sig=%s\n", imapolicy_appraise_needs_sig(pol) ? "yes" : "no");
	print_list(pol, "measure_pcrs", is_measure, same_pcr, FIELD_PCR);
}

static int check_file(const char *path, bool summary, bool several)
{
	static struct imapolicy pol;
	int r = imapolicy_parse_file(path, report, (void *)path, &pol);

	if (r < 0 && r != -EINVAL)
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(-r));
	if (r < 0)
		return r;
	if (summary && several)
		printf("file=%s\n", path);
	if (summary)
		print_summary(&pol);
	return 0;
}

int main(int argc, char **argv)
{
	struct args args = { 0 };
	int status = 0;

	if (argc == 2 && !strcmp(argv[1], "--help"))
		return usage(stdout);
	if (parse_args(argc, argv, &args) < 0)
		return usage(stderr);
	for (int i = args.first; i < argc; i++)
		if (check_file(argv[i], args.summary, argc - args.first > 1) < 0)
			status = 1;
	return status;
}
