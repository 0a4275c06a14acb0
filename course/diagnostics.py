"""Checks to run before (and while) training: is this network learning what it should?

- :func:`initial_loss_check`: an untrained classifier should score about ``-log(1/C)``.
- :func:`overfit_small_subset`: a network that cannot memorise 32 examples has a bug.
- :class:`GradientStats`: per-layer gradient and weight norms and relative updates (per epoch and per
  optimizer step), a :func:`course.training.fit` callback.
- :func:`lr_range_test`: the loss while the learning rate grows exponentially, step by step.
- :func:`layer_outputs`: what a layer computes, for PCA / t-SNE pictures of learned features.
- :func:`dead_channels`: the share of each block's ReLU channels that output zero for every input.

Every training step here goes through :func:`course.training.fit`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .training import History, evaluate, fit

__all__ = ["expected_initial_loss", "initial_loss_check", "InitialLossCheck", "overfit_small_subset",
           "GradientStats", "lr_range_test", "LRRangeTest", "layer_outputs", "dead_channels"]


def expected_initial_loss(num_classes: int) -> float:
    """Cross-entropy of a uniform guess over ``C`` classes: ``-log(1/C) = log C``."""
    if num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
    return math.log(num_classes)


@dataclass(frozen=True)
class InitialLossCheck:
    """The loss of an untrained model against what a uniform guess would score."""

    loss: float
    expected: float
    tolerance: float

    @property
    def ratio(self) -> float:
        return self.loss / self.expected

    @property
    def passed(self) -> bool:
        return abs(self.loss - self.expected) <= self.tolerance * self.expected

    @property
    def message(self) -> str:
        head = f"initial loss {self.loss:.3f}, expected about -log(1/C) = {self.expected:.3f}"
        if self.passed:
            return head + ": fine."
        if self.loss > self.expected:
            return (head + f": {self.ratio:.1f}x too high. The untrained network is confidently "
                    "wrong: are the initial weights too large, or the inputs not standardized?")
        return (head + ": lower than chance before training. Is the model seeing the labels "
                "(a leak), or is the loss averaged over the wrong dimension?")

    def __str__(self) -> str:
        return self.message


def initial_loss_check(model: torch.nn.Module, data, loss_fn=None, num_classes: int | None = None,
                       tolerance: float = 0.25) -> InitialLossCheck:
    """Compare an untrained classifier's cross-entropy on ``data = (X, y)`` with ``log C``.

    ``num_classes`` defaults to the model's output width; ``tolerance`` is relative.
    """
    loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
    X, y = data
    if num_classes is None:
        with torch.no_grad():
            num_classes = int(model.eval()(X[:1].to(_device(model))).shape[-1])
    loss = evaluate(model, (X, y), loss_fn)["loss"]
    return InitialLossCheck(loss, expected_initial_loss(num_classes), tolerance)


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def overfit_small_subset(model: torch.nn.Module, data, loss_fn, optimizer: torch.optim.Optimizer,
                         n: int = 32, num_steps: int = 200, target: float = 1e-2,
                         device=None, seed: int = 0) -> History:
    """Train on the first ``n`` examples only, one full batch per step, until the loss < ``target``.

    A correct network and training loop memorise a tiny subset quickly (loss → 0, accuracy 1).
    If it cannot, look for a bug before tuning anything: a wrong loss, labels shuffled
    apart from their inputs, a frozen layer, a learning rate far off.
    """
    X, y = data
    subset = (X[:n], y[:n])

    def reached(epoch, history, model):
        return history["train_loss"][-1] < target

    return fit(model, subset, loss_fn, optimizer, num_epochs=num_steps, batch_size=n,
               callbacks=[reached], progress=False, device=device, seed=seed)


class GradientStats:
    """A :func:`course.training.fit` callback recording per-layer gradient and weight statistics.

    It hooks every parameter with at least two dimensions (weights, not biases) of ``model``
    and, each epoch, records for each of them

    - ``grad_norm``: the mean over the epoch's steps of ``‖∂L/∂W‖``;
    - ``weight_norm``: ``‖W‖`` at the end of the epoch;
    - ``update_ratio``: ``‖W_end - W_start‖ / ‖W_start‖`` over the **whole epoch** (many steps).

    Given the ``optimizer`` too, it also records the relative update of **every step**,

    - ``step_update_ratio``: ``‖W_t - W_{t-1}‖ / ‖W_{t-1}‖`` for each ``optimizer.step()``, one
      value per step (all epochs one after the other),

    the quantity behind the rule of thumb "about 10⁻³ per step" (Karpathy's recipe): it is
    measured by the optimizer's step hooks (a copy of the weights before the step, the norm of
    the difference after it), kept on the device and read once per epoch.

    Gradient norms are summed on the device and read once per epoch. ``stats[name][key]``
    is a list with one value per epoch (per step for ``step_update_ratio``). Call
    :meth:`remove` (or use ``with``) to unhook.
    """

    def __init__(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer | None = None,
                 include_biases: bool = False):
        if isinstance(optimizer, bool):  # the old second positional argument
            raise TypeError("GradientStats(model, optimizer=None, include_biases=False): pass include_biases "
                            "by name")
        self.names = [name for name, p in model.named_parameters()
                      if p.requires_grad and (include_biases or p.dim() >= 2)]
        params = dict(model.named_parameters())
        self._params = [params[name] for name in self.names]
        keys = ["grad_norm", "weight_norm", "update_ratio"] + (["step_update_ratio"] if optimizer else [])
        self.stats: dict[str, dict[str, list]] = {name: {key: [] for key in keys} for name in self.names}
        self._sums = {name: None for name in self.names}
        self._steps = {name: 0 for name in self.names}
        self._start = {name: params[name].detach().clone() for name in self.names}
        self._handles = [params[name].register_hook(self._hook(name)) for name in self.names]
        self._before: list[torch.Tensor] = []
        self._step_ratios: list[torch.Tensor] = []   # one (num_layers,) tensor per step, on the device
        if optimizer is not None:
            tracked = {id(p) for group in optimizer.param_groups for p in group["params"]}
            if not any(id(p) in tracked for p in self._params):
                raise ValueError("the optimizer holds none of the model's weights: is it another model's "
                                 "optimizer?")
            self._handles += [optimizer.register_step_pre_hook(self._before_step),
                              optimizer.register_step_post_hook(self._after_step)]

    def _hook(self, name):
        def record(grad):
            norm = torch.linalg.vector_norm(grad.detach().float())
            self._sums[name] = norm if self._sums[name] is None else self._sums[name] + norm
            self._steps[name] += 1
        return record

    def _before_step(self, optimizer, args, kwargs):
        self._before = [p.detach().clone() for p in self._params]

    def _after_step(self, optimizer, args, kwargs):
        if not self._before:
            return
        ratios = [torch.linalg.vector_norm((p.detach() - w).float())
                  / torch.linalg.vector_norm(w.float()).clamp_min(1e-12)
                  for p, w in zip(self._params, self._before)]
        self._step_ratios.append(torch.stack(ratios))
        self._before = []

    def __call__(self, epoch: int, history: History, model: torch.nn.Module) -> bool:
        params = dict(model.named_parameters())
        values = []
        for name in self.names:
            w = params[name].detach()
            start = self._start[name].to(w.device)
            grad = self._sums[name] if self._sums[name] is not None else torch.zeros((), device=w.device)
            values.append(torch.stack([grad.to(w.device) / max(self._steps[name], 1),
                                       torch.linalg.vector_norm(w.float()),
                                       torch.linalg.vector_norm((w - start).float())
                                       / torch.linalg.vector_norm(start.float()).clamp_min(1e-12)]))
            self._start[name] = w.clone()
            self._sums[name], self._steps[name] = None, 0
        if values:  # one host synchronisation for all layers
            for name, (g, wn, ratio) in zip(self.names, torch.stack(values).tolist()):
                self.stats[name]["grad_norm"].append(g)
                self.stats[name]["weight_norm"].append(wn)
                self.stats[name]["update_ratio"].append(ratio)
        if self._step_ratios:  # and one for all the epoch's steps
            per_step = torch.stack(self._step_ratios).T.tolist()   # (num_layers, num_steps)
            for name, ratios in zip(self.names, per_step):
                self.stats[name]["step_update_ratio"].extend(ratios)
            self._step_ratios = []
        return False

    def remove(self) -> None:
        """Unhook from the model's parameters and from the optimizer."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


