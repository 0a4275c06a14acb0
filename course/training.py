"""The course's one training loop: :func:`fit`, extended by arguments and callbacks.

What it does for speed, and why it does not change what a lesson shows:

- The whole (small) data set is moved to the device once. Every epoch draws a fresh
  permutation from torch's CPU generator (so a seed gives the same batches on every
  device), gathers the data in that order on the device, and slices batches from it.
- Nothing is read back to the host per batch: the batch losses and predicted labels stay
  on the device and are reduced once per epoch, with one transfer for all metrics.
- On a CUDA GPU the forward pass runs under autocast when the network is big enough for
  it to pay (``amp=None``): bf16 where the GPU has it, otherwise fp16 with a gradient scaler.
  The parameters, the gradients and the optimizer stay float32.
- A convolutional network and its images are kept ``channels_last`` (NHWC) on a CUDA GPU, the
  layout the tensor cores' convolution kernels want, and on a CPU, where oneDNN's convolutions
  are faster in it too (the course's small CNN trains about 30% faster on a 2-core CPU).
- ``compile_model=True`` runs the forward pass through ``torch.compile``: optional, off by
  default, worth it only for long runs.
- On a CPU torch gets a sensible thread count, chosen once per process (:func:`course.device.ensure_cpu_threads`).

>>> history = fit(model, split.train, loss_fn, optimizer, num_epochs=10, val_data=split.val)
>>> history["val_acc"][-1]
"""
from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F

from .device import ensure_cpu_threads, is_autograding, pick_device

__all__ = ["fit", "evaluate", "predict", "History", "EarlyStopping", "AMP_MIN_WORK", "Precision",
           "choose_precision"]

Callback = Callable[[int, "History", torch.nn.Module], "bool | None"]

# parameters x batch size from which autocast pays on a GPU for a network without
# convolutions; below it a step is bound by kernel launches and the extra casts only cost
# time. A convolution reuses each weight at every position of the image, so a
# convolutional network does enough work per parameter already and gets autocast anyway.
AMP_MIN_WORK = 2 ** 30



class History(dict):
    """Per-epoch records: ``history["train_loss"][epoch]``; keys appear as they are logged."""

    def log(self, **values) -> None:
        for key, value in values.items():
            self.setdefault(key, []).append(value)

    @property
    def num_epochs(self) -> int:
        return len(self.get("train_loss", []))

    def last(self, key: str):
        return self[key][-1]


