"""`course grade metrics` end to end, through the real nbgrader pipeline on a temporary course."""
import csv

import pytest

from autograder.grade.report import GRADES_COLUMNS

from grading_helpers import feedback_text, grade_sample_class, points

ASSIGNMENT = "metrics"
AUTO, MANUAL = points(ASSIGNMENT)
KEEP = {"perfect", "blank", "auc-ties-ignored", "auc-one-class-half"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A small class graded once by `course grade`: its CSV rows and output folder."""
    return grade_sample_class(tmp_path_factory.mktemp("grading-metrics"), ASSIGNMENT, KEEP)


def test_one_column_per_graded_cell(graded):
    """Does grades.csv have a column for each function and each AUC property?"""
    rows, out = graded
    header = next(csv.reader(open(out / "grades.csv")))
    assert header[:len(GRADES_COLUMNS)] == GRADES_COLUMNS
    assert header[len(GRADES_COLUMNS):] == ["test_confusion_counts", "test_precision_recall_f1", "answer_accuracy",
                                            "test_roc_curve", "test_roc_auc", "test_roc_auc_properties",
                                            "test_roc_auc_one_class", "test_roc_auc_large", "test_pairwise_auc",
                                            "answer_auc_invariance", "test_top_k_accuracy", "answer_roc_vs_pr"]
    assert set(rows) == KEEP


def test_perfect_student_gets_full_marks(graded):
    """Does the solution, submitted as a student would, get every automatic point, its written
    answers pending (their columns empty), and the blank answers of the untouched release 0?"""
    rows, _ = graded
    row = rows["perfect"]
    assert row["status"] == "graded"
    assert float(row["score"]) == float(row["auto_score"]) == AUTO and float(row["max_score"]) == AUTO + MANUAL
    assert float(row["pending_manual"]) == MANUAL and row["answer_accuracy"] == ""
    blank = rows["blank"]
    assert float(blank["pending_manual"]) == 0 and float(blank["answer_accuracy"]) == 0


def test_untouched_release_scores_zero(graded):
    """Does the released notebook, submitted untouched, score 0 and still count as graded?"""
    rows, _ = graded
    assert rows["blank"]["status"] == "graded" and float(rows["blank"]["score"]) == 0


def test_ignored_ties_lose_the_roc_and_auc_cells_with_their_diagnosis(graded):
    """Does a ROC curve with one point per example lose the ROC and AUC cells, keep the counts,
    precision/recall and top-k, and read in its feedback that tied scores must share one point?"""
    rows, out = graded
    row = rows["auc-ties-ignored"]
    for cell in ("test_roc_curve", "test_roc_auc", "test_roc_auc_properties"):
        assert float(row[cell]) == 0, cell
    for cell in ("test_confusion_counts", "test_precision_recall_f1", "test_top_k_accuracy",
                 "test_roc_auc_one_class"):
        assert float(row[cell]) > 0, cell
    text = feedback_text(out, ASSIGNMENT, "auc-ties-ignored")
    assert "tied scores must share one" in text
    assert "changes when tied scores are reordered" in text
    # the visible tests, run in the grading sandbox too, name the mistake from the released data
    assert "Likely cause (your numbers match a typical mistake): you make one point per example" in text


def test_one_class_returning_one_half_loses_only_that_cell(graded):
    """Does returning 0.5 for a single class cost exactly the one-class cell, with the reason?"""
    rows, out = graded
    row = rows["auc-one-class-half"]
    assert float(row["test_roc_auc_one_class"]) == 0
    assert float(row["score"]) == AUTO - 1
    assert "returning 0.5 for one class hides the problem" in feedback_text(out, ASSIGNMENT, "auc-one-class-half")
