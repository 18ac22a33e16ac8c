"""Which pixels made the model decide: Grad-CAM and gradient saliency.

The class score is the *pre-activation* output when the model ends in softmax or sigmoid (the
``_keras_logits`` the activation keeps), as Selvaraju et al. and the Keras Grad-CAM example
use: the softmax couples the classes and saturates. The default class is the predicted one.

Grad-CAM (Selvaraju et al., 2017), for the activations ``A`` of a conv layer (by default the
last convolution's output, after its activation, as in the Keras example)::

    alpha_k = mean over positions of ∂score/∂A_k       (one weight per channel k)
    cam     = ReLU(Σ_k alpha_k · A_k)                  then upsampled (bilinear) to the input
                                                       and divided by its maximum -> [0, 1]

A map that is 0 everywhere (``Σ_k alpha_k A_k ≤ 0`` at every position) is a property of the
method, not a bug: with a ``Flatten`` head every position has its own dense weights, and the
average ``alpha_k`` of a channel can be negative although the channel speaks *for* the class
at the few positions where it is active. ``grad_cam`` then warns, naming the images;
``rectify=False`` returns the signed map (divided by its largest ``|value|``, so in [-1, 1]).

HiResCAM (Draelos & Carin, 2020), ``method='hirescam'``, keeps the gradient of every position
instead of its channel mean::

    cam = ReLU(Σ_k ∂score/∂A_k ⊙ A_k)                  (element-wise product)

For a head that is linear in ``A`` after ``Flatten`` (Dense, ReLU and max pooling are linear
around the current input) the map sums to the class score minus the bias terms, position by
position, so it is the faithful choice there; with a global-average-pooling head it equals
Grad-CAM up to a constant factor.

Saliency (Simonyan et al., 2014): ``max over channels |∂score/∂x|`` per input pixel.

Scores of a batch are summed before one backward pass; in inference mode samples do not
interact, so each sample's gradient is its own.
"""

from __future__ import annotations

import warnings
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
    logits = _logits(output)
    return logits.gather(1, _class_indices(logits, class_index)[:, None])[:, 0]


def _logits(output: Any) -> torch.Tensor:
    """``(N, classes)`` scores: the pre-activation output under softmax or sigmoid."""
    if isinstance(output, (list, tuple)):
        raise ValueError("grad_cam/saliency need a model with one output, got "
                         f"{len(output)} outputs")
    if output.ndim != 2:
        raise ValueError(f"grad_cam/saliency need class scores of shape (N, classes), got "
                         f"model output of shape {tuple(output.shape)}")
    if getattr(output, "_keras_activation", None) in ("softmax", "sigmoid"):
        output = output._keras_logits
    return output


def _class_indices(logits: torch.Tensor, class_index: int | Sequence[int] | None
                   ) -> torch.Tensor:
    """The explained class of each sample, ``(N,)``: given, or the predicted one."""
    n, classes = logits.shape
    if class_index is None:
        return logits.argmax(dim=1)
    index = torch.as_tensor(class_index, device=logits.device).reshape(-1)
    if index.dtype.is_floating_point or index.numel() not in (1, n) \
            or bool(((index < 0) | (index >= classes)).any()):
        raise ValueError(f"`class_index` must be an int in [0, {classes}) or one such int "
                         f"per sample ({n}), got {class_index!r}")
    return index.expand(n)


