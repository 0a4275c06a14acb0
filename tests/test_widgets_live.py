"""The live figure: what the kernel sends the browser, and when.

The browser draws (``course/widgets/canvas_figure.js``, tested in a real JupyterLab by
``tests/browser``); here the messages are captured on their way out of the kernel, with the
optimizer explorer (the heaviest: paths computed by torch) as the example.
"""
import io
import time

import numpy as np
import pytest
from PIL import Image

from course.optimizer_paths import MAX_STEPS, NUM_EXAMPLES, OPTIMIZERS, optimizer_paths
from course.surfaces import SURFACES
from course.widgets.controls import control_grid, grid_index
from course.widgets.explorer import FLUSH
from course.widgets.live import LiveFigure
from course.widgets.optimizers import optimizer_explorer


class Recorded:
    """A live explorer whose messages to the browser are recorded instead of sent."""

    def __init__(self, **kwargs):
        self.messages = []
        self.figure = optimizer_explorer(static=False, **kwargs)
        self.figure.canvas.send = lambda content, buffers=None: self.messages.append(
            (content, [bytes(b) for b in buffers or []]))

    def take(self):
        taken, self.messages = self.messages, []
        return taken

    def data(self, messages=None):
        """``{key: (arrays, texts)}`` of the data messages."""
        out = {}
        for content, buffers in (self.take() if messages is None else messages):
            if content["type"] != "data":
                continue
            start = 0
            for item in content["items"]:
                count = len(item["dtypes"])
                out[item["key"]] = ([np.frombuffer(b, dtype="<" + d)
                                     for b, d in zip(buffers[start:start + count], item["dtypes"])], item["texts"])
                start += count
        return out


@pytest.fixture
def live():
    recorded = Recorded(optimizers=("Momentum", "Adam"), num_steps=20, prefetch=False)
    yield recorded
    recorded.figure.stop()


def test_nothing_is_sent_before_a_browser_view_asks(live):
    """Until a view says it is ready, does the kernel keep what it computed instead of sending it
    into the void (messages before the view exists are lost)?"""
    live.figure.set(num_steps=30)
    live.figure.compute_ahead()
    assert live.take() == []


def test_a_browser_view_gets_the_background_and_the_shown_paths(live):
    """When a view starts, does it receive the surface's background (a PNG with both axes'
    boxes) first and, per shown optimizer, its path to the slider's maximum and its loss gap?"""
    live.figure.canvas._message(None, {"type": "ready"}, [])
    messages = live.take()
    assert messages[0][0]["type"] == "background"
    content, (png,) = messages[0]
    image = Image.open(io.BytesIO(png))
    assert image.size == (round(2 * content["width"]), round(2 * content["height"]))  # twice as sharp
    assert [ax["ylog"] for ax in content["axes"]] == [False, True]
    assert content["axes"][1]["xlim"] == [0.0, MAX_STEPS]
    data = live.data(messages[1:2])
    values = live.figure.values()
    expected = optimizer_paths("Beale", ["Momentum", "Adam"], MAX_STEPS, values["lr_sgd"], values["lr_adaptive"],
                               values["beta"], values["schedule"], values["batch_size"])
    assert sorted(key.split("|")[0] for key in data) == ["Adam", "Momentum"]
    for key, ((path, gap), _) in data.items():
        name = key.split("|")[0]
        np.testing.assert_allclose(path.reshape(-1, 2), expected[name], rtol=1e-6, atol=1e-6)
        assert np.all(gap[np.isfinite(path.reshape(-1, 2)[:, 0])] > 0)


def test_only_what_a_change_needs_is_sent(live):
    """Does the iteration slider send nothing (the browser redraws alone), a learning rate
    only the optimizers that use it, and a setting seen before nothing at all?"""
    live.figure.canvas._message(None, {"type": "ready"}, [])
    live.take()
    live.figure.set(num_steps=200)
    assert live.take() == []
    live.figure.set(lr_adaptive=10 ** -1.5)
    assert [key.split("|")[0] for key in live.data()] == ["Adam"]
    live.figure.set(lr_sgd=10 ** -2.5)
    assert [key.split("|")[0] for key in live.data()] == ["Momentum"]
    live.figure.set(lr_adaptive=0.1)  # back to a setting the browser has
    assert live.take() == []
    live.figure.set(optimizers=("Momentum", "Adam", "L-BFGS"))
    assert [key.split("|")[0] for key in live.data()] == ["L-BFGS"]
    live.figure.set(surface="Saddle")
    kinds = [c["type"] for c, _ in live.take()]
    assert kinds == ["background", "data"]
    assert len(live.figure.latencies) == 6


