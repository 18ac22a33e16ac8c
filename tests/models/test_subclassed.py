"""Subclassed models (``class Net(Model)`` with ``__init__`` and ``call``), as Keras tutorials
write them: built by ``build(shape)`` or by the first data, trained like any model; checked
against a ``Sequential`` model with the same weights."""

import numpy as np
import pytest

from cnnlab import optimizers
from cnnlab.layers import Conv2D, Dense, Flatten
from cnnlab.models import Model, Sequential


class SmallNet(Model):
    def __init__(self):
        super().__init__(name="small_net")
        self.conv = Conv2D(4, 3, activation="relu", name="conv")
        self.flat = Flatten(name="flat")
        self.out = Dense(3, activation="softmax", name="out")

    def call(self, inputs, training=False):
        return self.out(self.flat(self.conv(inputs)))


def reference(net: SmallNet) -> Sequential:
    twin = Sequential([Conv2D(4, 3, activation="relu", input_shape=(6, 6, 1)), Flatten(),
                       Dense(3, activation="softmax")])
    for mine, theirs in zip([net.conv, net.out], [twin.layers[0], twin.layers[2]], strict=True):
        theirs.set_weights(mine.get_weights())
    return twin


def data(n=16):
    rng = np.random.default_rng(0)
    return rng.random((n, 6, 6, 1), dtype=np.float32), rng.integers(0, 3, n)


def test_build_creates_every_layer_and_the_output_shape():
    net = SmallNet()
    net.build((None, 6, 6, 1))
    assert net.built and net.conv.built and net.out.built
    assert net.output_shape == (None, 3)
    assert net.count_params() == (9 * 1 + 1) * 4 + (4 * 4 * 4 + 1) * 3
    x, _ = data(5)
    np.testing.assert_allclose(net.predict(x, verbose=0), reference(net).predict(x, verbose=0),
                               atol=1e-6)


def test_fit_trains_the_same_weights_as_the_sequential_twin():
    x, y = data()
    net = SmallNet()
    net.build((None, 6, 6, 1))
    twin = reference(net)
    for model in (net, twin):
        model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    logs = net.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    twin_logs = twin.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(logs["loss"], twin_logs["loss"], rtol=1e-5)
    for mine, theirs in zip(net.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)
    assert logs["loss"][1] < logs["loss"][0]


def test_fit_builds_from_the_first_batch_and_calls_take_numpy():
    x, y = data()
    net = SmallNet()
    net.compile("adam", "sparse_categorical_crossentropy")
    net.fit(x, y, batch_size=8, verbose=0)
    assert net.input_shape == (None, 6, 6, 1)
    out = net(x[:2]).detach().numpy()
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-5)


def test_build_with_unknown_sizes_says_so():
    with pytest.raises(ValueError, match=r"'small_net'.*unknown sizes \(None, None, 1\)"):
        SmallNet().build((None, None, None, 1))


def test_weights_round_trip_and_saving_the_whole_model_says_how(tmp_path):
    x, _ = data(4)
    net = SmallNet()
    net.build((None, 6, 6, 1))
    net.save_weights(tmp_path / "net.weights.h5")
    other = SmallNet()
    other.build((None, 6, 6, 1))
    other.load_weights(tmp_path / "net.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), net.predict(x, verbose=0))
    with pytest.raises(NotImplementedError, match=r"'small_net': a subclassed model.*"
                                                  r"save_weights\(\)"):
        net.save(tmp_path / "net.keras")
    assert not (tmp_path / "net.keras").exists()
