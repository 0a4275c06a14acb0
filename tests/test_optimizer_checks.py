"""The optimizer checks: they pass the right answers and name the typical mistakes."""
import numpy as np
import pytest
import torch

from autograder.checks import optimizer_mistakes as mistakes
from autograder.checks import optimizers as checks
from autograder.reference.adam import adam_step
from autograder.reference.rmsprop import rmsprop_step
from autograder.reference.sgd import sgd_momentum_step

ADAM_CHECKS = checks.ALL_CHECKS["adam_step"]


def _adam_in_place(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   amsgrad=False):
    """A correct Adam written differently: updates param, grad and state arrays in place."""
    b1, b2 = betas
    state["step"] = state.get("step", 0) + 1
    if weight_decay:
        grad += weight_decay * param
    if "exp_avg" not in state:
        state["exp_avg"], state["exp_avg_sq"] = 0 * grad, 0 * grad
    state["exp_avg"] *= b1
    state["exp_avg"] += (1 - b1) * grad
    state["exp_avg_sq"] *= b2
    state["exp_avg_sq"] += (1 - b2) * grad * grad
    v = state["exp_avg_sq"]
    if amsgrad:
        state["max_exp_avg_sq"] = v * 1.0 if "max_exp_avg_sq" not in state else \
            state["max_exp_avg_sq"] + (v - state["max_exp_avg_sq"]) * (v > state["max_exp_avg_sq"])
        v = state["max_exp_avg_sq"]
    t = state["step"]
    denom = (v ** 0.5) / (1 - b2 ** t) ** 0.5 + eps
    param -= (lr / (1 - b1 ** t)) * state["exp_avg"] / denom
    return param


