"""The augmentation lecture's explorer: a slider for each transform's strength over real images.

The random draws are fixed (one seed), so moving a slider scales the same rotation, shift or
colour change up and down instead of drawing new ones. Static panels when headless.
"""
from __future__ import annotations

import torch

from .augment import color_jitter, hflip, random_affine, random_crop
from .plots import image_grid, show_images
from .widgets import InteractiveFigure, interactive_figure

__all__ = ["STRENGTHS", "augment_with", "augmentation_explorer"]

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


def augment_with(X: torch.Tensor, seed: int = 0, flip=0.0, padding=0, degrees=0.0, translate=0.0,
                 zoom=0.0, shear=0.0, brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0):
    """Flip, pad-and-crop, affine map and colour jitter ``X`` with the given strengths.

    The same ``seed`` draws the same random numbers at every strength.
    """
    generator = torch.Generator().manual_seed(seed)
    X = hflip(X, p=flip, generator=generator)
    X = random_crop(X, padding=int(padding), generator=generator)
    X = random_affine(X, degrees=degrees, translate=translate, scale=(1 - zoom, 1 + zoom),
                      shear=shear, generator=generator)
    return color_jitter(X, brightness, contrast, saturation, hue, generator=generator)


def augmentation_explorer(X: torch.Tensor, titles=None, seed: int = 0, ncols: int = 6,
                          static_settings=None) -> InteractiveFigure:
    """Sliders for every strength in :data:`STRENGTHS` over the images ``X`` ``(N, C, H, W)``.

    Images should be in [0, 1]. The static fallback shows the originals, geometric
    transforms, colour transforms and a mix of both.
    """
    import ipywidgets as widgets

    X = X.detach().cpu().float()
    controls = {}
    for name, (low, high, step, what) in STRENGTHS.items():
        slider = widgets.IntSlider if isinstance(step, int) else widgets.FloatSlider
        controls[name] = slider(value=low, min=low, max=high, step=step, description=name,
                                tooltip=what, continuous_update=True)
    rows = -(-len(X) // ncols)

    def build(fig, **strengths):
        artist = show_images(augment_with(X, seed, **strengths), titles=titles, ncols=ncols, fig=fig)
        artist.set_animated(True)

        def update(**strengths):
            artist.set_data(image_grid(augment_with(X, seed, **strengths), ncols, titles is not None))

        return update

    if static_settings is None:
        static_settings = [
            {},
            {"flip": 0.5, "padding": 2, "degrees": 25.0, "translate": 0.1, "zoom": 0.2, "shear": 15.0},
            {"brightness": 0.5, "contrast": 0.5, "saturation": 0.8, "hue": 0.15},
            {"degrees": 25.0, "translate": 0.1, "zoom": 0.2, "brightness": 0.5, "saturation": 0.8,
             "hue": 0.15},
        ]
    return interactive_figure(build, controls, static_settings=static_settings,
                              figsize=(1.1 * ncols, 1.25 * rows + 0.3), ncols=2)
