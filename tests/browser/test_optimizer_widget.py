"""Does the optimizer-path explorer respond in the browser, and how fast?

In the optimizers lecture (run with Run All in JupyterLab), the test moves the iterations
slider, the learning-rate sliders and the optimizer choice as a person would (keys on the
slider handle, a new selection in the list) and checks after every single change that the
figure the browser shows has different pixels. The time from each change to the new figure
on screen is measured in the page (see ``widget_driver``); the median and 90th percentile
are printed, not asserted (target: median at most 50 ms).
"""
from __future__ import annotations

import pytest

from course_paths import OPTIMIZERS_LECTURE
from widget_driver import InteractiveFigure, differing_pixels, summary

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(OPTIMIZERS_LECTURE is None, reason="no optimizers lecture in course/lectures yet"),
]

#: (name, control label pattern, key or "choose", how many changes): the moves a person makes
MOVES = [
    ("iterations", r"iteration", "ArrowLeft", 6),
    ("iterations", r"iteration", "PageDown", 3),
    ("lr-adaptive", r"\blr\b.*adaptive|learning rate", "ArrowRight", 4),
    ("lr-sgd", r"\blr\b.*SGD", "ArrowRight", 3),
    ("optimizers", r"optimi[sz]er", "choose", 4),
]


def test_sliders_and_choice_redraw_the_figure(lecture_runs, screenshot, report):
    """Does every slider step and every new optimizer choice show a new figure?"""
    run = lecture_runs(OPTIMIZERS_LECTURE, keep=True)
    figure = InteractiveFigure.find(run.page, r"iteration", r"\blr\b|learning rate", r"optimi[sz]er")
    figure.output.scroll_into_view_if_needed()
    screenshot(figure.output, "optimizer-explorer-initial")

    unchanged, per_control = [], {}
    for name, label, key, times in MOVES:
        first = len(figure.latencies_ms())
        for step in range(times):
            before = figure.png()
            if key == "choose":
                what = "+".join(figure.choose(label))
            else:
                figure.press_slider(label, key)
                what = key
            if differing_pixels(before, figure.png()) == 0:
                unchanged.append(f"{name} {what} (change {step + 1})")
        screenshot(figure.output, f"optimizer-explorer-{name}-{key}")
        per_control.setdefault(name, []).extend(figure.latencies_ms()[first:])

    samples = figure.latencies_ms()
    median, p90 = summary(samples)
    report(f"optimizer explorer, change -> new figure in the browser: median {median:.0f} ms, "
           f"p90 {p90:.0f} ms over {len(samples)} changes (target: median <= 50 ms); medians: "
           + ", ".join(f"{name} {summary(values)[0]:.0f} ms" for name, values in per_control.items()))
    assert unchanged == [], f"the figure did not change after: {unchanged}"
    assert len(samples) == sum(move[-1] for move in MOVES)
