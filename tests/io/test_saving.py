"""Model files (zip of JSON + safetensors) and weight files: round trips, exact continuation of
training, strictness, atomic writes, and files that try to run code.

References: the original model's own predictions/weights/losses (a lossless round trip must
reproduce them bit for bit), an uninterrupted training run, and the files read back with
``zipfile``/``json``/``safetensors`` directly.
"""

import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch

from cnnlab import losses, optimizers
from cnnlab.files.atomic import atomic_write
from cnnlab.io import load_model, load_weights, save_model, save_weights
from cnnlab.layers import (
    Add,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    Input,
    Lambda,
    Layer,
    MaxPooling2D,
)
from cnnlab.models import Model, Sequential
from cnnlab.optimizers.schedules import ExponentialDecay

SRC = str(Path(__file__).resolve().parents[2] / "src")


def data(n=16, shape=(8, 8, 1), classes=3):
    x = torch.randn(n, *shape).numpy()
    y = torch.randint(0, classes, (n,)).numpy()
    return x, y


def cnn():
    return Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
                       BatchNormalization(), MaxPooling2D(), Flatten(),
                       Dense(3, activation="softmax")])


def skip_net():
    """Conv -> BN -> add the input back (a residual skip) -> pool -> dense."""
    inputs = Input((8, 8, 1))
    h = BatchNormalization()(Conv2D(1, 3, padding="same", activation="relu")(inputs))
    h = MaxPooling2D()(Add()([h, inputs]))
    return Model(inputs, Dense(3, activation="softmax")(Flatten()(h)))


def trained(build, optimizer="adam", metrics=("accuracy",)):
    model = build()
    model.compile(optimizer, "sparse_categorical_crossentropy", list(metrics))
    x, y = data()
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return model


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def json_config(model):
    return json.loads(json.dumps(model.get_config()))


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb, strict=True):
        np.testing.assert_array_equal(u, v)


def write_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def members_of(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# --------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("build", [cnn, skip_net], ids=["sequential", "functional_skip"])
def test_round_trip_reproduces_model_exactly(tmp_path, build):
    model = trained(build)
    path = tmp_path / "m.cnnlab"
    model.save(path)
    loaded = load_model(path)
    assert type(loaded) is type(model)
    x, _ = data(5)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert_same_weights(loaded, model)  # includes BatchNormalization's moving statistics
    assert json_config(loaded) == json_config(model)
    assert summary_text(loaded) == summary_text(model)


def test_file_layout_is_json_and_safetensors(tmp_path):
    opt = optimizers.Adam(learning_rate=0.002)
    model = trained(cnn, optimizer=opt)
    path = tmp_path / "m.keras"  # Keras habit: same cnnlab format
    save_model(model, path)
    files = members_of(path)
    assert sorted(files) == ["config.json", "optimizer.json", "optimizer.safetensors",
                             "weights.safetensors"]
    config = json.loads(files["config.json"])
    assert config["format"] == "cnnlab-model" and config["version"] == 1
    assert config["class_name"] == "Sequential"
    assert config["config"] == json_config(model)
    assert config["compile_config"] == {
        "optimizer": json.loads(json.dumps(optimizers.serialize(opt))),
        "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"],
        "weighted_metrics": None, "loss_weights": None}
    weights = safetensors.torch.load(files["weights.safetensors"])
    assert weights.keys() == model.state_dict().keys()
    assert weights["conv2d.kernel"].shape == (4, 1, 3, 3)  # PyTorch layout (out, in, kh, kw)
    for key, value in model.state_dict().items():
        assert torch.equal(weights[key], value)
    assert not any(name.endswith((".pkl", ".pt", ".pth")) for name in files)


def test_uncompiled_model_round_trip_loads_uncompiled(tmp_path):
    model = cnn()
    model.save(tmp_path / "m.cnnlab")
    assert "optimizer.json" not in members_of(tmp_path / "m.cnnlab")
    loaded = load_model(tmp_path / "m.cnnlab")
    assert loaded.optimizer is None
    assert_same_weights(loaded, model)


def test_model_loads_in_a_fresh_process(tmp_path):
    """Only ``import cnnlab``: every layer class must be registered by the package import."""
    model = trained(skip_net)
    model.save(tmp_path / "m.cnnlab")
    x, _ = data(4)
    np.save(tmp_path / "x.npy", x)
    code = ("import sys, numpy as np, cnnlab; d = sys.argv[1]; "
            "m = cnnlab.load_model(d + '/m.cnnlab'); "
            "np.save(d + '/p.npy', m.predict(np.load(d + '/x.npy'), verbose=0))")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True,
                   env={**os.environ, "PYTHONPATH": SRC})
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), model.predict(x, verbose=0))