class EarlyStopping:
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    With ``restore_best=True`` the model ends training with the weights of its best epoch,
    whether training stopped early or ran all its epochs.
    """

    def __init__(self, patience: int = 5, monitor: str = "val_loss", min_delta: float = 0.0,
                 mode: str = "min", restore_best: bool = True):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {mode!r}")
        self.patience, self.monitor, self.min_delta = patience, monitor, min_delta
        self.sign = 1.0 if mode == "min" else -1.0
        self.restore_best = restore_best
        self.reset()

    def reset(self) -> None:
        self.best, self.best_epoch, self.best_state, self.stopped_epoch = math.inf, -1, None, None

    def on_train_begin(self, history: History, model: torch.nn.Module) -> None:
        self.reset()

    def __call__(self, epoch: int, history: History, model: torch.nn.Module) -> bool:
        if self.monitor not in history:
            raise KeyError(f"EarlyStopping monitors {self.monitor!r}, which fit does not log here "
                           f"(logged: {', '.join(history)}); pass val_data or choose another monitor")
        value = self.sign * history[self.monitor][-1]
        if value < self.best - self.min_delta:  # NaN never improves
            self.best, self.best_epoch = value, epoch
            if self.restore_best:
                self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return False
        if epoch - self.best_epoch >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, history: History, model: torch.nn.Module) -> None:
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)


def _has_convolutions(model: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.conv._ConvNd) for m in model.modules())


@dataclass(frozen=True)
class Precision:
    """How a step computes: the autocast dtype (``None``: float32) and whether the loss is scaled.

    fp16 has a narrow exponent, so small gradients underflow to zero unless the loss is
    multiplied by a large factor before ``backward`` and the gradients divided by it after
    (``torch.amp.GradScaler``); bf16 has float32's exponent and needs no scaler.
    """

    dtype: torch.dtype | None = None
    scaled: bool = False

    @property
    def name(self) -> str:
        return {None: "float32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]


def choose_precision(device: torch.device, amp: bool | str | None, model: torch.nn.Module,
                     batch_size: int) -> Precision:
    """The precision :func:`fit` uses for ``amp`` (see there) on ``device``."""
    device = torch.device(device)
    if amp in ("bf16", "fp16"):
        dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    elif amp is False:
        return Precision()
    elif amp is None or amp is True:
        if amp is None:
            if device.type != "cuda":
                return Precision()
            work = sum(p.numel() for p in model.parameters()) * batch_size
            if not (_has_convolutions(model) or work >= AMP_MIN_WORK):
                return Precision()
        bf16 = device.type != "cuda" or torch.cuda.is_bf16_supported()
        dtype = torch.bfloat16 if bf16 else torch.float16
    else:
        raise ValueError(f"amp must be None, True, False, 'bf16' or 'fp16', not {amp!r}")
    return Precision(dtype, scaled=dtype == torch.float16)


def _use_channels_last(device: torch.device, channels_last: bool | None, model: torch.nn.Module) -> bool:
    if channels_last is not None:
        return bool(channels_last)
    return device.type in ("cuda", "cpu") and _has_convolutions(model)


def _is_binary_loss(loss_fn) -> bool:
    return isinstance(loss_fn, (torch.nn.BCEWithLogitsLoss, torch.nn.BCELoss)) or any(
        loss_fn is f for f in (F.binary_cross_entropy_with_logits, F.binary_cross_entropy))


def _labels(y_hat: torch.Tensor, y: torch.Tensor, loss_fn):
    """Predicted and true class labels of a batch; ``None`` where accuracy means nothing.

    Class scores ``(N, C)``: the argmax, against integer labels or the argmax of one-hot or
    mixed (Mixup) labels. One binary score ``(N,)`` or ``(N, 1)`` with a BCE loss or integer
    labels: logit > 0 (probability > 0.5 for ``BCELoss``), against label > 0.5.
    """
    binary_loss = _is_binary_loss(loss_fn)
    if y_hat.dim() == 2 and y_hat.shape[1] > 1 and not binary_loss:
        if not y.is_floating_point():
            return y_hat.argmax(dim=1), y
        if y.shape == y_hat.shape:
            return y_hat.argmax(dim=1), y.argmax(dim=1)
        return None
    if y_hat.dim() == 1 or (y_hat.dim() == 2 and y_hat.shape[1] == 1):
        if binary_loss or not y.is_floating_point():
            probabilities = isinstance(loss_fn, torch.nn.BCELoss) or loss_fn is F.binary_cross_entropy
            y = y.reshape(-1)
            return y_hat.reshape(-1) > (0.5 if probabilities else 0.0), (y > 0.5 if y.is_floating_point() else y)
    return None


def _run_epoch(forward, X, y, loss_fn, optimizer=None, batch_size=64, precision=Precision(), order=None,
               transform=None, batch_scheduler=None, scaler=None, channels_last=False) -> dict:
    """One pass over ``(X, y)`` (training when an optimizer is given).

    Returns 0-d tensors on the device, never read here: ``{"loss": mean loss, "acc": accuracy}``.
    With fp16 a ``torch.amp.GradScaler`` scales the loss; its check for overflowed gradients
    reads the device once per step unless the optimizer is a fused one (``fused=True``),
    which takes the check on the device.
    """
    if len(X) == 0:
        raise ValueError("no data: the data set is empty")
    if order is not None:
        X, y = X[order], y[order]
    if channels_last and X.dim() == 4:
        X = X.contiguous(memory_format=torch.channels_last)  # once per epoch, not per batch
    training = optimizer is not None
    # one context for every batch: building torch.autocast costs more than a small layer
    mixed = precision.dtype is not None
    autocast = torch.autocast(device_type=X.device.type, dtype=precision.dtype) if mixed else nullcontext()
    losses, sizes, predicted, true = [], [], [], []
    with torch.set_grad_enabled(training):
        for X_batch, y_batch in zip(X.split(batch_size), y.split(batch_size)):
            if transform is not None:
                X_batch, y_batch = transform(X_batch, y_batch)
            with autocast:
                y_hat = forward(X_batch)
                loss = loss_fn(y_hat.float() if mixed else y_hat, y_batch)
            if training:
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    optimizer.step()
                if batch_scheduler is not None:
                    batch_scheduler.step()
            losses.append(loss.detach())
            sizes.append(len(X_batch))
            labels = _labels(y_hat.detach(), y_batch, loss_fn)
            if labels is not None:
                predicted.append(labels[0])
                true.append(labels[1])
    # a batch's mean loss counts as many times as the batch has examples (a loss with
    # reduction="sum" is already a sum); every batch is full but the last, unless a
    # transform changed their sizes
    batch_losses = torch.stack(losses).float()
    total = sum(sizes)
    if getattr(loss_fn, "reduction", "mean") == "sum":
        loss_sum = batch_losses.sum()
    elif all(size == sizes[0] for size in sizes):
        loss_sum = batch_losses.sum() * sizes[0]
    elif all(size == sizes[0] for size in sizes[:-1]):
        loss_sum = batch_losses[:-1].sum() * sizes[0] + batch_losses[-1] * sizes[-1]
    else:
        loss_sum = (batch_losses * _send(torch.tensor(sizes, dtype=torch.float32), X.device)).sum()
    sums = {"loss": loss_sum / total}
    if predicted and len(predicted) == len(losses):
        sums["acc"] = (torch.cat(predicted) == torch.cat(true)).sum() / total
    return sums


def _to_host(values: dict) -> dict:
    """The epoch's one host synchronisation: every metric in a single transfer."""
    numbers = torch.stack([v.float() for v in values.values()]).tolist()
    return dict(zip(values, numbers))


