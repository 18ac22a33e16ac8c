"""The model zoo against the published tables.

Expected shapes come from the papers' / lectures' tables; expected parameter counts are
computed here from the lecture formulas (conv ``(D·F·F + 1)·M``, dense ``(n + 1)·m``, batch
norm 2 trainable + 2 moving values per channel), except the reference totals quoted by the
sources (SPEC §7, Keras's VGG16, torchvision's ResNet-18), which are asserted literally too.
"""

import numpy as np
import pytest
import torch

import cnnlab
from cnnlab import zoo
from cnnlab.layers import Add, Concatenate, Dropout
from cnnlab.models import Model


def conv(d, f, m, bias=True):
    return (d * f * f + int(bias)) * m


def dense(n, m):
    return (n + 1) * m


def bn(c):
    """(trainable, total) values of a BatchNormalization over c channels."""
    return 2 * c, 4 * c


def summary_counts(model):
    """(total, trainable, non-trainable) as printed by ``summary()``."""
    lines = []
    model.summary(print_fn=lines.append)
    counts = {}
    for line in lines:
        for key in ("Total", "Trainable", "Non-trainable"):
            if line.startswith(f"{key} params:"):
                counts[key] = int(line.split(":")[1].replace(",", ""))
    return counts["Total"], counts["Trainable"], counts["Non-trainable"]


def trainable_count(model):
    return sum(t.numel() for t in model.trainable_weights)


def shapes(model, names):
    return [model.get_layer(n).output_shape for n in names]


def graph_output(model, layer_name):
    """The symbolic output tensor of ``layer_name`` in a functional model."""
    return next(node.outputs[0] for node in model.graph.nodes if node.layer.name == layer_name)


def inbound(model, layer_name):
    """Names of the layers whose outputs ``layer_name`` reads (in the model's graph)."""
    node = next(n for n in model.graph.nodes if n.layer.name == layer_name)
    return [t.node.layer.name for t in node.input_tensors]


# ----------------------------------------------------------------------------- LeNet
LENET5_TABLE = [("c1", (None, 28, 28, 6)), ("s2", (None, 14, 14, 6)),
                ("c3", (None, 10, 10, 16)), ("s4", (None, 5, 5, 16)), ("flatten", (None, 400)),
                ("f5", (None, 120)), ("f6", (None, 84)), ("output", (None, 10))]
LENET5_PARAMS = (conv(1, 5, 6) + conv(6, 5, 16) + dense(400, 120) + dense(120, 84)
                 + dense(84, 10))


@pytest.mark.parametrize("classic, act, pool", [(True, "tanh", "AveragePooling2D"),
                                                (False, "relu", "MaxPooling2D")])
def test_lenet5_follows_the_1998_table(classic, act, pool):
    model = zoo.lenet5(classic=classic)
    assert model.name == ("lenet5" if classic else "lenet5_modern")
    assert [(layer.name, layer.output_shape) for layer in model.layers] == LENET5_TABLE
    assert summary_counts(model) == (LENET5_PARAMS, LENET5_PARAMS, 0) == (61706, 61706, 0)
    assert {model.get_layer(n).get_config()["activation"] for n in ("c1", "c3", "f5", "f6")} \
        == {act}
    assert model.get_layer("output").get_config()["activation"] == "softmax"
    assert {type(model.get_layer(n)).__name__ for n in ("s2", "s4")} == {pool}
    mnist = zoo.lenet5(input_shape=(28, 28, 1), classic=classic)  # 24 -> 12 -> 8 -> 4
    assert mnist.get_layer("s4").output_shape == (None, 4, 4, 16)


@pytest.mark.parametrize("builder, expected, reference", [
    (zoo.lenet_lecture, conv(1, 5, 20) + conv(20, 5, 50) + dense(7 * 7 * 50, 500)
     + dense(500, 10), 1_256_080),
    (zoo.shallownet, conv(3, 3, 64) + dense(32 * 32 * 64, 10), 657_162),
    (zoo.keras_mnist_example, conv(1, 3, 32) + conv(32, 3, 32) + dense(12 * 12 * 32, 64)
     + dense(64, 10), 305_194),
])
def test_spec_reference_numbers_in_summary(builder, expected, reference):
    model = builder()
    assert expected == reference
    lines = []
    model.summary(print_fn=lines.append)
    assert f"Total params: {reference:,}" in lines
    assert f"Trainable params: {reference:,}" in lines


