// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vnat-bench: the benchmark's own traffic tools, driven by tools/bench/bench.py.
 *
 *   gen      paced UDP generator: BPF_PROG_TEST_RUN with live frames on a
 *            veth, one long call, flows varied by address and port
 *   sink     attach / read / detach the counting XDP sink
 *   fwd      attach the ceiling forwarder (bare XDP redirect) to two veths
 *   cost     BPF_PROG_TEST_RUN with repeat on the XDP program attached to an
 *            interface: ns per packet for one flow, each way, no bpf_stats
 *   tcp-server, tcp-client   request/response and connect/request/response
 *            transactions (tcprr.c)
 *
 * Every command works on the network namespace it runs in; results are one
 * JSON object on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "tcprr.h"
#include "vnat_bench.skel.h"

#define NSEC_PER_SEC 1000000000ULL

int vb_err(const char *fmt, ...)
{
	va_list ap;

	fputs("vnat-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || !getenv("VB_VERBOSE"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int parse_mac(const char *s, __u8 mac[6])
{
	unsigned int b[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return vb_err("'%s': not a MAC address (aa:bb:cc:dd:ee:ff)", s);
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}

static int iface_mac(const char *ifname, __u8 mac[6])
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return vb_err("socket: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = vb_err("%s: cannot read the MAC address: %s", ifname, strerror(errno));
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

static int iface_index(const char *ifname, __u32 *ifindex)
{
	*ifindex = if_nametoindex(ifname);
	if (!*ifindex)
		return vb_err("%s: no such interface in this network namespace", ifname);
	return 0;
}

/* "ADDR" or "ADDR+N": N consecutive addresses from ADDR (host order out). */
static int parse_addr_range(const char *s, __u32 *addr, __u32 *n)
{
	char buf[64], *plus;
	struct in_addr a;

	snprintf(buf, sizeof(buf), "%s", s);
	plus = strchr(buf, '+');
	*n = 1;
	if (plus) {
		*plus = '\0';
		*n = strtoul(plus + 1, NULL, 10);
	}
	if (inet_pton(AF_INET, buf, &a) != 1 || !*n)
		return vb_err("'%s': not ADDR or ADDR+N", s);
	*addr = ntohl(a.s_addr);
	return 0;
}

static int parse_port_range(const char *s, __u16 *port, __u32 *n)
{
	char *endp;
	unsigned long p = strtoul(s, &endp, 10), c = 1;

	if (*endp == '+')
		c = strtoul(endp + 1, &endp, 10);
	if (*endp || !p || !c || p + c - 1 > 65535)
		return vb_err("'%s': not PORT or PORT+N within 1-65535", s);
	*port = p;
	*n = c;
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return vb_err("pin to CPU %d: %s", cpu, strerror(errno));
	return 0;
}

static const char gen_usage[] =
	"Usage: vnat-bench gen --iface IF --dmac MAC --src ADDR[+N] --dst ADDR[+N]\n"
	"                      --sport PORT[+N] --dport PORT[+N] [--smac MAC] [--len BYTES]\n"
	"                      [--flows N] [--flow-base N] [--rate PPS] (--count N | --duration S)\n"
	"                      [--batch N] [--ttl N] [--cpu N] [--slack FRAMES]\n"
	"Send UDP frames out of IF (to its peer) with BPF_PROG_TEST_RUN live frames.\n"
	"--len is the frame without FCS (60 for 64-byte frames, 1514 for 1518).\n"
	"--flows 0 makes every frame a new flow. --rate 0 sends unpaced. A generator\n"
	"that fell behind catches up by at most --slack frames (default 128).\n";

static int cmd_gen(int argc, char **argv)
{
	static const struct option opts[] = { { "iface", required_argument, NULL, 'i' },
					      { "dmac", required_argument, NULL, 'd' },
					      { "smac", required_argument, NULL, 'm' },
					      { "src", required_argument, NULL, 's' },
					      { "dst", required_argument, NULL, 't' },
					      { "sport", required_argument, NULL, 'S' },
					      { "dport", required_argument, NULL, 'D' },
					      { "len", required_argument, NULL, 'l' },
					      { "flows", required_argument, NULL, 'f' },
					      { "flow-base", required_argument, NULL, 'b' },
					      { "rate", required_argument, NULL, 'r' },
					      { "count", required_argument, NULL, 'c' },
					      { "duration", required_argument, NULL, 'T' },
					      { "batch", required_argument, NULL, 'B' },
					      { "ttl", required_argument, NULL, 'L' },
					      { "cpu", required_argument, NULL, 'C' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct vb_gen_cfg cfg = { .pkt_len = 60, .ttl = 64, .flows = 1 };
	double slack_frames = 128;
	const char *ifname = NULL;
	double rate = 0, duration = 0;
	unsigned long long count = 0;
	unsigned int batch = 0;
	int have_dmac = 0, have_smac = 0, have = 0, cpu = -1, c, err, fd;
	struct vnat_bench *skel = NULL;
	static __u8 frame[VB_MAX_LEN];
	struct xdp_md xctx = {};
	__u64 t0, t1, elapsed;
	__u32 ifindex, magic = VB_MAGIC;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'd':
			if (parse_mac(optarg, cfg.dmac))
				return 1;
			have_dmac = 1;
			break;
		case 'm':
			if (parse_mac(optarg, cfg.smac))
				return 1;
			have_smac = 1;
			break;
		case 's':
			if (parse_addr_range(optarg, &cfg.saddr, &cfg.n_saddr))
				return 1;
			have |= 1;
			break;
		case 't':
			if (parse_addr_range(optarg, &cfg.daddr, &cfg.n_daddr))
				return 1;
			have |= 2;
			break;
		case 'S':
			if (parse_port_range(optarg, &cfg.sport, &cfg.n_sport))
				return 1;
			have |= 4;
			break;
		case 'D':
			if (parse_port_range(optarg, &cfg.dport, &cfg.n_dport))
				return 1;
			have |= 8;
			break;
		case 'l':
			cfg.pkt_len = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			cfg.flows = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			cfg.flow_base = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			rate = strtod(optarg, NULL);
			break;
		case 'c':
			count = strtoull(optarg, NULL, 10);
			break;
		case 'T':
			duration = strtod(optarg, NULL);
			break;
		case 'B':
			batch = strtoul(optarg, NULL, 10);
			break;
		case 'L':
			cfg.ttl = strtoul(optarg, NULL, 10);
			break;
		case 'C':
			cpu = atoi(optarg);
			break;
		case 'K':
			slack_frames = strtod(optarg, NULL);
			break;
		case 'h':
			fputs(gen_usage, stdout);
			return 0;
		default:
			fputs(gen_usage, stderr);
			return 1;
		}
	}
	if (!ifname || !have_dmac || have != 15) {
		fputs(gen_usage, stderr);
		return 1;
	}
	if (cfg.pkt_len < VB_MIN_LEN || cfg.pkt_len > VB_MAX_LEN)
		return vb_err("--len %u: between %d and %d", cfg.pkt_len, VB_MIN_LEN, VB_MAX_LEN);
	if (rate < 0 || (!count && (duration <= 0 || rate <= 0)))
		return vb_err("give --count N, or --rate PPS with --duration S");
	if (!count)
		count = (unsigned long long)(rate * duration + 0.5);
	if (!count || count > 0x7fffffff)
		return vb_err("%llu frames: between 1 and 2^31-1", count);
	if (rate > 0) {
		cfg.interval_fp = (__u64)(65536.0 * NSEC_PER_SEC / rate);
		/*
		 * A late generator may catch up by at most slack_frames frames
		 * at once (half the receiving veth's 256-slot ring by default),
		 * and never by more than 1 ms.
		 */
		cfg.slack_ns = (__u64)(slack_frames * NSEC_PER_SEC / rate);
		if (cfg.slack_ns > 1000000)
			cfg.slack_ns = 1000000;
	}
	/*
	 * A batch runs with bottom halves off: nothing else gets this CPU
	 * until it ends (the sink's NAPI thread shares it). Keep a batch
	 * within ~50 us of pacing; 64 frames, the kernel's default, at most.
	 */
	if (!batch) {
		batch = rate > 0 ? (unsigned int)(rate * 50e-6) : 64;
		batch = batch < 1 ? 1 : batch > 64 ? 64 : batch;
	}
	if (iface_index(ifname, &ifindex) || (!have_smac && iface_mac(ifname, cfg.smac)) ||
	    pin_cpu(cpu))
		return 1;

	/* The template: only the payload matters, the program writes the headers. */
	memset(frame, 0, sizeof(frame));
	memcpy(frame + VB_HDR_LEN, &magic, sizeof(magic));
	for (unsigned int i = VB_HDR_LEN; i < cfg.pkt_len; i += 2) {
		__u16 word = frame[i];

		if (i + 1 < cfg.pkt_len)
			memcpy(&word, frame + i, 2);
		cfg.payload_sum += word;
	}

	skel = vnat_bench__open();
	if (!skel)
		return vb_err("open the BPF object: %s", strerror(errno));
	skel->rodata->gen_cfg = cfg;
	bpf_program__set_autoload(skel->progs.xdp_bench_sink, false);
	bpf_program__set_autoload(skel->progs.xdp_bench_fwd, false);
	err = vnat_bench__load(skel);
	if (err) {
		vb_err("load the generator: %s (VB_VERBOSE=1 shows the verifier log)",
		       strerror(-err));
		goto out;
	}
	fd = bpf_program__fd(skel->progs.xdp_bench_gen);

	/* The kernel wants data_end to match the frame (no metadata in front). */
	xctx.data_end = cfg.pkt_len;
	xctx.ingress_ifindex = ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = cfg.pkt_len,
		    .ctx_in = &xctx, .ctx_size_in = sizeof(xctx), .repeat = (int)count,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);
	t0 = now_ns();
	err = bpf_prog_test_run_opts(fd, &o);
	t1 = now_ns();
	if (err) {
		err = -errno;
		vb_err("run the generator on %s: %s%s", ifname, strerror(-err),
		       err == -EINTR ? " (interrupted)" : "");
		goto out;
	}
	elapsed = skel->bss->gen_state.last_ns - skel->bss->gen_state.start_ns;
	printf("{\"sent\":%llu,\"elapsed_ns\":%llu,\"wall_ns\":%llu,\"target_pps\":%.0f,"
	       "\"rate_pps\":%.0f,\"rebased\":%llu,\"lag_max_ns\":%llu,\"len\":%u}\n",
	       (unsigned long long)skel->bss->gen_state.sent, (unsigned long long)elapsed,
	       (unsigned long long)(t1 - t0), rate,
	       elapsed ? (skel->bss->gen_state.sent - 1) * 1e9 / elapsed : 0.0,
	       (unsigned long long)skel->bss->gen_state.rebased,
	       (unsigned long long)skel->bss->gen_state.lag_max_ns, cfg.pkt_len);
out:
	vnat_bench__destroy(skel);
	return err ? 1 : 0;
}

static int xdp_attach(const char *ifname, int prog_fd)
{
	__u32 ifindex;
	int err;

	if (iface_index(ifname, &ifindex))
		return 1;
	err = bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL);
	if (err)
		return vb_err("attach XDP (native) to %s: %s", ifname, strerror(-err));
	return 0;
}

/* The sink's counter map, found from the program attached to the interface. */
static int sink_map_fd(const char *ifname)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), ifindex, prog_id = 0, map_ids[8];
	int prog_fd, fd = -1;

	if (iface_index(ifname, &ifindex))
		return -1;
	if (bpf_xdp_query_id(ifindex, XDP_FLAGS_DRV_MODE, &prog_id) || !prog_id) {
		vb_err("%s: no XDP program attached", ifname);
		return -1;
	}
	prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (prog_fd < 0) {
		vb_err("%s: program %u: %s", ifname, prog_id, strerror(errno));
		return -1;
	}
	info.nr_map_ids = 8;
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		goto out;
	for (__u32 i = 0; i < info.nr_map_ids && i < 8 && fd < 0; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(map_ids[i]);

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen) && !strcmp(mi.name, "vb_sink_count"))
			fd = mfd;
		else
			close(mfd);
	}
