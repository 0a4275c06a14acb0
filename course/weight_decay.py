"""Weight decay, coupled and decoupled: how big the weights are, and how hard each is pulled to zero.

- :func:`weight_norm`: ``‖W‖₂`` over the weights of a model: the parameters with two or more
  dimensions (weight matrices and convolution kernels); biases and BatchNorm's ``γ``, ``β`` are
  left out, as they usually are from the decay.
- :func:`log_weight_norm`: a :func:`course.training.fit` callback that logs ``weight_norm`` after
  every epoch.
- :func:`decay_rates`: for every weight, the fraction of itself that one step of weight decay
  removes, read from the optimizer's settings and state:

  ================================================  ============================================
  optimizer                                          decay rate of weight ``θ_i`` per step
  ================================================  ============================================
  ``SGD(weight_decay=λ)`` (L2 in the gradient)       ``η·λ``
  ``AdamW(weight_decay=λ)`` (decoupled)              ``η·λ``, the same for every weight
  ``Adam(weight_decay=λ)`` (coupled L2)              ``η·λ / (√v̂_i + ε)``
  ================================================  ============================================

  Adam adds ``λθ`` to the gradient and divides the sum by ``√v̂ + ε`` like everything else, so
  a weight with a large gradient history is decayed little and one with a small history a lot.
  With ``β1 > 0`` the ``λθ`` term also passes through the first moment ``m``; as ``θ`` changes
  slowly this averages to ``λθ`` again, so the rate above is exact for ``β1 = 0`` and a close
  approximation otherwise.

>>> history = fit(model, data, loss_fn, optimizer, 10, callbacks=[log_weight_norm])
>>> history["weight_norm"]
"""
from __future__ import annotations

import torch

__all__ = ["weights", "weight_norm", "log_weight_norm", "decay_rates"]


def weights(model_or_params) -> list[torch.Tensor]:
    """The parameters with two or more dimensions (matrices, kernels) of a model or a parameter list."""
    params = model_or_params.parameters() if isinstance(model_or_params, torch.nn.Module) else model_or_params
    return [p for p in params if p.dim() >= 2]


@torch.no_grad()
def weight_norm(model: torch.nn.Module) -> float:
    """``‖W‖₂ = sqrt(Σ w²)`` over the model's weight matrices and kernels (:func:`weights`)."""
    return float(torch.sqrt(sum((w.float() ** 2).sum() for w in weights(model))))


def log_weight_norm(epoch: int, history, model: torch.nn.Module) -> bool:
    """``fit`` callback: log ``weight_norm`` (:func:`weight_norm`) after every epoch; never stops training."""
    history.log(weight_norm=weight_norm(model))
    return False


def decay_rates(optimizer: torch.optim.Optimizer, weights_only: bool = True) -> torch.Tensor:
    """Per weight, the fraction of itself that one step of weight decay removes (see the module's table).

    Reads ``lr``, ``weight_decay`` and, for coupled Adam, ``eps``, ``betas`` and the state
    ``exp_avg_sq`` and ``step`` (so call it after at least one step). Returns one flat tensor
    over the weights of every parameter group (all parameters with ``weights_only=False``).
    """
    rates = []
    for group in optimizer.param_groups:
        lr, decay = float(group["lr"]), float(group.get("weight_decay", 0.0))
        adaptive = isinstance(optimizer, torch.optim.Adam)
        decoupled = isinstance(optimizer, torch.optim.AdamW) or group.get("decoupled_weight_decay", False)
        if not adaptive and not isinstance(optimizer, torch.optim.SGD):
            raise TypeError(f"decay_rates knows SGD, Adam and AdamW, not {type(optimizer).__name__}")
        for p in group["params"]:
            if weights_only and p.dim() < 2:
                continue
            if decay == 0.0 or not adaptive or decoupled:
                rates.append(torch.full((p.numel(),), lr * decay))
                continue
            state = optimizer.state.get(p, {})
            if "exp_avg_sq" not in state:
                raise ValueError("the optimizer has no second moment yet: take a step before reading the rates")
            step = float(state["step"])
            v_hat = state["exp_avg_sq"].detach().float().cpu().flatten() / (1 - group["betas"][1] ** step)
            rates.append(lr * decay / (v_hat.sqrt() + group["eps"]))
    return torch.cat(rates) if rates else torch.zeros(0)
