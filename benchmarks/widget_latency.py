"""How long the kernel takes to answer a control's move, for every interactive figure of lectures 1-6.

    .venv/bin/python -m benchmarks.widget_latency                  # every figure
    .venv/bin/python -m benchmarks.widget_latency --only optimizer --pace 250

Each figure is built live in this process (``static=False``, its settings computed ahead in
a thread as in a notebook) with data like its lecture's (the generated shapes images of
:func:`course.data.image_split`; smaller models and fewer epochs where a lecture trains), a
browser view is simulated (the kernel sends its messages, recorded here instead of a
websocket), and every control is
moved as a person moves it: a slider three steps along (and back), a drop-down to its next
options, a multiple selection toggled, ``--settle`` s after the view started, one move every
``--pace`` ms and ``--switch`` ms before the first move on another control. A move is timed from the assignment
``control.value = v`` to the moment the kernel has sent everything the new setting needs:
nothing, when it was computed and sent ahead, or when the browser computes it (the
threshold's counts, the augmented pixels); else the computation and the message.

This is the kernel's share. The browser's (a redraw from data it has, or the wait for the
kernel's message) is measured in a real JupyterLab by ``benchmarks.browser_latency``.
Printed per figure and control: moves, median, p90 and maximum in ms, and the CPU time of
this process; then per figure. On a machine shared with other work the wall time grows with
the load average (printed), the CPU time hardly.
"""
from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict

import numpy as np

PACE_S, SWITCH_S, SETTLE_S = 0.25, 1.0, 5.0


def _moves(figure) -> list[tuple[str, object]]:
    """(control, value) moves a person makes on every control of ``figure``."""
    from course.widgets.controls import control_grid, grid_index

    moves = []
    for name, control in figure.controls.items():
        if type(control).__name__ == "SelectMultiple":
            options = list(control.options)
            chosen = list(control.value)
            for option in options[:3]:
                chosen = [o for o in options if (o in chosen) != (o == option)] or [option]
                moves.append((name, tuple(chosen)))
            continue
        grid = control_grid(control)
        here = grid_index(control, control.value)
        if len(grid) <= 4 or type(control).__name__ == "Dropdown":  # a list: its next options, round
            moves += [(name, grid[(here + k) % len(grid)]) for k in range(1, min(len(grid), 4))]
            moves.append((name, grid[here]))
            continue
        way = 1 if here + 3 < len(grid) else -1
        path = [grid[here + way * k] for k in (1, 2, 3, 2, 1, 0)]
        moves += [(name, value) for value in path]
    return moves


def _drive(label: str, figure, results) -> None:
    """Make every move on ``figure`` at a person's pace; record (wall ms, cpu ms) per control."""
    figure.canvas.send = lambda content, buffers=None: [bytes(b) for b in buffers or []]
    figure.canvas._message(None, {"type": "ready"}, [])  # a browser view started
    time.sleep(SETTLE_S)  # a person looks at the figure before reaching for a control
    previous = None
    for name, value in _moves(figure):
        time.sleep(SWITCH_S if name != previous else PACE_S)
        previous = name
        start, start_cpu = time.perf_counter(), time.process_time()
        figure.controls[name].value = value
        results[(label, name)].append(((time.perf_counter() - start) * 1000,
                                       (time.process_time() - start_cpu) * 1000))
    figure.stop()


def threshold(results):
    import torch

    from course.data import image_split
    from course.models import CNN
    from course.training import fit, predict
    from course.widgets.metrics import threshold_explorer

    # lecture 1: a CNN's probability of "ring" (class 1 of the shapes) on the test images, at
    # the lecture's CPU size of the test split (1000 images); fewer training images and epochs
    split = image_split(n_train=500, n_val=200, n_test=1000, seed=0)
    torch.manual_seed(0)
    model = CNN(split.num_classes, in_channels=split.X_train.shape[1], width=16, stem_stride=2)
    fit(model, split.train, torch.nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=3e-3), 3,
        seed=0, progress=False, device="cpu")
    positive = 1
    scores = predict(model, split.X_test).softmax(dim=1)[:, positive].cpu().numpy()
    y_true = (split.y_test.cpu().numpy() == positive).astype(int)
    _drive("threshold explorer (L1)", threshold_explorer(y_true, scores, threshold=0.5, static=False), results)


def optimizers(results):
    from course.widgets.optimizers import optimizer_explorer

    _drive("optimizer explorer (L2)", optimizer_explorer(static=False), results)


