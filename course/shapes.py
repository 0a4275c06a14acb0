"""The course's generated image set: 32×32 colour images of ten shapes, hard enough to teach with.

Every experiment that trains a convolutional network uses it. Nothing is downloaded: the
images are drawn on demand, the same images for the same seed on every device, any number
of them, 10,000 in about a second on a laptop CPU.

The label is the **shape** (:data:`SHAPE_NAMES`). Everything else is a nuisance that the
network has to learn to ignore, each drawn independently of the label:

- position, size and angle (the shape can touch the border);
- colour (shape and background: any hue) and texture (solid, stripes, checks or blotches,
  at a random scale and orientation, on the shape and on the background);
- clutter: small blobs behind the shape and thin lines across the whole image, occluding it;
- a gradient of light across the image, and pixel noise.

Two pairs differ only inside (circle / ring, square / frame) and one only in aspect
(circle / ellipse), so colour or outline alone does not solve the task. How it was tuned
(by measuring the effects the lectures teach: a CNN beats an MLP; a few thousand images
overfit; augmentation, BatchNorm and dropout each change the test accuracy) is written in
:mod:`course.experiments`.

>>> X, y = make_shapes(256, seed=0)
>>> X.shape, X.dtype, int(y.max())
(torch.Size([256, 3, 32, 32]), torch.float32, 9)
>>> split = course.data.image_split(n_train=2000, seed=0)   # standardized train / val / test
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import torch

__all__ = ["SHAPE_NAMES", "ShapeStyle", "DEFAULT_STYLE", "make_shapes", "shape_masks", "TEST_SEED", "VAL_SEED"]

SHAPE_NAMES = ("circle", "ring", "square", "frame", "triangle", "cross", "star", "crescent",
               "arrow", "ellipse")

# the validation and test images come from their own seeds, so no training seed reaches them
VAL_SEED = 1_000_003

TEST_SEED = 2_000_003
# images drawn from one stream of random numbers
BLOCK = 256


@dataclass(frozen=True)
class ShapeStyle:
    """How strong each nuisance is. :data:`DEFAULT_STYLE` is the course's data set.

    ``size``: the shape's radius as a fraction of half the image, drawn uniformly in this range.
    ``texture``: contrast of the fill patterns (0: flat colours). ``clutter_blobs`` and
    ``clutter_lines``: the most blobs and lines per image (each image draws 0..max).
    ``shading``: strength of the gradient of light. ``noise``: standard deviation of the pixel
    noise. ``min_contrast``: the least brightness difference between shape and background.
    """

    size: tuple[float, float] = (0.35, 0.8)
    rotation: float = 30.0
    texture: float = 0.15
    clutter_blobs: int = 2
    clutter_lines: int = 1
    line_width: float = 0.045
    shading: float = 0.2
    noise: float = 0.03
    min_contrast: float = 0.25

    def plain(self) -> "ShapeStyle":
        """The same shapes without texture, clutter, shading or noise (for pictures)."""
        return replace(self, texture=0.0, clutter_blobs=0, clutter_lines=0, shading=0.0, noise=0.0)


DEFAULT_STYLE = ShapeStyle()


# ---------------------------------------------------------------- the shapes
# Each function takes coordinates (u, v) relative to the shape's centre, already rotated, in
# units of the shape's radius, and returns a signed distance (negative inside) in the same
# units, exact or close to it near the edge (all the anti-aliasing needs).
def _circle(u, v):
    return torch.sqrt(u * u + v * v) - 1.0


def _ring(u, v):
    return (torch.sqrt(u * u + v * v) - 0.72).abs() - 0.28


def _square(u, v):
    return torch.maximum(u.abs(), v.abs()) - 0.8


def _frame(u, v):
    return (torch.maximum(u.abs(), v.abs()) - 0.6).abs() - 0.22


_TRIANGLE_NORMALS = [(math.cos(a), math.sin(a)) for a in (math.pi / 2, math.pi / 2 + 2 * math.pi / 3,
                                                          math.pi / 2 + 4 * math.pi / 3)]


def _triangle(u, v):
    return torch.stack([u * nx + v * ny for nx, ny in _TRIANGLE_NORMALS]).amax(dim=0) - 0.5


def _cross(u, v):
    w = 0.33
    return torch.minimum(torch.maximum(u.abs() - w, v.abs() - 1.0), torch.maximum(v.abs() - w, u.abs() - 1.0))


def _star(u, v):
    # five points: in polar coordinates the edge runs straight from a tip (radius 1) to a
    # notch (radius 0.45); the distance is measured along the ray (close to exact at the edge)
    rho = torch.sqrt(u * u + v * v)
    theta = torch.atan2(v, u) % (2 * math.pi / 5)
    t = (theta - math.pi / 5).abs() / (math.pi / 5)            # 0 at a notch, 1 at a tip
    outer, inner = 1.0, 0.45
    a1, a2 = 0.0, math.pi / 5                                    # tip and notch directions
    # the edge is the segment between (outer, a1) and (inner, a2); the ray at angle phi in
    # between meets it at radius r(phi) (the polar equation of a straight line)
    phi = (1 - t) * (math.pi / 5)
    x1, y1 = outer * math.cos(a1), outer * math.sin(a1)
    x2, y2 = inner * math.cos(a2), inner * math.sin(a2)
    nx, ny = y2 - y1, x1 - x2
    c = nx * x1 + ny * y1
    edge = c / (nx * torch.cos(phi) + ny * torch.sin(phi))
    return (rho - edge) * 0.8


def _crescent(u, v):
    outer = torch.sqrt(u * u + v * v) - 1.0
    bite = torch.sqrt((u - 0.5) ** 2 + v * v) - 0.78
    return torch.maximum(outer, -bite)


def _arrow(u, v):
    shaft = torch.maximum(v.abs() - 0.2, (u + 0.35).abs() - 0.6)
    # the head: a triangle with its tip at (1, 0) and its base at u = 0.1, half-width 0.65
    slope = 0.65 / 0.9
    norm = math.sqrt(1 + slope * slope)
    head = torch.maximum(0.1 - u, (v.abs() - slope * (1.0 - u)) / norm)
    return torch.minimum(shaft, head)


def _ellipse(u, v):
    a, b = 1.0, 0.5
    k = torch.sqrt((u / a) ** 2 + (v / b) ** 2)
    return (k - 1.0) * b


_SHAPES = (_circle, _ring, _square, _frame, _triangle, _cross, _star, _crescent, _arrow, _ellipse)


def shape_masks(size: int = 64, radius: float = 0.9) -> torch.Tensor:
    """The ten silhouettes, upright and centred: ``(10, size, size)`` coverage in [0, 1].

    ``radius`` is the shape's radius as a fraction of half the image. Edges are anti-aliased
    over one pixel, as in :func:`make_shapes`.
    """
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    v, u = torch.meshgrid(-coords, coords, indexing="ij")  # v points up, as in a plot
    return torch.stack([torch.clamp(0.5 - shape(u / radius, v / radius) * radius * size / 2, 0, 1)
                        for shape in _SHAPES])


# ---------------------------------------------------------------- colours and textures
def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``(N,)`` hue in [0, 1), saturation, value -> ``(N, 3)`` RGB (the standard formula)."""
    k = torch.stack([(5 + h * 6) % 6, (3 + h * 6) % 6, (1 + h * 6) % 6], dim=1)
    return v[:, None] - v[:, None] * s[:, None] * torch.clamp(torch.minimum(k, 4 - k), 0, 1)