def test_everything_one_move_away_is_computed_ahead(live):
    """After computing ahead, does every value of every control, one move from the current
    setting, need no computation in the kernel (each optimizer shown, each surface's background)?"""
    live.figure.canvas._message(None, {"type": "ready"}, [])
    live.figure.compute_ahead()
    live.take()
    moves = [{"lr_sgd": 10 ** -2.0}, {"lr_adaptive": 10 ** -2.5}, {"beta": 0.5}, {"batch_size": 16},
             {"schedule": "cosine"}, {"surface": "Rosenbrock"}, {"optimizers": ("SGD", "NAdam", "AdaDelta")}]
    for move in moves:
        start = dict(live.figure.values())
        live.figure.set(**move)
        assert live.take() == [], move
        live.figure.set(**{name: start[name] for name in move})
        live.take()


def test_moved_control_comes_first_ahead(live):
    """After the surfaces' contours (rendered once), are the next values of the control just
    moved first in line ahead, in windows of their own, on the side it moved to first (a person
    pressing a key presses it again)?"""
    values = live.figure.values()  # beta 0.9, just moved down from 0.93
    items = list(live.figure.explorer.ahead(values, moved="beta", previous={**values, "beta": 0.93}))
    assert [setting["surface"] for kind, _, setting in items[:3]] == ["Rosenbrock", "Ill-conditioned quadratic",
                                                                     "Saddle"]
    assert all(kind == "background" for kind, _, _ in items[:3])
    betas = [(name, setting["beta"]) for kind, name, setting in items[3:7]]
    assert betas == [("Momentum", 0.85), ("Adam", 0.85), ("Momentum", 0.93), ("Adam", 0.93)]
    assert items[7] == FLUSH
    assert [(name, setting["beta"]) for kind, name, setting in items[8:10]] == [("Momentum", 0.8), ("Adam", 0.8)]
    assert items[10] == FLUSH
    assert items[11][2]["beta"] == 0.9  # then what one move of any control reaches


def test_after_the_first_window_every_surface_and_optimizer_is_in_the_browser(live):
    """After the first render and the first window computed ahead (before any slider's farther
    values), does a move to any surface, the choice of any other optimizer, on this surface or
    after a move of the surface, and a step of any slider send nothing (the browser has it all)?
    And after a person's move, do the first windows ahead of the new setting do the same?"""
    figure = live.figure
    figure.canvas._message(None, {"type": "ready"}, [])
    figure.compute_ahead(windows=1)
    live.take()

    def every_move_is_in_the_browser():
        start = figure.values()
        moves = [{"surface": surface} for surface in SURFACES if surface != start["surface"]]
        moves += [{"optimizers": start["optimizers"] + (name,)} for name in OPTIMIZERS
                  if name not in start["optimizers"]]
        moves += [{"surface": "Saddle", "optimizers": start["optimizers"] + ("NAdam",)}]
        for control in ("lr_sgd", "lr_adaptive", "beta", "schedule", "batch_size"):
            grid = control_grid(figure.controls[control])
            here = grid_index(figure.controls[control], start[control])
            moves += [{control: grid[i]} for i in (here - 1, here + 1) if 0 <= i < len(grid)]
        for move in moves:
            figure.set(**move)
            assert live.take() == [], move
            figure.set(**{name: start[name] for name in move})
            live.take()

    every_move_is_in_the_browser()
    previous = figure.values()
    figure.set(batch_size=64)  # one step: in the browser already (above)
    assert live.take() == []
    figure.compute_ahead(moved="batch_size", previous=previous, windows=3)  # its next values, then one move
    live.take()
    every_move_is_in_the_browser()


def test_the_thread_ahead_gives_way_and_keeps_up():
    """With the thread ahead on, does a move to the next learning rate find it computed
    (no kernel work), and does stop() end the thread?"""
    recorded = Recorded(optimizers=("Momentum", "Adam"), num_steps=20, prefetch=True)
    figure = recorded.figure
    try:
        figure.canvas._message(None, {"type": "ready"}, [])
        key = figure.explorer.layer_key("Adam", {**figure.values(), "lr_adaptive": 10 ** -0.75})
        deadline = time.monotonic() + 120
        while figure.explorer.cached(key) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert figure.explorer.cached(key) is not None
    finally:
        figure.stop()
    assert not figure._thread.is_alive()
    recorded.take()  # the thread ahead sent what it computed; now nothing else sends
    figure.set(lr_adaptive=10 ** -0.75)
    assert figure.latencies[-1] < 0.05 and recorded.data() == {}


