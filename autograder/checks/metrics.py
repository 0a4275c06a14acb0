"""Checks for the metrics assignment: one check per graded cell.

Each check calls the student's function on seeded random cases (several sizes, heavy ties,
labels as NumPy arrays, Python lists and booleans) and compares it with the hidden reference,
itself cross-checked against ``sklearn.metrics`` in ``tests/``. A failure says on which input,
what was expected and, where it can, which typical mistake the answer matches
(:mod:`autograder.checks.metric_mistakes`). The AUC checks live in :mod:`autograder.checks.auc`.
"""
from __future__ import annotations

import numpy as np

from ..reference.confusion import confusion_counts as ref_counts
from ..reference.confusion import precision_recall_f1 as ref_prf
from ..reference.roc import roc_curve as ref_roc
from ..reference.topk import top_k_accuracy as ref_top_k
from . import metric_mistakes as mistakes
from .auc import (check_pairwise_auc, check_roc_auc, check_roc_auc_large, check_roc_auc_one_class,
                  check_roc_auc_properties)
from .calls import StudentError, call_student, to_float64
from .metric_cases import Case, boolean_hint, close, in_words, match, prediction_cases, score_cases, short
from .result import CheckResult, failed, passed

__all__ = ["check_confusion_counts", "check_precision_recall_f1", "check_roc_curve",
           "check_top_k_accuracy", "check_roc_auc", "check_roc_auc_properties",
           "check_roc_auc_one_class", "check_roc_auc_large", "check_pairwise_auc", "ALL_CHECKS"]


# --- confusion_counts ------------------------------------------------------------------------------

def _counts_problem(value) -> str | None:
    if not isinstance(value, dict):
        return f"returned {type(value).__name__}, expected a dict with keys 'tp', 'fp', 'fn', 'tn'"
    if set(value) != {"tp", "fp", "fn", "tn"}:
        return f"returned a dict with keys {sorted(value)}, expected exactly 'tp', 'fp', 'fn', 'tn'"
    for key, v in value.items():
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            return (f"returned {key}={v!r} of type {type(v).__name__}: counts must be ints "
                    "(int(...) of a sum)")
    return None


def _same_counts(a, b):
    return isinstance(a, dict) and set(a) == set(b) and all(a[k] == b[k] for k in b)


def check_confusion_counts(confusion_counts) -> CheckResult:
    """TP, FP, FN, TN as ints, for lists, arrays and booleans, including empty classes."""
    name = "confusion_counts"
    cases = prediction_cases(31)
    count = 0
    for case in cases:
        expected = ref_counts(case.y_true, case.other)
        for form, y_true, y_pred in case.forms(boolean_other=True):
            count += 1
            where = in_words(case, form)
            try:
                got = call_student(confusion_counts, y_true, y_pred)
            except StudentError as exc:
                return failed(name, f"{where}: your function {exc}.{boolean_hint(exc, form)}", count)
            problem = _counts_problem(got)
            if problem:
                return failed(name, f"{where}: your function {problem}.", count)
            if not _same_counts(got, expected):
                diagnosis = match(got, mistakes.CONFUSION, case.y_true, case.other, same=_same_counts)
                shown = {k: int(got[k]) for k in ("tp", "fp", "fn", "tn")}
                return failed(name, f"{where}: expected {expected}, your function returned {shown}.",
                              count, diagnosis)
    return passed(name, count, "the reference (sklearn.metrics.confusion_matrix)")


# --- precision_recall_f1 ---------------------------------------------------------------------------

def _as_triple(value):
    if isinstance(value, dict) or not hasattr(value, "__len__") or len(value) != 3:
        raise StudentError(f"returned {type(value).__name__}, expected a tuple (precision, recall, f1)")
    return to_float64(list(value), "the returned (precision, recall, f1)")


def check_precision_recall_f1(precision_recall_f1) -> CheckResult:
    """Precision, recall and F1, with 0.0 where a denominator is 0 (zero_division=0)."""
    name = "precision_recall_f1"
    count = 0
    for case in prediction_cases(32):
        expected = ref_prf(case.y_true, case.other)
        for form, y_true, y_pred in case.forms(boolean_other=True):
            count += 1
            where = in_words(case, form)
            try:
                got = _as_triple(call_student(precision_recall_f1, y_true, y_pred))
            except StudentError as exc:
                hint = ""
                if "ZeroDivision" in str(exc) or "nan" in str(exc).lower():
                    hint = (" A denominator is 0 here: return 0.0 for that ratio (scikit-learn's "
                            "zero_division=0).")
                return failed(name, f"{where}: your function {exc}.{hint or boolean_hint(exc, form)}",
                              count)
            if np.isnan(got).any():
                return failed(name, f"{where}: your function returned {short(got)}, expected "
                                    f"{short(expected)}: where a denominator is 0 return 0.0, not "
                                    "NaN (scikit-learn's zero_division=0).", count)
            if not close(got, expected):
                diagnosis = match(got, mistakes.PRECISION_RECALL, case.y_true, case.other,
                                  same=close)
                return failed(name, f"{where}: expected (precision, recall, f1) = {short(expected)}, "
                                    f"your function returned {short(got)}.", count, diagnosis)
    return passed(name, count, "the reference (sklearn.metrics with zero_division=0)")


# --- roc_curve -------------------------------------------------------------------------------------

def _as_curve(value):
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise StudentError(f"returned {type(value).__name__}, expected a tuple (fpr, tpr, thresholds)")
    arrays = [to_float64(v, name) for v, name in zip(value, ("fpr", "tpr", "thresholds"))]
    if any(a.ndim != 1 for a in arrays):
        raise StudentError("returned arrays that are not one-dimensional")
    if len({len(a) for a in arrays}) != 1:
        raise StudentError(f"returned fpr, tpr, thresholds of different lengths "
                           f"{[len(a) for a in arrays]}: they describe the same points")
    return arrays


