"""Initializers: Keras fans, distribution statistics on large samples, seeds, lookup."""

import math

import pytest
import torch

from cnnlab import initializers as init

TRUNC = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]


@pytest.mark.parametrize(
    "shape, fans",
    [
        ((), (1, 1)),
        ((7,), (7, 7)),
        ((784, 64), (784, 64)),
        ((5, 8, 4), (40, 20)),  # Conv1D: kernel 5, 8 -> 4 channels
        ((3, 3, 16, 32), (144, 288)),  # Conv2D
        ((3, 3, 3, 4, 8), (108, 216)),  # Conv3D
    ],
)
def test_compute_fans_keras_convention(shape, fans):
    assert init.compute_fans(shape) == fans


def _uniform_case(w, limit):
    assert w.abs().max() <= limit
    assert w.abs().max() > 0.99 * limit  # the range is used up to the edge
    assert abs(w.std().item() - limit / math.sqrt(3)) < 0.02 * limit / math.sqrt(3)
    assert abs(w.mean().item()) < 0.01 * limit


def _truncated_case(w, target_std):
    # Keras scales the truncated normal so the *kept* samples have the target variance.
    assert w.abs().max() <= 2 * target_std / TRUNC * (1 + 1e-6)
    assert abs(w.std().item() - target_std) < 0.02 * target_std
    assert abs(w.mean().item()) < 0.02 * target_std


SHAPE = (3, 3, 64, 128)  # fan_in 576, fan_out 1152, 73,728 samples
FAN_IN, FAN_OUT = 576, 1152


@pytest.mark.parametrize(
    "cls, limit",
    [
        (init.GlorotUniform, math.sqrt(6 / (FAN_IN + FAN_OUT))),
        (init.HeUniform, math.sqrt(6 / FAN_IN)),
        (init.LecunUniform, math.sqrt(3 / FAN_IN)),
    ],
)
def test_uniform_presets_use_keras_limits(cls, limit):
    _uniform_case(cls(seed=0)(SHAPE), limit)


@pytest.mark.parametrize(
    "cls, std",
    [
        (init.GlorotNormal, math.sqrt(2 / (FAN_IN + FAN_OUT))),
        (init.HeNormal, math.sqrt(2 / FAN_IN)),
        (init.LecunNormal, math.sqrt(1 / FAN_IN)),
    ],
)
def test_normal_presets_are_truncated_with_corrected_stddev(cls, std):
    _truncated_case(cls(seed=0)(SHAPE), std)


@pytest.mark.parametrize("mode, fan", [("fan_in", FAN_IN), ("fan_out", FAN_OUT),
                                       ("fan_avg", (FAN_IN + FAN_OUT) / 2)])
def test_variance_scaling_modes_and_distributions(mode, fan):
    scale = 3.0
    w = init.VarianceScaling(scale, mode, "untruncated_normal", seed=1)(SHAPE)
    assert abs(w.std().item() - math.sqrt(scale / fan)) < 0.02 * math.sqrt(scale / fan)
    assert w.abs().max() > 3 * math.sqrt(scale / fan)  # not truncated
    _uniform_case(init.VarianceScaling(scale, mode, "uniform", seed=1)(SHAPE),
                  math.sqrt(3 * scale / fan))
    _truncated_case(init.VarianceScaling(scale, mode, "normal", seed=1)(SHAPE),
                    math.sqrt(scale / fan))


def test_random_normal_uniform_truncated_statistics():
    shape = (300, 300)
    w = init.RandomNormal(mean=1.0, stddev=0.5, seed=3)(shape)
    assert abs(w.mean().item() - 1.0) < 0.01 and abs(w.std().item() - 0.5) < 0.01
    w = init.RandomUniform(minval=-2.0, maxval=4.0, seed=3)(shape)
    assert w.min() >= -2.0 and w.max() < 4.0 and abs(w.mean().item() - 1.0) < 0.03
    w = init.TruncatedNormal(mean=0.5, stddev=0.1, seed=3)(shape)
    assert (w - 0.5).abs().max() <= 0.2 + 1e-6
    assert abs(w.std().item() - 0.1 * TRUNC) < 0.002


def test_keras_default_arguments():
    assert init.RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert init.RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert init.VarianceScaling().get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None,
    }
    assert init.GlorotUniform(seed=4).get_config() == {"seed": 4}


