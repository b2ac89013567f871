// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The datapath's maps from user space: open the pins of a running
 * instance, read and write its configuration and counters, bump the
 * generation, unpin. What BPF and user space share is include/vnat.h; its
 * layouts are checked here, where user space reads them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "datapath.h"
#include "datapath_int.h"
#include "log.h"

_Static_assert(sizeof(struct vnat_iface) == 32, "vnat_iface layout");
_Static_assert(sizeof(struct vnat_fdb_key) == 12, "vnat_fdb_key layout");
_Static_assert(sizeof(struct vnat_fdb_val) == 16, "vnat_fdb_val layout");
_Static_assert(sizeof(struct vnat_config) == 64, "vnat_config layout");
_Static_assert(sizeof(struct vnat_ct_key) == 16, "vnat_ct_key layout");
_Static_assert(sizeof(struct vnat_nh) == 32, "vnat_nh layout");
_Static_assert(sizeof(struct vnat_ct_val) == 136, "vnat_ct_val layout");
_Static_assert(sizeof(struct vnat_map_key) == 8, "vnat_map_key layout");
_Static_assert(sizeof(struct vnat_rev_key) == 4, "vnat_rev_key layout");
_Static_assert(sizeof(struct vnat_counter) == 16, "vnat_counter layout");
_Static_assert(sizeof(struct vnat_stats) == VNAT_STAT_MAX * sizeof(struct vnat_counter),
	       "vnat_stats: one vnat_counter per enum vnat_stat");

const char *const vnat_map_names[] = { "vnat_stats",	"vnat_ifaces",	 "vnat_txports",
				       "vnat_config",	"vnat_prefixes", "vnat_ct",
				       "vnat_mappings", "vnat_ports",	 "vnat_gc",
				       "vnat_fdb",	"vnat_macmoves", "vnat_gen",
				       "vnat_kegress",	"vnat_kliberal", "vnat_klibreq",
				       "vnat_ucount" };
_Static_assert(sizeof(struct vnat_liberal_req) == 16, "vnat_liberal_req layout");
_Static_assert(sizeof(vnat_map_names) / sizeof(vnat_map_names[0]) == VNAT_N_MAPS,
	       "one name per map of struct vnat_maps");

#define GEN_MEM_LEN (VNAT_GEN_MAX * sizeof(__u64))

int *vnat_maps__slot(struct vnat_maps *m, size_t i)
{
	int *slots[VNAT_N_MAPS] = { &m->stats,	  &m->ifaces,	&m->txports,  &m->config,
				    &m->prefixes, &m->ct,	&m->mappings, &m->ports,
				    &m->gc,	  &m->fdb,	&m->macmoves, &m->gen,
				    &m->kegress,  &m->kliberal, &m->klibreq,  &m->ucount };

	return slots[i];
}

void vnat_maps__pin_path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* The flow tables' size is --max-flows of the load that created them. */
bool vnat_maps__sized_by_user(size_t i)
{
	return !strcmp(vnat_map_names[i], "vnat_ct") ||
	       !strcmp(vnat_map_names[i], "vnat_mappings") ||
	       !strcmp(vnat_map_names[i], "vnat_ports");
}

int vnat_map_info(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	return bpf_obj_get_info_by_fd(fd, info, &len) ? -errno : 0;
}

/*
 * vnat_gen mapped shared, for atomic bumps; NULL when the map is not this
 * build's (not BPF_F_MMAPABLE, other value size): bumps then fail.
 */
