"""Grades for the LMS: a CSV that Canvas's gradebook import accepts, and each student's
comment (score, status, the mistakes the checks diagnosed) keyed the same way.

Canvas identifies a row by ``ID`` (its user id), ``SIS User ID`` or ``SIS Login ID`` and
reads the score from the column named after the assignment, ``Name (assignment id)`` to
update an existing assignment (``--canvas-column``; a name Canvas does not know makes a new
column). The ids come from the Canvas download's names and the roster (a Canvas gradebook
export gives them all); without them ``SIS Login ID`` holds the course's student id. A
student whose notebook could not be graded gets an empty score, so an import never writes a
0 the TA has not looked at; the comment says why.
"""
from __future__ import annotations

import csv
from pathlib import Path

from .class_run import GradingRun, StudentResult

__all__ = ["CANVAS_KEYS", "write_canvas_csv", "write_canvas_comments", "comment"]

CANVAS_KEYS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def _keys(r: StudentResult) -> list[str]:
    lms = dict(r.lms)
    if not any(lms.get(k) for k in ("ID", "SIS User ID", "SIS Login ID")):
        lms["SIS Login ID"] = r.student_id
    lms.setdefault("Student", r.student_id)
    return [lms.get(k, "") for k in CANVAS_KEYS]


def write_canvas_csv(run: GradingRun, path: Path, column: str | None = None) -> Path:
    column = column or run.assignment
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*CANVAS_KEYS, column])
        writer.writerow(["    Points Possible", "", "", "", "", f"{run.max_score:g}"])
        for r in sorted(run.results, key=lambda r: r.student_id):
            writer.writerow([*_keys(r), f"{r.score:g}" if r.graded else ""])
    return Path(path)


def comment(run: GradingRun, r: StudentResult) -> str:
    if not r.graded:
        return f"Not graded: {r.status}"
    parts = [f"Score {r.score:g} / {r.max_score:g}."]
    if r.pending:
        parts.append(f"Written answers not graded yet ({run.pending_points(r):g} points): the score "
                     "will change once they are.")
    if r.status.incidents:
        parts.append(f"Grading notes: {'; '.join(dict.fromkeys(i.text for i in r.status.incidents))}.")
    found: dict[str, list[str]] = {}
    for cell in run.cell_names:
        for diagnosis in r.diagnoses.get(cell, []):
            found.setdefault(diagnosis, []).append(cell)
    parts += [f"{diagnosis} (in {', '.join(cells)})" for diagnosis, cells in found.items()]
    return "\n".join(parts)


def write_canvas_comments(run: GradingRun, path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*CANVAS_KEYS, "Comment"])
        for r in sorted(run.results, key=lambda r: r.student_id):
            writer.writerow([*_keys(r), comment(run, r)])
    return Path(path)
