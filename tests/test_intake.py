"""Taking in a class: each LMS layout as a folder and as a zip, the latest submission,
the roster, links that leave the class, dot-named folders, unsafe zip entries. No grading."""
import os
import zipfile
from datetime import datetime, timezone

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import class_builders as lms
from autograder.grade.intake import read_class
from autograder.grade.roster import read_roster
from autograder.settings import COURSE_ROOT

A = "optimizers"
DUE = datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc)


def nb(marker: str):
    return new_notebook(cells=[new_code_cell(f"x = {marker!r}")])


def marker(submission) -> str:
    return nbformat.read(submission.notebook, 4).cells[0].source


def take(path, tmp_path, **kw):
    intake = read_class(path, A, tmp_path / "scratch", **kw)
    return intake, {s.student_id: s for s in intake.submissions}


@pytest.fixture(params=["folder", "zip"])
def as_given(request, tmp_path):
    """The class folder as it is, or as the .zip the LMS hands out."""
    def give(folder):
        return folder if request.param == "folder" else lms.zip_folder(folder, tmp_path / "download.zip")
    return give


def test_canvas_download_latest_reupload_and_late_mark(tmp_path, as_given):
    """Are Canvas's flat files read as one student each, the latest re-upload graded, and a
    LATE file late by its file time (when that is after the due date)?"""
    root = tmp_path / "canvas"
    lms.canvas(root, "doejane", 12345, 67890, [(f"{A}.ipynb", nb("v1")), (f"{A}.ipynb", nb("v2"))],
               when=datetime(2026, 11, 19, tzinfo=timezone.utc))
    lms.canvas(root, "roebob", 22222, 67891, [(f"{A}.ipynb", nb("late"))], late=True,
               when=datetime(2026, 11, 21, 9, tzinfo=timezone.utc))
    intake, found = take(as_given(root), tmp_path, due=DUE)
    assert intake.layout == "canvas" and intake.detected and set(found) == {"doejane", "roebob"}
    assert marker(found["doejane"]) == "x = 'v2'" and found["doejane"].entry.endswith(f"{A}-1.ipynb")
    assert "latest of 2" in found["doejane"].note and found["doejane"].timestamp is None
    assert found["roebob"].timestamp == "2026-11-21 09:00:00 UTC" and "LATE" in found["roebob"].note
    assert found["doejane"].lms == {"Student": "doejane", "ID": "12345"}


def test_moodle_download_in_folders_and_flat(tmp_path, as_given):
    """Are Moodle's participant folders (and its flat names) one student each, named after them?"""
    root = tmp_path / "moodle"
    lms.moodle(root, "Jane Doe", 501, {f"{A}.ipynb": nb("jane"), "notes.txt": "hi"})
    lms.moodle(root, "José Müller", 502, {f"{A}.ipynb": nb("jose")}, folders=False)
    intake, found = take(as_given(root), tmp_path)
    assert intake.layout == "moodle" and set(found) == {"jane-doe", "jose-muller"}
    assert marker(found["jane-doe"]) == "x = 'jane'" and marker(found["jose-muller"]) == "x = 'jose'"


def test_blackboard_latest_attempt_and_its_time(tmp_path, as_given):
    """Does the latest Blackboard attempt count, with its time (the server's zone) as the
    submission time, and the receipt .txt files taken as receipts?"""
    root = tmp_path / "bb"
    lms.blackboard(root, "Optimizers", "jdoe", datetime(2026, 11, 19, 10), {f"{A}.ipynb": nb("first")})
    lms.blackboard(root, "Optimizers", "jdoe", datetime(2026, 11, 20, 18, 30), {f"{A}.ipynb": nb("second")})
    from zoneinfo import ZoneInfo
    intake, found = take(as_given(root), tmp_path, zone=ZoneInfo("America/New_York"))
    assert intake.layout == "blackboard" and set(found) == {"jdoe"} and not intake.refused
    assert marker(found["jdoe"]) == "x = 'second'" and "latest of 2" in found["jdoe"].note
    assert found["jdoe"].timestamp == "2026-11-20 23:30:00 UTC"


def test_nbgrader_layout_with_several_assignments_and_timestamps(tmp_path, as_given):
    """Is nbgrader's submitted/<student>/<assignment>/ read for this assignment only, with its
    timestamp.txt, even when a student has handed in others?"""
    root = tmp_path / "course"
    lms.nbgrader_submitted(root, "alice", A, nb("alice"), "2026-11-21 12:00:00 UTC")
    lms.nbgrader_submitted(root, "alice", "metrics", nb("other"))
    lms.nbgrader_submitted(root, "bob", "metrics", nb("bob"))
    intake, found = take(as_given(root), tmp_path)
    assert intake.layout == "nbgrader" and set(found) == {"alice", "bob"}
    assert marker(found["alice"]) == "x = 'alice'" and found["alice"].timestamp == "2026-11-21 12:00:00 UTC"
    assert "no optimizers submission" in found["bob"].problem and "metrics" in found["bob"].problem


