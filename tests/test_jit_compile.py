"""``compile(jit_compile=True)``: the torch.compile path trains to the same numbers."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab.layers import Conv2D, Dense, Flatten, MaxPooling2D


def build(jit):
    torch.manual_seed(0)
    model = cnnlab.Sequential([Conv2D(4, 3, activation="relu", input_shape=(10, 10, 1)),
                               MaxPooling2D(2), Flatten(), Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit)
    return model


@pytest.mark.slow
def test_compiled_training_matches_eager():
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 10, 10, 1), dtype=np.float32), rng.integers(0, 3, 64)
    eager, compiled = build(False), build(True)
    compiled.set_weights(eager.get_weights())
    h1 = eager.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    h2 = compiled.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-4)
    for a, b in zip(eager.get_weights(), compiled.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert compiled._compiled is not None
    assert len(list(compiled.parameters())) == len(list(eager.parameters()))
