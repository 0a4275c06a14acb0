"""The grader's side of a trusted check: the student's code in a sandboxed process, and
stand-ins that a check calls as if they were the student's function or optimizer class.

A check runs here, in the grader, with the reference beside it; every call of student code
crosses to :mod:`autograder.student_server` in the sandbox and comes back as data, rebuilt
into plain NumPy arrays and torch tensors. A dict argument (an optimizer's ``state``) is
updated in place from the student's side after each call, as the real call would.
"""
from __future__ import annotations

import builtins
import json
import os
import select
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

from . import student_server
from .sandbox import SandboxPolicy, sandboxed
from .student_server import CodecError, decode, encode

__all__ = ["Channel", "KernelChannel", "StudentProcess", "StudentProcessError", "RemoteFunction", "remote_optimizer_class"]

SERVER_SOURCE = Path(student_server.__file__).read_text(encoding="utf-8")


_REAL_PERF_COUNTER = time.perf_counter
_PIPE_SECONDS = [0.0]
TIMED_OPS = {"call", "trajectory", "step", "new_optimizer"}


def pipe_clock() -> float:
    """``time.perf_counter`` without the time spent carrying calls across the pipe, so a check
    that times the student's function (an O(n log n) requirement) times their code, not the
    transport. The credit per call is bounded (50 ms plus the bytes' share): a student's side
    that lied about its own compute time could not win more than that."""
    return _REAL_PERF_COUNTER() - _PIPE_SECONDS[0]


def install_pipe_clock():
    """Point ``time.perf_counter`` at :func:`pipe_clock` in this grader process; the undo."""
    time.perf_counter = pipe_clock

    def undo():
        time.perf_counter = _REAL_PERF_COUNTER
    return undo


class StudentProcessError(Exception):
    """The student's process ended, hung past its time, or answered with garbage."""


class Channel:
    """Requests to the student's side and its answers, with a time limit on each."""

    call_timeout: float = 60.0
    read_fd: int
    write_fd: int

    def alive(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read_exact(self, size: int, deadline: float) -> bytes:
        chunks, left = [], size
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.read_fd], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(self.read_fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.write_fd, view)
            view = view[written:]

    def request(self, message: dict, timeout: float | None = None, what: str = "your code") -> dict:
        if not self.alive():
            raise StudentProcessError(f"the Python process running your code had already ended "
                                      f"before {what}")
        timeout = self.call_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        began = _REAL_PERF_COUNTER()
        try:
            body = json.dumps(message).encode()
            self._write_all(struct.pack(">Q", len(body)) + body)
            (size,) = struct.unpack(">Q", self._read_exact(8, deadline))
            if size > student_server.MAX_FRAME:
                raise CodecError("oversized answer")
            reply = json.loads(self._read_exact(size, deadline))
        except TimeoutError:
            self.close()
            raise StudentProcessError(f"{what} did not finish within {timeout:g} s (an endless "
                                      "loop?); it was stopped") from None
        except (EOFError, OSError):
            self.close()
            raise StudentProcessError(f"the Python process ended while {what} "
                                      "(os._exit, exit() or a crash)") from None
        except (ValueError, CodecError) as exc:
            self.close()
            raise StudentProcessError(f"the process running your code sent garbage while {what} "
                                      f"({exc})") from None
        if not isinstance(reply, dict) or "ok" not in reply:
            raise StudentProcessError(f"the process running your code sent garbage while {what}")
        if message.get("op") in TIMED_OPS:
            wall = _REAL_PERF_COUNTER() - began
            try:
                compute = min(max(float(reply.get("seconds", 0.0)), 0.0), wall)
            except (TypeError, ValueError):
                compute = wall
            _PIPE_SECONDS[0] += min(wall - compute, 0.05 + 2e-8 * (len(body) + size))
        if not reply["ok"]:
            raise _rebuild_error(reply.get("error") or {})
        return reply

    def kinds(self, names: list[str]) -> dict:
        """``{name: "function" | "optimizer" | "class" | "value" | "missing"}``."""
        kinds = self.request({"op": "kinds", "names": names}, what="listing your definitions")["kinds"]
        return {name: str(kinds.get(name, "missing")) for name in names}

    def forbidden_calls(self) -> list[str]:
        """Library routines (torch.optim.Adam, F.batch_norm, sklearn.metrics...) the student's
        code called since the last ask, while a check was calling it."""
        if not self.alive():
            return []
        try:
            calls = self.request({"op": "forbidden"}, timeout=30, what="reporting library calls")["calls"]
        except Exception:  # noqa: BLE001 - a process that cannot answer has nothing to report
            return []
        return [c for c in calls if isinstance(c, str)][:10]

    def call(self, name: str, args: tuple, kwargs: dict):
        try:
            message = {"op": "call", "name": name, "args": encode(list(args)), "kwargs": encode(kwargs)}
        except CodecError as exc:  # the check passes something the pipe cannot carry
            raise StudentProcessError(f"the grader cannot send this call across ({exc})") from None
        reply = self.request(message, what=f"calling {name}")
        try:
            result = decode(reply["result"])
            new_args, new_kwargs = decode(reply["args"]), decode(reply["kwargs"])
        except (CodecError, KeyError, TypeError, ValueError) as exc:
            raise StudentProcessError(f"{name} returned something that is not data ({exc})") from None
        _sync(args, new_args)
        _sync(list(kwargs.values()), new_kwargs)
        return result


