"""How long a slider move takes to show: figures to read, not a timed test.

    .venv/bin/python -m benchmarks.widget_latency            # every widget, the full script
    .venv/bin/python -m benchmarks.widget_latency --repeats 1

Each interactive figure of lectures 1-3 is built live (``static=False``) in this process,
then driven by a script of control changes a person would make, at a person's pace
(``--pace`` ms between changes): dragging a slider step by step (forth, then back),
choosing from drop-downs, ticking optimizers on and off. A change is timed from the
assignment ``control.value = v`` to the moment the kernel has done its part: for the image
figures, the new frame (the JPEG the ``Image`` widget sends) is ready (the observers, the
computation or the cache, moving the artists, rendering, encoding); for the optimizer
explorer, whose lines the browser draws (``course.path_explorer``), every array the new
setting needs has been sent (nothing, when it was sent ahead of time). The browser's
share (the websocket, decoding, painting) is measured by ``tests/browser`` in a real
JupyterLab.

Printed per figure and per control: the number of changes, median, p90 and maximum in
milliseconds, then the overall median and p90 (target: median at most 50 ms on the 2-core
course machine), and the same in CPU time of this process: on a machine shared with other
work the wall time grows with the load average, the CPU time hardly (run it when
``uptime`` shows a low load to quote wall times). "First visit" rows are settings never computed before in this process
(optimizer paths are computed then), "revisit" rows come from the cache.
"""
from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict

import numpy as np

TARGET_MEDIAN_MS = 50.0


PACE_S = 0.15  # seconds between two changes (set by --pace)


def _timed_changes(fig, changes, label, results):
    """Apply ``changes`` (dicts of control values) one by one; record ms under ``label``."""
    for change in changes:
        time.sleep(PACE_S)
        start, start_cpu = time.perf_counter(), time.process_time()
        fig.set(**change)
        results[label].append(((time.perf_counter() - start) * 1000,
                               (time.process_time() - start_cpu) * 1000))


def optimizer_script(results):
    from course.optimizer_widgets import optimizer_explorer

    fig = optimizer_explorer(static=False)  # Beale, Momentum + RMSprop + Adam + L-BFGS, 150 steps
    time.sleep(1.0)  # the time a person takes to reach for the first slider
    steps_up = [{"num_steps": n} for n in range(155, 301, 5)]
    steps_down = [{"num_steps": n} for n in range(295, 99, -5)]
    _timed_changes(fig, steps_up, "optimizers: iterations, first visit", results)
    _timed_changes(fig, steps_down, "optimizers: iterations, revisit", results)
    exponents = np.arange(-3, 0.51, 0.25)
    lr_forth = [{"lr_adaptive": float(10 ** e)} for e in exponents]
    lr_back = lr_forth[::-1]
    _timed_changes(fig, lr_forth, "optimizers: lr (adaptive), first visit", results)
    _timed_changes(fig, lr_back, "optimizers: lr (adaptive), revisit", results)
    _timed_changes(fig, [{"lr_sgd": float(10 ** e)} for e in np.arange(-4, -1.99, 0.25)],
                   "optimizers: lr (SGD family), first visit", results)
    _timed_changes(fig, [{"beta": b} for b in (0.8, 0.7, 0.5, 0.0, 0.5, 0.7, 0.8, 0.9)],
                   "optimizers: momentum / beta", results)
    _timed_changes(fig, [{"schedule": s} for s in ("step", "cosine", "inverse-time", "constant")],
                   "optimizers: schedule", results)
    _timed_changes(fig, [{"optimizers": o} for o in (("Momentum", "Adam"), ("Momentum", "Adam", "NAdam"),
                                                     ("SGD", "Nesterov", "AdamW"),
                                                     ("Momentum", "RMSprop", "Adam", "L-BFGS"))],
                   "optimizers: choice of optimizers", results)
    _timed_changes(fig, [{"surface": s} for s in ("Rosenbrock", "Ill-conditioned quadratic", "Saddle", "Beale")],
                   "optimizers: surface", results)
    fig.stop()  # no computation ahead while the other figures are timed


