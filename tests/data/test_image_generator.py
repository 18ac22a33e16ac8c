"""ImageDataGenerator: each transform against its definition, statistics against NumPy, the
Keras iterator contract (len, order, shuffle, subsets, seeds), folders of PNGs, and fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

import cnnlab
from cnnlab.data.image_generator import ImageDataGenerator
from cnnlab.keras.preprocessing.image import ImageDataGenerator as KerasName
from cnnlab.layers import Conv2D, Dense, Flatten, Input

PAD = {"nearest": "edge", "reflect": "symmetric", "wrap": "wrap"}


def picture(height: int = 6, width: int = 6, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (height, width, channels)).astype("f4")


def test_keras_namespace_exports_the_generator():
    assert KerasName is ImageDataGenerator


# ----------------------------------------------------------------------------- transforms
def test_rotation_by_90_degrees_is_rot90_counter_clockwise():
    img = picture()
    out = ImageDataGenerator().apply_transform(img, {"theta": 90})
    np.testing.assert_allclose(out, np.rot90(img), atol=1e-3)


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "wrap"])
def test_shift_by_k_pixels_is_roll_plus_fill(fill_mode):
    """Keras's ``tx`` shifts along the width: out[r, c] = in[r, c + tx], filled per mode."""
    img, k = picture(5, 7), 2
    out = ImageDataGenerator(fill_mode=fill_mode, cval=-1.0).apply_transform(img, {"tx": k})
    if fill_mode == "constant":
        expected = np.roll(img, -k, axis=1)
        expected[:, -k:] = -1.0
    else:
        expected = np.pad(img, ((0, 0), (0, k), (0, 0)), mode=PAD[fill_mode])[:, k:]
    np.testing.assert_allclose(out, expected, atol=1e-3)
    down = ImageDataGenerator(fill_mode=fill_mode, cval=-1.0).apply_transform(img, {"ty": -1})
    expected = np.pad(img, ((1, 0), (0, 0), (0, 0)), mode=PAD.get(fill_mode, "constant"),
                      **({"constant_values": -1.0} if fill_mode == "constant" else {}))[:-1]
    np.testing.assert_allclose(down, expected, atol=1e-3)


def test_flips():
    img, gen = picture(4, 5), ImageDataGenerator()
    np.testing.assert_array_equal(gen.apply_transform(img, {"flip_horizontal": True}),
                                  img[:, ::-1])
    np.testing.assert_array_equal(gen.apply_transform(img, {"flip_vertical": True}), img[::-1])


def test_zoom_two_times_on_a_ramp():
    rows, cols = np.mgrid[0:8, 0:8].astype("f4")
    img = np.stack([rows, cols], axis=-1)
    out = ImageDataGenerator().apply_transform(img, {"zx": 0.5, "zy": 0.5})
    sampled = 3.5 + 0.5 * (np.arange(8) - 3.5)  # zoom in 2x about the centre 3.5
    np.testing.assert_allclose(out[:, :, 0], np.broadcast_to(sampled[:, None], (8, 8)),
                               atol=1e-4)
    np.testing.assert_allclose(out[:, :, 1], np.broadcast_to(sampled[None, :], (8, 8)),
                               atol=1e-4)


def test_shear_on_a_known_point():
    rows, cols = np.mgrid[0:9, 0:9].astype("f4")
    img = np.stack([rows, cols], axis=-1)
    out = ImageDataGenerator().apply_transform(img, {"shear": 45})
    # output pixel (row 7, col 4) is the centred point (x=0, y=3); it samples
    # x_in = x - sin(45°)·y, y_in = cos(45°)·y
    s = math.sqrt(0.5)
    np.testing.assert_allclose(out[7, 4], [4 + s * 3, 4 - s * 3], atol=1e-4)


def test_channel_shift_clips_to_the_image_range():
    img = picture()
    out = ImageDataGenerator().apply_transform(img, {"channel_shift_intensity": 40.0})
    np.testing.assert_allclose(out, np.clip(img + 40.0, img.min(), img.max()), atol=1e-4)