out:
	close(prog_fd);
	if (fd < 0)
		vb_err("%s: the XDP program there is not the benchmark's sink", ifname);
	return fd;
}

static int sink_read(const char *ifname)
{
	int ncpu = libbpf_num_possible_cpus(), fd = sink_map_fd(ifname);
	struct vb_count *v, sum = {};
	__u32 key = 0;

	if (fd < 0 || ncpu <= 0)
		return 1;
	v = calloc(ncpu, sizeof(*v));
	if (!v || bpf_map_lookup_elem(fd, &key, v)) {
		free(v);
		close(fd);
		return vb_err("%s: read the sink counter: %s", ifname, strerror(errno));
	}
	for (int i = 0; i < ncpu; i++) {
		sum.packets += v[i].packets;
		sum.bytes += v[i].bytes;
	}
	printf("{\"packets\":%llu,\"bytes\":%llu}\n", (unsigned long long)sum.packets,
	       (unsigned long long)sum.bytes);
	free(v);
	close(fd);
	return 0;
}

static int cmd_sink(int argc, char **argv)
{
	struct vnat_bench *skel;
	__u32 ifindex;
	int err;

	if (argc != 3) {
		fputs("Usage: vnat-bench sink attach|read|detach IFACE\n", stderr);
		return 1;
	}
	if (!strcmp(argv[1], "read"))
		return sink_read(argv[2]);
	if (!strcmp(argv[1], "detach")) {
		if (iface_index(argv[2], &ifindex))
			return 1;
		err = bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		return err ? vb_err("detach XDP from %s: %s", argv[2], strerror(-err)) : 0;
	}
	if (strcmp(argv[1], "attach"))
		return vb_err("sink: '%s': attach, read or detach", argv[1]);
	skel = vnat_bench__open();
	if (!skel)
		return vb_err("open the BPF object: %s", strerror(errno));
	bpf_program__set_autoload(skel->progs.xdp_bench_gen, false);
	bpf_program__set_autoload(skel->progs.xdp_bench_fwd, false);
	err = vnat_bench__load(skel);
	if (err)
		vb_err("load the sink: %s", strerror(-err));
	else
		err = xdp_attach(argv[2], bpf_program__fd(skel->progs.xdp_bench_sink));
	vnat_bench__destroy(skel); /* the attachment keeps program and map */
	return err ? 1 : 0;
}

