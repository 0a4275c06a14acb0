"""The live optimizer explorer: what the kernel sends the browser, and when.

The browser draws the paths (``course/canvas_figure.js``, tested in a real JupyterLab by
``tests/browser``); here the messages are captured on their way out of the kernel and
compared with the paths the static figure draws (``optimizer_paths``, itself compared with
``torch.optim`` in ``test_surfaces``).
"""
import io
import time

import numpy as np
import pytest
from PIL import Image

from course.canvas_figure import layer_key
from course.optimizer_widgets import MAX_STEPS, optimizer_explorer, optimizer_paths
from course.path_explorer import PathExplorer


class Recorded:
    """A live explorer whose messages to the browser are recorded instead of sent."""

    def __init__(self, **kwargs):
        self.messages = []
        self.explorer = optimizer_explorer(static=False, **kwargs)
        self.explorer.canvas.send = lambda content, buffers=None: self.messages.append(
            (content, [bytes(b) for b in buffers or []]))

    def take(self):
        taken, self.messages = self.messages, []
        return taken

    def data(self):
        return {c["key"]: [np.frombuffer(b, dtype="<f4") for b in buffers]
                for c, buffers in self.take() if c["type"] == "data"}


@pytest.fixture
def live():
    recorded = Recorded(optimizers=("Momentum", "Adam"), num_steps=20, prefetch=False)
    yield recorded
    recorded.explorer.stop()


def test_a_browser_view_gets_the_background_and_the_shown_paths(live):
    """When a view starts, does it receive the surface's background (a PNG with both axes'
    boxes) and, per shown optimizer, its path to the slider's maximum and its loss gap?"""
    live.explorer._on_ready()
    messages = live.take()
    (background,) = [(c, b) for c, b in messages if c["type"] == "background"]
    content, (png,) = background
    image = Image.open(io.BytesIO(png))
    assert image.size == (2 * content["width"], 2 * content["height"])  # twice as sharp
    assert [ax["ylog"] for ax in content["axes"]] == [False, True]
    assert content["axes"][1]["xlim"] == [0.0, MAX_STEPS]
    data = {c["key"]: b for c, b in messages if c["type"] == "data"}
    values = live.explorer.values()
    expected = optimizer_paths("Beale", ["Momentum", "Adam"], MAX_STEPS, values["lr_sgd"],
                               values["lr_adaptive"], values["beta"], values["schedule"])
    assert set(data) == {layer_key("Momentum", ["surface", "lr_sgd", "beta", "schedule"], values),
                         layer_key("Adam", ["surface", "lr_adaptive", "beta", "schedule"], values)}
    for key, (path, gap) in data.items():
        name = key.split("|")[0]
        path = np.frombuffer(path, dtype="<f4").reshape(-1, 2)
        np.testing.assert_allclose(path, expected[name], rtol=1e-6, atol=1e-6)
        assert np.all(np.frombuffer(gap, dtype="<f4")[np.isfinite(path[:, 0])] > 0)


def test_only_what_a_change_needs_is_sent(live):
    """Does the iteration slider send nothing (the browser redraws alone), a learning rate
    only the optimizers that use it, and a setting seen before nothing at all?"""
    live.explorer._on_ready()
    live.take()
    live.explorer.set(num_steps=200)
    assert live.take() == []
    live.explorer.set(lr_adaptive=10 ** -1.5)
    assert [key.split("|")[0] for key in live.data()] == ["Adam"]
    live.explorer.set(lr_sgd=10 ** -2.5)
    assert [key.split("|")[0] for key in live.data()] == ["Momentum"]
    live.explorer.set(lr_adaptive=0.1)  # back to a setting the browser has
    assert live.take() == []
    live.explorer.set(optimizers=("Momentum", "Adam", "L-BFGS"))
    assert [key.split("|")[0] for key in live.data()] == ["L-BFGS"]
    live.explorer.set(surface="Saddle")
    kinds = [c["type"] for c, _ in live.take()]
    assert kinds.count("background") == 1 and kinds.count("data") == 3
    assert len(live.explorer.latencies) == 6


def test_settings_ahead_are_sent_before_they_are_asked_for():
    """After a change, are the neighbouring learning rates computed in the background, so
    that moving the slider there next needs no computation at all?"""
    recorded = Recorded(optimizers=("Momentum", "Adam"), num_steps=20, prefetch=True)
    explorer = recorded.explorer
    try:
        ahead = explorer.likely_next(explorer.values())
        neighbour = explorer._grid("lr_adaptive", explorer.values()["lr_adaptive"])
        grid, here = neighbour
        assert ("Adam", {**explorer.values(), "lr_adaptive": grid[here + 1]}) in ahead
        deadline = time.monotonic() + 60
        while explorer._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        sent = recorded.data()
        assert len(sent) >= len(ahead)
        start = time.perf_counter()
        explorer.set(lr_adaptive=grid[here + 1])
        assert time.perf_counter() - start < 0.05 and recorded.data() == {}
    finally:
        explorer.stop()


def test_png_shows_the_current_setting(live):
    """Does the PNG (saved notebooks, exports) follow the controls?"""
    first = np.asarray(Image.open(io.BytesIO(live.explorer.png())).convert("RGB"), dtype=int)
    live.explorer.set(num_steps=250, lr_adaptive=10 ** -0.5)
    second = np.asarray(Image.open(io.BytesIO(live.explorer.png())).convert("RGB"), dtype=int)
    assert first.shape == second.shape and np.abs(first - second).max() > 60


def test_headless_explorer_is_static_and_live_one_is_a_path_explorer():
    """Headless (this test), does the explorer fall back to the static figure?"""
    assert optimizer_explorer(num_steps=10).static is True
    live = optimizer_explorer(num_steps=10, static=False, prefetch=False)
    assert isinstance(live, PathExplorer)
    bundle = live._repr_mimebundle_()
    assert "image/png" in bundle and "application/vnd.jupyter.widget-view+json" in bundle
