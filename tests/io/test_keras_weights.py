"""Keras 2 HDF5 weights: files written here with h5py in Keras's exact layout (not by cnnlab's
writer) are loaded and the model's output is compared with the network computed by hand from
the Keras-layout arrays (torch.nn.functional on NCHW, Keras's H·W·C flatten order)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.io.keras_weights import load_keras_h5, read_keras_h5, save_keras_h5
from cnnlab.layers import BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D
from cnnlab.models import Sequential

h5py = pytest.importorskip("h5py")


def keras_arrays(rng):
    """Weights in Keras layout: conv (kh, kw, in, out), BN gamma/beta/mean/var, dense
    (in, out) with rows in H·W·C order."""
    return {
        "conv": [rng.normal(size=(3, 3, 2, 4)).astype(np.float32),
                 rng.normal(size=4).astype(np.float32)],
        "bn": [rng.uniform(0.5, 2, 4).astype(np.float32), rng.normal(size=4).astype(np.float32),
               rng.normal(size=4).astype(np.float32), rng.uniform(0.5, 2, 4).astype(np.float32)],
        "fc": [rng.normal(size=(2 * 2 * 4, 3)).astype(np.float32),
               rng.normal(size=3).astype(np.float32)],
    }


def reference(x, w):
    """The network by hand: conv+relu, BN (inference, eps 1e-3), max-pool 2, flatten HWC,
    dense."""
    kernel = torch.tensor(w["conv"][0]).permute(3, 2, 0, 1)
    h = F.conv2d(torch.tensor(x).permute(0, 3, 1, 2), kernel, torch.tensor(w["conv"][1])).relu()
    gamma, beta, mean, var = (torch.tensor(a)[None, :, None, None] for a in w["bn"])
    h = (h - mean) / torch.sqrt(var + 1e-3) * gamma + beta
    h = F.max_pool2d(h, 2).permute(0, 2, 3, 1).reshape(len(x), -1)
    return (h @ torch.tensor(w["fc"][0]) + torch.tensor(w["fc"][1])).numpy()


def model(names=("conv2d", "batch_normalization", "dense")):
    return Sequential([Conv2D(4, 3, activation="relu", input_shape=(6, 6, 2), name=names[0]),
                       BatchNormalization(name=names[1]), MaxPooling2D(2),
                       Flatten(name="flatten"), Dense(3, name=names[2])])


def write_keras_file(path, w, names=("conv2d", "batch_normalization", "dense"),
                     under_model_weights=False, chunk_layer_names=False):
    """Keras 2's ``save_weights`` layout, written directly with h5py."""
    layers = [(names[0], ["kernel", "bias"], w["conv"]),
              (names[1], ["gamma", "beta", "moving_mean", "moving_variance"], w["bn"]),
              ("max_pooling2d", [], []), ("flatten", [], []),
              (names[2], ["kernel", "bias"], w["fc"])]
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights") if under_model_weights else f
        all_names = [n.encode() for n, _, _ in layers]
        if chunk_layer_names:
            root.attrs["layer_names0"], root.attrs["layer_names1"] = all_names[:2], all_names[2:]
        else:
            root.attrs["layer_names"] = all_names
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = b"2.4.0"
        for name, weight_names, arrays in layers:
            group = root.create_group(name)
            full = [f"{name}/{w}:0" for w in weight_names]
            group.attrs["weight_names"] = [n.encode() for n in full]
            for n, a in zip(full, arrays, strict=True):
                group.create_dataset(n, data=a)


@pytest.mark.parametrize("under_model_weights", [False, True])
@pytest.mark.parametrize("chunked", [False, True])
def test_keras_h5_weights_give_the_hand_computed_network(tmp_path, under_model_weights,
                                                         chunked):
    w = keras_arrays(np.random.default_rng(0))
    path = tmp_path / "weights.h5"
    write_keras_file(path, w, under_model_weights=under_model_weights,
                     chunk_layer_names=chunked)
    net = model()
    load_keras_h5(net, path)
    x = np.random.default_rng(1).random((5, 6, 6, 2), dtype=np.float32)
    np.testing.assert_allclose(net.predict(x, verbose=0), reference(x, w), rtol=1e-5,
                               atol=1e-5)