static int cmd_fwd(int argc, char **argv)
{
	struct vb_fwd_cfg cfg = {};
	struct vnat_bench *skel;
	int err = 1;

	if (argc != 5) {
		fputs("Usage: vnat-bench fwd IF0 NEXTHOP_MAC0 IF1 NEXTHOP_MAC1\n"
		      "Attach the ceiling forwarder: frames in on IF0 leave on IF1 to\n"
		      "NEXTHOP_MAC1 and the other way round.\n",
		      stderr);
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		if (iface_index(argv[1 + 2 * i], &cfg.ifindex[i]) ||
		    iface_mac(argv[1 + 2 * i], cfg.smac[i]) ||
		    parse_mac(argv[2 + 2 * i], cfg.dmac[i]))
			return 1;
	}
	skel = vnat_bench__open();
	if (!skel)
		return vb_err("open the BPF object: %s", strerror(errno));
	skel->rodata->fwd_cfg = cfg;
	bpf_program__set_autoload(skel->progs.xdp_bench_gen, false);
	bpf_program__set_autoload(skel->progs.xdp_bench_sink, false);
	err = vnat_bench__load(skel);
	if (err) {
		vb_err("load the forwarder: %s", strerror(-err));
		goto out;
	}
	for (__u32 i = 0; i < 2 && !err; i++) {
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.vb_fwd_tx), &i, &cfg.ifindex[i],
					  0);
		if (err)
			vb_err("fill vb_fwd_tx: %s", strerror(errno));
	}
	for (int i = 0; i < 2 && !err; i++)
		err = xdp_attach(argv[1 + 2 * i], bpf_program__fd(skel->progs.xdp_bench_fwd));
