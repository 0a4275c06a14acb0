"""Top-k accuracy, as ``sklearn.metrics.top_k_accuracy_score`` (scores without ties).

    top-k accuracy = (1/n) · #{i : y_i is among the k classes with the highest scores[i]}

``scores`` is ``(n, C)``, ``y_true`` holds integer labels in 0..C-1. k = 1 is the ordinary
accuracy of ``argmax``; k >= C is 1.
"""
import numpy as np


def top_k_accuracy(y_true, scores, k):
    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=np.float64)
    top_k = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top_k == y_true[:, None], axis=1)))
