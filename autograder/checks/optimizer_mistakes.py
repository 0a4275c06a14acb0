"""Typical mistakes in hand-written optimizers, each as a runnable variant with its diagnosis.

When a student's numbers disagree with the reference, a check runs these variants on the
same case; the first whose numbers the student matches names the likely bug.
"""
from __future__ import annotations

from typing import Callable, NamedTuple


class Mistake(NamedTuple):
    step: Callable
    diagnosis: str


def _adam(bias1=True, bias2=True, eps_inside=False, eps_before_correction=False,
          decoupled=False, wd_sign=1.0, amsgrad_mode="raw", t_offset=0, fixed_t=None,
          keep_state=True):
    """An Adam update with one thing changed (see the flags)."""

    def step(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False):
        beta1, beta2 = betas
        st = state if keep_state else {}
        t = st["step"] = st.get("step", 0) + 1
        t_used = fixed_t if fixed_t is not None else t + t_offset
        if weight_decay and not decoupled:
            grad = grad + wd_sign * weight_decay * param
        m = st["exp_avg"] = beta1 * st.get("exp_avg", 0.0 * grad) + (1 - beta1) * grad
        v = st["exp_avg_sq"] = beta2 * st.get("exp_avg_sq", 0.0 * grad) + (1 - beta2) * grad * grad
        bc1 = (1 - beta1 ** t_used) if bias1 else 1.0
        bc2 = (1 - beta2 ** t_used) if bias2 else 1.0
        if amsgrad and amsgrad_mode == "raw":
            prev = st.get("max_exp_avg_sq", v)
            v = st["max_exp_avg_sq"] = prev + (v - prev) * (v > prev)
        v_hat = v / bc2
        if amsgrad and amsgrad_mode == "corrected":
            prev = st.get("max_exp_avg_sq", v_hat)
            v_hat = st["max_exp_avg_sq"] = prev + (v_hat - prev) * (v_hat > prev)
        if eps_inside:
            denom = (v_hat + eps) ** 0.5
        elif eps_before_correction:
            denom = (v ** 0.5 + eps) / bc2 ** 0.5
        else:
            denom = v_hat ** 0.5 + eps
        new = param - lr * (m / bc1) / denom
        if weight_decay and decoupled:
            new = new - lr * weight_decay * param
        return new

    return step


ADAM = [
    Mistake(_adam(bias1=False, bias2=False),
            "your updates match Adam without bias correction: divide m by (1 - β1^t) and v by "
            "(1 - β2^t), with t = 1 on the first step."),
    Mistake(_adam(bias2=False),
            "your updates match Adam with the bias correction of m only: v needs its own, "
            "v̂ = v / (1 - β2^t)."),
    Mistake(_adam(bias1=False),
            "your updates match Adam with the bias correction of v only: m needs its own, "
            "m̂ = m / (1 - β1^t)."),
    Mistake(_adam(t_offset=1),
            "your bias correction uses t + 1: state['step'] must be 1 on the first call, and the "
            "correction 1 - β^t uses that t."),
    Mistake(_adam(fixed_t=1),
            "your bias correction always uses t = 1: increment state['step'] on every call and "
            "use it in 1 - β^t."),
    Mistake(_adam(keep_state=False),
            "your updates match Adam restarted at every step: keep m, v and the step count in the "
            "`state` dict (update it in place) so the next call continues from them."),
    Mistake(_adam(eps_inside=True),
            "your updates match ε inside the square root, √(v̂ + ε): torch adds ε after it, "
            "√v̂ + ε."),
    Mistake(_adam(eps_before_correction=True),
            "you add ε to √v before the bias correction: compute √v̂ = √(v / (1 - β2^t)) first, "
            "then add ε."),
    Mistake(_adam(decoupled=True),
            "your weight decay is decoupled (AdamW style, θ -= lr·λ·θ): torch.optim.Adam adds "
            "λ·θ to the gradient before the moments (L2 regularization)."),
    Mistake(_adam(wd_sign=-1.0),
            "your weight decay has the wrong sign: add +λ·θ to the gradient."),
    Mistake(_adam(amsgrad_mode="corrected"),
            "your AMSGrad keeps the maximum of the bias-corrected v̂: torch keeps the maximum of "
            "the raw second moment v in state['max_exp_avg_sq'], then bias-corrects it."),
    Mistake(_adam(amsgrad_mode="ignored"),
            "your updates ignore amsgrad=True: keep the running maximum of v in "
            "state['max_exp_avg_sq'] and use it in place of v."),
]


def _momentum(dampening=False, lr_inside=False, keep_state=True, nesterov_mode="right",
              sign=1.0):
    def step(param, grad, state, lr, momentum=0.9, nesterov=False):
        st = state if keep_state else {}
        buf = st.get("momentum_buffer")
        g = lr * grad if lr_inside else grad
        if buf is None:
            buf = (1 - momentum) * g if dampening else g * 1.0
        else:
            buf = momentum * buf + ((1 - momentum) * g if dampening else g)
        st["momentum_buffer"] = buf
        scale = 1.0 if lr_inside else lr
        if nesterov and nesterov_mode == "right":
            direction = g + momentum * buf
        elif nesterov and nesterov_mode == "lookahead_buffer":
            direction = momentum * buf
        else:
            direction = buf
        return param - sign * scale * direction

    return step


