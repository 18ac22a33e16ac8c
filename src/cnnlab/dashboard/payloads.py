"""JSON the dashboard's pages draw: predictions, confusion matrix, filters, feature maps,
Grad-CAM — computed on request from a model and a few images, never inside a training step.

Pictures travel as numbers, not PNGs: ``{"shape": [n, h, w, c], "data": base64 of uint8}``
(:func:`encode_uint8`), and the browser paints them on a canvas. Every picture is min-max scaled
to 0..255 on its own, so a feature map's brightest pixel is white whatever its range.
"""

from __future__ import annotations

import base64
import io
from contextlib import redirect_stdout
from typing import Any

import numpy as np
import torch

from cnnlab.explain.activations import feature_maps, filters
from cnnlab.explain.arithmetic import format_explained_summary
from cnnlab.explain.attribution import grad_cam, last_conv_layer
from cnnlab.layers.conv import BaseConv

MAX_FILTERS = 64
MAX_MAPS = 64


def encode_uint8(pictures: np.ndarray, scale: bool = True) -> dict:
    """``(n, h, w, c)`` floats -> ``{'shape', 'data'}``, each picture min-max scaled to 0..255
    (``scale=False``: values already in [0, 1] are kept as they are)."""
    pictures = np.asarray(pictures, dtype=np.float32)
    if not scale:
        data = np.round(np.clip(pictures, 0.0, 1.0) * 255).astype(np.uint8)
        return {"shape": list(data.shape),
                "data": base64.b64encode(data.tobytes()).decode("ascii")}
    axes = tuple(range(1, pictures.ndim))
    low = pictures.min(axis=axes, keepdims=True)
    span = pictures.max(axis=axes, keepdims=True) - low
    scaled = np.where(span > 0, (pictures - low) / np.where(span > 0, span, 1.0), 0.0)
    data = np.ascontiguousarray(np.round(scaled * 255).astype(np.uint8))
    return {"shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode("ascii")}


def conv_layers(model: Any) -> list[str]:
    """Names of the model's 2-D convolution layers (the ones with pictures to show)."""
    return [layer.name for layer in model.layers
            if isinstance(layer, BaseConv) and getattr(layer, "rank", 2) == 2]


def summary_text(model: Any) -> str:
    """Keras's summary table, then the explained summary (formulas, MACs, receptive field)."""
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        model.summary()
    try:
        explained = format_explained_summary(model)
    except (ValueError, TypeError, NotImplementedError) as err:
        explained = f"(no explained summary for this model: {err})"
    return buffer.getvalue() + "\n" + explained


def probabilities(model: Any, x: np.ndarray) -> np.ndarray:
    """Class probabilities ``(n, classes)``: the model's softmax output as it is; logits and a
    single sigmoid unit are turned into probabilities."""
    out = np.asarray(model.predict(x, batch_size=256, verbose=0), dtype=np.float64)
    if out.ndim != 2:
        raise ValueError(f"the dashboard shows classifiers with outputs (n, classes), got an "
                         f"output of shape {out.shape}")
    if out.shape[1] == 1:
        p = out[:, 0] if out.min() >= 0 and out.max() <= 1 else 1 / (1 + np.exp(-out[:, 0]))
        return np.stack([1 - p, p], axis=1)
    if out.min() < 0 or not np.allclose(out.sum(axis=1), 1.0, atol=1e-3):
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    return out


def class_names_for(names: list[str] | None, classes: int) -> list[str]:
    """The dataset's class names when they match ``classes``, else ``"0"``, ``"1"``, ...."""
    names = list(names or [])
    return names if len(names) == classes else [str(i) for i in range(classes)]


def samples(model: Any, x: np.ndarray, y: np.ndarray | None, names: list[str] | None) -> dict:
    """The sample images with the model's probabilities for every class."""
    p = probabilities(model, x)
    return {"images": encode_uint8(x), "labels": None if y is None else y.tolist(),
            "probabilities": np.round(p, 4).tolist(), "predicted": p.argmax(axis=1).tolist(),
            "class_names": class_names_for(names, p.shape[1])}


def confusion(model: Any, x: np.ndarray, y: np.ndarray, names: list[str] | None) -> dict:
    """Counts ``[true][predicted]`` over ``x`` and the accuracy."""
    p = probabilities(model, x)
    predicted = p.argmax(axis=1)
    names = class_names_for(names, max(p.shape[1], int(y.max()) + 1))
    counts = np.zeros((len(names), len(names)), dtype=np.int64)
    np.add.at(counts, (y, predicted), 1)
    return {"counts": counts.tolist(), "class_names": names, "images": int(len(y)),
            "accuracy": float(np.mean(predicted == y))}


def layer_filters(model: Any, layer: str) -> dict:
    """The layer's kernels, one picture per output channel (RGB for 3 input channels, else
    the mean over input channels), at most :data:`MAX_FILTERS`."""
    kernel = filters(model, layer, normalize=False)
    if kernel.ndim != 4:
        raise ValueError(f"layer {layer!r} has a kernel of shape {kernel.shape}; the dashboard "
                         f"shows 2-D filters (kh, kw, in, out)")
    shape = list(kernel.shape)
    kernel = np.moveaxis(kernel[..., :MAX_FILTERS], -1, 0)  # (out, kh, kw, in)
    pictures = kernel if kernel.shape[-1] == 3 else kernel.mean(axis=-1, keepdims=True)
    return {"layer": layer, "kernel_shape": shape, "filters": encode_uint8(pictures)}


def layer_maps(model: Any, layer: str, image: np.ndarray) -> dict:
    """The feature maps of ``layer`` for one image: one grey picture per channel."""
    with torch.inference_mode():
        maps = feature_maps(model, layer, image[None])[0]
    if maps.ndim != 3:
        raise ValueError(f"layer {layer!r} has outputs of shape {maps.shape} per image; the "
                         f"dashboard shows (height, width, channels) feature maps")
    pictures = np.moveaxis(maps[..., :MAX_MAPS], -1, 0)[..., None]
    return {"layer": layer, "output_shape": list(maps.shape), "maps": encode_uint8(pictures)}


def cam(model: Any, image: np.ndarray, class_index: int | None, layer: str | None,
        names: list[str] | None) -> dict:
    """Grad-CAM of one image for ``class_index`` (default: the predicted class)."""
    p = probabilities(model, image[None])[0]
    index = int(p.argmax()) if class_index is None else class_index
    if not 0 <= index < len(p):
        raise ValueError(f"class must be in [0, {len(p)}), got {index}")
    target = layer or last_conv_layer(model).name
    heat = grad_cam(model, image[None], class_index=index, layer=target)[0]
    return {"class_index": index, "class_name": class_names_for(names, len(p))[index],
            "layer": target, "peak": float(heat.max()),
            "probability": float(p[index]), "image": encode_uint8(image[None]),
            "heatmap": encode_uint8(heat[None, ..., None], scale=False)}
