"""Tests for course.regularization_grid: the grid of runs, with test figures, and choosing on validation."""
from __future__ import annotations

import pytest
import torch
from sklearn.metrics import accuracy_score
from torch import nn

from course.data import digits_split
from course.models import MLP
from course.regularization_grid import choose_on_validation, sweep
from course.shapes import make_shapes
from course.training import fit, predict


@pytest.fixture(scope="module")
def runs():
    split = digits_split(seed=0, standardized=False, n_train=64)
    return sweep(split.train, split.val, 10, dropouts=[0.0, 0.5], weight_decays=[0.0, 10.0], num_epochs=3,
                 test_data=split.test, width=16, lr=1e-2, progress=False, device="cpu")


def test_one_run_per_pair(runs):
    """Is there a history for every (dropout, weight decay) pair, of the asked length?"""
    assert set(runs) == {(0.0, 0.0), (0.0, 10.0), (0.5, 0.0), (0.5, 10.0)}
    assert all(h.num_epochs == 3 and len(h["val_acc"]) == len(h["test_acc"]) == 3 for h in runs.values())


def test_runs_differ_only_by_their_settings(runs):
    """Same seed: a repeat is identical, and each regularizer changes the run?"""
    split = digits_split(seed=0, standardized=False, n_train=64)
    again = sweep(split.train, split.val, 10, dropouts=[0.0], weight_decays=[0.0], num_epochs=3, width=16,
                  lr=1e-2, progress=False, device="cpu")
    assert again[(0.0, 0.0)]["train_loss"] == runs[(0.0, 0.0)]["train_loss"]
    assert runs[(0.5, 0.0)]["train_loss"] != runs[(0.0, 0.0)]["train_loss"]
    assert runs[(0.0, 10.0)]["train_loss"] != runs[(0.0, 0.0)]["train_loss"]


def test_a_run_is_fit_with_torch_adamw_and_reports_its_test_accuracy():
    """Is the (dropout, weight decay) run exactly MLP(dropout) trained by fit with torch.optim.AdamW,
    and its last test accuracy that of the trained model's predictions on the test split?"""
    split = digits_split(seed=0, standardized=False, n_train=32)
    runs = sweep(split.train, split.val, 10, dropouts=[0.5], weight_decays=[1.0], num_epochs=2,
                 test_data=split.test, width=8, lr=0.05, batch_size=16, seed=3, progress=False, device="cpu")
    torch.manual_seed(3)
    model = MLP(64, 10, width=8, dropout=0.5)
    history = fit(model, split.train, nn.CrossEntropyLoss(), torch.optim.AdamW(model.parameters(), lr=0.05,
                  weight_decay=1.0), 2, batch_size=16, val_data=split.val, seed=3, progress=False, device="cpu")
    assert runs[(0.5, 1.0)]["val_loss"] == history["val_loss"]
    y_hat = predict(model, split.test[0]).argmax(dim=1)
    assert runs[(0.5, 1.0)]["test_acc"][-1] == pytest.approx(accuracy_score(split.test[1], y_hat))


def test_images_train_an_mlp_on_every_pixel():
    """Given images (N, C, H, W), does each run train an MLP on all C·H·W inputs, as the same MLP
    fit by hand on the same images does?"""
    X, y = make_shapes(48, size=8, seed=0)
    train, val = (X[:32], y[:32]), (X[32:], y[32:])
    runs = sweep(train, val, 10, dropouts=[0.0], weight_decays=[0.1], num_epochs=2, width=8, lr=0.01,
                 batch_size=16, seed=1, progress=False, device="cpu")
    torch.manual_seed(1)
    model = MLP(3 * 8 * 8, 10, width=8)
    history = fit(model, train, nn.CrossEntropyLoss(), torch.optim.AdamW(model.parameters(), lr=0.01,
                  weight_decay=0.1), 2, batch_size=16, val_data=val, seed=1, progress=False, device="cpu")
    assert runs[(0.0, 0.1)]["val_loss"] == history["val_loss"]


def test_the_winner_is_chosen_on_validation_never_on_test():
    """When validation and test disagree, is the run with the best final validation metric chosen
    (highest accuracy, lowest loss), whatever its test figure, and is choosing on test refused?"""
    runs = {("a",): {"val_acc": [0.5, 0.9], "val_loss": [1.0, 0.4], "test_acc": [0.5, 0.7]},
            ("b",): {"val_acc": [0.6, 0.8], "val_loss": [1.0, 0.3], "test_acc": [0.6, 0.95]}}
    assert choose_on_validation(runs, "val_acc") == ("a",)
    assert choose_on_validation(runs, "val_loss") == ("b",)
    with pytest.raises(ValueError, match="validation"):
        choose_on_validation(runs, "test_acc")
