/* The IMA policy linter against Linux 6.1's ima_parse_rule() and
 * ima_validate_rule(): one rejected case per restriction (with the line
 * and message), what the kernel takes and must not be refused, the
 * policies in tests/unit/ima-policies (good/: real-world rule sets, each
 * naming its source; bad/: each with "expect: line N: fragment") and the
 * shipped policies/ima-policy with the facts mkinitramfs checks. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imapolicy.h"
#include "unit.h"

#define POLICIES TEST_TOP "/tests/unit/ima-policies"
#define SHIPPED TEST_TOP "/policies/ima-policy"
#define STATE_UUID "7a1f3c2e-5b4d-4e6f-8a9b-0c1d2e3f4a5b"

struct msg {
	enum imapolicy_severity severity;
	unsigned line;
	char text[512];
};

static struct msg msgs[64];
static unsigned n_msgs, n_errors;
static struct imapolicy pol;

static void collect(void *userdata, enum imapolicy_severity severity,
		    unsigned line, const char *text)
{
	(void)userdata;
	n_errors += severity == IMAPOLICY_ERROR;
	if (n_msgs < sizeof(msgs) / sizeof(msgs[0])) {
		msgs[n_msgs].severity = severity;
		msgs[n_msgs].line = line;
		snprintf(msgs[n_msgs].text, sizeof(msgs[0].text), "%s", text);
	}
	n_msgs++;
}

static void reset(void)
{
	n_msgs = n_errors = 0;
	memset(&pol, POISON, sizeof(pol));
}

static int parse_len(const char *text, size_t len)
{
	reset();
	return imapolicy_parse(text, len, collect, NULL, &pol);
}

static int parse(const char *text)
{
	return parse_len(text, strlen(text));
}

static bool has_msg(enum imapolicy_severity s, unsigned line, const char *frag)
{
	for (unsigned i = 0; i < n_msgs && i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (msgs[i].severity == s && msgs[i].line == line &&
		    strstr(msgs[i].text, frag))
			return true;
	return false;
}

static void show_msgs(const char *what)
{
	for (unsigned i = 0; i < n_msgs && i < sizeof(msgs) / sizeof(msgs[0]); i++)
		printf("  %s: %s line %u: %s\n", what,
		       msgs[i].severity == IMAPOLICY_ERROR ? "error" : "warning",
		       msgs[i].line, msgs[i].text);
}

static bool untouched(void)
{
	const unsigned char *b = (const unsigned char *)&pol;

	for (size_t i = 0; i < sizeof(pol); i++)
		if (b[i] != POISON)
			return false;
	return true;
}

struct rejected {
	const char *text;
	unsigned line;
	const char *msg;
};

/* One case per restriction; the text is a whole policy. */
static const struct rejected rejected[] = {
	/* The action: first, once, one of seven. */
	{ "func=BPRM_CHECK measure\n", 1, "a rule starts with its action" },
	{ "measure=1\n", 1, "a rule starts with its action" },
	{ "\n# x\nmeasur func=BPRM_CHECK\n", 3, "not 'measur'" },
	{ "measure appraise\n", 1, "a second action 'appraise'" },
	{ "measure func=BPRM_CHECK dont_measure\n", 1, "a second action 'dont_measure'" },
	/* Words: known, with a value where due, an operator taken, once. */
	{ "measure fun=FILE_CHECK\n", 1, "unknown word 'fun=FILE_CHECK'" },
	{ "measure MEASURE\n", 1, "unknown word 'MEASURE'" },
	{ "measure func\n", 1, "'func' needs a value" },
	{ "measure func=\n", 1, "'func=' has no value" },
	{ "measure uid<\n", 1, "'uid<' has no value" },
	{ "measure permit_directio=1\n", 1, "'permit_directio' takes no value" },
	{ "measure func<BPRM_CHECK\n", 1, "func takes '=' only" },
	{ "measure mask>MAY_EXEC\n", 1, "mask takes '=' only" },
	{ "measure func=BPRM_CHECK func=MMAP_CHECK\n", 1, "'func' given twice" },
	{ "measure func=BPRM_CHECK # programs\n", 1, "a comment must be a line of its own" },
	/* func= */
	{ "measure func=BPRM\n", 1, "func=BPRM is not a hook of Linux 6.1" },
	{ "measure func=bprm_check\n", 1, "is not a hook of Linux 6.1" },
	{ "measure func=POST_SETATTR\n", 1, "is not a hook of Linux 6.1" },
	{ "measure func=NONE\n", 1, "is not a hook of Linux 6.1" },
	{ "measure func=MMAP_CHECK_REQPROT\n", 1, "a hook of Linux 6.3, not of 6.1" },
	/* mask= */
	{ "measure mask=MAY_EXEC|MAY_READ\n", 1, "mask=MAY_EXEC|MAY_READ is not one of" },
	{ "measure mask=^^MAY_EXEC\n", 1, "is not one of MAY_EXEC" },
	{ "measure mask=may_exec\n", 1, "is not one of MAY_EXEC" },
	{ "measure mask=MAY_EXEC mask=^MAY_READ\n", 1, "'mask' given twice" },
	/* fsmagic= */
	{ "dont_measure fsmagic=0xzz\n", 1, "is not a file system magic" },
	{ "dont_measure fsmagic=+9fa0\n", 1, "is not a file system magic" },
	{ "dont_measure fsmagic=0x\n", 1, "is not a file system magic" },
	{ "dont_measure fsmagic=0x123456789\n", 1, "32 bits" },
	{ "dont_measure fsmagic=0\n", 1, "no file system has magic 0" },
	{ "dont_measure fsmagic=0x9fa0 fsmagic=0x1cd1\n", 1, "'fsmagic' given twice" },
	/* fsuuid= */
	{ "appraise fsuuid=7a1f3c2e-5b4d-4e6f-8a9b-0c1d2e3f4a5\n", 1, "is not a file system UUID" },
	{ "appraise fsuuid=" STATE_UUID "0\n", 1, "is not a file system UUID" },
	{ "appraise fsuuid=7a1f3c2e5b4d4e6f8a9b0c1d2e3f4a5b\n", 1, "is not a file system UUID" },
	{ "appraise fsuuid=7A1F3C2E-5B4D-4E6F-8A9B-0C1D2E3F4A5B\n", 1, "in lower case" },
	{ "appraise fsuuid=00000000-0000-0000-0000-000000000000\n", 1, "not all zero" },
	{ "appraise fsuuid=" STATE_UUID " fsuuid=" STATE_UUID "\n", 1, "'fsuuid' given twice" },
	/* fsname= (the kernel keeps the last of two) */
	{ "measure fsname=ext4/x\n", 1, "is not a file system type name" },
	{ "measure fsname=ext4 fsname=xfs\n", 1, "'fsname' given twice" },
	/* uid, euid, gid, egid, fowner, fgroup */
	{ "measure uid=-1\n", 1, "uid: '-1' is not a decimal id" },
	{ "measure uid=+0\n", 1, "is not a decimal id" },
	{ "measure uid=0x10\n", 1, "is not a decimal id" },
	{ "measure uid=4294967295\n", 1, "is not a decimal id in 0..4294967294" },
	{ "measure euid=99999999999\n", 1, "is not a decimal id" },
	{ "measure uid>=5\n", 1, "is not a decimal id" },
	{ "measure fowner=root\n", 1, "fowner: 'root' is not a decimal id" },
	{ "measure uid=0 euid=0\n", 1, "'uid' and 'euid' in one rule" },
	{ "measure egid=0 gid=0\n", 1, "'egid' and 'gid' in one rule" },
	{ "measure uid>0 uid<5\n", 1, "'uid' given twice" },
	{ "measure fowner=0 fowner>1\n", 1, "'fowner' given twice" },
	{ "measure fgroup=0 fgroup=1\n", 1, "'fgroup' given twice" },
	/* LSM labels */
	{ "measure obj_type=a_t obj_type=b_t\n", 1, "'obj_type' given twice" },
	{ "measure func=KEY_CHECK subj_type=x\n", 1, "func=KEY_CHECK does not take LSM labels" },
	{ "measure func=CRITICAL_DATA obj_user=x\n", 1, "func=CRITICAL_DATA does not take LSM labels" },
	/* digest_type= and appraise_type=, in the kernel's order */
	{ "measure digest_type=sha256\n", 1, "digest_type=sha256 is not verity" },
	{ "measure digest_type=verity digest_type=verity\n", 1, "'digest_type' given twice" },
	{ "appraise func=BPRM_CHECK appraise_type=imasig digest_type=verity\n", 1,
	  "digest_type=verity after appraise_type=" },
	{ "appraise func=BPRM_CHECK appraise_type=sigv3 digest_type=verity\n", 1,
	  "needs digest_type=verity before it" },
	{ "appraise func=BPRM_CHECK digest_type=verity appraise_type=imasig\n", 1,
	  "fs-verity digests are signed as sigv3" },
	{ "appraise func=BPRM_CHECK digest_type=verity\n", 1, "needs appraise_type=sigv3" },
	{ "appraise func=MODULE_CHECK digest_type=verity appraise_type=sigv3\n", 1,
	  "func=MODULE_CHECK does not take digest_type=verity" },
	{ "appraise appraise_type=modsig\n", 1, "is not one of imasig, imasig|modsig, sigv3" },
	{ "appraise appraise_type=imasig appraise_type=imasig\n", 1, "'appraise_type' given twice" },
	{ "measure appraise_type=imasig\n", 1, "appraise_type= is only for appraise rules" },
	{ "dont_appraise appraise_type=imasig\n", 1, "appraise_type= is only for appraise rules" },
	{ "appraise func=BPRM_CHECK appraise_type=imasig|modsig\n", 1,
	  "appraise_type=imasig|modsig is only for func=MODULE_CHECK" },
	{ "appraise appraise_type=imasig|modsig\n", 1, "is only for func=MODULE_CHECK" },
	/* appraise_flag= */
	{ "appraise func=MODULE_CHECK appraise_flag=blacklist\n", 1, "is not check_blacklist" },
	{ "appraise func=MODULE_CHECK appraise_type=imasig appraise_flag=check_blacklist\n", 1,
	  "needs appraise_type=imasig|modsig" },
	{ "measure func=MODULE_CHECK appraise_flag=check_blacklist\n", 1,
	  "appraise_flag= is only for appraise rules" },
	{ "appraise func=FILE_CHECK appraise_flag=check_blacklist\n", 1,
	  "appraise_flag= is only for func=MODULE_CHECK" },
	/* appraise_algos= */
	{ "appraise func=SETXATTR_CHECK appraise_algos=sha3-256\n", 1,
	  "'sha3-256' is not a hash algorithm of Linux 6.1" },
	{ "appraise func=SETXATTR_CHECK appraise_algos=sha256,\n", 1, "'' is not a hash algorithm" },
	{ "appraise func=SETXATTR_CHECK appraise_algos=,sha256\n", 1, "'' is not a hash algorithm" },
	{ "appraise func=SETXATTR_CHECK appraise_algos=sha256,sha256\n", 1, "sha256 given twice" },
	{ "appraise func=SETXATTR_CHECK appraise_algos=SHA256\n", 1, "is not a hash algorithm" },
	{ "measure appraise_algos=sha256\n", 1, "appraise_algos= is only for appraise rules" },
	/* func=SETXATTR_CHECK */
	{ "appraise func=SETXATTR_CHECK\n", 1, "func=SETXATTR_CHECK needs appraise_algos=" },
	{ "dont_appraise func=SETXATTR_CHECK\n", 1, "func=SETXATTR_CHECK is only for appraise rules" },
	{ "measure func=SETXATTR_CHECK\n", 1, "func=SETXATTR_CHECK is only for appraise rules" },
	{ "appraise func=SETXATTR_CHECK appraise_algos=sha256 fsmagic=0x9fa0\n", 1,
	  "func=SETXATTR_CHECK does not take fsmagic=" },
	{ "appraise func=SETXATTR_CHECK appraise_algos=sha256 appraise_type=imasig\n", 1,
	  "func=SETXATTR_CHECK does not take appraise_type=" },
	/* pcr= */
	{ "measure pcr=24\n", 1, "pcr=24 is not a PCR of the TPM (0..23)" },
	{ "measure pcr=63\n", 1, "is not a PCR of the TPM" },
	{ "measure pcr=-1\n", 1, "is not a PCR of the TPM" },
	{ "measure pcr=ten\n", 1, "is not a PCR of the TPM" },
	{ "measure pcr=10 pcr=11\n", 1, "'pcr' given twice" },
	{ "appraise pcr=11\n", 1, "pcr= is only for measure rules" },
	{ "dont_measure pcr=11\n", 1, "pcr= is only for measure rules" },
	/* template= */
	{ "appraise template=ima-ng\n", 1, "template= is only for measure rules" },
	{ "dont_measure template=ima-ng\n", 1, "template= is only for measure rules" },
	{ "measure template=ima-sigv3\n", 1, "template=ima-sigv3 is not a template of Linux 6.1" },
	{ "measure template=d-ng|n-ng|x\n", 1, "is not a template of Linux 6.1" },
	{ "measure template=ima-ng template=ima-sig\n", 1, "'template' given twice" },
	/* keyrings= and label= */
	{ "measure func=KEY_CHECK keyrings=.ima||.evm\n", 1, "keyrings has an empty name" },
	{ "measure func=KEY_CHECK keyrings=.ima|\n", 1, "keyrings has an empty name" },
	{ "measure func=KEY_CHECK keyrings=|.ima\n", 1, "keyrings has an empty name" },
	{ "measure func=KEY_CHECK keyrings=.ima keyrings=.evm\n", 1, "'keyrings' given twice" },
	{ "measure func=BPRM_CHECK keyrings=.ima\n", 1, "keyrings= is only for func=KEY_CHECK" },
	{ "measure keyrings=.ima\n", 1, "keyrings= is only for func=KEY_CHECK" },
	{ "measure label=selinux\n", 1, "label= is only for func=CRITICAL_DATA" },
	{ "measure func=CRITICAL_DATA label=a|\n", 1, "label has an empty name" },
	/* Which hook takes which action and condition. */
	{ "appraise func=KEY_CHECK\n", 1, "func=KEY_CHECK is only for measure and dont_measure rules" },
	{ "audit func=CRITICAL_DATA\n", 1, "func=CRITICAL_DATA is only for measure and dont_measure" },
	{ "hash func=KEXEC_CMDLINE\n", 1, "func=KEXEC_CMDLINE is only for measure and dont_measure" },
	{ "measure func=KEY_CHECK fsmagic=0x9fa0\n", 1, "func=KEY_CHECK does not take fsmagic=" },
	{ "measure func=KEY_CHECK euid=0\n", 1, "func=KEY_CHECK does not take euid (it takes uid, gid, pcr=, keyrings=)" },
	{ "measure func=CRITICAL_DATA fowner=0\n", 1, "func=CRITICAL_DATA does not take fowner" },
	{ "measure func=KEXEC_CMDLINE mask=MAY_READ\n", 1, "func=KEXEC_CMDLINE does not take mask=" },
	{ "measure func=KEXEC_CMDLINE permit_directio\n", 1, "func=KEXEC_CMDLINE does not take permit_directio" },
	/* Lines and the file as the kernel reads it. */
	{ "measure func=BPRM_CHECK\r\n", 1, "CR (DOS/Windows line endings)" },
	{ "measure\tfunc=BPRM_CHECK\x01\n", 1, "byte \\x01 in a rule" },
	{ "measure fsname=\xc3\xa9\n", 1, "byte \\xc3 in a rule" },
	{ "measure func=BPRM_CHECK\n\x7f\n", 2, "byte \\x7f in a rule" },
	{ "\xef\xbb\xbfmeasure func=BPRM_CHECK\n", 1, "byte order mark" },
	{ "measure func=BPRM_CHECK", 1, "no newline at the end of the file" },
	{ "# a\nmeasure func=BPRM_CHECK\n# b", 3, "no newline at the end of the file" },
	{ "", 0, "no rules" },
	{ "# only a comment\n\n", 0, "no rules" },
};

