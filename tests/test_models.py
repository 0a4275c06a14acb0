"""The lectures' MLP: the layers it promises, in order."""
from __future__ import annotations

import torch
from torch import nn

from course.models import mlp


def test_plain_mlp_layers():
    """Linear, ReLU per hidden layer, then a linear output of the right sizes?"""
    model = mlp(64, 10, width=32, depth=2)
    assert [type(m) for m in model] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert model(torch.zeros(3, 64)).shape == (3, 10)


def test_regularizing_layers_where_asked():
    """BatchNorm1d before and Dropout(p) after each activation, only when asked for?"""
    model = mlp(8, 2, width=4, depth=1, dropout=0.3, batchnorm=True, activation=nn.Tanh)
    assert [type(m) for m in model] == [nn.Linear, nn.BatchNorm1d, nn.Tanh, nn.Dropout, nn.Linear]
    assert model[3].p == 0.3
