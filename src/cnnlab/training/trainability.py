"""Which weights training updates: those that were trainable when the model was compiled.

Keras fixes a model's trainable weights when it is compiled ("for this to take effect, you
will need to call compile() on your model after modifying the trainable property", Keras
FAQ). The classic GAN recipe depends on it: the discriminator is compiled while trainable,
then ``discriminator.trainable = False`` is set to build and compile the combined model, so the
combined model trains only the generator while ``discriminator.train_on_batch`` still trains
the discriminator.

A layer's ``trainable`` flag sets ``requires_grad`` of its own parameters. During ``fit`` and
``train_on_batch`` a compiled model switches ``requires_grad`` to its compiled set
(:func:`use_compiled`), and afterwards back to every layer's flag (:func:`restore_declared`).
``BatchNormalization`` reads its layer's flag at call time: a frozen layer runs in inference
mode from the next batch on, with or without a new ``compile``.
"""

from __future__ import annotations

import warnings

import torch

from cnnlab.layers.base import Layer


def trainable_ids(model: torch.nn.Module) -> frozenset[int]:
    """The ``id`` of every parameter whose layer is trainable now."""
    return frozenset(id(p) for p in model.parameters() if p.requires_grad)


def use_compiled(model: torch.nn.Module, compiled: frozenset[int]) -> None:
    """``requires_grad`` of every parameter: whether its ``id`` is in ``compiled``."""
    for param in model.parameters():
        param.requires_grad_(id(param) in compiled)


def warn_changed(owner: str, compiled: frozenset[int], now: frozenset[int]) -> None:
    """Keras 2's "discrepancy between trainable weights and collected trainable weights"."""
    warnings.warn(
        f"{owner}: the trainable weights changed after compile() ({len(now)} trainable weight "
        f"tensors now, {len(compiled)} when compiled); as in Keras, training updates the weights "
        f"that were trainable at compile(): call compile() again to train the new set",
        stacklevel=4)


def restore_declared(model: torch.nn.Module) -> None:
    """``requires_grad`` of every parameter back to its layer's ``trainable`` flag."""
    for module in model.modules():
        if isinstance(module, Layer):
            for param in module.parameters(recurse=False):
                param.requires_grad_(module.trainable)
