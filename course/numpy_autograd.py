"""Your NumPy BatchNorm inside a torch network, through ``torch.autograd.Function``.

A ``torch.autograd.Function`` is a piece of a network whose forward and backward passes you
write yourself: torch calls ``forward`` on the way in and, when the loss is differentiated,
``backward`` with ``∂L/∂out``, expecting ``∂L/∂input`` for each input. Here both call your
NumPy functions from the batchnorm assignment, so your layer trains a real convolutional
network in place of ``torch.nn.BatchNorm2d``:

>>> model = CNN(10)
>>> replace_batchnorm(model, batchnorm_forward, batchnorm_backward)   # every BatchNorm2d, now yours

``BatchNorm2d`` normalizes each channel over the batch *and* the image: an ``(N, C, H, W)``
input is, for BatchNorm, ``N·H·W`` samples of ``C`` features. So the layer hands your
functions an ``(N·H·W, C)`` array (in float64, on the CPU), and turns the results back into
tensors of the input's shape, dtype and device. The running statistics live in the module's
buffers, as torch's do; your ``bn_param`` dict is rebuilt from them at every call.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

__all__ = ["NumpyBatchNorm2d", "replace_batchnorm"]


def _rows(t: torch.Tensor) -> np.ndarray:
    """``(N, C, H, W)`` as ``(N·H·W, C)`` float64 on the CPU."""
    return t.detach().permute(0, 2, 3, 1).reshape(-1, t.shape[1]).to("cpu", torch.float64).numpy()


def _back(array, like: torch.Tensor) -> torch.Tensor:
    """``(N·H·W, C)`` rows back to a tensor shaped, typed and placed like ``like``."""
    n, c, h, w = like.shape
    rows = torch.as_tensor(np.ascontiguousarray(array, dtype=np.float64))
    return rows.reshape(n, h, w, c).permute(0, 3, 1, 2).to(like.device, like.dtype)


def _vector(array, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(np.asarray(array, dtype=np.float64)).reshape(like.shape).to(like.device, like.dtype)


class _NumpyBatchNorm(torch.autograd.Function):
    """Forward: your ``batchnorm_forward`` on the rows; backward: your ``batchnorm_backward``
    on the cache your forward returned."""

    @staticmethod
    def forward(ctx, x, weight, bias, layer, bn_param):
        gamma = weight.detach().to("cpu", torch.float64).numpy()
        beta = bias.detach().to("cpu", torch.float64).numpy()
        out, cache = layer.forward_fn(_rows(x), gamma, beta, bn_param)
        ctx.cache, ctx.layer = cache, layer
        ctx.save_for_backward(x, weight)
        return _back(out, x)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        dx, dgamma, dbeta = ctx.layer.backward_fn(_rows(grad_out), ctx.cache)
        return _back(dx, x), _vector(dgamma, weight), _vector(dbeta, weight), None, None


class NumpyBatchNorm2d(nn.Module):
    """``nn.BatchNorm2d``'s interface (``weight``, ``bias``, ``running_mean``, ``running_var``,
    ``eps``, ``momentum``, train/eval) computed by your NumPy ``forward`` and ``backward``.

    ``forward(x, gamma, beta, bn_param) -> (out, cache)`` and ``backward(dout, cache) -> (dx,
    dgamma, dbeta)`` are the batchnorm assignment's functions; ``bn_param`` carries ``mode``,
    ``eps``, ``momentum`` and the running statistics, and in training mode your forward
    stores the updated ones in it, which this module keeps.
    """

    def __init__(self, num_features: int, forward: Callable, backward: Callable, eps: float = 1e-5,
                 momentum: float = 0.1):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.forward_fn, self.backward_fn = forward, backward
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    @classmethod
    def from_module(cls, bn: nn.BatchNorm2d, forward: Callable, backward: Callable) -> "NumpyBatchNorm2d":
        """A copy of ``bn`` (its parameters, running statistics, ε and momentum) run by your code."""
        if bn.momentum is None or not bn.affine or not bn.track_running_stats:
            raise ValueError("only BatchNorm2d with a momentum, affine=True and running statistics can be replaced")
        layer = cls(bn.num_features, forward, backward, eps=bn.eps, momentum=bn.momentum)
        layer.to(device=bn.weight.device, dtype=bn.weight.dtype)
        with torch.no_grad():
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(layer, name).copy_(getattr(bn, name))
        layer.train(bn.training)
        return layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"expected (N, {self.num_features}, H, W), got {tuple(x.shape)}")
        bn_param = {"mode": "train" if self.training else "eval", "eps": self.eps, "momentum": self.momentum,
                    "running_mean": self.running_mean.detach().to("cpu", torch.float64).numpy().copy(),
                    "running_var": self.running_var.detach().to("cpu", torch.float64).numpy().copy()}
        out = _NumpyBatchNorm.apply(x, self.weight, self.bias, self, bn_param)
        if self.training:
            with torch.no_grad():
                self.running_mean.copy_(_vector(bn_param["running_mean"], self.running_mean))
                self.running_var.copy_(_vector(bn_param["running_var"], self.running_var))
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"forward={getattr(self.forward_fn, '__name__', '?')}, "
                f"backward={getattr(self.backward_fn, '__name__', '?')}")


def replace_batchnorm(model: nn.Module, forward: Callable, backward: Callable) -> int:
    """Replace every ``nn.BatchNorm2d`` in ``model`` by a :class:`NumpyBatchNorm2d` copy of it
    that runs ``forward`` and ``backward``; return how many were replaced."""
    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(parent, name, NumpyBatchNorm2d.from_module(child, forward, backward))
                count += 1
    return count
