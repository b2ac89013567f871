/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Handing UDP flows back to the kernel at `vnat unload`. A flow vnat
 * translated is unknown to netfilter: after unload a reply that comes
 * before the guest's next datagram would be taken for the host's own. So
 * each live UDP flow is written into the kernel's conntrack with vnat's
 * translation as its NAT binding (the conntrack kfuncs).
 *
 * Not TCP: an entry made this way has no window data nor the "be liberal"
 * flags of the kernel's own mid-stream pick-up, so the kernel would call the
 * next segments invalid. TCP is left to that pick-up instead (see
 * cmd_unload.c). Run by user space with BPF_PROG_TEST_RUN, one flow key per
 * frame; the verdict is the result.
 */
#ifndef VNAT_LIB_HANDOFF_H
#define VNAT_LIB_HANDOFF_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "maps.h"

/*
 * Kernel types the kfuncs take, opaque here (vmlinux.h is not used).
 * Defined rather than forward-declared: libbpf's prototype check wants a
 * struct where the kernel has one; only the pointers are ever used.
 */
struct nf_conn {
	__u64 opaque;
};

struct nf_conn___init {
	__u64 opaque;
};

/* The kernel's own names: libbpf matches the kfunc prototypes by them. */
union nf_inet_addr {
	__u32 all[4];
	__be32 ip;
};

enum nf_nat_manip_type {
	VNAT_NF_NAT_MANIP_SRC = 0,
	VNAT_NF_NAT_MANIP_DST = 1,
};

struct vnat_bpf_ct_opts { /* struct bpf_ct_opts, 16 bytes since 6.8 */
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};

#define VNAT_IPS_SEEN_REPLY (1 << 1)
#define VNAT_CURRENT_NETNS (-1)

/* __weak: a kernel without them fails only this program, never the datapath. */
extern struct nf_conn___init *bpf_xdp_ct_alloc(struct xdp_md *ctx, struct bpf_sock_tuple *t,
					       __u32 tlen, struct vnat_bpf_ct_opts *o,
					       __u32 olen) __ksym __weak;
extern int bpf_ct_set_nat_info(struct nf_conn___init *ct, union nf_inet_addr *addr, int port,
			       enum nf_nat_manip_type manip) __ksym __weak;
extern void bpf_ct_set_timeout(struct nf_conn___init *ct, __u32 timeout) __ksym __weak;
extern int bpf_ct_set_status(const struct nf_conn___init *ct, __u32 status) __ksym __weak;
extern struct nf_conn *bpf_ct_insert_entry(struct nf_conn___init *ct) __ksym __weak;
extern void bpf_ct_release(struct nf_conn *ct) __ksym __weak;

/* The request: a vnat_ct key, as the frame's first bytes. */
static __always_inline int vnat_handoff(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct vnat_bpf_ct_opts opts = { .netns_id = VNAT_CURRENT_NETNS };
	struct bpf_sock_tuple tup = {};
	union nf_inet_addr addr = {};
	struct vnat_ct_key key;
	struct vnat_ct_val *ct;
	struct nf_conn___init *nct;
	struct nf_conn *ins;
	__u64 now = bpf_ktime_get_ns();

	if (data + sizeof(key) > end)
		return XDP_ABORTED;
	__builtin_memcpy(&key, data, sizeof(key));
	ct = bpf_map_lookup_elem(&vnat_ct, &key);
	if (!ct || ct->expires_ns <= now || (key.proto != IPPROTO_TCP && key.proto != IPPROTO_UDP))
		return XDP_DROP;
	/* The original direction as netfilter sees it: guest -> remote. */
	tup.ipv4.saddr = key.inside_addr;
	tup.ipv4.daddr = key.remote_addr;
	tup.ipv4.sport = key.inside_port;
	tup.ipv4.dport = key.remote_port;
	opts.l4proto = key.proto;
	nct = bpf_xdp_ct_alloc(ctx, &tup, sizeof(tup.ipv4), &opts, sizeof(opts));
	if (!nct)
		return XDP_DROP; /* exists already (a kernel-tracked flow), or no memory */
	addr.ip = ct->outside_addr;
	bpf_ct_set_nat_info(nct, &addr, bpf_ntohs(ct->outside_port), VNAT_NF_NAT_MANIP_SRC);
	bpf_ct_set_status(nct, VNAT_IPS_SEEN_REPLY);
	bpf_ct_set_timeout(nct, (ct->expires_ns - now) / 1000000);
	ins = bpf_ct_insert_entry(nct);
	if (!ins)
		return XDP_DROP;
	bpf_ct_release(ins);
	return XDP_PASS;
}

#endif /* VNAT_LIB_HANDOFF_H */
