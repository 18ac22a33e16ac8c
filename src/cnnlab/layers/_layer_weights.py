"""The Keras weight API of a :class:`~cnnlab.layers.base.Layer` (internal: a base of Layer).

A layer stores its weights as PyTorch parameters and buffers in PyTorch layout; it lists them
in ``keras_weights()`` as ``(keras_name, tensor, WeightLayout)`` in Keras's order, and
everything Keras-facing goes through that list: ``get_weights``/``set_weights`` (NumPy arrays
in Keras layout), ``weights``, ``trainable_weights``, ``count_params``, the constraints applied
after each optimizer step, and the regularization penalties.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cnnlab.layers.weight_layout import SAME_LAYOUT, WeightLayout


class LayerWeights:
    """Base of ``Layer`` (before ``torch.nn.Module`` in its bases): weights in Keras's terms.

    It uses the layer's ``_trainable``, ``built`` and ``owner`` and the module's parameters
    and children; sub-layers (children that are layers) contribute their weights after the
    layer's own, as Keras orders a model's weights.
    """

    @property
    def trainable(self) -> bool:
        """Whether ``fit`` updates the weights; setting it sets it on every sub-layer too."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for child in self.children():
            if isinstance(child, LayerWeights):
                child.trainable = value
        for param in self.parameters(recurse=False):
            param.requires_grad_(self._trainable)

    def keras_weights(self) -> list[tuple[str, torch.Tensor, WeightLayout]]:
        """``(keras_name, tensor, layout)`` in Keras's order (creation order by default)."""
        return [(name, p, SAME_LAYOUT) for name, p in self.named_parameters(recurse=False)]

    def _all_keras_weights(self) -> list[tuple[str, torch.Tensor, WeightLayout]]:
        own = self.keras_weights()
        for child in self.children():
            if isinstance(child, LayerWeights):
                own = own + child._all_keras_weights()
        return own

    def get_weights(self) -> list[np.ndarray]:
        """Weights as NumPy arrays in Keras layout (a conv kernel is ``(kh, kw, in, out)``)."""
        return [layout.to_keras(t.detach()).cpu().numpy().copy()
                for _, t, layout in self._all_keras_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Load arrays in Keras layout, checking count and shapes first."""
        targets = self._all_keras_weights()
        expected = [tuple(layout.to_keras(t).shape) for _, t, layout in targets]
        given = [tuple(np.shape(w)) for w in weights]
        if expected != given:
            raise ValueError(
                f"{self.owner}: set_weights expected {len(expected)} arrays with shapes "
                f"{expected}, got {len(given)} with shapes {given}"
            )
        with torch.no_grad():
            for (_, t, layout), w in zip(targets, weights, strict=True):
                src = torch.as_tensor(np.asarray(w), dtype=t.dtype)
                t.copy_(layout.from_keras(src))

    @property
    def weights(self) -> list[torch.Tensor]:
        """All weight tensors (PyTorch layout; use ``get_weights`` for Keras layout)."""
        return [t for _, t, _ in self._all_keras_weights()]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        """The weights ``fit`` updates: parameters that require gradients."""
        return [t for t in self.weights if isinstance(t, torch.nn.Parameter) and t.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        """The other weights: frozen parameters and buffers (``moving_mean``, ...)."""
        trainable = {id(t) for t in self.trainable_weights}
        return [t for t in self.weights if id(t) not in trainable]

    def count_params(self) -> int:
        """Number of weights, trainable or not (as Keras's ``count_params``)."""
        if not self.built:
            raise ValueError(
                f"{self.owner}: cannot count parameters before the layer is built; give "
                f"`input_shape=` or call it on data first"
            )
        return sum(t.numel() for t in self.weights)

    def weight_constraints(self) -> dict[str, Any]:
        """Keras weight name -> constraint (``{'kernel': MaxNorm(3)}``); default none."""
        return {}

    @property
    def has_constraints(self) -> bool:
        """Whether any weight has a constraint to apply after an optimizer step."""
        return any(c is not None for c in self.weight_constraints().values())

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Project each constrained weight, in Keras layout, after an optimizer step."""
        constraints = self.weight_constraints()
        for name, tensor, layout in self.keras_weights():
            constraint = constraints.get(name)
            if constraint is not None:
                tensor.copy_(layout.from_keras(constraint(layout.to_keras(tensor))))

    def regularization_losses(self) -> list[torch.Tensor]:
        """Penalties of this layer's weight regularizers (added to the training loss)."""
        return []

    @property
    def losses(self) -> list[torch.Tensor]:
        """The penalties to add to the loss (Keras's ``layer.losses``)."""
        return self.regularization_losses()
