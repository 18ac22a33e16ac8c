"""Shared test set-up: fresh layer names per test and deterministic seeds."""

import pytest
import torch

from cnnlab.layers.registry import clear_session


@pytest.fixture(autouse=True)
def _fresh_session():
    clear_session()
    torch.manual_seed(0)
    yield
