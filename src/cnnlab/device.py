"""Where models and data live: CUDA, then Apple's MPS, then the CPU (override with
``set_device`` or ``$CNNLAB_DEVICE``).

``fit`` moves an unplaced model to :func:`default_device` before building its optimizer; data
batches follow the model's device, with pinned host memory and ``non_blocking`` copies on CUDA.
"""

from __future__ import annotations

import os

import torch

_chosen: torch.device | None = None


def available() -> list[str]:
    """Device types usable here, best first."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return [*found, "cpu"]


def set_device(device: str | torch.device | None) -> None:
    """Use ``device`` from now on (``None`` goes back to automatic choice)."""
    global _chosen
    if device is None:
        _chosen = None
        return
    chosen = torch.device(device)
    if chosen.type not in available():
        raise ValueError(f"device {str(device)!r} is not available here; available: "
                         f"{', '.join(available())}")
    _chosen = chosen


def default_device() -> torch.device:
    """``set_device``'s choice, else ``$CNNLAB_DEVICE``, else the best available device."""
    if _chosen is not None:
        return _chosen
    env = os.environ.get("CNNLAB_DEVICE")
    if env:
        device = torch.device(env)
        if device.type not in available():
            raise ValueError(f"$CNNLAB_DEVICE={env!r} is not available here; available: "
                             f"{', '.join(available())}")
        return device
    return torch.device(available()[0])


def pin_if_useful(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Page-locked host memory makes host-to-GPU copies asynchronous; only for CUDA."""
    if device.type == "cuda" and tensor.device.type == "cpu" and not tensor.is_pinned():
        return tensor.pin_memory()
    return tensor


__all__ = ["available", "default_device", "pin_if_useful", "set_device"]
