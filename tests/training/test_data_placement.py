"""In-memory arrays go to an accelerator once, when they fit in half its free memory (the
"meta" device stands in for CUDA here: tensors moved there keep their shapes)."""

import numpy as np
import torch

from cnnlab.models._fit_data import on_accelerator
from cnnlab.training.data_adapter import ArrayData

META = torch.device("meta")


def arrays() -> ArrayData:
    x = np.zeros((10, 4, 4, 1), np.float32)
    return ArrayData(x, np.arange(10), sample_weight=np.ones(10), batch_size=4)


def test_arrays_fitting_in_half_the_free_memory_are_copied_once():
    data = arrays()
    assert data.nbytes == 10 * 16 * 4 + 10 * 8 + 10 * 4
    placed = data.placed_on(META, free_bytes=2 * data.nbytes)
    assert {placed.x.device, placed.y.device, placed.sample_weight.device} == {META}
    assert data.x.device.type == "cpu"  # the source itself is unchanged
    assert data.placed_on(META, free_bytes=2 * data.nbytes - 1) is data  # too big: per batch
    assert placed.placed_on(META, free_bytes=10**12) is placed  # already there


def test_shuffled_batches_of_placed_arrays_are_taken_on_their_device():
    placed = arrays().placed_on(META, free_bytes=10**9)
    placed.shuffle = True
    batches = list(placed.batches(torch.Generator().manual_seed(0)))
    assert [tuple(x.shape) for x, _, _ in batches] == [(4, 4, 4, 1), (4, 4, 4, 1), (2, 4, 4, 1)]
    assert all(x.device == META and y.device == META for x, y, _ in batches)


def test_only_arrays_on_cuda_are_placed():
    data = arrays()
    assert on_accelerator(data, torch.device("cpu")) is data
    assert on_accelerator(None, torch.device("cuda")) is None
