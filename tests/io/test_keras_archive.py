"""Keras 3 ``.keras`` archives and ``.weights.h5`` files, written here in Keras 3's exact
layout with zipfile/json/h5py, loaded with cnnlab and checked against a reference computed
with plain PyTorch (float64) from the same arrays."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.io import keras_archive as ka

h5py = pytest.importorskip("h5py")
RNG = np.random.default_rng(0)
POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
          "registered_name": None}


def init(kind: str, **config) -> dict:
    return {"module": "keras.initializers", "class_name": kind, "config": config,
            "registered_name": None}


def entry(kind: str, name: str, shape=None, **config) -> dict:
    config = {"name": name, "trainable": True, "dtype": POLICY, **config}
    out = {"module": "keras.layers", "class_name": kind, "config": config,
           "registered_name": None}
    if shape is not None:
        out["build_config"] = {"input_shape": shape}
    return out


def input_entry(name: str, batch_shape: list) -> dict:
    return {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
            "config": {"batch_shape": batch_shape, "dtype": "float32", "sparse": False,
                       "ragged": False, "name": name, "optional": False}}


def conv(name: str, filters: int, size: int, shape: list, activation="linear",
         padding="valid") -> dict:
    return entry("Conv2D", name, shape, filters=filters, kernel_size=[size, size],
                 strides=[1, 1], padding=padding, data_format="channels_last",
                 dilation_rate=[1, 1], groups=1, activation=activation, use_bias=True,
                 kernel_initializer=init("GlorotUniform", seed=None),
                 bias_initializer=init("Zeros"), kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None)


def batch_norm(name: str, shape: list) -> dict:
    return entry("BatchNormalization", name, shape, axis=-1, momentum=0.99, epsilon=0.001,
                 center=True, scale=True, beta_initializer=init("Zeros"),
                 gamma_initializer=init("Ones"), moving_mean_initializer=init("Zeros"),
                 moving_variance_initializer=init("Ones"), beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False)


def dense(name: str, units: int, shape: list, activation="linear") -> dict:
    return entry("Dense", name, shape, units=units, activation=activation, use_bias=True,
                 kernel_initializer=init("GlorotUniform", seed=None),
                 bias_initializer=init("Zeros"), kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, bias_constraint=None)


def model_json(kind: str, config: dict, compile_config=None, shape=None) -> dict:
    return {"module": "keras" if kind == "Sequential" else "keras.src.models.functional",
            "class_name": kind, "config": config,
            "registered_name": None if kind == "Sequential" else "Functional",
            "build_config": {"input_shape": shape}, "compile_config": compile_config}


def write_keras(path, config: dict, weights: dict, extra=None) -> None:
    """A ``.keras`` zip as Keras 3 writes it; ``weights`` maps h5 paths to array lists."""
    import io

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars")
        for group_path, arrays in weights.items():
            group = f.create_group(f"{group_path}/vars")
            for i, array in enumerate(arrays):
                group.create_dataset(str(i), data=array)
        f.create_group("optimizer/vars").create_dataset("0", data=np.zeros(3))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.6.0",
                                                      "date_saved": "2026-01-01@00:00:00"}))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", buffer.getvalue())
        for name, data in (extra or {}).items():
            archive.writestr(name, data)


def rand(*shape) -> np.ndarray:
    return RNG.normal(size=shape).astype(np.float32)


# ------------------------------------------------------------------------ references (float64)
def t64(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)


def ref_conv(x, kernel, bias, padding="valid", relu=False):
    """NHWC conv from a Keras (kh, kw, in, out) kernel (stride 1, odd kernel for 'same')."""
    pad = kernel.shape[0] // 2 if padding == "same" else 0
    y = F.conv2d(x.permute(0, 3, 1, 2), t64(kernel).permute(3, 2, 0, 1), t64(bias),
                 padding=pad).permute(0, 2, 3, 1)
    return y.relu() if relu else y


def ref_bn(x, gamma, beta, mean, var, eps=1e-3):
    return (x - t64(mean)) / torch.sqrt(t64(var) + eps) * t64(gamma) + t64(beta)


def ref_pool(x):
    return F.max_pool2d(x.permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1)


def ref_dense(x, kernel, bias, softmax=False):
    y = x @ t64(kernel) + t64(bias)
    return y.softmax(-1) if softmax else y


def bn_arrays(channels: int) -> list:
    return [rand(channels), rand(channels), rand(channels),
            RNG.uniform(0.5, 2.0, channels).astype(np.float32)]


# ------------------------------------------------------------------------ (a) Sequential CNN
def sequential_cnn():
    layers = [input_entry("input_layer", [None, 8, 8, 3]),
              conv("conv2d", 4, 3, [None, 8, 8, 3], "relu"),
              conv("conv2d_1", 5, 3, [None, 6, 6, 4], padding="same"),
              batch_norm("batch_normalization", [None, 6, 6, 5]),
              entry("MaxPooling2D", "max_pooling2d", [None, 6, 6, 5], pool_size=[2, 2],
                    padding="valid", strides=[2, 2], data_format="channels_last"),
              entry("Flatten", "flatten", [None, 3, 3, 5], data_format="channels_last"),
              entry("Dropout", "dropout", [None, 45], rate=0.5, seed=None, noise_shape=None),
              dense("dense", 6, [None, 45], "softmax")]
    compile_config = {
        "optimizer": {"module": "keras.optimizers", "class_name": "Adam", "registered_name": None,
                      "config": {"name": "adam", "learning_rate": 0.0025, "weight_decay": None,
                                 "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                                 "use_ema": False, "ema_momentum": 0.99,
                                 "ema_overwrite_frequency": None, "loss_scale_factor": None,
                                 "gradient_accumulation_steps": None, "beta_1": 0.9,
                                 "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}},
        "loss": "sparse_categorical_crossentropy", "loss_weights": None, "metrics": ["accuracy"],
        "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
        "jit_compile": False}
    config = model_json("Sequential", {"name": "sequential", "trainable": True, "dtype": POLICY,
                                       "layers": layers,
                                       "build_input_shape": [None, 8, 8, 3]},
                        compile_config, [None, 8, 8, 3])
    weights = {"layers/conv2d": [rand(3, 3, 3, 4), rand(4)],
               "layers/conv2d_1": [rand(3, 3, 4, 5), rand(5)],
               "layers/batch_normalization": bn_arrays(5),
               "layers/max_pooling2d": [], "layers/flatten": [], "layers/dropout": [],
               "layers/dense": [rand(45, 6), rand(6)]}
    return config, weights


def sequential_reference(x, w, prefix="layers/"):
    y = ref_conv(t64(x), *w[f"{prefix}conv2d"], relu=True)
    y = ref_conv(y, *w[f"{prefix}conv2d_1"], padding="same")
    y = ref_pool(ref_bn(y, *w[f"{prefix}batch_normalization"]))
    return ref_dense(y.reshape(len(x), -1), *w["layers/dense"], softmax=True).numpy()


def test_sequential_cnn_matches_reference(tmp_path):
    config, weights = sequential_cnn()
    write_keras(tmp_path / "cnn.keras", config, weights)
    assert ka.is_keras_archive(tmp_path / "cnn.keras")
    model = ka.load_keras_archive(tmp_path / "cnn.keras")
    x = rand(7, 8, 8, 3)
    expected = sequential_reference(x, weights)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    assert [layer.name for layer in model.layers][:2] == ["conv2d", "conv2d_1"]
    assert model.optimizer is not None and float(model.optimizer.learning_rate) == 0.0025
    np.testing.assert_array_equal(model.layers[2].get_weights()[3],
                                  weights["layers/batch_normalization"][3])


def test_keras3_weights_file_round_trip(tmp_path):
    config, weights = sequential_cnn()
    write_keras(tmp_path / "cnn.keras", config, weights)
    model = ka.load_keras_archive(tmp_path / "cnn.keras", compile=False)
    assert model.optimizer is None
    ka.save_keras3_weights(model, tmp_path / "cnn.weights.h5")
    assert ka.is_keras3_weights(tmp_path / "cnn.weights.h5")
    assert not ka.is_keras_archive(tmp_path / "cnn.weights.h5")
    with h5py.File(tmp_path / "cnn.weights.h5", "r") as f:
        np.testing.assert_array_equal(f["layers/conv2d_1/vars/0"], weights["layers/conv2d_1"][0])
        assert len(f["layers/flatten/vars"]) == 0
    fresh = ka.load_keras_archive(tmp_path / "cnn.keras", compile=False)
    for layer in fresh.layers:
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    ka.load_keras3_weights(fresh, tmp_path / "cnn.weights.h5")
    x = rand(3, 8, 8, 3)
    np.testing.assert_allclose(fresh.predict(x, verbose=0), sequential_reference(x, weights),
                               atol=1e-5)


# ------------------------------------------------------------------------ (b) Functional
def keras_tensor(layer: str, shape: list) -> dict:
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [layer, 0, 0]}}


def node(*tensors, as_list=False) -> dict:
    return {"args": [list(tensors) if as_list else tensors[0]], "kwargs": {}}


def functional_model():
    def with_nodes(layer: dict, *nodes) -> dict:
        layer["name"] = layer["config"]["name"]
        layer["inbound_nodes"] = list(nodes)
        return layer

    s = [None, 6, 6, 2]
    layers = [
        with_nodes(input_entry("image", s)),
        with_nodes(conv("left", 3, 1, s), node(keras_tensor("image", s))),
        with_nodes(conv("right", 3, 3, s, "relu", "same"), node(keras_tensor("image", s))),
        with_nodes(entry("Add", "add"), node(keras_tensor("left", [None, 6, 6, 3]),
                                             keras_tensor("right", [None, 6, 6, 3]),
                                             as_list=True)),
        with_nodes(entry("GlobalAveragePooling2D", "gap", data_format="channels_last",
                         keepdims=False), node(keras_tensor("add", [None, 6, 6, 3]))),
        with_nodes(entry("GlobalMaxPooling2D", "gmp", data_format="channels_last",
                         keepdims=False), node(keras_tensor("left", [None, 6, 6, 3]))),
        with_nodes(entry("Concatenate", "concat", axis=-1),
                   node(keras_tensor("gap", [None, 3]), keras_tensor("gmp", [None, 3]),
                        as_list=True)),
        with_nodes(dense("head", 4, [None, 6]), node(keras_tensor("concat", [None, 6]))),
    ]
    config = model_json("Functional", {"name": "two_branch", "trainable": True,
                                       "layers": layers, "input_layers": [["image", 0, 0]],
                                       "output_layers": [["head", 0, 0]]})
    weights = {"layers/input_layer": [], "layers/conv2d": [rand(1, 1, 2, 3), rand(3)],
               "layers/conv2d_1": [rand(3, 3, 2, 3), rand(3)], "layers/add": [],
               "layers/global_average_pooling2d": [], "layers/global_max_pooling2d": [],
               "layers/concatenate": [], "layers/dense": [rand(6, 4), rand(4)]}
    return config, weights


def test_functional_two_branches_matches_reference(tmp_path):
    config, weights = functional_model()
    write_keras(tmp_path / "f.keras", config, weights)
    model = ka.load_keras_archive(tmp_path / "f.keras")
    x = rand(5, 6, 6, 2)
    left = ref_conv(t64(x), *weights["layers/conv2d"])
    right = ref_conv(t64(x), *weights["layers/conv2d_1"], padding="same", relu=True)
    pooled = torch.cat([(left + right).mean(dim=(1, 2)), left.amax(dim=(1, 2))], dim=-1)
    expected = ref_dense(pooled, *weights["layers/dense"]).numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    assert model.optimizer is None  # compile_config null


# ------------------------------------------------------------------------ (c) nested base
def test_nested_sequential_base_matches_reference(tmp_path):
    base_layers = [input_entry("base_input", [None, 8, 8, 3]),
                   conv("b_conv", 4, 3, [None, 8, 8, 3], "relu"),
                   conv("b_conv2", 5, 3, [None, 6, 6, 4], padding="same"),
                   batch_norm("b_bn", [None, 6, 6, 5]),
                   entry("MaxPooling2D", "b_pool", [None, 6, 6, 5], pool_size=[2, 2],
                         padding="valid", strides=[2, 2], data_format="channels_last")]
    base = model_json("Sequential", {"name": "base", "trainable": False, "dtype": POLICY,
                                     "layers": base_layers}, shape=[None, 8, 8, 3])
    del base["compile_config"]
    outer = model_json("Sequential", {
        "name": "transfer", "trainable": True, "dtype": POLICY,
        "layers": [input_entry("input_layer", [None, 8, 8, 3]), base,
                   entry("Flatten", "flatten", [None, 3, 3, 5], data_format="channels_last"),
                   dense("dense", 6, [None, 45], "softmax")],
        "build_input_shape": [None, 8, 8, 3]}, shape=[None, 8, 8, 3])
    weights = {"layers/sequential/layers/conv2d": [rand(3, 3, 3, 4), rand(4)],
               "layers/sequential/layers/conv2d_1": [rand(3, 3, 4, 5), rand(5)],
               "layers/sequential/layers/batch_normalization": bn_arrays(5),
               "layers/sequential/layers/max_pooling2d": [], "layers/flatten": [],
               "layers/dense": [rand(45, 6), rand(6)]}
    write_keras(tmp_path / "t.keras", outer, weights, extra={"assets/readme.txt": b"ignored"})
    model = ka.load_keras_archive(tmp_path / "t.keras")
    x = rand(4, 8, 8, 3)
    expected = sequential_reference(x, weights, prefix="layers/sequential/layers/")
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    assert model.layers[0].name == "base" and not model.layers[0].trainable


# ------------------------------------------------------------------------ refusals
def with_layer(config: dict, index: int, layer: dict) -> dict:
    config["config"]["layers"][index] = layer
    return config


def test_lambda_layer_is_refused(tmp_path):
    config, weights = sequential_cnn()
    lam = entry("Lambda", "my_lambda", function={"class_name": "__lambda__", "config": {
        "code": "4wEAAAAAAAAA", "defaults": None, "closure": None}}, arguments={})
    write_keras(tmp_path / "l.keras", with_layer(config, 5, lam), weights)
    with pytest.raises(ValueError, match=r"Lambda 'my_lambda'.*never executes"):
        ka.load_keras_archive(tmp_path / "l.keras")


def test_unknown_class_is_refused():
    config, _ = sequential_cnn()
    with_layer(config, 5, entry("Attention", "attn", use_scale=False))
    with pytest.raises(ValueError, match=r"Attention 'attn'.*'Attention' is not supported"):
        ka.config_from_keras3(config)


@pytest.mark.parametrize("where", ["layer", "initializer"])
@pytest.mark.parametrize("module", ["os", "builtins"])
def test_foreign_module_is_refused_and_nothing_runs(tmp_path, monkeypatch, where, module):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "pwned"
    config, weights = sequential_cnn()
    payload = {"module": module, "class_name": "system" if module == "os" else "exec",
               "config": f"open('{marker}', 'w')", "registered_name": None}
    if where == "layer":
        with_layer(config, 5, payload)
    else:
        config["config"]["layers"][1]["config"]["kernel_initializer"] = payload
    write_keras(tmp_path / "p.keras", config, weights)
    with pytest.raises(ValueError, match=rf"module '{module}' is not supported"):
        ka.load_keras_archive(tmp_path / "p.keras")
    assert not marker.exists()


def test_custom_registered_object_is_refused():
    config, _ = sequential_cnn()
    config["config"]["layers"][7]["registered_name"] = "my_package>Dense"
    with pytest.raises(ValueError, match=r"Dense 'dense'.*custom registered object"):
        ka.config_from_keras3(config)


def test_shape_mismatch_names_layer_and_both_shapes(tmp_path):
    config, weights = sequential_cnn()
    weights["layers/conv2d_1"][0] = rand(3, 3, 4, 7)
    write_keras(tmp_path / "m.keras", config, weights)
    with pytest.raises(ValueError, match=r"Conv2D 'conv2d_1' \(at layers/conv2d_1\) has weights "
                                         r"of shapes \[\(3, 3, 4, 7\), \(5,\)\].*"
                                         r"\[\(3, 3, 4, 5\), \(5,\)\]"):
        ka.load_keras_archive(tmp_path / "m.keras")


def test_extra_layer_in_file_is_refused(tmp_path):
    config, weights = sequential_cnn()
    weights["layers/dense_1"] = [rand(6, 2), rand(2)]
    write_keras(tmp_path / "x.keras", config, weights)
    with pytest.raises(ValueError, match=r"layers/dense_1.*no layer with weights"):
        ka.load_keras_archive(tmp_path / "x.keras")


def test_declared_huge_member_refused_before_reading(tmp_path, monkeypatch):
    config, weights = sequential_cnn()
    path = tmp_path / "bomb.keras"
    write_keras(path, config, weights)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("model.weights.h5")
    central = data.find(b"PK\x01\x02" + bytes(data[info.header_offset + 4:
                                                  info.header_offset + 6]))
    while data[central + 46:central + 46 + 16] != b"model.weights.h5":
        central = data.find(b"PK\x01\x02", central + 4)
    data[central + 24:central + 28] = (3 << 30).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(bytes(data))
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open",
                        lambda self, name, *a, **k: opened.append(name) or real_open(
                            self, name, *a, **k))
    with pytest.raises(ValueError, match=r"declare 32\d+ bytes uncompressed.*zip bomb"):
        ka.load_keras_archive(path)
    assert opened == []


def test_high_compression_ratio_refused(tmp_path):
    config, _ = sequential_cnn()
    path = tmp_path / "ratio.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", bytes(40 << 20))
    with pytest.raises(ValueError, match=r"model.weights.h5 expands .* more than 200"):
        ka.load_keras_archive(path)


def test_keras2_h5_is_not_keras3(tmp_path):
    with h5py.File(tmp_path / "k2.h5", "w") as f:
        f.attrs["layer_names"] = np.array([b"dense"])
        f.create_group("dense").attrs["weight_names"] = np.array([b"dense/kernel:0"])
    assert not ka.is_keras3_weights(tmp_path / "k2.h5")
    assert not ka.is_keras_archive(tmp_path / "k2.h5")


def test_compile_config_objects_map_and_evaluate_matches_reference(tmp_path):
    config, weights = sequential_cnn()
    compile_config = config["compile_config"]
    compile_config["loss"] = {
        "module": "keras.losses", "class_name": "SparseCategoricalCrossentropy",
        "registered_name": None, "config": {"name": "sparse_categorical_crossentropy",
                                            "reduction": "sum_over_batch_size",
                                            "from_logits": False, "ignore_class": None}}
    compile_config["metrics"] = [{"module": "keras.metrics", "registered_name": None,
                                  "class_name": "SparseCategoricalAccuracy",
                                  "config": {"name": "acc", "dtype": "float32"}}]
    write_keras(tmp_path / "c.keras", config, weights)
    model = ka.load_keras_archive(tmp_path / "c.keras")
    x, y = rand(8, 8, 8, 3), np.arange(8) % 6
    probs = sequential_reference(x, weights)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(-np.log(probs[np.arange(8), y]).mean(), rel=1e-4)
    assert acc == pytest.approx((probs.argmax(-1) == y).mean())


def test_unmapped_compile_config_loads_uncompiled_with_warning(tmp_path):
    config, weights = sequential_cnn()
    config["compile_config"]["optimizer"]["class_name"] = "Lion"
    write_keras(tmp_path / "u.keras", config, weights)
    with pytest.warns(UserWarning, match=r"Lion.*loaded uncompiled"):
        model = ka.load_keras_archive(tmp_path / "u.keras")
    assert model.optimizer is None
    x = rand(2, 8, 8, 3)
    np.testing.assert_allclose(model.predict(x, verbose=0), sequential_reference(x, weights),
                               atol=1e-5)