def schedules(results):
    from course.widgets.optimizers import schedule_explorer

    _drive("schedule explorer (L2)", schedule_explorer(static=False), results)


def batch_noise(results):
    from course.data import image_split
    from course.widgets.normalization import batch_noise_explorer

    # lecture 3: the red channel of the centre pixel of the training images (its CPU size: 2000)
    split = image_split(n_train=2000, n_val=100, n_test=100, seed=0)
    _drive("batch-noise explorer (L3)", batch_noise_explorer(split.X_train[:, 0, 16, 16].numpy(), batch_size=8,
                                                             example=0, feature_name="red channel, centre pixel",
                                                             static=False), results)


def regularization(results):
    from course.data import image_split
    from course.regularization_grid import sweep
    from course.widgets.regularization import regularization_explorer

    # lecture 4's full grid on its 250 training images (an MLP on the pixels instead of its CNN,
    # 10 epochs instead of 30: the figure's data has the same shape)
    split = image_split(n_train=250, n_val=500, n_test=1000, seed=0)
    runs = sweep(split.train, split.val, split.num_classes, dropouts=[0.0, 0.25, 0.5], weight_decays=[0.0, 0.5, 2.0],
                 num_epochs=10, test_data=split.test, width=64, lr=3e-3, progress=False, device="cpu")
    _drive("regularization grid (L4)", regularization_explorer(runs, static=False), results)


def augmentation(results):
    from course.shapes import make_shapes
    from course.widgets.augmentation import augmentation_explorer

    X, _ = make_shapes(12, size=32, seed=0)
    _drive("augmentation explorer (L5)", augmentation_explorer(X, static=False), results)


def activations(results):
    from course.widgets.debugging import activation_explorer

    _drive("activation explorer (L6)", activation_explorer(static=False), results)


def initialization(results):
    from course.widgets.debugging import initialization_explorer

    _drive("initialization explorer (L6)", initialization_explorer(static=False), results)


SCRIPTS = {"threshold": threshold, "optimizer": optimizers, "schedule": schedules, "batch noise": batch_noise,
           "regularization": regularization, "augmentation": augmentation, "activation": activations,
           "initialization": initialization}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=list(SCRIPTS), action="append", help="only these figures")
    parser.add_argument("--pace", type=float, default=250, help="ms between two moves of a control (default 250)")
    parser.add_argument("--switch", type=float, default=1000,
                        help="ms before the first move on another control (default 1000)")
    parser.add_argument("--settle", type=float, default=5,
                        help="seconds from the figure's first view to the first move (default 5)")
    args = parser.parse_args(argv)
    global PACE_S, SWITCH_S, SETTLE_S
    PACE_S, SWITCH_S, SETTLE_S = args.pace / 1000, args.switch / 1000, args.settle

    import torch

    from benchmarks.machine import MachineShare
    from course.device import configure_cpu_threads

    configure_cpu_threads()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; pace {args.pace:.0f} ms, "
          f"switch {args.switch:.0f} ms, settle {args.settle:.0f} s")
    share = MachineShare().__enter__()
    results: dict[tuple[str, str], list] = defaultdict(list)
    for name in args.only or SCRIPTS:
        SCRIPTS[name](results)
    share.__exit__()

    width = max(len(f"{figure}: {control}") for figure, control in results) + 2
    print(f"\n{'figure: control':<{width}}{'n':>4}{'median':>8}{'p90':>8}{'max':>8}{'cpu med':>9}{'cpu p90':>9}"
          "   (ms from the move to all it needs sent)")
    per_figure = defaultdict(list)
    for (figure, control), values in results.items():
        wall, cpu = np.array(values).T
        per_figure[figure] += values
        print(f"{figure + ': ' + control:<{width}}{len(wall):>4}{np.median(wall):>8.1f}{np.percentile(wall, 90):>8.1f}"
              f"{wall.max():>8.1f}{np.median(cpu):>9.1f}{np.percentile(cpu, 90):>9.1f}")
    print()
    for figure, values in per_figure.items():
        wall, cpu = np.array(values).T
        print(f"{figure:<30} {len(wall):>3} moves: median {np.median(wall):6.1f} ms, p90 {np.percentile(wall, 90):6.1f} ms"
              f" (CPU median {np.median(cpu):.1f} ms, p90 {np.percentile(cpu, 90):.1f} ms)")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    print(share.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
