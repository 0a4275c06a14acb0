"""Finding submissions: folders, zips, and every way a submission can be unreadable."""
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.grade.intake import read_class
from autograder.grade.submissions import SubmissionsError


def find_submissions(path, assignment, scratch):
    return read_class(path, assignment, scratch).submissions


def _notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), path)


@pytest.fixture
def cls(tmp_path):
    root = tmp_path / "class"
    _notebook(root / "alice" / "optimizers.ipynb")
    _notebook(root / "bob" / "my_optimizers.ipynb")                 # wrong name, only notebook
    _notebook(root / "carol" / "a.ipynb")
    _notebook(root / "carol" / "b.ipynb")                           # several, none right
    (root / "dave").mkdir()
    (root / "dave" / "optimizers.ipynb").write_text('{"cells": [')   # invalid JSON
    (root / "erin").mkdir()                                          # nothing
    (root / "frank").mkdir()
    (root / "frank" / "optimizers.ipynb").write_text("")              # empty file
    _notebook(root / "grace" / "optimizers.ipynb")
    _notebook(root / "grace" / "scratch.ipynb")                      # several, one right
    (root / "grace" / "timestamp.txt").write_text("2026-11-20 10:00:00 UTC")
    (root / "heidi").mkdir()
    nbformat.write(new_notebook(cells=[]), root / "heidi" / "optimizers.ipynb")  # no cells
    (root / "loose-file.txt").write_text("not a student")
    return root


def test_each_student_gets_a_submission_or_a_reason(cls, tmp_path):
    """Does every student folder yield a notebook to grade or a one-line reason?"""
    found = {s.student_id: s for s in find_submissions(cls, "optimizers", tmp_path / "scratch")}
    assert set(found) == {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
    assert found["alice"].notebook.name == "optimizers.ipynb" and not found["alice"].problem
    assert found["bob"].notebook.name == "my_optimizers.ipynb" and "named" in found["bob"].note
    assert "several notebooks" in found["carol"].problem and found["carol"].notebook is None
    assert "not valid JSON" in found["dave"].problem
    assert "no notebook" in found["erin"].problem
    assert "empty" in found["frank"].problem
    assert found["grace"].notebook.name == "optimizers.ipynb" and "ignored 1" in found["grace"].note
    assert found["grace"].timestamp == "2026-11-20 10:00:00 UTC"
    assert "no cells" in found["heidi"].problem


def test_a_zip_of_the_folder_is_the_same_class(cls, tmp_path):
    """Is a .zip of the submissions folder read like the folder?"""
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in cls.rglob("*"):
            zf.write(path, path.relative_to(cls.parent))
    from_zip = {s.student_id: s.problem for s in find_submissions(archive, "optimizers", tmp_path / "z")}
    from_dir = {s.student_id: s.problem for s in find_submissions(cls, "optimizers", tmp_path / "d")}
    assert from_zip == from_dir


def test_an_entry_that_escapes_its_folder_costs_that_entry_only(tmp_path):
    """Is a zip entry with ../ refused, with its reason, nothing written outside the scratch
    folder, and the rest of the zip read?"""
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../outside.txt", "gotcha")
        zf.writestr("alice/optimizers.ipynb", "{}")
    intake = read_class(archive, "optimizers", tmp_path / "scratch")
    assert [s.student_id for s in intake.submissions] == ["alice"]
    assert [(r.entry, "climbs out" in r.reason) for r in intake.refused] == [("evil.zip:../outside.txt", True)]
    assert not (tmp_path / "outside.txt").exists()


@pytest.mark.parametrize("make,words", [
    (lambda p: p / "missing", "no such file"),
    (lambda p: (p / "x.txt").write_text("hi") and p / "x.txt", "neither a folder nor a .zip"),
    (lambda p: (p / "bad.zip").write_text("not a zip") and p / "bad.zip", "not a valid zip"),
    (lambda p: (p / "emptyclass").mkdir() or p / "emptyclass", "holds no submissions"),
])
def test_unusable_submissions_path_is_a_clear_error(tmp_path, make, words):
    """Does a missing, wrong or empty submissions path give a clear error?"""
    with pytest.raises(SubmissionsError, match=words):
        find_submissions(make(tmp_path), "optimizers", tmp_path / "scratch")


def test_student_ids_that_nbgrader_cannot_take_are_reported(tmp_path):
    """Is a folder name that is not a valid student id reported rather than graded?"""
    _notebook(tmp_path / "c" / "bad id!" / "optimizers.ipynb")
    (found,) = find_submissions(tmp_path / "c", "optimizers", tmp_path / "s")
    assert "invalid student id" in found.problem
