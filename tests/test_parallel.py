"""Class scale: parallel and sequential grading agree, regrading is idempotent, a resubmission
replaces the earlier one, late work gets nbgrader's penalty, and a Dask executor works unchanged."""
import csv
import shutil
import sqlite3

import nbformat
import pytest

from autograder.cli import main
from autograder.grade.class_run import grade_class
from autograder.publish.samples import solved_notebook, with_mistake
from autograder.publish.samples.optimizers import MISTAKES
from autograder.settings import GradingSettings
from grading_helpers import points

pytestmark = pytest.mark.slow

ASSIGNMENT = "optimizers"
FULL, _ = points(ASSIGNMENT)   # the autograded points (the written answers wait for a TA)
DUE = "2026-11-20 12:00:00 UTC"


def lean(nb):
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c.metadata.get("nbgrader")]
    return nb


def write(folder, sid, nb, timestamp=None):
    (folder / sid).mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / sid / f"{ASSIGNMENT}.ipynb")
    if timestamp:
        (folder / sid / "timestamp.txt").write_text(timestamp)


def rows(out):
    with open(out / "grades.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("parallel")
    perfect = lean(solved_notebook(ASSIGNMENT))
    cls = root / "class"
    write(cls, "perfect", perfect, "2026-11-19 10:00:00 UTC")
    write(cls, "mistake", with_mistake(perfect, MISTAKES["adam-no-bias-correction"]))
    write(cls, "late", perfect, "2026-11-21 12:00:00 UTC")
    common = ["--due", DUE, "--cell-timeout", "60"]
    assert main(["grade", ASSIGNMENT, str(cls), "--out", str(root / "seq"), "--jobs", "1", *common]) == 0
    assert main(["grade", ASSIGNMENT, str(cls), "--out", str(root / "par"), "--jobs", "2", *common]) == 0
    first = rows(root / "par")
    # the student with the mistake hands in again: the regrade replaces their submission
    write(cls, "mistake", perfect)
    assert main(["grade", ASSIGNMENT, str(cls), "--out", str(root / "par"), "--jobs", "2", *common]) == 0
    return root, rows(root / "seq"), first, rows(root / "par")


def test_parallel_and_sequential_grades_are_identical(runs):
    """Do --jobs 1 and --jobs 2 write the same grades.csv rows?"""
    _, seq, par, _ = runs
    assert seq == par
    assert float(par["perfect"]["score"]) == FULL and 0 < float(par["mistake"]["score"]) < FULL


def test_late_submission_gets_nbgraders_penalty(runs):
    """Does a timestamp after the due date cost nbgrader's late penalty ('zero'), and say so?"""
    _, _, par, _ = runs
    assert float(par["late"]["score"]) == 0, par["late"]
    assert "late by 24.0 h" in par["late"]["status"]
    assert par["late"]["test_adam_class"] == "3"  # the cells keep their scores; the total pays


def test_regrading_is_idempotent_and_a_resubmission_replaces(runs):
    """Does regrading leave the others' rows unchanged, replace the resubmitted one, and keep
    one submission per student in the one gradebook?"""
    root, _, first, again = runs
    assert again["perfect"] == first["perfect"] and again["late"] == first["late"]
    assert float(again["mistake"]["score"]) == FULL
    with sqlite3.connect(root / "par" / "nbgrader" / "gradebook.db") as db:
        count = db.execute("select count(*) from submitted_assignment").fetchone()[0]
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
    assert count == 3


def test_a_dask_executor_grades_the_same(runs, tmp_path):
    """Does grade_class take Dask distributed's executor unchanged, with the same grades?"""
    distributed = pytest.importorskip("distributed")
    root, _, _, again = runs
    cls = tmp_path / "class"
    shutil.copytree(root / "class", cls)
    settings = GradingSettings(due_date=DUE, cell_timeout=60, call_timeout=60)
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        run = grade_class(ASSIGNMENT, cls, tmp_path / "out", settings=settings,
                          executor=client.get_executor())
    scores = {r.student_id: r.score for r in run.results}
    assert scores == {sid: float(row["score"]) for sid, row in again.items()}
