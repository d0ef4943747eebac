/* sealroot-audit: the build-time security audit (audit.h). mkinitramfs runs
 * it on every build (--short: the blocking findings and a count) and with
 * --audit for the full report.
 *
 * Exit status: 0 clean or advice only, 1 blocked, 2 a usage error, an
 * input that cannot be read or a check that could not finish. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"

#define PROG "sealroot-audit"

struct args {
	struct audit_inputs in;
	const char *policies;
	const char *json;
	bool short_form;
};

static int usage(FILE *out)
{
	fputs("usage: " PROG " [options]\n"
	      "Audits what a sealroot build would do to a device: the kernel's options,\n"
	      "the policies, the signing key and the root tree being sealed. Findings\n"
	      "most severe first; exit 0 clean or advice only, 1 blocked, 2 error.\n"
	      "  --policies DIR         DIR/sealroot.conf, DIR/ima-policy and DIR/keys\n"
	      "  --config FILE          sealroot.conf (default: sealroot's defaults)\n"
	      "  --ima-policy FILE      the IMA policy\n"
	      "  --keys DIR             the certificates for IMA and EVM (keys/ima, keys/evm)\n"
	      "  --cmdline STRING       the UKI's kernel command line\n"
	      "  --kconfig FILE         the kernel's configuration (/boot/config-VERSION)\n"
	      "  --kernel FILE          a kernel image embedding it (CONFIG_IKCONFIG)\n"
	      "  --modules LIST         the packed modules (blank or comma separated;\n"
	      "                         '' for none); not given: not known\n"
	      "  --compress ALGO        the initramfs's: zstd (default), xz, gzip, none\n"
	      "  --no-uki               an initramfs only (no EFI stub needed)\n"
	      "  --shell                a shell is packed (a development image)\n"
	      "  --signing-cert FILE    the certificate the UKI is signed with\n"
	      "  --production-cert FILE a production db certificate (repeatable)\n"
	      "  --root DIR             the root tree to be sealed (an unpacked root)\n"
	      "  --json FILE            the report as JSON too ('-': on stdout instead)\n"
	      "  --short                only the blocking findings and the count\n",
	      out);
	return out == stdout ? 0 : 2;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --policies DIR: what mkinitramfs packs from it. */
static int apply_policies(struct args *args)
{
	static char conf[4096], ima[4096], keys[4096];
	const char *dir = args->policies;

	if (!is_dir(dir)) {
		fprintf(stderr, PROG ": policies: cannot read '%s': not a directory\n", dir);
		return -ENOTDIR;
	}
	snprintf(conf, sizeof(conf), "%s/sealroot.conf", dir);
	snprintf(ima, sizeof(ima), "%s/ima-policy", dir);
	snprintf(keys, sizeof(keys), "%s/keys", dir);
	if (!args->in.config)
		args->in.config = conf;
	if (!args->in.ima_policy && access(ima, F_OK) == 0)
		args->in.ima_policy = ima;
	if (!args->in.keys && is_dir(keys))
		args->in.keys = keys;
	return 0;
}

static const char *const with_value[] = {
	"--policies", "--config", "--ima-policy", "--cmdline", "--kconfig",
	"--kernel", "--modules", "--compress", "--signing-cert",
	"--production-cert", "--root", "--json", "--keys", NULL,
};

static bool takes_value(const char *opt)
{
	for (size_t i = 0; with_value[i]; i++)
		if (!strcmp(opt, with_value[i]))
			return true;
	return false;
}

static int set_value(struct args *a, const char *opt, const char *v)
{
	struct audit_inputs *in = &a->in;

	if (!strcmp(opt, "--production-cert")) {
		if (in->nproduction == AUDIT_CERTS_MAX)
			return -E2BIG;
		in->production_certs[in->nproduction++] = v;
		return 0;
	}
	const char **slot = !strcmp(opt, "--policies") ? &a->policies :
			    !strcmp(opt, "--config") ? &in->config :
			    !strcmp(opt, "--ima-policy") ? &in->ima_policy :
			    !strcmp(opt, "--cmdline") ? &in->cmdline :
			    !strcmp(opt, "--kconfig") ? &in->kconfig :
			    !strcmp(opt, "--kernel") ? &in->kernel :
			    !strcmp(opt, "--modules") ? &in->modules :
			    !strcmp(opt, "--compress") ? &in->compress :
			    !strcmp(opt, "--signing-cert") ? &in->signing_cert :
			    !strcmp(opt, "--root") ? &in->root :
			    !strcmp(opt, "--keys") ? &in->keys : &a->json;

	if (*slot)
		return -EEXIST;
	*slot = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *ret)
{
	const char *c;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--no-uki")) {
			ret->in.no_uki = true;
		} else if (!strcmp(argv[i], "--shell")) {
			ret->in.shell = true;
		} else if (!strcmp(argv[i], "--short")) {
			ret->short_form = true;
		} else if (takes_value(argv[i]) && i + 1 < argc) {
			r = set_value(ret, argv[i], argv[i + 1]);
			if (r < 0) {
				fprintf(stderr, PROG ": option '%s': %s\n", argv[i],
					r == -E2BIG ? "given too many times" : "given twice");
				return r;
			}
			i++;
		} else {
			fprintf(stderr, PROG ": unknown option or missing value: '%s'\n", argv[i]);
			return -EINVAL;
		}
	}
	c = ret->in.compress;
	if (c && strcmp(c, "zstd") && strcmp(c, "xz") && strcmp(c, "gzip") && strcmp(c, "none")) {
		fprintf(stderr, PROG ": bad --compress '%s': expected zstd, xz, gzip or none\n", c);
		return -EINVAL;
	}
	if (ret->in.kconfig && ret->in.kernel)
		ret->in.kernel = NULL;	/* the file is what the kernel was built from */
	return ret->policies ? apply_policies(ret) : 0;
}

static int write_json(const struct audit *a, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int r;

	if (!f) {
		fprintf(stderr, PROG ": json: cannot write '%s': %s\n", path, strerror(errno));
		return -errno;
	}
	r = audit_print_json(a, f);
	if (f != stdout && fclose(f) != 0 && r == 0)
		r = -EIO;
	if (r < 0)
		fprintf(stderr, PROG ": json: cannot write '%s': %s\n", path, strerror(-r));
	return r;
}

int main(int argc, char **argv)
{
	struct args args = { 0 };
	struct audit a;
	int r, rj = 0;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return usage(stdout);
	if (parse_args(argc, argv, &args) < 0)
		return usage(stderr);
	r = audit_load(&a, &args.in, stderr);
	if (r < 0) {
		if (r == -ENOMEM)
			fprintf(stderr, PROG ": cannot audit: %s\n", strerror(ENOMEM));
		audit_free(&a);
		return 2;
	}
	r = audit_run(&a);
	if (r == -ENOMEM) {
		fprintf(stderr, PROG ": cannot audit: %s\n", strerror(ENOMEM));
		audit_free(&a);
		return 2;
	}
	if (!args.json || strcmp(args.json, "-"))
		audit_print(&a, stdout, args.short_form);
	if (args.json)
		rj = write_json(&a, args.json);
	r = r < 0 || rj < 0 ? 2 : audit_blocked(&a) ? 1 : 0;
	audit_free(&a);
	return r;
}
