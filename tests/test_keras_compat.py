"""The module paths and spellings lecture programs use resolve to cnnlab's objects."""

import importlib

import numpy as np
import pytest

import cnnlab
from cnnlab import layers, optimizers


@pytest.mark.parametrize("path,name,expected", [
    ("cnnlab.keras.models", "Sequential", cnnlab.Sequential),
    ("cnnlab.keras.models", "Model", cnnlab.Model),
    ("cnnlab.keras.models", "load_model", cnnlab.load_model),
    ("cnnlab.keras.layers", "Conv2D", layers.Conv2D),
    ("cnnlab.keras.layers", "Convolution2D", layers.Conv2D),
    ("cnnlab.keras.layers.core", "Dense", layers.Dense),
    ("cnnlab.keras.layers.convolutional", "MaxPooling2D", layers.MaxPooling2D),
    ("cnnlab.keras.layers.normalization", "BatchNormalization", layers.BatchNormalization),
    ("cnnlab.keras.layers.advanced_activations", "LeakyReLU", layers.LeakyReLU),
    ("cnnlab.keras.optimizers", "SGD", optimizers.SGD),
    ("cnnlab.keras.optimizers.legacy", "Adam", optimizers.Adam),
    ("cnnlab.keras.utils", "to_categorical", cnnlab.to_categorical),
    ("cnnlab.keras.utils.np_utils", "to_categorical", cnnlab.to_categorical),
    ("cnnlab.keras.callbacks", "EarlyStopping", cnnlab.callbacks.EarlyStopping),
    ("cnnlab.keras.regularizers", "l2", cnnlab.regularizers.l2),
    ("cnnlab.keras.constraints", "maxnorm", cnnlab.constraints.MaxNorm),
    ("cnnlab.tf.keras.layers", "Dense", layers.Dense),
    ("cnnlab.tf.keras.models", "Sequential", cnnlab.Sequential),
    ("cnnlab.tf.python.keras.optimizers", "Adam", optimizers.Adam),
])
def test_module_paths(path, name, expected):
    assert getattr(importlib.import_module(path), name) is expected


def test_datasets_and_preprocessing_paths():
    from cnnlab.keras.datasets import cifar10, fashion_mnist, mnist
    from cnnlab.keras.preprocessing.image import img_to_array, load_img

    assert callable(mnist.load_data) and callable(cifar10.load_data)
    assert fashion_mnist.load_data is cnnlab.datasets.fashion_mnist.load_data
    assert callable(load_img) and callable(img_to_array)


def test_backend_answers_like_keras():
    from cnnlab.keras import backend as K

    assert K.image_data_format() == "channels_last"
    assert K.epsilon() == 1e-7 and K.floatx() == "float32"
    with pytest.raises(ValueError, match="channels_first"):
        K.set_image_data_format("channels_first")


def test_tf_namespace_extras():
    from cnnlab import tf

    assert tf.VERSION == tf.__version__ and tf.keras.__version__
    opt = tf.train.AdamOptimizer(0.001)
    assert isinstance(opt, optimizers.Adam) and opt.learning_rate == pytest.approx(0.001)
    model = tf.keras.Sequential([tf.keras.layers.Dense(2, activation=tf.nn.relu,
                                                       input_shape=(3,))])
    out = model.predict(np.array([[-1.0, 2.0, 3.0]]), verbose=0)
    assert (out >= 0).all()


def test_image_file_helpers_round_trip(tmp_path):
    from cnnlab.keras.preprocessing.image import array_to_img, img_to_array, load_img, save_img

    pixels = np.arange(4 * 5 * 3, dtype=np.float32).reshape(4, 5, 3)
    save_img(tmp_path / "x.png", pixels, scale=False)
    img = load_img(tmp_path / "x.png")
    np.testing.assert_array_equal(img_to_array(img), pixels)
    assert img_to_array(load_img(tmp_path / "x.png", target_size=(2, 3))).shape == (2, 3, 3)
    scaled = img_to_array(array_to_img(pixels))
    assert scaled.min() == 0 and scaled.max() == 255
    with pytest.raises(ValueError, match="could not read image"):
        load_img(tmp_path / "missing.png")
