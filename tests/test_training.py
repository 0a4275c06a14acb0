"""The one training loop, checked against loops and formulas written out by hand.

The GPU path is exercised without a GPU too: host reads are counted with a dispatch mode
(``.item()``, ``bool()``, ``float()`` all reach ``aten._local_scalar_dense``), bf16 autocast is
forced on the CPU, and the batch order is drawn on the CPU whatever the device. Tests that
need CUDA are marked ``gpu`` and skipped without it.
"""
from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

import course.device as device_module
import course.training as training
from course.device import describe_device
from course.data import digits_split
from course.models import CNN
from course.training import AMP_MIN_WORK, EarlyStopping, History, Precision, choose_precision, evaluate, fit, predict

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits():
    split = digits_split(seed=0, standardized=False)
    # a few hundred examples keep every test under a second
    return split.X_train[:300], split.y_train[:300], split.X_val[:120], split.y_val[:120]


def mlp(seed=0, hidden=32, out=10, dropout=0.0):
    torch.manual_seed(seed)
    layers = [nn.Linear(64, hidden), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(hidden, out))


def quiet_fit(*args, **kwargs):
    kwargs.setdefault("progress", False)
    kwargs.setdefault("device", CPU)
    return fit(*args, **kwargs)


def hand_loop(model, X, y, lr, batch_size, seed, num_epochs):
    """What fit promises, written out: each epoch a fresh permutation from a CPU generator seeded
    once, consecutive batches of it, torch.optim.SGD; returns per-epoch (mean loss, accuracy)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    records = []
    for _ in range(num_epochs):
        total, correct = 0.0, 0
        for idx in torch.randperm(len(X), generator=generator).split(batch_size):
            y_hat = model(X[idx])
            loss = F.cross_entropy(y_hat, y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
            correct += (y_hat.argmax(dim=1) == y[idx]).sum().item()
        records.append((total / len(X), correct / len(X)))
    return records


@pytest.mark.parametrize("num_epochs, batch_size", [(1, 32), (3, 50)])
def test_fit_matches_a_hand_unrolled_sgd_loop(digits, num_epochs, batch_size):
    """Do the weights and logged metrics after fit equal a plain loop over the same seeded batches?"""
    X, y, _, _ = digits
    model = mlp()
    reference = copy.deepcopy(model)
    history = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.05),
                        num_epochs, batch_size=batch_size, seed=7)
    records = hand_loop(reference, X, y, 0.05, batch_size, seed=7, num_epochs=num_epochs)
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    assert history["train_loss"] == pytest.approx([r[0] for r in records], rel=1e-5)
    assert history["train_acc"] == pytest.approx([r[1] for r in records], abs=1e-7)
    assert history["lr"] == [0.05] * num_epochs
    assert len(history["time"]) == history.num_epochs == num_epochs


def test_the_same_seed_gives_the_same_run_and_leaves_the_global_generator_alone(digits):
    """Does a seed fix the batches without drawing from torch's global random numbers?"""
    X, y, _, _ = digits
    runs = []
    for seed in (1, 1, 2):
        model = mlp()
        state = torch.get_rng_state()
        runs.append(quiet_fit(model, (X, y), nn.CrossEntropyLoss(),
                              torch.optim.SGD(model.parameters(), lr=0.05), 2, seed=seed))
        assert torch.equal(state, torch.get_rng_state())
    assert runs[0]["train_loss"] == runs[1]["train_loss"]
    assert runs[0]["train_loss"] != runs[2]["train_loss"]


def test_without_a_seed_the_batches_follow_the_global_seed(digits):
    """Does torch.manual_seed alone make two runs repeat (the order is drawn on the CPU)?"""
    X, y, _, _ = digits
    losses = []
    for _ in range(2):
        model = mlp()
        torch.manual_seed(123)
        losses.append(quiet_fit(model, (X, y), nn.CrossEntropyLoss(),
                                torch.optim.SGD(model.parameters(), lr=0.05), 2)["train_loss"])
    assert losses[0] == losses[1]


