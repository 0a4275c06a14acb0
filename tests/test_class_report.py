"""What the class got wrong, the LMS export, one student regraded, and nbgrader's formgrader
on the grading course: one generated sample class with known mistakes, graded once by the
real `course grade` (module fixture), then regraded for one student and adjusted by hand."""
import contextlib
import csv
import io
import os
import socket
import subprocess
import sys
import time

import nbformat
import pytest

from autograder.cli import main
from autograder.publish.samples import make_sample_class, solved_notebook, with_mistake
from autograder.publish.samples.optimizers import MISTAKES
from grading_helpers import points

pytestmark = pytest.mark.slow

A = "optimizers"
FULL, MANUAL = points(A)   # the autograded points, and the written answers' (graded in formgrader)
COLUMN = "Optimizers (67890)"
# the sample class's students, and one more with the same mistake as the first
TWICE = "adam-no-bias-correction"
GRADED = ["perfect", "blank", *MISTAKES, "second-no-bias"]


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class-report")
    subs, out = root / "submissions", root / "out"
    make_sample_class(A, subs)
    (subs / "second-no-bias").mkdir()
    nbformat.write(with_mistake(solved_notebook(A), MISTAKES[TWICE]), subs / "second-no-bias" / f"{A}.ipynb")
    roster = root / "gradebook-export.csv"
    with open(roster, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section"])
        for i, sid in enumerate([*GRADED, "corrupted", "no-notebook", "absent"]):
            writer.writerow([f"Student, {sid}", 1000 + i, 5000 + i, sid, "S01"])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["grade", A, str(subs), "--out", str(out), "--jobs", "2", "--roster", str(roster),
                     "--canvas-column", COLUMN])
    assert code == 1  # corrupted, no-notebook
    return root, subs, out, printed.getvalue()


def test_items_count_the_known_mistakes(graded):
    """Does items.csv count each planted mistake for exactly the students who made it, out of
    the graded students, most frequent first?"""
    _, _, out, _ = graded
    rows = read(out / "items.csv")
    mistakes = [r for r in rows if r["kind"] == "mistake"]
    by_first_words = {r["name"].split(":")[0]: r for r in mistakes}
    bias = by_first_words["your updates match Adam without bias correction"]
    assert bias["student_ids"].split() == sorted([TWICE, "second-no-bias"]) and bias["of"] == str(len(GRADED))
    assert mistakes[0] is bias  # two students: the most common
    named = {sid for r in mistakes for sid in r["student_ids"].split()}
    assert named == set(MISTAKES) | {"second-no-bias"}  # the perfect and blank students made none
    assert float(bias["points_lost"]) > 0


def test_items_pass_rate_and_mean_agree_with_the_grades(graded):
    """Are each item's pass rate and mean score those of the per-cell scores in grades.csv?"""
    _, _, out, _ = graded
    grades = [r for r in read(out / "grades.csv") if r["status"].startswith("graded")]
    assert len(grades) == len(GRADED)
    for item in (r for r in read(out / "items.csv") if r["kind"] == "item"):
        scores = [float(g[item["name"]]) for g in grades if g[item["name"]] != ""]
        assert int(item["of"]) == len(scores) and int(item["pending_manual"]) == len(grades) - len(scores), item
        assert int(item["students"]) == sum(s == float(item["max_score"]) for s in scores), item
        if scores:
            assert float(item["mean_score"]) == pytest.approx(sum(scores) / len(scores), abs=1e-3)
    written = [r for r in read(out / "items.csv") if r["name"].startswith("answer_")]
    assert len(written) == 3 and all(int(r["pending_manual"]) == len(GRADED) - 1 for r in written)  # not blank


def test_printed_summary_ends_with_the_three_most_common_mistakes(graded):
    """Does the printed table end with the three most common mistakes, counts included?"""
    *_, printed = graded
    tail = printed.rstrip().splitlines()[-4:]
    assert tail[0].startswith("Most common mistakes")
    assert tail[1].strip().startswith("1. your updates match Adam without bias correction: 2 of 7")
    assert [line.strip()[:2] for line in tail[1:4]] == ["1.", "2.", "3."]
    report = (graded[2] / "report.html").read_text()
    assert "without bias correction" in report and "second-no-bias" in report


