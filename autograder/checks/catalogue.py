"""The catalogue of typical mistakes, by assignment: which student names each one replaces.

Each mistake is written once, in the ``*_mistakes`` module beside the checks that recognise
it; this module only says, for each assignment, which of the student's functions a mistake
stands in for. The release runs every entry on the visible tests
(:mod:`autograder.checks.visible`), and the tests check each visible diagnosis on every entry.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import dropout_mistakes, metric_mistakes, normalization_mistakes, optimizer_mistakes

__all__ = ["Entry", "catalogue", "ASSIGNMENTS"]


@dataclass(frozen=True)
class Entry:
    """One typical mistake: the student functions it replaces, and what it is, in words."""

    replaces: dict[str, Callable]
    diagnosis: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.replaces)


def _single(name, mistakes, attribute):
    return [Entry({name: getattr(m, attribute)}, m.diagnosis) for m in mistakes]


def _pairs(forward, backward, mistakes):
    return [Entry({forward: m.forward, backward: m.backward}, m.diagnosis) for m in mistakes]


def _optimizers() -> list[Entry]:
    om = optimizer_mistakes
    return (_single("sgd_momentum_step", om.MOMENTUM, "step") + _single("rmsprop_step", om.RMSPROP, "step")
            + _single("adam_step", om.ADAM, "step") + _single("lookahead_point", om.LOOKAHEAD_POINT, "step")
            + _single("nesterov_lookahead_update", om.LOOKAHEAD_UPDATE, "step")
            + _single("adam_bias_factor", om.BIAS_FACTOR, "step"))


def _metrics() -> list[Entry]:
    mm = metric_mistakes
    return (_single("confusion_counts", mm.CONFUSION, "fn")
            + _single("precision_recall_f1", mm.PRECISION_RECALL, "fn")
            + _single("roc_curve", mm.ROC, "fn") + _single("roc_auc", mm.AUC + mm.ONE_CLASS, "fn")
            + _single("top_k_accuracy", mm.TOP_K, "fn") + _single("pairwise_auc", mm.PAIRWISE, "fn"))


def _batchnorm() -> list[Entry]:
    nm = normalization_mistakes
    return (_pairs("batchnorm_forward", "batchnorm_backward", nm.BATCHNORM)
            + [Entry({m.node: m.fn}, m.diagnosis) for m in nm.STEPS]
            + _pairs("layernorm_forward", "layernorm_backward", nm.LAYERNORM)
            + _pairs("dropout_forward", "dropout_backward", dropout_mistakes.DROPOUT))


ASSIGNMENTS: dict[str, Callable[[], list[Entry]]] = {
    "optimizers": _optimizers, "metrics": _metrics, "batchnorm": _batchnorm}


def catalogue(assignment: str) -> list[Entry]:
    """Every typical mistake of ``assignment`` (an empty list for one without a catalogue)."""
    build = ASSIGNMENTS.get(assignment)
    return build() if build is not None else []
