"""Interactive figures: sliders that answer in the browser, and a static figure wherever widgets cannot run.

One module per lecture holds its explorers; the rest is the machinery they share::

    course/widgets/
        metrics.py         lecture 1: the decision-threshold explorer      (+ metrics.js)
        optimizers.py      lecture 2: optimizer paths, learning-rate schedules
        normalization.py   lecture 3: how noisy batch statistics are
        regularization.py  lecture 4: the dropout x weight-decay grid of runs
        augmentation.py    lecture 5: a strength slider per transform        (+ augmentation.js)
        debugging.py       lecture 6: activations, initialization and depth

        explorer.py        Explorer: a figure described once (background, layers, data), shown live or static
        live.py            LiveFigure: the live figure; every setting the controls reach computed ahead
        canvas_figure.py   CanvasFigure: the widget; canvas_figure.js draws the layers in the browser
        layers.py          the parts a layer draws (lines, texts, cells, images), and matplotlib's twin
        static.py          is_static, StaticFigure: panels of representative settings
        controls.py        the controls' layout, values and names in the browser
        image_figure.py    interactive_figure: a figure the kernel redraws per change (not for lectures)

A slider move must show within 50 ms in the browser: the kernel computes ahead, the
browser draws. Live, :class:`~course.widgets.live.LiveFigure` sends the background (a PNG
rendered once per value of the controls it depends on) and each layer's data per setting;
the browser redraws from what it has. Headless (``COURSE_STATIC=1``, slides, HTML, CI,
grading; :func:`~course.widgets.static.is_static`), the same explorer draws one panel per
representative setting with matplotlib.

How to add a widget
-------------------
1. In the lecture's module, subclass :class:`~course.widgets.explorer.Explorer`:

   - ``draw_background(fig, values)`` draws with matplotlib whatever the controls do not move
     (axes, limits, labels, curves that stay) and returns the axes, in a fixed order. Fix the
     limits: the browser draws in them. A control that must change the background goes in
     ``background_deps`` (one PNG per value: keep them few).
   - ``layers()`` lists what moves: ``{"name", "deps": [control names], "color", "parts":
     [layers.line(0), layers.text(0, x, y), ...]}``.
   - ``data(name, values)`` returns the layer's :class:`~course.widgets.layers.LayerData`
     at one setting (arrays and texts). Every setting of the ``deps`` is computed ahead
     (nearest first); when they are too many, override ``ahead`` (the likely next ones) and
     ``compute_ahead`` (computing several together), as :mod:`course.widgets.optimizers` does.
   - A layer cheap to compute from a little data (a threshold over sorted scores, pixels of a
     few images) can be computed by the browser instead: give it ``"compute": name`` and
     ``"inputs": key``, send its inputs from ``inputs()``, register the JavaScript function
     with ``registerLayer(name, fn)`` in a script listed in ``scripts``, and write its Python
     twin in ``compute(name, values)`` (the static figure uses it; a browser test compares them).

2. Write the lecture function: build the controls (``controls.wide()`` lays them out), then
   ``return MyExplorer(controls, ...).show(static_settings=[...])``. Choose static settings
   that show the point, and say in its docstring what to look for.

3. Tests: ``tests/test_widgets_<lecture>.py`` compares the data with an outside oracle (torch,
   scikit-learn) and checks the static figure. Add the figure and the moves a person makes on
   each control to ``tests/browser/widget_moves.py``: ``tests/browser/test_widgets_in_lab.py``
   then makes them in JupyterLab and checks the pixels change, and ``benchmarks.browser_latency``
   times them; add it to ``benchmarks/widget_latency.py`` too (the kernel's share).
"""
from .explorer import Explorer
from .image_figure import InteractiveFigure, interactive_figure
from .layers import LayerData
from .live import LiveFigure
from .static import StaticFigure, figure_png, is_static

__all__ = ["Explorer", "LiveFigure", "StaticFigure", "LayerData", "is_static", "figure_png",
           "interactive_figure", "InteractiveFigure"]
