// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* rtnetlink dumps through libnl: links, bridge ports and FDB entries. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include "log.h"
#include "peer.h"
#include "topo.h"

const struct vnat_link *vnat_topo__link(const struct vnat_topo *t, uint32_t ifindex)
{
	for (int i = 0; i < t->n_links; i++)
		if (t->links[i].ifindex == ifindex)
			return &t->links[i];
	return NULL;
}

const struct vnat_link *vnat_topo__link_by_name(const struct vnat_topo *t, const char *name)
{
	for (int i = 0; i < t->n_links; i++)
		if (!strcmp(t->links[i].name, name))
			return &t->links[i];
	return NULL;
}

bool vnat_link__is_bridge(const struct vnat_link *l)
{
	return !strcmp(l->kind, "bridge");
}

bool vnat_link__is_tap(const struct vnat_link *l)
{
	return !strcmp(l->kind, "tun");
}

bool vnat_link__is_veth(const struct vnat_link *l)
{
	return !strcmp(l->kind, "veth");
}

uint32_t vnat_link__hook_flags(const struct vnat_link *l, uint32_t hook)
{
	uint32_t f = hook & (VNAT_IFACE_HOOK_TC | VNAT_IFACE_HOOK_AUTO | VNAT_IFACE_HOOK_XDP);
	bool endpoint = vnat_link__is_tap(l) || vnat_link__is_veth(l);

	/* A tap queues XDP frames to its reader (qemu) whole. */
	if (vnat_link__is_tap(l))
		f |= VNAT_IFACE_XDP_TX;
	if (hook & VNAT_IFACE_HOOK_TC)
		return f | VNAT_IFACE_NO_XDP;
	/*
	 * auto: a veth's or a tap's frames carry partial checksums (tx offload
	 * of a container, virtio's NEEDS_CSUM) that XDP cannot see, and XDP on
	 * a veth takes TSO/GSO from its peer (veth_fix_features): tc there.
	 * xdp: taps are refused before this and veths checked (peer.c).
	 */
	if (endpoint && !(hook & VNAT_IFACE_HOOK_XDP))
		return f | VNAT_IFACE_NO_XDP;
	/* A NIC's driver that runs XDP takes XDP frames (cleared if only generic). */
	if (!endpoint)
		f |= VNAT_IFACE_XDP_TX;
	return f;
}

int vnat_link__check_hook(const struct vnat_link *l, uint32_t hook, const char *cmd,
			  uint32_t *flags)
{
	bool xdp_tx = false;

	if ((hook & VNAT_IFACE_HOOK_XDP) && vnat_link__is_tap(l)) {
		vnat_err("%s: --hook xdp on tap %s: a virtio guest sends partial checksums and "
			 "GSO frames that XDP cannot handle; use --hook auto (tc on taps)",
			 cmd, l->name);
		return -EINVAL;
	}
	if ((hook & VNAT_IFACE_HOOK_XDP) && vnat_link__is_veth(l)) {
		if (vnat_peer__check_xdp(cmd, l->name, l->ifindex, &xdp_tx))
			return -EINVAL;
	}
	*flags |= vnat_link__hook_flags(l, hook) | (xdp_tx ? VNAT_IFACE_XDP_TX : 0);
	return 0;
}

bool vnat_fdb__mirrorable(const struct vnat_fdb_entry *e)
{
	/* "permanent" entries are the bridge's and ports' own addresses: the host. */
	if (e->state & NUD_PERMANENT)
		return false;
	/* NTF_SELF entries live in a port's hardware table, not the bridge's. */
	if ((e->flags & NTF_SELF) && !(e->flags & NTF_MASTER))
		return false;
	return e->bridge && !(e->mac[0] & 1) && !e->vlan;
}

static struct vnat_link *link_slot(struct vnat_topo *t, uint32_t ifindex)
{
	for (int i = 0; i < t->n_links; i++)
		if (t->links[i].ifindex == ifindex)
			return &t->links[i];
	if (t->n_links == VNAT_MAX_LINKS)
		return NULL;
	memset(&t->links[t->n_links], 0, sizeof(t->links[0]));
	t->links[t->n_links].ifindex = ifindex;
	return &t->links[t->n_links++];
}

static void link_kind(struct nlattr *linkinfo, char *kind, size_t len)
{
	struct nlattr *li[IFLA_INFO_MAX + 1];

	if (linkinfo && !nla_parse_nested(li, IFLA_INFO_MAX, linkinfo, NULL) && li[IFLA_INFO_KIND])
		snprintf(kind, len, "%s", nla_get_string(li[IFLA_INFO_KIND]));
}

