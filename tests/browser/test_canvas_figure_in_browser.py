"""``course/widgets/canvas_figure.js`` in Chromium, against the kernel side and against matplotlib.

The browser must name a setting exactly as the kernel does (or it would wait for data it
already has), and put a data point on the pixel where matplotlib would have drawn it (or
the paths would not lie on the contours).
"""
from __future__ import annotations

import numpy as np
import pytest

from course.widgets.canvas_figure import value_key
from widget_driver import load_module

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def module_page(chromium):
    page = load_module(chromium)
    yield page
    page.close()


def test_keys_agree_with_the_kernel(module_page):
    """Does every value a slider or a list can take get the same key in the browser as in Python?"""
    values = [float(10 ** e) for e in np.arange(-4, 0.51, 0.25)]  # the learning-rate sliders
    values += [round(b, 2) for b in np.arange(0, 1, 0.01)] + [1, 150, 300, 0.0]  # sliders, iterations
    values += [0.35000000000000003, True, False]
    values += ["Beale", "warm restarts", "256 (full)", ["Momentum", "Adam"]]
    in_browser = module_page.evaluate("values => values.map(v => window.figure.valueKey(v))", values)
    assert in_browser == [value_key(tuple(v) if isinstance(v, list) else v) for v in values]


def test_points_land_where_matplotlib_puts_them(module_page):
    """For both axes of the optimizer explorer's background (linear contours, log loss), does the
    browser map data to the same pixel as matplotlib's own transform?"""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from course.surfaces import SURFACES
    from course.widgets.optimizers import OptimizerExplorer, draw_surface_axes, optimizer_controls

    explorer = OptimizerExplorer(optimizer_controls())
    _, _, width, height, boxes, _ = explorer.background(explorer.values(), scale=2.0)
    # the same figure, drawn again by matplotlib: its transforms are the reference
    fig = Figure(figsize=(9.5, 4.0), dpi=160, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, width_ratios=(1.3, 1))
    draw_surface_axes(*axes, SURFACES["Beale"])
    fig.canvas.draw()
    points = [[(3.0, 0.5), (0.8, 1.6), (-0.4, -1.2)], [(0, 1e-9), (150, 1.0), (290, 300.0)]]
    for box, ax, pts in zip(boxes, axes, points):
        got = module_page.evaluate("([box, pts]) => pts.map(([x, y]) => window.figure.toPixel(box, x, y))",
                                   [box, pts])
        expected = ax.transData.transform(pts)
        expected = np.column_stack([expected[:, 0] / 2, (fig.bbox.height - expected[:, 1]) / 2])
        np.testing.assert_allclose(got, expected, atol=0.05)
    assert (width, height) == (760, 320)
