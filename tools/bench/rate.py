# SPDX-License-Identifier: GPL-2.0
"""rate.py - the packet-rate paths: client -- router -- sink, UDP frames from
vnat-bench's XDP generator (complete checksums), counted by its XDP sink.

Per path: the forwarding rate at the generator's full speed (RFC 2889) and
the router's CPU per packet, the zero-loss rate (RFC 2544, binary search),
the BPF time per packet (bpf_stats, test runs), memory per flow, flow counts
and new flows. The generator runs on one core, the router's NAPI threads
on the other, SCHED_FIFO (docs/BENCHMARKS.md).
"""
import json
import os
import time

from machine import (BenchError, cpu_times, log, nse, nsx, prog_ids, run, run_json, run_totals,
                     schedstat)
from topo import Topology

LOSS_PPM = 1000  # RFC 2544 zero loss, relaxed to <= 0.1 %
VNAT_MAX_FLOWS = 1310720  # 1M flows + 25 %: one vnat_ct entry per flow
VNAT_NEWFLOW_TABLE = 786432  # new-flow trials create fewer flows than that
WARM_RATE = 250000
UDP_DST = "203.0.113.10"  # first destination of generated flows
IN_HOST = "192.168.122.2"
BR_PEER = "192.168.122.3"
OUT_ADDR = "198.51.100.1"
COST_REPEAT = int(os.environ.get("COST_REPEAT", "1000000"))

# path: (topology, rules, kind, translates)
PATHS = {
    "kernel": ("veth", "iptables", "kernel", True),
    "nft": ("veth", "nft", "kernel", True),
    "vnat": ("veth", "iptables", "vnat", True),
    "ceiling": ("veth", "none", "ceiling", False),
    "kroute": ("veth", "none", "kernel", False),
    "vroute": ("veth", "none", "vnat", False),
    "kbridge": ("bridge", "none", "kernel", False),
    "vbridge": ("bridge", "none", "vnat", False),
}


class GeneratorRefused(Exception):
    """The kernel refuses BPF_PROG_TEST_RUN with live frames (some VM
    kernels do, with EPERM): no rate can be measured on this machine."""


def hexsum(words):
    return sum(int(w, 16) for w in words)


