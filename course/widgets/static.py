"""The static fallback: a figure of representative settings wherever widgets cannot run.

Slides, HTML exports, nbclient runs, CI and nbgrader show no live widget. There an
interactive cell shows one figure with a panel per representative setting, drawn by
matplotlib from the same data the browser would draw (:func:`course.widgets.layers.draw_layer`).

:func:`is_static` decides, first match wins:

1. ``COURSE_STATIC=1`` (or ``true``/``yes``) forces static, ``COURSE_STATIC=0`` forces live.
   The lecture tests and the slides/HTML export set ``COURSE_STATIC=1``.
2. The quick runs of :func:`course.device.is_quick` (``NBGRADER_EXECUTION`` or ``COURSE_QUICK``
   set: autograding, tests, CI): static.
3. Not running inside an IPython kernel (a plain script, pytest): static.
4. Otherwise: live.
"""
from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..device import env_flag, is_quick
from .controls import setting_label

if TYPE_CHECKING:
    from .explorer import Explorer

__all__ = ["is_static", "in_kernel", "figure_png", "StaticFigure"]


def in_kernel() -> bool:
    """Is this code running in an IPython kernel (a notebook), not a script or a terminal?"""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def is_static() -> bool:
    """Should interactive cells show a static figure instead of live controls?"""
    forced = env_flag("COURSE_STATIC")
    if forced is not None:
        return forced
    return is_quick() or not in_kernel()


def figure_png(fig: Figure, dpi: float | None = None) -> bytes:
    """The figure rendered to PNG bytes (Agg, fast compression)."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


class StaticFigure:
    """What an explorer shows headless: one panel per setting of ``settings`` (each overrides
    some control values), ``ncols`` to a row. The notebook displays its PNG."""

    static = True

    def __init__(self, explorer: "Explorer", settings: Sequence[Mapping], ncols: int | None = None,
                 title: str | None = None):
        self.explorer, self.settings = explorer, [dict(s) for s in settings] or [{}]
        self.ncols = ncols or min(len(self.settings), 3)
        self.title = title

    def figure(self) -> Figure:
        """The panels, each drawn by the explorer at its setting."""
        base = self.explorer.values()
        nrows = -(-len(self.settings) // self.ncols)
        width, height = self.explorer.figsize
        fig = Figure(figsize=(width * self.ncols, height * nrows), dpi=self.explorer.dpi, layout="constrained")
        FigureCanvasAgg(fig)
        subfigs = np.atleast_1d(fig.subfigures(nrows, self.ncols, squeeze=False)).ravel()
        for subfig, setting in zip(subfigs, self.settings):
            self.explorer.draw(subfig, {**base, **setting})
            if setting and len(self.settings) > 1:
                subfig.suptitle(setting_label(setting), fontsize="medium")
        if self.title:
            fig.suptitle(self.title, fontweight="bold")
        return fig

    def png(self) -> bytes:
        return figure_png(self.figure())

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": f"<static figure: {len(self.settings)} settings of {type(self.explorer).__name__}>",
                "image/png": base64.b64encode(self.png()).decode("ascii")}
