"""Checks for ``roc_auc``: values, properties, one class, a million scores.

Values against the reference (``sklearn.metrics.roc_auc_score``) on distinct and heavily tied
scores; the properties that follow from AUC being a rank statistic (ties reordered, all scores
equal, reversed scores, monotone transforms); ``ValueError`` for one class; and the time on a
million scores, on a ladder of sizes that stops a quadratic solution early with an estimate.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..reference.auc import roc_auc as ref_auc
from ..reference.mann_whitney import pairwise_auc as ref_pairwise_auc
from . import metric_mistakes as mistakes
from .calls import StudentError, as_student, call_student
from .metric_cases import Case, boolean_hint, in_words, match, random_labels, score_cases
from .result import CheckResult, failed, passed

__all__ = ["check_roc_auc", "check_roc_auc_properties", "check_roc_auc_one_class",
           "check_roc_auc_large", "check_pairwise_auc", "LARGE_N", "TIME_FLOOR_S"]

LARGE_N = 1_000_000
EARLY_STOP_MIN_S = 0.1
"""A size is extrapolated to a million scores (and a slow solution stopped early) only when it
took at least this long."""
TIME_FLOOR_S = 10.0
"""The million-score AUC may take this long, or 20× the reference on the same machine if more."""


def _auc_value(roc_auc, y_true, y_score) -> float:
    value = call_student(roc_auc, y_true, y_score)
    if value is None:
        raise StudentError("returned None: did you forget to return the area?")
    try:
        value = float(value)
    except (TypeError, ValueError) as exc:
        raise StudentError(f"returned {type(value).__name__}, expected one number") from exc
    return value


def _auc_diagnosis(got, case: Case, roc_auc=None):
    """Order dependence on tied scores first (when ``roc_auc`` is given), then the variants."""
    tied = len(np.unique(case.other)) < len(case.other)
    if roc_auc is not None and tied and _order_dependent(roc_auc, case):
        return mistakes.TIES
    return match(got, mistakes.AUC, case.y_true, case.other,
                 same=lambda a, b: abs(a - b) <= 1e-9)


def _order_dependent(roc_auc, case: Case, trials: int = 4) -> bool:
    """Does the student's AUC change when the same examples come in another order?"""
    rng = np.random.default_rng(0)
    try:
        values = set()
        for _ in range(trials):
            order = rng.permutation(len(case.y_true))
            values.add(round(_auc_value(roc_auc, case.y_true[order], case.other[order]), 9))
    except StudentError:
        return False
    return len(values) > 1


def check_roc_auc(roc_auc) -> CheckResult:
    """roc_auc_score on distinct scores first, then on heavily tied ones, in every input form."""
    name = "roc_auc"
    count = 0
    for ties in (False, True):
        for case in score_cases(51 + ties, ties=ties):
            expected = ref_auc(case.y_true, case.other)
            for form, y_true, y_score in case.forms():
                count += 1
                where = in_words(case, form)
                try:
                    got = _auc_value(roc_auc, y_true, y_score)
                except StudentError as exc:
                    return failed(name, f"{where}: your function {exc}.{boolean_hint(exc, form)}", count)
                if not abs(got - expected) <= 1e-9:
                    diagnosis = _auc_diagnosis(got, case, roc_auc)
                    if diagnosis is None and ties:
                        diagnosis = ("your AUC is right on distinct scores and wrong on tied "
                                     "ones: " + mistakes.TIES)
                    return failed(name, f"{where}: expected AUC {expected:.6g}, yours is {got:.6g}.",
                                  count, diagnosis)
    return passed(name, count, "the reference (sklearn.metrics.roc_auc_score)")


def check_pairwise_auc(pairwise_auc) -> CheckResult:
    """The Mann-Whitney probability counted pair by pair (a tie one half), on distinct and
    heavily tied scores, in every input form."""
    name = "pairwise_auc"
    count = 0
    cases = score_cases(55, ties=False, sizes=(2, 9, 120)) + score_cases(56, ties=True, sizes=(6, 40, 300))
    cases.append(Case(np.array([0, 1, 1, 0, 1]), np.full(5, 0.4), "5 equal scores"))
    for case in cases:
        expected = ref_pairwise_auc(case.y_true, case.other)
        for form, y_true, y_score in case.forms():
            count += 1
            where = in_words(case, form)
            try:
                got = _auc_value(pairwise_auc, y_true, y_score)
            except StudentError as exc:
                return failed(name, f"{where}: your function {exc}.{boolean_hint(exc, form)}", count)
            if not abs(got - expected) <= 1e-9:
                return failed(name, f"{where}: expected {expected:.6g}, yours is {got:.6g}.", count,
                              match(got, mistakes.PAIRWISE, case.y_true, case.other,
                                    same=lambda a, b: abs(a - b) <= 1e-9))
    return passed(name, count, "the Mann-Whitney probability (a tie counting one half)")


