"""The GPU path: cnnlab against the hand-written PyTorch loop on a CUDA device, with the data
and the augmentation on the device, in fp32, bf16 autocast, ``torch.compile`` and (for the
PyTorch loop) plain NCHW against channels_last.

    .venv/bin/python bench/gpu.py                                   # all cases, CUDA if present
    .venv/bin/python bench/gpu.py --cases lenet,fast --variants fp32,bf16 --rounds 5
    .venv/bin/python bench/gpu.py --end-to-end fast,wide --seeds 0,1,2   # time to accuracy
    .venv/bin/python bench/gpu.py --device cpu --cases lenet --steps 4 --rounds 1   # the logic

Cases: the five harness nets of ``bench/_nets.py`` (same initial weights on both sides, random
data like ``bench/overhead.py``) and the recipes ``fast`` and ``wide`` (``cnnlab.zoo.recipes``
against ``bench/_torch_recipes.py``: the same networks, augmentation on the device, AdamW
schedule, label smoothing). Per case every implementation is built and warmed up alone (its
peak device memory is measured then: ``torch.cuda.max_memory_allocated`` above what was
allocated before it was built: weights, gradients, optimizer state, activations, workspace),
checked for host round-trips, then timed in ``--rounds`` interleaved rounds of one ``fit`` of
``--steps`` batches each (the order rotated every round, ``torch.cuda.synchronize`` around each
timing); a ratio is the median of the per-round ratios to the PyTorch loop of the same variant
(``pytorch-nchw``: to ``pytorch-fp32``).

Variants: ``fp32``; ``bf16`` (cnnlab's policy ``'mixed_bfloat16'``, ``torch.autocast`` with
bfloat16 in the loop); ``compile`` (``compile(jit_compile=True)``, ``torch.compile(module)``);
``nchw`` (the PyTorch loop with its module and data in contiguous NCHW; cnnlab has no NCHW mode:
its convolutions always run channels-last).

Host round-trips: each implementation trains ``steps // 2`` and then ``steps`` batches under
``torch.profiler``; the events that cross between host and device and grow with the number of
batches, per batch, are the "host syncs/step" column: 0 means nothing crosses per batch (a
``fit`` call's fixed few, such as its final logs, do not count). On CUDA those events are the
copies (``Memcpy HtoD``/``DtoH``: an upload, or a device tensor read by Python, e.g.
``loss.item()``); on a CPU, which copies nothing, they are the tensor reads themselves
(``aten::_local_scalar_dense``, ``aten::nonzero``) — there ``torch.optim``'s Adam/AdamW show one
per parameter (they read their step counters, host tensors also on CUDA, where this costs no
sync and is not counted).

``--end-to-end RECIPES`` trains recipes to the end with the whole of Fashion-MNIST copied to the
device once (validation split 0.1 as ``cnnlab train``) and reports wall time and test accuracy
with test-time flips.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))

import _measure  # noqa: E402
import _nets  # noqa: E402
import _torch_recipes  # noqa: E402
import _torch_worker  # noqa: E402
import overhead  # noqa: E402

import cnnlab  # noqa: E402
from cnnlab import device as devices  # noqa: E402
from cnnlab import mixed_precision  # noqa: E402
from cnnlab.zoo.recipes import RECIPES, get_recipe  # noqa: E402

VARIANTS = ("fp32", "bf16", "compile", "nchw")
CASES = (*_nets.NETS, *RECIPES)
PREDICT_IMAGES = 10_000
FASHION_STEPS_PER_EPOCH = 422  # 54,000 training images (validation split 0.1) in batches of 128
SYNC_EVENTS = ("aten::_local_scalar_dense", "aten::nonzero")
COPY_MARKS = ("Memcpy HtoD", "Memcpy DtoH")


@dataclass
class Impl:
    """One side of a comparison: ``fit(n)`` trains on the first ``n`` samples of the chunk in
    order and returns the mean loss; ``predict()`` predicts the test images."""

    label: str
    reference: str
    fit: Callable[[int], float]
    predict: Callable[[], object]
    peak_mb: float | None = None
    syncs_per_step: float = float("nan")
    train_seconds: list[float] = field(default_factory=list)
    predict_seconds: list[float] = field(default_factory=list)
    loss: float = float("nan")


@contextlib.contextmanager
def policy(name: str) -> Iterator[None]:
    """cnnlab's global dtype policy set to ``name`` inside the block."""
    before = mixed_precision.global_policy()
    mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        mixed_precision.set_global_policy(before)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, run: Callable[[], object]) -> float:
    """Seconds of ``run()``, the device's queued work included."""
    synchronize(device)
    start = time.perf_counter()
    run()
    synchronize(device)
    return time.perf_counter() - start


