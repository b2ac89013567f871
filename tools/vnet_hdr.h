/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * vnet_hdr.h - what the virtio-net header in front of a tap frame says about
 * it (struct virtio_net_hdr_v1, 12 bytes, little-endian: a tap opened with
 * IFF_VNET_HDR, TUNSETVNETHDRSZ 12 and TUNSETVNETLE, as qemu and vhost-net
 * use it for a virtio 1.0 guest), and the per-direction counts vnet-relay
 * keeps so a test can tell that partial checksums and GSO were in play.
 */
#ifndef VNET_HDR_H
#define VNET_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VNET_HDR_LEN 12
#define VNET_ETH_HLEN 14

/* One frame as read from a tap: the header's fields in host byte order. */
struct vnet_frame {
	bool needs_csum; /* VIRTIO_NET_HDR_F_NEEDS_CSUM: only the pseudo-header sum is filled in */
	bool gso; /* a TSO/GSO super-frame the receiver segments */
	uint8_t gso_type; /* VIRTIO_NET_HDR_GSO_* without the ECN bit */
	uint16_t gso_size; /* payload bytes per segment */
	uint16_t hdr_len;
	uint16_t csum_start; /* from the start of the Ethernet frame */
	uint16_t csum_offset; /* of the checksum field, from csum_start */
	size_t frame_len; /* the Ethernet frame behind the header */
};

struct vnet_dir_stats {
	uint64_t frames;
	uint64_t bytes; /* Ethernet frame bytes, headers excluded */
	uint64_t gso;
	uint64_t needs_csum;
	uint64_t bad; /* a header the kernel should never have written */
	uint64_t write_errors; /* the other tap refused the frame */
	uint64_t dropped_down; /* ... because its link was down (EIO) */
	uint64_t max_frame;
};

/*
 * Parses the header of the LEN bytes at BUF (header + frame). 0 when it is
 * consistent; -EINVAL when BUF is shorter than a header and an Ethernet
 * header; -EPROTO when the header contradicts itself or the frame (checksum
 * field outside the frame, GSO without a partial checksum or segment size,
 * an unknown GSO type). F is filled in as far as the header was read.
 */
int vnet_frame_parse(const void *buf, size_t len, struct vnet_frame *f);

/* Counts one relayed frame; PARSE_RC is vnet_frame_parse()'s answer. */
void vnet_stats_count(struct vnet_dir_stats *s, const struct vnet_frame *f, int parse_rc);

/*
 * One line "NAME frames=N bytes=N gso=N needs_csum=N bad=N write_errors=N
 * dropped_down=N max_frame=N\n" into BUF; returns what snprintf returns.
 */
int vnet_stats_format(char *buf, size_t len, const char *name, const struct vnet_dir_stats *s);

#endif /* VNET_HDR_H */