def test_brightness_scales_and_clips():
    img = picture()
    out = ImageDataGenerator().apply_transform(img, {"brightness": 1.5})
    np.testing.assert_allclose(out, np.clip(img * 1.5, 0, 255), atol=1e-3)
    signed = picture() / 127.5 - 1.0  # outside [0, 255]: scaled within its own min..max
    low, high = signed.min(), signed.max()
    out = ImageDataGenerator().apply_transform(signed, {"brightness": 0.5})
    np.testing.assert_allclose(out, low + np.clip((signed - low) * 0.5, 0, high - low),
                               atol=1e-5)


def test_random_parameters_respect_the_ranges():
    gen = ImageDataGenerator(rotation_range=30, width_shift_range=0.1, height_shift_range=3,
                             shear_range=10, zoom_range=0.2, horizontal_flip=True,
                             channel_shift_range=5.0, brightness_range=(0.5, 1.5))
    params = gen.draw_transforms(4000, 20, 40, np.random.default_rng(0))
    assert np.abs(params["theta"]).max() <= 30 and params["theta"].std() > 10
    assert np.abs(params["tx"]).max() <= 0.1 * 40 and np.abs(params["tx"]).max() > 3.5
    assert set(params["ty"].tolist()) == {-2.0, -1.0, 0.0, 1.0, 2.0}  # int k: {-(k-1)..k-1}
    assert params["zx"].min() >= 0.8 and params["zx"].max() <= 1.2
    assert not np.array_equal(params["zx"], params["zy"])  # drawn separately, as Keras
    assert 0.45 < params["flip_horizontal"].mean() < 0.55
    assert params["flip_vertical"] is None
    assert params["brightness"].min() >= 0.5 and params["brightness"].max() <= 1.5
    assert np.abs(params["channel_shift_intensity"]).max() <= 5.0
    listed = ImageDataGenerator(width_shift_range=[0.25, 0.5])
    shifts = listed.draw_transforms(400, 8, 8, np.random.default_rng(1))["tx"]
    assert set(shifts.tolist()) == {-4.0, -2.0, 2.0, 4.0}  # choices x sign x width


def test_get_random_transform_and_random_transform_are_seeded():
    gen = ImageDataGenerator(rotation_range=45, horizontal_flip=True)
    first = gen.get_random_transform((8, 8, 3), seed=7)
    assert first == gen.get_random_transform((8, 8, 3), seed=7)
    assert first != gen.get_random_transform((8, 8, 3), seed=8)
    assert set(first) == {"theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal",
                          "flip_vertical", "channel_shift_intensity", "brightness"}
    img = picture(8, 8)
    out = gen.random_transform(img, seed=7)
    assert isinstance(out, np.ndarray) and out.shape == img.shape
    np.testing.assert_array_equal(out, gen.apply_transform(img, first))


# ----------------------------------------------------------------------------- statistics
def test_featurewise_statistics_come_from_the_training_data_only():
    rng = np.random.default_rng(0)
    x_train = rng.normal([10, 50, 200], [2, 5, 20], (64, 5, 5, 3)).astype("f4")
    x_test = rng.normal(0, 1, (16, 5, 5, 3)).astype("f4")
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    gen.fit(x_train)
    mean, std = x_train.mean(axis=(0, 1, 2)), x_train.std(axis=(0, 1, 2))
    np.testing.assert_allclose(gen.mean.reshape(-1), mean, rtol=1e-5)
    np.testing.assert_allclose(gen.std.reshape(-1), std, rtol=1e-5)
    assert gen.mean.shape == (1, 1, 3)
    expected = (x_test - mean) / (std + 1e-6)
    np.testing.assert_allclose(gen.standardize(x_test.copy()), expected, rtol=1e-4, atol=1e-5)
    batch = next(gen.flow(x_test, batch_size=16, shuffle=False))
    np.testing.assert_allclose(batch, expected, rtol=1e-4, atol=1e-5)


