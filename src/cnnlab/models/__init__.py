"""Models: ``Model`` (functional), ``Sequential``, and ``load_model``."""

from cnnlab.models.model import Model
from cnnlab.models.sequential import Sequential

__all__ = ["Model", "Sequential"]
