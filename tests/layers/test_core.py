"""Core layers (Input, Dense, Activation, Rescaling, Lambda) against NumPy references."""

import numpy as np
import pytest
import torch

from cnnlab.layers import Activation, Dense, Input, InputLayer, Lambda, Rescaling
from cnnlab.models import Sequential


def test_dense_matches_numpy_on_2d_and_3d_inputs():
    rng = np.random.default_rng(0)
    layer = Dense(4, activation="relu")
    for shape in [(5, 3), (2, 6, 3)]:
        x = rng.normal(size=shape).astype(np.float32)
        y = layer(torch.from_numpy(x)).detach().numpy()
        kernel, bias = layer.get_weights()
        assert kernel.shape == (3, 4) and bias.shape == (4,)
        np.testing.assert_allclose(y, np.maximum(x @ kernel + bias, 0), atol=1e-6)


def test_dense_param_count_and_keras_layout_round_trip():
    layer = Dense(10, input_shape=(64,))
    assert layer.count_params() == (64 + 1) * 10
    kernel = np.arange(640, dtype=np.float32).reshape(64, 10)
    layer.set_weights([kernel, np.ones(10)])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    np.testing.assert_array_equal(layer.kernel.detach().numpy(), kernel.T)
    with pytest.raises(ValueError, match=r"expected 2 arrays with shapes \[\(64, 10\), \(10,\)\]"):
        layer.set_weights([kernel.T, np.ones(10)])


def test_dense_gradcheck_float64():
    layer = Dense(3, activation="tanh", input_shape=(4,)).double()
    x = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: layer(t), (x,))


def test_dense_glorot_uniform_default_bounds():
    layer = Dense(200, input_shape=(300,))
    limit = np.sqrt(6 / (300 + 200))
    kernel, bias = layer.get_weights()
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert not bias.any()


def test_dense_legacy_keras2_arguments():
    layer = Dense(output_dim=5, input_dim=3, init="zeros")
    assert layer.units == 5 and layer.input_shape == (None, 3)
    assert not layer.get_weights()[0].any()


def test_activation_layer_and_softmax_rows_sum_to_one():
    x = torch.randn(4, 6)
    y = Activation("softmax")(x)
    torch.testing.assert_close(y.sum(dim=1), torch.ones(4))
    np.testing.assert_allclose(Activation("elu")(x).numpy(),
                               np.where(x.numpy() > 0, x.numpy(), np.exp(x.numpy()) - 1),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="relux"):
        Activation("relux")


def test_rescaling_scales_uint8_images_to_unit_range():
    x = torch.tensor([[0, 127, 255]], dtype=torch.uint8)
    y = Rescaling(1 / 255)(x)
    np.testing.assert_allclose(y.numpy(), [[0, 127 / 255, 1]], rtol=1e-6)
    assert Rescaling(2.0, offset=-1.0)(torch.tensor([0.5])).item() == 0.0


def test_rescaling_per_channel_scale_and_offset_broadcast_over_the_last_axis():
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    layer = Rescaling(list(1 / std), offset=list(-mean / std))
    x = np.random.default_rng(0).random((2, 3, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(layer(torch.from_numpy(x)).numpy(), (x - mean) / std,
                               rtol=1e-5, atol=1e-6)
    assert layer.get_config()["scale"] == pytest.approx(list(1 / std))
    assert Rescaling(np.float32(0.5))(torch.tensor([2.0])).item() == 1.0
    with pytest.raises(ValueError, match=r"`scale` has 3 values, one per channel, but the "
                       r"input has 1 channels"):
        Rescaling([1.0, 2.0, 3.0])(Input((4, 4, 1)))
    with pytest.raises(TypeError, match="`offset` must be a number or a list of numbers"):
        Rescaling(1.0, offset="zero")


def test_input_shapes_and_errors():
    x = Input((28, 28, 1))
    assert x.shape == (None, 28, 28, 1)
    assert Input(batch_shape=(8, 3)).shape == (8, 3)
    assert Input(shape=(None, None, 3)).shape == (None, None, None, 3)
    with pytest.raises(ValueError, match="Input: sizes must be positive"):
        Input((0, 28))
    with pytest.raises(ValueError, match="Input: sizes must be positive"):
        Input((-1, 28))
    with pytest.raises(ValueError, match="shape="):
        InputLayer()


def test_dense_rejects_wrong_feature_size_with_a_clear_message():
    layer = Dense(4, name="fc", input_shape=(3,))
    with pytest.raises(ValueError, match=r"Dense 'fc': expected axis -1 of the input to have "
                                         r"size 3"):
        layer(Input((5,)))
    with pytest.raises(ValueError, match="units"):
        Dense(0)


def test_lambda_runs_in_memory_but_refuses_to_serialize():
    model = Sequential([Lambda(lambda t: t * 2, input_shape=(3,))])
    np.testing.assert_allclose(model.predict(np.ones((2, 3)), verbose=0), 2 * np.ones((2, 3)))
    with pytest.raises(TypeError, match="holds code"):
        model.get_config()


def test_unknown_keyword_names_the_layer():
    with pytest.raises(TypeError, match="Dense: unexpected keyword argument"):
        Dense(3, activaton="relu")


def test_build_called_directly_marks_the_layer_built_and_keeps_its_weights():
    layer = Dense(3)
    layer.build([None, 4])  # Keras users pass lists too
    assert layer.built and layer.input_shape == (None, 4) and layer.output_shape == (None, 3)
    kernel = layer.get_weights()[0].copy()
    x = np.ones((2, 4), np.float32)
    y = layer(x).detach().numpy()  # a NumPy batch, as Keras layers take
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    np.testing.assert_allclose(y, x @ kernel + layer.get_weights()[1], atol=1e-6)
    with pytest.raises(ValueError, match=r"Dense '.*': expected axis -1 of the input to have "
                                         r"size 4"):
        layer(np.ones((2, 5), np.float32))
