// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The health line of vnat status (see health.h). */
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include "daemon_lock.h"
#include "health.h"
#include "iter.h"
#include "out.h"
#include "warnings.h"

/* Every hook vnat put there still there? A bridge and tc-only have no XDP. */
static bool hooks_present(__u32 ifindex, const struct vnat_iface *val)
{
	struct vnat_attachment a;
	char name[IF_NAMESIZE];

	if (!if_indextoname(ifindex, name))
		return false;
	vnat_datapath__query(ifindex, &a);
	if (!(val->flags & (VNAT_IFACE_BRIDGE | VNAT_IFACE_NO_XDP)) && !a.xdp_id)
		return false;
	return a.tc_ingress_id && a.tc_egress_id;
}

static int check_one(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	struct vnat_health *h = ctx;

	h->n_ifaces++;
	if (hooks_present(ifindex, val))
		return 0;
	if (h->n_detached < VNAT_HEALTH_MAX_DETACHED)
		snprintf(h->detached[h->n_detached], VNAT_IFNAMSIZ, "%s", val->name);
	h->n_detached++;
	return 0;
}

void vnat_health__check(const struct vnat_maps *m, struct vnat_health *h)
{
	static struct vnat_warning warnings[VNAT_MAX_WARNINGS];

	memset(h, 0, sizeof(*h));
	h->n_warnings = vnat_warnings__live(m, NULL, 0, warnings, VNAT_MAX_WARNINGS);
	if (h->n_warnings < 0)
		h->n_warnings = 0;
	h->warnings = warnings;
	h->daemon = vnat_daemon_lock__holder();
	if (h->daemon < 0)
		h->daemon = 0;
	vnat_ifaces__each(m, check_one, h);
}

bool vnat_health__ok(const struct vnat_health *h)
{
	return !h->n_detached;
}

static void detached_list(const struct vnat_health *h, char *buf, size_t len)
{
	size_t off = 0;
	int shown = h->n_detached < VNAT_HEALTH_MAX_DETACHED ? h->n_detached :
							       VNAT_HEALTH_MAX_DETACHED;

	buf[0] = '\0';
	for (int i = 0; i < shown && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "", h->detached[i]);
	if (h->n_detached > shown && off < len)
		snprintf(buf + off, len - off, " and %d more", h->n_detached - shown);
}

/* The headline: the text of status starts with it, a monitoring check greps it. */
static void health_note(struct vnat_out *o, const struct vnat_health *h)
{
	char list[VNAT_HEALTH_MAX_DETACHED * (VNAT_IFNAMSIZ + 2) + 32], daemon[64], more[32] = "";

	if (h->daemon)
		snprintf(daemon, sizeof(daemon), "daemon running (pid %d)", (int)h->daemon);
	else
		snprintf(daemon, sizeof(daemon), "warning: daemon not running");
	if (h->n_warnings)
		snprintf(more, sizeof(more), ", %d warning%s (below)", h->n_warnings,
			 h->n_warnings == 1 ? "" : "s");
	if (vnat_health__ok(h)) {
		vnat_out_note(o, "health: ok: %d interface%s attached, %s%s%s", h->n_ifaces,
			      h->n_ifaces == 1 ? "" : "s", daemon,
			      h->daemon ? "" :
					  " (new ports, FDB and address changes are not followed)",
			      more);
		return;
	}
	detached_list(h, list, sizeof(list));
	vnat_out_note(o, "health: UNHEALTHY: %s detached (hooks or device gone; %s), %s%s", list,
		      h->daemon ? "the daemon re-attaches a device created again" :
				  "start 'vnat daemon', or unload and load them again",
		      daemon, more);
}

void vnat_health__describe(struct vnat_out *o, const struct vnat_health *h)
{
	int shown = h->n_detached < VNAT_HEALTH_MAX_DETACHED ? h->n_detached :
							       VNAT_HEALTH_MAX_DETACHED;

	/* the text has the headline for these fields */
	vnat_out_obj_open(o, "health", "health", VNAT_OUT_SUMMARY);
	health_note(o, h);
	vnat_out_bool(o, "ok", "ok", vnat_health__ok(h));
	if (h->daemon)
		vnat_out_u64(o, "daemon_pid", "daemon pid", h->daemon);
	else
		vnat_out_null(o, "daemon_pid", "daemon pid");
	vnat_out_u64(o, "interfaces", "interfaces", h->n_ifaces);
	vnat_out_list_open(o, "detached", "detached", 0);
	for (int i = 0; i < shown; i++)
		vnat_out_str(o, NULL, NULL, h->detached[i]);
	vnat_out_list_close(o);
	vnat_out_list_open(o, "warnings", "warnings", 0);
	if (!h->daemon)
		vnat_out_str(o, NULL, NULL, "daemon not running");
	for (int i = 0; i < h->n_warnings && i < VNAT_MAX_WARNINGS; i++)
		vnat_out_str(o, NULL, NULL, h->warnings[i].text);
	vnat_out_list_close(o);
	vnat_out_obj_close(o);
}