def _model_device(model: torch.nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _float_dtype(model: torch.nn.Module) -> torch.dtype:
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.get_default_dtype()


def _to_device(data: Sequence, device: torch.device, float_dtype: torch.dtype) -> tuple:
    """``(X, y)`` as tensors on ``device``: floating ones in the model's dtype (NumPy gives float64),
    integer labels as int64 (what the classification losses take)."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError("fit takes the data as a pair of tensors (X, y), not a DataLoader or a data set: "
                        "it keeps them on the device and draws the batches itself")
    tensors = []
    for i, t in enumerate(data):
        t = torch.as_tensor(t)
        if t.is_floating_point() and t.dtype != float_dtype:
            t = t.to(float_dtype)
        elif i == 1 and not t.is_floating_point() and t.dtype not in (torch.int64, torch.bool):
            t = t.long()
        tensors.append(t.to(device, non_blocking=True))
    if len(tensors[0]) != len(tensors[1]):
        raise ValueError(f"X has {len(tensors[0])} examples but y has {len(tensors[1])} labels")
    return tuple(tensors)


def _move_optimizer_state(optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    """After the model moved: its optimizer's moments move too (``step`` counters stay put)."""
    for state in optimizer.state.values():
        for key, value in state.items():
            if key != "step" and torch.is_tensor(value) and value.device != device:
                state[key] = value.to(device)


def _send(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A small CPU tensor to the device without waiting for it (pinned memory on CUDA)."""
    if device.type == "cuda":
        tensor = tensor.pin_memory()
    return tensor.to(device, non_blocking=True)


def _batch_order(n: int, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
    """A random permutation drawn on the CPU (the same on every device), sent without a sync."""
    return _send(torch.randperm(n, generator=generator), device)


def evaluate(model: torch.nn.Module, data: Sequence[torch.Tensor], loss_fn,
             batch_size: int = 1024, device=None, amp: bool | str | None = None) -> dict:
    """Mean loss (and accuracy where it means something) of ``model`` on ``data = (X, y)``.

    Runs in evaluation mode without gradients, then puts the model back in the mode it was in.
    Returns ``{"loss": float, "acc": float}`` (``"acc"`` only for classification).
    """
    device = torch.device(device) if device is not None else _model_device(model)
    model.to(device)
    X, y = _to_device(data, device, _float_dtype(model))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            sums = _run_epoch(model, X, y, loss_fn, None, batch_size,
                              choose_precision(device, amp, model, batch_size))
        return _to_host(sums)
    finally:
        model.train(was_training)


@torch.no_grad()
def predict(model: torch.nn.Module, X: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """The model's outputs for ``X`` (evaluation mode, no gradient), on the model's device."""
    device = _model_device(model)
    was_training = model.training
    model.eval()
    try:
        X = torch.as_tensor(X).to(device)
        if X.is_floating_point():
            X = X.to(_float_dtype(model))
        return torch.cat([model(X[i:i + batch_size]).float() for i in range(0, len(X), batch_size)])
    finally:
        model.train(was_training)


def fit(model: torch.nn.Module, train_data: Sequence[torch.Tensor], loss_fn,
        optimizer: torch.optim.Optimizer, num_epochs: int, batch_size: int = 64,
        val_data: Sequence[torch.Tensor] | None = None, device=None,
        scheduler=None, callbacks: Iterable[Callback] = (), progress: bool | None = None,
        amp: bool | str | None = None, seed: int | None = None, desc: str = "training",
        transform: Callable | None = None, scheduler_interval: str = "epoch",
        compile_model: bool | str = False, channels_last: bool | None = None) -> History:
    """Train ``model`` on ``train_data = (X, y)`` and return its :class:`History`.

    - ``device``: where to train (default :func:`course.device.pick_device`); the model,
      its optimizer's state and both data sets are moved there once. On a CPU, the first
      call of the process sets torch's thread count (:func:`course.device.ensure_cpu_threads`;
      ``COURSE_CPU_THREADS`` chooses it).
    - ``scheduler``: a ``torch.optim.lr_scheduler`` stepped once per epoch, or once per batch
      with ``scheduler_interval="batch"`` (``OneCycleLR``, ``CyclicLR``).
      ``ReduceLROnPlateau`` is given the validation loss, or the training loss.
    - ``callbacks``: ``callback(epoch, history, model)`` after every epoch; one that returns
      ``True`` stops training (:class:`course.plots.LiveCurves` draws, :class:`EarlyStopping`
      stops). A callback may also have ``on_train_begin(history, model)`` and
      ``on_train_end(history, model)``: :class:`EarlyStopping` restores the best weights there.
    - ``progress``: a tqdm bar over epochs (default: on, except under autograding).
    - ``amp``: mixed precision (:func:`choose_precision`). Default (``None``): on a CUDA GPU,
      for a convolutional network or when parameters x batch size reaches ``AMP_MIN_WORK``,
      bf16 autocast where the GPU supports it and fp16 autocast with a gradient scaler where
      it does not; off elsewhere. ``True`` turns it on (bf16 on a CPU), ``False`` off,
      ``"bf16"`` / ``"fp16"`` choose the type. The parameters stay float32.
    - ``channels_last``: keep a convolutional network's weights and the images in NHWC
      layout. Default: on for a network with convolutions on a CUDA GPU or a CPU.
    - ``seed``: seeds the shuffling, so two runs see the same batches, on any device.
    - ``transform``: ``transform(X_batch, y_batch) -> (X_batch, y_batch)`` applied to training
      batches on the device (data augmentation, Mixup); never to validation data.
    - ``compile_model``: run the forward pass through ``torch.compile`` (a string is its
      ``mode``, such as ``"reduce-overhead"``). The first epochs then include compiling.

    Logged per epoch: ``train_loss``, ``train_acc`` (classification), ``val_loss``, ``val_acc``,
    ``lr`` (at the start of the epoch) and ``time`` (seconds). A loss that becomes NaN or
    infinite stops training at the end of its epoch and is logged as it is, so a lesson can
    show it. Afterwards the model is in the mode (train/eval) it was in before.
    """
    if scheduler_interval not in ("epoch", "batch"):
        raise ValueError(f"scheduler_interval must be 'epoch' or 'batch', not {scheduler_interval!r}")
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    if plateau and scheduler_interval == "batch":
        raise ValueError("ReduceLROnPlateau needs a loss: step it per epoch")
    device = torch.device(device) if device is not None else pick_device()
    if device.type == "cpu":
        ensure_cpu_threads()
    model.to(device)
    _move_optimizer_state(optimizer, device)
    float_dtype = _float_dtype(model)
    X, y = _to_device(train_data, device, float_dtype)
    val = _to_device(val_data, device, float_dtype) if val_data is not None else None
    precision = choose_precision(device, amp, model, batch_size)
    scaler = torch.amp.GradScaler(device.type) if precision.scaled else None
    nhwc = _use_channels_last(device, channels_last, model)
    if nhwc:
        model.to(memory_format=torch.channels_last)
    forward = model
    if compile_model:
        forward = torch.compile(model, mode=compile_model if isinstance(compile_model, str) else None)
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    batch_scheduler = scheduler if scheduler_interval == "batch" else None
    if progress is None:
        progress = not is_autograding()
    callbacks = list(callbacks)
    history = History()
    epochs = range(num_epochs)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(epochs, desc=desc, leave=False)
        epochs = bar
    was_training = model.training
    try:
        for callback in callbacks:
            if hasattr(callback, "on_train_begin"):
                callback.on_train_begin(history, model)
        for epoch in epochs:
            start = time.perf_counter()
            lr = float(optimizer.param_groups[0]["lr"])
            model.train()
            sums = _run_epoch(forward, X, y, loss_fn, optimizer, batch_size, precision,
                              _batch_order(len(X), device, generator), transform, batch_scheduler,
                              scaler, nhwc)
            record = {f"train_{k}": v for k, v in sums.items()}
            if val is not None:
                model.eval()
                with torch.no_grad():
                    sums = _run_epoch(forward, *val, loss_fn, None, max(batch_size, 1024), precision,
                                      channels_last=nhwc)
                record.update({f"val_{k}": v for k, v in sums.items()})
            history.log(**_to_host(record))
            history.log(lr=lr, time=time.perf_counter() - start)
            if bar is not None:
                bar.set_postfix({k: f"{history[k][-1]:.3g}" for k in record})
            if scheduler is not None and batch_scheduler is None:
                if plateau:
                    scheduler.step(history["val_loss" if val is not None else "train_loss"][-1])
                else:
                    scheduler.step()
            stop = [bool(callback(epoch, history, model)) for callback in callbacks]
            if any(stop) or not math.isfinite(history["train_loss"][-1]):
                break
        for callback in callbacks:
            if hasattr(callback, "on_train_end"):
                callback.on_train_end(history, model)
    finally:
        model.train(was_training)
        if bar is not None:
            bar.close()
    return history
