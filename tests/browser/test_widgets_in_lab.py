"""Does every interactive figure of the lectures answer every control in JupyterLab?

In each lecture (run with Run All in JupyterLab), the test moves every control of every
interactive figure as a person would (keys on a slider's handle, a new choice in a list;
``widget_moves``) and checks after every single move that the figure the browser shows has
different pixels. The time from each move to the new figure on screen is measured in the
page (``widget_driver``); the median and 90th percentile are printed, not asserted: the
figures to quote come from ``benchmarks/browser_latency.py`` (target: p90 at most 50 ms).
"""
from __future__ import annotations

import pytest

from course_paths import LECTURES
from widget_driver import InteractiveFigure, summary
from widget_moves import WIDGETS, drive

pytestmark = pytest.mark.browser


def lecture(part: str):
    return next((path for path in LECTURES if part in path.stem), None)


@pytest.mark.parametrize("widget", WIDGETS, ids=[w.name.replace(" ", "-") for w in WIDGETS])
def test_every_control_redraws_the_figure(lecture_runs, screenshot, report, widget):
    """Does every move of every control show a new figure, without an error?"""
    path = lecture(widget.lecture)
    if path is None:
        pytest.skip(f"no lecture named *{widget.lecture}* in course/lectures")
    run = lecture_runs(path, keep=True)
    figure = InteractiveFigure.find(run.page, *widget.labels)
    figure.output.scroll_into_view_if_needed()
    screenshot(figure.output, f"{widget.name.replace(' ', '-')}-initial")
    result = drive(figure, widget, screenshot=screenshot)
    samples = [ms for values in result.latencies.values() for ms in values]
    median, p90 = summary(samples)
    report(f"{widget.name}, move -> new figure in the browser: median {median:.0f} ms, p90 {p90:.0f} ms over "
           f"{len(samples)} moves (made at once, no pause; benchmarks.browser_latency moves at a person's pace)")
    assert result.unchanged == [], f"the figure did not change after: {result.unchanged}"
    assert len(samples) == sum(move.times for move in widget.moves)
