"""Property-based fuzzing of every public layer (issue 14, item 1): configurations and input
shapes, valid and invalid, drawn by hypothesis.

For each layer class a strategy draws constructor arguments and an input shape, mostly valid
and sometimes broken on purpose (zero, negative, float or string sizes, kernels larger than
a 'valid' input, wrong ranks, strides > 1 with dilation > 1, unknown names, ...). An
independent reference written here (Keras's rules, not cnnlab's code) says whether the case
is valid and, if so, which output shape it must have. Then:

* valid case: the layer runs, and the shape it declares (``compute_output_shape``, the
  symbolic ``KerasTensor`` of the functional API, ``layer.output_shape`` after
  ``input_shape=``) equals the shape of the real output on a random tensor, and the
  reference's;
* invalid case: the layer raises ``ValueError`` or ``TypeError`` whose message names the layer
  (its class), the argument (or ``input``), what was expected and what was given;
* anything else (a ``RuntimeError`` from torch, ``IndexError``, ``ZeroDivisionError``, an
  invalid case accepted) is a failure.

Each case runs in one of four modes: eager (built by the first tensor), symbolic (``Input``),
``input_shape=`` (built at construction) and unknown (``Input`` with ``None`` spatial sizes,
then a concrete tensor). Every case is counted in ``tally`` ("fuzz cases / unclean"), every
invalid one also in "bad inputs tried / clean errors". Hypothesis profiles: conftest.py
(``ci`` by default, ``CNNLAB_FUZZ_PROFILE=long`` for many more examples).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import tally
import torch
from hypothesis import given
from hypothesis import strategies as st

from cnnlab import layers as L
from cnnlab.layers.base import format_shape
from cnnlab.layers.registry import _LAYER_REGISTRY

FUZZ, BAD = "fuzz cases / unclean", "bad inputs tried / clean errors"
EXPECTATION = re.compile(r"must|expect|should|need|only|cannot|larger than|not supported|"
                         r"one of|one per|at least|unknown|divisible|exactly", re.IGNORECASE)
FORMATS = ("channels_last", "channels_first")
GOOD_FORMATS = [None, "channels_last", "channels_first", "Channels_Last", "CHANNELS_FIRST"]
BAD_FORMATS = ["NHWC", "channels", "", 1]
MODES = ("eager", "symbolic", "input_shape", "unknown")
P_BAD = 10  # percent of arguments drawn from the bad values


# ------------------------------------------------------------------------------ the cases
@dataclass
class Bad:
    """One reason a case is invalid: the message must name one of ``args`` and show one of
    ``given``."""

    args: tuple[str, ...]
    given: tuple[str, ...]


@dataclass
class Case:
    cls: type
    kwargs: dict
    shape: Any                       # per-sample shape, or a list of them (merge layers)
    batch: int = 2
    bad: list[Bad] = field(default_factory=list)
    expected: tuple | None = None    # reference per-sample output shape (valid cases)
    modes: tuple[str, ...] = MODES
    unknown: tuple[int, ...] = ()    # per-sample axes that may be None in the unknown mode
    training: bool = False
    kind: str = "ok"                 # how perturb() broke the input shape
    listed: bool = False             # the input is a list of tensors (merge layers)
    unbatched: bool = False          # a single image (H, W, C): no batch axis
    full_expected: tuple | None = None  # reference output shape when the batch axis is not
    #                                     the first (a rank-3 "batch" is one image)

    def __repr__(self) -> str:
        return (f"{self.cls.__name__}(**{self.kwargs}) on {self.shape} batch={self.batch} "
                f"training={self.training} unbatched={self.unbatched} "
                f"bad={[b.args for b in self.bad]}")


def texts(*values: Any) -> tuple[str, ...]:
    """Ways a message may show a given value."""
    out = []
    for v in values:
        out += [repr(v), str(v)]
        if isinstance(v, (tuple, list)):
            out += [repr(tuple(v)), repr(list(v))]
    return tuple(out)


def shape_texts(*shapes: Sequence, batch: int = 2) -> tuple[str, ...]:
    """Ways a message may show an input shape (with or without the batch axis)."""
    out = []
    for s in shapes:
        s = tuple(s)
        for full in ((batch, *s), (None, *s), s):
            out += [format_shape(full), str(full), str(list(full))]
    return tuple(t for t in out if t not in ("()", "[]"))


def int_ok(v: Any, lowest: int = 1) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= lowest


def number_ok(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def tuple_arg(v: Any, n: int, lowest: int = 1) -> tuple | None:
    """Keras's int-or-tuple argument (``standardize_tuple``) or None when invalid."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return (v,) * n if v >= lowest else None
    if isinstance(v, (tuple, list)) and len(v) == n and all(int_ok(i, lowest) for i in v):
        return tuple(v)
    return None


def format_arg(v: Any) -> str | None:
    if v is None:
        return "channels_last"
    if isinstance(v, str) and v.lower() in FORMATS:
        return v.lower()
    return None


def pick(draw: Callable, good: st.SearchStrategy, bad: Sequence = ()) -> Any:
    """A good value, or (P_BAD % of the time) one of the bad ones."""
    if bad and draw(st.integers(0, 99)) >= 100 - P_BAD:
        return draw(st.sampled_from(list(bad)))
    return draw(good)


def size_arg(n: int, low: int, high: int) -> st.SearchStrategy:
    one = st.integers(low, high)
    return st.one_of(one, st.tuples(*[one] * n), st.lists(one, min_size=n, max_size=n))


def bad_sizes(n: int) -> list:
    return [0, -1, 2.5, "3", None, True, (2,) * (n + 1), (0,) * n, (1.5,) * n]


def perturb(draw: Callable, case_shape: tuple, fixed_rank: bool) -> tuple[tuple, str]:
    """The input shape, sometimes broken: a wrong rank, a zero, negative or float size."""
    kind = draw(st.sampled_from(["ok"] * 12 + ["zero", "negative", "float"]
                                + (["rank-", "rank+"] if fixed_rank else [])))
    shape = list(case_shape)
    if kind == "rank-" and len(shape) > 1:
        shape.pop(draw(st.integers(0, len(shape) - 1)))
    elif kind == "rank+":
        shape.insert(draw(st.integers(0, len(shape))), draw(st.integers(1, 3)))
    elif kind in ("zero", "negative", "float") and shape:
        shape[draw(st.integers(0, len(shape) - 1))] = {"zero": 0, "negative": -2,
                                                       "float": 2.5}[kind]
    else:
        kind = "ok" if kind in ("rank-", "zero", "negative", "float") else kind
    return tuple(shape), kind


def shape_problem(case: Case, kind: str) -> bool:
    """Record the input problem of a zero, negative or float size."""
    if kind in ("zero", "negative", "float"):
        case.bad.append(Bad(("input",), shape_texts(case.shape, batch=case.batch)))
        return True
    return False


def rejected(case: Case, kind: str, shape: tuple) -> bool:
    """True when the case is already invalid: a bad argument, a broken size, or (``kind`` not
    'ok') an input of the wrong rank, which is recorded here."""
    if case.bad or shape_problem(case, kind):
        return True
    if kind != "ok":
        case.bad.append(Bad(("input",), shape_texts(shape, batch=case.batch)))
        return True
    return False


def restrict_modes(case: Case) -> None:
    """The modes that can run a case: a float or negative size exists only as
    ``input_shape=``, ``Input`` refuses a zero size itself (unless it is unknown there).
    A broken size is a reason to refuse the case even when an argument is bad too."""
    if case.kind in ("zero", "negative", "float") and not any("input" in b.args
                                                               for b in case.bad):
        shape_problem(case, case.kind)
    if case.kind in ("negative", "float"):
        case.modes = ("input_shape",)
    elif case.kind == "zero":
        zeros = {i for i, d in enumerate(case.shape) if d == 0}
        case.modes = ("eager", "input_shape") + (("unknown",) if zeros <= set(case.unknown)
                                                 else ())
    elif case.kind != "ok":
        case.unknown = ()
    if not case.unknown:
        case.modes = tuple(m for m in case.modes if m != "unknown")


def with_spatial(spatial: Sequence, channels: Any, fmt: str) -> tuple:
    return (*spatial, channels) if fmt == "channels_last" else (channels, *spatial)


def split_spatial(shape: tuple, fmt: str) -> tuple[tuple, Any]:
    return (shape[:-1], shape[-1]) if fmt == "channels_last" else (shape[1:], shape[0])


