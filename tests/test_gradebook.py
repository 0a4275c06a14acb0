"""Tests for autograder.grade.gradebook: a new gradebook is the one nbgrader itself creates."""
from __future__ import annotations

import os
import sqlite3
import sys

from nbgrader.api import Gradebook

from autograder.grade.gradebook import new_gradebook


def _schema(path) -> tuple[list, list]:
    """Every table, index and trigger with its SQL, and the alembic version rows."""
    with sqlite3.connect(path) as db:
        schema = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        versions = db.execute("SELECT version_num FROM alembic_version").fetchall()
    return schema, versions


def test_new_gradebook_is_the_one_nbgrader_creates(tmp_path, monkeypatch):
    """Same tables, indexes and alembic version as nbgrader's Gradebook makes of a new file
    (which asks `alembic heads` in a process of its own)?"""
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    Gradebook(f"sqlite:///{tmp_path / 'nbgraders.db'}").close()
    new_gradebook(tmp_path / "ours.db")
    theirs, ours = _schema(tmp_path / "nbgraders.db"), _schema(tmp_path / "ours.db")
    assert ours == theirs
    assert len(ours[1]) == 1 and ours[1][0][0]
    # and nbgrader opens it as its own: no second stamp, the course row it adds on opening
    with Gradebook(f"sqlite:///{tmp_path / 'ours.db'}", course_id="c") as gb:
        gb.add_assignment("a")
    assert _schema(tmp_path / "ours.db")[1] == theirs[1]


def test_an_existing_gradebook_is_left_as_it_is(tmp_path):
    """Does preparing a course again (a regrade) keep the gradebook's scores?"""
    path = tmp_path / "gradebook.db"
    new_gradebook(path)
    with Gradebook(f"sqlite:///{path}") as gb:
        gb.add_assignment("optimizers")
        gb.add_student("ada")
    before = path.read_bytes()
    new_gradebook(path)
    assert path.read_bytes() == before
    with Gradebook(f"sqlite:///{path}") as gb:
        assert [s.id for s in gb.students] == ["ada"]
