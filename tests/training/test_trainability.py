"""Training updates the weights that were trainable at compile(), as Keras does."""

import warnings

import numpy as np
import pytest

from cnnlab import Sequential
from cnnlab.layers import Dense, Input

RNG = np.random.default_rng(0)
X = RNG.random((32, 4), dtype=np.float32)
Y = RNG.random((32, 1), dtype=np.float32)


def _two_layers():
    first, second = Dense(3, name="first"), Dense(1, name="second")
    return Sequential([Input((4,)), first, second]), first, second


def _changed(layer, before):
    return any(not np.array_equal(a, b) for a, b in zip(before, layer.get_weights(),
                                                          strict=True))


def test_freezing_after_compile_takes_effect_at_the_next_compile():
    model, first, second = _two_layers()
    model.compile("sgd", "mse")
    first.trainable = False
    before = first.get_weights()
    with pytest.warns(UserWarning, match="trainable weights changed after compile"):
        model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert _changed(first, before)  # still trained: compiled while trainable
    assert not first.kernel.requires_grad  # the layer's own flag is back after fit

    model.compile("sgd", "mse")
    before, before_second = first.get_weights(), second.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert not _changed(first, before) and _changed(second, before_second)


def test_unfreezing_after_compile_needs_a_compile_too():
    model, first, _ = _two_layers()
    first.trainable = False
    model.compile("sgd", "mse")
    first.trainable = True
    before = first.get_weights()
    with pytest.warns(UserWarning, match="call compile\\(\\) again"):
        model.train_on_batch(X, Y)
    assert not _changed(first, before)
    assert first.kernel.requires_grad


def test_a_model_built_at_fit_collects_its_trainable_weights_when_built():
    first, second = Dense(3), Dense(1)
    model = Sequential([first, second])
    model.compile("sgd", "mse")  # not built yet: nothing collected
    first.trainable = False
    before = first.get_weights() if first.built else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert before is None
    kernel_after_fit = first.get_weights()
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert not _changed(first, kernel_after_fit)


def test_gan_recipe_discriminator_learns_alone_generator_learns_through_the_combined_model():
    """The Keras GAN pattern: D compiled, frozen, then stacked on G and compiled again."""
    generator = Sequential([Input((2,)), Dense(4, name="g")], name="generator")
    discriminator = Sequential([Input((4,)), Dense(1, activation="sigmoid", name="d")],
                               name="discriminator")
    discriminator.compile("sgd", "binary_crossentropy")
    discriminator.trainable = False
    combined = Sequential([generator, discriminator])
    combined.compile("sgd", "binary_crossentropy")

    noise = RNG.random((16, 2), dtype=np.float32)
    g_before, d_before = generator.get_weights(), discriminator.get_weights()
    combined.train_on_batch(noise, np.ones((16, 1), dtype=np.float32))
    assert _changed(generator, g_before) and not _changed(discriminator, d_before)

    images = RNG.random((16, 4), dtype=np.float32)
    d_before = discriminator.get_weights()
    with pytest.warns(UserWarning, match="discriminator"):  # Keras 2 warned here too
        discriminator.train_on_batch(images, np.zeros((16, 1), dtype=np.float32))
    assert _changed(discriminator, d_before)
    assert not discriminator.layers[0].kernel.requires_grad  # still frozen for `combined`
