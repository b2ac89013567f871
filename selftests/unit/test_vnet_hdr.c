// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The virtio-net header reader of tools/vnet-relay (tools/vnet_hdr.c): the
 * headers a tap writes for a TSO segment, a partial checksum and a plain
 * frame are read as such, inconsistent ones are counted as bad, and the
 * stats line a test greps for has its fixed form.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <linux/virtio_net.h>
#include "vnet_hdr.h"

/* A frame as a tap hands it over: header, then LEN - 12 bytes of frame. */
static unsigned char frame[VNET_HDR_LEN + 1514];

static size_t put_hdr(uint8_t flags, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size,
		      uint16_t csum_start, uint16_t csum_offset, size_t frame_len)
{
	unsigned char *h = frame;

	memset(frame, 0, sizeof(frame));
	/* Little-endian, byte by byte: the test must not share the reader's le16toh. */
	h[0] = flags;
	h[1] = gso_type;
	h[2] = hdr_len & 0xff;
	h[3] = hdr_len >> 8;
	h[4] = gso_size & 0xff;
	h[5] = gso_size >> 8;
	h[6] = csum_start & 0xff;
	h[7] = csum_start >> 8;
	h[8] = csum_offset & 0xff;
	h[9] = csum_offset >> 8;
	return VNET_HDR_LEN + frame_len;
}

/* TCP over IPv4 without options: checksum at 14 + 20 + 16. */
#define TCP_CSUM_START 34
#define TCP_CSUM_OFFSET 16
#define UDP_CSUM_OFFSET 6

static void test_tso_segment(void **state)
{
	struct vnet_frame f;
	size_t len;

	(void)state;
	len = put_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM,
		      VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 66, 1448, TCP_CSUM_START,
		      TCP_CSUM_OFFSET, 1514);
	assert_int_equal(vnet_frame_parse(frame, len, &f), 0);
	assert_true(f.gso);
	assert_true(f.needs_csum);
	assert_int_equal(f.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(f.gso_size, 1448);
	assert_int_equal(f.hdr_len, 66);
	assert_int_equal(f.csum_start, TCP_CSUM_START);
	assert_int_equal(f.csum_offset, TCP_CSUM_OFFSET);
	assert_int_equal(f.frame_len, 1514);
}

/* The bytes are little-endian whatever the host's order: 0x05dc = 1500. */
static void test_fields_little_endian(void **state)
{
	struct vnet_frame f;
	size_t len;

	(void)state;
	len = put_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 0x0102, 0x05dc, 0x36,
		      0x10, 1514);
	assert_int_equal(frame[4], 0xdc);
	assert_int_equal(vnet_frame_parse(frame, len, &f), 0);
	assert_int_equal(f.gso_size, 1500);
	assert_int_equal(f.hdr_len, 0x0102);
	assert_int_equal(f.csum_start, 0x36);
}

static void test_partial_checksum_only(void **state)
{
	struct vnet_frame f;
	size_t len;

	(void)state;
	len = put_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_NONE, 0, 0, TCP_CSUM_START,
		      UDP_CSUM_OFFSET, 60);
	assert_int_equal(vnet_frame_parse(frame, len, &f), 0);
	assert_true(f.needs_csum);
	assert_false(f.gso);
}

static void test_plain_frame(void **state)
{
	struct vnet_frame f;
	size_t len;

	(void)state;
	/* DATA_VALID alone is neither a partial checksum nor GSO. */
	len = put_hdr(VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_GSO_NONE, 0, 0, 0, 0, 42);
	assert_int_equal(vnet_frame_parse(frame, len, &f), 0);
	assert_false(f.needs_csum);
	assert_false(f.gso);
	assert_int_equal(f.frame_len, 42);
}