def host_events(run: Callable[[], object], device: torch.device) -> int:
    """How many profiler events of ``run()`` cross between host and device: on CUDA the
    copies (``Memcpy HtoD``/``DtoH``: every read of a device tensor by Python, every upload);
    on a CPU, where nothing is copied, the reads of tensors by Python (``SYNC_EVENTS``)."""
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        run()
        synchronize(device)
    if device.type == "cuda":
        return sum(any(mark in event.name for mark in COPY_MARKS) for event in prof.events())
    return sum(event.name in SYNC_EVENTS for event in prof.events())


def host_syncs_per_step(fit: Callable[[int], object], steps: int, batch: int,
                        device: torch.device) -> float:
    """Host round-trips per batch: events of ``steps`` batches minus those of ``steps // 2``,
    divided by the extra batches (what a ``fit`` call does once cancels out)."""
    half = max(1, steps // 2)
    if steps <= half:
        raise ValueError(f"the round-trip check needs at least 2 steps, got {steps}")
    few = host_events(lambda: fit(half * batch), device)
    many = host_events(lambda: fit(steps * batch), device)
    return (many - few) / (steps - half)


@contextlib.contextmanager
def peak_memory(device: torch.device, into: dict) -> Iterator[None]:
    """``into['mb']``: MiB allocated on the CUDA ``device`` at the block's peak above what was
    allocated when it started (``None`` off CUDA)."""
    if device.type != "cuda":
        into["mb"] = None
        yield
        return
    synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    yield
    synchronize(device)
    into["mb"] = (torch.cuda.max_memory_allocated(device) - base) / 2**20


def autocast_dtype(variant: str) -> torch.dtype | None:
    return torch.bfloat16 if variant == "bf16" else None


def cnnlab_policy(variant: str) -> str:
    return "mixed_bfloat16" if variant == "bf16" else "float32"


@dataclass
class Data:
    """One chunk of training data and the test images, on the device."""

    x: torch.Tensor  # (n, H, W, C)
    y: torch.Tensor  # (n,) class indices
    x_test: torch.Tensor

    @property
    def one_hot(self) -> torch.Tensor:
        return F.one_hot(self.y, 10).float()

    def nchw_copy(self) -> torch.Tensor:
        """The chunk in contiguous NCHW, viewed as NHWC (the loop permutes it back)."""
        return self.x.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1)


def random_data(shape: tuple[int, ...], samples: int, device: torch.device) -> Data:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(samples, *shape, generator=generator).to(device)
    y = torch.randint(0, 10, (samples,), generator=generator).to(device)
    x_test = torch.rand(PREDICT_IMAGES, *shape, generator=generator).to(device)
    return Data(x, y, x_test)


def _cnnlab_fit(model: cnnlab.Model, x: torch.Tensor, y: torch.Tensor, batch: int,
                variant: str) -> Callable[[int], float]:
    def fit(n: int) -> float:
        with policy(cnnlab_policy(variant)):
            logs = model.fit(x[:n], y[:n], batch_size=batch, shuffle=False, verbose=0)
        return logs.history["loss"][-1]
    return fit


def _cnnlab_predict(model: cnnlab.Model, x_test: torch.Tensor,
                    variant: str) -> Callable[[], object]:
    def predict() -> object:
        with policy(cnnlab_policy(variant)):
            return model.predict(x_test, batch_size=_measure.PREDICT_BATCH,
                                 verbose=0)
    return predict


def _torch_sides(module: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
                 y: torch.Tensor, x_test: torch.Tensor, batch: int, variant: str,
                 **loop: object) -> tuple[Callable[[int], float], Callable[[], object]]:
    """``fit(n)`` and ``predict()`` of the hand-written loop for ``variant``."""
    net = torch.compile(module) if variant == "compile" else module
    dtype = autocast_dtype(variant)

    def fit(n: int) -> float:
        return _torch_worker.train_pass(net, optimizer, x[:n], y[:n], batch, autocast=dtype,
                                        **loop)[0]

    def predict() -> object:
        return _torch_worker.predict_all(net, x_test, autocast=dtype)
    return fit, predict


def harness_impls(name: str, variant: str, data: Data,
                  device: torch.device) -> list[Callable[[], Impl]]:
    """Builders of the cnnlab and PyTorch sides of harness net ``name`` in ``variant``."""
    net = _nets.NETS[name]

    def cnnlab_side() -> Impl:
        model, _, _ = overhead.pair(net, jit_compile=variant == "compile")
        return Impl(f"cnnlab-{variant}", f"pytorch-{variant}",
                    _cnnlab_fit(model, data.x, data.y, net.batch_size, variant),
                    _cnnlab_predict(model, data.x_test, variant))

    def torch_side() -> Impl:
        _, module, optimizer = overhead.pair(net)
        module.to(device)
        x = data.x
        if variant == "nchw":
            x = data.nchw_copy()
        else:
            module.to(memory_format=torch.channels_last)
        fit, predict = _torch_sides(module, optimizer, x, data.y, data.x_test,
                                    net.batch_size, variant)
        reference = "pytorch-fp32" if variant == "nchw" else f"pytorch-{variant}"
        return Impl(f"pytorch-{variant}", reference, fit, predict)

    return [torch_side] if variant == "nchw" else [cnnlab_side, torch_side]


