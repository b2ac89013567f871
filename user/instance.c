// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include "instance.h"
#include "log.h"

static int find(struct vnat_netns *ns, struct vnat_maps *m, int *missing)
{
	struct vnat_config cfg;
	int err;

	err = vnat_netns__identify(ns);
	if (!err)
		err = vnat_bpffs__prepare();
	if (err)
		return err;
	err = missing ? vnat_maps__open_pinned_partial(ns->pin_dir, m, missing) :
			vnat_maps__open_pinned(ns->pin_dir, m);
	if (err == -ENOENT || err == -EPROTO)
		return err; /* -EPROTO: said */
	if (err) {
		vnat_err("%s: %s", ns->pin_dir, strerror(-err));
		return err;
	}
	/*
	 * Namespace inodes are recycled: pins whose cookie is not ours belong
	 * to a namespace that is gone, together with its interfaces.
	 */
	if (vnat_maps__read_config(m, &cfg) || cfg.netns_cookie != ns->cookie) {
		vnat_maps__close(m);
		vnat_maps__unpin(ns->pin_dir);
		return -ENOENT;
	}
	return 0;
}

int vnat_instance__find(struct vnat_netns *ns, struct vnat_maps *m)
{
	return find(ns, m, NULL);
}

int vnat_instance__find_any(struct vnat_netns *ns, struct vnat_maps *m, int *missing)
{
	return find(ns, m, missing);
}
