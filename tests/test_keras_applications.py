"""keras.applications: Keras's parameter counts and layer names, the weights argument (cnnlab
and Keras HDF5 files, 'imagenet' refused with instructions), input_tensor, preprocess_input
against NumPy written from Keras's formulas, decode_predictions with a small class index."""

import json

import numpy as np
import pytest
import torch

from cnnlab import tf
from cnnlab.io import load_model
from cnnlab.keras import applications
from cnnlab.keras.applications import imagenet_utils, resnet, resnet50, vgg16
from cnnlab.layers import Input, Rescaling
from cnnlab.zoo import imagenet


# ----------------------------------------------------------------------------- constructors
def test_vgg16_parameter_counts_equal_keras():
    base = applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    assert base.count_params() == 14_714_688 and base.output_shape == (None, 1, 1, 512)
    assert base.get_layer("block5_conv3").output.shape == (None, 2, 2, 512)
    pooled = vgg16.VGG16(include_top=False, weights=None, input_shape=(64, 64, 3), pooling="max")
    assert pooled.output_shape == (None, 512) and pooled.count_params() == 14_714_688
    small_top = applications.VGG16(weights=None, input_shape=(32, 32, 3), classes=10,
                                   classifier_activation=None)
    top = (512 * 4096 + 4096) + (4096 * 4096 + 4096) + (4096 * 10 + 10)
    assert small_top.count_params() == 14_714_688 + top
    assert small_top.get_layer("predictions").get_config()["activation"] == "linear"
    assert tf.keras.applications.VGG16 is applications.VGG16


def test_resnet_parameter_counts_equal_keras():
    base = resnet50.ResNet50(include_top=False, weights=None, input_shape=(32, 32, 3))
    assert base.count_params() == 23_587_712 and base.output_shape == (None, 1, 1, 2048)
    assert sum(w.numel() for w in base.non_trainable_weights) == 53_120
    assert base.get_layer("conv4_block6_out").output.shape[-1] == 1024
    full = resnet.ResNet50(weights=None)
    assert full.count_params() == 25_636_712 and full.output_shape == (None, 1000)
    assert applications.ResNet50 is resnet.ResNet50
    r18 = applications.ResNet18(include_top=False, weights=None, pooling="avg")
    assert r18.output_shape == (None, 512)
    assert sum(w.numel() for w in r18.trainable_weights) == 11_176_512


def test_weights_imagenet_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="cannot download.*weights=None.*"
                                         "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        applications.VGG16(include_top=False, input_shape=(32, 32, 3))   # Keras's default
    with pytest.raises(ValueError, match="path of a weights file that exists"):
        applications.VGG16(weights=str(tmp_path / "missing.weights"))
    with pytest.raises(ValueError, match="at least 32x32"):
        applications.VGG16(include_top=False, weights=None, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="`pooling` must be None, 'avg' or 'max'"):
        applications.ResNet50(include_top=False, weights=None, pooling="mean")


