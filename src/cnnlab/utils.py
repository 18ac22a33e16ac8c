"""Small utilities with Keras's names: seeds, label encoding, the ``Sequence`` base class."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from cnnlab.data.preprocessing import normalize, to_categorical


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch at once (Keras's ``set_random_seed``)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"set_random_seed: `seed` must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class Sequence:
    """Base class for a dataset of batches: define ``__len__`` (batches per epoch) and
    ``__getitem__(i)`` returning ``(x, y)``; ``on_epoch_end`` runs after every epoch.

    ``fit(sequence)`` iterates it in order each epoch, as Keras does (shuffle inside your
    ``on_epoch_end`` if you want a new order).
    """

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        """Called after each epoch; override to reshuffle."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


PyDataset = Sequence

__all__ = ["PyDataset", "Sequence", "normalize", "set_random_seed", "to_categorical"]