def _pattern(kind, freq, angle, phase, x, y):
    """Fill patterns in [0, 1] on the image grid: 0 solid, 1 stripes, 2 checks, 3 blotches.

    ``kind, freq, angle`` are ``(N,)``, ``phase`` is ``(N, 2)``; ``x, y`` the ``(H, W)`` grid.
    """
    c, s = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    a = (c * x + s * y) * freq[:, None, None] + phase[:, 0, None, None]
    b = (-s * x + c * y) * freq[:, None, None] + phase[:, 1, None, None]
    stripes = 0.5 + 0.5 * torch.sin(a)
    checks = (torch.sin(a) * torch.sin(b) > 0).float()
    blotches = 0.5 + 0.25 * (torch.sin(a) + torch.sin(0.7 * b + 1.3 * a))
    kind = kind[:, None, None]
    out = torch.where(kind == 1, stripes, torch.where(kind == 2, checks, blotches))
    return torch.where(kind == 0, torch.zeros_like(out), out)


def _segment_distance(x, y, p0, p1):
    """Distance of every grid point to each image's segment ``p0``–``p1`` (``(M, 2)`` each)."""
    px, py = x - p0[:, 0, None, None], y - p0[:, 1, None, None]
    d = p1 - p0
    length2 = (d * d).sum(dim=1).clamp_min(1e-8)[:, None, None]
    t = ((px * d[:, 0, None, None] + py * d[:, 1, None, None]) / length2).clamp(0, 1)
    return torch.sqrt((px - t * d[:, 0, None, None]) ** 2 + (py - t * d[:, 1, None, None]) ** 2)


