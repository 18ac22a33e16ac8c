"""Resizing: TensorFlow's half-pixel bilinear and nearest sampling written out in NumPy, hand
values on tiny images, aspect-ratio crop, shapes, Keras paths, saving, errors."""

import numpy as np
import pytest
import torch

from cnnlab import load_model
from cnnlab.keras import layers as keras_layers
from cnnlab.keras.layers.experimental import preprocessing
from cnnlab.layers import Input, Rescaling, Resizing
from cnnlab.layers.resizing import aspect_crop
from cnnlab.models import Sequential


def tf_bilinear(image, out_h, out_w):
    """tf.image.resize(method='bilinear', antialias=False) for one (H, W, C) image, per TF's
    kernel: source = (i + 0.5)·in/out − 0.5; lower = max(floor, 0), upper = min(ceil, in − 1),
    weight = source − floor."""
    def taps(out_size, in_size):
        src = (np.arange(out_size) + 0.5) * in_size / out_size - 0.5
        floor = np.floor(src)
        lower = np.maximum(floor, 0).astype(int)
        upper = np.minimum(np.ceil(src), in_size - 1).astype(int)
        return lower, upper, src - floor
    image = image.astype(np.float64)
    y0, y1, wy = taps(out_h, image.shape[0])
    x0, x1, wx = taps(out_w, image.shape[1])
    top = image[y0][:, x0] * (1 - wx)[None, :, None] + image[y0][:, x1] * wx[None, :, None]
    bottom = image[y1][:, x0] * (1 - wx)[None, :, None] + image[y1][:, x1] * wx[None, :, None]
    return top * (1 - wy)[:, None, None] + bottom * wy[:, None, None]


def tf_nearest(image, out_h, out_w):
    """TF 2 nearest with half-pixel centres: source = min(floor((i + 0.5)·in/out), in − 1)."""
    rows = np.minimum(np.floor((np.arange(out_h) + 0.5) * image.shape[0] / out_h),
                      image.shape[0] - 1).astype(int)
    cols = np.minimum(np.floor((np.arange(out_w) + 0.5) * image.shape[1] / out_w),
                      image.shape[1] - 1).astype(int)
    return image[rows][:, cols]


def test_bilinear_upsampling_hand_values():
    image = np.array([[0.0, 4.0], [8.0, 12.0]], np.float32)[None, :, :, None]
    out = Resizing(4, 4)(torch.from_numpy(image)).numpy()[0, :, :, 0]
    # columns sample 0, 0.25, 0.75, 1 (clamped) of the way from left to right: 0, 1, 3, 4
    np.testing.assert_allclose(out[0], [0, 1, 3, 4])
    np.testing.assert_allclose(out[:, 0], [0, 2, 6, 8])
    np.testing.assert_allclose(out[1], [2, 3, 5, 6])


@pytest.mark.parametrize("size", [(7, 5), (3, 2), (4, 9), (1, 1)])
def test_bilinear_and_nearest_match_tensorflow_formulas(size):
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (2, 5, 6, 3)).astype(np.float32)
    bilinear = Resizing(*size)(torch.from_numpy(images)).numpy()
    nearest = Resizing(*size, interpolation="nearest")(torch.from_numpy(images)).numpy()
    assert bilinear.shape == nearest.shape == (2, *size, 3)
    for i in range(2):
        np.testing.assert_allclose(bilinear[i], tf_bilinear(images[i], *size), rtol=1e-5,
                                   atol=1e-3)
        np.testing.assert_array_equal(nearest[i], tf_nearest(images[i], *size))


def test_nearest_uses_half_pixel_centres():
    image = np.arange(6, dtype=np.float32).reshape(1, 1, 6, 1)
    out = Resizing(1, 4, interpolation="nearest")(torch.from_numpy(image)).numpy().ravel()
    np.testing.assert_array_equal(out, [0, 2, 3, 5])  # floor((i + 0.5)·1.5), not floor(i·1.5)


def test_crop_to_aspect_ratio_crops_the_centred_window_first():
    assert aspect_crop(6, 10, 4, 4) == (0, 2, 6, 6)
    assert aspect_crop(10, 5, 2, 4) == (4, 0, 2, 5)  # int(5·2/4) = 2 rows, (10 − 2)/2 = 4
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(1, 6, 10, 2)).astype(np.float32)
    out = Resizing(3, 3, crop_to_aspect_ratio=True)(torch.from_numpy(images)).numpy()[0]
    np.testing.assert_allclose(out, tf_bilinear(images[0, :, 2:8], 3, 3), rtol=1e-5,
                               atol=1e-6)


def test_unbatched_integer_and_channels_first_inputs():
    image = np.random.default_rng(2).integers(0, 255, (5, 6, 3)).astype(np.uint8)
    out = Resizing(3, 4)(torch.from_numpy(image))
    assert out.dtype == torch.float32 and out.shape == (3, 4, 3)
    np.testing.assert_allclose(out.numpy(), tf_bilinear(image, 3, 4), rtol=1e-5, atol=1e-3)
    first = Resizing(3, 4, data_format="channels_first")(
        torch.from_numpy(image).permute(2, 0, 1)[None].float())
    np.testing.assert_allclose(first[0].permute(1, 2, 0).numpy(), out.numpy(), rtol=1e-6)


def test_model_shapes_keras_paths_and_save_load_round_trip(tmp_path):
    model = Sequential([Input((None, None, 3)), Resizing(8, 6, interpolation="nearest"),
                        Rescaling(1 / 255)])
    assert model.output_shape == (None, 8, 6, 3)
    assert keras_layers.Resizing is Resizing
    assert preprocessing.Resizing is Resizing and preprocessing.Rescaling is Rescaling
    assert keras_layers.experimental.preprocessing.Rescaling is Rescaling
    config = model.layers[0].get_config()
    assert config["height"] == 8 and config["interpolation"] == "nearest"
    model.save(tmp_path / "m.cnnlab")
    loaded = load_model(tmp_path / "m.cnnlab")
    x = np.random.default_rng(3).uniform(0, 255, (2, 11, 7, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].get_config() == config


def test_errors_name_the_argument_and_value():
    with pytest.raises(ValueError, match="Resizing .*`height` must be a positive int, got 0"):
        Resizing(0, 4)
    with pytest.raises(ValueError, match="`interpolation` must be one of 'bilinear', "
                                         "'nearest', got 'bicubic'"):
        Resizing(4, 4, interpolation="bicubic")
    with pytest.raises(ValueError, match="expected images"):
        Resizing(4, 4)(torch.zeros(1, 2, 3, 4, 5))
