"""Merge layers against NumPy (element-wise ops with broadcasting, concatenate, einsum for Dot);
shapes of symbolic calls against eager outputs; every error message; configs round-tripped."""

import json

import numpy as np
import pytest
import torch

from cnnlab.layers.core import Input
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
from cnnlab.layers.registry import registered_class

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def run(layer, arrays):
    """Eager call on a list of tensors; checks the shape against a symbolic call."""
    out = layer([torch.from_numpy(a) for a in arrays])
    symbolic = type(layer).from_config(layer.get_config())([Input(a.shape[1:]) for a in arrays])
    assert symbolic.shape == (None, *out.shape[1:])
    assert layer.compute_output_shape([(None, *a.shape[1:]) for a in arrays]) == symbolic.shape
    return out.numpy()


def roundtrip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    assert registered_class(type(layer).__name__) is type(layer)


ELEMENTWISE = [
    (Add, lambda xs: np.sum(xs, axis=0)),
    (Multiply, lambda xs: np.prod(xs, axis=0)),
    (Average, lambda xs: np.mean(xs, axis=0)),
    (Maximum, lambda xs: np.max(xs, axis=0)),
    (Minimum, lambda xs: np.min(xs, axis=0)),
]


@pytest.mark.parametrize("n_inputs", [1, 2, 3])
@pytest.mark.parametrize(("cls", "reference"), ELEMENTWISE)
def test_elementwise_matches_numpy(cls, reference, n_inputs):
    xs = [rand(2, 4, 4, 3) for _ in range(n_inputs)]
    np.testing.assert_allclose(run(cls(), xs), reference(np.stack(xs)), rtol=1e-6, atol=1e-6)
    roundtrip(cls())


def test_subtract_matches_numpy():
    a, b = rand(3, 5), rand(3, 5)
    np.testing.assert_array_equal(run(Subtract(), [a, b]), a - b)
    roundtrip(Subtract())


@pytest.mark.parametrize(("cls", "reference"), [
    (Add, np.add), (Subtract, np.subtract), (Multiply, np.multiply), (Minimum, np.minimum)])
def test_broadcasting_of_size_one_axes(cls, reference):
    a, b = rand(2, 4, 1, 3), rand(2, 1, 5, 1)
    np.testing.assert_allclose(run(cls(), [a, b]), reference(a, b), rtol=1e-6, atol=1e-6)


def test_lower_rank_input_gets_axes_after_the_batch():
    a, b = rand(2, 3), rand(2, 4, 5, 3)
    np.testing.assert_allclose(run(Add(), [a, b]), a[:, None, None, :] + b, rtol=1e-6)
    np.testing.assert_allclose(run(Maximum(), [b, a]), np.maximum(b, a[:, None, None, :]))


def test_elementwise_shapes_with_unknown_sizes():
    out = Add()([Input((None, 8, 16)), Input((8, None, 16))])
    assert out.shape == (None, None, None, 16)
    assert Add()([Input((8, 1, 16)), Input((8, 8, 1))]).shape == (None, 8, 8, 16)
    assert Add()([Input((16,)), Input((8, 8, 16))]).shape == (None, 8, 8, 16)
    assert Add().compute_output_shape([(4, 3), (None, 3)]) == (4, 3)


def test_elementwise_mismatch_error():
    with pytest.raises(ValueError, match=r"Add 'add': all inputs must have the same shape \(or "
                                         r"size 1 on an axis, to broadcast\), got "
                                         r"\(None, 8, 8, 16\) and \(None, 8, 8, 32\)"):
        Add()([Input((8, 8, 16)), Input((8, 8, 32))])
    with pytest.raises(ValueError, match=r"Multiply 'm': .* got \(None, 3\) and \(None, 4\)"):
        Multiply(name="m")([torch.zeros(2, 3), torch.zeros(2, 4)])


