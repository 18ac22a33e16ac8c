"""PyTorch state dicts (``torch.save`` files, ``.safetensors``) loaded into cnnlab models.

A state dict maps module paths to tensors: ``features.0.weight``, ``layer1.0.bn1.running_var``.
cnnlab keeps weights in PyTorch layout (``Conv2D.kernel`` is ``(out, in, kh, kw)``, a ``Dense``
kernel ``(out, in)`` as ``nn.Linear``), so tensors are copied as they are, with two exceptions:

- the first ``Dense`` after a ``Flatten``: PyTorch flattens ``C·H·W``, cnnlab (like Keras)
  ``H·W·C``, so its input columns are permuted. torchvision's VGG16/AlexNet pool adaptively to
  7x7 / 6x6 before flattening; when the cnnlab model's feature map has another size, that
  (linear) pooling is folded into the kernel, which gives torchvision's outputs at that size;
- ``BatchNormalization``: ``weight``/``bias``/``running_mean``/``running_var`` become
  ``gamma``/``beta``/``moving_mean``/``moving_variance`` (``num_batches_tracked`` is ignored)
  and ``epsilon`` is set to 1e-5, ``nn.BatchNorm2d``'s default (torchvision's).

Architectures (``load_torch_weights(..., architecture=)``): torchvision's ``vgg16`` into
``zoo.vgg16``, ``resnet18`` into ``zoo.resnet18``, ``alexnet`` into
``zoo.alexnet(variant='torchvision')``, matched by name; ``sequential`` matches the model's
weighted layers in order with the state dict's modules in registration order; ``auto`` picks
one from the names in the file. Reading never unpickles code: ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cnnlab.files.archive import MAX_SAFETENSORS_HEADER, check_archive_file, is_zip

ARCHITECTURES = ("auto", "vgg16", "resnet18", "alexnet", "sequential")
TORCH_BN_EPSILON = 1e-5  # nn.BatchNorm2d's default eps, used by torchvision's models
LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"  # torch<1.6 header
SAFETENSORS_HEADER_LIMIT = MAX_SAFETENSORS_HEADER
STATE_DICT_NAME = re.compile(r"^\w+(\.\w+)*$")
PARAM_SUFFIX = re.compile(r"\.(weight|bias|running_mean|running_var)$")
CNNLAB_SUFFIX = re.compile(r"\.(kernel|gamma|beta|moving_mean|moving_variance)$")  # Keras names
# cnnlab weight name -> PyTorch parameter/buffer name
TORCH_NAMES = {"kernel": "weight", "bias": "bias", "gamma": "weight", "beta": "bias",
               "moving_mean": "running_mean", "moving_variance": "running_var"}
VGG16_FEATURES = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)
ALEXNET_FEATURES = (0, 3, 6, 8, 10)
ADAPTIVE_POOL = {"vgg16": (7, 7), "alexnet": (6, 6)}  # torchvision's avgpool before flatten


# ---------------------------------------------------------------------------------- reading
def is_torch_weights_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a ``torch.save`` file (a zip with a ``data.pkl`` member, or the
    legacy pickle header) or a safetensors file whose names look like a PyTorch state dict."""
    path = Path(path)
    if not path.is_file():
        return False
    if is_zip(path):
        try:
            with zipfile.ZipFile(path) as archive:
                return any(n == "data.pkl" or n.endswith("/data.pkl")
                           for n in archive.namelist())
        except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
            return False
    with open(path, "rb") as f:
        head = f.read(len(LEGACY_MAGIC))
    if head == LEGACY_MAGIC:
        return True
    header = _safetensors_header(path)
    names = [k for k in header if k != "__metadata__"]
    if not names or "order" in (header.get("__metadata__") or {}):  # cnnlab's save_weights
        return False
    return all(STATE_DICT_NAME.match(n) and not CNNLAB_SUFFIX.search(n) for n in names) \
        and any(PARAM_SUFFIX.search(n) for n in names)


def _safetensors_header(path: Path) -> dict:
    """The JSON header of a safetensors file (8-byte little-endian length, then JSON);
    ``{}`` when the file is not one."""
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        if not 0 < size <= SAFETENSORS_HEADER_LIMIT:
            return {}
        try:
            header = json.loads(f.read(size))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return {}
    return header if isinstance(header, dict) else {}


