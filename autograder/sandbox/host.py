"""The grader's side of a student host: starting hosts, and one submission's session with one.

A :class:`Host` is one sandboxed process (:mod:`autograder.sandbox.host_program`) that has imported the
student's environment once and forks each student's process from it; a :class:`HostPool` keeps
one per parallel job for a grading run. A :class:`Session` is what a submission's grading
process holds: it starts the student's process (:class:`StudentProcess`, the data channel to
it), interrupts or kills it at a time limit, and starts a fresh one when it must. Every read
has a deadline; a student's process that stops answering, ends, or kills its host is noticed,
never waited on forever.
"""
from __future__ import annotations

import ast
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from .protocol import MAX_FRAME, PeerGone, ProtocolError, receive, send
from .policy import SandboxPolicy, sandboxed

__all__ = ["Host", "HostPool", "Session", "StudentProcess", "StudentGone", "StudentStopped", "PRELOAD",
           "preload_for"]

#: what every host imports before it forks students: the libraries of every notebook
BASE_PRELOAD = ["numpy", "torch", "torch.nn", "torch.optim", "matplotlib", "matplotlib.pyplot",
                "matplotlib_inline.backend_inline", "IPython"]
#: what a host imports when its assignment is not known: all the course's notebooks may import
PRELOAD = BASE_PRELOAD + ["sklearn.metrics", "course"]


def preload_for(sources) -> list[str]:
    """What a host imports for one assignment: :data:`BASE_PRELOAD` and every module the code
    cells ``sources`` of its notebook import at top level (the autograder's never: the sandbox
    hides it, and no student's process may find it loaded). Each import not made here costs
    every student's process its time; each made here that no notebook needs costs the host's."""
    found = list(BASE_PRELOAD)
    for source in sources:
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # ``from sklearn import metrics``: the names may be modules too (the host skips
                # those that are not)
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            found += [n for n in names if n not in found and n.split(".")[0] != "autograder"]
    return found


#: seconds a student's process gets, after an interrupt, to answer before it is killed
INTERRUPT_GRACE = 3.0


class StudentGone(Exception):
    """The student's process ended (or its host did) before it answered."""


class StudentStopped(Exception):
    """The student's process did not answer within its time limit and was stopped."""

    def __init__(self, message: str, reply: dict | None = None):
        super().__init__(message)
        self.reply = reply  # what it said after the interrupt (``None``: it had to be killed)


class Host:
    """One student host in its own sandbox, serving one session at a time.

    Its listening socket is created here and handed to it as an open descriptor; the socket's
    folder is outside the sandbox, so no student can connect to it or replace it. The sandbox
    sees ``work/`` (where each student's folder is made) writable, and nothing else."""

    def __init__(self, policy: SandboxPolicy, threads: int, forbidden, max_lines: int = 200,
                 preload=PRELOAD):
        self.folder = Path(tempfile.mkdtemp(prefix="ag-host-"))
        self.work = self.folder / "work"
        self.work.mkdir()
        self.address = str(self.folder / "host.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.address)
        listener.listen(4)
        own = bool(policy.use_bwrap and _bwrap())
        config = {"listener": listener.fileno(), "work": str(self.work), "threads": int(threads),
                  "preload": list(preload), "forbidden": list(forbidden), "own_pid_namespace": own,
                  "memory_bytes": policy.memory_bytes, "file_bytes": policy.file_bytes,
                  "max_lines": int(max_lines), "env": dict(policy.env)}
        # the host itself has no memory limit: each student's process sets its own
        argv = sandboxed([sys.executable, "-m", f"{__package__}.host_program", json.dumps(config)],
                         replace(policy, scratch=self.work, memory_bytes=0))
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=None if os.environ.get("AG_DEBUG") else subprocess.DEVNULL, start_new_session=True,
                                     pass_fds=(listener.fileno(),), cwd=str(self.work),
                                     env={**os.environ, **policy.env})
        listener.close()
        self._ready = False

    def ready(self, timeout: float) -> bool:
        """Has it finished importing (``ready`` on its stdout) within ``timeout`` seconds?"""
        if not self._ready and self.proc.poll() is None:
            readable, _, _ = select.select([self.proc.stdout], [], [], timeout)
            self._ready = bool(readable) and self.proc.stdout.readline().strip() == b"ready"
        return self._ready and self.proc.poll() is None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _bwrap() -> bool:
    from .policy import bwrap_available

    return bwrap_available()


class HostPool:
    """``size`` hosts for one grading run; :meth:`lend` gives one to a job for a while."""

    def __init__(self, size: int, make_host, start_timeout: float = 180.0):
        self._make, self._start_timeout = make_host, start_timeout
        self._lock = threading.Condition()
        self._all = [make_host() for _ in range(size)]
        self._free = list(self._all)

    def acquire(self) -> Host | None:
        """A ready host (waiting for a free one), or ``None`` if it would not start."""
        with self._lock:
            while not self._free:
                self._lock.wait()
            host = self._free.pop()
        if host.ready(self._start_timeout):
            return host
        self.release(host)
        return None

    def release(self, host: Host) -> None:
        """Give a host back; a dead one is replaced by a fresh one."""
        if not host.alive():
            host.close()
            fresh = self._make()
            with self._lock:
                self._all = [h for h in self._all if h is not host] + [fresh]
            host = fresh
        with self._lock:
            self._free.append(host)
            self._lock.notify()

    def close(self) -> None:
        with self._lock:
            for host in self._all:
                host.close()
            self._all, self._free = [], []


