"""Controls: the ipywidgets above a figure, the values each can take, and how the browser names them.

A figure drawn in the browser (:mod:`course.widgets.canvas_figure`) looks its data up by
the values of its controls, as the browser sees them: a slider's number, a selection's
*label* (ipywidgets syncs a selection's index, and the canvas figure maps it to the
option's label). :func:`browser_value` gives that value in the kernel, and
:func:`control_grid` every value a control can take, in order, as the browser computes
them, so that the kernel can compute every setting ahead of time.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

__all__ = ["wide", "control_rows", "control_values", "control_grid", "browser_value", "syncs_index",
           "default_settings", "setting_label"]


def wide(width: str = "32%") -> dict:
    """Keyword arguments that give a control a long description and ``width`` of the row."""
    import ipywidgets as widgets

    return {"style": {"description_width": "initial"}, "layout": widgets.Layout(width=width)}


def control_rows(controls: Mapping, per_row: int = 3) -> list:
    """The controls laid out ``per_row`` to a row (``HBox`` es), to stack above a figure."""
    import ipywidgets as widgets

    boxes = list(controls.values())
    return [widgets.HBox(boxes[i:i + per_row]) for i in range(0, len(boxes), per_row)]


def control_values(controls: Mapping) -> dict:
    """``{name: value}`` of the controls now."""
    return {name: control.value for name, control in controls.items()}


def syncs_index(control) -> bool:
    """Does the browser see this control's index (a selection) rather than its value?"""
    return not control.trait_metadata("value", "sync")


def _labels(control) -> dict:
    """``{option value: its label}`` of a selection (the labels are what the browser shows)."""
    return dict(zip(control._options_values, control._options_labels))


def browser_value(control, value):
    """``value`` of ``control`` as the browser sees it: a selection's label (a tuple of labels
    for a multiple selection), any other control's value itself."""
    if not syncs_index(control):
        return value
    labels = _labels(control)
    if isinstance(value, tuple) and not any(isinstance(v, tuple) for v in labels):
        return tuple(str(labels[v]) for v in value)
    return str(labels[value])


def control_grid(control) -> list:
    """Every value ``control`` can take, in order (what the browser can send).

    Integer and float sliders step from ``min`` to ``max``; a log slider steps its exponent;
    a selection (drop-down, selection slider, radio buttons) has its options; a check box
    ``False`` and ``True``. A multiple selection has no grid (it chooses what is shown).
    """
    kind = type(control).__name__
    if kind == "SelectMultiple":
        raise TypeError("a multiple selection has no grid of values: it chooses layers, not data")
    if syncs_index(control):
        return list(control._options_values)
    if kind == "Checkbox" or kind == "ToggleButton":
        return [False, True]
    count = int(round((control.max - control.min) / control.step)) + 1
    positions = control.min + control.step * np.arange(count)
    if kind == "FloatLogSlider":
        return [float(control.base ** p) for p in positions]
    if kind == "IntSlider":
        return [int(p) for p in positions]
    return [float(round(p, 10)) for p in positions]


def grid_index(control, value) -> int:
    """The position in :func:`control_grid` nearest ``value``."""
    grid = control_grid(control)
    if syncs_index(control) or isinstance(value, bool):
        return grid.index(value)
    if type(control).__name__ == "FloatLogSlider":
        return int(np.argmin(np.abs(np.log(grid) - np.log(value))))
    return int(np.argmin(np.abs(np.asarray(grid, dtype=float) - value)))


def default_settings(controls: Mapping) -> list[dict]:
    """Static panels when none are given: the first control with a range at its minimum,
    middle and maximum, or the first three options of the first selection."""
    for name, control in controls.items():
        if type(control).__name__ == "SelectMultiple":
            continue
        grid = control_grid(control)
        return [{name: value} for value in (grid[0], grid[len(grid) // 2], grid[-1])] if len(grid) > 3 \
            else [{name: value} for value in grid]
    return [{}]


def setting_label(setting: Mapping) -> str:
    """``"lr=0.01, optimizers=SGD+Adam"``: a static panel's title."""
    def fmt(value):
        if isinstance(value, float):
            return f"{value:.3g}"
        if isinstance(value, (tuple, list)):
            return "+".join(map(str, value))
        return str(value)

    return ", ".join(f"{k}={fmt(v)}" for k, v in setting.items())