def spatial_axes(rank: int, fmt: str | None) -> tuple[int, ...]:
    """Per-sample axes of the spatial sizes."""
    return tuple(range(rank)) if fmt != "channels_first" else tuple(range(1, rank + 1))


# ------------------------------------------------------------------------------ strategies
def conv_case(draw: Callable, cls: type) -> Case:
    """Conv1D/2D/3D, their transposes, DepthwiseConv2D and SeparableConv2D."""
    n = 2 if cls in (L.DepthwiseConv2D, L.SeparableConv2D) else int(cls.__name__[4])
    transpose = "Transpose" in cls.__name__
    depthwise = cls is L.DepthwiseConv2D
    plain = cls in (L.Conv1D, L.Conv2D, L.Conv3D)
    paddings = ["valid", "same", "VALID", "Same"] + (["causal"] if plain and n == 1 else [])
    kw: dict[str, Any] = {}
    if not depthwise:
        kw["filters"] = pick(draw, st.integers(1, 4), [0, -2, 2.0, "4", None, True])
    kw["kernel_size"] = pick(draw, size_arg(n, 1, 4), bad_sizes(n))
    kw["strides"] = pick(draw, size_arg(n, 1, 3), bad_sizes(n))
    kw["dilation_rate"] = pick(draw, size_arg(n, 1, 3), [0, 2.0, (1,) * (n + 1)])
    kw["padding"] = pick(draw, st.sampled_from(paddings),
                         ["full", 3, None, ""] + ([] if "causal" in paddings else ["causal"]))
    kw["data_format"] = pick(draw, st.sampled_from(GOOD_FORMATS), BAD_FORMATS)
    if draw(st.booleans()):
        kw["activation"] = pick(draw, st.sampled_from([None, "relu", "tanh", "linear"]),
                                ["relux", 5])
    if plain:
        kw["groups"] = pick(draw, st.sampled_from([1, 1, 2, 3]), [0, -1, 1.5, "1"])
    if depthwise or cls is L.SeparableConv2D:
        kw["depth_multiplier"] = pick(draw, st.integers(1, 3), [0, -1, 1.5])
    if transpose:
        kw["output_padding"] = pick(draw, st.one_of(st.none(), size_arg(n, 0, 2)),
                                    [-1, 1.5, (0,) * (n + 1)])
    fmt = format_arg(kw["data_format"])
    channels = draw(st.integers(1, 4))
    spatial = draw(st.tuples(*[st.integers(1, 7 if n < 3 else 4)] * n))
    shape, kind = perturb(draw, with_spatial(spatial, channels, fmt or "channels_last"),
                          fixed_rank=True)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)),
                unknown=spatial_axes(n, fmt), training=draw(st.booleans()))
    case.kind = kind
    bad = case.bad
    k = tuple_arg(kw["kernel_size"], n)
    s = tuple_arg(kw["strides"], n)
    d = tuple_arg(kw["dilation_rate"], n)
    for arg, value in (("kernel_size", k), ("strides", s), ("dilation_rate", d)):
        if value is None:
            bad.append(Bad((arg,), texts(kw[arg])))
    if "filters" in kw and not int_ok(kw["filters"]):
        bad.append(Bad(("filters",), texts(kw["filters"])))
    padding = kw["padding"].lower() if isinstance(kw["padding"], str) else None
    if padding not in paddings:
        bad.append(Bad(("padding",), texts(kw["padding"])))
    if fmt is None:
        bad.append(Bad(("data_format",), texts(kw["data_format"])))
    if kw.get("activation") in ("relux", 5):
        bad.append(Bad(("activation",), texts(kw["activation"])))
    if s and d and max(s) > 1 and max(d) > 1:
        bad.append(Bad(("strides", "dilation_rate"), texts(kw["strides"], s, kw["dilation_rate"],
                                                            d)))
    groups = kw.get("groups", 1)
    if not int_ok(groups) or (int_ok(kw.get("filters")) and kw["filters"] % groups):
        bad.append(Bad(("groups",), texts(groups)))
    if not int_ok(kw.get("depth_multiplier", 1)):
        bad.append(Bad(("depth_multiplier",), texts(kw["depth_multiplier"])))
    pads = kw.get("output_padding")
    out_pad = None if pads is None else tuple_arg(pads, n, lowest=0)
    if pads is not None and (out_pad is None or (s and any(
            p >= st_ for p, st_ in zip(out_pad, s, strict=True)))):
        bad.append(Bad(("output_padding",), texts(pads, out_pad)))
    if not bad and kind in ("ok", "zero") and plain:  # checked at build, with the sizes
        given = split_spatial(shape, fmt)[1]
        if given % groups:
            bad.append(Bad(("groups",), texts(groups)))
    if bad or shape_problem(case, kind):
        return case
    if kind != "ok":
        bad.append(Bad(("input",), shape_texts(shape, batch=case.batch)))
        return case
    out = []
    for i, ki, si, di in zip(spatial, k, s, d, strict=True):
        eff = di * (ki - 1) + 1
        if transpose:
            p = None if out_pad is None else out_pad[len(out)]
            if padding == "valid":
                o = (i - 1) * si + eff + (max(eff, si) - eff if p is None else p)
            else:
                o = i * si if p is None else (i - 1) * si + eff % 2 + p
        elif padding == "valid":
            o = (i - eff) // si + 1
        else:
            o = -(-i // si)
        out.append(o)
    if min(out) <= 0:
        arg = ("output_padding", "kernel_size") if transpose else ("kernel_size",
                                                                  "dilation_rate")
        bad.append(Bad(arg, shape_texts(shape, batch=case.batch)))
        return case
    filters = channels * kw.get("depth_multiplier", 1) if depthwise else kw["filters"]
    case.expected = with_spatial(out, filters, fmt)
    return case


def pool_case(draw: Callable, cls: type) -> Case:
    n = int(cls.__name__[-2])
    kw: dict[str, Any] = {
        "pool_size": pick(draw, size_arg(n, 1, 4), bad_sizes(n)),
        "strides": pick(draw, st.one_of(st.none(), size_arg(n, 1, 3)), [0, -1, 1.5, "2"]),
        "padding": pick(draw, st.sampled_from(["valid", "same", "SAME"]), ["full", "causal", 1]),
        "data_format": pick(draw, st.sampled_from(GOOD_FORMATS), BAD_FORMATS),
    }
    fmt = format_arg(kw["data_format"])
    spatial = draw(st.tuples(*[st.integers(1, 7 if n < 3 else 4)] * n))
    channels = draw(st.integers(1, 3))
    shape, kind = perturb(draw, with_spatial(spatial, channels, fmt or "channels_last"), True)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)), unknown=spatial_axes(n, fmt))
    case.kind = kind
    k = tuple_arg(kw["pool_size"], n)
    s = k if kw["strides"] is None else tuple_arg(kw["strides"], n)
    if k is None:
        case.bad.append(Bad(("pool_size",), texts(kw["pool_size"])))
    if s is None:
        case.bad.append(Bad(("strides",), texts(kw["strides"])))
    padding = kw["padding"].lower() if isinstance(kw["padding"], str) else None
    if padding not in ("valid", "same"):
        case.bad.append(Bad(("padding",), texts(kw["padding"])))
    if fmt is None:
        case.bad.append(Bad(("data_format",), texts(kw["data_format"])))
    if rejected(case, kind, shape):
        return case
    if padding == "valid" and any(ki > i for ki, i in zip(k, spatial, strict=True)):
        case.bad.append(Bad(("pool_size",), shape_texts(shape, batch=case.batch)))
        return case
    out = [(i - ki) // si + 1 if padding == "valid" else -(-i // si)
           for i, ki, si in zip(spatial, k, s, strict=True)]
    case.expected = with_spatial(out, channels, fmt)
    return case


def global_pool_case(draw: Callable, cls: type) -> Case:
    n = int(cls.__name__[-2])
    kw = {"data_format": pick(draw, st.sampled_from(GOOD_FORMATS), BAD_FORMATS),
          "keepdims": draw(st.booleans())}
    fmt = format_arg(kw["data_format"])
    spatial = draw(st.tuples(*[st.integers(1, 5 if n < 3 else 3)] * n))
    channels = draw(st.integers(1, 3))
    shape, kind = perturb(draw, with_spatial(spatial, channels, fmt or "channels_last"), True)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)), unknown=spatial_axes(n, fmt))
    case.kind = kind
    if fmt is None:
        case.bad.append(Bad(("data_format",), texts(kw["data_format"])))
    if rejected(case, kind, shape):
        return case
    case.expected = with_spatial((1,) * n, channels, fmt) if kw["keepdims"] else (channels,)
    return case