out:
	vnat_bench__destroy(skel);
	return err ? 1 : 0;
}

/* --- cost: the XDP program's run time per packet, by BPF_PROG_TEST_RUN -- */

static __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __u32 csum_add(__u32 sum, const void *p, size_t len)
{
	const __u8 *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	return sum;
}

/* A VB_COST_LEN-byte UDP frame with correct checksums; addresses network order. */
static void cost_frame_build(__u8 *f, const __u8 dmac[6], const __u8 smac[6], __u32 saddr,
			     __u32 daddr, __u16 sport, __u16 dport)
{
	struct iphdr *ip = (struct iphdr *)(f + 14);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	__u16 l4len = VB_COST_LEN - 14 - sizeof(*ip);
	__u32 magic = VB_MAGIC, sum;

	memset(f, 0, VB_COST_LEN);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08; /* ETH_P_IP */
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(VB_COST_LEN - 14);
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = htons(csum_fold(csum_add(0, ip, sizeof(*ip))));
	udp->source = htons(sport);
	udp->dest = htons(dport);
	udp->len = htons(l4len);
	memcpy(udp + 1, &magic, sizeof(magic));
	/* Pseudo-header: addresses, protocol, UDP length. */
	sum = csum_add(0, &ip->saddr, 8) + IPPROTO_UDP + l4len;
	sum = csum_add(sum, udp, l4len);
	udp->check = htons(csum_fold(sum) ?: 0xffff);
}