def test_order_based_loading_ignores_names_and_by_name_matches_them(tmp_path):
    w = keras_arrays(np.random.default_rng(2))
    path = tmp_path / "w.h5"
    write_keras_file(path, w, names=("block1_conv1", "bn", "predictions"))
    net = model()
    load_keras_h5(net, path)  # Keras's default: the order of layers with weights
    x = np.random.default_rng(3).random((2, 6, 6, 2), dtype=np.float32)
    np.testing.assert_allclose(net.predict(x, verbose=0), reference(x, w), atol=1e-5)

    partial = model(names=("block1_conv1", "bn_other", "head"))
    before = partial.get_layer("head").get_weights()
    load_keras_h5(partial, path, by_name=True)
    np.testing.assert_array_equal(partial.get_layer("block1_conv1").get_weights()[0],
                                  w["conv"][0])
    for a, b in zip(before, partial.get_layer("head").get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # no layer of that name in the file: untouched


def test_a_shape_mismatch_names_the_layer_and_both_shapes_and_changes_nothing(tmp_path):
    w = keras_arrays(np.random.default_rng(4))
    w["fc"][0] = np.zeros((20, 3), np.float32)
    path = tmp_path / "w.h5"
    write_keras_file(path, w)
    net = model()
    conv_before = net.get_layer("conv2d").get_weights()[0].copy()
    with pytest.raises(ValueError, match=r"layer 'dense' has weights of shapes \[\(20, 3\), "
                                         r"\(3,\)\].*expects \[\(16, 3\), \(3,\)\]"):
        load_keras_h5(net, path)
    np.testing.assert_array_equal(net.get_layer("conv2d").get_weights()[0], conv_before)
    load_keras_h5(net, path, by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(net.get_layer("conv2d").get_weights()[0], w["conv"][0])


def test_layer_count_mismatch_lists_both_sides(tmp_path):
    path = tmp_path / "w.h5"
    write_keras_file(path, keras_arrays(np.random.default_rng(5)))
    small = Sequential([Dense(3, input_shape=(4,), name="only")])
    with pytest.raises(ValueError, match=r"3 layers with weights.*'conv2d'.*has 1 \(\['only'\]\)"):
        load_keras_h5(small, path)


def test_files_that_are_not_keras_weights(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(ValueError, match="not a Keras weights file"):
        read_keras_h5(path)
    theano = tmp_path / "th.h5"
    write_keras_file(theano, keras_arrays(np.random.default_rng(6)))
    with h5py.File(theano, "a") as f:
        f.attrs["backend"] = b"theano"
    with pytest.raises(ValueError, match="Theano"):
        read_keras_h5(theano)
    text = tmp_path / "text.h5"
    text.write_text("not hdf5")
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        read_keras_h5(text)


def test_save_writes_keras_layout_and_loads_back(tmp_path):
    net = model()
    path = tmp_path / "out.h5"
    save_keras_h5(net, path)
    with h5py.File(path, "r") as f:
        assert [n.decode() for n in f.attrs["layer_names"]] == [
            "conv2d", "batch_normalization", "max_pooling2d", "flatten", "dense"]
        assert f["conv2d"]["conv2d/kernel:0"].shape == (3, 3, 2, 4)  # Keras layout
        assert [n.decode() for n in f["batch_normalization"].attrs["weight_names"]] == [
            "batch_normalization/gamma:0", "batch_normalization/beta:0",
            "batch_normalization/moving_mean:0", "batch_normalization/moving_variance:0"]
    fresh = model()
    load_keras_h5(fresh, path)
    x = np.random.default_rng(7).random((3, 6, 6, 2), dtype=np.float32)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), net.predict(x, verbose=0))


def test_a_nested_base_model_is_one_layer_in_the_file(tmp_path):
    base = Sequential([Conv2D(4, 3, input_shape=(6, 6, 2), name="block1_conv1"),
                       Conv2D(2, 3, name="block1_conv2")], name="vgg_like")
    outer = Sequential([base, Flatten(), Dense(2, name="head")])
    path = tmp_path / "nested.h5"
    save_keras_h5(outer, path)
    layers = read_keras_h5(path)
    assert [(name, names) for name, names, _ in layers] == [
        ("vgg_like", ["block1_conv1/kernel:0", "block1_conv1/bias:0", "block1_conv2/kernel:0",
                      "block1_conv2/bias:0"]),
        ("head", ["head/kernel:0", "head/bias:0"])]
    twin = Sequential([Sequential([Conv2D(4, 3, input_shape=(6, 6, 2)), Conv2D(2, 3)]),
                       Flatten(), Dense(2)])
    load_keras_h5(twin, path)
    x = np.random.default_rng(8).random((2, 6, 6, 2), dtype=np.float32)
    np.testing.assert_array_equal(twin.predict(x, verbose=0), outer.predict(x, verbose=0))
