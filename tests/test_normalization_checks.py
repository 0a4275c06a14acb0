"""The BatchNorm and LayerNorm checks, forward and backward: they pass right answers and name
the typical mistakes."""
import warnings

import numpy as np
import pytest

from autograder.checks import normalization as checks
from autograder.checks import normalization_backward as backward_checks
from autograder.checks import normalization_mistakes as mistakes
from autograder.reference.batchnorm import batchnorm_backward, batchnorm_forward
from autograder.reference.layernorm import layernorm_backward, layernorm_forward

BN_FORWARD_CHECKS = checks.ALL_CHECKS["batchnorm_forward"]
BN_BACKWARD_CHECKS = backward_checks.ALL_CHECKS["batchnorm_backward"]


def _staged_forward(x, gamma, beta, bn_param):
    """A correct BatchNorm written differently: a staged graph, defaults set with setdefault,
    running statistics updated in place, the input overwritten."""
    n = x.shape[0]
    bn_param.setdefault("running_mean", np.zeros(x.shape[1]))
    bn_param.setdefault("running_var", np.ones(x.shape[1]))
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    if bn_param["mode"] == "train":
        mu = x.sum(axis=0) / n
        xc = x - mu
        var = (xc ** 2).sum(axis=0) / n
        bn_param["running_mean"] *= 1 - momentum
        bn_param["running_mean"] += momentum * mu
        bn_param["running_var"] *= 1 - momentum
        bn_param["running_var"] += momentum * var * n / (n - 1)
    else:
        xc = x - bn_param["running_mean"]
        var = bn_param["running_var"]
    inv = 1.0 / np.sqrt(var + eps)
    x[...] = 0.0
    return gamma * xc * inv + beta, (xc, inv, gamma)


def _staged_backward(dout, cache):
    xc, inv, gamma = cache
    n = dout.shape[0]
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xc, axis=0) * -0.5 * inv ** 3
    dmu = -np.sum(dxhat * inv, axis=0) + dvar * -2.0 * xc.mean(axis=0)
    dx = dxhat * inv + dvar * 2.0 * xc / n + dmu / n
    return dx, np.sum(dout * xc * inv, axis=0), np.sum(dout, axis=0)


