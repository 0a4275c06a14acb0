"""What the class got wrong: per graded item its pass rate and mean score, and per mistake
the hidden checks diagnosed how many students made it, and who (``items.csv``,
``report.html``, and the last lines of the printed summary)."""
from __future__ import annotations

import csv
import html
from dataclasses import dataclass, field
from pathlib import Path

from .class_run import GradingRun

__all__ = ["Item", "Mistake", "Question", "items", "mistakes", "questions", "write_items_csv",
           "write_report_html", "top_mistakes"]


@dataclass(frozen=True)
class Item:
    name: str
    max_score: float
    graded: int          # students whose notebook was graded (and, for a written answer, the answer too)
    passed: int          # of them, with every point of this item
    mean: float
    pending: int = 0     # written answers still to grade by hand

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass
class Mistake:
    diagnosis: str
    students: list[str] = field(default_factory=list)
    points_lost: float = 0.0
    items: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The diagnosis's first clause: "your updates match Adam without bias correction"."""
        return self.diagnosis.split(":")[0].strip().rstrip(".")


def items(run: GradingRun) -> list[Item]:
    graded = [r for r in run.results if r.graded]
    found = []
    for name in run.cell_names:
        top = run.cell_max.get(name, 0.0)
        scores = [r.cells.get(name, 0.0) for r in graded if name not in r.pending]
        found.append(Item(name, top, len(scores), sum(s >= top for s in scores),
                          sum(scores) / len(scores) if scores else 0.0,
                          sum(name in r.pending for r in graded)))
    return found


@dataclass(frozen=True)
class Question:
    """A written question as the source notebook has it: what is asked, and the rubric."""

    name: str
    points: float
    question: str
    rubric: str


def questions(run: GradingRun) -> list[Question]:
    """The written questions of the assignment, from the grading course's source notebook: the
    markdown cell before each manually graded answer, and the rubric inside its solution."""
    import re

    import nbformat

    path = Path(run.course_dir) / "source" / run.assignment / f"{run.assignment}.ipynb"
    if not run.manual_cells or not path.is_file():
        return []
    cells = nbformat.read(path, as_version=4).cells
    found = []
    for i, cell in enumerate(cells):
        name = cell.metadata.get("nbgrader", {}).get("grade_id")
        if name not in run.manual_cells:
            continue
        asked = cells[i - 1].source.strip() if i and cells[i - 1].cell_type == "markdown" else ""
        rubric = re.search(r"\*\*Rubric\b.*?(?=^### END SOLUTION|\Z)", cell.source, re.S | re.M)
        found.append(Question(name, run.cell_max.get(name, 0.0), asked, rubric.group(0).strip() if rubric else ""))
    return found


def mistakes(run: GradingRun) -> list[Mistake]:
    """Each diagnosed mistake with the students who made it, the most students first, then
    the most points lost."""
    found: dict[str, Mistake] = {}
    for r in run.results:
        if not r.graded:
            continue
        for cell, diagnoses in r.diagnoses.items():
            lost = run.cell_max.get(cell, 0.0) - r.cells.get(cell, 0.0)
            for diagnosis in diagnoses:
                m = found.setdefault(diagnosis, Mistake(diagnosis))
                if r.student_id not in m.students:
                    m.students.append(r.student_id)
                if cell not in m.items:
                    m.items.append(cell)
                m.points_lost += lost
    return sorted(found.values(), key=lambda m: (-len(m.students), -m.points_lost, m.diagnosis))


def _n(value: float) -> str:
    return f"{value:g}"


def write_items_csv(run: GradingRun, path: Path) -> Path:
    """``kind`` (item or mistake), ``name``, then the figures for each."""
    graded = sum(r.graded for r in run.results)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["kind", "name", "max_score", "pass_rate", "mean_score", "students", "of",
                         "points_lost", "items", "student_ids", "pending_manual"])
        for item in items(run):
            writer.writerow(["item", item.name, _n(item.max_score), f"{item.pass_rate:.3f}",
                             f"{item.mean:.3f}", item.passed, item.graded, "", "", "", item.pending])
        for m in mistakes(run):
            writer.writerow(["mistake", m.diagnosis, "", "", "", len(m.students), graded,
                             _n(m.points_lost), " ".join(m.items), " ".join(sorted(m.students)), ""])
    return Path(path)


def top_mistakes(run: GradingRun, count: int = 3) -> str:
    graded = sum(r.graded for r in run.results)
    found = mistakes(run)[:count]
    if not found:
        return "No typical mistake was diagnosed."
    lines = [f"Most common mistakes (of {graded} graded):"]
    lines += [f"  {i}. {m.label}: {len(m.students)} of {graded} ({_n(m.points_lost)} points lost)"
              for i, m in enumerate(found, 1)]
    return "\n".join(lines)


def write_report_html(run: GradingRun, path: Path) -> Path:
    e = html.escape
    graded = [r for r in run.results if r.graded]
    mean = sum(r.score for r in graded) / len(graded) if graded else 0.0
    rows = "".join(f"<tr><td>{e(i.name)}</td><td>{_n(i.max_score)}</td><td>{i.pass_rate:.0%}</td>"
                   f"<td>{i.mean:.2f}</td><td>{i.pending or ''}</td></tr>" for i in items(run))
    asked = "".join(f"<h3><code>{e(q.name)}</code> ({_n(q.points)} points, "
                    f"{sum(q.name in r.pending for r in graded)} to grade)</h3>"
                    f"<p>{e(q.question)}</p><p><i>{e(q.rubric)}</i></p>" for q in questions(run))
    wrong = "".join(f"<tr><td>{e(m.diagnosis)}</td><td>{len(m.students)} of {len(graded)}</td>"
                    f"<td>{_n(m.points_lost)}</td><td>{e(', '.join(m.items))}</td>"
                    f"<td>{e(', '.join(sorted(m.students)))}</td></tr>" for m in mistakes(run))
    ungraded = "".join(f"<li><b>{e(r.student_id)}</b>: {e(str(r.status))}</li>" for r in run.results if not r.graded)
    refused = "".join(f"<li><code>{e(r.entry)}</code>: {e(r.reason)}</li>" for r in run.refused)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(run.assignment)}: what the class got wrong</title>
<style>body{{font-family:sans-serif;max-width:70em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}}</style></head><body>
<h1>{e(run.assignment)}</h1>
<p>{len(graded)} graded of {len(run.results)} students; mean {mean:.2f} / {_n(run.max_score)}.</p>
<h2>Graded items</h2>
<table><tr><th>item</th><th>points</th><th>full marks</th><th>mean score</th><th>awaiting manual grading</th></tr>{rows}</table>
<h2>Written answers: grade them in nbgrader's formgrader</h2>
<p><code>cd {e(str(run.course_dir))} &amp;&amp; jupyter lab</code>, the Formgrader, then
<code>course export</code> on this folder for the final totals.</p>{asked or '<p>none</p>'}
<h2>Mistakes the checks diagnosed</h2>
<table><tr><th>mistake</th><th>students</th><th>points lost</th><th>items</th><th>who</th></tr>{wrong}</table>
<h2>Not graded</h2><ul>{ungraded or '<li>none</li>'}</ul>
<h2>Entries of the class folder that are no submission</h2><ul>{refused or '<li>none</li>'}</ul>
</body></html>
"""
    Path(path).write_text(page, encoding="utf-8")
    return Path(path)