def any_shape(draw: Callable, min_rank: int = 1, max_rank: int = 3) -> tuple:
    return tuple(draw(st.lists(st.integers(1, 4), min_size=min_rank, max_size=max_rank)))


def simple_case(draw: Callable, cls: type, kw: dict, bad: list[Bad], min_rank: int = 1,
                unknown_all: bool = True) -> Case:
    """A shape-preserving layer on any input: the output has the input's shape."""
    shape, kind = perturb(draw, any_shape(draw, min_rank), fixed_rank=False)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)), bad=bad,
                unknown=tuple(range(len(shape))) if unknown_all else (),
                training=draw(st.booleans()))
    case.kind = kind
    if not case.bad and not shape_problem(case, kind):
        case.expected = shape
    return case


def flatten_case(draw: Callable, cls: type) -> Case:
    kw = {"data_format": pick(draw, st.sampled_from(GOOD_FORMATS), BAD_FORMATS)}
    shape, kind = perturb(draw, any_shape(draw, 0, 4), fixed_rank=False)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)),
                modes=("eager", "symbolic", "input_shape"))
    case.kind = kind
    if format_arg(kw["data_format"]) is None:
        case.bad.append(Bad(("data_format",), texts(kw["data_format"])))
    if not case.bad and not shape_problem(case, kind):
        case.expected = (math.prod(shape),)
    return case


def reshape_case(draw: Callable, cls: type) -> Case:
    shape, kind = perturb(draw, any_shape(draw), fixed_rank=False)
    total = math.prod(shape) if kind == "ok" else 1
    factors = [f for f in range(1, total + 1) if total % f == 0]
    first = draw(st.sampled_from(factors))
    target: Any = draw(st.sampled_from([(first, total // first), (total,), (-1, first),
                                        (first, -1, 1), (draw(st.integers(1, 5)), 2)]))
    target = pick(draw, st.just(target), [0, 5, "ab", None, (0, 2), (-2,), (2.0,), (-1, -1),
                                          (True,)])
    case = Case(cls, {"target_shape": target}, shape, batch=draw(st.integers(1, 2)),
                unknown=tuple(range(len(shape))))
    case.kind = kind
    ok = isinstance(target, (tuple, list)) and all(
        int_ok(t) or (t == -1 and not isinstance(t, bool)) for t in target) and list(
        target).count(-1) <= 1
    if not ok:
        case.bad.append(Bad(("target_shape",), texts(target)))
        return case
    if shape_problem(case, kind):
        return case
    known = math.prod(t for t in target if t != -1)
    fits = total % known == 0 if -1 in target else total == known
    if not fits:
        case.bad.append(Bad(("target_shape",), shape_texts(shape, batch=case.batch)))
        return case
    case.expected = tuple(total // known if t == -1 else t for t in target)
    return case


def permute_case(draw: Callable, cls: type) -> Case:
    base = any_shape(draw)
    shape, kind = perturb(draw, base, fixed_rank=True)
    dims = pick(draw, st.permutations(list(range(1, len(base) + 1))).map(tuple),
                [(0, 1), (1, 1), (1, 3), "12", 5, None, (1.0,)])
    case = Case(cls, {"dims": dims}, shape, batch=draw(st.integers(1, 2)),
                unknown=tuple(range(len(shape))))
    case.kind = kind
    ok = isinstance(dims, (tuple, list)) and sorted(dims) == list(range(1, len(dims) + 1)) \
        and all(int_ok(d) for d in dims)
    if not ok:
        case.bad.append(Bad(("dims",), texts(dims)))
        return case
    if shape_problem(case, kind):
        return case
    if len(dims) != len(shape):
        case.bad.append(Bad(("input", "dims"), shape_texts(shape, batch=case.batch)))
        return case
    case.expected = tuple(shape[d - 1] for d in dims)
    return case


def repeat_vector_case(draw: Callable, cls: type) -> Case:
    n = pick(draw, st.integers(1, 4), [0, -1, 2.0, "3", None])
    shape, kind = perturb(draw, (draw(st.integers(1, 4)),), fixed_rank=True)
    case = Case(cls, {"n": n}, shape, batch=draw(st.integers(1, 2)), unknown=(0,))
    case.kind = kind
    if not int_ok(n):
        case.bad.append(Bad(("n",), texts(n)))
    elif not shape_problem(case, kind):
        if kind != "ok":
            case.bad.append(Bad(("input",), shape_texts(shape, batch=case.batch)))
        else:
            case.expected = (n, shape[0])
    return case


def pairs_arg(v: Any, n: int) -> tuple | None:
    """Keras's padding/cropping forms as ``n`` (before, after) pairs, or None."""
    if n == 1 or int_ok(v, 0):
        items = [v] * n
    elif isinstance(v, (tuple, list)) and len(v) == n:
        items = list(v)
    else:
        return None
    pairs = []
    for item in items:
        pair = (item, item) if int_ok(item, 0) else item
        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(
                int_ok(i, 0) for i in pair):
            return None
        pairs.append(tuple(pair))
    return tuple(pairs)


def spatial_layer_case(draw: Callable, cls: type) -> Case:
    """ZeroPadding, Cropping and UpSampling in 1D/2D/3D."""
    n = int(cls.__name__[-2])
    kw: dict[str, Any] = {"data_format": pick(draw, st.sampled_from(GOOD_FORMATS), BAD_FORMATS)}
    one = st.integers(0, 2)
    pair = st.tuples(one, one)
    if cls.__name__.startswith("UpSampling"):
        arg = "size"
        kw[arg] = pick(draw, size_arg(n, 1, 3), bad_sizes(n))
        if n == 2:
            kw["interpolation"] = pick(draw, st.sampled_from(["nearest", "bilinear"]),
                                       ["bicubic", "NEAREST", 1])
    else:
        arg = "padding" if cls.__name__.startswith("Zero") else "cropping"
        good = st.one_of(one, pair) if n == 1 else st.one_of(
            one, st.tuples(*[one] * n), st.tuples(*[st.one_of(one, pair)] * n))
        kw[arg] = pick(draw, good, [-1, 1.5, "1", None, (1,) * (n + 2), ((1, -1),) * n])
    fmt = format_arg(kw["data_format"])
    spatial = draw(st.tuples(*[st.integers(1, 6 if n < 3 else 4)] * n))
    channels = draw(st.integers(1, 3))
    shape, kind = perturb(draw, with_spatial(spatial, channels, fmt or "channels_last"), True)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)), unknown=spatial_axes(n, fmt))
    case.kind = kind
    if fmt is None:
        case.bad.append(Bad(("data_format",), texts(kw["data_format"])))
    if arg == "size":
        factors = tuple_arg(kw["size"], n)
        if factors is None:
            case.bad.append(Bad(("size",), texts(kw["size"])))
        if kw.get("interpolation", "nearest") not in ("nearest", "bilinear"):
            case.bad.append(Bad(("interpolation",), texts(kw["interpolation"])))
    else:
        pairs = pairs_arg(kw[arg], n)
        if pairs is None:
            case.bad.append(Bad((arg,), texts(kw[arg])))
    if rejected(case, kind, shape):
        return case
    if arg == "size":
        out = [i * f for i, f in zip(spatial, factors, strict=True)]
    elif arg == "padding":
        out = [i + a + b for i, (a, b) in zip(spatial, pairs, strict=True)]
    else:
        out = [i - a - b for i, (a, b) in zip(spatial, pairs, strict=True)]
        if min(out) <= 0:
            case.bad.append(Bad(("cropping",), shape_texts(shape, batch=case.batch)))
            return case
    case.expected = with_spatial(out, channels, fmt)
    return case


def axis_ok(axis: Any, rank: int) -> bool:
    """A non-batch axis of a ``rank``-D input (batch included)."""
    return int_ok(axis, -rank) and axis < rank and axis % rank != 0


