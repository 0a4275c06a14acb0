"""The regularization sweep and its explorer."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from course.data import digits_split
from course.models import MLP
from course.regularization_widgets import regularization_explorer, sweep
from course.training import fit


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float)


@pytest.fixture(scope="module")
def runs():
    split = digits_split(seed=0, standardized=False, n_train=64)
    return sweep(split.train, split.val, 10, dropouts=[0.0, 0.5], weight_decays=[0.0, 10.0], num_epochs=3,
                 width=16, lr=1e-2, progress=False, device="cpu")


def test_one_run_per_pair(runs):
    """Is there a history for every (dropout, weight decay) pair, of the asked length?"""
    assert set(runs) == {(0.0, 0.0), (0.0, 10.0), (0.5, 0.0), (0.5, 10.0)}
    assert all(h.num_epochs == 3 and "val_acc" in h for h in runs.values())


def test_runs_differ_only_by_their_settings(runs):
    """Same seed: a repeat is identical, and each regularizer changes the run?"""
    split = digits_split(seed=0, standardized=False, n_train=64)
    again = sweep(split.train, split.val, 10, dropouts=[0.0], weight_decays=[0.0], num_epochs=3, width=16,
                  lr=1e-2, progress=False, device="cpu")
    assert again[(0.0, 0.0)]["train_loss"] == runs[(0.0, 0.0)]["train_loss"]
    assert runs[(0.5, 0.0)]["train_loss"] != runs[(0.0, 0.0)]["train_loss"]
    assert runs[(0.0, 10.0)]["train_loss"] != runs[(0.0, 0.0)]["train_loss"]


def test_a_run_is_fit_with_torch_adamw():
    """Is the (dropout, weight decay) run exactly MLP(dropout) trained by fit with torch.optim.AdamW?"""
    split = digits_split(seed=0, standardized=False, n_train=32)
    runs = sweep(split.train, split.val, 10, dropouts=[0.5], weight_decays=[1.0], num_epochs=2,
                 width=8, lr=0.05, batch_size=16, seed=3, progress=False, device="cpu")
    torch.manual_seed(3)
    model = MLP(64, 10, width=8, dropout=0.5)
    history = fit(model, split.train, nn.CrossEntropyLoss(), torch.optim.AdamW(model.parameters(), lr=0.05,
                  weight_decay=1.0), 2, batch_size=16, val_data=split.val, seed=3, progress=False, device="cpu")
    assert runs[(0.5, 1.0)]["val_loss"] == history["val_loss"]


def test_static_figure_and_live_update(runs, monkeypatch):
    """Headless a four-panel PNG; live, does moving the dropout slider change the curves?"""
    monkeypatch.setenv("COURSE_STATIC", "1")
    assert pixels(regularization_explorer(runs).png()).shape[0] > 200
    monkeypatch.setenv("COURSE_STATIC", "0")
    explorer = regularization_explorer(runs)
    before = pixels(explorer.png())
    explorer.set(dropout=0.5)
    assert np.abs(before - pixels(explorer.png())).mean() > 0.05
