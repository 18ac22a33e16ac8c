"""Image kernels through cnnlab's DepthwiseConv2D against a NumPy cross-correlation."""

import numpy as np
import pytest

from cnnlab.explain import KERNELS, apply_kernel, kernel_matrix
from cnnlab.layers import DepthwiseConv2D


def correlate_same(image, kernel):
    """Zero-padded 'same' cross-correlation per channel, TensorFlow's padding split."""
    kh, kw = kernel.shape
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(image.astype(np.float64),
                    ((top, kh - 1 - top), (left, kw - 1 - left), (0, 0)))
    out = np.zeros(image.shape, dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * padded[i:i + image.shape[0], j:j + image.shape[1]]
    return out


def test_kernel_values_have_the_known_structure():
    assert set(KERNELS) == {"identity", "blur", "box_blur", "sharpen", "outline", "sobel_top",
                            "sobel_bottom", "sobel_left", "sobel_right", "emboss"}
    for name in ("blur", "box_blur", "identity", "sharpen", "emboss"):
        assert KERNELS[name].sum() == pytest.approx(1.0)     # keep overall brightness
    assert KERNELS["outline"].sum() == 0
    np.testing.assert_array_equal(KERNELS["sobel_left"], -KERNELS["sobel_right"])
    np.testing.assert_array_equal(KERNELS["sobel_top"], -KERNELS["sobel_bottom"])
    np.testing.assert_array_equal(KERNELS["sobel_top"], KERNELS["sobel_left"].T)
    np.testing.assert_allclose(KERNELS["blur"], np.outer([1, 2, 1], [1, 2, 1]) / 16)
    # emboss is antisymmetric around its centre (a diagonal Sobel) plus the identity.
    np.testing.assert_array_equal(KERNELS["emboss"] + KERNELS["emboss"][::-1, ::-1],
                                  2 * KERNELS["identity"])


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_float_rgb_image_matches_numpy_correlation(name):
    image = np.random.default_rng(0).uniform(-1, 1, size=(9, 11, 3))
    out = apply_kernel(image, name)
    assert out.dtype == np.float32 and out.shape == image.shape
    np.testing.assert_allclose(out, correlate_same(image, KERNELS[name]), atol=1e-5)


def test_uint8_image_is_rounded_and_clipped_and_grayscale_keeps_its_shape():
    image = np.random.default_rng(1).integers(0, 256, size=(12, 10), dtype=np.uint8)
    out = apply_kernel(image, "sharpen")
    expected = np.clip(np.rint(correlate_same(image[..., None], KERNELS["sharpen"])), 0, 255)
    assert out.dtype == np.uint8 and out.shape == (12, 10)
    np.testing.assert_array_equal(out, expected[..., 0])
    np.testing.assert_array_equal(apply_kernel(image, "identity"), image)


def test_custom_even_kernel_pads_like_tensorflow():
    image = np.arange(30, dtype=np.float32).reshape(5, 6)
    kernel = np.array([[1.0, 2.0], [-1.0, 0.5]])
    out = apply_kernel(image, kernel)
    np.testing.assert_allclose(out, correlate_same(image[..., None], kernel)[..., 0], atol=1e-4)


def test_sobel_left_responds_where_the_left_is_brighter():
    image = np.zeros((6, 6), dtype=np.uint8)
    image[:, :3] = 200  # bright left half, edge between columns 2 and 3
    out = apply_kernel(image, "sobel-left")
    assert out[2:4, 2:4].min() > 0 and out[:, 4].max() == 0
    assert apply_kernel(image, "sobel_right")[2:4, 2:4].max() == 0


def test_names_aliases_and_errors():
    np.testing.assert_array_equal(kernel_matrix("Left Sobel"), KERNELS["sobel_left"])
    np.testing.assert_array_equal(kernel_matrix("edge"), KERNELS["outline"])
    with pytest.raises(ValueError, match="unknown kernel 'sobel-diagonal'"):
        kernel_matrix("sobel-diagonal")
    with pytest.raises(ValueError, match="2-D matrix"):
        kernel_matrix(np.ones(3))
    with pytest.raises(ValueError, match="image"):
        apply_kernel(np.ones((2, 2, 2, 2)), "blur")


def test_applying_a_kernel_leaves_automatic_layer_names_alone():
    apply_kernel(np.ones((4, 4)), "blur")
    assert DepthwiseConv2D(3).name == "depthwise_conv2d"