def test_rescale_is_applied_before_fitting_and_before_standardizing():
    x = np.random.default_rng(1).integers(0, 256, (20, 4, 4, 1)).astype("uint8")
    gen = ImageDataGenerator(rescale=1 / 255, featurewise_center=True)
    gen.fit(x)
    assert gen.mean.reshape(()) == pytest.approx((x / 255).mean(), rel=1e-5)
    out = gen.standardize(x[:2])
    np.testing.assert_allclose(out, x[:2] / 255 - (x / 255).mean(), atol=1e-6)


def test_standardize_changes_a_float_array_in_place_like_keras():
    x = picture()[None].copy()
    gen = ImageDataGenerator(rescale=0.5)
    expected = x * 0.5
    assert gen.standardize(x) is x
    np.testing.assert_allclose(x, expected)


def test_samplewise_statistics_are_per_image():
    x = np.random.default_rng(2).uniform(0, 9, (3, 4, 4, 2)).astype("f4")
    with pytest.warns(UserWarning, match="samplewise_std_normalization=True.*samplewise_center"):
        gen = ImageDataGenerator(samplewise_std_normalization=True)
    out = gen.standardize(x.copy())
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = x.std(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / (std + 1e-6), rtol=1e-4, atol=1e-5)


def test_using_featurewise_options_before_fit_warns():
    gen = ImageDataGenerator(featurewise_center=True)
    x = picture()[None]
    with pytest.warns(UserWarning, match="featurewise_center.*fit"):
        out = gen.standardize(x.copy())
    np.testing.assert_allclose(out, x)


def test_zca_whitening_matches_numpy_svd():
    x = np.random.default_rng(3).normal(0, 1, (40, 3, 3, 3)).astype("f4")
    x[..., 1] += 0.8 * x[..., 0]  # correlated features
    with pytest.warns(UserWarning, match="zca_whitening=True.*featurewise_center"):
        gen = ImageDataGenerator(zca_whitening=True)
    gen.fit(x)
    flat = (x - x.mean(axis=(0, 1, 2))).reshape(40, -1).astype("f8")
    u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
    whitening = (u * (np.sqrt(40) / (s + 1e-6))) @ u.T
    np.testing.assert_allclose(gen.zca_whitening_matrix, whitening, rtol=1e-3, atol=1e-4)
    white = gen.standardize(x.copy()).reshape(40, -1)
    np.testing.assert_allclose(white.T @ white / 40, np.eye(27), atol=1e-3)


def test_preprocessing_function_runs_per_image_after_augmentation_before_rescale():
    seen = []

    def to_bgr_plus_one(img):
        seen.append(img.shape)
        return img[..., ::-1] + 1.0

    x = np.stack([picture(seed=s) for s in range(3)])
    gen = ImageDataGenerator(preprocessing_function=to_bgr_plus_one, rescale=0.5,
                             horizontal_flip=True)
    batch = next(gen.flow(x, batch_size=3, shuffle=False, seed=0))
    assert seen == [(6, 6, 3)] * 3
    for out, img in zip(batch, x, strict=True):
        candidates = [(img[..., ::-1] + 1) * 0.5, (img[:, ::-1, ::-1] + 1) * 0.5]
        assert any(np.allclose(out, c, atol=1e-4) for c in candidates)


# ----------------------------------------------------------------------------- flow
def labelled(n: int = 10, size: int = 4) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(n * size * size * 3, dtype="uint8").reshape(n, size, size, 3) % 251
    return x, np.arange(n)


def test_flow_length_order_and_partial_last_batch():
    x, y = labelled(10)
    it = ImageDataGenerator().flow(x, y, batch_size=4, shuffle=False)
    assert len(it) == 3
    batches = [it[i] for i in range(3)]
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    np.testing.assert_array_equal(batches[1][0], x[4:8].astype("f4"))
    assert batches[0][0].dtype == np.float32
    walked = [next(it)[1] for _ in range(4)]  # next() walks on endlessly
    np.testing.assert_array_equal(walked[3], y[:4])
    with pytest.raises(ValueError, match="batch 3"):
        it[3]


