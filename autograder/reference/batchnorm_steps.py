"""BatchNorm's backward pass node by node, on its computational graph (training mode).

Forward, per feature over the N samples (statistics keep their batch axis, shape (1, D)):

    μ  = (1/N)·Σ_n x_n          xc = x - μ            σ² = (1/N)·Σ_n xc_n²
    r  = (σ² + ε)^(-1/2)        x̂  = xc·r             y  = γ·x̂ + β

Each node's local backward: given the gradient of L with respect to its output, the
gradients with respect to its inputs (a statistic's gradient sums over the batch):

    x̂ = xc·r          ∂L/∂xc = ∂L/∂x̂·r            ∂L/∂r = Σ_n ∂L/∂x̂_n·xc_n
    r = (σ²+ε)^-½     ∂L/∂σ² = -½·(σ² + ε)^(-3/2)·∂L/∂r
    σ² = mean(xc²)    ∂L/∂xc = (2/N)·xc·∂L/∂σ²
    xc = x - μ        ∂L/∂x = ∂L/∂xc                ∂L/∂μ = -Σ_n ∂L/∂xc_n
    μ = mean(x)       ∂L/∂x = ∂L/∂μ / N   (the same for every sample)

x feeds μ, xc and (through xc) σ²: its gradient is the sum of what comes back on every path.
"""
import numpy as np


def normalize_backward(dx_hat, xc, r):
    return dx_hat * r, np.sum(dx_hat * xc, axis=0, keepdims=True)


def inv_std_backward(dr, var, eps):
    return -0.5 * (var + eps) ** -1.5 * dr


def variance_backward(dvar, xc):
    return 2.0 / xc.shape[0] * xc * dvar


def center_backward(dxc):
    return dxc, -np.sum(dxc, axis=0, keepdims=True)


def mean_backward(dmu, num_samples):
    return np.repeat(dmu / num_samples, num_samples, axis=0)
