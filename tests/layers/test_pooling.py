"""Pooling layers against a NumPy loop over windows that applies TensorFlow's 'same' rule."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from cnnlab.layers import pooling as P
from cnnlab.layers.keras_tensor import KerasTensor
from cnnlab.layers.registry import registered_class

MAX = {1: P.MaxPooling1D, 2: P.MaxPooling2D, 3: P.MaxPooling3D}
AVG = {1: P.AveragePooling1D, 2: P.AveragePooling2D, 3: P.AveragePooling3D}
GLOBAL_MAX = {1: P.GlobalMaxPooling1D, 2: P.GlobalMaxPooling2D, 3: P.GlobalMaxPooling3D}
GLOBAL_AVG = {1: P.GlobalAveragePooling1D, 2: P.GlobalAveragePooling2D,
              3: P.GlobalAveragePooling3D}


def numpy_pool(x: np.ndarray, kind: str, pool: tuple, strides: tuple, padding: str) -> np.ndarray:
    """Channels-last pooling by explicit windows.

    'same' (TensorFlow): ``O = ceil(I/S)``, total pad ``max((O−1)·S + F − I, 0)``, of which
    ``floor(total/2)`` before; each window is clipped to the input, so max ignores the padding
    and the mean divides by the number of real elements.
    """
    spatial = x.shape[1:-1]
    outs, befores = [], []
    for size, k, s in zip(spatial, pool, strides, strict=True):
        if padding == "same":
            out = math.ceil(size / s)
            befores.append(max((out - 1) * s + k - size, 0) // 2)
        else:
            out = (size - k) // s + 1
            befores.append(0)
        outs.append(out)
    y = np.empty((x.shape[0], *outs, x.shape[-1]), dtype=np.float64)
    axes = tuple(range(1, len(spatial) + 1))
    for index in itertools.product(*(range(o) for o in outs)):
        window = []
        for o, k, s, before, size in zip(index, pool, strides, befores, spatial, strict=True):
            start = o * s - before
            window.append(slice(max(start, 0), min(start + k, size)))
        patch = x[(slice(None), *window, slice(None))]
        y[(slice(None), *index, slice(None))] = (patch.max(axis=axes) if kind == "max"
                                                 else patch.mean(axis=axes))
    return y


def run(layer: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    return layer(torch.from_numpy(x)).numpy()


CASES_1D_2D = [
    (rank, size, k, s, kind, padding)
    for rank, sizes in ((1, [(4,), (5,)]), (2, [(4, 4), (5, 5), (4, 5), (5, 4)]))
    for size in sizes
    for k in (2, 3)
    for s in (1, 2, 3)
    for kind in ("max", "avg")
    for padding in ("same", "valid")
]


@pytest.mark.parametrize("rank,size,k,s,kind,padding", CASES_1D_2D)
def test_pooling_matches_numpy_windows(rank, size, k, s, kind, padding):
    rng = np.random.default_rng(hash((size, k, s)) % 2**32)
    x = rng.standard_normal((2, *size, 3)).astype(np.float32)
    layer = (MAX if kind == "max" else AVG)[rank](k, strides=s, padding=padding)
    y = run(layer, x)
    expected = numpy_pool(x.astype(np.float64), kind, (k,) * rank, (s,) * rank, padding)
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
    assert layer.compute_output_shape((None, *size, 3)) == (None, *y.shape[1:])


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("pool,strides", [((2, 3, 2), (1, 2, 3)), ((3, 3, 3), (2, 2, 2))])
def test_pooling_3d_matches_numpy_windows(kind, pool, strides):
    x = np.random.default_rng(3).standard_normal((2, 5, 4, 7, 2)).astype(np.float32)
    layer = (MAX if kind == "max" else AVG)[3](pool, strides=strides, padding="same")
    y = run(layer, x)
    np.testing.assert_allclose(y, numpy_pool(x.astype(np.float64), kind, pool, strides, "same"),
                               rtol=1e-6, atol=1e-6)
    assert layer.compute_output_shape((None, 5, 4, 7, 2)) == (None, *y.shape[1:])


def test_hand_computed_same_average_excludes_padding():
    # [1, 2, 3] pooled by 2 with 'same': windows [1, 2] and [3, pad] -> 1.5 and 3 (not 1.5).
    y = P.AveragePooling1D(2, padding="same")(torch.tensor([[[1.0], [2.0], [3.0]]]))
    assert y.flatten().tolist() == [1.5, 3.0]
    # 3x3 'same' stride 1 on a 5x5 of ones: every output is 1 only if pads are not counted.
    y = P.AveragePooling2D(3, strides=1, padding="same")(torch.ones(1, 5, 5, 1))
    torch.testing.assert_close(y, torch.ones(1, 5, 5, 1))


def test_hand_computed_same_max_ignores_padding():
    x = -torch.arange(1.0, 8.0).reshape(1, 7, 1)  # all negative: a zero pad would win
    y = P.MaxPooling1D(2, padding="same")(x)
    assert y.flatten().tolist() == [-1.0, -3.0, -5.0, -7.0]


def test_same_layer_handles_changing_input_sizes():
    layer = P.AveragePooling2D(3, strides=2, padding="same")
    rng = np.random.default_rng(0)
    for size in ((6, 6), (5, 7), (6, 6)):
        x = rng.standard_normal((1, *size, 2)).astype(np.float32)
        np.testing.assert_allclose(run(layer, x), numpy_pool(x, "avg", (3, 3), (2, 2), "same"),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls", [*MAX.values(), *AVG.values()])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_channels_first_equals_channels_last(cls, padding):
    rank = cls.rank
    x = torch.randn(2, *(5,) * rank, 3)
    last = cls(3, strides=2, padding=padding)(x)
    first = cls(3, strides=2, padding=padding, data_format="channels_first")(x.movedim(-1, 1))
    torch.testing.assert_close(first.movedim(1, -1), last)


@pytest.mark.parametrize("cls", [P.MaxPooling2D, P.AveragePooling2D])
def test_channels_last_output_needs_no_copy(cls):
    y = cls(2)(torch.randn(2, 8, 8, 16))
    assert y.is_contiguous()  # the NCHW kernel wrote channels_last memory: NHWC, no permute copy


@pytest.mark.parametrize("cls", [P.MaxPooling2D, P.AveragePooling2D, P.MaxPooling1D,
                                 P.AveragePooling3D])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_gradients_match_finite_differences(cls, padding):
    layer = cls(3, strides=2, padding=padding)  # 'same' on 4: pads (0, 1), asymmetric
    x = torch.randn(1, *(4,) * cls.rank, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,))


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_matches_numpy(rank, keepdims):
    x = np.random.default_rng(rank).standard_normal((2, *(3,) * rank, 4)).astype(np.float32)
    axes = tuple(range(1, rank + 1))
    for table, reduce in ((GLOBAL_MAX, np.max), (GLOBAL_AVG, np.mean)):
        layer = table[rank](keepdims=keepdims)
        y = run(layer, x)
        np.testing.assert_allclose(y, reduce(x, axis=axes, keepdims=keepdims), rtol=1e-6)
        assert layer.compute_output_shape((None, *x.shape[1:])) == (None, *y.shape[1:])
        first = table[rank](data_format="channels_first", keepdims=keepdims)
        x_first = np.moveaxis(x, -1, 1)
        y_first = run(first, x_first)
        np.testing.assert_allclose(
            y_first, reduce(x_first, axis=tuple(a + 1 for a in axes), keepdims=keepdims),
            rtol=1e-6)
        assert first.compute_output_shape((None, *x_first.shape[1:])) == (None,
                                                                            *y_first.shape[1:])


def test_global_average_gradient():
    x = torch.randn(2, 3, 4, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(P.GlobalAveragePooling2D(), (x,))


def test_shapes_with_unknown_sizes_and_symbolic_call():
    assert P.MaxPooling2D()(KerasTensor((None, 28, 28, 1))).shape == (None, 14, 14, 1)
    assert P.MaxPooling2D(padding="same")(KerasTensor((None, 7, 7, 8))).shape == (None, 4, 4, 8)
    assert P.AveragePooling2D()(KerasTensor((None, None, None, 3))).shape == (None, None, None, 3)
    assert P.GlobalAveragePooling2D()(KerasTensor((None, None, None, 3))).shape == (None, 3)
    assert P.MaxPooling2D(input_shape=(26, 26, 32)).output_shape == (None, 13, 13, 32)


def test_strides_default_to_pool_size_and_padding_is_case_insensitive():
    layer = P.MaxPooling2D((3, 2), padding="SAME")
    assert layer.strides == (3, 2) and layer.padding == "same"
    assert layer.compute_output_shape((None, 7, 7, 1)) == (None, 3, 4, 1)


@pytest.mark.parametrize("cls", [P.MaxPooling2D, P.AveragePooling3D, P.GlobalMaxPooling1D])
def test_config_round_trip(cls):
    layer = cls(data_format="channels_first") if cls.__name__.startswith("Global") else cls(
        3, strides=1, padding="Same", data_format="channels_first")
    config = layer.get_config()
    assert cls.from_config(config).get_config() == config
    if not cls.__name__.startswith("Global"):
        assert config["pool_size"] == [3] * cls.rank and config["padding"] == "same"


def test_legacy_aliases_are_registered():
    for alias, cls in (("MaxPool2D", P.MaxPooling2D), ("AvgPool1D", P.AveragePooling1D),
                       ("GlobalMaxPool3D", P.GlobalMaxPooling3D),
                       ("GlobalAvgPool2D", P.GlobalAveragePooling2D)):
        assert registered_class(alias) is cls


def test_bad_rank_names_layer_and_expected_dims():
    with pytest.raises(ValueError, match=r"MaxPooling2D 'pool': expected input with 3 "
                                         r"dimensions \(H, W, C\), got \(28, 28\)"):
        P.MaxPooling2D(name="pool")(torch.zeros(2, 28, 28))


def test_bad_padding_name():
    with pytest.raises(ValueError, match=r"`padding` must be 'valid' or 'same', got 'full'"):
        P.AveragePooling2D(padding="full")


def test_valid_window_larger_than_input():
    with pytest.raises(ValueError, match=r"window of size 3 is larger than the input \(2\)"):
        P.MaxPooling2D(3)(torch.zeros(1, 2, 5, 1))
    with pytest.raises(ValueError, match="larger than the input"):
        P.AveragePooling1D(4).compute_output_shape((None, 3, 1))
    layer = P.MaxPooling2D(3)
    layer(torch.zeros(1, 6, 6, 1))
    with pytest.raises(ValueError, match="larger than the input"):
        layer(torch.zeros(1, 2, 6, 1))  # a later, smaller batch is checked too
    assert P.MaxPooling2D(3, padding="same")(torch.zeros(1, 2, 2, 1)).shape == (1, 1, 1, 1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`pool_size` must contain positive ints, got 0"):
        P.MaxPooling2D(0)
    with pytest.raises(ValueError, match="`strides` must have 2 elements"):
        P.MaxPooling2D(2, strides=(1, 2, 3))
    with pytest.raises(ValueError, match="`data_format` must be"):
        P.GlobalAveragePooling2D(data_format="NHWC")
