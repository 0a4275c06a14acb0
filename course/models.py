"""The networks the lectures train: a multilayer perceptron and a small convolutional family.

Both are plain ``nn.Module`` classes with a ``forward`` you can read in a few lines, built from
torch's own layers (``nn.Linear``, ``nn.Conv2d``, ``nn.BatchNorm1d/2d``, ``nn.Dropout``) and
initialized by torch.

>>> model = MLP(3 * 32 * 32, 10, width=256, depth=2, dropout=0.5)      # any input shape: it flattens
>>> model = CNN(10, width=16, depth=2)                                  # conv–BN–ReLU, three stages
>>> model = CNN(10, width=16, depth=3, residual=True)                  # the residual variant
>>> model = CNN(10, batchnorm=False)                                    # the plain network
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["MLP", "CNN", "ConvBlock", "ResidualBlock", "count_parameters"]


class MLP(nn.Module):
    """``depth`` hidden blocks ``Linear → [BatchNorm1d] → activation → [Dropout(p)]``, then a linear output.

    The input is flattened first, so images ``(N, C, H, W)`` and feature vectors ``(N, F)`` both
    work; ``num_features`` is ``C·H·W`` or ``F``. ``dropout`` is torch's ``p``: the probability
    that a unit is dropped (zeroed) in training.
    """

    def __init__(self, num_features: int, num_classes: int, width: int = 256, depth: int = 2,
                 dropout: float = 0.0, batchnorm: bool = False, activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        layers, fan_in = [], num_features
        for _ in range(depth):
            layers.append(nn.Linear(fan_in, width))
            if batchnorm:
                layers.append(nn.BatchNorm1d(width))
            layers.append(activation())
            if dropout:
                layers.append(nn.Dropout(dropout))
            fan_in = width
        self.hidden = nn.Sequential(*layers)
        self.output = nn.Linear(fan_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.hidden(x.flatten(1))   # (N, width): the learned features
        return self.output(h)           # (N, num_classes): the logits


class ConvBlock(nn.Module):
    """``Conv2d 3×3 → [BatchNorm2d] → ReLU``: the unit the CNN is built from.

    Without BatchNorm the convolution has a bias; with it the bias would be cancelled by the
    normalization (BatchNorm's own shift β takes its place), so it is left out.
    """

    def __init__(self, in_channels: int, out_channels: int, batchnorm: bool = True, stride: int = 1):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1,
                              bias=not batchnorm)
        self.norm = nn.BatchNorm2d(out_channels) if batchnorm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.norm(self.conv(x)))


class ResidualBlock(nn.Module):
    """``x + F(x)``, then ReLU, with ``F = conv → [BN] → ReLU → conv → [BN]`` (He et al., 2016).

    The identity path carries the input (and, backwards, the gradient) past the two
    convolutions unchanged, so a deep stack of these trains where a plain stack struggles.
    """

    def __init__(self, channels: int, batchnorm: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=not batchnorm)
        self.norm1 = nn.BatchNorm2d(channels) if batchnorm else nn.Identity()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=not batchnorm)
        self.norm2 = nn.BatchNorm2d(channels) if batchnorm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        return torch.relu(x + out)


class CNN(nn.Module):
    """A small convolutional network for ``(N, in_channels, H, W)`` images.

    ``stages`` stages, each at twice the width of the one before (``width``, ``2·width``, ...):
    a :class:`ConvBlock` that sets the width, ``depth - 1`` more blocks (:class:`ConvBlock`, or
    :class:`ResidualBlock` with ``residual=True``), then 2×2 max-pooling that halves the image.
    The classifier averages each channel over the image (global average pooling), applies
    ``Dropout(p=dropout)`` and one linear layer. With three stages a 32×32 image is 4×4 before
    the pooling. ``depth`` counts blocks per stage; the network has ``stages·depth`` blocks
    (two convolutions each in a residual block).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 3, width: int = 16, depth: int = 1,
                 stages: int = 3, batchnorm: bool = True, dropout: float = 0.0, residual: bool = False,
                 stem_stride: int = 1, init: str = "he"):
        super().__init__()
        if init not in ("he", "torch"):
            raise ValueError(f"init must be 'he' or 'torch', not {init!r}")
        blocks, channels = [], in_channels
        for stage in range(stages):
            out_channels = width * 2 ** stage
            blocks.append(ConvBlock(channels, out_channels, batchnorm, stride=stem_stride if stage == 0 else 1))
            for _ in range(depth - 1):
                blocks.append(ResidualBlock(out_channels, batchnorm) if residual
                              else ConvBlock(out_channels, out_channels, batchnorm))
            blocks.append(nn.MaxPool2d(2))
            channels = out_channels
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(channels, num_classes)
        if init == "he":
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)             # (N, channels, H / 2^stages, W / 2^stages)
        h = h.mean(dim=(2, 3))           # global average pooling: (N, channels)
        return self.classifier(self.dropout(h))


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """How many numbers the model learns (``numel`` summed over its parameters)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