static const char *xdp_verdict(__u32 v)
{
	static const char *const names[] = { "aborted", "drop", "pass", "tx", "redirect" };

	return v < 5 ? names[v] : "?";
}

/* The program attached to the interface (any mode): what the cost is measured of. */
static int attached_prog(const char *ifname, __u32 *ifindex, char *name, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info), id = 0;
	int fd;

	if (iface_index(ifname, ifindex))
		return -1;
	if (bpf_xdp_query_id(*ifindex, 0, &id) || !id) {
		vb_err("%s: no XDP program attached", ifname);
		return -1;
	}
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		vb_err("%s: program %u: %s", ifname, id, strerror(errno));
		return -1;
	}
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	return fd;
}

/* One run of prog on frame (in on ifindex); the verdict, and the frame as it left. */
static int cost_run_once(int prog, __u32 ifindex, const __u8 *frame, __u8 *out, __u32 *verdict)
{
	struct xdp_md xctx = { .data_end = VB_COST_LEN, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = VB_COST_LEN,
		    .data_out = out, .data_size_out = VB_COST_LEN, .ctx_in = &xctx,
		    .ctx_size_in = sizeof(xctx), .repeat = 1);

	if (bpf_prog_test_run_opts(prog, &o))
		return vb_err("test run: %s", strerror(errno));
	*verdict = o.retval;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The wrapper's ns per repetition, with target in vb_cost_prog[0] and frame
 * restored before every repetition: the best of runs, the run the rest of
 * the machine disturbed least (the work itself is the same in every run).
 */
static int cost_measure(struct vnat_bench *skel, int target, __u32 ifindex, const __u8 *frame,
			int repeat, int runs, __u32 *ns, __u32 *verdict)
{
	int wrapper = bpf_program__fd(skel->progs.xdp_bench_cost);
	struct xdp_md xctx = { .data_end = VB_COST_LEN, .ingress_ifindex = ifindex };
	__u32 key = 0, d[16];

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.vb_cost_prog), &key, &target, 0))
		return vb_err("program under test into vb_cost_prog: %s", strerror(errno));
	memcpy(skel->bss->cost_frame, frame, VB_COST_LEN);
	for (int r = 0; r < runs; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = VB_COST_LEN,
			    .ctx_in = &xctx, .ctx_size_in = sizeof(xctx), .repeat = repeat);

		if (bpf_prog_test_run_opts(wrapper, &o))
			return vb_err("test run: %s", strerror(errno));
		d[r] = o.duration;
		*verdict = o.retval;
	}
	qsort(d, runs, sizeof(d[0]), cmp_u32);
	*ns = d[0];
	return 0;
}