static void test_rejected(void)
{
	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
		const struct rejected *c = &rejected[i];
		bool ok = parse(c->text) == -EINVAL && untouched() &&
			  has_msg(IMAPOLICY_ERROR, c->line, c->msg);

		if (!ok) {
			printf("  case %zu: want line %u: %s\n", i, c->line, c->msg);
			show_msgs("got");
		}
		CHECK(ok);
	}
}

/* What 6.1 takes must not be refused. */
static const char *const accepted[] = {
	"measure func=BPRM_CHECK\n",
	"  \t measure \t func=BPRM_CHECK  mask=MAY_EXEC \t\n",
	"   # indented comment\n\t#\nmeasure func=BPRM_CHECK\n\n\n",
	"# caf\xc3\xa9, a comment is not read\r\nmeasure func=BPRM_CHECK\n",
	"dont_measure fsmagic=9fa0\ndont_appraise fsmagic=0X9FA0\ndont_hash fsmagic=0xffffffff\n",
	"measure func=FILE_MMAP mask=MAY_EXEC\nmeasure func=PATH_CHECK mask=^MAY_READ\n",
	"measure uid=4294967294\nmeasure euid<1000\nmeasure gid>0\nmeasure egid=0\n"
	"appraise fowner>0\nappraise fgroup<10\n",
	"measure uid=0 gid=0 fowner=0 fgroup=0\n",
	"measure pcr=0\nmeasure pcr=23\nmeasure func=KEY_CHECK pcr=11\n",
	"measure template=d-ng|n-ng\nmeasure template=d|n\nmeasure template=ima-modsig\n",
	"appraise func=SETXATTR_CHECK appraise_algos=md4,md5,sha1,rmd160,sha256,sha384,sha512,"
	"sha224,rmd128,rmd256,rmd320,wp256,wp384,wp512,tgr128,tgr160,tgr192,sm3,streebog256,streebog512\n",
	"appraise func=MODULE_CHECK appraise_type=imasig|modsig appraise_flag=check_blacklist\n",
	"appraise func=KEXEC_INITRAMFS_CHECK appraise_type=imasig|modsig\n",
	"measure func=CRITICAL_DATA label=kernel_info\nmeasure func=KEY_CHECK keyrings=.ima|_evm\n",
	"dont_measure func=KEY_CHECK\ndont_measure func=CRITICAL_DATA\ndont_measure func=KEXEC_CMDLINE\n",
	"measure func=KEXEC_CMDLINE fsuuid=" STATE_UUID " fsname=ext4 euid=0 egid=0 fowner=0 fgroup=0\n",
	"audit func=BPRM_CHECK\nhash func=FILE_CHECK\ndont_hash fsmagic=0x1cd1\n",
	"measure func=CREDS_CHECK digest_type=verity template=ima-sigv2\n",
	"appraise func=FIRMWARE_CHECK digest_type=verity appraise_type=sigv3 permit_directio\n",
	"measure subj_type=unconfined_t obj_user=system_u obj_role=object_r subj_user=u subj_role=r obj_type=t\n",
	"appraise func=SETXATTR_CHECK appraise_algos=sha256 obj_type=x\n",
};

