"""Mixed-precision policies and dynamic loss scaling; device choice."""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import device, mixed_precision
from cnnlab.layers import Conv2D, Dense, Flatten


@pytest.fixture(autouse=True)
def _float32_after():
    yield
    mixed_precision.set_global_policy("float32")
    device.set_device(None)


def small_model():
    model = cnnlab.Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
                               Flatten(), Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_bfloat16_policy_computes_in_bf16_and_keeps_float32_weights():
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = small_model()
    seen = []
    model.layers[0].register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 64)
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert seen and set(seen) == {torch.bfloat16}
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert history.history["loss"][-1] < history.history["loss"][0]
    out = model.predict(x[:5], verbose=0)
    assert out.dtype == np.float32
    mixed_precision.set_global_policy("float32")
    np.testing.assert_allclose(out, model.predict(x[:5], verbose=0), atol=3e-2)


def test_loss_scaler_skips_non_finite_steps_and_adapts_the_scale():
    scaler = mixed_precision.LossScaler(initial_scale=8.0, growth_interval=2)
    w = torch.nn.Parameter(torch.ones(3))
    scaler.backward((w * 2).sum())
    np.testing.assert_allclose(w.grad.numpy(), [16, 16, 16])  # scaled by 8
    assert scaler.unscale([w]) is True
    np.testing.assert_allclose(w.grad.numpy(), [2, 2, 2])
    w.grad = torch.tensor([1.0, float("inf"), 0.0])
    assert scaler.unscale([w]) is False and scaler.scale == 4.0
    for _ in range(2):
        w.grad = torch.ones(3)
        assert scaler.unscale([w])
    assert scaler.scale == 8.0


def test_float16_policy_trains_with_loss_scaling_on_cpu():
    mixed_precision.set_global_policy("mixed_float16")
    model = small_model()
    rng = np.random.default_rng(1)
    x, y = rng.random((32, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 32)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert isinstance(model.loss_scaler, mixed_precision.LossScaler)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="unknown dtype policy 'mixed_int8'"):
        mixed_precision.set_global_policy("mixed_int8")


def test_device_choice(monkeypatch):
    assert device.available()[-1] == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device.available()[0] == "cuda" and device.default_device().type == "cuda"
    monkeypatch.setenv("CNNLAB_DEVICE", "cpu")
    assert device.default_device().type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="not available"):
        device.set_device("cuda")
    monkeypatch.setenv("CNNLAB_DEVICE", "cuda:0")
    with pytest.raises(ValueError, match="CNNLAB_DEVICE"):
        device.default_device()
