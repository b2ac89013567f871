// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Giving translated connections back to the kernel at `vnat unload`.
 * netfilter never saw a flow vnat translated: after unload its next reply
 * would be the host's own traffic (and reset), and even a mid-stream
 * pick-up of the guest's next segment may fail the kernel's window checks.
 * So each flow becomes a conntrack entry made through ctnetlink (libnl
 * builds the messages): the inside tuple, its untranslated reply, a
 * source-NAT binding to vnat's outside address and port, TCP state
 * ESTABLISHED with liberal window tracking both ways (as the kernel's own
 * pick-up does), and the time the flow had left.
 *
 * Under kernel admission the same TCP attributes mark a kernel entry
 * liberal before vnat carries its flow (the daemon, asked by tc egress),
 * and tell `vnat conns` whether an entry is.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdio.h>
#include "ctnl.h"
#include "log.h"

#define TCP_CONNTRACK_ESTABLISHED_ 3 /* enum tcp_conntrack, not in UAPI headers */

static int put_tuple(struct nl_msg *msg, int type, __be32 src, __be32 dst, __be16 sport,
		     __be16 dport, __u8 proto)
{
	struct nlattr *t = nla_nest_start(msg, type | NLA_F_NESTED), *n;

	if (!t)
		return -ENOMEM;
	n = nla_nest_start(msg, CTA_TUPLE_IP | NLA_F_NESTED);
	if (!n || nla_put_u32(msg, CTA_IP_V4_SRC, src) || nla_put_u32(msg, CTA_IP_V4_DST, dst))
		return -ENOMEM;
	nla_nest_end(msg, n);
	n = nla_nest_start(msg, CTA_TUPLE_PROTO | NLA_F_NESTED);
	if (!n || nla_put_u8(msg, CTA_PROTO_NUM, proto) ||
	    nla_put_u16(msg, CTA_PROTO_SRC_PORT, sport) ||
	    nla_put_u16(msg, CTA_PROTO_DST_PORT, dport))
		return -ENOMEM;
	nla_nest_end(msg, n);
	nla_nest_end(msg, t);
	return 0;
}

static int put_snat(struct nl_msg *msg, __be32 addr, __be16 port)
{
	struct nlattr *nat = nla_nest_start(msg, CTA_NAT_SRC | NLA_F_NESTED), *p;

	if (!nat || nla_put_u32(msg, CTA_NAT_V4_MINIP, addr) ||
	    nla_put_u32(msg, CTA_NAT_V4_MAXIP, addr))
		return -ENOMEM;
	p = nla_nest_start(msg, CTA_NAT_PROTO | NLA_F_NESTED);
	if (!p || nla_put_u16(msg, CTA_PROTONAT_PORT_MIN, port) ||
	    nla_put_u16(msg, CTA_PROTONAT_PORT_MAX, port))
		return -ENOMEM;
	nla_nest_end(msg, p);
	nla_nest_end(msg, nat);
	return 0;
}

/*
 * Liberal (or strict) window tracking both ways (flags under mask: nothing
 * else of the entry's TCP flags changes), and with established the state.
 */
static int put_tcp_protoinfo(struct nl_msg *msg, bool established, bool on)
{
	struct nf_ct_tcp_flags liberal = { .flags = on ? IP_CT_TCP_FLAG_BE_LIBERAL : 0,
					   .mask = IP_CT_TCP_FLAG_BE_LIBERAL };
	struct nlattr *pi = nla_nest_start(msg, CTA_PROTOINFO | NLA_F_NESTED), *tcp;

	if (!pi)
		return -ENOMEM;
	tcp = nla_nest_start(msg, CTA_PROTOINFO_TCP | NLA_F_NESTED);
	if (!tcp ||
	    (established && nla_put_u8(msg, CTA_PROTOINFO_TCP_STATE, TCP_CONNTRACK_ESTABLISHED_)) ||
	    nla_put(msg, CTA_PROTOINFO_TCP_FLAGS_ORIGINAL, sizeof(liberal), &liberal) ||
	    nla_put(msg, CTA_PROTOINFO_TCP_FLAGS_REPLY, sizeof(liberal), &liberal))
		return -ENOMEM;
	nla_nest_end(msg, tcp);
	nla_nest_end(msg, pi);
	return 0;
}

