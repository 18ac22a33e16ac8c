"""The 8x8 handwritten digits bundled with scikit-learn (UCI optdigits test set): always offline.

Needs scikit-learn (an optional dependency of cnnlab). There is no official train/test split, so
``load_data`` shuffles with a seed and splits like Keras's ``boston_housing``/``reuters`` loaders.
"""

from __future__ import annotations

import numpy as np

from .mnist import Split

__all__ = ["load_data"]


def load_data(test_split: float = 0.2, seed: int = 113) -> tuple[Split, Split]:
    """Load the 1797 digits: ``(x_train, y_train), (x_test, y_test)``.

    ``x``: uint8 ``(N, 8, 8)`` with pixel values 0..16 (not 0..255: each pixel counts the set
    bits of a 4x4 block of the original 32x32 bitmap); ``y``: uint8 ``(N,)``, digits 0..9.
    The examples are shuffled with ``np.random.RandomState(seed)``, then the first
    ``int(N * (1 - test_split))`` are the training set and the rest the test set.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be in [0, 1), got {test_split!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            "cnnlab.datasets.digits needs scikit-learn, which bundles these digits: "
            "pip install scikit-learn"
        ) from err
    bunch = load_digits()
    x, y = bunch.images.astype(np.uint8), bunch.target.astype(np.uint8)
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
