"""Inputs for the metric checks, and how to compare and describe answers.

Seeded cases in words ("40 scores rounded to one decimal (ties)"), each given to the student in
three forms (NumPy arrays, Python lists, booleans); float comparison that treats equal
infinities as equal; the typical-mistake matcher.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calls import StudentError

__all__ = ["Case", "random_labels", "prediction_cases", "score_cases", "short", "match", "in_words",
           "boolean_hint", "close"]


@dataclass(frozen=True)
class Case:
    """Labels and a second argument (predictions or scores), and how they were made, in words."""

    y_true: np.ndarray
    other: np.ndarray
    words: str

    def forms(self, boolean_other: bool = False):
        """The same case as NumPy arrays, Python lists and booleans (fresh copies each time, so
        a function that sorts its arguments in place cannot disturb the check)."""
        yield "NumPy arrays", self.y_true.astype(int), self.other.copy()
        yield "Python lists", [int(v) for v in self.y_true], self.other.tolist()
        other = self.other.astype(bool) if boolean_other else self.other.copy()
        yield "boolean labels", self.y_true.astype(bool), other


def random_labels(rng, n, positive_rate=0.5, both=True):
    y = (rng.random(n) < positive_rate).astype(int)
    if both and n >= 2 and (y.all() or not y.any()):
        y[rng.choice(n, 2, replace=False)] = [0, 1]
    return y


def prediction_cases(seed) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases = []
    for n in (1, 6, 37, 200):
        y = random_labels(rng, n)
        cases.append(Case(y, (rng.random(n) < 0.5).astype(int), f"{n} random labels and predictions"))
    y = random_labels(rng, 30)
    cases.append(Case(y, np.zeros(30, int), "30 labels, every prediction 0 (no predicted positive)"))
    cases.append(Case(np.zeros(25, int), (rng.random(25) < 0.4).astype(int),
                      "25 labels all 0 (no true positive), random predictions"))
    cases.append(Case(np.zeros(10, int), np.zeros(10, int), "10 labels and predictions, all 0"))
    cases.append(Case(np.ones(12, int), np.ones(12, int), "12 labels and predictions, all 1"))
    y = random_labels(rng, 100, 0.1)
    cases.append(Case(y, y.copy(), "100 imbalanced labels, predicted perfectly"))
    return cases


def score_cases(seed, ties: bool, sizes=(2, 5, 40, 300, 1000)) -> list[Case]:
    """Scores without ties, or with heavy ties (rounded to one decimal, or a handful of values)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i, n in enumerate(sizes):
        y = random_labels(rng, n, positive_rate=(0.5, 0.2, 0.7)[i % 3])
        scores = rng.normal(size=n) + 0.8 * y
        if ties:
            if i % 2:
                scores = rng.integers(0, 4, size=n).astype(float) + y * (rng.random(n) < 0.3)
                words = f"{n} scores taking a handful of integer values (heavy ties)"
            else:
                scores = np.round(scores, 1)
                words = f"{n} scores rounded to one decimal (ties)"
        else:
            words = f"{n} distinct scores"
        cases.append(Case(y, scores, words))
    return cases


def short(values, limit=8) -> str:
    values = np.asarray(values, dtype=float).ravel()
    text = ", ".join(f"{v:.4g}" for v in values[:limit])
    return "[" + text + (", ...]" if len(values) > limit else "]")


def match(student, mistake_list, *args, same=None):
    """The diagnosis of the first variant whose output equals the student's on ``args``."""
    for mistake in mistake_list:
        try:
            with np.errstate(all="ignore"):
                variant = mistake.fn(*args)
        except Exception:  # noqa: BLE001 - a variant that cannot run here says nothing
            continue
        if same(student, variant):
            return mistake.diagnosis
    return None


def in_words(case: Case, form: str) -> str:
    """"on 40 distinct scores, given as Python lists": where a failure happened."""
    return f"on {case.words}, given as {form}"


def boolean_hint(exc: StudentError, form: str) -> str:
    """A hint when the student's function fails on one input form only (booleans, lists)."""
    if form == "boolean labels" and "boolean" in str(exc):
        return (" NumPy cannot subtract two boolean arrays (y_true - y_pred): compare instead "
                "(y_true & ~y_pred, y_pred == 0), or convert first with np.asarray(y, dtype=int).")
    if form == "Python lists":
        return " Convert the inputs with np.asarray(...) first: lists have no element-wise operators."
    return ""


def close(a, b, tol=1e-9) -> bool:
    """Same shape and equal within ``tol`` everywhere (equal infinities count as equal)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all((a == b) | (np.abs(a - b) <= tol)))   # a == b: equal infinities