def test_lenet_lecture_and_keras_mnist_shapes():
    lenet = zoo.lenet_lecture()
    assert [layer.output_shape for layer in lenet.layers] == [
        (None, 28, 28, 20), (None, 14, 14, 20), (None, 14, 14, 50), (None, 7, 7, 50),
        (None, 2450), (None, 500), (None, 10)]
    mnist = zoo.keras_mnist_example()
    assert [layer.output_shape for layer in mnist.layers] == [
        (None, 26, 26, 32), (None, 24, 24, 32), (None, 12, 12, 32), (None, 4608), (None, 64),
        (None, 10)]


# ----------------------------------------------------------------------------- VGG-style
def vgg_style_counts(widths, features):
    """(total, trainable) of the lecture VGGs: per block two 3x3 convs each with BN, then
    Dense(512) + BN and the classifier."""
    total = trainable = 0
    d = 3
    for f in widths:
        for _ in range(2):
            total += conv(d, 3, f) + bn(f)[1]
            trainable += conv(d, 3, f) + bn(f)[0]
            d = f
    head = dense(features, 512) + dense(512, 10)
    return total + head + bn(512)[1], trainable + head + bn(512)[0]


@pytest.mark.parametrize("dropout", [True, False])
def test_shallow_vggnet_is_minivggnet(dropout):
    model = zoo.shallow_vggnet(dropout=dropout)
    total, trainable = vgg_style_counts((32, 64), 8 * 8 * 64)
    assert (total, trainable) == (2_171_178, 2_169_770)  # PyImageSearch's MiniVGGNet summary
    assert summary_counts(model) == (total, trainable, total - trainable)
    rates = [layer.rate for layer in model.layers if isinstance(layer, Dropout)]
    assert rates == ([0.25, 0.25, 0.5] if dropout else [])
    pools = [layer.output_shape for layer in model.layers
             if type(layer).__name__ == "MaxPooling2D"]
    assert pools == [(None, 16, 16, 32), (None, 8, 8, 64)]


def test_deeper_vggnet_has_three_blocks():
    model = zoo.deeper_vggnet()
    total, trainable = vgg_style_counts((32, 64, 128), 4 * 4 * 128)
    assert summary_counts(model) == (total, trainable, total - trainable)
    convs = [layer.output_shape for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert convs == [(None, 32, 32, 32)] * 2 + [(None, 16, 16, 64)] * 2 \
        + [(None, 8, 8, 128)] * 2


def test_keras_cifar10_example_with_and_without_bn_elu():
    model = zoo.keras_cifar10_example()
    convs = conv(3, 3, 32) + conv(32, 3, 32) + conv(32, 3, 64) + conv(64, 3, 64)
    head = dense(6 * 6 * 64, 512) + dense(512, 10)
    channels = 32 + 32 + 64 + 64 + 512
    assert summary_counts(model) == (convs + head + bn(channels)[1],
                                     convs + head + bn(channels)[0], 2 * channels)
    assert [layer.get_config()["activation"] for layer in model.layers
            if type(layer).__name__ == "Activation"] == ["elu"] * 5
    assert [layer.output_shape for layer in model.layers
            if type(layer).__name__ in ("MaxPooling2D", "Dense")] == [
        (None, 15, 15, 32), (None, 6, 6, 64), (None, 512), (None, 10)]
    original = zoo.keras_cifar10_example(activation="relu", batch_norm=False)
    assert original.count_params() == convs + head == 1_250_858


# ----------------------------------------------------------------------------- AlexNet
def test_alexnet_table():
    model = zoo.alexnet()
    assert shapes(model, ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5",
                          "pool5", "fc6", "fc7", "fc8"]) == [
        (None, 55, 55, 96), (None, 27, 27, 96), (None, 27, 27, 256), (None, 13, 13, 256),
        (None, 13, 13, 384), (None, 13, 13, 384), (None, 13, 13, 256), (None, 6, 6, 256),
        (None, 4096), (None, 4096), (None, 1000)]
    expected = (conv(3, 11, 96) + conv(96, 5, 256) + conv(256, 3, 384) + conv(384, 3, 384)
                + conv(384, 3, 256) + dense(6 * 6 * 256, 4096) + dense(4096, 4096)
                + dense(4096, 1000))
    assert summary_counts(model) == (expected, expected, 0)
    assert expected == 62_378_344
    assert [layer.rate for layer in model.layers if isinstance(layer, Dropout)] == [0.5, 0.5]
    assert model.get_layer("conv1").strides == (4, 4)


