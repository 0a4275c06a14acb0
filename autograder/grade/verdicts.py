"""Hidden checks judged outside the student's reach, their verdicts written into the cells.

A hidden block has one form, enforced when an assignment is released (:func:`form_problems`)::

    ### BEGIN HIDDEN TESTS
    from autograder.checks.optimizers import check_adam_first_step
    check_adam_first_step(adam_step).assert_passed()
    ### END HIDDEN TESTS

so it names, as data (:class:`HiddenCheck`), which check judges which of the student's
functions. The student's process never runs it: it is taken out of the cell before the cell
runs (:func:`take_hidden`), and once every cell has run, :func:`judge` calls each check here,
in the grader, with a stand-in for the student's function (:mod:`autograder.grade.stand_ins`).
:func:`write_verdicts` puts the block back and the verdict into the cell's outputs, a failure
as an error, so nbgrader's ``SaveAutoGrades`` scores the cell as if the check had run in it.
"""
from __future__ import annotations

import ast
import importlib
import re
import time
from dataclasses import dataclass

from nbformat.v4 import new_output

from . import integrity
from ..checks.calls import StudentError
from .outcome import Incident
from .stand_ins import RemoteFunction, StudentSide, student_optimizer_class

__all__ = ["HiddenCheck", "Verdict", "parse_hidden", "hidden_blocks", "form_problems", "take_hidden",
           "judge", "write_verdicts", "HIDDEN"]

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[^\n]*\n(.*?)^[ \t]*### END HIDDEN TESTS[^\n]*(\n|$)",
                    re.S | re.M)


@dataclass(frozen=True)
class HiddenCheck:
    module: str   # autograder.checks.optimizers
    check: str    # check_adam_first_step
    target: str   # adam_step: the student's function or class, by name


@dataclass(frozen=True)
class Verdict:
    passed: bool
    text: str
    incident: Incident | None = None
    diagnosis: str | None = None   # the typical mistake the check recognised, if any


def parse_hidden(block: str) -> list[HiddenCheck] | None:
    """The checks a hidden block runs, or ``None`` when it is not in the agreed form."""
    try:
        tree = ast.parse(block)
    except SyntaxError:
        return None
    imported, checks = {}, []
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and (stmt.module or "").startswith("autograder.checks.") \
                and not stmt.level and all(a.name.startswith("check_") and not a.asname for a in stmt.names):
            imported.update({a.name: stmt.module for a in stmt.names})
            continue
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if (isinstance(call, ast.Call) and not call.args and not call.keywords
                and isinstance(call.func, ast.Attribute) and call.func.attr == "assert_passed"
                and isinstance(call.func.value, ast.Call)):
            inner = call.func.value
            if (isinstance(inner.func, ast.Name) and inner.func.id in imported and len(inner.args) == 1
                    and not inner.keywords and isinstance(inner.args[0], ast.Name)):
                checks.append(HiddenCheck(imported[inner.func.id], inner.func.id, inner.args[0].id))
                continue
        return None
    return checks or None


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {}) or {}


def hidden_blocks(nb) -> list[str]:
    return [m.group(1) for cell in nb.cells if cell.cell_type == "code" for m in HIDDEN.finditer(cell.source)]


def form_problems(nb) -> list[str]:
    """Why ``nb``'s hidden tests cannot be judged outside the student's process: a block not
    in the agreed form, a check that does not exist, a block outside a graded cell."""
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for match in HIDDEN.finditer(cell.source):
            where = _nbgrader(cell).get("grade_id") or "an unmarked cell"
            checks = parse_hidden(match.group(1))
            if checks is None:
                problems.append(f"{where}: a hidden block that is not `from autograder.checks.M import "
                                "check_x` then `check_x(name).assert_passed()` lines")
                continue
            if not _nbgrader(cell).get("grade"):
                problems.append(f"{where}: hidden tests in a cell that is not graded")
            for check in checks:
                try:
                    getattr(importlib.import_module(check.module), check.check)
                except (ImportError, AttributeError):
                    problems.append(f"{where}: {check.module}.{check.check} does not exist")
    return problems


def take_hidden(nb) -> list[tuple[str, list[HiddenCheck], str]]:
    """Take every hidden block out of ``nb``'s graded cells: ``(grade_id, checks, full source)``
    per graded cell that had one."""
    items = []
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if cell.cell_type != "code" or not meta.get("grade") or not meta.get("grade_id"):
            continue
        blocks = [parse_hidden(m.group(1)) for m in HIDDEN.finditer(cell.source)]
        if not blocks:
            continue
        if any(b is None for b in blocks):
            raise ValueError(f"{meta['grade_id']}: a hidden block not in the agreed form")
        items.append((meta["grade_id"], [c for b in blocks for c in b], cell.source))
        cell.source = HIDDEN.sub("", cell.source)
    return items