def test_canvas_csv_has_the_import_columns_and_the_scores(graded):
    """Does canvas_grades.csv have Canvas's import columns, the points possible, the roster's
    ids, the score in the assignment's column, and no score for what was not graded?"""
    _, _, out, _ = graded
    with open(out / "canvas_grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", COLUMN]
    assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == f"{FULL + MANUAL:g}"
    grades = {r["student_id"]: r for r in read(out / "grades.csv")}
    canvas = {r["SIS Login ID"]: r for r in read(out / "canvas_grades.csv")[1:]}
    assert set(canvas) == set(grades) and grades["absent"]["status"] == "no submission"
    for sid, row in canvas.items():
        graded_ok = grades[sid]["status"].startswith("graded")
        assert row[COLUMN] == (grades[sid]["score"] if graded_ok else ""), sid
        assert row["ID"] and row["Student"] == f"Student, {sid}"
    comments = {r["SIS Login ID"]: r["Comment"] for r in read(out / "canvas_comments.csv")}
    assert "without bias correction" in comments[TWICE] and comments["corrupted"].startswith("Not graded")


def test_one_student_regraded_merges_into_the_class(graded):
    """Does --student regrade one student and leave everyone else's rows, feedback and export
    as they were, with the report counted again?"""
    root, subs, out, _ = graded
    before = {r["student_id"]: r for r in read(out / "grades.csv")}
    pages = {p: p.stat().st_mtime_ns for p in (out / "feedback").rglob("*.html")}
    export_before = {r["student_id"]: r for r in read(out / "nbgrader_export.csv")}
    nbformat.write(solved_notebook(A), subs / "nesterov-ignored" / f"{A}.ipynb")  # fixed
    assert main(["grade", A, str(subs), "--out", str(out), "--jobs", "2", "--student", "nesterov-ignored",
                 "--roster", str(root / "gradebook-export.csv"), "--canvas-column", COLUMN]) == 1
    after = {r["student_id"]: r for r in read(out / "grades.csv")}
    assert set(after) == set(before)
    assert float(before["nesterov-ignored"]["score"]) < FULL == float(after["nesterov-ignored"]["score"])
    assert float(after["nesterov-ignored"]["pending_manual"]) == MANUAL
    assert {k: v for k, v in after.items() if k != "nesterov-ignored"} == \
        {k: v for k, v in before.items() if k != "nesterov-ignored"}
    for page, stamp in pages.items():
        if "nesterov-ignored" not in page.parts:
            assert page.stat().st_mtime_ns == stamp, page
    export = {r["student_id"]: r for r in read(out / "nbgrader_export.csv")}
    assert float(export["nesterov-ignored"]["score"]) == FULL
    assert {k: v for k, v in export.items() if k != "nesterov-ignored"} == \
        {k: v for k, v in export_before.items() if k != "nesterov-ignored"}
    named = {sid for r in read(out / "items.csv") if r["kind"] == "mistake" for sid in r["student_ids"].split()}
    assert "nesterov-ignored" not in named and TWICE in named


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_written_answers_await_manual_grading(graded):
    """Before any manual grading, does every student who wrote answers have them pending (empty
    cells, pending_manual = their points, the Canvas comment saying so), the printed table say
    who awaits grading, and report.html list each question with its rubric?"""
    _, _, out, printed = graded
    rows = {r["student_id"]: r for r in read(out / "grades.csv")}
    for sid in set(GRADED) - {"blank"}:
        row = rows[sid]
        assert float(row["pending_manual"]) == MANUAL and float(row["manual_score"]) == 0, row
        assert float(row["score"]) == float(row["auto_score"]), row
        assert all(row[name] == "" for name in row if name.startswith("answer_")), row
    assert float(rows["blank"]["pending_manual"]) == 0  # untouched answers: 0, graded by nbgrader itself
    assert "await manual grading of their written answers" in printed
    comments = {r["SIS Login ID"]: r["Comment"] for r in read(out / "canvas_comments.csv")}
    assert "Written answers not graded yet" in comments["perfect"]
    report = (out / "report.html").read_text()
    assert report.count("Rubric (2 points)") == 3 and "answer_amsgrad" in report


