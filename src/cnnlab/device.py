"""Where models and data live: CUDA, then Apple's MPS, then the CPU (override with
``set_device`` or ``$CNNLAB_DEVICE``).

``fit`` moves an unplaced model to :func:`default_device` before building its optimizer; data
batches follow the model's device. On CUDA, ``fit`` copies in-memory arrays to the device once
when they take at most half of its free memory, so no batch crosses from the host during
training (tensors already on the device are used as they are).
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


__all__ = ["available", "default_device", "set_device"]
