"""Training recipes build, compile with their schedule, train, and predict with test-time
flips."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import cnnlab
from cnnlab import mixed_precision
from cnnlab.zoo.recipes import get_recipe


@pytest.mark.parametrize("name", ["fast", "wide"])
def test_recipe_builds_compiles_and_trains_one_step(name):
    recipe = get_recipe(name)
    model = recipe.build((28, 28, 1), 10)
    recipe.compile(model, steps_per_epoch=2)
    rng = np.random.default_rng(0)
    x = rng.random((16, 28, 28, 1), dtype=np.float32)
    y = cnnlab.to_categorical(rng.integers(0, 10, 16), 10)
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(x, y)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(),
                                                        strict=True))
    lr = model.optimizer.learning_rate
    assert 0 < lr <= recipe.peak_lr
    # augmentation layers are identity at inference
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unknown_recipe():
    with pytest.raises(ValueError, match="recipes"):
        get_recipe("slow")


def cpu_flags() -> set[str]:
    info = Path("/proc/cpuinfo")
    if not info.exists():
        pytest.skip("needs /proc/cpuinfo (Linux)")
    lines = [line for line in info.read_text().splitlines() if line.startswith("flags")]
    return set(lines[0].split(":", 1)[1].split()) if lines else set()


def test_native_bfloat16_agrees_with_the_cpu_flags():
    flags = cpu_flags()
    assert mixed_precision.native_bfloat16("cpu") == bool(flags & {"avx512_bf16", "amx_bf16"})
    assert mixed_precision.native_bfloat16("meta") is False


@pytest.mark.parametrize("native, expected", [(True, "mixed_bfloat16"), (False, "float32")])
def test_recipe_uses_bf16_only_where_it_is_native(monkeypatch, native, expected):
    monkeypatch.setattr(mixed_precision, "native_bfloat16", lambda device="cpu": native)
    assert get_recipe("fast").policy_for("cpu") == expected


def test_recipe_schedule_spans_the_epochs_it_is_compiled_for():
    """Warm-up is 20 % of steps_per_epoch * epochs, the cosine decay the rest (the run's
    --epochs, not the recipe's default, when given)."""
    recipe = get_recipe("fast")
    for epochs, total in ((3, 30), (None, 10 * recipe.epochs)):
        model = recipe.build((28, 28, 1), 10)
        recipe.compile(model, steps_per_epoch=10, epochs=epochs)
        schedule = model.optimizer.get_config()["learning_rate"]["config"]
        assert schedule["warmup_steps"] == total // 5
        assert schedule["warmup_steps"] + schedule["decay_steps"] == total
        assert schedule["warmup_target"] == recipe.peak_lr


class _Halves(cnnlab.layers.Layer):
    """A stand-in classifier whose answer depends on the image's orientation: the
    probabilities of [left half brighter, right half brighter]."""

    def call(self, inputs, training=False):
        import torch

        width = inputs.shape[2]
        left = inputs[:, :, : width // 2].mean(dim=(1, 2, 3))
        right = inputs[:, :, width // 2:].mean(dim=(1, 2, 3))
        return torch.softmax(torch.stack([left, right], dim=1) * 10, dim=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2)


def test_test_time_flip_averages_each_image_and_its_mirror():
    model = cnnlab.Sequential([cnnlab.layers.Input((4, 6, 1)), _Halves()])
    x = np.zeros((3, 4, 6, 1), np.float32)
    x[0, :, :3] = 1.0  # left bright: one view says class 0, the mirror says class 1
    x[1, :, :3], x[1, :, 3:] = 0.9, 0.1
    x[2, :, :3], x[2, :, 3:] = 0.2, 0.3
    plain = model.predict(x, verbose=0)
    mirrored = model.predict(x[:, :, ::-1].copy(), verbose=0)
    recipe = get_recipe("fast")
    np.testing.assert_allclose(recipe.predict(model, x), (plain + mirrored) / 2, rtol=1e-6)
    np.testing.assert_allclose(recipe.predict(model, x), 0.5, atol=1e-6)  # symmetric model
    single = dataclasses.replace(recipe, test_time_flip=False)
    np.testing.assert_allclose(single.predict(model, x), plain, rtol=1e-6)
    labels = plain.argmax(axis=1)
    assert single.accuracy(model, x, labels) == 1.0
    assert single.accuracy(model, x, cnnlab.to_categorical(1 - labels, 2)) == 0.0


def test_test_time_flip_takes_tensors_where_they_live():
    """A tensor (e.g. already on the GPU) is mirrored as a tensor: same answer as the array."""
    import torch

    model = cnnlab.Sequential([cnnlab.layers.Input((4, 6, 1)), _Halves()])
    x = np.random.default_rng(0).random((5, 4, 6, 1), dtype=np.float32)
    recipe = get_recipe("fast")
    skewed = x.copy()
    skewed[..., :3, :] *= 3  # one view is not 0.5: only the left-right mirror evens it out
    np.testing.assert_allclose(recipe.predict(model, torch.from_numpy(skewed)),
                               recipe.predict(model, skewed), rtol=1e-6)
    labels = recipe.predict(model, skewed).argmax(axis=1)
    assert recipe.accuracy(model, torch.from_numpy(skewed), torch.from_numpy(labels)) == 1.0


@pytest.mark.slow
def test_fast_recipe_learns_in_one_short_epoch():
    """Real Fashion-MNIST, 6,000 images, one epoch of the fast recipe's schedule: chance is
    0.10 and the smoothed loss starts near ln 10 = 2.3; measured here (seeds 0-2): training
    accuracy 0.62-0.64, loss 1.30-1.35 (test accuracy is still near chance after so few
    steps: the batch-norm moving statistics have barely moved)."""
    from cnnlab.data.catalog import load_dataset

    data = load_dataset("fashion_mnist")
    x, y = data.x_train[:6000], cnnlab.to_categorical(data.y_train[:6000], 10)
    recipe = get_recipe("fast")
    model = recipe.build(data.input_shape, data.classes)
    recipe.compile(model, steps_per_epoch=47, epochs=1)
    mixed_precision.set_global_policy(recipe.policy_for("cpu"))
    history = model.fit(x, y, batch_size=recipe.batch_size, epochs=1, seed=0, verbose=0)
    assert history.history["accuracy"][0] > 0.45
    assert history.history["loss"][0] < 1.8
