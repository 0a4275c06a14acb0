"""Batch normalization of ``(N, D)`` inputs, as ``torch.nn.BatchNorm1d``.

Training mode, per feature d over the N samples of the batch:

    μ_B  = (1/N)·Σ_i x_i                        (batch mean)
    σ²_B = (1/N)·Σ_i (x_i - μ_B)²               (biased batch variance: divide by N)
    x̂_i  = (x_i - μ_B) / √(σ²_B + ε)            (ε inside the square root)
    y_i  = γ·x̂_i + β
    running_mean ← (1 - ρ)·running_mean + ρ·μ_B               (ρ = momentum)
    running_var  ← (1 - ρ)·running_var  + ρ·σ²_B·N/(N-1)      (the unbiased batch variance)

Eval mode: μ_B, σ²_B are replaced by running_mean, running_var, which stay unchanged.
Defaults in ``bn_param``: eps 1e-5, momentum 0.1, running_mean zeros, running_var ones.

Backward (training mode), with g = ∂L/∂y and sums over the batch:

    ∂L/∂β = Σ_i g_i          ∂L/∂γ = Σ_i g_i·x̂_i
    ∂L/∂x_i = γ/√(σ²_B + ε) · (g_i - mean(g) - x̂_i·mean(g·x̂))
In eval mode μ and σ² are constants: ∂L/∂x_i = γ·g_i/√(σ² + ε).
"""
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param.get("mode", "train")
    eps = bn_param.setdefault("eps", 1e-5)
    momentum = bn_param.setdefault("momentum", 0.1)
    num_samples, num_features = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(num_features))
    running_var = bn_param.get("running_var", np.ones(num_features))
    if mode == "train":
        mean = np.mean(x, axis=0)
        var = np.mean((x - mean) ** 2, axis=0)
        unbiased_var = var * num_samples / (num_samples - 1)
        bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mean
        bn_param["running_var"] = (1 - momentum) * running_var + momentum * unbiased_var
    elif mode == "eval":
        mean, var = running_mean, running_var
    else:
        raise ValueError(f"bn_param['mode'] must be 'train' or 'eval', not {mode!r}")
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    out = gamma * x_hat + beta
    return out, (x_hat, gamma, std, mode)


def batchnorm_backward(dout, cache):
    x_hat, gamma, std, mode = cache
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    if mode == "eval":
        return gamma * dout / std, dgamma, dbeta
    centered = dout - np.mean(dout, axis=0) - x_hat * np.mean(dout * x_hat, axis=0)
    return gamma / std * centered, dgamma, dbeta