def test_shuffle_draws_a_new_permutation_each_epoch():
    x, y = labelled(12)
    it = ImageDataGenerator().flow(x, y, batch_size=5, seed=3)
    first = np.concatenate([it[i][1] for i in range(len(it))])
    it.on_epoch_end()
    second = np.concatenate([it[i][1] for i in range(len(it))])
    assert sorted(first) == sorted(second) == list(y)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(it[0][0], x[it[0][1]].astype("f4"))  # pairs stay together


def test_same_seed_same_batches_different_seed_different_batches():
    x, y = labelled(16, size=8)
    gen = ImageDataGenerator(rotation_range=40, width_shift_range=0.2, horizontal_flip=True)
    a, b = gen.flow(x, y, batch_size=8, seed=5), gen.flow(x, y, batch_size=8, seed=5)
    c = gen.flow(x, y, batch_size=8, seed=6)
    for _ in range(3):
        xa, xb, xc = next(a)[0], next(b)[0], next(c)[0]
        np.testing.assert_array_equal(xa, xb)
        assert not np.allclose(xa, xc)
    np.testing.assert_array_equal(a[1][0], b[1][0])


def test_subset_split_follows_keras():
    x, y = labelled(10)
    y = np.array([0, 1] * 5)
    gen = ImageDataGenerator(validation_split=0.2)
    val = gen.flow(x, y, batch_size=10, shuffle=False, subset="validation")
    train = gen.flow(x, y, batch_size=10, shuffle=False, subset="training")
    np.testing.assert_array_equal(val[0][0], x[:2].astype("f4"))  # the first 20 %
    np.testing.assert_array_equal(train[0][0], x[2:].astype("f4"))
    with pytest.raises(ValueError, match="different classes"):
        gen.flow(x, np.sort(y), subset="training")
    assert len(gen.flow(x, np.sort(y), subset="validation", ignore_class_split=True)) == 1
    with pytest.raises(ValueError, match="validation_split"):
        ImageDataGenerator().flow(x, y, subset="training")
    with pytest.raises(ValueError, match="'testing'"):
        gen.flow(x, y, subset="testing")


def test_sample_weights_and_tensor_input():
    x, y = labelled(6)
    w = np.linspace(0.1, 0.6, 6)
    bx, by, bw = ImageDataGenerator().flow(x, y, sample_weight=w, batch_size=3,
                                           shuffle=False)[1]
    np.testing.assert_allclose(bw, w[3:])
    tx, ty = ImageDataGenerator().flow(torch.from_numpy(x), torch.from_numpy(y),
                                       batch_size=3, shuffle=False)[0]
    assert isinstance(tx, torch.Tensor) and torch.equal(ty, torch.arange(3))