# ------------------------------------------------------------------ continued training
OPTIMIZERS = {
    "adam": lambda: "adam",
    "sgd_nesterov": lambda: optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "rmsprop_centered": lambda: optimizers.RMSprop(momentum=0.5, centered=True),
    "adagrad": lambda: "adagrad",
    "adadelta": lambda: optimizers.Adadelta(learning_rate=1.0),
    "adamw_amsgrad": lambda: optimizers.AdamW(amsgrad=True),
    "nadam": lambda: "nadam",
    "adamax": lambda: "adamax",
    "adam_schedule": lambda: optimizers.Adam(ExponentialDecay(0.01, decay_steps=1,
                                                              decay_rate=0.5)),
    "sgd_legacy_decay": lambda: optimizers.SGD(learning_rate=0.1, decay=0.5),
    "torch_adam": lambda: optimizers.TorchOptimizer("Adam", {"betas": (0.8, 0.95)}),
}


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_training_continues_bit_identically(tmp_path, make_optimizer):
    """2 steps, save, load, 2 steps == 4 steps without saving (same data order)."""
    x, y = data()
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        model = cnn()
        model.compile(make_optimizer(), "sparse_categorical_crossentropy", ["accuracy"])
        runs.append(model)
    interrupted, reference = runs
    assert_same_weights(interrupted, reference)
    fit = {"batch_size": 8, "shuffle": False, "verbose": 0}
    interrupted.fit(x, y, epochs=1, **fit)
    interrupted.save(tmp_path / "m.cnnlab")
    resumed = load_model(tmp_path / "m.cnnlab")
    resumed_history = resumed.fit(x, y, epochs=1, **fit).history
    reference_history = reference.fit(x, y, epochs=2, **fit).history
    assert resumed.optimizer.iterations == reference.optimizer.iterations == 4
    assert resumed_history["loss"][0] == reference_history["loss"][1]
    assert resumed_history["accuracy"][0] == reference_history["accuracy"][1]
    assert_same_weights(resumed, reference)


def test_without_optimizer_state_the_optimizer_restarts(tmp_path):
    """Control for the test above: Adam without its moments does not continue exactly."""
    x, y = data()
    torch.manual_seed(1)
    model = trained(cnn)
    torch.manual_seed(1)
    reference = trained(cnn)
    model.save(tmp_path / "m.cnnlab", include_optimizer=False)
    assert "optimizer.json" not in members_of(tmp_path / "m.cnnlab")
    resumed = load_model(tmp_path / "m.cnnlab")
    assert isinstance(resumed.optimizer, optimizers.Adam)  # compiled, fresh state
    resumed.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    reference.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert resumed.optimizer.iterations == 2
    assert not np.array_equal(resumed.get_weights()[0], reference.get_weights()[0])


def test_compile_false_gives_uncompiled_model(tmp_path):
    trained(cnn).save(tmp_path / "m.cnnlab")
    assert load_model(tmp_path / "m.cnnlab", compile=False).optimizer is None


def test_restored_compile_config_evaluates_identically(tmp_path):
    model = trained(cnn, optimizer=optimizers.SGD(learning_rate=0.03, momentum=0.5),
                    metrics=["accuracy", "sparse_top_k_categorical_accuracy"])
    model.save(tmp_path / "m.cnnlab")
    loaded = load_model(tmp_path / "m.cnnlab")
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    x, y = data(12)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == \
        model.evaluate(x, y, verbose=0, return_dict=True)


