"""A confusion matrix accumulated batch by batch, and the metrics that are ratios of its counts.

``C[i, j]`` counts the examples of **true** class ``i`` **predicted** as class ``j``: rows are
the truth, columns the prediction, as in ``sklearn.metrics.confusion_matrix``. Accuracy,
precision, recall and F1 (per class, macro, micro, weighted) and balanced or class-weighted
accuracy are all functions of ``C``, and ``C`` is a sum over examples: the counts of two
batches add. That is what makes a metric *stateful* and exact over a data set evaluated in
batches: keep the counts (the state), add each batch's (``update``), and compute the metric
once from the totals. Averaging per-batch precision or F1 instead weights every batch alike
and averages ratios whose denominators differ from batch to batch: it is not the data set's
precision or F1.

>>> confusion = ConfusionMatrix(num_classes=10)
>>> for X_batch, y_batch in zip(X.split(256), y.split(256)):
...     confusion.update(model(X_batch), y_batch)        # logits (N, C) or labels (N,)
>>> confusion.f1(average="macro"), confusion.accuracy()

For one class ``k``: ``TP = C[k, k]``, ``FP = Σ_i C[i, k] - TP`` (its column),
``FN = Σ_j C[k, j] - TP`` (its row). Precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)``,
F1 ``2 TP / (2 TP + FP + FN)``. A ratio whose denominator is 0 is 0, as scikit-learn's
``zero_division=0``. Averages: ``"macro"`` is the plain mean over the classes, ``"weighted"``
the mean weighted by each class's support (its number of true examples), ``"micro"`` pools the
counts of all classes first (for single-label classification micro precision, recall and F1
all equal the accuracy). Data spread over several processes: add their ``counts`` (for
example with ``torch.distributed.all_reduce``) before computing.
"""
from __future__ import annotations

import torch

__all__ = ["ConfusionMatrix", "AVERAGES"]

AVERAGES = (None, "macro", "micro", "weighted")


def _ratio(numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """numerator / denominator, with 0 where the denominator is 0 (sklearn's ``zero_division=0``)."""
    safe = torch.where(denominator > 0, denominator, torch.ones_like(denominator))
    return torch.where(denominator > 0, numerator / safe, torch.zeros_like(numerator))


class ConfusionMatrix:
    """Counts ``C[true, predicted]`` over every batch given to :meth:`update` since :meth:`reset`."""

    def __init__(self, num_classes: int, device=None):
        if num_classes < 2:
            raise ValueError(f"a classifier has at least 2 classes, not {num_classes}")
        self.num_classes = num_classes
        self.counts = torch.zeros(num_classes, num_classes, dtype=torch.int64, device=device)

    def reset(self) -> "ConfusionMatrix":
        """Forget every count (at the start of each evaluation pass)."""
        self.counts.zero_()
        return self

    def update(self, y_hat: torch.Tensor, y: torch.Tensor) -> "ConfusionMatrix":
        """Add one batch: ``y_hat`` are predicted labels ``(N,)`` or class scores ``(N, C)`` (argmax)."""
        y_hat, y = torch.as_tensor(y_hat), torch.as_tensor(y)
        if y_hat.dim() == 2:
            if y_hat.shape[1] != self.num_classes:
                raise ValueError(f"scores for {y_hat.shape[1]} classes, but the matrix has {self.num_classes}")
            y_hat = y_hat.argmax(dim=1)
        y_hat, y = y_hat.reshape(-1).long(), y.reshape(-1).long()
        if len(y_hat) != len(y):
            raise ValueError(f"{len(y_hat)} predictions but {len(y)} labels")
        for name, labels in (("label", y), ("prediction", y_hat)):
            if len(labels) and (labels.min() < 0 or labels.max() >= self.num_classes):
                raise ValueError(f"a {name} outside 0..{self.num_classes - 1}")
        C = self.num_classes
        index = (y * C + y_hat).to(self.counts.device)          # one bin per (true, predicted) cell
        self.counts += torch.bincount(index, minlength=C * C).reshape(C, C)
        return self

    def merge(self, other: "ConfusionMatrix") -> "ConfusionMatrix":
        """Add the counts of another matrix (another process's share of the data, say)."""
        if other.num_classes != self.num_classes:
            raise ValueError("the matrices have different numbers of classes")
        self.counts += other.counts.to(self.counts.device)
        return self

    # ------------------------------------------------------------ the counts
    @property
    def total(self) -> int:
        return int(self.counts.sum())

    @property
    def true_positives(self) -> torch.Tensor:
        return self.counts.diagonal().double()

    @property
    def support(self) -> torch.Tensor:
        """True examples of each class: the row sums, ``TP + FN``."""
        return self.counts.sum(dim=1).double()

    @property
    def predicted(self) -> torch.Tensor:
        """Examples predicted as each class: the column sums, ``TP + FP``."""
        return self.counts.sum(dim=0).double()

    # ------------------------------------------------------------ the metrics
    def accuracy(self, class_weights=None) -> float:
        """Share of right answers, ``Σ_k C[k, k] / Σ C``.

        ``class_weights`` (one per class) weights every example of class ``k`` by ``w_k``:
        ``Σ_k w_k C[k, k] / Σ_k w_k (TP_k + FN_k)`` (scikit-learn's ``accuracy_score`` with
        ``sample_weight = w[y]``).
        """
        if class_weights is None:
            return float(self.true_positives.sum() / max(self.total, 1))
        w = torch.as_tensor(class_weights, dtype=torch.float64, device=self.counts.device)
        if w.shape != (self.num_classes,):
            raise ValueError(f"give one weight per class ({self.num_classes})")
        return float(_ratio((w * self.true_positives).sum(), (w * self.support).sum()))

    def balanced_accuracy(self) -> float:
        """Mean recall over the classes that occur: accuracy with each class weighted by 1 / its support."""
        present = self.support > 0
        return float(self.recall()[present].mean()) if present.any() else 0.0

    def _average(self, per_class: torch.Tensor, numerator: torch.Tensor, denominator: torch.Tensor,
                 average: str | None):
        if average is None:
            return per_class
        if average == "macro":
            return float(per_class.mean())
        if average == "weighted":
            return float(_ratio((per_class * self.support).sum(), self.support.sum()))
        if average == "micro":
            return float(_ratio(numerator.sum(), denominator.sum()))
        raise ValueError(f"average must be one of {AVERAGES}, not {average!r}")

    def precision(self, average: str | None = None):
        """``TP / (TP + FP)`` per class (``average=None``, a tensor) or averaged (a float)."""
        tp = self.true_positives
        return self._average(_ratio(tp, self.predicted), tp, self.predicted, average)

    def recall(self, average: str | None = None):
        """``TP / (TP + FN)`` per class (``average=None``, a tensor) or averaged (a float)."""
        tp = self.true_positives
        return self._average(_ratio(tp, self.support), tp, self.support, average)

    def f1(self, average: str | None = None):
        """``2 TP / (2 TP + FP + FN)`` per class, or averaged.

        Macro F1 is the mean of the per-class F1 scores (scikit-learn's definition), not the
        harmonic mean of macro precision and macro recall, which is a different number.
        """
        tp = self.true_positives
        denominator = self.predicted + self.support            # (TP + FP) + (TP + FN)
        return self._average(_ratio(2 * tp, denominator), 2 * tp, denominator, average)

    def __repr__(self) -> str:
        return f"ConfusionMatrix(num_classes={self.num_classes}, total={self.total})\n{self.counts}"