class StudentProcess(Channel):
    """The student's code cells, executed in a fresh sandboxed process that then serves calls."""

    def __init__(self, cells: list[str], names: list[str], policy: SandboxPolicy,
                 run_timeout: float, call_timeout: float, python: str = sys.executable,
                 sklearn: bool = False):
        self.call_timeout = call_timeout
        self.proc = subprocess.Popen(sandboxed([python, "-c", SERVER_SOURCE], policy),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True,
                                     cwd=str(policy.scratch))
        self.read_fd, self.write_fd = self.proc.stdout.fileno(), self.proc.stdin.fileno()
        reply = self.request({"op": "run", "cells": cells, "names": names, "sklearn": sklearn},
                             timeout=run_timeout, what="running your notebook's cells")
        self.names_kinds: dict = reply["kinds"]
        self.errors: list = reply["errors"]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


class KernelChannel(Channel):
    """The student's kernel, connected to the grader's unix socket from its last cell."""

    def __init__(self, sock, call_timeout: float):
        self.sock, self.call_timeout = sock, call_timeout
        self.read_fd = self.write_fd = sock.fileno()
        self._open = True

    def alive(self) -> bool:
        return self._open

    def close(self) -> None:
        if self._open:
            self._open = False
            try:
                self.sock.close()
            except OSError:
                pass

    def quit(self) -> None:
        if self._open:
            try:
                self.request({"op": "quit"}, timeout=10, what="finishing")
            except Exception:  # noqa: BLE001 - it is over either way
                pass
            self.close()



def _sync(originals, updated) -> None:
    """Update the caller's dicts and lists in place, as the student's function did its copies."""
    if not isinstance(updated, (list, tuple)) or len(updated) != len(originals):
        return
    for original, new in zip(originals, updated):
        if isinstance(original, dict) and isinstance(new, dict):
            original.clear()
            original.update(new)
        elif isinstance(original, list) and isinstance(new, list):
            original[:] = new


def _rebuild_error(info: dict) -> Exception:
    """An exception of the student's type (a builtin one where it is), carrying its message."""
    name = str(info.get("type", "Exception"))[:80]
    message = str(info.get("message", ""))[:2000] + str(info.get("where", ""))[:200]
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and cls is not StopIteration:
        try:
            return cls(message)
        except Exception:  # noqa: BLE001 - exotic constructors
            pass
    return type(name if name.isidentifier() else "StudentException", (Exception,), {})(message)


class RemoteFunction:
    """Stands in for the student's function ``name`` living in a :class:`StudentProcess`."""

    def __init__(self, process: Channel, name: str):
        self.process, self.__name__ = process, name

    def __call__(self, *args, **kwargs):
        return self.process.call(self.__name__, args, kwargs)

    def __repr__(self):
        return f"<student's {self.__name__} (sandboxed)>"


