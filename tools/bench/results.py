# SPDX-License-Identifier: GPL-2.0
"""results.py - what a run measured (every repetition, every trial), and the
waiting for a quiet machine that keeps others' work out of the figures."""
import time

from machine import cpu_times, log, schedstat


class Results:
    def __init__(self, quiet_budget, quiet_wait, verbose):
        self.results = []
        self.trials = []
        self.disturbed = 0
        self.failures = []
        self.skipped = []
        self.extra = []  # lines for the report's notes (and the JSON)
        self.quiet_budget = quiet_budget
        self.quiet_wait = quiet_wait
        self.verbose = verbose
        self._spent_logged = False

    def record(self, metric, path, unit, note, values):
        self.results.append({"metric": metric, "path": path, "unit": unit, "note": note,
                             "values": list(values)})

    def trial(self, t):
        self.trials.append(t)

    def vlog(self, msg):
        if self.verbose:
            log(msg)

    def wait_quiet(self, our_pids):
        """Wait (up to quiet_wait seconds at a time, quiet_budget in the whole
        run) until others use less than 5 % of the two cores; once the budget
        is spent the run goes on regardless and the trials say so."""
        t0 = time.monotonic()
        while self.quiet_budget > 0:
            foreign = self.foreign_share(our_pids, 0.5)
            waited = time.monotonic() - t0
            if foreign < 0.05:
                break
            if waited >= self.quiet_wait or waited >= self.quiet_budget:
                log("  the machine is busy (others use %.0f %% of a core); measuring anyway" %
                    (foreign * 100))
                break
            if waited < 1:
                log("  waiting for the machine to be quiet (others use %.0f %% of a core)" %
                    (foreign * 100))
        self.quiet_budget -= time.monotonic() - t0
        if self.quiet_budget <= 0 and not self._spent_logged:
            self._spent_logged = True
            log("  (the time for waiting is spent: no more waiting in this run)")

    @staticmethod
    def foreign_share(our_pids, secs):
        """Cores' worth of CPU others used over SECS (busy less our tasks)."""
        b0, _ = cpu_times()
        o0 = sum(schedstat(p)[0] for p in our_pids)
        time.sleep(secs)
        b1, _ = cpu_times()
        o1 = sum(schedstat(p)[0] for p in our_pids)
        return ((b1 - b0) - (o1 - o0) / 1e9) / secs
