"""Calling student code from a check: quietly, on copies, turning every failure into words.

A check is given the student's function explicitly. In a plain nbgrader kernel that is the
function itself; under ``course grade`` it is a stand-in for the function, which lives in a
sandboxed process (:mod:`autograder.grade.stand_ins`). Either way :func:`as_student` gives the check
a :class:`StudentCode`: call it like the function, and ask it for what a check may need beyond
one call, the same way in both places: a whole update-rule trajectory, the time the student's
own code took, another function of the same notebook.
"""
from __future__ import annotations

import contextlib
import io
import time
import traceback
import warnings

import numpy as np

__all__ = ["StudentError", "StudentCode", "LocalFunction", "as_student", "call_student", "student_error",
           "to_float64", "describe_exception", "sibling"]


class StudentError(Exception):
    """The student's code raised, or returned something that is not an array of numbers."""


def describe_exception(exc: BaseException) -> str:
    """``NameError: name 'np' is not defined (line 7 of your adam_step)``-style one-liner."""
    text = f"{type(exc).__name__}: {exc}"
    frames = traceback.extract_tb(exc.__traceback__)
    student_frames = [f for f in frames if "autograder" not in f.filename.replace("\\", "/")]
    if student_frames:
        last = student_frames[-1]
        text += f" (in {last.name}, line {last.lineno})"
    return text


def student_error(exc: BaseException) -> StudentError:
    """What an exception raised by the student's code means, as a :class:`StudentError`."""
    if isinstance(exc, StudentError):
        return exc
    if isinstance(exc, NotImplementedError):
        return StudentError("not implemented yet (the function still raises NotImplementedError: "
                            "replace the stub with your code)")
    if isinstance(exc, RecursionError):
        return StudentError("infinite recursion: " + describe_exception(exc))
    return StudentError("raised " + describe_exception(exc))


def call_student(fn, *args, **kwargs):
    """Call ``fn``; its warnings and prints are swallowed (stderr would cost a graded cell
    its points), and any exception becomes a :class:`StudentError` that says what happened."""
    if not callable(fn):
        raise StudentError(f"expected a function, got {type(fn).__name__}")
    sink = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
                contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    except StudentError:
        raise
    except Exception as exc:  # noqa: BLE001 - any student error becomes feedback
        raise student_error(exc) from exc


def not_an_array(what: str, type_name: str) -> StudentError:
    return StudentError(f"{what} is not an array of numbers ({type_name})")


def to_float64(value, what: str = "the returned value") -> np.ndarray:
    """A fresh float64 NumPy copy of a student's array-like (NumPy, torch, list, scalar)."""
    try:
        import torch

        if isinstance(value, torch.Tensor):
            return value.detach().to("cpu", torch.float64).numpy().copy()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if value is None:
        raise StudentError(f"{what} is None: did you forget to return it?")
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise not_an_array(what, type(value).__name__) from exc
    return array


def wrong_shape(step: int, shape, expected) -> StudentError:
    return StudentError(f"step {step} returned shape {tuple(shape)}, expected {tuple(expected)}")


class StudentCode:
    """What a check is given for the student's function ``__name__``: call it like the
    function; :meth:`trajectory`, :meth:`timed` and :meth:`sibling` are what else it offers."""

    __name__ = "function"

    def __call__(self, *args, **kwargs):
        raise NotImplementedError

    def trajectory(self, param: np.ndarray, grads: list, hyper: dict):
        """``(path, state)``: the update rule called once per gradient, each time on fresh
        copies of the current parameter and the gradient, one ``state`` dict throughout;
        ``path`` stacks the start and every step's float64 result. Raises
        :class:`StudentError` in the words of the step that went wrong."""
        raise NotImplementedError

    def timed(self, *args, limit: float | None = None, **kwargs):
        """``(result, seconds)``: one call, and the seconds the student's own code took
        (``limit``: the seconds this call may take, when the check allows more than usual)."""
        raise NotImplementedError

    def sibling(self, name: str) -> "StudentCode":
        """The student's function ``name`` from the same notebook (a backward pass needs the
        student's own forward pass)."""
        raise NotImplementedError


class LocalFunction(StudentCode):
    """The student's function itself, in this process (a plain nbgrader kernel, a test)."""

    def __init__(self, fn):
        self.fn = fn
        self.__name__ = getattr(fn, "__name__", "function")

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def trajectory(self, param, grads, hyper):
        state: dict = {}
        path, current = [param.copy()], param.copy()
        for k, grad in enumerate(grads, start=1):
            out = call_student(self.fn, current.copy(), grad.copy(), state, **hyper)
            current = to_float64(out, f"the value returned at step {k}")
            if current.shape != param.shape:
                raise wrong_shape(k, current.shape, param.shape)
            path.append(current.copy())
        return np.stack(path), state

    def timed(self, *args, limit=None, **kwargs):
        start = time.perf_counter()
        value = call_student(self.fn, *args, **kwargs)
        return value, time.perf_counter() - start

    def sibling(self, name):
        found = getattr(self.fn, "__globals__", {}).get(name)
        if not callable(found):
            raise StudentError(f"needs your {name} too, and it is not defined: run its cell and keep its name")
        return LocalFunction(found)


def as_student(fn) -> StudentCode:
    """``fn`` as a :class:`StudentCode` (a stand-in already is one)."""
    return fn if isinstance(fn, StudentCode) else LocalFunction(fn)


def sibling(fn, name: str) -> StudentCode:
    """The student's function ``name``, defined in the same notebook as ``fn``."""
    return as_student(fn).sibling(name)
