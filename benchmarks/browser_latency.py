"""How long a move of a control takes to show in JupyterLab, measured in the browser: figures, not a test.

    .venv/bin/python -m benchmarks.browser_latency                    # every lecture's figures
    .venv/bin/python -m benchmarks.browser_latency --only optimizer   # figures whose name has it
    .venv/bin/python -m benchmarks.browser_latency --pace 250 --settle 10

A real JupyterLab (``tests/browser``'s server, Debian's Chromium through Playwright) opens
each lecture and runs it (Run All, live widgets, heavy cells at their quick size). After
``--settle`` seconds (a person reading the cell before reaching for a slider) every figure
is driven through the moves of ``tests/browser/widget_moves.py``, one move every ``--pace``
ms (a person pressing a key again), ``--switch`` ms before the first move on another control
(a person reaching for it). Each move is timed in the page, from the key
press or the new choice to the new figure on screen (``tests/browser/widget_driver.py``).

Printed per figure and control: the number of moves, median, p90 and maximum in ms; per
figure its median and p90 (target: p90 at most 50 ms), with the load average and the CPU
the host took (run it when ``uptime`` shows a low load to quote figures).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TARGET_P90_MS = 50.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", help="only figures whose name contains this")
    parser.add_argument("--pace", type=float, default=250, help="ms from one move to the next at most (default 250)")
    parser.add_argument("--switch", type=float, default=1000,
                        help="ms before the first move on another control (default 1000)")
    parser.add_argument("--settle", type=float, default=10,
                        help="seconds between Run All and the first move (default 10)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO / "tests" / "browser"))  # the harness of the browser tests
    from conftest import CHROMIUM, CHROMIUM_FLAGS, LAB_ENV, VIEWPORT, chromium_missing

    missing = chromium_missing()
    if missing:
        print(f"skipped: {missing}")
        return 0
    import lab_page
    from course_paths import LECTURES
    from lab_server import LabServer, copy_course
    from playwright.sync_api import sync_playwright
    from widget_driver import InteractiveFigure
    from widget_moves import WIDGETS, drive

    from benchmarks.machine import MachineShare

    widgets = [w for w in WIDGETS if not args.only or any(part in w.name for part in args.only)]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; pace {args.pace:.0f} ms, "
          f"switch {args.switch:.0f} ms, settle {args.settle:.0f} s")
    share = MachineShare().__enter__()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        root, state = Path(tmp) / "root", Path(tmp) / "state"
        root.mkdir()
        copy_course(REPO / "course", root)
        server = LabServer(root=root, state=state, env=LAB_ENV).start()
        context = playwright.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS,
            viewport=VIEWPORT, device_scale_factor=1)
        context.set_default_timeout(60_000)
        try:
            for lecture in dict.fromkeys(w.lecture for w in widgets):
                path = next((p for p in LECTURES if lecture in p.stem), None)
                if path is None:
                    continue
                page = context.new_page()
                lab_page.open_notebook(page, server.notebook_url(f"course/lectures/{path.name}"))
                started = time.monotonic()
                lab_page.run_all(page, timeout=600)
                print(f"{path.stem}: Run All took {time.monotonic() - started:.0f} s", flush=True)
                time.sleep(args.settle)
                for widget in (w for w in widgets if w.lecture == lecture):
                    figure = InteractiveFigure.find(page, *widget.labels)
                    figure.output.scroll_into_view_if_needed()
                    result = drive(figure, widget, pace=args.pace / 1000, switch=args.switch / 1000,
                                   check_pixels=False)
                    rows.append((widget.name, result.latencies, result.waited))
                page.close()
                server.shutdown_kernels(f"course/lectures/{path.name}")
        finally:
            context.close()
            server.stop()
    share.__exit__()
    width = max(len(name) + len(control) for name, latencies, _ in rows for control in latencies) + 6
    print(f"\n{'figure: control':<{width}}{'n':>4}{'median':>8}{'p90':>8}{'max':>8}{'waited':>8}"
          "   (ms from a move to the new figure; waited: moves whose data the kernel had not sent yet)")
    summary = []
    for name, latencies, waited in rows:
        for control, values in latencies.items():
            values = np.array(values)
            print(f"{name + ': ' + control.strip('^$'):<{width}}{len(values):>4}{np.median(values):>8.1f}"
                  f"{np.percentile(values, 90):>8.1f}{values.max():>8.1f}{waited.get(control, 0):>8}")
        every = np.concatenate([np.array(v) for v in latencies.values()])
        summary.append((name, len(every), float(np.median(every)), float(np.percentile(every, 90)),
                        sum(waited.values())))
    print()
    for name, count, median, p90, waited in summary:
        verdict = "met" if p90 <= TARGET_P90_MS else "NOT met"
        print(f"{name:<26} {count:>3} moves: median {median:6.1f} ms, p90 {p90:6.1f} ms  (p90 <= 50 ms: {verdict});"
              f" {waited} waited for the kernel")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    print(share.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