def batch_norm_case(draw: Callable, cls: type) -> Case:
    kw = {"axis": pick(draw, st.integers(-4, 4), [1.5, "1", None]),
          "momentum": pick(draw, st.floats(0, 1), [1.5, -0.1, "a", None]),
          "epsilon": pick(draw, st.floats(1e-5, 0.1), [0, -1.0, "a", None]),
          "center": draw(st.booleans()), "scale": draw(st.booleans())}
    shape, kind = perturb(draw, any_shape(draw), fixed_rank=False)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)), training=draw(st.booleans()),
                modes=("eager", "symbolic", "input_shape"))
    case.kind = kind
    if not int_ok(kw["axis"], -99):
        case.bad.append(Bad(("axis",), texts(kw["axis"])))
    if not number_ok(kw["momentum"]) or not 0 <= kw["momentum"] <= 1:
        case.bad.append(Bad(("momentum",), texts(kw["momentum"])))
    if not number_ok(kw["epsilon"]) or kw["epsilon"] <= 0:
        case.bad.append(Bad(("epsilon",), texts(kw["epsilon"])))
    if case.bad or shape_problem(case, kind):
        return case
    if not axis_ok(kw["axis"], len(shape) + 1):
        case.bad.append(Bad(("axis",), texts(kw["axis"])))
        return case
    case.expected = shape
    return case


def layer_norm_case(draw: Callable, cls: type) -> Case:
    axis = pick(draw, st.one_of(st.integers(-3, 3), st.lists(st.integers(-3, 3), min_size=1,
                                                             max_size=2)),
                [1.5, "1", None, [], [1.5]])
    kw = {"axis": axis, "epsilon": pick(draw, st.floats(1e-5, 0.1), [0, -1.0, "a", None]),
          "center": draw(st.booleans()), "scale": draw(st.booleans())}
    shape, kind = perturb(draw, any_shape(draw), fixed_rank=False)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)),
                modes=("eager", "symbolic", "input_shape"))
    case.kind = kind
    axes = axis if isinstance(axis, list) else [axis]
    if not axes or not all(int_ok(a, -99) for a in axes):
        case.bad.append(Bad(("axis",), texts(axis)))
    if not number_ok(kw["epsilon"]) or kw["epsilon"] <= 0:
        case.bad.append(Bad(("epsilon",), texts(kw["epsilon"])))
    if case.bad or shape_problem(case, kind):
        return case
    rank = len(shape) + 1
    if not all(axis_ok(a, rank) for a in axes) or len({a % rank for a in axes}) < len(axes):
        case.bad.append(Bad(("axis",), texts(axis)))
        return case
    case.expected = shape
    return case


def normalization_case(draw: Callable, cls: type) -> Case:
    axis = pick(draw, st.one_of(st.none(), st.integers(-3, 3),
                                st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple)),
                ["a", 1.5])
    kw: dict[str, Any] = {"axis": axis, "invert": draw(st.booleans())}
    stats = draw(st.sampled_from(["none", "scalar", "list", "half"]))
    if stats == "scalar":
        kw.update(mean=draw(st.floats(-2, 2)), variance=draw(st.floats(0, 2)))
    elif stats == "list":
        size = draw(st.integers(1, 4))
        kw.update(mean=[0.5] * size, variance=[2.0] * size)
    elif stats == "half":
        kw["mean"] = 1.0
    shape, kind = perturb(draw, any_shape(draw), fixed_rank=False)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)),
                modes=("eager", "symbolic", "input_shape"))
    case.kind = kind
    if stats == "half":
        case.bad.append(Bad(("mean", "variance"), texts(1.0, None)))
    if axis is not None and not isinstance(axis, (int, tuple)) or isinstance(axis, float):
        case.bad.append(Bad(("axis",), texts(axis)))
    if case.bad or shape_problem(case, kind):
        return case
    rank = len(shape) + 1
    axes = () if axis is None else (axis,) if isinstance(axis, int) else axis
    if not all(axis_ok(a, rank) for a in axes) or len({a % rank for a in axes}) < len(axes):
        case.bad.append(Bad(("axis",), texts(axis)))
        return case
    kept = tuple(shape[a % rank - 1] for a in sorted({a % rank for a in axes}))
    if stats == "list":
        try:
            np.broadcast_to(np.zeros(len(kw["mean"])), kept)
        except ValueError:
            case.bad.append(Bad(("mean", "variance"), texts(len(kw["mean"]),
                                                            (len(kw["mean"]),))))
            return case
    case.expected = shape
    return case


def dropout_case(draw: Callable, cls: type) -> Case:
    kw: dict[str, Any] = {"rate": pick(draw, st.floats(0, 0.9), [1.0, -0.1, 1.5, "0.5", None,
                                                                 True])}
    if draw(st.booleans()):
        kw["seed"] = pick(draw, st.integers(0, 99), ["s", 1.5])
    shape, kind = perturb(draw, any_shape(draw), fixed_rank=False)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)), training=draw(st.booleans()),
                unknown=tuple(range(len(shape))))
    case.kind = kind
    if cls is L.Dropout and draw(st.booleans()) and kind == "ok":
        noise = [draw(st.sampled_from([None, 1]))] + [
            draw(st.sampled_from([None, 1, size, size + 1])) for size in shape]
        if draw(st.integers(0, 9)) == 0:
            noise.append(1)
        kw["noise_shape"] = pick(draw, st.just(tuple(noise)), [5, (0,), (-1, 2), (1.5,)])
        case.unknown = ()
    if not number_ok(kw["rate"]) or not 0 <= kw["rate"] < 1:
        case.bad.append(Bad(("rate",), texts(kw["rate"])))
    if not (kw.get("seed") is None or int_ok(kw["seed"], 0)):
        case.bad.append(Bad(("seed",), texts(kw["seed"])))
    noise = kw.get("noise_shape")
    if noise is not None:
        if not isinstance(noise, tuple) or not all(d is None or int_ok(d) for d in noise):
            case.bad.append(Bad(("noise_shape",), texts(noise)))
        elif len(noise) != len(shape) + 1 or not all(
                d in (None, 1, s) for d, s in zip(noise[1:], shape, strict=False)):
            case.bad.append(Bad(("noise_shape",), texts(noise)))
    if not case.bad and not shape_problem(case, kind):
        case.expected = shape
    return case


def spatial_dropout_case(draw: Callable, cls: type) -> Case:
    n = int(cls.__name__[-2])
    kw: dict[str, Any] = {"rate": pick(draw, st.floats(0, 0.9), [1.0, -0.1, "0.5"])}
    if n > 1:
        kw["data_format"] = pick(draw, st.sampled_from(GOOD_FORMATS), BAD_FORMATS)
    fmt = format_arg(kw.get("data_format"))
    spatial = draw(st.tuples(*[st.integers(1, 4)] * n))
    shape, kind = perturb(draw, with_spatial(spatial, draw(st.integers(1, 3)),
                                             fmt or "channels_last"), True)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)), training=draw(st.booleans()),
                unknown=spatial_axes(n, fmt))
    case.kind = kind
    if not number_ok(kw["rate"]) or not 0 <= kw["rate"] < 1:
        case.bad.append(Bad(("rate",), texts(kw["rate"])))
    if fmt is None:
        case.bad.append(Bad(("data_format",), texts(kw["data_format"])))
    if rejected(case, kind, shape):
        return case
    case.expected = shape
    return case


def noise_case(draw: Callable, cls: type) -> Case:
    bad: list[Bad] = []
    if cls is L.ActivityRegularization:
        kw = {name: pick(draw, st.floats(0, 0.1), [-0.1, "a", None]) for name in ("l1", "l2")}
        for name, value in kw.items():
            if not number_ok(value) or value < 0:
                bad.append(Bad((name,), texts(value)))
        return simple_case(draw, cls, kw, bad)
    arg = "stddev" if cls is L.GaussianNoise else "rate"
    value = pick(draw, st.floats(0, 0.9), [-0.1, "a", None, True] + (
        [1.0] if arg == "rate" else []))
    if not number_ok(value) or value < 0 or (arg == "rate" and value >= 1):
        bad.append(Bad((arg,), texts(value)))
    return simple_case(draw, cls, {arg: value}, bad)


def relu_family_case(draw: Callable, cls: type) -> Case:
    numbers = st.floats(0, 3)
    bad_numbers = [-1.0, "a", None, True]
    args = {L.ReLU: ("max_value", "negative_slope", "threshold"), L.LeakyReLU: (
        "negative_slope",), L.ELU: ("alpha",), L.ThresholdedReLU: ("theta",)}[cls]
    kw: dict[str, Any] = {}
    bad: list[Bad] = []
    for arg in args:
        if draw(st.booleans()):
            continue
        good = st.one_of(st.none(), numbers) if arg == "max_value" else (
            st.floats(-3, 3) if arg == "alpha" else numbers)
        kw[arg] = value = pick(draw, good, bad_numbers)
        negative_ok = arg == "alpha"
        if not (value is None and arg == "max_value") and (
                not number_ok(value) or (value < 0 and not negative_ok)):
            bad.append(Bad((arg,), texts(value)))
    return simple_case(draw, cls, kw, bad)