class RatePath:
    def __init__(self, name, cfg, machine, res, env):
        self.name = name
        topo_kind, rules, self.kind, self.nat = PATHS[name]
        self.cfg = cfg
        self.m = machine
        self.res = res
        self.vnat_loaded = False
        self.flows_now = VNAT_MAX_FLOWS
        self.metric = ""
        self.t = Topology(topo_kind, rules, env)
        self.bridge = bool(self.t.bridge_if)

    # -- set-up

    def setup(self):
        t = self.t
        self.m.spin_start()
        t.napi_pin(t.ns_r, t.in_if, self.cfg.router_cpu, "router")
        t.napi_pin(t.ns_r, t.out_if, self.cfg.router_cpu, "router")
        run(nse(t.ns_s, self.cfg.vb, "sink", "attach", "s0"))
        if self.kind == "vnat":
            if self.cfg.pkt_hook in ("xdp", "skb"):
                self.xdp_prerequisites()
            self.vnat_load()
        elif self.kind == "ceiling":
            run(nse(t.ns_r, self.cfg.vb, "fwd", "r0", t.mac_c, "r1", t.mac_s))

    def xdp_prerequisites(self):
        """`vnat load --hook xdp` takes a veth only if its peer cannot send
        partial checksums and receives XDP frames (issue 9, point 3). The
        peers here are the generator's port c0 and the sink's s0: no stack
        sends on them (the generator's frames, complete checksums included,
        are made in XDP, and the sink drops in XDP), so switching their
        tx-checksumming off changes no frame measured; c0 gets the sink's
        counting program as its XDP program. Only on the vnat XDP paths."""
        t = self.t
        run(nsx(t.ns_c, "ethtool", "-K", "c0", "tx", "off"))
        run(nsx(t.ns_s, "ethtool", "-K", "s0", "tx", "off"))
        run(nse(t.ns_c, self.cfg.vb, "sink", "attach", "c0"))

    def close(self):
        if self.vnat_loaded:
            self.vnat_unload()
        self.t.close()
        self.m.spin_stop()
        time.sleep(1)  # let the namespaces' clean-up work finish

    def vnat_args(self):
        args = ["load", "--iface", self.t.bridge_if or self.t.in_if]
        hook = self.cfg.pkt_hook
        args += ["--mode", "skb"] if hook == "skb" else ["--hook", hook]
        if self.nat:
            args += ["--snat", OUT_ADDR, "--max-flows", str(self.flows_now)]
        elif not self.bridge:
            args += ["--iface", self.t.out_if]
        return args

    def vnat_load(self):
        run(nse(self.t.ns_r, self.cfg.vnat, *self.vnat_args()))
        self.vnat_loaded = True

    def vnat_unload(self):
        run(nse(self.t.ns_r, self.cfg.vnat, "unload", "--all"), check=False)
        self.vnat_loaded = False

    def reset_state(self):
        """Forget every flow: each flow-count and new-flow trial starts empty."""
        if self.kind == "kernel":
            run(nsx(self.t.ns_r, "conntrack", "-F"), check=False, quiet=True)
        elif self.kind == "vnat":
            self.vnat_unload()
            self.vnat_load()

    def flows(self):
        if self.kind == "kernel":
            return self.kernel_flows()
        if self.kind == "vnat":
            d = run_json(nse(self.t.ns_r, self.cfg.vnat, "status", "-j"), check=False) or {}
            return d.get("config", {}).get("flows", 0)
        return 0

    def kernel_flows(self):
        out = run(nsx(self.t.ns_r, "conntrack", "-C"), check=False, quiet=True).strip()
        return int(out) if out.isdigit() else 0

    def note(self, note):
        if self.kind == "vnat":
            hook = self.cfg.pkt_hook
            if hook in ("xdp", "skb"):
                hook += " (generator's and sink's ports: tx-checksumming off)"
            return "hook %s%s" % (hook, "; " + note if note else "")
        return note

    def record(self, metric, unit, note, values):
        self.res.record(metric, self.name, unit, self.note(note), values)

    def our_pids(self):
        return [pid for _, pid in self.t.napi] + ([self.m.spin_pid] if self.m.spin_pid else [])

    def wait_quiet(self):
        self.res.wait_quiet(self.our_pids())

    # -- counters: every place a frame can be lost

    def snap(self):
        t = self.t
        s = {}
        sink = run_json(nse(t.ns_s, self.cfg.vb, "sink", "read", "s0"), check=False) or {}
        s["sink"] = sink.get("packets", 0)
        s["ring_in"] = sum(int(line.split()[-1]) for line in
                           run(nsx(t.ns_c, "ethtool", "-S", "c0"), check=False).splitlines()
                           if "xdp_xmit_errors" in line)
        out = run(nsx(t.ns_r, "sh", "-c",
                      "ethtool -S %s; echo TXDROP $(cat /sys/class/net/%s/statistics/tx_dropped);"
                      " cat /proc/net/snmp; echo CTSTAT; cat /proc/net/stat/nf_conntrack 2>/dev/null"
                      % (t.out_if, t.out_if)), check=False)
        s.update(out_xdp=0, out_drop=0, stack=0, ct=0, evict=0)
        ip_lines, in_ct = 0, False
        for line in out.splitlines():
            w = line.split()
            if not w:
                continue
            if "xdp_xmit_errors" in line:
                s["out_xdp"] += int(w[-1])
            elif w[0] == "TXDROP":
                s["out_drop"] = int(w[1])
            elif w[0] == "Ip:":
                ip_lines += 1
                if ip_lines == 2:
                    v = [int(x) for x in w[1:]]
                    s["stack"] = v[3] + v[4] + v[6] + v[7] + v[10] + v[11]
            elif w[0] == "CTSTAT":
                in_ct = True
            elif in_ct and w[0] != "entries" and len(w) > 11:
                s["ct"] += hexsum(w[9:11])
                s["evict"] += int(w[11], 16)
        with open("/proc/net/softnet_stat") as f:
            s["softnet"] = sum(int(line.split()[1], 16) for line in f)
        s["cpu"] = t.napi_ns("router")
        s["rwait"] = t.napi_ns("router", 1)
        s["busy"], s["steal"] = cpu_times()
        s["ours"] = sum(schedstat(p)[0] for p in self.our_pids())
        return s

    # -- trials

    def flow_args(self, n):
        """Flow layout for the generator (bench.h): N flows cycled, or a new
        flow per frame with N = 0."""
        if self.bridge:
            return ["--src", IN_HOST, "--sport", "10000", "--dst", BR_PEER, "--dport", "20000",
                    "--flows", "1"]
        if n == 0:
            # every frame a new 5-tuple: 4096 inside endpoints to ever new remotes
            return ["--src", "192.168.122.16+16", "--sport", "10000+256", "--dst", UDP_DST + "+200",
                    "--dport", "1024+64000", "--flows", "0"]
        ep = min(n, 16384)
        sports = min(ep, 256)
        return ["--src", "192.168.122.64+%d" % (ep // sports), "--sport", "10000+%d" % sports,
                "--dst", UDP_DST, "--dport", "20000+%d" % (n // ep), "--flows", str(n)]

    def trial_once(self, length, rate, secs, flows, base=0):
        """One generator run (RATE 0: unpaced, as fast as it goes)."""
        cfg = self.cfg
        args = ["gen", "--iface", "c0", "--dmac", self.t.gen_dmac, "--len", str(length),
                "--flow-base", str(base)] + self.flow_args(flows)
        if cfg.gen_batch:
            args += ["--batch", cfg.gen_batch]
        if rate == 0:
            # about SECS at the generator's full speed (~4.5 Mpps either size)
            args += ["--count", str(int(secs * (4000000 if length > 500 else 4500000)))]
        else:
            args += ["--rate", str(int(rate)), "--duration", str(secs)]
        s0 = self.snap()
        try:
            out = run(nse(self.t.ns_c, "taskset", "-c", cfg.gen_cpu, cfg.vb, *args,
                          "--cpu", cfg.gen_cpu), timeout=int(secs) + 60)
        except BenchError as e:
            if "Operation not permitted" in str(e):
                raise GeneratorRefused("the kernel refuses the generator's BPF_PROG_TEST_RUN"
                                       " with live frames (EPERM)")
            raise
        time.sleep(0.02)  # frames still in the rings
        s1 = self.snap()
        g = json.loads(out)
        d = {k: s1[k] - s0[k] for k in s0}
        sent, elapsed = g["sent"], g["elapsed_ns"]
        rx = d["sink"]
        loss_ppm = (sent - rx) * 1000000 // sent if sent > 0 else 1000000
        # Others' CPU on our cores, beyond the generator (busy all the run) and our threads.
        foreign_ms = int((d["busy"] * 1e9 - elapsed - d["ours"]) / 1e6)
        steal_ms = int(d["steal"] * 1000)
        t = {"metric": self.metric, "path": self.name, "target_pps": int(rate),
             "achieved_pps": g["rate_pps"], "sent": sent, "received": rx, "loss_ppm": loss_ppm,
             "pass": int(loss_ppm <= LOSS_PPM), "rebased": g.get("rebased", 0),
             "router_busy_pct": d["cpu"] * 100 // elapsed if elapsed else 0,
             "router_wait_us": d["rwait"] // 1000, "others_ms": foreign_ms, "steal_ms": steal_ms,
             "disturbed": int(foreign_ms > 60 + elapsed / 20e6 or steal_ms > 20 + elapsed / 50e6),
             "drops": {k: d[k] for k in ("ring_in", "out_xdp", "out_drop", "stack", "ct", "evict",
                                         "softnet")},
             "elapsed_ns": elapsed, "cpu_ns": d["cpu"]}
        self.res.trial(t)
        self.res.vlog("  trial %s %s: target %d achieved %d sent %d rx %d loss %dppm router-busy"
                      " %d%% others %dms steal %dms drops %s" %
                      (self.name, self.metric, rate, t["achieved_pps"], sent, rx, loss_ppm,
                       t["router_busy_pct"], foreign_ms, steal_ms, t["drops"]))
        return t

    def trial(self, length, rate, secs, flows, base=0, reset_each=False):
        """A trial that others' work disturbed and that failed, or that ran at
        full speed (a rate, not a pass, is measured there), is run again once
        the machine is quiet, up to 3 times."""
        t = self.trial_once(length, rate, secs, flows, base)
        n = 0
        while (n < 3 and t["disturbed"] and (not t["pass"] or rate == 0)
               and self.res.quiet_budget > 0):
            n += 1
            self.res.disturbed += 1
            self.res.vlog("  (disturbed: others ran %d ms; again when quiet)" % t["others_ms"])
            self.wait_quiet()
            if reset_each:
                self.reset_state()
            t = self.trial_once(length, rate, secs, flows, base)
        return t

    def trial_retry(self, length, rate, secs, flows, base, reset_each):
        """A failed trial is repeated cfg.retries times and passes if a repeat
        does: this VM stalls a vCPU for 0.3-2 ms a few times a second."""
        t = self.trial(length, rate, secs, flows, base, reset_each)
        for _ in range(self.cfg.retries):
            if t["pass"]:
                break
            if reset_each:
                self.reset_state()
            t = self.trial(length, rate, secs, flows, base, reset_each)
        return t

    def zero_loss(self, metric, length, flows, secs, reset_each=False):
        """RFC 2544 26.1 / RFC 9693: the highest offered rate with loss <= 0.1 %.
        A warm-up creates the flows; cfg.reps runs at full speed give the
        forwarding rate under overload and the router CPU per packet, and
        bound the search; repetitions 2.. search again around the first."""
        cfg = self.cfg
        self.metric = metric
        self.wait_quiet()
        note = ""
        if flows != 0:
            warm = max(WARM_RATE * secs / 2, flows) / WARM_RATE
            self.trial(length, WARM_RATE, round(warm, 3), flows)
            if flows > 1:
                note = "flows held after warm-up: %d" % self.flows()
        base, hi0, genlim = 0, 0, True
        fwd, nspkt, busy = [], [], []
        for _ in range(cfg.reps):
            if reset_each:
                self.reset_state()
            t = self.trial(length, 0, secs, flows, base, reset_each)
            base += t["sent"]
            rx, el = t["received"], t["elapsed_ns"]
            fwd.append(rx * 1000000000 // el if el else 0)
            nspkt.append(t["cpu_ns"] // rx if rx else 0)
            busy.append(t["router_busy_pct"])
            hi0 = max(hi0, fwd[-1])
            # Anything lost at full speed: the path, not the generator, set the rate.
            if t["loss_ppm"] > LOSS_PPM:
                genlim = False
        self.record(metric + "_fwd", "pps", "router busy %s %%" % " ".join(map(str, busy)), fwd)
        self.record("router_ns_" + metric, "ns", "router CPU per packet at full load", nspkt)
        if genlim:
            self.record(metric, "pps", (note + "; " if note else "") +
                        "generator-limited: no loss at its full speed", fwd)
            log("  %s %s: >= %s pps (the generator's limit)" % (self.name, metric, fwd))
            return
        hi0 = hi0 * 105 // 100
        first, results = 0, []
        for rep in range(cfg.reps):
            best, lo, hi = 0, 0, hi0
            if rep > 0 and first > 0:
                lo = first * 85 // 100
                hi = min(first * 110 // 100, hi0)
                if reset_each:
                    self.reset_state()
                t = self.trial_retry(length, lo, secs, flows, base, reset_each)
                base += t["sent"]
                if t["pass"]:
                    best = t["achieved_pps"]
                else:
                    hi, lo = lo, 0
            while (hi - lo) * 100 > cfg.res_pct * hi and hi > 1000:
                mid = (lo + hi) // 2
                if reset_each:
                    self.reset_state()
                t = self.trial_retry(length, mid, secs, flows, base, reset_each)
                base += t["sent"]
                if t["pass"]:
                    lo, best = mid, t["achieved_pps"]
                else:
                    hi = mid
            if rep == 0:
                first = lo
            results.append(best)
        self.record(metric, "pps", note, results)
        log("  %s %s: zero-loss %s pps; at full load %s pps, %s ns/pkt router CPU (busy %s %%)" %
            (self.name, metric, results, fwd, nspkt, busy))

    # -- BPF cost per packet

    def bpf_cost(self, metric, flows, secs=None):
        """run_time_ns/run_cnt of every program on the router's interfaces
        (kernel.bpf_stats_enabled=1, on only for these runs), per forwarded
        packet at the generator's full speed."""
        ids = prog_ids(self.t.ns_r)
        if not ids:
            return
        secs = secs or self.cfg.trial
        self.metric = "bpf_" + metric
        self.wait_quiet()
        warm = max(flows, WARM_RATE / 4) / WARM_RATE
        self.trial(60, WARM_RATE, round(warm, 3), flows)
        self.m.stats_enable()
        bpf, runs = [], []
        try:
            for _ in range(self.cfg.reps):
                for _ in range(4):
                    ns0, c0 = run_totals(ids)
                    t = self.trial_once(60, 0, secs, flows)
                    ns1, c1 = run_totals(ids)
                    if not t["disturbed"]:
                        break
                    self.res.disturbed += 1
                    self.wait_quiet()
                rx = t["received"]
                bpf.append((ns1 - ns0) // rx if rx else 0)
                runs.append("%.2f" % ((c1 - c0) / rx if rx else 0))
        finally:
            self.m.stats_restore()
        self.record("bpf_ns_" + metric, "ns", "programs %s; runs per packet %s" %
                    (" ".join(map(str, ids)), " ".join(runs)), bpf)
        log("  %s BPF time per packet (%d flows): %s ns (programs %s)" % (self.name, flows, bpf, ids))
        if flows == 1:
            self.run_cost(metric)

    def run_cost(self, metric):
        """The same cost without traffic or bpf_stats: BPF_PROG_TEST_RUN of the
        inside interface's XDP program on one flow's frame, and of the
        uplink's on the reply; the wrapper's own ns subtracted."""
        t = self.t
        if self.bridge:
            args, dirs = ["--dst", BR_PEER, "--dmac", t.mac_s], ["out"]
        else:
            args, dirs = ["--dst", UDP_DST, "--out", t.out_if, "--rmac", t.mac_s], ["out", "in"]
        j = run_json(nse(t.ns_r, self.cfg.vb, "cost", "--in", t.in_if, "--src", IN_HOST,
                         "--sport", "10000", "--dport", "20000", "--smac", t.mac_c, *args,
                         "--repeat", COST_REPEAT, "--runs", min(self.cfg.reps, 16)), check=False)
        if not j:
            log("  %s test-run cost: failed" % self.name)
            return
        for d in dirs:
            self.record("run_ns_%s_%s" % (metric, d), "ns", "%s of %s; %s less base %s ns; repeat %d"
                        % (j.get(d + "_verdict"), j.get(d + "_prog"), j.get(d + "_ns"),
                           j.get("base_ns"), COST_REPEAT), [j.get(d + "_net_ns")])
        log("  %s test-run cost per packet: %s" % (self.name, json.dumps(j)))

    # -- memory per tracked flow

    def mem(self):
        self.metric = "mem"
        if self.kind == "vnat" and self.nat:
            pin = "/sys/fs/bpf/vnat/netns-%d" % self.t.ns_inode(self.t.ns_r)
            total, per = 0, []
            for m in ("vnat_ct", "vnat_mappings", "vnat_ports"):
                d = run_json(["bpftool", "map", "show", "pinned", "%s/%s" % (pin, m), "-j"],
                             check=False)
                if not d:
                    continue
                b = d["bytes_memlock"] // d["max_entries"]
                per.append(b)
                total += b
                self.record("mem_" + m, "bytes", "bytes_memlock/max_entries, max_entries %d"
                            % d["max_entries"], [b])
            self.record("mem_flow", "bytes", "vnat_ct + vnat_mappings + vnat_ports entries"
                        " (a flow with a mapping of its own)", [total])
            log("  %s memory: %s bytes per entry (ct, mappings, ports)" % (self.name, per))
        elif self.kind == "kernel" and self.nat:
            self.reset_state()
            time.sleep(0.5)
            before = slab_kb()
            self.trial(60, WARM_RATE, round(65536 / WARM_RATE, 3), 65536)
            time.sleep(0.2)
            after = slab_kb()
            held = self.kernel_flows()
            if held > 0:
                self.record("mem_flow", "bytes", "Slab growth / conntrack entries (%d);"
                            " machine-wide, noisy" % held, [(after - before) * 1024 // held])
            log("  %s memory: %d bytes per conntrack entry (%d entries)" %
                (self.name, (after - before) * 1024 // max(held, 1), held))

    # -- the plan of one path

    def measure(self, has):
        if self.cfg.gen_refused:
            self.measure_without_traffic(has)
            return
        try:
            self.measure_traffic(has)
        except GeneratorRefused as e:
            self.cfg.gen_refused = str(e)
            log("  %s: %s; the rates are not measured, only the test-run costs and memory"
                % (self.name, e))
            self.res.skipped.append("packet rates, BPF time at full load: %s" % e)
            self.measure_without_traffic(has)

    def measure_without_traffic(self, has):
        """What needs no generator: BPF test runs and vnat's memory per flow."""
        if has("cost") and self.kind in ("vnat", "ceiling"):
            metric = "nat64" if self.nat or self.kind == "ceiling" else (
                "bridged64" if self.bridge else "routed64")
            self.run_cost(metric)
        if has("mem") and self.kind == "vnat" and self.nat:
            self.mem()

    def measure_traffic(self, has):
        cfg = self.cfg
        if self.nat or self.kind == "ceiling":
            if has("nat64"):
                self.zero_loss("nat64", 60, 1, cfg.trial)
            if has("nat1518"):
                self.zero_loss("nat1518", 1514, 1, cfg.trial)
            if has("cost"):
                self.bpf_cost("nat64", 1)
            if has("mem"):
                self.mem()
            # The ceiling does no lookup: flow counts mean nothing to it.
            if self.kind != "ceiling" and self.name in cfg.flow_paths:
                self.measure_flows(has)
        elif self.bridge:
            if has("bridged64"):
                self.zero_loss("bridged64", 60, 1, cfg.trial)
                if has("cost"):
                    self.bpf_cost("bridged64", 1)
        else:
            if has("routed64"):
                self.zero_loss("routed64", 60, 1, cfg.trial)
            if has("cost"):
                self.bpf_cost("routed64", 1)

    def measure_flows(self, has):
        cfg = self.cfg
        if has("flows"):
            for n in cfg.flow_counts:
                self.reset_state()
                self.zero_loss("flows_%d" % n, 60, n, cfg.trial)
                if n == 1048576 and has("cost"):
                    self.bpf_cost("flows_%d" % n, n)
        if has("newflows"):
            # New flows start from an empty table at every trial; one for
            # 768k flows (more than a trial makes) reloads faster.
            self.flows_now = VNAT_NEWFLOW_TABLE
            self.zero_loss("newflows", 60, 0, cfg.newflow_trial, reset_each=True)
            # A fresh table each time: reloading takes seconds, too long for --quick.
            if has("cost") and not cfg.quick:
                self.reset_state()
                self.bpf_cost("newflows", 0, cfg.newflow_trial)
            self.flows_now = VNAT_MAX_FLOWS


def slab_kb():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Slab:"):
                return int(line.split()[1])
    return 0


def run_path(name, cfg, machine, res, env, has):
    log("path %s" % name)
    p = None
    try:
        p = RatePath(name, cfg, machine, res, env)
        p.setup()
        p.measure(has)
    except BenchError as e:
        log("  %s: %s" % (name, e))
        res.failures.append("%s: %s" % (name, e))
    finally:
        if p:
            p.close()
