"""``model.summary()`` prints Keras 2's table with the lecture's numbers (SPEC §7).

The expected tables are written out by hand in Keras 2's layout (``line_length`` 65 with
column stops at 45 % / 85 % for Sequential, 98 with stops 33 % / 55 % / 67 % and a
``Connected to`` column for functional models; trailing blanks not shown). Parameter counts
follow the lecture formulas: Conv ``(kh·kw·in + 1)·filters``, Dense ``(in + 1)·units``,
BatchNormalization ``4·C`` of which ``2·C`` (the moving statistics) are non-trainable.
"""

import re

import pytest

from cnnlab.layers import (
    Add,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    Input,
    MaxPooling2D,
)
from cnnlab.models import Model, Sequential


def summary_lines(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return lines


def rows(model):
    """``(name, type, output shape, params)`` of each layer row of the table."""
    found = []
    for line in summary_lines(model):
        match = re.fullmatch(r"(\S+) \((\w+)\)\s+(\(.*?\)|\[.*?\]|multiple)\s+(\d+).*", line)
        if match:
            found.append((match[1], match[2], match[3], int(match[4])))
    return found


def totals(model):
    return [line for line in summary_lines(model) if line.endswith(tuple("0123456789"))
            and line.split(":")[0] in ("Total params", "Trainable params",
                                       "Non-trainable params")]


KERAS_MNIST_TABLE = """\
Model: "sequential"
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
conv2d (Conv2D)              (None, 26, 26, 32)        320
_________________________________________________________________
conv2d_1 (Conv2D)            (None, 24, 24, 32)        9248
_________________________________________________________________
max_pooling2d (MaxPooling2D) (None, 12, 12, 32)        0
_________________________________________________________________
flatten (Flatten)            (None, 4608)              0
_________________________________________________________________
dense (Dense)                (None, 64)                294976
_________________________________________________________________
dense_1 (Dense)              (None, 10)                650
=================================================================
Total params: 305,194
Trainable params: 305,194
Non-trainable params: 0
_________________________________________________________________"""


def test_keras_mnist_example_table(capsys):
    model = Sequential([
        Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        Conv2D(32, 3, activation="relu"), MaxPooling2D(2), Flatten(),
        Dense(64, activation="relu"), Dense(10, activation="softmax")])
    assert "\n".join(summary_lines(model)) == KERAS_MNIST_TABLE
    model.summary()  # default print_fn is print
    assert [line.rstrip() for line in capsys.readouterr().out.splitlines()] == \
        KERAS_MNIST_TABLE.splitlines()
    assert model.count_params() == 305_194


def test_lenet_variant_1256080():
    model = Sequential([
        Conv2D(20, 5, padding="same", activation="relu", input_shape=(28, 28, 1)),
        MaxPooling2D(2), Conv2D(50, 5, padding="same", activation="relu"), MaxPooling2D(2),
        Flatten(), Dense(500, activation="relu"), Dense(10, activation="softmax")])
    assert [(shape, params) for _, _, shape, params in rows(model)] == [
        ("(None, 28, 28, 20)", (5 * 5 * 1 + 1) * 20), ("(None, 14, 14, 20)", 0),
        ("(None, 14, 14, 50)", (5 * 5 * 20 + 1) * 50), ("(None, 7, 7, 50)", 0),
        ("(None, 2450)", 0), ("(None, 500)", 2451 * 500), ("(None, 10)", 501 * 10)]
    assert totals(model) == ["Total params: 1,256,080", "Trainable params: 1,256,080",
                             "Non-trainable params: 0"]


def test_shallownet_657162():
    model = Sequential([
        Conv2D(64, (3, 3), padding="same", activation="relu", input_shape=(32, 32, 3)),
        Flatten(), Dense(10, activation="softmax")])
    assert rows(model) == [("conv2d", "Conv2D", "(None, 32, 32, 64)", 1792),
                           ("flatten", "Flatten", "(None, 65536)", 0),
                           ("dense", "Dense", "(None, 10)", 655_370)]
    assert totals(model)[0] == "Total params: 657,162"


def test_one_conv_with_ten_3x3_filters_on_three_channels():
    model = Sequential([Conv2D(10, 3, input_shape=(7, 7, 3))])
    assert rows(model) == [("conv2d", "Conv2D", "(None, 5, 5, 10)", 280)]
    assert totals(model)[0] == "Total params: 280"


def test_vgg16_convolutional_base_14714688():
    layers = [Input((None, None, 3))]
    for filters, repeats in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        layers += [Conv2D(filters, 3, padding="same", activation="relu")
                   for _ in range(repeats)]
        layers.append(MaxPooling2D(2))
    model = Sequential(layers)
    table = rows(model)
    assert len(table) == 18
    assert table[0][2:] == ("(None, None, None, 64)", 1792)
    assert table[-1][2] == "(None, None, None, 512)"
    assert [params for *_, params in table if params] == [
        1792, 36928, 73856, 147584, 295168, 590080, 590080, 1180160, 2359808, 2359808,
        2359808, 2359808, 2359808]
    assert totals(model) == ["Total params: 14,714,688", "Trainable params: 14,714,688",
                             "Non-trainable params: 0"]
    assert model.output_shape == (None, None, None, 512)


def test_classic_lenet5_shapes():
    model = Sequential([
        Conv2D(6, 5, activation="tanh", input_shape=(32, 32, 1)), AveragePooling2D(2),
        Conv2D(16, 5, activation="tanh"), AveragePooling2D(2), Flatten(),
        Dense(120, activation="tanh"), Dense(84, activation="tanh"),
        Dense(10, activation="softmax")])
    assert [(kind, shape, params) for _, kind, shape, params in rows(model)] == [
        ("Conv2D", "(None, 28, 28, 6)", 156), ("AveragePooling2D", "(None, 14, 14, 6)", 0),
        ("Conv2D", "(None, 10, 10, 16)", 2416), ("AveragePooling2D", "(None, 5, 5, 16)", 0),
        ("Flatten", "(None, 400)", 0), ("Dense", "(None, 120)", 48120),
        ("Dense", "(None, 84)", 10164), ("Dense", "(None, 10)", 850)]
    assert totals(model)[0] == "Total params: 61,706"


def test_batch_normalization_has_non_trainable_parameters():
    model = Sequential([Conv2D(32, 3, input_shape=(28, 28, 1)), BatchNormalization(),
                        Flatten(), Dense(10)])
    assert rows(model)[1][3] == 4 * 32
    total = 320 + 128 + (26 * 26 * 32 + 1) * 10
    assert totals(model) == [f"Total params: {total:,}", f"Trainable params: {total - 64:,}",
                             "Non-trainable params: 64"]
    model.layers[0].trainable = False
    assert totals(model)[1:] == [f"Trainable params: {total - 64 - 320:,}",
                                 f"Non-trainable params: {64 + 320:,}"]


FUNCTIONAL_TABLE = """\
Model: "resblock"
__________________________________________________________________________________________________
Layer (type)                    Output Shape         Param #     Connected to
==================================================================================================
input_1 (InputLayer)            [(None, 8, 8, 3)]    0
__________________________________________________________________________________________________
conv2d (Conv2D)                 (None, 8, 8, 3)      84          input_1[0][0]
__________________________________________________________________________________________________
add (Add)                       (None, 8, 8, 3)      0           conv2d[0][0]
                                                                 input_1[0][0]
__________________________________________________________________________________________________
flatten (Flatten)               (None, 192)          0           add[0][0]
__________________________________________________________________________________________________
dense (Dense)                   (None, 10)           1930        flatten[0][0]
==================================================================================================
Total params: 2,014
Trainable params: 2,014
Non-trainable params: 0
__________________________________________________________________________________________________"""


def test_functional_table_with_connected_to():
    inputs = Input((8, 8, 3))
    x = Add()([Conv2D(3, 3, padding="same")(inputs), inputs])
    model = Model(inputs, Dense(10)(Flatten()(x)), name="resblock")
    assert "\n".join(summary_lines(model)) == FUNCTIONAL_TABLE


def test_summary_before_build_explains_what_to_do():
    with pytest.raises(ValueError, match=r"not been built yet.*input_shape=.*build"):
        Sequential([Dense(2)]).summary()
