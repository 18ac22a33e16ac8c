"""Keras graph attributes: ``model.input(s)``/``output(s)``, ``layer.input``/``layer.output``,
``K.function``, and a model called as a layer with ``training=False``.

The programs are the ones Keras documents: the Sequential guide's feature extractor, the
transfer-learning guide's frozen base, *Deep Learning with Python*'s activation model and the
Grad-CAM example's two-output model. Every output is checked against the layers run one by
one (a reference computed another way).
"""

import numpy as np
import pytest
import torch

from cnnlab import backend as K
from cnnlab.keras import layers, models
from cnnlab.models.function import function, learning_phase


def small_convnet(name_last="last_conv"):
    return models.Sequential([
        layers.Input(shape=(12, 12, 3)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.Conv2D(5, 3, activation="relu", name=name_last),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])


def layer_by_layer(model, x):
    """Every layer's output by calling the layers in turn (no graph involved)."""
    outs, h = [], torch.as_tensor(x)
    with torch.no_grad():
        for layer in model.layers:
            h = layer(h)
            outs.append(h.numpy())
    return outs


def test_sequential_feature_extractor_from_the_keras_guide():
    model = small_convnet()
    extractor = models.Model(inputs=model.inputs,
                             outputs=[layer.output for layer in model.layers])
    x = np.random.default_rng(0).random((2, 12, 12, 3), dtype=np.float32)
    features = extractor(torch.as_tensor(x))
    expected = layer_by_layer(model, x)
    assert len(features) == len(model.layers) == 5
    for got, want in zip(features, expected, strict=True):
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-6, atol=1e-6)
    # the extractor shares the weights: changing the model changes the features
    model.layers[0].kernel.data.zero_()
    assert float(extractor.predict(x, verbose=0)[0].max()) == pytest.approx(
        float(torch.relu(model.layers[0].bias.detach()).max()))


def test_one_intermediate_layer_by_name():
    model = small_convnet()
    extractor = models.Model(inputs=model.input,
                             outputs=model.get_layer(name="last_conv").output)
    x = np.random.default_rng(1).random((3, 12, 12, 3), dtype=np.float32)
    np.testing.assert_allclose(extractor.predict(x, verbose=0), layer_by_layer(model, x)[1],
                               rtol=1e-6, atol=1e-6)
    assert extractor.output_shape == (None, 8, 8, 5)


def test_activation_model_from_deep_learning_with_python():
    model = small_convnet()
    layer_outputs = [layer.output for layer in model.layers[:3]]
    activation_model = models.Model(inputs=model.input, outputs=layer_outputs)
    x = np.random.default_rng(2).random((1, 12, 12, 3), dtype=np.float32)
    activations = activation_model.predict(x, verbose=0)
    assert [a.shape for a in activations] == [(1, 10, 10, 4), (1, 8, 8, 5), (1, 4, 4, 5)]
    np.testing.assert_allclose(activations[2], layer_by_layer(model, x)[2], atol=1e-6)


def test_grad_cam_two_output_model_and_its_gradient():
    model = small_convnet()
    grad_model = models.Model(model.inputs, [model.get_layer("last_conv").output, model.output])
    x = torch.as_tensor(np.random.default_rng(3).random((1, 12, 12, 3), dtype=np.float32))
    conv_out, preds = grad_model(x)
    assert conv_out.shape == (1, 8, 8, 5) and preds.shape == (1, 3)
    score = preds[:, 1].sum()
    grads = torch.autograd.grad(score, conv_out)[0]
    # reference: the head (pool, flatten, dense) applied to a leaf copy of the conv output
    leaf = conv_out.detach().requires_grad_(True)
    h = leaf
    for layer in model.layers[2:]:
        h = layer(h)
    want = torch.autograd.grad(h[:, 1].sum(), leaf)[0]
    np.testing.assert_allclose(grads.numpy(), want.numpy(), rtol=1e-5, atol=1e-7)


