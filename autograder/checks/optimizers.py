"""Checks for the optimizers assignment: one check per graded property.

Each compares the student's update rule with the hidden reference (itself cross-checked
against ``torch.optim``) on randomized, seeded cases: several shapes, gradient scales from
1e-6 to 1e3, exact zeros in the gradients, long trajectories.
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from ..reference.adam import adam_step as ref_adam
from ..reference.rmsprop import rmsprop_step as ref_rmsprop
from ..reference.sgd import sgd_momentum_step as ref_momentum
from . import optimizer_mistakes as mistakes
from .calls import StudentError, call_student
from .result import CheckResult, failed, passed
from .trajectory import Case, compare, random_cases

__all__ = ["check_sgd_momentum", "check_sgd_nesterov", "check_rmsprop", "check_adam_first_step",
           "check_adam_bias_correction", "check_adam_long_trajectory", "check_adam_weight_decay",
           "check_adam_amsgrad", "check_adam_torch", "check_adam_class", "ALL_CHECKS"]


def _verdict(name, student_fn, reference_fn, cases, known, what, tol=1e-6) -> CheckResult:
    outcome = compare(student_fn, reference_fn, cases, known, tol)
    if outcome is None:
        return passed(name, len(cases), what)
    _, text, diagnosis = outcome
    return failed(name, text + ".", len(cases), diagnosis)


def _lr(rng, low=-3, high=-1):
    return float(10 ** rng.uniform(low, high))


def check_sgd_momentum(sgd_momentum_step) -> CheckResult:
    """Heavy-ball momentum over 60 steps matches torch.optim.SGD(momentum=μ, dampening=0)."""
    cases = random_cases(11, 8, 60, lambda rng: {"lr": _lr(rng), "momentum": float(rng.choice([0.5, 0.9, 0.99])),
                                                  "nesterov": False},
                         scales=(1e-3, 1.0, 1e3, 1e-6))
    return _verdict("SGD with momentum", sgd_momentum_step, ref_momentum, cases, mistakes.MOMENTUM,
                    "torch.optim.SGD with momentum")


def check_sgd_nesterov(sgd_momentum_step) -> CheckResult:
    """Nesterov momentum over 60 steps matches torch.optim.SGD(nesterov=True)."""
    cases = random_cases(12, 8, 60, lambda rng: {"lr": _lr(rng), "momentum": float(rng.choice([0.5, 0.9])),
                                                  "nesterov": True})
    return _verdict("SGD with Nesterov momentum", sgd_momentum_step, ref_momentum, cases,
                    mistakes.MOMENTUM, "torch.optim.SGD with nesterov=True")


def check_rmsprop(rmsprop_step) -> CheckResult:
    """RMSprop over 100 steps, all gradient scales, matches torch.optim.RMSprop."""
    cases = random_cases(13, 8, 100, lambda rng: {"lr": _lr(rng), "alpha": float(rng.choice([0.9, 0.99])),
                                                   "eps": float(rng.choice([1e-8, 1e-6]))})
    return _verdict("RMSprop", rmsprop_step, ref_rmsprop, cases, mistakes.RMSPROP,
                    "torch.optim.RMSprop")


def _adam_hyper(weight_decay=False, amsgrad=False):
    def draw(rng):
        hyper = {"lr": _lr(rng), "betas": (float(rng.choice([0.8, 0.9])), float(rng.choice([0.99, 0.999]))),
                 "eps": 1e-8}
        if weight_decay:
            hyper["weight_decay"] = float(rng.choice([1e-3, 1e-2, 0.1]))
        if amsgrad:
            hyper["amsgrad"] = True
        return hyper
    return draw


def check_adam_first_step(adam_step) -> CheckResult:
    """The first step: size ≈ lr whatever the gradient's scale, state['step'] == 1."""
    name = "Adam, first step"
    cases = random_cases(21, 8, 1, _adam_hyper())
    result = _verdict(name, adam_step, ref_adam, cases, mistakes.ADAM, "torch.optim.Adam")
    if not result.passed:
        return result
    state: dict = {}
    try:
        call_student(adam_step, np.ones(3), np.full(3, 0.5), state, lr=0.1)
    except StudentError as exc:
        return failed(name, f"your function {exc}")
    if state.get("step") != 1:
        return failed(name, f"after the first call state['step'] should be 1, found "
                            f"{state.get('step')!r}: count steps from 1, as torch does.", len(cases))
    missing = {"exp_avg", "exp_avg_sq"} - set(state)
    if missing:
        return failed(name, f"the state dict lacks {sorted(missing)}: keep the moments under "
                            "torch's names.", len(cases))
    return passed(name, len(cases) + 1, "torch.optim.Adam (step size ≈ lr at every gradient scale)")


def check_adam_bias_correction(adam_step) -> CheckResult:
    """The first 12 steps, where the bias correction matters most."""
    cases = random_cases(22, 8, 12, _adam_hyper())
    return _verdict("Adam, bias correction (first 12 steps)", adam_step, ref_adam, cases,
                    mistakes.ADAM, "torch.optim.Adam")


