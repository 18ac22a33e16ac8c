"""PyTorch state dicts into cnnlab models: reference networks written here in plain PyTorch with
torchvision's module names (torchvision itself is not used), randomly initialized, BN running
statistics random, eval mode; their state dicts are saved with ``torch.save`` (or safetensors),
loaded into the zoo models, and ``predict`` on channels-last images is compared with the PyTorch
output on the same images in NCHW.

Tolerance: float32 on both sides; ``rtol=1e-5`` and ``atol=1e-5`` times the largest magnitude
of the reference output (outputs are rescaled to order 1 where noted)."""

import numpy as np
import pytest
import torch
from torch import nn

from cnnlab import zoo
from cnnlab.io.torch_weights import (
    adaptive_pool_matrix,
    is_torch_weights_file,
    load_torch_weights,
    read_torch_state_dict,
)
from cnnlab.layers import BatchNormalization, Conv2D, Dense, Flatten
from cnnlab.models import Model, Sequential

VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
             512, 512, 512, "M"]


class VGG(nn.Module):
    """torchvision.models.vgg16's modules: features, avgpool (7x7), classifier."""

    def __init__(self, hidden=4096, classes=1000):
        super().__init__()
        layers, channels = [], 3
        for v in VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, v, 3, padding=1), nn.ReLU(inplace=True)]
                channels = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, hidden), nn.ReLU(True), nn.Dropout(),
            nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(), nn.Linear(hidden, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class AlexNet(nn.Module):
    """torchvision.models.alexnet's modules."""

    def __init__(self, classes=1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 11, stride=4, padding=2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(True), nn.MaxPool2d(3, 2),
            nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(True),
            nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(True), nn.Linear(4096, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """torchvision.models.resnet18's modules."""

    def __init__(self, classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, cout in enumerate((64, 128, 256, 512), 1):
            stride = 1 if i == 1 else 2
            setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, cout, stride),
                                                     BasicBlock(cout, cout, 1)))
            cin = cout
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, classes)

    def features(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, f"layer{i}")(x)
        return torch.flatten(self.avgpool(x), 1)

    def forward(self, x):
        return self.fc(self.features(x))


def randomized(net, seed=0):
    """``net`` in eval mode with seeded weights and non-trivial BN statistics."""
    torch.manual_seed(seed)
    for module in net.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            module.reset_parameters()
        if isinstance(module, nn.BatchNorm2d):
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.normal_(0, 0.2)
            module.running_mean.normal_(0, 0.2)
            module.running_var.uniform_(0.5, 2.0)
            module.num_batches_tracked.fill_(7)
    return net.eval()


def images(n, size, seed=1):
    """``(nchw tensor, nhwc array)`` of the same images."""
    x = torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed))
    return x, x.permute(0, 2, 3, 1).numpy().copy()


def assert_close(got, want):
    want = np.asarray(want)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_vgg16_base_from_a_full_torch_file(tmp_path):
    """A whole checkpoint (tiny classifier here, ignored) into the convolutional base."""
    net = randomized(VGG(hidden=8, classes=3))
    torch.save(net.state_dict(), tmp_path / "vgg16.pth")
    model = zoo.vgg16(include_top=False, input_shape=(32, 32, 3))
    load_torch_weights(model, tmp_path / "vgg16.pth")  # architecture detected
    x, x_nhwc = images(2, 32)
    with torch.no_grad():
        want = net.features(x).permute(0, 2, 3, 1).numpy()
    assert_close(model.predict(x_nhwc, verbose=0), want)


def test_vgg16_top_folds_adaptive_pool_and_permutes_flatten():
    """The full torchvision head (25088 -> 4096 -> 4096 -> 10) at 64x64 input, where the
    2x2x512 map is pooled adaptively to 7x7 (overlapping windows) before the flatten."""
    net = randomized(VGG(classes=10))
    model = zoo.vgg16(input_shape=(64, 64, 3), classes=10, classifier_activation=None)
    load_torch_weights(model, net.state_dict(), architecture="vgg16")
    x, x_nhwc = images(2, 64)
    with torch.no_grad():
        want = net(x).numpy()
    assert_close(model.predict(x_nhwc, verbose=0), want)


