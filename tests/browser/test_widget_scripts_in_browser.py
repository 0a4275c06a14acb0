"""The lecture scripts that compute layers in the browser, in Chromium, against their Python twins.

``metrics.js`` counts a threshold's confusion matrix from sorted scores: it must agree with
scikit-learn's ``confusion_matrix``. ``augmentation.js`` applies flips, crops, affine maps and
colour jitter: it must agree with ``course.augment`` (torch) through ``augment_with``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

import course.widgets.augmentation as augmentation
import course.widgets.metrics as metrics
from course.shapes import make_shapes
from widget_driver import load_module

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(chromium):
    scripts = [Path(metrics.__file__).with_name("metrics.js"), Path(augmentation.__file__).with_name("augmentation.js")]
    page = load_module(chromium, scripts)
    yield page
    page.close()


def test_threshold_counts_are_sklearns_confusion_matrix(page):
    """At thresholds between, below, above and exactly at scores (ties included), are the
    browser's TN, FP, FN, TP scikit-learn's confusion matrix of ``score >= t``?"""
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(int)
    scores = np.round(rng.normal(size=300) + 1.2 * y, 2)  # rounding makes ties
    thresholds = np.concatenate([scores[:40], rng.uniform(-4, 5, 40), [scores.min() - 1, scores.max() + 1]])
    got = page.evaluate("""([neg, pos, ts]) => ts.map(t => {
        const c = window.figure.thresholdCounts(Float64Array.from(neg), Float64Array.from(pos), t);
        return [c.tn, c.fp, c.fn, c.tp]; })""",
                        [np.sort(scores[y == 0]).tolist(), np.sort(scores[y == 1]).tolist(), thresholds.tolist()])
    expected = [confusion_matrix(y, (scores >= t).astype(int), labels=[0, 1]).ravel().tolist() for t in thresholds]
    assert got == expected


def test_threshold_layer_is_the_python_twin(page):
    """Is the browser's whole layer (line, ROC point, PR point, counts) the twin's from sklearn?"""
    rng = np.random.default_rng(1)
    y = (rng.random(200) < 0.4).astype(int)
    scores = rng.normal(size=200) + y
    figure = metrics.threshold_explorer(y, scores, static=False, prefetch=False)
    explorer = figure.explorer
    (inputs,) = explorer.inputs().values()
    for t in (scores[5], 0.3, -3.0, 5.0):
        twin = explorer.compute("threshold", {"threshold": t})
        got = page.evaluate("""([neg, pos, t]) => {
            const f = window.figure.operatingPoint(Float64Array.from(neg), Float64Array.from(pos), t);
            return [f.fpr, f.tpr, f.tpr, f.precision, f.tn, f.fp, f.fn, f.tp]; }""",
                            [inputs.arrays[0].tolist(), inputs.arrays[1].tolist(), float(t)])
        np.testing.assert_allclose(got, np.concatenate([twin.arrays[1], twin.arrays[2], twin.arrays[3]]), rtol=1e-12)


@pytest.mark.parametrize("colour", [True, False])
def test_augmented_pixels_are_torchs(page, colour):
    """For random strengths of every slider, is the browser's grid of augmented images the one
    augment_with computes in torch (to float32 rounding), colour and grey images alike?"""
    X = make_shapes(5, size=12, seed=0)[0]
    X = X if colour else X[:, :1]
    figure = augmentation.augmentation_explorer(X, titles=list("abcde"), ncols=3, static=False, prefetch=False)
    explorer = figure.explorer
    (inputs,) = explorer.inputs().values()
    geometry = explorer.layers()[0]["geometry"]
    rng = np.random.default_rng(2)
    for trial in range(4):
        strengths = {}
        for name, (low, high, step, _) in augmentation.STRENGTHS.items():
            steps = int(round((high - low) / step))
            strengths[name] = low + step * int(rng.integers(0, steps + 1)) if trial else 0 * low
        strengths = {k: (int(v) if k == "padding" else float(v)) for k, v in strengths.items()}
        got = np.array(page.evaluate("""([arrays, geometry, s]) => Array.from(window.figure.augmentGrid(
            {arrays: arrays.map(a => Float64Array.from(a))}, geometry, s))""",
                                     [[a.tolist() for a in inputs.arrays], geometry, strengths]))
        twin = explorer.compute("images", {**explorer.values(), **strengths}).arrays[0]
        np.testing.assert_allclose(got, twin, atol=2e-5, err_msg=str(strengths))