def _static_verdict(check: HiddenCheck, student_cells: list[str]) -> Verdict | None:
    if integrity.imports_autograder(student_cells):
        return Verdict(False, f"[FAILED] {check.target}: scored 0 because the notebook imports the "
                              "autograder (the hidden reference and checks). Remove that import.",
                       Incident("imports the autograder", "imports the autograder"))
    calls = integrity.library_calls(student_cells, check.target)
    if calls:
        return Verdict(False, f"[FAILED] {check.target}: scored 0 because it uses {', '.join(calls)}: "
                              "the exercise is to implement this yourself, not to call the library.",
                       Incident("library call", f"{check.target} calls {', '.join(calls)}"))
    return None


def _remote_verdict(check: HiddenCheck, side: StudentSide) -> Verdict:
    try:
        kind = side.kinds([check.target])[check.target]
    except StudentError as exc:
        return Verdict(False, f"[FAILED] {check.target}: {exc}")
    if kind == "missing":
        return Verdict(False, f"[FAILED] {check.target} is not defined: keep the function's name "
                              "and run its cell.")
    if kind == "function":
        stand_in = RemoteFunction(side, check.target)
    elif kind == "optimizer":
        stand_in = student_optimizer_class(side, check.target)
    else:
        return Verdict(False, f"[FAILED] {check.target}: it is a {kind} here, and the check needs "
                              f"{'a function' if 'class' not in check.check else 'a class'}.")
    run_check = getattr(importlib.import_module(check.module), check.check)
    try:
        result = run_check(stand_in)
    except StudentError as exc:  # raised by a stand-in outside the check's own handling
        return Verdict(False, f"[FAILED] {check.target}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a check that breaks on odd data fails the item
        return Verdict(False, f"[FAILED] {check.target}: the check could not run on your answer "
                              f"({type(exc).__name__}: {exc})")
    calls = side.forbidden_calls()
    if calls:
        return Verdict(False, f"[FAILED] {check.target}: scored 0 because, while being checked, it "
                              f"called {', '.join(calls)}: the exercise is to implement this yourself.",
                       Incident("library call", f"{check.target} called {', '.join(calls)}"))
    return Verdict(bool(result.passed), str(result), None,
                   None if result.passed else getattr(result, "diagnosis", None))


def judge(items, side: StudentSide, student_cells: list[str], timings: dict | None = None):
    """Every hidden check of ``items`` (:func:`take_hidden`) against the student's process:
    ``{grade_id: [Verdict]}``."""
    verdicts = {}
    for grade_id, checks, _ in items:
        found = []
        for check in checks:
            began, cpu = time.perf_counter(), time.process_time()
            found.append(_static_verdict(check, student_cells) or _remote_verdict(check, side))
            if timings is not None:
                timings[check.check] = timings.get(check.check, 0.0) + time.perf_counter() - began
                timings[check.check + " cpu"] = timings.get(check.check + " cpu", 0.0) + time.process_time() - cpu
        verdicts[grade_id] = found
    return verdicts


def _error_output(text: str):
    lines = text.splitlines() or [text]
    return new_output("error", ename="CheckFailed", evalue=lines[0][:500],
                      traceback=["\x1b[0;31mCheckFailed\x1b[0m: " + lines[0]] + lines[1:])


def write_verdicts(nb, items, verdicts) -> dict[str, list[str]]:
    """Each graded cell's hidden block back, its verdicts in its outputs (a failure first, as
    an error; passes on stdout; the cell's own value dropped); the diagnoses by cell."""
    sources = {grade_id: source for grade_id, _, source in items}
    diagnoses = {}
    for cell in nb.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if cell.cell_type != "code" or grade_id not in sources:
            continue
        cell.source = sources[grade_id]
        found = verdicts.get(grade_id) or [Verdict(False, "[FAILED] the hidden checks did not run.")]
        outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "execute_result"]
        failed = [v.text for v in found if not v.passed]
        if failed:
            outputs.insert(0, _error_output("\n".join(failed)))
        passed = [v.text for v in found if v.passed]
        if passed:
            outputs.append(new_output("stream", name="stdout", text="\n".join(passed) + "\n"))
        cell.outputs = outputs
        named = [v.diagnosis for v in found if v.diagnosis]
        if named:
            diagnoses[grade_id] = list(dict.fromkeys(named))
    return diagnoses