def _same_curve(a, b):
    return all(close(u, v) for u, v in zip(a, b))


def _curve_diagnosis(got, expected, case: Case) -> tuple[str, str | None]:
    """What is wrong with the student's curve, in words, and the typical mistake if known."""
    fpr, tpr, thresholds = got
    e_fpr, e_tpr, e_thr = expected
    n, points = len(case.y_true), len(e_thr)
    finite = thresholds[np.isfinite(thresholds)]
    if len(finite) >= 2 and np.all(np.diff(finite) > 0):
        return "your thresholds increase", mistakes.ASCENDING
    if len(thresholds) == n + 1 and points < n + 1:
        return (f"your curve has {len(thresholds)} points, one per example plus one; there are "
                f"{points - 1} distinct scores", mistakes.ONE_POINT_PER_EXAMPLE)
    if len(thresholds) == points - 1 and not np.isinf(thresholds[0]):
        return ("your curve lacks its first point", "the first point must be threshold +inf with "
                "fpr = tpr = 0 (nobody predicted positive): start with np.inf.")
    if len(thresholds) != points:
        return (f"your curve has {len(thresholds)} points, expected {points} (+inf, then each of "
                f"the {points - 1} distinct scores once)", None)
    if not np.isinf(thresholds[0]) or thresholds[0] < 0:
        return (f"your first threshold is {thresholds[0]:g}", "the first threshold must be +inf "
                "(np.inf), where nobody is predicted positive and fpr = tpr = 0.")
    if close(fpr, e_tpr) and close(tpr, e_fpr) and not close(fpr, e_fpr):
        return "your fpr is the expected tpr and the other way round", mistakes.SWAPPED
    k = int(np.argmax([not (close(a, b) and close(c, d) and close(t, u)) for a, b, c, d, t, u
                       in zip(fpr, e_fpr, tpr, e_tpr, thresholds, e_thr)]))
    return (f"at point {k} (threshold {e_thr[k]:g}) expected fpr {e_fpr[k]:.4g}, tpr {e_tpr[k]:.4g}; "
            f"yours has threshold {thresholds[k]:g}, fpr {fpr[k]:.4g}, tpr {tpr[k]:.4g}", None)


def check_roc_curve(roc_curve) -> CheckResult:
    """sklearn.metrics.roc_curve(..., drop_intermediate=False): +inf first, then every distinct
    score in decreasing order, tied scores sharing one point; on tied and distinct scores."""
    name = "roc_curve"
    count = 0
    cases = score_cases(41, ties=False, sizes=(2, 7, 60)) + score_cases(42, ties=True, sizes=(6, 9, 80, 301))
    cases.append(Case(np.array([0, 1, 1, 0, 1]), np.full(5, 0.4), "5 equal scores"))
    for case in cases:
        expected = ref_roc(case.y_true, case.other)
        for form, y_true, y_score in case.forms():
            count += 1
            where = in_words(case, form)
            try:
                got = _as_curve(call_student(roc_curve, y_true, y_score))
            except StudentError as exc:
                return failed(name, f"{where}: your function {exc}.{boolean_hint(exc, form)}", count)
            if not _same_curve(got, expected):
                text, diagnosis = _curve_diagnosis(got, expected, case)
                if diagnosis is None:
                    diagnosis = match(got, mistakes.ROC, case.y_true, case.other, same=_same_curve)
                return failed(name, f"{where}: {text}.", count, diagnosis)
    return passed(name, count, "the reference (sklearn.metrics.roc_curve, drop_intermediate=False)")


# --- top_k_accuracy --------------------------------------------------------------------------------

def check_top_k_accuracy(top_k_accuracy) -> CheckResult:
    """top_k_accuracy_score on random scores (no ties), k from 1 to C, lists and arrays."""
    name = "top_k_accuracy"
    rng = np.random.default_rng(81)
    count = 0
    for n, num_classes in ((50, 5), (300, 10), (10, 2), (1, 3)):
        scores = rng.normal(size=(n, num_classes))
        y = rng.integers(0, num_classes, size=n)
        for k in sorted({1, 2, num_classes - 1, num_classes} - {0}):
            expected = ref_top_k(y, scores, k)
            for form, y_true, s in (("NumPy arrays", y.copy(), scores.copy()),
                                    ("Python lists", y.tolist(), scores.tolist())):
                count += 1
                where = f"on {n} examples, {num_classes} classes, k = {k}, given as {form}"
                try:
                    value = call_student(top_k_accuracy, y_true, s, k)
                    got = float(to_float64(value, "the returned accuracy"))
                except (StudentError, TypeError) as exc:
                    return failed(name, f"{where}: your function {exc}.", count)
                if not abs(got - expected) <= 1e-9:
                    diagnosis = match(got, mistakes.TOP_K, y, scores, k,
                                      same=lambda a, b: abs(a - b) <= 1e-9)
                    return failed(name, f"{where}: expected {expected:.6g}, yours is {got:.6g}.",
                                  count, diagnosis)
    return passed(name, count, "the reference (sklearn.metrics.top_k_accuracy_score)")


ALL_CHECKS = {
    "confusion_counts": [check_confusion_counts],
    "precision_recall_f1": [check_precision_recall_f1],
    "roc_curve": [check_roc_curve],
    "roc_auc": [check_roc_auc, check_roc_auc_properties, check_roc_auc_one_class, check_roc_auc_large],
    "top_k_accuracy": [check_top_k_accuracy],
    "pairwise_auc": [check_pairwise_auc],
}