static void test_accepted(void)
{
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		int r = parse(accepted[i]);

		if (r <= 0) {
			printf("  case %zu: %s", i, accepted[i]);
			show_msgs("got");
		}
		CHECK(r > 0 && n_errors == 0);
	}
}

/* What a caller checks: action, canonical func, fsuuid, fsmagic, pcr. */
static void test_rule_facts(void)
{
	CHECK(parse("# x\n"
		    "dont_measure fsmagic=0x9FA0\n"
		    "measure func=FILE_MMAP mask=MAY_EXEC\n"
		    "\n"
		    "measure func=KEY_CHECK pcr=11\n"
		    "appraise fsuuid=" STATE_UUID " appraise_type=imasig\n") == 4);
	CHECK(pol.n_rules == 4);
	CHECK(pol.rules[0].line == 2 && pol.rules[0].action == IMAPOLICY_DONT_MEASURE);
	CHECK(pol.rules[0].func == IMAPOLICY_FUNC_NONE);
	CHECK(pol.rules[0].flags == IMAPOLICY_HAS_FSMAGIC && pol.rules[0].fsmagic == 0x9fa0);
	CHECK(pol.rules[1].line == 3 && pol.rules[1].func == IMAPOLICY_FUNC_MMAP_CHECK);
	CHECK(pol.rules[1].flags == (IMAPOLICY_HAS_FUNC | IMAPOLICY_HAS_MASK));
	CHECK(pol.rules[1].pcr == 10);
	CHECK(pol.rules[2].line == 5 && pol.rules[2].pcr == 11);
	CHECK(pol.rules[3].action == IMAPOLICY_APPRAISE);
	CHECK_STR(pol.rules[3].fsuuid, STATE_UUID);
	CHECK(pol.rules[3].flags == (IMAPOLICY_HAS_FSUUID | IMAPOLICY_HAS_SIG));
	CHECK_STR(imapolicy_func_name(pol.rules[1].func), "MMAP_CHECK");
	CHECK_STR(imapolicy_action_name(pol.rules[3].action), "appraise");
	CHECK(parse("measure func=PATH_CHECK mask=^MAY_READ\n") == 1);
	CHECK(pol.rules[0].func == IMAPOLICY_FUNC_FILE_CHECK);
	CHECK(pol.rules[0].flags & IMAPOLICY_HAS_INMASK);
}

