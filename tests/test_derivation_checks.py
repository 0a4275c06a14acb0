"""The checks of the derivations: they pass the right answers and name each typical mistake."""
import numpy as np
import pytest

from autograder.checks import metric_mistakes, normalization_mistakes, optimizer_mistakes
from autograder.checks.auc import check_pairwise_auc
from autograder.checks.normalization_steps import NODES, check_batchnorm_backward_steps
from autograder.checks.optimizer_derivations import check_adam_bias_factor, check_nesterov_lookahead
from autograder.reference import batchnorm_steps
from autograder.reference.adam_bias import adam_bias_factor
from autograder.reference.mann_whitney import pairwise_auc
from autograder.reference.nesterov import lookahead_point, nesterov_lookahead_update


def _notebook(**functions):
    """Functions as they live side by side in a student's notebook (one shared namespace)."""
    namespace = {"np": np, "__builtins__": __builtins__}
    made = {name: type(fn)(fn.__code__, namespace, name, fn.__defaults__, fn.__closure__)
            for name, fn in functions.items()}
    namespace.update(made)
    return made


def test_right_answers_pass():
    """Do the four derivation checks pass the references?"""
    assert check_nesterov_lookahead(_notebook(lookahead_point=lookahead_point,
                                              nesterov_lookahead_update=nesterov_lookahead_update)
                                    ["lookahead_point"]).passed
    assert check_adam_bias_factor(adam_bias_factor).passed
    assert check_pairwise_auc(pairwise_auc).passed
    nodes = _notebook(**{name: getattr(batchnorm_steps, name) for name in NODES})
    result = check_batchnorm_backward_steps(nodes["normalize_backward"])
    assert result.passed, str(result)


@pytest.mark.parametrize("mistake", optimizer_mistakes.LOOKAHEAD_POINT + optimizer_mistakes.LOOKAHEAD_UPDATE,
                         ids=lambda m: m.diagnosis[:40])
def test_each_lookahead_mistake_is_named(mistake):
    """Does the look-ahead check fail each typical mistake and name it?"""
    functions = {"lookahead_point": lookahead_point, "nesterov_lookahead_update": nesterov_lookahead_update}
    functions[mistake.step.__name__] = mistake.step
    result = check_nesterov_lookahead(_notebook(**functions)["lookahead_point"])
    assert not result.passed and result.diagnosis == mistake.diagnosis, str(result)


@pytest.mark.parametrize("mistake", optimizer_mistakes.BIAS_FACTOR, ids=lambda m: m.diagnosis[:40])
def test_each_bias_factor_mistake_is_named(mistake):
    result = check_adam_bias_factor(mistake.step)
    assert not result.passed and result.diagnosis == mistake.diagnosis, str(result)


@pytest.mark.parametrize("mistake", metric_mistakes.PAIRWISE, ids=lambda m: m.diagnosis[:40])
def test_each_pairwise_mistake_is_named(mistake):
    result = check_pairwise_auc(mistake.fn)
    assert not result.passed and result.diagnosis == mistake.diagnosis, str(result)


@pytest.mark.parametrize("mistake", normalization_mistakes.STEPS, ids=lambda m: m.diagnosis[:40])
def test_each_node_mistake_is_named(mistake):
    """Does the node-by-node check fail each wrong local gradient and name it?"""
    functions = {name: getattr(batchnorm_steps, name) for name in NODES}
    functions[mistake.node] = mistake.fn
    result = check_batchnorm_backward_steps(_notebook(**functions)["normalize_backward"])
    assert not result.passed and result.diagnosis == mistake.diagnosis, str(result)


def test_a_missing_sibling_is_explained():
    """Does the look-ahead check say so when nesterov_lookahead_update is not defined?"""
    alone = _notebook(lookahead_point=lookahead_point)["lookahead_point"]
    result = check_nesterov_lookahead(alone)
    assert not result.passed and "nesterov_lookahead_update" in result.message


def test_a_scalar_step_gives_a_scalar_factor():
    """Is a factor for every t of an array required, and one number for one t?"""
    def one_number(t, betas=(0.9, 0.999), correct_m=True, correct_v=True):
        return float(np.mean(adam_bias_factor(t, betas, correct_m, correct_v)))
    result = check_adam_bias_factor(one_number)
    assert not result.passed and "shape" in result.message
