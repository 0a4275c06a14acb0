"""Grading a small sample class once through the real `course grade`, for the end-to-end tests."""
import csv
import html
import re

from autograder.cli import main
from autograder.publish.samples import make_sample_class


def grade_sample_class(root, assignment, students, extra=None, args=()):
    """Grade ``students`` of the generated sample class (plus ``extra``: {id: notebook}) with
    `course grade`; return ``(rows by student id, output folder)``."""
    import nbformat

    submissions = root / "submissions"
    make_sample_class(assignment, submissions, only=set(students))
    for student_id, notebook in (extra or {}).items():
        (submissions / student_id).mkdir(parents=True)
        nbformat.write(notebook, submissions / student_id / f"{assignment}.ipynb")
    out = root / "out"
    ungradable = {"corrupted", "no-notebook"} & set(students)
    assert main(["grade", assignment, str(submissions), "--out", str(out), *args]) == (1 if ungradable else 0)
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    return rows, out


def feedback_text(out, assignment, student_id):
    """The text of a student's feedback page, tags removed and entities decoded."""
    page = (out / "feedback" / student_id / f"{assignment}.html").read_text()
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def points(assignment):
    """``(autograded, manually graded)`` points of ``assignment``, read from the nbgrader
    metadata of its source notebook (test cells, and the written answers graded by hand)."""
    import nbformat

    from autograder.settings import COURSE_ROOT

    auto = manual = 0.0
    for cell in nbformat.read(COURSE_ROOT / "solutions" / assignment / f"{assignment}.ipynb", 4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            if meta.get("solution"):
                manual += float(meta["points"])
            else:
                auto += float(meta["points"])
    return auto, manual