def check_adam_long_trajectory(adam_step) -> CheckResult:
    """150 steps at gradient scales 1e-6 to 1e3, with exact zeros in the gradients."""
    cases = random_cases(23, 8, 150, _adam_hyper())
    return _verdict("Adam, 150-step trajectories", adam_step, ref_adam, cases, mistakes.ADAM,
                    "torch.optim.Adam")


def check_adam_weight_decay(adam_step) -> CheckResult:
    """L2 weight decay added to the gradient (not AdamW's decoupled decay)."""
    cases = random_cases(24, 8, 40, _adam_hyper(weight_decay=True))
    return _verdict("Adam, weight decay", adam_step, ref_adam, cases, mistakes.ADAM,
                    "torch.optim.Adam(weight_decay=λ)")


def check_adam_amsgrad(adam_step) -> CheckResult:
    """AMSGrad: the running maximum of the raw second moment, then the bias correction."""
    def hyper(rng):
        return _adam_hyper(weight_decay=bool(rng.random() < 0.5), amsgrad=True)(rng)

    cases = random_cases(25, 8, 80, hyper)
    # gradients that shrink over time make the maximum matter
    cases = [Case(c.shape, c.grad_scale, c.hyper, c.num_steps, c.seed, zeros=True) for c in cases]
    return _verdict("Adam, AMSGrad", adam_step, ref_adam, cases, mistakes.ADAM,
                    "torch.optim.Adam(amsgrad=True)")


def _devices():
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    return devices


def _meta_step_problem(adam_step) -> str | None:
    """Run a few steps on 'meta' tensors (shapes and dtypes, no data). Code that leaves torch
    (np.sqrt, .numpy(), .cpu(), float(tensor)) fails here as it would on a GPU, even on a
    machine without one."""
    param = torch.empty(3, 2, device="meta")
    state: dict = {}
    for k in range(1, 4):
        try:
            out = call_student(adam_step, param, torch.empty(3, 2, device="meta"), state,
                               lr=1e-2, weight_decay=0.1, amsgrad=True)
        except StudentError as exc:
            return (f"on a tensor that lives on another device (a GPU, say), step {k}: your function "
                    f"{exc}. Stay in torch: use x ** 0.5, arithmetic and comparisons, not np.sqrt, "
                    "np.maximum, .numpy(), .cpu() or float().")
        if not isinstance(out, torch.Tensor) or out.device.type != "meta" or tuple(out.shape) != (3, 2):
            return (f"on a tensor that lives on another device, step {k} returned "
                    f"{type(out).__name__} {getattr(out, 'device', '')}: keep the result on the "
                    "parameter's device.")
        param = out
    return None


def check_adam_torch(adam_step) -> CheckResult:
    """The same function on torch tensors (float32 and float64, every device torch has):
    it returns a tensor of the same dtype, device and shape, and the numbers agree."""
    name = "Adam on torch tensors"
    count = 1
    problem = _meta_step_problem(adam_step)
    if problem:
        return failed(name, problem, count)
    for device in _devices():
        for dtype, tol in ((torch.float64, 1e-6), (torch.float32, 2e-2)):
            for case in random_cases(26, 4, 25, _adam_hyper(weight_decay=True, amsgrad=True),
                                     scales=(1e-3, 1.0, 1e2)):
                count += 1
                param0, grads = case.arrays()
                ref_state: dict = {}
                student_state: dict = {}
                reference = torch.tensor(param0, dtype=torch.float64)
                current = torch.tensor(param0, dtype=dtype, device=device)
                where = f"on a {dtype} tensor on {device} ({case.describe()})"
                worst = 0.0
                for k, g in enumerate(grads, start=1):
                    grad64 = torch.tensor(g, dtype=torch.float64)
                    reference = ref_adam(reference, grad64, ref_state, **case.hyper)
                    try:
                        out = call_student(adam_step, current.clone(), grad64.to(device, dtype),
                                           student_state, **case.hyper)
                    except StudentError as exc:
                        return failed(name, f"{where}: your function {exc}. Use operations that "
                                            "work on NumPy arrays and tensors alike (x ** 0.5, "
                                            "arithmetic, comparisons), not np.sqrt or np.maximum.", count)
                    if not isinstance(out, torch.Tensor):
                        return failed(name, f"{where}: step {k} returned {type(out).__name__}, "
                                            "expected a torch.Tensor: do not convert to NumPy.", count)
                    if out.dtype != dtype or out.device.type != torch.device(device).type \
                            or tuple(out.shape) != tuple(param0.shape):
                        return failed(name, f"{where}: step {k} returned a tensor of dtype {out.dtype}, "
                                            f"device {out.device}, shape {tuple(out.shape)}; expected "
                                            f"{dtype}, {device}, {tuple(param0.shape)}.", count)
                    current = out.detach()
                    step_size = case.hyper["lr"]
                    worst = max(worst, float((current.double().cpu() - reference).abs().max()) / step_size)
                if not worst <= tol * 25:
                    return failed(name, f"{where}: your parameters drift {worst:.3g}× the step size "
                                        "away from the reference.", count)
    return passed(name, count, "the reference on NumPy and torch (dtype, device and shape kept)")


