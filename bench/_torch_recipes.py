"""The recipes of ``cnnlab.zoo.recipes`` as a PyTorch user writes them: the same networks (NCHW
modules, logits out), the same augmentation on the batch's device and the same AdamW schedule,
for ``bench/gpu.py`` to divide cnnlab's time by.

``build(name, classes)`` returns ``(net, optimizer, scheduler, augment)`` for a recipe of
``RECIPES``; the trainable parameters match the cnnlab model's (batch-norm moving statistics
are buffers here, weights there).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from cnnlab.zoo.recipes import RECIPES, Recipe

BN = {"eps": 1e-3, "momentum": 0.01}  # Keras's BatchNormalization defaults in PyTorch's terms


def conv_bn_relu(width_in: int, width: int) -> list[nn.Module]:
    return [nn.Conv2d(width_in, width, 3, padding=1, bias=False), nn.BatchNorm2d(width, **BN),
            nn.ReLU(inplace=True)]


def fast_net(classes: int = 10) -> nn.Module:
    """``recipes.fast_net`` without its augmentation layers (see :func:`augmenter`)."""
    return nn.Sequential(
        *conv_bn_relu(1, 32), *conv_bn_relu(32, 32), nn.MaxPool2d(2),
        *conv_bn_relu(32, 64), *conv_bn_relu(64, 64), nn.MaxPool2d(2),
        *conv_bn_relu(64, 128), *conv_bn_relu(128, 128),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(128, classes))


class Block(nn.Module):
    """``relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))``, the shortcut a 1×1 conv + BN
    when the stride or the width changes."""

    def __init__(self, width_in: int, width: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width_in, width, 3, stride, padding=1, bias=False),
            nn.BatchNorm2d(width, **BN), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width, **BN))
        self.shortcut = nn.Identity() if stride == 1 and width_in == width else nn.Sequential(
            nn.Conv2d(width_in, width, 1, stride, bias=False), nn.BatchNorm2d(width, **BN))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.shortcut(x))


def wide_resnet(classes: int = 10, widths: tuple[int, ...] = (64, 128, 256)) -> nn.Module:
    """``recipes.wide_resnet`` without its augmentation layers."""
    layers: list[nn.Module] = conv_bn_relu(1, widths[0])
    width_in = widths[0]
    for stage, width in enumerate(widths):
        for block in range(2):
            layers.append(Block(width_in, width, 2 if stage > 0 and block == 0 else 1))
            width_in = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(width_in, classes))


def augmenter(shift_pixels: float = 2.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """Random translation by up to ``shift_pixels`` (bilinear, zeros outside) and a random
    left-right flip per image, drawn and applied on the batch's device, as the recipes'
    ``RandomTranslation`` + ``RandomFlip('horizontal')``."""
    def augment(x: torch.Tensor) -> torch.Tensor:
        n, _, height, width = x.shape
        shift = (torch.rand(n, 2, device=x.device) * 2 - 1) * shift_pixels
        theta = torch.zeros(n, 2, 3, device=x.device)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, 0, 2] = shift[:, 0] * 2 / width
        theta[:, 1, 2] = shift[:, 1] * 2 / height
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        moved = F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)
        flip = torch.rand(n, 1, 1, 1, device=x.device) < 0.5
        return torch.where(flip, moved.flip(3), moved)

    return augment


def warmup_cosine(recipe: Recipe, total_steps: int) -> Callable[[int], float]:
    """The factor of ``peak_lr`` at each step: linear from 1/25 to 1 over the first 20 % of
    the steps, then cosine decay to 0 (``Recipe.compile``'s schedule)."""
    warmup = max(1, total_steps // 5)

    def factor(step: int) -> float:
        if step < warmup:
            return 1 / 25 + (1 - 1 / 25) * step / warmup
        done = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return 0.5 * (1 + math.cos(math.pi * done))

    return factor


NETS = {"fast": fast_net, "wide": wide_resnet}


def build(name: str, classes: int = 10, steps_per_epoch: int = 422,
          device: torch.device | str = "cpu", channels_last: bool = True) -> tuple:
    """``(net, optimizer, scheduler, augment)`` for recipe ``name`` on ``device``."""
    recipe = RECIPES[name]
    net = NETS[name](classes).to(device)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(net.parameters(), lr=recipe.peak_lr, eps=1e-7,
                                  weight_decay=recipe.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, warmup_cosine(recipe, steps_per_epoch * recipe.epochs))
    return net, optimizer, scheduler, augmenter()
