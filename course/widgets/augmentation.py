"""Lecture 5's explorer: a slider for each transform's strength over real images.

Each transform draws its random numbers from its own generator (one seed), so moving a
slider scales the same rotation, shift or colour change up and down instead of drawing
new ones, and moving one slider leaves the others' draws alone.

The browser applies the transforms itself (``augmentation.js``: flip, reflect-pad and crop,
the affine map with bilinear sampling, colour jitter, as :mod:`course.augment` computes
them) from the original images and the random draws, sent once: ten sliders make too many
combinations to compute ahead. :func:`augment_with` is the same in torch (the static
figure uses it, and a browser test holds the two together).
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import torch

from ..augment import color_jitter, hflip, random_affine, random_crop
from ..plots import grid_layout, show_images
from . import layers as L
from .explorer import Explorer

__all__ = ["STRENGTHS", "augment_with", "draws", "AugmentationExplorer", "augmentation_explorer"]

# name: (minimum, maximum, step, what it sets)
STRENGTHS = {
    "flip": (0.0, 1.0, 0.1, "probability of a left-right flip"),
    "padding": (0, 8, 1, "pixels of reflect padding before a random crop"),
    "degrees": (0.0, 45.0, 1.0, "rotation up to ± degrees"),
    "translate": (0.0, 0.3, 0.01, "shift up to ± this fraction of the size"),
    "zoom": (0.0, 0.5, 0.05, "scale in [1 - zoom, 1 + zoom]"),
    "shear": (0.0, 30.0, 1.0, "shear up to ± degrees"),
    "brightness": (0.0, 0.8, 0.05, "brightness factor in [1 - b, 1 + b]"),
    "contrast": (0.0, 0.8, 0.05, "contrast factor in [1 - c, 1 + c]"),
    "saturation": (0.0, 1.0, 0.05, "saturation factor in [1 - s, 1 + s]"),
    "hue": (0.0, 0.5, 0.02, "hue turned by up to ± h·360°"),
}
#: each transform's own stream of random numbers
STREAMS = ("flip", "crop", "affine", "brightness", "contrast", "saturation", "hue")


def _generator(seed: int, stream: str) -> torch.Generator:
    return torch.Generator().manual_seed(seed * len(STREAMS) + STREAMS.index(stream))


def augment_with(X: torch.Tensor, seed: int = 0, flip=0.0, padding=0, degrees=0.0, translate=0.0,
                 zoom=0.0, shear=0.0, brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0):
    """Flip, reflect-pad and crop, affine map and colour jitter ``X`` with the given strengths.

    Each transform has its own generator seeded from ``seed``: the same draws at every
    strength, whatever the other strengths. Colour jitter is applied one factor at a time
    in :func:`course.augment.color_jitter`'s order and clipped to [0, 1] once, at the end.
    """
    X = hflip(X, p=flip, generator=_generator(seed, "flip"))
    X = random_crop(X, padding=int(padding), generator=_generator(seed, "crop"))
    X = random_affine(X, degrees=degrees, translate=translate, scale=(1 - zoom, 1 + zoom), shear=shear,
                      generator=_generator(seed, "affine"))
    for name, value in (("brightness", brightness), ("contrast", contrast), ("saturation", saturation),
                        ("hue", hue)):
        X = color_jitter(X, **{name: value}, value_range=None, generator=_generator(seed, name))
    return X.clamp(0.0, 1.0)


def draws(n: int, seed: int = 0, max_padding: int = 8) -> dict[str, np.ndarray]:
    """The random numbers :func:`augment_with` draws for ``n`` images, as the browser needs them:
    ``flip`` ``(n,)``; ``crop`` ``(max_padding + 1, 2, n)`` offsets (top, left) for each padding;
    ``affine`` ``(5, n)`` (angle, shift x, shift y, scale, shear); ``colour`` ``(4, n)``.
    Uniform draws in [0, 1), as ``course.augment.uniform`` makes them."""
    def rand(stream: str, count: int = 1) -> np.ndarray:
        generator = _generator(seed, stream)
        return np.stack([torch.rand(n, generator=generator).numpy() for _ in range(count)])

    crop = []
    for padding in range(max_padding + 1):
        generator = _generator(seed, "crop")  # random_crop: randint(2p + 1) for the top, then the left
        crop.append([torch.randint(2 * padding + 1, (n,), generator=generator).numpy() for _ in range(2)])
    return {"flip": rand("flip")[0], "crop": np.asarray(crop, dtype=np.float64), "affine": rand("affine", 5),
            "colour": np.concatenate([rand(name) for name in ("brightness", "contrast", "saturation", "hue")])}


def rgba_grid(X: torch.Tensor, ncols: int, titles: bool) -> np.ndarray:
    """The images tiled as :func:`course.plots.image_grid` tiles them, as RGBA (grey images grey,
    gaps transparent): what the browser draws."""
    n, channels, height, width = X.shape
    shape, corners = grid_layout(n, height, width, ncols, titles)
    grid = np.zeros(shape + (4,))
    pixels = X.detach().cpu().double().numpy()
    for i, (top, left) in enumerate(corners):
        tile = np.moveaxis(pixels[i], 0, -1)
        grid[top:top + height, left:left + width, :3] = tile if channels == 3 else tile[..., :1]
        grid[top:top + height, left:left + width, 3] = 1.0
    return grid


class AugmentationExplorer(Explorer):
    """The images after the transforms at the sliders' strengths, with their titles."""

    scripts = (Path(__file__).with_name("augmentation.js"),)
    ncols = 2

    def __init__(self, controls: Mapping, X: torch.Tensor, titles=None, seed: int = 0, ncols: int = 6):
        super().__init__(controls)
        self.X, self.titles, self.seed, self.columns = X.detach().cpu().float(), titles, seed, ncols
        n, _, height, width = self.X.shape
        rows = -(-n // ncols)
        self.figsize = (1.1 * min(ncols, n), 1.25 * rows + 0.3)
        self.shape, self.corners = grid_layout(n, height, width, ncols, titles is not None)

    def layers(self) -> list[dict]:
        n, channels, height, width = self.X.shape
        rows, cols = self.shape
        return [{"name": "images", "deps": list(STRENGTHS), "color": "#000000", "compute": "augment", "inputs": "augment",
                 "geometry": {"n": n, "channels": channels, "height": height, "width": width,
                              "rows": rows, "cols": cols, "max_padding": STRENGTHS["padding"][1]},
                 "parts": [L.image(0, cols, rows, extent=(-0.5, cols - 0.5, rows - 0.5, -0.5))]}]

    def draw_background(self, fig, values: Mapping) -> list:
        artist = show_images(self.X, titles=self.titles, ncols=self.columns, fig=fig)
        return [artist.axes]

    def inputs(self) -> dict[str, L.LayerData]:
        """The original images and every random draw (float64: the crop offsets are integers)."""
        random = draws(len(self.X), self.seed, STRENGTHS["padding"][1])
        return {"augment": L.LayerData([self.X.numpy().astype(np.float64).ravel(), random["flip"],
                                        random["crop"].ravel(), random["affine"].ravel(),
                                        random["colour"].ravel(), np.asarray(self.corners, float).ravel()],
                                       exact=True)}

    def compute(self, name: str, values: Mapping) -> L.LayerData:
        strengths = {key: values[key] for key in STRENGTHS}
        return L.LayerData([rgba_grid(augment_with(self.X, self.seed, **strengths), self.columns,
                                      self.titles is not None).ravel()])


def augmentation_explorer(X: torch.Tensor, titles=None, seed: int = 0, ncols: int = 6, static_settings=None,
                          static: bool | None = None, prefetch: bool = True):
    """Sliders for every strength in :data:`STRENGTHS` over the images ``X`` ``(N, C, H, W)`` in [0, 1].

    What to look for: which strengths keep every image recognisably its class (a small
    rotation, a shift, brightness) and which start to destroy it (large shear or zoom cut
    the shape off; hue turns a red square green, harmless only if colour is not the label);
    the corners that rotation and shear bring in are black (zero fill), the crop's border
    mirrors the image (reflect padding). The static fallback shows the originals, geometric
    transforms, colour transforms and a mix of both.
    """
    import ipywidgets as widgets

    controls = {}
    for name, (low, high, step, what) in STRENGTHS.items():
        slider = widgets.IntSlider if isinstance(step, int) else widgets.FloatSlider
        controls[name] = slider(value=low, min=low, max=high, step=step, description=name, tooltip=what,
                                continuous_update=True)
    if static_settings is None:
        static_settings = [
            {},
            {"flip": 0.5, "padding": 2, "degrees": 25.0, "translate": 0.1, "zoom": 0.2, "shear": 15.0},
            {"brightness": 0.5, "contrast": 0.5, "saturation": 0.8, "hue": 0.15},
            {"degrees": 25.0, "translate": 0.1, "zoom": 0.2, "brightness": 0.5, "saturation": 0.8,
             "hue": 0.15},
        ]
    explorer = AugmentationExplorer(controls, X, titles=titles, seed=seed, ncols=ncols)
    return explorer.show(static_settings=static_settings, static=static, prefetch=prefetch)
