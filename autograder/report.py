"""What a grading run leaves behind: ``grades.csv``, ``refused.csv``, nbgrader's own export,
a printed table."""
from __future__ import annotations

import csv
from pathlib import Path

from .grading import GradingRun

__all__ = ["write_grades_csv", "write_refused_csv", "write_nbgrader_export", "format_table", "GRADES_COLUMNS"]

GRADES_COLUMNS = ["student_id", "score", "max_score", "status", "submission", "submitted_at", "note"]


def _number(value: float) -> str:
    return f"{value:g}"


def write_grades_csv(run: GradingRun, path: Path) -> Path:
    """``student_id, score, max_score, status, submission, submitted_at, note``, then one
    column per graded cell."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*GRADES_COLUMNS, *run.cell_names])
        for r in sorted(run.results, key=lambda r: r.student_id):
            cells = [_number(r.cells[name]) if name in r.cells else "" for name in run.cell_names]
            writer.writerow([r.student_id, _number(r.score), _number(r.max_score), str(r.status), r.entry or "",
                             r.submitted_at or "", r.note or "", *cells])
    return path


def write_refused_csv(run: GradingRun, path: Path) -> Path:
    """``entry, reason``: each entry of the class folder that is no student's submission."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["entry", "reason"])
        writer.writerows([r.entry, r.reason] for r in run.refused)
    return Path(path)


def write_nbgrader_export(run: GradingRun, path: Path) -> Path:
    """nbgrader's standard CSV export of the grading gradebook (for an LMS import)."""
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    plugin = CsvExportPlugin(to=str(path), assignment=[run.assignment])
    with Gradebook(f"sqlite:///{run.course_dir / 'gradebook.db'}") as gb:
        plugin.export(gb)
    return Path(path)


def format_table(run: GradingRun) -> str:
    """A fixed-width table: student, score, then the status or the notes."""
    rows = sorted(run.results, key=lambda r: (not r.graded, -r.score, r.student_id))
    width = max([len("student")] + [len(r.student_id) for r in rows])
    lines = [f"{'student':<{width}}  {'score':>11}  status",
             f"{'-' * width}  {'-' * 11}  {'-' * 40}"]
    for r in rows:
        status = str(r.status) + (f" [{r.note}]" if r.note and r.graded else "")
        lines.append(f"{r.student_id:<{width}}  {_number(r.score):>5} / {_number(r.max_score):<3}  {status}")
    graded = [r for r in rows if r.graded]
    if graded:
        mean = sum(r.score for r in graded) / len(graded)
        lines.append(f"{len(graded)} graded, {len(rows) - len(graded)} not gradable; mean of graded "
                     f"{mean:.2f} / {_number(run.max_score)}")
    for refused in run.refused:
        lines.append(f"not a submission: {refused.entry}: {refused.reason}")
    from .class_report import top_mistakes

    lines.append(top_mistakes(run))
    return "\n".join(lines)
