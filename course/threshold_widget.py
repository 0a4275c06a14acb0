"""A decision-threshold slider over a classifier's scores (the metrics lecture).

:func:`threshold_explorer` shows, for one threshold ``t`` (predict positive when
``score >= t``):

- the scores of the two classes as histograms, with ``t`` as a vertical line;
- the ROC curve with the operating point ``(FPR(t), TPR(t))``;
- the precision-recall curve with the operating point ``(recall(t), precision(t))``;
- the confusion matrix at ``t``.

Curves, AUC, average precision, the confusion matrix and the operating point all come
from ``sklearn.metrics``; nothing is counted by hand. Headless, three thresholds are shown
side by side (see :mod:`course.widgets`).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from sklearn import metrics

from .widgets import InteractiveFigure, interactive_figure

__all__ = ["operating_point", "threshold_explorer"]


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


def _builder(y_true, scores):
    y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=float)
    fpr, tpr, _ = metrics.roc_curve(y_true, scores)
    precision, recall, _ = metrics.precision_recall_curve(y_true, scores)
    auc = metrics.roc_auc_score(y_true, scores)
    ap = metrics.average_precision_score(y_true, scores)
    bins = np.linspace(scores.min(), scores.max(), 31)
    cached_point = lru_cache(maxsize=None)(lambda threshold: operating_point(y_true, scores, threshold))
    lo, hi = bins[0], bins[-1]

    def build(fig, threshold):
        ax_hist, ax_roc, ax_pr, ax_cm = fig.subplots(1, 4, width_ratios=(1.4, 1, 1, 0.9))
        for label, color in ((0, "tab:blue"), (1, "tab:orange")):
            ax_hist.hist(scores[y_true == label], bins=bins, alpha=0.6, color=color, density=True,
                         label=f"class {label} (n={np.sum(y_true == label)})")
        ax_hist.set_xlim(lo, hi)
        ax_hist.set_xlabel("score")
        ax_hist.set_ylabel("density within the class")
        ax_hist.legend(fontsize="small", loc="upper center")
        vline = ax_hist.axvline(threshold, color="black", lw=2, animated=True)

        ax_roc.plot(fpr, tpr, color="tab:green")
        ax_roc.plot([0, 1], [0, 1], ":", color="gray")
        ax_roc.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="false positive rate",
                   ylabel="true positive rate (recall)", title=f"ROC, AUC = {auc:.3f}")
        roc_dot, = ax_roc.plot([], [], "o", color="black", ms=8, animated=True)

        ax_pr.plot(recall, precision, color="tab:purple")
        ax_pr.axhline(y_true.mean(), ls=":", color="gray")
        ax_pr.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), xlabel="recall", ylabel="precision",
                  title=f"precision-recall, AP = {ap:.3f}")
        pr_dot, = ax_pr.plot([], [], "o", color="black", ms=8, animated=True)

        image = ax_cm.imshow(np.zeros((2, 2)), cmap="Blues", vmin=0, vmax=len(y_true), animated=True)
        ax_cm.set_xticks([0, 1], ["pred 0", "pred 1"])
        ax_cm.set_yticks([0, 1], ["true 0", "true 1"])
        texts = [[ax_cm.text(j, i, "", ha="center", va="center", fontsize="large", animated=True)
                  for j in range(2)] for i in range(2)]
        summary = ax_cm.set_title("", fontsize="medium", animated=True)

        def update(threshold):
            point = cached_point(threshold)
            vline.set_xdata([threshold, threshold])
            roc_dot.set_data([point["fpr"]], [point["tpr"]])
            pr_dot.set_data([point["tpr"]], [point["precision"]])
            cm = point["confusion"]
            image.set_array(cm)
            for i in range(2):
                for j in range(2):
                    name = ("TN", "FP", "FN", "TP")[2 * i + j]
                    texts[i][j].set_text(f"{name}\n{cm[i, j]}")
                    texts[i][j].set_color("white" if cm[i, j] > 0.6 * len(y_true) else "black")
            summary.set_text(f"t = {threshold:.2f}: acc {point['accuracy']:.2f}, F1 {point['f1']:.2f}")

        update(threshold)
        return update

    return build, (lo, hi)


def threshold_explorer(y_true, scores, threshold: float | None = None, thresholds=None,
                       static: bool | None = None) -> InteractiveFigure:
    """A threshold slider over ``scores`` (higher means "more likely positive").

    ``thresholds``: the static figure's thresholds (default: the 50th, 85th and 95th
    percentiles of the scores).
    """
    import ipywidgets as widgets

    build, (lo, hi) = _builder(y_true, scores)
    if threshold is None:
        threshold = float(np.median(scores))
    step = (hi - lo) / 200
    controls = {"threshold": widgets.FloatSlider(value=threshold, min=lo, max=hi, step=step,
                                                 description="threshold", readout_format=".3f",
                                                 layout=widgets.Layout(width="60%"))}
    if thresholds is None:
        thresholds = [float(q) for q in np.percentile(scores, [50, 85, 95])]
    return interactive_figure(build, controls, static_settings=[{"threshold": t} for t in thresholds],
                              figsize=(14.0, 3.4), ncols=1, static=static)
