"""The dropout checks: they pass the right answers and name the typical mistakes."""
import re

import numpy as np
import pytest

from autograder.checks import dropout as checks
from autograder.checks import dropout_mistakes as mistakes
from autograder.reference.dropout import dropout_backward, dropout_forward


def _binomial_dropout(x, p, train=True, rng=None):
    """A correct dropout written differently: a 0/1 float mask from rng.binomial, scaled copy."""
    if not train:
        return x, None
    rng = rng if rng is not None else np.random.default_rng()
    mask = rng.binomial(1, 1 - p, size=x.shape).astype(float)
    return x * mask / (1 - p), mask


def _all(mistake):
    return [checks.check_dropout_train(mistake.forward), checks.check_dropout_eval(mistake.forward),
            checks.check_dropout_backward(mistake.backward)]


@pytest.mark.parametrize("forward", [dropout_forward, _binomial_dropout], ids=["reference", "binomial"])
def test_correct_dropout_passes(forward):
    """Do the forward checks pass a correct dropout, also one with a 0/1 float mask?"""
    for check in checks.ALL_CHECKS["dropout_forward"]:
        result = check(forward)
        assert result.passed, str(result)
    assert checks.check_dropout_backward(dropout_backward).passed


@pytest.mark.parametrize("mistake", mistakes.DROPOUT, ids=lambda m: m.diagnosis[:40])
def test_each_dropout_mistake_is_caught_and_named(mistake):
    """Does some dropout check fail each typical mistake (not inverted, p taken as the keep
    probability, the other convention, dropping or scaling in eval, backward without the mask
    or the scale), and name it?"""
    failures = [r for r in _all(mistake) if not r.passed]
    assert failures, "no check caught: " + mistake.diagnosis
    assert any(r.diagnosis == mistake.diagnosis for r in failures), [str(r) for r in failures]


def test_drop_rate_is_reported_in_words():
    """Does p taken as the keep probability get the drop rate it produced, in percent?"""
    result = checks.check_dropout_train(mistakes._dropout(keep_prob=True))
    assert re.search(r"drops (79|80)\.\d% of the units, expected 20\.0%", result.message), result.message


def test_mask_that_ignores_the_generator_fails():
    """Does a dropout that draws from np.random instead of the rng it is given fail, with the reason?"""
    def global_random(x, p, train=True, rng=None):
        if not train:
            return x, None
        mask = np.random.rand(*x.shape) >= p
        return x * mask / (1 - p), mask
    result = checks.check_dropout_train(global_random)
    assert not result.passed and "generator" in result.message


def test_scaled_mask_is_refused_with_a_reason():
    """Does returning the scaled mask (values 1/(1 - p)) instead of the keep-mask get told so?"""
    def scaled_mask(x, p, train=True, rng=None):
        out, mask = dropout_forward(x, p, train, rng)
        return out, mask / (1 - p)
    result = checks.check_dropout_train(scaled_mask)
    assert not result.passed and "keep-mask" in result.message


def test_stub_is_explained():
    """Does an untouched stub get a message about the stub?"""
    def stub(*args, **kwargs):
        raise NotImplementedError()
    for result in (checks.check_dropout_train(stub), checks.check_dropout_eval(stub),
                   checks.check_dropout_backward(stub)):
        assert not result.passed and "NotImplementedError" in result.message