def test_evaluate_equals_a_full_batch_computation(digits):
    """Is evaluate's loss the full-batch cross-entropy and its accuracy the argmax hit rate, in any batch size?"""
    X, y, X_val, y_val = digits
    model = mlp(seed=3)
    with torch.no_grad():
        y_hat = model(X_val)
        loss, acc = F.cross_entropy(y_hat, y_val).item(), (y_hat.argmax(1) == y_val).float().mean().item()
    for batch_size in (7, 64, 1024):
        result = evaluate(model, (X_val, y_val), nn.CrossEntropyLoss(), batch_size=batch_size)
        assert result["loss"] == pytest.approx(loss, rel=1e-5)
        assert result["acc"] == pytest.approx(acc, abs=1e-7)


def test_evaluate_computes_no_gradients_and_restores_the_mode(digits):
    """Does evaluate use eval mode (dropout off), build no graph and leave the model in training mode?"""
    _, _, X_val, y_val = digits
    model = mlp(dropout=0.9)
    model.train()
    first = evaluate(model, (X_val, y_val), nn.CrossEntropyLoss())
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert evaluate(model, (X_val, y_val), nn.CrossEntropyLoss()) == first  # no dropout noise
    model.eval()
    evaluate(model, (X_val, y_val), nn.CrossEntropyLoss())
    assert not model.training


def test_a_sum_reduced_loss_is_still_reported_per_example(digits):
    """With reduction='sum', is the reported loss the mean over examples, not a sum of sums?"""
    _, _, X_val, y_val = digits
    model = mlp()
    mean = evaluate(model, (X_val, y_val), nn.CrossEntropyLoss(), batch_size=50)["loss"]
    summed = evaluate(model, (X_val, y_val), nn.CrossEntropyLoss(reduction="sum"), batch_size=50)["loss"]
    assert summed == pytest.approx(mean, rel=1e-5)


@pytest.mark.parametrize("shape", ["(N,)", "(N, 1)"])
def test_binary_logits_with_bce_get_an_accuracy(shape):
    """With BCEWithLogitsLoss and float labels, is accuracy the share of logits on the label's side of 0?"""
    torch.manual_seed(0)
    X = torch.randn(200, 64)
    y = (X[:, 0] + 0.5 * torch.randn(200) > 0).float()
    model = nn.Sequential(nn.Linear(64, 1), nn.Flatten(0)) if shape == "(N,)" else nn.Linear(64, 1)
    labels = y if shape == "(N,)" else y.unsqueeze(1)
    history = quiet_fit(model, (X, labels), nn.BCEWithLogitsLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                        2, batch_size=32, val_data=(X, labels), seed=0)
    with torch.no_grad():
        logits = model(X).reshape(-1)
    assert history["val_acc"][-1] == pytest.approx(((logits > 0).float() == y).float().mean().item(), abs=1e-7)
    assert history["val_loss"][-1] == pytest.approx(F.binary_cross_entropy_with_logits(logits, y).item(), rel=1e-5)
    assert "train_acc" in history


def test_probabilities_with_bce_loss_are_thresholded_at_one_half():
    """With a sigmoid output and BCELoss, is a prediction positive above 0.5 rather than above 0?"""
    torch.manual_seed(0)
    X = torch.randn(100, 64)
    y = (torch.rand(100) > 0.5).float().unsqueeze(1)
    model = nn.Sequential(nn.Linear(64, 1), nn.Sigmoid())
    result = evaluate(model, (X, y), nn.BCELoss())
    with torch.no_grad():
        expected = ((model(X) > 0.5).float() == y).float().mean().item()
    assert result["acc"] == pytest.approx(expected, abs=1e-7)


def test_regression_gets_a_loss_and_no_accuracy():
    """Does an MSE regression log its loss and no meaningless accuracy?"""
    torch.manual_seed(0)
    X = torch.randn(100, 64)
    y = X[:, :1] * 2.0
    model = nn.Linear(64, 1)
    history = quiet_fit(model, (X, y), nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.01), 2,
                        val_data=(X, y))
    assert "train_acc" not in history and "val_acc" not in history
    with torch.no_grad():
        assert history["val_loss"][-1] == pytest.approx(F.mse_loss(model(X), y).item(), rel=1e-5)


def test_one_hot_or_mixed_labels_are_scored_by_their_argmax(digits):
    """With soft labels (Mixup), is accuracy the argmax of the output against the argmax of the label?"""
    _, _, X_val, y_val = digits
    soft = 0.7 * F.one_hot(y_val, 10).float() + 0.3 / 10
    model = mlp(seed=5)
    result = evaluate(model, (X_val, soft), nn.CrossEntropyLoss())
    with torch.no_grad():
        y_hat = model(X_val)
    assert result["acc"] == pytest.approx((y_hat.argmax(1) == y_val).float().mean().item(), abs=1e-7)
    assert result["loss"] == pytest.approx(F.cross_entropy(y_hat, soft).item(), rel=1e-5)


