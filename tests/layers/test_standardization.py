"""Normalization: Keras's documented examples, per-channel statistics against NumPy, train-only
fitting, streams, invert, weights, saving, errors."""

import numpy as np
import pytest
import torch

from cnnlab import load_model
from cnnlab.keras.layers import Normalization as KerasNamespaceNormalization
from cnnlab.layers import Conv2D, Flatten, Input, Normalization
from cnnlab.models import Sequential


def run(layer, x):
    return layer(torch.as_tensor(np.asarray(x, np.float32))).numpy()


def test_keras_documented_examples():
    layer = Normalization(axis=None)
    layer.adapt(np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32)[:, None])
    np.testing.assert_allclose(run(layer, [[1.0], [2.0], [3.0]])[:, 0],
                               [-1.4142135, -0.70710677, 0.0], rtol=1e-6)
    per_feature = Normalization(axis=-1)
    per_feature.adapt(np.array([[0, 7, 4], [2, 9, 6], [0, 7, 4], [2, 9, 6]], np.float32))
    np.testing.assert_allclose(run(per_feature, [[0, 7, 4]]), [[-1, -1, -1]], rtol=1e-6)
    fixed = Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(run(fixed, [[1.0], [2.0], [3.0]])[:, 0],
                               [-1.4142135, -0.70710677, 0.0], rtol=1e-6)
    assert KerasNamespaceNormalization is Normalization


def test_per_channel_statistics_come_from_the_training_data_only():
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (200, 6, 5, 3)).astype(np.uint8)
    x_test = rng.integers(0, 256, (50, 6, 5, 3)).astype(np.uint8)
    layer = Normalization()
    layer.adapt(x_train)
    mean = x_train.astype(np.float64).mean(axis=(0, 1, 2))
    std = x_train.astype(np.float64).std(axis=(0, 1, 2))
    np.testing.assert_allclose(layer.get_weights()[0], mean, rtol=1e-6)
    np.testing.assert_allclose(layer.get_weights()[1], std ** 2, rtol=1e-5)
    np.testing.assert_allclose(run(layer, x_test), (x_test - mean) / std, rtol=1e-4, atol=1e-5)
    out = run(layer, x_train)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1.0, rtol=1e-4)


def test_adapt_from_batches_equals_adapt_from_the_array():
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, (90, 4, 4, 2)).astype(np.float32)
    whole, streamed, capped = Normalization(), Normalization(), Normalization()
    whole.adapt(x)
    streamed.adapt((x[i:i + 32], np.zeros(len(x[i:i + 32]))) for i in range(0, 90, 32))
    capped.adapt(x, batch_size=30, steps=1)
    for a, b in zip(whole.get_weights(), streamed.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    np.testing.assert_allclose(capped.get_weights()[0], x[:30].mean(axis=(0, 1, 2)), rtol=1e-5)


def test_invert_maps_back_and_zero_variance_does_not_divide_by_zero():
    x = np.array([[1.0, 5.0], [3.0, 5.0]], np.float32)  # the second feature is constant
    layer, inverse = Normalization(), Normalization(invert=True, input_shape=(2,))
    layer.adapt(x)
    inverse.set_weights(layer.get_weights())
    standardized = run(layer, x)
    np.testing.assert_allclose(standardized[:, 1], [0.0, 0.0])
    np.testing.assert_allclose(run(inverse, standardized), x, rtol=1e-6)


def test_weights_in_summary_and_saving(tmp_path):
    norm = Normalization()
    model = Sequential([Input((8, 8, 3)), norm, Conv2D(2, 3), Flatten()])
    norm.adapt(np.random.default_rng(2).random((10, 8, 8, 3), dtype=np.float32) * 9)
    assert norm.count_params() == 6 and norm.trainable_weights == []
    x = np.random.default_rng(3).random((4, 8, 8, 3), dtype=np.float32)
    model.save(tmp_path / "m.cnnlab")
    loaded = load_model(tmp_path / "m.cnnlab")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_errors_name_the_layer_and_the_argument():
    with pytest.raises(ValueError, match="give both `mean` and `variance`"):
        Normalization(mean=1.0)
    with pytest.raises(ValueError, match="adapt\\(\\) would overwrite"):
        Normalization(mean=1.0, variance=1.0).adapt(np.ones((2, 1), np.float32))
    with pytest.raises(ValueError, match="must name non-batch axes"):
        Normalization(axis=0).build((None, 3))
    with pytest.raises(ValueError, match="do not broadcast"):
        Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0]).build((None, 3))
