"""Where training runs and how much of it: device choice and workload size.

Training code picks ``cuda``, then ``mps``, then ``cpu``. Heavy notebook cells ask
:func:`workload` how big to be, so that the same cell trains for real on a GPU,
shrinks on a laptop CPU, and takes seconds under autograding.

Environment variables:

- ``COURSE_DEVICE``: force a device (``cpu``, ``cuda``, ``cuda:1``, ``mps``).
- ``NBGRADER_EXECUTION``: set by nbgrader while it executes a notebook
  (``autograde``/``validate``); heavy cells then take their smallest size.
- ``COURSE_QUICK``: set by the test suite and CI to ask for the smallest size too.
- ``COURSE_STATIC``: live widgets or their static figures (:func:`course.widgets.is_static`,
  which starts from :func:`is_quick`).
- ``COURSE_SIZE``: force one size everywhere (``full``, ``cpu`` or ``quick``): to record a
  full-size run on any machine, or to run a lecture at its CPU size under the tests.
- ``COURSE_CPU_THREADS``: how many threads torch uses on a CPU (see
  :func:`configure_cpu_threads`).

A flag (``COURSE_QUICK``, ``COURSE_STATIC``) is read by :func:`env_flag`: ``1``/``true``/``yes``/``on``
set it, ``0``/``false``/``no``/``off`` or empty clear it.
"""
from __future__ import annotations

import math
import os
import random

import numpy as np
import torch

__all__ = [
    "pick_device",
    "is_autograding",
    "is_quick",
    "env_flag",
    "workload",
    "current_size",
    "SIZES",
    "set_seed",
    "describe_device",
    "configure_cpu_threads",
    "ensure_cpu_threads",
    "usable_cpu_cores",
    "busy_cpu_cores",
]

# torch's own choice (one thread per physical core), read before anything here changes it
_TORCH_DEFAULT_THREADS = torch.get_num_threads()
# a container's CPU quota (cgroup v2): "max 100000" (no limit) or "200000 100000" (two CPUs)
CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"
# small networks gain nothing from more threads than this; they lose to the overhead
MAX_CPU_THREADS = 8


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the best available device: ``cuda``, then ``mps``, then ``cpu``.

    ``prefer`` (or the ``COURSE_DEVICE`` environment variable) forces a choice;
    asking for a device that is not there raises ``RuntimeError`` with the reason.
    """
    wanted = prefer or os.environ.get("COURSE_DEVICE", "").strip()
    if wanted:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {str(wanted)!r} was asked for, but torch sees no CUDA GPU")
        if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
            raise RuntimeError(f"device {str(wanted)!r} was asked for, but torch sees only "
                               f"{torch.cuda.device_count()} CUDA GPU(s)")
        if device.type == "mps" and not _mps_available():
            raise RuntimeError(f"device {str(wanted)!r} was asked for, but MPS is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def is_autograding() -> bool:
    """True while nbgrader executes the notebook (it sets ``NBGRADER_EXECUTION``)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_flag(name: str) -> bool | None:
    """The environment flag ``name``: True, False, or None when it is unset or empty.

    Raises ``ValueError`` for a value that is neither (``COURSE_QUICK=maybe``), rather than guess.
    """
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={os.environ[name]!r}: use 1/true/yes/on or 0/false/no/off")


def is_quick() -> bool:
    """True when heavy cells should take their smallest size: under nbgrader, or with
    ``COURSE_QUICK`` set (the tests, CI). Headless widgets follow it too (:func:`course.widgets.is_static`)."""
    return is_autograding() or bool(env_flag("COURSE_QUICK"))


SIZES = ("full", "cpu", "quick")


def current_size(device: torch.device | str | None = None) -> str:
    """Which size heavy cells take here: ``"full"``, ``"cpu"`` or ``"quick"``.

    First match wins: ``COURSE_SIZE`` when set; ``"quick"`` under autograding, in the tests
    and in CI (:func:`is_quick`); ``"cpu"`` when training runs on the CPU; ``"full"`` on an
    accelerator (CUDA or MPS).
    """
    forced = os.environ.get("COURSE_SIZE", "").strip().lower()
    if forced:
        if forced not in SIZES:
            raise ValueError(f"COURSE_SIZE must be one of {', '.join(SIZES)}, not {forced!r}")
        return forced
    if is_quick():
        return "quick"
    device = torch.device(device) if device is not None else pick_device()
    return "cpu" if device.type == "cpu" else "full"


def workload(full, cpu, quick=None, device: torch.device | str | None = None):
    """Choose a heavy cell's size for where it runs (:func:`current_size`).

    >>> num_epochs = workload(full=40, cpu=8, quick=1)

    ``full`` is the real run, on an accelerator (CUDA or MPS): tens of seconds to minutes on a
    GPU. ``cpu`` is what a 2-core CPU finishes in seconds, ``quick`` (default: ``cpu``) what
    autograding, the tests and CI run. Any value works: ints, tuples, dicts, configurations.
    """
    size = current_size(device)
    if size == "quick":
        return cpu if quick is None else quick
    return cpu if size == "cpu" else full


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) for a repeatable run."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def usable_cpu_cores() -> int:
    """The CPUs this process may run on: its affinity mask, and a cgroup CPU quota if any."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        with open(CGROUP_CPU_MAX) as f:
            quota, period = f.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def busy_cpu_cores() -> float:
    """How many cores other work keeps busy: the one-minute load average (0 where there is none)."""
    try:
        return max(0.0, os.getloadavg()[0])
    except (AttributeError, OSError):
        return 0.0


def configure_cpu_threads(max_threads: int | None = None) -> int:
    """Give torch a sensible number of CPU threads and return it.

    ``COURSE_CPU_THREADS`` wins when set. Otherwise the smallest of: one thread per physical
    core (torch's own default, so no hyperthreads); the cores this process may use
    (:func:`usable_cpu_cores`); ``max_threads`` (default ``MAX_CPU_THREADS``: the course's
    networks are small, and beyond a few threads the overhead wins); and the cores that other
    work leaves free (:func:`busy_cpu_cores`), at least one. The last one matters: on a
    machine already busy, torch's threads wait for each other at every operation, and two
    threads on a loaded 2-core machine trained 30x slower than one.
    """
    from_env = os.environ.get("COURSE_CPU_THREADS", "").strip()
    if from_env:
        wanted = int(from_env)
    else:
        cores = usable_cpu_cores()
        free = max(1, round(cores - busy_cpu_cores()))
        wanted = min(_TORCH_DEFAULT_THREADS, cores, max_threads or MAX_CPU_THREADS, free)
    wanted = max(1, wanted)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


_threads_chosen: list[int] = []


def ensure_cpu_threads() -> int:
    """:func:`configure_cpu_threads` once per process; afterwards the count it chose.

    Training on the CPU (:func:`course.training.fit`) and :func:`describe_device` both call it,
    so the thread count a lecture prints at its start is the one its training uses.
    """
    if not _threads_chosen:
        _threads_chosen.append(configure_cpu_threads())
    return _threads_chosen[0]


def describe_device(device: torch.device | str | None = None) -> str:
    """One line for a notebook: which device, and its name for a GPU (for a CPU, the threads training uses)."""
    device = torch.device(device) if device is not None else pick_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        ensure_cpu_threads()
        threads = torch.get_num_threads()
        return f"cpu ({threads} thread{'s' if threads != 1 else ''})"
    return device.type