def read_torch_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """``{name: array}`` from a ``torch.save`` file or a ``.safetensors`` file.

    ``torch.load(path, map_location='cpu', weights_only=True)``: tensors, dicts and numbers
    only, never code. A checkpoint holding the state dict under ``'state_dict'`` or ``'model'``
    is unwrapped and a DataParallel ``module.`` prefix stripped. Anything else is a
    ``ValueError``.
    """
    source = Path(path)
    if _safetensors_header(source) and not is_zip(source):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            loaded = load_file(source, device="cpu")
        except (SafetensorError, ValueError, TypeError, KeyError, RuntimeError,
                OverflowError) as exc:  # KeyError: a dtype torch does not have
            raise ValueError(f"{source.name} is not a valid safetensors file: "
                             f"{type(exc).__name__}: {exc}") from None
        return state_dict_arrays(loaded, source.name)
    if is_zip(source):  # sizes, ratio and member names, before torch reads it
        check_archive_file(source, source.name)
    try:
        loaded = torch.load(source, map_location="cpu", weights_only=True)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # noqa: BLE001
        # weights_only=True ran nothing from the file; torch.load's errors for a damaged file
        # are of many types (UnpicklingError, RuntimeError, struct.error, even AssertionError)
        # and all mean the same: refused.
        raise ValueError(f"{source.name} is not a plain PyTorch state dict of tensors (refused "
                         f"by torch.load(weights_only=True): {_reason(exc)})") from None
    return state_dict_arrays(loaded, source.name)


def _reason(exc: BaseException) -> str:
    """The informative part of a ``torch.load`` error (not its advice to drop the
    safeguard)."""
    text = str(exc).split("WeightsUnpickler error:", 1)[-1].split("Check the documentation")[0]
    text = text.split(" Please use")[0]
    if "weights_only" in text:  # torch's boilerplate: keep only the exception type
        return type(exc).__name__
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def state_dict_arrays(state: Any, source: str = "state dict") -> dict[str, np.ndarray]:
    """A state dict (or a checkpoint wrapping one under ``'state_dict'``/``'model'``) as
    ``{name: float/int array}``, without a ``module.`` prefix."""
    if isinstance(state, Mapping):
        for key in ("state_dict", "model"):
            if isinstance(state.get(key), Mapping):
                state = state[key]
                break
    if not isinstance(state, Mapping) or not state:
        raise ValueError(f"{source} is not a PyTorch state dict: expected a non-empty dict of "
                         f"tensors, got {type(state).__name__}")
    arrays = {}
    for name, value in state.items():
        if not isinstance(name, str) or not isinstance(value, (torch.Tensor, np.ndarray)):
            raise ValueError(f"{source} is not a plain PyTorch state dict of tensors: entry "
                             f"{name!r} is a {type(value).__name__}")
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.dtype in (torch.bfloat16, torch.float16):
                value = value.float()
            if value.is_complex() or value.is_quantized or value.layout != torch.strided:
                raise ValueError(f"{source}: entry {name!r} is a {value.dtype} "
                                 f"{str(value.layout).replace('torch.', '')} tensor, not real "
                                 f"numbers")
            try:
                value = value.numpy()
            except (TypeError, RuntimeError) as exc:  # float8, ...: no NumPy type
                raise ValueError(f"{source}: entry {name!r} ({value.dtype}) has no NumPy "
                                 f"type: {exc}") from None
        if value.dtype.kind not in "biuf":
            raise ValueError(f"{source}: entry {name!r} holds {value.dtype}, not real numbers")
        arrays[name] = value
    if all(name.startswith("module.") for name in arrays):
        arrays = {name[len("module."):]: a for name, a in arrays.items()}
    return arrays


# ---------------------------------------------------------------------------------- mapping
def _detect(state: Mapping[str, Any]) -> str:
    """The torchvision layout the names belong to, else ``'sequential'``."""
    if "conv1.weight" in state and "layer1.0.conv1.weight" in state:
        return "resnet18"
    features = tuple(sorted(int(m.group(1)) for k in state
                            if (m := re.fullmatch(r"features\.(\d+)\.weight", k))))
    return {VGG16_FEATURES: "vgg16", ALEXNET_FEATURES: "alexnet"}.get(features, "sequential")


