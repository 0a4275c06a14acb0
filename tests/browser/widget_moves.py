"""Every interactive figure of the lectures, and the moves a person makes on each of its controls.

Used by ``test_widgets_in_lab.py`` (does every move show a new figure?) and by
``benchmarks/browser_latency.py`` (how long does each move take to show?). A move is a key
on a slider's handle (``ArrowRight``, ``ArrowLeft``, ``End``) or a new choice in a drop-down
or a multiple selection (``"choose"``); each is chosen so that the figure must change (a
slider not at the end it moves to; leaky ReLU's slope after leaky ReLU is chosen).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from widget_driver import InteractiveFigure, differing_pixels


@dataclass(frozen=True)
class Move:
    control: str  # a regular expression matching the control's label
    key: str  # a key pressed on the slider's handle, or "choose"
    times: int = 1


@dataclass(frozen=True)
class Widget:
    name: str
    lecture: str  # a part of the lecture notebook's name
    labels: tuple[str, ...]  # regular expressions: the figure is the one with controls matching all
    moves: tuple[Move, ...]


STRENGTH_MOVES = tuple(Move(f"^{name}$", "ArrowRight", 2) for name in (
    "padding", "degrees", "translate", "zoom", "shear", "brightness", "contrast", "saturation", "hue"))

WIDGETS = (
    Widget("threshold explorer", "metrics", (r"^threshold$",),
           # left first: lecture 1 asks for t = 0.5, above every score at the quick size (the slider
           # stops at the highest score)
           (Move("^threshold$", "ArrowLeft", 5), Move("^threshold$", "ArrowRight", 5))),
    Widget("optimizer explorer", "optimizers", (r"iteration", r"lr \(adaptive\)"),
           (Move("iteration", "ArrowLeft", 4), Move(r"lr \(adaptive\)", "ArrowRight", 3),
            Move(r"lr \(SGD", "ArrowRight", 3), Move("momentum", "ArrowLeft", 3), Move("batch size", "ArrowLeft", 3),
            Move("^schedule$", "choose", 3), Move("surface", "choose", 2), Move("optimi[sz]ers", "choose", 3))),
    Widget("schedule explorer", "optimizers", (r"steps T", r"inverse-time"),
           (Move("steps T", "ArrowRight", 4), Move("inverse-time", "ArrowRight", 3), Move("^schedules$", "choose", 3))),
    Widget("batch-noise explorer", "normalization", (r"^batch size$",),
           (Move("^batch size$", "ArrowRight", 3), Move("^batch size$", "ArrowLeft", 3))),
    Widget("regularization grid", "regularization", (r"^dropout$", r"^weight decay$"),
           (Move("^dropout$", "ArrowRight"), Move("^weight decay$", "ArrowRight"), Move("^dropout$", "ArrowLeft"),
            Move("^weight decay$", "ArrowLeft"))),
    Widget("augmentation explorer", "augmentation", (r"^flip$", r"^hue$"),
           (Move("^flip$", "End"),) + STRENGTH_MOVES),
    Widget("activation explorer", "debugging", (r"^activation$", r"leaky slope"),
           (Move("^activation$", "choose", 3), Move("leaky slope", "ArrowRight", 3))),
    Widget("initialization explorer", "debugging", (r"^depth$", r"^init$"),
           (Move("^depth$", "ArrowRight", 3), Move("^init$", "choose", 3), Move("^activation$", "choose", 2))),
)


@dataclass
class Drive:
    """What driving a figure gave: per control, the ms from each move to the new figure on
    screen and how many moves waited for the kernel (the browser lacked their data); the moves
    after which the figure showed the same pixels."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    waited: dict[str, int] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)


def drive(figure: InteractiveFigure, widget: Widget, pace: float = 0.0, switch: float = 0.0,
          check_pixels: bool = True, screenshot=None) -> Drive:
    """Make ``widget``'s moves on ``figure``; ``pace``: seconds to wait before each move, ``switch``
    before the first move on a control (a person's pace; 0: at once); ``check_pixels``: compare
    the figure before and after each move."""
    result = Drive()
    canvas = figure.image.evaluate("el => el.classList.contains('course-canvas-figure')")
    for move in widget.moves:
        first = len(figure.latencies_ms())
        misses = figure.misses if canvas else 0
        for step in range(move.times):
            before = figure.png() if check_pixels else None
            if switch and step == 0:
                time.sleep(switch)
            elif pace:
                time.sleep(pace)
            if move.key == "choose":
                what = "+".join(figure.choose(move.control))
            else:
                figure.press_slider(move.control, move.key)
                what = move.key
            if check_pixels and differing_pixels(before, figure.png()) == 0:
                result.unchanged.append(f"{move.control} {what} (move {step + 1})")
        if screenshot is not None:
            screenshot(figure.output, f"{widget.name.replace(' ', '-')}-{move.control.strip('^$')}")
        result.latencies.setdefault(move.control, []).extend(figure.latencies_ms()[first:])
        result.waited[move.control] = result.waited.get(move.control, 0) + (figure.misses - misses if canvas else 0)
    return result