def test_losses_and_metrics_per_output_round_trip(tmp_path):
    inputs = Input((4,))
    h = Dense(5, activation="relu")(inputs)
    model = Model(inputs, [Dense(2, name="a")(h), Dense(1, name="b")(h)])
    model.compile("sgd", loss={"a": losses.MeanSquaredError(), "b": "mae"},
                  loss_weights={"a": 1.0, "b": 0.25}, metrics={"a": ["mae"]})
    x = torch.randn(8, 4).numpy()
    ys = [torch.randn(8, 2).numpy(), torch.randn(8, 1).numpy()]
    model.fit(x, ys, batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.cnnlab")
    loaded = load_model(tmp_path / "m.cnnlab")
    expected = model.evaluate(x, ys, verbose=0, return_dict=True)
    assert set(expected) == {"loss", "a_loss", "b_loss", "a_mae"}
    assert loaded.evaluate(x, ys, verbose=0, return_dict=True) == expected


# -------------------------------------------------------------- custom objects
def scaled_squared_error(y_true, y_pred):
    return ((torch.as_tensor(y_true) - y_pred) ** 2).mean(-1) * 2.0


def regression_model():
    return Sequential([Dense(2, input_shape=(3,))])


def test_custom_loss_function_is_saved_by_name(tmp_path):
    model = regression_model()
    model.compile("sgd", loss=scaled_squared_error, metrics=[losses.mean_absolute_error])
    model.save(tmp_path / "m.cnnlab")
    compile_config = json.loads(members_of(tmp_path / "m.cnnlab")["config.json"])["compile_config"]
    assert compile_config["loss"] == {"custom_object": "scaled_squared_error"}
    assert compile_config["metrics"] == ["mean_absolute_error"]  # cnnlab's own function
    with pytest.raises(ValueError, match="custom_objects=.*scaled_squared_error"):
        load_model(tmp_path / "m.cnnlab")
    loaded = load_model(tmp_path / "m.cnnlab",
                        custom_objects={"scaled_squared_error": scaled_squared_error})
    x, y = torch.randn(6, 3).numpy(), torch.randn(6, 2).numpy()
    expected = 2.0 * np.mean((model.predict(x, verbose=0) - y) ** 2)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True)["loss"] == \
        pytest.approx(expected, rel=1e-6)


def test_unnamed_loss_is_left_out_with_a_warning(tmp_path):
    model = regression_model()
    model.compile("sgd", loss=lambda t, p: ((t - p) ** 2).mean(-1))
    with pytest.warns(UserWarning, match="loss .*cannot be saved.*uncompiled"):
        model.save(tmp_path / "m.cnnlab")
    assert load_model(tmp_path / "m.cnnlab").optimizer is None


def test_unnamed_metric_is_left_out_with_a_warning(tmp_path):
    model = regression_model()
    model.compile("sgd", loss="mse", metrics=["mae", lambda t, p: (t - p).abs().mean(-1)],
                  weighted_metrics=["mse"])
    with pytest.warns(UserWarning, match="metric.*cannot be saved"):
        model.save(tmp_path / "m.cnnlab")
    loaded = load_model(tmp_path / "m.cnnlab")
    x, y = torch.randn(4, 3).numpy(), torch.randn(4, 2).numpy()
    assert set(loaded.evaluate(x, y, verbose=0, return_dict=True)) == {"loss", "mae", "mse"}


class Doubler(Layer):
    """A user layer that is not registered: loadable only through custom_objects."""

    def call(self, inputs, training=False):
        return inputs * 2.0


def test_custom_layer_needs_custom_objects(tmp_path):
    model = Sequential([Dense(3, input_shape=(4,)), Doubler(name="doubler")])
    model.save(tmp_path / "m.cnnlab")
    with pytest.raises(ValueError, match="unknown layer class 'Doubler'"):
        load_model(tmp_path / "m.cnnlab")
    loaded = load_model(tmp_path / "m.cnnlab", custom_objects={"Doubler": Doubler})
    x = torch.randn(5, 4).numpy()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="unknown layer class 'Doubler'"):
        load_model(tmp_path / "m.cnnlab")  # the scope ended: not registered for good


# ----------------------------------------------------------------- weight files
def test_save_weights_load_weights_round_trip(tmp_path):
    source = trained(cnn)
    path = tmp_path / "model.weights.h5"  # Keras's name; the content is safetensors
    source.save_weights(path)
    on_disk = safetensors.torch.load_file(path)
    assert on_disk.keys() == source.state_dict().keys()
    target = cnn()
    assert not np.array_equal(target.get_weights()[0], source.get_weights()[0])
    target.load_weights(path)
    assert_same_weights(target, source)


def test_load_weights_reads_a_whole_model_file(tmp_path):
    source = trained(skip_net)
    source.save(tmp_path / "m.cnnlab")
    target = skip_net()
    load_weights(target, tmp_path / "m.cnnlab")
    assert_same_weights(target, source)


def test_load_weights_into_a_second_instance_matches_by_position(tmp_path):
    """Same architecture built again in one session: layers are named ``dense_1``, ... ."""
    first = Sequential([Dense(3, input_shape=(4,)), BatchNormalization(), Dense(2)])
    save_weights(first, tmp_path / "w.safetensors")
    second = Sequential([Dense(3, input_shape=(4,)), BatchNormalization(), Dense(2)])
    assert "dense.kernel" not in second.state_dict()
    second.load_weights(tmp_path / "w.safetensors")
    assert_same_weights(second, first)


