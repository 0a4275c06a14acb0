"""How fast the course trains: figures to read, not a timed test.

    .venv/bin/python -m benchmarks.training                 # everything
    .venv/bin/python -m benchmarks.training --no-notebooks  # the training loops only
    .venv/bin/python -m benchmarks.training --quick         # notebooks as CI runs them
    COURSE_CPU_THREADS=2 .venv/bin/python -m benchmarks.training  # a fixed CPU thread count

1. The real-scale track's networks on the generated 32×32 shapes (:mod:`course.shapes`): the
   CNN at its full size (the size the lectures train on a GPU), the CNN at its CPU size, and
   the MLP, each trained through :func:`course.training.fit` and through the loop a student
   writes first (``TensorDataset`` + ``DataLoader(shuffle=True)`` over CPU tensors,
   ``.to(device)`` and ``.item()`` every batch), on the CPU and on the GPU when there is one.
   Both loops do the same work: a training and a validation pass per epoch, loss and accuracy.
   Printed: seconds per epoch (the fastest of ``--repeats`` runs) and training samples per
   second. On a CPU the rate is measured on a subset of the training images (the rate, not
   the epoch, is the figure). Targets on a GPU, for the full-size CNN: fit >= 3x the naive
   loop on that GPU, and >= 10x fit on a 2-core CPU.
2. Every ``course/lectures/*.ipynb`` and ``solutions/*/*.ipynb`` executed headless (nbclient,
   ``COURSE_STATIC=1``) with the heavy cells at their size for the device (``--quick``:
   the CI size), the time of each and the total (targets: each lecture under 60 s and all
   of them under 5 minutes on a 2-core CPU).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course.data import image_split
from course.device import configure_cpu_threads, describe_device, pick_device
from course.models import CNN, MLP
from course.training import fit

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Workload:
    """One network as the lectures train it on the generated shapes."""

    name: str
    model: Callable[[], nn.Module]
    batch_size: int
    lr: float
    n_train_gpu: int     # training images per epoch on a GPU
    n_train_cpu: int     # on a CPU: enough for a steady rate

    def make_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(model.parameters(), lr=self.lr)


WORKLOADS = [
    # the full-size CNN: what the lectures' heavy cells train on a GPU (workload(full=...))
    Workload("CNN full size: width 32, depth 2 (6 conv), Adam, batch 256", lambda: CNN(10, width=32, depth=2),
             256, 3e-3, 20_000, 1_024),
    # the CPU size the lectures train on a laptop: a strided stem, one block per stage
    Workload("CNN CPU size: width 16, strided stem, Adam, batch 64", lambda: CNN(10, width=16, stem_stride=2),
             64, 3e-3, 20_000, 2_048),
    Workload("MLP 3072-256-256, Adam, batch 64", lambda: MLP(3 * 32 * 32, 10, width=256), 64, 1e-3,
             20_000, 4_096),
]
FULL_SIZE = WORKLOADS[0].name


def naive_fit(model, train, val, loss_fn, optimizer, num_epochs, batch_size, device):
    """The loop a student writes first: a DataLoader over CPU tensors, a sync per batch."""
    train_loader = DataLoader(TensorDataset(*train), batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(TensorDataset(*val), batch_size=max(batch_size, 1024))
    model.to(device)
    for _ in range(num_epochs):
        model.train()
        total_loss, correct = 0.0, 0
        for X, y in train_loader:
            X, y = X.to(device), y.to(device)
            y_hat = model(X)
            loss = loss_fn(y_hat, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(X)
            correct += (y_hat.argmax(dim=1) == y).sum().item()
        model.eval()
        val_loss, val_correct = 0.0, 0
        with torch.no_grad():
            for X, y in val_loader:
                X, y = X.to(device), y.to(device)
                y_hat = model(X)
                val_loss += loss_fn(y_hat, y).item() * len(X)
                val_correct += (y_hat.argmax(dim=1) == y).sum().item()


def course_fit(model, train, val, loss_fn, optimizer, num_epochs, batch_size, device, **kwargs):
    fit(model, train, loss_fn, optimizer, num_epochs, batch_size=batch_size, val_data=val,
        device=device, progress=False, **kwargs)


LOOPS = {
    "naive": naive_fit,
    "fit": course_fit,  # on a CUDA GPU: autocast and channels_last by default
    "fit+comp": lambda *a, **k: course_fit(*a, compile_model=True, **k),  # with --compile
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_run(loop, workload: Workload, data, device, num_epochs: int, seed: int) -> float:
    """Seconds per epoch of one run of ``num_epochs`` epochs on a fresh model, after a warm-up epoch."""
    train, val = data
    torch.manual_seed(seed)
    model = workload.model().to(device)
    optimizer = workload.make_optimizer(model)
    loss_fn = nn.CrossEntropyLoss()
    loop(model, train, val, loss_fn, optimizer, 1, workload.batch_size, device)
    _sync(device)
    start = time.perf_counter()
    loop(model, train, val, loss_fn, optimizer, num_epochs, workload.batch_size, device)
    _sync(device)
    return (time.perf_counter() - start) / num_epochs


def benchmark_loops(devices, num_epochs: int, repeats: int, compile_model: bool) -> dict:
    """Every loop on every workload and device. The loops take turns, ``repeats`` rounds, and each
    keeps its fastest run: on a shared machine the minimum is the figure least disturbed by other
    work, and taking turns spreads any change in that work over all loops alike."""
    print("\n== training loops on the generated 32x32 shapes: a training and a validation pass per epoch ==")
    header = (f"{'workload':<62} {'device':<6} {'loop':<9} {'images':>6} {'s/epoch':>8} "
              f"{'samples/s':>10} {'vs naive':>8}")
    print(header)
    print("-" * len(header))
    results = {}
    for workload in WORKLOADS:
        for device in devices:
            n = workload.n_train_cpu if device.type == "cpu" else workload.n_train_gpu
            split = image_split(n_train=n, n_val=max(n // 10, 256), n_test=0, seed=0)
            labels = ["naive", "fit"] + (["fit+comp"] if compile_model else [])
            best = dict.fromkeys(labels, float("inf"))
            for repeat in range(repeats):
                for label in labels:
                    seconds = time_run(LOOPS[label], workload, (split.train, split.val), device, num_epochs, repeat)
                    best[label] = min(best[label], seconds)
            for label in labels:
                seconds = best[label]
                results[workload.name, device.type, label] = n / seconds
                ratio = f"{best['naive'] / seconds:7.1f}x" if label != "naive" else ""
                print(f"{workload.name:<62} {device.type:<6} {label:<9} {n:>6} {seconds:8.3f} "
                      f"{n / seconds:10,.0f} {ratio:>8}", flush=True)
    gpus = [d for d in devices if d.type != "cpu"]
    if gpus:
        gpu = gpus[0].type
        print(f"\n{gpu} fit against cpu fit (target >= 10x) and against {gpu} naive (target >= 3x), samples/s:")
        for workload in WORKLOADS:
            fast = results[workload.name, gpu, "fit"]
            print(f"  {workload.name:<62} {fast / results[workload.name, 'cpu', 'fit']:7.1f}x cpu "
                  f"{fast / results[workload.name, gpu, 'naive']:7.1f}x naive")
    else:
        print("\nno CUDA or MPS device here: the GPU figures are not measured")
    return results


def notebooks() -> list[Path]:
    return sorted((ROOT / "course" / "lectures").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*/*.ipynb"))


def slowest_cells(nb, count: int = 3) -> list[tuple[float, int, str]]:
    """The ``count`` slowest code cells of an executed notebook: (seconds, index, first line)."""
    from datetime import datetime

    timed = []
    for index, cell in enumerate(nb.cells):
        execution = cell.get("metadata", {}).get("execution", {})
        began, ended = execution.get("iopub.execute_input"), execution.get("shell.execute_reply")
        if cell.cell_type == "code" and began and ended:
            seconds = (datetime.fromisoformat(ended.replace("Z", "+00:00"))
                       - datetime.fromisoformat(began.replace("Z", "+00:00"))).total_seconds()
            first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
            timed.append((seconds, index, first_line))
    return sorted(timed, reverse=True)[:count]


def _children_cpu_seconds() -> float:
    """CPU seconds of the finished child processes (the notebook kernels, once shut down)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_notebooks(timeout: int) -> float:
    """Execute every lecture and solution notebook in its own folder; print each time and the total."""
    import nbformat
    from nbclient import NotebookClient

    paths = notebooks()
    mode = "COURSE_QUICK=1, as in CI" if os.environ.get("COURSE_QUICK") else "full CPU/GPU sizes"
    print(f"\n== executing {len(paths)} notebooks headless (nbclient, {mode}) ==", flush=True)
    print(f"  {'wall':>9}  {'kernel CPU':>9}  (the kernel's own CPU time, all threads; the three slowest cells)")
    from benchmarks.machine import MachineShare

    total = total_cpu = 0.0
    failures = 0
    share = MachineShare().__enter__()
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start, cpu_start = time.perf_counter(), _children_cpu_seconds()
        try:
            client.execute(stderr=subprocess.DEVNULL)  # the kernel's log lines; errors come as outputs
            status = "ok"
        except Exception as error:  # report and go on with the next notebook
            failures += 1
            status = f"FAILED: {type(error).__name__}: {str(error).strip().splitlines()[-1][:100]}"
        seconds, cpu_seconds = time.perf_counter() - start, _children_cpu_seconds() - cpu_start
        total += seconds
        total_cpu += cpu_seconds
        print(f"  {seconds:7.1f} s  {cpu_seconds:7.1f} s  {path.relative_to(ROOT)}  {status}", flush=True)
        for cell_seconds, index, first_line in slowest_cells(nb):
            print(f"{'':22}{cell_seconds:5.1f} s  cell {index:>2}: {first_line[:70]}", flush=True)
    share.__exit__()
    verdict = "under" if total < 300 else "OVER"
    print(f"  {total:7.1f} s  {total_cpu:7.1f} s  total ({verdict} the 5-minute target), {failures} failed")
    print(f"  {share.summary()}")
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per run (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure, the fastest kept (default 3)")
    parser.add_argument("--cpu-only", action="store_true", help="skip the GPU even when there is one")
    parser.add_argument("--compile", action="store_true", help="also time fit(compile_model=True)")
    parser.add_argument("--no-loops", action="store_true", help="skip the training-loop figures")
    parser.add_argument("--no-notebooks", action="store_true", help="skip executing the notebooks")
    parser.add_argument("--quick", action="store_true", help="notebooks with COURSE_QUICK=1, as in CI")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per notebook cell")
    args = parser.parse_args(argv)

    threads = configure_cpu_threads()
    devices = [torch.device("cpu")]
    accelerator = pick_device()  # CUDA, then MPS; COURSE_DEVICE=cpu keeps to the CPU
    if accelerator.type != "cpu" and not args.cpu_only:
        devices.append(accelerator)
    print(f"torch {torch.__version__}, python {sys.version.split()[0]}")
    print(f"devices: {', '.join(describe_device(d) for d in devices)}; torch CPU threads: {threads}")
    print("load average (1, 5, 15 min) at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if not args.no_loops:
        # both loops under the same thread count (fit would otherwise choose again)
        chosen = os.environ.get("COURSE_CPU_THREADS")
        os.environ["COURSE_CPU_THREADS"] = str(threads)
        benchmark_loops(devices, args.epochs, args.repeats, args.compile)
        if chosen is None:
            del os.environ["COURSE_CPU_THREADS"]
    if not args.no_notebooks:
        # headless as the HTML/slides exports run them: widgets draw their static figures;
        # heavy cells take their CPU (or GPU) size, or with --quick the size CI uses
        os.environ.setdefault("COURSE_STATIC", "1")
        os.environ.pop("NBGRADER_EXECUTION", None)
        if args.quick:
            os.environ["COURSE_QUICK"] = "1"
        else:
            os.environ.pop("COURSE_QUICK", None)
        run_notebooks(args.timeout)
    print("load average (1, 5, 15 min) at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
