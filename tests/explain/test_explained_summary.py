"""The explained summary: hand-computed lecture numbers, Keras's parameter counts, and receptive
fields checked against the gradient footprint of a real output."""

import math

import pytest
import torch

import cnnlab
from cnnlab.explain import explain_model, format_explained_summary
from cnnlab.layers import (
    Add,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Conv2DTranspose,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
    SeparableConv2D,
    UpSampling2D,
)


def keras_mnist_example():
    return cnnlab.Sequential([
        Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        Conv2D(32, 3, activation="relu"),
        MaxPooling2D(2),
        Dropout(0.25),
        Flatten(),
        Dense(64, activation="relu"),
        Dense(10, activation="softmax"),
    ])


def test_keras_mnist_example_numbers():
    model = keras_mnist_example()
    rows = explain_model(model)
    conv1, conv2, pool, _, flatten, dense1, dense2 = rows
    assert conv1.size_lines == ("H, W: (28 + 2·0 − 3)/1 + 1 = 26",)
    assert conv2.size_lines == ("H, W: (26 + 2·0 − 3)/1 + 1 = 24",)
    assert pool.size_lines == ("H, W: (24 + 2·0 − 2)/2 + 1 = 12",)
    assert flatten.size_lines == ("12·12·32 = 4,608",)
    assert conv1.params_formula == "(1·3·3 + 1)·32 = 320"
    assert conv2.params_formula == "(32·3·3 + 1)·32 = 9,248"
    assert dense1.params_formula == "(4608 + 1)·64 = 294,976"
    assert [r.params for r in rows] == [320, 9248, 0, 0, 0, 294976, 650]
    assert [r.receptive_field for r in rows[:3]] == [(3, 3), (5, 5), (6, 6)]
    assert [r.jump for r in rows[:3]] == [(1, 1), (1, 1), (2, 2)]
    assert flatten.receptive_field == (28, 28) and flatten.jump is None
    # MACs: every output value needs F·F·D multiply-adds.
    assert conv1.macs == 26 * 26 * 32 * (3 * 3 * 1)
    assert conv2.macs == 24 * 24 * 32 * (3 * 3 * 32)
    assert dense1.macs == 4608 * 64 and pool.macs == 0
    assert conv1.activation_bytes == 26 * 26 * 32 * 4
    assert sum(r.params for r in rows) == model.count_params() == 305_194
    text = format_explained_summary(model)
    assert "Total params: 305,194" in text and "Non-trainable params: 0" in text
    assert f"Multiply-accumulates: {sum(r.macs for r in rows):,}" in text