static void test_too_short(void **state)
{
	struct vnet_frame f;

	(void)state;
	put_hdr(0, 0, 0, 0, 0, 0, 0);
	assert_int_equal(vnet_frame_parse(frame, 0, &f), -EINVAL);
	assert_int_equal(f.frame_len, 0);
	assert_int_equal(vnet_frame_parse(frame, VNET_HDR_LEN + VNET_ETH_HLEN - 1, &f), -EINVAL);
	assert_int_equal(f.frame_len, VNET_ETH_HLEN - 1);
	assert_int_equal(vnet_frame_parse(frame, VNET_HDR_LEN + VNET_ETH_HLEN, &f), 0);
}

static void test_inconsistent(void **state)
{
	struct vnet_frame f;
	size_t len;

	(void)state;
	/* The checksum field would end one byte past the frame. */
	len = put_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 50, 9, 60);
	assert_int_equal(vnet_frame_parse(frame, len, &f), -EPROTO);
	len = put_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 50, 8, 60);
	assert_int_equal(vnet_frame_parse(frame, len, &f), 0);
	/* GSO needs a partial checksum, a segment size and a known type. */
	len = put_hdr(0, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 0, 0, 1514);
	assert_int_equal(vnet_frame_parse(frame, len, &f), -EPROTO);
	len = put_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 0, TCP_CSUM_START,
		      TCP_CSUM_OFFSET, 1514);
	assert_int_equal(vnet_frame_parse(frame, len, &f), -EPROTO);
	len = put_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 2, 66, 1448, TCP_CSUM_START, TCP_CSUM_OFFSET,
		      1514);
	assert_int_equal(vnet_frame_parse(frame, len, &f), -EPROTO);
}

static void test_stats_count(void **state)
{
	struct vnet_dir_stats s;
	struct vnet_frame f;
	size_t len;
	int rc;

	(void)state;
	memset(&s, 0, sizeof(s));
	len = put_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448,
		      TCP_CSUM_START, TCP_CSUM_OFFSET, 1514);
	rc = vnet_frame_parse(frame, len, &f);
	vnet_stats_count(&s, &f, rc);
	len = put_hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, TCP_CSUM_START, TCP_CSUM_OFFSET, 66);
	rc = vnet_frame_parse(frame, len, &f);
	vnet_stats_count(&s, &f, rc);
	len = put_hdr(0, 0, 0, 0, 0, 0, 98);
	rc = vnet_frame_parse(frame, len, &f);
	vnet_stats_count(&s, &f, rc);
	/* A bad header counts as a frame and as bad, never as GSO or partial. */
	len = put_hdr(0, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448, 0, 0, 1514);
	rc = vnet_frame_parse(frame, len, &f);
	vnet_stats_count(&s, &f, rc);

	assert_int_equal(s.frames, 4);
	assert_int_equal(s.bytes, 1514 + 66 + 98 + 1514);
	assert_int_equal(s.gso, 1);
	assert_int_equal(s.needs_csum, 2);
	assert_int_equal(s.bad, 1);
	assert_int_equal(s.max_frame, 1514);
}

static void test_stats_format(void **state)
{
	struct vnet_dir_stats s = { .frames = 10,
				    .bytes = 12345,
				    .gso = 3,
				    .needs_csum = 7,
				    .bad = 0,
				    .write_errors = 1,
				    .dropped_down = 2,
				    .max_frame = 65226 };
	char line[256];

	(void)state;
	vnet_stats_format(line, sizeof(line), "guest_to_host", &s);
	assert_string_equal(line, "guest_to_host frames=10 bytes=12345 gso=3 needs_csum=7 bad=0 "
				  "write_errors=1 dropped_down=2 max_frame=65226\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tso_segment),
		cmocka_unit_test(test_fields_little_endian),
		cmocka_unit_test(test_partial_checksum_only),
		cmocka_unit_test(test_plain_frame),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_inconsistent),
		cmocka_unit_test(test_stats_count),
		cmocka_unit_test(test_stats_format),
	};

	return cmocka_run_group_tests_name("vnet_hdr", tests, NULL, NULL);
}
