"""What a grading run leaves behind: ``grades.csv``, ``refused.csv``, nbgrader's own export,
a printed table."""
from __future__ import annotations

import csv
from pathlib import Path

from .class_run import GradingRun

__all__ = ["write_grades_csv", "write_refused_csv", "write_nbgrader_export", "format_table", "GRADES_COLUMNS"]

GRADES_COLUMNS = ["student_id", "score", "max_score", "auto_score", "manual_score", "pending_manual",
                  "status", "submission", "submitted_at", "note"]


def _number(value: float) -> str:
    return f"{value:g}"


def write_grades_csv(run: GradingRun, path: Path) -> Path:
    """One row per student: ``student_id``; ``score`` (all points so far, after a late penalty)
    of ``max_score``; ``auto_score`` (the autograded cells), ``manual_score`` (the written
    answers graded so far) and ``pending_manual`` (the points of the written answers still to
    grade in formgrader); ``status, submission, submitted_at, note``; then one column per
    graded cell, its score, or empty while it awaits manual grading (or was not graded)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([*GRADES_COLUMNS, *run.cell_names])
        for r in sorted(run.results, key=lambda r: r.student_id):
            cells = [_number(r.cells[name]) if name in r.cells else "" for name in run.cell_names]
            parts = [_number(r.auto_score), _number(r.manual_score), _number(run.pending_points(r))] \
                if r.graded else ["", "", ""]
            writer.writerow([r.student_id, _number(r.score), _number(r.max_score), *parts, str(r.status),
                             r.entry or "", r.submitted_at or "", r.note or "", *cells])
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
    """A fixed-width table: student, score, the autograded and the written points (with those
    still to grade by hand), then the status or the notes."""
    rows = sorted(run.results, key=lambda r: (not r.graded, -r.score, r.student_id))
    width = max([len("student")] + [len(r.student_id) for r in rows])
    manual_max = sum(run.cell_max.get(name, 0.0) for name in run.manual_cells)
    auto_max = run.max_score - manual_max
    lines = [f"{'student':<{width}}  {'score':>11}  {'auto':>11}  {'written':>17}  status",
             f"{'-' * width}  {'-' * 11}  {'-' * 11}  {'-' * 17}  {'-' * 40}"]
    for r in rows:
        status = str(r.status) + (f" [{r.note}]" if r.note and r.graded else "")
        auto = f"{_number(r.auto_score):>5} / {_number(auto_max):<3}" if r.graded else ""
        written = ""
        if r.graded and run.manual_cells:
            pending = run.pending_points(r)
            written = f"{_number(r.manual_score):>3} / {_number(manual_max):<3}" + \
                (f" +{_number(pending)} to grade" if pending else "")
        lines.append(f"{r.student_id:<{width}}  {_number(r.score):>5} / {_number(r.max_score):<3}  "
                     f"{auto:>11}  {written:<17}  {status}")
    graded = [r for r in rows if r.graded]
    if graded:
        mean = sum(r.score for r in graded) / len(graded)
        lines.append(f"{len(graded)} graded, {len(rows) - len(graded)} not gradable; mean of graded "
                     f"{mean:.2f} / {_number(run.max_score)}")
        waiting = [r for r in graded if r.pending]
        if waiting:
            lines.append(f"{len(waiting)} of {len(graded)} await manual grading of their written answers "
                         f"({', '.join(run.manual_cells)}): grade them in nbgrader's formgrader "
                         f"(cd {run.course_dir} && jupyter lab), then `course export`")
    for refused in run.refused:
        lines.append(f"not a submission: {refused.entry}: {refused.reason}")
    from .class_report import top_mistakes

    lines.append(top_mistakes(run))
    return "\n".join(lines)