def _named_pairs(architecture: str) -> list[tuple[str, str]]:
    """``(cnnlab layer name, torch module path)`` for a torchvision layout."""
    if architecture == "vgg16":
        convs = [f"block{b}_conv{i}" for b, n in enumerate((2, 2, 3, 3, 3), 1)
                 for i in range(1, n + 1)]
        pairs = [(c, f"features.{i}") for c, i in zip(convs, VGG16_FEATURES, strict=True)]
        return pairs + [("fc1", "classifier.0"), ("fc2", "classifier.3"),
                        ("predictions", "classifier.6")]
    if architecture == "alexnet":
        pairs = [(f"conv{i}", f"features.{j}") for i, j in enumerate(ALEXNET_FEATURES, 1)]
        return pairs + [("fc6", "classifier.1"), ("fc7", "classifier.4"),
                        ("fc8", "classifier.6")]
    pairs = [("conv1_conv", "conv1"), ("conv1_bn", "bn1")]
    for stage in range(1, 5):
        for block in range(2):
            ours, theirs = f"conv{stage + 1}_block{block + 1}", f"layer{stage}.{block}"
            for k in (1, 2):
                pairs += [(f"{ours}_{k}_conv", f"{theirs}.conv{k}"),
                          (f"{ours}_{k}_bn", f"{theirs}.bn{k}")]
            if stage > 1 and block == 0:
                pairs += [(f"{ours}_0_conv", f"{theirs}.downsample.0"),
                          (f"{ours}_0_bn", f"{theirs}.downsample.1")]
    return pairs + [("predictions", "fc")]


def _modules(state: Mapping[str, Any]) -> list[str]:
    """Module paths in registration (state dict) order."""
    paths: dict[str, None] = {}
    for name in state:
        if not name.endswith(".num_batches_tracked"):
            paths.setdefault(name.rpartition(".")[0], None)
    return list(paths)


def _weighted_layers(model: Any) -> list[Any]:
    """Layers holding weights, in model order; a nested model contributes its own layers."""
    found = []
    for layer in model.layers:
        if getattr(layer, "layers", None):
            found += _weighted_layers(layer)
        elif layer.keras_weights():
            found.append(layer)
    return found


def _top_prefixes(architecture: str) -> tuple[str, ...]:
    return {"vgg16": ("classifier.",), "alexnet": ("classifier.",), "resnet18": ("fc.",)
            }.get(architecture, ())


def _pairs(model: Any, state: Mapping[str, Any], architecture: str) -> list[tuple[Any, str]]:
    """``(layer, torch module path)`` for every weighted layer of ``model``."""
    layers = _weighted_layers(model)
    if architecture == "sequential":
        modules = _modules(state)
        if len(modules) != len(layers):
            raise ValueError(
                f"load_torch_weights: {model.owner} has {len(layers)} layers with weights "
                f"({[layer.name for layer in layers]}), the state dict has {len(modules)} "
                f"modules ({modules})")
        return list(zip(layers, modules, strict=True))
    by_name = {layer.name: layer for layer in layers}
    pairs, missing = [], []
    for ours, theirs in _named_pairs(architecture):
        if ours in by_name:
            pairs.append((by_name.pop(ours), theirs))
        elif not theirs.startswith(_top_prefixes(architecture)):
            missing.append(ours)  # a model without its top may skip the classifier
    if missing or by_name:
        raise ValueError(
            f"load_torch_weights: {model.owner} is not cnnlab's {architecture} layout"
            f"{_variant_hint(architecture)}: missing layers {missing[:8]}, layers with weights "
            f"that {architecture} does not have {list(by_name)[:8]}")
    return pairs


def _variant_hint(architecture: str) -> str:
    return " (build it with zoo.alexnet(variant='torchvision'))" \
        if architecture == "alexnet" else ""


def _flatten_inputs(model: Any) -> dict[str, tuple[int, int, int]]:
    """``{dense name: (h, w, c)}`` for each ``Dense`` right after a ``Flatten`` (in order)."""
    found, pending = {}, None
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Flatten" and len(layer.input_shape_built or ()) == 4:
            pending = tuple(layer.input_shape_built[1:])
        elif layer.keras_weights():
            if pending is not None and kind == "Dense":
                found[layer.name] = pending
            pending = None
    return found


def adaptive_pool_matrix(size: tuple[int, int], pooled: tuple[int, int]) -> torch.Tensor:
    """``P`` of shape ``(h·w, ph·pw)`` with ``flat(adaptive_avg_pool2d(x, pooled)) =
    flat(x) @ P``; the identity when ``size == pooled``."""
    h, w = size
    basis = torch.eye(h * w, dtype=torch.float64).reshape(h * w, 1, h, w)
    return F.adaptive_avg_pool2d(basis, pooled).reshape(h * w, -1)


