"""``tf.GradientTape`` over PyTorch autograd, for Keras's custom training loops and saliency::

    with tf.GradientTape() as tape:
        preds = model(x, training=True)
        loss = loss_fn(y, preds)
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))

    image = tf.convert_to_tensor(x[:1])
    with tf.GradientTape() as tape:
        tape.watch(image)                      # an input: d(score)/d(pixels)
        score = model(image)[0, label]
    saliency = tape.gradient(score, image)

Differences from TensorFlow: PyTorch records every operation on tensors that require
gradients, so a value computed from the weights *outside* the ``with`` block has gradients too
(TensorFlow would return ``None``), and ``watch(x)`` marks ``x`` itself (``x.requires_grad``
becomes True until a non-persistent tape has given its gradient, so that an update in place
such as ``image += lr * grads`` works afterwards, as the filter-visualization tutorials do; a
watched intermediate result is then detached, so ``conv_output.numpy()`` works, as in Grad-CAM).
Sources that nothing was recorded for get ``None``, as in TensorFlow.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

_RECORDING: list[GradientTape] = []  # tapes whose ``with`` block is open, innermost last


def _leaves(structure: Any) -> list:
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in _leaves(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in _leaves(item)]
    return [structure]


def _rebuild(structure: Any, leaves: Iterator) -> Any:
    """``structure`` with its leaves replaced, in order, by ``leaves``."""
    if isinstance(structure, dict):
        return {key: _rebuild(value, leaves) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_rebuild(item, leaves) for item in structure)
    return next(leaves)


class GradientTape:
    """Record a computation, then ask for gradients of a target with respect to sources.

    Args (TensorFlow's):
        persistent: False allows one ``gradient`` call; True allows several (the graph is kept
            until the tape is deleted).
        watch_accessed_variables: True differentiates with respect to any weight; False only
            with respect to tensors passed to :meth:`watch`.

    ``gradient(target, sources)``: the gradient of ``target`` (a tensor or a list of tensors;
    a non-scalar target means the gradient of its sum, as TensorFlow) with respect to each
    source, in the structure of ``sources`` (a tensor, a list such as
    ``model.trainable_weights``, or a dict). Gradients of nested tapes (second derivatives)
    work: an inner tape's gradient is itself recorded by the outer tape.
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = bool(persistent)
        self.watch_accessed_variables = bool(watch_accessed_variables)
        self._watched: dict[int, torch.Tensor] = {}
        self._marked: list[torch.Tensor] = []  # leaves whose requires_grad watch() turned on
        self._used = False
        self._shared = False  # another tape recorded at the same time: keep the graph
        self._grad_mode: Any = None

    def __enter__(self) -> GradientTape:
        for tape in _RECORDING:
            tape._shared = True
        self._shared = self._shared or bool(_RECORDING)
        _RECORDING.append(self)
        self._grad_mode = torch.enable_grad()
        self._grad_mode.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._grad_mode.__exit__(*exc)
        _RECORDING.remove(self)

    def watch(self, tensor: Any) -> None:
        """Differentiate with respect to ``tensor`` (or each tensor of a list): input images
        for saliency maps. Integer tensors cannot have gradients and are ignored with a
        warning, as TensorFlow does."""
        for t in _leaves(tensor):
            if not isinstance(t, torch.Tensor):
                raise TypeError(f"GradientTape.watch: expected a tensor, got "
                                f"{type(t).__name__}; convert arrays first with "
                                f"tf.convert_to_tensor(x) and use that tensor in the model")
            if not (t.is_floating_point() or t.is_complex()):
                warnings.warn(f"GradientTape.watch: a {t.dtype} tensor cannot have gradients; "
                              "cast it to tf.float32 first", stacklevel=2)
                continue
            if not t.requires_grad:
                t.requires_grad_(True)
                if t.is_leaf:
                    self._marked.append(t)
            self._watched[id(t)] = t

    def watched_variables(self) -> list[torch.Tensor]:
        """The tensors passed to :meth:`watch` (weights are watched implicitly)."""
        return list(self._watched.values())

    @contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Compute without recording gradients inside this block (``torch.no_grad``)."""
        with torch.no_grad():
            yield

    def reset(self) -> None:
        """Forget watched tensors; the tape may compute gradients again."""
        self._watched.clear()
        self._used = False

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: str = "none") -> Any:
        """d(sum of ``target``)/d(each source), in the structure of ``sources``; ``None``
        (or zeros with ``unconnected_gradients='zero'``) where ``target`` does not depend on a
        source. ``output_gradients`` weights the target elements instead of ones."""
        if self._used and not self.persistent:
            raise RuntimeError("GradientTape.gradient can only be called once on a "
                               "non-persistent tape; create it with "
                               "tf.GradientTape(persistent=True) to compute several gradients")
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"GradientTape.gradient: `unconnected_gradients` must be 'none' "
                             f"or 'zero', got {unconnected_gradients!r}")
        self._used = True
        targets = _leaves(target)
        for t in targets:
            if not isinstance(t, torch.Tensor):
                raise TypeError(f"GradientTape.gradient: `target` must be a tensor (or a list "
                                f"of tensors), got {type(t).__name__}")
        source_leaves = _leaves(sources)
        for s in source_leaves:
            if not isinstance(s, torch.Tensor):
                raise TypeError(f"GradientTape.gradient: each source must be a tensor (a "
                                f"weight, or an input passed to tape.watch), got "
                                f"{type(s).__name__}")
        wanted = [i for i, s in enumerate(source_leaves) if s.requires_grad and (
            self.watch_accessed_variables or id(s) in self._watched)]
        recorded = [i for i, t in enumerate(targets) if t.requires_grad]
        grads: list[torch.Tensor | None] = [None] * len(source_leaves)
        if wanted and recorded:
            weights = (_leaves(output_gradients) if output_gradients is not None
                       else [torch.ones_like(t) for t in targets])
            outer = any(tape is not self for tape in _RECORDING) and torch.is_grad_enabled()
            found = torch.autograd.grad(
                [targets[i] for i in recorded], [source_leaves[i] for i in wanted],
                grad_outputs=[weights[i] for i in recorded], allow_unused=True,
                retain_graph=self.persistent or self._shared or outer, create_graph=outer)
            for i, g in zip(wanted, found, strict=True):
                grads[i] = g
        if unconnected_gradients == "zero":
            grads = [torch.zeros_like(s) if g is None else g
                     for s, g in zip(source_leaves, grads, strict=True)]
        if not self.persistent and not any(tape is not self for tape in _RECORDING):
            self._unmark()
        return _rebuild(sources, iter(grads))

    def _unmark(self) -> None:
        """The tape is used up: watched tensors become constants again, as a ``tf.Tensor`` is
        outside its tape (leaves get ``requires_grad=False`` back, watched intermediate results
        are detached in place), so that ``x += lr * grads`` and ``x.numpy()`` work."""
        for t in self._marked:
            t.requires_grad_(False)
        self._marked.clear()
        for t in self._watched.values():
            if t.grad_fn is not None and t._base is None:  # views cannot be detached in place
                t.detach_()