def test_numpy_float64_data_is_accepted(digits):
    """Can a student pass NumPy arrays (float64 features) straight from scikit-learn?"""
    X, y, _, _ = digits
    model = mlp()
    history = quiet_fit(model, (X.double().numpy(), y.numpy()), nn.CrossEntropyLoss(),
                        torch.optim.SGD(model.parameters(), lr=0.05), 1)
    assert math.isfinite(history["train_loss"][0])
    assert predict(model, X.double().numpy()[:5]).dtype == torch.float32


class HostReads(TorchDispatchMode):
    """Counts what would stall a GPU: scalar reads (.item(), bool(), float()), data-dependent
    shapes (nonzero, boolean masks, unique) and Tensor.tolist/numpy/cpu."""

    DATA_DEPENDENT = {"aten::_local_scalar_dense", "aten::nonzero", "aten::masked_select",
                      "aten::_unique2", "aten::unique_consecutive", "aten::unique_dim"}

    def __init__(self):
        super().__init__()
        self.reads = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name
        if name in self.DATA_DEPENDENT:
            self.reads.append(name)
        if name == "aten::index" and any(t is not None and t.dtype == torch.bool for t in args[1]):
            self.reads.append("boolean mask")
        return func(*args, **(kwargs or {}))


@pytest.fixture
def host_reads(monkeypatch):
    mode = HostReads()
    for method in ("tolist", "numpy", "cpu"):
        original = getattr(torch.Tensor, method)

        def counted(self, *args, _original=original, _method=method, **kwargs):
            mode.reads.append(_method)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counted)
    return mode


@pytest.mark.parametrize("loss_fn, binary", [(nn.CrossEntropyLoss(), False), (nn.BCEWithLogitsLoss(), True)])
def test_fit_reads_the_device_once_per_epoch_whatever_the_number_of_batches(digits, host_reads, loss_fn, binary):
    """Does an epoch (training and validation) read back to the host exactly once, with 19 batches or 2?"""
    X, y, X_val, y_val = digits
    if binary:
        y, y_val = (y < 5).float().unsqueeze(1), (y_val < 5).float().unsqueeze(1)
    for batch_size, num_epochs in ((16, 3), (256, 2)):
        model = mlp(out=1 if binary else 10)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        host_reads.reads.clear()
        with host_reads:
            quiet_fit(model, (X, y), loss_fn, optimizer, num_epochs, batch_size=batch_size,
                      val_data=(X_val, y_val), seed=0, amp=True)
        assert host_reads.reads == ["tolist"] * num_epochs


def test_evaluate_reads_the_device_once(digits, host_reads):
    """Does evaluate read all its metrics back in one transfer?"""
    _, _, X_val, y_val = digits
    with host_reads:
        evaluate(mlp(), (X_val, y_val), nn.CrossEntropyLoss(), batch_size=16)
    assert host_reads.reads == ["tolist"]


def test_forced_bf16_autocast_gives_the_same_run_within_tolerance(digits):
    """With amp forced on (bf16 autocast, here on the CPU), do the losses and weights stay close to float32?"""
    X, y, X_val, y_val = digits
    runs = {}
    for amp in (False, True):
        model = mlp()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        history = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 3, val_data=(X_val, y_val),
                            seed=0, amp=amp)
        runs[amp] = (history, model)
        assert all(p.dtype == torch.float32 for p in model.parameters())
        assert all(s.dtype == torch.float32 for st in optimizer.state.values()
                   for k, s in st.items() if k != "step")
    (h32, m32), (h16, m16) = runs[False], runs[True]
    assert h16["train_loss"] == pytest.approx(h32["train_loss"], rel=2e-2)
    assert h16["val_loss"] == pytest.approx(h32["val_loss"], rel=2e-2)
    assert h16["val_acc"][-1] == pytest.approx(h32["val_acc"][-1], abs=0.03)
    for p, q in zip(m16.parameters(), m32.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=2e-2)