static int start_msg(struct nl_msg *msg)
{
	struct nfgenmsg nfg = { .nfgen_family = AF_INET, .version = NFNETLINK_V0 };

	return nlmsg_append(msg, &nfg, sizeof(nfg), NLMSG_ALIGNTO) < 0 ? -ENOMEM : 0;
}

static int flow_msg(struct nl_msg *msg, const struct vnat_ct_key *k, const struct vnat_ct_val *v,
		    __u32 timeout_s)
{
	int err = start_msg(msg);

	if (err)
		return err;
	/*
	 * Original: guest -> remote. Reply: remote -> guest, untranslated: the
	 * source-NAT binding below rewrites it to vnat's outside endpoint.
	 * Given the translated reply instead, the kernel finds nothing left to
	 * map (nf_nat_setup_info compares the binding with the inverted reply),
	 * leaves IPS_SRC_NAT unset, and then forwards the guest's segments
	 * untranslated and delivers the replies to the host's own stack.
	 */
	err = put_tuple(msg, CTA_TUPLE_ORIG, k->inside_addr, k->remote_addr, k->inside_port,
			k->remote_port, k->proto);
	if (!err)
		err = put_tuple(msg, CTA_TUPLE_REPLY, k->remote_addr, k->inside_addr,
				k->remote_port, k->inside_port, k->proto);
	if (!err)
		err = put_snat(msg, v->outside_addr, v->outside_port);
	if (!err && nla_put_u32(msg, CTA_TIMEOUT, htonl(timeout_s)))
		err = -ENOMEM;
	/* CONFIRMED: ctnetlink refuses a status that would flip that bit. */
	if (!err &&
	    nla_put_u32(msg, CTA_STATUS, htonl(IPS_SEEN_REPLY | IPS_ASSURED | IPS_CONFIRMED)))
		err = -ENOMEM;
	if (!err && k->proto == IPPROTO_TCP)
		err = put_tcp_protoinfo(msg, true, true);
	return err;
}

static __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static bool handable(const struct vnat_ct_key *k, const struct vnat_ct_val *v, __u64 now)
{
	if (k->pad[0] || (v->flags & VNAT_CT_ADDR_ENTRY) || v->expires_ns <= now)
		return false;
	if (k->proto == IPPROTO_UDP)
		return true;
	/* Closing or reset connections are not worth handing on. */
	return k->proto == IPPROTO_TCP && v->state == VNAT_TCP_ESTABLISHED;
}

static int add_flow(struct nl_sock *sk, const struct vnat_ct_key *k, const struct vnat_ct_val *v,
		    __u64 now)
{
	struct nl_msg *msg = nlmsg_alloc_simple((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW,
						NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	__u32 left = (v->expires_ns - now) / 1000000000ull;
	int err;

	if (!msg)
		return -ENOMEM;
	err = flow_msg(msg, k, v, left ? left : 1);
	if (!err)
		err = nl_send_auto(sk, msg) < 0 ? -EIO : 0;
	nlmsg_free(msg);
	if (!err)
		err = nl_wait_for_ack(sk);
	/* EEXIST: the kernel tracks it already (it started before vnat). */
	if (err && vnat_opts_verbose())
		fprintf(stderr, "vnat: ctnetlink: flow to port %u: %s\n", ntohs(k->remote_port),
			err < 0 ? nl_geterror(err) : "?");
	return err;
}

int vnat_ctnl__handoff(const struct vnat_maps *m)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct vnat_ct_key key, next;
	struct vnat_ct_val val;
	__u64 now = monotonic_ns();
	int handed = 0, err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_NETFILTER);
	if (err) {
		nl_socket_free(sk);
		return -EPROTONOSUPPORT;
	}
	for (err = bpf_map_get_next_key(m->ct, NULL, &next); !err;
	     err = bpf_map_get_next_key(m->ct, &key, &next)) {
		key = next;
		if (!bpf_map_lookup_elem(m->ct, &key, &val) && handable(&key, &val, now) &&
		    !add_flow(sk, &key, &val, now))
			handed++;
	}
	nl_socket_free(sk);
	return handed;
}

