"""Shared test set-up: fresh layer names per test, deterministic seeds, and the global
mixed-precision policy restored after each test."""

import pytest
import torch

from cnnlab import mixed_precision
from cnnlab.layers.registry import clear_session


@pytest.fixture(autouse=True)
def _fresh_session():
    clear_session()
    torch.manual_seed(0)
    policy = mixed_precision.global_policy()
    yield
    mixed_precision.set_global_policy(policy)