def remote_optimizer_class(process: Channel, name: str):
    """A ``torch.optim.Optimizer`` subclass that stands in for the student's optimizer class:
    the model and the closure stay in the grader; parameters, gradients and each group's
    hyperparameters cross to the student's optimizer for every ``step``, the new parameters
    come back."""
    import torch

    class RemoteOptimizer(torch.optim.Optimizer):
        def __init__(self, params, *args, **kwargs):
            params = list(params)
            groups = params if params and isinstance(params[0], dict) else [{"params": params}]
            groups = [dict(g, params=list(g["params"])) for g in groups]
            send = [{**g, "params": [p.detach() for p in g["params"]]} for g in groups]
            try:
                message = {"op": "new_optimizer", "name": name, "groups": encode(send),
                           "args": encode(list(args)), "kwargs": encode(kwargs)}
            except CodecError as exc:
                raise StudentProcessError(f"the grader cannot send these arguments ({exc})") from None
            self._handle = process.request(message, what=f"creating {name}(...)")["handle"]
            super().__init__(groups, dict(kwargs))

        def step(self, closure=None):
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            params = [p for g in self.param_groups for p in g["params"]]
            hyper = [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups]
            try:
                message = {"op": "step", "handle": self._handle,
                           "params": encode([p.detach() for p in params]),
                           "grads": encode([None if p.grad is None else p.grad.detach() for p in params]),
                           "groups": encode(hyper), "closure": closure is not None,
                           "loss": encode(None if loss is None else float(loss))}
            except CodecError as exc:
                raise StudentProcessError(f"the grader cannot send this step ({exc})") from None
            reply = process.request(message, what=f"{name}.step()")
            try:
                values = decode(reply["params"])
                has_state = [bool(x) for x in reply["has_state"]]
            except (CodecError, KeyError, TypeError, ValueError) as exc:
                raise StudentProcessError(f"{name}.step() sent back something that is not data "
                                          f"({exc})") from None
            if not isinstance(values, list) or len(values) != len(params) or len(has_state) != len(params):
                raise StudentProcessError(f"{name}.step() sent back the wrong number of parameters")
            with torch.no_grad():
                for p, value, stateful in zip(params, values, has_state):
                    if not isinstance(value, torch.Tensor) or tuple(value.shape) != tuple(p.shape):
                        raise StudentProcessError(f"{name}.step() changed a parameter's shape")
                    p.copy_(value.to(p.device, p.dtype))
                    if stateful:
                        self.state[p] = {"held by the student's optimizer": True}
                    else:
                        self.state.pop(p, None)
            return None if reply.get("loss_is_none") else loss

    RemoteOptimizer.__name__ = RemoteOptimizer.__qualname__ = name
    return RemoteOptimizer


def fast_trajectories():
    """Patch ``autograder.checks.trajectory.run_numpy`` (in this grader process only) so that
    a student trajectory through a :class:`RemoteFunction` is one request, not one per step.

    The student's side runs the same loop (fresh copies each call, one state dict) and sends
    back the whole path as data; the comparison stays here. Errors read as the per-step path
    would word them. Returns a function that undoes the patch.
    """
    import numpy as np

    from .checks import trajectory
    from .checks.calls import StudentError, call_student

    original = trajectory.run_numpy

    def run_numpy(step_fn, case, student: bool = False):
        if not (student and isinstance(step_fn, RemoteFunction)):
            return original(step_fn, case, student)
        param, grads = case.arrays()
        try:
            message = {"op": "trajectory", "name": step_fn.__name__, "param": encode(param),
                       "grads": encode(grads), "hyper": encode(case.hyper)}
        except CodecError:
            return original(step_fn, case, student)
        reply = step_fn.process.request(message, what=f"calling {step_fn.__name__}")
        step = reply.get("step")
        if reply.get("raised"):
            error = _rebuild_error(reply.get("error") or {})

            def replay():
                raise error
            call_student(replay)  # raises the StudentError the per-step path would
        problem = str(reply.get("problem") or "")
        if problem == "none":
            raise StudentError(f"the value returned at step {step} is None: did you forget to return it?")
        if problem.startswith("type:"):
            raise StudentError(f"the value returned at step {step} is not an array of numbers "
                               f"({problem[5:]})")
        if problem.startswith("shape:"):
            raise StudentError(f"step {step} returned shape {tuple(int(n) for n in problem[6:].strip('[]').split(',') if n.strip())}, "
                               f"expected {param.shape}")
        try:
            path, state = decode(reply["path"]), decode(reply["state"])
        except (CodecError, KeyError, TypeError, ValueError) as exc:
            raise StudentProcessError(f"{step_fn.__name__} sent back something that is not data ({exc})") from None
        if not isinstance(path, np.ndarray) or path.dtype != np.float64 or \
                path.shape != (len(grads) + 1, *param.shape) or not isinstance(state, dict):
            raise StudentProcessError(f"{step_fn.__name__} sent back a trajectory of the wrong shape")
        return path, state

    trajectory.run_numpy = run_numpy

    def undo():
        trajectory.run_numpy = original
    return undo