def test_alexnet_batch_norm_option_drops_biases():
    model = zoo.alexnet(input_shape=(67, 67, 1), classes=5, batch_norm=True, dropout=0)
    widths = [(1, 11, 96), (96, 5, 256), (256, 3, 384), (384, 3, 384), (384, 3, 256)]
    weights = sum(conv(*w, bias=False) + bn(w[2])[1] for w in widths)
    weights += 256 * 4096 + bn(4096)[1] + 4096 * 4096 + bn(4096)[1] + dense(4096, 5)
    assert model.get_layer("pool5").output_shape == (None, 1, 1, 256)  # the smallest input
    assert model.count_params() == weights
    assert not any(isinstance(layer, Dropout) for layer in model.layers)


# ----------------------------------------------------------------------------- VGG16
KERAS_VGG16_NAMES = [f"block{b}_{kind}" for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3))
                     for kind in [f"conv{i}" for i in range(1, n + 1)] + ["pool"]]


def test_vgg16_convolutional_base_has_14714688_parameters():
    base = zoo.vgg16(include_top=False)
    assert base.input_shape == (None, None, None, 3)
    assert [layer.name for layer in base.layers] == KERAS_VGG16_NAMES
    expected, d = 0, 3
    for filters, n in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(n):
            expected, d = expected + conv(d, 3, filters), filters
    assert summary_counts(base) == (expected, expected, 0) == (14_714_688, 14_714_688, 0)
    assert base.output_shape == (None, None, None, 512)
    assert zoo.vgg16(include_top=False, pooling="max").output_shape == (None, 512)


def test_vgg16_with_top():
    model = zoo.vgg16()
    assert [layer.name for layer in model.layers] == KERAS_VGG16_NAMES + [
        "flatten", "fc1", "fc2", "predictions"]
    assert shapes(model, ["block1_pool", "block3_pool", "block5_pool", "flatten"]) == [
        (None, 112, 112, 64), (None, 28, 28, 256), (None, 7, 7, 512), (None, 25088)]
    top = dense(7 * 7 * 512, 4096) + dense(4096, 4096) + dense(4096, 1000)
    assert model.count_params() == 14_714_688 + top == 138_357_544


# ----------------------------------------------------------------------------- ResNet
def basic_block_counts(d, m):
    """(trainable, BN channels) of a basic block from d to m channels (bias-free convs)."""
    weights = conv(d, 3, m, bias=False) + conv(m, 3, m, bias=False)
    channels = 2 * m
    if d != m:  # 1x1 projection shortcut with its BN
        weights += conv(d, 1, m, bias=False)
        channels += m
    return weights + 2 * channels, channels


def resnet_counts(stem, widths, blocks, classes):
    trainable, channels = stem
    d = widths[0]
    for m in widths:
        for _ in range(blocks):
            t, c = basic_block_counts(d, m)
            trainable, channels, d = trainable + t, channels + c, m
    return trainable + dense(d, classes), 2 * channels  # (trainable, moving statistics)


def test_resnet18_matches_torchvision_count():
    model = zoo.resnet18()
    trainable, moving = resnet_counts((conv(3, 7, 64, bias=False) + 2 * 64, 64),
                                      (64, 128, 256, 512), 2, 1000)
    assert trainable == 11_689_512  # torchvision.models.resnet18().parameters()
    assert summary_counts(model) == (trainable + moving, trainable, moving)
    assert moving == 9_600
    assert shapes(model, ["conv1_relu", "pool1_pool", "conv2_block2_out", "conv3_block2_out",
                          "conv4_block2_out", "conv5_block2_out", "avg_pool"]) == [
        (None, 112, 112, 64), (None, 56, 56, 64), (None, 56, 56, 64), (None, 28, 28, 128),
        (None, 14, 14, 256), (None, 7, 7, 512), (None, 512)]