MOMENTUM = [
    Mistake(_momentum(dampening=True),
            "your buffer is an exponential average, b = μ·b + (1-μ)·g: torch.optim.SGD with "
            "dampening 0 uses b = μ·b + g."),
    Mistake(_momentum(keep_state=False),
            "your updates match plain SGD: keep the buffer in state['momentum_buffer'] between "
            "calls (update the dict in place)."),
    Mistake(_momentum(nesterov_mode="ignored"),
            "your updates ignore nesterov=True: with Nesterov the step is g + μ·b, not b."),
    Mistake(_momentum(nesterov_mode="lookahead_buffer"),
            "your Nesterov step uses μ·b alone: torch steps along g + μ·b."),
    Mistake(_momentum(sign=-1.0),
            "your parameters move uphill: subtract lr times the step."),
]


def _rmsprop(eps_inside=False, flipped_alpha=False, keep_state=True, no_square=False):
    def step(param, grad, state, lr=1e-2, alpha=0.99, eps=1e-8):
        st = state if keep_state else {}
        v = st.get("square_avg", 0.0 * grad)
        g2 = abs(grad) if no_square else grad * grad
        v = (1 - alpha) * v + alpha * g2 if flipped_alpha else alpha * v + (1 - alpha) * g2
        st["square_avg"] = v
        denom = (v + eps) ** 0.5 if eps_inside else v ** 0.5 + eps
        return param - lr * grad / denom

    return step


RMSPROP = [
    Mistake(_rmsprop(flipped_alpha=True),
            "your average weights the new squared gradient by α: torch uses "
            "v = α·v + (1-α)·g²."),
    Mistake(_rmsprop(eps_inside=True),
            "your updates match ε inside the square root: torch divides by √v + ε."),
    Mistake(_rmsprop(keep_state=False),
            "your average restarts at every step: keep it in state['square_avg']."),
    Mistake(_rmsprop(no_square=True),
            "you average |g| instead of g²."),
]


# --- Nesterov's look-ahead definition ------------------------------------------------------------

def _lookahead(scale_lr=True, sign=-1.0, with_momentum=True):
    def lookahead_point(theta, b, lr, momentum=0.9):
        step = (lr if scale_lr else 1.0) * (momentum if with_momentum else 1.0) * b
        return theta + sign * step

    return lookahead_point


def _lookahead_update(dampening=False, step_along_grad=False):
    def nesterov_lookahead_update(theta, b, grad, lr, momentum=0.9):
        b = momentum * b + ((1 - momentum) * grad if dampening else grad)
        return theta - lr * (grad if step_along_grad else b), b

    return nesterov_lookahead_update


LOOKAHEAD_POINT = [
    Mistake(_lookahead(sign=1.0),
            "your look-ahead point lies behind θ: momentum carries the parameters along -η·μ·b, "
            "so the look-ahead point is θ - η·μ·b."),
    Mistake(_lookahead(scale_lr=False),
            "your look-ahead point is θ - μ·b: the buffer b sums gradients, so the step it "
            "stands for is η·μ·b (multiply by the learning rate)."),
    Mistake(_lookahead(with_momentum=False),
            "your look-ahead point is θ - η·b, a whole step ahead: momentum alone (before the "
            "new gradient) carries θ by η·μ·b."),
]

LOOKAHEAD_UPDATE = [
    Mistake(_lookahead_update(dampening=True),
            "your buffer is an exponential average, b = μ·b + (1-μ)·g: torch's buffer (dampening "
            "0) is b = μ·b + g."),
    Mistake(_lookahead_update(step_along_grad=True),
            "your update steps along the gradient alone: in the look-ahead definition θ moves "
            "by the whole new buffer, θ - η·b_t."),
]


# --- the size of Adam's steps under a constant gradient -------------------------------------------

def _bias_factor(root=True, t_offset=0, swapped=False, inverse=False):
    def adam_bias_factor(t, betas=(0.9, 0.999), correct_m=True, correct_v=True):
        import numpy as np

        beta1, beta2 = betas
        if swapped:
            correct_m, correct_v = correct_v, correct_m
        t = np.asarray(t, dtype=float) + t_offset
        m = 1.0 if correct_m else 1 - beta1 ** t
        v = 1.0 if correct_v else 1 - beta2 ** t
        factor = m / (np.sqrt(v) if root else v) * np.ones_like(t)
        return 1 / factor if inverse else factor

    return adam_bias_factor


BIAS_FACTOR = [
    Mistake(_bias_factor(root=False),
            "you divide by (1 - β2^t) where the step divides by its square root: v is a mean of "
            "squared gradients, so its bias enters the step as √(1 - β2^t)."),
    Mistake(_bias_factor(t_offset=-1),
            "your factors are those of step t - 1: with t counted from 1, m_t = (1 - β1^t)·g "
            "(t terms of the geometric sum)."),
    Mistake(_bias_factor(swapped=True),
            "your correct_m and correct_v are swapped: without correcting m the step is "
            "(1 - β1^t) times too small; without correcting v it is 1/√(1 - β2^t) times too large."),
    Mistake(_bias_factor(inverse=True),
            "your factors are upside down: an uncorrected m is too *small* ((1 - β1^t)·g), which "
            "shrinks the step; an uncorrected v is too small, which enlarges it (it divides)."),
]