class Session:
    """One submission's session with a host (its address): the student's process, and its
    replacements when one had to be stopped."""

    def __init__(self, address: str, cold: bool = False, timeout: float = 30.0):
        self.cold = cold
        self.control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.control.settimeout(timeout)
        self.control.connect(address)
        self.student: StudentProcess | None = None
        self.starts = 0
        self.cpu = 0.0  # CPU seconds its student processes said their answers took (a profile)

    def start(self, timeout: float = 60.0) -> "StudentProcess":
        """A fresh student's process (the previous one, if any, is ended by the host)."""
        if self.student is not None:
            self.student.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            send(self.control, {"op": "start", "cold": self.cold}, fds=[theirs.fileno()], timeout=timeout)
        except (PeerGone, OSError, TimeoutError) as exc:
            raise StudentGone(f"the student host is gone ({exc})") from None
        finally:
            theirs.close()
        deadline = time.monotonic() + timeout
        event = self._event(deadline)
        while event.get("event") == "exited":  # the previous process's end, reported late
            event = self._event(deadline)
        if event.get("event") != "started":
            raise StudentGone("the student host did not start the student's process")
        self.starts += 1
        self.student = StudentProcess(self, ours)
        return self.student

    def _event(self, deadline: float | None) -> dict:
        try:
            event = receive(self.control, deadline)
        except (PeerGone, OSError, ProtocolError, TimeoutError) as exc:
            raise StudentGone(f"the student host is gone ({type(exc).__name__})") from None
        if not isinstance(event, dict):
            raise StudentGone("the student host sent garbage")
        return event

    def tell(self, op: str) -> None:
        try:
            send(self.control, {"op": op}, timeout=10)
        except (PeerGone, OSError, TimeoutError):
            pass

    def close(self) -> None:
        if self.student is not None:
            self.student.close()
        try:
            send(self.control, {"op": "end"}, timeout=5)
        except (PeerGone, OSError, TimeoutError):
            pass
        self.control.close()


class StudentProcess:
    """The data channel to one student's process: a request, its answer, within a limit."""

    def __init__(self, session: Session, channel: socket.socket):
        self.session, self.channel = session, channel
        self.exited: int | None = None
        self.open = True
        self.bytes = 0  # the last request's and answer's size: what the transport carried

    def alive(self) -> bool:
        return self.open and self.exited is None

    def request(self, message: dict, limit: float, what: str = "your code", max_bytes: int = MAX_FRAME) -> dict:
        """Send ``message``; its answer within ``limit`` seconds.

        Past the limit the process is interrupted (SIGINT, which student code sees as a
        KeyboardInterrupt) and given :data:`INTERRUPT_GRACE` seconds to answer: then
        :class:`StudentStopped` carries that answer; without one the process is killed.
        :class:`StudentGone` when the process ended first."""
        if not self.alive():
            raise StudentGone(f"the Python process running your code had already ended before {what}")
        deadline = time.monotonic() + limit
        try:
            self.bytes = send(self.channel, message, timeout=max(limit, 10.0))
            return self._reply(deadline, what, max_bytes)
        except TimeoutError:
            pass
        except (PeerGone, OSError):
            self.open = False
            self._wait_exit()
            raise StudentGone(f"the Python process ended while {what} (os._exit, exit(), a crash, or "
                              "the memory limit)") from None
        self.session.tell("interrupt")
        try:
            reply = self._reply(time.monotonic() + INTERRUPT_GRACE, what, max_bytes)
        except TimeoutError:
            self.kill()
            raise StudentStopped(f"{what} did not finish within {limit:.3g} s and did not stop when "
                                 "interrupted: its process was ended") from None
        raise StudentStopped(f"{what} did not finish within {limit:.3g} s: it was interrupted", reply)

    def _reply(self, deadline: float, what: str, max_bytes: int) -> dict:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            readable, _, _ = select.select([self.channel, self.session.control], [], [], remaining)
            if self.session.control in readable:
                event = self.session._event(time.monotonic() + 10)
                if event.get("event") == "exited":
                    self.exited = event.get("code")
                    self.open = False
                    raise StudentGone(f"the Python process ended while {what} (os._exit, exit(), a "
                                      "crash, or the memory limit)")
            if self.channel in readable:
                try:  # once an answer has begun, a large one may take a while to arrive
                    sizes = []
                    reply = receive(self.channel, max(deadline, time.monotonic() + 30), max_bytes, sizes=sizes)
                    self.bytes += sizes[0]
                except TimeoutError:  # half an answer, then nothing: the channel is no use any more
                    self.kill()
                    raise StudentGone(f"the process running your code stopped half-way through its "
                                      f"answer while {what}") from None
                except (PeerGone, OSError):
                    self.open = False
                    self._wait_exit()
                    raise StudentGone(f"the Python process ended while {what} (os._exit, exit(), a "
                                      "crash, or the memory limit)") from None
                except ProtocolError as exc:
                    self.kill()
                    raise StudentGone(f"the process running your code sent garbage while {what} "
                                      f"({exc})") from None
                if not isinstance(reply, dict) or "ok" not in reply:
                    self.kill()
                    raise StudentGone(f"the process running your code sent garbage while {what}")
                if isinstance(reply.get("cpu"), float):
                    self.session.cpu += reply["cpu"]
                return reply

    def _wait_exit(self, timeout: float = 10.0) -> None:
        """After the channel closed: the host's word that the process ended."""
        deadline = time.monotonic() + timeout
        while self.exited is None and time.monotonic() < deadline:
            try:
                event = self.session._event(deadline)
            except StudentGone:
                return
            if event.get("event") == "exited":
                self.exited = event.get("code")

    def kill(self) -> None:
        if self.exited is None:
            self.session.tell("kill")
            self.open = False
            self._wait_exit()

    def close(self) -> None:
        if self.alive():
            try:
                send(self.channel, {"op": "quit"}, timeout=2)
            except (PeerGone, OSError, TimeoutError):
                pass
        self.kill()
        self.channel.close()
