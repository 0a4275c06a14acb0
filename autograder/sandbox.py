"""The sandbox every piece of student code runs in: bubblewrap, resource limits, a kernelspec.

A sandboxed process sees the whole file system read-only, except its own scratch folder
and the folders named writable; the grading output, the submissions, the hidden reference
and the checks, /tmp and the grader's home folder are not there at all (an empty tmpfs
covers them; the Python environment and the course library are bound back if they live
there). It has no network (its
own network namespace, loopback only), no view of other processes, no capabilities, and
``prlimit`` caps its address space, file size and core dumps. It dies with its parent.

Without ``bwrap`` the same command runs with the resource limits only, and grading says so
once (:data:`NO_SANDBOX_MESSAGE`).
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SandboxPolicy", "bwrap_available", "sandboxed", "write_kernelspec", "KERNEL_NAME",
           "NO_SANDBOX_MESSAGE"]

KERNEL_NAME = "autograder-sandbox"

NO_SANDBOX_MESSAGE = ("warning: bubblewrap (bwrap) is not available: student code runs WITHOUT "
                      "a sandbox (with memory and time limits only; it can read and write what "
                      "you can, and reach the network). Install it with `apt-get install "
                      "bubblewrap`.")


@dataclass(frozen=True)
class SandboxPolicy:
    """Where a sandboxed process may write, what it must not see, and its limits."""

    scratch: Path
    """Its working folder, writable; HOME and TMPDIR point here."""

    hidden: tuple[Path, ...] = ()
    """Folders replaced by an empty tmpfs: the reference, checks, grading output, submissions."""

    writable: tuple[Path, ...] = ()
    """Further folders mounted writable (the kernel's runtime folder for its IPC sockets)."""

    memory_bytes: int = 0
    """Address-space limit (RLIMIT_AS); 0 for none."""

    file_bytes: int = 0
    """Largest file it may write (RLIMIT_FSIZE); 0 for none."""

    use_bwrap: bool = True
    """False to run with the limits only (``--no-sandbox``, or no bwrap on the machine)."""

    env: dict = field(default_factory=dict, compare=False)
    """Extra environment variables inside the sandbox."""


@functools.lru_cache(maxsize=1)
def bwrap_available() -> bool:
    """Is ``bwrap`` installed, and can it create the namespaces we need here?"""
    exe = shutil.which("bwrap")
    if not exe:
        return False
    try:
        probe = subprocess.run([exe, "--ro-bind", "/", "/", "--unshare-all", "--cap-drop", "ALL",
                                "--die-with-parent", "--", "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def _limits(policy: SandboxPolicy) -> list[str]:
    prlimit = shutil.which("prlimit")
    if not prlimit:
        return []
    argv = [prlimit, "--core=0"]
    if policy.memory_bytes:
        argv.append(f"--as={int(policy.memory_bytes)}")
    if policy.file_bytes:
        argv.append(f"--fsize={int(policy.file_bytes)}")
    return argv + ["--"]


def _veiled() -> list[Path]:
    """Folders the sandbox replaces by an empty tmpfs whatever the policy: /tmp (other
    users' and other jobs' files) and the grader's home (keys, tokens, other courses), which
    a student could otherwise print into the feedback they get back."""
    veiled = [Path("/tmp")]
    home = Path(os.environ.get("HOME") or "/").resolve()
    if home != Path(home.anchor) and home.is_dir() and home not in veiled:
        veiled.append(home)
    return veiled


def _needed_in(veiled: list[Path]) -> list[str]:
    """What the kernel must see that may live in a veiled folder: the interpreter's
    environment and the course library (a venv or a clone in /tmp or in the home folder)."""
    import course

    paths = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
             Path(course.__file__).resolve().parent.parent}
    return sorted(str(p) for p in paths
                  if any(p != v and p.is_relative_to(v) for v in veiled))


def sandboxed(argv: list[str], policy: SandboxPolicy) -> list[str]:
    """``argv`` wrapped in bubblewrap (when ``policy.use_bwrap`` and available) and prlimit."""
    limited = _limits(policy) + list(argv)
    if not (policy.use_bwrap and bwrap_available()):
        return limited
    scratch = str(Path(policy.scratch).resolve())
    veiled = _veiled()
    needed = _needed_in(veiled)
    wrap = [shutil.which("bwrap"), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for path in veiled:
        wrap += ["--tmpfs", str(path)]
    wrap += ["--unshare-all", "--cap-drop", "ALL", "--die-with-parent", "--new-session",
             "--unsetenv", "JPY_PARENT_PID"]
    for path in needed:  # a venv or clone in a veiled folder: the tmpfs above hid it
        wrap += ["--ro-bind", path, path]
    for path in policy.hidden:
        path = Path(path).resolve()
        if path.is_dir():
            wrap += ["--tmpfs", str(path)]
        elif path.is_file():  # a .zip of submissions, say: an empty file in its place
            wrap += ["--ro-bind", "/dev/null", str(path)]
    for path in (*policy.writable, scratch):
        wrap += ["--bind", str(Path(path).resolve()), str(Path(path).resolve())]
    env = {"HOME": scratch, "TMPDIR": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib",
           "IPYTHONDIR": "/tmp/ipython", "MPLBACKEND": "Agg", **policy.env}
    for key, value in env.items():
        wrap += ["--setenv", key, str(value)]
    return wrap + ["--chdir", scratch, "--"] + limited


def write_kernelspec(into: Path, policy: SandboxPolicy, python: str = sys.executable,
                     argv: list[str] | None = None) -> Path:
    """A kernelspec ``KERNEL_NAME`` under ``into/kernels`` whose kernel runs sandboxed.

    The kernel talks to its client over IPC sockets in the (writable) folder of its
    connection file: a sandbox has its own network namespace, so TCP on localhost would not
    reach the grader. Interrupts are sent as messages, which reach through bubblewrap.
    """
    folder = Path(into) / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    if argv is None:  # otherwise a command that gets its kernel sandboxed by other means
        argv = sandboxed([python, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                          "--HistoryManager.hist_file=:memory:"], policy)
    spec = {"argv": argv, "display_name": "Python 3 (autograder sandbox)", "language": "python",
            "interrupt_mode": "message", "metadata": {"debugger": False}}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return folder
