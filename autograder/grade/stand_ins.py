"""Stand-ins that a check is given instead of the student's function or optimizer class.

The student's code lives in a sandboxed process (:mod:`autograder.sandbox.host`); a check runs here, in
the grader, with the reference beside it. A :class:`RemoteFunction` is a
:class:`~autograder.checks.calls.StudentCode`: a call crosses to the student's process and comes
back as data, rebuilt into plain NumPy arrays and torch tensors; a dict or list argument (an
optimizer's ``state``, BatchNorm's running statistics) is updated in place from the student's
side, as the real call would. A whole trajectory is one request; :meth:`RemoteFunction.timed`
gives the time the student's own code took.

Every call has a limit derived from the reference's own time on the same input, timed once
for each set of shapes, dtypes and scalar arguments (:class:`CallBudget`: 20 times it, at
least 2 s). A call past it is stopped, and every later
call of that function fails at once with the same reason (:class:`StudentSide`): a function
that never returns costs seconds, and only the items that call it.
"""
from __future__ import annotations

import builtins
import contextlib
import functools
import copy
import importlib
import io
import pkgutil
import time
import warnings
from dataclasses import dataclass, field

from ..checks.calls import StudentCode, StudentError, not_an_array, student_error, to_float64, wrong_shape
from ..sandbox.host import StudentGone, StudentStopped
from .outcome import Incident
from ..sandbox.protocol import ProtocolError, decode, encode

__all__ = ["CallBudget", "StudentSide", "RemoteFunction", "student_optimizer_class", "reference_for"]


@dataclass(frozen=True)
class CallBudget:
    """How long one call of student code may take: ``factor`` times the reference's time on
    the same input, at least ``floor`` seconds, at most ``cap``."""

    factor: float = 20.0
    floor: float = 2.0
    cap: float = 60.0

    def limit(self, reference_seconds: float, allowed: float | None = None) -> float:
        derived = max(self.floor, self.factor * reference_seconds, allowed or 0.0)
        return min(derived, max(self.cap, allowed or 0.0))


@functools.lru_cache(maxsize=None)
def reference_for(name: str):
    """The reference function of the same name as the student's (``autograder.reference``)."""
    from .. import reference

    for info in pkgutil.iter_modules(reference.__path__, reference.__name__ + "."):
        found = getattr(importlib.import_module(info.name), name, None)
        if callable(found) and not name.startswith("_"):
            return found
    return None


_SECONDS: dict = {}  # (reference, the signature of its input): seconds it took