def test_formgrader_grades_the_written_answers_and_the_export_has_the_totals(graded):
    """Does formgrader show a student's written answer, take a score for each written answer,
    and does `course export` then give the final totals (no pending points) in grades.csv,
    nbgrader's export and the Canvas CSV?"""
    _, _, out, _ = graded
    with _formgrader(out) as (api, headers):
        subs = api.get(f"/formgrader/api/submitted_notebooks/{A}/{A}", headers=headers, timeout=30).json()
        perfect = next(s for s in subs if s["student"] == "perfect")
        page = api.get(f"/formgrader/submissions/{perfect['id']}/", headers=headers, timeout=60)
        assert page.ok and ("Student&#39;s answer" in page.text or "Student's answer" in page.text)
        assert "look-ahead points" in page.text      # the perfect student's written answer
        grades = api.get("/formgrader/api/grades", params={"submission_id": perfect["id"]},
                         headers=headers, timeout=30).json()
        written = sorted((g for g in grades if g["name"].startswith("answer_")), key=lambda g: g["name"])
        assert len(written) == 3 and all(g["needs_manual_grade"] for g in written)
        given = {g["name"]: g["max_score"] - (1 if i == 0 else 0) for i, g in enumerate(written)}
        for g in written:
            put = api.put(f"/formgrader/api/grade/{g['id']}", headers=headers, timeout=30,
                          json={"manual_score": given[g["name"]], "extra_credit": 0})
            assert put.ok, put.text[:500]
    assert main(["export", str(out), "--canvas-column", COLUMN]) == 1
    row = next(r for r in read(out / "grades.csv") if r["student_id"] == "perfect")
    assert float(row["pending_manual"]) == 0 and float(row["manual_score"]) == MANUAL - 1
    assert float(row["score"]) == FULL + MANUAL - 1 and float(row["auto_score"]) == FULL
    assert {name: float(row[name]) for name in given} == given
    export = next(r for r in read(out / "nbgrader_export.csv") if r["student_id"] == "perfect")
    assert float(export["score"]) == FULL + MANUAL - 1
    canvas = next(r for r in read(out / "canvas_grades.csv") if r["SIS Login ID"] == "perfect")
    assert canvas[COLUMN] == f"{FULL + MANUAL - 1:g}"


@contextlib.contextmanager
def _formgrader(out):
    """nbgrader's formgrader on the grading course under ``out``: a requests session on it."""
    import requests

    course, port, token = out / "nbgrader", _free_port(), "formgrader-test"
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--allow-root", f"--port={port}",
         "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}",
         "--ServerApp.jpserver_extensions={'nbgrader.server_extensions.formgrader': True}"],
        cwd=course, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "JUPYTER_CONFIG_DIR": str(course / ".jupyter")})
    base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"token {token}"}

    class Api:
        @staticmethod
        def get(path, **kw):
            return requests.get(base + path, **kw)

        @staticmethod
        def put(path, **kw):
            return requests.put(base + path, **kw)

    try:
        for _ in range(120):
            try:
                if requests.get(f"{base}/api/status", headers=headers, timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        yield Api, headers
    finally:
        server.terminate()
        server.wait(30)


def test_formgrader_adjustment_shows_in_the_export(graded):
    """Does nbgrader's formgrader open the grading course, show a submission, take a manual
    score, and does `course export` then write that score into grades.csv and nbgrader's export?"""
    _, _, out, _ = graded
    with _formgrader(out) as (api, headers):
        subs = api.get(f"/formgrader/api/submitted_notebooks/{A}/{A}", headers=headers, timeout=30)
        assert subs.ok, subs.text[:500]
        blank = next(s for s in subs.json() if s["student"] == "blank")
        page = api.get(f"/formgrader/submissions/{blank['id']}/", headers=headers, timeout=60)
        assert page.ok and "adam_step" in page.text
        grades = api.get("/formgrader/api/grades", params={"submission_id": blank["id"]},
                         headers=headers, timeout=30).json()
        cell = next(g for g in grades if g["name"] == "test_adam_class")
        put = api.put(f"/formgrader/api/grade/{cell['id']}", headers=headers, timeout=30,
                      json={"manual_score": 2, "extra_credit": 0})
        assert put.ok, put.text[:500]
    assert main(["export", str(out), "--canvas-column", COLUMN]) == 1
    row = next(r for r in read(out / "grades.csv") if r["student_id"] == "blank")
    assert float(row["test_adam_class"]) == 2 and float(row["score"]) == 2
    assert float(row["auto_score"]) == 2  # a TA's score on an autograded cell stays with the autograded points
    export = next(r for r in read(out / "nbgrader_export.csv") if r["student_id"] == "blank")
    assert float(export["score"]) == 2
    canvas = next(r for r in read(out / "canvas_grades.csv") if r["SIS Login ID"] == "blank")
    assert canvas[COLUMN] == "2"
