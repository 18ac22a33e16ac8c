"""to_categorical, normalize, scale_to_unit and Standardizer against NumPy written out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnlab.data.preprocessing import Standardizer, normalize, scale_to_unit, to_categorical

# --------------------------------------------------------------------------- to_categorical


def test_to_categorical_keras_docstring_example():
    expected = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
    got = to_categorical([0, 1, 2, 3], num_classes=4)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("labels", "shape"),
    [
        (np.array([2, 0, 1]), (3, 3)),
        (np.array([[2], [0], [1]], dtype=np.uint8), (3, 3)),  # CIFAR's (N, 1) labels
        (np.array([[2, 0], [1, 1]]), (2, 2, 3)),
        (np.array(2), (3,)),
        (torch.tensor([1, 2, 0]), (3, 3)),
        (np.array([1.0, 2.0, 0.0]), (3, 3)),
        (np.array([True, False, True]), (3, 3)),
    ],
)
def test_to_categorical_shapes_match_eye_rows(labels, shape):
    got = to_categorical(labels, num_classes=3)
    assert got.shape == shape
    flat = np.asarray(labels).reshape(-1).astype(int)
    np.testing.assert_array_equal(got.reshape(-1, 3), np.eye(3)[flat])


def test_to_categorical_infers_classes_and_takes_dtype():
    got = to_categorical([0, 4, 1], dtype="int64")
    assert got.shape == (3, 5) and got.dtype == np.int64
    np.testing.assert_array_equal(got.argmax(axis=1), [0, 4, 1])


@pytest.mark.parametrize(
    ("labels", "num_classes", "message"),
    [
        ([0, 3], 3, r"\[0, 3\) .* from 0 to 3"),
        ([-1, 0], None, "from -1 to 0"),
        ([0.5, 1], None, "whole-number"),
        (["a"], None, "whole-number"),
        ([], None, "num_classes must be given"),
    ],
)
def test_to_categorical_rejects_bad_labels(labels, num_classes, message):
    with pytest.raises(ValueError, match=message):
        to_categorical(labels, num_classes)


# -------------------------------------------------------------------------------- normalize


def test_normalize_l2_rows_by_hand():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, 1.0]])
    expected = [[0.6, 0.8], [0.0, 0.0], [1 / np.sqrt(2), 1 / np.sqrt(2)]]
    np.testing.assert_allclose(normalize(x), expected)


@pytest.mark.parametrize("order", [1, 2, 3, np.inf])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_normalize_matches_definition(order, axis):
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(np.float64)
    if order == np.inf:
        norm = np.max(np.abs(x), axis=axis, keepdims=True)
    else:
        norm = np.sum(np.abs(x) ** order, axis=axis, keepdims=True) ** (1 / order)
    np.testing.assert_allclose(normalize(x, axis=axis, order=order), x / norm)
    got_t = normalize(torch.from_numpy(x), axis=axis, order=order)
    assert isinstance(got_t, torch.Tensor)
    np.testing.assert_allclose(got_t.numpy(), x / norm)


def test_normalize_vector_keeps_its_shape():
    np.testing.assert_allclose(normalize(np.array([3.0, 4.0])), [0.6, 0.8])


def test_normalize_dtypes():
    assert normalize(np.array([[3, 4]])).dtype == np.float64  # int input -> float64, as Keras
    assert normalize(np.ones((2, 2), np.float32)).dtype == np.float32
    assert normalize(torch.zeros(2, 3)).abs().sum() == 0  # zero vectors stay zero


# ---------------------------------------------------------------------------- scale_to_unit


def test_scale_uint8_divides_by_255():
    x = np.array([[0, 51], [204, 255]], dtype=np.uint8)
    got = scale_to_unit(x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [[0, 0.2], [0.8, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(scale_to_unit(torch.from_numpy(x)).numpy(), got)


def test_scale_min_max_and_given_range():
    x = np.array([-2.0, 0.0, 6.0])
    np.testing.assert_allclose(scale_to_unit(x), [0.0, 0.25, 1.0])
    test = np.array([-4.0, 2.0])
    np.testing.assert_allclose(scale_to_unit(test, value_range=(x.min(), x.max())), [-0.25, 0.5])
    np.testing.assert_array_equal(scale_to_unit(np.full(3, 7.0)), [0, 0, 0])


# ------------------------------------------------------------------------------ Standardizer


def test_standardizer_per_channel_statistics_from_training_only():
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, (50, 6, 5, 3), dtype=np.uint8)
    test = rng.integers(0, 256, (7, 6, 5, 3), dtype=np.uint8)
    s = Standardizer().fit(train, chunk=8)  # several chunks
    channels = train.reshape(-1, 3).astype(np.float64)
    mean, std = channels.mean(axis=0), channels.std(axis=0)
    np.testing.assert_allclose(s.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(s.std, std, rtol=1e-6)
    z_train = s.transform(train)
    assert z_train.dtype == np.float32 and z_train.shape == train.shape
    np.testing.assert_allclose(z_train.reshape(-1, 3).mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z_train.reshape(-1, 3).std(axis=0), 1, atol=1e-5)
    np.testing.assert_allclose(s.transform(test), (test - mean) / std, rtol=1e-5, atol=1e-5)


def test_standardizer_on_tensors_and_restored_state():
    x = torch.randn(20, 4, 4, 2) * torch.tensor([3.0, 0.5]) + torch.tensor([10.0, -1.0])
    s = Standardizer().fit(x)
    z = s.transform(x)
    assert isinstance(z, torch.Tensor) and z.dtype == torch.float32
    restored = Standardizer(mean=s.mean.tolist(), std=s.std.tolist())
    torch.testing.assert_close(restored.transform(x), z)
    ref = (x - x.mean(dim=(0, 1, 2))) / x.std(dim=(0, 1, 2), unbiased=False)
    torch.testing.assert_close(z, ref, rtol=1e-4, atol=1e-4)


def test_standardizer_feature_axes_and_constant_channel():
    x = np.zeros((10, 3))
    x[:, 1] = np.arange(10)
    s = Standardizer(axis=1).fit(x)
    np.testing.assert_allclose(s.std, [1e-7, np.arange(10).std(), 1e-7], rtol=1e-6)
    assert np.all(s.transform(x)[:, [0, 2]] == 0)
    per_pixel = Standardizer(axis=(1, 2)).fit(np.arange(24.0).reshape(2, 3, 4))
    assert per_pixel.mean.shape == (3, 4)
    np.testing.assert_allclose(per_pixel.mean, np.arange(24.0).reshape(2, 3, 4).mean(axis=0))


def test_standardizer_errors():
    with pytest.raises(ValueError, match="call fit"):
        Standardizer().transform(np.zeros((2, 3)))
    s = Standardizer().fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"fitted on shape \(3,\).*\(2, 5\)"):
        s.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="axis 0 is the example axis"):
        Standardizer(axis=0).fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="both mean and std"):
        Standardizer(mean=[0.0])