def test_autocast_is_on_by_default_for_conv_or_large_networks_on_a_cuda_gpu_only(monkeypatch):
    """Is autocast off on a CPU and for small dense networks, on for a big one or a CNN on a GPU, fp16 where bf16 is missing?"""
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    small, big, cnn = nn.Linear(64, 10), nn.Linear(4096, 4096), CNN(10, width=8)
    gpu = torch.device("cuda")
    assert choose_precision(CPU, None, big, 1024) == Precision()
    assert choose_precision(CPU, None, cnn, 1024) == Precision()
    assert choose_precision(gpu, None, small, 256) == Precision()
    assert choose_precision(gpu, None, big, AMP_MIN_WORK // big.weight.numel() + 1) == Precision(torch.bfloat16)
    assert choose_precision(gpu, None, cnn, 64) == Precision(torch.bfloat16)
    assert choose_precision(gpu, False, big, 4096) == Precision()
    assert choose_precision(CPU, True, small, 1) == Precision(torch.bfloat16)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert choose_precision(gpu, None, cnn, 64) == Precision(torch.float16, scaled=True)
    assert choose_precision(CPU, "fp16", small, 1) == Precision(torch.float16, scaled=True)
    with pytest.raises(ValueError, match="amp must be"):
        choose_precision(CPU, "int8", small, 1)


def test_fp16_with_a_gradient_scaler_trains_like_float32(digits):
    """With amp='fp16' (autocast and a GradScaler, here on the CPU), do losses and float32 weights stay close to float32's?"""
    X, y, X_val, y_val = digits
    runs = {}
    for amp in (False, "fp16"):
        model = mlp()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        runs[amp] = (quiet_fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 3, val_data=(X_val, y_val),
                               seed=0, amp=amp), model)
        assert all(p.dtype == torch.float32 for p in model.parameters())
    (h32, m32), (h16, m16) = runs[False], runs["fp16"]
    assert h16["train_loss"] == pytest.approx(h32["train_loss"], rel=2e-2)
    assert h16["val_acc"][-1] == pytest.approx(h32["val_acc"][-1], abs=0.03)


def test_fp16_scales_the_loss_so_small_gradients_survive(monkeypatch):
    """Does the fp16 path multiply the loss by the scaler's factor before backward (gradients unscaled before the step)?"""
    scales = []
    real_scale = torch.amp.GradScaler.scale

    def spy(self, outputs):
        scaled = real_scale(self, outputs)
        scales.append(float(scaled.detach() / outputs.detach()))
        return scaled

    monkeypatch.setattr(torch.amp.GradScaler, "scale", spy)
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    X, y = torch.randn(32, 4), torch.randint(2, (32,))
    before = model.weight.detach().clone()
    quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 1,
              batch_size=16, amp="fp16")
    assert scales == [pytest.approx(2.0 ** 16)] * 2
    assert 0 < float((model.weight - before).abs().max()) < 1.0  # a normal-sized step: the scale was divided out


def test_channels_last_is_the_default_for_convolutional_networks_only():
    """On the CPU by default, is a CNN trained in NHWC and an MLP left alone?"""
    X, y = torch.randn(32, 3, 8, 8), torch.randint(2, (32,))
    cnn, dense = CNN(2, width=4, stages=1), nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2))
    for model in (cnn, dense):
        quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 1)
    assert cnn.features[0].conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert not training._use_channels_last(torch.device("cpu"), None, dense)
    assert not training._use_channels_last(torch.device("mps"), None, cnn)


def test_channels_last_keeps_the_run_and_changes_only_the_layout(digits):
    """Does channels_last=True give the same losses as the default layout, with the CNN's weights stored NHWC?"""
    torch.manual_seed(0)
    X, y = torch.randn(96, 3, 16, 16), torch.randint(4, (96,))
    runs = {}
    for nhwc in (False, True):
        torch.manual_seed(1)
        model = CNN(4, width=4)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        runs[nhwc] = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 2, batch_size=32, seed=0,
                               channels_last=nhwc)
        conv = model.features[0].conv.weight
        assert conv.is_contiguous(memory_format=torch.channels_last) is nhwc
    assert runs[True]["train_loss"] == pytest.approx(runs[False]["train_loss"], rel=1e-4)


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    """Given validation losses 3, 2, 1, 1.5, 1.6, does patience 2 stop at epoch 4 with epoch 2's weights?"""
    model = nn.Linear(1, 1, bias=False)
    stopper = EarlyStopping(patience=2)
    history = History()
    stopper.on_train_begin(history, model)
    stops = []
    for epoch, value in enumerate([3.0, 2.0, 1.0, 1.5, 1.6]):
        with torch.no_grad():
            model.weight.fill_(epoch)
        history.log(val_loss=value)
        stops.append(stopper(epoch, history, model))
    assert stops == [False, False, False, False, True]
    assert (stopper.best_epoch, stopper.stopped_epoch) == (2, 4)
    stopper.on_train_end(history, model)
    assert model.weight.item() == 2.0


