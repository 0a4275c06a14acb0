"""AUC as the Mann-Whitney probability, counted pair by pair.

    AUC = P(s⁺ > s⁻) + ½·P(s⁺ = s⁻)
        = (1 / (P·N))·Σ_{i positive} Σ_{j negative} ([s_i > s_j] + ½·[s_i = s_j])

over the P·N positive-negative pairs: O(P·N), the slow but obvious definition that
``roc_auc`` (the area under the ROC curve) must agree with. One class only: ``ValueError``.
"""
import numpy as np


def pairwise_auc(y_true, y_score):
    y_true = np.asarray(y_true).astype(bool)
    y_score = np.asarray(y_score, dtype=float)
    positive, negative = y_score[y_true], y_score[~y_true]
    if len(positive) == 0 or len(negative) == 0:
        raise ValueError("AUC needs at least one positive and one negative example")
    above = positive[:, None] > negative[None, :]
    tied = positive[:, None] == negative[None, :]
    return float((above.sum() + 0.5 * tied.sum()) / (len(positive) * len(negative)))
