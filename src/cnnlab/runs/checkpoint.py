"""Per-epoch checkpoints that let a killed run continue exactly where it stopped.

A checkpoint is a normal cnnlab model file (architecture, weights, optimizer state) with one
more member, ``training_state.safetensors``: the next epoch to run, the history so far, and
every random state that decides what happens next — PyTorch's global generator (dropout,
augmentation), the data-order generator of ``fit``, NumPy's and Python's. All of it is written
in one atomic step (temporary file, then rename), so a kill at any moment leaves either the
previous checkpoint or the new one, never a mix.

Resuming restores all of it, so with deterministic kernels (CPU; ``deterministic=True``) the
resumed run ends with weights bit-identical to an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from cnnlab.io.saving import load_model, read_training_state, save_model


@dataclass
class TrainingState:
    """What a checkpoint holds besides the model: ``epoch`` is the next epoch to run."""

    epoch: int
    history: dict[str, list[float]] = field(default_factory=dict)
    data_order: torch.Tensor | None = None  # state of fit's shuffling generator
    torch_rng: torch.Tensor | None = None
    numpy_rng: dict | None = None
    python_rng: list | None = None

    @classmethod
    def capture(cls, epoch: int, history: dict, data_order: torch.Generator | None
                ) -> TrainingState:
        """The current random states of this process."""
        kind, keys, pos, has_gauss, gauss = np.random.get_state()
        version, internal, gauss_next = random.getstate()
        return cls(epoch=epoch, history={k: list(v) for k, v in history.items()},
                   data_order=None if data_order is None else data_order.get_state(),
                   torch_rng=torch.get_rng_state(),
                   numpy_rng={"kind": kind, "keys": keys.tolist(), "pos": int(pos),
                              "has_gauss": int(has_gauss), "gauss": float(gauss)},
                   python_rng=[version, list(internal), gauss_next])

    def restore(self, data_order: torch.Generator | None) -> None:
        """Put the saved random states back (and into ``data_order``, fit's generator)."""
        if self.torch_rng is not None:
            torch.set_rng_state(self.torch_rng)
        if data_order is not None and self.data_order is not None:
            data_order.set_state(self.data_order)
        if self.numpy_rng is not None:
            n = self.numpy_rng
            np.random.set_state((n["kind"], np.asarray(n["keys"], dtype=np.uint32), n["pos"],
                                 n["has_gauss"], n["gauss"]))
        if self.python_rng is not None:
            version, internal, gauss_next = self.python_rng
            random.setstate((version, tuple(internal), gauss_next))

    def to_bytes(self) -> bytes:
        tensors = {name: value for name, value in (("data_order", self.data_order),
                                                   ("torch_rng", self.torch_rng))
                   if value is not None}
        meta = {"epoch": self.epoch, "history": self.history, "numpy_rng": self.numpy_rng,
                "python_rng": self.python_rng}
        return save_tensors(tensors, metadata={"state": json.dumps(meta)})

    @classmethod
    def from_bytes(cls, data: bytes, source: str) -> TrainingState:
        try:
            tensors = load_tensors(data)
            meta = json.loads(_metadata(data)["state"])
        except Exception as err:  # noqa: BLE001 - any corruption is reported the same way
            raise ValueError(f"{source}: the checkpoint's training state is unreadable "
                             f"({err})") from None
        return cls(epoch=int(meta["epoch"]), history=meta.get("history") or {},
                   data_order=tensors.get("data_order"), torch_rng=tensors.get("torch_rng"),
                   numpy_rng=meta.get("numpy_rng"), python_rng=meta.get("python_rng"))


def _metadata(data: bytes) -> dict:
    """The ``__metadata__`` of a safetensors buffer (its JSON header)."""
    header_size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + header_size]).get("__metadata__", {})


def save_checkpoint(model: Any, path: str | os.PathLike, state: TrainingState) -> None:
    """Model + optimizer + training state, atomically, at ``path``."""
    save_model(model, path, overwrite=True, include_optimizer=True,
               training_state=state.to_bytes())


def load_checkpoint(path: str | os.PathLike) -> tuple[Any, TrainingState]:
    """The compiled model (optimizer state restored) and its training state."""
    data = read_training_state(path)
    if data is None:
        raise ValueError(f"{os.fspath(path)!r} is a model file without training state; it is "
                         f"not a run checkpoint")
    return load_model(path), TrainingState.from_bytes(data, repr(os.fspath(path)))