@dataclass
class LRRangeTest:
    """The result of :func:`lr_range_test`: one learning rate and one loss per step."""

    lrs: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    smoothed: list = field(default_factory=list)

    @property
    def best_lr(self) -> float:
        """The learning rate of the lowest smoothed loss."""
        return self.lrs[int(np.nanargmin(self.smoothed))]

    @property
    def suggestion(self) -> float:
        """A safe learning rate: a tenth of the one at the lowest smoothed loss."""
        return self.best_lr / 10


def lr_range_test(model: torch.nn.Module, data, loss_fn, optimizer: torch.optim.Optimizer,
                  lr_min: float = 1e-5, lr_max: float = 10.0, num_steps: int = 100,
                  batch_size: int = 64, smoothing: float = 0.8, diverge: float = 4.0,
                  device=None, seed: int = 0) -> LRRangeTest:
    """Smith's learning-rate range test: one step per learning rate, growing geometrically.

    Step ``k`` uses ``lr_k = lr_min · (lr_max/lr_min)^(k/(num_steps-1))`` on a fresh random batch
    (each step is a one-epoch :func:`course.training.fit` on that batch) and records the
    training loss. The test stops when the smoothed loss exceeds ``diverge`` times its best,
    or is NaN. The model is trained by the test: build a fresh one afterwards.
    """
    X, y = data
    generator = torch.Generator().manual_seed(seed)
    result = LRRangeTest()
    best, smoothed = math.inf, None
    for k in range(num_steps):
        lr = lr_min * (lr_max / lr_min) ** (k / max(num_steps - 1, 1))
        for group in optimizer.param_groups:
            group["lr"] = lr
        idx = torch.randint(len(X), (min(batch_size, len(X)),), generator=generator)
        history = fit(model, (X[idx.to(X.device)], y[idx.to(y.device)]), loss_fn, optimizer,
                      num_epochs=1, batch_size=len(idx), progress=False, device=device)
        loss = history["train_loss"][0]
        # exponential moving average, started at the first loss
        smoothed = loss if smoothed is None else smoothing * smoothed + (1 - smoothing) * loss
        result.lrs.append(lr)
        result.losses.append(loss)
        result.smoothed.append(smoothed)
        if not math.isfinite(smoothed) or smoothed > diverge * best:
            break
        best = min(best, smoothed)
    return result