def test_weights_path_loads_a_cnnlab_file_and_a_keras_hdf5_file(tmp_path):
    source = applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    source.save_weights(tmp_path / "vgg.weights.safetensors")
    loaded = applications.VGG16(include_top=False, weights=str(tmp_path /
                                                               "vgg.weights.safetensors"),
                                input_shape=(32, 32, 3))
    for a, b in zip(source.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    pytest.importorskip("h5py")
    from cnnlab.io.keras_weights import save_keras_h5

    r18 = applications.ResNet18(include_top=False, weights=None, input_shape=(32, 32, 3))
    save_keras_h5(r18, tmp_path / "r18_notop.h5")
    again = applications.ResNet18(include_top=False, weights=tmp_path / "r18_notop.h5",
                                  input_shape=(32, 32, 3))
    for a, b in zip(r18.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_input_tensor_keeps_the_layers_before_it():
    inputs = Input((32, 32, 3))
    scaled = Rescaling(1 / 255, name="scale")(inputs)
    model = applications.VGG16(include_top=False, weights=None, input_tensor=scaled,
                               pooling="avg")
    assert model.input is inputs and model.layers[1].name == "scale"
    assert model.count_params() == 14_714_688 and model.output_shape == (None, 512)
    x = np.random.default_rng(0).uniform(0, 255, (1, 32, 32, 3)).astype(np.float32)
    assert model.predict(x, verbose=0).shape == (1, 512)
    with pytest.raises(ValueError, match="does not match the shape of input_tensor"):
        applications.VGG16(include_top=False, weights=None, input_tensor=inputs,
                           input_shape=(64, 64, 3))


# ----------------------------------------------------------------------------- preprocess_input
def numpy_reference(x, mode):
    """Keras's formulas, channels-last, written with NumPy."""
    x = x.astype(np.float64)
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        return (x / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    bgr = x[..., ::-1]
    return bgr - [103.939, 116.779, 123.68]


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocess_input_matches_the_numpy_formulas(mode):
    x = np.random.default_rng(1).integers(0, 256, (2, 4, 5, 3)).astype(np.uint8)
    out = imagenet_utils.preprocess_input(x, mode=mode)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, numpy_reference(x, mode), rtol=1e-5, atol=1e-4)
    tensor = imagenet_utils.preprocess_input(torch.from_numpy(x), mode=mode)
    assert isinstance(tensor, torch.Tensor) and tensor.dtype == torch.float32
    np.testing.assert_allclose(tensor.numpy(), out, rtol=1e-6, atol=1e-5)
    first = imagenet_utils.preprocess_input(np.moveaxis(x, -1, 1), data_format="channels_first",
                                            mode=mode)
    np.testing.assert_allclose(np.moveaxis(first, 1, -1), out, rtol=1e-6, atol=1e-5)


def test_vgg16_and_resnet_preprocess_input_is_caffe_mode_and_leaves_the_input_alone():
    pixel = np.array([[[10.0, 20.0, 30.0]]])           # one RGB pixel, float64
    expected = [[[30 - 103.939, 20 - 116.779, 10 - 123.68]]]
    for fn in (vgg16.preprocess_input, resnet50.preprocess_input, resnet.preprocess_input):
        out = fn(pixel.copy())
        assert out.dtype == np.float64                  # float input keeps its dtype
        np.testing.assert_allclose(out, expected, rtol=1e-12)
    before = pixel.copy()
    vgg16.preprocess_input(pixel)
    np.testing.assert_array_equal(pixel, before)
    with pytest.raises(ValueError, match="`mode` must be one of 'caffe', 'tf' or 'torch'"):
        imagenet_utils.preprocess_input(pixel, mode="keras")
    with pytest.raises(ValueError, match="expected 3 colour channels"):
        vgg16.preprocess_input(np.zeros((2, 4, 4, 1)))


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocess_input_on_a_symbolic_input_is_a_saveable_layer(tmp_path, mode):
    from cnnlab.keras import Model
    from cnnlab.layers import ImageNetPreprocessing

    inputs = Input((4, 5, 3))
    outputs = imagenet_utils.preprocess_input(inputs, mode=mode)
    assert isinstance(outputs.node.layer, ImageNetPreprocessing)
    assert outputs.shape == (None, 4, 5, 3)
    model = Model(inputs, outputs)
    x = np.random.default_rng(2).integers(0, 256, (2, 4, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), numpy_reference(x, mode),
                               rtol=1e-5, atol=1e-4)
    model.save(tmp_path / "pre.cnnlab")
    restored = load_model(tmp_path / "pre.cnnlab")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="expected 3 colour channels"):
        vgg16.preprocess_input(Input((4, 4, 1)))


# ----------------------------------------------------------------------------- decode_predictions
@pytest.fixture
def fake_index(tmp_path, monkeypatch):
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps({"0": ["n0", "cat"], "1": ["n1", "dog"], "2": ["n2", "fox"],
                                "3": ["n3", "owl"]}))
    monkeypatch.setenv("CNNLAB_IMAGENET_CLASS_INDEX", str(path))
    return path


def test_decode_predictions_has_keras_format(fake_index):
    preds = np.array([[0.1, 0.6, 0.05, 0.25], [0.7, 0.1, 0.15, 0.05]], np.float32)
    decoded = vgg16.decode_predictions(preds, top=3)
    assert decoded == [[("n1", "dog", pytest.approx(0.6)), ("n3", "owl", pytest.approx(0.25)),
                        ("n0", "cat", pytest.approx(0.1))],
                       [("n0", "cat", pytest.approx(0.7)), ("n2", "fox", pytest.approx(0.15)),
                        ("n1", "dog", pytest.approx(0.1))]]
    assert len(imagenet_utils.decode_predictions(torch.from_numpy(preds))[0]) == 4  # top=5
    with pytest.raises(ValueError, match=r"shape \(samples, 4\) .* got an array of shape \(4,\)"):
        resnet50.decode_predictions(preds[0])


def test_decode_predictions_without_an_index_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNLAB_IMAGENET_CLASS_INDEX", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"imagenet_class_index.json .*"
                                                r"\.cache/cnnlab/imagenet_class_index.json"):
        imagenet.decode_predictions(np.zeros((1, 1000)))
    cache = tmp_path / ".cache" / "cnnlab"
    cache.mkdir(parents=True)
    (cache / "imagenet_class_index.json").write_text(
        json.dumps({str(i): [f"n{i}", f"class{i}"] for i in range(1000)}))
    preds = np.zeros((1, 1000))
    preds[0, 417] = 1.0
    assert imagenet.decode_predictions(preds, top=1) == [[("n417", "class417", 1.0)]]
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not an ImageNet class index"):
        imagenet.decode_predictions(preds, class_index=bad)
