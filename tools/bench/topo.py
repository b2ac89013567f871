# SPDX-License-Identifier: GPL-2.0
"""topo.py - one topology of topo.sh, held for as long as the object lives.

topo.sh builds the namespaces (selftests/net/lib.sh, random suffix, EXIT
trap) and waits on its standard input: closing it, or our exit, removes
everything it made.
"""
import os
import subprocess
import time

from machine import BenchError, nsx, run, schedstat

HERE = os.path.dirname(os.path.abspath(__file__))


class Topology:
    def __init__(self, kind, rules, env):
        self.kind = kind
        self.proc = subprocess.Popen([os.path.join(HERE, "topo.sh"), kind, rules],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=env,
                                     start_new_session=True)
        self.info = {}
        lines = []
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line == "READY":
                break
            lines.append(line)
            k, sep, v = line.partition("=")
            if sep and k.isidentifier():
                self.info[k] = v
        else:
            self.proc.wait()
            raise BenchError("topology %s (%s rules) failed:\n  %s" %
                             (kind, rules, "\n  ".join(lines[-30:])))
        self.napi = []  # (role, pid) of the NAPI threads we pinned

    def __getattr__(self, key):
        try:
            return self.__dict__["info"][key]
        except KeyError:
            raise AttributeError(key)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait()

    # -- NAPI threads: the receive path of a veth runs where we put it

    def napi_pin(self, ns, dev, cpu, role):
        """Threaded NAPI for NS/DEV, its kthread pinned to CPU and run
        SCHED_FIFO, as softirq would be, not wherever the sender runs."""
        before = set(napi_threads(dev))
        run(nsx(ns, "sh", "-c", "echo 1 > /sys/class/net/%s/threaded" % dev))
        for _ in range(20):
            for pid in napi_threads(dev):
                if pid in before:
                    continue
                run(["taskset", "-pc", str(cpu), str(pid)])
                run(["chrt", "-f", "-p", "50", str(pid)])
                self.napi.append((role, pid))
                return
            time.sleep(0.05)
        raise BenchError("%s: no napi kthread appeared for %s" % (ns, dev))

    def napi_ns(self, role, field=0):
        return sum(schedstat(pid)[field] for r, pid in self.napi if r == role)

    def ns_inode(self, ns):
        return os.stat("/run/netns/%s" % ns).st_ino


def napi_threads(dev):
    """PIDs of the kthreads named napi/DEV-<id>."""
    out = run(["ps", "-eo", "pid=,comm="])
    want = "napi/%s-" % dev
    pids = []
    for line in out.splitlines():
        w = line.split(None, 1)
        if len(w) == 2 and w[1].startswith(want) and w[1][len(want):].isdigit():
            pids.append(int(w[0]))
    return pids