def _dense_after_flatten(weight: np.ndarray, hwc: tuple[int, int, int],
                         pooled: tuple[int, int] | None) -> np.ndarray:
    """A ``Linear`` weight on PyTorch's ``C·ph·pw`` features as a cnnlab ``Dense`` kernel
    ``(out, h·w·c)`` on the ``H·W·C`` flatten of an ``(h, w, c)`` map, with an adaptive
    average pooling to ``pooled`` folded in; unchanged when the sizes do not fit."""
    h, w, c = hwc
    pooled = pooled or (h, w)
    if weight.ndim != 2 or weight.shape[1] != c * pooled[0] * pooled[1]:
        return weight
    out = weight.shape[0]
    t = torch.from_numpy(weight).reshape(out, c, pooled[0] * pooled[1])
    if pooled != (h, w):
        t = t @ adaptive_pool_matrix((h, w), pooled).T.to(t.dtype)
    return t.reshape(out, c, h, w).permute(0, 2, 3, 1).reshape(out, h * w * c).numpy()


# ---------------------------------------------------------------------------------- loading
def load_torch_weights(model: Any, source: str | os.PathLike | Mapping[str, Any], *,
                       architecture: str = "auto") -> None:
    """Set ``model``'s weights from a PyTorch state dict (a path, or the dict itself).

    ``architecture``: ``'vgg16'``, ``'resnet18'``, ``'alexnet'`` (torchvision's names matched
    to the zoo's layer names; a model built without its top takes the convolutional base and
    ignores the classifier), ``'sequential'`` (weighted layers in order, modules in
    registration order) or ``'auto'`` (chosen from the names). ``BatchNormalization`` layers
    get PyTorch's ``epsilon=1e-5``. A mismatch raises ``ValueError`` naming the first layer
    that differs and both shapes (PyTorch layout); nothing changes unless everything fits.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"load_torch_weights: `architecture` must be one of {ARCHITECTURES}, "
                         f"got {architecture!r}")
    if not model.built:
        raise ValueError(f"load_torch_weights: build {model.owner} (input_shape=, build() or "
                         f"one batch) before loading weights into it")
    if isinstance(source, Mapping):
        state, origin = state_dict_arrays(source), "the state dict"
    else:
        state, origin = read_torch_state_dict(source), Path(source).name
    if architecture == "auto":
        architecture = _detect(state)
    flattened = _flatten_inputs(model)
    try:
        pairs = _pairs(model, state, architecture)
    except ValueError as exc:
        raise ValueError(f"{exc} (loading {origin})") from None
    loads, used = [], set()
    for layer, module in pairs:
        for name, tensor, _ in layer.keras_weights():
            key = f"{module}.{TORCH_NAMES.get(name, name)}"
            expected = tuple(tensor.shape)
            if key not in state:
                raise ValueError(
                    f"load_torch_weights: layer {layer.name!r} ({type(layer).__name__}) expects "
                    f"{name} {expected}, {origin} has no {key!r}")
            array = state[key]
            if name == "kernel" and layer.name in flattened:
                array = _dense_after_flatten(array, flattened[layer.name],
                                             ADAPTIVE_POOL.get(architecture))
            if tuple(array.shape) != expected:
                raise ValueError(
                    f"load_torch_weights: layer {layer.name!r} ({type(layer).__name__}) expects "
                    f"{name} {expected}, {key!r} in {origin} has {tuple(state[key].shape)}"
                    f"{_variant_hint(architecture) if layer.name == 'conv1' else ''}")
            loads.append((tensor, array))
            used.add(key)
    extra = [k for k in state if k not in used and not k.endswith(".num_batches_tracked")
             and not k.startswith(_top_prefixes(architecture))]
    if extra:
        raise ValueError(f"load_torch_weights: {origin} has tensors {model.owner} has no layer "
                         f"for ({architecture} layout): {extra[:8]}")
    with torch.no_grad():
        for tensor, array in loads:
            tensor.copy_(torch.as_tensor(np.asarray(array), dtype=tensor.dtype))
    for layer, _ in pairs:
        if type(layer).__name__ == "BatchNormalization":
            layer.epsilon = TORCH_BN_EPSILON
