"""tf.function, tf.math.l2_normalize, tf.random.uniform/normal, tf.compat.as_bytes/as_str,
tf.data, and GradientTape's release of watched tensors (the filter-ascent and Grad-CAM loops
of DLwP 2nd ed. 9.4)."""

import numpy as np
import pytest
import torch

from cnnlab import tf


def test_tf_function_returns_the_function_itself():
    def f(x):
        return x * 2

    assert tf.function(f) is f
    assert tf.function(jit_compile=True)(f) is f

    @tf.function
    def g(x):
        return x + 1

    assert g(1) == 2
    with pytest.raises(TypeError, match="expected a function"):
        tf.function(3)


def test_l2_normalize_matches_numpy():
    x = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_allclose(tf.math.l2_normalize(x).numpy(), x / np.linalg.norm(x),
                               rtol=1e-6)
    np.testing.assert_allclose(tf.math.l2_normalize(x, axis=1).numpy(),
                               x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-6)
    assert tf.math.l2_normalize(np.zeros(3)).abs().sum() == 0  # epsilon: no NaN
    assert tf.math.reduce_mean is tf.reduce_mean  # the existing tf.math names stay


def test_random_uniform_and_normal():
    u = tf.random.uniform(minval=0.4, maxval=0.6, shape=(1, 200, 200, 3))
    assert u.shape == (1, 200, 200, 3) and u.dtype == torch.float32
    assert 0.4 <= float(u.min()) and float(u.max()) < 0.6
    assert torch.equal(tf.random.uniform((4,), seed=3), tf.random.uniform((4,), seed=3))
    ints = tf.random.uniform((100,), 0, 5, dtype=tf.int32)
    assert ints.dtype == torch.int32 and set(ints.tolist()) <= set(range(5))
    with pytest.raises(ValueError, match="maxval"):
        tf.random.uniform((2,), dtype="int64")
    n = tf.random.normal((20000,), mean=3.0, stddev=2.0, seed=0)
    assert float(n.mean()) == pytest.approx(3.0, abs=0.05)
    assert float(n.std()) == pytest.approx(2.0, abs=0.05)


def test_compat_bytes_and_text():
    assert tf.compat.as_bytes("JFIF") == b"JFIF" and tf.compat.as_bytes(b"x") == b"x"
    assert tf.compat.as_str(b"caf\xc3\xa9") == "café"
    with pytest.raises(TypeError, match="expected bytes or str, got int"):
        tf.compat.as_bytes(3)


def test_tf_data_namespace():
    ds = tf.data.Dataset.from_tensor_slices(np.zeros((5, 2))).batch(2)
    assert len(ds) == 3 and tf.data.AUTOTUNE == tf.data.experimental.AUTOTUNE


def test_watched_input_can_be_updated_in_place_after_the_gradient():
    """The 9.4 filter-visualization loop: image += learning_rate * grads."""
    weight = torch.randn(3, requires_grad=True)
    image = tf.random.uniform((1, 4, 4, 3))
    start = image.clone()
    for _ in range(3):
        with tf.GradientTape() as tape:
            tape.watch(image)
            loss = tf.reduce_mean(image * weight)
        grads = tf.math.l2_normalize(tape.gradient(loss, image))
        image += 10.0 * grads
    assert not image.requires_grad
    expected = start + 3 * 10.0 * torch.nn.functional.normalize(
        weight.detach().expand(1, 4, 4, 3).reshape(-1), dim=0).reshape(1, 4, 4, 3)
    np.testing.assert_allclose(image.numpy(), expected.numpy(), rtol=1e-5)


def test_watched_intermediate_result_is_a_plain_value_after_the_gradient():
    """The 9.4 Grad-CAM cell: last_conv_layer_output.numpy() after tape.gradient."""
    weight = torch.randn(3, requires_grad=True)
    with tf.GradientTape() as tape:
        features = torch.ones(2, 3) * weight
        tape.watch(features)
        score = (features ** 2).sum()
    grads = tape.gradient(score, features)
    np.testing.assert_allclose(grads.numpy(), 2 * features.detach().numpy())
    assert features.numpy().shape == (2, 3)  # no "requires grad" error
    with tf.GradientTape(persistent=True) as kept:
        kept.watch(features)
        out = (features * 2).sum()
    kept.gradient(out, features)
    assert features.requires_grad  # a persistent tape keeps watching
