# SPDX-License-Identifier: GPL-2.0
"""machine.py - commands in namespaces, our background processes, CPU time.

Everything the benchmark starts is recorded here and stopped by its PID at
exit (Machine.close, also on a signal); kernel.bpf_stats_enabled, the only
host setting the benchmark touches, is restored there too.
"""
import json
import os
import signal
import subprocess
import sys
import time

USER_HZ = os.sysconf("SC_CLK_TCK")
T0 = time.monotonic()


def log(msg):
    print("[%4ds] %s" % (time.monotonic() - T0, msg), file=sys.stderr, flush=True)


class BenchError(Exception):
    """A set-up step failed: the run cannot go on."""


def nse(ns, *cmd):
    """nsenter --net: the root mount namespace stays, so bpffs pins are shared."""
    return ["nsenter", "--net=/run/netns/%s" % ns] + [str(c) for c in cmd]


def nsx(ns, *cmd):
    """ip netns exec: /sys shows the namespace's own devices."""
    return ["ip", "netns", "exec", ns] + [str(c) for c in cmd]


def run(cmd, check=True, timeout=120, quiet=False):
    """Run CMD, return its stdout; a failure raises BenchError when CHECK."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        if check:
            raise BenchError("%s: no answer in %d s" % (" ".join(cmd), timeout))
        return ""
    if p.returncode and check:
        raise BenchError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                             (p.stderr or p.stdout).strip()[:400]))
    if p.returncode and not quiet:
        log("  %s: exit %d: %s" % (cmd[-1] if len(cmd) < 3 else " ".join(cmd[:6]), p.returncode,
                                   (p.stderr or p.stdout).strip()[:200]))
    return p.stdout


def run_json(cmd, check=True, timeout=120):
    out = run(cmd, check=check, timeout=timeout, quiet=not check)
    try:
        return json.loads(out)
    except ValueError:
        if check:
            raise BenchError("%s: not JSON: %s" % (" ".join(cmd), out[:200]))
        return None


def prog_ids(ns):
    """The ids of the XDP and tc programs attached in namespace NS."""
    ids = set()
    for sect in run_json(nse(ns, "bpftool", "net", "show", "-j"), check=False) or []:
        for kind in ("xdp", "tc"):
            for e in sect.get(kind, []):
                for p in [e] + e.get("multi_attachments", []):
                    if "id" in p:
                        ids.add(p["id"])
    return sorted(ids)


def run_totals(ids):
    """bpf_stats of programs IDS, summed: (run_time_ns, run_cnt)."""
    ns = cnt = 0
    for i in ids:
        d = run_json(["bpftool", "prog", "show", "id", str(i), "-j"], check=False) or {}
        ns += d.get("run_time_ns", 0)
        cnt += d.get("run_cnt", 0)
    return ns, cnt


def cpu_times(cpu=None):
    """(busy, steal) seconds of the whole machine, or of one CPU, from /proc/stat."""
    key = "cpu" if cpu is None else "cpu%d" % cpu
    with open("/proc/stat") as f:
        for line in f:
            w = line.split()
            if w[0] == key:
                v = [int(x) for x in w[1:]]
                # user nice system idle iowait irq softirq steal
                return (v[0] + v[1] + v[2] + v[5] + v[6]) / USER_HZ, v[7] / USER_HZ
    return 0.0, 0.0


def schedstat(pid):
    """(ns run, ns waited runnable) of a task, 0 when it is gone."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            w = f.read().split()
        return int(w[0]), int(w[1])
    except (OSError, ValueError, IndexError):
        return 0, 0


class Machine:
    """The processes we started, the sysctl we changed, and their undoing."""

    def __init__(self, gen_cpu, router_cpu):
        self.gen_cpu = gen_cpu
        self.router_cpu = router_cpu
        self.procs = {}
        self.stats_old = None
        self.spin_pid = None
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, sig, frame):
        log("interrupted")
        raise SystemExit(128 + sig)

    def start(self, cmd, out=subprocess.DEVNULL):
        """Start CMD in the background; its PID is ours to stop."""
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.procs[p.pid] = p
        return p

    def stop(self, p):
        if p is None or p.pid not in self.procs:
            return
        del self.procs[p.pid]
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def spin_start(self):
        """A SCHED_IDLE spinner on the router's core: it takes only the time
        nothing else wants and keeps the vCPU from halting between packets
        (a halted vCPU of this VM takes longer to wake than a veth ring lasts)."""
        if self.spin_pid is None:
            p = self.start(["taskset", "-c", str(self.router_cpu), "chrt", "-i", "0",
                            "sh", "-c", "while :; do :; done"])
            self.spin_pid = p.pid

    def spin_stop(self):
        if self.spin_pid is not None:
            self.stop(self.procs.get(self.spin_pid))
            self.spin_pid = None

    def stats_enable(self):
        if self.stats_old is None:
            self.stats_old = run(["sysctl", "-n", "kernel.bpf_stats_enabled"]).strip()
        run(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"])

    def stats_restore(self):
        if self.stats_old is not None:
            run(["sysctl", "-qw", "kernel.bpf_stats_enabled=%s" % self.stats_old], check=False)
            self.stats_old = None

    def close(self):
        for p in list(self.procs.values()):
            self.stop(p)
        self.spin_pid = None
        self.stats_restore()
