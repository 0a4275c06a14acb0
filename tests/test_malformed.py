"""Malformed submissions through the real `course grade`: not JSON, empty, several notebooks,
the wrong name, graded cells deleted, duplicated, moved or turned into markdown, extra cells.
Each gets its row and a clear status; the good student beside them keeps full marks."""
import copy
import csv
import json

import nbformat
import pytest

from autograder.cli import main
from grading_helpers import points
from autograder.publish.samples import solved_notebook

pytestmark = pytest.mark.slow

ASSIGNMENT = "optimizers"
FULL, MANUAL = points("optimizers")   # the autograded points; the written answers wait for a TA


def lean(nb):
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c.metadata.get("nbgrader")]
    return nb


def index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def variants(perfect):
    def edit(fn):
        nb = nbformat.from_dict(json.loads(json.dumps(perfect)))
        fn(nb)
        return nb

    def delete(nb):
        del nb.cells[index(nb, "test_adam_class")]

    def duplicate(nb):
        i = index(nb, "test_adam_first_step")
        nb.cells.insert(i + 1, copy.deepcopy(nb.cells[i]))

    def move(nb):  # the RMSprop test cell above the RMSprop solution
        cell = nb.cells.pop(index(nb, "test_rmsprop"))
        nb.cells.insert(index(nb, "rmsprop_step"), cell)

    def to_markdown(nb):
        i = index(nb, "test_adam_weight_decay")
        cell = nb.cells[i]
        nb.cells[i] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata)

    def extra(nb):
        nb.cells.insert(index(nb, "adam_step"), nbformat.v4.new_code_cell("def helper(x):\n    return x * 1.0"))
        nb.cells.insert(0, nbformat.v4.new_markdown_cell("my notes"))

    return {"deleted": edit(delete), "duplicated": edit(duplicate), "moved": edit(move),
            "markdown": edit(to_markdown), "extra-cells": edit(extra)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("malformed")
    subs, out = root / "submissions", root / "out"
    perfect = lean(solved_notebook(ASSIGNMENT))
    for sid, nb in {"good": perfect, **variants(perfect)}.items():
        (subs / sid).mkdir(parents=True)
        nbformat.write(nb, subs / sid / f"{ASSIGNMENT}.ipynb")
    (subs / "wrong-name").mkdir()
    nbformat.write(perfect, subs / "wrong-name" / "Optimizers (1).ipynb")
    (subs / "not-json").mkdir()
    (subs / "not-json" / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [ {"cell_type": ')
    (subs / "empty").mkdir()
    (subs / "empty" / f"{ASSIGNMENT}.ipynb").write_bytes(b"")
    (subs / "several").mkdir()
    nbformat.write(perfect, subs / "several" / "draft.ipynb")
    nbformat.write(perfect, subs / "several" / "final.ipynb")
    assert main(["grade", ASSIGNMENT, str(subs), "--out", str(out), "--jobs", "2", "--cell-timeout", "60"]) == 1
    with open(out / "grades.csv", newline="") as f:
        return {row["student_id"]: row for row in csv.DictReader(f)}


@pytest.mark.parametrize("sid,words", [("not-json", "not valid JSON"), ("empty", "empty"),
                                       ("several", "several notebooks")])
def test_unreadable_submissions_get_a_reason_and_zero(graded, sid, words):
    """Do a notebook that is not JSON, an empty file and several unnamed notebooks get a row
    with the reason and 0, while the good student keeps full marks?"""
    assert words in graded[sid]["status"] and float(graded[sid]["score"]) == 0
    assert graded["good"]["status"] == "graded" and float(graded["good"]["score"]) == FULL


def test_wrong_file_name_is_graded(graded):
    """Is the only notebook of a folder graded under the right name?"""
    assert graded["wrong-name"]["status"] == "graded" and float(graded["wrong-name"]["score"]) == FULL


def test_deleted_graded_cell_is_put_back(graded):
    """Does a deleted test cell come back (nbgrader's add_missing_cells) and score by its checks?"""
    row = graded["deleted"]
    assert "deleted graded cell was put back" in row["status"] and float(row["score"]) == FULL


def test_duplicated_graded_cell_counts_once(graded):
    """Does a duplicated test cell count once (nbgrader's DeduplicateIds)?"""
    assert float(graded["duplicated"]["score"]) == FULL and graded["duplicated"]["status"].startswith("graded")


def test_moved_graded_cell_goes_back_to_its_place(graded):
    """Does a test cell moved above its solution run where it belongs, not fail on a NameError?"""
    row = graded["moved"]
    assert "moved back" in row["status"] and float(row["score"]) == FULL, row


def test_graded_cell_turned_into_markdown_is_restored(graded):
    """Does a test cell turned into markdown run as code again (nbgrader's OverwriteCells)?"""
    assert float(graded["markdown"]["score"]) == FULL and graded["markdown"]["status"].startswith("graded")


def test_extra_cells_are_harmless(graded):
    """Do inserted code and markdown cells leave the score alone?"""
    assert graded["extra-cells"]["status"] == "graded" and float(graded["extra-cells"]["score"]) == FULL
