// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The map-iteration layer (see iter.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "iter.h"

/* Every key of the map, in one buffer of key_size slots; the count or -errno. */
static int collect_keys(int fd, size_t key_size, __u32 max, char **keys)
{
	/* One slot more: the walk's last step writes the next key before the check. */
	char *buf = calloc((size_t)max + 1, key_size);
	int n = 0;

	if (!buf)
		return -ENOMEM;
	for (int e = bpf_map_get_next_key(fd, NULL, buf); !e && (__u32)n < max;
	     e = bpf_map_get_next_key(fd, buf + (n - 1) * key_size, buf + n * key_size))
		n++;
	*keys = buf;
	return n;
}

int vnat_map__each(int fd, vnat_map_fn fn, void *ctx)
{
	struct bpf_map_info info;
	char *keys = NULL, *val;
	int n, err = vnat_map_info(fd, &info);

	if (err)
		return err;
	val = malloc(info.value_size ? info.value_size : 1);
	if (!val)
		return -ENOMEM;
	n = collect_keys(fd, info.key_size, info.max_entries, &keys);
	err = n < 0 ? n : 0;
	for (int i = 0; i < n && !err; i++) {
		const char *key = keys + (size_t)i * info.key_size;

		/* Gone meanwhile (deleted by fn for another key): skipped. */
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		err = fn(key, val, ctx);
	}
	free(keys);
	free(val);
	return err;
}

struct iface_walk {
	vnat_iface_fn fn;
	void *ctx;
};

static int iface_step(const void *key, void *val, void *ctx)
{
	const struct iface_walk *w = ctx;

	return w->fn(*(const __u32 *)key, val, w->ctx);
}

int vnat_ifaces__each(const struct vnat_maps *m, vnat_iface_fn fn, void *ctx)
{
	struct iface_walk w = { .fn = fn, .ctx = ctx };

	return vnat_map__each(m->ifaces, iface_step, &w);
}

struct by_name {
	const char *name;
	__u32 found;
};

static int match_name(__u32 ifindex, struct vnat_iface *val, void *ctx)
{
	struct by_name *b = ctx;

	if ((val->flags & VNAT_IFACE_AUTO) || strcmp(val->name, b->name))
		return 0;
	b->found = ifindex;
	return 1;
}

__u32 vnat_ifaces__by_name(const struct vnat_maps *m, const char *name)
{
	struct by_name b = { .name = name };

	vnat_ifaces__each(m, match_name, &b);
	return b.found;
}