def test_pattern_as_nbgrader_zip_collect_takes_it(tmp_path, as_given):
    """Does --pattern read student, file and time from names as zip_collect's regex does, and
    list every file it does not match?"""
    root = tmp_path / "any"
    for sid, stamp, mark in [("s1", "2026-11-19-10-00-00", "old"), ("s1", "2026-11-20-10-00-00", "new"),
                             ("s2", "2026-11-18-10-00-00", "s2")]:
        lms._write(root / f"hw_{sid}_at_{stamp}_{A}.ipynb", nb(mark))
    (root / "README.txt").write_text("hello")
    regex = r".*hw_(?P<student_id>\w+?)_at_(?P<timestamp>[0-9\-]+)_(?P<file_id>\w+)"
    intake, found = take(as_given(root), tmp_path, pattern=regex)
    assert intake.layout == "pattern" and set(found) == {"s1", "s2"}
    assert marker(found["s1"]) == "x = 'new'" and found["s1"].timestamp == "2026-11-20 10:00:00 UTC"
    assert [(r.entry, r.reason) for r in intake.refused] == [("README.txt", "does not match --pattern")]


def test_roster_maps_lms_ids_and_names_and_lists_the_absent(tmp_path):
    """Does a Canvas gradebook export as roster turn Canvas ids into course ids, fill Canvas's
    columns, and give a row to a student who handed in nothing?"""
    root = tmp_path / "canvas"
    lms.canvas(root, "doejane", 12345, 1, [(f"{A}.ipynb", nb("jane"))])
    lms.canvas(root, "stranger", 99999, 2, [(f"{A}.ipynb", nb("who"))])
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n"
                      "    Points Possible,,,,\n"
                      '"Doe, Jane",12345,9001,jdoe,S1\n"Roe, Bob",22222,9002,broe,S1\n')
    intake, found = take(root, tmp_path, roster=read_roster(roster))
    assert set(found) == {"jdoe", "broe", "stranger"}
    assert found["jdoe"].lms["SIS User ID"] == "9001" and found["jdoe"].notebook is not None
    assert found["broe"].problem == "no submission"
    assert "not on the roster" in found["stranger"].note


def test_links_out_of_the_class_are_refused_with_a_row(tmp_path):
    """Are student folders (and files) linked to the solutions, to another student and to
    /etc refused with a reason, and a student's own files still read?"""
    root = tmp_path / "class"
    lms._write(root / "alice" / f"{A}.ipynb", nb("alice"))
    (root / "copycat").symlink_to(root / "alice")
    (root / "insider").symlink_to(COURSE_ROOT / "solutions" / A)
    (root / "etc").symlink_to("/etc")
    (root / "filelink").mkdir()
    (root / "filelink" / f"{A}.ipynb").symlink_to(COURSE_ROOT / "solutions" / A / f"{A}.ipynb")
    intake, found = take(root, tmp_path)
    assert found["alice"].notebook is not None
    assert "another student's folder (alice)" in found["copycat"].problem
    assert "course repository" in found["insider"].problem and "solutions" in found["insider"].problem
    assert "out of the class folder" in found["etc"].problem
    assert found["filelink"].notebook is None and "course repository" in found["filelink"].problem
    assert all(s.notebook is None or s.notebook.resolve().is_relative_to(root.resolve()) for s in found.values())


def test_dot_named_folders_and_loose_files_get_a_reason(tmp_path):
    """Do folders named `...` or with a look-alike slash, and loose files, get a row or a line
    instead of vanishing, while __MACOSX and .DS_Store stay silent?"""
    root = tmp_path / "class"
    for name in ["...", "..\u2215..\u2215etc", "good"]:
        lms._write(root / name / f"{A}.ipynb", nb(name))
    (root / "__MACOSX").mkdir()
    (root / ".DS_Store").write_text("x")
    (root / "notes.txt").write_text("x")
    intake, found = take(root, tmp_path)
    assert found["good"].notebook is not None
    bad = [s for s in intake.submissions if s.student_id != "good"]
    assert len(bad) == 2 and all("invalid student id" in s.problem for s in bad)
    assert any("\\u2215" in s.student_id for s in bad)
    assert [r.entry for r in intake.refused] == ["notes.txt"]


def test_zip_with_unsafe_entries_costs_those_entries_only(tmp_path):
    """Do an absolute path, a backslash climb, a link and a bomb-like entry each get refused
    with a reason while the good students in the same zip are read?"""
    archive = tmp_path / "class.zip"
    good = nbformat.writes(nb("ok"))
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"alice/{A}.ipynb", good)
        zf.writestr("../../tmp/x", "gotcha")
        zf.writestr("..\\..\\evil.txt", "gotcha")
        zf.writestr("/abs.txt", "gotcha")
        link = zipfile.ZipInfo("bob/link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
        zf.writestr("carol/bomb.bin", b"\0" * (8 * 1024 ** 2))
        zf.writestr(f"dave/{A}.ipynb", good)
    intake, found = take(archive, tmp_path)
    assert found["alice"].notebook is not None and found["dave"].notebook is not None
    reasons = {r.entry.split(":", 1)[1]: r.reason for r in intake.refused}
    assert set(reasons) == {"../../tmp/x", "..\\..\\evil.txt", "/abs.txt", "bob/link", "carol/bomb.bin"}
    assert "climbs" in reasons["../../tmp/x"] and "absolute" in reasons["/abs.txt"]
    assert "link" in reasons["bob/link"] and "zip bomb" in reasons["carol/bomb.bin"]
    assert not os.path.exists("/tmp/x") or open("/tmp/x").read() != "gotcha"