def test_merge_needs_a_list():
    with pytest.raises(ValueError, match=r"Add 'a': expected a list of input tensors, got "
                                         r"\(None, 8\)"):
        Add(name="a")(Input((8,)))
    with pytest.raises(ValueError, match=r"Maximum 'mx': expected a list of input tensors, got "
                                         r"\(None, 3\)"):
        Maximum(name="mx")(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"Add 'b': expected a list of input tensors, got \[\]"):
        Add(name="b")([])
    layer = Add(name="c")
    layer([torch.zeros(2, 3), torch.zeros(2, 3)])
    with pytest.raises(ValueError, match=r"Add 'c': expected a list of input tensors, got "
                                         r"Tensor"):
        layer(torch.zeros(2, 3))


def test_subtract_needs_exactly_two_inputs():
    with pytest.raises(ValueError, match=r"Subtract 's': expected exactly 2 inputs, got 3: "
                                         r"\(None, 8\), \(None, 8\), \(None, 8\)"):
        Subtract(name="s")([Input((8,))] * 3)
    layer = Subtract(name="t")
    layer([torch.zeros(2, 3), torch.zeros(2, 3)])
    with pytest.raises(ValueError, match=r"Subtract 't': expected exactly 2 inputs, got 3"):
        layer([torch.zeros(2, 3)] * 3)


def test_batch_size_mismatch_error():
    a, b = Input((3,), batch_size=4), Input((3,), batch_size=5)
    with pytest.raises(ValueError, match=r"Add 'add': all inputs must have the same batch size,"
                                         r" got \(4, 3\), \(5, 3\)"):
        Add()([a, b])


def test_gradients_flow_to_every_input():
    a = torch.randn(2, 3, requires_grad=True)
    b = torch.randn(2, 3, requires_grad=True)
    Average()([a, b]).sum().backward()
    torch.testing.assert_close(a.grad, torch.full((2, 3), 0.5))
    torch.testing.assert_close(b.grad, torch.full((2, 3), 0.5))


# ------------------------------------------------------------------------------ Concatenate
@pytest.mark.parametrize("axis", [-1, 1, 2, 3, -3])
def test_concatenate_matches_numpy(axis):
    shapes = {-1: [(2, 4, 4, 3), (2, 4, 4, 5)], 3: [(2, 4, 4, 3), (2, 4, 4, 5)],
              1: [(2, 1, 4, 3), (2, 6, 4, 3)], -3: [(2, 1, 4, 3), (2, 6, 4, 3)],
              2: [(2, 4, 2, 3), (2, 4, 3, 3), (2, 4, 1, 3)]}[axis]
    xs = [rand(*s) for s in shapes]
    np.testing.assert_array_equal(run(Concatenate(axis=axis), xs), np.concatenate(xs, axis))
    roundtrip(Concatenate(axis=axis))


def test_concatenate_shapes_with_unknown_sizes():
    assert Concatenate()([Input((4, 4, 3)), Input((4, 4, 5))]).shape == (None, 4, 4, 8)
    assert Concatenate(axis=1)([Input((4, 4, 3)), Input((None, 4, 3))]).shape == (None, None,
                                                                                  4, 3)
    assert Concatenate()([Input((None, 4, 3)), Input((6, None, 2))]).shape == (None, 6, 4, 5)


def test_concatenate_errors():
    with pytest.raises(ValueError, match=r"Concatenate 'c': inputs must have the same shape "
                                         r"except along the concatenation axis -1, got "
                                         r"\(None, 4, 4, 3\) and \(None, 4, 5, 5\)"):
        Concatenate(name="c")([Input((4, 4, 3)), Input((4, 5, 5))])
    with pytest.raises(ValueError, match=r"Concatenate 'd': all inputs must have the same rank,"
                                         r" got \(None, 4, 4, 3\) and \(None, 4, 5\)"):
        Concatenate(name="d")([Input((4, 4, 3)), Input((4, 5))])
    for axis in (0, 4, -5):
        with pytest.raises(ValueError, match=rf"`axis` must name a non-batch axis of the "
                                             rf"inputs \(None, 4, 4, 3\), got axis={axis}"):
            Concatenate(axis=axis)([Input((4, 4, 3)), Input((4, 4, 3))])
    with pytest.raises(TypeError, match=r"Concatenate 'e': `axis` must be an int, got '1'"):
        Concatenate(axis="1", name="e")