def softmax_case(draw: Callable, cls: type) -> Case:
    axis = pick(draw, st.one_of(st.integers(-3, 3), st.lists(st.integers(1, 3), min_size=1,
                                                             max_size=2).map(tuple)),
                ["a", 1.5, (), None])
    shape, kind = perturb(draw, any_shape(draw), fixed_rank=False)
    case = Case(cls, {"axis": axis}, shape, batch=draw(st.integers(1, 2)),
                unknown=tuple(range(len(shape))))
    case.kind = kind
    axes = (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else axis
    if not isinstance(axes, tuple) or not axes or not all(int_ok(a, -99) for a in axes):
        case.bad.append(Bad(("axis",), texts(axis)))
    elif not shape_problem(case, kind):
        rank = len(shape) + 1
        if all(axis_ok(a, rank) for a in axes) and len({a % rank for a in axes}) == len(axes):
            case.expected = shape
        else:
            case.bad.append(Bad(("axis",), texts(axis)))
    return case


def prelu_case(draw: Callable, cls: type) -> Case:
    shared = pick(draw, st.one_of(st.none(), st.integers(1, 3),
                                  st.lists(st.integers(1, 3), min_size=1, max_size=2)),
                  [0, -1, "a", 1.5])
    shape, kind = perturb(draw, any_shape(draw), fixed_rank=False)
    case = Case(cls, {"shared_axes": shared}, shape, batch=draw(st.integers(1, 2)),
                modes=("eager", "symbolic", "input_shape"))
    case.kind = kind
    axes = [] if shared is None else [shared] if not isinstance(shared, list) else shared
    if not all(int_ok(a) for a in axes):
        case.bad.append(Bad(("shared_axes",), texts(shared)))
    elif not shape_problem(case, kind):
        if all(a <= len(shape) for a in axes):
            case.expected = shape
        else:
            case.bad.append(Bad(("shared_axes",), texts(shared)))
    return case


def activation_case(draw: Callable, cls: type) -> Case:
    name = pick(draw, st.sampled_from([None, "relu", "sigmoid", "tanh", "softmax", "linear",
                                       "elu", "selu", "softplus", "swish", "gelu", "ReLU"]),
                ["relux", "", 5, 1.5])
    bad = [Bad(("activation",), texts(name))] if name in ("relux", "", 5, 1.5) else []
    return simple_case(draw, cls, {"activation": name}, bad)


def dense_case(draw: Callable, cls: type) -> Case:
    kw = {"units": pick(draw, st.integers(1, 4), [0, -1, 2.0, "3", None, True]),
          "use_bias": draw(st.booleans())}
    if draw(st.booleans()):
        kw["activation"] = pick(draw, st.sampled_from(["relu", "softmax"]), ["relux"])
    shape, kind = perturb(draw, any_shape(draw), fixed_rank=False)
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)),
                unknown=tuple(range(len(shape) - 1)))
    case.kind = kind
    if not int_ok(kw["units"]):
        case.bad.append(Bad(("units",), texts(kw["units"])))
    if kw.get("activation") == "relux":
        case.bad.append(Bad(("activation",), texts("relux")))
    if not case.bad and not shape_problem(case, kind):
        case.expected = (*shape[:-1], kw["units"])
    return case


def image_case(draw: Callable, cls: type, kw: dict, bad: list[Bad], out_hw: tuple | None = None,
               channels: Sequence[int] = (1, 2, 3)) -> Case:
    """Resizing, ImageNetPreprocessing and the augmentation layers: (N, H, W, C) batches or
    one (H, W, C) image."""
    fmt_arg = kw.setdefault("data_format", pick(draw, st.sampled_from(GOOD_FORMATS),
                                                BAD_FORMATS))
    fmt = format_arg(fmt_arg)
    if fmt is None:
        bad.append(Bad(("data_format",), texts(fmt_arg)))
    hw = draw(st.tuples(st.integers(1, 6), st.integers(1, 6)))
    image = with_spatial(hw, draw(st.sampled_from(list(channels))), fmt or "channels_last")
    shape, kind = perturb(draw, image, fixed_rank=True)
    unbatched = draw(st.integers(0, 4)) == 0 and kind == "ok"
    case = Case(cls, kw, shape, batch=draw(st.integers(1, 2)), bad=bad,
                training=draw(st.booleans()), unknown=spatial_axes(2, fmt),
                unbatched=unbatched, modes=("eager",) if unbatched else MODES)
    case.kind = kind
    if case.bad or shape_problem(case, kind):
        return case
    rank = len(shape) + (0 if unbatched else 1)
    if kind != "ok" and (rank < 3 or (rank > 4 and cls is not L.ImageNetPreprocessing)):
        case.bad.append(Bad(("input",), shape_texts(shape, batch=case.batch)))
        return case
    full = shape if unbatched else (case.batch, *shape)
    if cls is L.ImageNetPreprocessing:
        axis = (0 if rank == 3 else 1) if fmt == "channels_first" else rank - 1
        if full[axis] != 3:
            case.bad.append(Bad(("input", "channels"), shape_texts(shape, batch=case.batch)))
            return case
    out = list(full)
    if out_hw is not None:
        h_axis = rank - 3 if fmt == "channels_last" else rank - 2
        out[h_axis:h_axis + 2] = out_hw
    case.expected = tuple(out) if unbatched else tuple(out[1:])
    if kind != "ok":  # a rank-3 batch is one image whose height is the batch size
        case.unknown = ()
        case.full_expected = tuple(out)
    return case


def resizing_case(draw: Callable, cls: type) -> Case:
    kw: dict[str, Any] = {"height": pick(draw, st.integers(1, 5), [0, -1, 2.0, "3", None]),
                          "width": pick(draw, st.integers(1, 5), [0, -1, 2.0, "3", None]),
                          "interpolation": pick(draw, st.sampled_from(["bilinear", "nearest"]),
                                                ["bicubic", "Bilinear", 1]),
                          "crop_to_aspect_ratio": draw(st.booleans())}
    bad = [Bad((arg,), texts(kw[arg])) for arg in ("height", "width") if not int_ok(kw[arg])]
    if kw["interpolation"] not in ("bilinear", "nearest"):
        bad.append(Bad(("interpolation",), texts(kw["interpolation"])))
    return image_case(draw, cls, kw, bad, (kw["height"], kw["width"]))


def preprocessing_case(draw: Callable, cls: type) -> Case:
    mode = pick(draw, st.sampled_from(["caffe", "tf", "torch"]), ["keras", "", 1])
    bad = [] if mode in ("caffe", "tf", "torch") else [Bad(("mode",), texts(mode))]
    return image_case(draw, cls, {"mode": mode}, bad, channels=(3, 3, 3, 1))


def factor_bad(value: Any, low: float, high: float, open_low: bool = False) -> bool:
    values = list(value) if isinstance(value, (tuple, list)) else [value]
    if isinstance(value, (tuple, list)) and len(values) != 2:
        return True
    return not all(number_ok(v) and (low < v if open_low else low <= v) and v <= high
                   for v in values)