def _signature(value, exact: bool = True):
    """What a reference's time depends on: the shapes, dtypes and devices of arrays and
    tensors, the structure of lists, tuples and dicts, numbers and strings (``exact``: their
    values, as for an argument such as a number of steps; inside a container, such as an
    optimizer's state with its step count, their types), the function; ``None`` when something
    else is in it (then it is timed every time)."""
    import numpy as np
    import torch

    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return (type(value), value) if exact else type(value)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape)
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), tuple(value.shape), value.device.type)
    if isinstance(value, (list, tuple, dict)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        parts = tuple((k if isinstance(value, dict) else None, _signature(v, False)) for k, v in items)
        return None if any(p is None for _, p in parts) else (type(value), parts)
    if callable(value):
        try:
            hash(value)
        except TypeError:
            return None
        return ("callable", value)
    return None


def _reference_seconds(fn, *args, **kwargs) -> float:
    """How long ``fn`` takes on copies of the arguments (an exception ends the timing); timed
    once per input signature (:func:`_signature`): a check calls a function hundreds of times
    with the same shapes, and its limit (a floor of seconds) needs no fresh timing each time."""
    if fn is None:
        return 0.0
    parts = [_signature(fn)] + [_signature(a) for a in args] + [_signature(v) for v in kwargs.values()]
    key = None if any(p is None for p in parts) else (tuple(parts), tuple(kwargs))
    if key is not None and key in _SECONDS:
        return _SECONDS[key]
    seconds = _timed(fn, args, kwargs)
    if key is not None:
        if len(_SECONDS) > 10_000:
            _SECONDS.clear()
        _SECONDS[key] = seconds
    return seconds


def _timed(fn, args, kwargs) -> float:
    """Seconds ``fn`` takes on copies of ``args`` and ``kwargs``, quietly."""
    args, kwargs = copy.deepcopy((args, kwargs))
    start = time.perf_counter()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        try:
            fn(*args, **kwargs)
        except Exception:  # noqa: BLE001 - the reference refusing an input still took its time
            pass
    return time.perf_counter() - start


@dataclass
class StudentSide:
    """What the stand-ins of one submission share: the session with the host, the student's
    process (restarted, cells run again, when one had to be ended), the functions stopped."""

    session: object                  # host.Session
    restart: object                  # () -> StudentProcess | None: a fresh process, cells run again
    budget: CallBudget = field(default_factory=CallBudget)
    stopped: dict = field(default_factory=dict)       # function name: why its calls fail
    incidents: list = field(default_factory=list)     # Incident
    max_restarts: int = 3

    def process(self):
        student = self.session.student
        if student is not None and student.alive():
            return student
        if self.session.starts > self.max_restarts:
            raise StudentError("could not be checked: the student's code ended its process too often")
        fresh = self.restart()
        if fresh is None:
            raise StudentError("could not be checked: running the notebook's cells again failed "
                               "(they hang or end the process)")
        return fresh

    def request(self, name: str, message: dict, limit: float, what: str) -> dict:
        """``message`` to the student's process for ``name``; its reply, or StudentError."""
        if name in self.stopped:
            raise StudentError(self.stopped[name])
        try:
            reply = self.process().request(message, limit, what)
        except StudentStopped:
            reason = (f"did not return within {limit:.3g} s (20 times the reference's time on the "
                      f"same input, at least {self.budget.floor:g} s): it was stopped. An endless loop? "
                      f"Later calls of {name} fail at once")
            self._stop(name, reason, Incident("call time limit", f"{name} ran past its time limit of "
                                                                 f"{limit:.3g} s and was stopped"))
        except StudentGone:
            reason = ("ended the Python process running it (os._exit, exit(), a crash, or the memory "
                      f"limit). Later calls of {name} fail at once")
            self._stop(name, reason, Incident("process ended", f"{name} ended its Python process"))
        if not reply.get("ok"):
            raise rebuild_error(reply.get("error") or {})
        return reply

    def _stop(self, name: str, reason: str, incident: Incident):
        self.stopped[name] = reason
        self.incidents.append(incident)
        raise StudentError(reason)

    def kinds(self, names) -> dict:
        reply = self.request("", {"op": "kinds", "names": list(names)}, 30, "listing your definitions")
        return {name: str(reply["kinds"].get(name, "missing")) for name in names}

    def forbidden_calls(self) -> list[str]:
        """Library routines the student's code called since the last ask, while checked."""
        student = self.session.student
        if student is None or not student.alive():
            return []
        try:
            calls = student.request({"op": "forbidden"}, 30, "reporting library calls")["calls"]
        except Exception:  # noqa: BLE001 - a process that cannot answer has nothing to report
            return []
        return [c for c in calls if isinstance(c, str)][:10]


def rebuild_error(info: dict) -> Exception:
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


def _send(value, what: str):
    try:
        return encode(value)
    except ProtocolError as exc:  # the check passes something the channel cannot carry
        raise StudentError(f"could not be checked: the grader cannot send {what} across ({exc})") from None


def _received(reply: dict, keys, name: str):
    try:
        return [decode(reply[key]) for key in keys]
    except (ProtocolError, KeyError, TypeError, ValueError) as exc:
        raise StudentError(f"returned something that is not data ({exc})") from None


class RemoteFunction(StudentCode):
    """Stands in for the student's function ``name``, living in their sandboxed process."""

    def __init__(self, side: StudentSide, name: str):
        self.side, self.__name__ = side, name
        self.reference = reference_for(name)

    def __repr__(self):
        return f"<student's {self.__name__} (sandboxed)>"

    def _call(self, args, kwargs, allowed=None):
        limit = self.side.budget.limit(_reference_seconds(self.reference, *args, **kwargs), allowed)
        message = {"op": "call", "name": self.__name__, "args": _send(list(args), "these arguments"),
                   "kwargs": _send(kwargs, "these arguments")}
        began = time.perf_counter()
        reply = self.side.request(self.__name__, message, limit, f"calling {self.__name__}")
        wall = time.perf_counter() - began
        result, new_args, new_kwargs = _received(reply, ("result", "args", "kwargs"), self.__name__)
        _sync(args, new_args)
        _sync(list(kwargs.values()), new_kwargs)
        try:  # the student's own compute time, its claim bounded by the transport's share
            own = min(max(float(reply.get("seconds", wall)), 0.0), wall)
        except (TypeError, ValueError):
            own = wall
        carried = getattr(self.side.session.student, "bytes", 0)
        return result, wall - min(wall - own, 0.05 + 2e-8 * carried)

    def __call__(self, *args, **kwargs):
        return self._call(args, kwargs)[0]

    def timed(self, *args, limit=None, **kwargs):
        return self._call(args, kwargs, limit)

    def sibling(self, name):
        if self.side.kinds([name])[name] != "function":
            raise StudentError(f"needs your {name} too, and it is not defined: run its cell and keep its name")
        return RemoteFunction(self.side, name)

    def trajectory(self, param, grads, hyper):
        import numpy as np

        seconds = _reference_seconds(_reference_path, self.reference, param, grads, hyper) \
            if self.reference is not None else 0.0
        message = {"op": "trajectory", "name": self.__name__, "param": _send(param, "the parameter"),
                   "grads": _send(grads, "the gradients"), "hyper": _send(hyper, "the hyperparameters")}
        reply = self.side.request(self.__name__, message, self.side.budget.limit(seconds),
                                  f"calling {self.__name__}")
        step = reply.get("step")
        if reply.get("raised"):
            raise student_error(rebuild_error(reply.get("error") or {}))
        problem = str(reply.get("problem") or "")
        if problem == "none":
            to_float64(None, f"the value returned at step {step}")
        if problem.startswith("type:"):
            raise not_an_array(f"the value returned at step {step}", problem[5:])
        if problem.startswith("shape:"):
            shape = [int(n) for n in problem[6:].strip("[]").split(",") if n.strip()]
            raise wrong_shape(step, shape, param.shape)
        path, state = _received(reply, ("path", "state"), self.__name__)
        if not isinstance(path, np.ndarray) or path.dtype != np.float64 or \
                path.shape != (len(grads) + 1, *param.shape) or not isinstance(state, dict):
            raise StudentError("sent back a trajectory of the wrong shape")
        return path, state


def _reference_path(reference, param, grads, hyper) -> None:
    """The reference's trajectory, as the student's is run (:meth:`RemoteFunction.trajectory`)."""
    import numpy as np

    state, current = {}, param.copy()
    for grad in grads:
        current = np.asarray(reference(current.copy(), grad.copy(), state, **hyper))


def student_optimizer_class(side: StudentSide, name: str):
    """A ``torch.optim.Optimizer`` subclass that stands in for the student's optimizer class:
    the model and the closure stay in the grader; parameters, gradients and each group's
    hyperparameters cross to the student's optimizer for every ``step``, the new parameters
    come back. Each call's limit comes from ``torch.optim.<name>`` on the same parameters."""
    import torch

    reference_class = getattr(torch.optim, name, None)

    class StudentOptimizer(torch.optim.Optimizer):
        def __init__(self, params, *args, **kwargs):
            params = list(params)
            groups = params if params and isinstance(params[0], dict) else [{"params": params}]
            groups = [dict(g, params=list(g["params"])) for g in groups]
            send = [{**g, "params": [p.detach() for p in g["params"]]} for g in groups]
            self._shadow = None
            seconds = 0.0
            if reference_class is not None:
                copies = [{**g, "params": [p.detach().clone().requires_grad_(True) for p in g["params"]]}
                          for g in groups]
                began = time.perf_counter()
                try:
                    self._shadow = reference_class(copies, *args, **kwargs)
                except Exception:  # noqa: BLE001 - arguments the reference refuses: no shadow
                    self._shadow = None
                seconds = time.perf_counter() - began
            message = {"op": "new_optimizer", "name": name, "groups": _send(send, "the parameters"),
                       "args": _send(list(args), "these arguments"), "kwargs": _send(kwargs, "these arguments")}
            self._handle = side.request(name, message, side.budget.limit(seconds), f"creating {name}(...)")["handle"]
            super().__init__(groups, dict(kwargs))

        def _reference_step_seconds(self, params) -> float:
            if self._shadow is None:
                return 0.0
            shadow = [p for g in self._shadow.param_groups for p in g["params"]]
            with torch.no_grad():
                for mine, theirs in zip(params, shadow):
                    theirs.copy_(mine.detach())
                    theirs.grad = None if mine.grad is None else mine.grad.detach().clone()
            began = time.perf_counter()
            try:
                self._shadow.step()
            except Exception:  # noqa: BLE001
                pass
            return time.perf_counter() - began

        def step(self, closure=None):
            loss = None
            if closure is not None:
                with torch.enable_grad():
                    loss = closure()
            params = [p for g in self.param_groups for p in g["params"]]
            hyper = [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups]
            message = {"op": "step", "handle": self._handle, "params": _send([p.detach() for p in params], "the parameters"),
                       "grads": _send([None if p.grad is None else p.grad.detach() for p in params], "the gradients"),
                       "groups": _send(hyper, "the hyperparameters"), "closure": closure is not None,
                       "loss": _send(None if loss is None else float(loss), "the loss")}
            limit = side.budget.limit(self._reference_step_seconds(params))
            reply = side.request(name, message, limit, f"{name}.step()")
            values, = _received(reply, ("params",), name)
            has_state = reply.get("has_state")
            if not isinstance(values, list) or len(values) != len(params) or \
                    not isinstance(has_state, list) or len(has_state) != len(params):
                raise StudentError(f"{name}.step() sent back the wrong number of parameters")
            with torch.no_grad():
                for p, value, stateful in zip(params, values, has_state):
                    if not isinstance(value, torch.Tensor) or tuple(value.shape) != tuple(p.shape):
                        raise StudentError(f"{name}.step() changed a parameter's shape")
                    p.copy_(value.to(p.device, p.dtype))
                    if stateful is True:
                        self.state[p] = {"held by the student's optimizer": True}
                    else:
                        self.state.pop(p, None)
            return None if reply.get("loss_is_none") else loss

    StudentOptimizer.__name__ = StudentOptimizer.__qualname__ = name
    return StudentOptimizer
