"""Weight decay (course.weight_decay): norms, the logging callback, and decay rates checked against torch.optim's steps."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from course.models import CNN, MLP
from course.training import fit
from course.weight_decay import decay_rates, log_weight_norm, weight_norm, weights


def test_weight_norm_counts_matrices_and_kernels_only():
    """Is the norm sqrt(Σw²) over Linear and Conv weights, without biases or BatchNorm's γ and β?"""
    torch.manual_seed(0)
    model = CNN(10, width=4, batchnorm=True)
    expected = math.sqrt(sum(float((m.weight.detach() ** 2).sum()) for m in model.modules()
                             if isinstance(m, (nn.Conv2d, nn.Linear))))
    assert weight_norm(model) == pytest.approx(expected, rel=1e-6)
    assert all(p.dim() >= 2 for p in weights(model))
    assert len(weights(model)) == 4     # three convolutions and the classifier


def test_the_callback_logs_one_norm_per_epoch():
    """Does fit with log_weight_norm record the norm after every epoch, the last one equal to the model's?"""
    torch.manual_seed(0)
    model = MLP(8, 3, width=16)
    X, y = torch.randn(64, 8), torch.randint(0, 3, (64,))
    history = fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=1.0),
                  4, batch_size=16, callbacks=[log_weight_norm], progress=False, device="cpu")
    assert len(history["weight_norm"]) == 4
    assert history["weight_norm"][-1] == pytest.approx(weight_norm(model))


def test_adamw_rate_is_lr_times_lambda_as_torch_applies_it():
    """With a zero gradient, does one AdamW step shrink every weight by exactly the factor 1 − ηλ?"""
    w = nn.Parameter(torch.randn(5, 4))
    before = w.detach().clone()
    optimizer = torch.optim.AdamW([w], lr=0.01, weight_decay=0.3)
    w.grad = torch.zeros_like(w)
    optimizer.step()
    rates = decay_rates(optimizer)
    assert torch.allclose(rates, torch.full((20,), 0.003))
    assert torch.allclose(w.detach(), before * (1 - rates.reshape(5, 4)))


@pytest.mark.parametrize("steps", [1, 3])
def test_coupled_adam_rate_is_the_decay_part_of_torchs_update(steps):
    """With β1 = 0, is torch.optim.Adam's update η·g/(√v̂+ε) plus rate·θ, with rate = ηλ/(√v̂+ε)?"""
    torch.manual_seed(steps)
    w = nn.Parameter(torch.randn(6, 3))
    lr, decay = 0.01, 0.01
    optimizer = torch.optim.Adam([w], lr=lr, weight_decay=decay, betas=(0.0, 0.999), eps=1e-8)
    for _ in range(steps):
        g = torch.randn(6, 3) * torch.logspace(-3, 0, 3)      # columns with very different gradient scales
        before = w.detach().clone()
        w.grad = g.clone()
        optimizer.step()
    state = optimizer.state[w]
    v_hat = state["exp_avg_sq"] / (1 - 0.999 ** float(state["step"]))
    rates = decay_rates(optimizer).reshape(6, 3)
    update = before - w.detach()
    assert torch.allclose(update, lr * g / (v_hat.sqrt() + 1e-8) + rates * before, atol=1e-6)
    # the weights with small gradients are decayed far harder than η·λ
    assert rates[:, 0].min() > 10 * rates[:, 2].max()


def test_sgd_and_coupled_adam_without_decay():
    """SGD's rate is ηλ (the L2 gradient); no decay means rate 0; biases are left out unless asked for?"""
    layer = nn.Linear(3, 2)
    assert torch.allclose(decay_rates(torch.optim.SGD(layer.parameters(), lr=0.1, weight_decay=0.01)),
                          torch.full((6,), 0.001))
    assert decay_rates(torch.optim.Adam(layer.parameters(), lr=0.1), weights_only=False).tolist() == [0.0] * 8
    with pytest.raises(ValueError, match="take a step"):
        decay_rates(torch.optim.Adam(layer.parameters(), lr=0.1, weight_decay=0.1))
    with pytest.raises(TypeError):
        decay_rates(torch.optim.RMSprop(layer.parameters(), weight_decay=0.1))