def test_early_stopping_in_fit_keeps_the_epoch_with_the_best_validation_accuracy(digits):
    """Through fit, monitoring val_acc in max mode, does the model end with the weights of its best epoch,
    also when training runs out of epochs before patience does?"""
    X, y, X_val, y_val = digits
    snapshots = []

    def snapshot(epoch, history, model):
        snapshots.append(copy.deepcopy(model.state_dict()))

    for patience, num_epochs in ((2, 30), (50, 6)):
        snapshots.clear()
        model = mlp()
        stopper = EarlyStopping(patience=patience, monitor="val_acc", mode="max")
        # labels shifted by one on the validation set: the better the fit, the worse the score
        history = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-2),
                            num_epochs, val_data=(X_val, (y_val + 1) % 10), callbacks=[snapshot, stopper], seed=0)
        best = int(np.argmax(history["val_acc"]))
        assert stopper.best_epoch == best
        if patience < num_epochs:
            assert history.num_epochs == best + patience + 1 < num_epochs
        for key, value in model.state_dict().items():
            assert torch.equal(value, snapshots[best][key])


def test_early_stopping_says_what_to_do_without_validation_data(digits):
    """Monitoring val_loss without val_data: does the error name the missing key and the fix?"""
    X, y, _, _ = digits
    model = mlp()
    with pytest.raises(KeyError, match="val_data"):
        quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 2,
                  callbacks=[EarlyStopping()])


def test_a_nan_loss_stops_training_and_is_logged(digits):
    """When the loss becomes NaN, does fit stop after that epoch and log the NaN for the lesson to show?"""
    X, y, _, _ = digits
    model = mlp()

    def loss_fn(y_hat, y):
        return F.cross_entropy(y_hat, y) * float("nan")

    history = quiet_fit(model, (X, y), loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), 5)
    assert history.num_epochs == 1 and math.isnan(history["train_loss"][0])


@pytest.mark.parametrize("batch_size", [64, 100])
def test_an_infinite_loss_is_logged_as_infinite(digits, batch_size):
    """When every batch's loss is +inf, is the epoch's loss logged as inf rather than NaN?"""
    X, y, _, _ = digits
    model = mlp()

    def loss_fn(y_hat, y):
        return F.cross_entropy(y_hat, y) + float("inf")

    history = quiet_fit(model, (X, y), loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), 5,
                        batch_size=batch_size)
    assert history.num_epochs == 1 and history["train_loss"][0] == math.inf


def test_callbacks_are_called_every_epoch_and_can_stop_training(digits):
    """Is a callback called after each epoch with the history so far, and does returning True stop?"""
    X, y, _, _ = digits
    calls = []

    class Recorder:
        def __init__(self):
            self.events = []

        def on_train_begin(self, history, model):
            self.events.append("begin")

        def __call__(self, epoch, history, model):
            calls.append((epoch, history.num_epochs))
            return epoch == 2

        def on_train_end(self, history, model):
            self.events.append("end")

    recorder = Recorder()
    model = mlp()
    history = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 10,
                        callbacks=[recorder])
    assert calls == [(0, 1), (1, 2), (2, 3)] and history.num_epochs == 3
    assert recorder.events == ["begin", "end"]


def test_schedulers_step_per_epoch_or_per_batch(digits):
    """Is the logged lr the one each epoch trained with, for StepLR per epoch and OneCycleLR per batch?"""
    X, y, X_val, y_val = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    history = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 5, scheduler=scheduler)
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])

    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = math.ceil(len(X) / 64)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.5, total_steps=3 * batches)
    history = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 3, scheduler=scheduler,
                        scheduler_interval="batch")  # OneCycleLR raises if stepped once too often
    assert scheduler.last_epoch == 3 * batches
    assert history["lr"][0] == pytest.approx(0.5 / 25)


