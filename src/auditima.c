/* The IMA policy linter (src/imapolicy.c, Linux 6.1's parser) in the
 * audit: each of its diagnostics is one finding of policy.ima-lint, and
 * the parsed rules become the facts the consistency checks read. */
#include <errno.h>
#include <string.h>

#include "audit.h"
#include "imapolicy.h"

_Static_assert(AUDIT_IMA_FS_MAX >= IMAPOLICY_RULES_MAX, "a list per rule");

struct lint {
	struct audit *a;
	const char *path;
};

static void report(void *userdata, enum imapolicy_severity severity,
		   unsigned line, const char *msg)
{
	struct lint *l = userdata;
	char subject[32];

	snprintf(subject, sizeof(subject), "ima-policy:%u", line);
	if (line)
		audit_add(l->a, severity == IMAPOLICY_ERROR ? AUDIT_BLOCK : AUDIT_MEDIUM,
			  subject, "ima", NULL, "%s:%u: %s", l->path, line, msg);
	else
		audit_add(l->a, severity == IMAPOLICY_ERROR ? AUDIT_BLOCK : AUDIT_MEDIUM,
			  subject, "ima", NULL, "%s: %s", l->path, msg);
}

static bool names_fs(const struct imapolicy_rule *r)
{
	return r->flags & (IMAPOLICY_HAS_FSUUID | IMAPOLICY_HAS_FSMAGIC | IMAPOLICY_HAS_FSNAME);
}

/* The first rule that matches a file decides: a dont_appraise counts as
 * an exemption only before the first appraise rule for every file
 * system. */
static void add_rule(const struct imapolicy_rule *r, bool *after_all,
		     struct audit_ima_facts *f)
{
	if (r->action == IMAPOLICY_APPRAISE) {
		f->appraises = true;
		if (!names_fs(r))
			*after_all = f->appraise_all = true;
		if ((r->flags & IMAPOLICY_HAS_FSUUID) && f->n_appraised_fsuuids < AUDIT_IMA_FS_MAX)
			memcpy(f->appraised_fsuuids[f->n_appraised_fsuuids++], r->fsuuid, sizeof(r->fsuuid));
	} else if (r->action == IMAPOLICY_DONT_APPRAISE && !*after_all) {
		if ((r->flags & IMAPOLICY_HAS_FSUUID) && f->n_exempt_fsuuids < AUDIT_IMA_FS_MAX)
			memcpy(f->exempt_fsuuids[f->n_exempt_fsuuids++], r->fsuuid, sizeof(r->fsuuid));
		if ((r->flags & IMAPOLICY_HAS_FSMAGIC) && f->n_exempt_fsmagics < AUDIT_IMA_FS_MAX)
			f->exempt_fsmagics[f->n_exempt_fsmagics++] = r->fsmagic;
	}
}

int audit_ima_lint(struct audit *a, const char *path,
		   struct audit_ima_facts *ret)
{
	static struct imapolicy policy;
	struct lint l = { .a = a, .path = path };
	struct audit_ima_facts f = { .known = true };
	bool after_all = false;
	int r;

	r = imapolicy_parse_file(path, report, &l, &policy);
	if (a->oom)
		return -ENOMEM;
	if (r == -EINVAL) {
		*ret = (struct audit_ima_facts){ .known = false };
		return 0;
	}
	if (r < 0)
		return r;
	f.rules = policy.n_rules;
	for (unsigned i = 0; i < policy.n_rules; i++)
		add_rule(&policy.rules[i], &after_all, &f);
	f.hash_appraisal = imapolicy_appraise_needs_evm(&policy);
	*ret = f;
	return 0;
}
