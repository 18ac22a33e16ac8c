"""clone_model: same architecture (summary, parameter count, names), new weights, equal
predictions once the weights are copied; Sequential and functional (shared layers, several
inputs/outputs), input_tensors, clone_function, refusals."""

import numpy as np
import pytest
import torch

from cnnlab.keras import models as keras_models
from cnnlab.layers import (
    Add,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    Input,
    Lambda,
    MaxPooling2D,
)
from cnnlab.models import Model, Sequential, clone_model


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def different_arrays(a, b):
    return any(x.size > 1 and not np.allclose(x, y) for x, y in zip(a, b, strict=True))


def sequential():
    return Sequential([Input((8, 8, 1)), Conv2D(4, 3, activation="relu"), BatchNormalization(),
                       MaxPooling2D(2), Flatten(), Dropout(0.5), Dense(3, activation="softmax")],
                      name="small")


def test_sequential_clone_has_the_architecture_and_new_weights():
    torch.manual_seed(0)
    model = sequential()
    clone = clone_model(model)
    assert isinstance(clone, Sequential) and clone is not model
    assert summary_text(clone) == summary_text(model)
    assert clone.count_params() == model.count_params()
    assert [type(a) for a in clone.layers] == [type(b) for b in model.layers]
    assert all(a is not b for a, b in zip(clone.weights, model.weights, strict=True))
    assert different_arrays(clone.get_weights(), model.get_weights())  # re-initialized
    x = np.random.default_rng(0).normal(size=(5, 8, 8, 1)).astype(np.float32)
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    before = [w.copy() for w in model.get_weights()]
    clone.compile("sgd", "sparse_categorical_crossentropy")
    clone.fit(x, np.arange(5) % 3, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)                   # training the clone leaves model
    assert keras_models.clone_model is clone_model


def test_functional_clone_keeps_shared_layers_and_several_outputs():
    torch.manual_seed(1)
    a, b = Input((6,), name="a"), Input((6,), name="b")
    shared = Dense(4, activation="relu", name="shared")
    joined = Add(name="add")([shared(a), shared(b)])
    out1 = Dense(2, name="head1")(joined)
    out2 = Dense(1, activation="sigmoid", name="head2")(joined)
    model = Model([a, b], [out1, out2], name="two_heads")
    clone = clone_model(model)
    assert summary_text(clone) == summary_text(model)
    assert clone.count_params() == model.count_params() == 28 + 10 + 5
    assert len(clone.get_layer("shared")._inbound_nodes) == 2       # still shared
    assert different_arrays(clone.get_weights(), model.get_weights())
    clone.set_weights(model.get_weights())
    rng = np.random.default_rng(1)
    xs = [rng.normal(size=(3, 6)).astype(np.float32) for _ in range(2)]
    for p, q in zip(clone.predict(xs, verbose=0), model.predict(xs, verbose=0), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-6)


def test_input_tensors_and_clone_function():
    model = sequential()
    new_input = Input((8, 8, 1), name="fresh")
    functional = clone_model(model, input_tensors=new_input)
    assert isinstance(functional, Model) and functional.input is new_input
    assert functional.count_params() == model.count_params()
    renamed = clone_model(model, clone_function=lambda layer: type(layer).from_config(
        {**layer.get_config(), "name": "c_" + layer.name}))
    assert [layer.name for layer in renamed.layers] == ["c_" + layer.name
                                                        for layer in model.layers]
    shared = clone_model(model, clone_function=lambda layer: layer)   # same layers, shared
    assert shared.layers[0].kernel is model.layers[0].kernel


def test_lambda_layers_keep_their_function():
    inputs = Input((3,))
    model = Model(inputs, Dense(2)(Lambda(lambda t: t * 2.0)(inputs)))
    clone = clone_model(model)
    clone.set_weights(model.get_weights())
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_refusals_are_explained():
    class Custom(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(2)

        def call(self, inputs, training=False):
            return self.dense(inputs)

    with pytest.raises(ValueError, match="subclassed model.*create a new Custom"):
        clone_model(Custom())
    with pytest.raises(TypeError, match="must be a cnnlab Model"):
        clone_model(Dense(2))
    with pytest.raises(ValueError, match="has 1 input\\(s\\), but `input_tensors` holds 2"):
        clone_model(sequential(), input_tensors=[Input((8, 8, 1)), Input((8, 8, 1))])
    with pytest.raises(TypeError, match="must return a cnnlab layer"):
        clone_model(sequential(), clone_function=lambda layer: None)
