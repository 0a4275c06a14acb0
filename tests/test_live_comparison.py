"""Tests for course.plots.LiveComparison: several fit() runs in one live figure."""
from __future__ import annotations

import torch

from course.plots import LiveComparison
from course.training import fit


def _run(live, label, lr):
    torch.manual_seed(0)
    X, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    model = torch.nn.Linear(4, 3)
    return fit(model, (X, y), torch.nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=lr),
               num_epochs=3, batch_size=16, val_data=(X, y), progress=False, device="cpu",
               callbacks=[live.run(label)])


def test_headless_draws_once_at_the_end(monkeypatch):
    """Headless, do the runs only record their histories, and finish() draw one panel per key?"""
    monkeypatch.setenv("COURSE_STATIC", "1")
    live = LiveComparison(keys=("train_loss", "val_acc"), ylim={"train_loss": (0.01, 10)})
    first = _run(live, "slow", 0.01)
    _run(live, "fast", 0.5)
    assert live.fig is None  # nothing drawn while training
    assert list(live.histories) == ["slow", "fast"] and live.histories["slow"] is first
    live.finish()
    assert [ax.get_ylabel() for ax in live.axes] == ["train_loss", "val_acc"]
    assert live.axes[0].get_ylim() == (0.01, 10)
    labels = [line.get_label() for line in live.axes[1].lines]
    assert labels == ["slow", "fast"]
    assert list(live.axes[1].lines[1].get_ydata()) == live.histories["fast"]["val_acc"]


def test_live_redraws_while_training(monkeypatch):
    """Live, is the figure drawn during training, not only by finish()?"""
    monkeypatch.setenv("COURSE_STATIC", "0")
    live = LiveComparison(keys=("train_loss",), min_interval=0.0)
    _run(live, "a", 0.1)
    assert live.fig is not None  # drawn by the callbacks, before any finish()
