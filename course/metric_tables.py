"""Classifiers given by their confusion counts: label arrays, metric tables, ROC space.

The metrics lecture compares classifiers described only by ``TP, FP, FN, TN``. To use
``sklearn.metrics`` on them (rather than re-deriving the formulas in code), each one is
turned back into label arrays with exactly those counts:

>>> y, y_hat = labels_from_counts(tp=63, fp=28, fn=37, tn=72)
>>> sklearn.metrics.precision_score(y, y_hat)
0.6923...
>>> metrics_table({"A": (63, 28, 37, 72), "B": (77, 77, 23, 23)})   # an HTML table
"""
from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np
from sklearn import metrics

__all__ = ["labels_from_counts", "metrics_table", "MetricsTable", "plot_roc_space", "COLUMNS"]

COLUMNS = ("TP", "FP", "FN", "TN", "accuracy", "precision", "recall (TPR)", "FPR", "F1")


def labels_from_counts(tp: int, fp: int, fn: int, tn: int) -> tuple[np.ndarray, np.ndarray]:
    """True labels ``y`` and predictions ``y_hat`` (0/1 arrays) with exactly these counts."""
    y = np.concatenate([np.ones(tp), np.zeros(fp), np.ones(fn), np.zeros(tn)]).astype(int)
    y_hat = np.concatenate([np.ones(tp), np.ones(fp), np.zeros(fn), np.zeros(tn)]).astype(int)
    return y, y_hat


class MetricsTable:
    """Rows of metrics per classifier; displays as an HTML table, ``rows`` holds the numbers."""

    def __init__(self, rows: dict[str, dict[str, float]]):
        self.rows = rows

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in ("classifier",) + COLUMNS)
        body = ""
        for name, row in self.rows.items():
            cells = "".join(f"<td>{row[c]:.3f}</td>" if isinstance(row[c], float) else f"<td>{row[c]}</td>"
                            for c in COLUMNS)
            body += f"<tr><th>{name}</th>{cells}</tr>"
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        width = max(len(n) for n in self.rows) + 2
        lines = [" " * width + " ".join(f"{c:>12s}" for c in COLUMNS)]
        for name, row in self.rows.items():
            lines.append(f"{name:<{width}}" + " ".join(
                f"{row[c]:>12.3f}" if isinstance(row[c], float) else f"{row[c]:>12d}" for c in COLUMNS))
        return "\n".join(lines)


def metrics_table(classifiers: Mapping[str, tuple[int, int, int, int]]) -> MetricsTable:
    """Accuracy, precision, recall, FPR and F1 of classifiers given as ``(TP, FP, FN, TN)``."""
    rows = {}
    for name, (tp, fp, fn, tn) in classifiers.items():
        y, y_hat = labels_from_counts(tp, fp, fn, tn)
        rows[name] = {
            "TP": tp, "FP": fp, "FN": fn, "TN": tn,
            "accuracy": float(metrics.accuracy_score(y, y_hat)),
            "precision": float(metrics.precision_score(y, y_hat, zero_division=0)),
            "recall (TPR)": float(metrics.recall_score(y, y_hat, zero_division=0)),
            "FPR": float(1 - metrics.recall_score(y, y_hat, pos_label=0, zero_division=0)),
            "F1": float(metrics.f1_score(y, y_hat, zero_division=0)),
        }
    return MetricsTable(rows)


def plot_roc_space(classifiers: Mapping[str, tuple[int, int, int, int]], ax=None):
    """Each classifier as a point ``(FPR, TPR)`` in ROC space, with the chance diagonal."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.2))
    table = metrics_table(classifiers)
    ax.plot([0, 1], [0, 1], ":", color="gray", label="chance")
    for name, row in table.rows.items():
        ax.plot(row["FPR"], row["recall (TPR)"], "o", ms=9)
        ax.annotate(name, (row["FPR"], row["recall (TPR)"]), textcoords="offset points",
                    xytext=(7, -4), fontsize="large")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="false positive rate", ylabel="true positive rate",
           title="ROC space", aspect="equal")
    return ax
