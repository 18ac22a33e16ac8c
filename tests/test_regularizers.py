"""Regularizers against NumPy sums and their analytic gradients."""

import numpy as np
import pytest
import torch

from cnnlab import regularizers as reg


@pytest.fixture
def w():
    return torch.randn(3, 3, 4, 5, dtype=torch.float64, requires_grad=True)


def test_penalties_match_numpy(w):
    a = w.detach().numpy()
    np.testing.assert_allclose(reg.L1(0.3)(w).item(), 0.3 * np.abs(a).sum())
    np.testing.assert_allclose(reg.L2(0.02)(w).item(), 0.02 * (a**2).sum())
    np.testing.assert_allclose(
        reg.L1L2(l1=0.1, l2=0.2)(w).item(), 0.1 * np.abs(a).sum() + 0.2 * (a**2).sum()
    )


def test_keras_defaults():
    assert reg.L1().l1 == 0.01 and reg.L2().l2 == 0.01
    assert reg.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert reg.L1L2()(torch.ones(3)).item() == 0.0


def test_l2_gradient_is_weight_decay(w):
    reg.L2(0.05)(w).backward()
    torch.testing.assert_close(w.grad, 2 * 0.05 * w.detach())


def test_l1_gradient_is_sign(w):
    reg.L1(0.05)(w).backward()
    torch.testing.assert_close(w.grad, 0.05 * torch.sign(w.detach()))


def test_lowercase_aliases_are_the_classes():
    assert isinstance(reg.l2(0.01), reg.L2)
    assert isinstance(reg.l1(0.01), reg.L1)
    assert isinstance(reg.l1_l2(l1=0.01, l2=0.01), reg.L1L2)


@pytest.mark.parametrize("name, cls", [("l1", reg.L1), ("l2", reg.L2), ("l1_l2", reg.L1L2),
                                       ("L2", reg.L2), ("L1L2", reg.L1L2)])
def test_get_by_name(name, cls):
    assert type(reg.get(name)) is cls


def test_get_other_identifiers():
    r = reg.L2(0.3)
    assert reg.get(r) is r
    assert reg.get(None) is None

    def custom(weight):
        return weight.sum()

    assert reg.get(custom) is custom
    assert reg.get({"class_name": "L1", "config": {"l1": 0.5}}).l1 == 0.5


def test_serialize_round_trip():
    original = reg.L1L2(l1=0.25, l2=0.5)
    assert reg.serialize(original) == {"class_name": "L1L2", "config": {"l1": 0.25, "l2": 0.5}}
    assert reg.get(reg.serialize(original)).get_config() == original.get_config()
    assert reg.serialize(None) is None and reg.get(reg.serialize(None)) is None


def test_errors():
    with pytest.raises(ValueError, match="Unknown regularizer 'l3'.*'l2'"):
        reg.get("l3")
    with pytest.raises(TypeError, match="regularizer must be"):
        reg.get(0.01)
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0; got l2=-1"):
        reg.L2(-1)
    with pytest.raises(ValueError, match="l1 must be"):
        reg.L1("0.1")
