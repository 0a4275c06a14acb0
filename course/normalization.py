"""Normalization layers for the course's convolutional networks, and which values share statistics.

Every normalization layer computes ``x̂ = (x - μ) / √(σ² + ε)`` and then ``γ·x̂ + β`` per channel;
they differ only in *which values* the mean μ and the (biased) variance σ² are taken over, for
a batch of shape ``(N, C, H, W)``:

========================  =======================================  ==============================
kind                      statistics over                          torch
========================  =======================================  ==============================
``"batch"``               N, H, W for each channel                 ``nn.BatchNorm2d(C)``
``"ghost"``               H, W and a *group* of examples, per      :class:`GhostBatchNorm2d`
                          channel (BatchNorm over ``group_size``
                          examples, as on one device of a
                          data-parallel job without SyncBN)
``"layer"``               C, H, W for each example                 ``nn.GroupNorm(1, C)``
``"group"``               H, W and a group of channels, per        ``nn.GroupNorm(G, C)``
                          example
``"instance"``            H, W for each example and channel        ``nn.GroupNorm(C, C)``
========================  =======================================  ==============================

LayerNorm on images is written ``nn.GroupNorm(1, C)`` here: it normalizes each example over
``(C, H, W)`` like ``nn.LayerNorm([C, H, W])``, but with one γ and β per *channel* (as every
other row of the table) instead of one per value.

>>> model = use_normalization(CNN(10, width=16), "group", groups=4)   # every BatchNorm2d -> GroupNorm
>>> shared_statistics("group", num_examples=4, num_channels=8, groups=4)   # (4, 8) mask, see below
>>> evaluate_with_batch_statistics(model, split.test, loss_fn, batch_size=2)   # as if eval() were forgotten
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["NORMALIZATIONS", "GhostBatchNorm2d", "normalization_layer", "use_normalization",
           "shared_statistics", "evaluate_with_batch_statistics"]

#: the kinds of :func:`normalization_layer`, in the order of the table above
NORMALIZATIONS = ("batch", "ghost", "layer", "group", "instance")


class GhostBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training-mode statistics come from groups of ``group_size`` examples.

    A batch of ``N = k·group_size`` images is cut into ``k`` consecutive groups; each group is
    normalized with its own per-channel mean and biased variance over ``(group_size, H, W)``,
    exactly as ``nn.BatchNorm2d`` would normalize that group alone. This is what happens in
    data-parallel training when each of ``k`` devices holds ``group_size`` images and
    normalizes them without synchronizing the statistics (Hoffer et al., 2017, call the groups
    "ghost batches"). The optimizer still sees the gradient of the whole batch, so the
    statistics' batch size is separated from the optimizer's.

    Running statistics: each step, ``running_mean ← (1-ρ)·running_mean + ρ·mean_k(μ_group)``
    and ``running_var ← (1-ρ)·running_var + ρ·mean_k(σ²_group·m/(m-1))`` with
    ``m = group_size·H·W`` (torch's unbiased update, averaged over the groups). Evaluation mode
    is ``nn.BatchNorm2d``'s: the running statistics, whatever the batch.
    """

    def __init__(self, num_features: int, group_size: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True):
        super().__init__(num_features, eps=eps, momentum=momentum, affine=affine)
        if group_size < 1:
            raise ValueError(f"group_size must be at least 1, not {group_size}")
        self.group_size = group_size

    def extra_repr(self) -> str:
        return super().extra_repr() + f", group_size={self.group_size}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        n, c, h, w = x.shape
        g = self.group_size
        if n % g:
            raise ValueError(f"a training batch of {n} examples does not split into groups of {g}: "
                             f"choose a batch size that is a multiple of group_size")
        k = n // g
        # (k·g, C, H, W) -> (g, k·C, H, W): each (group, channel) pair becomes one "channel" of
        # F.batch_norm, whose statistics over dims (0, 2, 3) are then those of one group
        grouped = x.reshape(k, g, c, h, w).transpose(0, 1).reshape(g, k * c, h, w)
        running_mean = self.running_mean.repeat(k)
        running_var = self.running_var.repeat(k)
        self.num_batches_tracked += 1
        # momentum=None: a cumulative average, as nn.BatchNorm2d does
        momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
        out = F.batch_norm(grouped, running_mean, running_var, None, None, training=True,
                           momentum=momentum, eps=self.eps)
        with torch.no_grad():  # average the k updated copies: the mean of the groups' statistics
            self.running_mean.copy_(running_mean.view(k, c).mean(dim=0))
            self.running_var.copy_(running_var.view(k, c).mean(dim=0))
        out = out.reshape(g, k, c, h, w).transpose(0, 1).reshape(n, c, h, w)
        if self.affine:
            out = out * self.weight.view(1, c, 1, 1) + self.bias.view(1, c, 1, 1)
        return out


