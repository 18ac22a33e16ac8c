"""Training recipes build, compile with their schedule, and train a step."""

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
