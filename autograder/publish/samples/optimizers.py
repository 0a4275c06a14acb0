"""Typical mistakes in the optimizers assignment, for the sample class and the tests."""

MISTAKES = {
    "adam-no-bias-correction": [
        ("adam_step", "m_hat = m / (1 - beta1 ** t)", "m_hat = m"),
        ("adam_step", "v_hat = v / (1 - beta2 ** t)", "v_hat = v"),
    ],
    "adam-eps-inside-sqrt": [
        ("adam_step", "(v_hat ** 0.5 + eps)", "(v_hat + eps) ** 0.5"),
    ],
    "adam-decoupled-decay": [
        ("adam_step", "    if weight_decay:\n        grad = grad + weight_decay * param\n", ""),
        ("adam_step", "return param - lr * m_hat / (v_hat ** 0.5 + eps)",
         "return param - lr * m_hat / (v_hat ** 0.5 + eps) - lr * weight_decay * param"),
    ],
    "nesterov-ignored": [
        ("sgd_momentum_step", "direction = grad + momentum * buf if nesterov else buf", "direction = buf"),
    ],
}
