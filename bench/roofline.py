"""How close the benchmark nets train to this CPU's arithmetic peak, and what the
"<= 0.5x the best Keras" target of issue 5 would demand.

For each net: the floating-point operations of one training step (forward and backward,
counted by ``torch.utils.flop_counter.FlopCounterMode`` on the PyTorch reference module of
``bench/_torch_nets.py``: convolutions and matrix products, 2 per multiply-add), the machine's
fp32 peak as a large ``torch.mm`` measures it (2048 x 2048, best of 10, with the benchmark's
thread count), and the fewest milliseconds a step could take at that peak. With ``--speed``
(a ``bench/train_speed.py --keras --json`` file) it adds what cnnlab reached and the GFLOP/s
that 0.5x the best Keras backend's step time would need::

    .venv/bin/python bench/roofline.py --speed speed.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))

import _nets  # noqa: E402
import _torch_nets  # noqa: E402

import cnnlab  # noqa: E402


def step_flops(net: _nets.Net) -> int:
    """Operations of one training step (forward + backward) of the PyTorch reference."""
    cnnlab.set_random_seed(0)
    model, _ = _nets.build(net, cnnlab)
    weights = {layer.name: layer.get_weights() for layer in model.layers if layer.get_weights()}
    module = _torch_nets.build(net.name, weights).train()
    shape = (1, 28, 28) if net.dataset == "fashion_mnist" else (3, 32, 32)
    x = torch.rand(net.batch_size, *shape).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (net.batch_size,))
    counter = FlopCounterMode(display=False)
    with counter:
        torch.nn.functional.cross_entropy(module(x), y).backward()
    return counter.get_total_flops()


def gemm_peak(size: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of the fastest of ``repeats`` ``size x size`` float32 matrix products."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", default=",".join(_nets.NETS))
    parser.add_argument("--speed", type=Path, help="a train_speed.py --json file")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak = gemm_peak()
    speed = json.loads(args.speed.read_text())["summaries"] if args.speed else {}
    print(f"fp32 GEMM peak: {peak / 1e9:.0f} GFLOP/s ({args.threads} threads)\n")
    print("| net | GFLOP/step | ms/step at peak | cnnlab ms/step | cnnlab GFLOP/s (% of peak) "
          "| best Keras ms/step | 0.5x that | GFLOP/s it needs (% of peak) |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for name in args.nets.split(","):
        flops = step_flops(_nets.NETS[name])
        cells = [name, f"{flops / 1e9:.2f}", f"{1e3 * flops / peak:.1f}"]
        rows = {k: v for k, v in speed.get(name, {}).get("rows", {}).items() if "error" not in v}
        ours = [v["seconds_per_step"] for k, v in rows.items() if k.startswith("cnnlab")]
        theirs = [v["seconds_per_step"] for k, v in rows.items() if k.startswith("keras")]
        if ours and theirs:
            mine, target = min(ours), min(theirs) / 2
            cells += [f"{1e3 * mine:.1f}", f"{flops / mine / 1e9:.0f} ({flops / mine / peak:.0%})",
                      f"{2e3 * target:.1f}", f"{1e3 * target:.1f}",
                      f"{flops / target / 1e9:.0f} ({flops / target / peak:.0%})"]
        else:
            cells += ["—"] * 5
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
