"""Keras's random transform parameters for a batch, drawn from a generator's settings.

The settings are :class:`~cnnlab.data.image_generator.ImageDataGenerator`'s attributes
(``rotation_range``, ``width_shift_range``, ``zoom_range``, ...). All uniform draws of a batch
come from one call of a NumPy generator: NumPy is cheaper than torch for a few numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.data._batch_transforms import GEOMETRY, Params

PARAMETERS = (*GEOMETRY, "flip_horizontal", "flip_vertical", "channel_shift_intensity",
              "brightness")


def draw_params(settings: Any, n: int, height: int, width: int,
                rng: np.random.Generator) -> Params:
    """Random parameters for ``n`` images of ``height x width`` pixels: a dict of
    :data:`PARAMETERS`, each a ``(n,)`` NumPy array or ``None`` (disabled); flips are
    booleans, ``tx``/``ty`` pixels along the width/height, angles degrees."""
    ranges = _uniform_ranges(settings, height, width)
    params: Params = dict.fromkeys(PARAMETERS)
    if ranges:
        low, high = np.array([r[1:] for r in ranges]).T[:, :, None]
        rows = rng.random((len(ranges), n)) * (high - low) + low
        params.update(zip((r[0] for r in ranges), rows, strict=True))
    for key in ("flip_horizontal", "flip_vertical"):
        if params[key] is not None:
            params[key] = params[key] < 0.5
    for key, spec, size in (("tx", settings.width_shift_range, width),
                            ("ty", settings.height_shift_range, height)):
        if is_choice(spec):
            params[key] = draw_choice(spec, size, n, rng)
    return params


def _uniform_ranges(settings: Any, height: int, width: int) -> list[tuple[str, float, float]]:
    """``(key, low, high)`` of every enabled parameter drawn from a uniform law."""
    ranges = []
    for key, half in (("theta", settings.rotation_range), ("shear", settings.shear_range),
                      ("channel_shift_intensity", settings.channel_shift_range)):
        if half:
            ranges.append((key, -half, half))
    for key, spec, size in (("tx", settings.width_shift_range, width),
                            ("ty", settings.height_shift_range, height)):
        if spec and not is_choice(spec):  # a fraction of the side if < 1, else pixels
            half = spec * size if spec < 1 else spec
            ranges.append((key, -half, half))
    if settings.zoom_range != [1.0, 1.0]:
        ranges += [("zx", *settings.zoom_range), ("zy", *settings.zoom_range)]
    if settings.brightness_range is not None:
        ranges.append(("brightness", *settings.brightness_range))
    for key, enabled in (("flip_horizontal", settings.horizontal_flip),
                         ("flip_vertical", settings.vertical_flip)):
        if enabled:
            ranges.append((key, 0.0, 1.0))
    return ranges


def is_choice(spec: Any) -> bool:
    """A shift given as choices: a list, or an int ``k`` meaning ``0 .. k-1`` (numpy's
    ``choice(k)``, as Keras draws it)."""
    return isinstance(spec, list) or (isinstance(spec, (int, np.integer)) and spec != 0)


def draw_choice(spec: Any, size: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Keras's shift from choices, ``(n,)``: a random choice times a random sign, scaled by the
    side ``size`` when all choices are below 1."""
    choices = np.asarray(spec if isinstance(spec, list) else range(int(spec)), dtype=float)
    shift = rng.choice(choices, n) * rng.choice([-1.0, 1.0], n)
    return shift * size if max(np.atleast_1d(spec)) < 1 else shift
