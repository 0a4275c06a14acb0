"""Submissions whose nbgrader metadata was lost or changed: rebuilt from their content and
graded through the real `course grade`, never scored by their own metadata; where that is
impossible, a status that names the cause. And nbgrader's own failures on such notebooks,
put in words a TA can act on."""
import copy
import csv
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.cli import main
from grading_helpers import points
from autograder.publish.samples import solved_notebook

pytestmark = pytest.mark.slow

A = "optimizers"
FULL, MANUAL = points("optimizers")   # the autograded points; the written answers wait for a TA


def lean(nb):
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c.metadata.get("nbgrader")]
    return nb


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def cases(perfect):
    def edit(fn):
        nb = nbformat.from_dict(json.loads(json.dumps(perfect)))
        fn(nb)
        return nb

    answers = [c.source for c in perfect.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    pasted = new_notebook(cells=[new_code_cell("import numpy as np\nimport torch")] +
                          [new_code_cell(source) for source in answers])

    def rename(nb):
        cell(nb, "adam_step").metadata["nbgrader"]["grade_id"] = "adam_step_mine"

    def test_as_solution(nb):
        cell(nb, "test_adam_first_step").metadata["nbgrader"]["solution"] = True

    def add_grade_cell(nb):
        bonus = new_code_cell("assert True  # free points?")
        bonus.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 100, "locked": False,
                                      "solution": False, "schema_version": 3}
        nb.cells.append(bonus)

    renamed = new_notebook(cells=[new_code_cell(s.replace("def ", "def my_").replace("class Adam", "class MyAdam"))
                                  for s in answers])
    return {"good": perfect, "pasted": pasted, "renamed-id": edit(rename),
            "test-as-solution": edit(test_as_solution), "added-grade-cell": edit(add_grade_cell),
            "functions-renamed": renamed}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("recovery")
    subs, out = root / "submissions", root / "out"
    for sid, nb in cases(lean(solved_notebook(A))).items():
        (subs / sid).mkdir(parents=True)
        nbformat.write(nb, subs / sid / f"{A}.ipynb")
    assert main(["grade", A, str(subs), "--out", str(out), "--jobs", "2"]) == 1
    with open(out / "grades.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}, out


@pytest.mark.parametrize("sid", ["pasted", "renamed-id", "test-as-solution", "added-grade-cell"])
def test_lost_metadata_is_recovered_from_the_functions(graded, sid):
    """Is each kind of lost or changed metadata rebuilt from the functions the cells define,
    graded in full, and said so, with the cause in the note?"""
    rows, _ = graded
    row = rows[sid]
    assert row["status"].startswith("graded (recovered: answers matched by the functions they define"), row
    assert float(row["score"]) == FULL and float(row["max_score"]) == FULL + MANUAL, row
    assert "nbgrader metadata:" in row["note"]


def test_no_points_come_from_the_students_metadata(graded):
    """Does a grade cell the student added count for nothing, in grades.csv and nbgrader's export?"""
    rows, out = graded
    assert "bonus" not in rows["added-grade-cell"]
    export = {r["student_id"]: r for r in csv.DictReader(open(out / "nbgrader_export.csv"))}
    assert float(export["added-grade-cell"]["max_score"]) == FULL + MANUAL
    assert float(export["added-grade-cell"]["score"]) == FULL


def test_unrecoverable_submission_names_the_cause(graded):
    """When no cell defines the functions asked for, does the status say so, in words?"""
    row = graded[0]["functions-renamed"]
    assert row["status"].startswith("cannot be graded: its nbgrader metadata is unusable"), row
    assert "no code cell defines" in row["status"] and "adam_step" in row["status"]
    assert float(row["score"]) == 0
    assert rows_good(graded)


def rows_good(graded):
    return graded[0]["good"]["status"] == "graded" and float(graded[0]["good"]["score"]) == FULL


@pytest.mark.parametrize("tamper,words", [
    (lambda c: c.metadata["nbgrader"].update(grade_id="renamed"), "KeyError 'grade_id'"),
    (lambda c: c.metadata["nbgrader"].update(solution=True), "inconsistent checksums"),
])
def test_nbgraders_own_failure_is_put_in_words(tmp_path, tamper, words):
    """Run plain nbgrader autograde on a notebook whose metadata it cannot use: is its failure
    (not "see the above traceback") named, with what the TA can do?"""
    from autograder.settings import make_api
    from autograder.grade.submission import explain_failure

    source = nbformat.v4.new_notebook(cells=[
        new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                      metadata={"nbgrader": {"grade_id": "f", "solution": True, "grade": False,
                                             "locked": False, "schema_version": 3}}),
        new_code_cell("assert f() == 1", metadata={"nbgrader": {"grade_id": "test_f", "solution": False,
                                                               "grade": True, "points": 1, "locked": True,
                                                               "schema_version": 3}})])
    (tmp_path / "source" / "a").mkdir(parents=True)
    nbformat.write(source, tmp_path / "source" / "a" / "a.ipynb")
    api = make_api(tmp_path, **{"CourseDirectory.source_directory": "source",
                                "CourseDirectory.release_directory": "release"})
    assert api.generate_assignment("a", force=True, create=True)["success"]
    student = copy.deepcopy(nbformat.read(tmp_path / "release" / "a" / "a.ipynb", 4))
    tamper(student.cells[0] if "grade_id" in words else student.cells[1])
    (tmp_path / "submitted" / "s1" / "a").mkdir(parents=True)
    nbformat.write(student, tmp_path / "submitted" / "s1" / "a" / "a.ipynb")
    result = api.autograde("a", "s1", force=True, create=True)
    assert not result["success"]
    message = explain_failure(result)
    assert words in message and "OverwriteCells" in message and "traceback" not in message, message
