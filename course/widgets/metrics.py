"""Lecture 1's explorer: a decision-threshold slider over a classifier's scores.

:func:`threshold_explorer` shows, for one threshold ``t`` (predict positive when
``score >= t``):

- the scores of the two classes as histograms, with ``t`` as a vertical line;
- the ROC curve with the operating point ``(FPR(t), TPR(t))``;
- the precision-recall curve with the operating point ``(recall(t), precision(t))``;
- the confusion matrix at ``t`` (scikit-learn's layout: the truth in rows).

The curves, AUC and average precision come from ``sklearn.metrics``. The browser computes
the operating point itself (``metrics.js``): the number of scores at or above ``t`` in each
class, by binary search in the sorted scores; :func:`operating_point` is the same from
``sklearn.metrics`` (the static figure uses it, and a browser test holds the two together).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
from sklearn import metrics

from . import layers as L
from .explorer import Explorer

__all__ = ["operating_point", "ThresholdExplorer", "threshold_explorer"]

CELL_NAMES = ("TN", "FP", "FN", "TP")


def operating_point(y_true, scores, threshold: float) -> dict:
    """Metrics of the classifier ``score >= threshold``, all from ``sklearn.metrics``.

    Returns ``tpr`` (= recall), ``fpr``, ``precision``, ``f1``, ``accuracy`` and the
    2x2 ``confusion`` matrix ``[[TN, FP], [FN, TP]]``.
    """
    y_true = np.asarray(y_true)
    y_hat = (np.asarray(scores) >= threshold).astype(y_true.dtype)
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(
        y_true, y_hat, labels=[0, 1], zero_division=0)
    has_positive_prediction = bool(y_hat.any())
    return {
        "tpr": float(recall[1]),
        "fpr": float(1.0 - recall[0]),  # recall of class 0 is the true negative rate
        # no positive prediction: precision is undefined; the PR curve starts at 1 there
        "precision": float(precision[1]) if has_positive_prediction else 1.0,
        "f1": float(f1[1]),
        "accuracy": float(metrics.accuracy_score(y_true, y_hat)),
        "confusion": metrics.confusion_matrix(y_true, y_hat, labels=[0, 1]),
    }


class ThresholdExplorer(Explorer):
    """Histograms, ROC, precision-recall and the confusion matrix at one threshold."""

    figsize = (14.0, 3.4)
    ncols = 1
    scripts = (Path(__file__).with_name("metrics.js"),)

    def __init__(self, controls: Mapping, y_true, scores):
        super().__init__(controls)
        self.y_true = np.asarray(y_true)
        self.scores = np.asarray(scores, dtype=np.float64)
        self.bins = np.linspace(self.scores.min(), self.scores.max(), 31)

    def layers(self) -> list[dict]:
        n = len(self.y_true)
        texts = [L.text(i, j, r, axes=3, coords="data", size=12, ha="center", va="center")
                 for i, (r, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1)))]
        return [{"name": "threshold", "deps": ["threshold"], "color": "#000000", "compute": "threshold",
                 "inputs": "threshold",
                 "parts": [L.line(0, axes=0, lw=2, ycoords="axes"),
                           L.line(1, axes=1, lw=0, markers=L.marker("o", 8)),
                           L.line(2, axes=2, lw=0, markers=L.marker("o", 8)),
                           L.cells(3, 2, 2, extent=(-0.5, 1.5, 1.5, -0.5), cmap="Blues", vmin=0, vmax=n, axes=3),
                           *texts,
                           L.text(4, 0.5, 1.04, axes=3, size=10, ha="center", va="bottom")]}]

    def draw_background(self, fig, values: Mapping) -> list:
        y, scores, bins = self.y_true, self.scores, self.bins
        ax_hist, ax_roc, ax_pr, ax_cm = fig.subplots(1, 4, width_ratios=(1.4, 1, 1, 0.9))
        for label, color in ((0, "tab:blue"), (1, "tab:orange")):
            ax_hist.hist(scores[y == label], bins=bins, alpha=0.6, color=color, density=True,
                         label=f"class {label} (n={np.sum(y == label)})")
        ax_hist.set_xlim(bins[0], bins[-1])
        ax_hist.set_xlabel("score")
        ax_hist.set_ylabel("density within the class")
        ax_hist.legend(fontsize="small", loc="upper center")
        fpr, tpr, _ = metrics.roc_curve(y, scores)
        ax_roc.plot(fpr, tpr, color="tab:green")
        ax_roc.plot([0, 1], [0, 1], ":", color="gray")
        ax_roc.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="false positive rate",
                   ylabel="true positive rate (recall)", title=f"ROC, AUC = {metrics.roc_auc_score(y, scores):.3f}")
        precision, recall, _ = metrics.precision_recall_curve(y, scores)
        ax_pr.plot(recall, precision, color="tab:purple")
        ax_pr.axhline(y.mean(), ls=":", color="gray")
        ax_pr.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="recall", ylabel="precision",
                  title=f"precision-recall, AP = {metrics.average_precision_score(y, scores):.3f}")
        ax_cm.set(xlim=(-0.5, 1.5), ylim=(1.5, -0.5), aspect="equal")
        ax_cm.set_xticks([0, 1], ["pred 0", "pred 1"])
        ax_cm.set_yticks([0, 1], ["true 0", "true 1"])
        ax_cm.set_title(" ", fontsize="medium")  # room for the summary above the matrix
        return [ax_hist, ax_roc, ax_pr, ax_cm]

    def inputs(self) -> dict[str, L.LayerData]:
        """Each class's scores, sorted (float64: the comparison with ``t`` must be exact)."""
        return {"threshold": L.LayerData([np.sort(self.scores[self.y_true == 0]),
                                          np.sort(self.scores[self.y_true == 1])], exact=True)}

    def compute(self, name: str, values: Mapping) -> L.LayerData:
        """What the browser computes, from ``sklearn.metrics``."""
        threshold = float(values["threshold"])
        point = operating_point(self.y_true, self.scores, threshold)
        counts = point["confusion"].ravel()
        big = 0.6 * len(self.y_true)
        texts = [{"text": f"{cell}\n{count}", "color": "white" if count > big else "black"}
                 for cell, count in zip(CELL_NAMES, counts)]
        texts.append(f"t = {threshold:.2f}: acc {point['accuracy']:.2f}, F1 {point['f1']:.2f}")
        return L.LayerData([np.array([threshold, 0.0, threshold, 1.0]), np.array([point["fpr"], point["tpr"]]),
                            np.array([point["tpr"], point["precision"]]), counts.astype(float)], texts)


def threshold_explorer(y_true, scores, threshold: float | None = None, thresholds=None,
                       static: bool | None = None, prefetch: bool = True):
    """A threshold slider over ``scores`` (higher means "more likely positive").

    What to look for: as ``t`` rises the operating point slides down the ROC curve towards
    (0, 0), counts move from the FP cell to TN and from TP to FN, precision usually rises
    while recall falls; where the two histograms overlap no threshold separates the classes.
    ``thresholds``: the static figure's thresholds (default: the 50th, 85th and 95th
    percentiles of the scores).
    """
    import ipywidgets as widgets

    scores = np.asarray(scores, dtype=np.float64)
    lo, hi = float(scores.min()), float(scores.max())
    if threshold is None:
        threshold = float(np.median(scores))
    controls = {"threshold": widgets.FloatSlider(value=threshold, min=lo, max=hi, step=(hi - lo) / 200,
                                                 description="threshold", readout_format=".3f",
                                                 layout=widgets.Layout(width="60%"))}
    if thresholds is None:
        thresholds = [float(q) for q in np.percentile(scores, [50, 85, 95])]
    return ThresholdExplorer(controls, y_true, scores).show(static_settings=[{"threshold": t} for t in thresholds],
                                                            static=static, prefetch=prefetch)
