"""ONNX export for deployment (``pip install onnx onnxscript``; ``onnxruntime`` to run it).

The exported graph takes the same channels-last input as the model (``(N, H, W, C)``) with a
dynamic batch size, and outputs what ``predict`` returns (probabilities for a softmax head).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import torch

from cnnlab.files.atomic import atomic_write


def export_onnx(model: Any, filepath: str | os.PathLike, opset_version: int = 18) -> str:
    """Write ``model`` as an ONNX file (atomically); returns the path."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install onnx onnxscript "
                          "(and onnxruntime to run the exported model)") from None
    if not model.built:
        raise ValueError(f"{model.owner}: build the model before exporting it")
    shape = model.input_shape
    if isinstance(shape, list):
        raise ValueError(f"{model.owner}: ONNX export supports one input, got {len(shape)}")
    example = torch.zeros((2, *[d or 32 for d in shape[1:]]), dtype=torch.float32)
    model.eval()
    batch = torch.export.Dim("batch", min=1)
    with tempfile.TemporaryDirectory() as folder:
        tmp = os.path.join(folder, "model.onnx")
        torch.onnx.export(model, (example,), tmp, input_names=["input"], output_names=["output"],
                          dynamic_shapes=({0: batch},), opset_version=opset_version,
                          external_data=False, verbose=False)
        with open(tmp, "rb") as src, atomic_write(filepath) as dst:
            dst.write(src.read())
    return os.fspath(filepath)
