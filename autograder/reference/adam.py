"""Adam (with L2 weight decay and AMSGrad), as ``torch.optim.Adam``.

    t   ← t + 1                              (t = 1 on the first step)
    g_t = ∇f(θ_{t-1}) + λ·θ_{t-1}              (L2 weight decay: added to the gradient)
    m_t = β1·m_{t-1} + (1-β1)·g_t              (m_0 = 0)
    v_t = β2·v_{t-1} + (1-β2)·g_t²             (v_0 = 0)
    v̄_t = max(v̄_{t-1}, v_t) if amsgrad else v_t   (the raw second moment, not bias-corrected)
    m̂_t = m_t / (1-β1^t),   v̂_t = v̄_t / (1-β2^t)    (bias correction)
    θ_t = θ_{t-1} - lr·m̂_t / (√v̂_t + ε)        (ε added after the square root)
"""


def adam_step(param, grad, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
              weight_decay=0.0, amsgrad=False):
    beta1, beta2 = betas
    t = state["step"] = state.get("step", 0) + 1
    if weight_decay:
        grad = grad + weight_decay * param
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0 * grad) + (1 - beta1) * grad
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0.0 * grad) + (1 - beta2) * grad * grad
    if amsgrad:
        previous = state.get("max_exp_avg_sq", v)
        v = state["max_exp_avg_sq"] = previous + (v - previous) * (v > previous)
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return param - lr * m_hat / (v_hat ** 0.5 + eps)