/* AF_UNSPEC links: names, kinds, masters, addresses. */
static int on_link(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct ifinfomsg *ifi = nlmsg_data(h);
	struct nlattr *tb[IFLA_MAX + 1];
	struct vnat_link *l;

	if (nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL))
		return NL_SKIP;
	l = link_slot(arg, ifi->ifi_index);
	if (!l)
		return NL_SKIP;
	if (tb[IFLA_IFNAME])
		snprintf(l->name, sizeof(l->name), "%s", nla_get_string(tb[IFLA_IFNAME]));
	if (tb[IFLA_MASTER])
		l->master = nla_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_ADDRESS] && nla_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, nla_data(tb[IFLA_ADDRESS]), 6);
	link_kind(tb[IFLA_LINKINFO], l->kind, sizeof(l->kind));
	return NL_OK;
}

/* AF_BRIDGE links: port state and flags (IFLA_PROTINFO, nested). */
static int on_bridge_port(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct ifinfomsg *ifi = nlmsg_data(h);
	struct nlattr *tb[IFLA_MAX + 1], *pi[IFLA_BRPORT_MAX + 1];
	struct vnat_link *l;

	if (nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) || !tb[IFLA_MASTER])
		return NL_SKIP;
	/* The bridge itself is reported too, as its own master. */
	if (nla_get_u32(tb[IFLA_MASTER]) == (uint32_t)ifi->ifi_index)
		return NL_SKIP;
	l = link_slot(arg, ifi->ifi_index);
	if (!l)
		return NL_SKIP;
	l->is_port = true;
	l->master = nla_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_PROTINFO] && !nla_parse_nested(pi, IFLA_BRPORT_MAX, tb[IFLA_PROTINFO], NULL)) {
		if (pi[IFLA_BRPORT_STATE])
			l->port_state = nla_get_u8(pi[IFLA_BRPORT_STATE]);
		if (pi[IFLA_BRPORT_ISOLATED])
			l->isolated = nla_get_u8(pi[IFLA_BRPORT_ISOLATED]);
		if (pi[IFLA_BRPORT_MODE])
			l->reflect = nla_get_u8(pi[IFLA_BRPORT_MODE]);
	}
	return NL_OK;
}

static int on_fdb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct ndmsg *nd = nlmsg_data(h);
	struct nlattr *tb[NDA_MAX + 1];
	struct vnat_topo *t = arg;
	struct vnat_fdb_entry *e;

	if (nd->ndm_family != AF_BRIDGE || nlmsg_parse(h, sizeof(*nd), tb, NDA_MAX, NULL) ||
	    !tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != 6 || t->n_fdb == VNAT_MAX_FDB_DUMP)
		return NL_SKIP;
	e = &t->fdb[t->n_fdb++];
	memset(e, 0, sizeof(*e));
	e->port = nd->ndm_ifindex;
	e->state = nd->ndm_state;
	e->flags = nd->ndm_flags;
	memcpy(e->mac, nla_data(tb[NDA_LLADDR]), 6);
	if (tb[NDA_MASTER])
		e->bridge = nla_get_u32(tb[NDA_MASTER]);
	if (tb[NDA_VLAN])
		e->vlan = nla_get_u16(tb[NDA_VLAN]);
	return NL_OK;
}

/* The IPv4 default route of the main table: where --masquerade leaves. */
static int on_route(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct rtmsg *rt = nlmsg_data(h);
	struct nlattr *tb[RTA_MAX + 1];
	struct vnat_topo *t = arg;
	uint32_t table;

	if (rt->rtm_family != AF_INET || rt->rtm_dst_len || t->default_oif ||
	    nlmsg_parse(h, sizeof(*rt), tb, RTA_MAX, NULL) || !tb[RTA_OIF])
		return NL_SKIP;
	table = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rt->rtm_table;
	if (table == RT_TABLE_MAIN && rt->rtm_type == RTN_UNICAST)
		t->default_oif = nla_get_u32(tb[RTA_OIF]);
	return NL_OK;
}

static int dump(struct nl_sock *sk, int type, void *hdr, size_t hdrlen, nl_recvmsg_msg_cb_t cb,
		void *arg)
{
	int err;

	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, arg);
	err = nl_send_simple(sk, type, NLM_F_DUMP, hdr, hdrlen);
	if (err < 0)
		return err;
	return nl_recvmsgs_default(sk);
}

int vnat_topo__dump(struct vnat_topo *t)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct ndmsg nd = { .ndm_family = AF_BRIDGE };
	struct rtmsg rt = { .rtm_family = AF_INET };
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	t->n_links = 0;
	t->n_fdb = 0;
	t->default_oif = 0;
	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (!err)
		err = dump(sk, RTM_GETLINK, &ifi, sizeof(ifi), on_link, t);
	ifi.ifi_family = AF_BRIDGE;
	if (!err)
		err = dump(sk, RTM_GETLINK, &ifi, sizeof(ifi), on_bridge_port, t);
	if (!err)
		err = dump(sk, RTM_GETNEIGH, &nd, sizeof(nd), on_fdb, t);
	if (!err)
		err = dump(sk, RTM_GETROUTE, &rt, sizeof(rt), on_route, t);
	nl_socket_free(sk);
	if (err < 0) {
		vnat_err("topology: rtnetlink dump failed: %s", nl_geterror(err));
		return -EIO;
	}
	return 0;
}