def test_load_weights_checks_shapes(tmp_path):
    Sequential([Dense(3, input_shape=(4,), name="d")]).save_weights(tmp_path / "w.safetensors")
    for name, alias in (("d", ""), ("e", r" \(saved as 'd.kernel'\)")):
        other = Sequential([Dense(5, input_shape=(4,), name=name)])
        with pytest.raises(ValueError, match=rf"'{name}.kernel'{alias} has shape \(3, 4\) in "
                                             rf"the file but \(5, 4\)"):
            other.load_weights(tmp_path / "w.safetensors")


def test_load_weights_checks_keys(tmp_path):
    Sequential([Dense(3, input_shape=(4,), name="d1")]).save_weights(tmp_path / "w.safetensors")
    bigger = Sequential([Dense(3, input_shape=(4,), name="d1"), Dense(2, name="d2")])
    with pytest.raises(ValueError, match=r"missing keys \['d2.bias', 'd2.kernel'\]"):
        bigger.load_weights(tmp_path / "w.safetensors")
    different = Sequential([BatchNormalization(input_shape=(4,), name="bn")])
    with pytest.raises(ValueError, match=r"unexpected keys \['d1.bias', 'd1.kernel'\]"):
        different.load_weights(tmp_path / "w.safetensors")
    foreign = tmp_path / "foreign.safetensors"  # no key order stored: names must match
    safetensors.torch.save_file(safetensors.torch.load_file(tmp_path / "w.safetensors"), foreign)
    renamed = Sequential([Dense(3, input_shape=(4,), name="other")])
    with pytest.raises(ValueError, match=r"unexpected keys \['d1.bias', 'd1.kernel'\]"):
        renamed.load_weights(foreign)


def test_weights_need_a_built_model(tmp_path):
    Sequential([Dense(3, input_shape=(4,))]).save_weights(tmp_path / "w.safetensors")
    unbuilt = Sequential([Dense(3)])
    with pytest.raises(ValueError, match="build the model before load_weights"):
        unbuilt.load_weights(tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="save_weights needs a built model"):
        unbuilt.save_weights(tmp_path / "x.safetensors")


# --------------------------------------------------------------------- atomic writes
def test_atomic_write_failure_keeps_old_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write(b"new, half written")
        raise RuntimeError("disk full")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_atomic_write_gives_normal_permissions(tmp_path):
    with atomic_write(tmp_path / "sub" / "f.bin") as f:  # creates the missing folder
        f.write(b"x")
    (tmp_path / "plain.bin").write_bytes(b"x")
    assert (tmp_path / "sub" / "f.bin").stat().st_mode == (tmp_path / "plain.bin").stat().st_mode


def test_failed_save_leaves_existing_file_untouched(tmp_path, monkeypatch):
    path = tmp_path / "m.cnnlab"
    path.write_bytes(b"previous checkpoint")
    real_writestr = zipfile.ZipFile.writestr

    def failing_writestr(self, name, data, *args, **kwargs):
        if name == "weights.safetensors":  # config.json is already in the archive by now
            raise OSError("simulated failure while writing")
        return real_writestr(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="simulated"):
        trained(cnn).save(path)
    assert path.read_bytes() == b"previous checkpoint"
    with pytest.raises(OSError, match="simulated"):
        trained(cnn).save(tmp_path / "new.cnnlab")
    assert os.listdir(tmp_path) == ["m.cnnlab"]


def test_unserializable_model_writes_nothing(tmp_path):
    model = Sequential([Dense(2, input_shape=(3,)), Lambda(lambda t: t * 2)])
    with pytest.raises(TypeError, match="Lambda"):
        model.save(tmp_path / "m.cnnlab")
    assert os.listdir(tmp_path) == []


def test_overwrite_false_refuses_existing_files(tmp_path):
    model = cnn()
    for save in (model.save, model.save_weights):
        path = tmp_path / f"{save.__name__}.bin"
        path.write_bytes(b"keep me")
        with pytest.raises(FileExistsError, match="overwrite=False"):
            save(path, overwrite=False)
        assert path.read_bytes() == b"keep me"
        save(path)  # overwrite=True is the default, as in Keras
        assert path.read_bytes() != b"keep me"


# ------------------------------------------------------------ files that try to run code
class Payload:
    """Unpickling this creates ``marker``: proof that a loader ran code from the file."""

    def __init__(self, marker):
        self.marker = Path(marker)

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def live_payload(tmp_path, name):
    """Pickle bytes that create ``tmp_path / name`` when unpickled (checked once, elsewhere)."""
    probe = tmp_path / f"probe_{name}"
    pickle.loads(pickle.dumps(Payload(probe)))
    assert probe.exists()  # the payload really would run
    return pickle.dumps(Payload(tmp_path / name))