struct nl_sock *vnat_ctnl__open(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_NETFILTER)) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/* libnl's errors (NLE_*) as -errno, for the callers' strerror(). */
static int nl_errno(int err)
{
	switch (-err) {
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_PERM:
		return -EPERM;
	default:
		return -EIO;
	}
}

int vnat_ctnl__set_liberal(struct nl_sock *sk, const struct vnat_liberal_req *r, bool on)
{
	/* No NLM_F_CREATE: an update of the existing entry, or ENOENT. */
	struct nl_msg *msg =
		nlmsg_alloc_simple((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW, NLM_F_ACK);
	int err;

	if (!msg)
		return -ENOMEM;
	err = start_msg(msg);
	if (!err)
		err = put_tuple(msg, CTA_TUPLE_ORIG, r->saddr, r->daddr, r->sport, r->dport,
				r->proto);
	if (!err)
		err = put_tcp_protoinfo(msg, false, on);
	if (!err)
		err = nl_send_auto(sk, msg) < 0 ? -EIO : 0;
	nlmsg_free(msg);
	if (!err)
		err = nl_wait_for_ack(sk);
	return err < 0 ? nl_errno(err) : 0;
}

static bool tcp_flag_liberal(struct nlattr *a)
{
	struct nf_ct_tcp_flags f;

	if (!a || nla_len(a) < (int)sizeof(f))
		return false;
	memcpy(&f, nla_data(a), sizeof(f));
	return f.flags & IP_CT_TCP_FLAG_BE_LIBERAL;
}

static int stop_at_ack(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_STOP;
}

/* CTA_PROTOINFO of a ctnetlink answer: *arg = 1 when liberal both ways. */
static int read_liberal(struct nl_msg *msg, void *arg)
{
	struct nlattr *ct[CTA_MAX + 1], *pi[CTA_PROTOINFO_MAX + 1];
	struct nlattr *tcp[CTA_PROTOINFO_TCP_MAX + 1];
	int *liberal = arg;

	if (nlmsg_parse(nlmsg_hdr(msg), sizeof(struct nfgenmsg), ct, CTA_MAX, NULL) ||
	    !ct[CTA_PROTOINFO] ||
	    nla_parse_nested(pi, CTA_PROTOINFO_MAX, ct[CTA_PROTOINFO], NULL) ||
	    !pi[CTA_PROTOINFO_TCP] ||
	    nla_parse_nested(tcp, CTA_PROTOINFO_TCP_MAX, pi[CTA_PROTOINFO_TCP], NULL))
		return NL_OK;
	*liberal = tcp_flag_liberal(tcp[CTA_PROTOINFO_TCP_FLAGS_ORIGINAL]) &&
		   tcp_flag_liberal(tcp[CTA_PROTOINFO_TCP_FLAGS_REPLY]);
	return NL_OK;
}

int vnat_ctnl__is_liberal(struct nl_sock *sk, const struct vnat_liberal_req *r)
{
	struct nl_msg *msg =
		nlmsg_alloc_simple((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET, 0);
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err, liberal = 0;

	err = msg && cb ? start_msg(msg) : -ENOMEM;
	if (!err)
		err = put_tuple(msg, CTA_TUPLE_ORIG, r->saddr, r->daddr, r->sport, r->dport,
				r->proto);
	if (!err)
		err = nl_send_auto(sk, msg) < 0 ? -EIO : 0;
	if (!err) {
		/*
		 * The entry comes flagged NLM_F_MULTI without an NLMSG_DONE:
		 * the ACK libnl asks for ends the answer (or an error does).
		 */
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, read_liberal, &liberal);
		nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, stop_at_ack, NULL);
		err = nl_recvmsgs(sk, cb);
		err = err < 0 ? nl_errno(err) : 0;
	}
	nlmsg_free(msg);
	nl_cb_put(cb);
	return err ? err : liberal;
}
