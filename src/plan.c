#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plan.h"
#include "verity.h"

#define VERITY_ROOT_PATH "/dev/mapper/" VERITY_NAME

static int fail(struct config_error *err, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct config_error *err, int r, const char *fmt, ...)
{
	va_list ap;

	err->line = 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return r;
}

int plan_add(struct plan *p, const char *what, const char *spec,
	     struct config_error *err)
{
	char q[QUOTE_MAX];

	if (p->ndevs >= PLAN_DEVICES_MAX)
		return fail(err, -ENOBUFS, "%s: more than %d devices to wait for",
			    what, PLAN_DEVICES_MAX);
	if (devspec_parse(spec, &p->devs[p->ndevs].spec) < 0)
		return fail(err, -EINVAL, "%s '%s' is not a device spec", what,
			    config_quote(spec, strlen(spec), q, sizeof(q)));
	p->devs[p->ndevs++].what = what;
	return 0;
}

/* The explicit switch for an unverified root is a development tool. */
static int check_policy(const struct config *c, struct config_error *err)
{
	if (c->root_verity == ROOT_VERITY_OPTIONAL && c->mode != MODE_DEVELOPMENT)
		return fail(err, -EPERM, "root.verity = optional needs mode = development: a production image always verifies its root");
	return 0;
}

static int plan_plain(const struct config *c, struct plan *p,
		      struct config_error *err)
{
	if (c->root_verity == ROOT_VERITY_REQUIRED)
		return fail(err, -EPERM, "no root hash (roothash= on the kernel command line, or verity.roothash) and root.verity = required: give the root hash, or set root.verity = optional (mode = development only) for an unverified root");
	if (c->verity_data[0] || c->verity_hash[0])
		return fail(err, -EINVAL, "verity.data or verity.hash is set without a root hash");
	if (!c->root[0])
		return fail(err, -EINVAL, "neither 'root' (root=) nor a root hash (roothash=) is set");
	return plan_add(p, "root", c->root, err);
}

/* Explicit partitions, or the DPS PARTUUIDs the root hash gives. */
static int plan_verity(const struct config *c, struct plan *p,
		       struct config_error *err)
{
	char data[37], hash[37], spec[64], q[QUOTE_MAX];
	int r;

	if (c->root[0] && strcmp(c->root, VERITY_ROOT_PATH))
		return fail(err, -EINVAL, "root '%s' conflicts with the root hash: the root is " VERITY_ROOT_PATH "; name its partitions with verity.data and verity.hash",
			    config_quote(c->root, strlen(c->root), q, sizeof(q)));
	if (roothash_parse(c->verity_roothash, &p->roothash) < 0)
		return fail(err, -EINVAL, "root hash '%s' is not 64 to 128 hex digits",
			    c->verity_roothash);
	p->verity = true;
	roothash_dps_partuuids(&p->roothash, data, hash);
	snprintf(spec, sizeof(spec), "PARTUUID=%s", data);
	r = plan_add(p, "verity data", c->verity_data[0] ? c->verity_data : spec, err);
	if (r < 0)
		return r;
	snprintf(spec, sizeof(spec), "PARTUUID=%s", hash);
	return plan_add(p, "verity hash", c->verity_hash[0] ? c->verity_hash : spec, err);
}

int plan_devices(const struct config *cfg, struct plan *ret,
		 struct config_error *err)
{
	struct plan p = { .state = -1 };
	int r;

	r = check_policy(cfg, err);
	if (r == 0)
		r = cfg->verity_roothash[0] ? plan_verity(cfg, &p, err)
					    : plan_plain(cfg, &p, err);
	if (r == 0 && cfg->state[0]) {
		p.state = (int)p.ndevs;
		r = plan_add(&p, "state", cfg->state, err);
	}
	if (r == 0)
		*ret = p;
	return r;
}