def test_head_on_a_base_output_trains():
    """``Model(base.input, head(base.output))``, the transfer-learning pattern."""
    base = models.Sequential([layers.Conv2D(4, 3, activation="relu", input_shape=(10, 10, 1)),
                              layers.MaxPooling2D(2)])
    x = layers.Flatten()(base.output)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = models.Model(base.input, outputs)
    assert model.count_params() == base.count_params() + (4 * 4 * 4 + 1) * 2
    base.trainable = False
    frozen = [w.copy() for w in base.get_weights()]
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(4)
    head_before = model.layers[-1].get_weights()[0].copy()
    model.fit(rng.random((32, 10, 10, 1)), rng.integers(0, 2, 32), epochs=1, verbose=0)
    for before, after in zip(frozen, base.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    assert not np.allclose(head_before, model.layers[-1].get_weights()[0])


def transfer_model(training):
    """Keras's transfer-learning guide: ``x = base_model(inputs, training=False)``; fit used
    to fail with "multiple values for keyword argument 'training'"."""
    base = models.Sequential([layers.Conv2D(4, 3, input_shape=(8, 8, 3)),
                              layers.BatchNormalization(), layers.Activation("relu")])
    inputs = layers.Input(shape=(8, 8, 3))
    x = base(inputs, training=training) if training is not None else base(inputs)
    outputs = layers.Dense(1)(layers.GlobalAveragePooling2D()(x))
    model = models.Model(inputs, outputs)
    model.compile("adam", "mse")
    return model, base


@pytest.mark.parametrize("training", [False, None])
def test_base_called_with_training_false_keeps_batch_norm_in_inference_mode(training):
    model, base = transfer_model(training)
    bn = base.layers[1]
    mean_before, kernel_before = bn.moving_mean.clone(), base.layers[0].kernel.detach().clone()
    rng = np.random.default_rng(5)
    data = rng.random((16, 8, 8, 3)).astype(np.float32) * 5 + 3
    history = model.fit(data, rng.random((16, 1)), epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    assert not torch.equal(base.layers[0].kernel, kernel_before)  # fine-tuned either way
    if training is False:  # batch statistics never used, moving ones never updated
        torch.testing.assert_close(bn.moving_mean, mean_before)
    else:
        assert not torch.allclose(bn.moving_mean, mean_before)


def test_training_true_at_the_symbolic_call_wins_during_predict():
    """Monte-Carlo dropout as Keras writes it: ``Dropout(0.5)(x, training=True)``."""
    inputs = layers.Input(shape=(1000,))
    outputs = layers.Dropout(0.5)(inputs, training=True)
    model = models.Model(inputs, outputs)
    y = model.predict(np.ones((1, 1000), np.float32), verbose=0)
    zeros = float((y == 0).mean())
    assert 0.4 < zeros < 0.6
    assert set(np.unique(y)) == {0.0, 2.0}


def test_layer_input_and_output_of_a_functional_model():
    inputs = layers.Input(shape=(6,), name="features")
    dense = layers.Dense(4, name="hidden")
    h = dense(inputs)
    out = layers.Dense(2)(h)
    model = models.Model(inputs, out)
    assert model.input is inputs and model.output is out
    assert model.inputs == [inputs] and model.outputs == [out]
    assert dense.input is inputs and dense.output is h
    assert model.get_layer("features").input is inputs  # an InputLayer's input is its output
    assert dense.get_output_at(0) is h and dense.get_input_at(0) is inputs


def test_several_inputs_and_outputs_give_lists():
    a, b = layers.Input(shape=(3,)), layers.Input(shape=(3,))
    s = layers.Add()([a, b])
    model = models.Model([a, b], [s, layers.Dense(1)(s)])
    assert model.input == [a, b]
    assert isinstance(model.output, list) and len(model.output) == 2
    assert model.get_layer(index=2).input == [a, b]


def test_errors_name_the_layer_and_what_to_do():
    with pytest.raises(AttributeError, match="Dense 'lonely' has never been called"):
        _ = layers.Dense(3, name="lonely").output
    shared = layers.Dense(2, name="shared")
    x1, x2 = layers.Input(shape=(4,)), layers.Input(shape=(4,))
    shared(x1), shared(x2)
    with pytest.raises(AttributeError, match=r"2 inbound nodes.*get_output_at"):
        _ = shared.output
    assert shared.get_output_at(1).node.input_tensors == [x2]
    lazy = models.Sequential([layers.Dense(2)])
    with pytest.raises(AttributeError, match="no symbolic input yet"):
        _ = lazy.input
    assert not hasattr(lazy, "output")


def test_a_lazily_built_sequential_gets_its_graph_when_built():
    model = models.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)])
    model.build((None, 3))
    assert model.input.shape == (None, 3) and model.output.shape == (None, 2)
    sub = models.Model(model.input, model.layers[0].output)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(sub.predict(x, verbose=0), layer_by_layer(model, x)[0], atol=1e-6)