def augmentation_case(draw: Callable, cls: type) -> Case:
    factor = st.one_of(st.floats(-0.5, 0.5), st.tuples(st.floats(-0.5, 0.5),
                                                        st.floats(-0.5, 0.5)))
    bad_factor = [1.5, (0.1,), "a", None, (0.1, 2.0), -1.0]
    kw: dict[str, Any] = {}
    bad: list[Bad] = []
    if cls is L.RandomFlip:
        kw["mode"] = pick(draw, st.sampled_from(["horizontal", "vertical",
                                                 "horizontal_and_vertical"]), ["diagonal", 1])
        if not isinstance(kw["mode"], str) or kw["mode"] == "diagonal":
            bad.append(Bad(("mode",), texts(kw["mode"])))
    elif cls is L.RandomCrop:
        for arg in ("height", "width"):
            kw[arg] = pick(draw, st.integers(1, 6), [0, -1, 2.0, None])
            if not int_ok(kw[arg]):
                bad.append(Bad((arg,), texts(kw[arg])))
    elif cls in (L.RandomContrast, L.RandomBrightness):
        low = 0.0 if cls is L.RandomContrast else -1.0
        kw["factor"] = pick(draw, factor.map(lambda f: tuple(map(abs, f)) if isinstance(
            f, tuple) else abs(f)), bad_factor)
        kw["value_range"] = pick(draw, st.sampled_from([(0, 255), (0, 1), [-1, 1]]),
                                 [(0,), "ab", None, (0, "a")])
        if factor_bad(kw["factor"], low, 1.0):
            bad.append(Bad(("factor",), texts(kw["factor"])))
        vr = kw["value_range"]
        if not isinstance(vr, (tuple, list)) or len(vr) != 2 or not all(map(number_ok, vr)):
            bad.append(Bad(("value_range",), texts(vr)))
    else:
        names = {L.RandomRotation: ("factor",), L.RandomTranslation: (
            "height_factor", "width_factor"), L.RandomZoom: ("height_factor", "width_factor")}
        for name in names[cls]:
            optional = cls is L.RandomZoom and name == "width_factor"
            kw[name] = value = pick(draw, st.one_of(st.none(), factor) if optional else factor,
                                    bad_factor)
            if not (optional and value is None) and factor_bad(value, -1.0, 1.0,
                                                               cls is L.RandomZoom):
                bad.append(Bad((name,), texts(value)))
        kw["fill_mode"] = pick(draw, st.sampled_from(["reflect", "constant", "wrap", "nearest"]),
                               ["mirror", 1])
        kw["interpolation"] = pick(draw, st.sampled_from(["bilinear", "nearest"]), ["bicubic"])
        kw["fill_value"] = pick(draw, st.floats(-1, 1), ["a", None])
        if kw["fill_mode"] in ("mirror", 1):
            bad.append(Bad(("fill_mode",), texts(kw["fill_mode"])))
        if kw["interpolation"] == "bicubic":
            bad.append(Bad(("interpolation",), texts("bicubic")))
        if not number_ok(kw["fill_value"]):
            bad.append(Bad(("fill_value",), texts(kw["fill_value"])))
    if draw(st.booleans()):
        kw["seed"] = pick(draw, st.integers(0, 9), ["s"])
        if kw["seed"] == "s":
            bad.append(Bad(("seed",), texts("s")))
    out = (kw["height"], kw["width"]) if cls is L.RandomCrop else None
    return image_case(draw, cls, kw, bad, out)


def rescaling_case(draw: Callable, cls: type) -> Case:
    channels = draw(st.integers(1, 3))
    scale = pick(draw, st.one_of(st.floats(-2, 2), st.lists(st.floats(-2, 2), min_size=1,
                                                            max_size=3)),
                 ["a", None, [], ["a"]])
    offset = pick(draw, st.floats(-1, 1), ["b"])
    shape, kind = perturb(draw, (*any_shape(draw, 0, 2), channels), fixed_rank=False)
    case = Case(cls, {"scale": scale, "offset": offset}, shape, batch=draw(st.integers(1, 2)),
                unknown=tuple(range(len(shape) - 1)))
    case.kind = kind
    for arg, value in (("scale", scale), ("offset", offset)):
        values = value if isinstance(value, list) else [value]
        if not values or not all(map(number_ok, values)):
            case.bad.append(Bad((arg,), texts(value)))
    if case.bad or shape_problem(case, kind):
        return case
    if isinstance(scale, list) and len(scale) not in (1, shape[-1]):
        case.bad.append(Bad(("scale",), texts(len(scale))))
        return case
    case.expected = shape
    return case


def merge_case(draw: Callable, cls: type) -> Case:
    """The merge layers on lists of 1-3 inputs, broadcastable or not."""
    two = cls in (L.Subtract, L.Dot)
    count = 2 if two else draw(st.integers(1, 3))
    base = any_shape(draw)
    kw: dict[str, Any] = {}
    shapes = []
    for _ in range(count):
        s = list(base)
        how = draw(st.sampled_from(["same", "same", "ones", "suffix", "other"]))
        if how == "ones":
            s = [1 if draw(st.booleans()) else d for d in s]
        elif how == "suffix" and cls not in (L.Concatenate, L.Dot):
            s = s[draw(st.integers(0, len(s) - 1)):]
        elif how == "other":
            s[draw(st.integers(0, len(s) - 1))] = draw(st.integers(1, 4))
        shapes.append(tuple(s))
    if cls is L.Concatenate:
        kw["axis"] = pick(draw, st.integers(-len(base) - 1, len(base) + 1), [1.5, "1", None])
    if cls is L.Dot:
        kw["axes"] = pick(draw, st.one_of(st.integers(-3, 3), st.tuples(
            st.integers(-3, 3), st.integers(-3, 3))), ["a", (1, 2, 3), 1.5, None])
        kw["normalize"] = draw(st.booleans())
    listed = draw(st.integers(0, 19)) > 0
    case = Case(cls, kw, shapes if listed else shapes[0], batch=draw(st.integers(1, 2)),
                listed=listed, modes=("eager", "symbolic"))
    if "axis" in kw and not int_ok(kw["axis"], -99):
        case.bad.append(Bad(("axis",), texts(kw["axis"])))
        return case
    if "axes" in kw:
        pair = (kw["axes"],) * 2 if int_ok(kw["axes"], -99) else kw["axes"]
        if not isinstance(pair, tuple) or len(pair) != 2 or not all(int_ok(a, -99) for a in pair):
            case.bad.append(Bad(("axes",), texts(kw["axes"])))
            return case
    all_texts = shape_texts(*shapes, batch=case.batch)
    if not listed:
        case.bad.append(Bad(("input",), all_texts))
        return case
    if cls is L.Concatenate:
        rank = len(shapes[0]) + 1
        if len({len(s) for s in shapes}) > 1:
            case.bad.append(Bad(("input", "rank"), all_texts))
        elif not axis_ok(kw["axis"], rank):
            case.bad.append(Bad(("axis",), texts(kw["axis"], f"axis={kw['axis']}")))
        else:
            a = kw["axis"] % rank - 1
            rest = {s[:a] + s[a + 1:] for s in shapes}
            if len(rest) > 1:
                case.bad.append(Bad(("input",), all_texts))
            else:
                out = list(shapes[0])
                out[a] = sum(s[a] for s in shapes)
                case.expected = tuple(out)
        return case
    if cls is L.Dot:
        sx, sy = shapes
        ranks = (len(sx) + 1, len(sy) + 1)
        if not all(axis_ok(a, r) for a, r in zip(pair, ranks, strict=True)):
            case.bad.append(Bad(("axes",), texts(kw["axes"], pair, f"axes={kw['axes']}")))
            return case
        ax, ay = (a % r - 1 for a, r in zip(pair, ranks, strict=True))
        if sx[ax] != sy[ay]:
            case.bad.append(Bad(("input", "axes", "axis"), all_texts))
            return case
        case.expected = (sx[:ax] + sx[ax + 1:] + sy[:ay] + sy[ay + 1:]) or (1,)
        return case
    try:
        case.expected = tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        case.bad.append(Bad(("input",), all_texts))
    return case


STRATEGIES: dict[type, Callable[[Callable, type], Case]] = {
    **dict.fromkeys([L.Conv1D, L.Conv2D, L.Conv3D, L.Conv1DTranspose, L.Conv2DTranspose,
                     L.Conv3DTranspose, L.DepthwiseConv2D, L.SeparableConv2D], conv_case),
    **dict.fromkeys([L.MaxPooling1D, L.MaxPooling2D, L.MaxPooling3D, L.AveragePooling1D,
                     L.AveragePooling2D, L.AveragePooling3D], pool_case),
    **dict.fromkeys([L.GlobalMaxPooling1D, L.GlobalMaxPooling2D, L.GlobalMaxPooling3D,
                     L.GlobalAveragePooling1D, L.GlobalAveragePooling2D,
                     L.GlobalAveragePooling3D], global_pool_case),
    L.Flatten: flatten_case, L.Reshape: reshape_case, L.Permute: permute_case,
    L.RepeatVector: repeat_vector_case,
    **dict.fromkeys([L.ZeroPadding1D, L.ZeroPadding2D, L.ZeroPadding3D, L.Cropping1D,
                     L.Cropping2D, L.Cropping3D, L.UpSampling1D, L.UpSampling2D,
                     L.UpSampling3D], spatial_layer_case),
    L.BatchNormalization: batch_norm_case, L.LayerNormalization: layer_norm_case,
    L.Normalization: normalization_case,
    L.Dropout: dropout_case, L.GaussianNoise: noise_case, L.GaussianDropout: noise_case,
    L.ActivityRegularization: noise_case,
    **dict.fromkeys([L.SpatialDropout1D, L.SpatialDropout2D, L.SpatialDropout3D],
                    spatial_dropout_case),
    **dict.fromkeys([L.Add, L.Subtract, L.Multiply, L.Average, L.Maximum, L.Minimum,
                     L.Concatenate, L.Dot], merge_case),
    **dict.fromkeys([L.ReLU, L.LeakyReLU, L.ELU, L.ThresholdedReLU], relu_family_case),
    L.Softmax: softmax_case, L.PReLU: prelu_case, L.Activation: activation_case,
    L.Dense: dense_case, L.Resizing: resizing_case,
    L.ImageNetPreprocessing: preprocessing_case, L.Rescaling: rescaling_case,
    **dict.fromkeys([L.RandomFlip, L.RandomRotation, L.RandomTranslation, L.RandomZoom,
                     L.RandomContrast, L.RandomBrightness, L.RandomCrop], augmentation_case),
}
NOT_FUZZED = {L.InputLayer: "fuzzed by test_input_shapes", L.Lambda: "runs user code"}


