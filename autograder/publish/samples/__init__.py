"""A sample class, generated from the solutions: a perfect student, students with typical
mistakes, an untouched (blank) submission, and submissions that cannot be graded.

Each assignment's typical mistakes live in ``autograder/publish/samples/<assignment>.py`` as
``MISTAKES = {student_id: [(solution cell id, text in the solution, replacement), ...]}``.
Every student but the blank one answers the written questions with the source's model
answer (without its rubric), which waits for a TA in formgrader like a real answer.
"""
from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import nbformat

from ...settings import COURSE_ROOT, GradingSettings

__all__ = ["solved_notebook", "with_mistake", "make_sample_class", "mistakes_for", "written_answer"]

_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _strip_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if line.strip() not in _MARKERS)


def written_answer(source: str) -> str:
    """What a good student writes in an answer cell: the model answer, without its label and
    without the rubric that follows it."""
    text = _strip_markers(source)
    text = text.split("**Rubric")[0]
    return text.replace("**Model answer.**", "").strip()


def solved_notebook(assignment: str, root: Path = COURSE_ROOT,
                    settings: GradingSettings = GradingSettings()):
    """The released notebook with every solution cell filled in as the solutions have it."""
    source = nbformat.read(root / settings.source_directory / assignment / f"{assignment}.ipynb", 4)
    released = nbformat.read(root / settings.release_directory / assignment / f"{assignment}.ipynb", 4)
    answers = {c.metadata["nbgrader"]["grade_id"]: written_answer(c.source) if c.cell_type == "markdown"
               else _strip_markers(c.source)
               for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in released.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return released


def with_mistake(notebook, edits):
    """A copy of ``notebook`` with ``(cell id, old, new)`` text edits in its solution cells."""
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in notebook.cells}
    for grade_id, old, new in edits:
        cell = by_id[grade_id]
        if old not in cell.source:
            raise ValueError(f"sample mistake: {old!r} is not in cell {grade_id!r}")
        cell.source = cell.source.replace(old, new)
    return notebook


def mistakes_for(assignment: str) -> dict:
    try:
        module = importlib.import_module(f"{__name__}.{assignment}")
    except ModuleNotFoundError:
        return {}
    return dict(getattr(module, "MISTAKES", {}))


def make_sample_class(assignment: str, out: Path, root: Path = COURSE_ROOT,
                      settings: GradingSettings = GradingSettings(),
                      only: set[str] | None = None) -> list[str]:
    """Write one folder per sample student under ``out``; return the student ids.

    ``only`` keeps just those students (the tests grade small classes).
    """
    out = Path(out)
    name = f"{assignment}.ipynb"
    perfect = solved_notebook(assignment, root, settings)
    released = root / settings.release_directory / assignment / name
    students = {"perfect": perfect}
    for student_id, edits in mistakes_for(assignment).items():
        students[student_id] = with_mistake(perfect, edits)
    for student_id, notebook in students.items():
        (out / student_id).mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out / student_id / name)
    (out / "blank").mkdir(parents=True, exist_ok=True)
    (out / "blank" / name).write_bytes(released.read_bytes())
    (out / "corrupted").mkdir(parents=True, exist_ok=True)
    (out / "corrupted" / name).write_text(released.read_text()[: 500])  # truncated JSON
    (out / "no-notebook").mkdir(parents=True, exist_ok=True)
    (out / "no-notebook" / "answers.txt").write_text("I wrote my answers here instead.\n")
    written = sorted([*students, "blank", "corrupted", "no-notebook"])
    if only is not None:
        for student_id in set(written) - set(only):
            shutil.rmtree(out / student_id)
        written = [s for s in written if s in only]
    return written