def recipe_impls(name: str, variant: str, data: Data,
                 device: torch.device) -> list[Callable[[], Impl]]:
    """Builders of the cnnlab and PyTorch sides of recipe ``name`` in ``variant``."""
    recipe = get_recipe(name)

    def cnnlab_side() -> Impl:
        cnnlab.set_random_seed(0)
        model = recipe.build(tuple(data.x.shape[1:]), 10)
        recipe.compile(model, steps_per_epoch=FASHION_STEPS_PER_EPOCH,
                       jit_compile=variant == "compile")
        return Impl(f"cnnlab-{variant}", f"pytorch-{variant}",
                    _cnnlab_fit(model, data.x, data.one_hot, recipe.batch_size, variant),
                    _cnnlab_predict(model, data.x_test, variant))

    def torch_side() -> Impl:
        torch.manual_seed(0)
        module, optimizer, scheduler, augment = _torch_recipes.build(
            name, steps_per_epoch=FASHION_STEPS_PER_EPOCH, device=device,
            channels_last=variant != "nchw")
        x = data.nchw_copy() if variant == "nchw" else data.x
        fit, predict = _torch_sides(module, optimizer, x, data.y, data.x_test,
                                    recipe.batch_size, variant, augment=augment,
                                    scheduler=scheduler,
                                    label_smoothing=recipe.label_smoothing)
        reference = "pytorch-fp32" if variant == "nchw" else f"pytorch-{variant}"
        return Impl(f"pytorch-{variant}", reference, fit, predict)

    return [torch_side] if variant == "nchw" else [cnnlab_side, torch_side]


def case_shape_and_batch(case: str) -> tuple[tuple[int, ...], int, int]:
    """``(input shape, batch size, steps per epoch of the real data)`` of a case."""
    if case in RECIPES:
        return (28, 28, 1), get_recipe(case).batch_size, FASHION_STEPS_PER_EPOCH
    net = _nets.NETS[case]
    return net.input_shape, net.batch_size, net.steps_per_epoch


def measure_case(case: str, variants: list[str], steps: int, rounds: int, predict_rounds: int,
                 device: torch.device, check_syncs: bool = True) -> list[Impl]:
    """Build, warm up, check and time every implementation of ``case`` (see the module doc)."""
    shape, batch, _ = case_shape_and_batch(case)
    data = random_data(shape, steps * batch, device)
    builders = recipe_impls if case in RECIPES else harness_impls
    impls: list[Impl] = []
    for variant in variants:
        for build in builders(case, variant, data, device):
            memory: dict = {}
            with peak_memory(device, memory):
                impl = build()
                impl.fit(steps * batch)  # warm-up: kernels, compilation, optimizer state
                impl.predict()
            impl.peak_mb = memory["mb"]
            if check_syncs:
                impl.syncs_per_step = host_syncs_per_step(impl.fit, steps, batch, device)
            impls.append(impl)
    for round_index in range(rounds):
        shift = round_index % len(impls)
        for impl in impls[shift:] + impls[:shift]:
            seconds = timed(device, lambda impl=impl: setattr(impl, "loss",
                                                              impl.fit(steps * batch)))
            impl.train_seconds.append(seconds)
    for _ in range(predict_rounds):
        for impl in impls:
            impl.predict_seconds.append(timed(device, impl.predict))
    return impls


def paired_ratio(ours: list[float], theirs: list[float]) -> float:
    """Median of the per-round time ratios."""
    return statistics.median(a / b for a, b in zip(ours, theirs, strict=True))


