"""Layer normalization over the last axis, as ``torch.nn.LayerNorm(D)``.

For each sample (each row of ``x``, whatever the leading axes), over its D features:

    μ   = (1/D)·Σ_d x_d                     σ² = (1/D)·Σ_d (x_d - μ)²   (biased)
    x̂_d = (x_d - μ) / √(σ² + ε)            y_d = γ_d·x̂_d + β_d

No running statistics: training and eval compute the same thing, and one sample's output
never depends on the other samples of the batch.

Backward, with g = ∂L/∂y; the means are over the last axis, the sums over all other axes:

    ∂L/∂β = Σ g        ∂L/∂γ = Σ g·x̂
    ∂L/∂x = 1/√(σ² + ε) · (g·γ - mean(g·γ) - x̂·mean(g·γ·x̂))
"""
import numpy as np


def layernorm_forward(x, gamma, beta, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=-1, keepdims=True)
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, (x_hat, gamma, std)


def layernorm_backward(dout, cache):
    x_hat, gamma, std = cache
    batch_axes = tuple(range(dout.ndim - 1))
    dbeta = np.sum(dout, axis=batch_axes)
    dgamma = np.sum(dout * x_hat, axis=batch_axes)
    g = dout * gamma
    centered = g - np.mean(g, axis=-1, keepdims=True) \
        - x_hat * np.mean(g * x_hat, axis=-1, keepdims=True)
    return centered / std, dgamma, dbeta