def test_reduce_on_plateau_is_given_the_validation_loss(digits, monkeypatch):
    """Is ReduceLROnPlateau stepped with the epoch's validation loss?"""
    X, y, X_val, y_val = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    seen = []
    monkeypatch.setattr(scheduler, "step", lambda metric: seen.append(metric))
    history = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 3, val_data=(X_val, y_val),
                        scheduler=scheduler)
    assert seen == history["val_loss"]
    with pytest.raises(ValueError, match="per epoch"):
        quiet_fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 1, scheduler=scheduler,
                  scheduler_interval="batch")


def test_transform_sees_every_training_batch_on_the_device_and_never_validation(digits):
    """Does a batch transform (augmentation) get each training batch once per epoch, and no validation batch?"""
    X, y, X_val, y_val = digits
    seen = []

    def transform(X_batch, y_batch):
        seen.append(len(X_batch))
        return X_batch + 0.01 * torch.randn_like(X_batch), y_batch

    model = mlp()
    quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 2,
              batch_size=128, val_data=(X_val, y_val), transform=transform)
    assert seen == [128, 128, 44] * 2


def test_a_transform_that_changes_batch_sizes_is_averaged_per_example(digits):
    """If a transform drops examples from every other batch, is the logged loss still the mean over
    the examples the model saw?"""
    X, y, _, _ = digits
    kept = []

    def drop(X_batch, y_batch):
        if len(kept) % 2:
            X_batch, y_batch = X_batch[:20], y_batch[:20]
        kept.append((X_batch, y_batch))
        return X_batch, y_batch

    model = mlp()
    history = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.0), 1,
                        transform=drop)
    X_seen, y_seen = torch.cat([k[0] for k in kept]), torch.cat([k[1] for k in kept])
    assert [len(k[0]) for k in kept] == [64, 20, 64, 20, 44]
    with torch.no_grad():
        assert history["train_loss"][0] == pytest.approx(F.cross_entropy(model(X_seen), y_seen).item(), rel=1e-5)
        accuracy = (model(X_seen).argmax(1) == y_seen).float().mean().item()
    assert history["train_acc"][0] == pytest.approx(accuracy, abs=1e-7)


def test_mixup_style_transform_scores_training_accuracy_against_the_mixed_labels(digits):
    """With a transform that turns labels into soft ones, does the training accuracy use their argmax?"""
    X, y, _, _ = digits

    def to_soft(X_batch, y_batch):
        return X_batch, 0.8 * F.one_hot(y_batch, 10).float() + 0.02

    model = mlp()
    history = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.0), 1,
                        transform=to_soft)
    with torch.no_grad():
        expected = (model(X).argmax(1) == y).float().mean().item()
    assert history["train_acc"][0] == pytest.approx(expected, abs=1e-7)


def test_fit_leaves_the_model_in_the_mode_it_found(digits):
    """After fit with validation (which runs in eval mode), is the model back in training mode?"""
    X, y, X_val, y_val = digits
    model = mlp(dropout=0.5)
    quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 1,
              val_data=(X_val, y_val))
    assert model.training


def test_predict_gives_eval_mode_outputs_without_gradients(digits):
    """Does predict equal the model in eval mode, in any batch size, with no graph attached?"""
    _, _, X_val, _ = digits
    model = mlp(dropout=0.5)
    model.eval()
    with torch.no_grad():
        expected = model(X_val)
    model.train()
    y_hat = predict(model, X_val, batch_size=50)
    torch.testing.assert_close(y_hat, expected)
    assert not y_hat.requires_grad and model.training


def test_data_that_is_not_a_pair_of_tensors_is_refused_with_the_reason(digits):
    """Given a DataLoader, or X and y of different lengths, does fit say what it expects?"""
    X, y, _, _ = digits
    model = mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=32)
    with pytest.raises(TypeError, match="pair of tensors"):
        quiet_fit(model, loader, nn.CrossEntropyLoss(), optimizer, 1)
    with pytest.raises(ValueError, match="300 examples but y has 299"):
        quiet_fit(model, (X, y[:-1]), nn.CrossEntropyLoss(), optimizer, 1)


def test_int32_labels_are_widened_for_the_loss(digits):
    """Do int32 labels (NumPy's default on Windows) train like int64 ones?"""
    X, y, _, _ = digits
    runs = []
    for labels in (y, y.int()):
        model = mlp()
        runs.append(quiet_fit(model, (X, labels), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                              1, seed=0)["train_loss"])
    assert runs[0] == runs[1]


