"""A cnnlab model is the plain ``nn.Module`` it is: ONNX (checked with onnxruntime),
``torch.export`` and TorchScript (``torch.jit.trace``) of zoo models compute what ``predict``
computes, within 1e-5, for batch sizes other than the one exported with."""

import numpy as np
import pytest
import torch

from cnnlab import load_model, zoo

ZOO_MODELS = [  # (builder, input shape): every zoo family, small inputs
    ("lenet5", (32, 32, 1)),          # tanh, average pooling, a layer named 'output'
    ("resnet20", (32, 32, 3)),        # batch norm, residual adds, global pooling
    ("inception_mini", (32, 32, 3)),  # parallel branches, concatenation
    ("resnet18", (32, 32, 3)),
    ("vgg16", (32, 32, 3)),
    ("alexnet", (96, 96, 3)),         # dropout, overlapping max pooling
]


def built(name: str, shape: tuple) -> torch.nn.Module:
    torch.manual_seed(0)
    model = zoo.get_model(name, input_shape=shape, classes=10)
    return model.eval()


def batches(shape: tuple, sizes=(1, 5)):
    rng = np.random.default_rng(len(shape))
    return [rng.random((n, *shape), dtype=np.float32) for n in sizes]


@pytest.mark.parametrize(("name", "shape"), ZOO_MODELS, ids=[n for n, _ in ZOO_MODELS])
def test_onnx_export_of_zoo_models_matches_predict(tmp_path, name, shape):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from cnnlab.io.onnx import export_onnx

    model = built(name, shape)
    session = ort.InferenceSession(str(export_onnx(model, tmp_path / f"{name}.onnx")))
    for x in batches(shape):
        (out,) = session.run(None, {"input": x})
        np.testing.assert_allclose(out, model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.parametrize(("name", "shape"), ZOO_MODELS, ids=[n for n, _ in ZOO_MODELS])
def test_torch_export_and_trace_of_zoo_models_match_predict(tmp_path, name, shape):
    model = built(name, shape)
    example = torch.zeros(2, *shape)
    program = torch.export.export(model, (example,),
                                  dynamic_shapes=({0: torch.export.Dim("batch", min=1)},))
    traced = torch.jit.trace(model, example)
    torch.jit.save(traced, tmp_path / "traced.pt")
    reloaded = torch.jit.load(tmp_path / "traced.pt")
    for x in batches(shape):
        expected = model.predict(x, verbose=0)
        with torch.no_grad():
            np.testing.assert_allclose(program.module()(torch.from_numpy(x)).numpy(), expected,
                                       atol=1e-5)
            np.testing.assert_allclose(reloaded(torch.from_numpy(x)).numpy(), expected,
                                       atol=1e-5)


def test_a_layer_named_like_a_model_attribute_is_a_real_submodule(tmp_path):
    """Keras allows a layer named 'output': ``model.output`` stays the symbolic tensor, the
    layer is the submodule 'layer:output' for PyTorch tools, and files keep the layer name."""
    model = built("lenet5", (32, 32, 1))
    layer = model.get_layer("output")
    assert model.get_submodule("layer:output") is layer
    assert tuple(model.output.shape) == (None, 10)
    keys = list(model.state_dict())
    assert keys[-2:] == ["output.kernel", "output.bias"]
    assert not any(key.startswith("layer:") for key in keys)
    named = dict(model.named_parameters())
    assert named["layer:output.kernel"] is layer.kernel

    x = batches((32, 32, 1), sizes=(3,))[0]
    model.save(tmp_path / "lenet.cnnlab")
    restored = load_model(tmp_path / "lenet.cnnlab")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    other = built("lenet5", (32, 32, 1))
    torch.nn.init.zeros_(other.get_layer("output").kernel)
    other.load_state_dict(model.state_dict())
    assert torch.equal(other.get_layer("output").kernel, layer.kernel)


def test_torchscript_scripting_is_not_supported_but_tracing_is():
    """``torch.jit.script`` compiles Python source, which cnnlab's layers are not written
    for (PyTorch itself recommends torch.export); ``torch.jit.trace`` is the TorchScript
    route, shown above."""
    model = built("lenet5", (32, 32, 1))
    with pytest.raises(Exception):  # noqa: B017 - whatever TorchScript's compiler raises
        torch.jit.script(model)