def normalization_layer(kind: str, num_channels: int, groups: int = 4, group_size: int = 2) -> nn.Module:
    """A normalization layer for ``(N, num_channels, H, W)`` activations (see the module's table).

    ``groups`` is GroupNorm's number of channel groups (it must divide ``num_channels``);
    ``group_size`` is the number of examples per ghost batch. ``"none"`` gives ``nn.Identity``.
    """
    if kind == "none":
        return nn.Identity()
    if kind == "batch":
        return nn.BatchNorm2d(num_channels)
    if kind == "ghost":
        return GhostBatchNorm2d(num_channels, group_size)
    if kind == "layer":
        return nn.GroupNorm(1, num_channels)
    if kind == "group":
        if num_channels % groups:
            raise ValueError(f"GroupNorm needs groups ({groups}) to divide the channels ({num_channels})")
        return nn.GroupNorm(groups, num_channels)
    if kind == "instance":
        return nn.GroupNorm(num_channels, num_channels)
    raise ValueError(f"unknown normalization {kind!r}: choose one of none, {', '.join(NORMALIZATIONS)}")


def use_normalization(model: nn.Module, kind: str, groups: int = 4, group_size: int = 2) -> nn.Module:
    """Replace every ``nn.BatchNorm2d`` of ``model`` by :func:`normalization_layer` ``(kind, ...)``, in place.

    The replacement starts fresh (γ = 1, β = 0, no running statistics carried over) and sits on
    the device and dtype of the layer it replaces. Returns ``model``. A model built with
    ``CNN(batchnorm=True)`` has convolutions without bias: every kind here has its own β, so
    none is missing (``"none"`` leaves the convolutions without a bias).
    """
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                new = normalization_layer(kind, child.num_features, groups=groups, group_size=group_size)
                reference = child.weight if child.weight is not None else child.running_mean
                if reference is not None:
                    new = new.to(device=reference.device, dtype=reference.dtype)
                setattr(parent, name, new)
                replaced += 1
    if not replaced:
        raise ValueError("the model has no nn.BatchNorm2d to replace: build it with batchnorm=True")
    return model


def shared_statistics(kind: str, num_examples: int, num_channels: int, groups: int = 4,
                      group_size: int = 2, example: int = 0, channel: int = 0) -> torch.Tensor:
    """Which ``(example, channel)`` slices share their μ and σ² with slice ``(example, channel)``.

    A boolean ``(num_examples, num_channels)`` mask; each slice stands for all ``H·W`` positions
    of one channel of one example (every kind here pools over all of them). It is read off the
    table above, and the tests check it against torch's layers by differentiation.
    """
    n = torch.arange(num_examples)[:, None]
    c = torch.arange(num_channels)[None, :]
    same_example = n == example
    same_channel = c == channel
    if kind == "batch":
        mask = same_channel.expand(num_examples, num_channels)
    elif kind == "ghost":
        mask = (n // group_size == example // group_size) & same_channel
    elif kind == "layer":
        mask = same_example.expand(num_examples, num_channels)
    elif kind == "group":
        if num_channels % groups:
            raise ValueError(f"GroupNorm needs groups ({groups}) to divide the channels ({num_channels})")
        per_group = num_channels // groups
        mask = same_example & (c // per_group == channel // per_group)
    elif kind == "instance":
        mask = same_example & same_channel
    else:
        raise ValueError(f"unknown normalization {kind!r}: choose one of {', '.join(NORMALIZATIONS)}")
    return mask.clone()


def evaluate_with_batch_statistics(model: nn.Module, data, loss_fn, batch_size: int) -> dict:
    """Loss and accuracy when BatchNorm normalizes with the statistics of each batch of ``batch_size``.

    This is :func:`course.training.evaluate` in *training* mode: every batch of ``batch_size``
    consecutive examples of ``data = (X, y)`` is normalized with its own μ_B and σ²_B, as
    during training (and as when ``model.eval()`` is forgotten), instead of the running
    statistics. Nothing is learned and nothing is kept: the running statistics and the
    model's mode are restored afterwards. Dropout, if the model has any, is switched off.
    Returns ``{"loss": float, "acc": float}`` (``"acc"`` when the model outputs class scores
    and the labels are class indices).
    """
    saved = {name: b.detach().clone() for name, b in model.named_buffers()}
    modes = {m: m.training for m in model.modules()}
    device = next(model.parameters()).device
    X, y = (torch.as_tensor(t) for t in data)
    losses, hits = [], []
    try:
        model.train()
        for m in model.modules():
            if isinstance(m, nn.modules.dropout._DropoutNd):
                m.eval()
        with torch.no_grad():
            for X_batch, y_batch in zip(X.split(batch_size), y.split(batch_size)):
                X_batch, y_batch = X_batch.to(device), y_batch.to(device)
                y_hat = model(X_batch)
                losses.append(loss_fn(y_hat, y_batch) * len(X_batch))
                if y_hat.dim() == 2 and y_hat.shape[1] > 1 and not y_batch.is_floating_point():
                    hits.append((y_hat.argmax(dim=1) == y_batch).sum())
    finally:
        with torch.no_grad():
            buffers = dict(model.named_buffers())
            for name, value in saved.items():
                buffers[name].copy_(value)
        for m, training in modes.items():
            m.training = training
    result = {"loss": float(torch.stack(losses).sum()) / len(X)}
    if len(hits) == len(losses):
        result["acc"] = float(torch.stack(hits).sum()) / len(X)
    return result