def grad_cam(model: Model, x: Any, class_index: int | Sequence[int] | None = None,
             layer: str | int | Layer | None = None, rectify: bool = True,
             method: str = "gradcam") -> np.ndarray:
    """Grad-CAM heatmaps ``(N, H, W)`` at the input's size (see module docstring).

    ``layer`` defaults to the last convolution; ``class_index`` to the predicted class. With
    ``rectify`` (default) the maps are ``ReLU(Σ_k alpha_k A_k) / max``, in [0, 1]; a map that is
    0 everywhere (no position speaks *for* the class) is returned as zeros with a
    ``UserWarning`` naming the image, its class and the reason. ``rectify=False`` returns
    ``Σ_k alpha_k A_k / max |·|``, in [-1, 1] (negative: evidence against the class).
    ``method='hirescam'`` weighs each position by its own gradient (module docstring).
    """
    if method not in ("gradcam", "hirescam"):
        raise ValueError(f"grad_cam: `method` must be 'gradcam' or 'hirescam', got {method!r}")
    target = last_conv_layer(model) if layer is None else resolve_layer(model, layer)
    batch = as_batch(model, x).detach().requires_grad_(True)
    with torch.enable_grad(), captured_output(target) as store:
        logits = _logits(model(batch, training=False))
        index = _class_indices(logits, class_index)
        acts = layer_output(store, model, target)
        score = logits.gather(1, index[:, None])[:, 0]
        (grads,) = torch.autograd.grad(score.sum(), acts)
    if acts.ndim < 3:
        raise ValueError(f"grad_cam: {target.owner} has output of shape "
                         f"{tuple(acts.shape)}, without spatial axes; pick a conv layer")
    if getattr(target, "data_format", "channels_last") == "channels_first":
        acts, grads = acts.movedim(1, -1), grads.movedim(1, -1)
    acts, grads = acts.detach(), grads.detach()
    spatial = tuple(range(1, acts.ndim - 1))
    weights = grads.mean(dim=spatial, keepdim=True) if method == "gradcam" else grads
    cam = (weights * acts).sum(dim=-1)
    if rectify:
        _warn_blank(cam, acts, grads, index, target, method)
        cam = F.relu(cam)
    size = tuple(batch.shape[1:-1])
    if len(size) == cam.ndim - 1 and size != tuple(cam.shape[1:]):
        cam = F.interpolate(cam[:, None], size=size, mode=_MODES[len(size)],
                            align_corners=False)[:, 0]
    peak = cam.abs().amax(dim=spatial, keepdim=True)
    cam = torch.where(peak > 0, cam / peak.clamp_min(torch.finfo(cam.dtype).tiny), 0.0)
    return cam.cpu().numpy()


def _warn_blank(cam: torch.Tensor, acts: torch.Tensor, grads: torch.Tensor,
                index: torch.Tensor, layer: Layer, method: str) -> None:
    """One ``UserWarning`` listing the images whose rectified map is 0 everywhere, and why."""
    axes = tuple(range(1, cam.ndim))
    blank = torch.nonzero(cam.amax(dim=axes) <= 0).reshape(-1).tolist()
    if not blank:
        return
    reasons = []
    for i in blank:
        if not bool(acts[i].ne(0).any()):
            why = f"all activations of {layer.name} are 0"
        elif not bool(grads[i].ne(0).any()):
            why = f"the class score does not depend on {layer.name} (gradient 0)"
        else:
            why = f"the weighted sum of channels is ≤ 0 everywhere (largest " \
                  f"{float(cam[i].max()):.3g})"
        reasons.append(f"image {i} (class {int(index[i])}): {why}")
    hint = "" if method == "hirescam" else (", method='hirescam' weighs each position by its "
                                            "own gradient")
    warnings.warn(f"grad_cam: {len(blank)} of {len(cam)} heatmaps are 0 everywhere (no "
                  f"position speaks for the class at {layer.name}): {'; '.join(reasons)}. "
                  f"grad_cam(..., rectify=False) shows the signed map{hint}", UserWarning,
                  stacklevel=3)


def saliency(model: Model, x: Any, class_index: int | Sequence[int] | None = None
             ) -> np.ndarray:
    """Saliency maps ``(N, H, W)``: ``max_c |∂score/∂x[..., c]|`` (channels-last input)."""
    batch = as_batch(model, x).detach().requires_grad_(True)
    with torch.enable_grad():
        output = model(batch, training=False)
        (grad,) = torch.autograd.grad(class_scores(output, class_index).sum(), batch)
    return grad.abs().amax(dim=-1).cpu().numpy()
