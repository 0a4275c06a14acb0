"""Warm kernels: student kernels forked, inside the sandbox, from a process that has already
imported torch, numpy, matplotlib, IPython and the course library.

A cold kernel spends most of a submission's grading time before the student's first line
runs: starting Python, importing torch and matplotlib (about 3 s on this course's 2-core
machine) and, on the first ``optimizer.step()``, torch's lazy import of its compiler
(about 2 s more). A :class:`WarmKernelPool` starts one *zygote* per parallel job, once per
grading run: a process in the class's sandbox (:mod:`autograder.sandbox`: no network, the
checks, the reference, the solutions and the other submissions out of sight) that imports
all that once. For each submission, the kernelspec's command is a small relay
(``python -m autograder.warm_kernels relay SOCKET -f CONNECTION_FILE``) that asks its
zygote to fork; the child takes the submission's scratch folder, limits and environment,
and becomes the kernel (``IPKernelApp``), so nbclient and nbgrader see an ordinary kernel.

Isolation between the submissions a zygote serves, one at a time:

- the zygote is not dumpable (``PR_SET_DUMPABLE`` 0) and has dropped every capability, so
  a kernel can neither trace it nor write its memory; a fork shares nothing writable;
- when a kernel ends (or its relay is killed), the zygote kills every other process in the
  sandbox's process namespace (``kill(-1, SIGKILL)``: anything a kernel left behind), so
  the next submission starts with the zygote alone;
- each submission's scratch folder has a fresh random name, created by the grader, and is
  removed after it.

When bubblewrap is missing, grading runs without the sandbox, or the executor runs jobs
on other machines, kernels start cold, as before.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from .sandbox import SandboxPolicy, sandboxed

__all__ = ["WarmKernelPool", "Zygote", "kernel_request", "new_job_folder", "relay_argv"]

#: the zygote's program, passed to ``python -c`` (the sandbox hides this package)
ZYGOTE_PROGRAM = Path(__file__).with_name("zygote.py")


def relay_argv(socket_path: str, request_file: str) -> list[str]:
    """The kernelspec command of a warm kernel (``{connection_file}`` filled in by jupyter_client)."""
    return [sys.executable, "-m", "autograder.warm_kernels", "relay", str(socket_path), str(request_file),
            "-f", "{connection_file}"]


# ------------------------------------------------------------------ the grader's side

class Zygote:
    """One warm process in its own sandbox, serving one kernel at a time.

    Its control socket is created here and handed to it as an open file descriptor: its path
    is outside the sandbox, so no kernel can replace it. The sandbox sees ``work/`` (where
    each submission's folder is made) and nothing else writable.
    """

    def __init__(self, policy: SandboxPolicy, threads: int):
        self.folder = Path(tempfile.mkdtemp(prefix="ag-zygote-"))
        self.work = self.folder / "work"
        self.work.mkdir()
        self.socket_path = str(self.folder / "zygote.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.socket_path)
        listener.listen(1)
        # no memory limit on the zygote itself: each kernel sets its own after the fork
        argv = sandboxed([sys.executable, "-c", ZYGOTE_PROGRAM.read_text(), str(listener.fileno()), str(int(threads)),
                          str(self.work)],
                         replace(policy, scratch=self.work, writable=(), memory_bytes=0))
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True,
                                     pass_fds=(listener.fileno(),))
        listener.close()
        self._ready = False

    def ready(self, timeout: float) -> bool:
        """Has it finished importing (``ready`` on its stdout) within ``timeout`` seconds?"""
        if not self._ready:
            import select

            readable, _, _ = select.select([self.proc.stdout], [], [], timeout)
            self._ready = bool(readable) and self.proc.stdout.readline().strip() == b"ready"
        return self._ready and self.proc.poll() is None

    def new_job_folder(self) -> Path:
        return new_job_folder(self.work)

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def new_job_folder(work: Path) -> Path:
    """A fresh, randomly named folder in a zygote's ``work`` for one submission: scratch/,
    tmp/, runtime/ (what :func:`kernel_request` points the kernel to)."""
    folder = Path(tempfile.mkdtemp(prefix="job-", dir=work))
    for name in ("scratch", "tmp", "runtime"):
        (folder / name).mkdir()
    return folder


def kernel_request(job_folder: Path, memory_bytes: int, file_bytes: int, env: dict) -> dict:
    """What the relay asks the zygote for: the kernel's folder, limits and environment (HOME,
    temporary files and IPython's and matplotlib's settings all inside the job's folder)."""
    folder = Path(job_folder)
    tmp = folder / "tmp"
    return {"job": str(folder), "cwd": str(folder / "scratch"), "memory_bytes": int(memory_bytes),
            "file_bytes": int(file_bytes),
            "env": {**env, "HOME": str(folder / "scratch"), "TMPDIR": str(tmp),
                    "MPLCONFIGDIR": str(tmp / "matplotlib"), "IPYTHONDIR": str(tmp / "ipython"),
                    "MPLBACKEND": "Agg"}}


class WarmKernelPool:
    """``size`` zygotes for one grading run; :meth:`acquire` lends one to a job."""

    def __init__(self, size: int, policy: SandboxPolicy, threads: int = 1, start_timeout: float = 120.0):
        self._policy, self._threads, self._start_timeout = policy, threads, start_timeout
        self._lock = threading.Condition()
        self._all = [Zygote(policy, threads) for _ in range(size)]
        self._free = list(self._all)

    def acquire(self) -> Zygote | None:
        """A ready zygote (waiting for a free one), or ``None`` if it will not start."""
        with self._lock:
            while not self._free:
                self._lock.wait()
            zygote = self._free.pop()
        if zygote.ready(self._start_timeout):
            return zygote
        self.release(zygote)
        return None

    def release(self, zygote: Zygote) -> None:
        """Give a zygote back; a dead one is replaced by a new one."""
        if zygote.proc.poll() is not None:
            zygote.close()
            fresh = Zygote(self._policy, self._threads)
            with self._lock:
                self._all = [z for z in self._all if z is not zygote] + [fresh]
            zygote = fresh
        with self._lock:
            self._free.append(zygote)
            self._lock.notify()

    def close(self) -> None:
        with self._lock:
            for zygote in self._all:
                zygote.close()
            self._all, self._free = [], []


# ------------------------------------------------------------------ the relay (kernelspec)

def _relay(socket_path: str, request_file: str, connection_file: str) -> int:
    """Ask the zygote for a kernel; wait until it ends. Killing this process kills the kernel.
    ``request_file`` (:func:`kernel_request`, in the job's folder out of the sandbox's sight)."""
    import select

    parent = os.getppid()
    config = json.loads(Path(request_file).read_text())
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(socket_path)
    conn.sendall((json.dumps({**config, "connection_file": connection_file}) + "\n").encode())
    reply = b""
    while True:
        readable, _, _ = select.select([conn], [], [], 0.5)
        if os.getppid() != parent:
            return 1  # the grader that started us is gone (killed at its timeout): so is the kernel
        if not readable:
            continue
        chunk = conn.recv(4096)
        if not chunk:
            return 1
        reply += chunk
        for line in reply.decode().splitlines():
            if line.startswith("exit "):
                return int(line.split()[1])


def main(argv: list[str] | None = None) -> int:
    argv = argv if argv is not None else sys.argv[1:]
    if argv[:1] == ["relay"] and len(argv) == 5 and argv[3] == "-f":
        return _relay(argv[1], argv[2], argv[4])
    print("usage: python -m autograder.warm_kernels relay SOCKET REQUEST -f CONNECTION_FILE",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