# ------------------------------------------------------------------------------ running
class Accepted(Exception):
    """An invalid case went through without an error."""


def run(case: Case, mode: str) -> tuple[Any, Any, Any, Any]:
    """Build and call the layer in ``mode``: (declared shape, real shape, symbolic shape,
    layer)."""
    shapes = case.shape if case.listed else [case.shape]
    symbolic = None
    if mode == "input_shape":
        layer = case.cls(**case.kwargs, input_shape=case.shape)
        if any(not int_ok(d) for d in case.shape):
            raise Accepted(f"input_shape={case.shape} accepted")
        symbolic = layer.output_shape
    else:
        layer = case.cls(**case.kwargs)
        if mode in ("symbolic", "unknown"):
            inputs = [L.Input(tuple(None if mode == "unknown" and i in case.unknown else d
                                    for i, d in enumerate(s))) for s in shapes]
            symbolic = layer(inputs if case.listed else inputs[0]).shape
    full = [s if case.unbatched else (case.batch, *s) for s in shapes]
    tensors = [torch.randn(s) for s in full]
    out = layer(tensors if case.listed else tensors[0], training=case.training)
    declared = layer.compute_output_shape(full if case.listed else full[0])
    return tuple(declared), tuple(out.shape), symbolic, layer


def message_problem(case: Case, err: Exception, mode: str = "eager") -> str | None:
    """What a clean error message lacks, or None."""
    msg = str(err)
    if not case.listed:  # the shape as the layer saw it: unknown sizes, a single image
        seen = [tuple(None if mode == "unknown" and i in case.unknown else d
                      for i, d in enumerate(case.shape))]
        if case.unbatched:
            seen.append(case.shape[1:])
        alternatives = shape_texts(*seen, batch=case.batch)
        shown = set(shape_texts(case.shape, batch=case.batch))
        case.bad = [Bad(b.args, b.given + alternatives) if shown & set(b.given) else b
                    for b in case.bad]
    if case.cls.__name__ not in msg and not (case.cls is L.InputLayer and "Input" in msg):
        return "does not name the layer"
    if not EXPECTATION.search(msg):
        return "does not say what was expected"
    for bad in case.bad:
        if any(a in msg for a in bad.args) and any(g in msg for g in bad.given):
            return None
    return f"does not name the argument and the value given (one of {case.bad})"


def check_case(case: Case, mode: str, second: tuple | None = None) -> None:
    """Run one case and assert the property; record it in the tally. A valid case then calls
    the built layer on a ``second`` per-sample shape, if given (see ``check_second_call``)."""
    try:
        declared, real, symbolic, layer = run(case, mode)
    except (ValueError, TypeError) as err:
        if not case.bad:
            tally.record(FUZZ, held=False)
            raise AssertionError(f"{case} [{mode}]: valid case raised {err!r}") from err
        problem = message_problem(case, err, mode)
        tally.record(FUZZ, held=problem is None)
        tally.record(BAD, held=problem is None)
        assert problem is None, f"{case} [{mode}]: message {problem}: {err}"
        return
    except Exception as err:
        tally.record(FUZZ, held=False)
        if case.bad:
            tally.record(BAD, held=False)
        raise AssertionError(f"{case} [{mode}]: {type(err).__name__} is not a clean error: "
                             f"{err}") from err
    if case.bad:
        tally.record(FUZZ, held=False)
        tally.record(BAD, held=False)
        raise AssertionError(f"{case} [{mode}]: invalid case accepted, output {real}")
    problems = []
    if declared != real:
        problems.append(f"declared {declared} != real {real}")
    expected = case.full_expected or (case.expected if case.unbatched
                                      else (case.batch, *case.expected))
    if real != expected:
        problems.append(f"real {real} != reference {expected}")
    if symbolic is not None:  # None: the batch axis, or any axis with unknown input sizes
        if len(symbolic) != len(real) or any(
                s != r and not (s is None and (i == 0 or mode == "unknown"))
                for i, (s, r) in enumerate(zip(symbolic, real, strict=False))):
            problems.append(f"symbolic {symbolic} does not match real {real}")
    tally.record(FUZZ, held=not problems)
    assert not problems, f"{case} [{mode}]: {'; '.join(problems)}"
    if second is not None:
        check_second_call(case, layer, second)


def check_second_call(case: Case, layer: Any, shape: tuple) -> None:
    """A built layer called on another shape (one size changed) either refuses it with a clean
    error (the layer, what it expected, the shape given) or returns what it declares for it."""
    full = (case.batch, *shape)
    problem = None
    try:
        out = tuple(layer(torch.randn(full), training=case.training).shape)
        declared = tuple(layer.compute_output_shape(full))
    except (ValueError, TypeError) as err:
        msg = str(err)
        if case.cls.__name__ not in msg or not EXPECTATION.search(msg) or not any(
                t in msg for t in shape_texts(shape, batch=case.batch)):
            problem = f"unclear error {msg!r}"
    except Exception as err:
        problem = f"{type(err).__name__} is not a clean error: {err}"
    else:
        if out != declared:
            problem = f"declared {declared} != real {out}"
    tally.record(FUZZ, held=problem is None)
    assert problem is None, f"{case}, then called on {full}: {problem}"


