"""SGD with momentum and Nesterov momentum, as ``torch.optim.SGD`` (dampening 0).

    b_t = μ·b_{t-1} + g_t              (b_1 = g_1)
    d_t = g_t + μ·b_t   if nesterov   else   b_t
    θ_t = θ_{t-1} - lr·d_t
"""


def sgd_momentum_step(param, grad, state, lr, momentum=0.9, nesterov=False):
    buf = state.get("momentum_buffer")
    buf = grad * 1.0 if buf is None else momentum * buf + grad
    state["momentum_buffer"] = buf
    direction = grad + momentum * buf if nesterov else buf
    return param - lr * direction
