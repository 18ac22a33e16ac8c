"""Training recipes: an architecture plus how to train it, tuned for accuracy per CPU second.

``fast`` (Fashion-MNIST, target >= 0.93 test accuracy in a few CPU minutes): a compact VGG-style
net with batch normalization, random 2-pixel shifts and horizontal flips as in-model
augmentation layers (batched, active only in training), label smoothing 0.1, AdamW with a
one-cycle-like schedule (linear warm-up to the peak rate, then cosine decay to zero), bf16
autocast where the CPU has native bf16 (AMX/AVX-512-BF16), and test-time flips (the
prediction is the mean over the image and its mirror image).

``wide`` (target >= 0.95): the same recipe with a wider residual network and more epochs.

    recipe = get_recipe("fast")
    model = recipe.build((28, 28, 1), 10)
    recipe.compile(model, steps_per_epoch=422)
    model.fit(x, to_categorical(y), epochs=recipe.epochs, batch_size=recipe.batch_size)
    accuracy = recipe.accuracy(model, x_test, y_test)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from cnnlab import losses, mixed_precision, optimizers
from cnnlab.layers import (
    Activation,
    Add,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
    RandomFlip,
    RandomTranslation,
)
from cnnlab.models import Model, Sequential
from cnnlab.optimizers.schedules import CosineDecay


def conv_bn_relu(filters: int) -> list:
    """3×3 same convolution (no bias) → BatchNormalization → ReLU, as three layers."""
    return [Conv2D(filters, 3, padding="same", use_bias=False), BatchNormalization(),
            Activation("relu")]


def fast_net(input_shape: tuple = (28, 28, 1), classes: int = 10) -> Sequential:
    """Augment → (conv-BN-ReLU ×2, pool) with 32 then 64 filters → conv 128 → global average
    pooling → dropout → softmax. About 0.29 M parameters."""
    return Sequential([
        RandomTranslation(2 / input_shape[0], 2 / input_shape[1], fill_mode="constant",
                          input_shape=input_shape),
        RandomFlip("horizontal"),
        *conv_bn_relu(32), *conv_bn_relu(32), MaxPooling2D(2),
        *conv_bn_relu(64), *conv_bn_relu(64), MaxPooling2D(2),
        *conv_bn_relu(128), *conv_bn_relu(128),
        GlobalAveragePooling2D(), Dropout(0.3), Dense(classes, activation="softmax"),
    ], name="fast_net")


def wide_resnet(input_shape: tuple = (28, 28, 1), classes: int = 10,
                widths: tuple = (64, 128, 256)) -> Model:
    """Augment → stem → three stages of two residual blocks (``a = relu(z + shortcut)``),
    downsampling by 2 between stages → global average pooling → softmax."""
    inputs = Input(input_shape)
    x = RandomTranslation(2 / input_shape[0], 2 / input_shape[1], fill_mode="constant")(inputs)
    x = RandomFlip("horizontal")(x)
    for layer in conv_bn_relu(widths[0]):
        x = layer(x)
    for stage, filters in enumerate(widths):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            shortcut = x
            z = Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
            z = Activation("relu")(BatchNormalization()(z))
            z = BatchNormalization()(Conv2D(filters, 3, padding="same", use_bias=False)(z))
            if stride != 1 or shortcut.shape[-1] != filters:
                shortcut = Conv2D(filters, 1, strides=stride, use_bias=False)(shortcut)
                shortcut = BatchNormalization()(shortcut)
            x = Activation("relu")(Add()([z, shortcut]))
    x = GlobalAveragePooling2D()(x)
    outputs = Dense(classes, activation="softmax")(x)
    return Model(inputs, outputs, name="wide_resnet")


@dataclass(frozen=True)
class Recipe:
    """Architecture, schedule and hyper-parameters of one way to train."""

    name: str
    build: Callable[..., Any]
    epochs: int
    batch_size: int
    peak_lr: float
    weight_decay: float
    label_smoothing: float
    policy: str = "mixed_bfloat16"
    test_time_flip: bool = True

    def policy_for(self, device: Any = "cpu") -> str:
        """The dtype policy to train with on ``device``: :attr:`policy`, unless it asks for
        bf16 and the device lacks native bf16 (then ``'float32'``, which is faster there)."""
        if self.policy == "mixed_bfloat16" and not mixed_precision.native_bfloat16(device):
            return "float32"
        return self.policy

    def compile(self, model: Any, steps_per_epoch: int, epochs: int | None = None,
                **options: Any) -> None:
        """AdamW, warm-up over the first 20 % of the steps of ``epochs`` (default: the
        recipe's) to ``peak_lr`` then cosine decay to 0; categorical cross-entropy with label
        smoothing (labels must be one-hot). ``options`` go to ``model.compile`` (e.g.
        ``jit_compile=True``)."""
        total = steps_per_epoch * (epochs or self.epochs)
        warmup = max(1, total // 5)
        schedule = CosineDecay(self.peak_lr / 25, decay_steps=total - warmup, alpha=0.0,
                               warmup_target=self.peak_lr, warmup_steps=warmup)
        model.compile(optimizer=optimizers.AdamW(learning_rate=schedule,
                                                 weight_decay=self.weight_decay),
                      loss=losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing),
                      metrics=["accuracy"], **options)

    def predict(self, model: Any, x: np.ndarray | torch.Tensor,
                batch_size: int = 512) -> np.ndarray:
        """Class probabilities ``(n, classes)`` for images ``x`` ``(n, H, W, C)`` (an array, or
        a tensor on any device: it is mirrored where it lives); with :attr:`test_time_flip`,
        ``(p(x) + p(x mirrored left-right)) / 2`` — the flip the training augmentation already
        taught the model."""
        probabilities = model.predict(x, batch_size=batch_size, verbose=0)
        if self.test_time_flip:
            mirrored = (torch.flip(x, dims=(2,)) if isinstance(x, torch.Tensor)
                        else np.ascontiguousarray(np.asarray(x)[:, :, ::-1]))
            probabilities = (probabilities + model.predict(mirrored, batch_size=batch_size,
                                                           verbose=0)) / 2
        return probabilities

    def accuracy(self, model: Any, x: np.ndarray | torch.Tensor,
                 labels: np.ndarray | torch.Tensor) -> float:
        """Fraction of :meth:`predict`'s arg-max classes equal to ``labels`` (class indices
        or one-hot rows)."""
        if isinstance(labels, torch.Tensor):
            labels = labels.cpu()
        labels = np.asarray(labels)
        if labels.ndim == 2:
            labels = labels.argmax(axis=1)
        return float((self.predict(model, x).argmax(axis=1) == labels.reshape(-1)).mean())


RECIPES = {
    "fast": Recipe("fast", fast_net, epochs=10, batch_size=128, peak_lr=4e-3,
                   weight_decay=5e-4, label_smoothing=0.1),
    "wide": Recipe("wide", wide_resnet, epochs=20, batch_size=128, peak_lr=3e-3,
                   weight_decay=5e-4, label_smoothing=0.1),
}


def get_recipe(name: str) -> Recipe:
    """The recipe named ``name`` (``"fast"``, ``"wide"``, ...); a clear error lists the names."""
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}; recipes: {sorted(RECIPES)}") from None