static const char cost_usage[] =
	"Usage: vnat-bench cost --in IF --src ADDR --dst ADDR [--sport P] [--dport P]\n"
	"                       [--smac MAC] [--dmac MAC] [--out IF --rmac MAC] [--repeat N]\n"
	"                       [--runs N]\n"
	"Run the XDP program attached to IF with BPF_PROG_TEST_RUN on one 64-byte UDP\n"
	"flow ADDR:P -> ADDR:P arriving on IF from --smac to --dmac (default: IF's own\n"
	"MAC, routed; another guest's MAC on a bridge port: bridged). A first run\n"
	"creates the flow; then N repeats (default 1000000), best of --runs (default 3).\n"
	"With --out, also the reply: from the destination to the source as the first\n"
	"run sent it (translated), arriving on --out from --rmac. ns per packet, and\n"
	"less the wrapper's own (net_ns); no bpf_stats involved.\n";

static int cmd_cost(int argc, char **argv)
{
	static const struct option opts[] = { { "in", required_argument, NULL, 'i' },
					      { "out", required_argument, NULL, 'o' },
					      { "src", required_argument, NULL, 's' },
					      { "dst", required_argument, NULL, 'd' },
					      { "sport", required_argument, NULL, 'S' },
					      { "dport", required_argument, NULL, 'D' },
					      { "smac", required_argument, NULL, 'm' },
					      { "dmac", required_argument, NULL, 'M' },
					      { "rmac", required_argument, NULL, 'r' },
					      { "repeat", required_argument, NULL, 'n' },
					      { "runs", required_argument, NULL, 'R' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	const char *in_if = NULL, *out_if = NULL;
	__u8 smac[6] = { 0x02, 0, 0, 0, 0, 0x01 }, rmac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	__u8 in_mac[6], out_mac[6], frame[VB_COST_LEN], seen[VB_COST_LEN];
	__u32 saddr = 0, daddr = 0, n, in_idx, out_idx = 0, verdict, v, ns_base, ns, to;
	__u16 sport = 10000, dport = 20000;
	int c, repeat = 1000000, runs = 3, prog = -1, prog_out = -1, nop, err = 1;
	char name[BPF_OBJ_NAME_LEN] = "?", name_out[BPF_OBJ_NAME_LEN] = "?";
	struct vnat_bench *skel = NULL;
	__u8 dmac[6];
	bool have_dmac = false;
	struct iphdr *ip = (struct iphdr *)(seen + 14);
	struct udphdr *udp = (struct udphdr *)(ip + 1);

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			in_if = optarg;
			break;
		case 'o':
			out_if = optarg;
			break;
		case 's':
		case 'd':
			if (parse_addr_range(optarg, c == 's' ? &saddr : &daddr, &n))
				return 1;
			break;
		case 'S':
		case 'D':
			if (parse_port_range(optarg, c == 'S' ? &sport : &dport, &n))
				return 1;
			break;
		case 'm':
		case 'r':
			if (parse_mac(optarg, c == 'm' ? smac : rmac))
				return 1;
			break;
		case 'M':
			if (parse_mac(optarg, dmac))
				return 1;
			have_dmac = true;
			break;
		case 'n':
			repeat = atoi(optarg);
			break;
		case 'R':
			runs = atoi(optarg);
			break;
		case 'h':
			fputs(cost_usage, stdout);
			return 0;
		default:
			fputs(cost_usage, stderr);
			return 1;
		}
	}
	if (!in_if || !saddr || !daddr || repeat < 1 || runs < 1 || runs > 16) {
		fputs(cost_usage, stderr);
		return 1;
	}
	prog = attached_prog(in_if, &in_idx, name, sizeof(name));
	if (prog < 0 || iface_mac(in_if, in_mac))
		goto out;
	if (have_dmac)
		memcpy(in_mac, dmac, sizeof(in_mac)); /* e.g. a guest behind a bridge */
	if (out_if) {
		prog_out = attached_prog(out_if, &out_idx, name_out, sizeof(name_out));
		if (prog_out < 0 || iface_mac(out_if, out_mac))
			goto out;
	}
	skel = vnat_bench__open();
	if (!skel) {
		vb_err("open the BPF object: %s", strerror(errno));
		goto out;
	}
	bpf_program__set_autoload(skel->progs.xdp_bench_gen, false);
	bpf_program__set_autoload(skel->progs.xdp_bench_sink, false);
	bpf_program__set_autoload(skel->progs.xdp_bench_fwd, false);
	if (vnat_bench__load(skel)) {
		vb_err("load the cost wrapper: %s", strerror(errno));
		goto out;
	}
	nop = bpf_program__fd(skel->progs.xdp_bench_nop);

	/* The first run creates the flow (and shows how it leaves). */
	cost_frame_build(frame, in_mac, smac, htonl(saddr), htonl(daddr), sport, dport);
	if (cost_run_once(prog, in_idx, frame, seen, &v) ||
	    cost_measure(skel, nop, in_idx, frame, repeat, runs, &ns_base, &verdict) ||
	    cost_measure(skel, prog, in_idx, frame, repeat, runs, &ns, &verdict))
		goto out;
	printf("{\"repeat\":%d,\"runs\":%d,\"base_ns\":%u,\"out_prog\":\"%s\",\"out_verdict\":\"%s\","
	       "\"out_translated\":%s,\"out_ns\":%u,\"out_net_ns\":%d",
	       repeat, runs, ns_base, name, xdp_verdict(verdict),
	       ip->saddr != htonl(saddr) || ntohs(udp->source) != sport ? "true" : "false", ns,
	       (int)ns - (int)ns_base);
	if (out_if) {
		/* The reply, to the source as the first run sent it out. */
		to = ip->saddr;
		cost_frame_build(frame, out_mac, rmac, htonl(daddr), to, dport, ntohs(udp->source));
		if (cost_run_once(prog_out, out_idx, frame, seen, &v) ||
		    cost_measure(skel, prog_out, out_idx, frame, repeat, runs, &ns, &verdict))
			goto out;
		printf(",\"in_prog\":\"%s\",\"in_verdict\":\"%s\",\"in_translated\":%s,\"in_ns\":%u,"
		       "\"in_net_ns\":%d",
		       name_out, xdp_verdict(verdict), ip->daddr != to ? "true" : "false", ns,
		       (int)ns - (int)ns_base);
	}
	printf("}\n");
	err = 0;
out:
	vnat_bench__destroy(skel);
	if (prog >= 0)
		close(prog);
	if (prog_out >= 0)
		close(prog_out);
	return err;
}