__u64 *vnat_maps__map_gen(int fd)
{
	struct bpf_map_info info;
	void *mem;

	if (vnat_map_info(fd, &info) || info.value_size != sizeof(__u64) ||
	    info.max_entries != VNAT_GEN_MAX || !(info.map_flags & BPF_F_MMAPABLE))
		return NULL;
	mem = mmap(NULL, GEN_MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	return mem == MAP_FAILED ? NULL : mem;
}

void vnat_maps__close(struct vnat_maps *m)
{
	if (m->gen_mem)
		munmap(m->gen_mem, GEN_MEM_LEN);
	m->gen_mem = NULL;
	for (size_t i = 0; i < VNAT_N_MAPS; i++) {
		int *fd = vnat_maps__slot(m, i);

		if (*fd > 0)
			close(*fd);
		*fd = -1;
	}
}

/*
 * Open the pins of pin_dir. Missing pins: none at all is "not loaded"
 * (-ENOENT); some is an instance of another vnat version, which had other
 * maps (-EPROTO, said, unless partial: then the missing ones stay -1 and
 * *missing counts them).
 */
static int open_pins(const char *pin_dir, struct vnat_maps *m, bool partial, int *missing)
{
	const char *absent = NULL;
	char path[256];
	int found = 0;

	m->gen_mem = NULL;
	snprintf(m->pin_dir, sizeof(m->pin_dir), "%s", pin_dir);
	for (size_t i = 0; i < VNAT_N_MAPS; i++)
		*vnat_maps__slot(m, i) = -1;
	for (size_t i = 0; i < VNAT_N_MAPS; i++) {
		vnat_maps__pin_path(path, sizeof(path), pin_dir, vnat_map_names[i]);
		*vnat_maps__slot(m, i) = bpf_obj_get(path);
		if (*vnat_maps__slot(m, i) >= 0) {
			found++;
			continue;
		}
		if (errno != ENOENT) {
			int err = -errno;

			vnat_maps__close(m);
			return err;
		}
		absent = absent ? absent : vnat_map_names[i];
	}
	*missing = VNAT_N_MAPS - found;
	if (!found || (*missing && !partial)) {
		vnat_maps__close(m);
		if (found)
			vnat_err("%s holds the pins of another vnat version (no %s here): "
				 "'vnat unload --all' removes it, then load again",
				 pin_dir, absent);
		return found ? -EPROTO : -ENOENT;
	}
	/* Not mappable: pins of another build, which unload still removes. */
	m->gen_mem = m->gen >= 0 ? vnat_maps__map_gen(m->gen) : NULL;
	return 0;
}

int vnat_maps__open_pinned(const char *pin_dir, struct vnat_maps *m)
{
	int missing;

	return open_pins(pin_dir, m, false, &missing);
}

int vnat_maps__open_pinned_partial(const char *pin_dir, struct vnat_maps *m, int *missing)
{
	return open_pins(pin_dir, m, true, missing);
}

int vnat_maps__unpin(const char *pin_dir)
{
	char path[256];
	int err = 0;

	for (size_t i = 0; i < VNAT_N_MAPS; i++) {
		vnat_maps__pin_path(path, sizeof(path), pin_dir, vnat_map_names[i]);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	if (rmdir(pin_dir) && errno != ENOENT)
		err = -errno;
	/* The root stays while another namespace's vnat uses it. */
	rmdir(VNAT_PIN_ROOT);
	return err;
}

int vnat_maps__read_config(const struct vnat_maps *m, struct vnat_config *cfg)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(m->config, &key, cfg) ? -errno : 0;
}

int vnat_maps__bump_gen(const struct vnat_maps *m)
{
	if (!m->gen_mem)
		return -EOPNOTSUPP;
	/* The datapath adds to its own element as atomically. */
	__atomic_fetch_add(&m->gen_mem[VNAT_GEN_USER], 1, __ATOMIC_SEQ_CST);
	return 0;
}

#define UCOUNT_MEM_LEN (VNAT_UCOUNT_MAX * sizeof(__u64))

/* Mapped for this one add: flushes are rare, and the mapping stays nobody's to close. */
int vnat_maps__ucount_add(const struct vnat_maps *m, enum vnat_ucount_idx i, __u64 n)
{
	struct bpf_map_info info;
	__u64 *mem;
	int err;

	err = vnat_map_info(m->ucount, &info);
	if (err)
		return err;
	if (info.max_entries != VNAT_UCOUNT_MAX || info.value_size != sizeof(__u64) ||
	    !(info.map_flags & BPF_F_MMAPABLE))
		return -EPROTO;
	mem = mmap(NULL, UCOUNT_MEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, m->ucount, 0);
	if (mem == MAP_FAILED)
		return -errno;
	__atomic_fetch_add(&mem[i], n, __ATOMIC_SEQ_CST);
	munmap(mem, UCOUNT_MEM_LEN);
	return 0;
}

__u64 vnat_maps__ucount(const struct vnat_maps *m, enum vnat_ucount_idx i)
{
	__u32 key = i;
	__u64 v = 0;

	return bpf_map_lookup_elem(m->ucount, &key, &v) ? 0 : v;
}

int vnat_maps__write_config(const struct vnat_maps *m, const struct vnat_config *cfg)
{
	__u32 key = 0;

	if (bpf_map_update_elem(m->config, &key, cfg, BPF_ANY))
		return -errno;
	return vnat_maps__bump_gen(m);
}

int vnat_maps__read_counters(const struct vnat_maps *m, struct vnat_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct vnat_counter *out = (struct vnat_counter *)sum, *in;
	struct vnat_stats *vals;
	struct bpf_map_info info;
	__u32 key = 0;
	int err;

	memset(sum, 0, sizeof(*sum));
	if (ncpus <= 0)
		return -EINVAL;
	/* The lookup writes value_size per CPU: a pin of another build would overflow vals. */
	err = vnat_map_info(m->stats, &info);
	if (err)
		return err;
	if (info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.value_size != sizeof(*vals)) {
		vnat_err("pinned map %s/vnat_stats does not match this vnat build (%u-byte "
			 "counters, this build's %zu): run 'vnat unload --all', then load again "
			 "with this build",
			 m->pin_dir[0] ? m->pin_dir : "(unpinned)", info.value_size, sizeof(*vals));
		return -EPROTO;
	}
	vals = calloc(ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->stats, &key, vals)) {
		free(vals);
		return -errno;
	}
	for (int i = 0; i < ncpus; i++) {
		in = (struct vnat_counter *)&vals[i];
		for (int k = 0; k < VNAT_STAT_MAX; k++) {
			out[k].packets += in[k].packets;
			out[k].bytes += in[k].bytes;
		}
	}
	free(vals);
	return 0;
}

int vnat_maps__add_prefix(const struct vnat_maps *m, uint32_t addr, uint8_t len,
			  enum vnat_prefix_kind kind)
{
	struct vnat_prefix_key k = { .prefixlen = len, .addr = addr };
	struct vnat_prefix_val v = { .kind = kind };

	if (bpf_map_update_elem(m->prefixes, &k, &v, BPF_ANY))
		return -errno;
	return vnat_maps__bump_gen(m);
}

int vnat_maps__count_flows(const struct vnat_maps *m, uint8_t proto)
{
	struct vnat_ct_key key, next;
	int n = 0;

	for (int err = bpf_map_get_next_key(m->ct, NULL, &next); !err;
	     err = bpf_map_get_next_key(m->ct, &key, &next)) {
		key = next;
		n += key.proto == proto && !key.pad[0];
	}
	return n;
}
