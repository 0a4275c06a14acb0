"""The typical mistakes on the visible tests: the data that lets a failing visible test name its
mistake before the deadline (read by :mod:`course.feedback`, written by the release).

The source notebook runs once, cell by cell, with ``explain`` replaced by a recorder: each
visible test cell (its hidden block removed) records the numbers its asserts check, which are
the right ones. Then each visible test cell runs again once per catalogued mistake
(:mod:`autograder.checks.catalogue`) of a function it reaches, with the mistaken functions in
place of the solution's. A mistake that makes the cell's asserts fail leaves its recorded
numbers up to the failing assert, and the index of the first one that differs from the right
numbers. Only that data leaves this module: no code, no hidden input, no reference.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import types
from dataclasses import dataclass, field
from pathlib import Path

from course.feedback import DATA_NAME, Watch, same

from .catalogue import Entry, catalogue

__all__ = ["VisibleError", "Outcome", "Session", "diagnosis_data", "write_diagnosis_data", "DATA_NAME",
           "FORMAT"]

FORMAT = 1


class VisibleError(RuntimeError):
    """The source notebook's own cells fail: the visible data cannot be computed."""


@dataclass
class Outcome:
    """What one run of a visible test cell recorded, and how it ended."""

    values: list = field(default_factory=list)
    tolerances: list = field(default_factory=list)
    failure: str | None = None     # None: passed; "assert": an assert failed; else the exception's type

    def first_departure(self, right: "Outcome") -> int | None:
        """The index of the first recorded number that differs from ``right``'s, or None."""
        for i, value in enumerate(self.values):
            if i >= len(right.values) or not same(value, right.values[i], *self.tolerances[i]):
                return i
        return None


class _RecordingWatch(Watch):
    def __init__(self, test_id: str, outcome: Outcome):
        super().__init__(test_id, [])
        self.outcome = outcome

    def seen(self, value, rtol: float = 1e-6, atol: float = 1e-9):
        value = super().seen(value, rtol, atol)
        self.outcome.values, self.outcome.tolerances = self.values, self.tolerances
        return value

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.outcome.failure = "assert" if issubclass(exc_type, AssertionError) else exc_type.__name__
        return exc_type is not None and issubclass(exc_type, Exception)


class _Recorder:
    """Stands in for ``explain``: every ``with explain(...)`` records into one outcome."""

    def __init__(self):
        self.outcome = Outcome()

    def __call__(self, test_id: str) -> Watch:
        return _RecordingWatch(test_id, self.outcome)