static const char usage[] =
	"Usage: vnat-bench COMMAND ...\n"
	"  gen        paced UDP generator (BPF_PROG_TEST_RUN live frames)\n"
	"  sink       attach|read|detach IFACE: the counting XDP sink\n"
	"  fwd        IF0 MAC0 IF1 MAC1: the ceiling forwarder\n"
	"  cost       --in IF --src A --dst A [--out IF]: test-run ns per packet\n"
	"  tcp-server --port P [--close]: echo server for tcp-client (--close: for --crr)\n"
	"  tcp-client --addr A --port P --duration S [--conns N] [--size B] [--crr]\n"
	"  udp-flows  --addr A --duration S [--ports LO-HI] [--sockets N]: a new flow\n"
	"             per datagram\n";

int main(int argc, char **argv)
{
	libbpf_set_print(libbpf_print);
	if (argc < 2) {
		fputs(usage, stderr);
		return 1;
	}
	if (!strcmp(argv[1], "gen"))
		return cmd_gen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sink"))
		return cmd_sink(argc - 1, argv + 1);
	if (!strcmp(argv[1], "fwd"))
		return cmd_fwd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "cost"))
		return cmd_cost(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tcp-server"))
		return vb_tcp_server(argc - 1, argv + 1);
	if (!strcmp(argv[1], "tcp-client"))
		return vb_tcp_client(argc - 1, argv + 1);
	if (!strcmp(argv[1], "udp-flows"))
		return vb_udp_flows(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	fputs(usage, stderr);
	return 1;
}
