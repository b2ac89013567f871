# SPDX-License-Identifier: GPL-2.0
"""endpoints.py - the real-endpoint rows: a libvirt host (virbr0, libvirt's
iptables rules, a veth uplink to an outside namespace) with a guest on a
veth or on a tap written with vnet headers, every endpoint as the kernel
makes it. The kernel path and vnat, loaded as a user types it (`vnat load
--iface virbr0 --snat ADDR`), take turns in the same topology, repetition
by repetition, so both see the same machine; a third turn measures the
floor, the same two endpoints joined without a router (what no router can
beat: the endpoints' own share of every figure).

Rows: bulk TCP (iperf3, 1 and 4 streams, guest -> outside and outside ->
guest), the CPU the whole machine spends per GB moved (/proc/stat: the
endpoints' share is in both paths' figures), small-packet UDP from a socket
sender (iperf3 -u, 18-byte payload: 64-byte frames on the wire) received
per second at the far end and the CPU per packet, TCP request/response and
connections per second (vnat-bench tcp-client), new flows per second
(vnat-bench udp-flows: every datagram a new 5-tuple, which the host's
conntrack and vnat's admission see first). Each rate is read from the
receiving interface's counters over a window in the steady state, the CPU
time over the same window.

vnat's turn runs as the documented service does: `vnat load` and then
`vnat daemon`, which keeps the topology in sync and marks the TCP flows the
kernel admitted liberal so that vnat may carry them.
"""
import json
import math
import subprocess
import time

from machine import (BenchError, cpu_times, log, nse, nsx, prog_ids, run, run_json,
                     run_totals)
from topo import Topology

IPERF_PORT = 5201
RR_PORT = 5202
CRR_PORT = 5203  # tcp-server --close: it closes first, the client keeps no TIME_WAIT
WARM = 0.7  # seconds of a transfer before its window opens


