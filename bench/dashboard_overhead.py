"""What ``fit(dashboard=True)`` costs the training loop: fit with and without the live dashboard
in ONE process, alternating, on the lecture LeNet (Fashion-MNIST, batch 128).

Three sides, run in turn every round (the order rotated by one each round):

- ``off``: ``model.fit(x, y, epochs=1, verbose=0)``;
- ``on``: the same with ``dashboard=True`` (server thread up, nobody watching: the cost of the
  per-batch callback and the per-epoch weight copy);
- ``watched``: ``dashboard=True`` with a client in another process following the run's event
  stream, as an open browser tab does (the server thread wakes twice a second and sends every
  new batch point; the client learns of the new run from the run list's stream, so the first
  ~0.3 s of the fit are not watched).

The figure is the median over rounds of the per-round time ratio ``on/off`` and
``watched/off`` (1.02 = 2 % slower). The server starts once, in an untimed warm-up round.

    .venv/bin/python bench/dashboard_overhead.py                  # 60 steps x 7 rounds, ~3 min
    .venv/bin/python bench/dashboard_overhead.py --steps 100 --rounds 9
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))
sys.path.insert(0, str(BENCH))

import _measure  # noqa: E402
import _nets  # noqa: E402
import httpx  # noqa: E402

import cnnlab  # noqa: E402
from cnnlab.dashboard import live  # noqa: E402
from cnnlab.data.datasets import fashion_mnist  # noqa: E402


def watch(url: str) -> None:
    """The watcher process (``--watch URL``): a stand-in for a browser tab. While switched on
    (``on``/``off`` lines on stdin, answered ``ack``) it follows the event stream of every run
    that is running, as the run page does; the run list's stream tells it about new runs."""
    import json
    import threading

    enabled, followed = threading.Event(), set()
    count = [0]

    def follow(run_id: str) -> None:
        with httpx.stream("GET", f"{url}api/runs/{run_id}/events", timeout=60) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    count[0] += 1
                    if json.loads(line[5:])["summary"]["status"] != "running":
                        return

    def runs() -> None:
        with httpx.stream("GET", f"{url}api/events", timeout=None) as response:
            for line in response.iter_lines():
                if not (line.startswith("data:") and enabled.is_set()):
                    continue
                for run in json.loads(line[5:])["runs"]:
                    if run["status"] == "running" and run["id"] not in followed:
                        followed.add(run["id"])
                        threading.Thread(target=follow, args=(run["id"],), daemon=True).start()

    threading.Thread(target=runs, daemon=True).start()
    for line in sys.stdin:
        (enabled.set if line.strip() == "on" else enabled.clear)()
        print(f"ack {count[0]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60, help="training steps per fit")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--watch", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.watch:
        watch(args.watch)
        return
    net = _nets.NETS["lenet"]
    cnnlab.set_random_seed(0)
    model, _ = _nets.build(net, cnnlab)
    model.compile(optimizer=_nets.optimizer(net, cnnlab), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    (x, y), _ = fashion_mnist.load_data()
    n = args.steps * net.batch_size
    x, y = (x[:n, ..., None] / np.float32(255)).astype(np.float32), y[:n].astype(np.int64)

    def fit(dashboard: bool) -> None:
        model.fit(x, y, batch_size=net.batch_size, epochs=1, shuffle=False, verbose=0,
                  dashboard=dashboard)

    sides = {"off": lambda: fit(False), "on": lambda: fit(True), "watched": lambda: fit(True)}
    fit(False)  # warm-up: oneDNN primitives, optimizer state
    fit(True)  # starts the server thread (once per process)
    server, _ = live.live_server()
    watcher = subprocess.Popen([sys.executable, __file__, "--watch", server.url], text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def tell(command: str) -> int:
        watcher.stdin.write(command + "\n")
        watcher.stdin.flush()
        return int(watcher.stdout.readline().split()[1])

    time.sleep(1.0)  # the watcher connects
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides)
    for r in range(args.rounds):
        for name in order[r % 3:] + order[:r % 3]:
            tell("on" if name == "watched" else "off")
            start = time.perf_counter()
            sides[name]()
            seconds[name].append(time.perf_counter() - start)
    events = tell("off")
    watcher.stdin.close()
    watcher.wait()
    on = statistics.median(a / b for a, b in zip(seconds["on"], seconds["off"], strict=True))
    watched = statistics.median(a / b for a, b in zip(seconds["watched"], seconds["off"],
                                                      strict=True))
    ms = {k: 1000 * statistics.median(v) / args.steps for k, v in seconds.items()}
    cpu = _measure.machine(torch.get_num_threads()).get("cpu", "?")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cpu}; LeNet, batch "
          f"{net.batch_size}, {args.steps} steps per fit, {args.rounds} rounds; load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"{'side':<10}{'ms/step (median)':>18}{'ratio to off (median, min-max)':>34}")
    for name in sides:
        ratios = [a / b for a, b in zip(seconds[name], seconds["off"], strict=True)]
        text = "1" if name == "off" else \
            f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f})"
        print(f"{name:<10}{ms[name]:>18.1f}{text:>34}")
    print(f"dashboard on: {100 * (on - 1):+.1f} %; watched: {100 * (watched - 1):+.1f} % "
          f"({events} events received by the watcher)")


if __name__ == "__main__":
    main()