def test_empty_data_is_refused():
    """Does fit say so when given no examples, instead of dividing by zero?"""
    model = mlp()
    with pytest.raises(ValueError, match="empty"):
        quiet_fit(model, (torch.zeros(0, 64), torch.zeros(0, dtype=torch.long)), nn.CrossEntropyLoss(),
                  torch.optim.SGD(model.parameters(), lr=0.1), 1)


def test_fit_gives_torch_a_sensible_cpu_thread_count(digits, monkeypatch):
    """Training on the CPU: does torch end up with no more threads than this process has cores?"""
    from course.device import usable_cpu_cores

    X, y, _, _ = digits
    threads = torch.get_num_threads()
    monkeypatch.setattr(device_module, "_threads_chosen", [])
    try:
        torch.set_num_threads(64)
        model = mlp()
        quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 1)
        assert 1 <= torch.get_num_threads() <= usable_cpu_cores()
    finally:
        torch.set_num_threads(threads)


def test_the_thread_count_a_lecture_prints_is_the_one_fit_trains_with(digits, monkeypatch):
    """Does describe_device('cpu'), called before training, name the thread count fit then keeps?"""
    X, y, _, _ = digits
    threads = torch.get_num_threads()
    monkeypatch.setattr(device_module, "_threads_chosen", [])
    monkeypatch.setenv("COURSE_CPU_THREADS", "1")
    try:
        torch.set_num_threads(2)
        described = describe_device("cpu")
        model = mlp()
        quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 1)
        assert described == "cpu (1 thread)" and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)


def test_a_progress_bar_can_be_shown(digits, capsys):
    """With progress=True, does fit draw a bar and still return the full history?"""
    X, y, _, _ = digits
    model = mlp()
    history = quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), 2,
                        progress=True, desc="digits")
    assert history.num_epochs == 2
    assert "digits" in capsys.readouterr().err


@pytest.mark.slow
def test_compiled_forward_gives_the_same_run(digits):
    """With compile_model=True (torch.compile), are the losses those of the eager run?"""
    X, y, X_val, y_val = digits
    runs = []
    for compile_model in (False, True):
        model = mlp()
        try:
            runs.append(quiet_fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.05),
                                  2, batch_size=100, val_data=(X_val, y_val), seed=0, compile_model=compile_model))
        except Exception as error:  # no C++ compiler, an unsupported Python: compiling is optional
            if compile_model:
                pytest.skip(f"torch.compile is not usable here: {type(error).__name__}")
            raise
    assert runs[1]["train_loss"] == pytest.approx(runs[0]["train_loss"], rel=1e-4)
    assert runs[1]["val_acc"] == pytest.approx(runs[0]["val_acc"], abs=1e-6)


# --- on a CUDA GPU ---------------------------------------------------------------------------

@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("amp", [False, True])
def test_on_the_gpu_an_epoch_synchronises_once(digits, amp):
    """With CUDA's sync debug mode on, does each epoch of fit (training and validation) sync exactly once?"""
    X, y, X_val, y_val = digits
    model = mlp().cuda()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 1, device="cuda", progress=False, amp=amp)  # warm-up
    torch.cuda.synchronize()
    previous = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 3, batch_size=16, val_data=(X_val, y_val),
                device="cuda", progress=False, amp=amp, seed=0)
    finally:
        torch.cuda.set_sync_debug_mode(previous)
    syncs = [w for w in caught if "synchroniz" in str(w.message)]
    assert len(syncs) == 3, [str(w.message) for w in syncs]


@pytest.mark.gpu
@cuda
def test_cpu_and_gpu_give_the_same_run(digits):
    """With the same seed and amp off, do the CPU and the GPU log the same numbers within float tolerance?"""
    X, y, X_val, y_val = digits
    histories = {}
    for device in ("cpu", "cuda"):
        model = mlp()
        histories[device] = fit(model, (X, y), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.05),
                                3, val_data=(X_val, y_val), device=device, progress=False, amp=False, seed=0)
    for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
        assert histories["cuda"][key] == pytest.approx(histories["cpu"][key], rel=1e-3, abs=1e-3)


