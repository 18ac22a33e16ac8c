"""Keras layers on PyTorch, channels-last at the API.

Every public layer is registered by class name (and Keras's legacy aliases) so that saved
models load by name without importing anything from the file.

Modules, lowest first: ``nest``, ``registry``, ``weight_layout``, ``_messages`` (argument and
shape messages) -> ``keras_tensor`` (KerasTensor, Node) -> ``base`` (Layer, with
``_layer_weights``) -> the layers (their shared helpers: ``conv_utils``, ``scale_shift``,
``_spatial``, ``_images``) -> ``symbolic`` (operations on KerasTensors as graph nodes;
imported here so that KerasTensor's operators always find it).
"""

# Imported for its effect: installs what KerasTensor's operators call (x[:, 0], a + b).
from cnnlab.layers import symbolic  # noqa: F401
from cnnlab.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from cnnlab.layers.augmentation import (
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from cnnlab.layers.base import Layer
from cnnlab.layers.conv import Conv1D, Conv2D, Conv3D
from cnnlab.layers.conv_transpose import Conv1DTranspose, Conv2DTranspose, Conv3DTranspose
from cnnlab.layers.core import Activation, Dense, Input, InputLayer, Lambda, Rescaling
from cnnlab.layers.cropping import Cropping1D, Cropping2D, Cropping3D
from cnnlab.layers.depthwise_conv import DepthwiseConv2D
from cnnlab.layers.imagenet_preprocessing import ImageNetPreprocessing
from cnnlab.layers.keras_tensor import KerasTensor
from cnnlab.layers.layer_normalization import LayerNormalization
from cnnlab.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from cnnlab.layers.normalization import BatchNormalization
from cnnlab.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from cnnlab.layers.registry import clear_session
from cnnlab.layers.regularization import (
    ActivityRegularization,
    Dropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from cnnlab.layers.reshaping import Flatten, Permute, RepeatVector, Reshape
from cnnlab.layers.resizing import Resizing
from cnnlab.layers.separable_conv import SeparableConv2D
from cnnlab.layers.standardization import Normalization
from cnnlab.layers.up_sampling import UpSampling1D, UpSampling2D, UpSampling3D
from cnnlab.layers.zero_padding import ZeroPadding1D, ZeroPadding2D, ZeroPadding3D

# Keras's alternative and legacy class names.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose, Deconvolution2D = Conv2DTranspose, Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (GlobalMaxPooling1D, GlobalMaxPooling2D,
                                                     GlobalMaxPooling3D)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D,
                                                     GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)

__all__ = [
    "ELU", "Activation", "ActivityRegularization", "Add", "Average", "AveragePooling1D",
    "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
    "BatchNormalization", "Concatenate", "Conv1D", "Conv1DTranspose", "Conv2D",
    "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Convolution1D", "Convolution2D",
    "Convolution2DTranspose", "Convolution3D", "Cropping1D", "Cropping2D", "Cropping3D",
    "Deconvolution2D", "Dense", "Dot", "DepthwiseConv2D", "Dropout", "Flatten", "GaussianDropout",
    "GaussianNoise", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D", "ImageNetPreprocessing",
    "Input", "InputLayer", "KerasTensor", "Lambda",
    "Layer", "LayerNormalization", "LeakyReLU", "MaxPool1D", "MaxPool2D", "MaxPool3D",
    "MaxPooling1D", "MaxPooling2D",
    "MaxPooling3D", "Maximum", "Minimum", "Multiply", "Normalization", "PReLU", "Permute", "ReLU",
    "RepeatVector",
    "Rescaling", "Reshape", "Resizing", "SeparableConv2D", "SeparableConvolution2D", "Softmax",
    "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "Subtract", "ThresholdedReLU",
    "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D",
    "ZeroPadding3D", "add", "average", "clear_session", "concatenate", "dot", "maximum", "minimum",
    "multiply", "subtract",
    "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation",
    "RandomTranslation", "RandomZoom",
]