def test_resnet20_count_from_the_paper_formula():
    model = zoo.resnet20()
    trainable, moving = resnet_counts((conv(3, 3, 16, bias=False) + 2 * 16, 16),
                                      (16, 32, 64), 3, 10)
    assert summary_counts(model) == (trainable + moving, trainable, moving)
    assert 0.27e6 < trainable < 0.275e6
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"
             and not layer.name.endswith("_0_conv")]
    assert len(convs) + 1 == 20  # 6n + 2 weighted layers, n = 3 (+ the dense layer)
    assert shapes(model, ["conv2_block3_out", "conv3_block3_out", "conv4_block3_out"]) == [
        (None, 32, 32, 16), (None, 16, 16, 32), (None, 8, 8, 64)]


def test_resnet_skip_connection_adds_the_block_input():
    model = zoo.resnet20()
    adds = [layer.name for layer in model.layers if isinstance(layer, Add)]
    assert len(adds) == 9
    # identity block: a[l+2] = g(z[l+2] + a[l]), a[l] being the previous block's output
    assert inbound(model, "conv2_block1_add") == ["conv1_relu", "conv2_block1_2_bn"]
    assert inbound(model, "conv2_block2_add") == ["conv2_block1_out", "conv2_block2_2_bn"]
    # where the shape changes the shortcut is the 1x1 projection of the block input
    assert inbound(model, "conv3_block1_add") == ["conv3_block1_0_bn", "conv3_block1_2_bn"]
    assert inbound(model, "conv3_block1_0_conv") == ["conv2_block3_out"]
    assert model.get_layer("conv3_block1_0_conv").strides == (2, 2)

    # numerically: with z[l+2] = 0 (last BN's gamma = beta = 0) the block passes a[l] through
    probe = Model(model.inputs[0], [graph_output(model, "conv2_block1_out"),
                                    graph_output(model, "conv2_block2_out")])
    x = torch.rand(2, 32, 32, 3)
    a_l, a_l2 = probe(x)
    assert not torch.allclose(a_l, a_l2)
    last_bn = model.get_layer("conv2_block2_2_bn")
    with torch.no_grad():
        last_bn.gamma.zero_()
        last_bn.beta.zero_()
    a_l, a_l2 = probe(x)
    assert torch.equal(a_l, a_l2)


def test_resnet_stride2_convolution_samples_like_torchvision():
    """Stride-2 3x3 convolutions pad one pixel on every side (torch's ``padding=1``), not
    TensorFlow's bottom/right-only 'same' padding, so torchvision weights see the same grid."""
    model = zoo.resnet20()
    probe = Model(model.inputs[0], [graph_output(model, "conv2_block3_out"),
                                    graph_output(model, "conv3_block1_1_conv")])
    block_input, conv_out = probe(torch.rand(2, 32, 32, 3))
    kernel = model.get_layer("conv3_block1_1_conv").kernel  # PyTorch layout (out, in, kh, kw)
    expected = torch.nn.functional.conv2d(block_input.permute(0, 3, 1, 2), kernel, stride=2,
                                          padding=1).permute(0, 2, 3, 1)
    torch.testing.assert_close(conv_out, expected, rtol=1e-4, atol=1e-5)


def test_resnet20_gradients_match_finite_differences():
    model = zoo.resnet20(input_shape=(8, 8, 3), classes=4).double()
    x = torch.rand(4, 8, 8, 3, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 3])

    def loss():
        probs = model(x, training=True)  # batch statistics: BN is a smooth function of x
        return -torch.log(probs[torch.arange(4), y]).sum()

    loss().backward()
    h = 1e-6
    for name, index in (("conv1_conv", (3, 2, 1, 0)), ("conv3_block1_0_conv", (5, 7, 0, 0)),
                        ("conv4_block3_2_conv", (1, 2, 2, 1))):
        kernel = model.get_layer(name).kernel
        with torch.no_grad():
            kernel[index] += h
            up = loss()
            kernel[index] -= 2 * h
            down = loss()
            kernel[index] += h
        assert kernel.grad[index].item() == pytest.approx(((up - down) / (2 * h)).item(),
                                                          rel=1e-5, abs=1e-8)