static void test_questions(void)
{
	CHECK(parse("measure func=POLICY_CHECK\n"
		    "appraise fsuuid=" STATE_UUID "\n"
		    "appraise func=MODULE_CHECK appraise_type=imasig\n"
		    "dont_appraise fsuuid=0123abcd-ef01-4234-8567-89abcdef0123\n") == 4);
	CHECK(imapolicy_has_rule(&pol, IMAPOLICY_MEASURE, IMAPOLICY_FUNC_POLICY_CHECK));
	CHECK(!imapolicy_has_rule(&pol, IMAPOLICY_APPRAISE, IMAPOLICY_FUNC_POLICY_CHECK));
	CHECK(imapolicy_has_rule(&pol, IMAPOLICY_APPRAISE, IMAPOLICY_FUNC_NONE));
	CHECK(imapolicy_appraises_fsuuid(&pol, STATE_UUID));
	CHECK(!imapolicy_appraises_fsuuid(&pol, "0123abcd-ef01-4234-8567-89abcdef0123"));
	CHECK(!imapolicy_appraises_fsuuid(&pol, ""));
	CHECK(imapolicy_appraises_by_fsuuid(&pol));
	CHECK(imapolicy_appraise_needs_evm(&pol));
	CHECK(imapolicy_appraise_needs_sig(&pol));
	CHECK(parse("measure func=BPRM_CHECK\ndont_appraise fsmagic=0x9fa0\n") == 2);
	CHECK(!imapolicy_appraises_by_fsuuid(&pol));
	CHECK(!imapolicy_appraise_needs_evm(&pol));
	CHECK(!imapolicy_appraise_needs_sig(&pol));
	CHECK(parse("appraise func=BPRM_CHECK digest_type=verity appraise_type=sigv3\n") == 1);
	CHECK(!imapolicy_appraise_needs_evm(&pol) && imapolicy_appraise_needs_sig(&pol));
}

