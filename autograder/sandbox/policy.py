"""The sandbox every piece of student code runs in: bubblewrap and resource limits.

This module is the grader's side (it is hidden inside the sandbox): :func:`student_policy` is
the one place a grading run's policy is built.

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

__all__ = ["SandboxPolicy", "bwrap_available", "sandboxed", "student_policy", "hidden_paths", "thread_env",
           "PROGRAMS", "NO_SANDBOX_MESSAGE"]

#: the package's programs that run inside the sandbox (standard library only), bound read-only
PROGRAMS = ("protocol.py", "guard.py", "host_program.py", "student_program.py")

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

    visible: tuple[Path, ...] = ()
    """Files bound back read-only after the hidden folders: the programs that run inside."""


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
    for path in policy.visible:
        path = Path(path).resolve()
        wrap += ["--ro-bind", str(path), str(path)]
    for path in (*policy.writable, scratch):
        wrap += ["--bind", str(Path(path).resolve()), str(Path(path).resolve())]
    env = {"HOME": scratch, "TMPDIR": "/tmp", "MPLCONFIGDIR": "/tmp/matplotlib",
           "IPYTHONDIR": "/tmp/ipython", "MPLBACKEND": "Agg", **policy.env}
    for key, value in env.items():
        wrap += ["--setenv", key, str(value)]
    return wrap + ["--chdir", scratch, "--"] + limited


def thread_env(threads: int) -> dict[str, str]:
    """One job's share of the cores, for its student's process and its host: OpenMP threads
    spinning in two processes at once would make every call across the channel slow."""
    return {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "OMP_WAIT_POLICY": "PASSIVE"}


def hidden_paths(source_root: Path, source_directory: str, out: Path, submissions: Path) -> list[Path]:
    """What student code must not see: the reference and checks (the ``autograder`` package),
    the solutions, the grading output (gradebook included), the class's submissions, and every
    other folder of the course repository and of the instructor's course (tests with correct
    implementations, ``.git`` whose objects hold the solutions, earlier grading runs) but the
    student library ``course/`` and the Python environment."""
    import autograder
    import course

    package_root = Path(autograder.__file__).resolve().parent
    keep = {Path(course.__file__).resolve().parent, Path(sys.prefix).resolve(),
            Path(sys.base_prefix).resolve()}
    hidden = [package_root, (Path(source_root) / source_directory).resolve(), Path(out).resolve(),
              Path(submissions).resolve()]
    for root in {package_root.parent, Path(source_root).resolve()}:
        if root == Path(root.anchor):  # never hide a whole file system's top folders
            continue
        for entry in sorted(root.iterdir()):
            entry = entry.resolve()
            if entry.is_dir() and not any(k == entry or k.is_relative_to(entry) for k in keep) \
                    and entry not in hidden:
                hidden.append(entry)
    return hidden


def _programs() -> tuple[Path, ...]:
    """The in-sandbox programs, with the ``__init__.py`` of each package above them."""
    import autograder

    here = Path(__file__).resolve().parent
    top = Path(autograder.__file__).resolve().parent
    files = [here / name for name in PROGRAMS]
    folder = here
    while folder.is_relative_to(top):
        files.append(folder / "__init__.py")
        if folder == top:
            break
        folder = folder.parent
    return tuple(files)


def student_policy(settings, hidden, threads: int, scratch: Path = Path("/nonexistent")) -> SandboxPolicy:
    """THE sandbox policy of student code for a grading run: ``hidden`` out of sight (see
    :func:`hidden_paths`), the memory and file limits of ``settings`` (set by each student's
    process for itself), one job's share of the cores, the in-sandbox programs visible."""
    import autograder

    package_parent = str(Path(autograder.__file__).resolve().parent.parent)
    return SandboxPolicy(scratch=Path(scratch), hidden=tuple(Path(p) for p in hidden),
                         memory_bytes=settings.memory_limit_mb * 1024 ** 2,
                         file_bytes=settings.file_limit_mb * 1024 ** 2, use_bwrap=settings.sandbox,
                         env={**thread_env(threads), "PYTHONPATH": package_parent}, visible=_programs())