@pytest.mark.parametrize("check", BN_FORWARD_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("forward", [batchnorm_forward, _staged_forward], ids=["reference", "staged"])
def test_correct_batchnorm_forward_passes(check, forward):
    """Does every forward check pass a correct BatchNorm, also one written another way?"""
    result = check(forward)
    assert result.passed, str(result)
    assert result.cases >= 4


@pytest.mark.parametrize("check", BN_BACKWARD_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("pair", [(batchnorm_forward, batchnorm_backward), (_staged_forward, _staged_backward)],
                         ids=["reference", "staged"])
def test_correct_batchnorm_backward_passes(check, pair):
    """Does every backward check pass a correct backward, also a staged one?"""
    forward, backward = pair
    result = check(backward, forward)
    assert result.passed, str(result)


def test_correct_layernorm_passes():
    """Do the LayerNorm checks pass the reference?"""
    assert checks.check_layernorm_forward(layernorm_forward).passed
    assert backward_checks.check_layernorm_backward(layernorm_backward, layernorm_forward).passed


def _all_batchnorm_results(mistake):
    return [check(mistake.forward) for check in BN_FORWARD_CHECKS] + \
           [check(mistake.backward, mistake.forward) for check in BN_BACKWARD_CHECKS]


@pytest.mark.parametrize("mistake", mistakes.BATCHNORM, ids=lambda m: m.diagnosis[:40])
def test_each_batchnorm_mistake_is_caught_and_named(mistake):
    """Does some BatchNorm check fail each typical mistake (unbiased variance, biased running_var,
    flipped momentum, no update, update in eval, batch statistics in eval, ε outside the root,
    wrong axis, dgamma over the wrong axis, mean and variance taken as constants), and name it?"""
    failures = [r for r in _all_batchnorm_results(mistake) if not r.passed]
    assert failures, "no check caught: " + mistake.diagnosis
    assert any(r.diagnosis == mistake.diagnosis for r in failures), [str(r) for r in failures]


@pytest.mark.parametrize("mistake", mistakes.LAYERNORM, ids=lambda m: m.diagnosis[:40])
def test_each_layernorm_mistake_is_caught_and_named(mistake):
    """Does a LayerNorm check fail each typical mistake and name it?"""
    results = [checks.check_layernorm_forward(mistake.forward),
               backward_checks.check_layernorm_backward(mistake.backward, mistake.forward)]
    failures = [r for r in results if not r.passed]
    assert any(r.diagnosis == mistake.diagnosis for r in failures), [str(r) for r in results]


def test_unbiased_variance_is_explained_by_the_output_std():
    """Does the training check say that the output std is 0.866 at N=4, and why?"""
    result = checks.check_batchnorm_train_forward(mistakes._batchnorm(norm_ddof=1))
    assert not result.passed
    assert "N=4" in result.message and "std is 0.866" in result.message
    assert "divid" in result.diagnosis and "biased" in result.diagnosis


def test_eps_outside_the_root_fails_even_if_only_tiny_variances_show_it():
    """Is ε outside the square root caught and named on inputs whose variance is 1e-6?"""
    forward = mistakes._batchnorm(eps_outside=True)
    case = next(c for c in checks.TRAIN_CASES if c.tiny)
    original = checks.TRAIN_CASES[:]
    try:
        checks.TRAIN_CASES[:] = [case]
        result = checks.check_batchnorm_train_forward(forward)
    finally:
        checks.TRAIN_CASES[:] = original
    assert not result.passed and "1e-6" in result.message
    assert result.diagnosis == mistakes.EPS_OUTSIDE


def test_batch_mates_matter_only_in_training():
    """Does the eval check fail a BatchNorm whose eval output of one sample depends on its batch-mates?"""
    def forward(x, gamma, beta, bn_param):
        if bn_param["mode"] == "eval":   # a right answer on the graded cases, batch-dependent otherwise
            out, cache = batchnorm_forward(x, gamma, beta, bn_param)
            return (out + 1e-3 * x.mean(axis=0) if len(x) == 8 else out), cache
        return batchnorm_forward(x, gamma, beta, bn_param)
    result = checks.check_batchnorm_eval(forward)
    assert not result.passed and "batch-mates" in result.message


def test_backward_consistent_with_a_wrong_forward_is_told_to_fix_the_forward():
    """Does a backward that is the exact gradient of a wrong forward say to fix the forward first?"""
    def forward(x, gamma, beta, bn_param):   # normalizes with the variance of N - 1 ... consistently
        n = len(x)
        out, (x_hat, g, std, mode) = batchnorm_forward(x * np.sqrt((n - 1) / n), gamma, beta, bn_param)
        return out, (x_hat, g, std / np.sqrt((n - 1) / n), mode)
    result = backward_checks.check_batchnorm_backward_dx(batchnorm_backward, forward)
    assert not result.passed
    assert "gradient of your own forward" in result.message or result.diagnosis


def test_dgamma_over_the_wrong_axis_is_named_from_its_shape():
    """Does dgamma of shape (N,) get the wrong-axis diagnosis?"""
    result = backward_checks.check_batchnorm_backward_params(mistakes._bn_backward_variant(dgamma_axis=1), batchnorm_forward)
    assert not result.passed and "shape (4,)" in result.message
    assert result.diagnosis == mistakes.DGAMMA_AXIS


def test_layernorm_on_axis_one_fails_on_three_dimensional_inputs():
    """Does a LayerNorm over axis 1 (right on 2-D) fail on a 3-D input and say: the last axis?"""
    result = checks.check_layernorm_forward(mistakes._layernorm(axis=1))
    assert not result.passed and result.diagnosis == checks.LAST_AXIS


def test_stub_and_missing_return_are_explained():
    """Does an untouched stub get a message about the stub, and a forgotten return its own?"""
    def stub(*args, **kwargs):
        raise NotImplementedError()

    def no_return(x, gamma, beta, bn_param):
        batchnorm_forward(x, gamma, beta, bn_param)

    result = checks.check_batchnorm_train_forward(stub)
    assert not result.passed and "NotImplementedError" in result.message
    result = checks.check_batchnorm_running_stats(no_return)
    assert not result.passed and "pair (out, cache)" in result.message
    result = backward_checks.check_batchnorm_backward_dx(stub, batchnorm_forward)
    assert not result.passed and "NotImplementedError" in result.message


def test_missing_running_statistics_are_explained():
    """Does a forward that never writes bn_param['running_mean'] get told to store it?"""
    def forward(x, gamma, beta, bn_param):
        bn_param = dict(bn_param)     # a copy: the caller's bn_param never changes
        return batchnorm_forward(x, gamma, beta, bn_param)
    result = checks.check_batchnorm_running_stats(forward)
    assert not result.passed
    assert result.diagnosis == mistakes.NO_UPDATE or "store the running statistics" in result.message


def test_checks_are_silent_on_stderr(capfd):
    """Do the checks swallow a student's prints and warnings (stderr would cost the cell its points)?"""
    def noisy(x, gamma, beta, bn_param):
        print("debugging", x.shape)
        warnings.warn("a student's warning")
        np.log(-np.ones(1))
        return batchnorm_forward(x, gamma, beta, bn_param)
    for check in BN_FORWARD_CHECKS:
        assert check(noisy).passed
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_backward_check_finds_the_forward_beside_the_backward():
    """Graded with the backward alone, as a hidden test names it, does a backward check use the
    student's own forward from the same notebook, and say so when there is none?"""
    notebook = {"np": np}
    exec(_NOTEBOOK_CELLS, notebook)
    assert backward_checks.check_batchnorm_backward_dx(notebook["batchnorm_backward"]).passed
    assert backward_checks.check_layernorm_backward(notebook["layernorm_backward"]).passed
    del notebook["batchnorm_forward"]
    result = backward_checks.check_batchnorm_backward_params(notebook["batchnorm_backward"])
    assert not result.passed and "batchnorm_forward" in result.message


_NOTEBOOK_CELLS = """
import inspect
from autograder.reference import batchnorm as _bn, layernorm as _ln
def batchnorm_forward(x, gamma, beta, bn_param):
    return _bn.batchnorm_forward(x, gamma, beta, bn_param)
def batchnorm_backward(dout, cache):
    return _bn.batchnorm_backward(dout, cache)
def layernorm_forward(x, gamma, beta, eps=1e-5):
    return _ln.layernorm_forward(x, gamma, beta, eps)
def layernorm_backward(dout, cache):
    return _ln.layernorm_backward(dout, cache)
"""