/* Every bad line is reported, each once; the others still counted. */
static void test_every_line_reported(void)
{
	CHECK(parse("measure func=BPRM\n"
		    "measure func=BPRM_CHECK\n"
		    "appraise pcr=1 template=ima-ng\n"
		    "bogus\n") == -EINVAL);
	CHECK(n_errors == 3 && n_msgs == 3);
	CHECK(has_msg(IMAPOLICY_ERROR, 1, "func=BPRM"));
	CHECK(has_msg(IMAPOLICY_ERROR, 3, "template= is only for measure rules"));
	CHECK(has_msg(IMAPOLICY_ERROR, 4, "not 'bogus'"));
	CHECK(untouched());
	reset();
	CHECK(imapolicy_parse("bogus\n", 6, NULL, NULL, &pol) == -EINVAL && untouched());
	CHECK(imapolicy_parse("measure func=BPRM_CHECK\n", 24, NULL, NULL, &pol) == 1);
}

/* Warnings: what depends on the kernel's configuration or the time of
 * loading; they do not fail the policy. */
static void test_warnings(void)
{
	CHECK(parse("measure obj_type=foo_t subj_user=system_u\n") == 1);
	CHECK(n_errors == 0 && n_msgs == 1);
	CHECK(has_msg(IMAPOLICY_WARNING, 1, "obj_type=foo_t: an LSM label"));
	CHECK(parse("appraise func=MODULE_CHECK appraise_type=imasig|modsig\n") == 1);
	CHECK(has_msg(IMAPOLICY_WARNING, 1, "CONFIG_IMA_APPRAISE_MODSIG"));
	CHECK(parse("measure func=BPRM_CHECK\n") == 1 && n_msgs == 0);
}

