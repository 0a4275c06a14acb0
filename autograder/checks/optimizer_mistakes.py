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