@pytest.mark.parametrize("check", ADAM_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("student", [adam_step, _adam_in_place], ids=["reference", "in-place"])
def test_correct_adam_passes(check, student):
    """Does every Adam check pass a correct Adam, also one that works in place?"""
    result = check(student)
    assert result.passed, str(result)
    assert result.cases >= 8


@pytest.mark.parametrize("check,student", [(checks.check_sgd_momentum, sgd_momentum_step),
                                           (checks.check_sgd_nesterov, sgd_momentum_step),
                                           (checks.check_rmsprop, rmsprop_step)],
                         ids=["momentum", "nesterov", "rmsprop"])
def test_correct_sgd_and_rmsprop_pass(check, student):
    """Do the momentum and RMSprop checks pass the reference?"""
    assert check(student).passed


@pytest.mark.parametrize("mistake", mistakes.ADAM, ids=lambda m: m.diagnosis[:40])
def test_each_adam_mistake_is_caught_and_named(mistake):
    """Does some Adam check fail each typical mistake, and say which mistake it is?"""
    failures = [r for r in (check(mistake.step) for check in ADAM_CHECKS) if not r.passed]
    assert failures, "no check caught: " + mistake.diagnosis
    assert any(r.diagnosis == mistake.diagnosis for r in failures), [r.diagnosis for r in failures]


@pytest.mark.parametrize("mistake", mistakes.MOMENTUM, ids=lambda m: m.diagnosis[:40])
def test_each_momentum_mistake_is_caught_and_named(mistake):
    """Does the momentum or the Nesterov check fail each typical mistake and name it?"""
    failures = [r for r in (checks.check_sgd_momentum(mistake.step), checks.check_sgd_nesterov(mistake.step))
                if not r.passed]
    assert failures
    assert any(r.diagnosis == mistake.diagnosis for r in failures)


@pytest.mark.parametrize("mistake", mistakes.RMSPROP, ids=lambda m: m.diagnosis[:40])
def test_each_rmsprop_mistake_is_caught_and_named(mistake):
    """Does the RMSprop check fail each typical mistake and name it?"""
    result = checks.check_rmsprop(mistake.step)
    assert not result.passed
    assert result.diagnosis == mistake.diagnosis


def test_missing_bias_correction_is_explained_by_the_size_of_the_first_step():
    """Does the first-step check say how far off the first update is?"""
    result = checks.check_adam_first_step(mistakes.ADAM[0].step)
    assert not result.passed
    assert "too large" in result.message and "step 1" in result.message
    assert "without bias correction" in result.diagnosis


def test_stub_says_not_implemented():
    """Does an untouched stub get a message about the stub, not a traceback?"""
    def stub(param, grad, state, **hyper):
        raise NotImplementedError()
    result = checks.check_adam_first_step(stub)
    assert not result.passed and "NotImplementedError" in result.message


def test_missing_return_is_explained():
    """Does a function that forgets to return get told so?"""
    def no_return(param, grad, state, **hyper):
        adam_step(param, grad, state, **hyper)
    result = checks.check_adam_bias_correction(no_return)
    assert not result.passed and "forget to return" in result.message


def test_numpy_only_code_fails_the_torch_check_with_a_hint():
    """Does a function that calls np.sqrt keep NumPy working but fail on tensors, with a hint?"""
    def numpy_adam(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        b1, b2 = betas
        t = state["step"] = state.get("step", 0) + 1
        if weight_decay:
            grad = grad + weight_decay * param
        m = state["exp_avg"] = b1 * state.get("exp_avg", 0 * grad) + (1 - b1) * grad
        v = state["exp_avg_sq"] = b2 * state.get("exp_avg_sq", 0 * grad) + (1 - b2) * grad ** 2
        if amsgrad:
            v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", v), v)
        return param - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    assert checks.check_adam_long_trajectory(numpy_adam).passed
    result = checks.check_adam_torch(numpy_adam)
    assert not result.passed
    assert "torch.Tensor" in result.message or "np.sqrt" in result.message


def test_nan_where_gradient_is_zero_is_explained():
    """Does ε added outside the denominator (NaN at zero gradients) get a specific message?"""
    def eps_outside(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, **kw):
        b1, b2 = betas
        t = state["step"] = state.get("step", 0) + 1
        m = state["exp_avg"] = b1 * state.get("exp_avg", 0 * grad) + (1 - b1) * grad
        v = state["exp_avg_sq"] = b2 * state.get("exp_avg_sq", 0 * grad) + (1 - b2) * grad * grad
        with np.errstate(all="ignore"):
            return param - lr * (m / (1 - b1 ** t)) / (v / (1 - b2 ** t)) ** 0.5 + eps
    result = checks.check_adam_long_trajectory(eps_outside)
    assert not result.passed and "NaN" in result.message


class GoodAdam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.copy_(adam_step(p, p.grad, self.state[p], lr=group["lr"], betas=group["betas"],
                                      eps=group["eps"], weight_decay=group["weight_decay"],
                                      amsgrad=group["amsgrad"]))
        return loss


class FirstGroupLr(GoodAdam):
    """Reads the defaults' lr instead of each group's."""
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            group["lr"], saved = self.defaults["lr"], group["lr"]
        return super().step(closure)


class StatefulForUnused(GoodAdam):
    """Creates state for parameters without gradients."""
    @torch.no_grad()
    def step(self, closure=None):
        loss = super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p].setdefault("touched", True)
        return loss


def test_class_check_passes_a_correct_optimizer():
    """Does the class check pass an optimizer built on the reference step?"""
    result = checks.check_adam_class(GoodAdam)
    assert result.passed, str(result)


@pytest.mark.parametrize("cls,words", [(FirstGroupLr, "differs"), (StatefulForUnused, "state"),
                                       (object, "inherits from torch.optim.Optimizer")],
                         ids=["group-lr-ignored", "state-for-unused", "not-an-optimizer"])
def test_class_check_catches_broken_optimizers(cls, words):
    """Does the class check fail optimizers that ignore group lrs or keep state for unused parameters?"""
    result = checks.check_adam_class(cls)
    assert not result.passed
    assert words in result.message


def test_failed_check_raises_with_its_message():
    """Does assert_passed raise an AssertionError that carries the feedback text?"""
    result = checks.check_adam_first_step(mistakes.ADAM[0].step)
    with pytest.raises(AssertionError, match="bias correction"):
        result.assert_passed()