static void test_nul_byte(void)
{
	static const char text[] = "measure func=BPRM_CHECK\nmeasure\0 func=MMAP_CHECK\n";

	CHECK(parse_len(text, sizeof(text) - 1) == -EINVAL);
	CHECK(has_msg(IMAPOLICY_ERROR, 2, "NUL byte"));
	CHECK(parse_len("# a\0b\nmeasure func=BPRM_CHECK\n", 30) == -EINVAL);
	CHECK(has_msg(IMAPOLICY_ERROR, 1, "NUL byte"));
}

/* A line of IMAPOLICY_LINE_MAX bytes is one write to securityfs; longer is
 * refused, never cut. */
static void test_line_limit(void)
{
	static char text[IMAPOLICY_LINE_MAX + 64];
	size_t head = strlen("measure fsname=");

	memcpy(text, "measure fsname=", head);
	memset(text + head, 'a', IMAPOLICY_LINE_MAX - head);
	strcpy(text + IMAPOLICY_LINE_MAX, "\n");
	CHECK(parse(text) == 1);
	memset(text + head, 'a', IMAPOLICY_LINE_MAX + 1 - head);
	strcpy(text + IMAPOLICY_LINE_MAX + 1, "\n");
	CHECK(parse(text) == -EINVAL);
	CHECK(has_msg(IMAPOLICY_ERROR, 1, "line longer than the limit of 4095 bytes"));
}

