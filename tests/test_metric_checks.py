"""The metric checks: they pass the right answers and name the typical mistakes."""
import numpy as np
import pytest

from autograder.checks import metric_mistakes as mistakes
from autograder.checks import metrics as checks
from autograder.reference.auc import roc_auc
from autograder.reference.confusion import confusion_counts, precision_recall_f1
from autograder.reference.mann_whitney import pairwise_auc
from autograder.reference.roc import roc_curve
from autograder.reference.topk import top_k_accuracy

REFERENCE = {"confusion_counts": confusion_counts, "precision_recall_f1": precision_recall_f1,
             "roc_curve": roc_curve, "roc_auc": roc_auc, "top_k_accuracy": top_k_accuracy,
             "pairwise_auc": pairwise_auc}
QUICK_AUC_CHECKS = [checks.check_roc_auc, checks.check_roc_auc_properties, checks.check_roc_auc_one_class]


# --- correct answers, written differently, pass --------------------------------------------------

def _auc_by_ranks(y_true, y_score):
    """A correct AUC written as a student might: Mann-Whitney with average ranks, in pure NumPy."""
    y = np.asarray(y_true).astype(int) == 1
    s = np.asarray(y_score, dtype=float)
    if y.all() or not y.any():
        raise ValueError("AUC is undefined with only one class")
    order = np.argsort(s)
    sorted_s = s[order]
    _, first, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2                    # average 1-based rank of each tie group
    ranks = np.empty(len(s))
    ranks[order] = np.repeat(average, counts)
    p, n = y.sum(), (~y).sum()
    return (ranks[y].sum() - p * (p + 1) / 2) / (p * n)


def _counts_with_loops(y_true, y_pred):
    counts = dict(tp=0, fp=0, fn=0, tn=0)
    for t, p in zip(y_true, y_pred):
        key = ("t" if t == p else "f") + ("p" if p else "n")
        counts[key] += 1
    return counts


@pytest.mark.parametrize("function,check_list", list(checks.ALL_CHECKS.items()), ids=list(checks.ALL_CHECKS))
def test_reference_passes_every_check(function, check_list):
    """Does every check pass the reference (which tests/test_metrics_reference.py holds to sklearn)?"""
    for check in check_list:
        result = check(REFERENCE[function])
        assert result.passed, str(result)
        assert result.cases >= 4


def test_correct_answers_written_differently_pass():
    """Do a rank-based AUC and a loop that counts pass, like the reference?"""
    for check in (*QUICK_AUC_CHECKS, checks.check_roc_auc_large):
        assert check(_auc_by_ranks).passed, str(check(_auc_by_ranks))
    assert checks.check_confusion_counts(_counts_with_loops).passed


# --- typical mistakes fail, with their diagnosis ---------------------------------------------------

def _roc_ties_ignored(y_true, y_score):
    """One point per example: the tie groups are never merged."""
    y, s = np.asarray(y_true, dtype=bool), np.asarray(y_score, dtype=float)
    order = np.argsort(-s)
    tp, fp = np.cumsum(y[order]), np.cumsum(~y[order])
    return np.r_[0, fp] / fp[-1], np.r_[0, tp] / tp[-1], np.r_[np.inf, s[order]]


def _auc_ties_ignored(y_true, y_score):
    fpr, tpr, _ = _roc_ties_ignored(y_true, y_score)
    return float(np.trapezoid(tpr, fpr))


def _roc_ascending(y_true, y_score):
    """Thresholds from the lowest score up."""
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    return fpr[::-1], tpr[::-1], thresholds[::-1]


def _roc_axes_swapped(y_true, y_score):
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    return tpr, fpr, thresholds


def _auc_axes_swapped(y_true, y_score):
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return float(np.trapezoid(fpr, tpr))


def _accuracy_at_one_half(y_true, y_score):
    return float(np.mean((np.asarray(y_score) > 0.5) == np.asarray(y_true)))


def _auc_one_class_half(y_true, y_score):
    y = np.asarray(y_true, dtype=bool)
    return 0.5 if y.all() or not y.any() else roc_auc(y_true, y_score)


def _confusion_axes_swapped(y_true, y_pred):
    return confusion_counts(y_pred, y_true)


def test_ties_ignored_fails_roc_curve_and_auc_with_the_ties_diagnosis():
    """Does a curve with one point per example fail roc_curve, roc_auc and the properties, each
    saying that tied scores must share one point?"""
    result = checks.check_roc_curve(_roc_ties_ignored)
    assert not result.passed and "one point per example" in result.diagnosis, str(result)
    for check in (checks.check_roc_auc, checks.check_roc_auc_properties):
        result = check(_auc_ties_ignored)
        assert not result.passed and "tied scores must share one ROC point" in str(result), str(result)
    assert "reordered" in checks.check_roc_auc_properties(_auc_ties_ignored).message


def test_ascending_thresholds_are_named():
    """Does a curve with ascending thresholds fail with that diagnosis?"""
    result = checks.check_roc_curve(_roc_ascending)
    assert not result.passed and "ascending order" in result.diagnosis, str(result)


def test_swapped_axes_are_named():
    """Do (tpr, fpr) returned in the wrong order, an area over the wrong axis, and fp/fn
    exchanged in the counts each fail with their diagnosis?"""
    result = checks.check_roc_curve(_roc_axes_swapped)
    assert not result.passed and "swapped" in result.diagnosis, str(result)
    result = checks.check_roc_auc(_auc_axes_swapped)
    assert not result.passed and "1 - the right one" in result.diagnosis, str(result)
    result = checks.check_confusion_counts(_confusion_axes_swapped)
    assert not result.passed and "fp and fn are swapped" in result.diagnosis, str(result)


