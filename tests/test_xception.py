"""keras.applications.xception: Keras's parameter counts and layer names, 'tf' preprocessing,
the weights argument."""

import numpy as np
import pytest

from cnnlab import keras
from cnnlab.keras.applications import xception


def test_xception_has_keras_parameter_counts_and_layer_names():
    model = xception.Xception(weights=None)
    assert model.count_params() == 22_910_480  # Keras's Xception with the top
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 22_855_952
    assert model.get_layer("block14_sepconv2_act").output.shape == (None, 10, 10, 2048)
    assert model.get_layer("predictions").output.shape == (None, 1000)
    base = keras.applications.Xception(weights=None, include_top=False)
    assert base.count_params() == 20_861_480
    assert base.output_shape == (None, None, None, 2048)
    pooled = xception.Xception(weights=None, include_top=False, pooling="avg",
                               input_shape=(71, 71, 3))
    assert pooled.output_shape == (None, 2048)


def test_preprocess_input_scales_to_minus_one_one():
    x = np.array([[[[0.0, 127.5, 255.0]]]], np.float32)
    np.testing.assert_allclose(xception.preprocess_input(x), [[[[-1.0, 0.0, 1.0]]]])


def test_imagenet_weights_are_refused_with_what_to_do():
    with pytest.raises(ValueError, match="weights='imagenet'.* weights=None"):
        xception.Xception()