def tf_same(size, kernel, stride):
    """TensorFlow's 'same' rule written out: (output, pad before, pad after)."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return out, total // 2, total - total // 2


@pytest.mark.parametrize("size", [28, 27, 7])
def test_same_padding_shows_tensorflow_rule_and_padding(size):
    model = cnnlab.Sequential([Conv2D(8, 3, strides=2, padding="same",
                                      input_shape=(size, size, 1)),
                               MaxPooling2D(2, padding="same")])
    conv, pool = explain_model(model)
    out, before, after = tf_same(size, 3, 2)
    assert conv.size_lines == (f"H, W: ceil({size}/2) = {out}, pad {before} top / {after} "
                               f"bottom, {before} left / {after} right",)
    pool_out, p_before, p_after = tf_same(out, 2, 2)
    assert pool.size_lines[0].startswith(f"H, W: ceil({out}/2) = {pool_out}, pad {p_before} top "
                                         f"/ {p_after} bottom")
    assert model.output_shape == (None, pool_out, pool_out, 8)


def test_axes_with_different_numbers_get_one_line_each_and_dilation_shows_effective_kernel():
    model = cnnlab.Sequential([Conv2D(4, (3, 2), strides=(1, 2), padding="same",
                                      input_shape=(28, 13, 1)),
                               Conv2D(4, 3, dilation_rate=2)])
    conv, dilated = explain_model(model)
    assert conv.size_lines == ("H: ceil(28/1) = 28, pad 1 top / 1 bottom",
                               "W: ceil(13/2) = 7, pad 0 left / 1 right")
    note = "  [F' = 2·(3 − 1) + 1 = 5]"
    assert dilated.size_lines == (f"H: (28 + 2·0 − 5)/1 + 1 = 24{note}",
                                  f"W: (7 + 2·0 − 5)/1 + 1 = 3{note}")
    # r = r_in + (F' − 1)·j_in after fields (3, 2) and jumps (1, 2).
    assert dilated.receptive_field == (3 + 4 * 1, 2 + 4 * 2)


def test_formulas_of_normalization_depthwise_and_separable_layers():
    inputs = Input((10, 10, 8))
    x = BatchNormalization()(inputs)
    x = DepthwiseConv2D(3, depth_multiplier=2)(x)
    x = SeparableConv2D(16, 3, use_bias=False)(x)
    model = cnnlab.Model(inputs, Conv2D(4, 1, use_bias=False)(x))
    _, bn, depthwise, separable, pointwise = explain_model(model)
    assert bn.params_formula == "4·8 = 32 (2·8 = 16 non-trainable)"
    assert bn.non_trainable_params == 16
    assert depthwise.params_formula == "(3·3 + 1)·8·2 = 160"
    assert separable.params_formula == "3·3·16·1 + 16·1·16 = 400"
    assert pointwise.params_formula == "16·1·1·4 = 64"
    for row, layer in zip(explain_model(model), model.layers, strict=True):
        assert row.params == layer.count_params()
    assert depthwise.macs == 8 * 8 * 9 * 16
    assert separable.macs == 6 * 6 * 9 * 16 + 6 * 6 * 16 * 16
    text = format_explained_summary(model)
    assert "Trainable params: 640" in text and "Non-trainable params: 16" in text


def resnet_style():
    inputs = Input((16, 16, 3))
    main = Conv2D(8, 3, padding="same", activation="relu")(inputs)
    main = Conv2D(8, 3, padding="same")(main)
    shortcut = Conv2D(8, 1)(inputs)
    x = Add()([shortcut, main])
    x = Concatenate()([x, shortcut])
    x = MaxPooling2D(2)(x)
    x = GlobalAveragePooling2D()(x)
    return cnnlab.Model(inputs, Dense(10, activation="softmax")(x))


def test_functional_resnet_takes_the_largest_field_over_paths_and_totals_match():
    model = resnet_style()
    rows = {r.name: r for r in explain_model(model)}
    assert rows["add"].receptive_field == (5, 5)        # max(1x1 shortcut, two 3x3 convs)
    assert rows["concatenate"].receptive_field == (5, 5)
    assert rows["concatenate"].size_lines == ("axis -1: 8 + 8 = 16",)
    assert rows["max_pooling2d"].receptive_field == (6, 6)
    assert rows["max_pooling2d"].jump == (2, 2)
    assert rows["global_average_pooling2d"].receptive_text == "whole input"
    assert sum(r.params for r in rows.values()) == model.count_params()
    text = format_explained_summary(model)
    assert f"Total params: {model.count_params():,}" in text
    assert all(name in text for name in rows)


def footprint(model, size):
    """The most input pixels (per axis) that any output depends on, measured with autograd:
    all weights 1, so every dependency shows up as a non-zero Jacobian entry."""
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    jacobian = torch.autograd.functional.jacobian(
        lambda x: model(x)[0, ..., 0], torch.ones(1, size, size, 1), vectorize=True)
    touched = jacobian[:, :, 0, :, :, 0] != 0  # (out_h, out_w, in_h, in_w)
    rows, cols = touched.any(dim=3), touched.any(dim=2)

    def extent(mask):
        index = torch.arange(mask.shape[-1])
        low = torch.where(mask, index, mask.shape[-1]).amin(-1)
        high = torch.where(mask, index, -1).amax(-1)
        return int((high - low + 1).max())

    return extent(rows), extent(cols)


@pytest.mark.parametrize("layers,exact", [
    ([Conv2D(1, 3, strides=2), AveragePooling2D(3, strides=2), Conv2D(1, 3)], True),
    ([Conv2D(1, 3, dilation_rate=2), Conv2D(1, (2, 4), strides=(2, 1))], True),
    ([Conv2D(1, 3, strides=2), UpSampling2D(2), Conv2D(1, 3)], True),
    ([Conv2D(1, 3, strides=2), UpSampling2D(2, interpolation="bilinear"), Conv2D(1, 1)], True),
    # With fractional jumps the rule is an upper bound: here 4 pixels, the rule says 4.5 -> 5.
    ([Conv2D(1, 3), Conv2DTranspose(1, 3, strides=2), Conv2D(1, 2)], False),
])
def test_receptive_field_matches_the_gradient_footprint(layers, exact):
    model = cnnlab.Sequential([Input((17, 17, 1)), *layers])
    field = explain_model(model)[-1].receptive_field
    measured = footprint(model, 17)
    if exact:
        assert measured == field
    else:
        assert all(m <= f <= m + 1 for m, f in zip(measured, field, strict=True))


def test_vector_models_have_no_receptive_field_and_unbuilt_models_are_refused():
    model = cnnlab.Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    rows = explain_model(model)
    assert rows[0].receptive_field is None and rows[0].receptive_text == ""
    assert rows[0].params_formula == "(3 + 1)·4 = 16"
    assert "receptive" not in format_explained_summary(model)
    with pytest.raises(ValueError, match="not been built"):
        explain_model(cnnlab.Sequential([Dense(2)]))


def test_nested_model_is_one_row_with_the_sum_of_its_layers():
    base = resnet_style()
    model = cnnlab.Sequential([Input((16, 16, 3)), base, Dense(3)])
    nested, head = explain_model(model)
    assert nested.params == base.count_params()
    assert nested.macs == sum(r.macs for r in explain_model(base))
    assert nested.receptive_text == "whole input"
    assert nested.params + head.params == model.count_params()


def test_unknown_spatial_sizes_are_marked():
    model = cnnlab.Sequential([Input((None, None, 3)), Conv2D(4, 3),
                               GlobalAveragePooling2D()])
    conv, pooled = explain_model(model)
    assert conv.size_lines == ("H, W: ? (input size unknown)",)
    assert conv.macs is None and conv.activation_bytes is None
    assert conv.receptive_field == (3, 3)
    assert pooled.receptive_field is None and pooled.receptive_text == "whole input"
    assert "layers of unknown size left out" in format_explained_summary(model)
