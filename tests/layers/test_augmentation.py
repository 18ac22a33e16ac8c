"""Augmentation layers: their transforms against NumPy definitions in training, the identity
in inference (also inside predict/evaluate), config round trips and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab.layers import (
    Dense,
    Flatten,
    Input,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from cnnlab.layers.registry import registered_class


def images(n: int = 4, height: int = 5, width: int = 5, channels: int = 2,
           seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, height, width, channels, generator=gen) * 200 + 20


ALL_LAYERS = [
    lambda: RandomFlip(),
    lambda: RandomRotation(0.2),
    lambda: RandomTranslation(0.2, 0.3),
    lambda: RandomZoom(0.3),
    lambda: RandomContrast(0.4),
    lambda: RandomBrightness(0.2),
]


@pytest.mark.parametrize("make", ALL_LAYERS)
def test_identity_in_inference_random_in_training(make):
    """As Keras 3 (``call(..., training=True)``): called directly a new layer augments;
    ``training=False`` or inference mode (``eval()``) passes the images through."""
    layer, x = make(), images(8)
    assert layer.training
    assert not torch.allclose(layer(x), x)
    assert torch.equal(layer(x, training=False), x)
    assert not torch.allclose(layer(x, training=True), x)
    layer.eval()
    assert torch.equal(layer(x), x)
    assert not torch.allclose(layer(x, training=True), x)


def test_a_sequential_of_augmentations_called_directly_augments_but_predict_does_not():
    """Deep Learning with Python (2nd ed., 8.2) plots ``data_augmentation(images)``."""
    augmentation = cnnlab.Sequential([RandomFlip("horizontal"), RandomRotation(0.1)])
    x = images(8)
    assert not torch.allclose(augmentation(x), x)
    assert torch.equal(augmentation(x, training=False), x)
    model = cnnlab.Sequential([Input((5, 5, 2)), augmentation, Flatten()])
    np.testing.assert_array_equal(model.predict(x.numpy(), verbose=0),
                                  x.reshape(8, -1).numpy())
    assert not augmentation.layers[0].training  # predict put the whole model in inference


def test_rotation_by_a_quarter_turn_is_rot90():
    x = images()
    out = RandomRotation((0.25, 0.25))(x, training=True)
    np.testing.assert_allclose(out.numpy(), np.rot90(x.numpy(), 1, axes=(1, 2)), atol=1e-3)


def test_rotation_angles_vary_per_image_within_the_factor():
    x = images(64, 9, 9, 1)
    out = RandomRotation(0.25, fill_mode="constant")(x, training=True)
    centre = x[:, 4, 4]
    np.testing.assert_allclose(out[:, 4, 4], centre, atol=1e-3)  # about the centre
    assert len({tuple(o.flatten().round(decimals=2).tolist()) for o in out}) == 64


@pytest.mark.parametrize("fill_mode, pad", [("constant", "constant"), ("nearest", "edge"),
                                            ("reflect", "symmetric"), ("wrap", "wrap")])
def test_translation_by_whole_pixels_follows_keras_direction(fill_mode, pad):
    """Positive height_factor moves the picture down, positive width_factor right."""
    x = images(2, 5, 5, 1)
    layer = RandomTranslation((0.2, 0.2), (0.4, 0.4), fill_mode=fill_mode, fill_value=-1.0)
    out = layer(x, training=True).numpy()
    kwargs = {"constant_values": -1.0} if pad == "constant" else {}
    expected = np.pad(x.numpy(), ((0, 0), (1, 0), (2, 0), (0, 0)), mode=pad, **kwargs)
    np.testing.assert_allclose(out, expected[:, :5, :5], atol=1e-3)


def test_zoom_sign_convention():
    rows, cols = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    ramp = torch.stack([rows, cols], dim=-1)[None]
    zoomed_in = RandomZoom((-0.5, -0.5))(ramp, training=True)[0]
    sampled = 3.5 + 0.5 * (torch.arange(8.0) - 3.5)  # 2x enlarged about the centre
    torch.testing.assert_close(zoomed_in[:, :, 0], sampled[:, None].expand(8, 8))
    torch.testing.assert_close(zoomed_in[:, :, 1], sampled[None, :].expand(8, 8))
    only_height = RandomZoom((-0.5, -0.5), (0.0, 0.0))(ramp, training=True)[0]
    torch.testing.assert_close(only_height[:, :, 1], ramp[0, :, :, 1])
    zoomed_out = RandomZoom((1.0, 1.0), fill_mode="constant", fill_value=-1.0)(
        ramp, training=True)[0]
    torch.testing.assert_close(zoomed_out[2:6, 2:6, 0], rows[0:8:2, 0:8:2] + 0.5)
    assert (zoomed_out[0, :, 0] == -1.0).all()


def test_flip_modes():
    x = images(64)
    horizontal = RandomFlip("horizontal", seed=1)(x, training=True)
    flipped = torch.tensor([torch.equal(o, i.flip(1)) for o, i in zip(horizontal, x,
                                                                        strict=True)])
    kept = torch.tensor([torch.equal(o, i) for o, i in zip(horizontal, x, strict=True)])
    assert (flipped ^ kept).all() and 16 < int(flipped.sum()) < 48
    both = RandomFlip(seed=2)(x, training=True)
    variants = {(torch.equal(o, i.flip(1)), torch.equal(o, i.flip(0)), torch.equal(o, i),
                 torch.equal(o, i.flip(0).flip(1))) for o, i in zip(both, x, strict=True)}
    assert len(variants) == 4  # all four flip combinations occur


def test_contrast_scales_deviations_from_the_channel_mean():
    x = images(16) * 0.2 + 100  # values 104..148: no clipping
    out = RandomContrast(0.5)(x, training=True)
    mean = x.mean(dim=(1, 2), keepdim=True)
    factors = ((out - mean) / (x - mean)).flatten(1)
    torch.testing.assert_close(factors, factors[:, :1].expand_as(factors), rtol=1e-3,
                               atol=1e-3)  # one factor per image
    assert factors.min() >= 0.5 - 1e-3 and factors.max() <= 1.5 + 1e-3
    assert factors[:, 0].std() > 0.1
    clipped = RandomContrast((1.0, 1.0), value_range=(0, 1))(torch.rand(2, 3, 3, 1),
                                                             training=True)
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_brightness_adds_one_delta_per_image_and_clips():
    x = images(16)
    out = RandomBrightness((0.1, 0.3))(x, training=True)
    inside = out < 255
    delta = torch.where(inside, out - x, torch.nan).flatten(1)
    first = delta.nanmean(dim=1, keepdim=True)
    torch.testing.assert_close(torch.where(delta.isnan(), first, delta),
                               first.expand_as(delta), atol=1e-3, rtol=0)
    assert first.min() >= 0.1 * 255 - 1e-3 and first.max() <= 0.3 * 255 + 1e-3
    assert out.max() == 255.0


def test_random_crop_in_training_is_one_window_for_the_batch():
    x = images(3, 8, 10, 1)
    out = RandomCrop(4, 5, seed=3)(x, training=True)
    assert out.shape == (3, 4, 5, 1)
    windows = [(t, c) for t in range(5) for c in range(6)
               if torch.equal(out, x[:, t:t + 4, c:c + 5])]
    assert len(windows) == 1


def test_random_crop_in_inference_centre_crops_and_resizes():
    x = images(2, 6, 8, 1)
    out = RandomCrop(3, 3)(x, training=False).numpy()
    window = x[:, :, 1:7].numpy()  # the largest centred square
    expected = window.reshape(2, 3, 2, 3, 2, 1).mean(axis=(2, 4))  # bilinear 2x down
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    square = RandomCrop(6, 6)(x, training=False)  # the window has the target size: no resizing
    torch.testing.assert_close(square, x[:, :, 1:7])


def test_unbatched_and_integer_input():
    image = (images(1)[0]).to(torch.uint8)
    out = RandomRotation((0.5, 0.5), seed=0)(image, training=True)
    assert out.dtype == torch.float32 and out.shape == image.shape
    torch.testing.assert_close(out, image.float().flip(0).flip(1), atol=1e-3, rtol=0)


def test_channels_first_layout():
    x = images(2)
    out = RandomTranslation((0.2, 0.2), 0.0, fill_mode="constant",
                            data_format="channels_first")(x.permute(0, 3, 1, 2), training=True)
    expected = RandomTranslation((0.2, 0.2), 0.0, fill_mode="constant")(x, training=True)
    torch.testing.assert_close(out, expected.permute(0, 3, 1, 2))


def test_same_seed_same_augmentation():
    x = images(4)
    a = RandomRotation(0.3, seed=11)(x, training=True)
    b = RandomRotation(0.3, seed=11)(x, training=True)
    c = RandomRotation(0.3, seed=12)(x, training=True)
    assert torch.equal(a, b) and not torch.allclose(a, c)


def test_identity_in_predict_and_evaluate_random_in_fit():
    cnnlab.utils.set_random_seed(0)
    model = cnnlab.Sequential([Input((6, 6, 1)), RandomFlip("horizontal"), RandomZoom(0.3),
                               Flatten(), Dense(2, activation="softmax")])
    plain = cnnlab.Sequential([Input((6, 6, 1)), Flatten(), Dense(2, activation="softmax")])
    plain.set_weights(model.get_weights())
    x = np.random.default_rng(0).uniform(0, 1, (10, 6, 6, 1)).astype("f4")
    y = np.arange(10) % 2
    np.testing.assert_allclose(model.predict(x, verbose=0), plain.predict(x, verbose=0),
                               rtol=1e-6)
    for net in (model, plain):
        net.compile("sgd", "sparse_categorical_crossentropy")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(plain.evaluate(x, y, verbose=0))
    trained = model(torch.from_numpy(x), training=True)
    assert not torch.allclose(trained, plain(torch.from_numpy(x)))
    history = model.fit(x, y, epochs=2, batch_size=5, verbose=0)
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize("make", [*ALL_LAYERS, lambda: RandomCrop(3, 4, seed=5),
                                  lambda: RandomZoom((-0.2, 0.1), (0.0, 0.3),
                                                     fill_mode="constant", fill_value=2.0),
                                  lambda: RandomTranslation([-0.1, 0.2], 0.1, seed=3,
                                                            interpolation="nearest")])
def test_config_round_trip_and_registry(make):
    layer = make()
    config = layer.get_config()
    rebuilt = registered_class(type(layer).__name__).from_config(config)
    assert rebuilt.get_config() == config
    x = images(2)
    out = rebuilt(Input((5, 5, 2)))
    assert out.shape == layer.compute_output_shape((None, 5, 5, 2))
    assert rebuilt(x).shape[1:] == out.shape[1:]


def test_crop_output_shape():
    assert RandomCrop(3, 4).compute_output_shape((None, 9, 9, 3)) == (None, 3, 4, 3)
    assert RandomCrop(3, 4, data_format="channels_first").compute_output_shape(
        (None, 3, 9, 9)) == (None, 3, 3, 4)


def test_errors_name_the_layer_and_the_argument():
    with pytest.raises(ValueError, match=r"RandomRotation 'random_rotation.*`factor`.*1.5"):
        RandomRotation(1.5)
    with pytest.raises(ValueError, match=r"RandomZoom .*`height_factor` must lie in \(-1"):
        RandomZoom(-1.0)
    with pytest.raises(ValueError, match=r"RandomFlip .*`mode`.*'diagonal'"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match=r"RandomTranslation .*`fill_mode`.*'mirror'"):
        RandomTranslation(0.1, 0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match=r"RandomContrast .*`factor` must lie in \[0"):
        RandomContrast(-0.2)
    with pytest.raises(ValueError, match=r"RandomBrightness .*`value_range`"):
        RandomBrightness(0.1, value_range=(0, 1, 2))
    with pytest.raises(ValueError, match=r"RandomCrop .*`height`.*0"):
        RandomCrop(0, 3)
    with pytest.raises(ValueError, match=r"RandomFlip .*images \(N, H, W, C\)"):
        RandomFlip()(torch.zeros(1, 2, 3, 4, 5))