def check_roc_auc_properties(roc_auc) -> CheckResult:
    """Reordering tied scores changes nothing; all-equal scores give 0.5; reversed scores give
    1 - AUC; a monotone transform of the scores changes nothing."""
    name = "roc_auc properties"
    count = 0
    rng = np.random.default_rng(61)

    def value(y, s, what):
        try:
            return _auc_value(roc_auc, np.array(y), np.array(s))
        except StudentError as exc:
            raise StudentError(f"{what}: your function {exc}") from exc

    try:
        for case in score_cases(62, ties=True, sizes=(12, 90, 400)):
            count += 1
            first = value(case.y_true, case.other, f"on {case.words}")
            for trial in range(4):
                order = rng.permutation(len(case.y_true))
                again = value(case.y_true[order], case.other[order], f"on {case.words}, shuffled")
                if abs(again - first) > 1e-9:
                    return failed(name, f"on {case.words}: your AUC is {first:.6g}, and {again:.6g} "
                                        "for the same examples in another order. Your AUC changes "
                                        "when tied scores are reordered: tied scores must share one "
                                        "ROC point and count one half.", count, mistakes.TIES)
            expected = ref_auc(case.y_true, case.other)
            if abs(first - expected) > 1e-9:
                return failed(name, f"on {case.words}: expected AUC {expected:.6g}, yours is "
                                    f"{first:.6g} (whatever the order of the examples).", count,
                              _auc_diagnosis(first, case, roc_auc))
        for n, level in ((2, 0.0), (10, 0.3), (501, 7.0)):
            count += 1
            y = random_labels(rng, n)
            got = value(y, np.full(n, level), f"on {n} scores all equal to {level}")
            if abs(got - 0.5) > 1e-9:
                return failed(name, f"on {n} scores all equal to {level}: your AUC is {got:.6g}; it must "
                                    "be 0.5 (every positive-negative pair is a tie, counting one half; "
                                    "the ROC curve is the diagonal).", count, _auc_diagnosis(got, Case(y, np.full(n, level), ""), roc_auc))
        for case in score_cases(63, ties=False, sizes=(8, 120)) + score_cases(64, ties=True, sizes=(50,)):
            count += 1
            forward = value(case.y_true, case.other, f"on {case.words}")
            backward = value(case.y_true, -case.other, f"on the negated scores of {case.words}")
            expected = ref_auc(case.y_true, case.other)
            if abs(forward + backward - 1) > 1e-9 or abs(forward - expected) > 1e-9:
                return failed(name, f"on {case.words}: your AUC is {forward:.6g} for scores s and "
                                    f"{backward:.6g} for -s; expected {expected:.6g} and "
                                    f"{1 - expected:.6g} (reversing the ranking turns AUC into 1 - AUC).",
                              count, _auc_diagnosis(forward, case, roc_auc))
            for words, transform in (("3·s + 2", lambda s: 3 * s + 2), ("exp(s)", np.exp),
                                     ("s³", lambda s: s ** 3), ("s / 1000", lambda s: s / 1000)):
                count += 1
                transformed = value(case.y_true, transform(case.other), f"on {words} for {case.words}")
                if abs(transformed - expected) > 1e-9:
                    return failed(name, f"on {case.words}: your AUC is {forward:.6g} for scores s and "
                                        f"{transformed:.6g} for {words}; both must be {expected:.6g}: "
                                        "AUC depends only on the order of the scores, not on their "
                                        "values (no threshold at 0.5, no rounding).", count,
                                  _auc_diagnosis(transformed, Case(case.y_true, transform(case.other), ""), roc_auc))
    except StudentError as exc:
        return failed(name, f"{exc}.", count)
    return passed(name, count, "the properties of AUC (0.5 for equal scores, order of ties, "
                               "1 - AUC reversed, invariance to monotone transforms)")


def check_roc_auc_one_class(roc_auc) -> CheckResult:
    """One class in y_true (lists, arrays, booleans): ValueError with a message, never a number."""
    name = "roc_auc with one class"
    count = 0
    try:
        _auc_value(roc_auc, [0, 1, 1, 0], [0.1, 0.8, 0.4, 0.3])
    except StudentError as exc:
        return failed(name, f"on two classes (y = [0, 1, 1, 0]) your function {exc}: make roc_auc "
                            "work on two classes first.")
    for y_true, words in (([1, 1, 1, 1], "y_true = [1, 1, 1, 1] (positives only)"),
                          ([0, 0, 0], "y_true = [0, 0, 0] (negatives only)"),
                          (np.zeros(50, int), "50 labels, all 0, as a NumPy array"),
                          (np.ones(7, bool), "7 labels, all True")):
        count += 1
        scores = np.linspace(0.1, 0.9, len(y_true))
        try:
            got = _auc_value(roc_auc, y_true, scores)
        except StudentError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValueError) and str(cause).strip():
                continue
            if isinstance(cause, ValueError):
                return failed(name, f"on {words}: you raise ValueError without a message: say why, "
                                    "e.g. ValueError('only one class in y_true: AUC is not defined').",
                              count)
            return failed(name, f"on {words}: your function {exc}. With one class AUC is undefined "
                                "(there is no positive-negative pair, and FPR or TPR divides by 0): "
                                "check for it first and raise ValueError with a clear message.", count)
        diagnosis = match(got, mistakes.ONE_CLASS, y_true, scores,
                          same=lambda a, b: a == b or (math.isnan(a) and math.isnan(b)))
        return failed(name, f"on {words}: your function returned {got:.6g}; it must raise "
                            "ValueError with a message saying why (AUC needs at least one positive "
                            "and one negative).", count, diagnosis)
    return passed(name, count, "the reference (ValueError when y_true holds one class)")


