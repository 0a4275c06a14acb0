"""`course grade` end to end, through the real nbgrader pipeline on a temporary course."""
import csv

import pytest

from autograder.cli import main
from autograder.publish.samples import solved_notebook, with_mistake
from grading_helpers import feedback_text, grade_sample_class, points

ASSIGNMENT = "optimizers"
AUTO, MANUAL = points(ASSIGNMENT)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A small class graded once by `course grade`: its CSV rows, feedback folder and output."""
    noisy = with_mistake(solved_notebook(ASSIGNMENT), [(
        "adam_step", "beta1, beta2 = betas",
        "import warnings; warnings.warn('a harmless warning', UserWarning)\n    beta1, beta2 = betas")])
    return grade_sample_class(tmp_path_factory.mktemp("grading"), ASSIGNMENT,
                              {"perfect", "blank", "adam-no-bias-correction", "corrupted", "no-notebook"},
                              extra={"noisy": noisy})


pytestmark = pytest.mark.slow


def test_csv_has_the_promised_columns(graded):
    """Does grades.csv start with student_id, score, max_score, the autograded, manual and pending
    points, status, then one column per graded cell?"""
    rows, out = graded
    header = next(csv.reader(open(out / "grades.csv")))
    assert header[:7] == ["student_id", "score", "max_score", "auto_score", "manual_score", "pending_manual",
                          "status"]
    assert "test_adam_first_step" in header and "test_adam_class" in header
    assert set(rows) == {"perfect", "blank", "adam-no-bias-correction", "corrupted", "no-notebook", "noisy"}


def test_perfect_student_gets_full_marks(graded):
    """Does the solution, submitted as a student would, get every automatic point, with its
    written answers waiting for manual grading?"""
    rows, _ = graded
    row = rows["perfect"]
    assert row["status"] == "graded"
    assert float(row["score"]) == float(row["auto_score"]) == AUTO and float(row["max_score"]) == AUTO + MANUAL
    assert float(row["manual_score"]) == 0 and float(row["pending_manual"]) == MANUAL > 0


def test_warnings_on_stderr_cost_nothing(graded):
    """Does a correct answer that emits warnings on stderr still get every point?"""
    rows, _ = graded
    assert float(rows["noisy"]["score"]) == AUTO, rows["noisy"]


def test_untouched_release_scores_zero(graded):
    """Does the released notebook, submitted untouched, score 0 and still count as graded?"""
    rows, _ = graded
    assert rows["blank"]["status"] == "graded" and float(rows["blank"]["score"]) == 0


def test_typical_mistake_gets_partial_credit_and_its_diagnosis(graded):
    """Does Adam without bias correction lose exactly the Adam cells, keep the others, and read
    in its feedback which mistake it made?"""
    rows, out = graded
    row = rows["adam-no-bias-correction"]
    assert 0 < float(row["score"]) < AUTO
    for cell in ("test_sgd_momentum", "test_sgd_nesterov", "test_rmsprop"):
        assert float(row[cell]) > 0, cell
    for cell in ("test_adam_first_step", "test_adam_bias_correction", "test_adam_long_trajectory"):
        assert float(row[cell]) == 0, cell
    assert "without bias correction" in feedback_text(out, ASSIGNMENT, "adam-no-bias-correction")


def test_ungradable_submissions_get_a_row_with_the_reason(graded):
    """Do a truncated notebook and a missing notebook get their row and a reason, not a crash?"""
    rows, out = graded
    assert "not valid JSON" in rows["corrupted"]["status"]
    assert "no notebook" in rows["no-notebook"]["status"]
    assert float(rows["corrupted"]["score"]) == 0
    assert not (out / "feedback" / "corrupted").exists()


def test_feedback_for_every_graded_student_and_nbgrader_export(graded):
    """Is there a feedback page for each graded student, and nbgrader's own CSV export?"""
    rows, out = graded
    for sid, row in rows.items():
        page = out / "feedback" / sid / f"{ASSIGNMENT}.html"
        assert page.is_file() == (row["status"] == "graded"), sid
    export = list(csv.DictReader(open(out / "nbgrader_export.csv")))
    assert {r["student_id"] for r in export} >= {"perfect", "blank"}
    assert float(next(r for r in export if r["student_id"] == "perfect")["score"]) == AUTO


def test_feedback_pages_are_nbgraders_own_from_the_final_gradebook(graded, tmp_path):
    """Is each feedback page (rendered in the background while later scores were recorded)
    byte for byte the page nbgrader's generate_feedback makes from the finished gradebook?"""
    import shutil

    from autograder.grade.gradebook import grading_api
    from autograder.settings import COURSE_ROOT, instructor_settings

    rows, out = graded
    course = shutil.copytree(out / "nbgrader", tmp_path / "nbgrader")
    shutil.rmtree(course / "feedback")
    api = grading_api(course, instructor_settings(COURSE_ROOT))
    graded_ids = [sid for sid, row in rows.items() if row["status"] == "graded"]
    assert len(graded_ids) >= 3
    for sid in graded_ids:
        assert api.generate_feedback(ASSIGNMENT, sid, force=True)["success"], sid
        nbgraders = (course / "feedback" / sid / ASSIGNMENT / f"{ASSIGNMENT}.html").read_bytes()
        assert (out / "feedback" / sid / f"{ASSIGNMENT}.html").read_bytes() == nbgraders, sid


def test_missing_submissions_folder_is_a_clear_error(tmp_path, capsys):
    """Does `course grade` on a folder that is not there exit 2 with a one-line reason?"""
    assert main(["grade", ASSIGNMENT, str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file" in capsys.readouterr().err