def schedule_script(results):
    from course.optimizer_widgets import schedule_explorer

    fig = schedule_explorer(static=False)
    _timed_changes(fig, [{"num_steps": n} for n in range(110, 301, 10)], "schedules: steps", results)
    _timed_changes(fig, [{"epsilon": float(10 ** e)} for e in np.arange(-3, 0.01, 0.25)],
                   "schedules: epsilon", results)
    _timed_changes(fig, [{"schedules": s} for s in (("cosine",), ("cosine", "cyclical"),
                                                    ("cosine", "cyclical", "one-cycle"), ("step", "cosine"))],
                   "schedules: choice of schedules", results)


def threshold_script(results):
    from sklearn.linear_model import LogisticRegression

    from course.data import load_digits_arrays
    from course.threshold_widget import threshold_explorer

    X, y = load_digits_arrays()
    y = (y == 8).astype(int)
    scores = LogisticRegression(max_iter=300).fit(X[:300], y[:300]).predict_proba(X[300:])[:, 1]
    fig = threshold_explorer(y[300:], scores, static=False)
    control = fig.controls["threshold"]
    values = np.linspace(control.min, control.max, 41)
    _timed_changes(fig, [{"threshold": float(v)} for v in values], "threshold: first visit", results)
    _timed_changes(fig, [{"threshold": float(v)} for v in values[::-1]], "threshold: revisit", results)


def batch_noise_script(results):
    from course.data import load_digits_arrays
    from course.normalization_widgets import BATCH_SIZES, batch_noise_explorer

    X, _ = load_digits_arrays()
    fig = batch_noise_explorer(X[:, 36], batch_size=8, static=False)
    sizes = [b for b in BATCH_SIZES if b != 8]
    _timed_changes(fig, [{"batch_size": b} for b in sizes], "batch noise: first visit", results)
    _timed_changes(fig, [{"batch_size": b} for b in sizes[::-1] + [8]], "batch noise: revisit", results)


SCRIPTS = {"optimizers": optimizer_script, "schedules": schedule_script, "threshold": threshold_script,
           "batch noise": batch_noise_script}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1,
                        help="run each script this many times in fresh caches (default 1)")
    parser.add_argument("--only", choices=list(SCRIPTS), action="append", help="only these figures")
    parser.add_argument("--pace", type=float, default=150,
                        help="ms between two changes, a person's pace (default 150; 0: back to back)")
    args = parser.parse_args(argv)
    global PACE_S
    PACE_S = args.pace / 1000

    import torch

    from course.device import configure_cpu_threads

    configure_cpu_threads()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    from benchmarks.machine import MachineShare

    share = MachineShare().__enter__()
    results: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.repeats):
        import course.optimizer_widgets as ow

        ow._recorder.cache_clear()
        ow._cached_curve.cache_clear()
        for name in args.only or SCRIPTS:
            SCRIPTS[name](results)

    width = max(len(k) for k in results) + 2
    print(f"\n{'control':<{width}}{'n':>5}{'median':>9}{'p90':>9}{'max':>9}{'cpu med':>10}{'cpu p90':>9}"
          "   (ms from value change to new frame; cpu: this process's CPU time)")
    for label, values in results.items():
        wall, cpu = np.array(values).T
        print(f"{label:<{width}}{len(wall):>5}{np.median(wall):>9.1f}{np.percentile(wall, 90):>9.1f}"
              f"{wall.max():>9.1f}{np.median(cpu):>10.1f}{np.percentile(cpu, 90):>9.1f}")
    wall, cpu = np.concatenate([np.array(v) for v in results.values()]).T
    median, p90 = float(np.median(wall)), float(np.percentile(wall, 90))
    print(f"\nall {len(wall)} changes: median {median:.1f} ms, p90 {p90:.1f} ms "
          f"(target: median <= {TARGET_MEDIAN_MS:.0f} ms: {'met' if median <= TARGET_MEDIAN_MS else 'NOT met'})")
    print(f"CPU time per change: median {np.median(cpu):.1f} ms, p90 {np.percentile(cpu, 90):.1f} ms "
          "(what an idle machine's wall time approaches)")
    share.__exit__()
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    print(share.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