def test_accuracy_at_one_half_is_not_auc():
    """Does the accuracy at threshold 0.5 fail the AUC checks, named as such?"""
    for check in (checks.check_roc_auc, checks.check_roc_auc_properties):
        result = check(_accuracy_at_one_half)
        assert not result.passed and "accuracy at threshold 0.5" in (result.diagnosis or ""), str(result)


def test_one_class_returning_one_half_fails():
    """Does returning 0.5 for a single class fail the one-class check with its diagnosis, while
    every other AUC check still passes?"""
    result = checks.check_roc_auc_one_class(_auc_one_class_half)
    assert not result.passed and "must raise ValueError" in result.message
    assert "returning 0.5" in result.diagnosis
    assert checks.check_roc_auc(_auc_one_class_half).passed


@pytest.mark.parametrize("mistake", mistakes.CONFUSION + mistakes.PRECISION_RECALL + mistakes.ROC
                         + mistakes.AUC + mistakes.ONE_CLASS + mistakes.TOP_K, ids=lambda m: m.diagnosis[:40])
def test_each_listed_mistake_is_caught_and_named(mistake):
    """Does the check of its function fail each listed mistake variant and name it?"""
    function = next(name for name, group in (("confusion_counts", mistakes.CONFUSION),
                                             ("precision_recall_f1", mistakes.PRECISION_RECALL),
                                             ("roc_curve", mistakes.ROC),
                                             ("roc_auc", mistakes.AUC + mistakes.ONE_CLASS),
                                             ("top_k_accuracy", mistakes.TOP_K)) if mistake in group)
    check_list = QUICK_AUC_CHECKS if function == "roc_auc" else checks.ALL_CHECKS[function]
    results = [check(mistake.fn) for check in check_list]
    failures = [r for r in results if not r.passed]
    assert failures, f"no check caught: {mistake.diagnosis}"
    assert any(mistake.diagnosis in (r.diagnosis or "") for r in failures), [str(r) for r in failures]


# --- failures in words -----------------------------------------------------------------------------

def test_quadratic_auc_is_stopped_early_with_an_estimate():
    """Does an O(n²) AUC (every positive against every negative) fail the million-score check
    quickly, saying how long it would take and what to do instead?"""
    def pairwise(y_true, y_score):
        y, s = np.asarray(y_true, dtype=bool), np.asarray(y_score, dtype=float)
        pos, neg = s[y], s[~y]
        return float(((pos[:, None] > neg) + 0.5 * (pos[:, None] == neg)).mean())

    result = checks.check_roc_auc_large(pairwise)
    assert not result.passed
    assert "would take about" in result.message and "O(n log n)" in result.message, str(result)


def test_boolean_pitfall_gets_a_hint():
    """Does `y_true - y_pred` on boolean arrays (a TypeError in NumPy) get a hint about booleans?"""
    def counts(y_true, y_pred):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
        return dict(tp=int(np.sum(y_true * y_pred)), fp=int(np.sum(y_pred - y_true == 1)),
                    fn=int(np.sum(y_true - y_pred == 1)), tn=int(np.sum(y_true + y_pred == 0)))
    result = checks.check_confusion_counts(counts)
    assert not result.passed and "boolean labels" in result.message, str(result)
    assert "cannot subtract two boolean arrays" in result.message, str(result)


def test_nan_for_zero_division_is_explained():
    """Does precision returning NaN on 0/0 fail with the zero_division explanation?"""
    def nan_precision(y_true, y_pred):
        c = confusion_counts(y_true, y_pred)
        with np.errstate(all="ignore"):
            p = np.float64(c["tp"]) / (c["tp"] + c["fp"])
            r = np.float64(c["tp"]) / (c["tp"] + c["fn"])
            return p, r, 2 * p * r / (p + r)
    result = checks.check_precision_recall_f1(nan_precision)
    assert not result.passed and "zero_division=0" in result.message, str(result)


def test_stub_and_float_counts_are_explained():
    """Does the untouched stub say 'not implemented', and float counts say they must be ints?"""
    def stub(y_true, y_pred):
        raise NotImplementedError()
    assert "NotImplementedError" in checks.check_confusion_counts(stub).message

    def floats(y_true, y_pred):
        return {k: float(v) for k, v in confusion_counts(y_true, y_pred).items()}
    assert "must be ints" in checks.check_confusion_counts(floats).message


def test_checks_are_silent_on_stderr(capfd):
    """Do the checks print nothing on stderr, even for student code that warns and divides by zero?"""
    def noisy(y_true, y_score):
        import warnings
        warnings.warn("a student's warning")
        np.array([1.0]) / np.array([0.0])
        return _accuracy_at_one_half(y_true, y_score)
    for check in QUICK_AUC_CHECKS:
        check(noisy)
        check(roc_auc)
    assert capfd.readouterr().err == ""


def test_a_held_up_call_on_a_busy_machine_does_not_fail_a_fast_auc():
    """Does a right O(n log n) AUC pass the million-score check when, as on a loaded machine,
    its calls on 10,000 scores take 3 ms and one call on 30,000 is held up for 50 ms, instead of
    being extrapolated to minutes from those few milliseconds and stopped?"""
    import time

    held = []

    def busy(y_true, y_score):
        if len(y_true) == 10_000:
            time.sleep(0.003)
        if len(y_true) == 30_000 and not held:
            held.append(len(y_true))
            time.sleep(0.05)
        return roc_auc(y_true, y_score)

    result = checks.check_roc_auc_large(busy)
    assert result.passed, str(result)
    assert held == [30_000]