# ----------------------------------------------------------------------------- Inception
def inception_counts(d, widths):
    """(trainable, total, output channels) of a module: bias-free convs, each with BN."""
    n1, r3, n3, r5, n5, pool_proj = widths
    weights = d * n1 + d * r3 + r3 * 9 * n3 + d * r5 + r5 * 25 * n5 + d * pool_proj
    channels = n1 + r3 + n3 + r5 + n5 + pool_proj
    return weights + 2 * channels, weights + 4 * channels, n1 + n3 + n5 + pool_proj


def test_inception_mini_table():
    model = zoo.inception_mini()
    assert shapes(model, ["stem_relu", "inception_3a", "inception_3b", "pool3",
                          "inception_4a", "inception_4b", "avg_pool", "predictions"]) == [
        (None, 32, 32, 64), (None, 32, 32, 128), (None, 32, 32, 240), (None, 16, 16, 240),
        (None, 16, 16, 256), (None, 16, 16, 256), (None, 256), (None, 10)]
    trainable, total, d = 3 * 9 * 64 + 2 * 64, 3 * 9 * 64 + 4 * 64, 64
    for widths in [(32, 48, 64, 8, 16, 16), (64, 64, 96, 16, 48, 32),
                   (96, 48, 104, 8, 24, 32), (80, 56, 112, 12, 32, 32)]:  # GoogLeNet / 2
        t, a, d = inception_counts(d, widths)
        trainable, total = trainable + t, total + a
    assert summary_counts(model) == (total + dense(d, 10), trainable + dense(d, 10),
                                     total - trainable)
    # four branches, concatenated on the channel axis
    assert isinstance(model.get_layer("inception_3b"), Concatenate)
    assert inbound(model, "inception_3b") == [
        "inception_3b_1x1_relu", "inception_3b_3x3_relu", "inception_3b_5x5_relu",
        "inception_3b_pool_proj_relu"]
    assert inbound(model, "inception_3b_3x3_reduce_conv") == ["inception_3a"]
    assert inbound(model, "inception_3b_pool") == ["inception_3a"]
    assert model.get_layer("inception_3b_5x5_conv").kernel_size == (5, 5)


def test_inception_mini_forward_backward_one_batch():
    model = zoo.inception_mini(input_shape=(16, 16, 3), classes=5)
    x = torch.rand(4, 16, 16, 3)
    probs = model(x, training=True)
    assert probs.shape == (4, 5)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(4))
    torch.log(probs[:, 0]).sum().backward()
    for weight in model.trainable_weights:
        assert weight.grad is not None and torch.isfinite(weight.grad).all()
        assert weight.grad.abs().sum() > 0


