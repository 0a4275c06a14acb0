"""Layers: what moves in a canvas figure, described once and drawn by the browser or by matplotlib.

A layer is ``{"name", "deps", "color", "parts": [...]}``; its data for one setting is a
:class:`LayerData` (float arrays and strings). Each part says what to draw from that data,
in which axes of the background (its index in the list ``draw_background`` returns):

- :func:`line`: a polyline of ``(x, y)`` points, or of values over their index; dashes, a
  fill down to a base line, markers at every point or at the last one; ``steps=True``
  draws only as many points as the figure's steps control says.
- :func:`text`: one of the data's strings, at a place in axes or data coordinates.
- :func:`cells`: a grid of values coloured through a colormap (a confusion matrix).
- :func:`image`: an RGBA image (values in [0, 1]) over an extent.

``canvas_figure.js`` draws these parts on a canvas in the browser; :func:`draw_layer` draws
the same with matplotlib, for the static figure (slides, HTML, CI) and the PNG a saved
notebook keeps. Sizes are in typographic points, as in matplotlib.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from matplotlib.colors import ListedColormap, to_hex
from matplotlib.lines import Line2D

__all__ = ["LayerData", "line", "text", "cells", "image", "marker", "colormap", "draw_layer", "legend_handles",
           "finite_prefix"]


@dataclass
class LayerData:
    """A layer's data at one setting: ``arrays`` (floats) and ``texts`` (strings, or
    ``{"text", "color"}`` dicts). ``exact``: send float64 arrays as float64 (else float32).
    ``prefix``: the arrays hold only the first ``prefix + 1`` points of the parts that follow
    the steps control (sent at once to a person waiting; the whole follows)."""

    arrays: list = field(default_factory=list)
    texts: list = field(default_factory=list)
    exact: bool = False
    prefix: int | None = None


def marker(shape: str = "o", size: float = 3.0, face: str | None = "layer", edge: str | None = None,
           width: float = 1.0) -> dict:
    """A marker: ``shape`` ``"o"`` or ``"s"``, ``size`` its width in points (matplotlib's
    ``markersize``), ``face``/``edge`` colours (``"layer"``: the layer's colour; ``None``: none)."""
    return {"shape": shape, "size": size, "face": face, "edge": edge, "width": width}


def line(array: int, axes: int = 0, xy: bool = True, lw: float = 1.5, color: str | None = None,
         alpha: float = 1.0, dash: Sequence[float] | None = None, fill: float | None = None, base: float = 0.0,
         markers: dict | None = None, end: dict | None = None, steps: bool = False, x0: float = 0.0,
         dx: float = 1.0, xcoords: str = "data", ycoords: str = "data") -> dict:
    """A polyline from ``arrays[array]``: interleaved ``x, y`` (``xy=True``) or values at
    ``x0 + dx·i``. ``lw=0`` draws no line (markers only); ``fill`` (an opacity) fills down to
    ``y = base``; ``xcoords``/``ycoords`` ``"axes"`` put that coordinate in axes fractions
    (a vertical line over the whole height: ``ycoords="axes"``). The line ends at its first
    point that is not finite (a path that diverged)."""
    return {"kind": "line", "array": array, "axes": axes, "xy": xy, "lw": lw, "color": color, "alpha": alpha,
            "dash": list(dash) if dash else None, "fill": fill, "base": base, "marker": markers, "end": end,
            "steps": steps, "x0": x0, "dx": dx, "xcoords": xcoords, "ycoords": ycoords}


def text(index: int, x: float, y: float, axes: int = 0, coords: str = "axes", size: float = 9.0,
         color: str = "#222222", ha: str = "left", va: str = "top", weight: str = "normal",
         box: bool = False) -> dict:
    """The string ``texts[index]`` at ``(x, y)`` (``coords``: ``"axes"`` fractions or ``"data"``);
    ``\\n`` breaks lines; ``box``: on a white box, as a legend."""
    return {"kind": "text", "text": index, "x": x, "y": y, "axes": axes, "coords": coords, "size": size,
            "color": color, "ha": ha, "va": va, "weight": weight, "box": box}


def colormap(name: str, n: int = 256) -> list[str]:
    """A matplotlib colormap as ``n`` hex colours (the browser looks values up in it)."""
    from matplotlib import colormaps

    cmap = colormaps[name]
    return [to_hex(cmap(i / (n - 1))) for i in range(n)]


def cells(array: int, rows: int, cols: int, extent: Sequence[float], cmap: str, vmin: float, vmax: float,
          axes: int = 0) -> dict:
    """``arrays[array]`` as a ``rows x cols`` grid (row-major, first row at the top of
    ``extent = (left, right, bottom, top)``), coloured by ``cmap`` between ``vmin`` and ``vmax``."""
    return {"kind": "cells", "array": array, "rows": rows, "cols": cols, "extent": [float(v) for v in extent],
            "cmap": colormap(cmap), "cmap_name": cmap, "vmin": float(vmin), "vmax": float(vmax), "axes": axes}


def image(array: int, width: int, height: int, extent: Sequence[float], axes: int = 0) -> dict:
    """``arrays[array]``: a ``height x width`` RGBA image, row-major, values in [0, 1], drawn over
    ``extent = (left, right, bottom, top)`` pixel for pixel (nearest neighbour)."""
    return {"kind": "image", "array": array, "width": width, "height": height,
            "extent": [float(v) for v in extent], "axes": axes}


# ----- matplotlib, for the static figure -------------------------------------------------------
def finite_prefix(points: np.ndarray) -> np.ndarray:
    """The points before the first one with a non-finite coordinate (where the browser stops)."""
    bad = ~np.all(np.isfinite(points.reshape(len(points), -1)), axis=1)
    return points[:int(np.argmax(bad))] if bad.any() else points


def _transform(ax, xcoords: str, ycoords: str):
    if (xcoords, ycoords) == ("data", "data"):
        return ax.transData
    if (xcoords, ycoords) == ("axes", "axes"):
        return ax.transAxes
    return ax.get_xaxis_transform() if xcoords == "data" else ax.get_yaxis_transform()


def _colour(value, layer_color):
    return layer_color if value == "layer" else value


def _draw_line(ax, part, values, color, steps):
    points = np.asarray(values, dtype=float)
    if part["xy"]:
        points = points.reshape(-1, 2)
    else:
        points = np.column_stack([part["x0"] + part["dx"] * np.arange(len(points)), points])
    if part["steps"] and steps is not None:
        points = points[:steps + 1]
    points = finite_prefix(points)
    if not len(points):
        return None
    color = part["color"] or color
    kwargs = {"transform": _transform(ax, part["xcoords"], part["ycoords"]), "color": color,
              "alpha": part["alpha"]}
    if part["fill"] is not None:
        ax.fill_between(points[:, 0], part["base"], points[:, 1], color=color, alpha=part["fill"], lw=0,
                        transform=kwargs["transform"])
    artist = None
    if part["lw"]:
        style = (0, part["dash"]) if part["dash"] else "-"
        artist, = ax.plot(points[:, 0], points[:, 1], lw=part["lw"], linestyle=style, **kwargs)
    for spec, shown in ((part["marker"], points), (part["end"], points[-1:])):
        if spec:
            ax.plot(shown[:, 0], shown[:, 1], linestyle="none", marker=spec["shape"], ms=spec["size"],
                    mfc=_colour(spec["face"], color) or "none", mec=_colour(spec["edge"], color) or "none",
                    mew=spec["width"] if spec["edge"] else 0, **kwargs)
    return artist


def _draw_text(ax, part, texts):
    entry = texts[part["text"]]
    string, color = (entry["text"], entry.get("color", part["color"])) if isinstance(entry, dict) \
        else (entry, part["color"])
    transform = ax.transAxes if part["coords"] == "axes" else ax.transData
    bbox = {"boxstyle": "round,pad=0.3", "facecolor": "white", "alpha": 0.85, "edgecolor": "#cccccc"} \
        if part["box"] else None
    ax.text(part["x"], part["y"], string, transform=transform, fontsize=part["size"], color=color,
            ha=part["ha"], va=part["va"],
            fontweight=part["weight"], bbox=bbox)


def _imshow(ax, picture, part, **kwargs):
    limits, aspect = (ax.get_xlim(), ax.get_ylim()), ax.get_aspect()
    ax.imshow(picture, extent=part["extent"], interpolation="nearest", origin="upper", **kwargs)
    ax.set_xlim(limits[0])
    ax.set_ylim(limits[1])
    ax.set_aspect(aspect)


def draw_layer(axes: Sequence, layer: dict, data: LayerData, steps: int | None = None):
    """Draw ``layer`` with ``data`` on ``axes`` (the background's); returns the first line drawn
    (for a legend), or None."""
    first = None
    for part in layer["parts"]:
        ax = axes[part["axes"]]
        if part["kind"] == "line":
            artist = _draw_line(ax, part, data.arrays[part["array"]], layer.get("color", "black"), steps)
            first = first or artist
        elif part["kind"] == "text":
            _draw_text(ax, part, data.texts)
        elif part["kind"] == "cells":
            values = np.asarray(data.arrays[part["array"]], dtype=float).reshape(part["rows"], part["cols"])
            _imshow(ax, values, part, cmap=ListedColormap(part["cmap"]), vmin=part["vmin"], vmax=part["vmax"])
        elif part["kind"] == "image":
            rgba = np.asarray(data.arrays[part["array"]], dtype=float).reshape(part["height"], part["width"], 4)
            _imshow(ax, np.clip(rgba, 0, 1), part)
        else:
            raise ValueError(f"unknown part kind {part['kind']!r}")
    return first


def legend_handles(layers: Sequence[dict]) -> list:
    """Legend entries for ``layers``: a line of each layer's colour, labelled with its name."""
    return [Line2D([], [], color=layer["color"], lw=2, label=layer["name"]) for layer in layers]
