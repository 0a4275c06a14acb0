"""Calling student code from a check: quietly, on copies, turning every failure into words."""
from __future__ import annotations

import contextlib
import io
import traceback
import warnings

import numpy as np

__all__ = ["StudentError", "call_student", "to_float64", "describe_exception"]


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
    except NotImplementedError as exc:
        raise StudentError("not implemented yet (the function still raises "
                           "NotImplementedError: replace the stub with your code)") from exc
    except RecursionError as exc:
        raise StudentError("infinite recursion: " + describe_exception(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - any student error becomes feedback
        raise StudentError("raised " + describe_exception(exc)) from exc


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
        raise StudentError(f"{what} is not an array of numbers ({type(value).__name__})") from exc
    return array


def sibling(fn, name: str):
    """The student's function ``name``, defined in the same notebook as ``fn``.

    A check of a backward pass needs the student's own forward pass (the cache between them is
    theirs), while a hidden test names one function. ``fn`` is either the student's function
    itself (its module globals are the notebook's namespace) or a stand-in for it that reaches
    the student's process (an object with ``process`` and ``__name__``, built as
    ``type(fn)(process, name)``); either way ``name`` is looked up where ``fn`` lives.
    """
    process = getattr(fn, "process", None)
    if process is not None:
        return type(fn)(process, name)
    found = getattr(fn, "__globals__", {}).get(name)
    if not callable(found):
        raise StudentError(f"needs your {name} too, and it is not defined: run its cell and keep its name")
    return found
