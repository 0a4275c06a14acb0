"""``course/canvas_figure.js`` in Chromium, against the kernel side and against matplotlib.

The browser must name a setting exactly as the kernel does (or it would wait for data it
already has), and put a data point on the pixel where matplotlib would have drawn it (or
the paths would not lie on the contours).
"""
from __future__ import annotations

import base64

import numpy as np
import pytest

from course.canvas_figure import value_key
from course.path_explorer import PathExplorer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def module_page(chromium):
    """A blank page with the module's named exports on ``window.figure``."""
    from course import canvas_figure

    source = (canvas_figure.__file__[:-3] + ".js")
    code = base64.b64encode(open(source, "rb").read()).decode()
    page = chromium.new_page()
    page.set_content("<html><body></body></html>")
    page.evaluate(f"async () => {{ window.figure = await import('data:text/javascript;base64,{code}'); }}")
    yield page
    page.close()


def test_keys_agree_with_the_kernel(module_page):
    """Does every value a slider or a list can take get the same key in the browser as in Python?"""
    values = [float(10 ** e) for e in np.arange(-4, 0.51, 0.25)]  # the learning-rate sliders
    values += [round(b, 2) for b in np.arange(0, 1, 0.01)] + [1, 150, 300, 0.0]  # beta, iterations
    values += ["Beale", "warm restarts", ["Momentum", "Adam"]]
    in_browser = module_page.evaluate("values => values.map(v => window.figure.valueKey(v))", values)
    assert in_browser == [value_key(tuple(v) if isinstance(v, list) else v) for v in values]


def test_points_land_where_matplotlib_puts_them(module_page):
    """For both axes of the explorer's background (linear contours, log loss), does the
    browser map data to the same pixel as matplotlib's own transform?"""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from course.optimizer_widgets import MAX_STEPS, _draw_axes
    from course.surfaces import SURFACES

    explorer = PathExplorer.__new__(PathExplorer)  # only its background renderer
    explorer.figsize, explorer.dpi, explorer.scale, explorer._backgrounds = (9.5, 4.0), 80, 2.0, {}
    _, width, height, boxes = explorer.background("Beale")
    # the same figure, drawn again by matplotlib: its transforms are the reference
    fig = Figure(figsize=(9.5, 4.0), dpi=160, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, width_ratios=(1.3, 1))
    _draw_axes(*axes, SURFACES["Beale"], MAX_STEPS)
    fig.canvas.draw()
    points = [[(3.0, 0.5), (0.8, 1.6), (-0.4, -1.2)], [(0, 1e-9), (150, 1.0), (290, 300.0)]]
    for box, ax, pts in zip(boxes, axes, points):
        got = module_page.evaluate("([box, pts]) => pts.map(([x, y]) => window.figure.toPixel(box, x, y))",
                                   [box, pts])
        expected = ax.transData.transform(pts)
        expected = np.column_stack([expected[:, 0] / 2, (fig.bbox.height - expected[:, 1]) / 2])
        np.testing.assert_allclose(got, expected, atol=0.05)
    assert (width, height) == (760, 320)