def _draw(draws: dict, sl: slice, size: int, style: ShapeStyle) -> torch.Tensor:
    """Render the images ``sl`` of the drawn parameters: ``(M, 3, size, size)`` in [0, 1]."""
    g = {key: value[sl] for key, value in draws.items()}
    m = len(g["y"])
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1  # pixel centres
    y_grid, x_grid = torch.meshgrid(coords, coords, indexing="ij")
    soft = 1.0 / size  # half a pixel in image units: one pixel of anti-aliased edge

    # background: two colours mixed by a texture, lit by a gradient
    bg_pattern = _pattern(g["bg_kind"], g["bg_freq"], g["bg_angle"], g["bg_phase"], x_grid, y_grid)
    bg_mix = 0.5 + (bg_pattern - 0.5) * style.texture * 2
    image = torch.lerp(g["bg"][:, :, None, None].expand(m, 3, size, size), g["bg2"][:, :, None, None],
                       bg_mix[:, None])

    # clutter behind the shape: small soft blobs
    for k in range(style.clutter_blobs):
        dist = torch.sqrt((x_grid - g["blob_xy"][:, k, 0, None, None]) ** 2 +
                          (y_grid - g["blob_xy"][:, k, 1, None, None]) ** 2) - g["blob_r"][:, k, None, None]
        alpha = (torch.clamp(0.5 - dist / (2 * soft), 0, 1) * g["blob_on"][:, k, None, None])[:, None]
        image.lerp_(g["blob_rgb"][:, k, :, None, None], alpha)

    # the shape
    dx = x_grid - g["centre"][:, 0, None, None]
    dy = y_grid - g["centre"][:, 1, None, None]
    cos, sin = torch.cos(g["angle"])[:, None, None], torch.sin(g["angle"])[:, None, None]
    radius = g["radius"][:, None, None]
    u, v = (cos * dx + sin * dy) / radius, (-sin * dx + cos * dy) / radius
    sd = torch.empty(m, size, size)
    for index, shape in enumerate(_SHAPES):
        idx = (g["shape"] == index).nonzero().flatten()
        if len(idx):
            sd[idx] = shape(u[idx], v[idx]) * radius[idx]
    alpha = torch.clamp(0.5 - sd / (2 * soft), 0, 1)[:, None]
    fg_pattern = _pattern(g["fg_kind"], g["fg_freq"], g["fg_angle"], g["fg_phase"], x_grid, y_grid)
    fg_mix = (0.5 + (fg_pattern - 0.5) * style.texture * 2)[:, None]
    fg = torch.lerp(g["fg"][:, :, None, None].expand(m, 3, size, size), g["fg2"][:, :, None, None], fg_mix)
    image.lerp_(fg, alpha)

    # clutter across everything: thin lines that occlude the shape too
    for k in range(style.clutter_lines):
        dist = _segment_distance(x_grid, y_grid, g["line_p0"][:, k], g["line_p1"][:, k]) - style.line_width / 2
        line_alpha = (torch.clamp(0.5 - dist / (2 * soft), 0, 1) * g["line_on"][:, k, None, None])[:, None]
        image.lerp_(g["line_rgb"][:, k, :, None, None], line_alpha)

    # light and noise
    light = 1 + style.shading * (g["light"][:, 0, None, None] * x_grid + g["light"][:, 1, None, None] * y_grid)
    image.mul_(light[:, None]).add_(g["noise"], alpha=style.noise)
    return image.clamp_(0, 1)


