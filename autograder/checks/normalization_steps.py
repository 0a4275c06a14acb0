"""Check for the batchnorm assignment's derivation: the backward pass node by node.

The five local backward functions of BatchNorm's computational graph (found side by side in
the student's notebook) are each compared with the reference on random inputs of several
batch sizes; the first that differs fails the item, with the typical mistake of
:data:`.normalization_mistakes.STEPS` its numbers match.
"""
from __future__ import annotations

import numpy as np

from ..reference import batchnorm_steps as ref
from . import normalization_mistakes as mistakes
from .calls import StudentError, call_student, sibling, to_float64
from .metric_cases import short
from .result import CheckResult, failed, passed

__all__ = ["check_batchnorm_backward_steps", "NODES", "ALL_CHECKS"]

NODES = ["normalize_backward", "inv_std_backward", "variance_backward", "center_backward", "mean_backward"]


def _inputs(node: str, rng, n: int, d: int):
    """The arguments of ``node``'s backward: upstream gradient first, then what it needs."""
    row = (1, d)
    xc = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, d)
    xc -= xc.mean(axis=0)
    var = (xc ** 2).mean(axis=0, keepdims=True)
    if node == "normalize_backward":
        return rng.normal(size=(n, d)), xc, 1 / np.sqrt(var + 1e-5)
    if node == "inv_std_backward":
        return rng.normal(size=row), var, float(rng.choice([1e-5, 1e-3]))
    if node == "variance_backward":
        return rng.normal(size=row), xc
    if node == "center_backward":
        return (rng.normal(size=(n, d)),)
    return rng.normal(size=row), n


def _outputs(value, node: str):
    if isinstance(value, tuple):
        return tuple(to_float64(v, f"what {node} returned") for v in value)
    return (to_float64(value, f"what {node} returned"),)


def _same(got, expected) -> bool:
    return len(got) == len(expected) and all(
        g.shape == e.shape and np.allclose(g, e, rtol=1e-7, atol=1e-10) for g, e in zip(got, expected))


def check_batchnorm_backward_steps(normalize_backward) -> CheckResult:
    """Each node's local gradients (x̂ = xc·r, r = (σ²+ε)^-½, σ² = mean(xc²), xc = x - μ,
    μ = mean(x)) against the chain rule, batches of 2 to 16 samples."""
    name = "BatchNorm backward, node by node"
    functions = {}
    for node in NODES:
        try:
            functions[node] = normalize_backward if node == "normalize_backward" else sibling(normalize_backward, node)
        except StudentError as exc:
            return failed(name, f"this check {exc}.")
    rng = np.random.default_rng(77)
    count = 0
    for n, d in ((4, 3), (2, 1), (16, 5), (3, 2)):
        for node in NODES:
            count += 1
            args = _inputs(node, rng, n, d)
            expected = _outputs(getattr(ref, node)(*args), node)
            where = f"{node} with N={n} samples and D={d} features"
            try:
                got = _outputs(call_student(functions[node], *(a.copy() if isinstance(a, np.ndarray) else a
                                                                for a in args)), node)
            except StudentError as exc:
                return failed(name, f"{where}: your function {exc}.", count)
            if _same(got, expected):
                continue
            shapes = [g.shape for g in got]
            wanted = [e.shape for e in expected]
            text = (f"{where}: expected {len(wanted)} array(s) of shape {wanted}, yours "
                    f"{shapes}" if shapes != wanted else
                    f"{where}: expected {', '.join(short(e) for e in expected)}; yours is "
                    f"{', '.join(short(g) for g in got)}")
            diagnosis = next((m.diagnosis for m in mistakes.STEPS
                              if m.node == node and _same(got, _outputs(m.fn(*args), node))), None)
            return failed(name, text + ".", count, diagnosis)
    return passed(name, count, "the chain rule on each node of the graph")


ALL_CHECKS = {"normalize_backward": [check_batchnorm_backward_steps]}
