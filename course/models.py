"""The networks the lectures train: a multilayer perceptron with optional regularizing layers.

>>> model = mlp(64, 10, width=128, dropout=0.5)
>>> deep = mlp(64, 10, width=128, depth=6, activation=nn.Sigmoid)
"""
from __future__ import annotations

from torch import nn

__all__ = ["mlp"]


def mlp(num_features: int, num_classes: int, width: int = 256, depth: int = 2,
        dropout: float = 0.0, batchnorm: bool = False, activation: type[nn.Module] = nn.ReLU
        ) -> nn.Sequential:
    """``depth`` hidden blocks ``Linear → [BatchNorm1d] → activation → [Dropout(p)]``, then a linear output.

    The layers are torch's own (``nn.BatchNorm1d``, ``nn.Dropout``), initialized by torch.
    """
    layers, fan_in = [], num_features
    for _ in range(depth):
        layers.append(nn.Linear(fan_in, width))
        if batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(activation())
        if dropout:
            layers.append(nn.Dropout(dropout))
        fan_in = width
    layers.append(nn.Linear(fan_in, num_classes))
    return nn.Sequential(*layers)
