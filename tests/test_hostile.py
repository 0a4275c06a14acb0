"""Hostile submissions through the real `course grade`: each gets its row and a clear status,
costs only itself, changes no file outside its scratch folder, and the batch finishes.

One class is graded once (module fixture): a good student beside one student per hostile
category. The notebooks drop the unmarked demo cells (plots, training), as a student may,
so the class grades in seconds per student.
"""
import csv
import hashlib
import json
import sqlite3
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from grading_helpers import feedback_text, points
from autograder.publish.samples import solved_notebook, with_mistake

pytestmark = pytest.mark.slow

ASSIGNMENT = "optimizers"
FULL, MANUAL = points("optimizers")   # the autograded points; the written answers wait for a TA
REPOSITORY = Path(__file__).resolve().parents[1]  # wherever this checkout lives
README = REPOSITORY / "README.md"
SENTINELS = [str(REPOSITORY / "HACKED_BY_STUDENT"), str(Path.home() / "HACKED_BY_STUDENT"),
             "/tmp/HACKED_BY_STUDENT"]


def lean(nb):
    """The notebook without its unmarked code cells (the demos a student may delete)."""
    nb.cells = [c for c in nb.cells if c.cell_type != "code" or c.metadata.get("nbgrader")]
    return nb


def with_cell(nb, source, after="setup"):
    """``nb`` with an extra code cell after the cell ``after``."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after)
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(source))
    return nb


def hostile_class(root: Path, out: Path) -> dict:
    perfect = lean(solved_notebook(ASSIGNMENT))
    gradebook = out / "nbgrader" / "gradebook.db"
    other = root / "good" / f"{ASSIGNMENT}.ipynb"
    students = {
        "good": perfect,
        "loop-in-cell": with_cell(perfect, "while True:\n    pass"),
        "loop-in-function": with_mistake(perfect, [(
            "rmsprop_step", "square_avg = state.get", "while True:\n        pass\n    square_avg = state.get")]),
        "os-exit": with_cell(perfect, "import os\nos._exit(1)", after="adam_step"),
        "system-exit": with_mistake(perfect, [(
            "sgd_momentum_step", "buf = state.get", "raise SystemExit(3)\n    buf = state.get")]),
        "memory-bomb": with_cell(perfect, "hog = []\nwhile True:\n    hog.append(bytearray(64 * 1024 ** 2))"),
        "output-flood": with_cell(perfect, "import sys\nfor i in range(100000):\n    print('spam', i)\n"
                                           "    print('spam', i, file=sys.stderr)"),
        "escape": with_cell(perfect, "\n".join([
            "import os, socket, sqlite3",
            f"for path in {SENTINELS!r}:",
            "    try:\n        open(path, 'w').write('x')\n    except OSError as exc:\n        print(exc)",
            f"for path in [{str(other)!r}, {str(gradebook)!r}]:",
            "    try:\n        open(path, 'w').write('overwritten')\n    except OSError as exc:\n        print(exc)",
            "try:\n    socket.create_connection(('1.1.1.1', 80), timeout=3)\nexcept OSError as exc:\n    print(exc)",
            f"open({str(README)!r}, 'a').write('garbage')  # read-only: raises",
        ])),
    }
    for sid, nb in students.items():
        (root / sid).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, root / sid / f"{ASSIGNMENT}.ipynb")
    return students


def _digest(folder: Path) -> dict:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    submissions, out = root / "submissions", root / "out"
    hostile_class(submissions, out)
    before = _digest(submissions)
    # the default limits: each cell's own (from the source notebook's run), each call's own
    code = main(["grade", ASSIGNMENT, str(submissions), "--out", str(out), "--jobs", "2"])
    assert code == 1  # os-exit could not be graded
    with open(out / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    return rows, out, submissions, before


def seconds_spent(out: Path, student_id: str) -> float:
    """How long grading that student took (its worker, from results.json)."""
    results = json.loads((out / "results.json").read_text())["results"]
    return next(r["timings"]["submission"] for r in results if r["student_id"] == student_id)


def test_every_student_has_a_row_and_the_good_one_full_marks(graded):
    """Does the batch finish with a row per student, and the good student beside them keep full marks?"""
    rows, *_ = graded
    assert set(rows) == {"good", "loop-in-cell", "loop-in-function", "os-exit", "system-exit",
                         "memory-bomb", "output-flood", "escape"}
    assert rows["good"]["status"] == "graded" and float(rows["good"]["score"]) == FULL


def test_endless_loop_in_a_cell_is_stopped_and_the_rest_graded(graded):
    """Is a cell that never ends interrupted at its own limit (a cell the source notebook does
    not have: the 10 s floor, not nbgrader's 180 s), with every answer still graded?"""
    rows, out, *_ = graded
    row = rows["loop-in-cell"]
    assert row["status"] == "graded (a cell ran past its time limit of 10 s)", row
    assert float(row["score"]) == FULL
    assert seconds_spent(out, "loop-in-cell") < 10 + 120  # the loop's 10 s, and the rest as for anyone


def test_endless_loop_in_a_function_costs_seconds_and_only_its_items(graded):
    """Does a function that never returns cost seconds (its visible test's cell stopped at the
    10 s floor, its first checked call at 2 s, every later call failing at once) and only the
    item that calls it?"""
    rows, out, *_ = graded
    row = rows["loop-in-function"]
    assert "a cell ran past its time limit of 10 s" in row["status"], row
    assert "rmsprop_step ran past its time limit of 2 s and was stopped" in row["status"], row
    assert float(row["test_rmsprop"]) == 0
    assert float(row["score"]) == FULL - 2, row
    assert seconds_spent(out, "loop-in-function") < 10 + 2 + 120
    text = feedback_text(out, ASSIGNMENT, "loop-in-function")
    assert "did not return within 2 s" in text and "Later calls of rmsprop_step fail at once" in text


def test_kernel_that_exits_gets_a_clear_status(graded):
    """Does os._exit in a cell give 'kernel died' and a 0, not a crash of the batch?"""
    row = graded[0]["os-exit"]
    assert row["status"].startswith("kernel died"), row
    assert float(row["score"]) == 0


def test_system_exit_in_a_function_fails_that_function(graded):
    """Does SystemExit raised by a function fail its items, with the kernel and the rest fine?"""
    row = graded[0]["system-exit"]
    assert row["status"].startswith("graded"), row
    assert float(row["test_sgd_momentum"]) == 0 and float(row["test_sgd_nesterov"]) == 0
    assert float(row["score"]) == FULL - 3, row


def test_memory_bomb_meets_the_limit(graded):
    """Does a memory bomb get a MemoryError at the limit, the answers still graded?"""
    row = graded[0]["memory-bomb"]
    assert "memory limit" in row["status"], row
    assert float(row["score"]) == FULL


def test_output_flood_is_cut_and_noted(graded):
    """Is a flood on stdout and stderr noted, cut in the feedback, and the answers graded?"""
    row, out = graded[0]["output-flood"], graded[1]
    assert "output flood" in row["status"], row
    assert float(row["score"]) == FULL
    assert (out / "feedback" / "output-flood" / f"{ASSIGNMENT}.html").stat().st_size < 2_000_000


def test_writes_outside_the_scratch_folder_change_nothing(graded):
    """Can a notebook write to the gradebook, another submission, the repository, or the
    network? None of it may happen; its own answers are still graded."""
    rows, out, submissions, before = graded
    row = rows["escape"]
    assert "tried to write outside its folder" in row["status"], row
    assert float(row["score"]) == FULL
    assert _digest(submissions) == before
    for path in SENTINELS:
        assert not Path(path).exists(), path
    assert "garbage" not in README.read_text()
    with sqlite3.connect(out / "nbgrader" / "gradebook.db") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
        ids = {r[0] for r in db.execute("select id from student")}
    assert "good" in ids