class GuestPath:
    def __init__(self, guest, cfg, machine, res, env):
        self.guest = guest  # veth | tap
        self.cfg = cfg
        self.m = machine
        self.res = res
        self.t = Topology("libvirt" if guest == "veth" else "tap", "iptables", env)
        self.vnat_loaded = False
        self.daemon = None
        self.mode = "kernel"
        self.vals = {}  # (metric, mode) -> values
        self.notes = {}  # (metric, mode) -> notes
        self.servers = []
        self.counters = {}  # vnat's counter: [packets, bytes], summed over its turns
        self.hooks = ""

    def path(self, mode):
        return {"kernel": "k", "vnat": "v", "direct": "d"}[mode] + self.guest

    def ends(self):
        """(guest, outside) namespaces of the current mode: the floor has its own."""
        if self.mode == "direct":
            return self.t.ns_dg, self.t.ns_do
        return self.t.ns_g, self.t.ns_o

    def load_cmd(self):
        return (["load", "--iface", "virbr0", "--snat", self.t.out_addr] + self.cfg.vnat_extra)

    def set_mode(self, mode):
        if mode == "vnat" and not self.vnat_loaded:
            self.forget_flows()
            run(nse(self.t.ns_h, self.cfg.vnat, *self.load_cmd()))
            self.vnat_loaded = True
            self.daemon = self.m.start(nse(self.t.ns_h, self.cfg.vnat, "daemon"))
        elif mode != "vnat" and self.vnat_loaded:
            self.collect_counters()
            self.m.stop(self.daemon)
            self.daemon = None
            run(nse(self.t.ns_h, self.cfg.vnat, "unload", "--all"), check=False)
            self.vnat_loaded = False
            self.forget_flows()
        self.mode = mode

    def forget_flows(self):
        """Each turn starts with no flows: vnat's unload hands the thousands of
        connections of its CRR runs to conntrack, whose entries the next
        turn's connections from the same ports would run into (and the other
        way round)."""
        run(nsx(self.t.ns_h, "conntrack", "-F"), check=False, quiet=True)

    def collect_counters(self):
        """What vnat did over its turn (its counters start at zero with each
        load), and where it ran: the proof the figures are its fast path's."""
        d = run_json(nse(self.t.ns_h, self.cfg.vnat, "status", "-j"), check=False) or {}
        for name, c in d.get("counters", {}).items():
            if c.get("packets"):
                tot = self.counters.setdefault(name, [0, 0])
                tot[0] += c["packets"]
                tot[1] += c.get("bytes", 0)
        self.hooks = ", ".join("%s %s" % (i["name"], i.get("hook", "?"))
                               for i in d.get("interfaces", []))

    def counters_note(self):
        top = sorted(self.counters.items(), key=lambda kv: -kv[1][0])[:6]
        return "counters over vnat's turns: " + ", ".join(
            "%s %d (%d B/pkt)" % (n, p, b // p) for n, (p, b) in top)

    def start_servers(self):
        for ns in (self.t.ns_o, self.t.ns_do):
            self.start_servers_in(ns)

    def start_servers_in(self, ns):
        t, cfg = self.t, self.cfg
        pin = ["taskset", "-c", str(cfg.router_cpu)]
        self.servers.append(self.m.start(nse(ns, *pin, "iperf3", "-s", "-B", t.far_addr,
                                             "-p", IPERF_PORT)))
        self.servers.append(self.m.start(nse(ns, *pin, cfg.vb, "tcp-server", "--addr",
                                             t.far_addr, "--port", RR_PORT)))
        self.servers.append(self.m.start(nse(ns, *pin, cfg.vb, "tcp-server", "--addr",
                                             t.far_addr, "--port", CRR_PORT, "--close")))
        for _ in range(50):
            out = run(nse(ns, "ss", "-Hltn"), check=False)
            if all(":%d " % p in out for p in (IPERF_PORT, RR_PORT, CRR_PORT)):
                return
            time.sleep(0.1)
        raise BenchError("%s: the servers did not start listening" % ns)

    def close(self):
        for p in self.servers:
            self.m.stop(p)
        if self.vnat_loaded:
            self.set_mode("kernel")
        self.t.close()
        time.sleep(0.5)

    def add(self, metric, value, note=None, failed=False):
        key = (metric, self.mode)
        self.vals.setdefault(key, []).append(value)
        if note:
            self.notes.setdefault(key, []).append(note)
        # vnat failing is a finding for the table; the kernel path or the
        # floor failing means the benchmark itself is broken.
        if failed and self.mode != "vnat":
            self.res.failures.append("%s guests, %s, %s: %s" % (self.guest, self.mode, metric, note))

    # -- measurements

    def link_counters(self, ns, dev):
        d = run_json(["ip", "-n", ns, "-s", "-j", "link", "show", "dev", dev])
        rx = d[0]["stats64"]["rx"]
        return rx["bytes"], rx["packets"]

    def window(self, ns, dev, secs):
        """(bytes, packets, busy CPU seconds, seconds) over SECS of steady state."""
        b0, p0 = self.link_counters(ns, dev)
        c0, _ = cpu_times()
        t0 = time.monotonic()
        time.sleep(secs)
        b1, p1 = self.link_counters(ns, dev)
        c1, _ = cpu_times()
        return b1 - b0, p1 - p0, c1 - c0, time.monotonic() - t0

    def iperf(self, extra, rx_ns):
        """iperf3 from the guest; the window is read at the receiving end.
        The server takes one test at a time and may still be closing the
        last one: a "busy" answer is tried again."""
        for _ in range(5):
            w, err = self.iperf_once(extra, rx_ns)
            if not err or "busy" not in err:
                break
            time.sleep(1)
        return w, err

    def iperf_once(self, extra, rx_ns):
        t, cfg = self.t, self.cfg
        secs = cfg.ep_secs
        cmd = nse(self.ends()[0], "taskset", "-c", str(cfg.gen_cpu), "iperf3", "-c", t.far_addr,
                  "-p", IPERF_PORT, "-t", int(math.ceil(WARM + secs + 0.3)), "-J",
                  "--connect-timeout", "3000", *extra)
        p = self.m.start(cmd, out=subprocess.PIPE)
        time.sleep(WARM)
        w = self.window(rx_ns, "eth0", secs)
        try:
            out, _ = p.communicate(timeout=secs + 30)
        except subprocess.TimeoutExpired:
            out = b""
        self.m.stop(p)
        err = None
        try:
            doc = json.loads(out)
            err = doc.get("error")
        except ValueError:
            err = "no output"
        return w, err

    def bulk(self, streams, direction):
        extra = ["-P", str(streams)] + (["-R"] if direction == "in" else [])
        rx_ns = self.ends()[1] if direction == "out" else self.ends()[0]
        (nbytes, _, cpu, dt), err = self.iperf(extra, rx_ns)
        name = "tcp%d_%s" % (streams, direction)
        self.add(name, nbytes * 8 / dt, "iperf3: " + err if err else None, bool(err))
        if nbytes > 0:
            self.add("cpu_gb_" + name, cpu / (nbytes / 1e9))
        self.res.vlog("  %s %s %s: %.2f Gbit/s, %.2f CPU s/GB%s" %
                      (self.guest, self.mode, name, nbytes * 8 / dt / 1e9,
                       cpu / (nbytes / 1e9) if nbytes else 0, " (%s)" % err if err else ""))

    def udp(self):
        (_, pkts, cpu, dt), err = self.iperf(["-u", "-b", "0", "-l", "18"], self.ends()[1])
        self.add("udp64", pkts / dt, "iperf3: " + err if err else None, bool(err))
        if pkts > 0:
            self.add("cpu_ns_udp64", cpu * 1e9 / pkts)
        self.res.vlog("  %s %s udp64: %.0f pps, %.0f ns CPU/pkt%s" %
                      (self.guest, self.mode, pkts / dt, cpu * 1e9 / pkts if pkts else 0,
                       " (%s)" % err if err else ""))

    def udp_flows(self, secs, ids=()):
        """vnat-bench udp-flows from the guest for WARM + SECS: the far end's
        window (bytes, packets, CPU, seconds), the bpf_stats totals of
        programs IDS over the same window, and the sender's report."""
        cmd = nse(self.ends()[0], "taskset", "-c", str(self.cfg.gen_cpu), self.cfg.vb,
                  "udp-flows", "--addr", self.t.far_addr, "--duration", WARM + secs + 0.3)
        p = self.m.start(cmd, out=subprocess.PIPE)
        time.sleep(WARM)
        t0 = run_totals(ids)
        w = self.window(self.ends()[1], "eth0", secs)
        t1 = run_totals(ids)
        try:
            out, _ = p.communicate(timeout=secs + 30)
        except subprocess.TimeoutExpired:
            out = b""
        self.m.stop(p)
        try:
            doc = json.loads(out)
        except ValueError:
            doc = {}
        return w, (t1[0] - t0[0], t1[1] - t0[1]), doc

    def newflows(self):
        """A new UDP flow per datagram from the guest, received per second
        at the far end: what admission costs (the kernel's conntrack and
        NAT on every first packet, and vnat's lookups next to them). In
        vnat's turn a second run with bpf_stats gives vnat's BPF time per
        new flow (apart, so the stats' own cost stays out of the rate)."""
        (_, pkts, cpu, dt), _, doc = self.udp_flows(self.cfg.ep_secs)
        err = None if doc.get("sent") else "udp-flows sent nothing"
        self.add("newflows", pkts / dt, err, bool(err))
        if pkts > 0:
            self.add("cpu_ns_newflows", cpu * 1e9 / pkts)
        self.res.vlog("  %s %s newflows: %.0f/s, %.0f ns CPU/flow, offered %s in %s s" %
                      (self.guest, self.mode, pkts / dt, cpu * 1e9 / pkts if pkts else 0,
                       doc.get("sent"), doc.get("secs")))
        if self.mode == "vnat":
            self.newflows_bpf()

    def newflows_bpf(self):
        """vnat's BPF time per new flow that reached the far end: every
        program's run time over the window, per datagram received."""
        ids = prog_ids(self.t.ns_h)
        self.m.stats_enable()
        try:
            (_, pkts, _, _), (ns, runs), _ = self.udp_flows(self.cfg.ep_secs / 2, ids)
        finally:
            self.m.stats_restore()
        if pkts:
            self.add("bpf_ns_newflows", ns / pkts,
                     "programs %s; runs per new flow %.2f" % (" ".join(map(str, ids)), runs / pkts))
        self.res.vlog("  %s vnat BPF per new flow: %.0f ns over %.2f runs" %
                      (self.guest, ns / pkts if pkts else 0, runs / pkts if pkts else 0))

    def rr(self, mode):
        t, cfg = self.t, self.cfg
        args = ["--addr", t.far_addr, "--duration", cfg.rr_secs]
        if mode == "crr":
            args += ["--port", CRR_PORT, "--crr", "--conns", "2"]
        else:
            args += ["--port", RR_PORT]
        d = run_json(nse(self.ends()[0], "taskset", "-c", str(cfg.gen_cpu), cfg.vb, "tcp-client",
                         *args),
                     check=False, timeout=60) or {}
        self.add(mode, d.get("rate", 0),
                 "failed transactions %s" % d["errors"] if d.get("errors") else None,
                 not d.get("rate"))
        self.res.vlog("  %s %s %s: %s/s" % (self.guest, self.mode, mode, d.get("rate", 0)))

    def measure(self, has):
        """Repetition by repetition, a turn of each: kernel and vnat in
        alternating order, then the floor."""
        self.start_servers()
        for rep in range(self.cfg.reps):
            order = ("kernel", "vnat", "direct") if rep % 2 == 0 else ("vnat", "kernel", "direct")
            for mode in order:
                self.set_mode(mode)
                self.res.wait_quiet([])
                self.turn(has)
        self.set_mode("kernel")
        self.report()

    def turn(self, has):
        if has("tcp"):
            for streams in self.cfg.ep_streams:
                for direction in ("out", "in"):
                    self.bulk(streams, direction)
        if has("udp"):
            self.udp()
        if has("rr"):
            self.rr("rr")
        if has("crr"):
            self.rr("crr")
        if has("newflows"):
            self.newflows()

    def report(self):
        units = {"udp64": "pps", "rr": "1/s", "crr": "1/s", "newflows": "1/s"}
        vnat_cmd = "vnat " + " ".join(self.load_cmd()) + " + vnat daemon"
        self.res.extra.append("%s guests, vnat's hooks: %s" % (self.guest, self.hooks))
        self.res.extra.append("%s guests, vnat's %s" % (self.guest, self.counters_note()))
        for (metric, mode), vals in sorted(self.vals.items()):
            unit = units.get(metric, "bit/s")
            if metric.startswith("cpu_gb_"):
                unit = "s/GB"
            elif metric.startswith(("cpu_ns_", "bpf_ns_")):
                unit = "ns"
            notes = self.notes.get((metric, mode), [])
            note = "; ".join(sorted(set(notes)))
            if mode == "vnat":
                note = vnat_cmd + ("; " + note if note else "")
            self.res.record("%s_%s" % (self.guest, metric), self.path(mode), unit, note, vals)
        for mode in ("kernel", "vnat", "direct"):
            log("  %s guests, %s: %s" % (self.guest, mode, ", ".join(
                "%s %s" % (m, fmt_list(v)) for (m, md), v in sorted(self.vals.items())
                if md == mode)))


def fmt_list(v):
    return "/".join("%.3g" % x for x in v)


def run_guests(guest, cfg, machine, res, env, has):
    log("path guests-%s (kernel, vnat and the floor in turn)" % guest)
    p = None
    try:
        p = GuestPath(guest, cfg, machine, res, env)
        p.measure(has)
    except BenchError as e:
        log("  guests-%s: %s" % (guest, e))
        res.failures.append("guests-%s: %s" % (guest, e))
    finally:
        if p:
            p.close()