def test_alexnet_torchvision_variant_with_top(tmp_path):
    """96x96 input: a 2x2x256 map, adaptively pooled to 6x6 by torchvision."""
    net = randomized(AlexNet(classes=10))
    torch.save(net.state_dict(), tmp_path / "alexnet.pt")
    model = zoo.alexnet(input_shape=(96, 96, 3), classes=10, variant="torchvision")
    load_torch_weights(model, tmp_path / "alexnet.pt", architecture="alexnet")
    x, x_nhwc = images(3, 96)
    with torch.no_grad():
        hidden = net.classifier[:6](torch.flatten(net.avgpool(net.features(x)), 1)).numpy()
        logits = net(x)
    fc7 = Model(model.input, model.get_layer("fc7").output)
    assert_close(fc7.predict(x_nhwc, verbose=0), hidden)
    assert_close(model.predict(x_nhwc, verbose=0), torch.softmax(logits, 1).numpy())


def test_resnet18_from_safetensors(tmp_path):
    from safetensors.torch import save_file

    net = randomized(ResNet18(classes=10))
    save_file(net.state_dict(), tmp_path / "resnet18.safetensors")
    assert is_torch_weights_file(tmp_path / "resnet18.safetensors")
    model = zoo.resnet18(input_shape=(64, 64, 3), classes=10)
    load_torch_weights(model, tmp_path / "resnet18.safetensors")
    assert model.get_layer("conv1_bn").epsilon == 1e-5
    x, x_nhwc = images(2, 64)
    with torch.no_grad():
        features, logits = net.features(x).numpy(), net(x)
    pooled = Model(model.input, model.get_layer("avg_pool").output)
    assert_close(pooled.predict(x_nhwc, verbose=0), features)
    assert_close(model.predict(x_nhwc, verbose=0), torch.softmax(logits, 1).numpy())


def tiny_torch(h=4, w=3):
    """Conv -> ReLU -> BN -> Flatten (C·H·W) -> Linear on a non-square map."""
    return randomized(nn.Sequential(nn.Conv2d(2, 5, 3, padding=1), nn.ReLU(),
                                    nn.BatchNorm2d(5), nn.Flatten(), nn.Linear(5 * h * w, 3)))


def tiny_cnnlab(h=4, w=3):
    return Sequential([Conv2D(5, 3, padding="same", activation="relu", input_shape=(h, w, 2)),
                       BatchNormalization(), Flatten(), Dense(3)])


