"""`course grade` on what TAs really have: each LMS's bulk download (one as a folder, one as
its zip: both forms of each are read alike, see test_intake), the latest submission graded,
the late penalty from the right time, links out of the class and dot-named folders refused
with a row, and an unsafe zip entry costing itself only.

Each class holds two students: "early" handed in a mistake first and the solution later
(the latest counts: full marks), "late" handed in the solution after the due date (nbgrader's
penalty, zero by default)."""
import csv
import zipfile
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import nbformat
import pytest

import class_builders as lms
from autograder.cli import main
from grading_helpers import points
from autograder.publish.samples import solved_notebook, with_mistake
from autograder.publish.samples.optimizers import MISTAKES
from autograder.settings import COURSE_ROOT

pytestmark = pytest.mark.slow

A = "optimizers"
FULL, MANUAL = points("optimizers")   # the autograded points; the written answers wait for a TA
DUE = "2026-11-20 17:00:00 UTC"
ON_TIME = datetime(2026, 11, 19, 12, tzinfo=timezone.utc)
LATE = datetime(2026, 11, 21, 5, tzinfo=timezone.utc)  # 12 h after DUE
DUE_TIME = datetime(2026, 11, 20, 17, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def notebooks():
    perfect = solved_notebook(A)
    perfect.cells = [c for c in perfect.cells if c.cell_type != "code" or c.metadata.get("nbgrader")]
    return perfect, with_mistake(perfect, MISTAKES["adam-no-bias-correction"])


def grade(tmp_path, given, *args, code=0):
    out = tmp_path / "out"
    assert main(["grade", A, str(given), "--out", str(out), "--due", DUE, "--jobs", "2", *args]) == code
    with open(out / "grades.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    with open(out / "refused.csv", newline="") as f:
        refused = {r["entry"]: r["reason"] for r in csv.DictReader(f)}
    return rows, refused


def same_class(tmp_path, folder, archive, *args, **kw):
    """Is the class read from its folder and from its zip the same, file for file? (Grading
    takes only what intake reads, so the other form grades alike.)"""
    from autograder.grade.intake import read_class

    def read(path, name):
        intake = read_class(path, A, tmp_path / name, *args, **kw)
        return [(s.student_id, s.problem, s.note, s.timestamp, s.entry,
                 s.notebook.read_bytes() if s.notebook else None) for s in intake.submissions]
    assert read(folder, "from-folder") == read(archive, "from-zip")


def assert_latest_and_late(rows, early="early", late="late", early_entry=None):
    assert rows[early]["status"] == "graded" and float(rows[early]["score"]) == FULL, rows[early]
    assert "latest of 2" in rows[early]["note"]
    if early_entry:
        assert rows[early]["submission"] == early_entry
    assert "late by 12.0 h" in rows[late]["status"] and float(rows[late]["score"]) == 0, rows[late]
    assert float(rows[late]["test_adam_class"]) == 3  # graded in full, then nbgrader's penalty


def test_canvas_zip_with_one_unsafe_entry(tmp_path, notebooks):
    """Does a Canvas download zip grade each student's latest re-upload, put the LATE file's
    penalty on it, and refuse only the one unsafe entry among them?"""
    perfect, mistake = notebooks
    folder = tmp_path / "canvas"
    lms.canvas(folder, "early", 101, 1, [(f"{A}.ipynb", mistake), (f"{A}.ipynb", perfect)], when=ON_TIME)
    lms.canvas(folder, "late", 102, 2, [(f"{A}.ipynb", perfect)], late=True, when=LATE)
    archive = lms.zip_folder(folder, tmp_path / "submissions.zip")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("../../tmp/escaped.ipynb", "{}")
    same_class(tmp_path, folder, lms.zip_folder(folder, tmp_path / "clean.zip"), due=DUE_TIME)
    rows, refused = grade(tmp_path, archive, code=0)
    assert set(rows) == {"early", "late"}
    assert_latest_and_late(rows, early_entry=f"early_101_1_{A}-1.ipynb")
    assert list(refused) == ["submissions.zip:../../tmp/escaped.ipynb"] and "climbs" in refused[list(refused)[0]]
    canvas = list(csv.DictReader(open(tmp_path / "out" / "canvas_grades.csv")))
    assert {r["ID"]: r[A] for r in canvas[1:]} == {"101": f"{FULL:g}", "102": "0"}


def test_moodle_folders_with_its_grading_worksheet_as_roster(tmp_path, notebooks):
    """Does a Moodle download (participant folders) get the course's ids and the submission
    times from Moodle's grading worksheet, and a roster student without a file a row?"""
    perfect, _ = notebooks
    folder = tmp_path / "moodle"
    lms.moodle(folder, "Ada Early", 7001, {f"{A}.ipynb": perfect})
    lms.moodle(folder, "Bo Late", 7002, {f"{A}.ipynb": perfect})
    worksheet = tmp_path / "worksheet.csv"
    worksheet.write_text(
        "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Last modified (submission)\n"
        "Participant 7001,Ada Early,early@uni.example,Submitted,,17,\"Thursday, 19 November 2026, 12:00 PM\"\n"
        "Participant 7002,Bo Late,late@uni.example,Submitted,,17,\"Saturday, 21 November 2026, 5:00 AM\"\n"
        "Participant 7003,Cy Absent,absent@uni.example,No submission,,17,-\n")
    from autograder.grade.roster import read_roster
    same_class(tmp_path, folder, lms.zip_folder(folder, tmp_path / "moodle.zip"), roster=read_roster(worksheet))
    rows, _ = grade(tmp_path, folder, "--roster", str(worksheet), code=0)
    assert set(rows) == {"early", "late", "absent"}
    assert rows["early"]["status"] == "graded" and float(rows["early"]["score"]) == FULL
    assert "late by 12.0 h" in rows["late"]["status"] and float(rows["late"]["score"]) == 0
    assert rows["absent"]["status"] == "no submission" and float(rows["absent"]["score"]) == 0
    # without the worksheet Moodle's download holds no times: --due cannot apply, and each row says so
    rows, _ = grade(tmp_path, folder, code=0)
    assert all("no submission time known: no late penalty applied" in r["status"] for r in rows.values())
    assert {float(r["score"]) for r in rows.values()} == {FULL}


def test_blackboard_zip_attempts_in_the_servers_zone(tmp_path, notebooks):
    """Does the latest Blackboard attempt count, its time read in the server's zone?"""
    perfect, mistake = notebooks
    folder = tmp_path / "bb"
    server = ZoneInfo("America/New_York")

    def local(utc):
        return utc.astimezone(server).replace(tzinfo=None)

    lms.blackboard(folder, "Optimizers", "early", local(ON_TIME), {f"{A}.ipynb": mistake})
    lms.blackboard(folder, "Optimizers", "early", local(ON_TIME).replace(hour=14), {f"{A}.ipynb": perfect})
    lms.blackboard(folder, "Optimizers", "late", local(LATE), {f"{A}.ipynb": perfect})
    archive = lms.zip_folder(folder, tmp_path / "bb.zip", top="gradebook_Optimizers")
    same_class(tmp_path, folder, archive, zone=server)
    rows, refused = grade(tmp_path, archive, "--timezone", "America/New_York")
    assert set(rows) == {"early", "late"} and not refused
    assert_latest_and_late(rows)


def test_nbgrader_collected_layout_with_other_assignments(tmp_path, notebooks):
    """Does nbgrader's submitted/<student>/<assignment>/ grade this assignment even when a
    student collected others, with timestamp.txt deciding lateness?"""
    perfect, _ = notebooks
    course = tmp_path / "course"
    lms.nbgrader_submitted(course, "early", A, perfect, "2026-11-19 12:00:00 UTC")
    lms.nbgrader_submitted(course, "early", "metrics", nbformat.v4.new_notebook())
    lms.nbgrader_submitted(course, "late", A, perfect, "2026-11-21 05:00:00 UTC")
    same_class(tmp_path, course, lms.zip_folder(course, tmp_path / "course.zip"))
    rows, _ = grade(tmp_path, course)
    assert rows["early"]["status"] == "graded" and float(rows["early"]["score"]) == FULL
    assert "late by 12.0 h" in rows["late"]["status"] and float(rows["late"]["score"]) == 0


def test_pattern_zip_as_zip_collect_reads_it(tmp_path, notebooks):
    """Does --pattern read student, file and time from each name, the latest counting?"""
    perfect, mistake = notebooks
    folder = tmp_path / "dump"
    for sid, when, nb in [("early", ON_TIME, mistake), ("early", ON_TIME.replace(hour=14), perfect),
                          ("late", LATE, perfect)]:
        lms._write(folder / "hw" / f"{sid}--{when:%Y%m%dT%H%M%S}--{A}.ipynb", nb)
    archive = lms.zip_folder(folder, tmp_path / "dump.zip")
    regex = r"hw/(?P<student_id>[a-z]+)--(?P<timestamp>[0-9T]+)--(?P<file_id>\w+)\.ipynb"
    same_class(tmp_path, folder, archive, pattern=regex)
    rows, _ = grade(tmp_path, archive, "--pattern", regex)
    assert_latest_and_late(rows)


def test_links_and_dot_named_folders_get_a_row_and_nothing_leaks(tmp_path, notebooks):
    """Are student folders linked to the solutions, to another student and to /etc, a file
    linked to the solutions, and dot-named folders each refused with a row, never graded,
    and no feedback page shows the solutions?"""
    perfect, _ = notebooks
    folder = tmp_path / "class"
    lms._write(folder / "early" / f"{A}.ipynb", perfect)
    (folder / "copycat").symlink_to(folder / "early")
    (folder / "insider").symlink_to(COURSE_ROOT / "solutions" / A)
    (folder / "etc").symlink_to("/etc")
    (folder / "filelink").mkdir()
    (folder / "filelink" / f"{A}.ipynb").symlink_to(COURSE_ROOT / "solutions" / A / f"{A}.ipynb")
    lms._write(folder / "..." / f"{A}.ipynb", perfect)
    lms._write(folder / "..\u2215..\u2215etc" / f"{A}.ipynb", perfect)
    rows, _ = grade(tmp_path, folder, code=1)
    # a plain folder says nothing of when it was handed in, and grade() passes --due
    assert rows["early"]["status"] == "graded (no submission time known: no late penalty applied)"
    assert float(rows["early"]["score"]) == FULL
    assert "another student's folder (early)" in rows["copycat"]["status"]
    assert "course repository" in rows["insider"]["status"] and "course repository" in rows["filelink"]["status"]
    assert "out of the class folder" in rows["etc"]["status"]
    dotted = [r for sid, r in rows.items() if sid.startswith(("'.", "."))]
    assert len(dotted) == 2 and all("invalid student id" in r["status"] for r in dotted)
    for sid in ("copycat", "insider", "etc", "filelink"):
        assert float(rows[sid]["score"]) == 0 and not (tmp_path / "out" / "feedback" / sid).exists()
    pages = "".join(p.read_text() for p in (tmp_path / "out" / "feedback").rglob("*.html"))
    assert "BEGIN SOLUTION" not in pages
