"""`course grade batchnorm` end to end, through the real nbgrader pipeline on a temporary course."""
import csv

import pytest

from grading_helpers import feedback_text, grade_sample_class, points

ASSIGNMENT = "batchnorm"
AUTO, MANUAL = points(ASSIGNMENT)
GRADED_CELLS = ["test_batchnorm_train_forward", "test_batchnorm_running_stats", "test_batchnorm_eval",
                "test_batchnorm_backward_steps", "test_batchnorm_backward_dx", "test_batchnorm_backward_params",
                "test_layernorm_forward", "test_layernorm_backward", "test_dropout_train", "test_dropout_eval",
                "test_dropout_backward"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A small class graded once by `course grade`: its CSV rows and output folder."""
    return grade_sample_class(tmp_path_factory.mktemp("grading-batchnorm"), ASSIGNMENT, {"perfect", "blank", "bn-momentum-flipped"})


def test_one_column_per_graded_cell(graded):
    """Does grades.csv have one column per graded cell of the assignment, and a row per student?"""
    rows, out = graded
    header = next(csv.reader(open(out / "grades.csv")))
    assert header[:4] == ["student_id", "score", "max_score", "auto_score"]
    assert set(GRADED_CELLS) <= set(header)
    assert {"answer_running_variance", "answer_eval_mode", "answer_dropout"} <= set(header)
    assert set(rows) == {"perfect", "blank", "bn-momentum-flipped"}


def test_perfect_student_gets_full_marks(graded):
    """Does the solution, submitted as a student would, get every automatic point (no stderr, no
    timeout), its written answers awaiting manual grading?"""
    rows, _ = graded
    row = rows["perfect"]
    assert row["status"] == "graded"
    assert float(row["score"]) == float(row["auto_score"]) == AUTO, row
    assert float(row["max_score"]) == AUTO + MANUAL and float(row["pending_manual"]) == MANUAL, row


def test_untouched_release_scores_zero(graded):
    """Does the released notebook, submitted untouched, score 0 and still count as graded?"""
    rows, _ = graded
    assert rows["blank"]["status"] == "graded" and float(rows["blank"]["score"]) == 0


def test_flipped_momentum_loses_only_the_running_statistics(graded):
    """Does a flipped momentum convention lose the running-statistics cell only, and read its
    diagnosis in the feedback?"""
    rows, out = graded
    row = rows["bn-momentum-flipped"]
    assert float(row["test_batchnorm_running_stats"]) == 0
    for cell in set(GRADED_CELLS) - {"test_batchnorm_running_stats"}:
        assert float(row[cell]) > 0, cell
    assert float(row["score"]) == AUTO - 2
    assert "momentum convention is flipped" in feedback_text(out, ASSIGNMENT, "bn-momentum-flipped")
