"""``model.load_weights``, ``load_model`` and the zoo's ``weights=`` read every supported file,
recognised by content (cnnlab, Keras 2 HDF5, Keras 3, PyTorch state dicts)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

from cnnlab import load_model, set_random_seed, zoo
from cnnlab.io.keras_archive import save_keras3_weights
from cnnlab.io.weight_files import weights_format
from cnnlab.layers import Conv2D, Dense, Flatten, Input
from cnnlab.models import Sequential

pytest.importorskip("h5py")
X = np.random.default_rng(0).random((5, 6, 6, 2), dtype=np.float32)


def small(seed: int) -> Sequential:
    set_random_seed(seed)
    return Sequential([Input((6, 6, 2)), Conv2D(3, 3, activation="relu", name="conv"),
                       Flatten(name="flat"), Dense(4, name="out")], name="small")


def assert_same_weights(a, b) -> None:
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("save, kind", [
    (lambda m, p: m.save_weights(p), "cnnlab"),
    (lambda m, p: m.save(p), "cnnlab"),
    (lambda m, p: m.save_weights(p, save_format="h5"), "keras2-h5"),
    (save_keras3_weights, "keras3-h5"),
])
def test_load_weights_recognises_the_format_by_content(tmp_path, save, kind):
    path = tmp_path / "weights.h5"  # the same name for every format: the content decides
    save(small(1), path)
    assert weights_format(path) == kind
    model = small(2)
    model.load_weights(path)
    assert_same_weights(model, small(1))


def test_a_pytorch_state_dict_loads_and_predicts_as_the_module(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                 torch.nn.Linear(3 * 4 * 4, 4)).eval()
    torch.save(module.state_dict(), tmp_path / "net.pth")
    assert weights_format(tmp_path / "net.pth") == "torch"
    model = small(3)
    model.load_weights(tmp_path / "net.pth")
    with torch.no_grad():
        want = module(torch.from_numpy(X).permute(0, 3, 1, 2)).numpy()
    np.testing.assert_allclose(model.predict(X, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_by_name_is_for_keras2_files_and_unknown_files_are_refused(tmp_path):
    small(1).save_weights(tmp_path / "w.cnnlab")
    with pytest.raises(ValueError, match="by_name/skip_mismatch apply to Keras 2 HDF5"):
        small(2).load_weights(tmp_path / "w.cnnlab", by_name=True)
    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(ValueError, match="is not a weights file cnnlab reads"):
        small(2).load_weights(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match="no weights file"):
        small(2).load_weights(tmp_path / "missing.h5")


def test_keras2_file_by_name_fills_the_layers_it_names(tmp_path):
    source = small(1)
    source.save_weights(tmp_path / "w.h5", save_format="h5")
    bigger = Sequential([Input((6, 6, 2)), Conv2D(3, 3, activation="relu", name="conv"),
                         Conv2D(2, 1, name="extra"), Flatten(), Dense(4)])
    extra = bigger.get_layer("extra").get_weights()
    bigger.load_weights(tmp_path / "w.h5", by_name=True)
    np.testing.assert_array_equal(bigger.get_layer("conv").get_weights()[0],
                                  source.get_layer("conv").get_weights()[0])
    np.testing.assert_array_equal(bigger.get_layer("extra").get_weights()[0], extra[0])


def test_load_model_reads_a_keras3_archive(tmp_path):
    source = small(1)
    save_keras3_weights(source, tmp_path / "model.weights.h5")
    layer = {"module": "keras.layers", "registered_name": None}
    config = {"module": "keras", "class_name": "Sequential", "registered_name": None,
              "config": {"name": "small", "trainable": True, "layers": [
                  {**layer, "class_name": "InputLayer",
                   "config": {"batch_shape": [None, 6, 6, 2], "dtype": "float32",
                              "name": "input"}},
                  {**layer, "class_name": "Conv2D",
                   "config": {"name": "conv", "filters": 3, "kernel_size": [3, 3],
                              "activation": "relu"}},
                  {**layer, "class_name": "Flatten", "config": {"name": "flat"}},
                  {**layer, "class_name": "Dense", "config": {"name": "out", "units": 4}}]}}
    with zipfile.ZipFile(tmp_path / "small.keras", "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.6.0"}))
        archive.writestr("config.json", json.dumps(config))
        archive.write(tmp_path / "model.weights.h5", "model.weights.h5")
    assert weights_format(tmp_path / "small.keras") == "keras3"
    loaded = load_model(tmp_path / "small.keras")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), source.predict(X, verbose=0),
                               rtol=1e-6)
    target = small(2)
    target.load_weights(tmp_path / "small.keras")
    assert_same_weights(target, source)


def test_zoo_vgg16_weights_path_loads_a_keras_notop_file_by_name(tmp_path):
    """As keras.applications does with vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5."""
    set_random_seed(1)
    base = zoo.vgg16(include_top=False, input_shape=(32, 32, 3))
    base.save_weights(tmp_path / "notop.h5", save_format="h5")
    set_random_seed(2)
    loaded = zoo.vgg16(include_top=False, input_shape=(32, 32, 3), pooling="avg",
                       weights=tmp_path / "notop.h5")
    assert_same_weights(loaded, base)
    with pytest.raises(ValueError, match="vgg16: `weights` must be None or the path"):
        zoo.vgg16(include_top=False, weights=tmp_path / "missing.h5")
