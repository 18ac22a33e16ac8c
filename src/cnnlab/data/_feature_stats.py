"""Feature-wise statistics for :meth:`ImageDataGenerator.fit`, accumulated chunk by chunk.

Sums are kept in float64 over channels-last batches ``(B, H, W, C)``: per-feature sums, per-
channel sums of squares and, for ZCA whitening, the ``(F, F)`` Gram matrix of the flattened
images (``F = H * W * C``), so data of any length is fitted in bounded memory.
"""

from __future__ import annotations

import math

import numpy as np
import torch


class FeatureMoments:
    """Running sums over float channels-last batches of images of shape ``image_shape``
    ``(H, W, C)``; ``gram=True`` also keeps the Gram matrix for :meth:`zca_matrix`."""

    def __init__(self, image_shape: tuple[int, ...], gram: bool):
        self.channels, self.features = image_shape[-1], math.prod(image_shape)
        self.total = torch.zeros(self.features, dtype=torch.float64)
        self.squares = torch.zeros(self.channels, dtype=torch.float64)
        self.gram = torch.zeros(self.features, self.features, dtype=torch.float64) if gram \
            else None
        self.count = 0

    def add(self, images: torch.Tensor) -> None:
        """Add a float batch ``(B, H, W, C)``."""
        flat = images.reshape(len(images), -1).double()
        self.total += flat.sum(0)
        self.squares += flat.square().reshape(-1, self.channels).sum(0)
        if self.gram is not None:
            self.gram += flat.T @ flat
        self.count += len(images)

    def mean_std(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel ``(C,)`` mean and population standard deviation (as ``np.std``), in
        float64."""
        pixels = self.count * self.features // self.channels
        mean = self.total.reshape(-1, self.channels).sum(0) / pixels
        std = (self.squares / pixels - mean.square()).clamp_min(0).sqrt()
        return mean, std

    def zca_matrix(self, epsilon: float) -> np.ndarray:
        """Keras's ZCA matrix ``U diag(sqrt(n) / (s + eps)) U^T`` ``(F, F)`` from the singular
        values ``s`` of the centred data, via the eigen-decomposition of its Gram matrix
        (``s^2``); only the ``min(n, F)`` largest components, as an economy SVD gives."""
        mean = self.mean_std()[0].repeat(self.features // self.channels)
        total, count = self.total, self.count
        centred = self.gram - torch.outer(total, mean) - torch.outer(mean, total) \
            + count * torch.outer(mean, mean)
        eigenvalues, vectors = torch.linalg.eigh(centred)
        keep = min(count, len(mean))
        singular = eigenvalues[-keep:].clamp_min(0).sqrt()
        vectors = vectors[:, -keep:]
        whitening = (vectors * (math.sqrt(count) / (singular + epsilon))) @ vectors.T
        return whitening.float().numpy()