static void test_rules_limit(void)
{
	static char text[(IMAPOLICY_RULES_MAX + 1) * 24 + 1];
	size_t len = 0;

	for (int i = 0; i < IMAPOLICY_RULES_MAX; i++)
		len += (size_t)sprintf(text + len, "measure func=BPRM_CHECK\n");
	CHECK(parse(text) == IMAPOLICY_RULES_MAX);
	CHECK(pol.rules[IMAPOLICY_RULES_MAX - 1].line == IMAPOLICY_RULES_MAX);
	sprintf(text + len, "measure func=BPRM_CHECK\n");
	CHECK(parse(text) == -EINVAL);
	CHECK(has_msg(IMAPOLICY_ERROR, IMAPOLICY_RULES_MAX + 1, "more than 512 rules"));
}

static void test_file_limit(void)
{
	static char text[IMAPOLICY_FILE_MAX + 2];

	memset(text, '#', sizeof(text) - 2);
	text[sizeof(text) - 2] = '\n';
	CHECK(parse_len(text, sizeof(text) - 1) == -EINVAL);
	CHECK(has_msg(IMAPOLICY_ERROR, 0, "file larger than the limit"));
}

static void test_file(void)
{
	reset();
	CHECK(imapolicy_parse_file(POLICIES "/none", collect, NULL, &pol) == -ENOENT);
	CHECK(n_msgs == 0 && untouched());
	CHECK(imapolicy_parse_file(POLICIES "/good/kernel-tcb.policy", collect, NULL, &pol) == 20);
}