@pytest.mark.parametrize("shape", [(64, 32), (16, 64), (3, 3, 4, 16)])
def test_orthogonal_has_orthonormal_rows_or_columns(shape):
    w = init.Orthogonal(gain=2.0, seed=0)(shape)
    assert w.shape == shape
    m = w.reshape(-1, shape[-1]).double()
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    torch.testing.assert_close(gram, 4.0 * torch.eye(small, dtype=torch.float64),
                               atol=1e-5, rtol=0)


def test_orthogonal_needs_rank_two():
    with pytest.raises(ValueError, match="rank >= 2"):
        init.Orthogonal()((5,))


def test_constant_initializers_and_identity():
    assert torch.equal(init.Zeros()((2, 3)), torch.zeros(2, 3))
    assert torch.equal(init.Ones()((2, 3)), torch.ones(2, 3))
    assert torch.equal(init.Constant(2.5)((4,)), torch.full((4,), 2.5))
    assert torch.equal(init.Identity(gain=3.0)((2, 3)), torch.tensor([[3.0, 0, 0], [0, 3.0, 0]]))
    with pytest.raises(ValueError, match="2D shape"):
        init.Identity()((3, 3, 3))


def test_dtype_argument():
    assert init.HeNormal(seed=0)((4, 4), dtype=torch.float64).dtype == torch.float64
    assert init.Orthogonal(seed=0)((4, 4), dtype=torch.float64).dtype == torch.float64


@pytest.mark.parametrize("cls", [init.RandomNormal, init.RandomUniform, init.TruncatedNormal,
                                 init.GlorotUniform, init.HeNormal, init.Orthogonal])
def test_seed_makes_values_reproducible(cls):
    a, b = cls(seed=7)((20, 30)), cls(seed=7)((20, 30))
    assert torch.equal(a, b)
    assert torch.equal(cls(seed=7)((20, 30)), cls(seed=7)((20, 30)))
    assert not torch.equal(a, cls(seed=8)((20, 30)))


def test_unseeded_initializer_follows_torch_global_seed():
    torch.manual_seed(123)
    a = init.GlorotUniform()((10, 10))
    torch.manual_seed(123)
    assert torch.equal(a, init.GlorotUniform()((10, 10)))


@pytest.mark.parametrize(
    "name, cls",
    [("glorot_uniform", init.GlorotUniform), ("GlorotUniform", init.GlorotUniform),
     ("he_normal", init.HeNormal), ("lecun_uniform", init.LecunUniform),
     ("zeros", init.Zeros), ("ones", init.Ones), ("random_normal", init.RandomNormal),
     ("truncated_normal", init.TruncatedNormal), ("variance_scaling", init.VarianceScaling),
     ("orthogonal", init.Orthogonal), ("identity", init.Identity), ("uniform", init.RandomUniform)],
)
def test_get_by_name(name, cls):
    assert type(init.get(name)) is cls


def test_get_other_identifiers():
    inst = init.HeUniform(seed=2)
    assert init.get(inst) is inst
    assert init.get(None) is None
    assert isinstance(init.get(init.Zeros), init.Zeros)

    def custom(shape, dtype=torch.float32):
        return torch.full(shape, 7.0, dtype=dtype)

    assert init.get(custom) is custom
    from_dict = init.get({"class_name": "RandomNormal", "config": {"stddev": 2.0, "seed": 5}})
    assert from_dict.get_config() == {"mean": 0.0, "stddev": 2.0, "seed": 5}


def test_serialize_round_trip_gives_same_values():
    original = init.VarianceScaling(2.0, "fan_out", "uniform", seed=9)
    copy = init.get(init.serialize(original))
    assert copy.get_config() == original.get_config()
    assert torch.equal(copy((8, 8)), original((8, 8)))
    assert init.serialize(None) is None


def test_get_errors():
    with pytest.raises(ValueError, match="Unknown initializer 'glorot'.*'glorot_uniform'"):
        init.get("glorot")
    with pytest.raises(ValueError, match="class_name"):
        init.get({"config": {}})
    with pytest.raises(TypeError, match="initializer must be"):
        init.get(1.5)


def test_variance_scaling_rejects_bad_arguments():
    with pytest.raises(ValueError, match="scale must be > 0"):
        init.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        init.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="distribution must be one of"):
        init.VarianceScaling(distribution="cauchy")
