"""The learned scale ``gamma`` and shift ``beta`` of the normalization layers.

``y = gamma · x̂ + beta`` after a layer normalized ``x`` to ``x̂``; ``scale=False`` drops
``gamma``, ``center=False`` drops ``beta`` (Keras's arguments, shared by
``BatchNormalization`` and ``LayerNormalization``).
"""

from __future__ import annotations

from typing import Any

import torch

from cnnlab import constraints, initializers, regularizers


class ScaleShift:
    """Mixin for a :class:`~cnnlab.layers.base.Layer` with optional ``gamma``/``beta``."""

    def init_scale_shift(self, center: bool, scale: bool, beta_initializer: Any,
                         gamma_initializer: Any, beta_regularizer: Any, gamma_regularizer: Any,
                         beta_constraint: Any, gamma_constraint: Any) -> None:
        """Keep the arguments (resolved by name, as Keras does); no weights yet."""
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma: torch.nn.Parameter | None = None
        self.beta: torch.nn.Parameter | None = None

    def build_scale_shift(self, shape: tuple[int, ...]) -> None:
        """Create ``gamma`` (if ``scale``) and ``beta`` (if ``center``) of ``shape``."""
        if self.scale:
            self.gamma = torch.nn.Parameter(self.gamma_initializer(shape, dtype=torch.float32))
        if self.center:
            self.beta = torch.nn.Parameter(self.beta_initializer(shape, dtype=torch.float32))

    def weight_constraints(self) -> dict[str, Any]:
        return {"gamma": self.gamma_constraint, "beta": self.beta_constraint}

    def regularization_losses(self) -> list[torch.Tensor]:
        pairs = ((self.gamma_regularizer, self.gamma), (self.beta_regularizer, self.beta))
        return [reg(w) for reg, w in pairs if reg is not None and w is not None]

    def scale_shift_config(self) -> dict[str, Any]:
        """The shared part of ``get_config``."""
        return {
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }
