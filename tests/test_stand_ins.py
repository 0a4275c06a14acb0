"""Stand-ins for the student's functions: the same answers and the same words as the function
itself, data only across the channel, limits derived from the reference, runaway calls
stopped in seconds and costing only the function that ran away."""
import time

import numpy as np
import pytest

from autograder.checks import optimizers
from autograder.checks.calls import LocalFunction, StudentError, call_student
from autograder.checks.trajectory import Case
from autograder.sandbox.host import Host, Session
from autograder.grade.integrity import FORBIDDEN
from autograder.sandbox.policy import bwrap_available, student_policy
from autograder.settings import GradingSettings
from autograder.grade.stand_ins import CallBudget, RemoteFunction, StudentSide, student_optimizer_class

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not bwrap_available(), reason="student hosts run in bubblewrap")]

CODE = '''
import numpy as np
import torch

def adam_step(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    beta1, beta2 = betas
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay:
        grad = grad + weight_decay * param
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0 * grad) + (1 - beta1) * grad
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0 * grad) + (1 - beta2) * grad * grad
    if amsgrad:
        previous = state.get("max_exp_avg_sq", v)
        v = state["max_exp_avg_sq"] = previous + (v - previous) * (v > previous)
    return param - lr * (m / (1 - beta1 ** t)) / ((v / (1 - beta2 ** t)) ** 0.5 + eps)

def rmsprop_step(param, grad, state, lr=1e-2, alpha=0.99, eps=1e-8):
    while True:
        pass

def shape_changer(param, grad, state, **hyper):
    return param[:1] if state.setdefault("n", 0) or state.update(n=1) else param

def uses_library(param, grad, state, lr=1e-3, **hyper):
    p = torch.tensor(param, requires_grad=True)
    p.grad = torch.tensor(grad)
    opt = torch.optim.Adam([p], lr=lr)
    opt.step()
    return p.detach().numpy()

class Adam(torch.optim.Adam):
    pass
'''


@pytest.fixture(scope="module")
def side(tmp_path_factory):
    host = Host(student_policy(GradingSettings(), [tmp_path_factory.mktemp("hidden")], 1), 1, FORBIDDEN)
    assert host.ready(300)
    session = Session(host.address)
    student = session.start()
    assert student.request({"op": "cell", "source": CODE}, 60)["outputs"] == []

    def restart():
        session.start().request({"op": "cell", "source": CODE}, 60)
        return session.student

    yield StudentSide(session, restart, CallBudget())
    session.close()
    host.close()


def local(name):
    namespace = {}
    exec(CODE, namespace)
    return LocalFunction(namespace[name])


def test_a_stand_in_passes_what_the_function_passes(side):
    """Do the Adam checks give the same verdicts through the stand-in as on the function?"""
    for check in (optimizers.check_adam_first_step, optimizers.check_adam_long_trajectory,
                  optimizers.check_adam_torch):
        remote, here = check(RemoteFunction(side, "adam_step")), check(local("adam_step"))
        assert remote.passed and here.passed and remote.message == here.message, (check.__name__, remote)


def test_a_trajectory_fails_in_the_same_words(side):
    """Does a trajectory that goes wrong read the same through the stand-in and on the function?"""
    case = Case((3,), 1.0, {"lr": 0.1}, 4, seed=5)
    param, grads = case.arrays()
    messages = []
    for fn in (RemoteFunction(side, "shape_changer"), local("shape_changer")):
        with pytest.raises(StudentError) as failure:
            fn.trajectory(param, grads, case.hyper)
        messages.append(str(failure.value))
    assert messages[0] == messages[1] and "step 2 returned shape (1,), expected (3,)" in messages[0]


def test_a_call_that_never_returns_costs_seconds_and_only_that_function(side):
    """Is a call that never returns stopped after max(2 s, 20 × the reference's time), does
    every later call of that function fail at once with the same reason, and do the other
    functions still answer?"""
    rmsprop = RemoteFunction(side, "rmsprop_step")
    began = time.monotonic()
    with pytest.raises(StudentError) as first:
        call_student(rmsprop, np.zeros(3), np.ones(3), {})
    stopped_after = time.monotonic() - began
    assert 2 <= stopped_after < 15, stopped_after
    assert "did not return within 2 s" in str(first.value)
    began = time.monotonic()
    with pytest.raises(StudentError) as again:
        call_student(rmsprop, np.zeros(3), np.ones(3), {})
    assert time.monotonic() - began < 0.1 and str(again.value) == str(first.value)
    assert optimizers.check_adam_first_step(RemoteFunction(side, "adam_step")).passed
    assert [i.kind for i in side.incidents] == ["call time limit"]


def test_the_library_call_guard_names_the_routine(side):
    """Does a function that calls torch.optim.Adam while being checked get caught by the guard
    (built from the one list of forbidden routines), and an optimizer class that is torch's?"""
    side.forbidden_calls()
    call_student(RemoteFunction(side, "uses_library"), np.zeros(3), np.ones(3), {}, lr=0.1)
    assert side.forbidden_calls() == ["torch.optim.Adam"]
    adam = student_optimizer_class(side, "Adam")
    import torch

    param = torch.nn.Parameter(torch.ones(2))
    optimizer = adam([param], lr=0.1)
    param.grad = torch.ones(2)
    optimizer.step()
    assert torch.allclose(param.detach(), torch.full((2,), 0.9))
    assert side.forbidden_calls() == ["torch.optim.Adam"]


def test_timed_gives_the_students_own_time(side):
    """Does ``timed`` give a time no larger than the wall time of the call, and the value?"""
    adam = RemoteFunction(side, "adam_step")
    began = time.perf_counter()
    value, seconds = adam.timed(np.zeros(4), np.ones(4), {}, lr=0.5)
    assert 0 <= seconds <= time.perf_counter() - began
    assert np.allclose(value, -0.5)


def test_the_reference_is_timed_once_per_input_signature(monkeypatch):
    """Is the reference timed again only when the shapes, dtypes, scalar arguments or function
    change (a check calls hundreds of times with the same ones), and for anything it cannot
    describe?"""
    import torch

    from autograder.grade import stand_ins

    timed = []
    monkeypatch.setattr(stand_ins, "_SECONDS", {})
    monkeypatch.setattr(stand_ins, "_timed", lambda fn, args, kwargs: timed.append(fn) or 0.001)

    def ref(param, grad, state, lr=0.1):
        return param - lr * grad

    def other(param, grad, state, lr=0.1):
        return param + lr * grad

    state = {"step": 3, "exp_avg": torch.zeros(2, 3)}
    for _ in range(50):
        assert stand_ins._reference_seconds(ref, torch.rand(2, 3), torch.rand(2, 3), dict(state), lr=0.1) == 0.001
    assert len(timed) == 1
    for changed in [(torch.rand(2, 4), torch.rand(2, 4), dict(state)),                 # shape
                    (torch.rand(2, 3, dtype=torch.float64), torch.rand(2, 3), dict(state)),  # dtype
                    (np.zeros((2, 3)), np.zeros((2, 3)), dict(state)),                 # arrays
                    (torch.rand(2, 3), torch.rand(2, 3), {**state, "step": 4.0}),      # a type in the state
                    (torch.rand(2, 3), torch.rand(2, 3), {})]:                          # the state's keys
        before = len(timed)
        stand_ins._reference_seconds(ref, *changed, lr=0.1)
        assert len(timed) == before + 1, changed
    before = len(timed)  # the state's step count is not what the time depends on
    stand_ins._reference_seconds(ref, torch.rand(2, 3), torch.rand(2, 3), {**state, "step": 9}, lr=0.1)
    assert len(timed) == before
    stand_ins._reference_seconds(ref, torch.rand(2, 3), torch.rand(2, 3), dict(state), lr=0.2)  # an argument is
    stand_ins._reference_seconds(other, torch.rand(2, 3), torch.rand(2, 3), dict(state), lr=0.1)
    assert timed[-2:] == [ref, other]
    for _ in range(3):  # something it cannot describe is timed every time
        stand_ins._reference_seconds(ref, object(), torch.rand(2, 3), dict(state))
    assert timed[-3:] == [ref] * 3
