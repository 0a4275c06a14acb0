"""Nesterov momentum by its look-ahead definition, and the change of variables to torch's form.

The definition (Sutskever et al., 2013), with torch's buffer b (b_0 = 0): the gradient is
taken where momentum is about to carry the parameters, the look-ahead point φ,

    φ_{t-1} = θ_{t-1} - η·μ·b_{t-1}
    g_t = ∇L(φ_{t-1})
    b_t = μ·b_{t-1} + g_t
    θ_t = θ_{t-1} - η·b_t

Written in the look-ahead points, φ_t = φ_{t-1} - η·(g_t + μ·b_t): ``torch.optim.SGD(nesterov=True)``,
whose parameters are the φ_t.
"""


def lookahead_point(theta, b, lr, momentum=0.9):
    return theta - lr * momentum * b


def nesterov_lookahead_update(theta, b, grad, lr, momentum=0.9):
    b = momentum * b + grad
    return theta - lr * b, b
