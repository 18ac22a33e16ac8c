"""The benchmark networks as a PyTorch user writes them (NCHW modules, logits out), and the
loader that copies the initial weights from their Keras-layout arrays.

Each builder returns ``(net, slots)``: ``slots`` maps the Keras layer names of ``_nets.py`` to
the module that holds the same weights, with the ``(H, W, C)`` shape of the flatten in front
of a dense layer (Keras flattens H·W·C, PyTorch C·H·W: those kernel rows are reordered).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

Slots = dict[str, tuple[nn.Module, tuple[int, int, int] | None]]


def lenet() -> tuple[nn.Module, Slots]:
    net = nn.Sequential(
        nn.Conv2d(1, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 50, 500), nn.ReLU(), nn.Linear(500, 10))
    return net, {"conv1": (net[0], None), "conv2": (net[3], None),
                 "fc1": (net[7], (7, 7, 50)), "predictions": (net[9], None)}


def keras_mnist() -> tuple[nn.Module, Slots]:
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(12 * 12 * 32, 64), nn.ReLU(), nn.Linear(64, 10))
    return net, {"conv1": (net[0], None), "conv2": (net[2], None),
                 "fc1": (net[6], (12, 12, 32)), "predictions": (net[8], None)}


def keras_cifar() -> tuple[nn.Module, Slots]:
    slots: Slots = {}

    def unit(i: int, layer: nn.Module, bn: nn.Module) -> list[nn.Module]:
        slots[f"conv{i}" if i < 5 else "fc1"] = (layer, (6, 6, 64) if i == 5 else None)
        slots[f"bn{i}"] = (bn, None)
        return [layer, nn.ELU(), bn]

    def conv_unit(i: int, width_in: int, width: int, padding: int) -> list[nn.Module]:
        return unit(i, nn.Conv2d(width_in, width, 3, padding=padding),
                    nn.BatchNorm2d(width, eps=1e-3, momentum=0.01))

    out = nn.Linear(512, 10)
    slots["predictions"] = (out, None)
    net = nn.Sequential(
        *conv_unit(1, 3, 32, 1), *conv_unit(2, 32, 32, 0), nn.MaxPool2d(2), nn.Dropout(0.25),
        *conv_unit(3, 32, 64, 1), *conv_unit(4, 64, 64, 0), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(),
        *unit(5, nn.Linear(6 * 6 * 64, 512), nn.BatchNorm1d(512, eps=1e-3, momentum=0.01)),
        nn.Dropout(0.5), out)
    return net, slots


def vgg() -> tuple[nn.Module, Slots]:
    layers: list[nn.Module] = []
    slots: Slots = {}
    width = 3
    for b, filters in enumerate((32, 64, 128), start=1):
        for c in (1, 2):
            conv, bn = nn.Conv2d(width, filters, 3, padding=1), nn.BatchNorm2d(
                filters, eps=1e-3, momentum=0.01)
            layers += [conv, nn.ReLU(), bn]
            slots[f"block{b}_conv{c}"], slots[f"block{b}_bn{c}"] = (conv, None), (bn, None)
            width = filters
        layers += [nn.MaxPool2d(2), nn.Dropout(0.25)]
    fc1, bn, out = nn.Linear(4 * 4 * 128, 512), nn.BatchNorm1d(512, eps=1e-3, momentum=0.01), \
        nn.Linear(512, 10)
    slots.update(fc1=(fc1, (4, 4, 128)), fc1_bn=(bn, None), predictions=(out, None))
    net = nn.Sequential(*layers, nn.Flatten(), fc1, nn.ReLU(), bn, nn.Dropout(0.5), out)
    return net, slots


def _bn(width: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(width, eps=1e-5, momentum=0.1)


class BasicBlock(nn.Module):
    """``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``, torchvision's layout."""

    def __init__(self, width_in: int, width: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(width_in, width, 3, stride, padding=1, bias=False)
        self.bn1 = _bn(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = _bn(width)
        self.shortcut = nn.Identity() if stride == 1 and width_in == width else \
            nn.Sequential(nn.Conv2d(width_in, width, 1, stride, bias=False), _bn(width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 16, 3, padding=1, bias=False), _bn(16)
        blocks, width = [], 16
        for stage, filters in enumerate((16, 32, 64)):
            for b in range(3):
                blocks.append(BasicBlock(width, filters, 2 if stage > 0 and b == 0 else 1))
                width = filters
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.blocks(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(x.mean(dim=(2, 3)))


def resnet20() -> tuple[nn.Module, Slots]:
    net = ResNet20()
    slots: Slots = {"conv1_conv": (net.conv1, None), "conv1_bn": (net.bn1, None),
                    "predictions": (net.fc, None)}
    for i, block in enumerate(net.blocks):
        name = f"conv{i // 3 + 2}_block{i % 3 + 1}"
        for part, conv, bn in (("1", block.conv1, block.bn1), ("2", block.conv2, block.bn2)):
            slots[f"{name}_{part}_conv"], slots[f"{name}_{part}_bn"] = (conv, None), (bn, None)
        if isinstance(block.shortcut, nn.Sequential):
            slots[f"{name}_0_conv"] = (block.shortcut[0], None)
            slots[f"{name}_0_bn"] = (block.shortcut[1], None)
    return net, slots


BUILDERS = {"lenet": lenet, "mnist": keras_mnist, "cifar": keras_cifar, "vgg": vgg,
            "resnet20": resnet20}


def _torch_layout(module: nn.Module, arrays: list[np.ndarray],
                  flat: tuple[int, int, int] | None) -> list[np.ndarray]:
    """Keras arrays -> the module's tensors in ``named_parameters`` + buffers order."""
    if isinstance(module, nn.Conv2d):
        return [arrays[0].transpose(3, 2, 0, 1), *arrays[1:]]
    if isinstance(module, nn.Linear):
        kernel = arrays[0]
        if flat is not None:  # rows H·W·C -> C·H·W
            kernel = kernel.reshape(*flat, -1).transpose(2, 0, 1, 3).reshape(kernel.shape)
        return [kernel.T, *arrays[1:]]
    return arrays  # batch norm: gamma, beta, moving mean, moving variance


def build(name: str, weights: dict[str, list[np.ndarray]]) -> nn.Module:
    """The PyTorch network ``name`` in channels_last format, with the given Keras weights."""
    net, slots = BUILDERS[name]()
    if set(slots) != set(weights):
        raise ValueError(f"{name}: the PyTorch net has weighted layers {sorted(slots)}, the "
                         f"weights file has {sorted(weights)}")
    with torch.no_grad():
        for layer, (module, flat) in slots.items():
            targets: list[Any] = [*module.parameters(recurse=False)]
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                targets += [module.running_mean, module.running_var]
            arrays = _torch_layout(module, weights[layer], flat)
            if [tuple(t.shape) for t in targets] != [a.shape for a in arrays]:
                raise ValueError(f"{name}: layer {layer!r} shapes differ: PyTorch "
                                 f"{[tuple(t.shape) for t in targets]}, Keras "
                                 f"{[a.shape for a in arrays]}")
            for t, a in zip(targets, arrays, strict=True):
                t.copy_(torch.from_numpy(np.ascontiguousarray(a)))
    return net.to(memory_format=torch.channels_last)
