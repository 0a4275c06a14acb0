"""RMSprop, as ``torch.optim.RMSprop`` (not centered, no momentum, no weight decay).

    v_t = α·v_{t-1} + (1-α)·g_t²       (v_0 = 0)
    θ_t = θ_{t-1} - lr·g_t / (√v_t + ε)
"""


def rmsprop_step(param, grad, state, lr=1e-2, alpha=0.99, eps=1e-8):
    square_avg = state.get("square_avg", 0.0 * grad)
    square_avg = alpha * square_avg + (1 - alpha) * grad * grad
    state["square_avg"] = square_avg
    return param - lr * grad / (square_avg ** 0.5 + eps)