def test_channels_first_data_gives_the_transposed_batches():
    x, y = labelled(4, size=6)
    last = ImageDataGenerator(rotation_range=30, horizontal_flip=True)
    first = ImageDataGenerator(rotation_range=30, horizontal_flip=True,
                               data_format="channels_first")
    a = last.flow(x, y, batch_size=4, seed=2)[0][0]
    b = first.flow(x.transpose(0, 3, 1, 2), y, batch_size=4, seed=2)[0][0]
    np.testing.assert_allclose(b, a.transpose(0, 3, 1, 2), atol=1e-5)


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="fill_mode.*'mirror'"):
        ImageDataGenerator(fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation_order.*3"):
        ImageDataGenerator(interpolation_order=3)
    with pytest.raises(ValueError, match="zoom_range"):
        ImageDataGenerator(zoom_range=(0.5, 1.0, 1.5))
    with pytest.raises(TypeError, match="rotation_range"):
        ImageDataGenerator(rotation_range="90")
    with pytest.raises(ValueError, match="rank-4.*\\(4, 4, 3\\)"):
        ImageDataGenerator().flow(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="batch_size.*0"):
        ImageDataGenerator().flow(np.zeros((2, 4, 4, 3)), batch_size=0)


# ----------------------------------------------------------------------------- directories
COLOURS = {"cats": (250, 0, 0), "dogs": (0, 250, 0), "birds": (0, 0, 250)}


@pytest.fixture
def folders(tmp_path):
    counts = {"cats": 5, "dogs": 3, "birds": 2}
    for name, count in counts.items():
        (tmp_path / name).mkdir()
        for i in range(count):
            Image.new("RGB", (12, 9), COLOURS[name]).save(tmp_path / name / f"{i}.png")
    return tmp_path


def test_flow_from_directory_reads_class_folders(folders, capsys):
    it = ImageDataGenerator(rescale=1 / 250).flow_from_directory(
        folders, target_size=(6, 8), batch_size=4, shuffle=False)
    assert "Found 10 images belonging to 3 classes." in capsys.readouterr().out
    assert it.class_indices == {"birds": 0, "cats": 1, "dogs": 2}
    assert it.samples == 10 and len(it) == 3
    np.testing.assert_array_equal(it.classes, [0, 0, 1, 1, 1, 1, 1, 2, 2, 2])
    assert it.filenames[:3] == ["birds/0.png", "birds/1.png", "cats/0.png"]
    x, y = it[0]
    assert x.shape == (4, 6, 8, 3) and y.shape == (4, 3)
    np.testing.assert_array_equal(y.argmax(1), [0, 0, 1, 1])
    for image, label in zip(x, y.argmax(1), strict=True):
        name = list(it.class_indices)[label]
        np.testing.assert_allclose(image[0, 0], np.array(COLOURS[name]) / 250, atol=1e-6)


def test_flow_from_directory_splits_each_class(folders, capsys):
    gen = ImageDataGenerator(validation_split=0.4)
    val = gen.flow_from_directory(folders, target_size=(4, 4), subset="validation",
                                  class_mode="sparse", shuffle=False, batch_size=32)
    train = gen.flow_from_directory(folders, target_size=(4, 4), subset="training",
                                    class_mode="binary", shuffle=False)
    # per class the first int(0.4 · n) files: birds 0 of 2, cats 2 of 5, dogs 1 of 3
    assert val.filenames == ["cats/0.png", "cats/1.png", "dogs/0.png"]
    assert train.samples == 7 and not set(train.filenames) & set(val.filenames)
    _, labels = val[0]
    np.testing.assert_array_equal(labels, [1.0, 1.0, 2.0])
    assert labels.dtype == np.float32
    only_x = gen.flow_from_directory(folders, target_size=(4, 4), class_mode=None)[0]
    assert only_x.shape == (10, 4, 4, 3)
    inputs, targets = gen.flow_from_directory(folders, target_size=(4, 4), color_mode="grayscale",
                                              class_mode="input")[0]
    assert inputs.shape == (10, 4, 4, 1)
    np.testing.assert_array_equal(inputs, targets)


def test_flow_from_directory_without_images_says_what_it_expected(tmp_path):
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ValueError, match="no images in .*one sub-folder per class"):
        ImageDataGenerator().flow_from_directory(tmp_path)


# ----------------------------------------------------------------------------- fit
def small_model() -> cnnlab.Sequential:
    model = cnnlab.Sequential([Input((8, 8, 3)), Conv2D(4, 3, activation="relu"), Flatten(),
                               Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_takes_a_flow_iterator():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (40, 8, 8, 3)).astype("uint8"), rng.integers(0, 3, 40)
    gen = ImageDataGenerator(rescale=1 / 255, rotation_range=20, horizontal_flip=True)
    history = small_model().fit(gen.flow(x, y, batch_size=8), steps_per_epoch=3, epochs=2,
                                verbose=0)
    assert len(history.history["loss"]) == 2
    assert all(np.isfinite(history.history["loss"]))


def test_lecture_fit_generator_spelling_runs():
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 1, (32, 8, 8, 3)).astype("f4"), rng.integers(0, 3, 32)
    xv, yv = rng.uniform(0, 1, (8, 8, 8, 3)).astype("f4"), rng.integers(0, 3, 8)
    gen = ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, zoom_range=0.1)
    history = small_model().fit_generator(generator=gen.flow(x, y, batch_size=8),
                                          steps_per_epoch=len(x) // 8, epochs=2,
                                          validation_data=(xv, yv), workers=4, verbose=0)
    assert len(history.history["val_loss"]) == 2