@pytest.mark.gpu
@cuda
def test_on_the_gpu_bf16_keeps_float32_parameters_and_a_close_loss(digits):
    """Under bf16 autocast on the GPU, are the weights, gradients and optimizer state float32 and the losses close?"""
    X, y, X_val, y_val = digits
    histories = {}
    for amp in (False, True):
        model = mlp()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        histories[amp] = fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 3, val_data=(X_val, y_val),
                             device="cuda", progress=False, amp=amp, seed=0)
        assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in model.parameters())
        assert all(s.dtype == torch.float32 for st in optimizer.state.values() for k, s in st.items() if k != "step")
    assert histories[True]["val_loss"] == pytest.approx(histories[False]["val_loss"], rel=2e-2)


@pytest.mark.gpu
@cuda
def test_an_optimizer_trained_on_the_cpu_follows_its_model_to_the_gpu(digits):
    """After an epoch on the CPU, can the same model and Adam go on training on the GPU?"""
    X, y, _, _ = digits
    model = mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 1, device="cpu", progress=False)
    history = fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 1, device="cuda", progress=False)
    assert math.isfinite(history["train_loss"][0])
    assert all(s.device.type == "cuda" for st in optimizer.state.values() for k, s in st.items() if k != "step")


# --- the CNN fast path on a CUDA GPU: autocast, channels_last, batches on the device, no sync per step ---

def _shapes(n=512):
    """Generated images on the CPU, as a lecture passes them to fit: (train, val) pairs."""
    from course.data import image_split

    split = image_split(n_train=n, n_val=128, n_test=0, seed=0)
    return split.train, split.val


def _count_syncs(run) -> int:
    torch.cuda.synchronize()
    previous = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run()
    finally:
        torch.cuda.set_sync_debug_mode(previous)
    return len([w for w in caught if "synchroniz" in str(w.message)])


@pytest.mark.gpu
@cuda
@pytest.mark.parametrize("amp, fused", [(None, False), ("fp16", True)])
def test_on_the_gpu_a_cnn_epoch_synchronises_once_whatever_the_number_of_steps(amp, fused):
    """With autocast (bf16, or fp16 with a scaler and a fused Adam) and channels_last, does an epoch of 32 steps sync once?"""
    train, val = _shapes()
    model = CNN(10, width=16)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    loss_fn = nn.CrossEntropyLoss()
    fit(model, train, loss_fn, optimizer, 1, batch_size=16, device="cuda", progress=False, amp=amp)  # warm-up
    syncs = _count_syncs(lambda: fit(model, train, loss_fn, optimizer, 3, batch_size=16, val_data=val,
                                     device="cuda", progress=False, amp=amp, seed=0))
    assert syncs == 3


@pytest.mark.gpu
@cuda
def test_on_the_gpu_a_cnn_runs_under_bf16_autocast_in_channels_last():
    """By default on a bf16 GPU, do the convolutions see NHWC inputs and compute in bf16, with float32 weights kept?"""
    assert torch.cuda.is_bf16_supported()
    train, _ = _shapes(n=128)
    model = CNN(10, width=8)
    seen = []
    model.features[0].conv.register_forward_hook(
        lambda module, inputs, output: seen.append((inputs[0].is_contiguous(memory_format=torch.channels_last),
                                                   output.dtype)))
    fit(model, train, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.01), 1, batch_size=64,
        device="cuda", progress=False)
    assert seen and all(nhwc and dtype == torch.bfloat16 for nhwc, dtype in seen)
    assert model.features[0].conv.weight.dtype == torch.float32
    assert model.features[0].conv.weight.is_contiguous(memory_format=torch.channels_last)


class HostToDevice(TorchDispatchMode):
    """Counts copies from the CPU to a CUDA device."""

    def __init__(self):
        super().__init__()
        self.copies = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._schema.name
        if name == "aten::_to_copy" and args[0].device.type == "cpu" and str(kwargs.get("device", "")).startswith("cuda"):
            self.copies += 1
        if name == "aten::copy_" and args[0].device.type == "cuda" and args[1].device.type == "cpu":
            self.copies += 1
        return func(*args, **kwargs)


@pytest.mark.gpu
@cuda
def test_on_the_gpu_batches_are_drawn_on_the_device_not_copied_per_step():
    """Once the data is resident, does an epoch of 32 steps copy from the host once (the permutation), not per batch?"""
    train, _ = _shapes()
    X, y = (t.cuda() for t in train)
    model = CNN(10, width=8).cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with HostToDevice() as counter:
        fit(model, (X, y), nn.CrossEntropyLoss(), optimizer, 2, batch_size=16, device="cuda", progress=False, seed=0)
    assert counter.copies <= 2
