"""``bench/gpu.py`` on the CPU: its PyTorch recipes are the cnnlab recipes, its round-trip check
catches a per-batch host sync and finds none in either loop, and it prints a full table."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import mixed_precision
from cnnlab.optimizers.schedules import CosineDecay
from cnnlab.zoo.recipes import get_recipe

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import _torch_recipes  # noqa: E402
import _torch_worker  # noqa: E402
import gpu  # noqa: E402

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def float32_policy():
    yield
    mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", ["fast", "wide"])
def test_the_pytorch_recipes_have_the_cnnlab_recipes_trainable_weights(name):
    model = get_recipe(name).build((28, 28, 1), 10)
    expected = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    net = _torch_recipes.NETS[name](10)
    assert sum(p.numel() for p in net.parameters()) == expected
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_the_pytorch_schedule_is_the_recipe_schedule():
    recipe = get_recipe("fast")
    model = recipe.build((28, 28, 1), 10)
    recipe.compile(model, steps_per_epoch=10, epochs=3)
    schedule = CosineDecay.from_config(model.optimizer.get_config()["learning_rate"]["config"])
    factor = _torch_recipes.warmup_cosine(recipe, 30)
    for step in (0, 1, 3, 6, 7, 15, 29, 30):
        assert float(schedule(step)) == pytest.approx(recipe.peak_lr * factor(step), rel=1e-5,
                                                      abs=1e-9)


def test_the_pytorch_augmentation_mirrors_or_shifts_by_at_most_two_pixels():
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28)
    flipped_or_not = _torch_recipes.augmenter(shift_pixels=0.0)(x)
    same = ((flipped_or_not - x).abs() < 1e-5).flatten(1).all(1)  # grid_sample rounding
    mirrored = ((flipped_or_not - x.flip(3)).abs() < 1e-5).flatten(1).all(1)
    assert bool((same | mirrored).all()) and 10 < int(same.sum()) < 54
    dot = torch.zeros(256, 1, 28, 28)
    dot[:, :, 14, 14] = 1.0  # bilinear shifts keep an inner pixel's mass
    moved = _torch_recipes.augmenter(shift_pixels=2.0)(dot)
    torch.testing.assert_close(moved.sum(dim=(1, 2, 3)), torch.ones(256))
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    centre_row = (moved[:, 0] * rows).sum(dim=(1, 2))
    centre_col = (moved[:, 0] * cols).sum(dim=(1, 2))
    assert float((centre_row - 14).abs().max()) <= 2.0 + 1e-4
    from_either = torch.minimum((centre_col - 14).abs(), (centre_col - 13).abs())  # 13: mirrored
    assert float(from_either.max()) <= 2.0 + 1e-4
    assert float((centre_row - 14).abs().max()) > 1.5  # the shifts use their range


def test_the_round_trip_check_counts_a_per_batch_item_and_none_in_the_two_loops():
    data = gpu.random_data((28, 28, 1), 8 * 16, CPU)

    def reads_every_loss(n: int) -> float:
        total = 0.0
        for start in range(0, n, 16):
            total += float(data.x[start:start + 16].mean())  # one host read per batch
        return total

    assert gpu.host_syncs_per_step(reads_every_loss, 8, 16, CPU) == pytest.approx(1.0)
    model, module, optimizer = gpu.overhead.pair(gpu._nets.NETS["lenet"])
    y = data.y

    def torch_fit(n: int) -> float:
        return _torch_worker.train_pass(module, optimizer, data.x[:n], y[:n], 16)[0]

    def cnnlab_fit(n: int) -> float:
        return model.fit(data.x[:n], y[:n], batch_size=16, shuffle=False,
                         verbose=0).history["loss"][-1]

    assert gpu.host_syncs_per_step(torch_fit, 8, 16, CPU) == 0
    assert gpu.host_syncs_per_step(cnnlab_fit, 8, 16, CPU) == 0


def test_the_script_prints_every_implementation_of_a_net_and_a_recipe(monkeypatch, capsys):
    monkeypatch.setattr(gpu, "PREDICT_IMAGES", 300)
    gpu.main(["--device", "cpu", "--cases", "lenet,fast", "--variants", "fp32,bf16,nchw",
              "--steps", "2", "--rounds", "2", "--predict-rounds", "1"])
    out = capsys.readouterr().out
    assert "no CUDA device in use" in out
    for case in ("lenet", "fast"):
        table = out.split(f"**{case}**")[1].split("**")[0]
        rows = {line.split("|")[1].strip(): [cell.strip() for cell in line.split("|")[2:-1]]
                for line in table.splitlines() if line.startswith("| ")
                and not line.startswith("| implementation")}
        assert list(rows) == ["cnnlab-fp32", "pytorch-fp32", "cnnlab-bf16", "pytorch-bf16",
                              "pytorch-nchw"]
        for label, (ms, s_epoch, rate, train, p_rate, predict, memory, syncs, loss) in \
                rows.items():
            assert float(ms) > 0 and float(rate.replace(",", "")) > 0
            assert float(p_rate.replace(",", "")) > 0
            assert float(s_epoch) == pytest.approx(
                float(ms) * gpu.case_shape_and_batch(case)[2] / 1000, rel=0.01, abs=0.06)
            assert 0 < float(train) < 20 and 0 < float(predict) < 20
            assert memory == "-" and math.isfinite(float(loss))
            # on a CPU torch.optim's AdamW reads its step counters, one per parameter
            adamw_reads = 20 if case == "fast" and label.startswith("pytorch") else 0
            assert float(syncs) == adamw_reads
        assert rows["pytorch-fp32"][3] == "1.00"


def test_end_to_end_trains_a_recipe_from_device_tensors(capsys):
    cnnlab.set_random_seed(0)
    gpu.main(["--device", "cpu", "--end-to-end", "fast", "--seeds", "0", "--epochs", "1",
              "--limit", "1280"])
    row = [line for line in capsys.readouterr().out.splitlines()
           if line.startswith("| fast |")]
    _, name, seed, seconds, accuracy, _ = row[0].split("|")
    assert int(seed) == 0 and float(seconds) > 0 and 0.0 <= float(accuracy) <= 1.0


def test_unknown_cases_and_variants_are_named():
    with pytest.raises(SystemExit, match="--cases: unknown alexnet"):
        gpu.parse_args(["--cases", "lenet,alexnet"])
    with pytest.raises(SystemExit, match="--variants: unknown fp16"):
        gpu.parse_args(["--variants", "fp16"])
    with pytest.raises(SystemExit):
        gpu.parse_args(["--seeds", "0,one"])


@pytest.mark.slow
def test_the_compile_variant_runs_both_sides_through_torch_compile(monkeypatch, capsys):
    monkeypatch.setattr(gpu, "PREDICT_IMAGES", 300)
    gpu.main(["--device", "cpu", "--cases", "lenet", "--variants", "compile", "--steps", "2",
              "--rounds", "1", "--predict-rounds", "1"])
    rows = [line.split("|") for line in capsys.readouterr().out.splitlines()
            if line.startswith("| ") and "-compile" in line]
    assert [row[1].strip() for row in rows] == ["cnnlab-compile", "pytorch-compile"]
    assert all(float(row[9]) == 0 for row in rows)  # no per-batch host reads when compiled
