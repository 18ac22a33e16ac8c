"""Inside a model: the filters a conv layer learned and the feature maps it produces.

``filters(model, layer)`` returns the kernel in Keras layout ``(kh, kw, in, out)`` scaled to
[0, 1] for display; ``feature_maps(model, layer, x)`` returns that layer's output (its
activations) for a batch ``x``, computed in inference mode by the model itself (a forward hook
on the layer records it), so it works for Sequential and functional models alike.

A layer is given by name (nested models are searched too), by index into ``model.layers`` or
as the layer object.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from cnnlab.layers.base import Layer
from cnnlab.layers.core import InputLayer
from cnnlab.models.model import Model


def resolve_layer(model: Model, layer: str | int | Layer) -> Layer:
    """The layer of ``model`` named ``layer``, at index ``layer`` of ``model.layers``, or
    ``layer`` itself after checking it belongs to the model."""
    if isinstance(layer, Layer):
        if any(m is layer for m in model.modules()):
            return layer
        raise ValueError(f"{model.owner}: {layer.owner} is not a layer of this model")
    if isinstance(layer, bool) or not isinstance(layer, (int, str)):
        raise TypeError(f"`layer` must be a layer name, an index into model.layers or a layer, "
                        f"got {type(layer).__name__} {layer!r}")
    if isinstance(layer, int):
        return model.get_layer(index=layer)
    for module in model.modules():
        if isinstance(module, Layer) and module is not model and module.name == layer:
            return module
    names = [m.name for m in model.modules() if isinstance(m, Layer) and m is not model]
    raise ValueError(f"{model.owner}: no layer named {layer!r}; layers are {names}")


def as_batch(model: Model, x: Any) -> torch.Tensor:
    """``x`` as a float tensor on the model's device, with a batch axis added to one sample."""
    tensor = x if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))
    params = next(model.parameters(), None)
    dtype = params.dtype if params is not None else torch.float32
    tensor = tensor.to(model.device, dtype=dtype)
    expected = model.input_shape if model.built else None
    if isinstance(expected, tuple) and tensor.ndim == len(expected) - 1:
        tensor = tensor[None]
    return tensor


@contextmanager
def captured_output(layer: Layer) -> Iterator[dict[str, Any]]:
    """While active, ``store['output']`` receives ``layer``'s output of its first call."""
    store: dict[str, Any] = {}

    def hook(module: torch.nn.Module, args: Any, output: Any) -> None:
        store.setdefault("output", output)

    handle = layer.register_forward_hook(hook)
    try:
        yield store
    finally:
        handle.remove()


def layer_output(store: dict[str, Any], model: Model, layer: Layer) -> torch.Tensor:
    """The tensor recorded by :func:`captured_output`, or a clear error."""
    if "output" not in store:
        raise ValueError(f"{model.owner}: {layer.owner} did not run when the model computed "
                         f"its outputs (it is not on the path from the inputs to the outputs)")
    output = store["output"]
    if not torch.is_tensor(output):
        raise ValueError(f"{layer.owner} has several outputs; pick a layer with one output")
    return output


def feature_maps(model: Model, layer: str | int | Layer, x: Any) -> np.ndarray:
    """The output of ``layer`` for the batch ``x`` (inference mode), as a NumPy array.

    For a channels-last conv layer the result is ``(N, H, W, filters)``: ``[..., k]`` is the
    feature map of filter ``k``. A single sample (no batch axis) is accepted.
    """
    target = resolve_layer(model, layer)
    batch = as_batch(model, x)
    if isinstance(target, InputLayer):
        return batch.cpu().numpy()
    with torch.no_grad(), captured_output(target) as store:
        model(batch, training=False)
    return layer_output(store, model, target).detach().cpu().numpy()


def filters(model: Model, layer: str | int | Layer, normalize: bool = True) -> np.ndarray:
    """The convolution kernel of ``layer`` in Keras layout, e.g. ``(kh, kw, in, out)``.

    ``DepthwiseConv2D``/``SeparableConv2D`` give their depthwise kernel ``(kh, kw, in, m)``;
    transposed convolutions Keras's ``(kh, kw, out, in)``. With ``normalize`` (default) the
    values are scaled to [0, 1] by ``(w − min)/(max − min)`` over the whole kernel, so 0.5 is
    not "zero weight" but the middle of the range, as in the usual filter plots.
    """
    target = resolve_layer(model, layer)
    kernels = [(name, t, layout) for name, t, layout in target.keras_weights()
               if name.endswith("kernel") and t.ndim >= 3]
    if not kernels:
        raise ValueError(f"{target.owner} has no convolution kernel to show; pick a "
                         f"convolution layer")
    _, tensor, layout = kernels[0]
    kernel = layout.to_keras(tensor.detach()).cpu().numpy().astype(np.float32)
    if not normalize:
        return kernel
    low, high = kernel.min(), kernel.max()
    return (kernel - low) / (high - low) if high > low else np.zeros_like(kernel)
