// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat doctor: name the faults of this network namespace, with their fixes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "doctor.h"
#include "log.h"
#include "out.h"

static bool has_safe_fix(const struct vnat_finding *f)
{
	return f->sysctl[0][0] || f->stale_pins[0];
}

static void describe_finding(struct vnat_out *o, const struct vnat_finding *f)
{
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_str(o, "check", "check", f->check);
	vnat_out_str(o, "iface", "interface", f->iface);
	vnat_out_str(o, "what", "what", f->what);
	vnat_out_str(o, "evidence", "evidence", f->evidence);
	vnat_out_str(o, "effect", "effect", f->effect);
	/* the command on one line, to copy as it is */
	vnat_out_cmd(o, "fix", "fix", f->fix);
	vnat_out_str(o, "fix_on", "run on", f->fix_on);
	vnat_out_bool(o, "safe", "safe", has_safe_fix(f));
	vnat_out_bool(o, "fixed", "fixed", f->fixed);
	vnat_out_obj_close(o);
}

static int report(const struct vnat_doctor *d, int open)
{
	struct vnat_out *o = vnat_out_new(stdout, d->opts.json, d->opts.pretty, false);

	if (!o)
		return -ENOMEM;
	vnat_out_obj_open(o, NULL, NULL, 0);
	vnat_out_bool(o, "ok", "ok", !open);
	vnat_out_bool(o, "vnat_loaded", "vnat loaded", d->loaded);
	vnat_out_u64(o, "open", "open", open);
	vnat_out_list_open(o, "findings", "findings", VNAT_OUT_RECORDS);
	for (int i = 0; i < d->n; i++)
		describe_finding(o, &d->f[i]);
	vnat_out_list_close(o);
	vnat_out_obj_close(o);
	vnat_out_free(o);
	return 0;
}

/* --fix: the safe fixes only, each said as it is done. */
static void apply_fixes(struct vnat_doctor *d)
{
	for (int i = 0; i < d->n; i++) {
		struct vnat_finding *f = &d->f[i];
		int err;

		if (!has_safe_fix(f))
			continue;
		err = vnat_doctor__apply(f);
		if (err)
			vnat_err("doctor: fix of %s: %s: %s", f->check, f->fix, strerror(-err));
		else if (!d->opts.json)
			printf("vnat doctor: fixed %s%s%s: %s\n", f->check,
			       f->iface[0] ? " on " : "", f->iface, f->fix);
	}
}

int cmd_doctor(int argc, char **argv)
{
	struct vnat_doctor *d = calloc(1, sizeof(*d));
	int err, open = 0;

	if (!d)
		return -ENOMEM;
	err = vnat_doctor__parse_args(argc, argv, &d->opts);
	if (err) {
		free(d);
		return err > 0 ? 0 : err;
	}
	d->opts.json |= vnat_opts.json;
	d->opts.pretty |= vnat_opts.pretty;
	vnat_log_init(d->opts.json, vnat_opts.verbose);
	err = vnat_doctor__gather(d);
	if (err) {
		vnat_err("doctor: cannot read this network namespace: %s", strerror(-err));
		goto out;
	}
	vnat_doctor__run(d);
	if (d->opts.fix)
		apply_fixes(d);
	for (int i = 0; i < d->n; i++)
		open += !d->f[i].fixed;
	err = report(d, open) ?: open ? 1 : 0;
out:
	vnat_doctor__release(d);
	free(d);
	return err;
}
