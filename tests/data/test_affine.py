"""Batched affine warps against their definitions: NumPy (rot90, flips, np.pad modes), linear
ramps whose bilinear samples are known exactly, and scipy.ndimage.affine_transform."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from cnnlab.data.affine import affine_matrices, flip_where, warp

NP_PAD = {"nearest": "edge", "reflect": "symmetric", "grid-wrap": "wrap"}


def image(height: int = 5, width: int = 5, channels: int = 2, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (height, width, channels)).astype("f4")


def run(img: np.ndarray, fill_mode: str = "nearest", fill_value: float = 0.0,
        interpolation: str = "bilinear", **params: float) -> np.ndarray:
    tensors = {k: torch.tensor([v]) for k, v in params.items()}
    matrices = affine_matrices(1, **tensors)
    return warp(torch.from_numpy(img)[None], matrices, fill_mode, fill_value,
                interpolation)[0].numpy()


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_rotation_by_90_degrees_is_rot90(interpolation):
    img = image()
    for k in (1, 2, 3):
        out = run(img, interpolation=interpolation, theta=90.0 * k)
        np.testing.assert_allclose(out, np.rot90(img, k, axes=(0, 1)), atol=1e-3)


def test_rotation_turns_non_square_images_about_their_centre():
    img = image(4, 6)
    np.testing.assert_allclose(run(img, theta=180.0), img[::-1, ::-1], atol=1e-3)


def test_batch_gets_one_matrix_per_image():
    img = torch.from_numpy(image(6, 6, 3))
    batch = img.expand(3, -1, -1, -1)
    out = warp(batch, affine_matrices(3, theta=torch.tensor([90.0, 180.0, 270.0])))
    for k in range(3):
        np.testing.assert_allclose(out[k].numpy(), np.rot90(img.numpy(), k + 1, axes=(0, 1)),
                                   atol=1e-3)


@pytest.mark.parametrize("mode", ["constant", "grid-constant", "nearest", "reflect",
                                  "grid-wrap"])
@pytest.mark.parametrize("tx, ty", [(2, 0), (-3, 0), (0, 1), (2, -2)])
def test_whole_pixel_shift_equals_padding_then_slicing(mode, tx, ty):
    """``tx = k`` samples k pixels to the right: out[r, c] = padded[r + ty, c + tx]."""
    img, pad = image(5, 6), 4
    if mode in NP_PAD:
        padded = np.pad(img, ((pad, pad), (pad, pad), (0, 0)), mode=NP_PAD[mode])
    else:
        padded = np.pad(img, ((pad, pad), (pad, pad), (0, 0)), constant_values=-7.0)
    expected = padded[pad + ty:pad + ty + 5, pad + tx:pad + tx + 6]
    out = run(img, mode, fill_value=-7.0, tx=float(tx), ty=float(ty))
    np.testing.assert_allclose(out, expected, atol=1e-3)


def test_wrap_equals_np_roll():
    img = image(4, 7)
    np.testing.assert_allclose(run(img, "grid-wrap", tx=3.0),
                               np.roll(img, -3, axis=1), atol=1e-3)


def ramp(height: int, width: int) -> np.ndarray:
    rows, cols = np.mgrid[0:height, 0:width].astype("f4")
    return (10 * rows + cols)[:, :, None]


def test_zoom_in_by_two_halves_the_slope_of_a_ramp():
    """zx = zy = 0.5 shows the central half enlarged 2x; bilinear samples a ramp exactly."""
    out = run(ramp(8, 8), zx=0.5, zy=0.5)[:, :, 0]
    coords = 3.5 + 0.5 * (np.arange(8) - 3.5)  # where each output pixel samples
    np.testing.assert_allclose(out, 10 * coords[:, None] + coords[None, :], atol=1e-4)


def test_shear_moves_a_known_point():
    """Shear s: input x = x - sin(s)·y, input y = cos(s)·y (centred)."""
    out = run(ramp(9, 9), shear=30.0)[:, :, 0]
    y, x = 2.0, 1.0  # centred output point, pixel (row 6, col 5)
    x_in, y_in = x - math.sin(math.radians(30)) * y, math.cos(math.radians(30)) * y
    assert out[6, 5] == pytest.approx(10 * (y_in + 4) + (x_in + 4), abs=1e-4)


def test_numpy_and_torch_parameters_give_the_same_matrices():
    rng = np.random.default_rng(5)
    params = {"theta": rng.uniform(-90, 90, 6), "tx": rng.uniform(-3, 3, 6),
              "shear": rng.uniform(-20, 20, 6), "zy": rng.uniform(0.5, 2, 6),
              "flip_x": rng.random(6) < 0.5}
    from_numpy = affine_matrices(6, **params)
    from_torch = affine_matrices(6, **{k: torch.from_numpy(v) for k, v in params.items()})
    assert from_numpy.dtype == from_torch.dtype == torch.float32
    torch.testing.assert_close(from_numpy, from_torch)
    sign_x = np.where(params["flip_x"], -1.0, 1.0)
    np.testing.assert_allclose(from_numpy[:, 1, 0], sign_x * np.sin(np.deg2rad(params["theta"])),
                               rtol=1e-6)  # sx sin(theta) with sx = ±1


def test_flips_mirror_the_output():
    img = image(4, 6)
    flips = {"flip_x": torch.tensor([True]), "flip_y": torch.tensor([False])}
    out = warp(torch.from_numpy(img)[None], affine_matrices(1, **flips))[0].numpy()
    np.testing.assert_allclose(out, img[:, ::-1], atol=1e-4)
    both = affine_matrices(1, theta=torch.tensor([90.0]), flip_x=torch.tensor([True]),
                           flip_y=torch.tensor([True]))
    img = image(5, 5)
    out = warp(torch.from_numpy(img)[None], both)[0].numpy()
    np.testing.assert_allclose(out, np.rot90(img, 1, axes=(0, 1))[::-1, ::-1], atol=1e-3)


def test_flip_where_flips_only_selected_images():
    batch = torch.from_numpy(np.stack([image(seed=s) for s in range(3)]))
    out = flip_where(batch, torch.tensor([True, False, True]), axis=2)
    np.testing.assert_array_equal(out[0].numpy(), batch[0].numpy()[:, ::-1])
    np.testing.assert_array_equal(out[1].numpy(), batch[1].numpy())
    np.testing.assert_array_equal(out[2].numpy(), batch[2].numpy()[:, ::-1])


def scipy_reference(img: np.ndarray, matrix: np.ndarray, mode: str, cval: float) -> np.ndarray:
    """The same pull map in scipy's (row, col) coordinates, one channel at a time."""
    height, width = img.shape[:2]
    swap = np.array([[0, 1], [1, 0]])
    linear, offset = swap @ matrix[:, :2] @ swap, swap @ matrix[:, 2]
    centre = np.array([(height - 1) / 2, (width - 1) / 2])
    shift = centre - linear @ centre + offset
    return np.stack([ndimage.affine_transform(img[:, :, c].astype("f8"), linear, shift,
                                              order=1, mode=mode, cval=cval)
                     for c in range(img.shape[2])], axis=-1)


@pytest.mark.parametrize("mode", ["constant", "grid-constant", "nearest", "reflect",
                                  "grid-wrap"])
def test_general_warp_matches_scipy(mode):
    img = image(7, 9, 3, seed=3)
    params = {"theta": 33.0, "tx": 1.3, "ty": -0.7, "shear": 12.0, "zx": 0.8, "zy": 1.25}
    matrices = affine_matrices(1, **{k: torch.tensor([v]) for k, v in params.items()})
    out = warp(torch.from_numpy(img)[None], matrices, mode, 5.0)[0].numpy()
    expected = scipy_reference(img, matrices[0].double().numpy(), mode, 5.0)
    np.testing.assert_allclose(out, expected, atol=2e-3)


def test_bad_options_are_named():
    batch, matrices = torch.zeros(1, 3, 3, 1), affine_matrices(1)
    with pytest.raises(ValueError, match="fill_mode .* got 'mirror'"):
        warp(batch, matrices, "mirror")
    with pytest.raises(ValueError, match="interpolation .* got 'cubic'"):
        warp(batch, matrices, interpolation="cubic")
