"""Keras 2 backend math on tensors and symbolic tensors, and K.gradients in the K.function
pattern of DLwP 5.4 (filter visualization, class activation maps) against torch.autograd."""

import numpy as np
import pytest
import torch

from cnnlab.keras import backend as K
from cnnlab.keras import layers, models


def small_model():
    torch.manual_seed(0)
    return models.Sequential([layers.Conv2D(4, 3, activation="tanh", input_shape=(8, 8, 3)),
                              layers.Flatten(), layers.Dense(5, activation="softmax")])


def test_backend_math_on_tensors_matches_numpy():
    x = np.random.default_rng(0).uniform(0.5, 2, (2, 3, 4)).astype(np.float32)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(K.mean(t, axis=(0, 1)).numpy(), x.mean(axis=(0, 1)), rtol=1e-6)
    np.testing.assert_allclose(K.sum(t, axis=-1, keepdims=True).numpy(),
                               x.sum(-1, keepdims=True), rtol=1e-6)
    assert float(K.max(t)) == pytest.approx(x.max()) and float(K.min(x)) == pytest.approx(x.min())
    for fn, ref in ((K.square, np.square), (K.sqrt, np.sqrt), (K.exp, np.exp), (K.log, np.log),
                    (K.abs, np.abs)):
        np.testing.assert_allclose(fn(t).numpy(), ref(x), rtol=1e-5)
    np.testing.assert_allclose(K.pow(t, 3).numpy(), x ** 3, rtol=1e-5)
    np.testing.assert_allclose(K.maximum(t, 1.0).numpy(), np.maximum(x, 1.0))
    np.testing.assert_allclose(K.clip(t, 1, 1.5).numpy(), np.clip(x, 1, 1.5))


def test_operations_on_symbolic_tensors_become_graph_nodes():
    model = small_model()
    out = model.layers[0].output
    assert K.mean(out[:, :, :, 1]).shape == ()
    assert out[0].shape == (6, 6, 4) and model.output[:, 2].shape == (None,)
    assert K.mean(out, axis=(0, 1, 2)).shape == (4,)
    assert ((out + 1) * 2 / out - out ** 2).shape == (None, 6, 6, 4)
    x = np.random.default_rng(1).uniform(size=(2, 8, 8, 3)).astype(np.float32)
    scaled = K.function([model.input], [2.0 - out[..., :2] / 4])([x])[0]
    reference = 2.0 - model.layers[0](torch.from_numpy(x)).detach().numpy()[..., :2] / 4
    np.testing.assert_allclose(scaled, reference, rtol=1e-5)
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(out)
    with pytest.raises(TypeError, match="cannot be saved"):
        models.Model(model.input, K.mean(out, axis=-1)).get_config()


def test_gradients_of_a_filter_loss_with_respect_to_the_input():
    model = small_model()
    x = np.random.default_rng(2).uniform(size=(1, 8, 8, 3)).astype(np.float32)
    for channel in range(4):
        loss = K.mean(model.layers[0].output[:, :, :, channel])
        grads = K.gradients(loss, model.input)[0]
        grads /= (K.sqrt(K.mean(K.square(grads))) + 1e-5)
        loss_value, grads_value = K.function([model.input], [loss, grads])([x])
        xt = torch.tensor(x, requires_grad=True)
        ref_loss = model.layers[0](xt)[..., channel].mean()
        (ref,) = torch.autograd.grad(ref_loss, xt)
        ref = ref / (ref.pow(2).mean().sqrt() + 1e-5)
        assert loss_value == pytest.approx(ref_loss.detach().item(), rel=1e-5)
        np.testing.assert_allclose(grads_value, ref.numpy(), rtol=1e-4, atol=1e-6)


def test_gradients_with_respect_to_a_layer_output_give_grad_cam_weights():
    model = small_model()
    x = np.random.default_rng(3).uniform(size=(1, 8, 8, 3)).astype(np.float32)
    conv = model.layers[0]
    grads = K.gradients(model.output[:, 2], conv.output)[0]
    pooled = K.mean(grads, axis=(0, 1, 2))
    pooled_value, conv_value = K.function([model.input], [pooled, conv.output[0]])([x])
    activation = conv(torch.from_numpy(x)).detach().requires_grad_(True)
    score = model.layers[2](model.layers[1](activation))[:, 2].sum()
    (ref,) = torch.autograd.grad(score, activation)
    np.testing.assert_allclose(pooled_value, ref.mean((0, 1, 2)).numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(conv_value, activation.detach()[0].numpy(), rtol=1e-6)


def test_unsupported_gradients_are_refused_with_the_alternative():
    model = small_model()
    loss = K.mean(model.output)
    with pytest.raises(NotImplementedError, match="with respect to weights .* tf.GradientTape"):
        K.gradients(loss, model.trainable_weights)
    with pytest.raises(NotImplementedError, match="use tf.GradientTape"):
        K.gradients(torch.ones(()), model.input)