FUZZED = sorted(STRATEGIES, key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", FUZZED, ids=lambda c: c.__name__)
@given(data=st.data())
def test_layer_fuzz(cls: type, data: st.DataObject) -> None:
    case = STRATEGIES[cls](data.draw, cls)
    restrict_modes(case)
    mode = data.draw(st.sampled_from(case.modes), label="mode")
    second = None
    if not case.bad and not case.listed and not case.unbatched and case.shape and \
            data.draw(st.booleans(), label="second call"):
        second = list(case.shape)
        second[data.draw(st.integers(0, len(second) - 1))] = data.draw(st.integers(1, 6))
        second = tuple(second)
    check_case(case, mode, second)


@given(shape=st.lists(st.one_of(st.none(), st.integers(-2, 4), st.sampled_from([2.5, "3"])),
                      max_size=4))
def test_input_shapes(shape: list) -> None:
    """``Input(shape)`` takes positive ints and None; anything else is a clean error."""
    case = Case(L.InputLayer, {}, tuple(shape))
    if not all(d is None or int_ok(d) for d in shape):
        case.bad.append(Bad(("shape", "sizes"), texts(tuple(shape))))
    try:
        tensor = L.Input(tuple(shape))
    except (ValueError, TypeError) as err:
        problem = message_problem(case, err) if case.bad else f"valid shape raised {err!r}"
        tally.record(FUZZ, held=problem is None)
        tally.record(BAD, held=problem is None)
        assert problem is None, f"Input({shape}): {problem}: {err}"
        return
    except Exception as err:
        tally.record(FUZZ, held=False)
        raise AssertionError(f"Input({shape}): {type(err).__name__}: {err}") from err
    tally.record(FUZZ, held=not case.bad and tensor.shape == (None, *shape))
    assert not case.bad, f"Input({shape}) accepted"
    assert tensor.shape == (None, *shape)


def test_every_public_layer_is_fuzzed() -> None:
    public = {c for c in _LAYER_REGISTRY.values() if c.__module__.startswith("cnnlab.layers")}
    missing = public - set(STRATEGIES) - set(NOT_FUZZED)
    assert not missing, f"layers without a fuzz strategy: {sorted(c.__name__ for c in missing)}"


def test_rescaling_per_channel_fixes_the_channel_count() -> None:
    layer = L.Rescaling([1.0, 2.0])
    layer(torch.randn(2, 4, 2))
    with pytest.raises(ValueError, match="Rescaling"):
        layer(torch.randn(2, 4, 3))


# ------------------------------------------------------------------------------ regressions
def after_input(layer: Any, shape: tuple, x: torch.Tensor) -> Any:
    """Build ``layer`` on ``Input(shape)`` (None = unknown size), then call it on ``x``."""
    layer(L.Input(shape))
    return layer(x)


# Each failure the fuzzer found, as a fixed case: (build-and-call, error, message fragments).
REGRESSIONS = {
    "input_shape negative": (lambda: L.Conv2D(2, 3, input_shape=(-2, 5, 1)), ValueError,
                             ["Conv2D", "`input_shape`", "(-2, 5, 1)"]),
    "input_shape float": (lambda: L.Dense(2, input_shape=(2.5,)), ValueError,
                          ["Dense", "`input_shape`", "(2.5,)"]),
    "input_shape zero": (lambda: L.Flatten(input_shape=(3, 0)), ValueError,
                         ["Flatten", "`input_shape`", "(3, 0)"]),
    "input_shape not a tuple": (lambda: L.Dropout(0.1, input_shape=2.5), TypeError,
                                ["Dropout", "`input_shape`", "2.5"]),
    "zero size, max pooling": (lambda: L.MaxPooling2D()(torch.randn(1, 1, 1, 0)), ValueError,
                               ["MaxPooling2D", "at least 1", "(1, 1, 0)"]),
    "zero size, global max": (lambda: L.GlobalMaxPooling1D()(torch.randn(1, 0, 1)), ValueError,
                              ["GlobalMaxPooling1D", "at least 1", "(0, 1)"]),
    "zero size, transpose": (lambda: L.Conv1DTranspose(1, 1)(torch.randn(1, 0, 1)),
                             ValueError, ["Conv1DTranspose", "at least 1", "(0, 1)"]),
    "zero size, batch norm": (lambda: L.BatchNormalization()(torch.randn(1, 0), training=True),
                              ValueError, ["BatchNormalization", "at least 1", "(0,)"]),
    "zero size, unknown at build": (
        lambda: after_input(L.GlobalMaxPooling1D(), (None, 2), torch.randn(1, 0, 2)),
        ValueError, ["GlobalMaxPooling1D", "at least 1", "(1, 0, 2)"]),
    "activation name": (lambda: L.Dense(2, activation="relux"), ValueError,
                        ["Dense", "`activation`", "'relux'", "expected one of"]),
    "activation type": (lambda: L.Activation(5), TypeError, ["Activation", "`activation`", "5"]),
    "conv activation": (lambda: L.SeparableConv2D(2, 3, activation="relux"), ValueError,
                        ["SeparableConv2D", "`activation`", "'relux'"]),
    "noise_shape not a tuple": (lambda: L.Dropout(0.5, noise_shape=5), TypeError,
                                ["Dropout", "`noise_shape`", "5"]),
    "noise_shape at inference": (lambda: L.Dropout(0.5, noise_shape=(None, 3))(
        torch.randn(2, 4)), ValueError, ["Dropout", "`noise_shape`", "must", "(None, 4)"]),
    "empty data_format": (lambda: L.RandomFlip(data_format=""), ValueError,
                          ["RandomFlip", "`data_format`", "''"]),
    "empty data_format, resizing": (lambda: L.Resizing(2, 2, data_format=""), ValueError,
                                    ["Resizing", "`data_format`", "''"]),
    "permute float dims": (lambda: L.Permute((1.0,)), ValueError,
                           ["Permute", "`dims`", "(1.0,)"]),
    "permute string dims": (lambda: L.Permute("12"), ValueError, ["Permute", "`dims`", "'12'"]),
    "batch norm momentum type": (lambda: L.BatchNormalization(momentum="a"), ValueError,
                                 ["BatchNormalization", "`momentum`", "'a'"]),
    "batch norm epsilon type": (lambda: L.BatchNormalization(epsilon=None), ValueError,
                                ["BatchNormalization", "`epsilon`", "None"]),
    "layer norm axis twice": (lambda: L.LayerNormalization(axis=[2, -1])(torch.randn(2, 3, 4)),
                              ValueError, ["LayerNormalization", "`axis`", "once", "[2, -1]"]),
    "normalization axis twice": (lambda: L.Normalization(axis=(1, 1))(torch.randn(2, 3, 3)),
                                 ValueError, ["Normalization", "`axis`", "(1, 1)", "once"]),
    "normalization kept size changes": (
        lambda: after_input(L.Normalization(axis=1), (2, 1), torch.randn(1, 3, 1)),
        ValueError, ["Normalization", "expected axis 1", "(1, 3, 1)"]),
    "normalization mean without variance": (lambda: L.Normalization(mean=1.0), ValueError,
                                            ["Normalization", "`mean`", "must", "None"]),
    "prelu float shared_axes": (lambda: L.PReLU(shared_axes=1.5), ValueError,
                                ["PReLU", "`shared_axes`", "1.5"]),
    "softmax axis twice": (lambda: L.Softmax(axis=(2, 2))(torch.randn(2, 3, 2)), ValueError,
                           ["Softmax", "`axis`", "once", "(2, 2)"]),
    "conv input smaller than kernel, size unknown at build": (
        lambda: after_input(L.Conv2D(2, 3), (None, None, 1), torch.randn(1, 2, 5, 1)),
        ValueError, ["Conv2D", "`kernel_size`=(3, 3)", "(None, 2, 5, 1)", "larger than"]),
    "depthwise input smaller than kernel, channels first, size unknown at build": (
        lambda: after_input(L.DepthwiseConv2D(4, data_format="channels_first"), (1, None, 4),
                            torch.randn(2, 1, 2, 4)),
        ValueError, ["DepthwiseConv2D", "`kernel_size`=(4, 4)", "(None, 1, 2, 4)"]),
    "pooling window names pool_size and the shape": (
        lambda: L.MaxPooling2D(4)(torch.randn(1, 3, 3, 1)), ValueError,
        ["MaxPooling2D", "`pool_size`=(4, 4)", "(None, 3, 3, 1)", "larger than"]),
    "pooling window, size unknown at build": (
        lambda: after_input(L.AveragePooling3D(4), (None, 4, 4, 1), torch.randn(1, 1, 4, 4, 1)),
        ValueError, ["AveragePooling3D", "`pool_size`=(4, 4, 4)", "(None, 1, 4, 4, 1)"]),
    "transpose output_padding not below stride": (
        lambda: L.Conv1DTranspose(1, 1, dilation_rate=3, output_padding=1), ValueError,
        ["Conv1DTranspose", "`output_padding`", "stride", "(1,)"]),
    "transpose output of size 0": (
        lambda: L.Conv2DTranspose(4, 2, strides=3, padding="same", output_padding=(2, 0))(
            torch.randn(1, 1, 1, 2)),
        ValueError, ["Conv2DTranspose", "`output_padding`=(2, 0)", "(None, 1, 1, 2)",
                     "at least 1"]),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_regression(name: str) -> None:
    make, error, fragments = REGRESSIONS[name]
    with pytest.raises(error) as info:
        make()
    missing = [f for f in fragments if f not in str(info.value)]
    tally.record(BAD, held=not missing)
    assert not missing, f"{name}: {missing} not in {info.value}"


def test_regression_data_format_any_case() -> None:
    """Keras lower-cases ``data_format``; the image layers now do, as the others did."""
    for layer in (L.RandomFlip(data_format="Channels_Last"), L.Resizing(2, 2, data_format=
                  "CHANNELS_FIRST"), L.ImageNetPreprocessing(data_format="Channels_First")):
        assert layer.data_format in FORMATS


def test_regression_imagenet_preprocessing_input_shape_builds() -> None:
    assert L.ImageNetPreprocessing(input_shape=(4, 4, 3)).output_shape == (None, 4, 4, 3)


def test_regression_average_pooling3d_same_window_larger_than_input() -> None:
    """avg_pool3d refused an input smaller than the window before its padding (RuntimeError);
    the mean of a constant over the real elements of each window is that constant."""
    layer = L.AveragePooling3D((4, 4, 1), strides=(1, 3, 1), padding="same")
    y = layer(torch.full((1, 2, 2, 3, 1), 5.0))
    assert tuple(y.shape) == (1, 2, 1, 3, 1) == layer.compute_output_shape((1, 2, 2, 3, 1))
    torch.testing.assert_close(y, torch.full_like(y, 5.0))