def _draw_parameters(n: int, shapes: torch.Tensor, style: ShapeStyle, g: torch.Generator, size: int) -> dict:
    """Every random choice for ``n`` images, drawn on the CPU in a fixed order (so a seed is a data set)."""
    rand = lambda *shape: torch.rand(*shape, generator=g)  # noqa: E731
    y = torch.randint(len(shapes), (n,), generator=g)      # the label: an index into ``shapes``
    lo, hi = style.size
    radius = lo + (hi - lo) * rand(n)
    # the centre keeps at least 70% of the shape's radius inside the image
    centre = (rand(n, 2) * 2 - 1) * (1.0 - 0.7 * radius)[:, None]
    angle = (rand(n) * 2 - 1) * math.radians(style.rotation)

    # colours: any hue for both; the shape's brightness differs from the background's by at
    # least min_contrast, brighter or darker with equal chance
    bg_value = 0.15 + 0.7 * rand(n)
    sign = torch.where(rand(n) < 0.5, -1.0, 1.0)
    gap = style.min_contrast + (0.6 - style.min_contrast) * rand(n)
    fg_value = bg_value + sign * gap
    fg_value = torch.where((fg_value < 0.05) | (fg_value > 1.0), bg_value - sign * gap, fg_value).clamp(0.05, 1.0)
    fg = _hsv_to_rgb(rand(n), 0.3 + 0.7 * rand(n), fg_value)
    fg2 = _hsv_to_rgb(rand(n), 0.3 + 0.7 * rand(n), (fg_value + 0.3 * (rand(n) - 0.5)).clamp(0, 1))
    bg = _hsv_to_rgb(rand(n), 0.2 + 0.6 * rand(n), bg_value)
    bg2 = _hsv_to_rgb(rand(n), 0.2 + 0.6 * rand(n), (bg_value + 0.3 * (rand(n) - 0.5)).clamp(0, 1))
    texture = {}
    for part in ("fg", "bg"):
        texture[f"{part}_kind"] = torch.randint(4, (n,), generator=g)
        texture[f"{part}_freq"] = 6 + 14 * rand(n)
        texture[f"{part}_angle"] = rand(n) * math.pi
        texture[f"{part}_phase"] = rand(n, 2) * 2 * math.pi
    nb, nl = style.clutter_blobs, style.clutter_lines
    blobs = {
        "blob_on": (torch.randint(nb + 1, (n,), generator=g)[:, None] > torch.arange(nb)).float(),
        "blob_xy": rand(n, nb, 2) * 2 - 1,
        "blob_r": 0.06 + 0.1 * rand(n, nb),
        "blob_rgb": rand(n, nb, 3),
    }
    lines = {
        "line_on": (torch.randint(nl + 1, (n,), generator=g)[:, None] > torch.arange(nl)).float(),
        "line_p0": rand(n, nl, 2) * 2.4 - 1.2,
        "line_p1": rand(n, nl, 2) * 2.4 - 1.2,
        "line_rgb": rand(n, nl, 3),
    }
    light_angle = rand(n) * 2 * math.pi
    light = torch.stack([torch.cos(light_angle), torch.sin(light_angle)], dim=1) * rand(n)[:, None]
    noise = torch.randn(n, 3, size, size, generator=g)
    return dict(y=y, shape=shapes[y], radius=radius, centre=centre, angle=angle, fg=fg, fg2=fg2, bg=bg, bg2=bg2,
                light=light, noise=noise, **texture, **blobs, **lines)


def make_shapes(n: int, seed: int = 0, size: int = 32, style: ShapeStyle = DEFAULT_STYLE,
                classes: int | Sequence[int] = len(SHAPE_NAMES), device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images of shapes: ``X`` ``(n, 3, size, size)`` in [0, 1], ``y`` the shape (int64).

    The labels are drawn uniformly from the first ``classes`` of :data:`SHAPE_NAMES`, or, for a
    sequence such as ``classes=(5, 6, 7, 8, 9)``, from those shapes, labelled ``0..k-1`` in the
    sequence's order (a second task for transfer learning). The same
    ``seed`` and ``style`` give the same images on every device (every random draw happens on
    the CPU), and the first ``k`` images of ``make_shapes(n, seed)`` are ``make_shapes(k, seed)``:
    a smaller set is a subset of a larger one.
    """
    if isinstance(classes, int):
        if not 1 <= classes <= len(SHAPE_NAMES):
            raise ValueError(f"classes must be between 1 and {len(SHAPE_NAMES)}, got {classes}")
        classes = range(classes)
    shapes = torch.as_tensor(list(classes), dtype=torch.int64)
    if len(shapes) == 0 or len(set(shapes.tolist())) != len(shapes) or not all(
            0 <= int(c) < len(SHAPE_NAMES) for c in shapes):
        raise ValueError(f"classes must be distinct shape indices in 0..{len(SHAPE_NAMES) - 1}, got {list(classes)}")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    blocks = []
    for block in range(math.ceil(n / BLOCK)):
        # each block of images has its own stream of random numbers, always drawn in full: the
        # first k images of a larger set are the set of k
        g = torch.Generator().manual_seed(seed * 1_000_003 + block)
        blocks.append(_draw_parameters(BLOCK, shapes, style, g, size))
    draws = {key: torch.cat([b[key] for b in blocks])[:n] for key in blocks[0]} if blocks else {}
    chunk = max(1, 2 ** 22 // (size * size))  # bounded memory for large sets
    images = [_draw(draws, slice(start, start + chunk), size, style) for start in range(0, n, chunk)]
    X = torch.cat(images) if images else torch.empty(0, 3, size, size)
    y = draws["y"] if blocks else torch.empty(0, dtype=torch.int64)
    return X.to(device), y.to(device)
