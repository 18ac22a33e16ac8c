"""``keras.applications`` constructors over the zoo: ``VGG16``, ``ResNet50`` (and cnnlab's
``ResNet18``), with Keras's signature::

    VGG16(include_top=True, weights='imagenet', input_tensor=None, input_shape=None,
          pooling=None, classes=1000, classifier_activation='softmax')

``weights``: ``None`` (random initialization), ``'imagenet'`` (Keras downloads the file;
cnnlab cannot, so this raises and says what to do instead), or the path of a weights file:
a Keras 2 HDF5 file (such as ``vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5``) is loaded
by layer name (the layer names are Keras's), any other file cnnlab reads (its own, Keras 3,
PyTorch state dicts: :mod:`cnnlab.io.weight_files`) strictly by layer order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from cnnlab.layers import Dense, GlobalAveragePooling2D, GlobalMaxPooling2D, KerasTensor
from cnnlab.models import Model, clone_model
from cnnlab.zoo.common import load_pretrained
from cnnlab.zoo.resnet import resnet18
from cnnlab.zoo.resnet50 import resnet50
from cnnlab.zoo.vgg import vgg16

MIN_SIZE = 32


def _check_arguments(name: str, weights: Any, include_top: bool, pooling: Any) -> None:
    if weights == "imagenet":
        raise ValueError(
            f"{name}: weights='imagenet' needs Keras's pretrained file, which cnnlab cannot "
            f"download. Pass weights=None (random initialization) or weights='path/to/file': "
            f"a cnnlab weights file (model.save_weights) or the Keras HDF5 file, e.g. "
            f"{name.lower()}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}"
            f".h5, copied to this machine")
    if weights is not None and not (isinstance(weights, (str, os.PathLike))
                                    and os.path.isfile(weights)):
        raise ValueError(f"{name}: `weights` must be None, 'imagenet' or the path of a weights "
                         f"file that exists, got weights={weights!r}")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{name}: `pooling` must be None, 'avg' or 'max', got {pooling!r}")


def _shape_of(name: str, input_tensor: Any, input_shape: Any) -> Any:
    if input_tensor is not None:
        if not isinstance(input_tensor, KerasTensor):
            raise TypeError(f"{name}: `input_tensor` must be a symbolic tensor from Input(...) "
                            f"(or a layer called on one), got {type(input_tensor).__name__}")
        given = tuple(input_tensor.shape[1:])
        if input_shape is not None and tuple(input_shape) != given:
            raise ValueError(f"{name}: input_shape={tuple(input_shape)} does not match the "
                             f"shape of input_tensor, {given}")
        input_shape = given
    if input_shape is not None:
        shape = tuple(input_shape)
        if len(shape) == 3 and any(d is not None and d < MIN_SIZE for d in shape[:2]):
            raise ValueError(f"{name}: input size must be at least {MIN_SIZE}x{MIN_SIZE}; got "
                             f"input_shape={shape}")
    return input_shape


def _finish(model: Model, name: str, weights: Any, input_tensor: Any) -> Model:
    if input_tensor is not None:
        model = clone_model(model, input_tensors=input_tensor)
    return load_pretrained(model, weights, name)


def _application(name: str, builder: Callable[..., Model]) -> Callable[..., Model]:
    def construct(include_top: bool = True, weights: str | os.PathLike | None = "imagenet",
                  input_tensor: KerasTensor | None = None,
                  input_shape: Sequence[int | None] | None = None, pooling: str | None = None,
                  classes: int = 1000, classifier_activation: str | None = "softmax") -> Model:
        _check_arguments(name, weights, include_top, pooling)
        input_shape = _shape_of(name, input_tensor, input_shape)
        model = builder(include_top=include_top, input_shape=input_shape, classes=classes,
                        pooling=None if include_top else pooling,  # Keras ignores it too
                        classifier_activation=classifier_activation)
        return _finish(model, name, weights, input_tensor)

    construct.__name__ = construct.__qualname__ = name
    return construct


def _resnet18(include_top: bool, input_shape: Sequence[int | None] | None, classes: int,
              pooling: str | None, classifier_activation: str | None) -> Model:
    """The zoo's ResNet-18 body with a Keras-style head (``avg_pool``, ``predictions``)."""
    if input_shape is None:
        input_shape = (224, 224, 3) if include_top else (None, None, 3)
    full = resnet18(input_shape=input_shape, classes=classes)
    x = full.get_layer("conv5_block2_out").output
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = GlobalMaxPooling2D(name="max_pool")(x)
    return Model(full.input, x, name="resnet18")


VGG16 = _application("VGG16", vgg16)
VGG16.__doc__ = """``keras.applications.VGG16`` (:func:`cnnlab.zoo.vgg16`): Keras's signature
and ``weights`` handling (module docstring). The convolutional base has 14,714,688 parameters
for any input size (at least 32x32); with the top at 224x224x3, 138,357,544."""
ResNet50 = _application("ResNet50", resnet50)
ResNet50.__doc__ = """``keras.applications.ResNet50`` (:func:`cnnlab.zoo.resnet50.resnet50`):
Keras's signature and ``weights`` handling (module docstring). 23,587,712 parameters without
the top, 25,636,712 with it."""
ResNet18 = _application("ResNet18", _resnet18)
ResNet18.__doc__ = """ResNet-18 with the signature of the Keras applications (a cnnlab
addition: Keras has no ResNet18). The body is :func:`cnnlab.zoo.resnet18` (torchvision's
layout), the head Keras-style; 11,176,512 trainable parameters without the top."""

__all__ = ["ResNet18", "ResNet50", "VGG16"]
