// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vnat doctor: name the faults of this network namespace, with their fixes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmds.h"
#include "doctor.h"
#include "json.h"
#include "log.h"

static bool has_safe_fix(const struct vnat_finding *f)
{
	return f->sysctl[0][0] || f->stale_pins[0];
}

static void finding_json(struct vnat_json *j, const struct vnat_finding *f)
{
	vnat_json_obj_open(j, NULL);
	vnat_json_str(j, "check", f->check);
	vnat_json_str(j, "iface", f->iface);
	vnat_json_str(j, "what", f->what);
	vnat_json_str(j, "evidence", f->evidence);
	vnat_json_str(j, "effect", f->effect);
	vnat_json_str(j, "fix", f->fix);
	vnat_json_str(j, "fix_on", f->fix_on);
	vnat_json_bool(j, "safe", has_safe_fix(f));
	vnat_json_bool(j, "fixed", f->fixed);
	vnat_json_obj_close(j);
}

static void report_json(const struct vnat_doctor *d, int open)
{
	struct vnat_json *j = vnat_json_new(stdout, d->opts.pretty);

	vnat_json_obj_open(j, NULL);
	vnat_json_bool(j, "ok", !open);
	vnat_json_bool(j, "vnat_loaded", d->loaded);
	vnat_json_u64(j, "open", open);
	vnat_json_arr_open(j, "findings");
	for (int i = 0; i < d->n; i++)
		finding_json(j, &d->f[i]);
	vnat_json_arr_close(j);
	vnat_json_obj_close(j);
	vnat_json_free(j);
}

/* prefix, then text folded at spaces to 80 columns, continued at column indent. */
static void print_wrapped(const char *prefix, int indent, const char *text)
{
	const int width = 80;
	int col = printf("%s", prefix), start = col;
	const char *p = text;

	while (*p) {
		size_t w = strcspn(p, " ");

		if (col > start && col + 1 + (int)w > width) {
			printf("\n%*s", indent, "");
			col = start = indent;
		} else if (col > start) {
			putchar(' ');
			col++;
		}
		col += printf("%.*s", (int)w, p);
		p += w;
		while (*p == ' ')
			p++;
	}
	putchar('\n');
}

static void report_text(const struct vnat_doctor *d, int open)
{
	if (!d->n) {
		printf("vnat doctor: no fault found in this network namespace (vnat %s)\n",
		       d->loaded ? "loaded" : "not loaded");
		return;
	}
	printf("vnat doctor: %d finding%s, %d open (vnat %s)\n", d->n, d->n == 1 ? "" : "s", open,
	       d->loaded ? "loaded" : "not loaded");
	for (int i = 0; i < d->n; i++) {
		const struct vnat_finding *f = &d->f[i];
		char head[320], num[16], on[192];

		snprintf(head, sizeof(head), "%s%s%s: %s", f->check, f->iface[0] ? " on " : "",
			 f->iface, f->what);
		snprintf(num, sizeof(num), "\n[%d] ", i + 1);
		snprintf(on, sizeof(on), "%s%s", f->fix_on,
			 f->fixed	 ? " (done by --fix)" :
			 has_safe_fix(f) ? " (safe: vnat doctor --fix applies it)" :
					   "");
		print_wrapped(num, 4, head);
		print_wrapped("    evidence: ", 14, f->evidence);
		print_wrapped("    effect:   ", 14, f->effect);
		/* the command on one line, to copy as it is */
		printf("    fix:      %s\n", f->fix);
		print_wrapped("    run on:   ", 14, on);
	}
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
	if (d->opts.json)
		report_json(d, open);
	else
		report_text(d, open);
	err = open ? 1 : 0;
out:
	vnat_doctor__release(d);
	free(d);
	return err;
}