def _python(source: str) -> str:
    """A cell's source as plain Python (IPython's magics become calls on ``get_ipython()``)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


class _NoIPython:
    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = run_line_magic


def _hidden_targets(source: str) -> tuple[str, list[str]]:
    """The cell without its hidden block, and the student names the hidden checks test."""
    from ..grade.verdicts import HIDDEN, parse_hidden

    targets = []
    for match in HIDDEN.finditer(source):
        for check in parse_hidden(match.group(1)) or []:
            targets.append(check.target)
    return HIDDEN.sub("", source), targets


def _names_in(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names_in(const)
    return names


@dataclass
class _Cell:
    grade_id: str
    code: str
    targets: list[str]
    snapshot: dict
    right: Outcome


class Session:
    """The source notebook run once (the right numbers of every visible test), ready to run
    any visible test cell again with some functions replaced."""

    def __init__(self, source_nb, assignment: str):
        os.environ.setdefault("MPLBACKEND", "Agg")
        os.environ.setdefault("COURSE_QUICK", "1")
        self.assignment = assignment
        self.cells: dict[str, _Cell] = {}
        namespace: dict = {"__name__": "__main__", "get_ipython": _NoIPython}
        graded = [i for i, c in enumerate(source_nb.cells) if c.cell_type == "code"
                  and c.metadata.get("nbgrader", {}).get("grade")]
        last = max(graded, default=-1)
        for index, cell in enumerate(source_nb.cells[:last + 1]):
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            code, targets = _hidden_targets(cell.source)
            if meta.get("grade"):
                snapshot = dict(namespace)
                recorder = _Recorder()
                namespace["explain"] = recorder
                self._exec(code, namespace, f"visible test {meta.get('grade_id')}")
                if recorder.outcome.failure:
                    raise VisibleError(f"{assignment}: the solution fails its own visible test "
                                       f"{meta.get('grade_id')} ({recorder.outcome.failure})")
                self.cells[meta["grade_id"]] = _Cell(meta["grade_id"], code, targets, snapshot, recorder.outcome)
            else:
                self._exec(code, namespace, f"cell {index}")
        self.namespace = namespace

    @staticmethod
    def _exec(source: str, namespace: dict, what: str) -> None:
        import matplotlib.pyplot as plt

        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                exec(compile(_python(source), f"<{what}>", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - the source notebook must run
            raise VisibleError(f"the source notebook's {what} fails: {type(exc).__name__}: {exc}") from exc
        finally:
            plt.close("all")

    def reaches(self, grade_id: str) -> set[str]:
        """The names a visible test cell uses, directly or through the notebook's functions."""
        cell = self.cells[grade_id]
        todo = set(_names_in(compile(_python(cell.code), "<cell>", "exec"))) | set(cell.targets)
        found: set[str] = set()
        while todo:
            name = todo.pop()
            if name in found:
                continue
            found.add(name)
            value = self.namespace.get(name)
            if isinstance(value, types.FunctionType):
                todo |= _names_in(value.__code__)
            elif isinstance(value, type):
                for member in vars(value).values():
                    if isinstance(member, types.FunctionType):
                        todo |= _names_in(member.__code__)
        return found

    def run(self, grade_id: str, replaces: dict, explain=None) -> Outcome:
        """Run visible test ``grade_id`` with ``replaces`` in place of the solution's functions
        (which the notebook's other functions then call too); ``explain``: what the cell's
        ``explain`` is (default: a recorder, whose outcome is returned)."""
        cell = self.cells[grade_id]
        namespace = dict(cell.snapshot)
        for name, value in cell.snapshot.items():  # the notebook's functions look names up here
            if isinstance(value, types.FunctionType) and value.__globals__ is self.namespace:
                copy = types.FunctionType(value.__code__, namespace, value.__name__, value.__defaults__,
                                          value.__closure__)
                copy.__kwdefaults__ = value.__kwdefaults__
                namespace[name] = copy
        namespace.update(replaces)
        recorder = _Recorder()
        namespace["explain"] = explain if explain is not None else recorder
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                exec(compile(_python(cell.code), f"<visible test {grade_id}>", "exec"), namespace)
            except Exception as exc:  # noqa: BLE001 - a mistake may break the cell outside the with
                if recorder.outcome.failure is None:
                    recorder.outcome.failure = "assert" if isinstance(exc, AssertionError) else type(exc).__name__
                if explain is not None:
                    raise
            finally:
                import matplotlib.pyplot as plt

                plt.close("all")
        return recorder.outcome

    def entries_for(self, grade_id: str, entries: list[Entry]) -> list[Entry]:
        """The catalogued mistakes of the functions a visible test cell reaches."""
        reached = self.reaches(grade_id)
        return [e for e in entries if reached & set(e.names)]


def diagnosis_data(assignment: str, source_nb) -> dict:
    """``mistakes.json`` for ``assignment``: per visible test, each mistake that fails it, with
    its recorded numbers and the index of the first one that is wrong."""
    session = Session(source_nb, assignment)
    entries = catalogue(assignment)
    tests: dict[str, list[dict]] = {}
    for grade_id, cell in session.cells.items():
        found = []
        for entry in session.entries_for(grade_id, entries):
            outcome = session.run(grade_id, entry.replaces)
            if outcome.failure != "assert":
                continue
            first_wrong = outcome.first_departure(cell.right)
            if first_wrong is None:
                continue  # its numbers are the right ones up to the failing assert: no telling
            record = {"diagnosis": entry.diagnosis, "values": outcome.values, "first_wrong": first_wrong}
            if record not in found:
                found.append(record)
        if found:
            tests[grade_id] = found
    return {"assignment": assignment, "format": FORMAT,
            "about": "What each typical mistake gives on the visible tests of this assignment, so that "
                     "a failing visible test can say which mistake your numbers match (course.feedback). "
                     "Generated by `course release`.",
            "tests": tests}


def write_diagnosis_data(assignment: str, source_path: Path, folder: Path) -> Path:
    """Compute :func:`diagnosis_data` from the source notebook and write ``folder/mistakes.json``."""
    import nbformat

    data = diagnosis_data(assignment, nbformat.read(source_path, as_version=4))
    path = Path(folder) / DATA_NAME
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
