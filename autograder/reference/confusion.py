"""Confusion counts, precision, recall and F1 of a binary classifier, as ``sklearn.metrics``.

    C = [[TN, FP],        row i: the examples of true class i; column j: those predicted as j
         [FN, TP]]        (sklearn.metrics.confusion_matrix's layout)

    precision = TP / (TP + FP)        (positive predictive value, PPV)
    recall    = TP / (TP + FN)        (true positive rate, TPR)
    F1        = 2·precision·recall / (precision + recall)   (harmonic mean)

A ratio whose denominator is 0 is 0.0 (scikit-learn's ``zero_division=0``).
"""
import numpy as np


def confusion_counts(y_true, y_pred):
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    return dict(tp=int(np.sum(y_true & y_pred)), fp=int(np.sum(~y_true & y_pred)),
                fn=int(np.sum(y_true & ~y_pred)), tn=int(np.sum(~y_true & ~y_pred)))


def _ratio(numerator, denominator):
    return numerator / denominator if denominator else 0.0


def precision_recall_f1(y_true, y_pred):
    c = confusion_counts(y_true, y_pred)
    precision = _ratio(c["tp"], c["tp"] + c["fp"])
    recall = _ratio(c["tp"], c["tp"] + c["fn"])
    f1 = _ratio(2 * precision * recall, precision + recall)
    return float(precision), float(recall), float(f1)