def test_resnet20_trains_one_step_through_fit():
    model = zoo.resnet20(input_shape=(16, 16, 3), classes=3)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = [w.detach().clone() for w in model.trainable_weights]
    x = np.random.default_rng(0).random((6, 16, 16, 3), dtype=np.float32)
    history = model.fit(x, np.array([0, 1, 2, 0, 1, 2]), batch_size=6, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(not torch.equal(b, w) for b, w in zip(before, model.trainable_weights,
                                                      strict=True))


# ----------------------------------------------------------------------------- any shape
OTHER_SHAPES = {
    "lenet5": (64, 64, 1), "lenet5_modern": (64, 64, 1), "lenet": (64, 64, 1),
    "shallownet": (64, 64, 1), "shallow_vggnet": (64, 64, 1), "deeper_vggnet": (64, 64, 1),
    "keras_mnist": (64, 64, 1), "keras_cifar10": (64, 64, 1), "alexnet": (99, 99, 1),
    "vgg16": (64, 64, 1), "resnet18": (64, 64, 1), "resnet20": (20, 24, 1),
    "inception_mini": (20, 24, 1),
}


@pytest.mark.parametrize("name", sorted(OTHER_SHAPES))
def test_every_model_builds_for_another_shape_and_class_count(name):
    model = zoo.get_model(name, input_shape=OTHER_SHAPES[name], classes=7)
    assert model.input_shape == (None, *OTHER_SHAPES[name])
    assert model.output_shape == (None, 7)
    x = np.random.default_rng(1).random((2, *OTHER_SHAPES[name]), dtype=np.float32)
    probs = model.predict(x, verbose=0)
    assert probs.shape == (2, 7)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("name", ["resnet20", "inception_mini", "keras_cifar10"])
def test_zoo_models_save_and_load(tmp_path, name):
    model = zoo.get_model(name, input_shape=(12, 12, 3), classes=4)
    x = np.random.default_rng(2).random((2, 12, 12, 3), dtype=np.float32)
    model.save(tmp_path / "model.cnnlab")
    loaded = cnnlab.load_model(tmp_path / "model.cnnlab")
    assert loaded.name == model.name
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# ----------------------------------------------------------------------------- registry
def test_registry_names_and_descriptions():
    names = {"lenet5", "lenet5_modern", "lenet", "shallownet", "shallow_vggnet",
             "deeper_vggnet", "keras_mnist", "keras_cifar10", "alexnet", "vgg16", "resnet18",
             "resnet20", "inception_mini"}
    described = zoo.available()
    assert set(described) == names == set(OTHER_SHAPES)
    assert all(isinstance(text, str) and text and "\n" not in text
               for text in described.values())


def test_get_model_passes_options_and_keeps_defaults():
    assert zoo.get_model("lenet5").input_shape == (None, 32, 32, 1)
    assert zoo.get_model("lenet5_modern").name == "lenet5_modern"
    no_dropout = zoo.get_model("shallow_vggnet", dropout=False)
    assert not any(isinstance(layer, Dropout) for layer in no_dropout.layers)
    base = zoo.get_model("vgg16", input_shape=(32, 32, 3), include_top=False)
    assert base.output_shape == (None, 1, 1, 512)
    logits = zoo.get_model("vgg16", (32, 32, 3), 3, classifier_activation=None)
    assert logits.get_layer("predictions").get_config()["activation"] == "linear"


def test_get_model_errors_name_what_is_known():
    with pytest.raises(ValueError, match="unknown model 'resnet50'.*resnet18.*inception_mini"):
        zoo.get_model("resnet50")
    with pytest.raises(TypeError, match="'lenet5' has no option.*dropout.*classic"):
        zoo.get_model("lenet5", dropout=True)


@pytest.mark.parametrize("call, error, match", [
    (lambda: zoo.lenet5(input_shape=(28, 28)), ValueError, r"lenet5: `input_shape`.*\(28, 28\)"),
    (lambda: zoo.resnet20(input_shape=(32, 32, 0)), ValueError, "channel count"),
    (lambda: zoo.vgg16(input_shape=(-1, 32, 3)), ValueError, "height and width"),
    (lambda: zoo.shallownet(classes=0), ValueError, "shallownet: `classes` must be positive"),
    (lambda: zoo.inception_mini(classes=2.0), TypeError, "`classes` must be an int"),
    (lambda: zoo.vgg16(pooling="mean"), ValueError, "`pooling` must be None, 'avg' or 'max'"),
    (lambda: zoo.alexnet(dropout=1.0), ValueError, r"`dropout` must be a rate in \[0, 1\)"),
    (lambda: zoo.alexnet(dropout="half"), ValueError, "got 'half'"),
    (lambda: zoo.alexnet(input_shape=(64, 64, 3)), ValueError,
     r"alexnet: cannot build for input_shape=\(64, 64, 3\).*pool5"),
    (lambda: zoo.lenet5(input_shape=(12, 12, 1)), ValueError,
     r"lenet5: cannot build for input_shape=\(12, 12, 1\).*'c3'"),
])
def test_bad_arguments_are_reported(call, error, match):
    with pytest.raises(error, match=match):
        call()