def test_png_shows_the_current_setting(live):
    """Does the PNG (saved notebooks, exports) follow the controls?"""
    first = np.asarray(Image.open(io.BytesIO(live.figure.png())).convert("RGB"), dtype=int)
    live.figure.set(num_steps=250, lr_adaptive=10 ** -0.5)
    second = np.asarray(Image.open(io.BytesIO(live.figure.png())).convert("RGB"), dtype=int)
    assert first.shape == second.shape and np.abs(first - second).max() > 60


def test_headless_explorer_is_static_and_live_one_is_live():
    """Headless (this test), does the explorer fall back to the static figure, and does the
    live one carry a PNG and a widget view?"""
    assert optimizer_explorer(num_steps=10).static is True
    live = optimizer_explorer(num_steps=10, static=False, prefetch=False)
    assert isinstance(live, LiveFigure)
    bundle = live._repr_mimebundle_()
    assert "image/png" in bundle and "application/vnd.jupyter.widget-view+json" in bundle
    assert live.values()["batch_size"] == NUM_EXAMPLES


def test_the_thread_ahead_waits_while_a_cell_runs(monkeypatch):
    """In IPython, does the thread ahead compute nothing while the cell that made the figure (or
    any later cell) runs, and everything once the kernel is idle?"""
    from IPython.core.interactiveshell import InteractiveShell

    from course.widgets import live as live_module
    from course.widgets.debugging import activation_explorer

    shell = InteractiveShell.instance()
    monkeypatch.setattr(live_module, "_watching_cells", False)
    try:
        figure = activation_explorer(static=False)
        explorer = figure.explorer
        time.sleep(1.0)
        assert len(explorer.computed()[1]) == 1  # only the setting shown: the cell still runs
        shell.events.trigger("post_run_cell", None)
        deadline = time.monotonic() + 60
        while len(explorer.computed()[1]) < 5 * 51 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(explorer.computed()[1]) == 5 * 51
    finally:
        shell.events.unregister("pre_run_cell", live_module._cell_started)
        shell.events.unregister("post_run_cell", live_module._cell_finished)
        live_module._cell_finished()
        figure.stop()
        InteractiveShell.clear_instance()


def test_the_figure_moved_last_computes_ahead_alone():
    """While the figure a person moved last has work ahead, does another figure's thread wait,
    and go on once the moved one is done?"""
    from course.widgets.debugging import activation_explorer

    moved = activation_explorer(static=False, prefetch=False)
    moved.set(negative_slope=0.2)  # a person's move: this figure has the attention now
    moved._working.set()  # ...and work ahead
    other = activation_explorer(static=False)
    try:
        time.sleep(1.0)
        assert len(other.explorer.computed()[1]) == 1
        moved._working.clear()
        deadline = time.monotonic() + 60
        while len(other.explorer.computed()[1]) < 5 * 51 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(other.explorer.computed()[1]) == 5 * 51
    finally:
        other.stop()


def test_a_setting_not_computed_is_sent_to_the_iterations_shown_then_whole(live):
    """When a person reaches a setting nobody computed, does the kernel send at once the paths
    up to the iterations shown (a prefix, marked so), then the whole paths as soon as the thread
    ahead has them, and the whole at once if the person asks for more iterations first?"""
    live.figure.canvas._message(None, {"type": "ready"}, [])
    live.take()
    live.figure.set(lr_adaptive=10 ** -2.25)
    (content, _), = live.take()
    prefixes = {item["key"].split("|")[0]: item["prefix"] for item in content["items"]}
    assert prefixes == {"Adam": 20}
    data = live.data([(content, _)])
    (path, gap), _ = next(iter(data.values()))
    assert len(gap) == 21
    live.figure.compute_ahead()
    whole = live.data()
    key = live.figure.explorer.layer_key("Adam", live.figure.values())
    assert len(whole[key][0][1]) == MAX_STEPS + 1
    np.testing.assert_array_equal(whole[key][0][0][:42], path)
    live.figure.set(batch_size=4)
    live.figure.set(lr_adaptive=10 ** -0.5)  # two moves away from what was computed ahead
    assert [item["prefix"] for content, _ in live.take() for item in content["items"]] == [20]
    live.figure.set(num_steps=200)  # more than the prefix of 20: the whole, now
    data = live.data()
    assert [len(arrays[1]) for arrays, _ in data.values()] == [MAX_STEPS + 1]
