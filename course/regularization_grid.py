"""A grid of training runs over dropout rate and weight decay, each with its test figures.

:func:`sweep` trains one :class:`course.models.MLP` per (dropout rate, weight decay) pair with
:func:`course.training.fit` and ``torch.optim.AdamW`` (decoupled weight decay: the
``weight_decay`` here is AdamW's ``λ``, not a coupled L2 term in the loss). Every run logs,
per epoch, the training and validation metrics ``fit`` logs and the test split's
(``test_loss``, ``test_acc``), so that a winner chosen on validation can be reported on
test: :func:`choose_on_validation`.
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import torch
from torch import nn

from .device import is_autograding
from .models import MLP
from .training import History, evaluate, fit

__all__ = ["sweep", "choose_on_validation"]


def sweep(train_data, val_data, num_classes: int, dropouts: Sequence[float], weight_decays: Sequence[float],
          num_epochs: int, test_data=None, width: int = 256, lr: float = 1e-3, batch_size: int = 32,
          seed: int = 0, device=None, progress: bool | None = None) -> dict[tuple[float, float], History]:
    """Train :class:`~course.models.MLP` for every ``(dropout, weight_decay)`` pair; ``{(p, wd): History}``.

    The inputs are feature vectors ``(N, F)`` or images ``(N, C, H, W)`` (the MLP flattens them).
    Every run starts from the same seed and sees the same batches, so the runs differ only in
    the two regularization settings. With ``test_data`` each history also has ``test_loss``
    and ``test_acc`` per epoch (the model evaluated on the test split after the epoch; never
    used to train or to choose).
    """
    runs = {}
    num_features = math.prod(train_data[0].shape[1:])  # MLP flattens: F features, or C·H·W pixels
    grid = [(p, wd) for p in dropouts for wd in weight_decays]
    loss_fn = nn.CrossEntropyLoss()
    bar = None
    if progress if progress is not None else not is_autograding():
        from tqdm.auto import tqdm

        bar = tqdm(total=len(grid), desc="grid of runs", leave=False)

    def log_test(epoch, history, model):
        on_test = evaluate(model, test_data, loss_fn)
        history.log(test_loss=on_test["loss"], test_acc=on_test["acc"])

    for p, wd in grid:
        torch.manual_seed(seed)
        model = MLP(num_features, num_classes, width=width, dropout=p)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
        runs[(p, wd)] = fit(model, train_data, loss_fn, optimizer, num_epochs, batch_size=batch_size,
                            val_data=val_data, device=device, seed=seed, progress=False,
                            callbacks=[log_test] if test_data is not None else [])
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return runs


def choose_on_validation(runs: Mapping[tuple, Mapping], metric: str = "val_acc") -> tuple:
    """The key of the run with the best final validation ``metric`` (highest accuracy, lowest
    loss); the first one in order on a tie."""
    if not metric.startswith("val_"):
        raise ValueError(f"choose on a validation metric (val_...), not {metric!r}")
    sign = -1.0 if metric.endswith("loss") else 1.0
    return max(runs, key=lambda key: sign * runs[key][metric][-1])
