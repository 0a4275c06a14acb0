"""Tests for course.widgets.canvas_figure: the widget's links, keys and messages (the browser
half is tested in Chromium by tests/browser/test_canvas_figure_in_browser.py)."""
from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course.widgets.canvas_figure import CanvasFigure, module_source, value_key
from course.widgets.layers import LayerData


def test_keys_round_numbers_to_a_millionth():
    """Do two floats that differ by rounding (0.35 from Python, 0.35000000000000003 from a slider
    step) get one key, and do booleans and tuples get the browser's spelling?"""
    assert value_key(0.35) == value_key(0.35000000000000003) == "350000"
    assert value_key(10 ** -2.5) == "3162"
    assert value_key(True) == "true" and value_key(("SGD", "Adam")) == "SGD+Adam"
    assert value_key(np.float32(0.5)) == "500000"


def test_selections_are_linked_by_index_with_their_labels():
    """Is a selection linked to the figure by its index, its labels sent, and a layer keyed by labels?"""
    controls = {"batch": widgets.SelectionSlider(options=[("1 (SGD)", 1), ("4", 4)], value=4),
                "lr": widgets.FloatSlider(value=0.1, min=0, max=1, step=0.1)}
    canvas = CanvasFigure(controls, [{"name": "path", "deps": ["batch", "lr"], "parts": []}])
    assert canvas.control_options == {"c_batch": ["1 (SGD)", "4"]}
    assert canvas.c_batch == 1 and canvas.c_lr == 0.1
    assert canvas.layer_key("path", {"batch": 1, "lr": 0.1}) == "path|1 (SGD)|100000"
    assert canvas.layers[0]["deps"] == ["c_batch", "c_lr"]


def test_data_messages_carry_arrays_in_their_types_and_texts():
    """Does one data message carry several layers' arrays (float32, or float64 when exact) and texts?"""
    canvas = CanvasFigure({"k": widgets.IntSlider()}, [{"name": "a", "deps": ["k"], "parts": []}])
    sent = []
    canvas.send = lambda content, buffers=None: sent.append((content, buffers))
    canvas.send_data([("a|1", LayerData([np.arange(3.0)], ["one"])),
                      ("a|2", LayerData([np.array([0.1]), np.array([1e300])], exact=True))])
    (content, buffers), = sent
    assert [item["dtypes"] for item in content["items"]] == [["f4"], ["f8", "f8"]]
    assert content["items"][0]["texts"] == ["one"]
    np.testing.assert_array_equal(np.frombuffer(buffers[0], "<f4"), [0, 1, 2])
    assert np.frombuffer(buffers[2], "<f8")[0] == 1e300


def test_the_module_is_the_core_and_the_lecture_scripts():
    """Is the browser module the core (with registerLayer) followed by each lecture script?"""
    from pathlib import Path

    import course.widgets.metrics as metrics

    source = module_source([Path(metrics.__file__).with_name("metrics.js")])
    assert source.index("function registerLayer") < source.index('registerLayer("threshold"')