def table(case: str, impls: list[Impl], steps: int) -> str:
    """The case's results as a Markdown table (ratios below 1: faster than the loop)."""
    _, batch, steps_per_epoch = case_shape_and_batch(case)
    by_label = {impl.label: impl for impl in impls}
    lines = ["| implementation | ms/step | s/epoch | images/s | train ×PT | predict images/s | "
             "predict ×PT | peak MB | host syncs/step | loss |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for impl in impls:
        ms = 1000 * statistics.median(impl.train_seconds) / steps
        reference = by_label.get(impl.reference)
        train = predict = "-"
        if reference is not None:
            train = f"{paired_ratio(impl.train_seconds, reference.train_seconds):.2f}"
            predict = f"{paired_ratio(impl.predict_seconds, reference.predict_seconds):.2f}"
        rate = PREDICT_IMAGES / statistics.median(impl.predict_seconds)
        memory = "-" if impl.peak_mb is None else f"{impl.peak_mb:,.0f}"
        lines.append(f"| {impl.label} | {ms:.1f} | {ms * steps_per_epoch / 1000:.1f} | "
                     f"{1000 * batch / ms:,.0f} | {train} | {rate:,.0f} | {predict} | {memory} | "
                     f"{impl.syncs_per_step:g} | {impl.loss:.4f} |")
    return "\n".join(lines)


def end_to_end(name: str, seed: int, device: torch.device, epochs: int | None = None,
               limit: int | None = None, verbose: int = 2) -> tuple[float, float]:
    """Train recipe ``name`` as ``cnnlab train --recipe`` does, with Fashion-MNIST copied to
    ``device`` once; returns ``(seconds from loading the data to the test accuracy, test
    accuracy with test-time flips)``."""
    from cnnlab.data.catalog import load_dataset

    started = time.perf_counter()
    cnnlab.set_random_seed(seed)
    data = load_dataset("fashion_mnist")
    x, y = data.x_train[:limit], data.y_train[:limit]
    x_train = torch.from_numpy(x).to(device)
    y_train = F.one_hot(torch.from_numpy(y).to(device), data.classes).float()
    recipe = get_recipe(name)
    epochs = epochs or recipe.epochs
    model = recipe.build(data.input_shape, data.classes)
    recipe.compile(model, steps_per_epoch=-(-int(len(x) * 0.9) // recipe.batch_size),
                   epochs=epochs)
    with policy(recipe.policy_for(device)):
        model.fit(x_train, y_train, batch_size=recipe.batch_size, epochs=epochs,
                  validation_split=0.1, verbose=verbose, seed=seed)
        accuracy = recipe.accuracy(model, torch.from_numpy(data.x_test).to(device),
                                   data.y_test)
    synchronize(device)
    return time.perf_counter() - started, accuracy


def names(text: str, allowed: tuple[str, ...], option: str) -> list[str]:
    chosen = [name for name in text.split(",") if name]
    unknown = sorted(set(chosen) - set(allowed))
    if unknown:
        raise SystemExit(f"{option}: unknown {', '.join(unknown)}; choose from "
                         f"{', '.join(allowed)}")
    return chosen


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None,
                        help="cuda, cuda:1, cpu ... (default: cnnlab's choice, CUDA first)")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=20, help="training steps per round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--predict-rounds", type=int, default=3)
    parser.add_argument("--no-sync-check", action="store_true")
    parser.add_argument("--end-to-end", default="", metavar="RECIPES",
                        help="train these recipes to the end instead (e.g. fast,wide)")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", type=int, default=None, help="end-to-end: epochs")
    parser.add_argument("--limit", type=int, default=None,
                        help="end-to-end: first N training images only")
    args = parser.parse_args(argv)
    args.cases = names(args.cases, CASES, "--cases")
    args.variants = names(args.variants, VARIANTS, "--variants")
    args.end_to_end = names(args.end_to_end, tuple(RECIPES), "--end-to-end")
    try:
        args.seeds = [int(seed) for seed in args.seeds.split(",")]
    except ValueError:
        parser.error(f"--seeds must be comma-separated integers such as 0,1,2, got "
                     f"{args.seeds!r}")
    if args.steps < 2 or args.rounds < 1 or args.predict_rounds < 1:
        parser.error("--steps must be at least 2, --rounds and --predict-rounds at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.device is not None:
        devices.set_device(args.device)
    device = devices.default_device()
    if device.type != "cuda":
        print(f"note: no CUDA device in use ({device}); this checks the logic, the figures are "
              "not a GPU's")
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "-"
    print(f"device {device} ({gpu}), torch {torch.__version__}, cnnlab {cnnlab.__version__}")
    if args.end_to_end:
        print("| recipe | seed | wall s | test accuracy (image + mirror) |\n|---|--:|--:|--:|")
        for name in args.end_to_end:
            for seed in args.seeds:
                seconds, accuracy = end_to_end(name, seed, device, args.epochs, args.limit,
                                               verbose=0)
                print(f"| {name} | {seed} | {seconds:.1f} | {accuracy:.4f} |", flush=True)
        return
    print(f"{args.steps} steps per round, {args.rounds} rounds, {args.predict_rounds} predict "
          f"rounds of {PREDICT_IMAGES} images; medians")
    for case in args.cases:
        impls = measure_case(case, args.variants, args.steps, args.rounds, args.predict_rounds,
                             device, check_syncs=not args.no_sync_check)
        print(f"\n**{case}**\n\n{table(case, impls, args.steps)}", flush=True)


if __name__ == "__main__":
    main()