def test_pickle_members_are_never_unpickled(tmp_path):
    trained(cnn).save(tmp_path / "m.cnnlab")
    members = members_of(tmp_path / "m.cnnlab")
    payload = live_payload(tmp_path, "marker")
    torch_file = tmp_path / "payload.pt"
    torch.save({"w": Payload(tmp_path / "marker")}, torch_file)
    extra = {**members, "weights.pkl": payload, "model.pt": torch_file.read_bytes()}
    load_model(write_zip(tmp_path / "extra.cnnlab", extra))  # extra members are ignored
    swapped = {k: v for k, v in members.items() if k != "weights.safetensors"}
    with pytest.raises(ValueError, match="no weights.safetensors"):
        load_model(write_zip(tmp_path / "swapped.cnnlab", {**swapped, "weights.pt": payload}))
    for member in ("weights.safetensors", "optimizer.safetensors", "optimizer.json"):
        poisoned = write_zip(tmp_path / "poisoned.cnnlab", {**members, member: payload})
        with pytest.raises(ValueError, match="poisoned.cnnlab"):
            load_model(poisoned)
    pickle_file = tmp_path / "weights.pkl"
    pickle_file.write_bytes(payload)
    for weights_file in (torch_file, pickle_file):
        with pytest.raises(ValueError, match=weights_file.name):
            cnn().load_weights(weights_file)
    assert not (tmp_path / "marker").exists()


@pytest.mark.parametrize("class_name", ["os.system", "builtins.eval", "NoSuchLayer",
                                        "cnnlab.layers.Dense"])
def test_unknown_class_names_are_refused(tmp_path, class_name):
    members = {"weights.safetensors": safetensors.torch.save({})}
    top = {"format": "cnnlab-model", "version": 1, "class_name": class_name,
           "config": {"command": "touch marker"}, "compile_config": None}
    path = write_zip(tmp_path / "top.cnnlab", {**members, "config.json": json.dumps(top)})
    with pytest.raises(ValueError, match=f"unknown layer class '{class_name}'"):
        load_model(path)
    layer = {**top, "class_name": "Sequential",
             "config": {"name": "s", "layers": [{"class_name": class_name, "config": {}}]}}
    path = write_zip(tmp_path / "layer.cnnlab", {**members, "config.json": json.dumps(layer)})
    with pytest.raises(ValueError, match=f"unknown layer class '{class_name}'"):
        load_model(path)


def test_a_layer_class_is_not_a_model(tmp_path):
    config = {"format": "cnnlab-model", "version": 1, "class_name": "Dense",
              "config": {"units": 2}, "compile_config": None}
    path = write_zip(tmp_path / "m.cnnlab", {"config.json": json.dumps(config),
                                             "weights.safetensors": safetensors.torch.save({})})
    with pytest.raises(ValueError, match="'Dense' is a layer, not a model"):
        load_model(path)


# ------------------------------------------------------------------ broken files
def test_broken_files_give_clear_errors(tmp_path):
    good = tmp_path / "good.cnnlab"
    trained(cnn).save(good)
    members = members_of(good)
    config = json.loads(members["config.json"])
    cases = {
        "not_a_zip.cnnlab": (b"just some text", "not a cnnlab model file"),
        "keras.h5": (b"\x89HDF\r\n\x1a\n" + bytes(100), "HDF5"),
        "truncated.cnnlab": (good.read_bytes()[: len(good.read_bytes()) // 2],
                             "not a cnnlab model file"),
        "no_config.cnnlab": ({k: v for k, v in members.items() if k != "config.json"},
                             "it has no config.json"),
        "keras_format.cnnlab": ({**members, "config.json": json.dumps(
            {"class_name": "Sequential", "config": {}})}, "format None, expected 'cnnlab-model'"),
        "future.cnnlab": ({**members, "config.json": json.dumps({**config, "version": 2})},
                          "version 2 is not supported"),
        "bad_json.cnnlab": ({**members, "config.json": b"{not json"}, "not valid JSON"),
        "no_weights.cnnlab": ({k: v for k, v in members.items()
                               if k != "weights.safetensors"}, "no weights.safetensors"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        if isinstance(content, dict):
            write_zip(path, content)
        else:
            path.write_bytes(content)
        with pytest.raises(ValueError, match=message) as info:
            load_model(path)
        assert name in str(info.value)