/* The "expect: line N: fragment" (or expect-warning:) lines of a policy. */
static bool check_expectations(const char *path, const char *key,
			       enum imapolicy_severity s)
{
	char line[512], *p, *e;
	bool ok = true;
	unsigned n;
	FILE *f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f)) {
		p = strstr(line, key);
		if (!p || sscanf(p + strlen(key), " line %u:", &n) != 1)
			continue;
		p = strchr(p + strlen(key), ':') + 1;
		p += strspn(p, " ");
		e = p + strcspn(p, "\r\n");
		*e = 0;
		if (!has_msg(s, n, p)) {
			printf("  %s: no %s on line %u: %s\n", path, key, n, p);
			ok = false;
		}
	}
	if (f)
		fclose(f);
	return f && ok;
}

static unsigned check_dir(const char *sub, bool good)
{
	char path[512];
	struct dirent *d;
	unsigned files = 0;
	DIR *dir = opendir(sub);
	int r;

	while (dir && (d = readdir(dir))) {
		if (!strstr(d->d_name, ".policy"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", sub, d->d_name);
		reset();
		r = imapolicy_parse_file(path, collect, NULL, &pol);
		if (good ? r <= 0 || n_errors : r != -EINVAL || !untouched())
			show_msgs(path);
		CHECK(good ? r > 0 && n_errors == 0 : r == -EINVAL && untouched());
		CHECK(check_expectations(path, good ? "expect-warning:" : "expect:",
					 good ? IMAPOLICY_WARNING : IMAPOLICY_ERROR));
		files++;
	}
	if (dir)
		closedir(dir);
	return files;
}

static void test_good_policies(void)
{
	CHECK(check_dir(POLICIES "/good", true) >= 8);
}

static void test_bad_policies(void)
{
	CHECK(check_dir(POLICIES "/bad", false) >= 13);
}

/* The shipped policy: valid, measures what runs and the kernel's loads,
 * appraises the example state volume and nothing else. */
static void test_shipped_policy(void)
{
	reset();
	CHECK(imapolicy_parse_file(SHIPPED, collect, NULL, &pol) > 0);
	CHECK(n_msgs == 0);
	CHECK(imapolicy_appraises_fsuuid(&pol, STATE_UUID));
	CHECK(imapolicy_appraise_needs_evm(&pol));
	CHECK(!imapolicy_appraise_needs_sig(&pol));
	CHECK(imapolicy_has_rule(&pol, IMAPOLICY_MEASURE, IMAPOLICY_FUNC_POLICY_CHECK));
	CHECK(imapolicy_has_rule(&pol, IMAPOLICY_MEASURE, IMAPOLICY_FUNC_BPRM_CHECK));
	CHECK(imapolicy_has_rule(&pol, IMAPOLICY_MEASURE, IMAPOLICY_FUNC_MMAP_CHECK));
	CHECK(imapolicy_has_rule(&pol, IMAPOLICY_MEASURE, IMAPOLICY_FUNC_MODULE_CHECK));
	CHECK(imapolicy_has_rule(&pol, IMAPOLICY_MEASURE, IMAPOLICY_FUNC_FIRMWARE_CHECK));
	for (unsigned i = 0; i < pol.n_rules; i++) {
		const struct imapolicy_rule *r = &pol.rules[i];

		if (r->action == IMAPOLICY_APPRAISE)
			CHECK(r->flags == IMAPOLICY_HAS_FSUUID && !strcmp(r->fsuuid, STATE_UUID));
		if (r->action == IMAPOLICY_DONT_MEASURE || r->action == IMAPOLICY_DONT_APPRAISE)
			CHECK(r->flags == IMAPOLICY_HAS_FSMAGIC);
		CHECK(r->pcr == 10);
	}
}

int main(void)
{
	RUN(test_rejected);
	RUN(test_accepted);
	RUN(test_rule_facts);
	RUN(test_questions);
	RUN(test_every_line_reported);
	RUN(test_warnings);
	RUN(test_nul_byte);
	RUN(test_line_limit);
	RUN(test_rules_limit);
	RUN(test_file_limit);
	RUN(test_file);
	RUN(test_good_policies);
	RUN(test_bad_policies);
	RUN(test_shipped_policy);
	return UNIT_EXIT();
}
