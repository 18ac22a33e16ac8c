"""cnnlab ``fit`` vs a hand-written PyTorch loop: the SPEC §7 LeNet on Fashion-MNIST.

Same process, same batches (no shuffling), same initial weights, same work per step
(forward, loss, backward, Adam step, accuracy count); runs interleaved A/B/A/B and reports
the median seconds per epoch and the ratio cnnlab / PyTorch (target <= 1.05). Also prediction
throughput (batch 1000) for both.

    python bench/lenet_vs_torch.py                 # 3 rounds of full epochs (~5 min here)
    python bench/lenet_vs_torch.py --steps 100     # quick check on the first 100 batches
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

import cnnlab
from cnnlab.datasets import fashion_mnist
from cnnlab.layers import Conv2D, Dense, Flatten, MaxPooling2D

BATCH = 128


def build_cnnlab() -> cnnlab.Sequential:
    model = cnnlab.Sequential([
        Conv2D(20, 5, padding="same", activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D(2),
        Conv2D(50, 5, padding="same", activation="relu"),
        MaxPooling2D(2),
        Flatten(),
        Dense(500, activation="relu"),
        Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def build_torch(reference: cnnlab.Sequential) -> torch.nn.Module:
    """The idiomatic PyTorch network, with the cnnlab model's initial weights."""
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 20, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(20, 50, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(2450, 500), torch.nn.ReLU(),
        torch.nn.Linear(500, 10),
    )
    k1, b1, k2, b2, d1, c1, d2, c2 = reference.get_weights()
    # cnnlab flattens (H, W, C); PyTorch flattens (C, H, W): reorder the first dense kernel.
    d1 = d1.reshape(7, 7, 50, 500).transpose(2, 0, 1, 3).reshape(2450, 500)
    with torch.no_grad():
        for module, (w, b) in zip([net[0], net[3], net[7], net[9]],
                                  [(k1.transpose(3, 2, 0, 1), b1), (k2.transpose(3, 2, 0, 1), b2),
                                   (d1.T, c1), (d2.T, c2)], strict=True):
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            module.bias.copy_(torch.from_numpy(b))
    return net.to(memory_format=torch.channels_last)


def torch_epoch(net: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor,
                y: torch.Tensor) -> float:
    net.train()
    correct = torch.zeros((), dtype=torch.int64)
    total_loss = torch.zeros(())
    for start in range(0, len(x), BATCH):
        xb, yb = x[start:start + BATCH], y[start:start + BATCH]
        logits = net(xb)
        loss = F.cross_entropy(logits, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            total_loss += loss.detach() * len(xb)
            correct += (logits.argmax(1) == yb).sum()
    return float(correct) / len(x)


@torch.inference_mode()
def torch_predict(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    net.eval()
    return torch.cat([F.softmax(net(x[i:i + 1000]), dim=1) for i in range(0, len(x), 1000)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="batches per epoch (default all)")
    args = parser.parse_args()
    (x_train, y_train), (x_test, _) = fashion_mnist.load_data()
    n = len(x_train) if args.steps is None else args.steps * BATCH
    x = (x_train[:n].astype(np.float32) / 255.0)[..., None]
    y = y_train[:n].astype(np.int64)
    xt = (x_test.astype(np.float32) / 255.0)[..., None]
    # PyTorch's view of the same NHWC memory: NCHW with channels_last strides (no copy).
    x_torch, y_torch = torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(y)
    xt_torch = torch.from_numpy(xt).permute(0, 3, 1, 2)

    torch.manual_seed(0)
    model = build_cnnlab()
    net = build_torch(model)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)

    times: dict[str, list[float]] = {"cnnlab": [], "torch": []}
    for _ in range(args.rounds):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        times["cnnlab"].append(time.perf_counter() - start)
        start = time.perf_counter()
        torch_epoch(net, opt, x_torch, y_torch)
        times["torch"].append(time.perf_counter() - start)
    predict: dict[str, list[float]] = {"cnnlab": [], "torch": []}
    for _ in range(args.rounds):
        start = time.perf_counter()
        model.predict(xt, batch_size=1000, verbose=0)
        predict["cnnlab"].append(len(xt) / (time.perf_counter() - start))
        start = time.perf_counter()
        torch_predict(net, xt_torch)
        predict["torch"].append(len(xt) / (time.perf_counter() - start))

    med = {k: statistics.median(v) for k, v in times.items()}
    pred = {k: statistics.median(v) for k, v in predict.items()}
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{n} images/epoch, batch {BATCH}, {args.rounds} interleaved rounds")
    for k in ("cnnlab", "torch"):
        print(f"train {k:7s} median {med[k]:7.2f} s/epoch  (runs: "
              f"{', '.join(f'{t:.2f}' for t in times[k])})")
    print(f"train ratio cnnlab/torch = {med['cnnlab'] / med['torch']:.3f}")
    for k in ("cnnlab", "torch"):
        print(f"predict {k:7s} median {pred[k]:8.0f} images/s")
    print(f"predict ratio cnnlab/torch (throughput) = {pred['cnnlab'] / pred['torch']:.3f}")


if __name__ == "__main__":
    main()
