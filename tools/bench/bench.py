#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench.py - `make bench`: vnat against the kernel path it replaces, side by
side, with the ceiling (issues 5 and 9). Every path runs in namespaces that
tools/bench/topo.sh builds (selftests/net/lib.sh) and removes.

Packet-rate paths (rate.py: client -- router -- sink, vnat-bench's XDP
generator and sink):
  kernel   ip_forward + libvirt's FORWARD and POSTROUTING rules (seed 001)
           with iptables; nft: the same rules in nftables
  vnat     the kernel path's rules plus vnat load --iface r0 --snat ADDR
           (--hook xdp, BENCH_PKT_HOOK)
  ceiling  a bare XDP redirect with no lookup: what the veths carry at all
  kroute, vroute    routed without NAT: ip_forward alone, and vnat
  kbridge, vbridge  bridged guest to guest: the kernel's bridge, and vnat
Real-endpoint paths (endpoints.py: a libvirt host, nothing tuned; the
kernel path and `vnat load --iface virbr0 --snat ADDR` take turns):
  guests-veth  a guest on a veth with the kernel's default offloads
  guests-tap   a guest on a tap written with vnet headers (vnet-relay)
"""
import argparse
import os
import platform
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import endpoints  # noqa: E402
import rate  # noqa: E402
import report  # noqa: E402
from machine import BenchError, Machine, T0, log  # noqa: E402
from results import Results  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

RATE_PATHS = ["kernel", "nft", "vnat", "ceiling", "kroute", "vroute", "kbridge", "vbridge"]
GUEST_PATHS = ["guests-veth", "guests-tap"]
ALL_METRICS = ["nat64", "nat1518", "routed64", "bridged64", "cost", "flows", "newflows", "mem",
               "tcp", "udp", "rr", "crr"]
QUICK_METRICS = [m for m in ALL_METRICS if m != "nat1518"]

EPILOG = """environment: VNAT, VNAT_BENCH, VNET_RELAY (binaries); BENCH_IPTABLES
(iptables-legacy); BENCH_GEN_CPU (0), BENCH_ROUTER_CPU (1); BENCH_QUIET_WAIT
(30 s), BENCH_QUIET_BUDGET (40 s, quick 10 s): waiting for other work on the
machine to stop, at a time and in all; BENCH_FLOW_PATHS (kernel,vnat): the
paths the flow-count and new-flow runs cover; BENCH_PKT_HOOK (xdp): vnat's
hook on the packet-rate paths (xdp, tc, auto or skb); BENCH_VNAT_ARGS: extra
arguments of `vnat load` on the real-endpoint paths (recorded with the
figures; empty: exactly as a user types it); BENCH_BATCH: the generator's
--batch; COST_REPEAT (1000000): test runs per BPF cost figure."""


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="bench.py", description=__doc__.split("\n\n")[0],
                                 epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke test, under 2 minutes (CI): one repetition, short trials, "
                    "no nftables path, no 1518-byte frames")
    ap.add_argument("--json", metavar="FILE", help="also write every figure and trial as JSON")
    ap.add_argument("--paths", metavar="LIST",
                    help="comma-separated subset of: " + ",".join(RATE_PATHS + GUEST_PATHS))
    ap.add_argument("--metrics", metavar="LIST",
                    help="comma-separated subset of: " + ",".join(ALL_METRICS))
    ap.add_argument("--reps", type=int, help="repetitions of each measurement (3, quick 1)")
    ap.add_argument("--trial", type=float, help="seconds per zero-loss trial (0.6, quick 0.3)")
    ap.add_argument("--retries", type=int,
                    help="repeats of a failed zero-loss trial before it counts (1, quick 0)")
    ap.add_argument("--secs", type=float,
                    help="seconds of each real-endpoint measurement window (1.5, quick 0.5)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every trial")
    a = ap.parse_args(argv)
    for opt in ("reps", "trial", "secs"):
        if getattr(a, opt) is not None and getattr(a, opt) <= 0:
            ap.error("--%s %s: give a number above 0" % (opt, getattr(a, opt)))
    if a.retries is not None and a.retries < 0:
        ap.error("--retries %d: give 0 or more" % a.retries)
    for opt, allowed in (("paths", RATE_PATHS + GUEST_PATHS), ("metrics", ALL_METRICS)):
        val = getattr(a, opt)
        if val is not None:
            bad = [x for x in val.split(",") if x not in allowed]
            if bad or not val:
                ap.error("--%s: '%s' unknown; use a comma-separated subset of %s" %
                         (opt, ",".join(bad) or val, ",".join(allowed)))
    return a


class Config:
    """Everything a path needs to know about this run."""

    def __init__(self, a):
        q = a.quick
        self.quick = q
        self.reps = a.reps or (1 if q else 3)
        self.trial = a.trial or (0.3 if q else 0.6)
        self.retries = a.retries if a.retries is not None else (0 if q else 1)
        self.res_pct = 10 if q else 4  # the search stops when hi - lo < res_pct % of hi
        self.newflow_trial = 0.2 if q else 0.4
        self.flow_counts = [1024] if q else [1024, 65536, 1048576]
        self.ep_secs = a.secs or (0.5 if q else 1.5)
        self.rr_secs = 0.5 if q else 1.5
        # --quick: bulk TCP with one stream only (each direction), to stay in 2 minutes
        self.ep_streams = (1,) if q else (1, 4)
        self.gen_cpu = int(os.environ.get("BENCH_GEN_CPU", "0"))
        self.router_cpu = int(os.environ.get("BENCH_ROUTER_CPU", "1"))
        self.gen_batch = os.environ.get("BENCH_BATCH", "")
        self.pkt_hook = os.environ.get("BENCH_PKT_HOOK", "xdp")
        if self.pkt_hook not in ("xdp", "tc", "auto", "skb"):
            raise BenchError("BENCH_PKT_HOOK '%s': use xdp, tc, auto or skb" % self.pkt_hook)
        self.vnat_extra = os.environ.get("BENCH_VNAT_ARGS", "").split()
        self.gen_refused = ""  # why the XDP generator cannot run here, once known
        self.flow_paths = os.environ.get("BENCH_FLOW_PATHS", "kernel,vnat").split(",")
        self.iptables = os.environ.get("BENCH_IPTABLES", "iptables-legacy")
        self.vnat = os.environ.get("VNAT") or os.path.join(REPO, "build/vnat")
        self.vb = os.environ.get("VNAT_BENCH") or os.path.join(REPO, "build/tools/bench/vnat-bench")
        self.metrics = (a.metrics.split(",") if a.metrics
                        else QUICK_METRICS if q else ALL_METRICS)
        default_paths = RATE_PATHS + GUEST_PATHS
        if q:
            default_paths = [p for p in default_paths if p != "nft"]
        self.paths = a.paths.split(",") if a.paths else default_paths

    def describe(self):
        return "reps %d, trial %gs, retries %d, window %gs" % (self.reps, self.trial, self.retries,
                                                            self.ep_secs)


def first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        return out.splitlines()[0] if out else "?"
    except OSError:
        return "?"


def machine_info(cfg):
    cpu, mem = "?", 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    return {"kernel": platform.release(), "cpu": cpu, "cpus": os.cpu_count(), "mem_mib": mem,
            "iptables": first_line([cfg.iptables, "-V"]), "nft": first_line(["nft", "--version"]),
            "iperf3": first_line(["iperf3", "--version"]), "vnat": cfg.vnat,
            "vnat_commit": os.environ.get("BENCH_VNAT_COMMIT") or
            first_line(["git", "-C", REPO, "describe", "--always", "--dirty"])}


def preflight(cfg):
    if os.geteuid() != 0:
        raise BenchError("run as root (namespaces, XDP)")
    for c in ("ip", "ethtool", "nsenter", "taskset", "chrt", "bpftool", "iperf3", "conntrack",
              "nft", cfg.iptables):
        if subprocess.run(["sh", "-c", "command -v %s" % c], capture_output=True).returncode:
            raise BenchError("needs %s (tools/setup.sh installs it)" % c)
    for b in (cfg.vnat, cfg.vb):
        if not os.access(b, os.X_OK):
            raise BenchError("no %s (run make)" % b)
    if (os.cpu_count() or 1) < 2:
        raise BenchError("needs 2 CPUs (generator and router on separate cores)")
    with open("/proc/mounts") as f:
        if not any(" /sys/fs/bpf bpf " in line for line in f):
            raise BenchError("bpffs is not mounted on /sys/fs/bpf (tools/setup.sh)")


def main(argv):
    a = parse_args(argv)
    try:
        cfg = Config(a)
        preflight(cfg)
    except BenchError as e:
        print("bench: %s" % e, file=sys.stderr)
        return 1
    res = Results(float(os.environ.get("BENCH_QUIET_BUDGET", "10" if cfg.quick else "40")),
                  float(os.environ.get("BENCH_QUIET_WAIT", "30")), a.verbose)
    machine = Machine(cfg.gen_cpu, cfg.router_cpu)
    env = dict(os.environ, VNAT=cfg.vnat, V="0", BENCH_IPTABLES=cfg.iptables)
    has = cfg.metrics.__contains__
    # Everything we start runs on the generator's core; the router's NAPI
    # threads have the other core to themselves.
    os.sched_setaffinity(0, {cfg.gen_cpu})
    log("vnat bench: %s, paths %s, metrics %s, %s" % ("quick" if cfg.quick else "full",
                                                     ",".join(cfg.paths), ",".join(cfg.metrics),
                                                     cfg.describe()))
    try:
        for p in RATE_PATHS:
            if p in cfg.paths:
                rate.run_path(p, cfg, machine, res, env, has)
        for p in GUEST_PATHS:
            if p in cfg.paths and any(has(m) for m in ("tcp", "udp", "rr", "crr", "newflows")):
                endpoints.run_guests(p.split("-")[1], cfg, machine, res, env, has)
    finally:
        machine.close()
    secs = int(time.monotonic() - T0)
    log("done in %d s; %d trials repeated because others used the machine" % (secs, res.disturbed))
    cmd = "tools/bench/bench.py%s (%s)" % (" --quick" if cfg.quick else "", cfg.describe())
    report.write(res.results, res.trials, machine_info(cfg), cmd, secs, res.disturbed,
                 res.failures, sorted(set(res.skipped)), res.extra, a.json,
                 sys.stdout)
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
