"""Typical mistakes in the metrics assignment, for the sample class and the tests."""

MISTAKES = {
    "confusion-axes-swapped": [
        ("confusion_counts", "return dict(tp=tp, fp=fp, fn=fn, tn=tn)",
         "return dict(tp=tp, fp=fn, fn=fp, tn=tn)"),
    ],
    "roc-ascending-thresholds": [
        ("roc_curve", 'order = np.argsort(-y_score, kind="stable")', 'order = np.argsort(y_score, kind="stable")'),
    ],
    "auc-ties-ignored": [
        ("roc_curve", "last = np.r_[y_score[1:] != y_score[:-1], True]", "last = np.ones(len(y_score), dtype=bool)"),
    ],
    "auc-one-class-half": [
        ("roc_auc", 'raise ValueError("roc_auc needs both classes in y_true: with one class AUC is not defined")',
         "return 0.5"),
    ],
}
