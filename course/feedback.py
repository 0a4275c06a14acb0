"""Feedback before the deadline: a failing visible test names the typical mistake it matches.

The grader knows the typical mistakes of each exercise (Adam without bias correction, a
flipped BatchNorm momentum, tied scores counted in order, ...). When an assignment is
released, every one of them is run on the *visible* tests, and what each produced there is
shipped beside the notebook as ``mistakes.json``: numbers and the mistake's description, no
code and no hidden input. A visible test records the numbers it checks; when one of its
asserts fails, the numbers so far are compared with each mistake's, and the message of the
failure says which mistake they match:

    explain = Explainer("optimizers")                  # once, in the set-up cell

    with explain("test_adam_first_step") as seen:      # in a visible test cell
        theta = seen(adam_step(np.array([1.0]), np.array([1e-4]), {}, lr=0.1))
        assert np.allclose(theta, [0.9]), theta
    # AssertionError: [0.68476908]       (Adam without bias correction gives exactly this)
    #
    # Likely cause (your numbers match a typical mistake): your updates match Adam without ...

A mistake matches when the student's recorded numbers equal the mistake's (within each
record's tolerance) at least up to the first number where the mistake departs from the right
answer, so a student whose numbers are right is never told they made a mistake.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["Explainer", "encode", "same", "DATA_NAME", "find_data"]

DATA_NAME = "mistakes.json"
LIKELY = "Likely cause (your numbers match a typical mistake): "


def encode(value):
    """A value a test checks, as plain data that JSON keeps exactly.

    Numbers, arrays, tensors and rectangular lists become ``{"shape": [...], "data": [...]}``
    (floats; booleans as 0/1); a dict becomes its sorted keys and their values; a tuple or a
    ragged list the list of its items; anything else its type's name.
    """
    try:
        import torch

        if isinstance(value, torch.Tensor):
            value = value.detach().to("cpu", torch.float64).numpy()
    except ImportError:  # pragma: no cover - torch is a dependency of the course
        pass
    if isinstance(value, dict):
        keys = sorted(value, key=str)
        return {"keys": [str(k) for k in keys], "items": [encode(value[k]) for k in keys]}
    if isinstance(value, tuple) or (isinstance(value, list) and not _rectangular(value)):
        return {"items": [encode(v) for v in value]}
    if isinstance(value, (bool, int, float, complex, list, np.ndarray, np.generic)):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return {"type": type(value).__name__}
        return {"shape": list(array.shape), "data": array.ravel().tolist()}
    return {"type": type(value).__name__}


def _rectangular(items: list) -> bool:
    try:
        np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def same(a, b, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """Are two encoded values equal, numbers within ``rtol``/``atol`` (equal infinities and
    NaNs count as equal)?"""
    if set(a) != set(b):
        return False
    if "type" in a:
        return a["type"] == b["type"]
    if "items" in a:
        return (a.get("keys") == b.get("keys") and len(a["items"]) == len(b["items"])
                and all(same(x, y, rtol, atol) for x, y in zip(a["items"], b["items"])))
    if a["shape"] != b["shape"]:
        return False
    x, y = np.asarray(a["data"], dtype=np.float64), np.asarray(b["data"], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return bool(np.all((x == y) | np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True)))


def find_data(assignment: str, start: Path | None = None) -> Path | None:
    """``mistakes.json`` of ``assignment``: beside the notebook (the kernel's folder), else in
    the course's ``assignments/<assignment>/`` folder; ``None`` when neither has it."""
    candidates = [Path(start or Path.cwd()) / DATA_NAME,
                  Path(__file__).resolve().parent / "assignments" / assignment / DATA_NAME]
    for path in candidates:
        if path.is_file():
            try:
                if json.loads(path.read_text(encoding="utf-8")).get("assignment") == assignment:
                    return path
            except (OSError, ValueError):
                continue
    return None


class Watch:
    """One visible test: ``seen(value)`` records what it checks and returns it unchanged."""

    def __init__(self, test_id: str, entries: list[dict]):
        self.test_id = test_id
        self.entries = entries
        self.values: list = []
        self.tolerances: list[tuple[float, float]] = []

    def seen(self, value, rtol: float = 1e-6, atol: float = 1e-9):
        """Record ``value`` (compared with the mistakes' within ``rtol``/``atol``); return it."""
        self.values.append(encode(value))
        self.tolerances.append((float(rtol), float(atol)))
        return value

    def __enter__(self):
        return self.seen

    def matches(self) -> list[str]:
        """The diagnoses of the mistakes whose numbers the recorded ones match."""
        found = []
        for entry in self.entries:
            known = entry["values"]
            k = min(len(known), len(self.values))
            if k <= entry["first_wrong"]:
                continue  # the student's numbers have not reached the mistake's first wrong one
            if all(same(self.values[i], known[i], *self.tolerances[i]) for i in range(k)):
                if entry["diagnosis"] not in found:
                    found.append(entry["diagnosis"])
        return found

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None or not issubclass(exc_type, AssertionError):
            return False
        found = self.matches()
        if found:
            original = str(exc.args[0]) if exc.args else ""
            exc.args = ((original + "\n\n" if original else "") + LIKELY + "\n  or: ".join(found),)
        return False  # the failure stands, with its own traceback and the diagnosis added


class Explainer:
    """The visible-test diagnoses of one assignment (a no-op when its data is not found)."""

    def __init__(self, assignment: str, path: Path | None = None):
        self.assignment = assignment
        path = Path(path) if path is not None else find_data(assignment)
        data = json.loads(path.read_text(encoding="utf-8")) if path is not None else {}
        self.path = path
        self.tests: dict[str, list[dict]] = data.get("tests", {})

    def __call__(self, test_id: str) -> Watch:
        return Watch(test_id, self.tests.get(test_id, []))

    def __repr__(self) -> str:
        count = sum(len(v) for v in self.tests.values())
        where = self.path if self.path is not None else "no data found: failures are not explained"
        return f"Explainer({self.assignment!r}: {count} known mistakes on {len(self.tests)} tests; {where})"