@torch.no_grad()
def layer_outputs(model: torch.nn.Module, X: torch.Tensor, layer: torch.nn.Module,
                  batch_size: int = 1024) -> torch.Tensor:
    """What ``layer`` (a submodule of ``model``) outputs for ``X``, in evaluation mode, flattened.

    Use it to look at learned features: ``PCA(2).fit_transform(layer_outputs(model, X, model.hidden[1]))``.
    """
    captured = []
    handle = layer.register_forward_hook(lambda module, args, output: captured.append(output.detach()))
    was_training = model.training
    model.eval()
    try:
        device = _device(model)
        for start in range(0, len(X), batch_size):
            model(X[start:start + batch_size].to(device))
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(captured).flatten(1).float()


def dead_channels(model: torch.nn.Module, X: torch.Tensor, layers=None, batch_size: int = 1024) -> dict[str, float]:
    """For each layer, the fraction of its output channels that are zero for every example of ``X``.

    Meant for layers that end in a ReLU: a channel that outputs exactly zero at every position
    of every image is "dead": its gradient is zero too, so no step will revive it. ``layers``
    maps names to submodules of ``model`` whose outputs ``(N, C, ...)`` are checked (default:
    every :class:`course.models.ConvBlock` and :class:`course.models.ResidualBlock`, which end
    in a ReLU). Evaluated in evaluation mode, without gradients.
    """
    from .models import ConvBlock, ResidualBlock

    if layers is None:
        layers = {name: m for name, m in model.named_modules() if isinstance(m, (ConvBlock, ResidualBlock))}
    if not layers:
        raise ValueError("no layers to check: pass layers={name: module}")
    alive = {name: None for name in layers}

    def hook(name):
        def record(module, args, output):
            active = (output.detach() != 0).transpose(0, 1).flatten(1).any(dim=1)  # per channel
            alive[name] = active if alive[name] is None else alive[name] | active
        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in layers.items()]
    was_training = model.training
    model.eval()
    try:
        device = _device(model)
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                model(X[start:start + batch_size].to(device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {name: float((~active).float().mean()) for name, active in alive.items()}
