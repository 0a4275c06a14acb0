"""One student's submission: which of their notebooks is graded, or why none can be.

:mod:`autograder.grade.intake` finds each student's files in the class folder; :func:`choose`
picks the notebook and :func:`read_notebook` says whether it can be read. Nothing here
raises for one bad submission; the rest of the class goes on.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = ["Submission", "SubmissionsError", "choose", "read_notebook", "STUDENT_ID"]

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")
MAX_NOTEBOOK_BYTES = 64 * 1024 ** 2


class SubmissionsError(RuntimeError):
    """The submissions themselves (the folder or the zip) cannot be read at all."""


@dataclass(frozen=True)
class Submission:
    student_id: str
    notebook: Path | None        # the notebook to grade, when there is one
    problem: str | None = None   # why it cannot be graded, in one line
    note: str | None = None      # something the TA should know about a graded submission
    timestamp: str | None = None  # when it was handed in, as nbgrader's timestamp.txt holds it
    entry: str | None = None     # which file of the class folder was graded (relative to it)
    lms: dict = field(default_factory=dict, compare=False)  # the LMS's ids and name, for its export
    absent: bool = False         # on the roster (or asked for) but nothing handed in


def choose(student_id: str, files: list, assignment: str, notes=()) -> Submission:
    """The one notebook of a student's ``files`` (``(Named, path, entry)``) that is graded.

    The latest attempt counts; in it, the notebook named ``<assignment>.ipynb`` (its latest
    re-upload), else the only notebook, else the latest re-upload of one name. Several
    differently named notebooks and none named right is a problem, not a guess.
    """
    notes = list(notes)
    expected = f"{assignment}.ipynb".lower()
    notebooks = [f for f in files if f[1].suffix == ".ipynb" and ".ipynb_checkpoints" not in f[2]]
    if not notebooks:
        others = ", ".join(entry for _, _, entry in files[:3])
        return Submission(student_id, None, f"no notebook: expected {assignment}.ipynb" +
                          (f" (found {others})" if others else ""), "; ".join(notes) or None)
    latest = max(n.attempt for n, _, _ in notebooks)
    current = [f for f in notebooks if f[0].attempt == latest]
    right = [f for f in current if Path(f[0].file).name.lower() == expected]
    names = {Path(f[0].file).name for f in current}
    if right:
        chosen = max(right, key=lambda f: f[0].order)
    elif len(current) == 1 or len(names) == 1:
        chosen = max(current, key=lambda f: f[0].order)
        notes.append(f"notebook was named {chosen[0].file}, graded as {assignment}.ipynb")
    else:
        listed = ", ".join(sorted(f[0].file for f in current)[:4])
        return Submission(student_id, None, f"several notebooks ({listed}) and none named "
                                            f"{assignment}.ipynb", "; ".join(notes) or None)
    same = Path(chosen[0].file).name
    earlier = [f for f in notebooks if f[0].attempt < latest or
               (f is not chosen and Path(f[0].file).name == same and f[0].order < chosen[0].order)]
    if earlier:
        notes.append(f"latest of {len(earlier) + 1} submissions")
    ignored = len(notebooks) - 1 - len(earlier)
    if ignored > 0:
        notes.append(f"graded {same}; ignored {ignored} other notebook(s)")
    if chosen[0].late:
        notes.append("marked LATE by the LMS")
    problem = read_notebook(chosen[1])[1]
    return Submission(student_id, None if problem else chosen[1], problem, "; ".join(notes) or None,
                      entry=chosen[2])


def _json_error(path: Path) -> str:
    try:
        json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return "not a notebook"


def read_notebook(path: Path):
    """``(notebook, None)``, or ``(None, reason)`` when it is not a readable notebook."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            return None, f"invalid notebook: {size / 1e6:.0f} MB is too large"
        if size == 0:
            return None, "invalid notebook: the file is empty"
        with open(path, encoding="utf-8") as f:
            nb = nbformat.read(f, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError):
        return None, f"invalid notebook: not valid JSON ({_json_error(path)})"
    except UnicodeDecodeError:
        return None, "invalid notebook: not UTF-8 text"
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one student's problem
        return None, f"invalid notebook: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    if not nb.get("cells"):
        return None, "invalid notebook: it has no cells"
    return nb, None