def tiny_check(model, net):
    x = torch.rand(4, 2, 4, 3, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want = net(x).numpy()
    assert_close(model.predict(x.permute(0, 2, 3, 1).numpy(), verbose=0), want)


def test_sequential_permutes_the_first_dense_after_flatten(tmp_path):
    net = tiny_torch()
    torch.save(net.state_dict(), tmp_path / "tiny.pt")
    model = tiny_cnnlab()
    load_torch_weights(model, tmp_path / "tiny.pt", architecture="sequential")
    assert model.layers[1].epsilon == 1e-5
    tiny_check(model, net)
    # without the permutation the result differs: the test can see the C·H·W order
    direct = net[4].weight.detach().numpy()
    assert not np.allclose(model.layers[-1].kernel.detach().numpy(), direct)


@pytest.mark.parametrize("wrap", ["state_dict", "model"])
def test_checkpoint_wrapper_and_data_parallel_prefix(tmp_path, wrap):
    net = tiny_torch()
    state = {f"module.{k}": v for k, v in net.state_dict().items()}
    torch.save({wrap: state, "epoch": 3, "optimizer": {"lr": 0.1}}, tmp_path / "ckpt.pth")
    arrays = read_torch_state_dict(tmp_path / "ckpt.pth")
    assert "0.weight" in arrays and "4.bias" in arrays
    model = tiny_cnnlab()
    load_torch_weights(model, tmp_path / "ckpt.pth")  # 'auto' -> sequential
    tiny_check(model, net)


def test_legacy_torch_save_format(tmp_path):
    net = tiny_torch()
    torch.save(net.state_dict(), tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    assert is_torch_weights_file(tmp_path / "old.pt")
    model = tiny_cnnlab()
    load_torch_weights(model, tmp_path / "old.pt")
    tiny_check(model, net)


def test_wrong_shape_names_the_layer_and_both_shapes(tmp_path):
    state = randomized(VGG(hidden=8, classes=3)).state_dict()
    state["features.0.weight"] = torch.zeros(32, 3, 3, 3)
    torch.save(state, tmp_path / "bad.pth")
    model = zoo.vgg16(include_top=False, input_shape=(32, 32, 3))
    before = model.get_layer("block5_conv3").kernel.detach().clone()
    with pytest.raises(ValueError, match=r"layer 'block1_conv1' \(Conv2D\) expects kernel "
                       r"\(64, 3, 3, 3\), 'features.0.weight' in bad.pth has \(32, 3, 3, 3\)"):
        load_torch_weights(model, tmp_path / "bad.pth")
    assert torch.equal(model.get_layer("block5_conv3").kernel, before)  # nothing loaded


def test_original_alexnet_is_pointed_to_the_torchvision_variant():
    state = randomized(AlexNet(classes=10)).state_dict()
    model = zoo.alexnet(input_shape=(96, 96, 3), classes=10)
    with pytest.raises(ValueError, match=r"'conv1' \(Conv2D\) expects kernel \(96, 3, 11, "
                       r"11\), 'features.0.weight' in the state dict has \(64, 3, 11, 11\) "
                       r"\(build it with zoo.alexnet\(variant='torchvision'\)\)"):
        load_torch_weights(model, state)


def test_counts_and_names_must_match():
    model = tiny_cnnlab()
    state = dict(tiny_torch().state_dict())
    del state["4.weight"], state["4.bias"]
    with pytest.raises(ValueError, match=r"has 3 layers with weights .* the state dict has 2 "
                       r"modules"):
        load_torch_weights(model, state, architecture="sequential")
    with pytest.raises(ValueError, match="`architecture` must be one of"):
        load_torch_weights(model, state, architecture="vgg19")
    with pytest.raises(ValueError, match="missing layers"):
        load_torch_weights(model, state, architecture="resnet18")


def write_marker(path):
    with open(path, "w") as f:
        f.write("pwned")


class Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return write_marker, (self.path,)


def test_pickled_code_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "marker.txt"
    torch.save({"conv.weight": torch.zeros(1), "x": Payload(str(marker))}, tmp_path / "evil.pt")
    assert is_torch_weights_file(tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="not a plain PyTorch state dict of tensors"):
        read_torch_state_dict(tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="not a plain PyTorch state dict"):
        load_torch_weights(tiny_cnnlab(), tmp_path / "evil.pt")
    assert not marker.exists()
    real = tmp_path / "real.txt"  # the payload works when unpickled without the safeguard
    torch.save({"x": Payload(str(real))}, tmp_path / "control.pt")
    torch.load(tmp_path / "control.pt", weights_only=False)
    assert real.read_text() == "pwned"


def test_a_non_state_dict_is_refused(tmp_path):
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="not a PyTorch state dict: expected a non-empty dict"):
        read_torch_state_dict(tmp_path / "list.pt")


def test_file_recognition(tmp_path):
    from safetensors.numpy import save_file

    save_file({"block1_conv1/kernel": np.zeros(2, np.float32)}, str(tmp_path / "keras.st"))
    (tmp_path / "text.txt").write_text("hello")
    model = tiny_cnnlab()
    model.save_weights(tmp_path / "own.weights.cnnlab")
    assert not is_torch_weights_file(tmp_path / "keras.st")
    assert not is_torch_weights_file(tmp_path / "text.txt")
    assert not is_torch_weights_file(tmp_path / "own.weights.cnnlab")
    torch.save(tiny_torch().state_dict(), tmp_path / "sd.bin")
    assert is_torch_weights_file(tmp_path / "sd.bin")


def test_adaptive_pool_matrix_matches_torch():
    x = torch.rand(2, 3, 5, 4, dtype=torch.float64)
    want = torch.nn.functional.adaptive_avg_pool2d(x, (7, 7)).reshape(2, 3, 49)
    got = x.reshape(2, 3, 20) @ adaptive_pool_matrix((5, 4), (7, 7))
    assert torch.allclose(got, want)
    assert torch.equal(adaptive_pool_matrix((6, 6), (6, 6)), torch.eye(36, dtype=torch.float64))
