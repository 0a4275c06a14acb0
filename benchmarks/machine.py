"""What the machine gave a benchmark while it ran: to read its wall-clock figures by.

On a virtual machine the host may give a share of "our" cores to other guests (*steal*
time in ``/proc/stat``); a wall time measured then is longer than the same work takes on
the machine alone, while the process's own CPU time hardly changes. Every benchmark
prints the steal and the load next to its figures.
"""
from __future__ import annotations

import os

__all__ = ["MachineShare"]


def _cpu_times() -> list[int] | None:
    try:
        with open("/proc/stat") as f:
            return [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None


class MachineShare:
    """``with MachineShare() as share: ...`` then ``share.summary()``: steal %, busy %, load."""

    def __enter__(self):
        self.start = _cpu_times()
        return self

    def __exit__(self, *exc):
        self.end = _cpu_times()

    def summary(self) -> str:
        load = os.getloadavg()[0]
        if not self.start or not getattr(self, "end", None):
            return f"load average {load:.2f}"
        delta = [b - a for a, b in zip(self.start, self.end)]
        total = sum(delta[:8]) or 1  # user nice system idle iowait irq softirq steal
        steal = delta[7] / total if len(delta) > 7 else 0.0
        busy = (total - delta[3] - delta[4] - (delta[7] if len(delta) > 7 else 0)) / total
        return (f"machine during the run: {100 * steal:.0f}% of the CPU time stolen by the host "
                f"(given to other guests), {100 * busy:.0f}% busy here, load average {load:.2f}")