def _twin_models(seed: int, device: str):
    """Two identical models: a small MLP and a layer that never gets a gradient."""
    torch.manual_seed(seed)
    model = torch.nn.ModuleDict({
        "net": torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3)),
        "unused": torch.nn.Linear(2, 2),
    })
    return [copy.deepcopy(model).to(device) for _ in range(2)]


def check_adam_class(Adam) -> CheckResult:
    """``Adam`` is a torch.optim.Optimizer that trains a model exactly as torch.optim.Adam:
    two parameter groups with their own lr, weight decay, amsgrad, a closure, a learning-rate
    scheduler, parameters without gradients left alone, one state per parameter tensor."""
    name = "the Adam optimizer class"
    if not (isinstance(Adam, type) and issubclass(Adam, torch.optim.Optimizer)):
        return failed(name, "Adam must be a class that inherits from torch.optim.Optimizer.")
    count = 0
    for device in _devices():
        for amsgrad in (False, True):
            count += 1
            ours, theirs = _twin_models(seed=31 + amsgrad, device=device)

            def groups(model):
                return [{"params": model["net"][0].parameters(), "lr": 3e-2},
                        {"params": list(model["net"][2].parameters()) + list(model["unused"].parameters())}]

            try:
                optimizer = call_student(Adam, groups(ours), lr=1e-2, betas=(0.8, 0.99), eps=1e-8,
                                         weight_decay=1e-2, amsgrad=amsgrad)
            except StudentError as exc:
                return failed(name, f"Adam(param_groups, lr=..., betas=..., eps=..., weight_decay=..., "
                                    f"amsgrad=...) {exc}", count)
            if not isinstance(optimizer, torch.optim.Optimizer):
                return failed(name, "Adam(...) did not create a torch.optim.Optimizer.", count)
            reference = torch.optim.Adam(groups(theirs), lr=1e-2, betas=(0.8, 0.99), eps=1e-8,
                                         weight_decay=1e-2, amsgrad=amsgrad)
            sched_ours = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
            sched_theirs = torch.optim.lr_scheduler.StepLR(reference, step_size=10, gamma=0.5)
            gen = torch.Generator().manual_seed(7)
            X = torch.randn(32, 5, generator=gen).to(device)
            y = torch.randn(32, 3, generator=gen).to(device)
            for k in range(1, 31):
                losses = []
                for model, opt in ((ours, optimizer), (theirs, reference)):
                    def closure(model=model, opt=opt):
                        opt.zero_grad()
                        loss = torch.nn.functional.mse_loss(model["net"](X), y)
                        loss.backward()
                        return loss
                    try:
                        losses.append(call_student(opt.step, closure) if opt is optimizer else opt.step(closure))
                    except StudentError as exc:
                        return failed(name, f"optimizer.step(closure) {exc} at step {k}", count)
                sched_ours.step()
                sched_theirs.step()
                if losses[0] is None:
                    return failed(name, "step(closure) must return the loss the closure computed, "
                                        "as torch optimizers do.", count)
                for (pname, p), q in zip(ours.named_parameters(), theirs.parameters()):
                    if not torch.allclose(p.detach(), q.detach(), rtol=1e-4, atol=1e-6):
                        where = "which never gets a gradient" if pname.startswith("unused") else ""
                        return failed(name, f"on {device} (amsgrad={amsgrad}), parameter {pname} "
                                            f"{where} differs from torch.optim.Adam's after step {k} "
                                            f"by {float((p.detach() - q.detach()).abs().max()):.3g}.", count,
                                      "check that each parameter group's own lr (and the "
                                      "scheduler's changes to it) is read at every step"
                                      if k > 1 and pname.startswith("net.0") else None)
            with_state = [p for p in ours.parameters() if len(optimizer.state.get(p, {})) > 0]
            expected = [p for p in ours.parameters() if p.grad is not None]
            if len(with_state) != len(expected):
                return failed(name, f"{len(with_state)} parameter tensors have optimizer state, "
                                    f"expected {len(expected)}: keep one state dict per parameter "
                                    "(self.state[p]) and skip parameters whose .grad is None.", count)
    return passed(name, count, "torch.optim.Adam (groups, weight decay, amsgrad, scheduler, closure)")


ALL_CHECKS = {
    "sgd_momentum_step": [check_sgd_momentum, check_sgd_nesterov],
    "rmsprop_step": [check_rmsprop],
    "adam_step": [check_adam_first_step, check_adam_bias_correction, check_adam_long_trajectory,
                  check_adam_weight_decay, check_adam_amsgrad, check_adam_torch],
    "Adam": [check_adam_class],
}
