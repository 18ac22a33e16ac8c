"""Which pixels made the model decide: Grad-CAM and gradient saliency.

The class score is the *pre-activation* output when the model ends in softmax or sigmoid (the
``_keras_logits`` the activation keeps), as Selvaraju et al. and the Keras Grad-CAM example
use: the softmax couples the classes and saturates. The default class is the predicted one.

Grad-CAM (Selvaraju et al., 2017), for the activations ``A`` of a conv layer::

    alpha_k = mean over positions of ∂score/∂A_k       (one weight per channel k)
    cam     = ReLU(Σ_k alpha_k · A_k)                  then upsampled (bilinear) to the input
                                                       and divided by its maximum -> [0, 1]

Saliency (Simonyan et al., 2014): ``max over channels |∂score/∂x|`` per input pixel.

Scores of a batch are summed before one backward pass; in inference mode samples do not
interact, so each sample's gradient is its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.explain.activations import as_batch, captured_output, layer_output, resolve_layer
from cnnlab.layers.base import Layer
from cnnlab.layers.conv import BaseConv
from cnnlab.layers.conv_transpose import ConvTranspose
from cnnlab.models.model import Model

_MODES = {1: "linear", 2: "bilinear", 3: "trilinear"}


def last_conv_layer(model: Model) -> Layer:
    """The last convolution of ``model`` (nested models included), Grad-CAM's default."""
    found = None
    for layer in model.layers:
        if isinstance(layer, Model):
            try:
                found = last_conv_layer(layer)
            except ValueError:
                continue
        elif isinstance(layer, BaseConv) and not isinstance(layer, ConvTranspose):
            found = layer
    if found is None:
        raise ValueError(f"{model.owner} has no convolution layer; pass `layer=` to grad_cam")
    return found


def class_scores(output: Any, class_index: int | Sequence[int] | None) -> torch.Tensor:
    """The score of the chosen class for each sample, ``(N,)`` (logits before softmax)."""
    if isinstance(output, (list, tuple)):
        raise ValueError("grad_cam/saliency need a model with one output, got "
                         f"{len(output)} outputs")
    if output.ndim != 2:
        raise ValueError(f"grad_cam/saliency need class scores of shape (N, classes), got "
                         f"model output of shape {tuple(output.shape)}")
    if getattr(output, "_keras_activation", None) in ("softmax", "sigmoid"):
        output = output._keras_logits
    n, classes = output.shape
    if class_index is None:
        index = output.argmax(dim=1)
    else:
        index = torch.as_tensor(class_index, device=output.device).reshape(-1)
        if index.dtype.is_floating_point or index.numel() not in (1, n) \
                or bool(((index < 0) | (index >= classes)).any()):
            raise ValueError(f"`class_index` must be an int in [0, {classes}) or one such int "
                             f"per sample ({n}), got {class_index!r}")
        index = index.expand(n)
    return output.gather(1, index[:, None])[:, 0]


def grad_cam(model: Model, x: Any, class_index: int | Sequence[int] | None = None,
             layer: str | int | Layer | None = None) -> np.ndarray:
    """Grad-CAM heatmaps ``(N, H, W)`` in [0, 1] at the input's size (see module docstring).

    ``layer`` defaults to the last convolution; ``class_index`` to the predicted class. A
    heatmap that is 0 everywhere means no position speaks *for* the class.
    """
    target = last_conv_layer(model) if layer is None else resolve_layer(model, layer)
    batch = as_batch(model, x).detach().requires_grad_(True)
    with torch.enable_grad(), captured_output(target) as store:
        output = model(batch, training=False)
        acts = layer_output(store, model, target)
        (grads,) = torch.autograd.grad(class_scores(output, class_index).sum(), acts)
    if acts.ndim < 3:
        raise ValueError(f"grad_cam: {target.owner} has output of shape "
                         f"{tuple(acts.shape)}, without spatial axes; pick a conv layer")
    if getattr(target, "data_format", "channels_last") == "channels_first":
        acts, grads = acts.movedim(1, -1), grads.movedim(1, -1)
    spatial = tuple(range(1, acts.ndim - 1))
    alpha = grads.mean(dim=spatial, keepdim=True)
    cam = F.relu((alpha * acts).sum(dim=-1)).detach()
    size = tuple(batch.shape[1:-1])
    if len(size) == cam.ndim - 1 and size != tuple(cam.shape[1:]):
        cam = F.interpolate(cam[:, None], size=size, mode=_MODES[len(size)],
                            align_corners=False)[:, 0]
    peak = cam.amax(dim=spatial, keepdim=True)
    cam = torch.where(peak > 0, cam / peak.clamp_min(torch.finfo(cam.dtype).tiny), 0.0)
    return cam.cpu().numpy()


def saliency(model: Model, x: Any, class_index: int | Sequence[int] | None = None
             ) -> np.ndarray:
    """Saliency maps ``(N, H, W)``: ``max_c |∂score/∂x[..., c]|`` (channels-last input)."""
    batch = as_batch(model, x).detach().requires_grad_(True)
    with torch.enable_grad():
        output = model(batch, training=False)
        (grad,) = torch.autograd.grad(class_scores(output, class_index).sum(), batch)
    return grad.abs().amax(dim=-1).cpu().numpy()