# ------------------------------------------------------------------------------ Dot
DOT_CASES = [
    # (axes, shape_x, shape_y, einsum equation)
    (1, (2, 4), (2, 4), "ni,ni->n"),
    (-1, (2, 4), (2, 4), "ni,ni->n"),
    ((2, 1), (2, 3, 4), (2, 4, 5), "nak,nkb->nab"),
    (1, (2, 3, 4), (2, 3, 5), "nka,nkb->nab"),
    (-1, (2, 3, 4), (2, 5, 4), "nak,nbk->nab"),
    ((3, 1), (2, 2, 3, 4), (2, 4, 5, 6), "nabk,nkcd->nabcd"),
    ((1, 2), (2, 4), (2, 3, 4), "nk,nak->na"),
]


@pytest.mark.parametrize(("axes", "sx", "sy", "equation"), DOT_CASES)
def test_dot_matches_einsum(axes, sx, sy, equation):
    x, y = rand(*sx), rand(*sy)
    expected = np.einsum(equation, x, y)
    if expected.ndim == 1:
        expected = expected[:, None]
    np.testing.assert_allclose(run(Dot(axes), [x, y]), expected, rtol=1e-5, atol=1e-5)
    roundtrip(Dot(axes))


def test_dot_normalize_gives_cosine_similarity():
    x, y = rand(3, 6), rand(3, 6)
    cosine = np.sum(x * y, 1) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))
    np.testing.assert_allclose(run(Dot(1, normalize=True), [x, y])[:, 0], cosine, rtol=1e-5)
    x3, y3 = rand(2, 3, 4), rand(2, 3, 5)
    xn, yn = (v / np.linalg.norm(v, axis=1, keepdims=True) for v in (x3, y3))
    np.testing.assert_allclose(run(Dot(1, normalize=True), [x3, y3]),
                               np.einsum("nka,nkb->nab", xn, yn), rtol=1e-5, atol=1e-6)
    roundtrip(Dot((1, 1), normalize=True))


def test_dot_errors():
    with pytest.raises(ValueError, match=r"Dot 'd': the contracted axes must have the same "
                                         r"size, got axis 1 of \(None, 3, 4\) and axis 1 of "
                                         r"\(None, 4, 5\)"):
        Dot(1, name="d")([Input((3, 4)), Input((4, 5))])
    with pytest.raises(ValueError, match=r"Dot 'e': `axes` must name non-batch axes of inputs "
                                         r"of rank 2 and 2, got axes=0"):
        Dot(0, name="e")([Input((4,)), Input((4,))])
    with pytest.raises(ValueError, match=r"got axes=\(1, 3\)"):
        Dot((1, 3))([Input((4,)), Input((4,))])
    for bad in [(1, 2, 3), "1", 1.0, (1, True)]:
        with pytest.raises(ValueError, match=r"`axes` must be an int or a pair of ints"):
            Dot(bad)
    with pytest.raises(ValueError, match=r"Dot 'f': expected exactly 2 inputs, got 1"):
        Dot(1, name="f")([Input((4,))])


# ------------------------------------------------------------------------------ functional forms
def test_functional_helpers_build_the_layers():
    a, b = Input((4, 4, 3)), Input((4, 4, 3))
    for fn, cls in [(add, Add), (subtract, Subtract), (multiply, Multiply),
                    (average, Average), (maximum, Maximum), (minimum, Minimum)]:
        out = fn([a, b], name=f"my_{cls.__name__.lower()}")
        assert out.shape == (None, 4, 4, 3)
        assert isinstance(out.node.layer, cls) and out.node.layer.name.startswith("my_")
    assert concatenate([a, b], axis=1).shape == (None, 8, 4, 3)
    assert dot([Input((3, 4)), Input((3, 5))], axes=1).shape == (None, 4, 5)


def test_functional_helpers_eager():
    x, y = rand(2, 3), rand(2, 3)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    np.testing.assert_allclose(add([tx, ty]).numpy(), x + y)
    np.testing.assert_allclose(subtract([tx, ty]).numpy(), x - y)
    np.testing.assert_allclose(concatenate([tx, ty]).numpy(), np.concatenate([x, y], -1))
    np.testing.assert_allclose(dot([tx, ty], axes=1, normalize=False).numpy()[:, 0],
                               np.sum(x * y, 1), rtol=1e-6)
