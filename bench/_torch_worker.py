"""Benchmark worker for the hand-written PyTorch loop (the reference the others are divided by).

Idiomatic PyTorch on the CPU: NCHW modules in ``channels_last`` memory format (the NHWC
arrays are viewed as NCHW without a copy), logits and ``F.cross_entropy``,
``zero_grad(set_to_none=True)``, ``torch.optim`` with the Keras hyper-parameters (Adam's
epsilon 1e-7 as Keras), loss and accuracy accumulated on tensors (no host sync per step), as
cnnlab's ``fit`` reports them. Run by ``bench/train_speed.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import _measure
import _nets
import _torch_nets
import numpy as np
import torch
import torch.nn.functional as F


def make_optimizer(net: _nets.Net, params: object) -> torch.optim.Optimizer:
    lr = net.options["learning_rate"]
    if net.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=net.options.get("momentum", 0.0))
    return torch.optim.Adam(params, lr=lr, eps=1e-7)


def nchw(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    """The NHWC images as an NCHW tensor with channels_last strides (no copy), where they
    live (an array stays on the host, a device tensor on its device)."""
    return torch.as_tensor(x).permute(0, 3, 1, 2)


def train_pass(net: torch.nn.Module, optimizer: torch.optim.Optimizer,
               x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, batch: int, *,
               autocast: torch.dtype | None = None, augment: Callable | None = None,
               scheduler: Any = None, label_smoothing: float = 0.0) -> tuple[float, float]:
    """One pass over ``x`` in order: the idiomatic loop; returns mean loss and accuracy.

    ``x``, ``y``: arrays, or tensors on the net's device (then no batch leaves the device and
    the loop never waits for the host). ``autocast``: the dtype of a ``torch.autocast`` region
    around forward and loss (bf16 mixed precision); ``augment``: a transform of each NCHW
    batch (training augmentation); ``scheduler``: stepped after every optimizer step.
    """
    inputs, labels = nchw(x), torch.as_tensor(y)
    net.train()
    total_loss = torch.zeros((), device=labels.device)
    correct = torch.zeros((), dtype=torch.int64, device=labels.device)
    for start in range(0, len(inputs), batch):
        xb, yb = inputs[start:start + batch], labels[start:start + batch]
        if augment is not None:
            xb = augment(xb)
        with torch.autocast(labels.device.type, dtype=autocast, enabled=autocast is not None):
            logits = net(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        with torch.no_grad():
            total_loss += loss.detach() * len(xb)
            correct += (logits.argmax(dim=1) == yb).sum()
    return float(total_loss) / len(inputs), float(correct) / len(inputs)


@torch.inference_mode()
def predict_all(net: torch.nn.Module, x: np.ndarray | torch.Tensor,
                autocast: torch.dtype | None = None) -> np.ndarray:
    """Softmax outputs for ``x`` in batches of ``PREDICT_BATCH`` (one copy to the host at the
    end)."""
    net.eval()
    inputs, size = nchw(x), _measure.PREDICT_BATCH
    with torch.autocast(inputs.device.type, dtype=autocast, enabled=autocast is not None):
        out = torch.cat([F.softmax(net(inputs[i:i + size]), dim=1)
                         for i in range(0, len(inputs), size)])
    return out.float().cpu().numpy()


def main() -> None:
    job = _measure.job_from_argv()
    torch.set_num_threads(job["threads"])
    torch.manual_seed(job["seed"])
    net_spec = _nets.NETS[job["net"]]
    net = _torch_nets.build(job["net"], _measure.load_weights(job["weights"]))
    optimizer = make_optimizer(net_spec, net.parameters())
    batch = net_spec.batch_size

    def fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        return train_pass(net, optimizer, x, y, batch)

    def predict(x: np.ndarray) -> np.ndarray:
        return predict_all(net, x)

    _measure.serve(job, fit, predict, {"torch": torch.__version__},
                     model_source="bench/_torch_nets.py")


if __name__ == "__main__":
    main()
