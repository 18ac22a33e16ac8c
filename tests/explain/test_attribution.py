"""Grad-CAM and saliency against their definitions worked out by hand for small models."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import cnnlab
from cnnlab.explain import grad_cam, saliency
from cnnlab.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D


def correlate_same(image, kernel, bias):
    """(H, W, C) image, (3, 3, C, K) kernel, 'same' zero padding -> (H, W, K)."""
    h, w, _ = image.shape
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)))
    out = np.zeros((h, w, kernel.shape[-1])) + bias
    for i in range(3):
        for j in range(3):
            out += padded[i:i + h, j:j + w] @ kernel[i, j]
    return out


def conv_dense_model(softmax=False, seed=0):
    rng = np.random.default_rng(seed)
    model = cnnlab.Sequential([
        Input((8, 8, 1)),
        Conv2D(2, 3, padding="same", activation="relu", name="conv"),
        Flatten(),
        Dense(3, activation="softmax" if softmax else None, name="head"),
    ])
    weights = [rng.normal(size=(3, 3, 1, 2)), rng.normal(size=2) * 0.1,
               rng.normal(size=(128, 3)), rng.normal(size=3)]
    model.set_weights([w.astype(np.float32) for w in weights])
    return model, weights


def reference_cam(x, weights, class_index, through_softmax=False):
    """Selvaraju et al.: alpha_k = mean ∂y_c/∂A_k, cam = ReLU(Σ alpha_k A_k) / max."""
    kernel, bias, dense, dense_bias = weights
    acts = np.maximum(correlate_same(x, kernel, bias), 0.0)          # (8, 8, 2)
    grads = dense.reshape(8, 8, 2, 3)                                  # ∂z/∂A, Flatten order
    if through_softmax:  # ∂p_c/∂A = p_c (∂z_c/∂A − Σ_j p_j ∂z_j/∂A)
        z = acts.reshape(-1) @ dense + dense_bias
        p = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        grad = p[class_index] * (grads[..., class_index] - grads @ p)
    else:
        grad = grads[..., class_index]
    alpha = grad.mean(axis=(0, 1))
    cam = np.maximum((acts * alpha).sum(axis=-1), 0.0)
    return cam / cam.max() if cam.max() > 0 else cam


def test_grad_cam_matches_the_definition_and_uses_logits_under_softmax():
    x = np.random.default_rng(1).normal(size=(4, 8, 8, 1))
    plain, weights = conv_dense_model()
    with_softmax, _ = conv_dense_model(softmax=True)
    predicted = plain(torch.tensor(x, dtype=torch.float32)).argmax(1).numpy()
    expected = np.stack([reference_cam(x[i, ..., ], weights, predicted[i]) for i in range(4)])
    np.testing.assert_allclose(grad_cam(plain, x), expected, atol=1e-5)
    np.testing.assert_allclose(grad_cam(with_softmax, x), expected, atol=1e-5)
    # The softmax gradient would give other maps, so the pre-softmax score really is used.
    through = np.stack([reference_cam(x[i], weights, predicted[i], True) for i in range(4)])
    assert np.abs(through - expected).max() > 1e-2


def test_class_index_for_all_samples_or_each_sample():
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 1))
    model, weights = conv_dense_model()
    for index in (0, 2):
        expected = np.stack([reference_cam(x[i], weights, index) for i in range(2)])
        np.testing.assert_allclose(grad_cam(model, x, class_index=index), expected, atol=1e-5)
    per_sample = grad_cam(model, x, class_index=[2, 0])
    np.testing.assert_allclose(per_sample[1], reference_cam(x[1], weights, 0), atol=1e-5)
    for bad in (3, -1, [0, 1, 2], 1.5):
        with pytest.raises(ValueError, match="class_index"):
            grad_cam(model, x, class_index=bad)


def square_detector():
    """A 3x3 'bright blob' filter, max pooling, and a class that sums the pooled map."""
    model = cnnlab.Sequential([
        Input((16, 16, 1)),
        Conv2D(1, 3, padding="same", activation="relu"),
        MaxPooling2D(2, name="pool"),
        Flatten(),
        Dense(2),
    ])
    model.set_weights([np.full((3, 3, 1, 1), 1 / 9), np.zeros(1),
                       np.stack([np.ones(64), -np.ones(64)], axis=1), np.zeros(2)])
    return model


@pytest.mark.parametrize("top,left", [(2, 3), (10, 9)])
@pytest.mark.parametrize("layer", [None, "pool"])  # "pool" is 8x8, upsampled to 16x16
def test_grad_cam_highlights_the_quadrant_with_the_square(top, left, layer):
    image = np.zeros((1, 16, 16, 1), dtype=np.float32)
    image[0, top:top + 4, left:left + 4] = 1.0
    heat = grad_cam(square_detector(), image, class_index=0, layer=layer)[0]
    assert heat.shape == (16, 16) and heat.min() >= 0.0 and heat.max() == pytest.approx(1.0)
    rows, cols = slice(top // 8 * 8, top // 8 * 8 + 8), slice(left // 8 * 8, left // 8 * 8 + 8)
    assert heat[rows, cols].sum() / heat.sum() > 0.9
    peak = np.unravel_index(heat.argmax(), heat.shape)
    assert top - 1 <= peak[0] <= top + 4 and left - 1 <= peak[1] <= left + 4
    # The other class is against bright squares: no position speaks for it, and grad_cam says so.
    with pytest.warns(UserWarning, match=r"image 0 \(class 1\): the weighted sum"):
        assert grad_cam(square_detector(), image, class_index=1, layer=layer).max() == 0.0


@pytest.mark.filterwarnings("ignore:grad_cam")  # random weights may leave a map blank
def test_default_layer_is_the_last_convolution():
    model = cnnlab.Sequential([Input((8, 8, 2)), Conv2D(3, 3, activation="relu", name="c1"),
                               Conv2D(2, 3, activation="relu", name="c2"), Flatten(), Dense(2)])
    x = np.random.default_rng(3).normal(size=(2, 8, 8, 2))
    np.testing.assert_array_equal(grad_cam(model, x), grad_cam(model, x, layer="c2"))
    with pytest.raises(ValueError, match="no convolution layer"):
        grad_cam(cnnlab.Sequential([Input((4,)), Dense(2)]), np.zeros((1, 4)))


def test_saliency_is_zero_where_weights_mask_the_input():
    model = cnnlab.Sequential([Input((4, 6, 2)), Flatten(), Dense(3)])
    kernel = np.random.default_rng(4).normal(size=(4, 6, 2, 3))
    kernel[:, 3:] = 0.0                    # the right half cannot influence any class
    model.set_weights([kernel.reshape(48, 3).astype(np.float32), np.zeros(3, np.float32)])
    x = np.random.default_rng(5).normal(size=(2, 4, 6, 2))
    maps = saliency(model, x, class_index=1)
    assert maps.shape == (2, 4, 6)
    assert np.all(maps[:, :, 3:] == 0.0)
    expected = np.abs(kernel[..., 1]).max(axis=-1)   # |∂score/∂x| = |w|, max over channels
    np.testing.assert_allclose(maps, np.stack([expected, expected]), rtol=1e-6)


def test_saliency_matches_finite_differences():
    model = cnnlab.Sequential([Input((5, 5, 2)), Conv2D(3, 3, activation="tanh"), Flatten(),
                               Dense(2, activation="softmax")]).double()
    x = np.random.default_rng(6).normal(size=(1, 5, 5, 2))
    maps = saliency(model, x)

    def logit(values):
        out = model(torch.tensor(values), training=False)
        return out._keras_logits[0].detach().numpy()

    cls = int(logit(x).argmax())
    eps, numeric = 1e-6, np.zeros((5, 5, 2))
    for index in np.ndindex(5, 5, 2):
        step = np.zeros_like(x)
        step[(0, *index)] = eps
        numeric[index] = (logit(x + step)[cls] - logit(x - step)[cls]) / (2 * eps)
    np.testing.assert_allclose(maps[0], np.abs(numeric).max(axis=-1), rtol=1e-5, atol=1e-9)


def lenet_like(seed=0):
    """Conv relu -> max pool -> conv relu -> max pool -> Flatten -> Dense relu -> softmax."""
    torch.manual_seed(seed)
    return cnnlab.Sequential([Input((16, 16, 1)), Conv2D(4, 3, activation="relu"),
                              MaxPooling2D(2), Conv2D(6, 3, activation="relu", name="last"),
                              MaxPooling2D(2), Flatten(), Dense(8, activation="relu"),
                              Dense(3, activation="softmax")])


def plain_torch_cam(model, x):
    """The same network in plain torch ops (NCHW; Flatten in Keras's HWC order), and Grad-CAM of
    the predicted class's logit: alpha_k = mean_ij ∂y_c/∂A_k(i,j), raw = Σ_k alpha_k A_k."""
    k1, b1, k2, b2, w3, b3, w4, b4 = [torch.tensor(w, dtype=torch.float64)
                                      for w in model.get_weights()]
    t = torch.tensor(x, dtype=torch.float64).permute(0, 3, 1, 2)
    h = F.max_pool2d(F.relu(F.conv2d(t, k1.permute(3, 2, 0, 1), b1)), 2)
    acts = F.relu(F.conv2d(h, k2.permute(3, 2, 0, 1), b2)).requires_grad_(True)
    flat = F.max_pool2d(acts, 2).permute(0, 2, 3, 1).reshape(len(x), -1)
    logits = F.relu(flat @ w3 + b3) @ w4 + b4
    c = logits.argmax(1)
    (grads,) = torch.autograd.grad(logits.gather(1, c[:, None]).sum(), acts)
    alpha = grads.mean(dim=(2, 3), keepdim=True)
    raw = (alpha * acts).sum(1).detach()                       # (N, 6, 6)
    hires = (grads * acts).sum(1).detach()
    return raw, hires, c


def upsample_and_scale(raw, rectify=True):
    cam = F.relu(raw) if rectify else raw
    cam = F.interpolate(cam[:, None], size=(16, 16), mode="bilinear", align_corners=False)[:, 0]
    peak = cam.abs().amax(dim=(1, 2), keepdim=True)
    return torch.where(peak > 0, cam / peak, 0.0).numpy()


def test_grad_cam_on_a_lenet_like_model_matches_plain_torch_autograd():
    model = lenet_like(seed=3).double()      # seed 3: image 4's map is negative everywhere
    x = np.random.default_rng(7).random((6, 16, 16, 1))
    raw, hires, predicted = plain_torch_cam(model, x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cam = grad_cam(model, x)
    np.testing.assert_allclose(cam, upsample_and_scale(raw), atol=1e-10)
    np.testing.assert_allclose(grad_cam(model, x, rectify=False),
                               upsample_and_scale(raw, rectify=False), atol=1e-10)
    np.testing.assert_allclose(grad_cam(model, x, method="hirescam", rectify=False),
                               upsample_and_scale(hires, rectify=False), atol=1e-10)
    blank = [i for i in range(6) if raw[i].max() <= 0]
    assert blank and [i for i in range(6) if cam[i].max() == 0] == blank
    assert len(caught) == (1 if blank else 0)
    for i in blank:
        assert f"image {i} (class {int(predicted[i])})" in str(caught[0].message)


def test_hirescam_sums_to_the_logit_minus_the_bias_paths():
    """With Flatten -> Dense, the score is linear in A: Σ_ij Σ_k ∂y/∂A ⊙ A = y_c − bias."""
    model = cnnlab.Sequential([Input((6, 6, 1)), Conv2D(3, 3, activation="relu", name="c"),
                               Flatten(), Dense(2, name="d")]).double()
    rng = np.random.default_rng(8)
    model.set_weights([rng.normal(size=(3, 3, 1, 3)), rng.normal(size=3),
                       rng.normal(size=(48, 2)), np.array([0.3, -0.2])])
    x = rng.random((1, 6, 6, 1))
    acts = cnnlab.explain.feature_maps(model, "c", x)[0]           # (4, 4, 3)
    kernel, bias = model.get_layer("d").get_weights()
    logits = acts.reshape(-1) @ kernel + bias
    c = int(logits.argmax())
    hand = (kernel[:, c].reshape(4, 4, 3) * acts).sum(-1)            # ∂y_c/∂A = dense weights
    assert hand.sum() == pytest.approx(logits[c] - bias[c])
    got = grad_cam(model, x, method="hirescam", rectify=False)[0]
    up = F.interpolate(torch.tensor(hand)[None, None], size=(6, 6), mode="bilinear",
                       align_corners=False)[0, 0].numpy()
    np.testing.assert_allclose(got, up / np.abs(up).max(), atol=1e-10)
    with pytest.raises(ValueError, match="`method` must be 'gradcam' or 'hirescam'"):
        grad_cam(model, x, method="cam")


def test_an_all_negative_map_warns_and_the_signed_map_shows_it():
    """A Flatten head whose class counts every active position against it: alpha_k < 0."""
    image = np.zeros((1, 16, 16, 1), dtype=np.float32)
    image[0, 2:6, 3:7] = 1.0
    model = square_detector()
    with pytest.warns(UserWarning) as record:
        blank = grad_cam(model, image, class_index=1)
    message = str(record[0].message)
    assert "1 of 1 heatmaps are 0 everywhere" in message and "image 0 (class 1)" in message
    assert "rectify=False" in message and np.all(blank == 0.0)
    # Class 1's dense weights are minus class 0's: its signed map is minus class 0's map.
    signed = grad_cam(model, image, class_index=1, rectify=False)
    np.testing.assert_allclose(signed, -grad_cam(model, image, class_index=0), atol=1e-6)
    assert signed.min() == pytest.approx(-1.0)
    # Dead activations give their own reason.
    with pytest.warns(UserWarning, match="all activations of conv2d.* are 0"):
        grad_cam(model, np.zeros_like(image), class_index=0)
