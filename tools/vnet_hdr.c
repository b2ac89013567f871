// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Reading the virtio-net header of tap frames (see vnet_hdr.h). The checks
 * follow the virtio specification's rules for a driver's transmit header
 * (5.1.6.2): a GSO frame also needs a partial checksum and a segment size,
 * and the checksum field lies inside the frame.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_net.h>
#include "vnet_hdr.h"

_Static_assert(sizeof(struct virtio_net_hdr_v1) == VNET_HDR_LEN, "virtio_net_hdr_v1 is 12 bytes");

static bool vnet_gso_type_known(uint8_t type)
{
	return type == VIRTIO_NET_HDR_GSO_TCPV4 || type == VIRTIO_NET_HDR_GSO_TCPV6 ||
	       type == VIRTIO_NET_HDR_GSO_UDP;
}

static void vnet_frame_fill(const struct virtio_net_hdr_v1 *h, size_t len, struct vnet_frame *f)
{
	f->needs_csum = h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	f->gso_type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	f->gso = f->gso_type != VIRTIO_NET_HDR_GSO_NONE;
	/* __virtio16 is little-endian with TUNSETVNETLE (virtio 1.0). */
	f->hdr_len = le16toh(h->hdr_len);
	f->gso_size = le16toh(h->gso_size);
	f->csum_start = le16toh(h->csum_start);
	f->csum_offset = le16toh(h->csum_offset);
	f->frame_len = len - VNET_HDR_LEN;
}

int vnet_frame_parse(const void *buf, size_t len, struct vnet_frame *f)
{
	struct virtio_net_hdr_v1 h;

	memset(f, 0, sizeof(*f));
	if (len < VNET_HDR_LEN + VNET_ETH_HLEN) {
		f->frame_len = len > VNET_HDR_LEN ? len - VNET_HDR_LEN : 0;
		return -EINVAL;
	}
	memcpy(&h, buf, sizeof(h));
	vnet_frame_fill(&h, len, f);
	if (f->needs_csum &&
	    (size_t)f->csum_start + f->csum_offset + sizeof(uint16_t) > f->frame_len)
		return -EPROTO;
	if (f->gso && (!vnet_gso_type_known(f->gso_type) || !f->needs_csum || !f->gso_size))
		return -EPROTO;
	return 0;
}

void vnet_stats_count(struct vnet_dir_stats *s, const struct vnet_frame *f, int parse_rc)
{
	s->frames++;
	s->bytes += f->frame_len;
	if (f->frame_len > s->max_frame)
		s->max_frame = f->frame_len;
	if (parse_rc) {
		s->bad++;
		return;
	}
	s->gso += f->gso;
	s->needs_csum += f->needs_csum;
}

int vnet_stats_format(char *buf, size_t len, const char *name, const struct vnet_dir_stats *s)
{
	return snprintf(buf, len,
			"%s frames=%" PRIu64 " bytes=%" PRIu64 " gso=%" PRIu64
			" needs_csum=%" PRIu64 " bad=%" PRIu64 " write_errors=%" PRIu64
			" dropped_down=%" PRIu64 " max_frame=%" PRIu64 "\n",
			name, s->frames, s->bytes, s->gso, s->needs_csum, s->bad, s->write_errors,
			s->dropped_down, s->max_frame);
}