def test_add_and_pop_keep_the_graph_in_step():
    model = models.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    popped = model.pop()
    assert model.output is model.layers[-1].output
    assert not popped._inbound_nodes  # the popped layer is free to be used elsewhere
    model.add(layers.Dense(5, name="new_head"))
    assert model.output.shape == (None, 5)
    assert model.output is model.get_layer("new_head").output


def test_subclassed_model_says_how_to_get_symbolic_tensors():
    class Net(models.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, inputs, training=False):
            return self.dense(inputs)

    with pytest.raises(AttributeError, match="subclassed model.*Wrap it"):
        _ = Net().inputs


def test_keras_backend_function_reads_an_intermediate_layer():
    """Keras 2 FAQ: ``K.function([model.layers[0].input], [model.layers[3].output])``."""
    model = small_convnet()
    get_layer_output = function([model.layers[0].input], [model.layers[3].output])
    x = np.random.default_rng(6).random((2, 12, 12, 3), dtype=np.float32)
    out = get_layer_output([x])[0]
    np.testing.assert_allclose(out, layer_by_layer(model, x)[3], rtol=1e-6, atol=1e-6)


def test_keras_backend_function_with_the_learning_phase():
    inputs = layers.Input(shape=(500,))
    model = models.Model(inputs, layers.Dropout(0.5)(inputs))
    f = function([model.input, learning_phase()], [model.output])
    x = np.ones((1, 500), np.float32)
    np.testing.assert_array_equal(f([x, 0])[0], x)
    assert 0.3 < float((f([x, 1])[0] == 0).mean()) < 0.7
    with pytest.raises(ValueError, match="expected 2 input value"):
        f([x])
    with pytest.raises(TypeError, match="symbolic tensors"):
        function([x], [model.output])


def test_backend_namespace_has_function():
    assert K.function is function and K.learning_phase is learning_phase


def test_missing_channel_axis_is_named_in_the_error():
    model = models.Sequential([layers.Conv2D(2, 3, input_shape=(28, 28, 1)), layers.Flatten(),
                               layers.Dense(2)])
    with pytest.raises(ValueError, match=r"got data of shape \(4, 28, 28\).*x\[\.\.\., None\]"):
        model.predict(np.zeros((4, 28, 28)), verbose=0)
    with pytest.raises(ValueError, match=r"\(H, W, C\), got \(28, 28\).*x\[\.\.\., None\]"):
        layers.Conv2D(2, 3)(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError) as wrong_size:  # a different mistake gets no such hint
        model.predict(np.zeros((4, 27, 27)), verbose=0)
    assert "None]" not in str(wrong_size.value)


def test_layers_may_be_named_like_model_attributes():
    """Keras programs often name the last layer 'output' (LeNet-5's table does)."""
    inputs = layers.Input(shape=(3,), name="input")
    outputs = layers.Dense(2, name="output")(layers.Dense(4, name="summary")(inputs))
    model = models.Model(inputs, outputs)
    assert model.output is outputs and callable(model.summary)
    assert model.get_layer("output").units == 2
    assert sorted(model.state_dict()) == ["output.bias", "output.kernel", "summary.bias",
                                          "summary.kernel"]  # files keep the layer names
    assert sorted(dict(model.named_parameters())) == [  # submodules PyTorch tools can reach
        "layer:output.bias", "layer:output.kernel", "layer:summary.bias", "layer:summary.kernel"]
    assert model.get_submodule("layer:summary") is model.get_layer("summary")
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               layer_by_layer(models.Sequential(model.layers[1:]), x)[-1],
                               atol=1e-6)


def test_a_sequential_starting_with_a_built_base_is_built_at_once():
    """``Sequential([conv_base, Flatten(), Dense(...)])``, the Keras-2 transfer pattern."""
    base = models.Sequential([layers.Conv2D(3, 3, input_shape=(7, 7, 2))], name="conv_base")
    model = models.Sequential([base, layers.Flatten(), layers.Dense(2)])
    assert model.built and model.output_shape == (None, 2)
    assert model.count_params() == (3 * 3 * 2 + 1) * 3 + (5 * 5 * 3 + 1) * 2
    assert model.layers[0].output.shape == (None, 5, 5, 3)
