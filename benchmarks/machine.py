"""What the machine gave a benchmark while it ran: to read its wall-clock figures by.

On a virtual machine the host may give a share of "our" cores to other guests (*steal*
time in ``/proc/stat``); a wall time measured then is longer than the same work takes on
the machine alone, while the process's own CPU time hardly changes. Every benchmark
prints the steal and the load next to its figures.
"""
from __future__ import annotations

import os
import threading

__all__ = ["MachineShare", "ProcessTree"]


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


def _pss(pid: int) -> int | None:
    """The proportional set size of ``pid`` in bytes (each page shared with other processes
    counted as its share), or ``None`` when the kernel does not tell us."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class ProcessTree:
    """``with ProcessTree() as tree:`` this process and all its descendants, sampled every
    ``every`` s (the sampling thread shares this process with what it measures: each sample
    holds the interpreter for a few milliseconds): ``tree.peak`` (summed resident memory,
    bytes: a page shared by forked processes counts once in each), ``tree.peak_proportional``
    (summed proportional set size, sampled every ``every_pss`` s: a shared page divided among
    its processes; ``None`` when the kernel does not report it) and :meth:`cpu_by` (CPU
    seconds each process used, summed by a role its command line names; a process that lives
    less than a sample is missed)."""

    def __init__(self, every: float = 0.25, every_pss: float = 2.0):
        self.peak, self.every, self._stop = 0, every, threading.Event()
        self.peak_proportional: int | None = None
        self._pss_every, self._samples = max(1, round(every_pss / every)), 0
        self._cpu: dict[int, float] = {}
        self._command: dict[int, str] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._page = os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        children: dict[int, list[int]] = {}
        stats: dict[int, tuple[float, int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
                stats[int(entry)] = ((int(fields[11]) + int(fields[12])) / self._tick, int(fields[21]) * self._page)
            except (OSError, IndexError, ValueError):
                continue
        rss, pss, todo = 0, 0, [os.getpid()]
        proportional = self._samples % self._pss_every == 0
        self._samples += 1
        while todo:
            pid = todo.pop()
            if pid in stats:
                cpu, memory = stats[pid]
                rss += memory
                if proportional:
                    share = _pss(pid)
                    pss = None if share is None or pss is None else pss + share
                self._cpu[pid] = max(self._cpu.get(pid, 0.0), cpu)
                if pid not in self._command:
                    try:
                        with open(f"/proc/{pid}/cmdline", "rb") as f:
                            self._command[pid] = f.read(400).replace(b"\0", b" ").decode(errors="replace")
                    except OSError:
                        self._command[pid] = ""
            todo.extend(children.get(pid, []))
        self.peak = max(self.peak, rss)
        if proportional and pss is not None:
            self.peak_proportional = max(self.peak_proportional or 0, pss)

    def _run(self):
        while not self._stop.wait(self.every):
            self._sample()

    def cpu_by(self, role) -> dict[str, float]:
        found: dict[str, float] = {}
        for pid, cpu in self._cpu.items():
            name = role(self._command.get(pid, ""))
            found[name] = found.get(name, 0.0) + cpu
        return found

    def __enter__(self):
        self._start_cpu = os.times()
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()
        # this process's own CPU over the run only (not what it used before)
        self._cpu[os.getpid()] -= self._start_cpu.user + self._start_cpu.system
