"""Grading a class: nbgrader's autograde, feedback and gradebook, one submission at a time.

The grading course lives under ``OUT/nbgrader`` (source, submitted, autograded, feedback
and the SQLite gradebook), so a run never touches the instructor's repository and a rerun
regrades idempotently. Each student ends with a :class:`StudentResult`: a score, or the
reason there is none.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .release import make_api
from .settings import COURSE_ROOT, GradingSettings
from .submissions import Submission, find_submissions

__all__ = ["StudentResult", "GradingRun", "grade_class", "GRADED"]

GRADED = "graded"


@dataclass
class StudentResult:
    student_id: str
    score: float
    max_score: float
    status: str = GRADED
    cells: dict[str, float] = field(default_factory=dict)
    feedback: Path | None = None
    note: str | None = None


@dataclass
class GradingRun:
    assignment: str
    results: list[StudentResult]
    cell_names: list[str]
    max_score: float
    course_dir: Path


def _prepare_course(assignment: str, work: Path, source_root: Path,
                    settings: GradingSettings):
    """A grading course under ``work``: the source notebook, generated once into the gradebook."""
    source = source_root / settings.source_directory / assignment / f"{assignment}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"no source notebook for assignment {assignment!r}: {source}")
    target = work / "source" / assignment
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target / source.name)
    api = _api(work, settings)
    result = api.generate_assignment(assignment, force=True, create=True)
    if not result.get("success"):
        raise RuntimeError(f"nbgrader could not prepare {assignment!r}:\n{result.get('log', '')}")
    return api


def _api(work: Path, settings: GradingSettings):
    return make_api(work, settings, **{
        "CourseDirectory.source_directory": "source",
        "CourseDirectory.release_directory": "release",
        "CourseDirectory.submitted_directory": "submitted",
        "CourseDirectory.autograded_directory": "autograded",
        "CourseDirectory.feedback_directory": "feedback",
    })


def _last_error(result: dict) -> str:
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "error" in line:
            return line[:200]
    return lines[-1][:200] if lines else "unknown error"


def _stage(api, work: Path, assignment: str, submission: Submission) -> None:
    """Copy the notebook (and its timestamp) into nbgrader's ``submitted`` folder."""
    dest = work / "submitted" / submission.student_id / assignment
    if dest.exists():
        shutil.rmtree(dest)  # a resubmission replaces the earlier one
    dest.mkdir(parents=True)
    shutil.copyfile(submission.notebook, dest / f"{assignment}.ipynb")
    if submission.timestamp:
        (dest / "timestamp.txt").write_text(submission.timestamp)


def _autograde_one(api, work: Path, assignment: str, submission: Submission) -> str:
    """Autograde one staged submission; return its status."""
    _stage(api, work, assignment, submission)
    result = api.autograde(assignment, submission.student_id, force=True, create=True)
    if not result.get("success"):
        return f"autograde failed: {_last_error(result)}"
    return GRADED


def _feedback(api, work: Path, out: Path, assignment: str, student_id: str) -> Path | None:
    result = api.generate_feedback(assignment, student_id, force=True)
    html = work / "feedback" / student_id / assignment / f"{assignment}.html"
    if not result.get("success") or not html.is_file():
        return None
    target = out / "feedback" / student_id / f"{assignment}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(html, target)
    return target


def _read_gradebook(api, assignment: str):
    """Grade cells in notebook order, their maxima, and every graded student's scores."""
    from nbgrader.api import MissingEntry

    with api.gradebook as gb:
        assignment_row = gb.find_assignment(assignment)
        cells = []
        for notebook in assignment_row.notebooks:
            for cell in notebook.grade_cells:
                cells.append((cell.name, float(cell.max_score)))
        max_score = float(assignment_row.max_score)
        scores = {}
        for student in gb.students:
            try:
                submission = gb.find_submission(assignment, student.id)
            except MissingEntry:
                continue
            per_cell = {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}
            scores[student.id] = (float(submission.score), per_cell)
    return cells, max_score, scores


def grade_class(assignment: str, submissions: Path, out: Path,
                settings: GradingSettings = GradingSettings(), source_root: Path = COURSE_ROOT,
                on_progress: Callable[[Submission, str, int, int], None] | None = None) -> GradingRun:
    """Autograde every submission of ``assignment`` and write feedback; return the results.

    ``submissions`` is a folder with one folder per student (or a ``.zip`` of it). A
    submission that cannot be graded gets its reason as its status and a score of 0; the rest
    of the class is graded. ``on_progress(submission, status, done, total)`` is called after
    each student.
    """
    out = Path(out).resolve()
    work = out / "nbgrader"
    work.mkdir(parents=True, exist_ok=True)
    found = find_submissions(Path(submissions), assignment, work)
    api = _prepare_course(assignment, work, Path(source_root), settings)

    statuses: dict[str, Submission | str] = {}
    for done, submission in enumerate(found, start=1):
        if submission.problem:
            status = submission.problem
        else:
            try:
                status = _autograde_one(api, work, assignment, submission)
            except Exception as exc:  # noqa: BLE001 - one student's failure must not stop the class
                status = f"autograde failed: {type(exc).__name__}: {exc}"[:200]
        statuses[submission.student_id] = status
        if on_progress is not None:
            on_progress(submission, status, done, len(found))

    cells, max_score, scores = _read_gradebook(api, assignment)
    results = []
    for submission in found:
        sid, status = submission.student_id, statuses[submission.student_id]
        if status == GRADED and sid in scores:
            score, per_cell = scores[sid]
            feedback = _feedback(api, work, out, assignment, sid)
            results.append(StudentResult(sid, score, max_score, GRADED, per_cell, feedback,
                                         submission.note))
        else:
            results.append(StudentResult(sid, 0.0, max_score, status, {}, None, submission.note))
    return GradingRun(assignment, results, [name for name, _ in cells], max_score, work)
