"""Models: ``Model`` (functional), ``Sequential``, ``clone_model`` (and ``load_model``)."""

from cnnlab.models.cloning import clone_model
from cnnlab.models.model import Model
from cnnlab.models.sequential import Sequential

__all__ = ["Model", "Sequential", "clone_model"]