def _timed(fn, *args) -> tuple[float, float]:
    start = time.perf_counter()
    value = fn(*args)
    return value, time.perf_counter() - start


def _timed_auc(roc_auc, y_true, y_score, limit: float) -> tuple[float, float]:
    """The student's AUC and the seconds their own code took (``limit``: what the call may take)."""
    value, seconds = as_student(roc_auc).timed(y_true, y_score, limit=limit)
    return _auc_value(lambda *_: value, y_true, y_score), seconds


def _large_case(n, seed):
    rng = np.random.default_rng(seed)
    y = random_labels(rng, n, positive_rate=0.3)
    scores = np.round(rng.normal(size=n) + y, 2)          # many ties, as real scores have
    return y, scores


def check_roc_auc_large(roc_auc) -> CheckResult:
    """A million scores within a generous time limit (O(n log n) needed); the value still right.

    Sizes grow from 1,000; from the time taken at each size the check extrapolates to the next,
    so a quadratic solution is stopped early (with an estimate) instead of running for minutes.
    """
    name = f"roc_auc on {LARGE_N:,} scores"
    y, scores = _large_case(LARGE_N, 71)
    with np.errstate(all="ignore"):
        expected, reference_time = _timed(ref_auc, y, scores)
    limit = max(TIME_FLOOR_S, 20 * reference_time)
    sizes = [1_000, 10_000, 30_000, LARGE_N]
    times: list[float] = []
    for i, n in enumerate(sizes):
        y_n, s_n = (y, scores) if n == LARGE_N else _large_case(n, 72 + i)
        want = expected if n == LARGE_N else ref_auc(y_n, s_n)
        best = math.inf
        for _ in range(1 if n == LARGE_N else 3):         # best of 3 below a million: timings are noisy
            try:
                got, seconds = _timed_auc(roc_auc, y_n.copy(), s_n.copy(), 4 * limit)
            except StudentError as exc:
                hint = " " + _speed_hint() if "MemoryError" in str(exc) else ""
                return failed(name, f"on {n:,} scores (NumPy arrays): your function {exc}.{hint}", i)
            best = min(best, seconds)
        times.append(best)
        if abs(got - want) > 1e-8:
            return failed(name, f"on {n:,} scores (NumPy arrays, many ties): expected AUC "
                                f"{want:.8g}, yours is {got:.8g}. The time only counts once the "
                                "value is right (see the roc_auc cells).", i + 1,
                          _auc_diagnosis(got, Case(y_n, s_n, ""), roc_auc) if n < LARGE_N else None)
        if n == LARGE_N:
            if best > limit:
                return failed(name, f"your roc_auc took {best:.1f} s on {n:,} scores; the limit is "
                                    f"{limit:.0f} s (the reference takes {reference_time:.2f} s here). "
                                    + _speed_hint(), i + 1)
            break
        exponent = 1.0
        if i > 0 and times[i - 1] >= 0.002:
            exponent = math.log(best / times[i - 1]) / math.log(n / sizes[i - 1])
        exponent = min(max(exponent, 1.0), 3.0)
        predicted = best * (LARGE_N / n) ** exponent
        # stop early only on a time long enough to trust (a busy machine can stretch a few
        # milliseconds tenfold); a quadratic solution takes well over that at 30,000 scores
        if predicted > 4 * limit and best >= EARLY_STOP_MIN_S:
            return failed(name, f"your roc_auc took {best:.2f} s on {n:,} scores"
                                + (f" and {times[i - 1]:.3f} s on {sizes[i - 1]:,}" if i else "")
                                + f": at that rate {LARGE_N:,} scores would take about "
                                f"{_duration(predicted)} (the limit is {limit:.0f} s, the reference "
                                f"takes {reference_time:.2f} s). " + _speed_hint(), i + 1)
    return CheckResult(name, True, f"{LARGE_N:,} scores in {times[-1]:.2f} s (limit {limit:.0f} s; "
                                   f"the reference takes {reference_time:.2f} s), the value agrees "
                                   "with the reference.", len(times))


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.0f} hours"


def _speed_hint() -> str:
    return ("Comparing every positive with every negative (or looping over thresholds and "
            "counting each time) is O(n²). Sort the scores once (np.argsort), then get TP and FP "
            "at every threshold with np.cumsum: O(n log n), with no Python loop over the examples.")
