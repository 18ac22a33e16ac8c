"""image_dataset_from_directory on small folders of PNG/JPEG images written with Pillow."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.data import image_dataset_from_directory, list_image_files


def _png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return array


def _rgb(seed, size=(4, 6)):
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


@pytest.fixture
def pets(tmp_path):
    """cats: 3 images, dogs: 2 (one in a nested folder); plus files Keras ignores."""
    root = tmp_path / "pets"
    images = {
        "cats/c0.png": _png(root / "cats/c0.png", _rgb(0)),
        "cats/c1.PNG": _png(root / "cats/c1.PNG", _rgb(1)),
        "cats/c2.png": _png(root / "cats/c2.png", _rgb(2)),
        "dogs/d0.png": _png(root / "dogs/d0.png", _rgb(3)),
        "dogs/sub/d1.png": _png(root / "dogs/sub/d1.png", _rgb(4)),
    }
    (root / "cats/notes.txt").write_text("not an image")
    _png(root / ".ipynb_checkpoints/x.png", _rgb(5))  # hidden folder: not a class
    return root, images


def _collect(dataset):
    xs, ys = zip(*dataset, strict=True)
    return torch.cat(xs), torch.cat(ys)


def test_classes_order_labels_and_pixels(pets):
    root, images = pets
    ds = image_dataset_from_directory(root, image_size=(4, 6), batch_size=2, shuffle=False,
                                      verbose=False)
    assert ds.class_names == ["cats", "dogs"] and len(ds) == 3
    assert ds.file_paths == [str(root / name) for name in images]  # folder, then name order
    x, y = _collect(ds)
    assert x.dtype == torch.float32 and x.shape == (5, 4, 6, 3)
    assert y.dtype == torch.int32 and y.tolist() == [0, 0, 0, 1, 1]
    np.testing.assert_array_equal(x.numpy(), np.stack(list(images.values())).astype(np.float32))


def test_batches_shapes_and_last_partial_batch(pets):
    root, _ = pets
    ds = image_dataset_from_directory(root, image_size=(4, 6), batch_size=3, seed=1, verbose=False)
    shapes = [tuple(x.shape) for x, _ in ds]
    assert shapes == [(3, 4, 6, 3), (2, 4, 6, 3)] and len(ds) == 2


@pytest.mark.parametrize(
    ("label_mode", "expected"),
    [
        ("categorical", [[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]]),
        ("binary", [[0], [0], [0], [1], [1]]),
    ],
)
def test_label_modes(pets, label_mode, expected):
    root, _ = pets
    ds = image_dataset_from_directory(root, label_mode=label_mode, image_size=(4, 6),
                                      shuffle=False, verbose=False)
    _, y = _collect(ds)
    assert y.dtype == torch.float32 and y.tolist() == expected


def test_no_labels_yields_images_only(pets):
    root, _ = pets
    for kwargs in ({"labels": None}, {"label_mode": None}):
        ds = image_dataset_from_directory(root, image_size=(4, 6), shuffle=False, verbose=False,
                                          **kwargs)
        (batch,) = list(ds)
        expected = 6 if kwargs.get("labels", "inferred") is None else 5  # None: the whole tree
        assert isinstance(batch, torch.Tensor) and batch.shape == (expected, 4, 6, 3)


def test_explicit_labels_follow_file_order(pets):
    root, _ = pets  # explicit labels: the whole tree is indexed, hidden folders too (Keras)
    ds = image_dataset_from_directory(root, labels=[9, 4, 4, 7, 7, 4], image_size=(4, 6),
                                      shuffle=False, verbose=False)
    assert ds.class_names == ["4", "7", "9"]
    assert os.path.relpath(ds.file_paths[0], root) == ".ipynb_checkpoints/x.png"
    assert _collect(ds)[1].tolist() == [9, 4, 4, 7, 7, 4]


def test_class_names_choose_and_order_classes(pets):
    root, _ = pets
    ds = image_dataset_from_directory(root, class_names=["dogs", "cats"], image_size=(4, 6),
                                      shuffle=False, verbose=False)
    assert _collect(ds)[1].tolist() == [0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match=r"class_names must name sub-folders.*\['birds'\]"):
        image_dataset_from_directory(root, class_names=["birds"], verbose=False)


def test_unbatched_samples(pets):
    root, _ = pets
    ds = image_dataset_from_directory(root, batch_size=None, image_size=(4, 6), shuffle=False,
                                      verbose=False)
    x, y = next(iter(ds))
    assert len(ds) == 5 and x.shape == (4, 6, 3) and y.shape == ()


def test_bilinear_downscale_by_two_averages_blocks(tmp_path):
    # Half-pixel bilinear without antialiasing samples at the centre of each 2x2 block.
    image = _png(tmp_path / "a/img.png", _rgb(7, size=(8, 6)))
    ds = image_dataset_from_directory(tmp_path, image_size=(4, 3), shuffle=False, verbose=False)
    x, _ = next(iter(ds))
    blocks = image.astype(np.float64).reshape(4, 2, 3, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(x[0].numpy(), blocks, rtol=0, atol=1e-4)


def test_nearest_picks_half_pixel_centres(tmp_path):
    image = _png(tmp_path / "a/img.png", _rgb(8, size=(6, 6)))
    ds = image_dataset_from_directory(tmp_path, image_size=(2, 3), interpolation="nearest",
                                      shuffle=False, verbose=False)
    x, _ = next(iter(ds))
    rows = np.floor((np.arange(2) + 0.5) * 3).astype(int)  # source = floor((i + 0.5) * scale)
    cols = np.floor((np.arange(3) + 0.5) * 2).astype(int)
    np.testing.assert_array_equal(x[0].numpy(), image[np.ix_(rows, cols)].astype(np.float32))


def test_crop_to_aspect_ratio_takes_centred_window(tmp_path):
    image = _png(tmp_path / "a/wide.png", _rgb(9, size=(4, 10)))
    ds = image_dataset_from_directory(tmp_path, image_size=(2, 2), crop_to_aspect_ratio=True,
                                      shuffle=False, verbose=False)
    x, _ = next(iter(ds))
    window = image[:, 3:7].astype(np.float64)  # 4x4 window, (10 - 4) // 2 = 3 from the left
    np.testing.assert_allclose(x[0].numpy(), window.reshape(2, 2, 2, 2, 3).mean(axis=(1, 3)),
                               atol=1e-4)


def test_color_modes_and_jpeg(tmp_path):
    rgb = _rgb(10, size=(8, 8))
    Image.fromarray(rgb).save(tmp_path / "photo.jpg", quality=95)
    (tmp_path / "a").mkdir()
    os.replace(tmp_path / "photo.jpg", tmp_path / "a/photo.jpg")
    Image.fromarray(np.dstack([rgb, np.full((8, 8), 77, np.uint8)])).save(tmp_path / "a/t.png")
    for mode, channels in (("grayscale", 1), ("rgb", 3), ("rgba", 4)):
        ds = image_dataset_from_directory(tmp_path, color_mode=mode, image_size=(8, 8),
                                          shuffle=False, verbose=False)
        x, _ = next(iter(ds))
        assert x.shape == (2, 8, 8, channels)
    reference = np.asarray(Image.open(tmp_path / "a/photo.jpg").convert("RGB"), np.float32)
    np.testing.assert_array_equal(x[0, ..., :3].numpy(), reference)  # Pillow's own decoding
    assert x[1, ..., 3].unique().tolist() == [77.0] and x[0, ..., 3].unique().tolist() == [255.0]


def test_corrupt_image_is_reported_by_name(tmp_path):
    _png(tmp_path / "a/good.png", _rgb(11))
    (tmp_path / "a/broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    ds = image_dataset_from_directory(tmp_path, image_size=(4, 6), shuffle=False, verbose=False)
    with pytest.raises(ValueError, match=r"could not read image .*broken\.jpg"):
        list(ds)


def test_validation_split_subsets_are_disjoint_and_deterministic(tmp_path, capsys):
    for i in range(10):
        _png(tmp_path / ("a" if i < 6 else "b") / f"{i}.png", _rgb(i))
    kwargs = {"image_size": (4, 6), "validation_split": 0.3, "seed": 42}
    train = image_dataset_from_directory(tmp_path, subset="training", **kwargs)
    val = image_dataset_from_directory(tmp_path, subset="validation", **kwargs)
    out = capsys.readouterr().out
    assert "Found 10 files belonging to 2 classes." in out
    assert "Using 7 files for training." in out and "Using 3 files for validation." in out
    assert len(train.file_paths) == 7 and len(val.file_paths) == 3  # int(0.3 * 10) = 3
    assert set(train.file_paths).isdisjoint(val.file_paths)
    assert len(set(train.file_paths) | set(val.file_paths)) == 10
    both = image_dataset_from_directory(tmp_path, subset="both", verbose=False, **kwargs)
    assert [d.file_paths for d in both] == [train.file_paths, val.file_paths]
    other = image_dataset_from_directory(tmp_path, subset="validation", verbose=False,
                                         **{**kwargs, "seed": 7})
    assert other.file_paths != val.file_paths  # the seed decides the split
    # Labels travel with their files through the shuffle.
    for x, y in both[1]:
        for image, label, path in zip(x, y, both[1].file_paths, strict=True):
            assert label.item() == (0 if os.path.basename(os.path.dirname(path)) == "a" else 1)
            i = int(os.path.basename(path)[:-4])
            np.testing.assert_array_equal(image.numpy(), _rgb(i).astype(np.float32))


def test_epochs_reshuffle_reproducibly_with_seed(tmp_path):
    for i in range(8):
        _png(tmp_path / "a" / f"{i}.png", np.full((2, 2, 3), i, np.uint8))

    def epochs(seed):
        ds = image_dataset_from_directory(tmp_path, image_size=(2, 2), batch_size=8, seed=seed,
                                          verbose=False)
        return [next(iter(ds))[0][:, 0, 0, 0].tolist() for _ in range(3)]

    first = epochs(3)
    assert first == epochs(3)
    assert first[0] != first[1] and sorted(first[0]) == list(range(8))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"validation_split": 0.2, "subset": "training"}, "needs a seed"),
        ({"validation_split": 0.2}, "go together"),
        ({"subset": "training"}, "go together"),
        ({"validation_split": 1.5, "subset": "training", "seed": 1}, "between 0 and 1"),
        ({"validation_split": 0.2, "subset": "testing", "seed": 1}, "subset must be one of"),
        ({"label_mode": "sparse"}, "label_mode must be one of"),
        ({"color_mode": "cmyk"}, "color_mode must be one of"),
        ({"interpolation": "lanczos3"}, "interpolation must be one of"),
        ({"image_size": (0, 4)}, "image_size must be"),
        ({"batch_size": 0}, "batch_size must be"),
        ({"labels": "folders"}, "labels must be 'inferred', None or a list"),
        ({"labels": [0, 1]}, "labels has 2 entries but .* holds 6 image files"),
        ({"labels": None, "class_names": ["cats"]}, "class_names can only be given"),
    ],
)
def test_argument_errors(pets, kwargs, message):
    root, _ = pets
    with pytest.raises(ValueError, match=message):
        image_dataset_from_directory(root, verbose=False, **kwargs)


def test_binary_needs_two_classes(tmp_path):
    for name in ("a", "b", "c"):
        _png(tmp_path / name / "x.png", _rgb(0))
    with pytest.raises(ValueError, match="exactly 2 classes"):
        image_dataset_from_directory(tmp_path, label_mode="binary", verbose=False)


def test_empty_directory(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(ValueError, match="No images found"):
        image_dataset_from_directory(tmp_path, verbose=False)


def test_list_image_files_formats_and_links(pets, tmp_path):
    root, images = pets
    elsewhere = tmp_path / "elsewhere"
    _png(elsewhere / "e.png", _rgb(12))
    (root / "cats" / "linked").symlink_to(elsewhere, target_is_directory=True)
    paths, labels, names = list_image_files(root, formats=(".png",))
    assert [os.path.relpath(p, root) for p in paths] == list(images)  # .PNG matches too
    paths_linked, labels_linked, _ = list_image_files(root, follow_links=True)
    assert str(root / "cats/linked/e.png") in paths_linked
    assert labels_linked.tolist() == [0, 0, 0, 0, 1, 1] and names == ["cats", "dogs"]
    all_files, none, no_names = list_image_files(root, labels=None)
    assert none is None and no_names is None
    assert str(root / ".ipynb_checkpoints/x.png") in all_files  # whole tree without classes
